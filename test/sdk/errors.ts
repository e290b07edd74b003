import { expect } from "chai";
import { AbiCoder, Interface, id } from "ethers";

import { CONSENT_REGISTRY_ABI, INTEGRATION_REGISTRY_ABI } from "../../src/sdk/abi.js";
import {
  ConsentSdkError,
  decodeConsentError,
  decodeRevertData,
  findRevertData,
  toConsentSdkError,
} from "../../src/sdk/errors.js";
import { AccessManager__factory } from "../../types/ethers-contracts/index.js";

const registry = new Interface(CONSENT_REGISTRY_ABI);
const integrations = new Interface(INTEGRATION_REGISTRY_ABI);
const manager = new Interface(AccessManager__factory.abi);
const OWNER = "0x1111111111111111111111111111111111111111";
const GRANTEE = "0x2222222222222222222222222222222222222222";
const DATA = id("data");

describe("errors: revert data in words", () => {
  it("decodes registry errors with their arguments", () => {
    const data = registry.encodeErrorResult("ConsentRegistryPurposeNotGrantable", [(1n << 9n) | 4n, 1n << 9n]);
    expect(decodeRevertData(data)).to.deep.equal({
      name: "ConsentRegistryPurposeNotGrantable",
      args: { purposes: 516n, notGrantable: 512n },
      message:
        "ConsentRegistryPurposeNotGrantable: purposes [purpose#9(9)] of [INFERENCE(2), purpose#9(9)] are not defined or are deprecated",
    });
    expect(decodeRevertData(registry.encodeErrorResult("ConsentRegistryExpiryInPast", [5n, 9n]))?.message).to.equal(
      "ConsentRegistryExpiryInPast: expiresAt 5 is not after the chain time 9",
    );
  });

  it("decodes integration-registry and AccessManager errors", () => {
    expect(
      decodeRevertData(integrations.encodeErrorResult("IntegrationRegistryWrongStatus", [GRANTEE, 2]))?.message,
    ).to.equal(
      `IntegrationRegistryWrongStatus: integration ${GRANTEE} is Suspended, which this operation does not accept`,
    );
    const op = id("op");
    expect(decodeRevertData(manager.encodeErrorResult("AccessManagerNotScheduled", [op]))?.message).to.equal(
      `AccessManagerNotScheduled: operation ${op} is not scheduled`,
    );
    expect(decodeRevertData(registry.encodeErrorResult("AccessManagedUnauthorized", [OWNER]))?.message).to.equal(
      `AccessManagedUnauthorized: ${OWNER} may not call this governed function (not allowed by the AccessManager)`,
    );
  });

  it("decodes the inner error of a failed batch item, and says so when it cannot", () => {
    const inner = registry.encodeErrorResult("ConsentRegistryNotGranted", [OWNER, GRANTEE, `0x${"f".repeat(64)}`]);
    const decoded = decodeRevertData(registry.encodeErrorResult("ConsentRegistryBatchItemFailed", [3n, inner]));
    expect(decoded?.message).to.equal(
      `ConsentRegistryBatchItemFailed: batch item #3 failed: ConsentRegistryNotGranted: ${OWNER} has no live consent for ${GRANTEE} on ALL_DATA`,
    );
    expect((decoded?.args.inner as { name: string }).name).to.equal("ConsentRegistryNotGranted");
    const unknown = decodeRevertData(registry.encodeErrorResult("ConsentRegistryBatchItemFailed", [0n, "0xdeadbeef"]));
    expect(unknown?.message).to.equal(
      "ConsentRegistryBatchItemFailed: batch item #0 failed: undecodable reason 0xdeadbeef",
    );
  });

  it("decodes Error(string) and Panic, and returns null for unknown or malformed data", () => {
    const coder = AbiCoder.defaultAbiCoder();
    expect(decodeRevertData("0x08c379a0" + coder.encode(["string"], ["nope"]).slice(2))?.message).to.equal(
      "Error: nope",
    );
    expect(decodeRevertData("0x4e487b71" + coder.encode(["uint256"], [0x11]).slice(2))?.message).to.equal(
      "Panic: code 0x11",
    );
    expect(decodeRevertData("0xdeadbeef")).to.equal(null);
    expect(decodeRevertData("0x12")).to.equal(null);
    expect(decodeRevertData("not hex")).to.equal(null);
  });

  it("finds revert data nested the ways RPC stacks nest it", () => {
    const data = registry.encodeErrorResult("ConsentRegistryEmptyBatch", []);
    expect(findRevertData({ data })).to.equal(data);
    expect(findRevertData({ error: { data: { data } } })).to.equal(data);
    expect(findRevertData({ info: { error: { data } } })).to.equal(data);
    expect(findRevertData(new Error("x", { cause: { data } }))).to.equal(data);
    expect(findRevertData({ message: "no data" })).to.equal(null);
    expect(decodeConsentError({ error: { data } })?.message).to.equal(
      "ConsentRegistryEmptyBatch: a batch must contain at least one item",
    );
  });

  it("maps transport failures to stable codes with one line", () => {
    const funds = toConsentSdkError(
      Object.assign(new Error("insufficient funds for gas * price + value"), { code: "INSUFFICIENT_FUNDS" }),
      "grant",
    );
    expect([funds.code, funds.message]).to.deep.equal([
      "INSUFFICIENT_FUNDS",
      "grant: the sender cannot pay for gas (insufficient funds for gas * price + value)",
    ]);
    const down = toConsentSdkError(new Error("connect ECONNREFUSED 127.0.0.1:1\nstack"), "reading the chain id");
    expect([down.code, down.message]).to.deep.equal([
      "RPC_UNREACHABLE",
      "reading the chain id: the RPC endpoint is unreachable (connect ECONNREFUSED 127.0.0.1:1)",
    ]);
    const same = new ConsentSdkError("NOT_FOUND", "x");
    expect(toConsentSdkError(same, "y")).to.equal(same);
  });
});
