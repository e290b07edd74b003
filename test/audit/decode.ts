import { expect } from "chai";
import { AbiCoder, getAddress, Interface, id as keccakId } from "ethers";

import { decodeLog } from "../../src/audit/decode.js";
import { CONSENT_REGISTRY_ABI, INTEGRATION_REGISTRY_ABI } from "../../src/sdk/abi.js";

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
      2n ** 64n - 1n,
      keccakId("n"),
      grantee,
      2,
    ]);
    expect(decodeLog("registry", log)).to.deep.equal({
      name: "ConsentGranted",
      args: {
        owner,
        grantee: grantee.toLowerCase(),
        dataId: keccakId("d"),
        purposes: purposes.toString(),
        expiresAt: "18446744073709551615",
        noticeHash: keccakId("n"),
        actor: grantee.toLowerCase(),
        via: "2",
      },
    });
    const mgr = reg.encodeEventLog("ManagerSet", [owner, grantee, false]);
    expect(decodeLog("registry", mgr).args).to.deep.equal({ owner, manager: grantee.toLowerCase(), approved: false });
    const ir = new Interface(INTEGRATION_REGISTRY_ABI);
    const reg2 = ir.encodeEventLog("IntegrationRegistered", [grantee, keccakId("m"), 64n]);
    expect(decodeLog("integrations", reg2)).to.deep.equal({
      name: "IntegrationRegistered",
      args: { integration: grantee.toLowerCase(), metadataHash: keccakId("m"), purposes: "64" },
    });
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
