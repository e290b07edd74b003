import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import Database from "better-sqlite3";
import { expect } from "chai";
import { JsonRpcProvider, type Log, id as keccakId } from "ethers";

import { type AuditDb, HistoryMismatchError, openAuditDb, syncEvents, verifyHistory } from "../../src/audit/index.js";
import { openRpc } from "../../src/audit/rpc.js";
import { ALL_DATA, NO_EXPIRY } from "../../src/sdk/constants.js";
import { ROOT, startFaultProxy, startHardhatNode } from "./helpers/chain.js";
import { auditCli, deployOn } from "./helpers/deploy.js";

type Row = [number, number, string, string];
const rowsOf = (db: AuditDb | Database.Database, upTo = Number.MAX_SAFE_INTEGER) =>
  (
    ("sql" in db ? db.sql : db)
      .prepare(
        "SELECT block_number, log_index, block_hash, tx_hash FROM events WHERE block_number <= ? ORDER BY block_number, log_index",
      )
      .raw(true)
      .all(upTo) as Row[]
  ).map((r) => [...r]);
const rowsOfLogs = (logs: Log[], upTo = Number.MAX_SAFE_INTEGER) =>
  logs.filter((l) => l.blockNumber <= upTo).map((l) => [l.blockNumber, l.index, l.blockHash, l.transactionHash]);

describe("audit: sync against a faulty RPC (hardhat node behind a fault-injecting proxy)", function () {
  this.timeout(90_000);
  let node: Awaited<ReturnType<typeof startHardhatNode>>;
  let provider: JsonRpcProvider;
  let registry: string;
  let logs: Log[];
  let head: number;
  const dir = mkdtempSync(join(tmpdir(), "omni-audit-"));

  before(async () => {
    node = await startHardhatNode();
    provider = new JsonRpcProvider(node.url, undefined, { staticNetwork: true });
    const [owner1, owner2, processor, partner] = await Promise.all([1, 2, 3, 4].map((i) => provider.getSigner(i)));
    const { reg, addresses } = await deployOn(provider);
    registry = addresses[0];
    for (const o of [owner1, owner2]) {
      await (await reg.connect(o).grant(processor.address, ALL_DATA, 0xffn, NO_EXPIRY, keccakId("notice"))).wait();
      await (await reg.connect(o).grant(partner.address, ALL_DATA, 0b1000000n, NO_EXPIRY, keccakId("notice"))).wait();
    }
    // 12 batches of 40 uses spread over ~600 blocks, a few shares and withdrawals.
    for (let b = 0; b < 12; b++) {
      const owner = b % 2 ? owner1 : owner2;
      const recs = Array.from({ length: 40 }, (_, i) => ({
        owner: owner.address,
        dataId: keccakId(`asset-${i % 5}`),
        purpose: i % 8,
        evidence: keccakId(`job-${b}-${i}`),
      }));
      await (await reg.connect(processor).recordUseBatch(recs)).wait();
      await provider.send("hardhat_mine", ["0x32"]);
    }
    await (
      await reg.connect(processor).recordShare(owner1.address, partner.address, keccakId("x"), 6, keccakId("s"))
    ).wait();
    await (await reg.connect(owner2).revoke(processor.address, ALL_DATA)).wait();
    await (await reg.connect(owner1).revokeAll()).wait();
    head = Number(await provider.send("eth_blockNumber", [])); // uncached, unlike getBlockNumber()
    logs = await provider.getLogs({ address: addresses, fromBlock: 0, toBlock: head });
    // AuthorityUpdated + 8 PurposeDefined + 4 grants + 480 uses + 1 share + 1 revoke + 1 revoke-all.
    expect(logs.filter((l) => l.address === registry).length).to.equal(496);
  });

  after(() => {
    provider?.destroy();
    node?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("gets exactly the chain's events through 500s, hung requests and 'block range too large'", async () => {
    const proxy = await startFaultProxy(node.url, { error500: 0.12, hang: 0.02, maxLogRange: 40 }, 42);
    try {
      const db = openAuditDb(join(dir, "faulty.db"));
      const res = await syncEvents({
        db,
        rpc: proxy.url,
        registry,
        toBlock: head,
        progress: "none",
        initialRange: 1000,
        maxRange: 1000,
        timeoutMs: 400,
        maxRetries: 40,
      });
      const counts = await proxy.counts();
      expect(counts.error500, "500s injected").to.be.greaterThan(0);
      expect(counts.hang, "hangs injected").to.be.greaterThan(0);
      expect(counts.rangeErrors, "range errors injected").to.be.greaterThan(0);
      expect(res.failures).to.be.greaterThan(0);
      expect(res.inserted).to.equal(logs.length);
      expect(rowsOf(db)).to.deep.equal(rowsOfLogs(logs));
      expect((await verifyHistory(db)).violations).to.deep.equal([]);
      // A second run is a no-op: nothing duplicated.
      const again = await syncEvents({
        db,
        rpc: proxy.url,
        registry,
        toBlock: head,
        progress: "none",
        timeoutMs: 400,
        maxRetries: 40,
      });
      expect(again.inserted).to.equal(0);
      expect(rowsOf(db).length).to.equal(logs.length);
      db.close();
    } finally {
      await proxy.close();
    }
  });

  it("syncs blocks with more logs than the provider's result cap (40 logs per block, cap 30) and learns the cap", async () => {
    const proxy = await startFaultProxy(node.url, {
      error500: 0,
      hang: 0,
      maxLogRange: Number.MAX_SAFE_INTEGER,
      maxResults: 30,
    });
    try {
      const db = openAuditDb(":memory:");
      const res = await syncEvents({
        db,
        rpc: proxy.url,
        registry,
        toBlock: head,
        progress: "none",
        initialRange: 1000,
      });
      const counts = await proxy.counts();
      expect(counts.resultCapErrors, "the cap was hit").to.be.greaterThan(0);
      expect(rowsOf(db)).to.deep.equal(rowsOfLogs(logs));
      expect(res.inserted).to.equal(logs.length);
      // 12 blocks hold 40 logs each. A range holding one is refused and halved down to that
      // block, which is then read narrower (per address, then per transaction receipt: hardhat
      // has no eth_getBlockReceipts): at most log2(range) + 2 refusals per dense block, never
      // "failed N times".
      expect(counts.resultCapErrors).to.be.at.most(12 * (Math.ceil(Math.log2(1000)) + 2));
      expect((await verifyHistory(db)).ok).to.equal(true);
      db.close();
    } finally {
      await proxy.close();
    }
  });

  it("fault profile: 15% HTTP 500s and 5% stalls that never answer cost retries and hedges, not timeouts", async () => {
    // Fault-free first, through the same proxy and the same range cap, for the comparison.
    const plan = { error500: 0, hang: 0, maxLogRange: 40 };
    const proxy = await startFaultProxy(node.url, plan, 11);
    try {
      const opts = {
        rpc: proxy.url,
        registry,
        toBlock: head,
        progress: "none" as const,
        initialRange: 40,
        maxRange: 40,
      };
      const clean = openAuditDb(":memory:");
      let t = performance.now();
      await syncEvents({ ...opts, db: clean });
      const cleanMs = performance.now() - t;
      await proxy.setPlan({ error500: 0.15, hang: 0.05, maxLogRange: 40 });
      const faulty = openAuditDb(":memory:");
      t = performance.now();
      const res = await syncEvents({ ...opts, db: faulty, timeoutMs: 10_000, maxRetries: 40 });
      const faultyMs = performance.now() - t;
      const counts = await proxy.counts();
      expect(counts.error500, "500s injected").to.be.greaterThan(5);
      expect(counts.hang, "stalls injected").to.be.greaterThan(1);
      expect(res.rpc.hedges, "stalled requests were hedged").to.be.at.least(counts.hang);
      expect(rowsOf(faulty)).to.deep.equal(rowsOfLogs(logs));
      expect(rowsOf(clean)).to.deep.equal(rowsOfLogs(logs));
      // Each stall waited out would cost the 10 s timeout; hedged, it costs about one hedge delay.
      expect(faultyMs, `fault-free ${cleanMs.toFixed(0)} ms, faulty ${faultyMs.toFixed(0)} ms`).to.be.lessThan(
        cleanMs * 2 + 1000 * counts.hang,
      );
      expect(faultyMs).to.be.lessThan(10_000);
    } finally {
      await proxy.close();
    }
  });

  it("no copy of a request whose answer arrived while the loop was busy (a store commit); stalls: the fault profile above", async () => {
    const proxy = await startFaultProxy(node.url, { error500: 0, hang: 0, maxLogRange: 1000 }, 13);
    const rpc = await openRpc(proxy.url, { hedgeAfterMs: 50 });
    try {
      const sent0 = (await proxy.counts()).requests;
      for (let i = 0; i < 10; i++) {
        const answer = rpc.call<string>("eth_blockNumber", []);
        const until = performance.now() + 300; // 6 hedge delays of synchronous work
        while (performance.now() < until);
        expect(Number(await answer)).to.equal(head);
      }
      // Before: the hedge timer fired first after every stretch (10 copies for 10 calls). A call
      // whose request the loop had not even sent yet when the stretch began may still get one.
      expect(rpc.stats.hedges, JSON.stringify(rpc.stats)).to.be.at.most(2);
      expect((await proxy.counts()).requests - sent0).to.equal(10 + rpc.stats.hedges);
    } finally {
      rpc.close();
      await proxy.close();
    }
  });

  it("survives SIGKILL mid-sync: the checkpoint covers exactly the stored events, and resuming completes the set", async () => {
    const proxy = await startFaultProxy(node.url, { error500: 0.03, hang: 0, maxLogRange: 1000, delayMs: 1 }, 9);
    const dbPath = join(dir, "killed.db");
    try {
      const child = spawn(
        process.execPath,
        ["--import", "tsx", join(ROOT, "test/audit/helpers/sync-child.ts"), proxy.url, registry, dbPath],
        { cwd: ROOT, stdio: ["ignore", "ignore", "pipe"] },
      );
      let stderr = "";
      child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<NodeJS.Signals | null>((resolve) =>
        child.on("exit", (_code, signal) => resolve(signal)),
      );
      // Wait until a third of the chain is synced, then kill -9 (no chance to clean up).
      let checkpoint = -1;
      for (let i = 0; i < 600 && checkpoint < head / 3; i++) {
        await new Promise((r) => setTimeout(r, 25));
        try {
          const ro = new Database(dbPath, { readonly: true, fileMustExist: true });
          checkpoint =
            (ro.prepare("SELECT block_number FROM sync_state").get() as { block_number: number } | undefined)
              ?.block_number ?? -1;
          ro.close();
        } catch {
          // not created yet
        }
      }
      expect(child.kill("SIGKILL")).to.equal(true);
      expect(await exited, stderr).to.equal("SIGKILL");

      const db = openAuditDb(dbPath);
      const cp = db.sql.prepare("SELECT block_number, block_hash FROM sync_state").get() as {
        block_number: number;
        block_hash: string;
      };
      expect(cp.block_number, "killed mid-way").to.be.lessThan(head);
      expect(cp.block_number).to.be.greaterThan(0);
      expect(cp.block_hash).to.equal((await provider.getBlock(cp.block_number))!.hash);
      // Same transaction ⇒ nothing above the checkpoint, nothing missing below it.
      expect(rowsOf(db)).to.deep.equal(rowsOfLogs(logs, cp.block_number));

      const res = await syncEvents({ db, rpc: proxy.url, registry, toBlock: head, progress: "none", timeoutMs: 2000 });
      expect(res.fromBlock).to.equal(cp.block_number + 1);
      expect(rowsOf(db)).to.deep.equal(rowsOfLogs(logs));
      db.close();
    } finally {
      await proxy.close();
    }
  });

  it("CLI: audit sync / verify / state / report, and verify exits 1 with evidence on a forged use", async () => {
    const dbPath = join(dir, "cli.db");
    const cli = (...args: string[]) => auditCli(node.url, registry, dbPath, ...args);
    const synced = cli("sync", "--to-block", String(head));
    expect(synced.stderr + synced.stdout).to.include(`synced to block ${head}: ${logs.length} new events`);
    expect(synced.status).to.equal(0);

    const ok = cli("verify");
    expect(ok.stdout).to.include(`checked ${logs.length} events (480 uses, 1 shares) up to block`);
    expect(ok.status).to.equal(0);

    const state = cli("state", "--block", String(head));
    expect(state.status).to.equal(0);
    expect(state.stdout).to.include("3 consents, 0 managers, 1 integrations, 8 purposes");
    const past = cli("state", "--block", String(head + 1));
    expect(past.status).to.equal(1);
    expect(past.stderr.trim()).to.equal(
      `error: block ${head + 1} is past the last synced block ${head} of chain 31337: the database does not know what happened after it; run \`omni-consent audit sync\` first, or ask for a block up to ${head}`,
    );

    const out = join(dir, "ropa.html");
    const rep = cli("report", "--out", out);
    expect(rep.stdout.trim()).to.equal(`wrote ropa report (html) to ${out}`);
    expect(readFileSync(out, "utf8")).to.include("Record of processing activities (GDPR Art. 30)");

    const bad = cli("report", "--owner", "0x1234");
    expect(bad.status).to.equal(1);
    expect(bad.stderr.trim()).to.match(/^error: --owner/);

    const db = new Database(dbPath);
    const args = {
      owner: "0x" + "11".repeat(20),
      processor: "0x" + "22".repeat(20),
      dataId: keccakId("d"),
      purpose: "0",
      evidence: keccakId("e"),
    };
    db.prepare(
      `INSERT INTO events (chain_id, block_number, block_hash, log_index, tx_hash, address, event_name, args_json, block_timestamp)
       VALUES (31337, ?, ?, 0, ?, ?, 'DataUsed', ?, 1)`,
    ).run(head + 1, "0x" + "00".repeat(32), "0x" + "ee".repeat(32), registry.toLowerCase(), JSON.stringify(args));
    db.close();
    const failed = cli("verify");
    expect(failed.status).to.equal(1);
    expect(failed.stdout).to.include(`VIOLATION use-without-consent at block ${head + 1} tx 0x${"ee".repeat(32)}`);
    // The forged row is also not what sync stored: it lies above the checkpoint (issue 11's integrity check).
    expect(failed.stdout).to.include(
      `VIOLATION row-above-checkpoint at block ${head + 1}: block ${head + 1} holds 1 event(s) and 0 signed request(s) above the sync checkpoint ${head}: sync never writes there`,
    );
    expect(failed.stderr.trim()).to.equal(
      "error: 1 violation(s) found in the recorded history; 1 integrity finding(s): the database is not the chain's record",
    );
  });
});

describe("audit: sync against a node with the same chain id but another history (two hardhat node processes)", function () {
  this.timeout(120_000);
  const DAY_1 = "2026-01-01T00:00:00.000Z";
  const DAY_2 = "2026-02-01T00:00:00.000Z";
  const nodes: Awaited<ReturnType<typeof startHardhatNode>>[] = [];
  const providers: JsonRpcProvider[] = [];
  const dir = mkdtempSync(join(tmpdir(), "omni-history-"));

  after(() => {
    for (const p of providers) p.destroy();
    for (const n of nodes) n.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Every row of every table, in a fixed order: "nothing changed" means this is equal. */
  const dump = (path: string) => {
    const ro = new Database(path, { readonly: true });
    try {
      return Object.fromEntries(
        ["events", "signed_requests", "sync_state", "block_hashes"].map((t) => [
          t,
          ro.prepare(`SELECT * FROM ${t} ORDER BY 1, 2, 3, 4`).raw(true).all(),
        ]),
      );
    } finally {
      ro.close();
    }
  };

  it("refuses naming both histories (another genesis; same genesis without a common block), changes nothing, exits 1; --reset starts over", async () => {
    // A and C share a genesis (same date); B has another. All are chain 31337.
    const [a, b, c] = await Promise.all([
      startHardhatNode({ initialDate: DAY_1 }),
      startHardhatNode({ initialDate: DAY_2 }),
      startHardhatNode({ initialDate: DAY_1 }),
    ]);
    nodes.push(a, b, c);
    const [pa, pb, pc] = [a, b, c].map((n) => new JsonRpcProvider(n.url, undefined, { staticNetwork: true }));
    providers.push(pa, pb, pc);
    const genesis = async (p: JsonRpcProvider) => (await p.getBlock(0))!.hash!;
    expect(await genesis(pa)).to.equal(await genesis(pc));
    expect(await genesis(pa)).to.not.equal(await genesis(pb));

    // C's history departs at block 1: an unrelated transfer first (account 0's nonce is untouched).
    const s5 = await pc.getSigner(5);
    await (await s5.sendTransaction({ to: (await pc.getSigner(6)).address, value: 1n })).wait();
    const histories = [];
    for (const [p, uses] of [
      [pa, 6],
      [pb, 8],
      [pc, 3],
    ] as const) {
      const { reg, addresses } = await deployOn(p);
      const [owner, processor] = await Promise.all([p.getSigner(1), p.getSigner(3)]);
      await (await reg.connect(owner).grant(processor.address, ALL_DATA, 0xffn, NO_EXPIRY, keccakId("n"))).wait();
      for (let i = 0; i < uses; i++) {
        await (await reg.connect(processor).recordUse(owner.address, keccakId(`d${i}`), 1, keccakId(`u${i}`))).wait();
      }
      const head = Number(await p.send("eth_blockNumber", []));
      histories.push({ addresses, head, logs: await p.getLogs({ address: addresses, fromBlock: 0, toBlock: head }) });
    }
    const [ha, hb, hc] = histories;
    // Same deployer, same nonces: the same registry address on all three chains.
    expect(hb.addresses).to.deep.equal(ha.addresses);
    expect(hc.addresses).to.deep.equal(ha.addresses);
    const registry = ha.addresses[0];

    const dbPath = join(dir, "a.db");
    const first = auditCli(a.url, registry, dbPath, "sync");
    expect(first.stdout).to.equal(`synced to block ${ha.head}: ${ha.logs.length} new events (${dbPath})\n`);
    expect(first.status).to.equal(0);
    const before = dump(dbPath);
    expect(before.events.length).to.equal(ha.logs.length);
    const hashOn = async (p: JsonRpcProvider, n: number) => (await p.getBlock(n))?.hash ?? "absent";
    const checkpoint = await hashOn(pa, ha.head);
    // B is longer than A (a different block at A's checkpoint height), C shorter (none).
    expect([hb.head > ha.head, hc.head < ha.head]).to.deep.equal([true, true]);

    // B: another genesis. Refused before anything is written.
    const other = auditCli(b.url, registry, dbPath, "sync");
    expect(other.status).to.equal(1);
    expect(other.stdout).to.equal("");
    expect(other.stderr).to.equal(
      `error: the node has another history of chain 31337 than the database (genesis block 0 is ${await genesis(pa)} in the database but ${await genesis(pb)} on the node; ` +
        `checkpoint block ${ha.head} is ${checkpoint} in the database, ${await hashOn(pb, ha.head)} on the node). ` +
        `Nothing was changed (${ha.logs.length} events kept): use another --db, or --reset to discard them and sync this node's history from the start\n`,
    );
    expect(dump(dbPath)).to.deep.equal(before);

    // C: the same genesis, but none of the database's blocks is on C's chain (not a reorg).
    const sameGenesis = auditCli(c.url, registry, dbPath, "sync");
    expect(sameGenesis.status).to.equal(1);
    expect(sameGenesis.stderr).to.equal(
      `error: the node has another history of chain 31337 than the database (same genesis ${await genesis(pa)}, but no block of the database's history is on the node's chain; ` +
        `checkpoint block ${ha.head} is ${checkpoint} in the database, ${await hashOn(pc, ha.head)} on the node). ` +
        `Nothing was changed (${ha.logs.length} events kept): use another --db, or --reset to discard them and sync this node's history from the start\n`,
    );
    expect(dump(dbPath)).to.deep.equal(before);
    // The library says the same with a typed error carrying both histories.
    const db = openAuditDb(dbPath);
    try {
      const err = await syncEvents({ db, rpc: c.url, registry, progress: "none" }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).to.be.instanceOf(HistoryMismatchError);
      const m = err as HistoryMismatchError;
      expect([m.chainId, m.stored, m.node, m.storedEvents]).to.deep.equal([
        31337,
        { genesis: await genesis(pa), checkpoint: ha.head, checkpointHash: checkpoint },
        { genesis: await genesis(pa), checkpointHash: null }, // C is shorter: no block at the checkpoint
        ha.logs.length,
      ]);
    } finally {
      db.close();
    }
    expect(dump(dbPath)).to.deep.equal(before);

    // --reset: starts over with B's history, exactly.
    const reset = auditCli(b.url, registry, dbPath, "sync", "--reset");
    expect(reset.status, reset.stderr).to.equal(0);
    expect(reset.stderr).to.include(
      `sync: reset: discarded ${ha.logs.length} events of chain 31337; syncing from the start`,
    );
    expect(reset.stdout).to.equal(`synced to block ${hb.head}: ${hb.logs.length} new events (${dbPath})\n`);
    const after = new Database(dbPath, { readonly: true });
    try {
      expect(rowsOf(after)).to.deep.equal(rowsOfLogs(hb.logs));
      expect(after.prepare("SELECT genesis_hash, block_number, block_hash FROM sync_state").all()).to.deep.equal([
        { genesis_hash: await genesis(pb), block_number: hb.head, block_hash: await hashOn(pb, hb.head) },
      ]);
    } finally {
      after.close();
    }
    const verified = auditCli(b.url, registry, dbPath, "verify");
    expect(verified.status, verified.stderr).to.equal(0);
    expect(verified.stdout).to.include(`checked ${hb.logs.length} events (8 uses, 0 shares) up to block ${hb.head}`);
    // And B's database now follows B: an ordinary incremental sync is a no-op.
    const again = auditCli(b.url, registry, dbPath, "sync");
    expect([again.status, again.stdout]).to.deep.equal([0, `synced to block ${hb.head}: 0 new events (${dbPath})\n`]);
  });
});
