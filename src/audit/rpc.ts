/**
 * The auditor's one JSON-RPC client. It owns the whole request policy, so nothing else in
 * src/audit counts retries or sleeps:
 *
 * - every attempt is a FRESH request (plain `fetch`, no ethers provider underneath: ethers keeps
 *   a failed request's answer for 250 ms, so quick retries through it got the same cached error);
 * - transport failures (connection refused or reset, HTTP 5xx/429, a body that is not JSON, an
 *   attempt past `timeoutMs`) are retried at once with a short jittered backoff, up to `retries`;
 * - a request with no answer after `hedgeAfterMs` is HEDGED — the same request is sent again and
 *   the first answer wins, the others are aborted — so a stalled connection costs about one hedge
 *   delay, not the whole timeout. The delay adapts: 2 × the slowest recent answer of that method
 *   (a peak that decays by 10% per answer), 150 ms .. min(1.5 s, timeout / 2); a method not
 *   answered yet waits 2 × max(250 ms, the node's slowest recent answer). A mean instead of the
 *   peak hedged healthy answers that were merely larger or queued behind the next chunk's read
 *   (9 of 142 requests of a fault-free sync, each a second copy of a large eth_getLogs for the
 *   node to serialise), and the first eth_getLogs of a verify --rpc was hedged by the latency of
 *   small header reads;
 * - a JSON-RPC error answer is the node's word, never retried: it is thrown as an `RpcError`
 *   (with its code and message) for the caller to act on (a result cap narrows the range, a
 *   revert of isValidSignature means "invalid").
 *
 * Batches (one HTTP request, many calls) cut round trips for headers and transactions.
 * Besides an http(s) URL the client takes any object with `send(method, params)` (an ethers
 * JsonRpcProvider, Hardhat's in-process provider): then the policy is the transport's own.
 */

export interface RpcPolicy {
  /** Per-attempt timeout, ms. Default 10 s. */
  timeoutMs?: number;
  /** Failed attempts before a call gives up. Default 12. */
  retries?: number;
  /** Fixed hedge delay, ms; default adaptive (2 × the method's decayed peak latency, 150 ms .. min(1.5 s, timeout/2)). */
  hedgeAfterMs?: number;
  /** At most this many copies of one request in flight. Default 3. */
  maxHedges?: number;
}

/** Something that sends JSON-RPC requests itself (ethers JsonRpcProvider, Hardhat's provider). */
export interface RpcSender {
  send(method: string, params: unknown[]): Promise<unknown>;
}

export type RpcSource = string | RpcSender;

/** A JSON-RPC error answer: the node refused the request (not a transport failure). */
export class RpcError extends Error {
  constructor(
    readonly method: string,
    readonly code: number | undefined,
    readonly rpcMessage: string,
    readonly data?: unknown,
  ) {
    super(`${method}: ${rpcMessage}${code === undefined ? "" : ` (code ${code})`}`);
    this.name = "RpcError";
  }
}

/** A call that failed on the transport `retries` times. */
export class RpcTransportError extends Error {
  constructor(
    readonly method: string,
    readonly attempts: number,
    cause: unknown,
  ) {
    super(`${method} failed after ${attempts} attempts: ${errorMessage(cause)}`, { cause });
    this.name = "RpcTransportError";
  }
}

export interface RpcStats {
  calls: number;
  /** HTTP requests sent (attempts and hedges; a batch is one). */
  requests: number;
  retries: number;
  hedges: number;
  /** Attempts that failed on the transport. */
  transportErrors: number;
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message.split("\n")[0];
  return String(err);
}

interface JsonRpcReply {
  id?: number;
  result?: unknown;
  error?: { code?: number; message?: string; data?: unknown };
}

class Transient extends Error {}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class RpcClient {
  readonly stats: RpcStats = { calls: 0, requests: 0, retries: 0, hedges: 0, transportErrors: 0 };
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly maxHedges: number;
  /** Decayed peak latency per method ("batch:<method>" for batches) and over all ("*"), ms. */
  private readonly latency = new Map<string, number>();
  private readonly controllers = new Set<AbortController>();
  private nextId = 1;
  private closed = false;

  private constructor(
    private readonly source: RpcSource,
    private readonly policy: RpcPolicy,
    /** The chain id, read (with retries) when the client was opened. */
    readonly chainId: bigint,
  ) {
    this.timeoutMs = policy.timeoutMs ?? 10_000;
    this.retries = policy.retries ?? 12;
    this.maxHedges = Math.max(1, policy.maxHedges ?? 3);
  }

  /** Opens a client and reads the chain id through it (retried like any call). */
  static async open(source: RpcSource, policy: RpcPolicy = {}): Promise<RpcClient> {
    const probe = new RpcClient(source, policy, 0n);
    const id = await probe.call<string>("eth_chainId", []);
    if (typeof id !== "string" || !/^0x[0-9a-f]+$/i.test(id)) {
      throw new RpcError("eth_chainId", undefined, `answered ${JSON.stringify(id)}, not a chain id`);
    }
    return new RpcClient(source, policy, BigInt(id));
  }

  /** One JSON-RPC call under the policy; an error answer throws RpcError. */
  async call<T = unknown>(method: string, params: unknown[]): Promise<T> {
    this.stats.calls++;
    if (typeof this.source !== "string") return (await this.viaSender(method, params)) as T;
    const [reply] = await this.exchange(method, [{ method, params }]);
    return unwrap(method, reply) as T;
  }

  /**
   * Several calls in one HTTP request. Each result in order; an item the node answered with an
   * error is an RpcError in its place (the caller decides), transport failures retry the batch.
   */
  async batch(calls: { method: string; params: unknown[] }[]): Promise<(unknown | RpcError)[]> {
    if (calls.length === 0) return [];
    this.stats.calls += calls.length;
    if (typeof this.source !== "string") {
      return Promise.all(
        calls.map((c) =>
          this.viaSender(c.method, c.params).catch((err: unknown) => {
            if (err instanceof RpcError) return err;
            throw err;
          }),
        ),
      );
    }
    const label = calls.length === 1 ? calls[0].method : `batch of ${calls.length} (${calls[0].method}, …)`;
    const replies = await this.exchange(label, calls);
    return replies.map((r, i) => {
      try {
        return unwrap(calls[i].method, r);
      } catch (err) {
        return err as RpcError;
      }
    });
  }

  close(): void {
    this.closed = true;
    for (const c of this.controllers) c.abort();
    this.controllers.clear();
  }

  private async viaSender(method: string, params: unknown[]): Promise<unknown> {
    try {
      return await (this.source as RpcSender).send(method, params);
    } catch (err) {
      // ethers / Hardhat errors carry the node's JSON-RPC error as `error` or at the top level.
      const e = err as { code?: unknown; error?: { code?: number; message?: string; data?: unknown }; data?: unknown };
      const inner =
        e.error ??
        (typeof e.code === "number" ? { code: e.code, message: errorMessage(err), data: e.data } : undefined);
      if (inner) throw new RpcError(method, inner.code, inner.message ?? errorMessage(err), inner.data);
      throw err;
    }
  }

  /** Sends `calls` as one request (single or batch) until an answer comes: retries and hedges. */
  private async exchange(label: string, calls: { method: string; params: unknown[] }[]): Promise<JsonRpcReply[]> {
    const key = calls.length === 1 ? calls[0].method : `batch:${calls[0].method}`;
    let failures = 0;
    let lastError: unknown;
    while (true) {
      if (this.closed) throw new Error(`${label}: the RPC client was closed`);
      try {
        return await this.hedged(key, calls);
      } catch (err) {
        if (!(err instanceof Transient)) throw err;
        lastError = err.cause ?? err;
        failures += Number((err as Transient & { attempts?: number }).attempts ?? 1);
        if (failures >= this.retries) throw new RpcTransportError(label, failures, lastError);
        this.stats.retries++;
        await sleep(Math.min(500, 5 * 2 ** Math.min(failures, 7)) * (0.5 + Math.random()));
      }
    }
  }

  /**
   * One logical attempt: a request, plus hedged copies when it is slow. Resolves with the first
   * answer; rejects with Transient only when every copy failed on the transport.
   */
  private hedged(key: string, calls: { method: string; params: unknown[] }[]): Promise<JsonRpcReply[]> {
    const hedgeAfter =
      this.policy.hedgeAfterMs ??
      // A method not seen yet is judged by the node's slowest recent answer, and at least 250 ms.
      Math.min(
        this.timeoutMs / 2,
        1500,
        Math.max(150, 2 * (this.latency.get(key) ?? Math.max(250, this.latency.get("*") ?? 0))),
      );
    return new Promise((resolve, reject) => {
      const mine = new Set<AbortController>();
      let inFlight = 0;
      let launched = 0;
      let settled = false;
      let failed = 0;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const finish = () => {
        settled = true;
        if (timer) clearTimeout(timer);
        for (const c of mine) {
          c.abort();
          this.controllers.delete(c);
        }
      };
      const launch = (why: "first" | "hedge" | "retry") => {
        if (settled) return;
        launched++;
        inFlight++;
        if (why === "hedge") this.stats.hedges++;
        else if (why === "retry") this.stats.retries++;
        const ctl = new AbortController();
        mine.add(ctl);
        this.controllers.add(ctl);
        const started = performance.now();
        this.send(calls, ctl.signal).then(
          (replies) => {
            if (settled) return;
            const ms = performance.now() - started;
            // The decayed peak: the slowest recent answer, forgotten by 10% per answer.
            this.latency.set(key, Math.max(ms, (this.latency.get(key) ?? 0) * 0.9));
            this.latency.set("*", Math.max(ms, (this.latency.get("*") ?? 0) * 0.9));
            finish();
            resolve(replies);
          },
          (err: unknown) => {
            inFlight--;
            mine.delete(ctl);
            this.controllers.delete(ctl);
            if (settled) return;
            this.stats.transportErrors++;
            failed++;
            // A copy that failed fast (HTTP 500, reset) is replaced at once while hedges remain;
            // when the last one fails, copies still hanging are dropped and the call retries
            // afresh (waiting for them could cost the whole timeout).
            if (launched < this.maxHedges) {
              if (timer) clearTimeout(timer);
              launch("retry");
              return;
            }
            finish();
            const t = new Transient(errorMessage(err), { cause: err });
            (t as Transient & { attempts?: number }).attempts = failed;
            reject(t);
          },
        );
        if (launched < this.maxHedges) arm(performance.now() + hedgeAfter, 0);
      };
      // A timer that fires late fired after a long synchronous stretch (a store commit): the
      // answer may be sitting unread in the socket. Then the loop gets a short grace to read it
      // (at most 3 times) before a copy is sent, so only time the loop could listen counts.
      const arm = (due: number, graces: number) => {
        timer = setTimeout(
          () => {
            const late = performance.now() - due;
            if (late > 20 && graces < 3) arm(performance.now() + Math.max(25, hedgeAfter / 4), graces + 1);
            else launch("hedge");
          },
          Math.max(0, due - performance.now()),
        );
      };
      launch("first");
    });
  }

  /** One HTTP request; throws on any transport problem (the caller retries). */
  private async send(calls: { method: string; params: unknown[] }[], signal: AbortSignal): Promise<JsonRpcReply[]> {
    this.stats.requests++;
    const ids = calls.map(() => this.nextId++);
    const body =
      calls.length === 1
        ? JSON.stringify({ jsonrpc: "2.0", id: ids[0], method: calls[0].method, params: calls[0].params })
        : JSON.stringify(calls.map((c, i) => ({ jsonrpc: "2.0", id: ids[i], method: c.method, params: c.params })));
    const res = await fetch(this.source as string, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
      signal: AbortSignal.any([signal, AbortSignal.timeout(this.timeoutMs)]),
    });
    // The body is read whole and parsed natively (the node's text, not ethers' JS UTF-8 decoder).
    const text = await res.text();
    if (res.status >= 500 || res.status === 429) throw new Error(`HTTP ${res.status}`);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new Error(`HTTP ${res.status}: not JSON (${text.slice(0, 60)})`);
    }
    if (calls.length === 1) {
      if (Array.isArray(json) || typeof json !== "object" || json === null)
        throw new Error("malformed JSON-RPC answer");
      return [json as JsonRpcReply];
    }
    if (!Array.isArray(json)) {
      // A node that refuses batches answers with one error object: that is its word, not a fault.
      const one = json as JsonRpcReply;
      if (one?.error) return calls.map(() => one);
      throw new Error("malformed JSON-RPC batch answer");
    }
    const byId = new Map((json as JsonRpcReply[]).map((r) => [r.id, r]));
    return ids.map((id) => {
      const r = byId.get(id);
      if (!r) throw new Error(`JSON-RPC batch answer without id ${id}`);
      return r;
    });
  }
}

function unwrap(method: string, reply: JsonRpcReply): unknown {
  if (reply.error) {
    throw new RpcError(method, reply.error.code, reply.error.message ?? "error", reply.error.data);
  }
  return reply.result;
}

/** Opens a client for a URL or a sender; the chain id is read with retries. */
export function openRpc(source: RpcSource, policy: RpcPolicy = {}): Promise<RpcClient> {
  return RpcClient.open(source, policy);
}

/** A block number as a JSON-RPC quantity. */
export const quantity = (n: number | bigint) => `0x${n.toString(16)}`;
