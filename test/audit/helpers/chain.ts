import { type ChildProcess, spawn } from "node:child_process";
import { createServer, type IncomingMessage, request as httpRequest, type ServerResponse } from "node:http";
import { createServer as createNetServer } from "node:net";
import { fileURLToPath } from "node:url";

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

export interface FaultPlan {
  /** Probability of answering HTTP 500. */
  error500: number;
  /** Probability of never answering (the client must time out). */
  hang: number;
  /** eth_getLogs over more than this many blocks fails with "block range too large". */
  maxLogRange: number;
  /** Extra latency per request, ms. */
  delayMs?: number;
}

export interface FaultProxy {
  url: string;
  counts: { requests: number; error500: number; hang: number; rangeErrors: number };
  plan: FaultPlan;
  close(): Promise<void>;
}

/** An HTTP JSON-RPC proxy that injects faults in front of `target` (seeded, reproducible). */
export async function startFaultProxy(target: string, plan: FaultPlan, seed = 7): Promise<FaultProxy> {
  let s = seed >>> 0;
  const rnd = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
  const counts = { requests: 0, error500: 0, hang: 0, rangeErrors: 0 };
  const hung: ServerResponse[] = [];
  const t = new URL(target);
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", async () => {
      counts.requests++;
      const body = Buffer.concat(chunks).toString();
      if (plan.delayMs) await new Promise((r) => setTimeout(r, plan.delayMs));
      const roll = rnd();
      if (roll < plan.error500) {
        counts.error500++;
        res.writeHead(500).end("internal error");
        return;
      }
      if (roll < plan.error500 + plan.hang) {
        counts.hang++;
        hung.push(res);
        return;
      }
      const msg = JSON.parse(body) as {
        id: number;
        method: string;
        params: { fromBlock?: string; toBlock?: string }[];
      };
      if (msg.method === "eth_getLogs") {
        const p = msg.params[0];
        if (Number(p.toBlock) - Number(p.fromBlock) + 1 > plan.maxLogRange) {
          counts.rangeErrors++;
          res
            .writeHead(200, { "content-type": "application/json" })
            .end(
              JSON.stringify({ jsonrpc: "2.0", id: msg.id, error: { code: -32005, message: "block range too large" } }),
            );
          return;
        }
      }
      const up = httpRequest(
        { host: t.hostname, port: t.port, path: "/", method: "POST", headers: { "content-type": "application/json" } },
        (upRes) => {
          res.writeHead(upRes.statusCode ?? 502, { "content-type": "application/json" });
          upRes.pipe(res);
        },
      );
      up.on("error", () => res.writeHead(502).end());
      up.end(body);
    });
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${port}`,
    counts,
    plan,
    close: () =>
      new Promise<void>((resolve) => {
        for (const r of hung) r.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The error a promise rejects with (fails the test when it resolves). */
export async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error("expected a rejection, but the promise resolved");
}
