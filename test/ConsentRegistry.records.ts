import { expect } from "chai";
import { Wallet, id } from "ethers";
import type { TransactionReceipt } from "ethers";
import { network } from "hardhat";

import { ALL_DATA, NO_EXPIRY } from "../src/sdk/constants.js";
import { consentDomain, signConsent } from "../src/sdk/eip712.js";
import { Purpose } from "../src/sdk/purposes.js";
import type { ConsentRegistryHarness } from "../types/ethers-contracts/index.js";
import { decodeBatchItemFailed, revertDataOf } from "./helpers/errors.js";
import { deploySystem } from "./helpers/fixture.js";

// The issue these tests close: "no data utilized or shared without explicit consent". A use or
// share record is accepted only while the owner's consent covers it, at that block.

const { ethers, networkHelpers } = await network.create();

async function deployFixture() {
  return deploySystem(ethers);
}

const T = 2_000_000_000n;
const D1 = id("asset-1");
const D2 = id("asset-2");
const NOTICE = id("notice-v1");
const EVIDENCE = id("job-42");
const TRAIN = Purpose.MODEL_TRAINING;
const INFER = Purpose.INFERENCE;
const SHARE = Purpose.THIRD_PARTY_SHARING;
const bit = (purpose: number): bigint => 1n << BigInt(purpose);
const INTEGRATION_META = id("integration-dpa-v1");

function eventArgs(registry: ConsentRegistryHarness, receipt: TransactionReceipt | null, name: string): unknown[][] {
  if (receipt === null) throw new Error("no receipt");
  const out: unknown[][] = [];
  for (const log of receipt.logs) {
    const parsed = registry.interface.parseLog(log);
    if (parsed?.name === name) out.push([...parsed.args]);
  }
  return out;
}

async function consentWords(registry: ConsentRegistryHarness, owner: string, keys: [string, string][]) {
  const words = await Promise.all(keys.map(([g, d]) => registry.getConsent(owner, g, d)));
  return {
    epoch: await registry.epochOf(owner),
    consents: words.map((c) => [c.purposes, c.expiresAt, c.epoch, c.active]),
  };
}

describe("ConsentRegistry: enforced use and share records", () => {
  describe("recordUse", () => {
    it("records a covered use with DataUsed and every argument", async () => {
      const { registry, accounts } = await networkHelpers.loadFixture(deployFixture);
      const [owner, processor] = accounts;
      await registry.connect(owner).grant(processor.address, D1, bit(TRAIN), NO_EXPIRY, NOTICE);
      await expect(registry.connect(processor).recordUse(owner.address, D1, TRAIN, EVIDENCE))
        .to.emit(registry, "DataUsed")
        .withArgs(owner.address, processor.address, D1, TRAIN, EVIDENCE);
    });

    it("requires consent: none, wrong purpose, wrong asset, another processor", async () => {
      const { registry, accounts } = await networkHelpers.loadFixture(deployFixture);
      const [owner, processor, other] = accounts;
      await expect(registry.connect(processor).recordUse(owner.address, D1, TRAIN, EVIDENCE))
        .to.be.revertedWithCustomError(registry, "ConsentRegistryConsentRequired")
        .withArgs(owner.address, processor.address, D1, TRAIN);

      await registry.connect(owner).grant(processor.address, D1, bit(TRAIN), NO_EXPIRY, NOTICE);
      await expect(registry.connect(processor).recordUse(owner.address, D1, INFER, EVIDENCE))
        .to.be.revertedWithCustomError(registry, "ConsentRegistryConsentRequired")
        .withArgs(owner.address, processor.address, D1, INFER);
      await expect(registry.connect(processor).recordUse(owner.address, D2, TRAIN, EVIDENCE))
        .to.be.revertedWithCustomError(registry, "ConsentRegistryConsentRequired")
        .withArgs(owner.address, processor.address, D2, TRAIN);
      // The processor is always msg.sender: a consent to someone else does not help.
      await expect(registry.connect(other).recordUse(owner.address, D1, TRAIN, EVIDENCE))
        .to.be.revertedWithCustomError(registry, "ConsentRegistryConsentRequired")
        .withArgs(owner.address, other.address, D1, TRAIN);
    });

    it("requires consent AT expiresAt (one second earlier it works)", async () => {
      const { registry, accounts } = await networkHelpers.loadFixture(deployFixture);
      const [owner, processor] = accounts;
      await registry.setTime(T);
      await registry.connect(owner).grant(processor.address, D1, bit(TRAIN), T + 60n, NOTICE);
      await registry.setTime(T + 59n);
      await expect(registry.connect(processor).recordUse(owner.address, D1, TRAIN, EVIDENCE))
        .to.emit(registry, "DataUsed")
        .withArgs(owner.address, processor.address, D1, TRAIN, EVIDENCE);
      await registry.setTime(T + 60n);
      await expect(registry.connect(processor).recordUse(owner.address, D1, TRAIN, EVIDENCE))
        .to.be.revertedWithCustomError(registry, "ConsentRegistryConsentRequired")
        .withArgs(owner.address, processor.address, D1, TRAIN);
    });

    it("requires consent after revoke and after revokeAll", async () => {
      const { registry, accounts } = await networkHelpers.loadFixture(deployFixture);
      const [owner, processor] = accounts;
      await registry.connect(owner).grant(processor.address, D1, bit(TRAIN), NO_EXPIRY, NOTICE);
      await registry.connect(owner).grant(processor.address, D2, bit(TRAIN), NO_EXPIRY, NOTICE);
      await registry.connect(owner).revoke(processor.address, D1);
      await expect(registry.connect(processor).recordUse(owner.address, D1, TRAIN, EVIDENCE))
        .to.be.revertedWithCustomError(registry, "ConsentRegistryConsentRequired")
        .withArgs(owner.address, processor.address, D1, TRAIN);
      // D2 still works until revokeAll.
      await registry.connect(processor).recordUse(owner.address, D2, TRAIN, EVIDENCE);
      await registry.connect(owner).revokeAll();
      await expect(registry.connect(processor).recordUse(owner.address, D2, TRAIN, EVIDENCE))
        .to.be.revertedWithCustomError(registry, "ConsentRegistryConsentRequired")
        .withArgs(owner.address, processor.address, D2, TRAIN);
    });

    it("requires consent for purposes above 127, whatever the consent holds", async () => {
      const { registry, accounts } = await networkHelpers.loadFixture(deployFixture);
      const [owner, processor] = accounts;
      // Expiry 2^40-1 sets every bit 128..167 of the packed word; all 8 purposes are granted.
      const maxExpiry = (1n << 40n) - 1n;
      await registry.connect(owner).grant(processor.address, D1, 0xffn, maxExpiry, NOTICE);
      await registry.connect(owner).grant(processor.address, ALL_DATA, 0xffn, maxExpiry, NOTICE);
      for (const purpose of [128, 129, 167, 191, 200, 255]) {
        await expect(registry.connect(processor).recordUse(owner.address, D1, purpose, EVIDENCE))
          .to.be.revertedWithCustomError(registry, "ConsentRegistryConsentRequired")
          .withArgs(owner.address, processor.address, D1, purpose);
      }
    });

    it("is covered by an ALL_DATA consent, for any specific asset", async () => {
      const { registry, accounts } = await networkHelpers.loadFixture(deployFixture);
      const [owner, processor] = accounts;
      await registry.connect(owner).grant(processor.address, ALL_DATA, bit(TRAIN), NO_EXPIRY, NOTICE);
      await expect(registry.connect(processor).recordUse(owner.address, D2, TRAIN, EVIDENCE))
        .to.emit(registry, "DataUsed")
        .withArgs(owner.address, processor.address, D2, TRAIN, EVIDENCE);
      // But data id 0 (an unset variable) is never covered.
      await expect(registry.connect(processor).recordUse(owner.address, ethers.ZeroHash, TRAIN, EVIDENCE))
        .to.be.revertedWithCustomError(registry, "ConsentRegistryConsentRequired")
        .withArgs(owner.address, processor.address, ethers.ZeroHash, TRAIN);
    });
  });

  describe("recordShare", () => {
    /** Owner consents to processor and integration for SHARE on D1; admin registers the integration. */
    async function shareFixture() {
      const system = await deploySystem(ethers);
      const { registry, integrations, admin, accounts } = system;
      const [owner, processor, integration, subProcessor] = accounts;
      await registry.connect(owner).grant(processor.address, D1, bit(SHARE), NO_EXPIRY, NOTICE);
      await registry.connect(owner).grant(integration.address, D1, bit(SHARE), NO_EXPIRY, NOTICE);
      await integrations.connect(admin).registerIntegration(integration.address, INTEGRATION_META, bit(SHARE));
      return { ...system, owner, processor, integration, subProcessor };
    }

    it("records a covered share with DataShared and every argument", async () => {
      const { registry, owner, processor, integration } = await networkHelpers.loadFixture(shareFixture);
      await expect(registry.connect(processor).recordShare(owner.address, integration.address, D1, SHARE, EVIDENCE))
        .to.emit(registry, "DataShared")
        .withArgs(owner.address, processor.address, integration.address, D1, SHARE, EVIDENCE);
    });

    it("requires the sender's own consent", async () => {
      const { registry, owner, integration, subProcessor } = await networkHelpers.loadFixture(shareFixture);
      await expect(registry.connect(subProcessor).recordShare(owner.address, integration.address, D1, SHARE, EVIDENCE))
        .to.be.revertedWithCustomError(registry, "ConsentRegistryConsentRequired")
        .withArgs(owner.address, subProcessor.address, D1, SHARE);
    });

    it("requires the recipient's own consent, even for a registered integration", async () => {
      const { registry, integrations, admin, owner, processor, subProcessor } =
        await networkHelpers.loadFixture(shareFixture);
      await integrations.connect(admin).registerIntegration(subProcessor.address, INTEGRATION_META, bit(SHARE));
      await expect(registry.connect(processor).recordShare(owner.address, subProcessor.address, D1, SHARE, EVIDENCE))
        .to.be.revertedWithCustomError(registry, "ConsentRegistryConsentRequired")
        .withArgs(owner.address, subProcessor.address, D1, SHARE);
    });

    it("requires the recipient to be a registered integration for that purpose", async () => {
      const { registry, integrations, admin, owner, processor, subProcessor } =
        await networkHelpers.loadFixture(shareFixture);
      // subProcessor holds consent for SHARE and INFER but is not registered.
      await registry.connect(owner).grant(subProcessor.address, D1, bit(SHARE) | bit(INFER), NO_EXPIRY, NOTICE);
      await registry.connect(owner).grant(processor.address, D1, bit(SHARE) | bit(INFER), NO_EXPIRY, NOTICE);
      await expect(registry.connect(processor).recordShare(owner.address, subProcessor.address, D1, SHARE, EVIDENCE))
        .to.be.revertedWithCustomError(registry, "ConsentRegistryIntegrationNotActive")
        .withArgs(subProcessor.address, SHARE);
      // Registered, but only for SHARE: an INFER share is refused.
      await integrations.connect(admin).registerIntegration(subProcessor.address, INTEGRATION_META, bit(SHARE));
      await expect(registry.connect(processor).recordShare(owner.address, subProcessor.address, D1, INFER, EVIDENCE))
        .to.be.revertedWithCustomError(registry, "ConsentRegistryIntegrationNotActive")
        .withArgs(subProcessor.address, INFER);
      await expect(registry.connect(processor).recordShare(owner.address, subProcessor.address, D1, SHARE, EVIDENCE))
        .to.emit(registry, "DataShared")
        .withArgs(owner.address, processor.address, subProcessor.address, D1, SHARE, EVIDENCE);
    });

    it("a suspended integration receives nothing, works again after reinstatement, and no consent changed", async () => {
      const { registry, integrations, admin, owner, processor, integration } =
        await networkHelpers.loadFixture(shareFixture);
      const keys: [string, string][] = [
        [processor.address, D1],
        [integration.address, D1],
      ];
      const before = await consentWords(registry, owner.address, keys);

      await integrations.connect(admin).suspendIntegration(integration.address);
      await expect(registry.connect(processor).recordShare(owner.address, integration.address, D1, SHARE, EVIDENCE))
        .to.be.revertedWithCustomError(registry, "ConsentRegistryIntegrationNotActive")
        .withArgs(integration.address, SHARE);
      expect(await consentWords(registry, owner.address, keys)).to.deep.equal(before);
      // The integration's consent is still active: suspension gates shares, not consent.
      expect(await registry.isAllowed(owner.address, integration.address, D1, SHARE)).to.equal(true);

      await integrations.connect(admin).reinstateIntegration(integration.address);
      await expect(registry.connect(processor).recordShare(owner.address, integration.address, D1, SHARE, EVIDENCE))
        .to.emit(registry, "DataShared")
        .withArgs(owner.address, processor.address, integration.address, D1, SHARE, EVIDENCE);
      expect(await consentWords(registry, owner.address, keys)).to.deep.equal(before);
    });

    it("a processor → sub-processor → sub-sub-processor chain needs consent at every hop", async () => {
      const { registry, integrations, admin, accounts, owner, processor } =
        await networkHelpers.loadFixture(shareFixture);
      const [sub, subSub] = [accounts[4], accounts[5]];
      for (const hop of [sub, subSub]) {
        await integrations.connect(admin).registerIntegration(hop.address, INTEGRATION_META, bit(SHARE));
      }
      await registry.connect(owner).grant(sub.address, D1, bit(SHARE), NO_EXPIRY, NOTICE);

      // Hop 1 is covered; hop 2 is not (no consent for subSub).
      await expect(registry.connect(processor).recordShare(owner.address, sub.address, D1, SHARE, EVIDENCE))
        .to.emit(registry, "DataShared")
        .withArgs(owner.address, processor.address, sub.address, D1, SHARE, EVIDENCE);
      await expect(registry.connect(sub).recordShare(owner.address, subSub.address, D1, SHARE, EVIDENCE))
        .to.be.revertedWithCustomError(registry, "ConsentRegistryConsentRequired")
        .withArgs(owner.address, subSub.address, D1, SHARE);

      await registry.connect(owner).grant(subSub.address, D1, bit(SHARE), NO_EXPIRY, NOTICE);
      await expect(registry.connect(sub).recordShare(owner.address, subSub.address, D1, SHARE, EVIDENCE))
        .to.emit(registry, "DataShared")
        .withArgs(owner.address, sub.address, subSub.address, D1, SHARE, EVIDENCE);

      // Withdrawing the middle hop breaks both the hop into it and the hop out of it.
      await registry.connect(owner).revoke(sub.address, D1);
      await expect(registry.connect(processor).recordShare(owner.address, sub.address, D1, SHARE, EVIDENCE))
        .to.be.revertedWithCustomError(registry, "ConsentRegistryConsentRequired")
        .withArgs(owner.address, sub.address, D1, SHARE);
      await expect(registry.connect(sub).recordShare(owner.address, subSub.address, D1, SHARE, EVIDENCE))
        .to.be.revertedWithCustomError(registry, "ConsentRegistryConsentRequired")
        .withArgs(owner.address, sub.address, D1, SHARE);
    });
  });

  describe("recordUseBatch / recordShareBatch", () => {
    it("reject an empty batch", async () => {
      const { registry, accounts } = await networkHelpers.loadFixture(deployFixture);
      await expect(registry.connect(accounts[1]).recordUseBatch([])).to.be.revertedWithCustomError(
        registry,
        "ConsentRegistryEmptyBatch",
      );
      await expect(registry.connect(accounts[1]).recordShareBatch([])).to.be.revertedWithCustomError(
        registry,
        "ConsentRegistryEmptyBatch",
      );
    });

    it("recordUseBatch names the first uncovered record and records nothing", async () => {
      const { registry, accounts } = await networkHelpers.loadFixture(deployFixture);
      const [owner, processor] = accounts;
      await registry.connect(owner).grant(processor.address, D1, bit(TRAIN), NO_EXPIRY, NOTICE);
      const records = [
        { owner: owner.address, dataId: D1, purpose: TRAIN, evidence: EVIDENCE },
        { owner: owner.address, dataId: D1, purpose: INFER, evidence: EVIDENCE },
        { owner: owner.address, dataId: D2, purpose: TRAIN, evidence: EVIDENCE },
      ];
      const inner = registry.interface.encodeErrorResult("ConsentRegistryConsentRequired", [
        owner.address,
        processor.address,
        D1,
        INFER,
      ]);
      await expect(registry.connect(processor).recordUseBatch(records))
        .to.be.revertedWithCustomError(registry, "ConsentRegistryBatchItemFailed")
        .withArgs(1n, inner);
      const data = await revertDataOf(() => registry.connect(processor).recordUseBatch.staticCall(records));
      expect(decodeBatchItemFailed(registry.interface, data)).to.deep.equal({
        index: 1n,
        reason: {
          name: "ConsentRegistryConsentRequired",
          args: [owner.address, processor.address, D1, BigInt(INFER)],
        },
      });
      expect(await registry.queryFilter(registry.filters.DataUsed(owner.address))).to.have.length(0);
    });

    it("recordShareBatch names the first failing record: a missing consent or an inactive integration", async () => {
      const { registry, integrations, admin, accounts } = await networkHelpers.loadFixture(deployFixture);
      const [owner, processor, integration, unregistered] = accounts;
      for (const g of [processor, integration, unregistered]) {
        await registry.connect(owner).grant(g.address, D1, bit(SHARE), NO_EXPIRY, NOTICE);
      }
      await integrations.connect(admin).registerIntegration(integration.address, INTEGRATION_META, bit(SHARE));
      const ok = { owner: owner.address, to: integration.address, dataId: D1, purpose: SHARE, evidence: EVIDENCE };
      const inactive = { ...ok, to: unregistered.address };
      const uncovered = { ...ok, dataId: D2 };

      const data = await revertDataOf(() =>
        registry.connect(processor).recordShareBatch.staticCall([ok, ok, inactive, uncovered]),
      );
      expect(decodeBatchItemFailed(registry.interface, data)).to.deep.equal({
        index: 2n,
        reason: { name: "ConsentRegistryIntegrationNotActive", args: [unregistered.address, BigInt(SHARE)] },
      });
      await expect(registry.connect(processor).recordShareBatch([ok, uncovered, inactive]))
        .to.be.revertedWithCustomError(registry, "ConsentRegistryBatchItemFailed")
        .withArgs(
          1n,
          registry.interface.encodeErrorResult("ConsentRegistryConsentRequired", [
            owner.address,
            processor.address,
            D2,
            SHARE,
          ]),
        );
      expect(await registry.queryFilter(registry.filters.DataShared(owner.address))).to.have.length(0);
    });

    it("20 records for 20 different owners succeed and emit 20 events in order", async () => {
      const { registry, integrations, admin, accounts } = await networkHelpers.loadFixture(deployFixture);
      const [processor, integration, relayer] = accounts;
      await integrations.connect(admin).registerIntegration(integration.address, INTEGRATION_META, bit(SHARE));

      // 20 owners who never hold ether: they sign, a relayer submits (one tx for all 40 grants).
      const owners = Array.from({ length: 20 }, (_, i) => new Wallet(id(`owner-${i}`)));
      const { chainId } = await ethers.provider.getNetwork();
      const domain = consentDomain(chainId, await registry.getAddress());
      const signed = [];
      for (const [i, o] of owners.entries()) {
        for (const grantee of [processor.address, integration.address]) {
          signed.push(
            await signConsent("Grant", o, domain, {
              owner: o.address,
              grantee,
              dataId: id(`asset-of-${i}`),
              purposes: bit(TRAIN) | bit(SHARE),
              expiresAt: NO_EXPIRY,
              noticeHash: NOTICE,
              // Two different keys of the owner: each is at version 0, so each signs version 1.
              epoch: 0n,
              version: 1n,
              deadline: T * 2n,
            }),
          );
        }
      }
      await registry.connect(relayer).grantBySigBatch(signed);

      const uses = owners.map((o, i) => ({
        owner: o.address,
        dataId: id(`asset-of-${i}`),
        purpose: TRAIN,
        evidence: id(`job-${i}`),
      }));
      const useReceipt = await (await registry.connect(processor).recordUseBatch(uses)).wait();
      expect(eventArgs(registry, useReceipt, "DataUsed")).to.deep.equal(
        uses.map((u) => [u.owner, processor.address, u.dataId, BigInt(u.purpose), u.evidence]),
      );

      const shares = uses.map((u) => ({ ...u, to: integration.address, purpose: SHARE }));
      const shareReceipt = await (await registry.connect(processor).recordShareBatch(shares)).wait();
      expect(eventArgs(registry, shareReceipt, "DataShared")).to.deep.equal(
        shares.map((s) => [s.owner, processor.address, integration.address, s.dataId, BigInt(s.purpose), s.evidence]),
      );
    });
  });
});
