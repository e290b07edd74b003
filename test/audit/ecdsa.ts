import { expect } from "chai";
import { randomBytes } from "node:crypto";

import { getBytes, keccak256, id as keccakId, Signature, SigningKey, Wallet } from "ethers";

import { ecdsaBackend, fastKeccak256, keccakBackend, recoverStrict } from "../../src/audit/ecdsa.js";
import { RequestDigester, requestFields } from "../../src/audit/signed-request.js";
import { ALL_DATA } from "../../src/sdk/constants.js";
import { consentDigest, consentDomain, type ConsentMessageKind } from "../../src/sdk/eip712.js";

const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const hex32 = (x: bigint) => x.toString(16).padStart(64, "0");

describe("audit: signature recovery (native libsecp256k1 and the ethers fallback agree)", () => {
  it("the native binding is installed here (prebuilt, nothing downloaded) and recovers like ethers", () => {
    expect(ecdsaBackend()).to.equal("native");
    for (let i = 0; i < 40; i++) {
      const key = new SigningKey(keccakId(`key-${i}`));
      const digest = keccakId(`message-${i}`);
      const sig = key.sign(digest);
      const address = new Wallet(key.privateKey).address.toLowerCase();
      for (const form of [sig.serialized, sig.compactSerialized]) {
        expect(recoverStrict(digest, form, "native"), form).to.deep.equal({ signer: address });
        expect(recoverStrict(digest, form, "ethers"), form).to.deep.equal({ signer: address });
      }
    }
  });

  it("refuses what the registry refuses, with the same reason on both backends", () => {
    const key = new SigningKey(keccakId("k"));
    const digest = keccakId("m");
    const sig = Signature.from(key.sign(digest));
    const r = sig.r.slice(2);
    const s = BigInt(sig.s);
    const cases: [string, { signer: string | null; reason?: string }][] = [
      [`0x${r}${hex32(N - s)}${sig.v === 27 ? "1c" : "1b"}`, { signer: null, reason: "high s (malleable signature)" }],
      [`0x${r}${hex32(s)}01`, { signer: null, reason: "invalid v 1" }],
      [`0x${r}${hex32(s)}00`, { signer: null, reason: "invalid v 0" }],
      [`0x${r}${hex32(s)}`.slice(0, 60), { signer: null, reason: "signature length 29 is neither 65 nor 64 bytes" }],
      [`0x${"00".repeat(32)}${hex32(s)}1b`, { signer: null, reason: "r or s out of range" }],
      [`0x${"00".repeat(65)}`, { signer: null, reason: "invalid v 0" }],
      // r = 1 is on no curve point with the given parity for most s: both say nobody recovers.
      [`0x${hex32(N - 1n)}${hex32(1n)}1b`, recoverStrict(digest, `0x${hex32(N - 1n)}${hex32(1n)}1b`, "ethers")],
    ];
    for (const [signature, expected] of cases) {
      expect(recoverStrict(digest, signature, "native"), signature).to.deep.equal(expected);
      expect(recoverStrict(digest, signature, "ethers"), signature).to.deep.equal(expected);
    }
    expect(getBytes(digest).length).to.equal(32);
  });

  it("the audit's EIP-712 digest equals the SDK's consentDigest for every kind", () => {
    const domain = consentDomain(31337, "0x" + "12".repeat(20));
    const digester = new RequestDigester(domain);
    const native = new RequestDigester(domain, fastKeccak256);
    const owner = "0x" + "ab".repeat(20);
    const grant = {
      grantee: "0x" + "cd".repeat(20),
      dataId: ALL_DATA,
      purposes: (1n << 127n) | 3n,
      expiresAt: 2n ** 40n - 1n,
      noticeHash: keccakId("n"),
    };
    const msgs: [ConsentMessageKind, Record<string, unknown>, string | null][] = [
      ["Grant", grant, "18446744073709551615"],
      ["Revoke", { grantee: grant.grantee, dataId: keccakId("d") }, "65537"],
      ["RevokeAll", {}, null],
    ];
    for (const [kind, fields, version] of msgs) {
      const epoch = "4294967295";
      const deadline = (2n ** 256n - 1n).toString();
      const f = requestFields(kind, fields);
      const sdk = consentDigest(kind, domain, {
        owner,
        ...fields,
        epoch: BigInt(epoch),
        ...(version === null ? {} : { version: BigInt(version) }),
        deadline: BigInt(deadline),
      } as never);
      expect(digester.digest({ kind, owner, fields: f, epoch, version, deadline }), kind).to.equal(sdk);
      expect(native.digest({ kind, owner, fields: f, epoch, version, deadline }), kind).to.equal(sdk);
    }
  });

  it("the native keccak addon is installed here (prebuilt) and hashes like ethers at every length", () => {
    expect(keccakBackend()).to.equal("native");
    expect(fastKeccak256(new Uint8Array(0))).to.equal(
      "0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470",
    );
    // Around the 136-byte rate of keccak-256, where padding bugs live, and random lengths.
    const lengths = [1, 31, 32, 33, 64, 135, 136, 137, 271, 272, 273, 1000, 4096];
    for (let i = 0; i < 50; i++) lengths.push(randomBytes(2).readUInt16BE(0) % 2048);
    for (const n of lengths) {
      const data = randomBytes(n);
      expect(fastKeccak256(data), `${n} bytes`).to.equal(keccak256(data));
    }
  });
});
