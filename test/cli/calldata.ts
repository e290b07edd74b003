import { expect } from "chai";
import { Interface, Wallet, keccak256, toUtf8Bytes } from "ethers";

import { decodeGovernedCall, readyWords, targetName } from "../../src/cli/calldata.js";
import { CONSENT_REGISTRY_ABI, INTEGRATION_REGISTRY_ABI } from "../../src/sdk/abi.js";

/** `gov pending`'s words for governed calls, and its time-left wording (pure functions, no chain). */
describe("omni-consent gov pending: calldata in words", function () {
  const registry = new Interface(CONSENT_REGISTRY_ABI);
  const integrations = new Interface(INTEGRATION_REGISTRY_ABI);
  const known = {
    consentRegistry: Wallet.createRandom().address,
    integrationRegistry: Wallet.createRandom().address,
    accessManager: Wallet.createRandom().address,
  };
  const meta = keccak256(toUtf8Bytes("dpv:Personalisation; notice v1"));
  const someone = Wallet.createRandom().address;

  it("names the known targets (any letter case) and nothing else", function () {
    expect(targetName(known.consentRegistry.toLowerCase(), known)).to.equal("ConsentRegistry");
    expect(targetName(known.integrationRegistry, known)).to.equal("IntegrationRegistry");
    expect(targetName(known.accessManager, known)).to.equal("AccessManager");
    expect(targetName(someone, known)).to.equal(null);
  });

  it("reads the purpose catalogue calls with the purpose name", function () {
    expect(
      decodeGovernedCall("ConsentRegistry", registry.encodeFunctionData("definePurpose", [8, meta])),
    ).to.deep.equal({
      function: "definePurpose",
      args: { id: 8n, metadataHash: meta },
      words: `define purpose id 8 (metadata ${meta})`,
    });
    expect(decodeGovernedCall("ConsentRegistry", registry.encodeFunctionData("deprecatePurpose", [4]))).to.deep.equal({
      function: "deprecatePurpose",
      args: { id: 4n },
      words: "deprecate purpose ANALYTICS (id 4)",
    });
  });

  it("reads the integration calls", function () {
    const update = integrations.encodeFunctionData("updateIntegration", [someone, meta, (1n << 2n) | (1n << 9n)]);
    expect(decodeGovernedCall("IntegrationRegistry", update).words).to.equal(
      `update integration ${someone} to INFERENCE, purpose#9 (metadata ${meta})`,
    );
    const reinstate = integrations.encodeFunctionData("reinstateIntegration", [someone]);
    expect(decodeGovernedCall("IntegrationRegistry", reinstate).words).to.equal(`reinstate integration ${someone}`);
  });

  it("never reads calldata with another contract's ABI", function () {
    const define = registry.encodeFunctionData("definePurpose", [8, meta]);
    expect(decodeGovernedCall("IntegrationRegistry", define)).to.deep.equal({
      function: null,
      args: {},
      words: `a function IntegrationRegistry does not have (selector ${define.slice(0, 10)})`,
    });
    expect(decodeGovernedCall(null, define)).to.deep.equal({
      function: null,
      args: {},
      words: `a call to a contract this CLI does not know (selector ${define.slice(0, 10)})`,
    });
    const truncated = integrations.encodeFunctionData("suspendIntegration", [someone]).slice(0, 20);
    expect(decodeGovernedCall("IntegrationRegistry", truncated).words).to.equal(
      `calldata that is not a valid IntegrationRegistry call (selector ${truncated.slice(0, 10)})`,
    );
  });

  it("shows other AccessManager calls by name and arguments", function () {
    const am = new Interface(["function grantRole(uint64 roleId, address account, uint32 executionDelay)"]);
    const call = decodeGovernedCall("AccessManager", am.encodeFunctionData("grantRole", [1n, someone, 0]));
    expect(call.function).to.equal("grantRole");
    expect(call.words).to.equal(`grantRole(roleId=1, account=${someone}, executionDelay=0)`);
  });

  it("says how long until an operation is ready", function () {
    expect(readyWords(1000n, 1000n)).to.equal("ready");
    expect(readyWords(1000n, 2000n)).to.equal("ready");
    expect(readyWords(1059n, 1000n)).to.equal("in 59 s");
    expect(readyWords(1060n, 1000n)).to.equal("in 1 min");
    expect(readyWords(1000n + 86_399n, 1000n)).to.equal("in 23 h 59 min");
    expect(readyWords(1000n + 3_600n, 1000n)).to.equal("in 1 h 0 min");
    expect(readyWords(1000n + 2n * 86_400n + 3n * 3_600n + 59n, 1000n)).to.equal("in 2 d 3 h");
  });
});
