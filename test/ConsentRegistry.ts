import { expect } from "chai";
import { TypedDataEncoder, ZeroAddress, ZeroHash, id } from "ethers";
import type { ContractTransactionResponse, TransactionReceipt } from "ethers";
import { network } from "hardhat";

import { ALL_DATA, MAX_EXPIRY, MAX_PURPOSE_ID, NO_EXPIRY, REGISTRY_VERSION, Via } from "../src/sdk/constants.js";
import { consentDomain } from "../src/sdk/eip712.js";
import { Purpose } from "../src/sdk/purposes.js";
import type { ConsentRegistryHarness } from "../types/ethers-contracts/index.js";
import { decodeBatchItemFailed, revertDataOf } from "./helpers/errors.js";
import { deploySystem } from "./helpers/fixture.js";

const { ethers, networkHelpers } = await network.create();

async function deployFixture() {
  return deploySystem(ethers);
}

/** A fixed harness time far from the real block time, so every boundary is exact. */
const T = 2_000_000_000n;
const D1 = id("asset-1");
const D2 = id("asset-2");
const NOTICE = id("notice-v1");
const MAX_UINT64 = (1n << 64n) - 1n;
/** The first version of generation `n` (what the n-th transaction change of a key sets). */
const GEN = (n: bigint): bigint => n << 16n;

const bit = (purpose: number): bigint => 1n << BigInt(purpose);
const TRAIN = Purpose.MODEL_TRAINING;
const INFER = Purpose.INFERENCE;
const RESEARCH = Purpose.RESEARCH;

interface ConsentView {
  purposes: bigint;
  expiresAt: bigint;
  epoch: bigint;
  version: bigint;
  active: boolean;
}

async function consentOf(
  registry: ConsentRegistryHarness,
  owner: string,
  grantee: string,
  dataId: string,
): Promise<ConsentView> {
  const c = await registry.getConsent(owner, grantee, dataId);
  return { purposes: c.purposes, expiresAt: c.expiresAt, epoch: c.epoch, version: c.version, active: c.active };
}

const EMPTY: ConsentView = { purposes: 0n, expiresAt: 0n, epoch: 0n, version: 0n, active: false };
/** A key that was revoked after `n` transaction changes: only its version is kept. */
const REVOKED = (n: bigint): ConsentView => ({ ...EMPTY, version: GEN(n) });

/** The decoded args of every `name` event of `registry` in the receipt, in log order. */
function eventArgs(registry: ConsentRegistryHarness, receipt: TransactionReceipt | null, name: string): unknown[][] {
  if (receipt === null) throw new Error("no receipt");
  const out: unknown[][] = [];
  for (const log of receipt.logs) {
    const parsed = registry.interface.parseLog(log);
    if (parsed?.name === name) out.push([...parsed.args]);
  }
  return out;
}

async function receiptOf(tx: Promise<ContractTransactionResponse>): Promise<TransactionReceipt> {
  const receipt = await (await tx).wait();
  if (receipt === null) throw new Error("no receipt");
  return receipt;
}

describe("ConsentRegistry (core)", () => {
  describe("grant", () => {
    it("stores the consent and emits ConsentGranted with every argument", async () => {
      const { registry, accounts } = await networkHelpers.loadFixture(deployFixture);
      const [owner, grantee] = accounts;
      await registry.setTime(T);
      const purposes = bit(TRAIN) | bit(INFER);
      await expect(registry.connect(owner).grant(grantee.address, D1, purposes, T + 1000n, NOTICE))
        .to.emit(registry, "ConsentGranted")
        .withArgs(owner.address, grantee.address, D1, purposes, T + 1000n, NOTICE, owner.address, GEN(1n));
      expect(await consentOf(registry, owner.address, grantee.address, D1)).to.deep.equal({
        purposes,
        expiresAt: T + 1000n,
        epoch: 0n,
        version: GEN(1n),
        active: true,
      });
      expect(await registry.activePurposes(owner.address, grantee.address, D1)).to.equal(purposes);
      // The key is exact: another grantee or asset holds nothing.
      expect(await consentOf(registry, owner.address, accounts[2].address, D1)).to.deep.equal(EMPTY);
      expect(await consentOf(registry, owner.address, grantee.address, D2)).to.deep.equal(EMPTY);
    });

    it("a re-grant replaces purposes and expiry and starts the key's next generation", async () => {
      const { registry, accounts } = await networkHelpers.loadFixture(deployFixture);
      const [owner, grantee] = accounts;
      await registry.setTime(T);
      await registry.connect(owner).grant(grantee.address, D1, bit(TRAIN) | bit(INFER), T + 1000n, NOTICE);
      await expect(registry.connect(owner).grant(grantee.address, D1, bit(RESEARCH), NO_EXPIRY, NOTICE))
        .to.emit(registry, "ConsentGranted")
        .withArgs(owner.address, grantee.address, D1, bit(RESEARCH), 0n, NOTICE, owner.address, GEN(2n));
      expect(await consentOf(registry, owner.address, grantee.address, D1)).to.deep.equal({
        purposes: bit(RESEARCH),
        expiresAt: 0n,
        epoch: 0n,
        version: GEN(2n),
        active: true,
      });
      expect(await registry.isAllowed(owner.address, grantee.address, D1, TRAIN)).to.equal(false);
      expect(await registry.isAllowed(owner.address, grantee.address, D1, RESEARCH)).to.equal(true);
    });

    it("rejects a zero grantee, a zero data id and empty purposes", async () => {
      const { registry, accounts } = await networkHelpers.loadFixture(deployFixture);
      const [owner, grantee] = accounts;
      await expect(
        registry.connect(owner).grant(ZeroAddress, D1, bit(TRAIN), NO_EXPIRY, NOTICE),
      ).to.be.revertedWithCustomError(registry, "ConsentRegistryZeroGrantee");
      await expect(
        registry.connect(owner).grant(grantee.address, ZeroHash, bit(TRAIN), NO_EXPIRY, NOTICE),
      ).to.be.revertedWithCustomError(registry, "ConsentRegistryZeroDataId");
      await expect(
        registry.connect(owner).grant(grantee.address, D1, 0n, NO_EXPIRY, NOTICE),
      ).to.be.revertedWithCustomError(registry, "ConsentRegistryEmptyPurposes");
    });

    it("rejects undefined purposes (bit 8, bit 127) naming exactly the bad bits", async () => {
      const { registry, accounts } = await networkHelpers.loadFixture(deployFixture);
      const [owner, grantee] = accounts;
      const purposes = bit(TRAIN) | bit(8) | bit(MAX_PURPOSE_ID);
      await expect(registry.connect(owner).grant(grantee.address, D1, purposes, NO_EXPIRY, NOTICE))
        .to.be.revertedWithCustomError(registry, "ConsentRegistryPurposeNotGrantable")
        .withArgs(purposes, bit(8) | bit(MAX_PURPOSE_ID));
    });

    it("rejects a purpose deprecated by governance", async () => {
      const { registry, accounts, admin } = await networkHelpers.loadFixture(deployFixture);
      const [owner, grantee] = accounts;
      await registry.connect(admin).deprecatePurpose(RESEARCH);
      await expect(registry.connect(owner).grant(grantee.address, D1, bit(TRAIN) | bit(RESEARCH), NO_EXPIRY, NOTICE))
        .to.be.revertedWithCustomError(registry, "ConsentRegistryPurposeNotGrantable")
        .withArgs(bit(TRAIN) | bit(RESEARCH), bit(RESEARCH));
      // The purposes still grantable work.
      await registry.connect(owner).grant(grantee.address, D1, bit(TRAIN), NO_EXPIRY, NOTICE);
      expect(await registry.activePurposes(owner.address, grantee.address, D1)).to.equal(bit(TRAIN));
    });

    describe("narrowing after a deprecation", () => {
      /** A consent for {TRAIN, INFER, SHARE} until T + 1000, then governance deprecates INFER. */
      async function narrowingFixture() {
        const system = await deploySystem(ethers);
        const [owner, grantee] = system.accounts;
        await system.registry.setTime(T);
        const held = bit(TRAIN) | bit(INFER) | bit(Purpose.THIRD_PARTY_SHARING);
        await system.registry.connect(owner).grant(grantee.address, D1, held, T + 1000n, NOTICE);
        await system.registry.connect(system.admin).deprecatePurpose(INFER);
        return { ...system, owner, grantee, held };
      }

      it("keeping a deprecated purpose works when dropping others or shortening the expiry", async () => {
        const { registry, owner, grantee } = await networkHelpers.loadFixture(narrowingFixture);
        // Only the deprecated purpose, same expiry.
        await expect(registry.connect(owner).grant(grantee.address, D1, bit(INFER), T + 1000n, NOTICE))
          .to.emit(registry, "ConsentGranted")
          .withArgs(owner.address, grantee.address, D1, bit(INFER), T + 1000n, NOTICE, owner.address, GEN(2n));
        // A shorter expiry.
        await registry.connect(owner).grant(grantee.address, D1, bit(INFER), T + 10n, NOTICE);
        expect(await consentOf(registry, owner.address, grantee.address, D1)).to.deep.equal({
          purposes: bit(INFER),
          expiresAt: T + 10n,
          epoch: 0n,
          version: GEN(3n),
          active: true,
        });
      });

      it("a grantable purpose may be added beside a kept deprecated one (its expiry not later)", async () => {
        const { registry, owner, grantee } = await networkHelpers.loadFixture(narrowingFixture);
        await registry.connect(owner).grant(grantee.address, D1, bit(INFER) | bit(RESEARCH), T + 1000n, NOTICE);
        expect(await registry.activePurposes(owner.address, grantee.address, D1)).to.equal(bit(INFER) | bit(RESEARCH));
      });

      it("a later expiry, NO_EXPIRY, an expired or revoked consent, or another key keeps nothing deprecated", async () => {
        const { registry, owner, grantee, accounts } = await networkHelpers.loadFixture(narrowingFixture);
        for (const expiresAt of [T + 1001n, NO_EXPIRY]) {
          await expect(registry.connect(owner).grant(grantee.address, D1, bit(INFER), expiresAt, NOTICE))
            .to.be.revertedWithCustomError(registry, "ConsentRegistryPurposeNotGrantable")
            .withArgs(bit(INFER), bit(INFER));
        }
        // Another key (same owner, another asset or grantee) never held it.
        await expect(registry.connect(owner).grant(grantee.address, D2, bit(INFER), T + 10n, NOTICE))
          .to.be.revertedWithCustomError(registry, "ConsentRegistryPurposeNotGrantable")
          .withArgs(bit(INFER), bit(INFER));
        await expect(registry.connect(owner).grant(accounts[2].address, D1, bit(INFER), T + 10n, NOTICE))
          .to.be.revertedWithCustomError(registry, "ConsentRegistryPurposeNotGrantable")
          .withArgs(bit(INFER), bit(INFER));
        // Once the consent has expired it is no longer held.
        await registry.setTime(T + 1000n);
        await expect(registry.connect(owner).grant(grantee.address, D1, bit(INFER), T + 1001n, NOTICE))
          .to.be.revertedWithCustomError(registry, "ConsentRegistryPurposeNotGrantable")
          .withArgs(bit(INFER), bit(INFER));
      });

      it("after a revoke or a lockdown the deprecated purpose cannot come back", async () => {
        const { registry, owner, grantee } = await networkHelpers.loadFixture(narrowingFixture);
        await registry.connect(owner).revokeAll();
        await expect(registry.connect(owner).grant(grantee.address, D1, bit(INFER), T + 10n, NOTICE))
          .to.be.revertedWithCustomError(registry, "ConsentRegistryPurposeNotGrantable")
          .withArgs(bit(INFER), bit(INFER));
        const again = await networkHelpers.loadFixture(narrowingFixture);
        await again.registry.connect(again.owner).revoke(again.grantee.address, D1);
        await expect(again.registry.connect(again.owner).grant(again.grantee.address, D1, bit(INFER), T + 10n, NOTICE))
          .to.be.revertedWithCustomError(again.registry, "ConsentRegistryPurposeNotGrantable")
          .withArgs(bit(INFER), bit(INFER));
      });

      it("a manager narrows the same way", async () => {
        const { registry, owner, grantee, accounts } = await networkHelpers.loadFixture(narrowingFixture);
        const manager = accounts[3];
        await registry.connect(owner).setManager(manager.address, true);
        await registry.connect(manager).grantFor(owner.address, grantee.address, D1, bit(INFER), T + 500n, NOTICE);
        expect(await consentOf(registry, owner.address, grantee.address, D1)).to.deep.equal({
          purposes: bit(INFER),
          expiresAt: T + 500n,
          epoch: 0n,
          version: GEN(2n),
          active: true,
        });
      });
    });

    it("rejects an expiry before now and AT now", async () => {
      const { registry, accounts } = await networkHelpers.loadFixture(deployFixture);
      const [owner, grantee] = accounts;
      await registry.setTime(T);
      await expect(registry.connect(owner).grant(grantee.address, D1, bit(TRAIN), T - 1n, NOTICE))
        .to.be.revertedWithCustomError(registry, "ConsentRegistryExpiryInPast")
        .withArgs(T - 1n, T);
      await expect(registry.connect(owner).grant(grantee.address, D1, bit(TRAIN), T, NOTICE))
        .to.be.revertedWithCustomError(registry, "ConsentRegistryExpiryInPast")
        .withArgs(T, T);
      // One second later is the first valid expiry.
      await registry.connect(owner).grant(grantee.address, D1, bit(TRAIN), T + 1n, NOTICE);
      expect((await consentOf(registry, owner.address, grantee.address, D1)).active).to.equal(true);
    });
  });

  describe("expiry boundaries (harness clock)", () => {
    it("active at expiresAt - 1, inactive AT expiresAt and after; every read path agrees", async () => {
      const { registry, accounts } = await networkHelpers.loadFixture(deployFixture);
      const [owner, grantee] = accounts;
      await registry.setTime(T);
      const expiresAt = T + 100n;
      await registry.connect(owner).grant(grantee.address, D1, bit(TRAIN), expiresAt, NOTICE);
      const cases: [bigint, boolean][] = [
        [expiresAt - 1n, true],
        [expiresAt, false],
        [expiresAt + 1n, false],
        [expiresAt + 86_400n * 365n, false],
      ];
      for (const [now, active] of cases) {
        await registry.setTime(now);
        expect(await registry.isAllowed(owner.address, grantee.address, D1, TRAIN), `isAllowed at ${now}`).to.equal(
          active,
        );
        expect(await consentOf(registry, owner.address, grantee.address, D1), `getConsent at ${now}`).to.deep.equal({
          purposes: bit(TRAIN),
          expiresAt,
          epoch: 0n,
          version: GEN(1n),
          active,
        });
        expect(await registry.activePurposes(owner.address, grantee.address, D1), `activePurposes at ${now}`).to.equal(
          active ? bit(TRAIN) : 0n,
        );
      }
    });

    it("NO_EXPIRY never expires", async () => {
      const { registry, accounts } = await networkHelpers.loadFixture(deployFixture);
      const [owner, grantee] = accounts;
      await registry.setTime(T);
      await registry.connect(owner).grant(grantee.address, D1, bit(TRAIN), NO_EXPIRY, NOTICE);
      for (const now of [T + 1n, T + 10n ** 9n, MAX_UINT64]) {
        await registry.setTime(now);
        expect(await registry.isAllowed(owner.address, grantee.address, D1, TRAIN)).to.equal(true);
        expect((await consentOf(registry, owner.address, grantee.address, D1)).active).to.equal(true);
        expect(await registry.activePurposes(owner.address, grantee.address, D1)).to.equal(bit(TRAIN));
      }
    });
  });

  describe("ALL_DATA fallback", () => {
    it("a check for a specific asset honours an all-data consent when the specific one is missing", async () => {
      const { registry, accounts } = await networkHelpers.loadFixture(deployFixture);
      const [owner, grantee] = accounts;
      await registry.connect(owner).grant(grantee.address, ALL_DATA, bit(TRAIN), NO_EXPIRY, NOTICE);
      expect(await registry.isAllowed(owner.address, grantee.address, D1, TRAIN)).to.equal(true);
      expect(await registry.isAllowed(owner.address, grantee.address, D2, TRAIN)).to.equal(true);
      expect(await registry.isAllowed(owner.address, grantee.address, D1, INFER)).to.equal(false);
      // Another grantee of the same owner gets nothing from it.
      expect(await registry.isAllowed(owner.address, accounts[2].address, D1, TRAIN)).to.equal(false);
      // getConsent is exact-key: no fallback there.
      expect(await consentOf(registry, owner.address, grantee.address, D1)).to.deep.equal(EMPTY);
    });

    it("falls back when the specific consent lacks the purpose", async () => {
      const { registry, accounts } = await networkHelpers.loadFixture(deployFixture);
      const [owner, grantee] = accounts;
      await registry.connect(owner).grant(grantee.address, D1, bit(INFER), NO_EXPIRY, NOTICE);
      expect(await registry.isAllowed(owner.address, grantee.address, D1, TRAIN)).to.equal(false);
      await registry.connect(owner).grant(grantee.address, ALL_DATA, bit(TRAIN), NO_EXPIRY, NOTICE);
      expect(await registry.isAllowed(owner.address, grantee.address, D1, TRAIN)).to.equal(true);
      expect(await registry.isAllowed(owner.address, grantee.address, D1, INFER)).to.equal(true);
    });

    it("falls back when the specific consent expired", async () => {
      const { registry, accounts } = await networkHelpers.loadFixture(deployFixture);
      const [owner, grantee] = accounts;
      await registry.setTime(T);
      await registry.connect(owner).grant(grantee.address, D1, bit(TRAIN), T + 10n, NOTICE);
      await registry.connect(owner).grant(grantee.address, ALL_DATA, bit(TRAIN), T + 20n, NOTICE);
      await registry.setTime(T + 10n);
      expect((await consentOf(registry, owner.address, grantee.address, D1)).active).to.equal(false);
      expect(await registry.isAllowed(owner.address, grantee.address, D1, TRAIN)).to.equal(true);
      await registry.setTime(T + 20n);
      expect(await registry.isAllowed(owner.address, grantee.address, D1, TRAIN)).to.equal(false);
    });

    it("falls back from a specific consent of an old epoch to an all-data consent granted after revokeAll", async () => {
      const { registry, accounts } = await networkHelpers.loadFixture(deployFixture);
      const [owner, grantee] = accounts;
      await registry.connect(owner).grant(grantee.address, D1, bit(TRAIN), NO_EXPIRY, NOTICE);
      await registry.connect(owner).revokeAll();
      expect(await registry.isAllowed(owner.address, grantee.address, D1, TRAIN)).to.equal(false);
      await registry.connect(owner).grant(grantee.address, ALL_DATA, bit(TRAIN), NO_EXPIRY, NOTICE);
      expect(await registry.isAllowed(owner.address, grantee.address, D1, TRAIN)).to.equal(true);
      expect(await consentOf(registry, owner.address, grantee.address, D1)).to.deep.equal({
        purposes: bit(TRAIN),
        expiresAt: 0n,
        epoch: 0n,
        version: GEN(1n),
        active: false,
      });
      expect(await consentOf(registry, owner.address, grantee.address, ALL_DATA)).to.deep.equal({
        purposes: bit(TRAIN),
        expiresAt: 0n,
        epoch: 1n,
        version: GEN(1n),
        active: true,
      });
    });

    it("isAllowed(…, ALL_DATA, …) only looks at the all-data consent", async () => {
      const { registry, accounts } = await networkHelpers.loadFixture(deployFixture);
      const [owner, grantee] = accounts;
      await registry.connect(owner).grant(grantee.address, D1, bit(TRAIN), NO_EXPIRY, NOTICE);
      expect(await registry.isAllowed(owner.address, grantee.address, ALL_DATA, TRAIN)).to.equal(false);
      await registry.connect(owner).grant(grantee.address, ALL_DATA, bit(INFER), NO_EXPIRY, NOTICE);
      expect(await registry.isAllowed(owner.address, grantee.address, ALL_DATA, TRAIN)).to.equal(false);
      expect(await registry.isAllowed(owner.address, grantee.address, ALL_DATA, INFER)).to.equal(true);
    });

    it("data id 0 is never allowed, not even under an all-data consent", async () => {
      const { registry, accounts } = await networkHelpers.loadFixture(deployFixture);
      const [owner, grantee] = accounts;
      expect(await registry.isAllowed(owner.address, grantee.address, ZeroHash, TRAIN)).to.equal(false);
      await registry.connect(owner).grant(grantee.address, ALL_DATA, bit(TRAIN), NO_EXPIRY, NOTICE);
      expect(await registry.isAllowed(owner.address, grantee.address, ZeroHash, TRAIN)).to.equal(false);
    });
  });

  describe("purposes above 127", () => {
    it("are never allowed, even where the word's expiry, epoch and version bits are set", async () => {
      const { registry, accounts } = await networkHelpers.loadFixture(deployFixture);
      const [owner, grantee] = accounts;
      // Epoch 7 sets word bits 168..170; expiry 2^40-1 sets every bit 128..167; three grants of
      // the key (generation 3) set version bits 216..217.
      for (let i = 0; i < 7; i++) await registry.connect(owner).revokeAll();
      const purposes = (1n << 8n) - 1n;
      for (let i = 0; i < 3; i++) {
        await registry.connect(owner).grant(grantee.address, D1, purposes, MAX_EXPIRY, NOTICE);
      }
      await registry.connect(owner).grant(grantee.address, ALL_DATA, purposes, MAX_EXPIRY, NOTICE);
      const stored = await consentOf(registry, owner.address, grantee.address, D1);
      expect(stored).to.deep.equal({ purposes, expiresAt: MAX_EXPIRY, epoch: 7n, version: GEN(3n), active: true });

      // The packed word as ConsentSlot lays it out: a naive `word >> purpose & 1` would say yes here.
      const word = purposes | (MAX_EXPIRY << 128n) | (7n << 168n) | (GEN(3n) << 200n);
      const naivelyAllowed = Array.from({ length: 128 }, (_, i) => 128 + i).filter((p) => (word >> BigInt(p)) & 1n);
      expect(naivelyAllowed).to.have.length(40 + 3 + 2);

      const probes: Promise<boolean>[] = [];
      for (let p = 128; p <= 255; p++) {
        probes.push(registry.isAllowed(owner.address, grantee.address, D1, p));
        probes.push(registry.isAllowed(owner.address, grantee.address, ALL_DATA, p));
      }
      expect(await Promise.all(probes)).to.deep.equal(new Array<boolean>(256).fill(false));
      // While every real purpose of the same consents is allowed.
      for (let p = 0; p < 8; p++)
        expect(await registry.isAllowed(owner.address, grantee.address, D1, p)).to.equal(true);
    });

    it("the top valid id, 127, is grantable once defined and allowed (a `>=` bound would refuse it)", async () => {
      const { registry, accounts, admin } = await networkHelpers.loadFixture(deployFixture);
      const [owner, grantee] = accounts;
      await registry.connect(admin).definePurpose(MAX_PURPOSE_ID, id("purpose-127"));
      await registry.connect(owner).grant(grantee.address, D1, bit(MAX_PURPOSE_ID), NO_EXPIRY, NOTICE);
      expect(await registry.isAllowed(owner.address, grantee.address, D1, MAX_PURPOSE_ID)).to.equal(true);
      expect(await registry.activePurposes(owner.address, grantee.address, D1)).to.equal(bit(MAX_PURPOSE_ID));
      await registry.connect(owner).grant(grantee.address, ALL_DATA, bit(MAX_PURPOSE_ID), NO_EXPIRY, NOTICE);
      expect(await registry.isAllowed(owner.address, grantee.address, D2, MAX_PURPOSE_ID)).to.equal(true);
      expect(await registry.isAllowed(owner.address, grantee.address, D1, MAX_PURPOSE_ID + 1)).to.equal(false);
    });
  });

  describe("revoke", () => {
    it("clears the consent, keeps the next version and emits ConsentRevoked with every argument", async () => {
      const { registry, accounts } = await networkHelpers.loadFixture(deployFixture);
      const [owner, grantee] = accounts;
      await registry.connect(owner).grant(grantee.address, D1, bit(TRAIN), NO_EXPIRY, NOTICE);
      await registry.connect(owner).grant(grantee.address, D2, bit(TRAIN), NO_EXPIRY, NOTICE);
      await expect(registry.connect(owner).revoke(grantee.address, D1))
        .to.emit(registry, "ConsentRevoked")
        .withArgs(owner.address, grantee.address, D1, owner.address, GEN(2n));
      expect(await consentOf(registry, owner.address, grantee.address, D1)).to.deep.equal(REVOKED(2n));
      expect(await registry.isAllowed(owner.address, grantee.address, D1, TRAIN)).to.equal(false);
      // Only that key.
      expect((await consentOf(registry, owner.address, grantee.address, D2)).active).to.equal(true);
    });

    it("always succeeds for a valid key, live or not, and moves its version on every time", async () => {
      const { registry, accounts } = await networkHelpers.loadFixture(deployFixture);
      const [owner, grantee] = accounts;
      // Never granted: the revoke still records the owner's word (and voids signatures for it).
      await expect(registry.connect(owner).revoke(grantee.address, D1))
        .to.emit(registry, "ConsentRevoked")
        .withArgs(owner.address, grantee.address, D1, owner.address, GEN(1n));
      expect(await consentOf(registry, owner.address, grantee.address, D1)).to.deep.equal(REVOKED(1n));

      // Already revoked.
      await expect(registry.connect(owner).revoke(grantee.address, D1))
        .to.emit(registry, "ConsentRevoked")
        .withArgs(owner.address, grantee.address, D1, owner.address, GEN(2n));

      // Granted only in an older epoch.
      await registry.connect(owner).grant(grantee.address, D2, bit(TRAIN), NO_EXPIRY, NOTICE);
      await registry.connect(owner).revokeAll();
      await expect(registry.connect(owner).revoke(grantee.address, D2))
        .to.emit(registry, "ConsentRevoked")
        .withArgs(owner.address, grantee.address, D2, owner.address, GEN(2n));
      expect(await consentOf(registry, owner.address, grantee.address, D2)).to.deep.equal(REVOKED(2n));
    });

    it("rejects a zero grantee and a zero data id", async () => {
      const { registry, accounts } = await networkHelpers.loadFixture(deployFixture);
      const [owner, grantee] = accounts;
      await expect(registry.connect(owner).revoke(ZeroAddress, D1)).to.be.revertedWithCustomError(
        registry,
        "ConsentRegistryZeroGrantee",
      );
      await expect(registry.connect(owner).revoke(grantee.address, ZeroHash)).to.be.revertedWithCustomError(
        registry,
        "ConsentRegistryZeroDataId",
      );
    });

    it("revoking an expired consent of the current epoch works and clears it", async () => {
      const { registry, accounts } = await networkHelpers.loadFixture(deployFixture);
      const [owner, grantee] = accounts;
      await registry.setTime(T);
      await registry.connect(owner).grant(grantee.address, D1, bit(TRAIN), T + 5n, NOTICE);
      await registry.setTime(T + 6n);
      await expect(registry.connect(owner).revoke(grantee.address, D1))
        .to.emit(registry, "ConsentRevoked")
        .withArgs(owner.address, grantee.address, D1, owner.address, GEN(2n));
      expect(await consentOf(registry, owner.address, grantee.address, D1)).to.deep.equal(REVOKED(2n));
    });

    it("a revoked consent can be granted again, in the next generation", async () => {
      const { registry, accounts } = await networkHelpers.loadFixture(deployFixture);
      const [owner, grantee] = accounts;
      await registry.connect(owner).grant(grantee.address, D1, bit(TRAIN), NO_EXPIRY, NOTICE);
      await registry.connect(owner).revoke(grantee.address, D1);
      await registry.connect(owner).grant(grantee.address, D1, bit(INFER), NO_EXPIRY, NOTICE);
      expect(await consentOf(registry, owner.address, grantee.address, D1)).to.deep.equal({
        purposes: bit(INFER),
        expiresAt: 0n,
        epoch: 0n,
        version: GEN(3n),
        active: true,
      });
    });
  });

  describe("revokeAll", () => {
    it("bumps the epoch and emits AllConsentsRevoked with every argument", async () => {
      const { registry, accounts } = await networkHelpers.loadFixture(deployFixture);
      const [owner, other] = accounts;
      expect(await registry.epochOf(owner.address)).to.equal(0n);
      await expect(registry.connect(owner).revokeAll())
        .to.emit(registry, "AllConsentsRevoked")
        .withArgs(owner.address, 1n, owner.address, Via.Owner);
      expect(await registry.epochOf(owner.address)).to.equal(1n);
      await expect(registry.connect(owner).revokeAll())
        .to.emit(registry, "AllConsentsRevoked")
        .withArgs(owner.address, 2n, owner.address, Via.Owner);
      expect(await registry.epochOf(owner.address)).to.equal(2n);
      expect(await registry.epochOf(other.address)).to.equal(0n);
    });

    it("kills 30 consents at once, at the gas cost of a revokeAll after one grant", async () => {
      const { registry, accounts } = await networkHelpers.loadFixture(deployFixture);
      const [owner, freshOwner, grantee] = accounts;
      const keys = Array.from({ length: 30 }, (_, i) => ({
        grantee: ethers.getAddress(`0x${(0x1000 + i).toString(16).padStart(40, "0")}`),
        dataId: i % 3 === 0 ? ALL_DATA : id(`asset-${i}`),
      }));
      await registry
        .connect(owner)
        .grantBatch(keys.map((k) => ({ ...k, purposes: bit(TRAIN), expiresAt: NO_EXPIRY, noticeHash: NOTICE })));
      for (const k of keys) {
        expect(await registry.isAllowed(owner.address, k.grantee, k.dataId, TRAIN)).to.equal(true);
      }

      const bulk = await receiptOf(registry.connect(owner).revokeAll());
      for (const k of keys) {
        expect(await registry.isAllowed(owner.address, k.grantee, k.dataId, TRAIN)).to.equal(false);
        expect((await consentOf(registry, owner.address, k.grantee, k.dataId)).active).to.equal(false);
      }

      await registry.connect(freshOwner).grant(grantee.address, D1, bit(TRAIN), NO_EXPIRY, NOTICE);
      const single = await receiptOf(registry.connect(freshOwner).revokeAll());
      const diff = bulk.gasUsed - single.gasUsed;
      expect(diff <= 100n && diff >= -100n, `30-grant revokeAll ${bulk.gasUsed} vs 1-grant ${single.gasUsed}`).to.equal(
        true,
      );
    });

    it("grants made after revokeAll are active in the new epoch", async () => {
      const { registry, accounts } = await networkHelpers.loadFixture(deployFixture);
      const [owner, grantee] = accounts;
      await registry.connect(owner).grant(grantee.address, D1, bit(TRAIN), NO_EXPIRY, NOTICE);
      await registry.connect(owner).revokeAll();
      await registry.connect(owner).grant(grantee.address, D1, bit(INFER), NO_EXPIRY, NOTICE);
      expect(await consentOf(registry, owner.address, grantee.address, D1)).to.deep.equal({
        purposes: bit(INFER),
        expiresAt: 0n,
        epoch: 1n,
        version: GEN(2n),
        active: true,
      });
      expect(await registry.isAllowed(owner.address, grantee.address, D1, INFER)).to.equal(true);
      expect(await registry.isAllowed(owner.address, grantee.address, D1, TRAIN)).to.equal(false);
      // And it can be revoked again, individually.
      await registry.connect(owner).revoke(grantee.address, D1);
      expect(await registry.isAllowed(owner.address, grantee.address, D1, INFER)).to.equal(false);
    });
  });

  describe("grantBatch / revokeBatch", () => {
    it("reject an empty batch", async () => {
      const { registry, accounts } = await networkHelpers.loadFixture(deployFixture);
      await expect(registry.connect(accounts[0]).grantBatch([])).to.be.revertedWithCustomError(
        registry,
        "ConsentRegistryEmptyBatch",
      );
      await expect(registry.connect(accounts[0]).revokeBatch([])).to.be.revertedWithCustomError(
        registry,
        "ConsentRegistryEmptyBatch",
      );
    });

    it("grantBatch emits one ConsentGranted per item, in order", async () => {
      const { registry, accounts } = await networkHelpers.loadFixture(deployFixture);
      const [owner, g1, g2] = accounts;
      await registry.setTime(T);
      const items = [
        { grantee: g1.address, dataId: D1, purposes: bit(TRAIN), expiresAt: NO_EXPIRY, noticeHash: NOTICE },
        { grantee: g2.address, dataId: D2, purposes: bit(INFER), expiresAt: T + 1n, noticeHash: ZeroHash },
        { grantee: g1.address, dataId: ALL_DATA, purposes: bit(RESEARCH), expiresAt: T + 9n, noticeHash: NOTICE },
      ];
      const receipt = await receiptOf(registry.connect(owner).grantBatch(items));
      expect(eventArgs(registry, receipt, "ConsentGranted")).to.deep.equal(
        items.map((g) => [
          owner.address,
          g.grantee,
          g.dataId,
          g.purposes,
          g.expiresAt,
          g.noticeHash,
          owner.address,
          GEN(1n),
        ]),
      );
      for (const g of items) {
        expect(await registry.activePurposes(owner.address, g.grantee, g.dataId)).to.equal(g.purposes);
      }
    });

    it("grantBatch is all-or-nothing and names the failing item with its exact inner error", async () => {
      const { registry, accounts } = await networkHelpers.loadFixture(deployFixture);
      const [owner, g1, g2] = accounts;
      await registry.setTime(T);
      const items = [
        { grantee: g1.address, dataId: D1, purposes: bit(TRAIN), expiresAt: NO_EXPIRY, noticeHash: NOTICE },
        { grantee: g2.address, dataId: D2, purposes: bit(INFER), expiresAt: NO_EXPIRY, noticeHash: NOTICE },
        { grantee: ZeroAddress, dataId: D2, purposes: bit(INFER), expiresAt: NO_EXPIRY, noticeHash: NOTICE },
        { grantee: g2.address, dataId: D1, purposes: bit(INFER), expiresAt: T, noticeHash: NOTICE },
      ];
      const inner = registry.interface.encodeErrorResult("ConsentRegistryZeroGrantee", []);
      await expect(registry.connect(owner).grantBatch(items))
        .to.be.revertedWithCustomError(registry, "ConsentRegistryBatchItemFailed")
        .withArgs(2n, inner);
      const data = await revertDataOf(() => registry.connect(owner).grantBatch.staticCall(items));
      expect(decodeBatchItemFailed(registry.interface, data)).to.deep.equal({
        index: 2n,
        reason: { name: "ConsentRegistryZeroGrantee", args: [] },
      });

      // Nothing stored, nothing logged.
      expect(await consentOf(registry, owner.address, g1.address, D1)).to.deep.equal(EMPTY);
      expect(await consentOf(registry, owner.address, g2.address, D2)).to.deep.equal(EMPTY);
      expect(await registry.queryFilter(registry.filters.ConsentGranted(owner.address))).to.have.length(0);

      // With item 2 fixed, item 3's expiry AT now is reported with its arguments.
      items[2] = { ...items[2], grantee: g1.address };
      const data3 = await revertDataOf(() => registry.connect(owner).grantBatch.staticCall(items));
      expect(decodeBatchItemFailed(registry.interface, data3)).to.deep.equal({
        index: 3n,
        reason: { name: "ConsentRegistryExpiryInPast", args: [T, T] },
      });
    });

    it("revokeBatch revokes every item, or none when one is not a valid key", async () => {
      const { registry, accounts } = await networkHelpers.loadFixture(deployFixture);
      const [owner, g1, g2] = accounts;
      await registry.connect(owner).grant(g1.address, D1, bit(TRAIN), NO_EXPIRY, NOTICE);
      await registry.connect(owner).grant(g2.address, D2, bit(TRAIN), NO_EXPIRY, NOTICE);

      const bad = [
        { grantee: g1.address, dataId: D1 },
        { grantee: g1.address, dataId: ZeroHash },
        { grantee: g2.address, dataId: D2 },
      ];
      const inner = registry.interface.encodeErrorResult("ConsentRegistryZeroDataId", []);
      await expect(registry.connect(owner).revokeBatch(bad))
        .to.be.revertedWithCustomError(registry, "ConsentRegistryBatchItemFailed")
        .withArgs(1n, inner);
      const data = await revertDataOf(() => registry.connect(owner).revokeBatch.staticCall(bad));
      expect(decodeBatchItemFailed(registry.interface, data)).to.deep.equal({
        index: 1n,
        reason: { name: "ConsentRegistryZeroDataId", args: [] },
      });
      expect(await registry.isAllowed(owner.address, g1.address, D1, TRAIN)).to.equal(true);
      expect(await registry.isAllowed(owner.address, g2.address, D2, TRAIN)).to.equal(true);
      expect(await registry.queryFilter(registry.filters.ConsentRevoked(owner.address))).to.have.length(0);

      // A key with nothing live is a valid item: it is withdrawn (and its signatures voided) too.
      const good = [bad[0], { grantee: g1.address, dataId: D2 }, bad[2]];
      const receipt = await receiptOf(registry.connect(owner).revokeBatch(good));
      expect(eventArgs(registry, receipt, "ConsentRevoked")).to.deep.equal([
        [owner.address, g1.address, D1, owner.address, GEN(2n)],
        [owner.address, g1.address, D2, owner.address, GEN(1n)],
        [owner.address, g2.address, D2, owner.address, GEN(2n)],
      ]);
      expect(await registry.isAllowed(owner.address, g1.address, D1, TRAIN)).to.equal(false);
      expect(await registry.isAllowed(owner.address, g2.address, D2, TRAIN)).to.equal(false);
    });
  });

  describe("reads", () => {
    it("epochOf, isManager, version, integrations and DOMAIN_SEPARATOR", async () => {
      const { registry, integrations, accounts } = await networkHelpers.loadFixture(deployFixture);
      const [owner, other] = accounts;
      expect(await registry.epochOf(owner.address)).to.equal(0n);
      expect(await registry.isManager(owner.address, other.address)).to.equal(false);
      expect(await registry.version()).to.equal(REGISTRY_VERSION);
      expect(await registry.version()).to.equal("2.0.0");
      expect(await registry.integrations()).to.equal(await integrations.getAddress());
      const { chainId } = await ethers.provider.getNetwork();
      expect(await registry.DOMAIN_SEPARATOR()).to.equal(
        TypedDataEncoder.hashDomain(consentDomain(chainId, await registry.getAddress())),
      );
    });
  });
});
