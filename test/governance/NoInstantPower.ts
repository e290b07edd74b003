import { expect } from "chai";
import { id } from "ethers";
import type { ContractTransactionResponse, Interface } from "ethers";
import { network } from "hardhat";

import { buildConsentSystemModule } from "../../ignition/modules/ConsentSystem.js";
import { NO_EXPIRY } from "../../src/sdk/constants.js";
import { Purpose, purposesToMask } from "../../src/sdk/purposes.js";
import type {
  ConsentAccessManager,
  ConsentRegistry,
  ConsentSystemDeployer,
  IntegrationRegistry,
} from "../../types/ethers-contracts/index.js";

/**
 * Issue 9 §3: governance with no instant power from the deployment block on. The system is
 * deployed with the real Ignition module (ConsentSystemDeployer, one transaction); then every
 * admin path is tried, each asserting a refusal or a schedule of at least the execution delay.
 *
 * The admin paths (ConsentAccessManager's state-changing functions, and what they reach):
 *   labelRole, grantRole, revokeRole, renounceRole, setRoleAdmin, setRoleGuardian, setGrantDelay,
 *   setTargetFunctionRole, setTargetAdminDelay, setTargetClosed, updateAuthority, schedule,
 *   execute, cancel, consumeScheduledOp, multicall; and on the targets: setAuthority and every
 *   governed function (definePurpose, deprecatePurpose, register/update/suspend/reinstate).
 */
const connection = await network.create();
const { ethers, networkHelpers } = connection;

const DAY = 86_400n;
const DELAY = 2n * DAY;
const ADMIN_ROLE = 0n;
const GOVERNOR_ROLE = 1n;
const GUARDIAN_ROLE = 2n;
const PUBLIC_ROLE = (1n << 64n) - 1n;
const INTEGRATION = "0x00000000000000000000000000000000000A11cE";
const SHARE = Purpose.THIRD_PARTY_SHARING;

async function deployed() {
  const [deployerEoa, admin, governor, guardian, stranger, owner, grantee] = await ethers.getSigners();
  const result = await connection.ignition.deploy(
    buildConsentSystemModule([{ address: INTEGRATION, metadataHash: id("integration:a11ce"), purposes: [SHARE] }]),
    {
      strategy: "create2",
      parameters: {
        ConsentSystem: {
          admin: admin.address,
          governor: governor.address,
          guardian: guardian.address,
          executionDelay: DELAY,
        },
      },
    },
  );
  const manager = result.manager as unknown as ConsentAccessManager;
  const registry = result.consentRegistry as unknown as ConsentRegistry;
  const integrations = result.integrationRegistry as unknown as IntegrationRegistry;
  const deployer = result.deployer as unknown as ConsentSystemDeployer;
  return {
    deployerEoa,
    admin,
    governor,
    guardian,
    stranger,
    owner,
    grantee,
    manager,
    registry,
    integrations,
    deployer,
  };
}

type System = Awaited<ReturnType<typeof deployed>>;

async function timeOf(tx: ContractTransactionResponse): Promise<bigint> {
  const receipt = await tx.wait();
  const block = await ethers.provider.getBlock(receipt!.blockNumber);
  return BigInt(block!.timestamp);
}

/** `call` by `who` directly: refused because `who` has an execution delay (NotScheduled). */
async function expectNeedsSchedule(s: System, who: { address: string }, data: string) {
  const target = await s.manager.getAddress();
  const operationId = await s.manager.hashOperation(who.address, target, data);
  const signer = await ethers.getSigner(who.address);
  await expect(signer.sendTransaction({ to: target, data }))
    .to.be.revertedWithCustomError(s.manager, "AccessManagerNotScheduled")
    .withArgs(operationId);
}

/** Schedules `data` as `who` and checks it becomes ready no sooner than DELAY from now. */
async function expectScheduledForDelay(s: System, who: { address: string }, target: string, data: string) {
  const signer = await ethers.getSigner(who.address);
  const operationId = await s.manager.hashOperation(who.address, target, data);
  // Asking for less than the delay is refused.
  const now = BigInt(await networkHelpers.time.latest());
  await expect(s.manager.connect(signer).schedule(target, data, now + DELAY - 5n)).to.be.revertedWithCustomError(
    s.manager,
    "AccessManagerUnauthorizedCall",
  );
  const nonce = (await s.manager.getNonce(operationId)) + 1n;
  const tx = await s.manager.connect(signer).schedule(target, data, 0);
  const when = (await timeOf(tx)) + DELAY;
  await expect(tx)
    .to.emit(s.manager, "OperationScheduled")
    .withArgs(operationId, nonce, when, who.address, target, data);
  await expect(s.manager.connect(signer).execute(target, data))
    .to.be.revertedWithCustomError(s.manager, "AccessManagerNotReady")
    .withArgs(operationId);
  return { operationId, when };
}

describe("Governance: no instant power from the deployment block on (real Ignition module)", () => {
  it("the whole system is built and wired in one transaction; nobody but the parameters holds a role", async () => {
    const s = await networkHelpers.loadFixture(deployed);
    const events = await s.deployer.queryFilter(s.deployer.filters.ConsentSystemDeployed());
    expect(events).to.have.length(1);
    const deployment = events[0].transactionHash;
    // The deployer's code came into being in that very transaction (CREATE2 through CreateX) ...
    const block = events[0].blockNumber;
    expect(await ethers.provider.getCode(await s.deployer.getAddress(), block - 1)).to.equal("0x");
    // ... and every role, routing and registration of the system happened in it too.
    const wiring = [
      ...(await s.manager.queryFilter(s.manager.filters.RoleGranted())),
      ...(await s.manager.queryFilter(s.manager.filters.RoleRevoked())),
      ...(await s.manager.queryFilter(s.manager.filters.TargetFunctionRoleUpdated())),
      ...(await s.manager.queryFilter(s.manager.filters.RoleGrantDelayChanged())),
      ...(await s.manager.queryFilter(s.manager.filters.TargetAdminDelayUpdated())),
      ...(await s.integrations.queryFilter(s.integrations.filters.IntegrationRegistered())),
    ];
    // 4 role grants (bootstrap, governor, guardian, admin), 1 renounce, 6 routed selectors, 3 grant
    // delays, 3 target admin delays, 1 initial integration.
    expect(wiring.length).to.equal(4 + 1 + 6 + 3 + 3 + 1);
    expect(new Set(wiring.map((e) => e.transactionHash))).to.deep.equal(new Set([deployment]));
    // The bootstrap admin (the deployer contract) renounced in that transaction.
    const revoked = await s.manager.queryFilter(s.manager.filters.RoleRevoked());
    expect(revoked.map((e) => [e.args.roleId, e.args.account])).to.deep.equal([
      [ADMIN_ROLE, await s.deployer.getAddress()],
    ]);

    expect(await s.manager.hasRole(ADMIN_ROLE, s.admin.address)).to.deep.equal([true, DELAY]);
    expect(await s.manager.hasRole(GOVERNOR_ROLE, s.governor.address)).to.deep.equal([true, DELAY]);
    expect(await s.manager.hasRole(GUARDIAN_ROLE, s.guardian.address)).to.deep.equal([true, DELAY]);
    for (const who of [await s.deployer.getAddress(), s.deployerEoa.address, s.stranger.address]) {
      for (const role of [ADMIN_ROLE, GOVERNOR_ROLE, GUARDIAN_ROLE]) {
        expect(await s.manager.hasRole(role, who), `${who} role ${role}`).to.deep.equal([false, 0n]);
      }
    }
    expect(await s.manager.minExecutionDelay()).to.equal(DELAY);
    // Initial integration registered during the same transaction.
    expect((await s.integrations.getIntegration(INTEGRATION)).status).to.equal(1n);
    // The governed selectors are routed to the governor.
    for (const [target, fragments] of [
      [s.registry, ["definePurpose", "deprecatePurpose"]],
      [s.integrations, ["registerIntegration", "updateIntegration", "suspendIntegration", "reinstateIntegration"]],
    ] as const) {
      for (const name of fragments) {
        const selector = (target.interface as Interface).getFunction(name)!.selector;
        expect(await s.manager.getTargetFunctionRole(await target.getAddress(), selector)).to.equal(GOVERNOR_ROLE);
      }
    }
  });

  describe("inside AccessManager's 5-day minSetback (the review's attack window)", () => {
    it("the admin cannot re-route a governed selector to itself, nor act through it, without the full delay", async () => {
      const s = await networkHelpers.loadFixture(deployed);
      const registry = await s.registry.getAddress();
      const selector = s.registry.interface.getFunction("deprecatePurpose")!.selector;
      const reroute = s.manager.interface.encodeFunctionData("setTargetFunctionRole", [
        registry,
        [selector],
        ADMIN_ROLE,
      ]);
      await expectNeedsSchedule(s, s.admin, reroute);
      await expectScheduledForDelay(s, s.admin, await s.manager.getAddress(), reroute);
      // And the purpose cannot be deprecated by the admin directly in the meantime.
      await expect(s.registry.connect(s.admin).deprecatePurpose(Purpose.RESEARCH))
        .to.be.revertedWithCustomError(s.registry, "AccessManagedUnauthorized")
        .withArgs(s.admin.address);
      expect((await s.registry.grantablePurposes()) & (1n << BigInt(Purpose.RESEARCH))).to.not.equal(0n);
    });

    it("the admin cannot suspend or register integrations instantly", async () => {
      const s = await networkHelpers.loadFixture(deployed);
      await expect(s.integrations.connect(s.admin).suspendIntegration(INTEGRATION))
        .to.be.revertedWithCustomError(s.integrations, "AccessManagedUnauthorized")
        .withArgs(s.admin.address);
      await expect(s.integrations.connect(s.admin).registerIntegration(s.stranger.address, id("x"), 1n))
        .to.be.revertedWithCustomError(s.integrations, "AccessManagedUnauthorized")
        .withArgs(s.admin.address);
    });
  });

  describe("every admin path is refused or scheduled", () => {
    it("each admin-restricted AccessManager function needs a schedule of at least the delay", async () => {
      const s = await networkHelpers.loadFixture(deployed);
      const registry = await s.registry.getAddress();
      const managerAddress = await s.manager.getAddress();
      const m = s.manager.interface;
      const paths: [string, string][] = [
        ["labelRole", m.encodeFunctionData("labelRole", [GOVERNOR_ROLE, "G"])],
        ["grantRole", m.encodeFunctionData("grantRole", [GOVERNOR_ROLE, s.stranger.address, DELAY])],
        ["revokeRole", m.encodeFunctionData("revokeRole", [GOVERNOR_ROLE, s.governor.address])],
        ["setRoleAdmin", m.encodeFunctionData("setRoleAdmin", [GOVERNOR_ROLE, GUARDIAN_ROLE])],
        ["setRoleGuardian", m.encodeFunctionData("setRoleGuardian", [GOVERNOR_ROLE, 7n])],
        ["setGrantDelay", m.encodeFunctionData("setGrantDelay", [GOVERNOR_ROLE, 0n])],
        ["setTargetFunctionRole", m.encodeFunctionData("setTargetFunctionRole", [registry, ["0x12345678"], 9n])],
        ["setTargetAdminDelay", m.encodeFunctionData("setTargetAdminDelay", [registry, 0n])],
        ["setTargetClosed", m.encodeFunctionData("setTargetClosed", [registry, true])],
        ["updateAuthority", m.encodeFunctionData("updateAuthority", [registry, s.stranger.address])],
      ];
      for (const [, data] of paths) {
        await expectNeedsSchedule(s, s.admin, data);
        await expectScheduledForDelay(s, s.admin, managerAddress, data);
      }
      // multicall of admin calls follows the same rules for each call inside it.
      const inner = m.encodeFunctionData("labelRole", [GUARDIAN_ROLE, "not scheduled"]);
      const operationId = await s.manager.hashOperation(s.admin.address, managerAddress, inner);
      await expect(s.manager.connect(s.admin).multicall([inner]))
        .to.be.revertedWithCustomError(s.manager, "AccessManagerNotScheduled")
        .withArgs(operationId);
      // Nobody else can even schedule them.
      for (const [, data] of paths) {
        await expect(s.manager.connect(s.stranger).schedule(managerAddress, data, 0)).to.be.revertedWithCustomError(
          s.manager,
          "AccessManagerUnauthorizedCall",
        );
      }
    });

    it("the targets refuse the admin, the guardian and strangers; setAuthority only from the authority", async () => {
      const s = await networkHelpers.loadFixture(deployed);
      for (const caller of [s.admin, s.guardian, s.stranger, s.deployerEoa]) {
        await expect(s.registry.connect(caller).definePurpose(9, id("p9")))
          .to.be.revertedWithCustomError(s.registry, "AccessManagedUnauthorized")
          .withArgs(caller.address);
        await expect(s.registry.connect(caller).setAuthority(caller.address))
          .to.be.revertedWithCustomError(s.registry, "AccessManagedUnauthorized")
          .withArgs(caller.address);
        await expect(s.integrations.connect(caller).reinstateIntegration(INTEGRATION))
          .to.be.revertedWithCustomError(s.integrations, "AccessManagedUnauthorized")
          .withArgs(caller.address);
      }
      // The governor is sent to a schedule.
      const data = s.registry.interface.encodeFunctionData("definePurpose", [9, id("p9")]);
      const operationId = await s.manager.hashOperation(s.governor.address, await s.registry.getAddress(), data);
      await expect(s.registry.connect(s.governor).definePurpose(9, id("p9")))
        .to.be.revertedWithCustomError(s.manager, "AccessManagerNotScheduled")
        .withArgs(operationId);
      await expectScheduledForDelay(s, s.governor, await s.registry.getAddress(), data);
      // consumeScheduledOp only works from a target, for a call it is executing.
      await expect(s.manager.connect(s.stranger).consumeScheduledOp(s.governor.address, data)).to.be.revert(ethers);
      expect(await s.manager.getSchedule(operationId)).to.not.equal(0n);
    });

    it("no member can ever be given less than the delay, even by a scheduled, executed grant", async () => {
      const s = await networkHelpers.loadFixture(deployed);
      const managerAddress = await s.manager.getAddress();
      for (const role of [ADMIN_ROLE, GOVERNOR_ROLE, GUARDIAN_ROLE]) {
        const data = s.manager.interface.encodeFunctionData("grantRole", [role, s.admin.address, 0n]);
        await expectScheduledForDelay(s, s.admin, managerAddress, data);
      }
      await networkHelpers.time.increase(DELAY);
      for (const role of [ADMIN_ROLE, GOVERNOR_ROLE, GUARDIAN_ROLE]) {
        const data = s.manager.interface.encodeFunctionData("grantRole", [role, s.admin.address, 0n]);
        await expect(s.manager.connect(s.admin).execute(managerAddress, data))
          .to.be.revertedWithCustomError(s.manager, "ConsentAccessManagerDelayTooShort")
          .withArgs(role, s.admin.address, 0n, DELAY);
      }
      expect(await s.manager.hasRole(GOVERNOR_ROLE, s.admin.address)).to.deep.equal([false, 0n]);
    });

    it("no governed function can be opened to every account (PUBLIC_ROLE)", async () => {
      const s = await networkHelpers.loadFixture(deployed);
      const registry = await s.registry.getAddress();
      const managerAddress = await s.manager.getAddress();
      const selector = s.registry.interface.getFunction("definePurpose")!.selector;
      const data = s.manager.interface.encodeFunctionData("setTargetFunctionRole", [registry, [selector], PUBLIC_ROLE]);
      await expectScheduledForDelay(s, s.admin, managerAddress, data);
      await networkHelpers.time.increase(DELAY);
      await expect(s.manager.connect(s.admin).execute(managerAddress, data))
        .to.be.revertedWithCustomError(s.manager, "ConsentAccessManagerPublicFunction")
        .withArgs(registry, selector);
    });

    it("only the proposer or the guardian can cancel; the admin cannot veto the governor instantly", async () => {
      const s = await networkHelpers.loadFixture(deployed);
      const target = await s.integrations.getAddress();
      const data = s.integrations.interface.encodeFunctionData("suspendIntegration", [INTEGRATION]);
      const { operationId } = await expectScheduledForDelay(s, s.governor, target, data);
      for (const caller of [s.admin, s.stranger]) {
        await expect(s.manager.connect(caller).cancel(s.governor.address, target, data))
          .to.be.revertedWithCustomError(s.manager, "AccessManagerUnauthorizedCancel")
          .withArgs(caller.address, s.governor.address, target, data.slice(0, 10));
      }
      await expect(s.manager.connect(s.guardian).cancel(s.governor.address, target, data))
        .to.emit(s.manager, "OperationCanceled")
        .withArgs(operationId, 1n);
      // The proposer may withdraw its own proposal too.
      await expectScheduledForDelay(s, s.governor, target, data);
      await expect(s.manager.connect(s.governor).cancel(s.governor.address, target, data)).to.emit(
        s.manager,
        "OperationCanceled",
      );
      // The guardian cancels an admin operation as well.
      const managerAddress = await s.manager.getAddress();
      const adminOp = s.manager.interface.encodeFunctionData("revokeRole", [GOVERNOR_ROLE, s.governor.address]);
      await expectScheduledForDelay(s, s.admin, managerAddress, adminOp);
      await expect(s.manager.connect(s.guardian).cancel(s.admin.address, managerAddress, adminOp)).to.emit(
        s.manager,
        "OperationCanceled",
      );
    });

    it("setRoleAdmin / setRoleGuardian to PUBLIC_ROLE are refused for every role: nobody gets an open grant, revoke or cancel", async () => {
      const s = await networkHelpers.loadFixture(deployed);
      const managerAddress = await s.manager.getAddress();
      const m = s.manager.interface;
      const refused: [string, string, bigint][] = [];
      for (const role of [GOVERNOR_ROLE, GUARDIAN_ROLE, 7n]) {
        refused.push([
          m.encodeFunctionData("setRoleAdmin", [role, PUBLIC_ROLE]),
          "ConsentAccessManagerPublicRoleAdmin",
          role,
        ]);
        refused.push([
          m.encodeFunctionData("setRoleGuardian", [role, PUBLIC_ROLE]),
          "ConsentAccessManagerPublicRoleGuardian",
          role,
        ]);
      }
      for (const [data] of refused) await expectScheduledForDelay(s, s.admin, managerAddress, data);
      await networkHelpers.time.increase(DELAY);
      for (const [data, error, role] of refused) {
        await expect(s.manager.connect(s.admin).execute(managerAddress, data))
          .to.be.revertedWithCustomError(s.manager, error)
          .withArgs(role);
      }
      for (const role of [GOVERNOR_ROLE, GUARDIAN_ROLE, 7n]) {
        expect(await s.manager.getRoleAdmin(role)).to.equal(ADMIN_ROLE);
        expect(await s.manager.getRoleGuardian(role)).to.equal(ADMIN_ROLE);
      }
      // So a stranger still cannot revoke the governor, nor appoint itself.
      await expect(s.manager.connect(s.stranger).revokeRole(GOVERNOR_ROLE, s.governor.address))
        .to.be.revertedWithCustomError(s.manager, "AccessManagerUnauthorizedAccount")
        .withArgs(s.stranger.address, ADMIN_ROLE);
      expect(await s.manager.hasRole(GOVERNOR_ROLE, s.governor.address)).to.deep.equal([true, DELAY]);
      // Any other admin or guardian role is still allowed (after the delay).
      const allowed = m.encodeFunctionData("setRoleAdmin", [7n, GOVERNOR_ROLE]);
      await expectScheduledForDelay(s, s.admin, managerAddress, allowed);
      await networkHelpers.time.increase(DELAY);
      await expect(s.manager.connect(s.admin).execute(managerAddress, allowed))
        .to.emit(s.manager, "RoleAdminChanged")
        .withArgs(7n, GOVERNOR_ROLE);
    });

    it("the governor's scheduled change takes effect only after the delay, and is visible on-chain until then", async () => {
      const s = await networkHelpers.loadFixture(deployed);
      const target = await s.integrations.getAddress();
      const data = s.integrations.interface.encodeFunctionData("suspendIntegration", [INTEGRATION]);
      const { when } = await expectScheduledForDelay(s, s.governor, target, data);
      expect(await s.integrations.isActiveIntegration(INTEGRATION, SHARE)).to.equal(true);
      await networkHelpers.time.increaseTo(when);
      await expect(s.manager.connect(s.governor).execute(target, data))
        .to.emit(s.integrations, "IntegrationSuspended")
        .withArgs(INTEGRATION);
    });

    it("renounceRole is only ever a member giving up its own role (no power over others)", async () => {
      const s = await networkHelpers.loadFixture(deployed);
      await expect(
        s.manager.connect(s.stranger).renounceRole(GOVERNOR_ROLE, s.governor.address),
      ).to.be.revertedWithCustomError(s.manager, "AccessManagerBadConfirmation");
      await expect(s.manager.connect(s.guardian).renounceRole(GUARDIAN_ROLE, s.guardian.address))
        .to.emit(s.manager, "RoleRevoked")
        .withArgs(GUARDIAN_ROLE, s.guardian.address);
      expect(await s.manager.hasRole(GOVERNOR_ROLE, s.governor.address)).to.deep.equal([true, DELAY]);
    });
  });

  describe("the guardian's veto does not reach the guardian role (the admin can always remove it)", () => {
    /** Every scheduled change of GUARDIAN_ROLE: membership, its admin, its guardian, its grant delay. */
    type GuardianChange = "revokeRole" | "grantRole" | "setRoleAdmin" | "setRoleGuardian" | "setGrantDelay";
    function guardianChanges(s: System): [GuardianChange, string][] {
      const m = s.manager.interface;
      return [
        ["revokeRole", m.encodeFunctionData("revokeRole", [GUARDIAN_ROLE, s.guardian.address])],
        ["grantRole", m.encodeFunctionData("grantRole", [GUARDIAN_ROLE, s.stranger.address, DELAY])],
        ["setRoleAdmin", m.encodeFunctionData("setRoleAdmin", [GUARDIAN_ROLE, GOVERNOR_ROLE])],
        ["setRoleGuardian", m.encodeFunctionData("setRoleGuardian", [GUARDIAN_ROLE, GOVERNOR_ROLE])],
        ["setGrantDelay", m.encodeFunctionData("setGrantDelay", [GUARDIAN_ROLE, 3n * DELAY])],
        // Trailing bytes change the operation id, not what executes: still a guardian change.
        ["revokeRole", m.encodeFunctionData("revokeRole", [GUARDIAN_ROLE, s.guardian.address]) + "00".repeat(32)],
      ];
    }

    it("a guardian cannot cancel its removal or replacement; the admin revokes it after the delay", async () => {
      const s = await networkHelpers.loadFixture(deployed);
      const managerAddress = await s.manager.getAddress();
      const m = s.manager.interface;
      const changes = guardianChanges(s);
      for (const [, data] of changes) await expectScheduledForDelay(s, s.admin, managerAddress, data);
      for (const [name, data] of changes) {
        await expect(s.manager.connect(s.guardian).cancel(s.admin.address, managerAddress, data))
          .to.be.revertedWithCustomError(s.manager, "ConsentAccessManagerGuardianRoleChange")
          .withArgs(s.guardian.address, s.admin.address, m.getFunction(name)!.selector);
        // Strangers are refused as before.
        await expect(s.manager.connect(s.stranger).cancel(s.admin.address, managerAddress, data))
          .to.be.revertedWithCustomError(s.manager, "AccessManagerUnauthorizedCancel")
          .withArgs(s.stranger.address, s.admin.address, managerAddress, m.getFunction(name)!.selector);
      }
      // The proposer may still withdraw its own proposal.
      const [, setGrantDelay] = changes[4];
      await expect(s.manager.connect(s.admin).cancel(s.admin.address, managerAddress, setGrantDelay))
        .to.emit(s.manager, "OperationCanceled")
        .withArgs(await s.manager.hashOperation(s.admin.address, managerAddress, setGrantDelay), 1n);

      await networkHelpers.time.increase(DELAY);
      const [, revoke] = changes[0];
      await expect(s.manager.connect(s.admin).execute(managerAddress, revoke))
        .to.emit(s.manager, "RoleRevoked")
        .withArgs(GUARDIAN_ROLE, s.guardian.address);
      expect(await s.manager.hasRole(GUARDIAN_ROLE, s.guardian.address)).to.deep.equal([false, 0n]);
      // The former guardian's veto is gone with the role.
      const [, grant] = changes[1];
      await expect(s.manager.connect(s.guardian).cancel(s.admin.address, managerAddress, grant))
        .to.be.revertedWithCustomError(s.manager, "AccessManagerUnauthorizedCancel")
        .withArgs(s.guardian.address, s.admin.address, managerAddress, m.getFunction("grantRole")!.selector);
      // And its replacement takes its seat (after the role's grant delay, which only the admin set).
      const grantDelay = await s.manager.getRoleGrantDelay(GUARDIAN_ROLE);
      const at = BigInt(await networkHelpers.time.latest()) + 10n;
      await networkHelpers.time.setNextBlockTimestamp(at);
      await expect(s.manager.connect(s.admin).execute(managerAddress, grant))
        .to.emit(s.manager, "RoleGranted")
        .withArgs(GUARDIAN_ROLE, s.stranger.address, DELAY, at + grantDelay, true);
    });

    it("whoever proposes it: once the governor administers GUARDIAN_ROLE, its revocation is not cancellable either", async () => {
      const s = await networkHelpers.loadFixture(deployed);
      const managerAddress = await s.manager.getAddress();
      const m = s.manager.interface;
      const setAdmin = m.encodeFunctionData("setRoleAdmin", [GUARDIAN_ROLE, GOVERNOR_ROLE]);
      await expectScheduledForDelay(s, s.admin, managerAddress, setAdmin);
      await networkHelpers.time.increase(DELAY);
      await expect(s.manager.connect(s.admin).execute(managerAddress, setAdmin))
        .to.emit(s.manager, "RoleAdminChanged")
        .withArgs(GUARDIAN_ROLE, GOVERNOR_ROLE);
      const revoke = m.encodeFunctionData("revokeRole", [GUARDIAN_ROLE, s.guardian.address]);
      await expectScheduledForDelay(s, s.governor, managerAddress, revoke);
      await expect(s.manager.connect(s.guardian).cancel(s.governor.address, managerAddress, revoke))
        .to.be.revertedWithCustomError(s.manager, "ConsentAccessManagerGuardianRoleChange")
        .withArgs(s.guardian.address, s.governor.address, m.getFunction("revokeRole")!.selector);
      await networkHelpers.time.increase(DELAY);
      await expect(s.manager.connect(s.governor).execute(managerAddress, revoke))
        .to.emit(s.manager, "RoleRevoked")
        .withArgs(GUARDIAN_ROLE, s.guardian.address);
    });

    it("the guardian still vetoes everything else, including calls that merely name its role", async () => {
      const s = await networkHelpers.loadFixture(deployed);
      const managerAddress = await s.manager.getAddress();
      const registry = await s.registry.getAddress();
      const m = s.manager.interface;
      const admin: string[] = [
        m.encodeFunctionData("labelRole", [GUARDIAN_ROLE, "a label changes nothing"]),
        m.encodeFunctionData("grantRole", [GOVERNOR_ROLE, s.stranger.address, DELAY]),
        m.encodeFunctionData("revokeRole", [GOVERNOR_ROLE, s.governor.address]),
        m.encodeFunctionData("revokeRole", [ADMIN_ROLE, s.admin.address]),
        m.encodeFunctionData("grantRole", [ADMIN_ROLE, s.stranger.address, DELAY]),
        m.encodeFunctionData("setRoleAdmin", [GOVERNOR_ROLE, GUARDIAN_ROLE]),
        m.encodeFunctionData("setRoleGuardian", [GOVERNOR_ROLE, GUARDIAN_ROLE]),
        m.encodeFunctionData("setGrantDelay", [GOVERNOR_ROLE, 0n]),
        m.encodeFunctionData("setTargetFunctionRole", [registry, ["0x12345678"], GUARDIAN_ROLE]),
        m.encodeFunctionData("setTargetClosed", [registry, true]),
        m.encodeFunctionData("updateAuthority", [registry, s.stranger.address]),
        m.encodeFunctionData("updateAuthority", [managerAddress, s.stranger.address]),
      ];
      for (const data of admin) {
        const { operationId } = await expectScheduledForDelay(s, s.admin, managerAddress, data);
        await expect(s.manager.connect(s.guardian).cancel(s.admin.address, managerAddress, data))
          .to.emit(s.manager, "OperationCanceled")
          .withArgs(operationId, 1n);
      }
      // A governed call elsewhere whose first argument happens to be 2 (= GUARDIAN_ROLE).
      const define = s.registry.interface.encodeFunctionData("definePurpose", [GUARDIAN_ROLE, id("purpose:2")]);
      const { operationId } = await expectScheduledForDelay(s, s.governor, registry, define);
      await expect(s.manager.connect(s.guardian).cancel(s.governor.address, registry, define))
        .to.emit(s.manager, "OperationCanceled")
        .withArgs(operationId, 1n);
    });

    it("isGuardianRoleChange names exactly the manager's own GUARDIAN_ROLE changes", async () => {
      const s = await networkHelpers.loadFixture(deployed);
      const managerAddress = await s.manager.getAddress();
      const registry = await s.registry.getAddress();
      for (const [name, data] of guardianChanges(s)) {
        expect(await s.manager.isGuardianRoleChange(managerAddress, data), name).to.equal(true);
        expect(await s.manager.isGuardianRoleChange(registry, data), `${name} elsewhere`).to.equal(false);
      }
      const m = s.manager.interface;
      for (const data of [
        m.encodeFunctionData("labelRole", [GUARDIAN_ROLE, "x"]),
        m.encodeFunctionData("revokeRole", [GOVERNOR_ROLE, s.guardian.address]),
        m.encodeFunctionData("setRoleAdmin", [GOVERNOR_ROLE, GUARDIAN_ROLE]),
        m.encodeFunctionData("renounceRole", [GUARDIAN_ROLE, managerAddress]),
        m.encodeFunctionData("updateAuthority", [registry, s.stranger.address]),
        m.getFunction("revokeRole")!.selector, // too short to name a role
      ]) {
        expect(await s.manager.isGuardianRoleChange(managerAddress, data), data).to.equal(false);
      }
    });
  });

  it("no governance path touches a consent, and withdrawal works throughout", async () => {
    const s = await networkHelpers.loadFixture(deployed);
    const mask = purposesToMask([SHARE]);
    await s.registry.connect(s.owner).grant(s.grantee.address, id("data"), mask, NO_EXPIRY, id("notice"));
    const managerAddress = await s.manager.getAddress();
    const close = s.manager.interface.encodeFunctionData("setTargetClosed", [await s.registry.getAddress(), true]);
    await expectScheduledForDelay(s, s.admin, managerAddress, close);
    await networkHelpers.time.increase(DELAY);
    await s.manager.connect(s.admin).execute(managerAddress, close);
    expect(await s.registry.isAllowed(s.owner.address, s.grantee.address, id("data"), SHARE)).to.equal(true);
    await expect(s.registry.connect(s.owner).revoke(s.grantee.address, id("data"))).to.emit(
      s.registry,
      "ConsentRevoked",
    );
    await expect(s.registry.connect(s.owner).revokeAll()).to.emit(s.registry, "AllConsentsRevoked");
  });
});
