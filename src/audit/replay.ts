import { type AuditDb, defaultChainId } from "./db.js";
import type { ReplayEvent } from "./model.js";

/**
 * Streams the events of one chain in chain order (block, log index) through `visit`: a single
 * pass over the UNIQUE(chain_id, block_number, log_index) index with one prepared statement.
 */
export function replayEvents(
  db: AuditDb,
  visit: (e: ReplayEvent) => void,
  opts: { chainId?: number; toBlock?: number } = {},
): { chainId: number; events: number; lastBlock: number; lastTimestamp: number } {
  const chainId = opts.chainId ?? defaultChainId(db);
  if (chainId === undefined) throw new Error("the audit database is empty; run `omni-consent audit sync` first");
  const stmt = db
    .prepare(
      `SELECT block_number, log_index, tx_hash, event_name, args_json, block_timestamp, via FROM events
       WHERE chain_id = ? AND block_number <= ? ORDER BY block_number, log_index`,
    )
    .raw(true);
  let events = 0;
  let lastBlock = -1;
  let lastTimestamp = 0;
  for (const row of stmt.iterate(chainId, opts.toBlock ?? Number.MAX_SAFE_INTEGER) as IterableIterator<
    [number, number, string, string, string, number, number | null]
  >) {
    events++;
    lastBlock = row[0];
    lastTimestamp = row[5];
    visit({
      blockNumber: row[0],
      logIndex: row[1],
      txHash: row[2],
      name: row[3],
      args: JSON.parse(row[4]) as ReplayEvent["args"],
      blockTimestamp: row[5],
      via: row[6],
    });
  }
  return { chainId, events, lastBlock, lastTimestamp };
}
