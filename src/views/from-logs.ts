import { decodeLog, type Watched } from "../audit/decode.js";
import type { ReplayEvent } from "../audit/events.js";

/**
 * Raw logs (what a browser reads with `eth_getLogs`) as the events `ViewBuilder.add` takes
 * (browser-safe): the audit's decoder (addresses lowercase, integers as decimal strings) and the
 * log's position. `kind` is which contract emitted it: "registry" (ConsentRegistry) or
 * "integrations" (IntegrationRegistry).
 */
export interface RawLog {
  topics: readonly string[];
  data: string;
  blockNumber: number;
  /** The log's index in its block (ethers: `index`; JSON-RPC: `logIndex`). */
  index: number;
  transactionHash: string;
}

export function replayEventFromLog(kind: Watched, log: RawLog, blockTimestamp: number): ReplayEvent {
  const decoded = decodeLog(kind, { topics: [...log.topics], data: log.data });
  return {
    ...decoded,
    blockNumber: log.blockNumber,
    logIndex: log.index,
    txHash: log.transactionHash.toLowerCase(),
    blockTimestamp,
  } as ReplayEvent;
}

/** Events of several contracts in chain order (block, then log index): the order `add` needs. */
export function inChainOrder(events: readonly ReplayEvent[]): ReplayEvent[] {
  return [...events].sort((a, b) => a.blockNumber - b.blockNumber || a.logIndex - b.logIndex);
}
