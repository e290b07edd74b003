import { pgTable } from "drizzle-orm/pg-core";
import type { ReadonlyDrizzle } from "ponder";

import { chainsFromEnv } from "./chains";

/**
 * Ponder's per-network progress table (`_ponder_status`, in the app's schema; this Ponder keys
 * it by network name): the block and timestamp up to which each chain is indexed.
 */
export const ponderStatus = pgTable("_ponder_status", (t) => ({
  networkName: t.text("network_name").primaryKey(),
  blockNumber: t.bigint("block_number", { mode: "number" }),
  blockTimestamp: t.bigint("block_timestamp", { mode: "number" }),
  ready: t.boolean("ready").notNull(),
}));

export interface IndexedHead {
  chainId: number;
  name: string;
  blockNumber: number | null;
  blockTimestamp: number | null;
  ready: boolean;
}

/** Each configured chain's indexed head (nulls before its backfill is done), by chain id. */
export async function indexedHeads(db: ReadonlyDrizzle<Record<string, unknown>>): Promise<IndexedHead[]> {
  const rows = new Map((await db.select().from(ponderStatus)).map((r) => [r.networkName, r]));
  return chainsFromEnv()
    .map((c) => {
      const r = rows.get(c.name);
      return {
        chainId: c.chainId,
        name: c.name,
        blockNumber: r?.blockNumber ?? null,
        blockTimestamp: r?.blockTimestamp ?? null,
        ready: r?.ready ?? false,
      };
    })
    .sort((a, b) => a.chainId - b.chainId);
}
