import { expect } from "chai";
import { id } from "ethers";
import { network } from "hardhat";

import { NO_EXPIRY } from "../../src/sdk/constants.js";
import { PURPOSES, Purpose, initialPurposeMetadata, purposesToMask } from "../../src/sdk/purposes.js";
import { deploySystem } from "../helpers/fixture.js";

const { ethers } = await network.create();

const DATA = id("dataset:alice:photos");
const NOTICE = id("notice:v1");
const NEW_ID = 8; // first id after the initial catalogue
const NEW_META = id("omnitensor-purpose:8:SYNTHETIC_DATA:dpv:ResearchAndDevelopment");
const INITIAL_MASK = purposesToMask(PURPOSES.map((p) => p.id));

async function setup() {
  const system = await deploySystem(ethers);
  const [owner, processor, stranger] = system.accounts;
  return { ...system, owner, processor, stranger };
}

describe("PurposeCatalog (governed purpose catalogue of the registry)", () => {
  describe("definePurpose", () => {
    it("defines a new id: event, grantable and defined bitmaps, metadata", async () => {
      const { registry, admin } = await setup();
      await expect(registry.connect(admin).definePurpose(NEW_ID, NEW_META))
        .to.emit(registry, "PurposeDefined")
        .withArgs(NEW_ID, NEW_META);
      await expect(registry.connect(admin).definePurpose(127, id("last")))
        .to.emit(registry, "PurposeDefined")
        .withArgs(127, id("last"));

      const expected = INITIAL_MASK | (1n << 8n) | (1n << 127n);
      expect(await registry.grantablePurposes()).to.equal(expected);
      expect(await registry.definedPurposes()).to.equal(expected);
      expect(await registry.purposeMetadata(NEW_ID)).to.equal(NEW_META);
      expect(await registry.purposeMetadata(127)).to.equal(id("last"));
      expect(await registry.purposeMetadata(9)).to.equal(ethers.ZeroHash);
      // The initial catalogue is untouched.
      expect(await registry.purposeMetadata(Purpose.RESEARCH)).to.equal(initialPurposeMetadata()[Purpose.RESEARCH]);
    });

    it("rejects ids above 127", async () => {
      const { registry, admin } = await setup();
      for (const bad of [128, 255]) {
        await expect(registry.connect(admin).definePurpose(bad, NEW_META))
          .to.be.revertedWithCustomError(registry, "PurposeCatalogIdOutOfRange")
          .withArgs(bad);
      }
      expect(await registry.definedPurposes()).to.equal(INITIAL_MASK);
    });

    it("never re-defines an id, active or deprecated", async () => {
      const { registry, admin } = await setup();
      await expect(registry.connect(admin).definePurpose(Purpose.MODEL_TRAINING, NEW_META))
        .to.be.revertedWithCustomError(registry, "PurposeCatalogAlreadyDefined")
        .withArgs(Purpose.MODEL_TRAINING);

      await registry.connect(admin).deprecatePurpose(Purpose.ANALYTICS);
      await expect(registry.connect(admin).definePurpose(Purpose.ANALYTICS, NEW_META))
        .to.be.revertedWithCustomError(registry, "PurposeCatalogAlreadyDefined")
        .withArgs(Purpose.ANALYTICS);
      // The deprecated id keeps its original meaning.
      expect(await registry.purposeMetadata(Purpose.ANALYTICS)).to.equal(initialPurposeMetadata()[Purpose.ANALYTICS]);
    });

    it("a purpose can be granted once defined, not before", async () => {
      const { registry, admin, owner, processor } = await setup();
      const mask = purposesToMask([Purpose.MODEL_TRAINING, NEW_ID]);
      await expect(registry.connect(owner).grant(processor.address, DATA, mask, NO_EXPIRY, NOTICE))
        .to.be.revertedWithCustomError(registry, "ConsentRegistryPurposeNotGrantable")
        .withArgs(mask, 1n << 8n);

      await registry.connect(admin).definePurpose(NEW_ID, NEW_META);
      await expect(registry.connect(owner).grant(processor.address, DATA, mask, NO_EXPIRY, NOTICE))
        .to.emit(registry, "ConsentGranted")
        .withArgs(owner.address, processor.address, DATA, mask, NO_EXPIRY, NOTICE, owner.address, 1n << 16n);
      expect(await registry.isAllowed(owner.address, processor.address, DATA, NEW_ID)).to.equal(true);
    });
  });

  describe("deprecatePurpose", () => {
    it("removes the id from the grantable set only", async () => {
      const { registry, admin } = await setup();
      await expect(registry.connect(admin).deprecatePurpose(Purpose.ANALYTICS))
        .to.emit(registry, "PurposeDeprecated")
        .withArgs(Purpose.ANALYTICS);
      expect(await registry.grantablePurposes()).to.equal(INITIAL_MASK & ~(1n << BigInt(Purpose.ANALYTICS)));
      expect(await registry.definedPurposes()).to.equal(INITIAL_MASK);
      expect(await registry.purposeMetadata(Purpose.ANALYTICS)).to.equal(initialPurposeMetadata()[Purpose.ANALYTICS]);
    });

    it("rejects undefined, already deprecated and out-of-range ids", async () => {
      const { registry, admin } = await setup();
      await expect(registry.connect(admin).deprecatePurpose(NEW_ID))
        .to.be.revertedWithCustomError(registry, "PurposeCatalogNotActive")
        .withArgs(NEW_ID);
      await registry.connect(admin).deprecatePurpose(Purpose.ANALYTICS);
      await expect(registry.connect(admin).deprecatePurpose(Purpose.ANALYTICS))
        .to.be.revertedWithCustomError(registry, "PurposeCatalogNotActive")
        .withArgs(Purpose.ANALYTICS);
      for (const bad of [128, 255]) {
        await expect(registry.connect(admin).deprecatePurpose(bad))
          .to.be.revertedWithCustomError(registry, "PurposeCatalogIdOutOfRange")
          .withArgs(bad);
      }
    });

    it("new grants naming a deprecated purpose fail, naming exactly the bad bits", async () => {
      const { registry, admin, owner, processor } = await setup();
      await registry.connect(admin).deprecatePurpose(Purpose.ANALYTICS);
      const mask = purposesToMask([Purpose.MODEL_TRAINING, Purpose.ANALYTICS]);
      await expect(registry.connect(owner).grant(processor.address, DATA, mask, NO_EXPIRY, NOTICE))
        .to.be.revertedWithCustomError(registry, "ConsentRegistryPurposeNotGrantable")
        .withArgs(mask, 1n << BigInt(Purpose.ANALYTICS));
      // The other purposes can still be granted.
      const ok = purposesToMask([Purpose.MODEL_TRAINING]);
      await expect(registry.connect(owner).grant(processor.address, DATA, ok, NO_EXPIRY, NOTICE)).to.emit(
        registry,
        "ConsentGranted",
      );
    });

    it("changes no existing consent: it stays readable, active, and still allows the purpose", async () => {
      const { registry, admin, owner, processor } = await setup();
      const mask = purposesToMask([Purpose.MODEL_TRAINING, Purpose.ANALYTICS]);
      await registry.connect(owner).grant(processor.address, DATA, mask, NO_EXPIRY, NOTICE);
      const before = await registry.getConsent(owner.address, processor.address, DATA);

      await registry.connect(admin).deprecatePurpose(Purpose.ANALYTICS);

      const after = await registry.getConsent(owner.address, processor.address, DATA);
      expect(after).to.deep.equal(before);
      expect([after.purposes, after.expiresAt, after.epoch, after.active]).to.deep.equal([mask, 0n, 0n, true]);
      expect(await registry.activePurposes(owner.address, processor.address, DATA)).to.equal(mask);
      expect(await registry.isAllowed(owner.address, processor.address, DATA, Purpose.ANALYTICS)).to.equal(true);
      const evidence = id("analytics-run");
      await expect(registry.connect(processor).recordUse(owner.address, DATA, Purpose.ANALYTICS, evidence))
        .to.emit(registry, "DataUsed")
        .withArgs(owner.address, processor.address, DATA, Purpose.ANALYTICS, evidence);
      // And the owner can still withdraw it.
      await expect(registry.connect(owner).revoke(processor.address, DATA)).to.emit(registry, "ConsentRevoked");
    });
  });

  it("only the authority's authorised callers may define or deprecate", async () => {
    const { registry, stranger, owner } = await setup();
    for (const caller of [stranger, owner]) {
      await expect(registry.connect(caller).definePurpose(NEW_ID, NEW_META))
        .to.be.revertedWithCustomError(registry, "AccessManagedUnauthorized")
        .withArgs(caller.address);
      await expect(registry.connect(caller).deprecatePurpose(Purpose.ANALYTICS))
        .to.be.revertedWithCustomError(registry, "AccessManagedUnauthorized")
        .withArgs(caller.address);
    }
    expect(await registry.grantablePurposes()).to.equal(INITIAL_MASK);
  });
});
