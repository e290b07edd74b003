import { keccak256 } from "ethers";
import { CID } from "multiformats/cid";
import * as Digest from "multiformats/hashes/digest";

import { ALL_DATA } from "../sdk/constants.js";
import { concatBytes, fromHex, utf8 } from "./encoding.js";

/**
 * Content ids and data ids.
 *
 * The CID of a sealed asset is a CIDv1 over the *ciphertext* bytes, exactly as stored: codec
 * `raw` (0x55), multihash sha2-256 (0x12), written base32 (`bafkrei…`). It names the stored object
 * and proves its integrity; it says nothing about the plaintext.
 *
 * The on-chain `dataId` is a salted commitment to that CID: `keccak256("omnitensor-data-id:v1" ‖
 * cid bytes ‖ salt)`, with a fresh 32-byte random salt per asset. Without the salt nobody can link
 * an on-chain consent to a stored object, even one who holds the ciphertext.
 */

const RAW_CODEC = 0x55;
const SHA2_256 = 0x12;
const DATA_ID_TAG = utf8("omnitensor-data-id:v1");

/** The CID (v1, raw, sha2-256) of bytes whose SHA-256 is `sha256`. */
export function cidFromSha256(sha256: Uint8Array): CID {
  if (sha256.length !== 32) throw new RangeError("a sha2-256 digest is 32 bytes");
  return CID.createV1(RAW_CODEC, Digest.create(SHA2_256, sha256));
}

/** Parses a CID string and checks it is the kind this format produces (v1, raw, sha2-256). */
export function parseAssetCid(text: string): CID {
  let cid: CID;
  try {
    cid = CID.parse(text);
  } catch {
    throw new TypeError(`not a CID: "${text.slice(0, 80)}"`);
  }
  if (cid.version !== 1 || cid.code !== RAW_CODEC || cid.multihash.code !== SHA2_256) {
    throw new TypeError(`CID ${text} is not a v1 raw sha2-256 CID`);
  }
  return cid;
}

/** The on-chain data id of the asset whose ciphertext has CID `cid`, salted with `salt` (32 bytes). */
export function dataIdFor(cid: CID | string, salt: Uint8Array | string): string {
  const c = typeof cid === "string" ? parseAssetCid(cid) : cid;
  const s = typeof salt === "string" ? fromHex(salt, 32) : salt;
  if (s.length !== 32) throw new RangeError("the salt is 32 bytes");
  const id = keccak256(concatBytes(DATA_ID_TAG, c.bytes, s));
  // 0 and ALL_DATA are reserved on-chain; a keccak output equal to either is a 2^-255 event.
  if (BigInt(id) === 0n || id === ALL_DATA) throw new RangeError("reserved data id; use another salt");
  return id;
}
