/**
 * Branches the feature suites left untaken (found by `npm run coverage`, scripts/branch-coverage.ts).
 * Each test names the branch it takes and checks the exact outcome, not just that it ran.
 */
import { expect } from "chai";
import { id } from "ethers";
import { network } from "hardhat";

import { Via, viaOf } from "../src/sdk/constants.js";
import { consentDomain, signConsent } from "../src/sdk/eip712.js";
import { Purpose, purposesToMask } from "../src/sdk/purposes.js";
import { deploySystem } from "./helpers/fixture.js";

const { ethers, networkHelpers } = await network.create();

const DATA = id("dataset:coverage-gaps");
const PURPOSES = purposesToMask([Purpose.MODEL_TRAINING]);
const NOW = 2_000_000_000n;

async function fixture() {
  const system = await deploySystem(ethers);
  const { registry, accounts } = system;
  const [owner, grantee, relayer, stranger] = accounts;
  await registry.setTime(NOW);
  await registry.connect(owner).grant(grantee.address, DATA, PURPOSES, 0n, id("notice"));
  const { chainId } = await ethers.provider.getNetwork();
  const domain = consentDomain(chainId, await registry.getAddress());
  return { ...system, owner, grantee, relayer, stranger, domain };
}

describe("coverage gaps: ConsentRegistry", () => {
  // ConsentRegistry._revokeBySig: each early `return err` before the slot write: the deadline,
  // the freshness rule and the signature check fail, so the revocation is never applied.
  describe("revokeBySig with a failing check does not revoke", () => {
    const G1 = 1n << 16n;

    it("deadline passed: SignatureExpired(deadline, now), consent untouched", async () => {
      const { registry, owner, grantee, relayer, domain } = await networkHelpers.loadFixture(fixture);
      const message = {
        owner: owner.address,
        grantee: grantee.address,
        dataId: DATA,
        epoch: 0n,
        version: G1 + 1n,
        deadline: NOW - 1n,
      };
      const signed = await signConsent("Revoke", owner, domain, message);

      await expect(registry.connect(relayer).revokeBySig(signed))
        .to.be.revertedWithCustomError(registry, "ConsentRegistrySignatureExpired")
        .withArgs(NOW - 1n, NOW);
      expect(await registry.activePurposes(owner.address, grantee.address, DATA)).to.equal(PURPOSES);
    });

    it("signed by someone else: InvalidSignature(owner), consent untouched", async () => {
      const { registry, owner, grantee, relayer, stranger, domain } = await networkHelpers.loadFixture(fixture);
      const message = {
        owner: owner.address,
        grantee: grantee.address,
        dataId: DATA,
        epoch: 0n,
        version: G1 + 1n,
        deadline: NOW + 60n,
      };
      const signed = await signConsent("Revoke", stranger, domain, message);

      await expect(registry.connect(relayer).revokeBySig(signed))
        .to.be.revertedWithCustomError(registry, "ConsentRegistryInvalidSignature")
        .withArgs(owner.address);
      expect(await registry.activePurposes(owner.address, grantee.address, DATA)).to.equal(PURPOSES);
    });

    it("already applied: StaleSignature(owner, …); the first relay revoked exactly once", async () => {
      const { registry, owner, grantee, relayer, domain } = await networkHelpers.loadFixture(fixture);
      const message = {
        owner: owner.address,
        grantee: grantee.address,
        dataId: DATA,
        epoch: 0n,
        version: G1 + 1n,
        deadline: NOW + 60n,
      };
      const signed = await signConsent("Revoke", owner, domain, message);
      await expect(registry.connect(relayer).revokeBySig(signed))
        .to.emit(registry, "ConsentRevoked")
        .withArgs(owner.address, grantee.address, DATA, relayer.address, G1 + 1n);
      expect(viaOf(owner.address, relayer.address, G1 + 1n)).to.equal(Via.Signature);

      await expect(registry.connect(relayer).revokeBySig(signed))
        .to.be.revertedWithCustomError(registry, "ConsentRegistryStaleSignature")
        .withArgs(owner.address, 0n, G1 + 1n, 0n, G1 + 1n);
      expect(await registry.activePurposes(owner.address, grantee.address, DATA)).to.equal(0n);
    });
  });
});
