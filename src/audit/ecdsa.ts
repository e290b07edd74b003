import { recoverAddress, Signature } from "ethers";

import { keccak256Hex, keccakBackend as nativeKeccakBackend } from "../native/keccak.js";
import { addressOfPublicKey, type NativeSecp256k1, nativeSecp256k1 } from "../native/secp256k1.js";

/**
 * ECDSA recovery with the registry's rules (OpenZeppelin ECDSA): 65-byte `r‖s‖v` with
 * v ∈ {27, 28}, or 64-byte EIP-2098 `r‖vs`; high-s (malleable) signatures are refused.
 *
 * Verify recovers one key per signed change (50,000 for a 1M-event history with 5% signed
 * changes), so the curve arithmetic matters: ethers' pure-JS recovery costs ~1.5–2 ms, the
 * native libsecp256k1 binding (native/secp256k1.ts, an optional dependency) ~0.1 ms. Without it
 * (another platform, or not installed) recovery falls back to ethers, with the same answers
 * (test/audit/ecdsa.ts checks both). `OMNI_AUDIT_ECDSA=js` forces the fallback for the auditor
 * alone; `OMNI_NO_NATIVE_SECP256K1=1` everywhere.
 */

const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const HALF_N = SECP256K1_N / 2n;

/** The native binding (native/secp256k1.ts), or null: then ethers recovers. `OMNI_AUDIT_ECDSA=js` forces that. */
function nativeBinding(): NativeSecp256k1 | null {
  return process.env.OMNI_AUDIT_ECDSA === "js" ? null : (nativeSecp256k1 ?? null);
}

/**
 * keccak-256 as 0x-hex for the signed requests' EIP-712 digests: native/keccak.ts (the optional
 * `keccak` addon, else @noble/hashes), the same answers as ethers' `keccak256` at a fraction of
 * its CPU, two hashes per signed request.
 */
export const fastKeccak256 = keccak256Hex;

/** Which implementation hashes: "native" (the keccak addon) or "noble" (pure JS). */
export function keccakBackend(): "native" | "noble" {
  return nativeKeccakBackend;
}

/** Which implementation recovers keys: "native" (libsecp256k1) or "ethers" (pure JS). */
export function ecdsaBackend(): "native" | "ethers" {
  return nativeBinding() ? "native" : "ethers";
}

const hex32 = (x: bigint) => x.toString(16).padStart(64, "0");

/** Recovered public key (uncompressed, as a binary string) → its address. */
const addressOfKey = new Map<string, string>();

/**
 * Returns `{ signer: null, reason }` when the contract's ECDSA path would fail. `backend`
 * chooses the implementation (default: native when available); both give the same answers.
 */
export function recoverStrict(
  digest: string,
  signature: string,
  backend: "native" | "ethers" = ecdsaBackend(),
): { signer: string | null; reason?: string } {
  const hex = signature.startsWith("0x") ? signature.slice(2) : signature;
  const len = hex.length / 2;
  let r: bigint;
  let s: bigint;
  let v: number;
  if (len === 65) {
    r = BigInt(`0x${hex.slice(0, 64)}`);
    s = BigInt(`0x${hex.slice(64, 128)}`);
    v = parseInt(hex.slice(128, 130), 16);
    if (v !== 27 && v !== 28) return { signer: null, reason: `invalid v ${v}` };
  } else if (len === 64) {
    r = BigInt(`0x${hex.slice(0, 64)}`);
    const vs = BigInt(`0x${hex.slice(64, 128)}`);
    s = vs & ((1n << 255n) - 1n);
    v = Number(vs >> 255n) + 27;
  } else {
    return { signer: null, reason: `signature length ${len} is neither 65 nor 64 bytes` };
  }
  if (s > HALF_N) return { signer: null, reason: "high s (malleable signature)" };
  if (r === 0n || s === 0n || r >= SECP256K1_N) return { signer: null, reason: "r or s out of range" };
  const lib = backend === "native" ? nativeBinding() : null;
  if (backend === "native" && !lib) throw new Error("the native secp256k1 binding is not available here");
  try {
    if (lib) {
      const pub = lib.ecdsaRecover(
        Buffer.from(`${hex32(r)}${hex32(s)}`, "hex"),
        v - 27,
        Buffer.from(digest.slice(2), "hex"),
        false,
      );
      // An owner signs many messages: its public key is remembered, so its next signatures
      // are compared key to key without hashing the key into an address again.
      const key = Buffer.from(pub).toString("latin1");
      let signer = addressOfKey.get(key);
      if (signer === undefined) {
        signer = addressOfPublicKey(pub);
        if (addressOfKey.size > 100_000) addressOfKey.clear();
        addressOfKey.set(key, signer);
      }
      return { signer };
    }
    const signer = recoverAddress(digest, Signature.from({ r: `0x${hex32(r)}`, s: `0x${hex32(s)}`, v })).toLowerCase();
    return { signer };
  } catch {
    return { signer: null, reason: "no public key recovers from (r, s, v)" };
  }
}
