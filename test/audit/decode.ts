import { expect } from "chai";
import { AbiCoder, getAddress, Interface, id as keccakId } from "ethers";

import { decodeLog, versionOfEvent, viaOfEvent } from "../../src/audit/decode.js";
import type { EventArgsByName, EventName } from "../../src/audit/events.js";
import { describeReason } from "../../src/audit/signatures.js";
import { decodeSignedCall } from "../../src/audit/signed-request.js";
import { CONSENT_REGISTRY_ABI, INTEGRATION_REGISTRY_ABI } from "../../src/sdk/abi.js";
import { ALL_DATA, Via } from "../../src/sdk/constants.js";

describe("audit: log decoding", () => {
  const reg = new Interface(CONSENT_REGISTRY_ABI);
  const owner = "0x" + "ab".repeat(20);
  const grantee = getAddress("0x" + "cd".repeat(20)); // checksummed: decoding must lowercase it

  it("fast static decoding equals the ABI's values (addresses lowercase, integers as decimal strings)", () => {
    const purposes = (1n << 127n) | 5n;
    const log = reg.encodeEventLog("ConsentGranted", [
      owner,
      grantee,
      keccakId("d"),
      purposes,
      2n ** 40n - 1n,
      keccakId("n"),
      grantee,
      2n ** 64n - 1n,
    ]);
    const decoded = decodeLog("registry", log);
    expect(decoded).to.deep.equal({
      name: "ConsentGranted",
      args: {
        owner,
        grantee: grantee.toLowerCase(),
        dataId: keccakId("d"),
        purposes: purposes.toString(),
        expiresAt: "1099511627775",
        noticeHash: keccakId("n"),
        actor: grantee.toLowerCase(),
        version: "18446744073709551615",
      },
    });
    // via is derived from the version (sequence 0xffff ≠ 0: a signature), not carried.
    expect([viaOfEvent(decoded.name, decoded.args), versionOfEvent(decoded.name, decoded.args)]).to.deep.equal([
      Via.Signature,
      "18446744073709551615",
    ]);
    const byOwner = decodeLog(
      "registry",
      reg.encodeEventLog("ConsentRevoked", [owner, grantee, ALL_DATA, owner, 1n << 16n]),
    );
    expect(byOwner.args).to.deep.equal({
      owner,
      grantee: grantee.toLowerCase(),
      dataId: ALL_DATA,
      actor: owner,
      version: "65536",
    });
    expect(viaOfEvent(byOwner.name, byOwner.args)).to.equal(Via.Owner);
    const byManager = decodeLog(
      "registry",
      reg.encodeEventLog("ConsentRevoked", [owner, grantee, ALL_DATA, grantee, 2n << 16n]),
    );
    expect(viaOfEvent(byManager.name, byManager.args)).to.equal(Via.Manager);
    const all = decodeLog("registry", reg.encodeEventLog("AllConsentsRevoked", [owner, 2n ** 32n - 1n, grantee, 2]));
    expect(all).to.deep.equal({
      name: "AllConsentsRevoked",
      args: { owner, newEpoch: "4294967295", actor: grantee.toLowerCase(), via: "2" },
    });
    expect([viaOfEvent(all.name, all.args), versionOfEvent(all.name, all.args)]).to.deep.equal([Via.Signature, null]);
    const mgr = reg.encodeEventLog("ManagerSet", [owner, grantee, false]);
    expect(decodeLog("registry", mgr).args).to.deep.equal({ owner, manager: grantee.toLowerCase(), approved: false });
    expect(viaOfEvent("ManagerSet", decodeLog("registry", mgr).args)).to.equal(null);
    const ir = new Interface(INTEGRATION_REGISTRY_ABI);
    const reg2 = ir.encodeEventLog("IntegrationRegistered", [grantee, keccakId("m"), 64n]);
    expect(decodeLog("integrations", reg2)).to.deep.equal({
      name: "IntegrationRegistered",
      args: { integration: grantee.toLowerCase(), metadataHash: keccakId("m"), purposes: "64" },
    });
  });

  it("decodes SignedRevokeFailed (dynamic reason bytes) and its reason into words", () => {
    const reason = reg.encodeErrorResult("ConsentRegistryStaleSignature", [grantee, 1, 65538n, 2, 65539n]);
    const log = reg.encodeEventLog("SignedRevokeFailed", [owner, grantee, keccakId("d"), 3n, reason]);
    const d = decodeLog("registry", log);
    expect(d).to.deep.equal({
      name: "SignedRevokeFailed",
      args: { owner, grantee: grantee.toLowerCase(), dataId: keccakId("d"), index: "3", reason },
    });
    expect(describeReason(d.name === "SignedRevokeFailed" ? d.args.reason : "")).to.equal(
      `ConsentRegistryStaleSignature(${grantee.toLowerCase()}, 1, 65538, 2, 65539)`,
    );
    expect(describeReason("0x12345678")).to.equal("unknown error 0x12345678");
    // The registry 1.x nonce events are gone from the ABI: such a log is kept raw as Unknown.
    const old = {
      topics: [keccakId("NoncesInvalidated(address,uint256,uint256)"), `0x${"00".repeat(12)}${owner.slice(2)}`],
      data: "0x",
    };
    expect(decodeLog("registry", old).name).to.equal("Unknown");
  });

  it("decodes AccessManager scheduling events (dynamic bytes) and keeps unknown logs raw", () => {
    const am = new Interface([
      "event OperationScheduled(bytes32 indexed operationId, uint32 indexed nonce, uint48 schedule, address caller, address target, bytes data)",
    ]);
    const log = am.encodeEventLog("OperationScheduled", [keccakId("op"), 3, 1000, owner, grantee, "0x12345678"]);
    expect(decodeLog("authority", log)).to.deep.equal({
      name: "OperationScheduled",
      args: {
        operationId: keccakId("op"),
        nonce: "3",
        schedule: "1000",
        caller: owner,
        target: grantee.toLowerCase(),
        data: "0x12345678",
      },
    });
    const unknown = { topics: [keccakId("Nope()")], data: AbiCoder.defaultAbiCoder().encode(["uint256"], [1]) };
    expect(decodeLog("registry", unknown)).to.deep.equal({
      name: "Unknown",
      args: { topics: keccakId("Nope()"), data: unknown.data },
    });
  });
});

describe("audit: the typed event union matches the ABIs", () => {
  // The compiler checks this table against EventArgsByName (each list is exactly its keys, in
  // ABI order); the test checks it against the ABIs' event inputs.
  const FIELDS: { [N in Exclude<EventName, "Unknown">]: readonly (keyof EventArgsByName[N])[] } = {
    ConsentGranted: ["owner", "grantee", "dataId", "purposes", "expiresAt", "noticeHash", "actor", "version"],
    ConsentRevoked: ["owner", "grantee", "dataId", "actor", "version"],
    AllConsentsRevoked: ["owner", "newEpoch", "actor", "via"],
    SignedRevokeFailed: ["owner", "grantee", "dataId", "index", "reason"],
    ManagerSet: ["owner", "manager", "approved"],
    DataUsed: ["owner", "processor", "dataId", "purpose", "evidence"],
    DataShared: ["owner", "from", "to", "dataId", "purpose", "evidence"],
    PurposeDefined: ["id", "metadataHash"],
    PurposeDeprecated: ["id"],
    EIP712DomainChanged: [],
    AuthorityUpdated: ["authority"],
    IntegrationRegistered: ["integration", "metadataHash", "purposes"],
    IntegrationUpdated: ["integration", "metadataHash", "purposes"],
    IntegrationSuspended: ["integration"],
    IntegrationReinstated: ["integration"],
    OperationScheduled: ["operationId", "nonce", "schedule", "caller", "target", "data"],
    OperationExecuted: ["operationId", "nonce"],
    OperationCanceled: ["operationId", "nonce"],
  };

  it("every event of the registry, the integration registry and the AccessManager events has exactly its fields", () => {
    const seen: Record<string, string[]> = {};
    for (const abi of [CONSENT_REGISTRY_ABI, INTEGRATION_REGISTRY_ABI]) {
      new Interface(abi).forEachEvent((f) => (seen[f.name] = f.inputs.map((i) => i.name)));
    }
    for (const name of ["OperationScheduled", "OperationExecuted", "OperationCanceled"] as const)
      seen[name] = [...FIELDS[name]];
    expect(seen).to.deep.equal(Object.fromEntries(Object.entries(FIELDS).map(([k, v]) => [k, [...v]])));
  });
});

describe("audit: signed requests read from relaying calldata", () => {
  const reg = new Interface(CONSENT_REGISTRY_ABI);
  const g = (i: number, sig: string) => ({
    owner: "0x" + String(i).repeat(40),
    grantee: "0x" + "cd".repeat(20),
    dataId: keccakId(`d${i}`),
    purposes: (1n << 127n) | BigInt(i),
    expiresAt: 2n ** 40n - 1n,
    noticeHash: keccakId("n"),
    epoch: 2n ** 32n - 1n,
    version: 2n ** 64n - 1n,
    deadline: 2n ** 256n - 1n,
    signature: sig,
  });
  const expected = (x: ReturnType<typeof g>) => ({
    kind: "Grant",
    owner: x.owner,
    fields: {
      grantee: x.grantee,
      dataId: x.dataId,
      purposes: x.purposes.toString(),
      expiresAt: x.expiresAt.toString(),
      noticeHash: x.noticeHash,
    },
    epoch: x.epoch.toString(),
    version: x.version.toString(),
    deadline: x.deadline.toString(),
    signature: x.signature,
  });

  it("batches, single calls, 64/65-byte and empty signatures decode to the exact fields", () => {
    const items = [g(1, "0x" + "ab".repeat(65)), g(2, "0x" + "cd".repeat(64)), g(3, "0x")];
    expect(decodeSignedCall(reg.encodeFunctionData("grantBySigBatch", [items]))).to.deep.equal({
      requests: items.map(expected),
    });
    expect(decodeSignedCall(reg.encodeFunctionData("grantBySig", [items[0]]))).to.deep.equal({
      requests: [expected(items[0])],
    });
    const all = { owner: "0x" + "ee".repeat(20), epoch: 7n, deadline: 9n, signature: "0x" + "12".repeat(65) };
    expect(decodeSignedCall(reg.encodeFunctionData("revokeAllBySig", [all]))).to.deep.equal({
      requests: [
        {
          kind: "RevokeAll",
          owner: all.owner,
          fields: {},
          epoch: "7",
          version: null,
          deadline: "9",
          signature: all.signature,
        },
      ],
    });
    const rv = {
      owner: all.owner,
      grantee: "0x" + "cd".repeat(20),
      dataId: ALL_DATA,
      epoch: 1n,
      version: 65537n,
      deadline: 5n,
      signature: "0x99",
    };
    expect(decodeSignedCall(reg.encodeFunctionData("revokeBySigBatch", [[rv, rv]]))).to.deep.equal({
      requests: [rv, rv].map((x) => ({
        kind: "Revoke",
        owner: x.owner,
        fields: { grantee: x.grantee, dataId: x.dataId },
        epoch: "1",
        version: "65537",
        deadline: "5",
        signature: "0x99",
      })),
    });
    // Not a signed function: its selector, for the "unsigned" marker row.
    const plain = reg.encodeFunctionData("revokeAll", []);
    expect(decodeSignedCall(plain)).to.deep.equal({ selector: plain.slice(0, 10) });
    // Truncated calldata: the fast reader refuses, ethers throws, the selector is kept.
    const cut = reg.encodeFunctionData("grantBySigBatch", [items]).slice(0, 300);
    expect(decodeSignedCall(cut)).to.deep.equal({ selector: cut.slice(0, 10) });
  });
});
