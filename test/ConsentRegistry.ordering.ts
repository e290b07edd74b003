import { expect } from "chai";
import { id } from "ethers";
import type { TypedDataDomain } from "ethers";
import { network } from "hardhat";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";

import { NO_EXPIRY } from "../src/sdk/constants.js";
import { consentDomain, signConsent } from "../src/sdk/eip712.js";
import type { GrantMessage, RevokeMessage } from "../src/sdk/eip712.js";
import { Purpose, purposesToMask } from "../src/sdk/purposes.js";
import type { ConsentRegistryHarness } from "../types/ethers-contracts/index.js";
import { consentOf, deploySystem } from "./helpers/fixture.js";

/**
 * Issue 9 §1: the owner's latest instruction for a consent key holds, whatever order relayers
 * use. Each test is one attack seen in review, asserting that it now fails with the exact error
 * and leaves the owner's later word in force.
 */
const { ethers, networkHelpers } = await network.create();

const DATA = id("dataset:carol/medical-notes#salt-4");
const NOTICE = id("notice:v3");
const BROAD = purposesToMask([Purpose.MODEL_TRAINING, Purpose.INFERENCE, Purpose.THIRD_PARTY_SHARING]);
const NARROW = purposesToMask([Purpose.INFERENCE]);
const NOW = 2_000_000_000n;
const HOUR = 3_600n;
const G = (n: bigint): bigint => n << 16n;

async function fixture() {
  const system = await deploySystem(ethers);
  const [owner, grantee, relayer, manager] = system.accounts;
  await system.registry.setTime(NOW);
  const { chainId } = await ethers.provider.getNetwork();
  const domain = consentDomain(chainId, await system.registry.getAddress());
  return { ...system, owner, grantee, relayer, manager, domain };
}

/** What the SDK signs next for the key: the owner's epoch, the key's version + `ahead`. */
async function nextState(registry: ConsentRegistryHarness, owner: string, grantee: string, ahead = 1n) {
  return {
    epoch: await registry.epochOf(owner),
    version: (await registry.getConsent(owner, grantee, DATA)).version + ahead,
  };
}

async function signedGrant(
  signer: HardhatEthersSigner,
  domain: TypedDataDomain,
  grantee: string,
  state: { epoch: bigint; version: bigint },
  overrides: Partial<GrantMessage> = {},
) {
  const message: GrantMessage = {
    owner: signer.address,
    grantee,
    dataId: DATA,
    purposes: BROAD,
    expiresAt: NOW + 30n * 86_400n,
    noticeHash: NOTICE,
    ...state,
    deadline: NOW + HOUR,
    ...overrides,
  };
  return signConsent("Grant", signer, domain, message);
}

async function signedRevoke(
  signer: HardhatEthersSigner,
  domain: TypedDataDomain,
  grantee: string,
  state: { epoch: bigint; version: bigint },
  overrides: Partial<RevokeMessage> = {},
) {
  const message: RevokeMessage = {
    owner: signer.address,
    grantee,
    dataId: DATA,
    ...state,
    deadline: NOW + HOUR,
    ...overrides,
  };
  return signConsent("Revoke", signer, domain, message);
}

describe("ConsentRegistry: the owner's latest word wins, in any relay order", () => {
  it("a signed grant relayed after the owner's revokeAll (lockdown) is StaleSignature", async () => {
    const { registry, owner, grantee, relayer, domain } = await networkHelpers.loadFixture(fixture);
    const old = await signedGrant(
      owner,
      domain,
      grantee.address,
      await nextState(registry, owner.address, grantee.address),
    );
    await registry.connect(owner).revokeAll();
    await expect(registry.connect(relayer).grantBySig(old))
      .to.be.revertedWithCustomError(registry, "ConsentRegistryStaleSignature")
      .withArgs(owner.address, 0n, 1n, 1n, 0n);
    expect(await registry.isAllowed(owner.address, grantee.address, DATA, Purpose.INFERENCE)).to.equal(false);
  });

  it("a signed grant relayed after the owner's later transaction revoke is StaleSignature", async () => {
    const { registry, owner, grantee, relayer, domain } = await networkHelpers.loadFixture(fixture);
    await registry.connect(owner).grant(grantee.address, DATA, NARROW, NO_EXPIRY, NOTICE);
    const old = await signedGrant(
      owner,
      domain,
      grantee.address,
      await nextState(registry, owner.address, grantee.address),
    );
    await registry.connect(owner).revoke(grantee.address, DATA);
    await expect(registry.connect(relayer).grantBySig(old))
      .to.be.revertedWithCustomError(registry, "ConsentRegistryStaleSignature")
      .withArgs(owner.address, 0n, G(1n) + 1n, 0n, G(2n));
    expect(await consentOf(registry, owner.address, grantee.address, DATA)).to.deep.equal([0n, 0n, 0n, G(2n), false]);
  });

  it("a signed grant relayed after the owner's later transaction grant (or a manager's) cannot overwrite it", async () => {
    const { registry, owner, grantee, relayer, manager, domain } = await networkHelpers.loadFixture(fixture);
    const old = await signedGrant(
      owner,
      domain,
      grantee.address,
      await nextState(registry, owner.address, grantee.address),
    );
    await registry.connect(owner).setManager(manager.address, true);
    await registry.connect(manager).grantFor(owner.address, grantee.address, DATA, NARROW, NO_EXPIRY, NOTICE);
    await expect(registry.connect(relayer).grantBySig(old))
      .to.be.revertedWithCustomError(registry, "ConsentRegistryStaleSignature")
      .withArgs(owner.address, 0n, 1n, 0n, G(1n));
    expect(await registry.activePurposes(owner.address, grantee.address, DATA)).to.equal(NARROW);
  });

  it("an older, broader signed grant relayed after a newer, narrower one fails; the narrow one holds", async () => {
    const { registry, owner, grantee, relayer, domain } = await networkHelpers.loadFixture(fixture);
    const state = await nextState(registry, owner.address, grantee.address);
    const older = await signedGrant(owner, domain, grantee.address, state, { purposes: BROAD });
    const newer = await signedGrant(
      owner,
      domain,
      grantee.address,
      { ...state, version: state.version + 1n },
      {
        purposes: NARROW,
      },
    );
    await registry.connect(relayer).grantBySig(newer);
    await expect(registry.connect(relayer).grantBySig(older))
      .to.be.revertedWithCustomError(registry, "ConsentRegistryStaleSignature")
      .withArgs(owner.address, 0n, 1n, 0n, 2n);
    expect(await registry.activePurposes(owner.address, grantee.address, DATA)).to.equal(NARROW);
  });

  it("relayed the other way round, the older grant applies first and the newer one still overwrites it", async () => {
    const { registry, owner, grantee, relayer, domain } = await networkHelpers.loadFixture(fixture);
    const state = await nextState(registry, owner.address, grantee.address);
    const older = await signedGrant(owner, domain, grantee.address, state, { purposes: BROAD });
    const newer = await signedGrant(
      owner,
      domain,
      grantee.address,
      { ...state, version: state.version + 1n },
      {
        purposes: NARROW,
      },
    );
    await registry.connect(relayer).grantBySig(older);
    expect(await registry.activePurposes(owner.address, grantee.address, DATA)).to.equal(BROAD);
    await registry.connect(relayer).grantBySig(newer);
    expect(await registry.activePurposes(owner.address, grantee.address, DATA)).to.equal(NARROW);
  });

  it("a withheld signed revoke relayed after the owner re-granted by transaction does not kill the new consent", async () => {
    const { registry, owner, grantee, relayer, domain } = await networkHelpers.loadFixture(fixture);
    await registry.connect(owner).grant(grantee.address, DATA, BROAD, NO_EXPIRY, NOTICE);
    const withheld = await signedRevoke(
      owner,
      domain,
      grantee.address,
      await nextState(registry, owner.address, grantee.address),
    );
    await registry.connect(owner).grant(grantee.address, DATA, NARROW, NO_EXPIRY, NOTICE);
    await expect(registry.connect(relayer).revokeBySig(withheld))
      .to.be.revertedWithCustomError(registry, "ConsentRegistryStaleSignature")
      .withArgs(owner.address, 0n, G(1n) + 1n, 0n, G(2n));
    expect(await registry.activePurposes(owner.address, grantee.address, DATA)).to.equal(NARROW);
  });

  it("a withheld signed revoke relayed after a later signed re-grant does not kill it", async () => {
    const { registry, owner, grantee, relayer, domain } = await networkHelpers.loadFixture(fixture);
    const state = await nextState(registry, owner.address, grantee.address);
    const revoke = await signedRevoke(owner, domain, grantee.address, state);
    const regrant = await signedGrant(owner, domain, grantee.address, { ...state, version: state.version + 1n });
    await registry.connect(relayer).grantBySig(regrant);
    await expect(registry.connect(relayer).revokeBySig(revoke))
      .to.be.revertedWithCustomError(registry, "ConsentRegistryStaleSignature")
      .withArgs(owner.address, 0n, 1n, 0n, 2n);
    expect(await registry.activePurposes(owner.address, grantee.address, DATA)).to.equal(BROAD);
  });

  it("a signed revoke applies with nothing live, so an older signed grant relayed after it cannot apply", async () => {
    const { registry, owner, grantee, relayer, domain } = await networkHelpers.loadFixture(fixture);
    const state = await nextState(registry, owner.address, grantee.address);
    const grant = await signedGrant(owner, domain, grantee.address, state);
    const revoke = await signedRevoke(owner, domain, grantee.address, { ...state, version: state.version + 1n });
    await expect(registry.connect(relayer).revokeBySig(revoke))
      .to.emit(registry, "ConsentRevoked")
      .withArgs(owner.address, grantee.address, DATA, relayer.address, 2n);
    await expect(registry.connect(relayer).grantBySig(grant))
      .to.be.revertedWithCustomError(registry, "ConsentRegistryStaleSignature")
      .withArgs(owner.address, 0n, 1n, 0n, 2n);
    expect(await registry.isAllowed(owner.address, grantee.address, DATA, Purpose.INFERENCE)).to.equal(false);
  });

  it("grant → revoke → the old grant cannot come back (the revoked slot keeps its version)", async () => {
    const { registry, owner, grantee, relayer, domain } = await networkHelpers.loadFixture(fixture);
    const state = await nextState(registry, owner.address, grantee.address);
    const grant = await signedGrant(owner, domain, grantee.address, state);
    const revoke = await signedRevoke(owner, domain, grantee.address, { ...state, version: state.version + 1n });
    await registry.connect(relayer).grantBySig(grant);
    await registry.connect(relayer).revokeBySig(revoke);
    await expect(registry.connect(relayer).grantBySig(grant))
      .to.be.revertedWithCustomError(registry, "ConsentRegistryStaleSignature")
      .withArgs(owner.address, 0n, 1n, 0n, 2n);
    expect(await consentOf(registry, owner.address, grantee.address, DATA)).to.deep.equal([0n, 0n, 0n, 2n, false]);
  });

  it("a version outside the key's generation is stale, above or below (no jumping ahead of transactions)", async () => {
    const { registry, owner, grantee, relayer, domain } = await networkHelpers.loadFixture(fixture);
    await registry.connect(owner).grant(grantee.address, DATA, NARROW, NO_EXPIRY, NOTICE);
    for (const version of [G(1n), G(2n) + 1n, G(0n) + 0xffffn, (1n << 64n) - 1n]) {
      const req = await signedGrant(owner, domain, grantee.address, { epoch: 0n, version });
      await expect(registry.connect(relayer).grantBySig(req))
        .to.be.revertedWithCustomError(registry, "ConsentRegistryStaleSignature")
        .withArgs(owner.address, 0n, version, 0n, G(1n));
    }
    // The last version of the generation is still fine.
    const last = await signedGrant(owner, domain, grantee.address, { epoch: 0n, version: G(1n) + 0xffffn });
    await expect(registry.connect(relayer).grantBySig(last)).to.emit(registry, "ConsentGranted");
    // And then nothing more can be signed in it; a transaction opens the next generation.
    const after = await signedGrant(owner, domain, grantee.address, { epoch: 0n, version: G(1n) + 0xffffn });
    await expect(registry.connect(relayer).grantBySig(after))
      .to.be.revertedWithCustomError(registry, "ConsentRegistryStaleSignature")
      .withArgs(owner.address, 0n, G(1n) + 0xffffn, 0n, G(1n) + 0xffffn);
    await expect(registry.connect(owner).revoke(grantee.address, DATA))
      .to.emit(registry, "ConsentRevoked")
      .withArgs(owner.address, grantee.address, DATA, owner.address, G(2n));
  });

  it("a signature for an epoch the owner has not reached yet is stale too", async () => {
    const { registry, owner, grantee, relayer, domain } = await networkHelpers.loadFixture(fixture);
    const req = await signedGrant(owner, domain, grantee.address, { epoch: 1n, version: 1n });
    await expect(registry.connect(relayer).grantBySig(req))
      .to.be.revertedWithCustomError(registry, "ConsentRegistryStaleSignature")
      .withArgs(owner.address, 1n, 1n, 0n, 0n);
  });

  describe("a relayer cannot make an older message win by waiting", () => {
    it("a newer grant whose expiry has passed still applies (stored expired); the older one stays dead", async () => {
      const { registry, owner, grantee, relayer, domain } = await networkHelpers.loadFixture(fixture);
      const state = await nextState(registry, owner.address, grantee.address);
      const older = await signedGrant(owner, domain, grantee.address, state, { expiresAt: NO_EXPIRY });
      const newer = await signedGrant(
        owner,
        domain,
        grantee.address,
        { ...state, version: 2n },
        {
          expiresAt: NOW + 60n,
          deadline: NOW + HOUR,
        },
      );
      // The grantee waits until the newer consent's expiry has passed, then relays both.
      await registry.setTime(NOW + 61n);
      await expect(registry.connect(relayer).grantBySig(newer))
        .to.emit(registry, "ConsentGranted")
        .withArgs(owner.address, grantee.address, DATA, BROAD, NOW + 60n, NOTICE, relayer.address, 2n);
      await expect(registry.connect(relayer).grantBySig(older))
        .to.be.revertedWithCustomError(registry, "ConsentRegistryStaleSignature")
        .withArgs(owner.address, 0n, 1n, 0n, 2n);
      expect(await consentOf(registry, owner.address, grantee.address, DATA)).to.deep.equal([
        BROAD,
        NOW + 60n,
        0n,
        2n,
        false,
      ]);
    });

    it("a newer grant naming a purpose deprecated since applies without it; the older broader one stays dead", async () => {
      const { registry, owner, grantee, relayer, admin, domain } = await networkHelpers.loadFixture(fixture);
      const state = await nextState(registry, owner.address, grantee.address);
      const older = await signedGrant(owner, domain, grantee.address, state, { purposes: BROAD });
      const newer = await signedGrant(
        owner,
        domain,
        grantee.address,
        { ...state, version: 2n },
        {
          purposes: purposesToMask([Purpose.INFERENCE, Purpose.RESEARCH]),
        },
      );
      await registry.connect(admin).deprecatePurpose(Purpose.RESEARCH);
      await expect(registry.connect(relayer).grantBySig(newer))
        .to.emit(registry, "ConsentGranted")
        .withArgs(owner.address, grantee.address, DATA, NARROW, NOW + 30n * 86_400n, NOTICE, relayer.address, 2n);
      await expect(registry.connect(relayer).grantBySig(older))
        .to.be.revertedWithCustomError(registry, "ConsentRegistryStaleSignature")
        .withArgs(owner.address, 0n, 1n, 0n, 2n);
      expect(await registry.activePurposes(owner.address, grantee.address, DATA)).to.equal(NARROW);
    });

    it("when every signed purpose was deprecated, the grant applies as 'nothing' and still voids older ones", async () => {
      const { registry, owner, grantee, relayer, admin, domain } = await networkHelpers.loadFixture(fixture);
      const state = await nextState(registry, owner.address, grantee.address);
      const older = await signedGrant(owner, domain, grantee.address, state, { purposes: BROAD });
      const newer = await signedGrant(
        owner,
        domain,
        grantee.address,
        { ...state, version: 2n },
        {
          purposes: purposesToMask([Purpose.RESEARCH]),
        },
      );
      await registry.connect(admin).deprecatePurpose(Purpose.RESEARCH);
      await expect(registry.connect(relayer).grantBySig(newer))
        .to.emit(registry, "ConsentGranted")
        .withArgs(owner.address, grantee.address, DATA, 0n, NOW + 30n * 86_400n, NOTICE, relayer.address, 2n);
      await expect(registry.connect(relayer).grantBySig(older)).to.be.revertedWithCustomError(
        registry,
        "ConsentRegistryStaleSignature",
      );
      expect(await consentOf(registry, owner.address, grantee.address, DATA)).to.deep.equal([
        0n,
        NOW + 30n * 86_400n,
        0n,
        2n,
        false,
      ]);
    });

    it("a signed narrowing keeps a deprecated purpose the live consent holds (expiry not later)", async () => {
      const { registry, owner, grantee, relayer, admin, domain } = await networkHelpers.loadFixture(fixture);
      await registry.connect(owner).grant(grantee.address, DATA, BROAD, NOW + 1000n, NOTICE);
      await registry.connect(admin).deprecatePurpose(Purpose.INFERENCE);
      const narrowed = await signedGrant(
        owner,
        domain,
        grantee.address,
        await nextState(registry, owner.address, grantee.address),
        {
          purposes: NARROW,
          expiresAt: NOW + 500n,
        },
      );
      await expect(registry.connect(relayer).grantBySig(narrowed))
        .to.emit(registry, "ConsentGranted")
        .withArgs(owner.address, grantee.address, DATA, NARROW, NOW + 500n, NOTICE, relayer.address, G(1n) + 1n);
    });
  });

  it("the rule reads only chain state and the message: a signer's clock far in the past or future changes nothing", async () => {
    const { registry, owner, grantee, relayer, domain } = await networkHelpers.loadFixture(fixture);
    const state = await nextState(registry, owner.address, grantee.address);
    // Two messages whose only clock-like field, the deadline, disagrees with their order.
    const older = await signedGrant(owner, domain, grantee.address, state, {
      purposes: BROAD,
      deadline: NOW + 9n * HOUR,
    });
    const newer = await signedGrant(
      owner,
      domain,
      grantee.address,
      { ...state, version: 2n },
      {
        purposes: NARROW,
        deadline: NOW + HOUR,
      },
    );
    await registry.connect(relayer).grantBySig(newer);
    await expect(registry.connect(relayer).grantBySig(older)).to.be.revertedWithCustomError(
      registry,
      "ConsentRegistryStaleSignature",
    );
    expect(await registry.activePurposes(owner.address, grantee.address, DATA)).to.equal(NARROW);
  });
});
