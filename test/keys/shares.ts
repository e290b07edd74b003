import { expect } from "chai";
import { combine } from "shamir-secret-sharing";

import { combineShares, keyCommitment, shareCommitment, splitKey } from "../../src/keys/shares.js";
import { randomBytes } from "../../src/keys/platform.js";

/**
 * What the Shamir library promises, tested on its own output: k shares rebuild the key, and
 * any k−1 shares are consistent with EVERY key, each in exactly one way (perfect secrecy: k−1
 * shares say nothing about the key). Since the scheme works byte by byte over GF(2^8), "every
 * key" is checked exhaustively per byte: for each of the 256 values of a forged k-th share's
 * byte, the rebuilt byte is different, so all 256 key bytes are reachable exactly once.
 */
describe("keys: k-of-n shares of the data key", () => {
  it("every k-subset of a 3-of-5 split rebuilds the key; commitments bind dataId, version and index", async () => {
    const key = randomBytes(32);
    const shares = await splitKey(key, 3, 5);
    expect(shares.map((s) => s.length)).to.deep.equal([33, 33, 33, 33, 33]);
    for (let a = 0; a < 5; a++)
      for (let b = a + 1; b < 5; b++)
        for (let c = b + 1; c < 5; c++) {
          expect(Buffer.from(await combineShares([shares[a], shares[b], shares[c]])).equals(Buffer.from(key))).to.equal(
            true,
          );
        }
    const d = `0x${"aa".repeat(32)}`;
    const c0 = shareCommitment(d, 1n, 0, shares[0]);
    expect(
      new Set([
        c0,
        shareCommitment(d, 2n, 0, shares[0]),
        shareCommitment(d, 1n, 1, shares[0]),
        shareCommitment(`0x${"ab".repeat(32)}`, 1n, 0, shares[0]),
      ]).size,
    ).to.equal(4);
    expect(keyCommitment(d, 1n, key)).to.not.equal(keyCommitment(d, 2n, key));
  });

  it("k−1 shares are consistent with every possible key, each exactly once (per byte, exhaustively)", async () => {
    const key = randomBytes(32);
    const shares = await splitKey(key, 3, 5);
    const known = [shares[1], shares[3]]; // k−1 = 2 shares
    const usedX = new Set(known.map((s) => s[32]));
    const x = [...Array(255).keys()].map((i) => i + 1).find((v) => !usedX.has(v))!;
    // reach[p][v] = the key byte p rebuilt when the forged share's byte p is v.
    const reach: number[][] = Array.from({ length: 32 }, () => []);
    for (let v = 0; v < 256; v++) {
      const forged = new Uint8Array(33).fill(v);
      forged[32] = x;
      const rebuilt = await combine([...known, forged]);
      for (let p = 0; p < 32; p++) reach[p].push(rebuilt[p]);
    }
    for (let p = 0; p < 32; p++) expect(new Set(reach[p]).size, `byte ${p}`).to.equal(256);
    // And the real key is one of them (the completion that is the real share).
    const target = [...key];
    const completion = target.map((byte, p) => reach[p].indexOf(byte));
    expect(completion.every((v) => v >= 0)).to.equal(true);
  });

  it("refuses k < 2, k > n, n > 255 and a key that is not 32 bytes", async () => {
    const key = randomBytes(32);
    for (const [k, n] of [
      [1, 3],
      [4, 3],
      [2, 256],
    ]) {
      let err: unknown;
      try {
        await splitKey(key, k, n);
      } catch (e) {
        err = e;
      }
      expect(err, `${k}-of-${n}`).to.be.instanceOf(RangeError);
    }
    let err: unknown;
    try {
      await splitKey(randomBytes(16), 2, 3);
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(RangeError);
  });
});
