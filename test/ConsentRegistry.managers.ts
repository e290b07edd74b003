import { expect } from "chai";
import { ZeroAddress, id } from "ethers";
import { network } from "hardhat";

import { ALL_DATA, NO_EXPIRY, Via, viaOf } from "../src/sdk/constants.js";
import { Purpose, purposesToMask } from "../src/sdk/purposes.js";
import type { ERC1271WalletMock } from "../types/ethers-contracts/index.js";
import { consentOf, deploySystem } from "./helpers/fixture.js";

const { ethers, networkHelpers } = await network.create();

const DATA = id("dataset:bob/voice#salt-9");
const NOTICE = id("notice:v3");
const PURPOSES = purposesToMask([Purpose.MODEL_TRAINING, Purpose.EVALUATION]);
const NOW = 2_000_000_000n;
const EXPIRY = NOW + 86_400n;
/** The versions a key's first and second transaction changes set (generations 1 and 2). */
const G1 = 1n << 16n;
const G2 = 2n << 16n;

async function fixture() {
  const system = await deploySystem(ethers);
  const [owner, manager, grantee, stranger, third, otherOwner, walletSigner] = system.accounts;
  await system.registry.setTime(NOW);
  await system.registry.connect(owner).setManager(manager.address, true);
  return { ...system, owner, manager, grantee, stranger, third, otherOwner, walletSigner };
}

describe("ConsentRegistry: managers", () => {
  describe("appointing", () => {
    it("setManager emits ManagerSet and isManager follows it", async () => {
      const { registry, owner, stranger } = await networkHelpers.loadFixture(fixture);
      expect(await registry.isManager(owner.address, stranger.address)).to.equal(false);
      await expect(registry.connect(owner).setManager(stranger.address, true))
        .to.emit(registry, "ManagerSet")
        .withArgs(owner.address, stranger.address, true);
      expect(await registry.isManager(owner.address, stranger.address)).to.equal(true);
      // Directional: the owner is not the manager's manager.
      expect(await registry.isManager(stranger.address, owner.address)).to.equal(false);

      await expect(registry.connect(owner).setManager(stranger.address, false))
        .to.emit(registry, "ManagerSet")
        .withArgs(owner.address, stranger.address, false);
      expect(await registry.isManager(owner.address, stranger.address)).to.equal(false);
    });

    it("a write that would change nothing is ManagerUnchanged(owner, manager, approved)", async () => {
      const { registry, owner, manager, stranger } = await networkHelpers.loadFixture(fixture);
      await expect(registry.connect(owner).setManager(stranger.address, false))
        .to.be.revertedWithCustomError(registry, "ConsentRegistryManagerUnchanged")
        .withArgs(owner.address, stranger.address, false);
      await expect(registry.connect(owner).setManager(manager.address, true))
        .to.be.revertedWithCustomError(registry, "ConsentRegistryManagerUnchanged")
        .withArgs(owner.address, manager.address, true);
      expect(await registry.isManager(owner.address, manager.address)).to.equal(true);
      expect(await registry.isManager(owner.address, stranger.address)).to.equal(false);
    });

    it("the zero address and the owner itself are InvalidManager", async () => {
      const { registry, owner } = await networkHelpers.loadFixture(fixture);
      for (const approved of [true, false]) {
        await expect(registry.connect(owner).setManager(ZeroAddress, approved))
          .to.be.revertedWithCustomError(registry, "ConsentRegistryInvalidManager")
          .withArgs(ZeroAddress);
        await expect(registry.connect(owner).setManager(owner.address, approved))
          .to.be.revertedWithCustomError(registry, "ConsentRegistryInvalidManager")
          .withArgs(owner.address);
      }
      expect(await registry.isManager(owner.address, ZeroAddress)).to.equal(false);
      expect(await registry.isManager(owner.address, owner.address)).to.equal(false);
    });

    it("a smart-contract wallet owner appoints a manager through its own call", async () => {
      const { registry, walletSigner, manager, grantee } = await networkHelpers.loadFixture(fixture);
      const wallet = (await ethers.deployContract("ERC1271WalletMock", [
        walletSigner.address,
      ])) as unknown as ERC1271WalletMock;
      const walletAddr = await wallet.getAddress();
      const call = registry.interface.encodeFunctionData("setManager", [manager.address, true]);

      await expect(wallet.connect(walletSigner).execute(await registry.getAddress(), call))
        .to.emit(registry, "ManagerSet")
        .withArgs(walletAddr, manager.address, true);
      expect(await registry.isManager(walletAddr, manager.address)).to.equal(true);

      await expect(registry.connect(manager).grantFor(walletAddr, grantee.address, DATA, PURPOSES, EXPIRY, NOTICE))
        .to.emit(registry, "ConsentGranted")
        .withArgs(walletAddr, grantee.address, DATA, PURPOSES, EXPIRY, NOTICE, manager.address, G1);
      expect(await registry.activePurposes(walletAddr, grantee.address, DATA)).to.equal(PURPOSES);
    });
  });

  describe("acting for the owner", () => {
    it("grantFor / revokeFor / revokeAllFor by a manager carry actor = manager (via Manager: a transaction version, actor ≠ owner)", async () => {
      const { registry, owner, manager, grantee } = await networkHelpers.loadFixture(fixture);
      await expect(registry.connect(manager).grantFor(owner.address, grantee.address, DATA, PURPOSES, EXPIRY, NOTICE))
        .to.emit(registry, "ConsentGranted")
        .withArgs(owner.address, grantee.address, DATA, PURPOSES, EXPIRY, NOTICE, manager.address, G1);
      expect(viaOf(owner.address, manager.address, G1)).to.equal(Via.Manager);
      expect(await consentOf(registry, owner.address, grantee.address, DATA)).to.deep.equal([
        PURPOSES,
        EXPIRY,
        0n,
        G1,
        true,
      ]);

      await expect(registry.connect(manager).revokeFor(owner.address, grantee.address, DATA))
        .to.emit(registry, "ConsentRevoked")
        .withArgs(owner.address, grantee.address, DATA, manager.address, G2);
      expect(await registry.activePurposes(owner.address, grantee.address, DATA)).to.equal(0n);

      await expect(registry.connect(manager).revokeAllFor(owner.address))
        .to.emit(registry, "AllConsentsRevoked")
        .withArgs(owner.address, 1n, manager.address, Via.Manager);
      expect(await registry.epochOf(owner.address)).to.equal(1n);
      // The manager acted for the owner only, never for itself.
      expect(await registry.epochOf(manager.address)).to.equal(0n);
    });

    it("the owner calling the *For functions for itself is via = Owner", async () => {
      const { registry, owner, grantee } = await networkHelpers.loadFixture(fixture);
      await expect(registry.connect(owner).grantFor(owner.address, grantee.address, DATA, PURPOSES, 0n, NOTICE))
        .to.emit(registry, "ConsentGranted")
        .withArgs(owner.address, grantee.address, DATA, PURPOSES, NO_EXPIRY, NOTICE, owner.address, G1);
      expect(viaOf(owner.address, owner.address, G1)).to.equal(Via.Owner);
      await expect(registry.connect(owner).revokeAllFor(owner.address))
        .to.emit(registry, "AllConsentsRevoked")
        .withArgs(owner.address, 1n, owner.address, Via.Owner);
    });

    it("a manager's grant is validated like the owner's", async () => {
      const { registry, owner, manager, grantee } = await networkHelpers.loadFixture(fixture);
      await expect(registry.connect(manager).grantFor(owner.address, grantee.address, DATA, PURPOSES, NOW, NOTICE))
        .to.be.revertedWithCustomError(registry, "ConsentRegistryExpiryInPast")
        .withArgs(NOW, NOW);
      await expect(
        registry.connect(manager).revokeFor(owner.address, grantee.address, ethers.ZeroHash),
      ).to.be.revertedWithCustomError(registry, "ConsentRegistryZeroDataId");
    });
  });

  describe("who may not act", () => {
    it("a non-manager is NotAuthorized(caller, owner) on every path and changes nothing", async () => {
      const { registry, owner, stranger, grantee } = await networkHelpers.loadFixture(fixture);
      await registry.connect(owner).grant(grantee.address, DATA, PURPOSES, NO_EXPIRY, NOTICE);

      await expect(registry.connect(stranger).grantFor(owner.address, grantee.address, ALL_DATA, PURPOSES, 0n, NOTICE))
        .to.be.revertedWithCustomError(registry, "ConsentRegistryNotAuthorized")
        .withArgs(stranger.address, owner.address);
      await expect(registry.connect(stranger).revokeFor(owner.address, grantee.address, DATA))
        .to.be.revertedWithCustomError(registry, "ConsentRegistryNotAuthorized")
        .withArgs(stranger.address, owner.address);
      await expect(registry.connect(stranger).revokeAllFor(owner.address))
        .to.be.revertedWithCustomError(registry, "ConsentRegistryNotAuthorized")
        .withArgs(stranger.address, owner.address);

      expect(await registry.activePurposes(owner.address, grantee.address, DATA)).to.equal(PURPOSES);
      expect(await registry.activePurposes(owner.address, grantee.address, ALL_DATA)).to.equal(0n);
      expect(await registry.epochOf(owner.address)).to.equal(0n);
    });

    it("a manager of one owner is NotAuthorized for another owner", async () => {
      const { registry, manager, otherOwner, grantee } = await networkHelpers.loadFixture(fixture);
      await expect(registry.connect(manager).grantFor(otherOwner.address, grantee.address, DATA, PURPOSES, 0n, NOTICE))
        .to.be.revertedWithCustomError(registry, "ConsentRegistryNotAuthorized")
        .withArgs(manager.address, otherOwner.address);
      await expect(registry.connect(manager).revokeAllFor(otherOwner.address))
        .to.be.revertedWithCustomError(registry, "ConsentRegistryNotAuthorized")
        .withArgs(manager.address, otherOwner.address);
      expect(await registry.epochOf(otherOwner.address)).to.equal(0n);
    });

    it("a removed manager is NotAuthorized", async () => {
      const { registry, owner, manager, grantee } = await networkHelpers.loadFixture(fixture);
      await registry.connect(manager).grantFor(owner.address, grantee.address, DATA, PURPOSES, EXPIRY, NOTICE);
      await registry.connect(owner).setManager(manager.address, false);

      await expect(registry.connect(manager).grantFor(owner.address, grantee.address, ALL_DATA, PURPOSES, 0n, NOTICE))
        .to.be.revertedWithCustomError(registry, "ConsentRegistryNotAuthorized")
        .withArgs(manager.address, owner.address);
      await expect(registry.connect(manager).revokeFor(owner.address, grantee.address, DATA))
        .to.be.revertedWithCustomError(registry, "ConsentRegistryNotAuthorized")
        .withArgs(manager.address, owner.address);
      await expect(registry.connect(manager).revokeAllFor(owner.address))
        .to.be.revertedWithCustomError(registry, "ConsentRegistryNotAuthorized")
        .withArgs(manager.address, owner.address);
      // What it did while appointed stays until the owner withdraws it.
      expect(await registry.activePurposes(owner.address, grantee.address, DATA)).to.equal(PURPOSES);
      expect(await registry.epochOf(owner.address)).to.equal(0n);
    });

    it("a manager calling setManager appoints only its OWN managers, never the owner's", async () => {
      const { registry, owner, manager, third, grantee } = await networkHelpers.loadFixture(fixture);
      await expect(registry.connect(manager).setManager(third.address, true))
        .to.emit(registry, "ManagerSet")
        .withArgs(manager.address, third.address, true);
      expect(await registry.isManager(manager.address, third.address)).to.equal(true);
      expect(await registry.isManager(owner.address, third.address)).to.equal(false);

      await expect(registry.connect(third).grantFor(owner.address, grantee.address, DATA, PURPOSES, 0n, NOTICE))
        .to.be.revertedWithCustomError(registry, "ConsentRegistryNotAuthorized")
        .withArgs(third.address, owner.address);
      await expect(registry.connect(third).revokeAllFor(owner.address))
        .to.be.revertedWithCustomError(registry, "ConsentRegistryNotAuthorized")
        .withArgs(third.address, owner.address);
      // Nor can the manager edit the owner's list by naming the owner: that edits its own list
      // (where the owner is no manager, so nothing would change).
      await expect(registry.connect(manager).setManager(owner.address, false))
        .to.be.revertedWithCustomError(registry, "ConsentRegistryManagerUnchanged")
        .withArgs(manager.address, owner.address, false);
      await expect(registry.connect(manager).setManager(manager.address, false))
        .to.be.revertedWithCustomError(registry, "ConsentRegistryInvalidManager")
        .withArgs(manager.address);
      expect(await registry.isManager(owner.address, manager.address)).to.equal(true);
      expect(await registry.activePurposes(owner.address, grantee.address, DATA)).to.equal(0n);
    });
  });

  describe("the owner always has the last word", () => {
    it("the owner revokes what a manager granted", async () => {
      const { registry, owner, manager, grantee } = await networkHelpers.loadFixture(fixture);
      await registry.connect(manager).grantFor(owner.address, grantee.address, DATA, PURPOSES, EXPIRY, NOTICE);
      await expect(registry.connect(owner).revoke(grantee.address, DATA))
        .to.emit(registry, "ConsentRevoked")
        .withArgs(owner.address, grantee.address, DATA, owner.address, G2);
      expect(await registry.isAllowed(owner.address, grantee.address, DATA, Purpose.MODEL_TRAINING)).to.equal(false);
    });

    it("after a manager re-grants, the owner removes the manager and revokes all", async () => {
      const { registry, owner, manager, grantee } = await networkHelpers.loadFixture(fixture);
      await registry.connect(manager).grantFor(owner.address, grantee.address, DATA, PURPOSES, EXPIRY, NOTICE);
      await registry.connect(owner).revoke(grantee.address, DATA);
      await expect(registry.connect(manager).grantFor(owner.address, grantee.address, ALL_DATA, PURPOSES, 0n, NOTICE))
        .to.emit(registry, "ConsentGranted")
        .withArgs(owner.address, grantee.address, ALL_DATA, PURPOSES, NO_EXPIRY, NOTICE, manager.address, G1);
      expect(await registry.isAllowed(owner.address, grantee.address, DATA, Purpose.EVALUATION)).to.equal(true);

      await expect(registry.connect(owner).setManager(manager.address, false))
        .to.emit(registry, "ManagerSet")
        .withArgs(owner.address, manager.address, false);
      await expect(registry.connect(owner).revokeAll())
        .to.emit(registry, "AllConsentsRevoked")
        .withArgs(owner.address, 1n, owner.address, Via.Owner);

      expect(await registry.isAllowed(owner.address, grantee.address, DATA, Purpose.EVALUATION)).to.equal(false);
      expect(await registry.activePurposes(owner.address, grantee.address, ALL_DATA)).to.equal(0n);
      await expect(registry.connect(manager).grantFor(owner.address, grantee.address, ALL_DATA, PURPOSES, 0n, NOTICE))
        .to.be.revertedWithCustomError(registry, "ConsentRegistryNotAuthorized")
        .withArgs(manager.address, owner.address);
    });
  });
});
