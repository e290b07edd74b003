import { type ChildProcess, spawn } from "node:child_process";
import { createServer as createNetServer } from "node:net";
import { fileURLToPath } from "node:url";

import type { FaultPlan, ProxyCounts, ReorgTrigger } from "./rpc-proxy.js";

/** A free TCP port on 127.0.0.1 (bind to 0, read it, close). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createNetServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

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

/**
 * Starts `hardhat node` on 127.0.0.1:<free port>; stop it with `stop()` (kills its pid). Retried:
 * the node reads the build info at start, which a concurrent `hardhat build` may be rewriting.
 * `initialDate` fixes the genesis time (see node.config.ts).
 */
export async function startHardhatNode(
  opts: { initialDate?: string } = {},
): Promise<{ url: string; child: ChildProcess; stop: () => void }> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(opts.initialDate);
    } catch (err) {
      if (attempt >= 4) throw err;
      await new Promise((r) => setTimeout(r, 3000));
    }
  }
}

async function startOnce(initialDate?: string): Promise<{ url: string; child: ChildProcess; stop: () => void }> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      `${ROOT}node_modules/hardhat/dist/src/cli.js`,
      "--config",
      `${ROOT}test/audit/helpers/node.config.ts`,
      "node",
      "--hostname",
      "127.0.0.1",
      "--port",
      String(port),
    ],
    {
      cwd: ROOT,
      stdio: ["ignore", "ignore", "pipe"],
      env: { ...process.env, OMNI_AUDIT_NODE_DATE: initialDate ?? "" },
    },
  );
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`hardhat node exited with ${child.exitCode}: ${stderr}`);
    if (await rpcOk(url)) return { url, child, stop: () => void child.kill("SIGTERM") };
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill("SIGTERM");
  throw new Error(`hardhat node did not answer on ${url}: ${stderr}`);
}

export type { FaultPlan, ProxyCounts, ReorgTrigger } from "./rpc-proxy.js";

export interface RpcProxy {
  url: string;
  /** The proxy's counters (requests, faults injected, reorgs forced). */
  counts(): Promise<ProxyCounts>;
  /** Replaces the fault plan. */
  setPlan(plan: FaultPlan): Promise<void>;
  /** Arms a reorg at a point of the next chunk above `trigger.afterBlock`. */
  arm(trigger: ReorgTrigger): Promise<void>;
  /** Forces the armed reorg now (answers when the new branch is in place). */
  reorgNow(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Starts the JSON-RPC proxy (helpers/rpc-proxy.ts) as its own process on 127.0.0.1 at a free
 * port in front of `target`, with a fault plan (seeded, reproducible); `close()` kills its pid.
 */
export async function startRpcProxy(
  target: string,
  plan: FaultPlan = { error500: 0, hang: 0, maxLogRange: Number.MAX_SAFE_INTEGER },
  seed = 7,
): Promise<RpcProxy> {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", `${ROOT}test/audit/helpers/rpc-proxy.ts`, target, String(seed)],
    { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] },
  );
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    let out = "";
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /PORT (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.on("exit", (code) => reject(new Error(`rpc proxy exited with ${code}: ${stderr}`)));
  });
  const url = `http://127.0.0.1:${port}`;
  const control = async (op: object) => {
    const res = await fetch(`${url}/__control`, { method: "POST", body: JSON.stringify(op) });
    return (await res.json()) as ProxyCounts;
  };
  await control({ op: "plan", plan });
  return {
    url,
    counts: () => control({ op: "counts" }),
    setPlan: async (p) => void (await control({ op: "plan", plan: p })),
    arm: async (trigger) => void (await control({ op: "arm", trigger })),
    reorgNow: async () => void (await control({ op: "reorg" })),
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}

/** The fault-injecting proxy of the fault tests (same process model as startRpcProxy). */
export const startFaultProxy = startRpcProxy;

/** The error a promise rejects with (fails the test when it resolves). */
export async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error("expected a rejection, but the promise resolved");
}
