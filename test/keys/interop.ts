import { createRequire } from "node:module";

import { expect } from "chai";
import { Interface, id as keccakId } from "ethers";

import { litConsentCondition, tacoConsentCondition } from "../../src/keys/interop.js";
import { CONSENT_REGISTRY_ABI } from "../../src/sdk/abi.js";
import { Purpose } from "../../src/sdk/purposes.js";

// Both projects publish CommonJS builds (TACo's ES build has extension-less imports Node cannot load).
const require = createRequire(import.meta.url);
const taco = require("@nucypher/taco") as {
  conditions: { base: { contract: { ContractCondition: new (v: unknown) => { toObj(): unknown } } } };
};
const lit = require("@lit-protocol/access-control-conditions-schemas") as {
  EvmContractAccSchema: { safeParse(v: unknown): { success: boolean; error?: unknown } };
  EvmContractConditionsSchema: { safeParse(v: unknown): { success: boolean } };
};

const registry = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
const owner = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const dataId = keccakId("asset");

describe("interop: the consent condition for TACo and Lit", () => {
  it("TACo: its ContractCondition class accepts ours, and refuses a broken copy", () => {
    const cond = tacoConsentCondition({ registry, owner, dataId, purpose: Purpose.INFERENCE, chainId: 137 });
    const built = new taco.conditions.base.contract.ContractCondition(cond);
    expect(built.toObj()).to.deep.include({ conditionType: "contract", method: "isAllowed", chain: 137 });
    expect(cond.parameters).to.deep.equal([owner, ":userAddress", dataId, 2]);
    // The schema is not a rubber stamp: Lit's comparator "=" is not TACo's, a bad address is refused.
    const C = taco.conditions.base.contract.ContractCondition;
    expect(() => new C({ ...cond, returnValueTest: { comparator: "=", value: true } })).to.throw();
    expect(() => new C({ ...cond, contractAddress: "0x1234" })).to.throw();
  });

  it("Lit: EvmContractAccSchema and EvmContractConditionsSchema accept ours; an unknown chain name is refused", () => {
    const cond = litConsentCondition({ registry, owner, dataId, purpose: Purpose.INFERENCE, chain: "sepolia" });
    expect(lit.EvmContractAccSchema.safeParse(cond).success).to.equal(true);
    expect(lit.EvmContractConditionsSchema.safeParse([cond]).success).to.equal(true);
    expect(lit.EvmContractAccSchema.safeParse({ ...cond, chain: "no-such-chain" }).success).to.equal(false);
    expect(cond.functionParams).to.deep.equal([owner, ":userAddress", dataId, "2"]);
  });

  it("both call the registry's real isAllowed(address,address,bytes32,uint8) view", () => {
    const registryAbi = new Interface(CONSENT_REGISTRY_ABI);
    for (const abi of [
      tacoConsentCondition({ registry, owner, dataId, purpose: 0, chainId: 1 }).functionAbi,
      litConsentCondition({ registry, owner, dataId, purpose: 0, chain: "ethereum" }).functionAbi,
    ]) {
      const ours = new Interface([abi]).getFunction("isAllowed")!;
      expect(ours.selector).to.equal(registryAbi.getFunction("isAllowed")!.selector);
      expect(ours.stateMutability).to.equal("view");
      expect(ours.outputs.map((o) => o.type)).to.deep.equal(["bool"]);
    }
  });

  it("refuses a malformed dataId or purpose before building anything", () => {
    expect(() => tacoConsentCondition({ registry, owner, dataId: "0x12", purpose: 0, chainId: 1 })).to.throw(TypeError);
    expect(() => litConsentCondition({ registry, owner, dataId, purpose: 128, chain: "ethereum" })).to.throw(
      RangeError,
    );
  });
});
