import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import { JsonRpcProvider } from "ethers";
import type { JsonRpcSigner } from "ethers";

import { initialPurposeMetadata } from "../../../src/sdk/purposes.js";
import {
  AccessManager__factory,
  ConsentRegistry__factory,
  IntegrationRegistry__factory,
} from "../../../types/ethers-contracts/index.js";
import type { ConsentRegistry } from "../../../types/ethers-contracts/index.js";

/**
 * Processes of the key-release tests, each on a free port of 127.0.0.1 and stopped by its pid:
 * a `hardhat node` (or anvil, for the benchmark's lighter node), and custodians started the way
 * `omni-consent custodian start` runs them (src/custodian/main.ts through tsx; the benchmark runs
 * the compiled dist/ under plain node, as the published CLI does).
 */

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const HARDHAT_CLI = join(ROOT, "node_modules", "hardhat", "dist", "src", "cli.js");
/** The anvil binary of the `@foundry-rs/anvil` package (its platform package ships it; it runs offline). */
const ANVIL = join(ROOT, "node_modules", "@foundry-rs", "anvil-linux-amd64", "bin", "anvil");
const CUSTODIAN_MAIN = join(ROOT, "src", "custodian", "main.ts");
/** The compiled custodian (`npx tsc -p tsconfig.build.json`), what `omni-consent custodian start` runs. */
const CUSTODIAN_DIST = join(ROOT, "dist", "src", "custodian", "main.js");
export const PASSPHRASE = "test passphrase, not secret";

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

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface Proc {
  child: ChildProcess;
  pid: number;
  output: () => string;
  /** SIGTERM, then SIGKILL after 5 s; resolves when the process exited. */
  stop(): Promise<void>;
  /** SIGKILL now. */
  kill(): Promise<void>;
}

function track(child: ChildProcess): Proc {
  let log = "";
  child.stdout?.on("data", (d: Buffer) => (log = (log + d.toString()).slice(-20_000)));
  child.stderr?.on("data", (d: Buffer) => (log = (log + d.toString()).slice(-20_000)));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const alive = () => child.exitCode === null && child.signalCode === null;
  return {
    child,
    pid: child.pid!,
    output: () => log,
    async stop() {
      if (!alive()) return;
      process.kill(child.pid!, "SIGTERM");
      const t = setTimeout(() => alive() && process.kill(child.pid!, "SIGKILL"), 5_000);
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

async function rpcOk(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
    });
    return res.ok;
  } catch {
    return false;
  }
}

/** Which dev node: `hardhat node` (EDR, in Node) or anvil (Foundry's, native); both chain 31337, same accounts. */
export type NodeKind = "hardhat" | "anvil";

export async function startNode(kind: NodeKind = "hardhat"): Promise<Proc & { url: string; kind: NodeKind }> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const child =
      kind === "anvil"
        ? spawn(ANVIL, ["--host", "127.0.0.1", "--port", String(port), "--silent"], {
            cwd: ROOT,
            stdio: ["ignore", "pipe", "pipe"],
          })
        : spawn(
            process.execPath,
            [
              HARDHAT_CLI,
              "--config",
              join(ROOT, "test", "custodian", "helpers", "node.config.ts"),
              "node",
              "--hostname",
              "127.0.0.1",
              "--port",
              String(port),
            ],
            { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] },
          );
    const p = track(child);
    const url = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 600; i++) {
      if (child.exitCode !== null) break;
      if (await rpcOk(url)) return { ...p, url, kind };
      await sleep(100);
    }
    await p.stop();
    if (attempt >= 3) throw new Error(`${kind === "anvil" ? "anvil" : "hardhat node"} did not start: ${p.output()}`);
  }
}

export interface Chain {
  url: string;
  provider: JsonRpcProvider;
  chainId: bigint;
  signers: JsonRpcSigner[];
  registry: ConsentRegistry;
  registryAddress: string;
  mine(blocks: number): Promise<void>;
  blockNumber(): Promise<number>;
}

/** Deploys AccessManager, IntegrationRegistry and ConsentRegistry (the real contracts) on `url`. */
export async function deployRegistry(url: string): Promise<Chain> {
  const provider = new JsonRpcProvider(url, undefined, { staticNetwork: true, polling: true, pollingInterval: 50 });
  const signers = await Promise.all(Array.from({ length: 10 }, (_, i) => provider.getSigner(i)));
  const admin = signers[0];
  const manager = await (await new AccessManager__factory(admin).deploy(admin.address)).waitForDeployment();
  const integrations = await (
    await new IntegrationRegistry__factory(admin).deploy(await manager.getAddress())
  ).waitForDeployment();
  const registry = await (
    await new ConsentRegistry__factory(admin).deploy(
      await manager.getAddress(),
      await integrations.getAddress(),
      initialPurposeMetadata(),
    )
  ).waitForDeployment();
  const chainId = (await provider.getNetwork()).chainId;
  return {
    url,
    provider,
    chainId,
    signers,
    registry: registry as unknown as ConsentRegistry,
    registryAddress: await registry.getAddress(),
    // evm_mine one block at a time: EDR's hardhat_mine leaves "reserved" blocks whose eth_call answers "0x".
    mine: async (blocks) => {
      for (let i = 0; i < blocks; i++) await provider.send("evm_mine", []);
    },
    blockNumber: () => provider.getBlockNumber(),
  };
}

/** Runs `custodian keygen`; returns the public key. */
export async function keygen(keyPath: string): Promise<string> {
  const { code, stdout, stderr } = await runCustodianCommand(["keygen", "--key", keyPath]);
  if (code !== 0) throw new Error(`keygen failed: ${stderr}`);
  return (JSON.parse(stdout) as { publicKey: string }).publicKey;
}

export function runCustodianCommand(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return runScript(CUSTODIAN_MAIN, args, env);
}

/** Runs a TypeScript entry point through tsx with a reduced environment; collects its output. */
export function runScript(
  script: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", script, ...args], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? "",
        HOME: process.env.HOME ?? "",
        OMNI_CUSTODIAN_PASSPHRASE: PASSPHRASE,
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

export interface CustodianProc extends Proc {
  url: string;
  port: number;
  db: string;
  key: string;
  publicKey: string;
}

export interface CustodianSpec {
  dir: string;
  name: string;
  rpc: string;
  registry: string;
  confirmations?: number;
  port?: number;
  publicKey?: string;
  extraArgs?: string[];
  /** Node.js options before the script (e.g. `--cpu-prof`, for a profile of the benchmark's load). */
  nodeArgs?: string[];
  /** Run dist/ under plain node (as the published CLI runs) instead of src/ through tsx. */
  compiled?: boolean;
}

/** Starts (or restarts, same db/key/port) a custodian process; resolves when /v1/health answers. */
export async function startCustodian(spec: CustodianSpec): Promise<CustodianProc> {
  const key = join(spec.dir, `${spec.name}.key.json`);
  const db = join(spec.dir, `${spec.name}.db`);
  const publicKey = spec.publicKey ?? (await keygen(key));
  const port = spec.port ?? (await freePort());
  const child = spawn(
    process.execPath,
    [
      ...(spec.nodeArgs ?? []),
      ...(spec.compiled ? [CUSTODIAN_DIST] : ["--import", "tsx", CUSTODIAN_MAIN]),
      "start",
      "--port",
      String(port),
      "--db",
      db,
      "--key",
      key,
      "--rpc",
      spec.rpc,
      "--registry",
      spec.registry,
      "--confirmations",
      String(spec.confirmations ?? 0),
      "--log-level",
      "warn",
      ...(spec.extraArgs ?? []),
    ],
    {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", OMNI_CUSTODIAN_PASSPHRASE: PASSPHRASE },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  const p = track(child);
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`custodian ${spec.name} exited: ${p.output()}`);
    try {
      const res = await fetch(`${url}/v1/health`);
      if (res.ok) return { ...p, url, port, db, key, publicKey };
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  await p.stop();
  throw new Error(`custodian ${spec.name} did not start: ${p.output()}`);
}
