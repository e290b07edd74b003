import { Agent, request } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";

/**
 * A small JSON-RPC client for the custodian: keep-alive connections and batch requests (the
 * consent checks and the use-record receipt of one key request travel in ONE HTTP request).
 * Any transport or node error becomes `RpcError`, which the custodian reports as
 * CHAIN_UNAVAILABLE and releases nothing.
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

export class RpcClient {
  private readonly url: URL;
  private readonly agent: Agent;
  private nextId = 1;

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

  /** Sends the calls as one batch; results in call order. Throws if any call failed. */
  async batch(calls: readonly RpcCall[]): Promise<unknown[]> {
    const first = this.nextId;
    this.nextId += calls.length;
    const body = JSON.stringify(
      calls.map((c, i) => ({ jsonrpc: "2.0", id: first + i, method: c.method, params: c.params })),
    );
    const reply = await this.post(body);
    const replies = (Array.isArray(reply) ? reply : [reply]) as RpcReply[];
    const byId = new Map(replies.map((r) => [r.id, r]));
    return calls.map((c, i) => {
      const r = byId.get(first + i);
      if (r === undefined) throw new RpcError(`the node did not answer ${c.method}`);
      if (r.error) throw new RpcError(`${c.method}: ${r.error.message}`);
      return r.result;
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
