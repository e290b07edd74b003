import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * Test harness for the CLI: a real `hardhat node` on a free port of 127.0.0.1 (never 8545:
 * other engineers run nodes too), JSON-RPC helpers, and the CLI run as a subprocess exactly as
 * a user runs it. Used by test/cli/bad-input.ts and test/e2e/cli.e2e.ts.
 */

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const HARDHAT_CLI = join(ROOT, "node_modules", "hardhat", "dist", "src", "cli.js");
const BUILT_CLI = join(ROOT, "dist", "src", "cli", "main.js");

/** A TCP port that was free a moment ago (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** One JSON-RPC call; throws with the node's message on an error reply. */
export async function rpc<T = unknown>(url: string, method: string, params: unknown[] = []): Promise<T> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  const reply = (await res.json()) as { result?: T; error?: { message: string } };
  if (reply.error) throw new Error(`${method}: ${reply.error.message}`);
  return reply.result as T;
}

export interface DevNode {
  url: string;
  port: number;
  process: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Starts `hardhat node` on a free port and waits until it answers `eth_chainId`. Retries once
 * if the node exits at start-up: it reads the artifacts' build info, which a concurrent
 * `hardhat build` may be rewriting at that moment.
 */
export async function startNode(timeoutMs = 60_000): Promise<DevNode> {
  try {
    return await startNodeOnce(timeoutMs);
  } catch (err) {
    if (!(err instanceof Error) || !err.message.startsWith("hardhat node exited early")) throw err;
    await new Promise((r) => setTimeout(r, 2_000));
    return startNodeOnce(timeoutMs);
  }
}

async function startNodeOnce(timeoutMs: number): Promise<DevNode> {
  const port = await freePort();
  return startServer(
    "hardhat node",
    process.execPath,
    [HARDHAT_CLI, "node", "--hostname", "127.0.0.1", "--port", String(port)],
    port,
    timeoutMs,
  );
}

/** The anvil binary of the `@foundry-rs/anvil` package (its platform package ships it; it runs offline). */
export const ANVIL = join(ROOT, "node_modules", "@foundry-rs", "anvil-linux-amd64", "bin", "anvil");

/**
 * Starts anvil (Foundry's dev node: chain 31337, the same ten default accounts as hardhat node)
 * on a free port of 127.0.0.1, as its own process, and waits until it answers `eth_chainId`.
 */
export async function startAnvil(timeoutMs = 60_000): Promise<DevNode> {
  const port = await freePort();
  return startServer("anvil", ANVIL, ["--host", "127.0.0.1", "--port", String(port), "--silent"], port, timeoutMs);
}

/** Spawns a JSON-RPC server process listening on 127.0.0.1:`port`; `stop` ends that process by its pid. */
async function startServer(
  name: string,
  cmd: string,
  args: string[],
  port: number,
  timeoutMs: number,
): Promise<DevNode> {
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(cmd, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  child.stdout?.on("data", (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
  child.stderr?.on("data", (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
    await exited;
    clearTimeout(timer);
  };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited early (${child.exitCode}):\n${log}`);
    try {
      await rpc(url, "eth_chainId");
      return { url, port, process: child, stop };
    } catch {
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`${name} did not answer on ${url} within ${timeoutMs} ms:\n${log}`);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Newest modification time of the `.ts` files under `dir`. */
function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (entry.name.endsWith(".ts")) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/** How to start the CLI: the compiled build when it is newer than every source, else tsx. */
function cliEntry(): string[] {
  const fresh = existsSync(BUILT_CLI) && statSync(BUILT_CLI).mtimeMs >= newestSource(join(ROOT, "src"));
  return fresh ? [BUILT_CLI] : ["--import", "tsx", join(ROOT, "src", "cli", "main.ts")];
}

let scratchStore: string | undefined;

/** A signing-store directory for this test process, so no test ever writes ~/.omni-consent. */
function testSigningStore(): string {
  if (scratchStore === undefined) {
    const dir = mkdtempSync(join(tmpdir(), "omni-cli-signing-"));
    scratchStore = dir;
    process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
  }
  return scratchStore;
}

/**
 * Runs `omni-consent <args>` as a subprocess: the compiled CLI (`npm run build` → dist/) when it
 * is up to date, else the TypeScript source through tsx (so a stale build is never tested). The environment is reduced to PATH/HOME plus
 * `env`, so a developer's own OMNI_* variables never leak into a test; OMNI_SIGNING_STORE
 * defaults to a temporary directory of this test process (never the user's ~/.omni-consent).
 */
export function runCli(args: readonly string[], env: Record<string, string> = {}): Promise<CliRun> {
  const entry = cliEntry();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...entry, ...args], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? "",
        HOME: process.env.HOME ?? "",
        OMNI_SIGNING_STORE: testSigningStore(),
        ...env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

export interface CliProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (null: killed by a signal) once the process has ended. */
  exited: Promise<number | null>;
  /** Ends the process by its pid (SIGKILL) if it still runs. */
  kill(): void;
}

/**
 * Starts `omni-consent <args>` as {@link runCli} does, without waiting for it: for commands
 * that keep running (`custodian start`) or that a test interferes with while they wait.
 */
export function spawnCli(args: readonly string[], env: Record<string, string> = {}): CliProcess {
  const child = spawn(process.execPath, [...cliEntry(), ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", OMNI_SIGNING_STORE: testSigningStore(), ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("close", (code) => resolve(code)));
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, "SIGKILL");
    },
  };
}

/** The account's transaction count (nonce) on the node: unchanged means nothing was sent. */
export async function nonceOf(url: string, address: string): Promise<bigint> {
  return BigInt(await rpc<string>(url, "eth_getTransactionCount", [address, "latest"]));
}

export interface RpcProxy {
  url: string;
  pid: number;
  /** The JSON-RPC methods it saw, in order, each with `forwarded`, `forwarded-then-dropped` or `dropped`. */
  log(): string[];
  stop(): Promise<void>;
}

/**
 * Starts test/cli/rpc-proxy.ts (its own process, on 127.0.0.1) in front of `upstream`, in `mode`
 * (`pass`, `drop-after-send`, `drop-receipt`); stopped by its pid.
 */
export async function startProxy(
  upstream: string,
  mode: "pass" | "drop-after-send" | "drop-receipt",
): Promise<RpcProxy> {
  const { mkdtempSync, readFileSync, rmSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const dir = mkdtempSync(join(tmpdir(), "omni-proxy-"));
  const logFile = join(dir, "methods.log");
  const child = spawn(
    process.execPath,
    ["--import", "tsx", join(ROOT, "test", "cli", "rpc-proxy.ts"), upstream, mode, logFile],
    { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] },
  );
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`rpc proxy did not start: ${stderr}`)), 30_000);
    child.stdout?.on("data", (d: Buffer) => {
      const m = /listening (\d+)/.exec(d.toString());
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once("exit", (code) => reject(new Error(`rpc proxy exited (${code}): ${stderr}`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    log: () => {
      try {
        return readFileSync(logFile, "utf8")
          .trimEnd()
          .split("\n")
          .filter((l) => l !== "");
      } catch {
        return [];
      }
    },
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
        process.kill(child.pid!, "SIGTERM");
        const timer = setTimeout(() => child.exitCode === null && process.kill(child.pid!, "SIGKILL"), 5_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
