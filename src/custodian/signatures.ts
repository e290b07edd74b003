import { Signature, recoverAddress } from "ethers";

import { fromHex, toHex } from "../keys/encoding.js";
import { addressOfPublicKey, checksumAddress, nativeSecp256k1 as native } from "../native/secp256k1.js";

/**
 * Who signed a digest, fast: libsecp256k1 (native/secp256k1.ts) when it loads, else ethers'
 * pure-JS recovery (~1-2 ms). Both refuse high-s signatures (malleability) and bad v.
 * ERC-1271 signers are checked by the caller through `isValidSignature` (see `checks.ts`).
 */

const HALF_N = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n;

export { keccak256Bytes, keccakBackend } from "../native/keccak.js";

/** Which implementation recovers signatures in this process. */
export const recoveryBackend: "libsecp256k1" | "ethers" = native ? "libsecp256k1" : "ethers";

/**
 * The address whose key made `signature` (65-byte r‖s‖v, or 64-byte EIP-2098) over `digest`,
 * or undefined if the signature is malformed or does not recover.
 */
export function recoverSigner(digest: string, signature: string): string | undefined {
  let bytes: Uint8Array;
  try {
    bytes = fromHex(signature);
  } catch {
    return undefined;
  }
  let rs: Uint8Array;
  let recid: number;
  if (bytes.length === 65) {
    const v = bytes[64];
    recid = v >= 27 ? v - 27 : v;
    rs = bytes.slice(0, 64);
  } else if (bytes.length === 64) {
    rs = bytes.slice(0, 64);
    recid = rs[32] >> 7;
    rs[32] &= 0x7f;
  } else return undefined;
  if (recid !== 0 && recid !== 1) return undefined;
  const s = BigInt(toHex(rs.subarray(32)));
  if (s === 0n || s > HALF_N) return undefined;
  if (!native) {
    try {
      return recoverAddress(
        digest,
        Signature.from({ r: toHex(rs.subarray(0, 32)), s: toHex(rs.subarray(32)), v: 27 + recid }),
      );
    } catch {
      return undefined;
    }
  }
  try {
    return checksumAddress(addressOfPublicKey(native.ecdsaRecover(rs, recid, fromHex(digest, 32), false)));
  } catch {
    return undefined;
  }
}

/** ERC-1271 magic value of `isValidSignature(bytes32,bytes)`. */
export const ERC1271_MAGIC = "0x1626ba7e";

/** Calldata of `isValidSignature(digest, signature)`. */
export function isValidSignatureCalldata(digest: string, signature: string): string {
  const sig = fromHex(signature);
  const padded = Math.ceil(sig.length / 32) * 32;
  const body = new Uint8Array(padded);
  body.set(sig);
  return (
    ERC1271_MAGIC +
    digest.slice(2).padStart(64, "0") +
    (64).toString(16).padStart(64, "0") +
    sig.length.toString(16).padStart(64, "0") +
    toHex(body).slice(2)
  );
}

/** The magic value as the first ABI word: `bytes32(IERC1271.isValidSignature.selector)`, left-aligned. */
const MAGIC_WORD = ERC1271_MAGIC + "0".repeat(56);

/**
 * Whether an `isValidSignature` eth_call result is the magic value, as OpenZeppelin's
 * SignatureChecker reads it: at least one ABI word, and that first word is exactly
 * `bytes32(0x1626ba7e)` (the selector, then 28 zero bytes). Only the first four bytes is not
 * enough: the identity precompile and any contract that echoes its calldata return
 * `0x1626ba7e…` for every question. (Callers also require code at the address: `chain.ts`.)
 */
export function isMagicValue(result: unknown): boolean {
  return (
    typeof result === "string" &&
    result.length >= 66 &&
    result.length % 2 === 0 &&
    /^0x[0-9a-fA-F]*$/.test(result) &&
    result.slice(0, 66).toLowerCase() === MAGIC_WORD
  );
}
