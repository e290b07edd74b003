import { Interface, getAddress } from "ethers";
import type { ContractRunner, ContractTransactionReceipt, Log, Signer } from "ethers";

import { ConsentAccessManager__factory, IntegrationRegistry__factory } from "../../types/ethers-contracts/index.js";
import type { ConsentAccessManager, IntegrationRegistry } from "../../types/ethers-contracts/index.js";
import { CONSENT_REGISTRY_ABI } from "./abi.js";
import { assertContract, providerOf } from "./client.js";
import type { EventRange, PurposeInput } from "./client.js";
import { ConsentSdkError, toConsentSdkError } from "./errors.js";
import { simulateGovernedCall } from "./governance-simulation.js";
import type { GovernedCallSimulation } from "./governance-simulation.js";
import { Purpose, maskToPurposes } from "./purposes.js";
import { isoTime, timeLeftWords } from "./time-words.js";
import { ConsentTransaction } from "./transaction.js";
import { z } from "zod";

import { addressSchema, bytes32Schema, parseInput, purposeSchema, purposesSchema } from "./validation.js";

/** Status of an integration (mirror of `IIntegrationRegistry.Status`). */
export type IntegrationStatus = "None" | "Active" | "Suspended";
const STATUS: readonly IntegrationStatus[] = ["None", "Active", "Suspended"];

export interface IntegrationView {
  address: string;
  purposes: number[];
  purposesMask: bigint;
  status: IntegrationStatus;
  metadataHash: string;
}

/** An integration to register (or update) through governance. */
export interface IntegrationRequest {
  integration: string;
  metadataHash: string;
  purposes: readonly PurposeInput[] | bigint;
}

const purposeIdSchema = z.number().int().min(0).max(127, { error: "purpose ids are 0..127" });

const integrationRequestSchema = z.object({
  integration: addressSchema,
  metadataHash: bytes32Schema,
  purposes: purposesSchema,
});

function statusOf(raw: bigint | number): IntegrationStatus {
  return STATUS[Number(raw)] ?? "None";
}

/** Reads the integration registry: the third parties that may receive shared data. */
export class IntegrationRegistryClient {
  private constructor(
    readonly address: string,
    readonly contract: IntegrationRegistry,
  ) {}

  /** Connects to the integration registry at `address` (NO_CONTRACT when there is no code). */
  static async connect(address: string, runner: ContractRunner): Promise<IntegrationRegistryClient> {
    const target = parseInput(addressSchema, address, "integration registry address");
    await assertContract(providerOf(runner), target, "the integration registry");
    return new IntegrationRegistryClient(target, IntegrationRegistry__factory.connect(target, runner));
  }

  /** The integration's stored record (status None when never registered). */
  async getIntegration(integration: string): Promise<IntegrationView> {
    const a = parseInput(addressSchema, integration, "getIntegration.integration");
    try {
      const i = await this.contract.getIntegration(a);
      return {
        address: a,
        purposes: maskToPurposes(i.purposes),
        purposesMask: i.purposes,
        status: statusOf(i.status),
        metadataHash: i.metadataHash,
      };
    } catch (err) {
      throw toConsentSdkError(err, "getIntegration");
    }
  }

  /** Whether `integration` is registered, active and allowed to receive `purpose`. */
  async isActiveIntegration(integration: string, purpose: PurposeInput): Promise<boolean> {
    const a = parseInput(addressSchema, integration, "isActiveIntegration.integration");
    const p = parseInput(purposeSchema, purpose, "isActiveIntegration.purpose");
    const id = typeof p === "number" ? p : Purpose[p];
    try {
      return await this.contract.isActiveIntegration(a, id);
    } catch (err) {
      throw toConsentSdkError(err, "isActiveIntegration");
    }
  }

  /** Every integration ever registered (found from events), with its current record, in registration order. */
  async list(range: EventRange = {}): Promise<IntegrationView[]> {
    let logs;
    try {
      logs = await this.contract.queryFilter(
        this.contract.filters.IntegrationRegistered(),
        range.fromBlock ?? 0,
        range.toBlock ?? "latest",
      );
    } catch (err) {
      throw toConsentSdkError(err, "listing integrations");
    }
    const addresses = [...new Set(logs.map((l) => getAddress(l.args.integration)))];
    const out: IntegrationView[] = [];
    for (const a of addresses) out.push(await this.getIntegration(a));
    return out;
  }
}

/** A governed call scheduled on the AccessManager. */
export interface ScheduledOperation {
  operationId: string;
  nonce: bigint;
  /** Unix time from which the operation can be executed. */
  readyAt: bigint;
  caller: string;
  target: string;
  data: string;
}

export interface ExecutedOperation {
  /** Null when the call was not scheduled (the caller had no execution delay). */
  operationId: string | null;
  nonce: bigint;
  target: string;
  data: string;
}

export interface CancelledOperation {
  operationId: string;
  nonce: bigint;
  /** Who scheduled it, and the call that will not run. */
  caller: string;
  target: string;
  data: string;
}

/** A role's member as the AccessManager records it. */
export interface RoleMembership {
  isMember: boolean;
  /** Seconds every call of this member through the role waits (0 = none). */
  executionDelay: bigint;
}

export interface PendingOperation extends ScheduledOperation {
  /** Whether the delay has passed (by the latest block's time). */
  ready: boolean;
  blockNumber: number;
  transactionHash: string;
}

/** A governed call by what it does (validated by {@link GovernanceClient.callOf}). */
export type GovernedAction =
  | { kind: "registerIntegration"; request: IntegrationRequest }
  | { kind: "updateIntegration"; request: IntegrationRequest }
  | { kind: "suspendIntegration"; integration: string }
  | { kind: "reinstateIntegration"; integration: string }
  | { kind: "definePurpose"; id: number; metadataHash: string }
  | { kind: "deprecatePurpose"; id: number };

/** Which contracts the governance helpers target. */
export interface GovernedTargets {
  consentRegistry: string;
  integrationRegistry: string;
}

const registryIface = new Interface(CONSENT_REGISTRY_ABI);

/**
 * Governance over the ConsentAccessManager (OpenZeppelin's AccessManager with no instant
 * power): the governor (GOVERNOR_ROLE, 1) schedules a governed call, waits the execution delay,
 * then executes it; the proposer or a guardian (GUARDIAN_ROLE, 2) can cancel it meanwhile; the
 * admin (ADMIN_ROLE, 0) itself acts only through the delay. `propose*` helpers schedule,
 * `execute*` helpers run, {@link simulate} says whether a call would succeed now.
 */
export class GovernanceClient {
  private constructor(
    readonly address: string,
    readonly contract: ConsentAccessManager,
    readonly targets: GovernedTargets,
    private readonly runner: ContractRunner,
  ) {}

  /** Connects to the AccessManager at `address`; `targets` are the governed contracts. */
  static async connect(address: string, runner: ContractRunner, targets: GovernedTargets): Promise<GovernanceClient> {
    const target = parseInput(addressSchema, address, "access manager address");
    const t = {
      consentRegistry: parseInput(addressSchema, targets.consentRegistry, "targets.consentRegistry"),
      integrationRegistry: parseInput(addressSchema, targets.integrationRegistry, "targets.integrationRegistry"),
    };
    await assertContract(providerOf(runner), target, "the AccessManager");
    return new GovernanceClient(target, ConsentAccessManager__factory.connect(target, runner), t, runner);
  }

  private async sender(action: string): Promise<string> {
    const s = this.runner as Partial<Signer>;
    if (typeof s.getAddress !== "function") {
      throw new ConsentSdkError("NO_SIGNER", `${action}: connect the client with a Signer to send transactions`);
    }
    return s.getAddress();
  }

  private parsed(receipt: ContractTransactionReceipt, name: string): Record<string, unknown>[] {
    const out: Record<string, unknown>[] = [];
    for (const log of receipt.logs as readonly Log[]) {
      if (getAddress(log.address) !== this.address) continue;
      const p = this.contract.interface.parseLog({ topics: [...log.topics], data: log.data });
      if (p?.name === name) out.push(p.args.toObject());
    }
    return out;
  }

  /** Schedules `calldata` on `target` (earliest time: now + the caller's execution delay). */
  schedule(target: string, calldata: string, action = "schedule"): ConsentTransaction<ScheduledOperation> {
    return new ConsentTransaction(
      this.runner,
      this.contract.interface,
      action,
      async () => {
        const t = parseInput(addressSchema, target, `${action}.target`);
        const from = await this.sender(action);
        const tx = await this.contract.schedule.populateTransaction(t, calldata, 0);
        return { to: tx.to, data: tx.data, from };
      },
      (r) => {
        const [e] = this.parsed(r, "OperationScheduled");
        if (!e) throw new ConsentSdkError("NOT_FOUND", `${action}: transaction ${r.hash} scheduled nothing`);
        return {
          operationId: String(e.operationId),
          nonce: BigInt(e.nonce as bigint),
          readyAt: BigInt(e.schedule as bigint),
          caller: String(e.caller),
          target: String(e.target),
          data: String(e.data),
        };
      },
    );
  }

  /**
   * AccessManagerNotReady with *when*: the operation's schedule (`getSchedule`) as an ISO time
   * and the time left by the chain's clock.
   */
  private async explainNotReady(err: ConsentSdkError): Promise<ConsentSdkError> {
    if (err.revert?.name !== "AccessManagerNotReady") return err;
    const operationId = String(err.revert.args.operationId);
    try {
      const provider = providerOf(this.runner);
      const [readyAt, block] = await Promise.all([this.contract.getSchedule(operationId), provider.getBlock("latest")]);
      const now = BigInt(block?.timestamp ?? 0);
      const message = `AccessManagerNotReady: operation ${operationId} is scheduled but not ready yet: it becomes executable at ${isoTime(readyAt)} (${timeLeftWords(readyAt, now)}; chain time ${isoTime(now)})`;
      return new ConsentSdkError("REVERTED", message, {
        cause: err,
        revert: { name: err.revert.name, args: { ...err.revert.args, readyAt }, message },
      });
    } catch {
      return err;
    }
  }

  /** Executes `calldata` on `target` (scheduled and ready, or the caller has no delay). */
  execute(target: string, calldata: string, action = "execute"): ConsentTransaction<ExecutedOperation> {
    return new ConsentTransaction(
      this.runner,
      this.contract.interface,
      action,
      async () => {
        const t = parseInput(addressSchema, target, `${action}.target`);
        const from = await this.sender(action);
        const tx = await this.contract.execute.populateTransaction(t, calldata);
        return { to: tx.to, data: tx.data, from };
      },
      (r) => {
        const [e] = this.parsed(r, "OperationExecuted");
        return {
          operationId: e ? String(e.operationId) : null,
          nonce: e ? BigInt(e.nonce as bigint) : 0n,
          target: getAddress(target),
          data: calldata,
        };
      },
      { explain: (err) => this.explainNotReady(err) },
    );
  }

  /** The pending operation `operationId` (scheduled, not executed, cancelled or expired), or null. */
  async pendingOperation(operationId: string): Promise<PendingOperation | null> {
    const id = parseInput(bytes32Schema, operationId, "operationId");
    return (await this.pending()).find((p) => p.operationId.toLowerCase() === id) ?? null;
  }

  /**
   * Cancels pending operation `operationId`. The ConsentAccessManager lets only the account that
   * scheduled it, or a member of GUARDIAN_ROLE (2), cancel (AccessManagerUnauthorizedCancel
   * otherwise). An operation that is not pending is refused before anything is sent (NOT_FOUND).
   */
  cancel(operationId: string): ConsentTransaction<CancelledOperation> {
    let op: PendingOperation | null = null;
    return new ConsentTransaction(
      this.runner,
      this.contract.interface,
      "cancel",
      async () => {
        const id = parseInput(bytes32Schema, operationId, "cancel.operationId");
        const from = await this.sender("cancel");
        op = await this.pendingOperation(id);
        if (op === null) {
          throw new ConsentSdkError(
            "NOT_FOUND",
            `cancel: operation ${id} is not pending (never scheduled, or executed, cancelled or expired since); nothing to cancel, nothing was sent`,
          );
        }
        const tx = await this.contract.cancel.populateTransaction(op.caller, op.target, op.data);
        return { to: tx.to, data: tx.data, from };
      },
      (r) => {
        const [e] = this.parsed(r, "OperationCanceled");
        if (!e || op === null)
          throw new ConsentSdkError("NOT_FOUND", `cancel: transaction ${r.hash} cancelled nothing`);
        return {
          operationId: String(e.operationId),
          nonce: BigInt(e.nonce as bigint),
          caller: op.caller,
          target: op.target,
          data: op.data,
        };
      },
    );
  }

  /** Whether `account` holds `roleId`, and with which execution delay. */
  async membership(roleId: bigint, account: string): Promise<RoleMembership> {
    const a = parseInput(addressSchema, account, "membership.account");
    try {
      const [isMember, executionDelay] = await this.contract.hasRole(roleId, a);
      return { isMember, executionDelay: BigInt(executionDelay) };
    } catch (err) {
      throw toConsentSdkError(err, "reading a role");
    }
  }

  /**
   * Whether `calldata` on `target` would succeed if executed now (see
   * `governance-simulation.ts`: exact with eth_call state overrides, else by reading state).
   */
  async simulate(target: string, calldata: string): Promise<GovernedCallSimulation> {
    const t = parseInput(addressSchema, target, "simulate.target");
    const s = this.runner as Partial<Signer>;
    const from = typeof s.getAddress === "function" ? await s.getAddress() : undefined;
    return simulateGovernedCall(
      providerOf(this.runner),
      { accessManager: this.address, ...this.targets },
      t,
      calldata,
      from,
    );
  }

  /** Scheduled operations not yet executed or cancelled, oldest first. */
  async pending(range: EventRange = {}): Promise<PendingOperation[]> {
    const c = this.contract;
    const from = range.fromBlock ?? 0;
    const to = range.toBlock ?? "latest";
    try {
      const scheduled = await c.queryFilter(c.filters.OperationScheduled(), from, to);
      const block = await providerOf(this.runner).getBlock("latest");
      const now = BigInt(block?.timestamp ?? 0);
      const out: PendingOperation[] = [];
      for (const l of scheduled) {
        const id = l.args.operationId;
        // getSchedule is 0 once executed, cancelled or expired; the nonce tells re-schedules apart.
        const [when, nonce] = await Promise.all([c.getSchedule(id), c.getNonce(id)]);
        if (when === 0n || nonce !== l.args.nonce) continue;
        out.push({
          operationId: id,
          nonce: l.args.nonce,
          readyAt: when,
          caller: l.args.caller,
          target: l.args.target,
          data: l.args.data,
          ready: now >= when,
          blockNumber: l.blockNumber,
          transactionHash: l.transactionHash,
        });
      }
      return out;
    } catch (err) {
      throw toConsentSdkError(err, "listing pending operations");
    }
  }

  // Calldata of the governed functions ------------------------------------------------------

  /** The target and calldata of `action` (INVALID_INPUT naming the field when it is malformed). */
  callOf(action: GovernedAction): { target: string; data: string } {
    const ints = IntegrationRegistry__factory.createInterface();
    const label = action.kind;
    switch (action.kind) {
      case "registerIntegration":
        return { target: this.targets.integrationRegistry, data: this.registerCalldata(action.request, label) };
      case "updateIntegration": {
        const r = parseInput(integrationRequestSchema, action.request, label);
        return {
          target: this.targets.integrationRegistry,
          data: ints.encodeFunctionData("updateIntegration", [r.integration, r.metadataHash, r.purposes]),
        };
      }
      case "suspendIntegration":
        return { target: this.targets.integrationRegistry, data: this.suspendCalldata(action.integration, label) };
      case "reinstateIntegration": {
        const a = parseInput(addressSchema, action.integration, `${label}.integration`);
        return { target: this.targets.integrationRegistry, data: ints.encodeFunctionData("reinstateIntegration", [a]) };
      }
      case "definePurpose":
        return {
          target: this.targets.consentRegistry,
          data: this.defineCalldata(action.id, action.metadataHash, label),
        };
      case "deprecatePurpose":
        return { target: this.targets.consentRegistry, data: this.deprecateCalldata(action.id, label) };
    }
  }

  /** Schedules `action` (see {@link callOf}). */
  propose(action: GovernedAction): ConsentTransaction<ScheduledOperation> {
    return this.lazyCall("schedule", `propose ${action.kind}`, () => this.callOf(action));
  }

  /** Executes `action` once its delay has passed (AccessManagerNotReady says when it will be ready). */
  executeAction(action: GovernedAction): ConsentTransaction<ExecutedOperation> {
    return this.lazyCall("execute", `execute ${action.kind}`, () => this.callOf(action));
  }

  private lazyCall<T>(
    kind: "schedule" | "execute",
    action: string,
    build: () => { target: string; data: string },
  ): ConsentTransaction<T> {
    let call: { target: string; data: string } | undefined;
    let failure: unknown;
    try {
      call = build();
    } catch (err) {
      failure = err;
    }
    if (call === undefined) {
      return new ConsentTransaction<T>(
        this.runner,
        this.contract.interface,
        action,
        () => Promise.reject(failure),
        () => {
          throw failure;
        },
      );
    }
    return (
      kind === "schedule" ? this.schedule(call.target, call.data, action) : this.execute(call.target, call.data, action)
    ) as ConsentTransaction<T>;
  }

  private registerCalldata(req: IntegrationRequest, label: string): string {
    const r = parseInput(integrationRequestSchema, req, label);
    return IntegrationRegistry__factory.createInterface().encodeFunctionData("registerIntegration", [
      r.integration,
      r.metadataHash,
      r.purposes,
    ]);
  }

  private suspendCalldata(integration: string, label: string): string {
    const a = parseInput(addressSchema, integration, `${label}.integration`);
    return IntegrationRegistry__factory.createInterface().encodeFunctionData("suspendIntegration", [a]);
  }

  private defineCalldata(id: number, metadataHash: string, label: string): string {
    const p = parseInput(purposeIdSchema, id, `${label}.id`);
    const h = parseInput(bytes32Schema, metadataHash, `${label}.metadataHash`);
    return registryIface.encodeFunctionData("definePurpose", [p, h]);
  }

  private deprecateCalldata(id: number, label: string): string {
    return registryIface.encodeFunctionData("deprecatePurpose", [parseInput(purposeIdSchema, id, `${label}.id`)]);
  }

  private lazy<T>(
    kind: "schedule" | "execute",
    target: string,
    action: string,
    calldata: () => string,
  ): ConsentTransaction<T> {
    // Validation errors must surface from populate(), like every other SDK write.
    let data: string | undefined;
    let failure: unknown;
    try {
      data = calldata();
    } catch (err) {
      failure = err;
    }
    if (data === undefined) {
      return new ConsentTransaction<T>(
        this.runner,
        this.contract.interface,
        action,
        () => Promise.reject(failure),
        () => {
          throw failure;
        },
      );
    }
    return (
      kind === "schedule" ? this.schedule(target, data, action) : this.execute(target, data, action)
    ) as ConsentTransaction<T>;
  }

  /** Schedules `registerIntegration`; the result carries `operationId` and `readyAt`. */
  proposeRegisterIntegration(req: IntegrationRequest): ConsentTransaction<ScheduledOperation> {
    const t = this.targets.integrationRegistry;
    return this.lazy("schedule", t, "proposeRegisterIntegration", () =>
      this.registerCalldata(req, "proposeRegisterIntegration"),
    );
  }

  executeRegisterIntegration(req: IntegrationRequest): ConsentTransaction<ExecutedOperation> {
    const t = this.targets.integrationRegistry;
    return this.lazy("execute", t, "executeRegisterIntegration", () =>
      this.registerCalldata(req, "executeRegisterIntegration"),
    );
  }

  proposeSuspendIntegration(integration: string): ConsentTransaction<ScheduledOperation> {
    const t = this.targets.integrationRegistry;
    return this.lazy("schedule", t, "proposeSuspendIntegration", () =>
      this.suspendCalldata(integration, "proposeSuspendIntegration"),
    );
  }

  executeSuspendIntegration(integration: string): ConsentTransaction<ExecutedOperation> {
    const t = this.targets.integrationRegistry;
    return this.lazy("execute", t, "executeSuspendIntegration", () =>
      this.suspendCalldata(integration, "executeSuspendIntegration"),
    );
  }

  proposeDefinePurpose(id: number, metadataHash: string): ConsentTransaction<ScheduledOperation> {
    const t = this.targets.consentRegistry;
    return this.lazy("schedule", t, "proposeDefinePurpose", () =>
      this.defineCalldata(id, metadataHash, "proposeDefinePurpose"),
    );
  }

  executeDefinePurpose(id: number, metadataHash: string): ConsentTransaction<ExecutedOperation> {
    const t = this.targets.consentRegistry;
    return this.lazy("execute", t, "executeDefinePurpose", () =>
      this.defineCalldata(id, metadataHash, "executeDefinePurpose"),
    );
  }

  proposeDeprecatePurpose(id: number): ConsentTransaction<ScheduledOperation> {
    const t = this.targets.consentRegistry;
    return this.lazy("schedule", t, "proposeDeprecatePurpose", () =>
      this.deprecateCalldata(id, "proposeDeprecatePurpose"),
    );
  }

  executeDeprecatePurpose(id: number): ConsentTransaction<ExecutedOperation> {
    const t = this.targets.consentRegistry;
    return this.lazy("execute", t, "executeDeprecatePurpose", () =>
      this.deprecateCalldata(id, "executeDeprecatePurpose"),
    );
  }
}
