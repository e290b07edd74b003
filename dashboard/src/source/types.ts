import type { ReplayEvent } from "../../../src/audit/events.js";

/**
 * Where the dashboard reads an owner's history from. Two implementations answer the same
 * question: the chain's logs through the RPC (`rpc.ts`, the default: nothing to trust but the
 * node) and the indexer's GraphQL API (`indexer.ts`, for large histories). Both return the audit
 * toolkit's decoded events (`ReplayEvent`), so one fold (`owner-view.ts`, over the audit's own
 * rule model) turns either into the views' data.
 */

/** The three contracts of one deployment whose logs are read. */
export interface Watched {
  chainId: number;
  registry: string;
  integrations: string;
  authority: string;
  /** First block to read (the deployment's block; default 0). */
  fromBlock?: number;
}

export interface OwnerHistory {
  chainId: number;
  /** Lowercase hex. */
  owner: string;
  /**
   * In chain order (block, log index): every registry event naming the owner, the purpose
   * catalogue's events, and every IntegrationRegistry and AccessManager event.
   */
  events: ReplayEvent[];
  /** The last block read, and its time (unix seconds): statuses are judged then. */
  lastBlock: number;
  asOf: number;
  /** Where the data came from, in words. */
  source: string;
}

export interface DataSource {
  readonly kind: "rpc" | "indexer";
  ownerHistory(owner: string, watched: Watched): Promise<OwnerHistory>;
}

/** Chain order. */
export function byChainOrder(a: ReplayEvent, b: ReplayEvent): number {
  return a.blockNumber - b.blockNumber || a.logIndex - b.logIndex;
}
