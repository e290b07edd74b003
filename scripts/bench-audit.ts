/**
 * Audit toolkit benchmark: `npm run bench:audit` (tsx). Starts its own `hardhat node` (and, for
 * the fault profile, the JSON-RPC proxy) as processes on 127.0.0.1 at free ports, stopped by pid.
 * Every figure is put beside the raw eth_getLogs limit measured IN THE SAME RUN on the same
 * machine, because on a shared 2-core box absolute numbers move with the load (recorded too).
 *
 * 1. A mixed history on a real chain (BENCH_EVENTS, default 60,000 events; the mix is printed
 *    and written to reports/audit.json): owners' grant batches, managers' grantFor, signed grant
 *    batches and signed revocation batches relayed by a relayer, owners' revocation batches,
 *    manager appointments, integration suspensions and reinstatements, use batches, share
 *    batches, and at the end lockdowns by owners, by managers and by signature.
 * 2. raw: eth_getLogs over the watched addresses in 500-block chunks, sequential, JSON parsed,
 *    nothing decoded or stored (and once more with the headers of the blocks holding logs).
 * 3. sync, each in its own process (its peak RSS is its own) running the compiled library under
 *    plain node, as the CLI does (dist/, compiled at the start): fresh to the head; fresh to half
 *    then resumed to the head; through the proxy without faults and with 15% HTTP 500s + 5%
 *    stalls that never answer.
 * 4. verify (offline, digest) and verify --rpc (anchored to the chain) on the synced database.
 * 5. bytes per event of the database, and what a compact layout would cost.
 * 6. verify on a SYNTHETIC 1M-event database with 5% signed changes (BENCH_SYNTH_EVENTS), built
 *    through the store with real signatures (signers' keys generated here), in its own process.
 * 7. PostgreSQL (issue 14), on a throwaway cluster (scripts/pg/start.sh, stopped by pid; or the
 *    server of OMNI_PG_URL): sync fresh → PostgreSQL beside the raw limit, verify of that store
 *    (its digest must equal the SQLite store's), the same 1M synthetic history built into
 *    PostgreSQL and verified, and one owner's report among the 1M events through the owner index
 *    (and, to show what the index buys, over every event) on both stores.
 * 8. Ponder (indexer/, issue 14) backfilling the same chain into PostgreSQL, from its spawn to
 *    /ready with every event indexed, beside the raw limit right before and after it
 *    (BENCH_PONDER=0 skips it; skipped, and said, without `npm ci --prefix indexer`).
 *
 * reports/audit.json is one flat object (`raw.events_per_s`, `sync.sqlite.events_per_s`,
 * `sync.postgres.events_per_s`, `ponder.events_per_s`, `verify.postgres.1m_s`,
 * `report.owner.1m_s`, …).
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createRequire } from "node:module";
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

import { getBytes, Interface, JsonRpcProvider, keccak256, id as keccakId, Wallet } from "ethers";

import type { EventRow } from "../src/audit/index.js";
import { CONSENT_REGISTRY_ABI, INTEGRATION_REGISTRY_ABI } from "../src/sdk/abi.js";
import { ALL_DATA, NO_EXPIRY } from "../src/sdk/constants.js";
import { consentDomain, signConsent } from "../src/sdk/eip712.js";
import { initialPurposeMetadata } from "../src/sdk/purposes.js";
import { startPonder } from "../indexer/test/helpers/processes.js";
import { compileLibrary } from "./lib/compile.js";
import { pgClient, waitIndexed } from "../indexer/test/helpers/tables.js";
import { startHardhatNode, startRpcProxy } from "../test/audit/helpers/chain.js";
import { buildSynthetic } from "./bench-audit-synthetic.js";
import {
  AccessManager__factory,
  ConsentRegistry__factory,
  IntegrationRegistry__factory,
} from "../types/ethers-contracts/index.js";

const TARGET = Number(process.env.BENCH_EVENTS ?? 60_000);
const SYNTH = Number(process.env.BENCH_SYNTH_EVENTS ?? 1_000_000);
const ROOT = fileURLToPath(new URL("../", import.meta.url));
const CHILD = join(ROOT, "scripts/bench-audit-child.ts");
const log = (s: string) => process.stderr.write(`bench: ${s}\n`);
const rate = (events: number, ms: number) => Math.round(events / (ms / 1000));
const load = { start: loadavg(), end: [0, 0, 0] };

interface ChildResult {
  ms: number;
  cpuMs: number;
  maxRssMb: number;
  [k: string]: unknown;
}
function child(step: string, args: object, env: Record<string, string> = {}): ChildResult {
  // BENCH_PROFILE=<dir>: each child writes a V8 CPU profile there (for finding where time goes).
  const prof = process.env.BENCH_PROFILE ? ["--cpu-prof", "--cpu-prof-dir", process.env.BENCH_PROFILE] : [];
  const out = execFileSync(process.execPath, [...prof, CHILD, step, JSON.stringify(args)], {
    cwd: ROOT,
    encoding: "utf8",
    maxBuffer: 1 << 24,
    stdio: ["ignore", "pipe", "inherit"],
    env: { ...process.env, ...env },
  });
  return JSON.parse(out.trim().split("\n").pop()!) as ChildResult;
}

/** A PostgreSQL server: OMNI_PG_URL's, or a throwaway cluster of scripts/pg/start.sh (stopped at the end). */
function startPg(): { url: string; stop: () => void } {
  if (process.env.OMNI_PG_URL) return { url: process.env.OMNI_PG_URL, stop: () => undefined };
  const out = execFileSync("bash", [join(ROOT, "scripts/pg/start.sh")], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
  const v = (k: string) => new RegExp(`^export ${k}=(.*)$`, "m").exec(out)![1].replace(/^'(.*)'$/, "$1");
  const dir = v("OMNI_PG_DIR");
  return { url: v("OMNI_PG_URL"), stop: () => void execFileSync("bash", [join(ROOT, "scripts/pg/stop.sh"), dir]) };
}
const pgServer = startPg();
/** A new database on the server; its URL. */
async function pgDatabase(tag: string): Promise<string> {
  const { Client } = createRequire(import.meta.url)("pg") as {
    Client: new (c: object) => { connect(): Promise<void>; query(s: string): Promise<unknown>; end(): Promise<void> };
  };
  const admin = new Client({ connectionString: pgServer.url });
  const name = `omni_bench_${tag}_${randomBytes(4).toString("hex")}`;
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const u = new URL(pgServer.url);
  u.pathname = `/${name}`;
  return u.toString();
}

/**
 * Ponder (indexer/) backfilling the bench's chain into a fresh PostgreSQL database, timed from
 * its spawn to /ready with every event indexed. Null (and said) when the indexer's packages are
 * not installed (`npm ci --prefix indexer`) or BENCH_PONDER=0.
 */
async function ponderBackfill(
  head: number,
  total: number,
  addresses: string[],
): Promise<{ ms: number; startupMs: number } | null> {
  if (process.env.BENCH_PONDER === "0") return null;
  try {
    statSync(join(ROOT, "indexer/node_modules/ponder/package.json"));
  } catch {
    log("ponder: skipped (indexer/node_modules missing: run `npm ci --prefix indexer`)");
    return null;
  }
  const databaseUrl = await pgDatabase("ponder");
  const client = await pgClient(databaseUrl);
  const chainId = Number(await provider.send("eth_chainId", []));
  const [registry, integrations, accessManager] = addresses;
  const t0 = performance.now();
  const ponder = await startPonder({
    chains: [{ chainId, rpc: node.url, registry, integrations, accessManager, startBlock: 0 }],
    databaseUrl,
    schema: "bench_audit",
  });
  try {
    const tHealth = performance.now();
    await waitIndexed(ponder, client, new Map([[chainId, head]]), 900_000);
    const ms = performance.now() - t0;
    const n = Number(
      ((await client.query('SELECT count(*) AS n FROM "bench_audit".events')) as { rows: { n: string }[] }).rows[0].n,
    );
    if (n !== total) throw new Error(`ponder indexed ${n} of ${total} events`);
    return { ms, startupMs: tHealth - t0 };
  } finally {
    await ponder.stop();
    await client.end();
  }
}

// The children run the compiled library, as `omni-consent` does.
compileLibrary();
const node = await startHardhatNode();
const dir = mkdtempSync(join(tmpdir(), "omni-bench-"));
const provider = new JsonRpcProvider(node.url, undefined, { staticNetwork: true, cacheTimeout: -1 });
const reg = new Interface(CONSENT_REGISTRY_ABI);
const ir = new Interface(INTEGRATION_REGISTRY_ABI);
try {
  // ---------------------------------------------------------------- 1. the mixed history
  const accounts = (await provider.send("eth_accounts", [])) as string[];
  const [admin, processor, partner, managerAcc, relayer] = [
    accounts[0],
    accounts[18],
    accounts[19],
    accounts[13],
    accounts[14],
  ];
  const owners = accounts.slice(1, 13);
  const adminSigner = await provider.getSigner(admin);
  const am = await (await new AccessManager__factory(adminSigner).deploy(admin)).waitForDeployment();
  const integrations = await (
    await new IntegrationRegistry__factory(adminSigner).deploy(await am.getAddress())
  ).waitForDeployment();
  const registryC = await (
    await new ConsentRegistry__factory(adminSigner).deploy(
      await am.getAddress(),
      await integrations.getAddress(),
      initialPurposeMetadata(),
    )
  ).waitForDeployment();
  const registry = (await registryC.getAddress()).toLowerCase();
  const irAddr = (await integrations.getAddress()).toLowerCase();
  const addresses = [registry, irAddr, (await am.getAddress()).toLowerCase()];
  const domain = consentDomain(31337n, registry);
  const mix: Record<string, number> = {};
  const count = (k: string, n: number) => (mix[k] = (mix[k] ?? 0) + n);
  const send = async (from: string, to: string, data: string) => {
    await provider.send("eth_sendTransaction", [{ from, to, data, gas: "0xe4e1c0" }]);
  };
  const deadline = 2n ** 40n;
  await send(admin, irAddr, ir.encodeFunctionData("registerIntegration", [partner, keccakId("partner"), 0xffn]));
  for (const o of owners) {
    await send(o, registry, reg.encodeFunctionData("setManager", [managerAcc, true]));
    count("manager appointments", 1);
  }
  const signers = Array.from({ length: 300 }, (_, i) => new Wallet(keccakId(`bench-signer-${i}`)));
  const rounds = 10;
  const per = (share: number) => Math.max(1, Math.round((TARGET * share) / rounds));
  const genStart = performance.now();
  let signedKeys: { signer: Wallet; dataId: string }[] = [];
  for (let round = 0; round < rounds; round++) {
    // Owners' grants: every owner a batch of ALL_DATA to the processor (all purposes) and to the
    // partner (THIRD_PARTY_SHARING), plus specific data ids to the processor.
    const items = Math.max(2, Math.round(per(0.05) / owners.length));
    for (const o of owners) {
      const grants = [
        { grantee: processor, dataId: ALL_DATA, purposes: 0xffn, expiresAt: NO_EXPIRY, noticeHash: keccakId("n") },
        { grantee: partner, dataId: ALL_DATA, purposes: 0x40n, expiresAt: NO_EXPIRY, noticeHash: keccakId("n") },
        ...Array.from({ length: items - 2 }, (_, k) => ({
          grantee: processor,
          dataId: keccakId(`g-${o}-${k}`),
          purposes: 0x3fn,
          expiresAt: NO_EXPIRY,
          noticeHash: keccakId("n"),
        })),
      ];
      await send(o, registry, reg.encodeFunctionData("grantBatch", [grants]));
      count("grants by owner (grantBatch)", grants.length);
    }
    // Managers' grants, one transaction each.
    for (let i = 0; i < per(0.01); i++) {
      const o = owners[i % owners.length];
      await send(
        managerAcc,
        registry,
        reg.encodeFunctionData("grantFor", [o, processor, keccakId(`m-${round}-${i}`), 0x3n, NO_EXPIRY, keccakId("m")]),
      );
      count("grants by manager (grantFor)", 1);
    }
    // Signed grants on fresh keys (version 1), relayed in batches of 50.
    const fresh: { signer: Wallet; dataId: string }[] = [];
    for (let i = 0; i < per(0.05); i += 50) {
      const batch = [];
      for (let j = i; j < Math.min(i + 50, per(0.05)); j++) {
        const signer = signers[j % signers.length];
        const dataId = keccakId(`s-${round}-${j}`);
        batch.push(
          await signConsent("Grant", signer, domain, {
            owner: signer.address,
            grantee: processor,
            dataId,
            purposes: 0x7n,
            expiresAt: NO_EXPIRY,
            noticeHash: keccakId("s"),
            epoch: 0n,
            version: 1n,
            deadline,
          }),
        );
        fresh.push({ signer, dataId });
      }
      await send(relayer, registry, reg.encodeFunctionData("grantBySigBatch", [batch]));
      count("grants by signature (grantBySigBatch)", batch.length);
    }
    // Signed revocations of last round's signed keys (version 2), in batches of 50.
    const toRevoke = signedKeys.slice(0, per(0.01));
    for (let i = 0; i < toRevoke.length; i += 50) {
      const batch = [];
      for (const k of toRevoke.slice(i, i + 50)) {
        batch.push(
          await signConsent("Revoke", k.signer, domain, {
            owner: k.signer.address,
            grantee: processor,
            dataId: k.dataId,
            epoch: 0n,
            version: 2n,
            deadline,
          }),
        );
      }
      await send(relayer, registry, reg.encodeFunctionData("revokeBySigBatch", [batch]));
      count("revocations by signature (revokeBySigBatch)", batch.length);
    }
    signedKeys = fresh;
    // Uses, 200 per transaction, covered by the owners' ALL_DATA consents.
    for (let done = 0; done < per(0.7); done += 200) {
      const n = Math.min(200, per(0.7) - done);
      const recs = Array.from({ length: n }, (_, i) => ({
        owner: owners[(done + i) % owners.length],
        dataId: keccakId(`asset-${i % 50}`),
        purpose: i % 6,
        evidence: keccakId(`job-${round}-${done + i}`),
      }));
      await send(processor, registry, reg.encodeFunctionData("recordUseBatch", [recs]));
      count("uses (recordUseBatch)", n);
    }
    // Shares to the partner integration, 200 per transaction.
    for (let done = 0; done < per(0.1); done += 200) {
      const n = Math.min(200, per(0.1) - done);
      const recs = Array.from({ length: n }, (_, i) => ({
        owner: owners[(done + i) % owners.length],
        to: partner,
        dataId: keccakId(`asset-${i % 50}`),
        purpose: 6,
        evidence: keccakId(`share-${round}-${done + i}`),
      }));
      await send(processor, registry, reg.encodeFunctionData("recordShareBatch", [recs]));
      count("shares (recordShareBatch)", n);
    }
    // Owners revoke their specific keys (re-granted next round).
    const revokes = Math.max(1, Math.round(per(0.04) / owners.length));
    for (const o of owners) {
      const rs = Array.from({ length: Math.min(revokes, items - 2) }, (_, k) => ({
        grantee: processor,
        dataId: keccakId(`g-${o}-${k}`),
      }));
      if (rs.length === 0) continue;
      await send(o, registry, reg.encodeFunctionData("revokeBatch", [rs]));
      count("revocations by owner (revokeBatch)", rs.length);
    }
    // The partner suspended and reinstated by governance.
    await send(admin, irAddr, ir.encodeFunctionData("suspendIntegration", [partner]));
    await send(admin, irAddr, ir.encodeFunctionData("reinstateIntegration", [partner]));
    count("integration suspensions + reinstatements", 2);
    log(`round ${round + 1}/${rounds}: ${Object.values(mix).reduce((a, b) => a + b, 0)} events`);
  }
  // Lockdowns: by owners, by their manager, by signature.
  for (const [i, o] of owners.entries()) {
    if (i < 6) await send(o, registry, reg.encodeFunctionData("revokeAll", []));
    else await send(managerAcc, registry, reg.encodeFunctionData("revokeAllFor", [o]));
    count(i < 6 ? "lockdowns by owner" : "lockdowns by manager (revokeAllFor)", 1);
  }
  for (const s of signers.slice(0, 20)) {
    const m = await signConsent("RevokeAll", s, domain, { owner: s.address, epoch: 0n, deadline });
    await send(relayer, registry, reg.encodeFunctionData("revokeAllBySig", [m]));
    count("lockdowns by signature (revokeAllBySig)", 1);
  }
  const head = Number(await provider.send("eth_blockNumber", []));
  const genMs = performance.now() - genStart;
  const total = (
    (await provider.send("eth_getLogs", [
      { address: addresses, fromBlock: "0x0", toBlock: `0x${head.toString(16)}` },
    ])) as unknown[]
  ).length;
  mix["setup (authority, purposes, integration registration)"] = total - Object.values(mix).reduce((a, b) => a + b, 0);
  log(`generated ${total} events in ${head} blocks in ${(genMs / 1000).toFixed(1)} s`);

  // ---------------------------------------------------------------- 2. the raw limit
  /** One POST; a keep-alive socket the node closed while a child ran is retried once. */
  const post = async (body: string) => {
    for (let attempt = 0; ; attempt++) {
      try {
        const res = await fetch(node.url, { method: "POST", headers: { "content-type": "application/json" }, body });
        return await res.text();
      } catch (err) {
        if (attempt > 0) throw err;
      }
    }
  };
  const rawRead = async (withHeaders: boolean) => {
    const t = performance.now();
    let n = 0;
    for (let from = 0; from <= head; from += 500) {
      const to = Math.min(head, from + 499);
      const text = await post(
        JSON.stringify({
          jsonrpc: "2.0",
          id: 1,
          method: "eth_getLogs",
          params: [{ address: addresses, fromBlock: `0x${from.toString(16)}`, toBlock: `0x${to.toString(16)}` }],
        }),
      );
      const logs = (JSON.parse(text) as { result: { blockNumber: string }[] }).result;
      n += logs.length;
      if (withHeaders) {
        const blocks = [...new Set(logs.map((l) => l.blockNumber))];
        if (blocks.length) {
          JSON.parse(
            await post(
              JSON.stringify(
                blocks.map((b, i) => ({ jsonrpc: "2.0", id: i, method: "eth_getBlockByNumber", params: [b, false] })),
              ),
            ),
          );
        }
      }
    }
    return { ms: performance.now() - t, events: n };
  };
  await rawRead(false); // warm the node's caches like the measured runs will find them
  const raw = await rawRead(false);
  const rawHeaders = await rawRead(true);
  if (raw.events !== total) throw new Error(`raw read ${raw.events} of ${total} events`);
  const rawRate = rate(raw.events, raw.ms);
  log(
    `raw eth_getLogs: ${rawRate} ev/s (${raw.ms.toFixed(0)} ms); with headers ${rate(rawHeaders.events, rawHeaders.ms)} ev/s`,
  );

  // ---------------------------------------------------------------- 3. sync
  const syncTo = (db: string, rpc: string, toBlock?: number) => child("sync", { rpc, registry, db, toBlock });
  // The load of a shared box moves within seconds: each sync is put beside the mean of the raw
  // limit measured right before and right after it.
  const freshDb = join(dir, "fresh.db");
  const fresh = syncTo(freshDb, node.url);
  const rawMid = await rawRead(false);
  const pgDb = await pgDatabase("sync");
  const pgFresh = syncTo(pgDb, node.url);
  const rawPg = await rawRead(false);
  const rawAroundPg = (rate(rawMid.events, rawMid.ms) + rate(rawPg.events, rawPg.ms)) / 2;
  log(`sync fresh → PostgreSQL ${rate(total, pgFresh.ms)} ev/s (raw around it ${Math.round(rawAroundPg)} ev/s)`);
  // Ponder → PostgreSQL on the same chain, from its spawn to /ready at the head (what an operator
  // waits for), beside the raw limit right before and after it (issue 14).
  const ponder = await ponderBackfill(head, total, addresses);
  const rawPonder = await rawRead(false);
  const rawAroundPonder = (rate(rawPg.events, rawPg.ms) + rate(rawPonder.events, rawPonder.ms)) / 2;
  if (ponder)
    log(`ponder → PostgreSQL ${rate(total, ponder.ms)} ev/s (raw around it ${Math.round(rawAroundPonder)} ev/s)`);

  const half = Math.floor(head / 2);
  const resumedDb = join(dir, "resumed.db");
  const first = syncTo(resumedDb, node.url, half);
  const resumed = syncTo(resumedDb, node.url);
  const rawAgain = await rawRead(false);
  const rawAfter = rate(rawAgain.events, rawAgain.ms);
  const rawAroundFresh = (rawRate + rate(rawMid.events, rawMid.ms)) / 2;
  const rawAroundResumed = (rate(rawMid.events, rawMid.ms) + rawAfter) / 2;
  log(`sync fresh ${rate(total, fresh.ms)} ev/s, resumed ${rate(Number(resumed.inserted), resumed.ms)} ev/s`);

  const proxy = await startRpcProxy(node.url, { error500: 0, hang: 0, maxLogRange: Number.MAX_SAFE_INTEGER }, 5);
  let clean: ChildResult;
  let faulty: ChildResult;
  let proxyCounts;
  try {
    clean = syncTo(join(dir, "clean-proxy.db"), proxy.url);
    await proxy.setPlan({ error500: 0.15, hang: 0.05, maxLogRange: Number.MAX_SAFE_INTEGER });
    faulty = syncTo(join(dir, "faulty-proxy.db"), proxy.url);
    proxyCounts = await proxy.counts();
  } finally {
    await proxy.close();
  }
  log(`sync through proxy: clean ${clean.ms.toFixed(0)} ms, 15% errors + 5% stalls ${faulty.ms.toFixed(0)} ms`);

  // ---------------------------------------------------------------- 4. verify
  const verifySelf = child("verify", { db: freshDb });
  const verifyChain = child("verify", { db: freshDb, rpc: node.url });
  const verifyPg = child("verify", { db: pgDb });
  for (const v of [verifySelf, verifyChain, verifyPg])
    if (!v.ok) throw new Error(`verify failed: ${JSON.stringify(v.firstProblem)}`);
  if (verifyPg.digest !== verifySelf.digest)
    throw new Error(
      `the PostgreSQL store's digest ${String(verifyPg.digest)} is not the SQLite store's ${String(verifySelf.digest)}`,
    );

  // ---------------------------------------------------------------- 5. bytes per event
  const sqlite = createRequire(import.meta.url)("better-sqlite3") as new (p: string) => {
    pragma(s: string, o?: object): unknown;
    prepare(s: string): {
      get(...a: unknown[]): unknown;
      all(...a: unknown[]): unknown[];
      run(...a: unknown[]): unknown;
      iterate(...a: unknown[]): IterableIterator<unknown>;
    };
    exec(s: string): void;
    transaction<T>(f: () => T): () => T;
    close(): void;
  };
  /** Bytes of the whole file, and of the event rows with their indexes (plus per-block rows). */
  const sizeOf = (path: string, tables: string[]) => {
    const d = new sqlite(path);
    d.pragma("wal_checkpoint(TRUNCATE)");
    d.exec("VACUUM");
    const perTable = d
      .prepare(
        "SELECT tbl_name AS t, (SELECT SUM(pgsize) FROM dbstat WHERE dbstat.name = m.name) AS b FROM sqlite_master m WHERE type IN ('table', 'index')",
      )
      .all() as { t: string; b: number | null }[];
    d.close();
    return {
      file: statSync(path).size,
      events: perTable.filter((x) => tables.includes(x.t)).reduce((a, x) => a + (x.b ?? 0), 0),
    };
  };
  const bytesNow = sizeOf(freshDb, ["events"]);
  // A compact layout: hashes and args as binary, block hash and time once per block, the
  // address and event name as small integers (the same rows, re-encoded).
  const compactPath = join(dir, "compact.db");
  {
    const src = new sqlite(freshDb);
    const dst = new sqlite(compactPath);
    dst.exec(`CREATE TABLE events (block_number INTEGER NOT NULL, log_index INTEGER NOT NULL, tx_hash BLOB NOT NULL,
      source INTEGER NOT NULL, name INTEGER NOT NULL, args BLOB NOT NULL, via INTEGER, version INTEGER,
      PRIMARY KEY (block_number, log_index)) WITHOUT ROWID;
      CREATE TABLE blocks (block_number INTEGER PRIMARY KEY, block_hash BLOB NOT NULL, block_timestamp INTEGER NOT NULL, digest BLOB);`);
    const names = new Map<string, number>();
    const ins = dst.prepare("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
    const insB = dst.prepare("INSERT OR IGNORE INTO blocks VALUES (?, ?, ?, NULL)");
    const hexBytes = (h: string) => Buffer.from(h.slice(2), "hex");
    const argBytes = (json: string) =>
      Buffer.concat(
        Object.values(JSON.parse(json) as Record<string, string | boolean>).map((v) =>
          typeof v === "boolean"
            ? Buffer.from([v ? 1 : 0])
            : v.startsWith("0x")
              ? hexBytes(v)
              : Buffer.from(
                  BigInt(v)
                    .toString(16)
                    .padStart(2, "0")
                    .replace(/^(.(..)*)$/, "0$1"),
                  "hex",
                ),
        ),
      );
    dst.transaction(() => {
      for (const r of src
        .prepare(
          "SELECT block_number, log_index, tx_hash, address, event_name, args_json, via, version, block_hash, block_timestamp FROM events",
        )
        .iterate() as IterableIterator<EventRow>) {
        if (!names.has(r.event_name)) names.set(r.event_name, names.size);
        ins.run(
          r.block_number,
          r.log_index,
          hexBytes(r.tx_hash),
          addresses.indexOf(r.address),
          names.get(r.event_name),
          argBytes(r.args_json),
          r.via,
          r.version === null ? null : Number(r.version),
        );
        insB.run(r.block_number, hexBytes(r.block_hash), r.block_timestamp);
      }
    })();
    src.close();
    dst.close();
  }
  const bytesCompact = sizeOf(compactPath, ["events", "blocks"]);

  // ---------------------------------------------------------------- 6. 1M synthetic, 5% signed
  const synthPath = join(dir, "synthetic.db");
  const synthStart = performance.now();
  const synth = await buildSynthetic(synthPath, SYNTH, 0.05);
  const synthBuildMs = performance.now() - synthStart;
  const verify1m = child("verify", { db: synthPath });
  const verify1mOneThread = child("verify", { db: synthPath }, { OMNI_AUDIT_WORKERS: "0" });
  if (!verify1m.ok) throw new Error(`synthetic verify failed: ${JSON.stringify(verify1m.firstProblem)}`);
  log(`1M synthetic: built in ${(synthBuildMs / 1000).toFixed(1)} s, verify ${(verify1m.ms / 1000).toFixed(2)} s`);
  const synthPg = await pgDatabase("synthetic");
  const synthPgStart = performance.now();
  await buildSynthetic(synthPg, SYNTH, 0.05);
  const synthPgBuildMs = performance.now() - synthPgStart;
  const verify1mPg = child("verify", { db: synthPg });
  if (!verify1mPg.ok)
    throw new Error(`synthetic verify (PostgreSQL) failed: ${JSON.stringify(verify1mPg.firstProblem)}`);
  if (verify1mPg.digest !== verify1m.digest)
    throw new Error("the 1M PostgreSQL store's digest is not the SQLite store's");
  // One owner among the 2000 signers (each ~1/2000 of the uses and grants).
  const subject = synth.owners[7];
  const reportPg = child("report", { db: synthPg, owner: subject });
  const reportPgFull = child("report", { db: synthPg, owner: subject, full: true });
  const reportSqlite = child("report", { db: synthPath, owner: subject });
  const reportSqliteFull = child("report", { db: synthPath, owner: subject, full: true });
  if (JSON.stringify(reportPg.sections) !== JSON.stringify(reportPgFull.sections))
    throw new Error(
      `the owner-index report differs from the full one: ${JSON.stringify([reportPg.sections, reportPgFull.sections])}`,
    );
  log(
    `1M on PostgreSQL: built in ${(synthPgBuildMs / 1000).toFixed(1)} s, verify ${(verify1mPg.ms / 1000).toFixed(2)} s; owner report ${(reportPg.ms / 1000).toFixed(3)} s (full scan ${(reportPgFull.ms / 1000).toFixed(2)} s), SQLite ${(reportSqlite.ms / 1000).toFixed(3)} s`,
  );
  load.end = loadavg();

  // ---------------------------------------------------------------- machine speed, same run
  const calib = (() => {
    const native = createRequire(import.meta.url)("secp256k1/bindings.js") as {
      ecdsaSign(m: Uint8Array, k: Uint8Array): { signature: Uint8Array; recid: number };
      ecdsaRecover(s: Uint8Array, r: number, m: Uint8Array, c: boolean): Uint8Array;
    };
    const m = getBytes(keccakId("m"));
    const sig = native.ecdsaSign(m, getBytes(keccakId("k")));
    const buf = new Uint8Array(320);
    let c0 = process.cpuUsage();
    for (let i = 0; i < 2000; i++) native.ecdsaRecover(sig.signature, sig.recid, m, false);
    let c = process.cpuUsage(c0);
    const recoverUs = (c.user + c.system) / 2000;
    c0 = process.cpuUsage();
    for (let i = 0; i < 5000; i++) keccak256(buf);
    c = process.cpuUsage(c0);
    return { recover_cpu_us: recoverUs, keccak320_cpu_us: (c.user + c.system) / 5000 };
  })();

  // ---------------------------------------------------------------- report
  const ratio = (x: number) => Math.round(x * 1000) / 1000;
  const syncRate = rate(total, fresh.ms);
  const pgRate = rate(total, pgFresh.ms);
  const resumedRate = rate(Number(resumed.inserted), resumed.ms);
  const report = {
    machine: {
      calibration: calib,
      cpus: cpus().length,
      model: cpus()[0]?.model,
      loadavg_start: load.start,
      loadavg_end: load.end,
      node: process.version,
    },
    history: { events: total, blocks: head, generation_s: genMs / 1000, mix },
    raw: {
      events_per_s: rawRate,
      events_per_s_between_syncs: rate(rawMid.events, rawMid.ms),
      events_per_s_after_syncs: rawAfter,
      with_headers_events_per_s: rate(rawHeaders.events, rawHeaders.ms),
      ms: raw.ms,
      chunk_blocks: 500,
    },
    sync: {
      sqlite: {
        events_per_s: syncRate,
        resumed_events_per_s: resumedRate,
        raw_around_events_per_s: Math.round(rawAroundFresh),
        ratio_to_raw: ratio(syncRate / rawAroundFresh),
        resumed_raw_around_events_per_s: Math.round(rawAroundResumed),
        resumed_ratio_to_raw: ratio(resumedRate / rawAroundResumed),
        ms: fresh.ms,
        chunks: fresh.chunks,
        peak_rss_mb: Math.round(fresh.maxRssMb),
        peak_rss_mb_half: Math.round(first.maxRssMb),
        rpc: fresh.rpc,
      },
      postgres: {
        events_per_s: pgRate,
        raw_around_events_per_s: Math.round(rawAroundPg),
        ratio_to_raw: ratio(pgRate / rawAroundPg),
        ms: pgFresh.ms,
        chunks: pgFresh.chunks,
        peak_rss_mb: Math.round(pgFresh.maxRssMb),
      },
      ponder_ratio: ponder
        ? { sqlite: ratio(syncRate / rate(total, ponder.ms)), postgres: ratio(pgRate / rate(total, ponder.ms)) }
        : null,
      faults: {
        clean_proxy_ms: clean.ms,
        faulty_ms: faulty.ms,
        ratio_faulty_to_clean: ratio(faulty.ms / clean.ms),
        injected: proxyCounts,
        rpc: faulty.rpc,
      },
    },
    ponder: ponder
      ? {
          events_per_s: rate(total, ponder.ms),
          ms: ponder.ms,
          startup_ms: ponder.startupMs,
          raw_around_events_per_s: Math.round(rawAroundPonder),
          ratio_to_raw: ratio(rate(total, ponder.ms) / rawAroundPonder),
          version: "1.0.0",
        }
      : { skipped: true },
    verify: {
      self_ms: verifySelf.ms,
      rpc_ms: verifyChain.ms,
      raw_plus_checks_ms: raw.ms + verifySelf.ms,
      ratio_rpc_to_raw_plus_checks: ratio(verifyChain.ms / (raw.ms + verifySelf.ms)),
      synthetic: {
        events: synth.events,
        signed_changes: synth.signed,
        build_s: synthBuildMs / 1000,
        verify_ms: verify1m.ms,
        verify_cpu_ms: verify1m.cpuMs,
        verify_one_thread_ms: verify1mOneThread.ms,
        verify_one_thread_cpu_ms: verify1mOneThread.cpuMs,
        verify_peak_rss_mb: Math.round(verify1m.maxRssMb),
        signatures_checked: verify1m.signatures,
      },
    },
    postgres: {
      verify_ms: verifyPg.ms,
      synthetic_build_s: synthPgBuildMs / 1000,
      verify_1m_s: verify1mPg.ms / 1000,
      verify_1m_cpu_s: verify1mPg.cpuMs / 1000,
      verify_1m_peak_rss_mb: Math.round(verify1mPg.maxRssMb),
    },
    report_owner_1m: {
      owner_rows: reportPg.sections,
      postgres_s: reportPg.ms / 1000,
      postgres_full_scan_s: reportPgFull.ms / 1000,
      sqlite_s: reportSqlite.ms / 1000,
      sqlite_full_scan_s: reportSqliteFull.ms / 1000,
    },
    db: {
      bytes_per_event: Math.round(bytesNow.file / total),
      events_table_bytes_per_event: Math.round(bytesNow.events / total),
      compact_layout_events_bytes_per_event: Math.round(bytesCompact.events / total),
    },
  };
  // The flat object: the keys the issue names first, then every figure above by its dotted path.
  const flat: Record<string, unknown> = {
    "raw.events_per_s": rawRate,
    "sync.sqlite.events_per_s": syncRate,
    "sync.sqlite.ratio_to_raw": ratio(syncRate / rawAroundFresh),
    "sync.postgres.events_per_s": pgRate,
    "sync.postgres.ratio_to_raw": ratio(pgRate / rawAroundPg),
    "ponder.events_per_s": ponder ? rate(total, ponder.ms) : null,
    "verify.postgres.1m_s": verify1mPg.ms / 1000,
    "verify.sqlite.1m_s": verify1m.ms / 1000,
    "report.owner.1m_s": reportPg.ms / 1000,
    "report.owner.sqlite.1m_s": reportSqlite.ms / 1000,
  };
  const walk = (prefix: string, v: unknown) => {
    if (v !== null && typeof v === "object" && !Array.isArray(v)) {
      for (const [k, x] of Object.entries(v)) walk(prefix ? `${prefix}.${k}` : k, x);
    } else if (!(prefix in flat)) flat[prefix] = v;
  };
  walk("", report);
  mkdirSync(join(ROOT, "reports"), { recursive: true });
  writeFileSync(join(ROOT, "reports/audit.json"), JSON.stringify(flat, null, 2) + "\n");
  const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  const pct = (r: number) => `${(r * 100).toFixed(0)}%`;
  process.stdout.write(
    [
      `history: ${total} events in ${head} blocks (generated in ${s(genMs)}); load average ${load.start.map((x) => x.toFixed(1)).join(" ")} → ${load.end.map((x) => x.toFixed(1)).join(" ")} on ${cpus().length} cores`,
      `mix: ${Object.entries(mix)
        .map(([k, v]) => `${k} ${v}`)
        .join("; ")}`,
      "",
      "| measure | result | raw limit, same run | ratio |",
      "|---|---|---|---|",
      `| raw eth_getLogs (500-block chunks) | ${rawRate} ev/s (${s(raw.ms)}); ${rate(rawMid.events, rawMid.ms)} between, ${rawAfter} after the syncs | — | — |`,
      `| raw + headers of log blocks | ${rate(rawHeaders.events, rawHeaders.ms)} ev/s | ${rawRate} ev/s | ${pct(rate(rawHeaders.events, rawHeaders.ms) / rawRate)} |`,
      `| sync fresh → SQLite | ${syncRate} ev/s (${s(fresh.ms)}, ${fresh.chunks} chunks), peak RSS ${Math.round(fresh.maxRssMb)} MB | ${Math.round(rawAroundFresh)} ev/s (before/after) | ${pct(syncRate / rawAroundFresh)} |`,
      `| sync resumed (second half) | ${resumedRate} ev/s (${s(resumed.ms)}), peak RSS ${Math.round(resumed.maxRssMb)} MB | ${Math.round(rawAroundResumed)} ev/s (before/after) | ${pct(resumedRate / rawAroundResumed)} |`,
      `| sync fresh → PostgreSQL | ${pgRate} ev/s (${s(pgFresh.ms)}, ${pgFresh.chunks} chunks), peak RSS ${Math.round(pgFresh.maxRssMb)} MB | ${Math.round(rawAroundPg)} ev/s (before/after) | ${pct(pgRate / rawAroundPg)} |`,
      ponder
        ? `| Ponder 1.0.0 → PostgreSQL (spawn to ready) | ${rate(total, ponder.ms)} ev/s (${s(ponder.ms)}); our sync ${(syncRate / rate(total, ponder.ms)).toFixed(1)}× (SQLite), ${(pgRate / rate(total, ponder.ms)).toFixed(1)}× (PostgreSQL) | ${Math.round(rawAroundPonder)} ev/s (before/after) | ${pct(rate(total, ponder.ms) / rawAroundPonder)} |`
        : "| Ponder | skipped | — | — |",
      `| sync, 15% errors + 5% stalls (proxy) | ${s(faulty.ms)} vs ${s(clean.ms)} fault-free through the proxy | — | ${(faulty.ms / clean.ms).toFixed(2)}× |`,
      `| verify (offline, digest) | ${s(verifySelf.ms)} | raw ${s(raw.ms)} | — |`,
      `| verify --rpc (anchored) | ${s(verifyChain.ms)} | raw + checks ${s(raw.ms + verifySelf.ms)} | ${(verifyChain.ms / (raw.ms + verifySelf.ms)).toFixed(2)}× |`,
      `| verify, ${synth.events} synthetic events, ${synth.signed} signed | ${s(verify1m.ms)} wall / ${s(verify1m.cpuMs)} CPU with the signature worker; ${s(verify1mOneThread.ms)} / ${s(verify1mOneThread.cpuMs)} CPU on one thread; peak RSS ${Math.round(verify1m.maxRssMb)} MB | — | — |`,
      `| verify, ${synth.events} synthetic events on PostgreSQL | ${s(verify1mPg.ms)} wall / ${s(verify1mPg.cpuMs)} CPU (built in ${s(synthPgBuildMs)}); SQLite ${s(verify1m.ms)} | — | — |`,
      `| one owner's report among ${synth.events} events | PostgreSQL ${s(reportPg.ms)} (every event: ${s(reportPgFull.ms)}); SQLite ${s(reportSqlite.ms)} (every event: ${s(reportSqliteFull.ms)}) | — | — |`,
      `| database | ${Math.round(bytesNow.file / total)} bytes/event (file); event rows + indexes ${Math.round(bytesNow.events / total)}; compact layout ${Math.round(bytesCompact.events / total)} | — | — |`,
    ].join("\n") + "\n",
  );
} finally {
  provider.destroy();
  node.stop();
  pgServer.stop();
  rmSync(dir, { recursive: true, force: true });
}
