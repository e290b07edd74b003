import { getAddress } from "ethers";
import type { ContractRunner } from "ethers";

import { ContractClient, connectTo } from "./base.js";
import type { EventRange } from "./base.js";
import { integrationStatusName } from "./constants.js";
import type { IntegrationStatus } from "./constants.js";
import { IntegrationRegistry__factory } from "./contracts.js";
import type { IntegrationRegistry } from "./contracts.js";
import { maskToPurposes } from "./purposes.js";
import type { PurposeInput } from "./purposes.js";
import { addressSchema, parseInput, purposeSchema } from "./validation.js";

export type { IntegrationStatus } from "./constants.js";

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

/** Reads the integration registry: the third parties that may receive shared data. */
export class IntegrationRegistryClient extends ContractClient<IntegrationRegistry> {
  /** Connects to the integration registry at `address` (NO_CONTRACT when there is no code). */
  static async connect(address: string, runner: ContractRunner): Promise<IntegrationRegistryClient> {
    const { address: target, chainId } = await connectTo(address, runner, {
      label: "integration registry address",
      what: "the integration registry",
    });
    return new IntegrationRegistryClient(target, IntegrationRegistry__factory.connect(target, runner), chainId, runner);
  }

  /** The integration's stored record (status None when never registered). */
  async getIntegration(integration: string): Promise<IntegrationView> {
    const a = parseInput(addressSchema, integration, "getIntegration.integration");
    const i = await this.read("getIntegration", () => this.contract.getIntegration(a));
    return {
      address: a,
      purposes: maskToPurposes(i.purposes),
      purposesMask: i.purposes,
      status: integrationStatusName(i.status) as IntegrationStatus,
      metadataHash: i.metadataHash,
    };
  }

  /** Whether `integration` is registered, active and allowed to receive `purpose`. */
  async isActiveIntegration(integration: string, purpose: PurposeInput): Promise<boolean> {
    const a = parseInput(addressSchema, integration, "isActiveIntegration.integration");
    const p = parseInput(purposeSchema, purpose, "isActiveIntegration.purpose");
    return this.read("isActiveIntegration", () => this.contract.isActiveIntegration(a, p));
  }

  /** Every integration ever registered (found from events), with its current record, in registration order. */
  async list(range: EventRange = {}): Promise<IntegrationView[]> {
    const c = this.contract;
    const logs = await this.read("listing integrations", () =>
      c.queryFilter(c.filters.IntegrationRegistered(), range.fromBlock ?? 0, range.toBlock ?? "latest"),
    );
    const addresses = [...new Set(logs.map((l) => getAddress(l.args.integration)))];
    const out: IntegrationView[] = [];
    for (const a of addresses) out.push(await this.getIntegration(a));
    return out;
  }
}
