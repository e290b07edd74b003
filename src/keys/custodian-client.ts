import type { KeyRequestBody, ReleaseResponse, ShareRegistrationBody } from "./request.js";

/**
 * HTTP client of the custodian API. Every refusal of a custodian is `{ error: { code, message } }`
 * with a stable code (see `src/custodian/errors.ts`); this client turns it into a
 * `CustodianRefusal`. A custodian that cannot be reached is `UNREACHABLE`.
 *
 * Browser-safe: `fetch` everywhere, except in Node, where `node:http(s)` with a keep-alive agent
 * is loaded by a dynamic import (as `platform.ts` loads `node:crypto`). Measured here: Node's
 * `fetch` costs ~0.39 ms of CPU a request, `http.request` ~0.08; an open makes k requests.
 */

export class CustodianRefusal extends Error {
  constructor(
    readonly url: string,
    readonly code: string,
    message: string,
    readonly status?: number,
  ) {
    super(`${code}: ${message}`);
    this.name = "CustodianRefusal";
  }
}

interface Answer {
  status: number;
  ok: boolean;
  /** The body parsed as JSON; throws when it is not JSON. */
  json(): unknown;
}

type Transport = (url: URL, body: string | undefined, timeoutMs: number) => Promise<Answer>;

class TransportError extends Error {
  constructor(readonly why: string) {
    super(why);
  }
}

const fetchTransport: Transport = async (url, body, timeoutMs) => {
  let res: Response;
  try {
    res = await fetch(url, {
      method: body === undefined ? "GET" : "POST",
      ...(body === undefined ? {} : { headers: { "content-type": "application/json" }, body }),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    const e = err as { name?: string; cause?: { code?: string }; message?: string };
    throw new TransportError(
      e.name === "TimeoutError" ? `no answer within ${timeoutMs} ms` : (e.cause?.code ?? e.message ?? ""),
    );
  }
  const text = await res.text().catch(() => "");
  return { status: res.status, ok: res.ok, json: () => JSON.parse(text) as unknown };
};

interface NodeHttp {
  Agent: new (o: { keepAlive: boolean; maxSockets: number }) => object;
  request(
    url: URL,
    o: { method: string; agent: object; headers: Record<string, string | number>; timeout: number },
    cb: (res: {
      statusCode?: number;
      on(ev: "data", f: (c: Uint8Array) => void): void;
      on(ev: "end" | "error", f: (e?: Error) => void): void;
    }) => void,
  ): {
    on(ev: "timeout", f: () => void): void;
    on(ev: "error", f: (e: Error & { code?: string }) => void): void;
    destroy(e: Error): void;
    end(body?: string): void;
  };
}

let nodeTransport: Promise<Transport | undefined> | undefined;

/** Node's http(s) with keep-alive (idle sockets do not keep a process alive), or undefined elsewhere. */
function loadNodeTransport(): Promise<Transport | undefined> {
  return (nodeTransport ??= (async () => {
    const isNode =
      typeof process !== "undefined" &&
      typeof (process as { versions?: { node?: string } }).versions?.node === "string";
    if (!isNode) return undefined;
    // Specifiers in variables: bundlers for the browser leave these imports alone.
    const httpSpecifier = "node:http";
    const httpsSpecifier = "node:https";
    const [http, https] = (await Promise.all([import(httpSpecifier), import(httpsSpecifier)])) as [NodeHttp, NodeHttp];
    const agents = {
      "http:": new http.Agent({ keepAlive: true, maxSockets: 64 }),
      "https:": new https.Agent({ keepAlive: true, maxSockets: 64 }),
    };
    return (url, body, timeoutMs) =>
      new Promise<Answer>((resolve, reject) => {
        const https_ = url.protocol === "https:";
        const req = (https_ ? https : http).request(
          url,
          {
            method: body === undefined ? "GET" : "POST",
            agent: https_ ? agents["https:"] : agents["http:"],
            headers:
              body === undefined
                ? {}
                : { "content-type": "application/json", "content-length": new TextEncoder().encode(body).length },
            timeout: timeoutMs,
          },
          (res) => {
            const decoder = new TextDecoder();
            let text = "";
            res.on("data", (c) => (text += decoder.decode(c, { stream: true })));
            res.on("error", (e) => reject(new TransportError(e?.message ?? "connection lost")));
            res.on("end", () => {
              text += decoder.decode();
              const status = res.statusCode ?? 0;
              resolve({ status, ok: status >= 200 && status < 300, json: () => JSON.parse(text) as unknown });
            });
          },
        );
        req.on("timeout", () => req.destroy(new TransportError(`no answer within ${timeoutMs} ms`)));
        req.on("error", (e) => reject(e instanceof TransportError ? e : new TransportError(e.code ?? e.message)));
        req.end(body);
      });
  })());
}

async function send(url: string, path: string, body: unknown, timeoutMs: number): Promise<unknown> {
  const transport = (await loadNodeTransport()) ?? fetchTransport;
  let res: Answer;
  try {
    res = await transport(new URL(path, url), body === undefined ? undefined : JSON.stringify(body), timeoutMs);
  } catch (err) {
    const why = err instanceof TransportError ? err.why : String(err);
    throw new CustodianRefusal(url, "UNREACHABLE", `custodian ${url} cannot be reached (${why})`);
  }
  let reply: unknown;
  try {
    reply = res.json();
  } catch {
    throw new CustodianRefusal(
      url,
      "BAD_RESPONSE",
      `custodian ${url} answered HTTP ${res.status} without JSON`,
      res.status,
    );
  }
  if (!res.ok) {
    const e = (reply as { error?: { code?: unknown; message?: unknown } } | null)?.error;
    throw new CustodianRefusal(
      url,
      typeof e?.code === "string" ? e.code : "BAD_RESPONSE",
      typeof e?.message === "string" ? e.message : `HTTP ${res.status}`,
      res.status,
    );
  }
  return reply;
}

async function post<T>(url: string, path: string, body: unknown, timeoutMs: number): Promise<T> {
  return (await send(url, path, body, timeoutMs)) as T;
}

/** Asks one custodian for its share. */
export function requestShare(url: string, body: KeyRequestBody, timeoutMs = 5_000): Promise<ReleaseResponse> {
  return post<ReleaseResponse>(url, "/v1/release", body, timeoutMs);
}

/** Registers one share with its custodian. */
export function registerShare(
  url: string,
  body: ShareRegistrationBody,
  timeoutMs = 10_000,
): Promise<{ registered: boolean; publicKey: string }> {
  return post(url, "/v1/shares", body, timeoutMs);
}

/** The custodian's identity (its public key, chain and registry). */
export async function custodianInfo(
  url: string,
  timeoutMs = 5_000,
): Promise<{ publicKey: string; chainId: string; registry: string; confirmations: number }> {
  return (await send(url, "/v1/info", undefined, timeoutMs)) as {
    publicKey: string;
    chainId: string;
    registry: string;
    confirmations: number;
  };
}
