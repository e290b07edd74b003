import canonicalize from "canonicalize";
import { keccak256, toUtf8Bytes } from "ethers";

/**
 * How a document is committed to on-chain (browser-safe).
 *
 * `metadataHash = keccak256(UTF-8(JCS(document)))`, where JCS is the JSON Canonicalization Scheme
 * of RFC 8785 (members sorted by UTF-16 code units, no whitespace, ECMAScript number and string
 * forms), as implemented by the `canonicalize` package (by an author of RFC 8785).
 *
 * The hash is over the canonical form of the parsed JSON, not over the stored bytes: a document
 * may be stored pretty-printed or with its members in any order and still match. Anything that
 * changes a value (a character of a string, a number, an array's order, a member added or
 * removed) changes the hash. The documents this project writes hold only strings, integers,
 * arrays and objects, so no floating-point form is ever involved.
 */

/** The RFC 8785 canonical JSON text of `value`. Throws on values JSON cannot carry. */
export function canonicalJson(value: unknown): string {
  const text = canonicalize(value);
  if (text === undefined) throw new TypeError("a document must be a JSON value (got undefined or a function)");
  return text;
}

/** The on-chain `metadataHash` of a document: keccak256 of its canonical JSON in UTF-8 (lower-case hex). */
export function documentHash(document: unknown): string {
  return keccak256(toUtf8Bytes(canonicalJson(document)));
}

/**
 * The file a document is stored under in a folder, an HTTP directory or an IPFS directory:
 * `<metadataHash>.json`, the hash in lower-case hex with its `0x`.
 */
export function documentFileName(hash: string): string {
  if (!/^0x[0-9a-fA-F]{64}$/.test(hash)) throw new TypeError(`not a 32-byte hash: "${hash.slice(0, 80)}"`);
  return `${hash.toLowerCase()}.json`;
}

/** How this project writes a document to a file: 2-space indented JSON with a final newline. */
export function documentText(document: unknown): string {
  return `${JSON.stringify(document, null, 2)}\n`;
}
