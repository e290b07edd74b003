import { Aes128Gcm, CipherSuite, DhkemX25519HkdfSha256, HkdfSha256 } from "@hpke/core";
import { expect } from "chai";

import { fromHex, toHex, utf8 } from "../../src/keys/encoding.js";
import { generateKeyPair, hpkeBackend, hpkeSuite, openWith, sealTo } from "../../src/keys/hpke.js";

/**
 * The HPKE suites of the key release (DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-128-GCM) with
 * @noble/hashes' HKDF in place of @hpke/core's WebCrypto one, and in Node with Node's own X25519
 * and AES-GCM in place of WebCrypto's: each must be the same function. Both are checked against
 * RFC 9180's own vector A.1.1 (a round trip alone would pass a wrong key schedule applied on both
 * sides), against the stock @hpke/core suite in both directions, and refuse the same bad keys.
 */

const ab = (hex: string): ArrayBuffer => fromHex(hex).slice().buffer;

// RFC 9180 appendix A.1.1 (base mode), the first encryption (sequence number 0).
const A11 = {
  info: "4f6465206f6e2061204772656369616e2055726e",
  ikmE: "7268600d403fce431561aef583ee1613527cff655c1343f29812e66706df3234",
  pkEm: "37fda3567bdbd628e88668c3c8d7e97d1d1253b6d4ea6d44c150f741f1bf4431",
  pkRm: "3948cfe0ad1ddb695d780e59077195da6c56506b027329794ab02bca80815c4d",
  skRm: "4612c550263fc8ad58375df3f557aac531d26850903e55a9f23f21d8534e8ac8",
  pt: "4265617574792069732074727574682c20747275746820626561757479",
  aad: "436f756e742d30",
  ct: "f938558b5d72f1a23810b4be2ab4f84331acc02fc97babc53a52ae8218a355a96d8770ac83d07bea87e13c512a",
};

const stock = new CipherSuite({ kem: new DhkemX25519HkdfSha256(), kdf: new HkdfSha256(), aead: new Aes128Gcm() });

for (const which of ["platform", "webcrypto"] as const) {
  describe(`keys: HPKE (RFC 9180), ${which} X25519 and AES-GCM, @noble/hashes' HKDF`, () => {
    const suite = () => hpkeSuite({ prefer: which });

    it("seals RFC 9180 A.1.1 exactly (enc and ciphertext) from its ephemeral key material", async () => {
      const s = await suite();
      const recipientPublicKey = await s.kem.deserializePublicKey(ab(A11.pkRm));
      const { enc, ct } = await s.seal(
        { recipientPublicKey, info: ab(A11.info), ekm: ab(A11.ikmE) },
        ab(A11.pt),
        ab(A11.aad),
      );
      expect(toHex(new Uint8Array(enc))).to.equal(`0x${A11.pkEm}`);
      expect(toHex(new Uint8Array(ct))).to.equal(`0x${A11.ct}`);
    });

    it("opens RFC 9180 A.1.1's ciphertext; one flipped bit of it, of enc or of info is refused", async () => {
      const s = await suite();
      const recipientKey = await s.kem.deserializePrivateKey(ab(A11.skRm));
      const open = (enc: string, info: string, ct: string) =>
        s.open({ recipientKey, enc: ab(enc), info: ab(info) }, ab(ct), ab(A11.aad)).then(
          (pt: ArrayBuffer) => toHex(new Uint8Array(pt)),
          (err: Error) => err.name,
        );
      expect(await open(A11.pkEm, A11.info, A11.ct)).to.equal(`0x${A11.pt}`);
      const flip = (hex: string) => `${hex.slice(0, -1)}${(parseInt(hex.slice(-1), 16) ^ 1).toString(16)}`;
      expect(await open(A11.pkEm, A11.info, flip(A11.ct))).to.equal("OpenError");
      expect(await open(flip(A11.pkEm), A11.info, A11.ct)).to.equal("OpenError");
      expect(await open(A11.pkEm, flip(A11.info), A11.ct)).to.equal("OpenError");
    });

    it("refuses small-order public keys (an all-zero shared secret, RFC 9180 §7.1.4) and keys of the wrong length", async () => {
      const s = await suite();
      // RFC 7748's u = 0 and u = 1, and the order-8 point of curve25519 (libsodium's blocklist).
      const smallOrder = [
        "00".repeat(32),
        `01${"00".repeat(31)}`,
        "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
      ];
      for (const u of smallOrder) {
        const recipientPublicKey = await s.kem.deserializePublicKey(ab(u)).catch((e: Error) => e);
        const got =
          recipientPublicKey instanceof Error
            ? recipientPublicKey.name
            : await s.seal({ recipientPublicKey, info: ab("00") }, ab("00")).then(
                () => "SEALED",
                (e: Error) => e.name,
              );
        expect(got, u).to.be.oneOf(["EncapError", "DeserializeError"]);
        // ... and as an enc sent to a recipient: never opens.
        const recipientKey = await s.kem.deserializePrivateKey(ab(A11.skRm));
        const opened = await s.open({ recipientKey, enc: ab(u), info: ab("00") }, ab(A11.ct)).then(
          () => "OPENED",
          (e: Error) => e.name,
        );
        expect(opened, u).to.be.oneOf(["DecapError", "DeserializeError", "OpenError"]);
      }
      for (const bad of ["00".repeat(31), "00".repeat(33)]) {
        expect(
          await s.kem.deserializePublicKey(ab(bad)).then(
            () => "OK",
            (e: Error) => e.name,
          ),
        ).to.equal("DeserializeError");
        expect(
          await s.kem.deserializePrivateKey(ab(bad)).then(
            () => "OK",
            (e: Error) => e.name,
          ),
        ).to.equal("DeserializeError");
      }
    });

    it("agrees with the stock @hpke/core suite both ways, for random keys, infos and lengths", async () => {
      const s = await suite();
      for (let i = 0; i < 20; i++) {
        const kp = await s.kem.generateKeyPair();
        const pkBytes = await s.kem.serializePublicKey(kp.publicKey);
        const skBytes = await s.kem.serializePrivateKey(kp.privateKey);
        const info = crypto.getRandomValues(new Uint8Array(1 + i * 7)).buffer;
        const pt = crypto.getRandomValues(new Uint8Array(i * 13)).buffer;
        // this suite → stock
        const sealed = await s.seal({ recipientPublicKey: await s.kem.deserializePublicKey(pkBytes), info }, pt);
        const stockKey = await stock.kem.deserializePrivateKey(skBytes);
        const opened = await stock.open({ recipientKey: stockKey, enc: sealed.enc, info }, sealed.ct);
        expect(toHex(new Uint8Array(opened))).to.equal(toHex(new Uint8Array(pt)));
        // stock → this suite (with the private key alone: the public one is derived)
        const back = await stock.seal({ recipientPublicKey: await stock.kem.deserializePublicKey(pkBytes), info }, pt);
        const mine = await s.open({ recipientKey: kp.privateKey, enc: back.enc, info }, back.ct);
        expect(toHex(new Uint8Array(mine))).to.equal(toHex(new Uint8Array(pt)));
      }
    });
  });
}

describe("keys: HPKE of this process (sealTo / openWith)", () => {
  it("uses Node's X25519 in Node (the WebCrypto one costs 3–5× the CPU per seal)", async () => {
    expect(await hpkeBackend()).to.equal("platform");
  });

  it("agrees with the stock @hpke/core suite both ways, for random keys, infos and lengths", async () => {
    for (let i = 0; i < 20; i++) {
      const kp = await generateKeyPair();
      const info = crypto.getRandomValues(new Uint8Array(1 + i * 7));
      const pt = crypto.getRandomValues(new Uint8Array(i * 13));
      // ours → stock
      const sealed = await sealTo(kp.publicKey, info, pt);
      const stockKey = await stock.kem.deserializePrivateKey(kp.privateKeyBytes.slice().buffer);
      const opened = await stock.open(
        { recipientKey: stockKey, enc: ab(sealed.enc), info: info.slice().buffer },
        ab(sealed.ct),
      );
      expect(toHex(new Uint8Array(opened))).to.equal(toHex(pt));
      // stock → ours
      const back = await stock.seal(
        { recipientPublicKey: await stock.kem.deserializePublicKey(ab(kp.publicKey)), info: info.slice().buffer },
        pt.slice().buffer,
      );
      const mine = await openWith(kp.privateKey, info, {
        enc: toHex(new Uint8Array(back.enc)),
        ct: toHex(new Uint8Array(back.ct)),
      });
      expect(toHex(mine)).to.equal(toHex(pt));
    }
  });

  it("a release sealed for one request's info does not open under another's", async () => {
    const kp = await generateKeyPair();
    const sealed = await sealTo(kp.publicKey, utf8("request A"), utf8("share"));
    const err = await openWith(kp.privateKey, utf8("request B"), sealed).then(
      () => "OPENED",
      (e: Error) => e.name,
    );
    expect(err).to.equal("OpenError");
  });
});
