import type { KeyRequestBody, ReleaseResponse, ShareRegistrationBody } from "./request.js";

/**
 * HTTP client of the custodian API (browser-safe: `fetch`). Every refusal of a custodian is
 * `{ error: { code, message } }` with a stable code (see `src/custodian/errors.ts`); this client
 * turns it into a `CustodianRefusal`. A custodian that cannot be reached is `UNREACHABLE`.
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

async function post<T>(url: string, path: string, body: unknown, timeoutMs: number): Promise<T> {
  let res: Response;
  try {
    res = await fetch(new URL(path, url), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    const e = err as { name?: string; cause?: { code?: string }; message?: string };
    const why = e.name === "TimeoutError" ? `no answer within ${timeoutMs} ms` : (e.cause?.code ?? e.message ?? "");
    throw new CustodianRefusal(url, "UNREACHABLE", `custodian ${url} cannot be reached (${why})`);
  }
  let reply: unknown;
  try {
    reply = await res.json();
  } catch {
    throw new CustodianRefusal(
      url,
      "BAD_RESPONSE",
      `custodian ${url} answered HTTP ${res.status} without JSON`,
      res.status,
    );
  }
  if (!res.ok) {
    const e = (reply as { error?: { code?: unknown; message?: unknown } }).error;
    throw new CustodianRefusal(
      url,
      typeof e?.code === "string" ? e.code : "BAD_RESPONSE",
      typeof e?.message === "string" ? e.message : `HTTP ${res.status}`,
      res.status,
    );
  }
  return reply as T;
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
  let res: Response;
  try {
    res = await fetch(new URL("/v1/info", url), { signal: AbortSignal.timeout(timeoutMs) });
  } catch {
    throw new CustodianRefusal(url, "UNREACHABLE", `custodian ${url} cannot be reached`);
  }
  return (await res.json()) as { publicKey: string; chainId: string; registry: string; confirmations: number };
}
