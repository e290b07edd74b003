import { expect } from "chai";
import { ZeroAddress, id } from "ethers";
import hre, { network } from "hardhat";

import { ALL_DATA, NO_EXPIRY } from "../src/sdk/constants.js";
import { Purpose, initialPurposeMetadata, purposesToMask } from "../src/sdk/purposes.js";
import type { ConsentGatedMock } from "../types/ethers-contracts/index.js";
import { deploySystem } from "./helpers/fixture.js";

const { ethers } = await network.create();

const DATA = id("dataset:alice:photos");
const OTHER_DATA = id("dataset:alice:voice");
const NOTICE = id("notice:v1");
const TRAINING = Purpose.MODEL_TRAINING;
const INFERENCE = Purpose.INFERENCE;

async function setup() {
  const system = await deploySystem(ethers);
  const [owner, processor, stranger] = system.accounts;
  const gate = (await ethers.deployContract("ConsentGatedMock", [
    await system.registry.getAddress(),
  ])) as unknown as ConsentGatedMock;
  return { ...system, owner, processor, stranger, gate };
}

describe("ConsentGated", () => {
  it("rejects a zero registry at construction and exposes the registry it checks", async () => {
    const factory = await ethers.getContractFactory("ConsentGatedMock");
    await expect(factory.deploy(ZeroAddress)).to.be.revertedWithCustomError(factory, "ConsentGatedZeroRegistry");

    const { registry, gate } = await setup();
    expect(await gate.consentRegistry()).to.equal(await registry.getAddress());
  });

  describe("onlyWithConsent (checks msg.sender)", () => {
    it("lets a caller with consent through and refuses everyone else with the exact key", async () => {
      const { registry, owner, processor, stranger, gate } = await setup();
      await registry.connect(owner).grant(processor.address, DATA, purposesToMask([TRAINING]), NO_EXPIRY, NOTICE);

      await expect(gate.connect(processor).gated(owner.address, DATA, TRAINING))
        .to.emit(gate, "GatedCall")
        .withArgs(processor.address, owner.address, DATA, TRAINING);

      await expect(gate.connect(stranger).gated(owner.address, DATA, TRAINING))
        .to.be.revertedWithCustomError(gate, "ConsentGatedConsentRequired")
        .withArgs(owner.address, stranger.address, DATA, TRAINING);
      await expect(gate.connect(processor).gated(owner.address, DATA, INFERENCE))
        .to.be.revertedWithCustomError(gate, "ConsentGatedConsentRequired")
        .withArgs(owner.address, processor.address, DATA, INFERENCE);
      await expect(gate.connect(processor).gated(owner.address, OTHER_DATA, TRAINING))
        .to.be.revertedWithCustomError(gate, "ConsentGatedConsentRequired")
        .withArgs(owner.address, processor.address, OTHER_DATA, TRAINING);
    });

    it("checks the calling contract, never tx.origin: a gate reached through a contract", async () => {
      const { registry, owner, processor, gate } = await setup();
      // `processor` is an EOA that drives a contract (a wallet, a job runner) which calls the gate.
      const proxy = await ethers.deployContract("ERC1271WalletMock", [processor.address]);
      const proxyAddress = await proxy.getAddress();
      const call = gate.interface.encodeFunctionData("gated", [owner.address, DATA, TRAINING]);
      // The EOA holds the consent, the contract does not: refused, naming the contract.
      await registry.connect(owner).grant(processor.address, DATA, purposesToMask([TRAINING]), NO_EXPIRY, NOTICE);
      await expect(proxy.connect(processor).execute(await gate.getAddress(), call))
        .to.be.revertedWithCustomError(gate, "ConsentGatedConsentRequired")
        .withArgs(owner.address, proxyAddress, DATA, TRAINING);
      // The contract holds it and the EOA does not: let through, and the event names the contract.
      await registry.connect(owner).revoke(processor.address, DATA);
      await registry.connect(owner).grant(proxyAddress, DATA, purposesToMask([TRAINING]), NO_EXPIRY, NOTICE);
      await expect(proxy.connect(processor).execute(await gate.getAddress(), call))
        .to.emit(gate, "GatedCall")
        .withArgs(proxyAddress, owner.address, DATA, TRAINING);
    });

    it("honours an ALL_DATA consent for any data id", async () => {
      const { registry, owner, processor, gate } = await setup();
      await registry.connect(owner).grant(processor.address, ALL_DATA, purposesToMask([TRAINING]), NO_EXPIRY, NOTICE);

      for (const dataId of [DATA, OTHER_DATA, ALL_DATA]) {
        await expect(gate.connect(processor).gated(owner.address, dataId, TRAINING))
          .to.emit(gate, "GatedCall")
          .withArgs(processor.address, owner.address, dataId, TRAINING);
      }
    });

    it("closes as soon as the owner revokes, revokes all, or the consent expires", async () => {
      const { registry, owner, processor, gate } = await setup();
      const mask = purposesToMask([TRAINING]);
      const refused = (dataId: string) =>
        expect(gate.connect(processor).gated(owner.address, dataId, TRAINING))
          .to.be.revertedWithCustomError(gate, "ConsentGatedConsentRequired")
          .withArgs(owner.address, processor.address, dataId, TRAINING);

      // revoke
      await registry.connect(owner).grant(processor.address, DATA, mask, NO_EXPIRY, NOTICE);
      await gate.connect(processor).gated(owner.address, DATA, TRAINING);
      await registry.connect(owner).revoke(processor.address, DATA);
      await refused(DATA);

      // revokeAll
      await registry.connect(owner).grant(processor.address, DATA, mask, NO_EXPIRY, NOTICE);
      await gate.connect(processor).gated(owner.address, DATA, TRAINING);
      await registry.connect(owner).revokeAll();
      await refused(DATA);

      // expiry: allowed one second before expiresAt, refused at expiresAt
      const now = 2_000_000_000n;
      await registry.setTime(now);
      await registry.connect(owner).grant(processor.address, DATA, mask, now + 100n, NOTICE);
      await registry.setTime(now + 99n);
      expect(await gate.hasConsent(owner.address, processor.address, DATA, TRAINING)).to.equal(true);
      await registry.setTime(now + 100n);
      await refused(DATA);
    });
  });

  describe("_requireConsent / _hasConsent (any grantee)", () => {
    it("checks the named grantee, not msg.sender", async () => {
      const { registry, owner, processor, stranger, gate } = await setup();
      await registry.connect(owner).grant(processor.address, DATA, purposesToMask([TRAINING]), NO_EXPIRY, NOTICE);

      // A stranger asking about the processor passes; the processor asking about the stranger fails.
      await gate.connect(stranger).requireConsent(owner.address, processor.address, DATA, TRAINING);
      await expect(gate.connect(processor).requireConsent(owner.address, stranger.address, DATA, TRAINING))
        .to.be.revertedWithCustomError(gate, "ConsentGatedConsentRequired")
        .withArgs(owner.address, stranger.address, DATA, TRAINING);

      expect(await gate.hasConsent(owner.address, processor.address, DATA, TRAINING)).to.equal(true);
      expect(await gate.hasConsent(owner.address, stranger.address, DATA, TRAINING)).to.equal(false);
      expect(await gate.hasConsent(owner.address, processor.address, DATA, INFERENCE)).to.equal(false);
    });

    it("never allows a purpose above 127", async () => {
      const { registry, owner, processor, gate } = await setup();
      await registry.connect(owner).grant(processor.address, ALL_DATA, purposesToMask([TRAINING]), NO_EXPIRY, NOTICE);
      for (const purpose of [128, 255]) {
        expect(await gate.hasConsent(owner.address, processor.address, DATA, purpose)).to.equal(false);
        await expect(gate.requireConsent(owner.address, processor.address, DATA, purpose))
          .to.be.revertedWithCustomError(gate, "ConsentGatedConsentRequired")
          .withArgs(owner.address, processor.address, DATA, purpose);
      }
    });
  });

  it("is read-only: a gated call writes nothing to the registry and logs only its own event", async () => {
    const { registry, owner, processor, gate } = await setup();
    await registry.connect(owner).grant(processor.address, DATA, purposesToMask([TRAINING]), NO_EXPIRY, NOTICE);
    const before = await registry.getConsent(owner.address, processor.address, DATA);

    const receipt = await (await gate.connect(processor).gated(owner.address, DATA, TRAINING)).wait();
    const gateAddress = await gate.getAddress();
    expect(receipt?.logs.map((log) => log.address)).to.deep.equal([gateAddress]);
    expect(await registry.getConsent(owner.address, processor.address, DATA)).to.deep.equal(before);
    expect(await registry.epochOf(owner.address)).to.equal(0n);
  });

  it("costs what the NatSpec says: ~8.6k cold hit, ~10.8k cold worst case, ~2.2-2.4k warm", async () => {
    // The production registry, not the harness (whose settable clock adds a storage read).
    const { manager, integrations, accounts } = await setup();
    const [owner, processor, viaAllData] = accounts;
    const registry = await ethers.deployContract("ConsentRegistry", [
      await manager.getAddress(),
      await integrations.getAddress(),
      initialPurposeMetadata(),
    ]);
    const gate = (await ethers.deployContract("ConsentGatedMock", [
      await registry.getAddress(),
    ])) as unknown as ConsentGatedMock;
    const mask = purposesToMask([TRAINING]);
    await registry.connect(owner).grant(processor.address, DATA, mask, NO_EXPIRY, NOTICE);
    await registry.connect(owner).grant(viaAllData.address, ALL_DATA, mask, NO_EXPIRY, NOTICE);

    // Hit on the specific consent; worst case: specific slot empty, then the ALL_DATA consent.
    const [coldHit, warmHit] = await gate.measure(owner.address, processor.address, DATA, TRAINING);
    const [coldWorst, warmWorst] = await gate.measure(owner.address, viaAllData.address, DATA, TRAINING);
    // Bounds, not exact values, so the registry may get cheaper without this test failing.
    // Coverage instruments the bytecode, which changes gas: the numbers hold for real builds only.
    if (!hre.globalOptions.coverage) {
      expect(Number(coldHit)).to.be.closeTo(8_600, 300);
      expect(Number(coldWorst)).to.be.closeTo(10_800, 300);
      expect(Number(warmHit)).to.be.closeTo(2_200, 300);
      expect(Number(warmWorst)).to.be.closeTo(2_400, 300);
      // Cold pays for the registry account and slots; the repeat in the same call is far cheaper.
      expect(Number(warmHit)).to.be.lessThan(Number(coldHit) / 3);
    }
    expect(await gate.hasConsent(owner.address, processor.address, DATA, TRAINING)).to.equal(true);
    expect(await gate.hasConsent(owner.address, viaAllData.address, DATA, TRAINING)).to.equal(true);
  });
});
