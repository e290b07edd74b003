/**
 * Ponder backfill benchmark: `npm run bench:ponder` (from the repository root). Writes
 * reports/ponder-bench.json, a flat object with `ponder.events_per_s` beside `raw.events_per_s`
 * measured IN THE SAME RUN on the same chain (on a shared 2-core box absolute numbers move with
 * the load, which is recorded too).
 *
 * 1. A throwaway PostgreSQL cluster (scripts/pg), a `hardhat node`, the consent system deployed
 *    with the Ignition module, and BENCH_PONDER_EVENTS (default 100,000) use and share records
 *    (playBulk: recordUseBatch / recordShareBatch of 200, one block each), then 40 empty blocks.
 * 2. raw: eth_getLogs over the three addresses in 500-block chunks, sequential, JSON parsed,
 *    nothing decoded or stored; measured before and after Ponder, the mean is the limit.
 * 3. ponder: `ponder start` into an empty database, from the process's spawn to /ready with its
 *    status at the head (what an operator waits for: build, RPC fetch, handlers, writes); then
 *    once more into a second schema of the same database, whose RPC cache (ponder_sync) is
 *    warm: the handlers' and the store's rate without the RPC.
 *
 * Bounded: BENCH_PONDER_TIMEOUT_S (default 900) for each Ponder run; every process is stopped by
 * its pid at the end, on failure too.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";

import { createDatabase, usePostgres } from "../../test/helpers/pg.js";
import { playBulk } from "../test/helpers/bulk.js";
import { ROOT, startNode, startPonder } from "../test/helpers/processes.js";
import { deploySystem, head, indexedChain, mine } from "../test/helpers/system.js";
import { pgClient, waitIndexed } from "../test/helpers/tables.js";

const EVENTS = Number(process.env.BENCH_PONDER_EVENTS ?? 100_000);
const TIMEOUT_MS = Number(process.env.BENCH_PONDER_TIMEOUT_S ?? 900) * 1000;
if (!Number.isSafeInteger(EVENTS) || EVENTS < 200) throw new Error("BENCH_PONDER_EVENTS: expected an integer >= 200");
const log = (s: string) => process.stderr.write(`bench:ponder: ${s}\n`);
const rate = (events: number, ms: number) => Math.round(events / (ms / 1000));
const loadStart = loadavg();

const cluster = await usePostgres();
const node = await startNode(31337);
const stops: (() => Promise<void>)[] = [];
try {
  const sys = await deploySystem(node);
  const genStart = performance.now();
  const records = await playBulk(sys, EVENTS);
  await mine(node, 40);
  const tip = await head(node);
  const addresses = Object.values(sys.addresses);
  const total = (
    (await sys.provider.send("eth_getLogs", [{ address: addresses, fromBlock: "0x0", toBlock: "latest" }])) as unknown[]
  ).length;
  log(
    `${records} records sent, ${total} logs in ${tip} blocks (${((performance.now() - genStart) / 1000).toFixed(0)} s)`,
  );

  const rawRead = async () => {
    const t = performance.now();
    let n = 0;
    for (let from = 0; from <= tip; from += 500) {
      const to = Math.min(tip, from + 499);
      const res = await fetch(node.url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          jsonrpc: "2.0",
          id: 1,
          method: "eth_getLogs",
          params: [{ address: addresses, fromBlock: `0x${from.toString(16)}`, toBlock: `0x${to.toString(16)}` }],
        }),
      });
      n += ((JSON.parse(await res.text()) as { result: unknown[] }).result ?? []).length;
    }
    if (n !== total) throw new Error(`raw read ${n} of ${total} logs`);
    return performance.now() - t;
  };
  await rawRead(); // warm the node's caches as Ponder will find them
  const rawBefore = await rawRead();
  log(`raw eth_getLogs: ${rate(total, rawBefore)} ev/s (${rawBefore.toFixed(0)} ms)`);

  const databaseUrl = await createDatabase(cluster, "bench_ponder");
  const client = await pgClient(databaseUrl);
  stops.push(() => client.end());
  const runPonder = async (schema: string) => {
    const t0 = performance.now();
    const ponder = await startPonder({ chains: [indexedChain(sys)], databaseUrl, schema });
    stops.push(() => ponder.stop());
    const tHealth = performance.now();
    await waitIndexed(ponder, client, new Map([[node.chainId, tip]]), TIMEOUT_MS);
    const tReady = performance.now();
    const n = Number((await client.query(`SELECT count(*) AS n FROM "${schema}".events`)).rows[0].n);
    if (n !== total) throw new Error(`ponder indexed ${n} of ${total} logs into ${schema}`);
    await ponder.stop();
    return { ms: tReady - t0, startMs: tHealth - t0 };
  };
  const cold = await runPonder("bench_cold");
  log(
    `ponder (cold, RPC included): ${rate(total, cold.ms)} ev/s (${cold.ms.toFixed(0)} ms, ${cold.startMs.toFixed(0)} ms to /health)`,
  );
  const warm = await runPonder("bench_cached");
  log(`ponder (RPC cache warm): ${rate(total, warm.ms)} ev/s (${warm.ms.toFixed(0)} ms)`);
  const rawAfter = await rawRead();
  const rawMean = (rate(total, rawBefore) + rate(total, rawAfter)) / 2;
  log(`raw eth_getLogs after: ${rate(total, rawAfter)} ev/s`);

  const ratio = (x: number) => Math.round(x * 1000) / 1000;
  const report = {
    events: total,
    blocks: tip,
    "raw.events_per_s": Math.round(rawMean),
    "raw.events_per_s_before": rate(total, rawBefore),
    "raw.events_per_s_after": rate(total, rawAfter),
    "ponder.events_per_s": rate(total, cold.ms),
    "ponder.ms": Math.round(cold.ms),
    "ponder.startup_ms": Math.round(cold.startMs),
    "ponder.ratio_to_raw": ratio(rate(total, cold.ms) / rawMean),
    "ponder.cached.events_per_s": rate(total, warm.ms),
    "ponder.cached.ms": Math.round(warm.ms),
    "ponder.version": "1.0.0",
    "machine.cpus": cpus().length,
    "machine.load_start": loadStart.map((x) => Math.round(x * 100) / 100),
    "machine.load_end": loadavg().map((x) => Math.round(x * 100) / 100),
    date: new Date().toISOString(),
  };
  mkdirSync(join(ROOT, "reports"), { recursive: true });
  writeFileSync(join(ROOT, "reports", "ponder-bench.json"), JSON.stringify(report, null, 2) + "\n");
  process.stdout.write(JSON.stringify(report, null, 2) + "\n");
} finally {
  for (const stop of stops.reverse()) await stop().catch(() => {});
  await node.stop();
  await cluster.stop();
}
