import { expect } from "chai";
import { ZeroAddress, id } from "ethers";
import type { Interface } from "ethers";
import { network } from "hardhat";

import { NO_EXPIRY } from "../../src/sdk/constants.js";
import { GOVERNED_FUNCTIONS, GOVERNOR_ROLE, GUARDIAN_ROLE, governedSelectors } from "../../src/sdk/governance.js";
import { Purpose, initialPurposeMetadata, purposesToMask } from "../../src/sdk/purposes.js";
import { IIntegrationRegistry__factory, IPurposeCatalog__factory } from "../../types/ethers-contracts/index.js";
import type {
  ConsentAccessManager,
  ConsentRegistry,
  ConsentSystemDeployer,
  IntegrationRegistry,
} from "../../types/ethers-contracts/index.js";

const { ethers, networkHelpers } = await network.create();

const DAY = 24n * 60n * 60n;
const DELAY = 2n * DAY;
const MIN_SETBACK = 5n * DAY; // AccessManager.minSetback()
const EXPIRATION = 7n * DAY; // AccessManager.expiration()
const NEW_ID = 8;
const NEW_META = id("omnitensor-purpose:8:SYNTHETIC_DATA");
const DATA = id("dataset:alice:photos");
const NOTICE = id("notice:v1");
const SHARING = Purpose.THIRD_PARTY_SHARING;

/** The production wiring: ConsentSystemDeployer builds and wires everything in its constructor. */
async function setup() {
  const [, admin, governor, guardian, stranger, owner, sender, integration] = await ethers.getSigners();
  const deployer = (await ethers.deployContract("ConsentSystemDeployer", [
    admin.address,
    governor.address,
    guardian.address,
    DELAY,
    initialPurposeMetadata(),
    [],
  ])) as unknown as ConsentSystemDeployer;
  const manager = (await ethers.getContractAt(
    "ConsentAccessManager",
    await deployer.manager(),
  )) as unknown as ConsentAccessManager;
  const registry = (await ethers.getContractAt(
    "ConsentRegistry",
    await deployer.registry(),
  )) as unknown as ConsentRegistry;
  const integrations = (await ethers.getContractAt(
    "IntegrationRegistry",
    await deployer.integrations(),
  )) as unknown as IntegrationRegistry;
  return { deployer, manager, registry, integrations, admin, governor, guardian, stranger, owner, sender, integration };
}

type System = Awaited<ReturnType<typeof setup>>;

/** Schedules `data` on `target` as the governor, waits out the delay, executes it. */
async function governed(s: System, target: string, data: string) {
  await s.manager.connect(s.governor).schedule(target, data, 0);
  await networkHelpers.time.increase(DELAY);
  return s.manager.connect(s.governor).execute(target, data);
}

/** Canonical signatures of the non-view functions of `iface`, sorted. */
function writeSignatures(iface: Interface): string[] {
  const signatures: string[] = [];
  iface.forEachFunction((fn) => {
    if (!fn.constant) signatures.push(fn.format("sighash"));
  });
  return signatures.sort();
}

function selectorOf(iface: Interface, signature: string): string {
  const fn = iface.getFunction(signature);
  if (fn === null) throw new Error(`${signature} is not in the ABI`);
  return fn.selector;
}

async function timestampOf(tx: { blockNumber: number | null }): Promise<bigint> {
  const block = await ethers.provider.getBlock(tx.blockNumber ?? "latest");
  if (block === null) throw new Error("block not found");
  return BigInt(block.timestamp);
}

describe("Governance through AccessManager with an execution delay", () => {
  describe("ConsentSystemDeployer", () => {
    it("maps every governed selector to GOVERNOR_ROLE and grants the roles with the delay", async () => {
      const { manager, registry, integrations, governor, guardian, admin, deployer } = await setup();

      // The SDK's lists are exactly the state-changing functions of the governed interfaces
      // (IPurposeCatalog for the registry), and the selectors are those of the deployed ABIs.
      expect(writeSignatures(IPurposeCatalog__factory.createInterface())).to.deep.equal(
        [...GOVERNED_FUNCTIONS.registry].sort(),
      );
      expect(writeSignatures(IIntegrationRegistry__factory.createInterface())).to.deep.equal(
        [...GOVERNED_FUNCTIONS.integrations].sort(),
      );
      expect(governedSelectors("registry")).to.deep.equal(
        GOVERNED_FUNCTIONS.registry.map((sig) => selectorOf(registry.interface, sig)),
      );
      expect(governedSelectors("integrations")).to.deep.equal(
        GOVERNED_FUNCTIONS.integrations.map((sig) => selectorOf(integrations.interface, sig)),
      );

      for (const selector of governedSelectors("registry")) {
        expect(await manager.getTargetFunctionRole(await registry.getAddress(), selector)).to.equal(GOVERNOR_ROLE);
      }
      for (const selector of governedSelectors("integrations")) {
        expect(await manager.getTargetFunctionRole(await integrations.getAddress(), selector)).to.equal(GOVERNOR_ROLE);
      }
      expect(await manager.GOVERNOR_ROLE()).to.equal(GOVERNOR_ROLE);
      expect(await manager.GUARDIAN_ROLE()).to.equal(GUARDIAN_ROLE);
      expect(await manager.hasRole(GOVERNOR_ROLE, governor.address)).to.deep.equal([true, DELAY]);
      expect(await manager.hasRole(GUARDIAN_ROLE, guardian.address)).to.deep.equal([true, DELAY]);
      expect(await manager.hasRole(0n, admin.address)).to.deep.equal([true, DELAY]);
      expect(await manager.hasRole(0n, await deployer.getAddress())).to.deep.equal([false, 0n]);
      expect(await manager.hasRole(GOVERNOR_ROLE, admin.address)).to.deep.equal([false, 0n]);
      // Grant and target-admin delays are pending: AccessManager applies them after minSetback
      // (until then every member's own execution delay gives the same notice).
      expect(await manager.getRoleGrantDelay(GOVERNOR_ROLE)).to.equal(0n);
      await networkHelpers.time.increase(MIN_SETBACK);
      for (const role of [0n, GOVERNOR_ROLE, GUARDIAN_ROLE]) {
        expect(await manager.getRoleGrantDelay(role)).to.equal(DELAY);
      }
      for (const target of [registry, integrations, manager]) {
        expect(await manager.getTargetAdminDelay(await target.getAddress())).to.equal(DELAY);
      }
    });

    it("refuses a zero admin, a zero governor and a zero delay, naming which", async () => {
      const [, a, g] = await ethers.getSigners();
      const factory = await ethers.getContractFactory("ConsentSystemDeployer");
      const md = initialPurposeMetadata();
      await expect(factory.deploy(ZeroAddress, g.address, ZeroAddress, DELAY, md, []))
        .to.be.revertedWithCustomError(factory, "ConsentSystemDeployerZeroAddress")
        .withArgs("admin");
      await expect(factory.deploy(a.address, ZeroAddress, ZeroAddress, DELAY, md, []))
        .to.be.revertedWithCustomError(factory, "ConsentSystemDeployerZeroAddress")
        .withArgs("governor");
      await expect(factory.deploy(a.address, g.address, ZeroAddress, 0n, md, [])).to.be.revertedWithCustomError(
        factory,
        "ConsentSystemDeployerZeroDelay",
      );
      expect(() => governedSelectors("consents" as "registry")).to.throw(
        RangeError,
        'unknown governed contract "consents"',
      );
    });

    it("without a guardian nobody holds GUARDIAN_ROLE", async () => {
      const [, a, g] = await ethers.getSigners();
      const deployer = await ethers.deployContract("ConsentSystemDeployer", [
        a.address,
        g.address,
        ZeroAddress,
        DELAY,
        initialPurposeMetadata(),
        [],
      ]);
      const manager = await ethers.getContractAt("ConsentAccessManager", await deployer.manager());
      const granted = await manager.queryFilter(manager.filters.RoleGranted(GUARDIAN_ROLE));
      expect(granted).to.have.length(0);
    });
  });

  describe("the delay", () => {
    it("the governor cannot act directly: each call must be scheduled first", async () => {
      const s = await setup();
      const target = await s.registry.getAddress();
      const data = s.registry.interface.encodeFunctionData("definePurpose", [NEW_ID, NEW_META]);
      const operationId = await s.manager.hashOperation(s.governor.address, target, data);
      // A member with an execution delay is sent to the manager's schedule, which has none.
      await expect(s.registry.connect(s.governor).definePurpose(NEW_ID, NEW_META))
        .to.be.revertedWithCustomError(s.manager, "AccessManagerNotScheduled")
        .withArgs(operationId);
      // Non-members (the manager's admin included) are refused outright by the target.
      for (const caller of [s.admin, s.stranger, s.guardian]) {
        await expect(s.registry.connect(caller).definePurpose(NEW_ID, NEW_META))
          .to.be.revertedWithCustomError(s.registry, "AccessManagedUnauthorized")
          .withArgs(caller.address);
      }
    });

    it("schedule → not ready before the delay → executes after it", async () => {
      const s = await setup();
      const target = await s.registry.getAddress();
      const data = s.registry.interface.encodeFunctionData("definePurpose", [NEW_ID, NEW_META]);
      const operationId = await s.manager.hashOperation(s.governor.address, target, data);

      const scheduled = await s.manager.connect(s.governor).schedule(target, data, 0);
      const when = (await timestampOf(scheduled)) + DELAY;
      await expect(scheduled)
        .to.emit(s.manager, "OperationScheduled")
        .withArgs(operationId, 1n, when, s.governor.address, target, data);
      expect(await s.manager.getSchedule(operationId)).to.equal(when);

      await expect(s.manager.connect(s.governor).execute(target, data))
        .to.be.revertedWithCustomError(s.manager, "AccessManagerNotReady")
        .withArgs(operationId);
      // One second before `when` (a reverted call mines no block, so move the clock explicitly).
      await networkHelpers.time.increaseTo(when - 2n);
      await expect(s.manager.connect(s.governor).execute(target, data))
        .to.be.revertedWithCustomError(s.manager, "AccessManagerNotReady")
        .withArgs(operationId);
      expect((await s.registry.grantablePurposes()) & (1n << 8n)).to.equal(0n);
      await networkHelpers.mine(); // the next block is exactly at `when`

      const executed = s.manager.connect(s.governor).execute(target, data);
      await expect(executed).to.emit(s.registry, "PurposeDefined").withArgs(NEW_ID, NEW_META);
      await expect(executed).to.emit(s.manager, "OperationExecuted").withArgs(operationId, 1n);
      expect(await s.registry.purposeMetadata(NEW_ID)).to.equal(NEW_META);
      // Executed once; replaying it needs a new schedule.
      await expect(s.manager.connect(s.governor).execute(target, data))
        .to.be.revertedWithCustomError(s.manager, "AccessManagerNotScheduled")
        .withArgs(operationId);
    });

    it("after the delay the governor may also call the target directly (it consumes the schedule)", async () => {
      const s = await setup();
      const target = await s.integrations.getAddress();
      const data = s.integrations.interface.encodeFunctionData("registerIntegration", [
        s.integration.address,
        NEW_META,
        purposesToMask([SHARING]),
      ]);
      await s.manager.connect(s.governor).schedule(target, data, 0);
      await networkHelpers.time.increase(DELAY);
      await expect(
        s.integrations
          .connect(s.governor)
          .registerIntegration(s.integration.address, NEW_META, purposesToMask([SHARING])),
      )
        .to.emit(s.integrations, "IntegrationRegistered")
        .withArgs(s.integration.address, NEW_META, purposesToMask([SHARING]));
    });

    it("a scheduled operation expires a week after it became ready", async () => {
      const s = await setup();
      const target = await s.registry.getAddress();
      const data = s.registry.interface.encodeFunctionData("deprecatePurpose", [Purpose.ANALYTICS]);
      const operationId = await s.manager.hashOperation(s.governor.address, target, data);
      await s.manager.connect(s.governor).schedule(target, data, 0);
      await networkHelpers.time.increase(DELAY + EXPIRATION);
      await expect(s.manager.connect(s.governor).execute(target, data))
        .to.be.revertedWithCustomError(s.manager, "AccessManagerExpired")
        .withArgs(operationId);
    });

    it("nobody but the governor can schedule", async () => {
      const s = await setup();
      const target = await s.registry.getAddress();
      const data = s.registry.interface.encodeFunctionData("definePurpose", [NEW_ID, NEW_META]);
      const selector = data.slice(0, 10);
      for (const caller of [s.stranger, s.guardian, s.admin]) {
        await expect(s.manager.connect(caller).schedule(target, data, 0))
          .to.be.revertedWithCustomError(s.manager, "AccessManagerUnauthorizedCall")
          .withArgs(caller.address, target, selector);
      }
      // Nor schedule sooner than the delay allows.
      const now = BigInt(await networkHelpers.time.latest());
      await expect(s.manager.connect(s.governor).schedule(target, data, now + DELAY - 10n))
        .to.be.revertedWithCustomError(s.manager, "AccessManagerUnauthorizedCall")
        .withArgs(s.governor.address, target, selector);
    });

    it("the guardian can cancel a scheduled operation, which then cannot execute", async () => {
      const s = await setup();
      const target = await s.integrations.getAddress();
      const data = s.integrations.interface.encodeFunctionData("suspendIntegration", [s.integration.address]);
      const operationId = await s.manager.hashOperation(s.governor.address, target, data);
      await s.manager.connect(s.governor).schedule(target, data, 0);

      await expect(s.manager.connect(s.stranger).cancel(s.governor.address, target, data))
        .to.be.revertedWithCustomError(s.manager, "AccessManagerUnauthorizedCancel")
        .withArgs(s.stranger.address, s.governor.address, target, data.slice(0, 10));
      await expect(s.manager.connect(s.guardian).cancel(s.governor.address, target, data))
        .to.emit(s.manager, "OperationCanceled")
        .withArgs(operationId, 1n);
      expect(await s.manager.getSchedule(operationId)).to.equal(0n);

      await networkHelpers.time.increase(DELAY);
      await expect(s.manager.connect(s.governor).execute(target, data))
        .to.be.revertedWithCustomError(s.manager, "AccessManagerNotScheduled")
        .withArgs(operationId);
    });

    it("the guardian has no power over consent: it cannot revoke anyone's consent", async () => {
      const s = await setup();
      await s.registry.connect(s.owner).grant(s.sender.address, DATA, purposesToMask([SHARING]), NO_EXPIRY, NOTICE);
      await expect(s.registry.connect(s.guardian).revokeFor(s.owner.address, s.sender.address, DATA))
        .to.be.revertedWithCustomError(s.registry, "ConsentRegistryNotAuthorized")
        .withArgs(s.guardian.address, s.owner.address);
      expect(await s.registry.isAllowed(s.owner.address, s.sender.address, DATA, SHARING)).to.equal(true);
    });

    it("a scheduled suspension changes nothing until executed", async () => {
      const s = await setup();
      const to = s.integration.address;
      const mask = purposesToMask([SHARING]);
      const integrationsAddress = await s.integrations.getAddress();
      await governed(
        s,
        integrationsAddress,
        s.integrations.interface.encodeFunctionData("registerIntegration", [to, NEW_META, mask]),
      );
      await s.registry.connect(s.owner).grant(s.sender.address, DATA, mask, NO_EXPIRY, NOTICE);
      await s.registry.connect(s.owner).grant(to, DATA, mask, NO_EXPIRY, NOTICE);
      const share = (evidence: string) =>
        s.registry.connect(s.sender).recordShare(s.owner.address, to, DATA, SHARING, evidence);

      const suspend = s.integrations.interface.encodeFunctionData("suspendIntegration", [to]);
      await s.manager.connect(s.governor).schedule(integrationsAddress, suspend, 0);
      // During the delay, and even once it has passed, shares go through until someone executes.
      await expect(share(id("share-1")))
        .to.emit(s.registry, "DataShared")
        .withArgs(s.owner.address, s.sender.address, to, DATA, SHARING, id("share-1"));
      await networkHelpers.time.increase(DELAY);
      expect(await s.integrations.isActiveIntegration(to, SHARING)).to.equal(true);
      await expect(share(id("share-2"))).to.emit(s.registry, "DataShared");

      await expect(s.manager.connect(s.governor).execute(integrationsAddress, suspend))
        .to.emit(s.integrations, "IntegrationSuspended")
        .withArgs(to);
      await expect(share(id("share-3")))
        .to.be.revertedWithCustomError(s.registry, "ConsentRegistryIntegrationNotActive")
        .withArgs(to, SHARING);
      // Suspension touched no consent.
      expect(await s.registry.isAllowed(s.owner.address, to, DATA, SHARING)).to.equal(true);
    });
  });

  describe("the admin is slowed down from the first block", () => {
    it("re-routing a governed target needs a schedule; a new governor gets power only after the delay", async () => {
      const s = await setup();
      const registryAddress = await s.registry.getAddress();
      const managerAddress = await s.manager.getAddress();
      const closeData = s.manager.interface.encodeFunctionData("setTargetClosed", [registryAddress, true]);
      const closeId = await s.manager.hashOperation(s.admin.address, managerAddress, closeData);
      await expect(s.manager.connect(s.admin).setTargetClosed(registryAddress, true))
        .to.be.revertedWithCustomError(s.manager, "AccessManagerNotScheduled")
        .withArgs(closeId);

      await networkHelpers.time.increase(MIN_SETBACK);
      const grantData = s.manager.interface.encodeFunctionData("grantRole", [GOVERNOR_ROLE, s.stranger.address, DELAY]);
      await s.manager.connect(s.admin).schedule(managerAddress, grantData, 0);
      await networkHelpers.time.increase(DELAY);
      const granted = await s.manager.connect(s.admin).execute(managerAddress, grantData);
      const since = (await timestampOf(granted)) + DELAY;
      await expect(granted)
        .to.emit(s.manager, "RoleGranted")
        .withArgs(GOVERNOR_ROLE, s.stranger.address, DELAY, since, true);
      expect(await s.manager.hasRole(GOVERNOR_ROLE, s.stranger.address)).to.deep.equal([false, DELAY]);
      await networkHelpers.time.increaseTo(since);
      expect(await s.manager.hasRole(GOVERNOR_ROLE, s.stranger.address)).to.deep.equal([true, DELAY]);
    });

    it("even a closed registry target leaves every consent path working", async () => {
      const s = await setup();
      const registryAddress = await s.registry.getAddress();
      const managerAddress = await s.manager.getAddress();
      const closeData = s.manager.interface.encodeFunctionData("setTargetClosed", [registryAddress, true]);
      await s.manager.connect(s.admin).schedule(managerAddress, closeData, 0);
      await networkHelpers.time.increase(DELAY);
      await expect(s.manager.connect(s.admin).execute(managerAddress, closeData))
        .to.emit(s.manager, "TargetClosed")
        .withArgs(registryAddress, true);
      const mask = purposesToMask([SHARING]);
      await expect(s.registry.connect(s.owner).grant(s.sender.address, DATA, mask, NO_EXPIRY, NOTICE)).to.emit(
        s.registry,
        "ConsentGranted",
      );
      await expect(s.registry.connect(s.sender).recordUse(s.owner.address, DATA, SHARING, id("use"))).to.emit(
        s.registry,
        "DataUsed",
      );
      await expect(s.registry.connect(s.owner).revoke(s.sender.address, DATA)).to.emit(s.registry, "ConsentRevoked");
      await expect(s.registry.connect(s.owner).revokeAll()).to.emit(s.registry, "AllConsentsRevoked");
      // Only the governed catalogue is closed.
      await networkHelpers.time.increase(DELAY);
      await expect(s.registry.connect(s.governor).definePurpose(NEW_ID, NEW_META))
        .to.be.revertedWithCustomError(s.registry, "AccessManagedUnauthorized")
        .withArgs(s.governor.address);
    });
  });
});
