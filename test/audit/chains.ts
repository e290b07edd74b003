import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

import { expect } from "chai";
import { Contract, JsonRpcProvider, Transaction, id as keccakId } from "ethers";

import { buildReport, openAuditStore, ownerScoped, type Report } from "../../src/audit/index.js";
import { CONSENT_REGISTRY_ABI } from "../../src/sdk/abi.js";
import { ALL_DATA, NO_EXPIRY } from "../../src/sdk/constants.js";
import { CREATE_X_ADDRESS, deployConsentSystem } from "../../src/sdk/deploy.js";
import { freePort, ROOT } from "./helpers/chain.js";
import { backends } from "./helpers/stores.js";

/**
 * Many chains in one audit database, with real processes: two anvil nodes (chain ids 31337 and
 * 31338) on free loopback ports, the consent system deployed on both at the same CREATE2
 * addresses (deployConsentSystem through CreateX), two `audit sync` processes writing their
 * chains into one database at the same time, and a second sync of a chain started by mistake
 * while the first runs: refused, saying who owns the chain, nothing corrupted.
 */

const ANVIL = join(ROOT, "node_modules", "@foundry-rs", "anvil-linux-amd64", "bin", "anvil");

interface Anvil {
  url: string;
  child: ChildProcess;
  stop: () => Promise<void>;
}

async function startAnvil(chainId: number): Promise<Anvil> {
  const port = await freePort();
  const child = spawn(
    ANVIL,
    ["--host", "127.0.0.1", "--port", String(port), "--chain-id", String(chainId), "--silent"],
    { stdio: "ignore" },
  );
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    process.kill(child.pid!, "SIGTERM");
    await exited;
  };
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`anvil exited with ${child.exitCode}`);
    try {
      const res = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
      });
      if (res.ok) return { url, child, stop };
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  await stop();
  throw new Error(`anvil did not answer on ${url}`);
}

/** CreateX's runtime code, from the presigned deployment Ignition ships (run as an eth_call). */
async function installCreateX(provider: JsonRpcProvider): Promise<void> {
  const file = join(
    ROOT,
    "node_modules/@nomicfoundation/ignition-core/dist/src/internal/execution/strategy/createx-artifact.js",
  );
  const { presignedTx } = (await import(pathToFileURL(file).href)) as { presignedTx: string };
  const runtime = (await provider.send("eth_call", [{ data: Transaction.from(presignedTx).data }, "latest"])) as string;
  await provider.send("anvil_setCode", [CREATE_X_ADDRESS, runtime]);
}

const CLI_ENV = Object.fromEntries(
  Object.entries(process.env).filter(
    ([k]) => !["OMNI_RPC_URL", "OMNI_REGISTRY", "OMNI_AUDIT_DB", "OMNI_CHAIN_ID"].includes(k),
  ),
);

/** Runs the CLI as a user does (no shell), as its own process. */
function cli(args: string[]) {
  return spawnSync(process.execPath, ["--import", "tsx", join(ROOT, "src/cli/main.ts"), ...args], {
    cwd: ROOT,
    encoding: "utf8",
    env: CLI_ENV,
  });
}
function cliAsync(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", join(ROOT, "src/cli/main.ts"), ...args], {
    cwd: ROOT,
    env: CLI_ENV,
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on("close", (status) => resolve({ status, stdout, stderr })));
}

/** A report without the times it was made at (top level and its view's meta). */
const strip = (r: Report) => ({
  ...r,
  generatedAt: "",
  view: r.view === undefined ? undefined : { ...r.view, meta: { ...r.view.meta, generatedAt: "" } },
});

/** The CLI's JSON output; fails the test with its stderr when it did not exit 0. */
function cliJson<T>(args: string[]): T {
  const r = cli(args);
  expect(r.status, r.stderr).to.equal(0);
  return JSON.parse(r.stdout) as T;
}

for (const backend of backends()) {
  describe(`audit: many chains in one database (two anvil processes, ${backend.name})`, function () {
    this.timeout(180_000);
    const dir = mkdtempSync(join(tmpdir(), "omni-chains-"));
    const nodes: Anvil[] = [];
    const providers: JsonRpcProvider[] = [];
    let registry: string;
    let owner: string;
    let processor: string;
    let partner: string;
    let db: string;

    before(async () => {
      for (const id of [31337, 31338]) {
        const node = await startAnvil(id);
        nodes.push(node);
        providers.push(new JsonRpcProvider(node.url, id, { staticNetwork: true, cacheTimeout: -1 }));
      }
      const addresses = [];
      for (const p of providers) {
        await installCreateX(p);
        const admin = await p.getSigner(0);
        partner = (await p.getSigner(4)).address.toLowerCase();
        const d = await deployConsentSystem(admin, {
          create2: true,
          executionDelay: 1n,
          integrations: [{ address: partner, metadataHash: keccakId("partner"), purposes: 0xffn }],
        });
        addresses.push([d.ConsentSystemDeployer, d.AccessManager, d.IntegrationRegistry, d.ConsentRegistry]);
      }
      expect(addresses[1], "the same CREATE2 addresses on both chains").to.deep.equal(addresses[0]);
      registry = addresses[0][3]!;
      // Chain 31337: the owner grants the processor ALL_DATA for purposes 0,1 and the processor uses it.
      // Chain 31338: the owner grants the partner one data id for purpose 6, and the partner uses it.
      const [pa, pb] = providers;
      const ownerA = await pa.getSigner(1);
      owner = ownerA.address.toLowerCase();
      processor = (await pa.getSigner(3)).address.toLowerCase();
      const regA = new Contract(registry, CONSENT_REGISTRY_ABI, ownerA);
      await (await regA.getFunction("grant")(processor, ALL_DATA, 0b11n, NO_EXPIRY, keccakId("a"))).wait();
      const asProcessor = regA.connect(await pa.getSigner(3)) as Contract;
      await (await asProcessor.getFunction("recordUse")(owner, keccakId("asset"), 1, keccakId("use-a"))).wait();
      const regB = new Contract(registry, CONSENT_REGISTRY_ABI, await pb.getSigner(1));
      await (await regB.getFunction("grant")(partner, keccakId("photo"), 1n << 6n, NO_EXPIRY, keccakId("b"))).wait();
      const asPartner = regB.connect(await pb.getSigner(4)) as Contract;
      await (await asPartner.getFunction("recordUse")(owner, keccakId("photo"), 6, keccakId("use-b"))).wait();
      // Chain 31337 gets empty blocks: a one-block-per-chunk sync of it runs for seconds (~10 s).
      await pa.send("anvil_mine", [backend.name === "sqlite" ? "0x4b0" : "0x1f4"]);
      db = await backend.target(join(dir, "chains.db"));
    });

    after(async () => {
      for (const p of providers) p.destroy();
      for (const n of nodes) await n.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it("two syncs (one per chain) write one database at the same time; a second sync of a chain is refused", async () => {
      const [a, b] = nodes;
      const slowA = cliAsync(["--rpc", a.url, "--registry", registry, "audit", "sync", "--db", db, "--max-range", "1"]);
      const syncB = cliAsync(["--rpc", b.url, "--registry", registry, "audit", "sync", "--db", db]);
      // Once chain 31337's sync has committed its first chunks, start another one of it by mistake.
      const watcher = await openAuditStore(db);
      try {
        for (let i = 0; i < 600 && ((await watcher.meta(31337))?.blockNumber ?? -1) < 5; i++)
          await new Promise((r) => setTimeout(r, 50));
      } finally {
        await watcher.close();
      }
      const second = await cliAsync(["--rpc", a.url, "--registry", registry, "audit", "sync", "--db", db]);
      const [first, other] = await Promise.all([slowA, syncB]);
      expect([first.status, other.status], first.stderr + other.stderr).to.deep.equal([0, 0]);
      expect(second.status).to.equal(1);
      const holder =
        backend.name === "sqlite"
          ? `process \\d+ on this host, since [0-9T:.-]+Z`
          : `PostgreSQL session \\d+: "omni-consent audit \\(pid \\d+ on [^)]+\\)" from 127\\.0\\.0\\.1/32, connected since [0-9T:.-]+Z`;
      expect(second.stderr).to.match(
        new RegExp(
          `^error: another sync owns chain 31337 in this audit database \\(${holder}\\); nothing was written: wait for it to finish or stop it, or sync another chain\\n$`,
        ),
      );
      // Both histories are there, each exactly the chain's logs.
      const store = await openAuditStore(db);
      try {
        for (const [i, p] of providers.entries()) {
          const chainId = 31337 + i;
          const head = await p.getBlockNumber();
          const meta = await store.meta(chainId);
          const watched = [meta!.registry, meta!.integrations, meta!.authority];
          const logs = await p.getLogs({ address: watched, fromBlock: 0, toBlock: head });
          const rows = await store.eventsInRange(chainId, 0, head);
          expect(rows.map((r) => [r.block_number, r.log_index, r.block_hash, r.tx_hash])).to.deep.equal(
            logs.map((l) => [l.blockNumber, l.index, l.blockHash, l.transactionHash]),
          );
          expect([meta!.blockNumber, meta!.registry]).to.deep.equal([head, registry.toLowerCase()]);
        }
        expect((await store.chains()).map((m) => m.chainId)).to.deep.equal([31337, 31338]);
      } finally {
        await store.close();
      }
    });

    it("state, verify and report per chain (--chain-id) and across chains", async () => {
      const state = cliJson<{ chainId: number; consents: { owner: string; grantee: string; purposes: number[] }[] }>([
        "--json",
        "--chain-id",
        "31338",
        "audit",
        "state",
        "--db",
        db,
      ]);
      expect([state.chainId, state.consents.map((c) => [c.owner, c.grantee, c.purposes])]).to.deep.equal([
        31338,
        [[owner, partner, [6]]],
      ]);
      const both = cliJson<{ chains: { chainId: number; consents: { grantee: string }[] }[] }>([
        "--json",
        "audit",
        "state",
        "--db",
        db,
        "--owner",
        owner,
      ]);
      expect(both.chains.map((c) => [c.chainId, c.consents.map((x) => x.grantee)])).to.deep.equal([
        [31337, [processor]],
        [31338, [partner]],
      ]);

      const verify = cli(["--json", "audit", "verify", "--db", db]);
      expect(verify.status, verify.stderr).to.equal(0);
      const v = JSON.parse(verify.stdout) as { ok: boolean; chains: { chainId: number; eventsChecked: number }[] };
      expect(v.ok).to.equal(true);
      expect(v.chains.map((c) => c.chainId)).to.deep.equal([31337, 31338]);
      // verify --rpc anchors to that node's chain only.
      const anchored = cli(["--rpc", nodes[1].url, "--json", "audit", "verify", "--db", db]);
      expect(anchored.status, anchored.stderr).to.equal(0);
      const anchoredJson = JSON.parse(anchored.stdout) as { integrity: { statement: string; registry: string } };
      expect(anchoredJson.integrity.statement).to.match(
        new RegExp(
          `^anchored to chain 31338 at block \\d+ \\(0x[0-9a-f]{64}\\), from block 0, registry ${registry.toLowerCase()}$`,
        ),
      );
      expect(anchoredJson.integrity.registry).to.equal(registry.toLowerCase());
      // --registry names the registry to audit: a database of another one is refused, not verified.
      const other = "0x000000000000000000000000000000000000dEaD";
      const refused = cli(["--rpc", nodes[1].url, "--registry", other, "audit", "verify", "--db", db]);
      expect([refused.status, refused.stdout, refused.stderr.trim()]).to.deep.equal([
        1,
        "",
        `error: the database ${db} holds the history of registry ${registry.toLowerCase()} on chain 31338, not of ${other.toLowerCase()} (--registry): verify that registry's database, or leave --registry out`,
      ]);
      const same = cli(["--rpc", nodes[1].url, "--registry", registry, "audit", "verify", "--db", db]);
      expect(same.status, same.stderr).to.equal(0);

      // The owner's report lists consents on every chain; each chain's part is the full report's.
      const report = cli(["audit", "report", "--db", db, "--owner", owner, "--format", "json"]);
      expect(report.status, report.stderr).to.equal(0);
      const r = JSON.parse(report.stdout) as { kind: string; subject: string; chains: Report[] };
      expect([r.kind, r.subject, r.chains.map((c) => c.chainId)]).to.deep.equal(["owner", owner, [31337, 31338]]);
      const consents = r.chains.map((c) =>
        c.sections.find((s) => s.name === "consents")!.rows.map((x) => [x.party, x.purposes, x.status]),
      );
      expect(consents).to.deep.equal([
        [[processor, "MODEL_TRAINING FINE_TUNING", "active"]],
        [[partner, "THIRD_PARTY_SHARING", "active"]],
      ]);
      const store = await openAuditStore(db);
      try {
        for (const [i, chainId] of [31337, 31338].entries()) {
          const full = await buildReport(store, { kind: "owner", subject: owner, chainId });
          const scoped = await buildReport(ownerScoped(store, owner), { kind: "owner", subject: owner, chainId });
          expect(strip(scoped)).to.deep.equal(strip(full));
          expect(strip(r.chains[i])).to.deep.equal(strip(full));
        }
      } finally {
        await store.close();
      }
      const html = cli(["audit", "report", "--db", db, "--owner", owner, "--format", "html"]);
      expect([html.status, html.stderr]).to.deep.equal([
        1,
        "error: --format html: this database holds chains 31337, 31338; a html report covers one chain: add --chain-id <id>, or use --format json for all chains\n",
      ]);
      const wrong = cli(["--chain-id", "5", "audit", "state", "--db", db]);
      expect(wrong.status).to.equal(1);
      expect(wrong.stderr).to.match(/^error: --chain-id: the audit database .+ holds chains 31337, 31338, not 5\n$/);
      expect(wrong.stderr).to.not.match(/omni:[0-9a-f]{32}@/);
    });
  });
}
