import { CID } from "multiformats/cid";

import { DocumentSourceError } from "./resolve.js";
import type { DocumentSource } from "./resolve.js";

/**
 * Documents over HTTP(S) (browser-safe: the platform's `fetch`): `<base>/<hash>.json` from a
 * web server or an IPFS gateway. A 404 or 410 means the document is missing; any other answer
 * that is not 2xx, a timeout, or a body over `maxBytes` means the source could not say.
 */
export interface HttpSourceOptions {
  /** Give up after this long, headers and body included (default 5000 ms). */
  timeoutMs?: number;
  /** Refuse a body larger than this (default 256 KiB; documents are a few KiB). */
  maxBytes?: number;
  /** The fetch to use (default: globalThis.fetch). */
  fetch?: typeof fetch;
}

const DEFAULT_TIMEOUT_MS = 5000;
const DEFAULT_MAX_BYTES = 256 * 1024;

async function readCapped(response: Response, maxBytes: number): Promise<string> {
  const declared = Number(response.headers.get("content-length") ?? NaN);
  if (declared > maxBytes) throw new DocumentSourceError(`the answer is ${declared} bytes, more than ${maxBytes}`);
  if (!response.body) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw new DocumentSourceError(`the answer is more than ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.length;
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new DocumentSourceError("the answer is not UTF-8 text");
  }
}

/** A source at `baseUrl` (http or https): the document of hash H is `<baseUrl>/H.json`. */
export function httpDocumentSource(baseUrl: string, opts: HttpSourceOptions = {}): DocumentSource {
  let base: URL;
  try {
    base = new URL(baseUrl.endsWith("/") ? baseUrl : `${baseUrl}/`);
  } catch {
    throw new TypeError(`not a URL: "${baseUrl.slice(0, 200)}"`);
  }
  if (base.protocol !== "http:" && base.protocol !== "https:") {
    throw new TypeError(`${baseUrl}: a document source URL is http or https (for IPFS, a gateway's https URL)`);
  }
  if (base.search || base.hash) throw new TypeError(`${baseUrl}: a document source URL has no query or fragment`);
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  const doFetch = opts.fetch ?? globalThis.fetch;
  const description = base.href;
  return {
    description,
    async fetchText(fileName: string): Promise<string | null> {
      const url = new URL(fileName, base);
      const signal = AbortSignal.timeout(timeoutMs);
      try {
        const response = await doFetch(url, { signal, redirect: "follow", headers: { accept: "application/json" } });
        if (response.status === 404 || response.status === 410) {
          await response.body?.cancel().catch(() => undefined);
          return null;
        }
        if (!response.ok) {
          await response.body?.cancel().catch(() => undefined);
          throw new DocumentSourceError(`${url.href} answered HTTP ${response.status}`);
        }
        return await readCapped(response, maxBytes);
      } catch (err) {
        if (err instanceof DocumentSourceError) throw err;
        if (signal.aborted) throw new DocumentSourceError(`${url.href} timed out after ${timeoutMs} ms`);
        const cause = (err as { cause?: { code?: string; message?: string } }).cause;
        throw new DocumentSourceError(`${url.href} unreachable (${cause?.code ?? cause?.message ?? String(err)})`);
      }
    },
  };
}

/**
 * Documents published as one IPFS directory (each file `<hash>.json`), read through an HTTP
 * gateway in path form: `<gateway>/ipfs/<directoryCid>/<hash>.json`. The content is checked by
 * its keccak hash whatever the gateway does, so a dishonest gateway can withhold a document
 * but not change one.
 */
export function ipfsGatewaySource(gateway: string, directoryCid: string, opts: HttpSourceOptions = {}): DocumentSource {
  let cid: CID;
  try {
    cid = CID.parse(directoryCid);
  } catch {
    throw new TypeError(`not a CID: "${directoryCid.slice(0, 100)}"`);
  }
  const root = gateway.endsWith("/") ? gateway.slice(0, -1) : gateway;
  return httpDocumentSource(`${root}/ipfs/${cid.toString()}/`, opts);
}
