import { execFileSync } from "node:child_process";

import { expect } from "chai";
import { computeAddress, getAddress, hexlify, randomBytes, SigningKey } from "ethers";

import { addressOfPublicKey, checksumAddress, nativeSecp256k1 } from "../../src/native/secp256k1.js";

/**
 * The one loader of the native secp256k1 binding and the address helpers both recoverers use:
 * they must give ethers' answers exactly (a wrong checksum would log a requester under another
 * spelling; a wrong address would refuse every signer or accept a wrong one).
 */
describe("native: secp256k1 loader, addresses of keys, EIP-55 checksums", () => {
  it("loads the prebuilt binding on this machine, and OMNI_NO_NATIVE_SECP256K1=1 turns it off", () => {
    expect(nativeSecp256k1).to.not.equal(undefined);
    const probe = (env: Record<string, string>) =>
      execFileSync(
        process.execPath,
        [
          "--import",
          "tsx",
          "--input-type=module",
          "-e",
          'const m = await import("./src/native/secp256k1.ts"); process.stdout.write(String(m.nativeSecp256k1 !== undefined));',
        ],
        { env: { ...process.env, ...env }, encoding: "utf8" },
      );
    expect(probe({})).to.equal("true");
    expect(probe({ OMNI_NO_NATIVE_SECP256K1: "1" })).to.equal("false");
  });

  it("checksums as EIP-55's own examples and as ethers' getAddress for 2,000 random addresses, from any case", () => {
    for (const a of [
      "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
      "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
      "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
      "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
    ]) {
      expect(checksumAddress(a.toLowerCase())).to.equal(a);
      expect(checksumAddress(a.toUpperCase().replace("0X", "0x"))).to.equal(a);
    }
    for (let i = 0; i < 2000; i++) {
      const lower = hexlify(randomBytes(20));
      expect(checksumAddress(lower)).to.equal(getAddress(lower));
    }
  });

  it("refuses what is not 40 hex digits, naming it", () => {
    for (const bad of ["", "0x", `0x${"a".repeat(39)}`, `0x${"a".repeat(41)}`, `0x${"g".repeat(40)}`, "a".repeat(40)]) {
      expect(() => checksumAddress(bad), bad).to.throw(`not an address: ${bad}`);
    }
  });

  it("derives the address of a public key as ethers does, and the binding recovers the key that signed", () => {
    for (let i = 0; i < 200; i++) {
      const key = new SigningKey(hexlify(randomBytes(32)));
      const pub = Buffer.from(key.publicKey.slice(2), "hex");
      expect(addressOfPublicKey(pub)).to.equal(computeAddress(key.publicKey).toLowerCase());
      const digest = randomBytes(32);
      const sig = key.sign(digest);
      const rs = Buffer.from(sig.r.slice(2) + sig.s.slice(2), "hex");
      const recovered = nativeSecp256k1!.ecdsaRecover(rs, sig.yParity, digest, false);
      expect(Buffer.from(recovered).toString("hex")).to.equal(key.publicKey.slice(2));
    }
  });
});
