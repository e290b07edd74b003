import { Agent, request } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";

/**
 * A small JSON-RPC client for the custodian: keep-alive connections and batch requests (the
 * consent checks and the use-record receipt of one key request travel in ONE HTTP request).
 * Any transport or node error becomes `RpcError`, which the custodian reports as
 * CHAIN_UNAVAILABLE and releases nothing.
 *
 * Batches asked for in the same turn of the event loop travel together: they are queued and
 * sent at the next `setImmediate` as ONE JSON-RPC batch (at most `MAX_CALLS_PER_REQUEST` calls),
 * and each caller gets the answers to its own calls, matched by id. Under load that is one HTTP
 * round trip for several key requests' checks instead of one each (measured in BENCHMARKS.md);
 * nothing is shared but the envelope: every call is still asked and answered, a caller's own
 * missing or failed answer fails only that caller, and a transport failure fails every caller
 * of that request (none of them releases).
 */

export class RpcError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RpcError";
  }
}

export interface RpcCall {
  method: string;
  params: unknown[];
}

interface RpcReply {
  id: number;
  result?: unknown;
  error?: { code: number; message: string };
}

/** Calls of one HTTP request at most: providers cap batches (commonly at 100 to 1,000 calls). */
export const MAX_CALLS_PER_REQUEST = 100;

interface Queued {
  calls: readonly RpcCall[];
  first: number;
  resolve: (results: unknown[]) => void;
  reject: (err: unknown) => void;
}

export class RpcClient {
  private readonly url: URL;
  private readonly agent: Agent;
  private nextId = 1;
  private queue: Queued[] = [];
  private queuedCalls = 0;
  private scheduled = false;
  /** HTTP requests sent (each carrying one or more callers' batches). */
  requests = 0;

  constructor(
    url: string,
    private readonly timeoutMs = 5_000,
  ) {
    this.url = new URL(url);
    this.agent =
      this.url.protocol === "https:"
        ? new HttpsAgent({ keepAlive: true, maxSockets: 32 })
        : new Agent({ keepAlive: true, maxSockets: 32 });
  }

  private post(body: string): Promise<unknown> {
    const send = this.url.protocol === "https:" ? httpsRequest : request;
    return new Promise((resolve, reject) => {
      const req = send(
        this.url,
        {
          method: "POST",
          agent: this.agent,
          headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
          timeout: this.timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            if (res.statusCode !== 200) return reject(new RpcError(`HTTP ${res.statusCode} from the node`));
            try {
              resolve(JSON.parse(text));
            } catch {
              reject(new RpcError("the node answered with invalid JSON"));
            }
          });
          res.on("error", (e) => reject(new RpcError(e.message)));
        },
      );
      req.on("timeout", () => req.destroy(new RpcError(`no answer from the node within ${this.timeoutMs} ms`)));
      req.on("error", (e) => reject(e instanceof RpcError ? e : new RpcError(e.message)));
      req.end(body);
    });
  }

  async call<T = unknown>(method: string, params: unknown[]): Promise<T> {
    const [r] = await this.batch([{ method, params }]);
    return r as T;
  }

  /**
   * Asks the calls as one batch (sent with the other batches of this turn of the event loop);
   * results in call order. Throws if any of these calls failed.
   */
  batch(calls: readonly RpcCall[]): Promise<unknown[]> {
    if (calls.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      const first = this.nextId;
      this.nextId += calls.length;
      if (this.queuedCalls + calls.length > MAX_CALLS_PER_REQUEST) this.flush();
      this.queue.push({ calls, first, resolve, reject });
      this.queuedCalls += calls.length;
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Sends what is queued as one HTTP request and hands each caller its own answers. */
  private flush(): void {
    const group = this.queue;
    this.queue = [];
    this.queuedCalls = 0;
    this.scheduled = false;
    if (group.length === 0) return;
    const body = JSON.stringify(
      group.flatMap((q) =>
        q.calls.map((c, i) => ({ jsonrpc: "2.0", id: q.first + i, method: c.method, params: c.params })),
      ),
    );
    this.requests++;
    this.post(body).then(
      (reply) => {
        const replies = (Array.isArray(reply) ? reply : [reply]) as RpcReply[];
        const byId = new Map(replies.map((r) => [r?.id, r]));
        for (const q of group) {
          try {
            q.resolve(
              q.calls.map((c, i) => {
                const r = byId.get(q.first + i);
                if (r === undefined) throw new RpcError(`the node did not answer ${c.method}`);
                if (r.error) throw new RpcError(`${c.method}: ${r.error.message}`);
                return r.result;
              }),
            );
          } catch (err) {
            q.reject(err);
          }
        }
      },
      (err: unknown) => {
        for (const q of group) q.reject(err);
      },
    );
  }

  close(): void {
    this.agent.destroy();
  }
}
