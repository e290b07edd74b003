import { Interface, Signature, dataLength, dataSlice, getAddress, recoverAddress, toBeHex } from "ethers";
import type { Provider } from "ethers";

import { toConsentSdkError } from "./errors.js";

/**
 * Whether a signature is the owner's, by exactly the registry's rule
 * (`contracts/libraries/SignatureVerification.sol`, over OpenZeppelin's ECDSA and
 * SignatureChecker), so that off-chain verification never says yes where the contract says no,
 * or no where it says yes:
 *
 * 1. **ECDSA first, whatever the owner is.** A 65-byte `r ‖ s ‖ v` with v = 27 or 28 (v = 0 or 1
 *    is refused: `ecrecover` knows only 27/28), or a 64-byte EIP-2098 `r ‖ vs`; a high `s`
 *    (the malleable twin) is refused. If it recovers to the owner, the signature is valid, also
 *    for an owner with code: an EIP-7702 delegated account's own key is authoritative.
 * 2. **Else ERC-1271, if the owner has code**: `isValidSignature(digest, signature)` is called
 *    from the registry's address (a wallet may answer differently to other callers), with a
 *    signature of any length, the empty one included (e.g. a Safe's message approved on-chain).
 *    Valid only if the call succeeds and its first 32-byte word is exactly the magic value
 *    `0x1626ba7e` padded with zeros.
 *
 * `test/sdk/signature-rules.ts` runs one table of cases against the contract and this module.
 */

/** The outcome, with what decided it. */
export type SignatureVerdict = { valid: true; by: "ecdsa" | "erc1271" } | { valid: false; reason: string };

const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const HALF_N = SECP256K1_N / 2n;
const ERC1271_MAGIC = "0x1626ba7e";
const ERC1271_WORD = ERC1271_MAGIC + "0".repeat(56);
const erc1271 = new Interface(["function isValidSignature(bytes32 hash, bytes signature) view returns (bytes4)"]);

/**
 * The address the registry's ECDSA path recovers from `signature` over `digest`, or why it
 * recovers none (wrong length, v not 27/28, high s, no key).
 */
export function recoverStrict(digest: string, signature: string): { signer: string } | { reason: string } {
  const length = dataLength(signature);
  let r: bigint;
  let s: bigint;
  let v: number;
  if (length === 65) {
    r = BigInt(dataSlice(signature, 0, 32));
    s = BigInt(dataSlice(signature, 32, 64));
    v = Number(BigInt(dataSlice(signature, 64, 65)));
    if (v !== 27 && v !== 28) return { reason: `v is ${v}; a 65-byte signature needs v = 27 or 28` };
  } else if (length === 64) {
    r = BigInt(dataSlice(signature, 0, 32));
    const vs = BigInt(dataSlice(signature, 32, 64));
    s = vs & ((1n << 255n) - 1n);
    v = Number(vs >> 255n) + 27;
  } else {
    return { reason: `${length} bytes is no ECDSA signature (65, or 64 in EIP-2098 form)` };
  }
  if (s > HALF_N) return { reason: "its s is in the upper half of the curve order (a malleable signature)" };
  if (r === 0n || r >= SECP256K1_N || s === 0n) return { reason: "r or s is out of range: no key recovers from it" };
  try {
    const signer = recoverAddress(digest, Signature.from({ r: toBeHex(r, 32), s: toBeHex(s, 32), v }));
    return { signer: getAddress(signer) };
  } catch {
    return { reason: "no key recovers from it" };
  }
}

/**
 * The registry's verdict on `signature` by `owner` over `digest` (see the module comment).
 * `registry` is the address the ERC-1271 question is asked from. Without a provider only the
 * ECDSA path can be decided; a signature it does not accept is then reported as unchecked.
 * A node that cannot be reached throws (RPC_UNREACHABLE): that is no verdict.
 */
export async function checkSignature(
  provider: Provider | null,
  registry: string,
  owner: string,
  digest: string,
  signature: string,
): Promise<SignatureVerdict> {
  const ecdsa = recoverStrict(digest, signature);
  if ("signer" in ecdsa && ecdsa.signer === getAddress(owner)) return { valid: true, by: "ecdsa" };
  const ecdsaWords = "signer" in ecdsa ? `it recovers to ${ecdsa.signer}, not to the owner` : ecdsa.reason;
  if (provider === null) {
    return {
      valid: false,
      reason: `${ecdsaWords}; offline, an ERC-1271 owner cannot be asked (check it against the chain)`,
    };
  }
  let code: string;
  try {
    code = await provider.getCode(owner);
  } catch (err) {
    throw toConsentSdkError(err, `reading the code at ${owner}`);
  }
  if (code === "0x") return { valid: false, reason: `${ecdsaWords}, and ${owner} has no code to ask (ERC-1271)` };
  const data = erc1271.encodeFunctionData("isValidSignature", [digest, signature]);
  let answer: string;
  try {
    answer = await provider.call({ to: owner, from: registry, data });
  } catch (err) {
    const e = toConsentSdkError(err, "asking the owner's ERC-1271 wallet");
    if (e.code === "RPC_UNREACHABLE") throw e;
    return { valid: false, reason: `${ecdsaWords}, and its ERC-1271 isValidSignature reverted` };
  }
  if (dataLength(answer) >= 32 && dataSlice(answer, 0, 32).toLowerCase() === ERC1271_WORD) {
    return { valid: true, by: "erc1271" };
  }
  return {
    valid: false,
    reason: `${ecdsaWords}, and its ERC-1271 isValidSignature answered ${answer === "0x" ? "nothing" : answer}, not ${ERC1271_MAGIC}`,
  };
}
