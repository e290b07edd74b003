import { getAddress } from "ethers";
import type { ContractRunner } from "ethers";

import { ContractClient, addressOfRunner, connectTo } from "./base.js";
import type { EventRange } from "./base.js";
import { ConsentAccessManager__factory } from "./contracts.js";
import type {
  ConsentAccessManager,
  OperationCanceledEvent,
  OperationExecutedEvent,
  OperationScheduledEvent,
} from "./contracts.js";
import { ConsentSdkError } from "./errors.js";
import { governanceCalls, governedCall } from "./governance-calls.js";
import type { GovernanceCalls, GovernedAction, GovernedCall, GovernedTargets } from "./governance-calls.js";
import { simulateGovernedCall } from "./governance-simulation.js";
import type { GovernedCallSimulation } from "./governance-simulation.js";
import { isoTime, timeLeftWords } from "./time-words.js";
import type { ConsentTransaction } from "./transaction.js";
import { addressSchema, bytes32Schema, parseInput } from "./validation.js";

export type { GovernanceCalls, GovernedAction, GovernedCall, GovernedTargets } from "./governance-calls.js";

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

/**
 * Governance over the ConsentAccessManager (OpenZeppelin's AccessManager with no instant
 * power): the governor (GOVERNOR_ROLE, 1) proposes (schedules) a governed call, waits the
 * execution delay, then executes it; the proposer or a guardian (GUARDIAN_ROLE, 2) can cancel
 * it meanwhile; the admin (ADMIN_ROLE, 0) itself acts only through the delay. The calls are
 * built by {@link calls} (`governance-calls.ts`); {@link propose} and {@link execute} take any
 * of them, {@link simulate} says whether one would succeed now.
 */
export class GovernanceClient extends ContractClient<ConsentAccessManager> {
  private constructor(
    address: string,
    contract: ConsentAccessManager,
    chainId: bigint,
    runner: ContractRunner,
    /** The governed contracts. */
    readonly targets: GovernedTargets,
  ) {
    super(address, contract, chainId, runner);
    this.calls = governanceCalls(targets);
  }

  /** Builders of every governed call of this deployment: `gov.propose(gov.calls.suspendIntegration(a))`. */
  readonly calls: GovernanceCalls;

  /** Connects to the AccessManager at `address`; `targets` are the governed contracts. */
  static async connect(address: string, runner: ContractRunner, targets: GovernedTargets): Promise<GovernanceClient> {
    const t = {
      consentRegistry: parseInput(addressSchema, targets.consentRegistry, "targets.consentRegistry"),
      integrationRegistry: parseInput(addressSchema, targets.integrationRegistry, "targets.integrationRegistry"),
    };
    const { address: target, chainId } = await connectTo(address, runner, {
      label: "access manager address",
      what: "the AccessManager",
    });
    return new GovernanceClient(target, ConsentAccessManager__factory.connect(target, runner), chainId, runner, t);
  }

  /** The target and calldata of `action` (INVALID_INPUT naming the field when it is malformed). */
  callOf(action: GovernedAction): GovernedCall {
    return governedCall(this.targets, action);
  }

  /** Schedules `call` (executable from now + the caller's execution delay). */
  propose(call: GovernedCall, action = "propose"): ConsentTransaction<ScheduledOperation> {
    return this.tx(
      action,
      async () => {
        const t = parseInput(addressSchema, call.target, `${action}.target`);
        return this.callData(this.contract.schedule.populateTransaction(t, call.data, 0));
      },
      (r) => {
        const [e] = this.events<OperationScheduledEvent.OutputObject>(r, "OperationScheduled");
        if (!e) throw new ConsentSdkError("NOT_FOUND", `${action}: transaction ${r.hash} scheduled nothing`);
        const { operationId, nonce, schedule: readyAt, caller, target, data } = e;
        return { operationId, nonce, readyAt, caller, target, data };
      },
    );
  }

  /** Executes `call` once its delay has passed (AccessManagerNotReady then says when it will be). */
  execute(call: GovernedCall, action = "execute"): ConsentTransaction<ExecutedOperation> {
    return this.tx(
      action,
      async () => {
        const t = parseInput(addressSchema, call.target, `${action}.target`);
        return this.callData(this.contract.execute.populateTransaction(t, call.data));
      },
      (r) => {
        const [e] = this.events<OperationExecutedEvent.OutputObject>(r, "OperationExecuted");
        return {
          operationId: e ? e.operationId : null,
          nonce: e ? e.nonce : 0n,
          target: getAddress(call.target),
          data: call.data,
        };
      },
      { explain: (err) => this.explainNotReady(err) },
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
      const [readyAt, now] = await Promise.all([this.contract.getSchedule(operationId), this.chainTime()]);
      const message = `AccessManagerNotReady: operation ${operationId} is scheduled but not ready yet: it becomes executable at ${isoTime(readyAt)} (${timeLeftWords(readyAt, now)}; chain time ${isoTime(now)})`;
      return new ConsentSdkError("REVERTED", message, {
        cause: err,
        revert: { name: err.revert.name, args: { ...err.revert.args, readyAt }, message },
      });
    } catch {
      return err;
    }
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
    return this.tx(
      "cancel",
      async () => {
        const id = parseInput(bytes32Schema, operationId, "cancel.operationId");
        await this.senderAddress("cancel");
        op = await this.pendingOperation(id);
        if (op === null) {
          throw new ConsentSdkError(
            "NOT_FOUND",
            `cancel: operation ${id} is not pending (never scheduled, or executed, cancelled or expired since); nothing to cancel, nothing was sent`,
          );
        }
        return this.callData(this.contract.cancel.populateTransaction(op.caller, op.target, op.data));
      },
      (r) => {
        const [e] = this.events<OperationCanceledEvent.OutputObject>(r, "OperationCanceled");
        if (!e || op === null)
          throw new ConsentSdkError("NOT_FOUND", `cancel: transaction ${r.hash} cancelled nothing`);
        return { operationId: e.operationId, nonce: e.nonce, caller: op.caller, target: op.target, data: op.data };
      },
    );
  }

  /** Whether `account` holds `roleId`, and with which execution delay. */
  async membership(roleId: bigint, account: string): Promise<RoleMembership> {
    const a = parseInput(addressSchema, account, "membership.account");
    const [isMember, executionDelay] = await this.read("reading a role", () => this.contract.hasRole(roleId, a));
    return { isMember, executionDelay: BigInt(executionDelay) };
  }

  /** The role a governed call needs (the AccessManager's routing of its target and selector). */
  roleOf(call: GovernedCall): Promise<bigint> {
    return this.read("reading a function's role", () =>
      this.contract.getTargetFunctionRole(call.target, call.data.slice(0, 10)),
    );
  }

  /**
   * Whether `call` would succeed if executed now (see `governance-simulation.ts`: exact with
   * eth_call state overrides, else by reading state).
   */
  async simulate(call: GovernedCall): Promise<GovernedCallSimulation> {
    const t = parseInput(addressSchema, call.target, "simulate.target");
    const from = await addressOfRunner(this.runner);
    return simulateGovernedCall(this.provider, { accessManager: this.address, ...this.targets }, t, call.data, from);
  }

  /** Scheduled operations not yet executed or cancelled, oldest first. */
  async pending(range: EventRange = {}): Promise<PendingOperation[]> {
    const c = this.contract;
    return this.read("listing pending operations", async () => {
      const scheduled = await c.queryFilter(
        c.filters.OperationScheduled(),
        range.fromBlock ?? 0,
        range.toBlock ?? "latest",
      );
      const now = await this.chainTime();
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
    });
  }
}
