import { createRequire } from "node:module";

import { keccak256Bytes } from "./keccak.js";

/**
 * libsecp256k1 in Node, for the two places that recover keys in bulk: the auditor
 * (audit/ecdsa.ts: every signed change of a history) and the custodian (custodian/signatures.ts:
 * every key request). The optional `secp256k1` package ships prebuilt binaries for linux-x64,
 * darwin-arm64 and win32-x64 inside its npm package (nothing is downloaded or compiled at
 * install); its `bindings.js` is the native addon only (the package's main would fall back to
 * elliptic, slower than ethers) and throws when no binary fits. Measured here: ~0.09 ms a
 * recovery, against ~1.5–2 ms for ethers' pure-JS one. Without it, both callers fall back to
 * ethers with the same answers (test/audit/ecdsa.ts, test/custodian/signatures.ts).
 * `OMNI_NO_NATIVE_SECP256K1=1` turns it off everywhere, the signer of key requests
 * (keys/request.ts, which loads it through a dynamic import to stay browser-safe) included.
 */

export interface NativeSecp256k1 {
  /** The public key (65 bytes uncompressed with `compressed` false) of a 64-byte r‖s and recovery id; throws if none. */
  ecdsaRecover(signature: Uint8Array, recid: number, message: Uint8Array, compressed: boolean): Uint8Array;
}

function load(): NativeSecp256k1 | undefined {
  if (process.env.OMNI_NO_NATIVE_SECP256K1 === "1") return undefined;
  try {
    return createRequire(import.meta.url)("secp256k1/bindings.js") as NativeSecp256k1;
  } catch {
    return undefined;
  }
}

/** The binding, or undefined (not installed, no binary for this platform, or switched off). */
export const nativeSecp256k1: NativeSecp256k1 | undefined = load();

/** The lower-case 0x-address of a 65-byte uncompressed public key: the last 20 bytes of keccak-256(x‖y). */
export function addressOfPublicKey(pub: Uint8Array): string {
  return `0x${Buffer.from(keccak256Bytes(pub.subarray(1)).subarray(12)).toString("hex")}`;
}

/**
 * The EIP-55 checksummed form of a 0x-address (any case in, 40 hex digits): each letter is upper
 * case where the nibble of keccak-256(lower-case hex) at its position is 8 or more. The same
 * answer as ethers' `getAddress` (test/native/secp256k1.ts) at a fraction of its CPU: ethers
 * hashes with its pure-JS keccak, and a custodian checksums every requester it logs. Throws on
 * anything but 40 hex digits; unlike `getAddress` it does not check the checksum of a mixed-case
 * input (callers pass addresses they derived or lower-cased themselves).
 */
export function checksumAddress(address: string): string {
  const lower = address.toLowerCase();
  if (!/^0x[0-9a-f]{40}$/.test(lower)) throw new Error(`not an address: ${address}`);
  const hex = lower.slice(2);
  const hash = keccak256Bytes(Buffer.from(hex, "latin1"));
  let out = "0x";
  for (let i = 0; i < 40; i++) {
    const c = hex[i];
    const nibble = (hash[i >> 1] >> (i % 2 === 0 ? 4 : 0)) & 0xf;
    out += nibble >= 8 && c >= "a" ? c.toUpperCase() : c;
  }
  return out;
}
