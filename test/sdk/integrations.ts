import { expect } from "chai";
import { ZeroHash, id } from "ethers";
import type { Provider } from "ethers";
import { network } from "hardhat";

import { buildConsentSystemModule } from "../../ignition/modules/ConsentSystem.js";
import { ConsentRegistryClient } from "../../src/sdk/client.js";
import { ConsentSdkError } from "../../src/sdk/errors.js";
import { simulateGovernedCall, supportsStateOverride } from "../../src/sdk/governance-simulation.js";
import { GovernanceClient } from "../../src/sdk/governance-client.js";
import type { GovernedAction } from "../../src/sdk/governance-client.js";
import { IntegrationRegistryClient } from "../../src/sdk/integrations.js";
import { isoTime } from "../../src/sdk/time-words.js";
import { rejects } from "./rejects.js";

const { ethers, ignition, networkHelpers } = await network.create();

const DELAY = 3600n;
const ALICE_LABS = "0x00000000000000000000000000000000000A11cE";
const BOB_AI = "0x0000000000000000000000000000000000000B0b";
const META = id("integration:alice-labs:dpa-v1");

function invalidCall(build: () => unknown): ConsentSdkError {
  try {
    build();
  } catch (err) {
    expect(err).to.be.instanceOf(ConsentSdkError);
    return err as ConsentSdkError;
  }
  expect.fail("expected a ConsentSdkError");
}

async function setup() {
  const [deployer, governor, stranger, guardian] = await ethers.getSigners();
  const deployed = await ignition.deploy(
    buildConsentSystemModule([{ address: ALICE_LABS, metadataHash: META, purposes: ["INFERENCE"] }]),
    {
      parameters: {
        ConsentSystem: { governor: governor.address, guardian: guardian.address, executionDelay: DELAY },
      },
    },
  );
  const addresses = {
    manager: await deployed.manager.getAddress(),
    integrations: await deployed.integrationRegistry.getAddress(),
    registry: await deployed.consentRegistry.getAddress(),
  };
  const targets = { consentRegistry: addresses.registry, integrationRegistry: addresses.integrations };
  const gov = await GovernanceClient.connect(addresses.manager, governor, targets);
  const integrations = await IntegrationRegistryClient.connect(addresses.integrations, stranger);
  return { deployer, governor, stranger, guardian, addresses, targets, gov, integrations };
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
      .propose(gov.calls.registerIntegration({ integration: BOB_AI, metadataHash: META, purposes: [0, 3] }))
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
      gov.execute(gov.calls.registerIntegration({ integration: BOB_AI, metadataHash: META, purposes: [0, 3] })).wait(),
    );
    expect(early.code).to.equal("REVERTED");
    expect(early.message).to.equal(
      `AccessManagerNotReady: operation ${operationId} is scheduled but not ready yet: it becomes executable at ${isoTime(scheduledAt + DELAY)} (in 1 h 0 min; chain time ${isoTime(scheduledAt)})`,
    );
    expect(early.revert?.args).to.deep.equal({ operationId, readyAt: scheduledAt + DELAY });

    await networkHelpers.time.increaseTo(scheduledAt + DELAY);
    expect((await gov.pending()).map((p) => p.ready)).to.deep.equal([true]);
    const executed = await gov
      .execute(gov.calls.registerIntegration({ integration: BOB_AI, metadataHash: META, purposes: [0, 3] }))
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
      await gov.propose(gov.calls.suspendIntegration(ALICE_LABS)).wait(),
      await gov.propose(gov.calls.deprecatePurpose(7)).wait(),
      await gov.propose(gov.calls.definePurpose(8, newPurposeMeta)).wait(),
    ];
    expect((await gov.pending()).map((p) => p.operationId)).to.deep.equal(ops.map((o) => o.result.operationId));
    await networkHelpers.time.increaseTo(ops[2]!.result.readyAt);
    await gov.execute(gov.calls.suspendIntegration(ALICE_LABS)).wait();
    await gov.execute(gov.calls.deprecatePurpose(7)).wait();
    await gov.execute(gov.calls.definePurpose(8, newPurposeMeta)).wait();

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
    const err = await rejects(gov.propose(gov.calls.deprecatePurpose(1)).wait());
    expect(err.message).to.equal(
      `AccessManagerUnauthorizedCall: ${stranger.address} may not call selector ${id("deprecatePurpose(uint8)").slice(0, 10)} on ${addresses.registry}`,
    );
  });

  it("validates before building: purpose id and integration request", async () => {
    const { gov, governor } = await networkHelpers.loadFixture(setup);
    const before = await ethers.provider.getTransactionCount(governor.address);
    // The call builders validate before anything is built or sent.
    const badId = invalidCall(() => gov.calls.definePurpose(128, META));
    expect([badId.code, badId.message]).to.deep.equal(["INVALID_INPUT", "definePurpose.id: purpose ids are 0..127"]);
    const badMeta = invalidCall(() =>
      gov.calls.registerIntegration({ integration: BOB_AI, metadataHash: "0x12", purposes: [0] }),
    );
    expect(badMeta.message).to.equal(
      "registerIntegration.metadataHash: expected a 0x-prefixed 32-byte hex string (66 characters)",
    );
    expect(await ethers.provider.getTransactionCount(governor.address)).to.equal(before);
  });

  it("cancel: by the proposer or a guardian at once; by anyone else refused in words; a call not pending is refused before sending", async () => {
    const { gov, governor, guardian, stranger, addresses, targets } = await networkHelpers.loadFixture(setup);
    const a = await gov.propose(gov.calls.suspendIntegration(ALICE_LABS)).wait();
    const b = await gov.propose(gov.calls.deprecatePurpose(5)).wait();

    const byStranger = await GovernanceClient.connect(addresses.manager, stranger, targets);
    const refused = await rejects(byStranger.cancel(a.result.operationId).wait());
    expect(refused.message).to.equal(
      `AccessManagerUnauthorizedCancel: ${stranger.address} may not cancel the operation that ${governor.address} scheduled (selector ${id("suspendIntegration(address)").slice(0, 10)} on ${addresses.integrations}): only its proposer or a member of GUARDIAN_ROLE (2) can`,
    );

    const cancelled = await gov.cancel(a.result.operationId).wait();
    expect(cancelled.result).to.deep.equal({
      operationId: a.result.operationId,
      nonce: 1n,
      caller: governor.address,
      target: addresses.integrations,
      data: a.result.data,
    });
    const byGuardian = await GovernanceClient.connect(addresses.manager, guardian, targets);
    expect((await byGuardian.cancel(b.result.operationId).wait()).result.operationId).to.equal(b.result.operationId);
    expect(await gov.pending()).to.deep.equal([]);

    const before = await ethers.provider.getTransactionCount(governor.address);
    const again = await rejects(gov.cancel(a.result.operationId).wait());
    expect([again.code, again.message]).to.deep.equal([
      "NOT_FOUND",
      `cancel: operation ${a.result.operationId} is not pending (never scheduled, or executed, cancelled or expired since); nothing to cancel, nothing was sent`,
    ]);
    expect(await ethers.provider.getTransactionCount(governor.address)).to.equal(before);
    // A cancelled call can never be executed.
    await networkHelpers.time.increase(DELAY);
    const late = await rejects(gov.execute(gov.calls.suspendIntegration(ALICE_LABS)).wait());
    expect(late.revert?.name).to.equal("AccessManagerNotScheduled");
    expect(await gov.membership(2n, guardian.address)).to.deep.equal({ isMember: true, executionDelay: DELAY });
    expect(await gov.membership(2n, stranger.address)).to.deep.equal({ isMember: false, executionDelay: 0n });
  });

  describe("simulate: would the governed call succeed if executed now?", () => {
    const cases: [string, GovernedAction, string | null][] = [
      [
        "registering a new integration",
        { kind: "registerIntegration", request: { integration: BOB_AI, metadataHash: META, purposes: [0] } },
        null,
      ],
      [
        "registering one that exists",
        { kind: "registerIntegration", request: { integration: ALICE_LABS, metadataHash: META, purposes: [0] } },
        `IntegrationRegistryAlreadyRegistered: integration ${ALICE_LABS} is registered already`,
      ],
      [
        "suspending an address that is no integration",
        { kind: "suspendIntegration", integration: BOB_AI },
        `IntegrationRegistryWrongStatus: integration ${BOB_AI} is None, which this operation does not accept`,
      ],
      ["suspending an active integration", { kind: "suspendIntegration", integration: ALICE_LABS }, null],
      [
        "reinstating an active integration",
        { kind: "reinstateIntegration", integration: ALICE_LABS },
        `IntegrationRegistryWrongStatus: integration ${ALICE_LABS} is Active, which this operation does not accept`,
      ],
      [
        "updating an unknown integration",
        { kind: "updateIntegration", request: { integration: BOB_AI, metadataHash: META, purposes: [1] } },
        `IntegrationRegistryNotRegistered: integration ${BOB_AI} is not registered`,
      ],
      [
        "defining a purpose that exists",
        { kind: "definePurpose", id: 3, metadataHash: META },
        "PurposeCatalogAlreadyDefined: purpose id 3 was defined before (ids are never reused)",
      ],
      ["defining a new purpose", { kind: "definePurpose", id: 8, metadataHash: META }, null],
      ["deprecating an active purpose", { kind: "deprecatePurpose", id: 7 }, null],
      [
        "deprecating an undefined purpose",
        { kind: "deprecatePurpose", id: 9 },
        "PurposeCatalogNotActive: purpose id 9 is not defined or already deprecated",
      ],
    ];

    it("the node applies eth_call state overrides (the precise method is used)", async () => {
      const { addresses } = await networkHelpers.loadFixture(setup);
      expect(await supportsStateOverride(ethers.provider, addresses.manager)).to.equal(true);
      // A provider without raw JSON-RPC access cannot send an override: the other method is used.
      const callOnly = { call: (tx: object) => ethers.provider.call(tx) } as unknown as Provider;
      expect(await supportsStateOverride(callOnly, addresses.manager)).to.equal(false);
    });

    for (const [name, action, expected] of cases) {
      it(`${name}: ${expected === null ? "would succeed" : "would fail"}, by state override and by reading state alike`, async () => {
        const { gov, addresses } = await networkHelpers.loadFixture(setup);
        const call = gov.callOf(action);
        const precise = await gov.simulate(call);
        expect(precise.method).to.equal("state-override");
        expect(precise.error?.message ?? null).to.equal(expected);
        const callOnly = { call: (tx: object) => ethers.provider.call(tx) } as unknown as Provider;
        const byReading = await simulateGovernedCall(
          callOnly,
          { accessManager: addresses.manager, ...gov.targets },
          call.target,
          call.data,
        );
        expect(byReading.method).to.equal("state-reads");
        expect(byReading.error?.message ?? null).to.equal(expected);
      });
    }
  });
});
