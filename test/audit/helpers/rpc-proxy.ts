// A JSON-RPC proxy in its own process, on 127.0.0.1 at a free port, in front of a node: it
// injects faults (HTTP 500s, stalls, "block range too large", result caps, latency) and forces
// reorgs at chosen points of a sync chunk's life. Started and stopped by pid from
// helpers/chain.ts (`startRpcProxy`); driven over POST /__control.
//
// Usage: node --import tsx rpc-proxy.ts <upstreamUrl> <seed>   (prints "PORT <n>" when listening)
// Mocha loads every file under test/, so this only runs when it is the entry point.
import { realpathSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { fileURLToPath } from "node:url";

export interface FaultPlan {
  /** Probability of answering HTTP 500. */
  error500: number;
  /** Probability of a stall: no answer for `stallMs` (then the real answer), or never when 0. */
  hang: number;
  /** eth_getLogs over more than this many blocks fails with "block range too large". */
  maxLogRange: number;
  /** eth_getLogs answers with more logs than this fail with "query returned more than N results". */
  maxResults?: number;
  /** How long a stall lasts, ms (0 = forever). Default 0. */
  stallMs?: number;
  /** Extra latency per request, ms. */
  delayMs?: number;
}

/** Where in a chunk's life the reorg is forced (sync reads: end header, logs, one header batch, write). */
export type ReorgPoint = "before-logs" | "between-logs-and-headers" | "after-headers";

export interface ReorgTrigger {
  point: ReorgPoint;
  /** Fires on the first eth_getLogs whose fromBlock is above this block. */
  afterBlock: number;
  /** The calls that replace the chain (evm_revert to a snapshot, the new branch's transactions, mining). */
  calls: { method: string; params: unknown[] }[];
}

export interface ProxyCounts {
  requests: number;
  error500: number;
  hang: number;
  rangeErrors: number;
  resultCapErrors: number;
  reorgs: number;
  getLogs: number;
}

interface RpcMessage {
  id: number;
  method: string;
  params: { fromBlock?: string; toBlock?: string }[];
}

async function main(upstream: string, seed: number): Promise<void> {
  let s = seed >>> 0;
  const rnd = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
  let plan: FaultPlan = { error500: 0, hang: 0, maxLogRange: Number.MAX_SAFE_INTEGER };
  let trigger: ReorgTrigger | undefined;
  let armedLogsSeen = false;
  const counts: ProxyCounts = {
    requests: 0,
    error500: 0,
    hang: 0,
    rangeErrors: 0,
    resultCapErrors: 0,
    reorgs: 0,
    getLogs: 0,
  };
  const hung = new Set<ServerResponse>();

  const forward = async (body: string): Promise<string> => {
    const res = await fetch(upstream, { method: "POST", headers: { "content-type": "application/json" }, body });
    return res.text();
  };
  const reorg = async (calls: ReorgTrigger["calls"]) => {
    for (const c of calls) {
      const answer = JSON.parse(await forward(JSON.stringify({ jsonrpc: "2.0", id: 1, ...c }))) as { error?: unknown };
      if (answer.error) throw new Error(`reorg call ${c.method} failed: ${JSON.stringify(answer.error)}`);
    }
    counts.reorgs++;
  };
  const reply = (res: ServerResponse, status: number, text: string) =>
    res.writeHead(status, { "content-type": "application/json" }).end(text);

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString();
      void (async () => {
        if (req.url === "/__control") {
          const op = JSON.parse(body) as { op: string; plan?: FaultPlan; trigger?: ReorgTrigger };
          if (op.op === "plan") plan = op.plan!;
          else if (op.op === "arm") {
            trigger = op.trigger;
            armedLogsSeen = false;
          } else if (op.op === "reorg") {
            const t = trigger;
            trigger = undefined;
            if (t) await reorg(t.calls);
          }
          reply(res, 200, JSON.stringify(counts));
          return;
        }
        counts.requests++;
        if (plan.delayMs) await new Promise((r) => setTimeout(r, plan.delayMs));
        const roll = rnd();
        if (roll < plan.error500) {
          counts.error500++;
          res.writeHead(500).end("internal error");
          return;
        }
        if (roll < plan.error500 + plan.hang) {
          counts.hang++;
          hung.add(res);
          res.on("close", () => hung.delete(res));
          if (!plan.stallMs) return;
          await new Promise((r) => setTimeout(r, plan.stallMs));
        }
        const msg = JSON.parse(body) as RpcMessage | RpcMessage[];
        const one = Array.isArray(msg) ? undefined : msg;
        let fireAfter = false;
        if (one?.method === "eth_getLogs") {
          counts.getLogs++;
          const p = one.params[0];
          if (Number(p.toBlock) - Number(p.fromBlock) + 1 > plan.maxLogRange) {
            counts.rangeErrors++;
            reply(
              res,
              200,
              JSON.stringify({ jsonrpc: "2.0", id: one.id, error: { code: -32005, message: "block range too large" } }),
            );
            return;
          }
          if (trigger && trigger.point !== "after-headers" && Number(p.fromBlock) > trigger.afterBlock) {
            const t = trigger;
            trigger = undefined;
            if (t.point === "before-logs") await reorg(t.calls);
            else fireAfter = true;
            if (fireAfter) trigger = t;
          } else if (trigger?.point === "after-headers" && Number(p.fromBlock) > trigger.afterBlock) {
            armedLogsSeen = true;
          }
        } else if (
          armedLogsSeen &&
          trigger?.point === "after-headers" &&
          Array.isArray(msg) &&
          msg.some((m) => m.method === "eth_getBlockByNumber")
        ) {
          fireAfter = true;
        }
        let text: string;
        try {
          text = await forward(body);
        } catch {
          res.writeHead(502).end();
          return;
        }
        if (one?.method === "eth_getLogs" && plan.maxResults !== undefined) {
          const answer = JSON.parse(text) as { result?: unknown[] };
          if (Array.isArray(answer.result) && answer.result.length > plan.maxResults) {
            counts.resultCapErrors++;
            text = JSON.stringify({
              jsonrpc: "2.0",
              id: one.id,
              error: { code: -32005, message: `query returned more than ${plan.maxResults} results` },
            });
          }
        }
        if (fireAfter && trigger) {
          const t = trigger;
          trigger = undefined;
          await reorg(t.calls);
        }
        if (!res.destroyed) reply(res, 200, text);
      })().catch((err: unknown) => {
        process.stderr.write(`rpc-proxy: ${String(err)}\n`);
        if (!res.headersSent) res.writeHead(502).end();
      });
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const addr = server.address();
  process.stdout.write(`PORT ${typeof addr === "object" && addr ? addr.port : 0}\n`);
  process.on("SIGTERM", () => {
    for (const r of hung) r.destroy();
    server.closeAllConnections();
    server.close(() => process.exit(0));
  });
}

const entry = process.argv[1] !== undefined && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url);
if (entry) await main(process.argv[2], Number(process.argv[3] ?? 7));
