import type { ReplayEvent } from "./events.js";
import { type AuditStore, chainToRead, type ReplaySummary } from "./store.js";

/**
 * Streams the events of one chain in chain order (block, log index) through `visit` (the store's
 * single ordered pass). Throws when the store holds no chain.
 */
export async function replayEvents(
  store: AuditStore,
  visit: (e: ReplayEvent) => void,
  opts: { chainId?: number; toBlock?: number } = {},
): Promise<ReplaySummary> {
  const chainId = await chainToRead(store, opts.chainId);
  return store.replay({ chainId, toBlock: opts.toBlock }, visit);
}
