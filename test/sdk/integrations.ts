import { expect } from "chai";
import { ZeroHash, id } from "ethers";
import { network } from "hardhat";

import { buildConsentSystemModule } from "../../ignition/modules/ConsentSystem.js";
import { ConsentRegistryClient } from "../../src/sdk/client.js";
import { ConsentSdkError } from "../../src/sdk/errors.js";
import { GovernanceClient, IntegrationRegistryClient } from "../../src/sdk/integrations.js";

const { ethers, ignition, networkHelpers } = await network.create();

const DELAY = 3600n;
const ALICE_LABS = "0x00000000000000000000000000000000000A11cE";
const BOB_AI = "0x0000000000000000000000000000000000000B0b";
const META = id("integration:alice-labs:dpa-v1");

async function rejects(p: Promise<unknown>): Promise<ConsentSdkError> {
  try {
    await p;
  } catch (err) {
    expect(err).to.be.instanceOf(ConsentSdkError);
    return err as ConsentSdkError;
  }
  expect.fail("expected a ConsentSdkError");
}

async function setup() {
  const [deployer, governor, stranger] = await ethers.getSigners();
  const deployed = await ignition.deploy(
    buildConsentSystemModule([{ address: ALICE_LABS, metadataHash: META, purposes: ["INFERENCE"] }]),
    { parameters: { ConsentSystem: { governor: governor.address, executionDelay: DELAY } } },
  );
  const addresses = {
    manager: await deployed.manager.getAddress(),
    integrations: await deployed.integrationRegistry.getAddress(),
    registry: await deployed.consentRegistry.getAddress(),
  };
  const targets = { consentRegistry: addresses.registry, integrationRegistry: addresses.integrations };
  const gov = await GovernanceClient.connect(addresses.manager, governor, targets);
  const integrations = await IntegrationRegistryClient.connect(addresses.integrations, stranger);
  return { deployer, governor, stranger, addresses, targets, gov, integrations };
}

describe("IntegrationRegistryClient", () => {
  it("reads an integration, whether it is active for a purpose, and lists them from events", async () => {
    const { integrations } = await networkHelpers.loadFixture(setup);
    const alice = {
      address: ALICE_LABS,
      purposes: [2],
      purposesMask: 4n,
      status: "Active",
      metadataHash: META,
    };
    expect(await integrations.getIntegration(ALICE_LABS)).to.deep.equal(alice);
    expect(await integrations.getIntegration(BOB_AI)).to.deep.equal({
      address: BOB_AI,
      purposes: [],
      purposesMask: 0n,
      status: "None",
      metadataHash: ZeroHash,
    });
    expect(await integrations.isActiveIntegration(ALICE_LABS, "INFERENCE")).to.equal(true);
    expect(await integrations.isActiveIntegration(ALICE_LABS, 0)).to.equal(false);
    expect(await integrations.list()).to.deep.equal([alice]);
  });

  it("refuses an address without code", async () => {
    const { stranger } = await networkHelpers.loadFixture(setup);
    const err = await rejects(IntegrationRegistryClient.connect(BOB_AI, stranger));
    expect(err.code).to.equal("NO_CONTRACT");
    expect(err.message).to.equal(`no contract at ${BOB_AI}: is the integration registry deployed on this chain?`);
  });
});

describe("GovernanceClient", () => {
  it("propose → pending → (too early: refused in words) → time passes → execute → effect", async () => {
    const { gov, governor, integrations, addresses } = await networkHelpers.loadFixture(setup);
    const proposed = await gov
      .proposeRegisterIntegration({ integration: BOB_AI, metadataHash: META, purposes: [0, 3] })
      .wait();
    const scheduledAt = BigInt((await ethers.provider.getBlock(proposed.receipt.blockNumber))!.timestamp);
    const data = integrations.contract.interface.encodeFunctionData("registerIntegration", [BOB_AI, META, 9n]);
    const operationId = await gov.contract.hashOperation(governor.address, addresses.integrations, data);
    expect(proposed.result).to.deep.equal({
      operationId,
      nonce: 1n,
      readyAt: scheduledAt + DELAY,
      caller: governor.address,
      target: addresses.integrations,
      data,
    });
    const pending = await gov.pending();
    expect(pending.map((p) => [p.operationId, p.readyAt, p.ready, p.transactionHash])).to.deep.equal([
      [operationId, scheduledAt + DELAY, false, proposed.receipt.hash],
    ]);

    const early = await rejects(
      gov.executeRegisterIntegration({ integration: BOB_AI, metadataHash: META, purposes: [0, 3] }).wait(),
    );
    expect(early.code).to.equal("REVERTED");
    expect(early.message).to.equal(
      `AccessManagerNotReady: operation ${operationId} is scheduled but its delay has not passed yet`,
    );

    await networkHelpers.time.increaseTo(scheduledAt + DELAY);
    expect((await gov.pending()).map((p) => p.ready)).to.deep.equal([true]);
    const executed = await gov
      .executeRegisterIntegration({ integration: BOB_AI, metadataHash: META, purposes: [0, 3] })
      .wait();
    expect(executed.result).to.deep.equal({ operationId, nonce: 1n, target: addresses.integrations, data });
    expect((await integrations.getIntegration(BOB_AI)).status).to.equal("Active");
    expect(await gov.pending()).to.deep.equal([]);
  });

  it("suspends an integration and deprecates / defines purposes through the delay", async () => {
    const { gov, governor, integrations, addresses } = await networkHelpers.loadFixture(setup);
    const registry = await ConsentRegistryClient.connect(addresses.registry, governor);
    const newPurposeMeta = id("omnitensor-purpose:8:SYNTHETIC_DATA");
    const ops = [
      await gov.proposeSuspendIntegration(ALICE_LABS).wait(),
      await gov.proposeDeprecatePurpose(7).wait(),
      await gov.proposeDefinePurpose(8, newPurposeMeta).wait(),
    ];
    expect((await gov.pending()).map((p) => p.operationId)).to.deep.equal(ops.map((o) => o.result.operationId));
    await networkHelpers.time.increaseTo(ops[2]!.result.readyAt);
    await gov.executeSuspendIntegration(ALICE_LABS).wait();
    await gov.executeDeprecatePurpose(7).wait();
    await gov.executeDefinePurpose(8, newPurposeMeta).wait();

    expect((await integrations.getIntegration(ALICE_LABS)).status).to.equal("Suspended");
    expect(await integrations.isActiveIntegration(ALICE_LABS, "INFERENCE")).to.equal(false);
    const catalogue = await registry.purposes();
    expect(catalogue.grantableMask).to.equal(0x17fn);
    expect(catalogue.definedMask).to.equal(0x1ffn);
    expect(catalogue.purposes.slice(7)).to.deep.equal([
      { id: 7, name: "RESEARCH", metadataHash: await registry.contract.purposeMetadata(7), grantable: false },
      { id: 8, name: "purpose#8", metadataHash: newPurposeMeta, grantable: true },
    ]);
  });

  it("a non-governor cannot schedule: refused in words", async () => {
    const { stranger, addresses, targets } = await networkHelpers.loadFixture(setup);
    const gov = await GovernanceClient.connect(addresses.manager, stranger, targets);
    const err = await rejects(gov.proposeDeprecatePurpose(1).wait());
    expect(err.message).to.equal(
      `AccessManagerUnauthorizedCall: ${stranger.address} may not call selector ${id("deprecatePurpose(uint8)").slice(0, 10)} on ${addresses.registry}`,
    );
  });

  it("validates before building: purpose id and integration request", async () => {
    const { gov, governor } = await networkHelpers.loadFixture(setup);
    const before = await ethers.provider.getTransactionCount(governor.address);
    const badId = await rejects(gov.proposeDefinePurpose(128, META).wait());
    expect([badId.code, badId.message]).to.deep.equal([
      "INVALID_INPUT",
      "proposeDefinePurpose.id: purpose ids are 0..127",
    ]);
    const badMeta = await rejects(
      gov.proposeRegisterIntegration({ integration: BOB_AI, metadataHash: "0x12", purposes: [0] }).populate(),
    );
    expect(badMeta.message).to.equal(
      "proposeRegisterIntegration.metadataHash: expected a 0x-prefixed 32-byte hex string (66 characters)",
    );
    expect(await ethers.provider.getTransactionCount(governor.address)).to.equal(before);
  });
});
