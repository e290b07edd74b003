/**
 * A stand-in for the indexer's API (the Ponder app of issue 12) in its own process on
 * 127.0.0.1: it answers the GraphQL query the dashboard's IndexerSource sends over the rows of
 * Ponder's `events` table given as a JSON file (recorded from the test chain), with the filters
 * the adapter uses (chainId, address, address_in, eventName_in, argsJson_contains), Ponder's
 * 1,000-row pages and cursors, and `/status`. Not Ponder: it checks the adapter's side of the
 * contract; the real API is checked by the indexer's own tests.
 *
 * Usage: node --import tsx indexer-fixture-server.ts <rows.json> <chainId> <headBlock> <headTimestamp>
 */
import { readFileSync } from "node:fs";
import { createServer } from "node:http";

import type { IndexedEventRow } from "../src/source/indexer.js";

const [file, chainId, headBlock, headTs] = process.argv.slice(2);
const rows = (JSON.parse(readFileSync(file!, "utf8")) as IndexedEventRow[]).sort(
  (a, b) => a.blockNumber - b.blockNumber || a.logIndex - b.logIndex,
);

function matches(r: IndexedEventRow, w: Record<string, unknown>): boolean {
  for (const [k, v] of Object.entries(w)) {
    if (k === "argsJson_contains" && !r.argsJson.includes(String(v))) return false;
    else if (k.endsWith("_in") && !(v as unknown[]).includes((r as unknown as Record<string, unknown>)[k.slice(0, -3)]))
      return false;
    else if (!k.includes("_") && (r as unknown as Record<string, unknown>)[k] !== v) return false;
  }
  return true;
}

const server = createServer((req, res) => {
  res.setHeader("access-control-allow-origin", "*");
  res.setHeader("access-control-allow-headers", "content-type");
  if (req.method === "OPTIONS") return void res.end();
  if (req.url === "/status") {
    res.setHeader("content-type", "application/json");
    return void res.end(
      JSON.stringify({
        // Ponder's shape (ponder 1.0.0 database.getStatus): per network name, the head; no chain id.
        [`chain${chainId}`]: { block: { number: Number(headBlock), timestamp: Number(headTs) }, ready: true },
      }),
    );
  }
  let body = "";
  req.on("data", (d: Buffer) => (body += d.toString()));
  req.on("end", () => {
    const { variables } = JSON.parse(body) as { variables: { where: Record<string, unknown>; after: string | null } };
    const all = rows.filter((r) => matches(r, variables.where));
    const start = variables.after ? Number(variables.after) : 0;
    const items = all.slice(start, start + 1000);
    const next = start + items.length;
    res.setHeader("content-type", "application/json");
    res.end(
      JSON.stringify({
        data: { events: { items, pageInfo: { hasNextPage: next < all.length, endCursor: String(next) } } },
      }),
    );
  });
});
server.listen(0, "127.0.0.1", () => {
  const a = server.address();
  process.stdout.write(`indexer fixture: http://127.0.0.1:${typeof a === "object" && a ? a.port : 0}\n`);
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
