import { expect } from "chai";
import { ZeroAddress, ZeroHash, id } from "ethers";
import { network } from "hardhat";

import { Purpose, purposesToMask } from "../../src/sdk/purposes.js";
import { deploySystem } from "../helpers/fixture.js";

const { ethers } = await network.create();

/** Mirror of `IIntegrationRegistry.Status`. */
const Status = { None: 0n, Active: 1n, Suspended: 2n } as const;

const META = id("integration:acme-labs:dpa-v1");
const META_2 = id("integration:acme-labs:dpa-v2");
const SHARING = Purpose.THIRD_PARTY_SHARING;
const PURPOSES = purposesToMask([SHARING, Purpose.RESEARCH]);

async function setup() {
  const system = await deploySystem(ethers);
  const [integration, other, stranger] = system.accounts;
  return { ...system, integration, other, stranger };
}

describe("IntegrationRegistry", () => {
  describe("registerIntegration", () => {
    it("registers as Active with its purposes and metadata", async () => {
      const { integrations, admin, integration } = await setup();
      expect(await integrations.getIntegration(integration.address)).to.deep.equal([0n, Status.None, ZeroHash]);

      await expect(integrations.connect(admin).registerIntegration(integration.address, META, PURPOSES))
        .to.emit(integrations, "IntegrationRegistered")
        .withArgs(integration.address, META, PURPOSES);

      const entry = await integrations.getIntegration(integration.address);
      expect([entry.purposes, entry.status, entry.metadataHash]).to.deep.equal([PURPOSES, Status.Active, META]);
    });

    it("rejects the zero address, empty purposes, and a second registration in any status", async () => {
      const { integrations, admin, integration } = await setup();
      await expect(
        integrations.connect(admin).registerIntegration(ZeroAddress, META, PURPOSES),
      ).to.be.revertedWithCustomError(integrations, "IntegrationRegistryZeroAddress");
      await expect(
        integrations.connect(admin).registerIntegration(integration.address, META, 0n),
      ).to.be.revertedWithCustomError(integrations, "IntegrationRegistryEmptyPurposes");

      await integrations.connect(admin).registerIntegration(integration.address, META, PURPOSES);
      await expect(integrations.connect(admin).registerIntegration(integration.address, META_2, 1n))
        .to.be.revertedWithCustomError(integrations, "IntegrationRegistryAlreadyRegistered")
        .withArgs(integration.address);
      // Suspension is not a way to re-register with other terms.
      await integrations.connect(admin).suspendIntegration(integration.address);
      await expect(integrations.connect(admin).registerIntegration(integration.address, META_2, 1n))
        .to.be.revertedWithCustomError(integrations, "IntegrationRegistryAlreadyRegistered")
        .withArgs(integration.address);
      expect(await integrations.getIntegration(integration.address)).to.deep.equal([PURPOSES, Status.Suspended, META]);
    });
  });

  describe("updateIntegration", () => {
    it("replaces purposes and metadata and keeps the status", async () => {
      const { integrations, admin, integration } = await setup();
      await integrations.connect(admin).registerIntegration(integration.address, META, PURPOSES);
      const narrower = purposesToMask([Purpose.RESEARCH]);

      await expect(integrations.connect(admin).updateIntegration(integration.address, META_2, narrower))
        .to.emit(integrations, "IntegrationUpdated")
        .withArgs(integration.address, META_2, narrower);
      expect(await integrations.getIntegration(integration.address)).to.deep.equal([narrower, Status.Active, META_2]);

      // Updating a suspended integration does not reinstate it.
      await integrations.connect(admin).suspendIntegration(integration.address);
      await integrations.connect(admin).updateIntegration(integration.address, META, PURPOSES);
      expect(await integrations.getIntegration(integration.address)).to.deep.equal([PURPOSES, Status.Suspended, META]);
    });

    it("rejects empty purposes and an unregistered integration", async () => {
      const { integrations, admin, integration, other } = await setup();
      await integrations.connect(admin).registerIntegration(integration.address, META, PURPOSES);
      await expect(
        integrations.connect(admin).updateIntegration(integration.address, META_2, 0n),
      ).to.be.revertedWithCustomError(integrations, "IntegrationRegistryEmptyPurposes");
      await expect(integrations.connect(admin).updateIntegration(other.address, META_2, PURPOSES))
        .to.be.revertedWithCustomError(integrations, "IntegrationRegistryNotRegistered")
        .withArgs(other.address);
      await expect(integrations.connect(admin).updateIntegration(ZeroAddress, META_2, PURPOSES))
        .to.be.revertedWithCustomError(integrations, "IntegrationRegistryNotRegistered")
        .withArgs(ZeroAddress);
    });
  });

  describe("suspendIntegration / reinstateIntegration", () => {
    it("moves Active → Suspended → Active with events, keeping purposes and metadata", async () => {
      const { integrations, admin, integration } = await setup();
      await integrations.connect(admin).registerIntegration(integration.address, META, PURPOSES);

      await expect(integrations.connect(admin).suspendIntegration(integration.address))
        .to.emit(integrations, "IntegrationSuspended")
        .withArgs(integration.address);
      expect(await integrations.getIntegration(integration.address)).to.deep.equal([PURPOSES, Status.Suspended, META]);

      await expect(integrations.connect(admin).reinstateIntegration(integration.address))
        .to.emit(integrations, "IntegrationReinstated")
        .withArgs(integration.address);
      expect(await integrations.getIntegration(integration.address)).to.deep.equal([PURPOSES, Status.Active, META]);
    });

    it("rejects a transition from the wrong status, naming the current one", async () => {
      const { integrations, admin, integration, other } = await setup();
      await expect(integrations.connect(admin).suspendIntegration(other.address))
        .to.be.revertedWithCustomError(integrations, "IntegrationRegistryWrongStatus")
        .withArgs(other.address, Status.None);
      await expect(integrations.connect(admin).reinstateIntegration(other.address))
        .to.be.revertedWithCustomError(integrations, "IntegrationRegistryWrongStatus")
        .withArgs(other.address, Status.None);

      await integrations.connect(admin).registerIntegration(integration.address, META, PURPOSES);
      await expect(integrations.connect(admin).reinstateIntegration(integration.address))
        .to.be.revertedWithCustomError(integrations, "IntegrationRegistryWrongStatus")
        .withArgs(integration.address, Status.Active);
      await integrations.connect(admin).suspendIntegration(integration.address);
      await expect(integrations.connect(admin).suspendIntegration(integration.address))
        .to.be.revertedWithCustomError(integrations, "IntegrationRegistryWrongStatus")
        .withArgs(integration.address, Status.Suspended);
    });
  });

  it("isActiveIntegration truth table", async () => {
    const { integrations, admin, integration, other } = await setup();
    const active = (who: string, purpose: number) => integrations.isActiveIntegration(who, purpose);

    // unregistered
    expect(await active(other.address, SHARING)).to.equal(false);
    expect(await active(ZeroAddress, SHARING)).to.equal(false);

    // active, with and without the purpose; bit 127 included to test the top of the range
    const mask = PURPOSES | (1n << 127n);
    await integrations.connect(admin).registerIntegration(integration.address, META, mask);
    expect(await active(integration.address, SHARING)).to.equal(true);
    expect(await active(integration.address, Purpose.RESEARCH)).to.equal(true);
    expect(await active(integration.address, 127)).to.equal(true);
    expect(await active(integration.address, Purpose.MODEL_TRAINING)).to.equal(false);
    expect(await active(integration.address, Purpose.INFERENCE)).to.equal(false);
    // purposes above 127 are never active, whatever is stored
    expect(await active(integration.address, 128)).to.equal(false);
    expect(await active(integration.address, 255)).to.equal(false);

    // suspended: nothing
    await integrations.connect(admin).suspendIntegration(integration.address);
    expect(await active(integration.address, SHARING)).to.equal(false);
    expect(await active(integration.address, 127)).to.equal(false);

    // reinstated: back to its purposes
    await integrations.connect(admin).reinstateIntegration(integration.address);
    expect(await active(integration.address, SHARING)).to.equal(true);
    expect(await active(integration.address, Purpose.MODEL_TRAINING)).to.equal(false);

    // updated purposes take effect at once
    await integrations.connect(admin).updateIntegration(integration.address, META, purposesToMask([Purpose.INFERENCE]));
    expect(await active(integration.address, SHARING)).to.equal(false);
    expect(await active(integration.address, Purpose.INFERENCE)).to.equal(true);
  });

  it("every governed function refuses callers the authority does not allow", async () => {
    const { integrations, manager, admin, integration, stranger } = await setup();
    expect(await integrations.authority()).to.equal(await manager.getAddress());
    await integrations.connect(admin).registerIntegration(integration.address, META, PURPOSES);
    const attempts: [string, () => Promise<unknown>][] = [
      [stranger.address, () => integrations.connect(stranger).registerIntegration(stranger.address, META, PURPOSES)],
      [stranger.address, () => integrations.connect(stranger).updateIntegration(integration.address, META_2, 1n)],
      [stranger.address, () => integrations.connect(stranger).suspendIntegration(integration.address)],
      [stranger.address, () => integrations.connect(stranger).reinstateIntegration(integration.address)],
      // the integration itself has no say either
      [integration.address, () => integrations.connect(integration).suspendIntegration(integration.address)],
    ];
    for (const [caller, attempt] of attempts) {
      await expect(attempt()).to.be.revertedWithCustomError(integrations, "AccessManagedUnauthorized").withArgs(caller);
    }
    expect(await integrations.getIntegration(integration.address)).to.deep.equal([PURPOSES, Status.Active, META]);
  });
});
