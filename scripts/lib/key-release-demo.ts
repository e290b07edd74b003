/**
 * The key-release part of `npm run demo` (issue 12): three custodian processes in front of the
 * demo's in-process chain, one sealed asset, and the scenario seal → grant → record use → open →
 * revoke → refused. Custodians speak JSON-RPC over HTTP, and the demo's chain lives inside the
 * Hardhat process, so {@link serveJsonRpc} exposes it on a loopback port for them.
 */
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";

import type { Signer } from "ethers";

import { CustodianStore } from "../../src/custodian/store.js";
import type { ReleaseEntry } from "../../src/custodian/store.js";
import { verifyReleases } from "../../src/custodian/verify-releases.js";
import { OpenAssetError, obtainKey, openBytes, registerShares } from "../../src/keys/open.js";
import { fromBytes, sealBytes } from "../../src/keys/seal.js";

/** An EIP-1193 provider: what Hardhat's in-process network connection offers. */
export interface Eip1193 {
  request(args: { method: string; params?: unknown[] }): Promise<unknown>;
}

/** Serves `provider` as a JSON-RPC HTTP endpoint on 127.0.0.1 (single and batch requests). */
export async function serveJsonRpc(provider: Eip1193): Promise<{ url: string; close: () => Promise<void> }> {
  const answer = async (req: { id?: unknown; method: string; params?: unknown[] }) => {
    try {
      return { jsonrpc: "2.0", id: req.id ?? null, result: await provider.request(req) };
    } catch (err) {
      const e = err as { code?: number; message?: string; data?: unknown };
      return {
        jsonrpc: "2.0",
        id: req.id ?? null,
        error: { code: e.code ?? -32000, message: e.message, data: e.data },
      };
    }
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      void (async () => {
        const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as unknown;
        const out = Array.isArray(body)
          ? await Promise.all(body.map((r) => answer(r as { method: string })))
          : await answer(body as { method: string });
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(out));
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const CUSTODIAN_MAIN = path.join(process.cwd(), "src", "custodian", "main.ts");
const PASSPHRASE = "demo passphrase (not a secret)";

interface Custodian {
  url: string;
  db: string;
  child: ChildProcess;
}

function run(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", CUSTODIAN_MAIN, ...args], {
      env: { ...process.env, OMNI_CUSTODIAN_PASSPHRASE: PASSPHRASE },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve(out) : reject(new Error(`custodian ${args[0]}: ${out}`))));
  });
}

/** Starts one custodian process (its own keystore and SQLite) and waits until it answers. */
async function startCustodian(dir: string, name: string, rpc: string, registry: string): Promise<Custodian> {
  const key = path.join(dir, `${name}.key.json`);
  const db = path.join(dir, `${name}.db`);
  await run(["keygen", "--key", key]);
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      CUSTODIAN_MAIN,
      "start",
      "--port",
      "0",
      "--db",
      db,
      "--key",
      key,
      "--registry",
      registry,
      "--rpc",
      rpc,
      "--confirmations",
      "1",
      "--log-level",
      "info",
    ],
    { env: { ...process.env, OMNI_CUSTODIAN_PASSPHRASE: PASSPHRASE }, stdio: ["ignore", "pipe", "pipe"] },
  );
  // The custodian logs its URL (one pino JSON line, "custodian listening") once it listens.
  const url = await new Promise<string>((resolve, reject) => {
    let log = "";
    const onData = (d: Buffer) => {
      log += d.toString();
      const m = /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(log);
      if (m) resolve(m[1]);
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code) => reject(new Error(`custodian ${name} exited (${code}): ${log}`)));
  });
  return { url, db, child };
}

export interface KeyReleaseDemo {
  lines: string[];
  releases: ReleaseEntry[][];
}

/**
 * seal → grant → record use → open → revoke → refused, with three custodians (2-of-3).
 * `grant`, `recordUse` and `revoke` are the demo's own clients; `mine` adds confirmation blocks.
 */
export async function keyReleaseScenario(opts: {
  provider: Eip1193;
  chainId: bigint;
  registry: string;
  owner: Signer;
  processor: Signer;
  purpose: number;
  /** The purpose's name, for the printed lines. */
  purposeName: string;
  grant: (dataId: string) => Promise<void>;
  recordUse: (dataId: string) => Promise<string>;
  revoke: (dataId: string) => Promise<void>;
  mine: (blocks: number) => Promise<void>;
  name: (address: string) => string;
}): Promise<KeyReleaseDemo> {
  const lines: string[] = [];
  const dir = mkdtempSync(path.join(tmpdir(), "omni-demo-custodians-"));
  const rpc = await serveJsonRpc(opts.provider);
  const custodians: Custodian[] = [];
  try {
    custodians.push(
      ...(await Promise.all(["c1", "c2", "c3"].map((n) => startCustodian(dir, n, rpc.url, opts.registry)))),
    );
    lines.push(`  3 custodian processes on ${custodians.map((c) => c.url.replace("http://", "")).join(", ")}`);

    const plaintext = new TextEncoder().encode("owner-01's voice samples (demo asset, 1 KiB)".padEnd(1024, "."));
    const sealed: Uint8Array[] = [];
    const { manifest, envelopes } = await sealBytes(
      {
        owner: opts.owner,
        chainId: opts.chainId,
        registry: opts.registry,
        custodians: await Promise.all(
          custodians.map(async (c) => {
            const info = (await (await fetch(`${c.url}/v1/info`)).json()) as { publicKey: string };
            return { url: c.url, publicKey: info.publicKey };
          }),
        ),
        threshold: 2,
        policy: { requireUseRecord: true, useRecordMaxAge: 100, confirmations: 1 },
      },
      fromBytes(plaintext),
      (b) => void sealed.push(b),
    );
    const ciphertext = Buffer.concat(sealed);
    await registerShares(manifest, envelopes);
    const dataId = manifest.dataId;
    lines.push(
      `  sealed 1 KiB as ${manifest.cid.slice(0, 16)}…; key split 2-of-3, one share per custodian (HPKE); dataId ${dataId.slice(0, 10)}… is a salted commitment to the CID`,
    );

    await opts.grant(dataId);
    await opts.mine(1);
    const useTx = await opts.recordUse(dataId);
    await opts.mine(1);
    lines.push(
      `  ${opts.name(await opts.owner.getAddress())} granted ${opts.purposeName}; the processor recorded its use (${useTx.slice(0, 10)}…)`,
    );

    const key = await obtainKey({ manifest, requester: opts.processor, purpose: opts.purpose, useTx });
    const opened = await openBytes(manifest, key, ciphertext);
    key.fill(0);
    if (Buffer.compare(Buffer.from(opened), Buffer.from(plaintext)) !== 0) throw new Error("demo: opened bytes differ");
    lines.push("  OPENED   2 custodians checked consent (latest and 1 block deep) and the use record, then released");

    await opts.revoke(dataId);
    try {
      await obtainKey({ manifest, requester: opts.processor, purpose: opts.purpose, useTx });
      throw new Error("demo invariant broken: a key was released after the revocation");
    } catch (err) {
      if (!(err instanceof OpenAssetError)) throw err;
      const codes = [...new Set(err.failures.map((f) => f.code))].join(", ");
      lines.push(`  REFUSED  after the owner's revoke (next block): every custodian answered ${codes}`);
    }
    // Every custodian's release log, re-checked against the chain (consent at that block,
    // confirmed, and the use record) as `audit verify --releases` does.
    for (const c of custodians) {
      const exited = new Promise((resolve) => c.child.once("exit", resolve));
      c.child.kill("SIGTERM");
      await exited;
    }
    // Each log as `custodian log` exports it: the entries and the owner-signed manifests they name.
    const exported = custodians.map((c) => {
      const store = new CustodianStore(c.db);
      try {
        return store.exportLog();
      } finally {
        store.close();
      }
    });
    const releases = exported.map((x) => x.entries);
    const checked = await verifyReleases(exported, { rpcUrl: rpc.url, chainId: opts.chainId, registry: opts.registry });
    lines.push(
      `  release logs: ${checked.checked} releases re-checked against the chain → ${checked.violations.length} violations`,
    );
    return { lines, releases };
  } finally {
    for (const c of custodians) if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill("SIGKILL");
    await rpc.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
