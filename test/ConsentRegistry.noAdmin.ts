import { expect } from "chai";
import { Wallet, id } from "ethers";
import { network } from "hardhat";

import { ALL_DATA, NO_EXPIRY, Via } from "../src/sdk/constants.js";
import { consentDomain, signConsent } from "../src/sdk/eip712.js";
import { PURPOSES, Purpose } from "../src/sdk/purposes.js";
import { ConsentRegistry__factory } from "../types/ethers-contracts/index.js";
import type { AccessManager, ConsentRegistryHarness } from "../types/ethers-contracts/index.js";
import { deploySystem } from "./helpers/fixture.js";

// Proof of the trust model: nobody but the owner (or whom the owner appointed) changes the
// owner's consents, and withdrawal works whatever governance does.

const { ethers, networkHelpers } = await network.create();

const T = 2_000_000_000n;
const D1 = id("asset-1");
const D2 = id("asset-2");
const NOTICE = id("notice-v1");
const META = id("integration-dpa-v1");
const TRAIN = Purpose.MODEL_TRAINING;
const INFER = Purpose.INFERENCE;
const SHARE = Purpose.THIRD_PARTY_SHARING;
const bit = (purpose: number): bigint => 1n << BigInt(purpose);
/** The versions of a key's first and second transaction change (generations 1 and 2). */
const G1 = 1n << 16n;
const G2 = 2n << 16n;

/**
 * An owner in epoch 1 with an old epoch-0 consent, four live consents (specific, expiring,
 * ALL_DATA, to a registered integration), and two registered integrations.
 */
async function ownerWithConsents() {
  const system = await deploySystem(ethers);
  const { registry, integrations, admin, accounts } = system;
  const [owner, g1, g2, integration, integration2] = accounts;
  await registry.setTime(T);
  await registry.connect(owner).grant(g2.address, D2, bit(INFER), NO_EXPIRY, NOTICE);
  await registry.connect(owner).revokeAll();
  await registry.connect(owner).grant(g1.address, D1, bit(TRAIN) | bit(INFER), T + 1000n, NOTICE);
  await registry.connect(owner).grant(g1.address, D2, bit(TRAIN), NO_EXPIRY, NOTICE);
  await registry.connect(owner).grant(g2.address, ALL_DATA, bit(Purpose.RESEARCH), NO_EXPIRY, NOTICE);
  await registry.connect(owner).grant(integration.address, D1, bit(SHARE), NO_EXPIRY, NOTICE);
  await integrations.connect(admin).registerIntegration(integration.address, META, bit(SHARE));
  await integrations.connect(admin).registerIntegration(integration2.address, META, bit(SHARE) | bit(INFER));
  const keys: [string, string][] = [
    [g1.address, D1],
    [g1.address, D2],
    [g2.address, ALL_DATA],
    [g2.address, D2], // epoch 0: dead
    [integration.address, D1],
  ];
  return { ...system, owner, g1, g2, integration, integration2, keys };
}

async function snapshot(registry: ConsentRegistryHarness, owner: string, keys: [string, string][]) {
  const consents = await Promise.all(keys.map(([g, d]) => registry.getConsent(owner, g, d)));
  return {
    epoch: await registry.epochOf(owner),
    consents: consents.map((c) => [c.purposes, c.expiresAt, c.epoch, c.version, c.active]),
  };
}

/** What `ownerWithConsents` stores, written out so the snapshot itself is checked too. */
const EXPECTED = {
  epoch: 1n,
  consents: [
    [bit(TRAIN) | bit(INFER), T + 1000n, 1n, G1, true],
    [bit(TRAIN), 0n, 1n, G1, true],
    [bit(Purpose.RESEARCH), 0n, 1n, G1, true],
    [bit(INFER), 0n, 0n, G1, false],
    [bit(SHARE), 0n, 1n, G1, true],
  ],
};

describe("ConsentRegistry: no admin over consents", () => {
  it("the registry's state-changing functions are exactly these (a new privileged one fails here)", () => {
    const writes = ConsentRegistry__factory.abi
      .filter((f) => f.type === "function" && f.stateMutability !== "view" && f.stateMutability !== "pure")
      .map((f) => (f as { name: string }).name)
      .sort();
    expect(writes).to.deep.equal([
      // governance: the purpose catalogue and the AccessManaged hook, nothing over consents
      "definePurpose",
      "deprecatePurpose",
      // owner (or appointed manager / owner's signature)
      "grant",
      "grantBatch",
      "grantBySig",
      "grantBySigBatch",
      "grantFor",
      // processors: emit records, change no state but events
      "recordShare",
      "recordShareBatch",
      "recordUse",
      "recordUseBatch",
      "revoke",
      "revokeAll",
      "revokeAllBySig",
      "revokeAllFor",
      "revokeBatch",
      "revokeBySig",
      "revokeBySigBatch",
      "revokeFor",
      "setAuthority",
      "setManager",
    ]);
  });

  it("the fixture stores what the snapshots compare against", async () => {
    const { registry, owner, keys } = await networkHelpers.loadFixture(ownerWithConsents);
    expect(await snapshot(registry, owner.address, keys)).to.deep.equal(EXPECTED);
  });

  describe("every governance path leaves the owner's consents untouched", () => {
    it("definePurpose", async () => {
      const { registry, admin, owner, keys } = await networkHelpers.loadFixture(ownerWithConsents);
      await expect(registry.connect(admin).definePurpose(8, id("purpose-8")))
        .to.emit(registry, "PurposeDefined")
        .withArgs(8, id("purpose-8"));
      expect(await snapshot(registry, owner.address, keys)).to.deep.equal(EXPECTED);
    });

    it("deprecatePurpose: existing consents keep allowing it, new grants of it are refused", async () => {
      const { registry, admin, owner, g1, keys } = await networkHelpers.loadFixture(ownerWithConsents);
      await expect(registry.connect(admin).deprecatePurpose(TRAIN))
        .to.emit(registry, "PurposeDeprecated")
        .withArgs(TRAIN);
      expect(await snapshot(registry, owner.address, keys)).to.deep.equal(EXPECTED);
      expect(await registry.isAllowed(owner.address, g1.address, D2, TRAIN)).to.equal(true);
      await expect(registry.connect(owner).grant(g1.address, D1, bit(TRAIN), NO_EXPIRY, NOTICE))
        .to.be.revertedWithCustomError(registry, "ConsentRegistryPurposeNotGrantable")
        .withArgs(bit(TRAIN), bit(TRAIN));
    });

    it("register / update / suspend / reinstate integrations", async () => {
      const { registry, integrations, admin, accounts, owner, integration, keys } =
        await networkHelpers.loadFixture(ownerWithConsents);
      const fresh = accounts[6].address;
      await expect(integrations.connect(admin).registerIntegration(fresh, META, bit(SHARE)))
        .to.emit(integrations, "IntegrationRegistered")
        .withArgs(fresh, META, bit(SHARE));
      expect(await snapshot(registry, owner.address, keys)).to.deep.equal(EXPECTED);
      await expect(integrations.connect(admin).updateIntegration(integration.address, id("v2"), bit(INFER)))
        .to.emit(integrations, "IntegrationUpdated")
        .withArgs(integration.address, id("v2"), bit(INFER));
      expect(await snapshot(registry, owner.address, keys)).to.deep.equal(EXPECTED);
      await expect(integrations.connect(admin).suspendIntegration(integration.address))
        .to.emit(integrations, "IntegrationSuspended")
        .withArgs(integration.address);
      expect(await snapshot(registry, owner.address, keys)).to.deep.equal(EXPECTED);
      await expect(integrations.connect(admin).reinstateIntegration(integration.address))
        .to.emit(integrations, "IntegrationReinstated")
        .withArgs(integration.address);
      expect(await snapshot(registry, owner.address, keys)).to.deep.equal(EXPECTED);
    });

    it("setAuthority (through AccessManager.updateAuthority)", async () => {
      const { registry, manager, admin, owner, keys } = await networkHelpers.loadFixture(ownerWithConsents);
      const next = await ethers.deployContract("AccessManager", [admin.address]);
      // Only the current authority itself may call setAuthority; the admin goes through it.
      await expect(registry.connect(admin).setAuthority(await next.getAddress()))
        .to.be.revertedWithCustomError(registry, "AccessManagedUnauthorized")
        .withArgs(admin.address);
      await manager.connect(admin).updateAuthority(await registry.getAddress(), await next.getAddress());
      expect(await registry.authority()).to.equal(await next.getAddress());
      expect(await snapshot(registry, owner.address, keys)).to.deep.equal(EXPECTED);
    });

    it("the admin's own consent calls act on the admin only", async () => {
      const { registry, admin, owner, g1, keys } = await networkHelpers.loadFixture(ownerWithConsents);
      await registry.connect(admin).grant(g1.address, D1, bit(TRAIN), NO_EXPIRY, NOTICE);
      await registry.connect(admin).revoke(g1.address, D1);
      await expect(registry.connect(admin).revokeAll())
        .to.emit(registry, "AllConsentsRevoked")
        .withArgs(admin.address, 1n, admin.address, Via.Owner);
      await registry.connect(admin).setManager(g1.address, true);
      expect(await snapshot(registry, owner.address, keys)).to.deep.equal(EXPECTED);
      expect(await registry.isManager(owner.address, g1.address)).to.equal(false);
    });
  });

  describe("the admin cannot act for the owner", () => {
    it("grantFor / revokeFor / revokeAllFor revert NotAuthorized(admin, owner)", async () => {
      const { registry, admin, owner, g1, keys } = await networkHelpers.loadFixture(ownerWithConsents);
      await expect(registry.connect(admin).grantFor(owner.address, admin.address, ALL_DATA, bit(TRAIN), 0n, NOTICE))
        .to.be.revertedWithCustomError(registry, "ConsentRegistryNotAuthorized")
        .withArgs(admin.address, owner.address);
      await expect(registry.connect(admin).revokeFor(owner.address, g1.address, D1))
        .to.be.revertedWithCustomError(registry, "ConsentRegistryNotAuthorized")
        .withArgs(admin.address, owner.address);
      await expect(registry.connect(admin).revokeAllFor(owner.address))
        .to.be.revertedWithCustomError(registry, "ConsentRegistryNotAuthorized")
        .withArgs(admin.address, owner.address);
      expect(await snapshot(registry, owner.address, keys)).to.deep.equal(EXPECTED);
    });

    it("nor through AccessManager.execute: the manager contract is not the owner either", async () => {
      const { registry, manager, admin, owner, g1, keys } = await networkHelpers.loadFixture(ownerWithConsents);
      const target = await registry.getAddress();
      const managerAddress = await manager.getAddress();
      const calls = [
        registry.interface.encodeFunctionData("revokeAllFor", [owner.address]),
        registry.interface.encodeFunctionData("revokeFor", [owner.address, g1.address, D1]),
        registry.interface.encodeFunctionData("grantFor", [
          owner.address,
          admin.address,
          ALL_DATA,
          bit(TRAIN),
          0n,
          NOTICE,
        ]),
      ];
      for (const data of calls) {
        await expect(manager.connect(admin).execute(target, data))
          .to.be.revertedWithCustomError(registry, "ConsentRegistryNotAuthorized")
          .withArgs(managerAddress, owner.address);
      }
      expect(await snapshot(registry, owner.address, keys)).to.deep.equal(EXPECTED);
    });
  });

  it("after governance does its worst, the owner still withdraws and the consents stay readable", async () => {
    const { registry, integrations, manager, admin, accounts, owner, g1, g2, integration, integration2, keys } =
      await networkHelpers.loadFixture(ownerWithConsents);
    // Deprecate every purpose, suspend every integration, hand the registry to a stranger's manager.
    for (const p of PURPOSES) await registry.connect(admin).deprecatePurpose(p.id);
    expect(await registry.grantablePurposes()).to.equal(0n);
    for (const i of [integration, integration2]) await integrations.connect(admin).suspendIntegration(i.address);
    const stranger = Wallet.createRandom();
    const foreign = (await ethers.deployContract("AccessManager", [stranger.address])) as unknown as AccessManager;
    await manager.connect(admin).updateAuthority(await registry.getAddress(), await foreign.getAddress());
    await expect(registry.connect(admin).definePurpose(9, id("purpose-9")))
      .to.be.revertedWithCustomError(registry, "AccessManagedUnauthorized")
      .withArgs(admin.address);
    expect(await snapshot(registry, owner.address, keys)).to.deep.equal(EXPECTED);

    // revoke, revokeBatch, a signed revoke relayed by anyone, a manager's revokeFor, then revokeAll.
    await expect(registry.connect(owner).revoke(g1.address, D1))
      .to.emit(registry, "ConsentRevoked")
      .withArgs(owner.address, g1.address, D1, owner.address, G2);
    await expect(registry.connect(owner).revokeBatch([{ grantee: g1.address, dataId: D2 }]))
      .to.emit(registry, "ConsentRevoked")
      .withArgs(owner.address, g1.address, D2, owner.address, G2);
    const { chainId } = await ethers.provider.getNetwork();
    const relayer = accounts[7];
    const signed = await signConsent("Revoke", owner, consentDomain(chainId, await registry.getAddress()), {
      owner: owner.address,
      grantee: g2.address,
      dataId: ALL_DATA,
      epoch: 1n,
      version: G1 + 1n,
      deadline: T + 60n,
    });
    await expect(registry.connect(relayer).revokeBySig(signed))
      .to.emit(registry, "ConsentRevoked")
      .withArgs(owner.address, g2.address, ALL_DATA, relayer.address, G1 + 1n);
    const helper = accounts[8];
    await registry.connect(owner).setManager(helper.address, true);
    await expect(registry.connect(helper).revokeFor(owner.address, integration.address, D1))
      .to.emit(registry, "ConsentRevoked")
      .withArgs(owner.address, integration.address, D1, helper.address, G2);
    await expect(registry.connect(owner).revokeAll())
      .to.emit(registry, "AllConsentsRevoked")
      .withArgs(owner.address, 2n, owner.address, Via.Owner);

    expect(await snapshot(registry, owner.address, keys)).to.deep.equal({
      epoch: 2n,
      consents: [
        [0n, 0n, 0n, G2, false],
        [0n, 0n, 0n, G2, false],
        [0n, 0n, 0n, G1 + 1n, false],
        [bit(INFER), 0n, 0n, G1, false], // the epoch-0 record stays readable as history
        [0n, 0n, 0n, G2, false],
      ],
    });
  });

  it("revokeAll works under the same conditions and leaves every record readable", async () => {
    const { registry, integrations, manager, admin, owner, g1, integration, integration2, keys } =
      await networkHelpers.loadFixture(ownerWithConsents);
    for (const p of PURPOSES) await registry.connect(admin).deprecatePurpose(p.id);
    for (const i of [integration, integration2]) await integrations.connect(admin).suspendIntegration(i.address);
    const foreign = await ethers.deployContract("AccessManager", [Wallet.createRandom().address]);
    await manager.connect(admin).updateAuthority(await registry.getAddress(), await foreign.getAddress());

    await expect(registry.connect(owner).revokeAll())
      .to.emit(registry, "AllConsentsRevoked")
      .withArgs(owner.address, 2n, owner.address, Via.Owner);
    expect(await registry.isAllowed(owner.address, g1.address, D2, TRAIN)).to.equal(false);
    expect(await snapshot(registry, owner.address, keys)).to.deep.equal({
      epoch: 2n,
      consents: EXPECTED.consents.map(([p, e, ep, v]) => [p, e, ep, v, false]),
    });
  });
});
