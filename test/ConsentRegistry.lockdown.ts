import { expect } from "chai";
import { id } from "ethers";
import { network } from "hardhat";

import { ALL_DATA, NO_EXPIRY, Via } from "../src/sdk/constants.js";
import { consentDomain, signConsent } from "../src/sdk/eip712.js";
import { Purpose, purposesToMask } from "../src/sdk/purposes.js";
import { consentOf, deploySystem } from "./helpers/fixture.js";

/**
 * Issue 9 §2: one O(1) lockdown ends all consents, all outstanding signatures and all managers;
 * managers must be re-appointed explicitly afterwards.
 */
const { ethers, networkHelpers } = await network.create();

const DATA = id("dataset:dave/location#salt-7");
const NOTICE = id("notice:v3");
const ALL = purposesToMask([0, 1, 2, 3, 4, 5, 6, 7]);
const NOW = 2_000_000_000n;

async function fixture() {
  const system = await deploySystem(ethers);
  const [owner, app, grantee, relayer, secondApp] = system.accounts;
  await system.registry.setTime(NOW);
  await system.registry.connect(owner).setManager(app.address, true);
  await system.registry.connect(owner).setManager(secondApp.address, true);
  await system.registry.connect(owner).grant(grantee.address, DATA, ALL, NO_EXPIRY, NOTICE);
  const { chainId } = await ethers.provider.getNetwork();
  const domain = consentDomain(chainId, await system.registry.getAddress());
  return { ...system, owner, app, grantee, relayer, secondApp, domain };
}

describe("ConsentRegistry: lockdown (revokeAll)", () => {
  it("right after the owner's lockdown, a (compromised) manager app can no longer grant anything", async () => {
    const { registry, owner, app, grantee } = await networkHelpers.loadFixture(fixture);
    await expect(registry.connect(owner).revokeAll())
      .to.emit(registry, "AllConsentsRevoked")
      .withArgs(owner.address, 1n, owner.address, Via.Owner);
    // The attack of the review: grantFor(ALL_DATA, every purpose) by the manager in the next block.
    await expect(registry.connect(app).grantFor(owner.address, grantee.address, ALL_DATA, ALL, NO_EXPIRY, NOTICE))
      .to.be.revertedWithCustomError(registry, "ConsentRegistryNotAuthorized")
      .withArgs(app.address, owner.address);
    for (const path of [
      () => registry.connect(app).revokeFor(owner.address, grantee.address, DATA),
      () => registry.connect(app).revokeAllFor(owner.address),
    ]) {
      await expect(path()).to.be.revertedWithCustomError(registry, "ConsentRegistryNotAuthorized");
    }
    expect(await registry.isManager(owner.address, app.address)).to.equal(false);
    expect(await registry.isAllowed(owner.address, grantee.address, DATA, Purpose.MODEL_TRAINING)).to.equal(false);
    expect(await registry.isAllowed(owner.address, grantee.address, ALL_DATA, Purpose.MODEL_TRAINING)).to.equal(false);
  });

  it("ends every outstanding signature of the owner, for every key, in O(1)", async () => {
    const { registry, owner, grantee, relayer, domain } = await networkHelpers.loadFixture(fixture);
    const version = (await registry.getConsent(owner.address, grantee.address, DATA)).version + 1n;
    const grant = await signConsent("Grant", owner, domain, {
      owner: owner.address,
      grantee: grantee.address,
      dataId: ALL_DATA,
      purposes: ALL,
      expiresAt: NO_EXPIRY,
      noticeHash: NOTICE,
      epoch: 0n,
      version: 1n,
      deadline: NOW + 3_600n,
    });
    const revoke = await signConsent("Revoke", owner, domain, {
      owner: owner.address,
      grantee: grantee.address,
      dataId: DATA,
      epoch: 0n,
      version,
      deadline: NOW + 3_600n,
    });
    const lockdown = await signConsent("RevokeAll", owner, domain, {
      owner: owner.address,
      epoch: 0n,
      deadline: NOW + 3_600n,
    });
    await registry.connect(owner).revokeAll();
    await expect(registry.connect(relayer).grantBySig(grant))
      .to.be.revertedWithCustomError(registry, "ConsentRegistryStaleSignature")
      .withArgs(owner.address, 0n, 1n, 1n, 0n);
    await expect(registry.connect(relayer).revokeBySig(revoke))
      .to.be.revertedWithCustomError(registry, "ConsentRegistryStaleSignature")
      .withArgs(owner.address, 0n, version, 1n, version - 1n);
    // A signed lockdown of the old epoch is void too (the owner is already past it).
    await expect(registry.connect(relayer).revokeAllBySig(lockdown))
      .to.be.revertedWithCustomError(registry, "ConsentRegistryStaleSignature")
      .withArgs(owner.address, 0n, 0n, 1n, 0n);
    expect(await registry.epochOf(owner.address)).to.equal(1n);
  });

  it("a manager's own lockdown for the owner removes every manager, itself included", async () => {
    const { registry, owner, app, secondApp, grantee } = await networkHelpers.loadFixture(fixture);
    await expect(registry.connect(app).revokeAllFor(owner.address))
      .to.emit(registry, "AllConsentsRevoked")
      .withArgs(owner.address, 1n, app.address, Via.Manager);
    expect(await registry.isManager(owner.address, app.address)).to.equal(false);
    expect(await registry.isManager(owner.address, secondApp.address)).to.equal(false);
    await expect(
      registry.connect(secondApp).grantFor(owner.address, grantee.address, DATA, ALL, NO_EXPIRY, NOTICE),
    ).to.be.revertedWithCustomError(registry, "ConsentRegistryNotAuthorized");
  });

  it("a signed lockdown ends managers as well", async () => {
    const { registry, owner, app, relayer, domain } = await networkHelpers.loadFixture(fixture);
    const req = await signConsent("RevokeAll", owner, domain, { owner: owner.address, epoch: 0n, deadline: NOW + 60n });
    await expect(registry.connect(relayer).revokeAllBySig(req))
      .to.emit(registry, "AllConsentsRevoked")
      .withArgs(owner.address, 1n, relayer.address, Via.Signature);
    expect(await registry.isManager(owner.address, app.address)).to.equal(false);
  });

  it("managers come back only when re-appointed explicitly, and only the one re-appointed", async () => {
    const { registry, owner, app, secondApp, grantee } = await networkHelpers.loadFixture(fixture);
    await registry.connect(owner).revokeAll();
    await expect(registry.connect(owner).setManager(app.address, true))
      .to.emit(registry, "ManagerSet")
      .withArgs(owner.address, app.address, true);
    expect(await registry.isManager(owner.address, app.address)).to.equal(true);
    expect(await registry.isManager(owner.address, secondApp.address)).to.equal(false);
    await expect(registry.connect(app).grantFor(owner.address, grantee.address, DATA, ALL, NO_EXPIRY, NOTICE))
      .to.emit(registry, "ConsentGranted")
      .withArgs(owner.address, grantee.address, DATA, ALL, NO_EXPIRY, NOTICE, app.address, 2n << 16n);
    // A second lockdown removes it again.
    await registry.connect(owner).revokeAll();
    expect(await registry.isManager(owner.address, app.address)).to.equal(false);
  });

  it("removing a manager a lockdown already removed is ManagerUnchanged (nothing would change)", async () => {
    const { registry, owner, app } = await networkHelpers.loadFixture(fixture);
    await registry.connect(owner).revokeAll();
    await expect(registry.connect(owner).setManager(app.address, false))
      .to.be.revertedWithCustomError(registry, "ConsentRegistryManagerUnchanged")
      .withArgs(owner.address, app.address, false);
  });

  it("costs the same whatever the number of managers and consents (O(1))", async () => {
    const { registry, owner, accounts } = await networkHelpers.loadFixture(fixture);
    const fresh = accounts[6];
    await registry.connect(fresh).grant(accounts[2].address, DATA, ALL, NO_EXPIRY, NOTICE);
    const small = (await (await registry.connect(fresh).revokeAll()).wait())!.gasUsed;
    for (let i = 0; i < 5; i++) {
      await registry
        .connect(owner)
        .setManager(ethers.getAddress(`0x${(0xabc0 + i).toString(16).padStart(40, "0")}`), true);
    }
    const big = (await (await registry.connect(owner).revokeAll()).wait())!.gasUsed;
    expect(big).to.equal(small);
    expect(await consentOf(registry, owner.address, accounts[2].address, DATA)).to.deep.equal([
      ALL,
      0n,
      0n,
      1n << 16n,
      false,
    ]);
  });
});
