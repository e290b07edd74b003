import { keccak256 } from "ethers";
import { combine, split } from "shamir-secret-sharing";

import { concatBytes, fromHex, uintBytes, utf8 } from "./encoding.js";
import { KEY_BYTES } from "./format.js";

/**
 * k-of-n sharing of a data key with `shamir-secret-sharing` (independently audited, no
 * dependencies): Shamir over GF(2^8), byte by byte, with the x coordinate in a share's last byte.
 * Any k−1 shares are consistent with every possible key (`test/keys/shares.ts` checks this on
 * the library's own output); k shares give the key.
 *
 * A bad share is caught without trusting any custodian:
 * - each share has a commitment in the owner-signed manifest (`shareCommitment`), so a share
 *   that a custodian altered or swapped is rejected on arrival and the opener asks another;
 * - the reassembled key must match `keyCommitment` before any byte is decrypted;
 * - and the AEAD tag of every frame would fail anyway under a wrong key: splitting only the
 *   32-byte data key (never the data) means a wrong share can only produce a wrong key, and a
 *   wrong key cannot open a single frame. The commitments make the failure name the culprit.
 * The commitments are keccak256 hashes of 256-bit random values: they bind without revealing
 * (hiding is computational, 2^256 work, rather than information-theoretic).
 */

export const SHARE_BYTES = KEY_BYTES + 1;
const SHARE_TAG = utf8("omnitensor-share:v1");
const KEY_TAG = utf8("omnitensor-key:v1");

/** Splits `key` into `n` shares, any `k` of which rebuild it (2 ≤ k ≤ n ≤ 255). */
export async function splitKey(key: Uint8Array, k: number, n: number): Promise<Uint8Array[]> {
  if (key.length !== KEY_BYTES) throw new RangeError("the data key is 32 bytes");
  if (!Number.isInteger(k) || !Number.isInteger(n) || k < 2 || n < k || n > 255) {
    throw new RangeError(`need 2 ≤ k ≤ n ≤ 255 (got k=${k}, n=${n})`);
  }
  return split(key, n, k);
}

/** Rebuilds the key from `k` (or more) distinct shares. */
export async function combineShares(shares: readonly Uint8Array[]): Promise<Uint8Array> {
  for (const s of shares) if (s.length !== SHARE_BYTES) throw new RangeError(`a share is ${SHARE_BYTES} bytes`);
  return combine([...shares]);
}

/** Commitment to custodian `index`'s share of asset `(dataId, version)`. */
export function shareCommitment(dataId: string, version: bigint, index: number, share: Uint8Array): string {
  return keccak256(concatBytes(SHARE_TAG, fromHex(dataId, 32), uintBytes(version, 8), uintBytes(index, 1), share));
}

/** Commitment to the data key of asset `(dataId, version)`. */
export function keyCommitment(dataId: string, version: bigint, key: Uint8Array): string {
  return keccak256(concatBytes(KEY_TAG, fromHex(dataId, 32), uintBytes(version, 8), key));
}
