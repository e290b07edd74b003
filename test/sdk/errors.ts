import { expect } from "chai";
import { AbiCoder, Interface, id } from "ethers";

import * as abi from "../../src/sdk/abi.js";
import { CONSENT_ACCESS_MANAGER_ABI, CONSENT_REGISTRY_ABI, INTEGRATION_REGISTRY_ABI } from "../../src/sdk/abi.js";
import {
  ConsentSdkError,
  ERROR_ABIS,
  ERROR_WORDS,
  decodeConsentError,
  decodeRevertData,
  findRevertData,
  isTransportError,
  toConsentSdkError,
} from "../../src/sdk/errors.js";

const registry = new Interface(CONSENT_REGISTRY_ABI);
const integrations = new Interface(INTEGRATION_REGISTRY_ABI);
const manager = new Interface(CONSENT_ACCESS_MANAGER_ABI);
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
      `AccessManagerNotScheduled: operation ${op} is not scheduled (never, or executed or cancelled since)`,
    );
    expect(decodeRevertData(registry.encodeErrorResult("AccessManagedUnauthorized", [OWNER]))?.message).to.equal(
      `AccessManagedUnauthorized: ${OWNER} may not call this governed function (not allowed by the AccessManager)`,
    );
  });

  it("says why a signed message is stale: a lockdown since, or a later change of the consent", () => {
    const lockdown = registry.encodeErrorResult("ConsentRegistryStaleSignature", [OWNER, 0n, 5n, 2n, 7n]);
    expect(decodeRevertData(lockdown)?.message).to.equal(
      `ConsentRegistryStaleSignature: the signed message of ${OWNER} names epoch 0 but the owner is in epoch 2: a lockdown (revoke-all) since voided every message signed before it`,
    );
    const later = registry.encodeErrorResult("ConsentRegistryStaleSignature", [
      OWNER,
      1n,
      (1n << 16n) | 3n,
      1n,
      2n << 16n,
    ]);
    expect(decodeRevertData(later)?.message).to.equal(
      `ConsentRegistryStaleSignature: the signed message of ${OWNER} has version 65539 (generation 1, signature #3) but the consent is at version 131072 (generation 2, set by transaction): the owner changed this consent since (by transaction or a later signature), and that later word holds`,
    );
    expect(decodeRevertData(later)?.args).to.deep.equal({
      owner: OWNER,
      epoch: 1n,
      version: 65539n,
      currentEpoch: 1n,
      currentVersion: 131072n,
    });
  });

  it("says what the ConsentAccessManager and the deployer refuse", () => {
    expect(
      decodeRevertData(manager.encodeErrorResult("ConsentAccessManagerDelayTooShort", [1n, OWNER, 0, 60]))?.message,
    ).to.equal(
      `ConsentAccessManagerDelayTooShort: ${OWNER} would hold GOVERNOR_ROLE (1) with an execution delay of 0s, below the 60s every member must have`,
    );
    expect(
      decodeRevertData(
        manager.encodeErrorResult("AccessManagerUnauthorizedCancel", [GRANTEE, OWNER, OWNER, "0x12345678"]),
      )?.message,
    ).to.equal(
      `AccessManagerUnauthorizedCancel: ${GRANTEE} may not cancel the operation that ${OWNER} scheduled (selector 0x12345678 on ${OWNER}): only its proposer or a member of GUARDIAN_ROLE (2) can`,
    );
    const deployer = new Interface(abi.CONSENT_SYSTEM_DEPLOYER_ABI);
    expect(
      decodeRevertData(deployer.encodeErrorResult("ConsentSystemDeployerZeroAddress", ["governor"]))?.message,
    ).to.equal("ConsentSystemDeployerZeroAddress: the governor must not be the zero address");
    expect(
      decodeRevertData(registry.encodeErrorResult("ConsentRegistryManagerUnchanged", [OWNER, GRANTEE, true]))?.message,
    ).to.equal(`ConsentRegistryManagerUnchanged: ${GRANTEE} is already a manager of ${OWNER}; nothing to change`);
  });

  it("has words for every custom error of every ABI the SDK exports", () => {
    const exported = Object.entries(abi).filter(([name]) => name.endsWith("_ABI"));
    expect(exported.map(([name]) => name).sort()).to.deep.equal([
      "CONSENT_ACCESS_MANAGER_ABI",
      "CONSENT_GATED_ABI",
      "CONSENT_REGISTRY_ABI",
      "CONSENT_SYSTEM_DEPLOYER_ABI",
      "INTEGRATION_REGISTRY_ABI",
    ]);
    // Every exported ABI is one the decoder reads (compared by identity, named: chai's deep
    // equality of two Sets of arrays pairs them after a string sort, which depends on their sizes).
    const nameOf = (a: unknown) => exported.find(([, b]) => b === a)?.[0] ?? "an ABI the package does not export";
    expect(Object.values(ERROR_ABIS).map(nameOf).sort()).to.deep.equal(exported.map(([name]) => name).sort());
    const missing: string[] = [];
    let checked = 0;
    for (const [name, fragments] of exported) {
      const iface = new Interface(fragments as readonly object[] as never);
      iface.forEachError((error) => {
        checked++;
        if (ERROR_WORDS[error.name] === undefined) missing.push(`${name}: ${error.name}`);
        // Each one decodes, from zero-valued arguments, into a line that is more than its name.
        const values = error.inputs.map((p) =>
          p.baseType === "string"
            ? "x"
            : p.baseType === "bytes"
              ? "0x"
              : p.baseType === "bool"
                ? false
                : p.baseType === "address"
                  ? OWNER
                  : p.type.startsWith("bytes")
                    ? "0x" + "00".repeat(Number(p.type.slice(5)))
                    : 0n,
        );
        const decoded = decodeRevertData(iface.encodeErrorResult(error, values));
        expect(decoded?.name, error.name).to.equal(error.name);
        expect(decoded?.message.startsWith(`${error.name}: `), decoded?.message).to.equal(true);
        expect(decoded?.message, error.name).to.not.match(/\(\w+=/); // not the Name(arg=value) fallback
      });
    }
    expect(missing).to.deep.equal([]);
    expect(checked).to.equal(56); // 23 + 8 + 21 + 2 + 2 (ConsentGated): the AccessManaged errors are in both registries
  });

  it("decodes the inner error of a failed batch item, and says so when it cannot", () => {
    const inner = registry.encodeErrorResult("ConsentRegistryConsentRequired", [
      OWNER,
      GRANTEE,
      `0x${"f".repeat(64)}`,
      2,
    ]);
    const decoded = decodeRevertData(registry.encodeErrorResult("ConsentRegistryBatchItemFailed", [3n, inner]));
    expect(decoded?.message).to.equal(
      `ConsentRegistryBatchItemFailed: batch item #3 failed: ConsentRegistryConsentRequired: ${GRANTEE} holds no active consent of ${OWNER} on ALL_DATA for purpose INFERENCE (2)`,
    );
    expect((decoded?.args.inner as { name: string }).name).to.equal("ConsentRegistryConsentRequired");
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

  it("tells a lost connection (the request may have arrived) from an answer of the node or a refused connection", () => {
    const hangUp = Object.assign(new Error("socket hang up"), { code: "ECONNRESET" });
    expect(isTransportError(hangUp)).to.equal(true);
    expect(isTransportError({ code: "TIMEOUT", message: "timeout" })).to.equal(true);
    expect(isTransportError(new Error("wrapped", { cause: hangUp }))).to.equal(true);
    // The node answered with a JSON-RPC error: it definitely did not take the transaction.
    expect(isTransportError({ code: "UNKNOWN_ERROR", error: { code: -32000, message: "nonce too low" } })).to.equal(
      false,
    );
    expect(isTransportError({ code: "CALL_EXCEPTION", info: { error: { code: 3, message: "reverted" } } })).to.equal(
      false,
    );
    // Nothing was ever delivered.
    expect(
      isTransportError(Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" })),
    ).to.equal(false);
  });
});
