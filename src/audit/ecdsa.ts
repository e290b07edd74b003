import { recoverAddress, Signature } from "ethers";

/**
 * ECDSA recovery with the registry's rules (OpenZeppelin ECDSA): 65-byte `r‖s‖v` with
 * v ∈ {27, 28}, or 64-byte EIP-2098 `r‖vs`; high-s (malleable) signatures are refused.
 */

const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const HALF_N = SECP256K1_N / 2n;

/** Returns `{ signer: null, reason }` when the contract's ECDSA path would fail. */
export function recoverStrict(digest: string, signature: string): { signer: string | null; reason?: string } {
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
  try {
    const word = (x: bigint) => `0x${x.toString(16).padStart(64, "0")}`;
    const signer = recoverAddress(digest, Signature.from({ r: word(r), s: word(s), v })).toLowerCase();
    return { signer };
  } catch {
    return { signer: null, reason: "no public key recovers from (r, s, v)" };
  }
}
