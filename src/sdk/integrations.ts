import { Interface, getAddress } from "ethers";
import type { ContractRunner, ContractTransactionReceipt, Log, Signer } from "ethers";

import { AccessManager__factory, IntegrationRegistry__factory } from "../../types/ethers-contracts/index.js";
import type { AccessManager, IntegrationRegistry } from "../../types/ethers-contracts/index.js";
import { CONSENT_REGISTRY_ABI } from "./abi.js";
import { assertContract, providerOf } from "./client.js";
import type { EventRange, PurposeInput } from "./client.js";
import { ConsentSdkError, toConsentSdkError } from "./errors.js";
import { Purpose, maskToPurposes } from "./purposes.js";
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

export interface PendingOperation extends ScheduledOperation {
  /** Whether the delay has passed (by the latest block's time). */
  ready: boolean;
  blockNumber: number;
  transactionHash: string;
}

/** Which contracts the governance helpers target. */
export interface GovernedTargets {
  consentRegistry: string;
  integrationRegistry: string;
}

const registryIface = new Interface(CONSENT_REGISTRY_ABI);

/**
 * Governance over an OpenZeppelin AccessManager: the governor schedules a governed call, waits
 * the execution delay, then executes it. `propose*` helpers schedule, `execute*` helpers run.
 */
export class GovernanceClient {
  private constructor(
    readonly address: string,
    readonly contract: AccessManager,
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
    return new GovernanceClient(target, AccessManager__factory.connect(target, runner), t, runner);
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
