import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The processes of the indexer tests, each on a free port of 127.0.0.1 and stopped by its pid:
 * `hardhat node`s (one per chain) and Ponder (`ponder start`, run by node directly, not through
 * npx, so the pid is Ponder's own).
 */

export const INDEXER = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const ROOT = join(INDEXER, "..");
const HARDHAT_CLI = join(ROOT, "node_modules", "hardhat", "dist", "src", "cli.js");
const PONDER_CLI = join(INDEXER, "node_modules", "ponder", "dist", "esm", "bin", "ponder.js");

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const a = srv.address();
      const port = typeof a === "object" && a !== null ? a.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface Proc {
  child: ChildProcess;
  pid: number;
  /** The last 50 kB of stdout + stderr. */
  output: () => string;
  alive: () => boolean;
  /** SIGTERM, then SIGKILL after 10 s; resolves when the process exited. */
  stop(): Promise<void>;
  /** SIGKILL now; resolves when the process exited. */
  kill(): Promise<void>;
}

const running = new Set<ChildProcess>();
// Last resort: a test run that ends without its after-hooks (an uncaught error) kills what it started.
process.once("exit", () => {
  for (const c of running) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
});

function track(child: ChildProcess): Proc {
  let log = "";
  const keep = (d: Buffer) => (log = (log + d.toString()).slice(-50_000));
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  running.add(child);
  const exited = new Promise<void>((resolve) =>
    child.once("exit", () => {
      running.delete(child);
      resolve();
    }),
  );
  const alive = () => child.exitCode === null && child.signalCode === null;
  return {
    child,
    pid: child.pid!,
    output: () => log,
    alive,
    async stop() {
      if (!alive()) return;
      process.kill(child.pid!, "SIGTERM");
      const t = setTimeout(() => alive() && process.kill(child.pid!, "SIGKILL"), 10_000);
      await exited;
      clearTimeout(t);
    },
    async kill() {
      if (!alive()) return;
      process.kill(child.pid!, "SIGKILL");
      await exited;
    },
  };
}

export async function rpc<T = unknown>(url: string, method: string, params: unknown[] = []): Promise<T> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  const body = (await res.json()) as { result?: T; error?: { message: string } };
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result as T;
}

export interface Node extends Proc {
  url: string;
  chainId: number;
}

/** A `hardhat node` with `chainId` on a free port (retried: a port can be taken in between). */
export async function startNode(chainId = 31337): Promise<Node> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const child = spawn(
      process.execPath,
      [
        HARDHAT_CLI,
        "--config",
        join(INDEXER, "test", "helpers", "node.config.ts"),
        "node",
        "--hostname",
        "127.0.0.1",
        "--port",
        String(port),
      ],
      {
        cwd: ROOT,
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, OMNI_INDEXER_NODE_CHAIN_ID: String(chainId) },
      },
    );
    const p = track(child);
    const url = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 600 && p.alive(); i++) {
      try {
        const id = Number(await rpc<string>(url, "eth_chainId"));
        if (id !== chainId) throw new Error(`node on ${url} has chain id ${id}, not ${chainId}`);
        return { ...p, url, chainId };
      } catch (err) {
        if (err instanceof Error && err.message.includes("has chain id")) throw err;
      }
      await sleep(100);
    }
    await p.stop();
    if (attempt >= 3) throw new Error(`hardhat node did not start:\n${p.output()}`);
  }
}

/** One chain as the indexer's configuration names it (lib/chains.ts). */
export interface IndexedChain {
  chainId: number;
  rpc: string;
  registry: string;
  integrations: string;
  accessManager: string;
  startBlock: number;
  pollingIntervalMs?: number;
  maxRequestsPerSecond?: number;
}

export interface Ponder extends Proc {
  url: string;
  schema: string;
}

/**
 * `ponder start` over `chains` into `databaseUrl`, schema `schema`, API on 127.0.0.1:<free
 * port>. Telemetry is off (the machine reaches no network but the package registries). Resolves
 * once the HTTP server answers /health; the backfill may still be running.
 */
export async function startPonder(opts: {
  chains: IndexedChain[];
  databaseUrl: string;
  schema: string;
  command?: "start" | "serve";
  logLevel?: string;
}): Promise<Ponder> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [PONDER_CLI, opts.command ?? "start", "--schema", opts.schema, "--port", String(port), "--hostname", "127.0.0.1"],
    {
      cwd: INDEXER,
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        ...process.env,
        PONDER_TELEMETRY_DISABLED: "1",
        PONDER_LOG_LEVEL: opts.logLevel ?? "warn",
        DATABASE_URL: opts.databaseUrl,
        OMNI_INDEXER_CHAINS: JSON.stringify({ chains: opts.chains.map((c) => ({ pollingIntervalMs: 100, ...c })) }),
        OMNI_INDEXER_CONFIG: "",
        NODE_ENV: "production",
      },
    },
  );
  const p = track(child);
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 1200; i++) {
    if (!p.alive()) throw new Error(`ponder exited with ${child.exitCode ?? child.signalCode}:\n${p.output()}`);
    try {
      if ((await fetch(`${url}/health`)).ok) return { ...p, url, schema: opts.schema };
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  await p.stop();
  throw new Error(`ponder did not answer on ${url}/health:\n${p.output()}`);
}
