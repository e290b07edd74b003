import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import Database from "better-sqlite3";
import { expect } from "chai";
import { JsonRpcProvider, type Log, id as keccakId } from "ethers";

import { type AuditDb, openAuditDb, syncEvents, verifyHistory } from "../../src/audit/index.js";
import { ALL_DATA, NO_EXPIRY } from "../../src/sdk/constants.js";
import { initialPurposeMetadata } from "../../src/sdk/purposes.js";
import {
  AccessManager__factory,
  ConsentRegistry__factory,
  IntegrationRegistry__factory,
} from "../../types/ethers-contracts/index.js";
import { ROOT, startFaultProxy, startHardhatNode } from "./helpers/chain.js";

type Row = [number, number, string, string];
const rowsOf = (db: AuditDb | Database.Database, upTo = Number.MAX_SAFE_INTEGER) =>
  (
    db
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
    const [admin, owner1, owner2, processor, partner] = await Promise.all(
      [0, 1, 2, 3, 4].map((i) => provider.getSigner(i)),
    );
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
    registry = await reg.getAddress();
    await (await integrations.registerIntegration(partner.address, keccakId("partner"), 0xffn)).wait();
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
    logs = await provider.getLogs({
      address: [registry, await integrations.getAddress(), await manager.getAddress()],
      fromBlock: 0,
      toBlock: head,
    });
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
      expect(proxy.counts.error500, "500s injected").to.be.greaterThan(0);
      expect(proxy.counts.hang, "hangs injected").to.be.greaterThan(0);
      expect(proxy.counts.rangeErrors, "range errors injected").to.be.greaterThan(0);
      expect(res.failures).to.be.greaterThan(0);
      expect(res.inserted).to.equal(logs.length);
      expect(rowsOf(db)).to.deep.equal(rowsOfLogs(logs));
      expect(verifyHistory(db).violations).to.deep.equal([]);
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
      const cp = db.prepare("SELECT block_number, block_hash FROM sync_state").get() as {
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
    const cli = (...args: string[]) =>
      spawnSync(
        process.execPath,
        [
          "--import",
          "tsx",
          join(ROOT, "src/cli/main.ts"),
          "--rpc",
          node.url,
          "--registry",
          registry,
          "audit",
          ...args,
          "--db",
          dbPath,
        ],
        { cwd: ROOT, encoding: "utf8", env: { ...process.env, OMNI_RPC_URL: "", OMNI_REGISTRY: "" } },
      );
    const synced = cli("sync", "--to-block", String(head));
    expect(synced.stderr + synced.stdout).to.include(`synced to block ${head}: ${logs.length} new events`);
    expect(synced.status).to.equal(0);

    const ok = cli("verify");
    expect(ok.stdout).to.include(`checked ${logs.length} events (480 uses, 1 shares) up to block`);
    expect(ok.status).to.equal(0);

    const state = cli("state", "--block", String(head));
    expect(state.status).to.equal(0);
    expect(state.stdout).to.include("3 consents, 0 managers, 1 integrations, 8 purposes");

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
    expect(failed.stderr.trim()).to.equal("error: 1 violation(s) found in the recorded history");
  });
});
