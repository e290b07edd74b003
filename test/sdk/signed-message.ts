import { expect } from "chai";
import { Wallet, id } from "ethers";

import { ALL_DATA } from "../../src/sdk/constants.js";
import { consentDigest, consentDomain, signConsent } from "../../src/sdk/eip712.js";
import type { MessageOf } from "../../src/sdk/eip712.js";
import { ConsentSdkError } from "../../src/sdk/errors.js";
import {
  SIGNED_MESSAGE_FORMAT,
  decodeConsentMessage,
  decodeSignedMessage,
  digestOf,
  encodeSignedMessage,
  typedDataOf,
  withSignature,
} from "../../src/sdk/signed-message.js";

const REGISTRY = "0xd91073976F789Df2ABd8498215470425Da5F61D0";
const domain = consentDomain(31337n, REGISTRY);

function refused(run: () => unknown): string {
  try {
    run();
  } catch (err) {
    expect(err).to.be.instanceOf(ConsentSdkError);
    expect((err as ConsentSdkError).code).to.equal("INVALID_INPUT");
    return (err as Error).message;
  }
  expect.fail("expected INVALID_INPUT");
}

describe("signed-message@2: the one serializer of SDK and CLI", () => {
  const owner = Wallet.createRandom();
  const grant: MessageOf["Grant"] = {
    owner: owner.address,
    grantee: "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
    dataId: ALL_DATA,
    purposes: (1n << 127n) | 5n,
    expiresAt: 2n ** 40n - 1n,
    noticeHash: id("notice v3"),
    epoch: 2n ** 32n - 1n,
    version: 2n ** 64n - 1n,
    deadline: 2n ** 256n - 1n,
  };

  it("round-trips every kind with bigints beyond 2^53 exactly (JSON.stringify alone throws on them)", async () => {
    expect(() => JSON.stringify(grant)).to.throw(TypeError);
    const signed = await signConsent("Grant", owner, domain, grant);
    const text = encodeSignedMessage({ kind: "Grant", chainId: 31337n, registry: REGISTRY, signed });
    const json = JSON.parse(text) as Record<string, unknown>;
    expect(json).to.deep.equal({
      format: SIGNED_MESSAGE_FORMAT,
      kind: "Grant",
      chainId: "31337",
      registry: REGISTRY,
      message: {
        owner: owner.address,
        grantee: grant.grantee,
        dataId: ALL_DATA,
        purposes: ((1n << 127n) | 5n).toString(),
        expiresAt: "1099511627775",
        noticeHash: grant.noticeHash,
        epoch: "4294967295",
        version: "18446744073709551615",
        deadline: (2n ** 256n - 1n).toString(),
      },
      signature: signed.signature,
    });
    expect(decodeSignedMessage(text, "grant.json")).to.deep.equal({
      kind: "Grant",
      chainId: 31337n,
      registry: REGISTRY,
      signed,
    });
    const revoke = await signConsent("Revoke", owner, domain, { ...grant, epoch: 0n, version: 1n, deadline: 9n });
    const lockdown = await signConsent("RevokeAll", owner, domain, { owner: owner.address, epoch: 3n, deadline: 9n });
    for (const [kind, s] of [
      ["Revoke", revoke],
      ["RevokeAll", lockdown],
    ] as const) {
      const file = { kind, chainId: 1n, registry: REGISTRY, signed: s } as const;
      const back = decodeSignedMessage(encodeSignedMessage(file), "x.json");
      expect(back.kind).to.equal(kind);
      expect(back.signed).to.deep.include({ owner: owner.address, deadline: 9n, signature: s.signature });
    }
  });

  it("a message prepared for another owner: unsigned (null), its digest and typed data, then withSignature", () => {
    const prepared = { kind: "Grant" as const, chainId: 31337n, registry: REGISTRY, message: grant, signature: null };
    const text = encodeSignedMessage(prepared);
    expect((JSON.parse(text) as { signature: unknown }).signature).to.equal(null);
    const back = decodeConsentMessage(text, "grant.json");
    expect(back).to.deep.equal(prepared);
    expect(digestOf(back)).to.equal(consentDigest("Grant", domain, grant));
    expect(typedDataOf(back).primaryType).to.equal("Grant");
    expect(refused(() => decodeSignedMessage(text, "grant.json"))).to.equal(
      "grant.json: not signed yet (signature null): the owner signs its digest or typed data, then `omni-consent add-signature grant.json --signature 0x…` adds it",
    );
    const signed = withSignature(back, "0x");
    expect(decodeSignedMessage(encodeSignedMessage(signed), "g.json").signed.signature).to.equal("0x");
  });

  it("refuses format 1, other formats and bad fields, naming the field", () => {
    expect(refused(() => decodeSignedMessage('{"format":"omni-consent/signed-message@1"}', "old.json"))).to.match(
      /^old\.json: a omni-consent\/signed-message@1 file \(nonce-based, for registry 1\.x\)/,
    );
    expect(refused(() => decodeSignedMessage("{", "x.json"))).to.equal(
      "x.json: not a JSON file; expected a signed message written by sign-grant or sign-revoke",
    );
    const base = JSON.parse(
      encodeSignedMessage({ kind: "Grant", chainId: 1n, registry: REGISTRY, message: grant, signature: null }),
    ) as Record<string, Record<string, unknown>>;
    const bad = (patch: (j: typeof base) => void) => {
      const j = structuredClone(base);
      patch(j);
      return refused(() => decodeConsentMessage(JSON.stringify(j), "f.json"));
    };
    expect(bad((j) => (j.message!.version = 1))).to.equal("f.json.message.version: expected a decimal integer string");
    expect(bad((j) => (j.message!.grantee = "0x12"))).to.equal(
      "f.json.message.grantee: expected a 0x-prefixed 20-byte hex address",
    );
    expect(bad((j) => ((j as Record<string, unknown>).signature = "0x123"))).to.equal(
      "f.json.signature: expected a 0x-prefixed hex signature of whole bytes (65 or 64 for an EOA; any length for an ERC-1271 wallet)",
    );
    expect(bad((j) => ((j as Record<string, unknown>).kind = "Nonce"))).to.equal(
      "f.json.kind: expected Grant, Revoke or RevokeAll",
    );
  });
});
