/**
 * Audit toolkit benchmark: `npm run bench:audit` (tsx; starts its own hardhat node on a free port).
 *
 * 1. Real history: a `hardhat node` on 127.0.0.1:<free port>; 15 owners grant a processor and a
 *    partner integration ALL_DATA consent; the processor records ~100k events with
 *    recordUseBatch (200 records per tx), every 10th batch a recordShareBatch (200 shares).
 * 2. Sync over HTTP (eth_getLogs, adaptive range) into SQLite at 10k and at the full ~100k.
 * 3. verify / report (owner HTML + Art. 30 JSON) on each.
 * 4. 1M: a SYNTHETIC database built from the real one by replicating its DataUsed/DataShared rows
 *    nine more times at shifted blocks and timestamps (consents never expire, so they stay
 *    covered); then verify and report on it.
 * Peak RSS is the process's max resident set size after each step (it only grows).
 */
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { Interface, JsonRpcProvider, id as keccakId } from "ethers";

import { openAuditDb, syncEvents, verifyHistory, writeReport } from "../src/audit/index.js";
import { CONSENT_REGISTRY_ABI } from "../src/sdk/abi.js";
import { ALL_DATA, NO_EXPIRY } from "../src/sdk/constants.js";
import { initialPurposeMetadata } from "../src/sdk/purposes.js";
import { startHardhatNode } from "../test/audit/helpers/chain.js";
import {
  AccessManager__factory,
  ConsentRegistry__factory,
  IntegrationRegistry__factory,
} from "../types/ethers-contracts/index.js";

const TARGET = Number(process.env.BENCH_EVENTS ?? 100_000);
const BATCH = 200;
const rssMb = () => (process.resourceUsage().maxRSS / 1024).toFixed(0);
const secs = (ms: number) => (ms / 1000).toFixed(2);
const rows: string[][] = [];
const log = (s: string) => process.stderr.write(`bench: ${s}\n`);

const node = await startHardhatNode();
const dir = mkdtempSync(join(tmpdir(), "omni-bench-"));
const provider = new JsonRpcProvider(node.url, undefined, { staticNetwork: true });
try {
  const accounts = (await provider.send("eth_accounts", [])) as string[];
  const [admin, processor, partner] = await Promise.all([0, 16, 17].map((i) => provider.getSigner(accounts[i])));
  const owners = accounts.slice(1, 16);
  const manager = await (await new AccessManager__factory(admin).deploy(admin.address)).waitForDeployment();
  const integrations = await (
    await new IntegrationRegistry__factory(admin).deploy(await manager.getAddress())
  ).waitForDeployment();
  const reg = await (
    await new ConsentRegistry__factory(admin).deploy(
      await manager.getAddress(),
      await integrations.getAddress(),
      initialPurposeMetadata(),
    )
  ).waitForDeployment();
  const registry = await reg.getAddress();
  await (await integrations.registerIntegration(partner.address, keccakId("partner"), 0xffn)).wait();
  for (const o of owners) {
    const s = await provider.getSigner(o);
    await (await reg.connect(s).grant(processor.address, ALL_DATA, 0xffn, NO_EXPIRY, keccakId("notice-v1"))).wait();
    await (await reg.connect(s).grant(partner.address, ALL_DATA, 0b1000000n, NO_EXPIRY, keccakId("notice-v1"))).wait();
  }

  // Generate: batches of 200 records, sent back to back (automine: one block per tx).
  const iface = new Interface(CONSENT_REGISTRY_ABI);
  const batches = Math.ceil(TARGET / BATCH);
  const genStart = performance.now();
  let cut10k = 0;
  for (let b = 0; b < batches; b++) {
    const share = b % 10 === 9;
    const recs = Array.from({ length: BATCH }, (_, i) => {
      const owner = owners[(b * BATCH + i) % owners.length];
      const dataId = keccakId(`asset-${i % 50}`);
      const evidence = keccakId(`job-${b}-${i}`);
      return share
        ? { owner, to: partner.address, dataId, purpose: 6, evidence }
        : { owner, dataId, purpose: i % 6, evidence };
    });
    const data = share
      ? iface.encodeFunctionData("recordShareBatch", [recs])
      : iface.encodeFunctionData("recordUseBatch", [recs]);
    await provider.send("eth_sendTransaction", [{ from: processor.address, to: registry, data, gas: "0xe4e1c0" }]);
    if ((b + 1) * BATCH === 10_000) cut10k = Number(await provider.send("eth_blockNumber", []));
    if (b % 100 === 99) log(`generated ${(b + 1) * BATCH} records`);
  }
  const head = Number(await provider.send("eth_blockNumber", []));
  const genMs = performance.now() - genStart;
  log(`generated ${batches * BATCH} records in ${secs(genMs)} s (head ${head})`);

  const measure = async (label: string, toBlock: number) => {
    const dbPath = join(dir, `${label}.db`);
    const db = openAuditDb(dbPath);
    let t = performance.now();
    const s = await syncEvents({ db, rpc: node.url, registry, toBlock, progress: "none", timeoutMs: 60_000 });
    const syncMs = performance.now() - t;
    t = performance.now();
    const v = await verifyHistory(db);
    const verifyMs = performance.now() - t;
    if (!v.ok) throw new Error(`unexpected violations: ${JSON.stringify(v.violations[0])}`);
    t = performance.now();
    await writeReport(db, { kind: "owner", subject: owners[0], format: "html", out: join(dir, `${label}-owner.html`) });
    await writeReport(db, { kind: "ropa", format: "json", out: join(dir, `${label}-ropa.json`) });
    const reportMs = performance.now() - t;
    rows.push([
      label,
      String(v.eventsChecked),
      `${secs(syncMs)} s (${(s.inserted / (syncMs / 1000)).toFixed(0)} ev/s, ${s.chunks} chunks)`,
      secs(verifyMs) + " s",
      secs(reportMs) + " s",
      rssMb() + " MB",
    ]);
    log(rows[rows.length - 1].join(" | "));
    db.close();
    return dbPath;
  };

  await measure("10k (real)", cut10k);
  const full = await measure("100k (real)", head);

  // 1M synthetic: replicate the use/share rows 9 more times at shifted blocks and timestamps.
  const synth = join(dir, "1m.db");
  copyFileSync(full, synth);
  const db = openAuditDb(synth);
  const span = head + 1;
  const tsSpan = (
    db.sql.prepare("SELECT MAX(block_timestamp) - MIN(block_timestamp) + 1 AS s FROM events").get() as { s: number }
  ).s;
  let t = performance.now();
  for (let k = 1; k <= 9; k++) {
    db.sql
      .prepare(
        `INSERT INTO events (chain_id, block_number, block_hash, log_index, tx_hash, address, event_name, args_json, block_timestamp, via, version)
       SELECT chain_id, block_number + ?, block_hash, log_index, tx_hash, address, event_name, args_json, block_timestamp + ?, via, version
       FROM events WHERE event_name IN ('DataUsed', 'DataShared') AND block_number < ?`,
      )
      .run(k * span, k * tsSpan, span);
  }
  log(`built synthetic DB in ${secs(performance.now() - t)} s`);
  t = performance.now();
  const v = await verifyHistory(db);
  const verifyMs = performance.now() - t;
  if (!v.ok) throw new Error(`unexpected violations: ${JSON.stringify(v.violations[0])}`);
  t = performance.now();
  await writeReport(db, { kind: "owner", subject: owners[0], format: "html", out: join(dir, "1m-owner.html") });
  await writeReport(db, { kind: "ropa", format: "json", out: join(dir, "1m-ropa.json") });
  const reportMs = performance.now() - t;
  rows.push([
    "1M (synthetic)",
    String(v.eventsChecked),
    "n/a (built from the 100k DB)",
    secs(verifyMs) + " s",
    secs(reportMs) + " s",
    rssMb() + " MB",
  ]);
  db.close();

  const out = [
    `generation: ${batches} txs of ${BATCH} records in ${secs(genMs)} s over HTTP to hardhat node; ${head} blocks`,
    "",
    "| history | events | sync (HTTP eth_getLogs → SQLite) | verify | reports (owner HTML + Art. 30 JSON) | peak RSS |",
    "|---|---|---|---|---|---|",
    ...rows.map((r) => `| ${r.join(" | ")} |`),
  ];
  process.stdout.write(out.join("\n") + "\n");
} finally {
  provider.destroy();
  node.stop();
  rmSync(dir, { recursive: true, force: true });
}
