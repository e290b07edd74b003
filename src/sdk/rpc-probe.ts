import { ConsentSdkError } from "./errors.js";

/**
 * The raw chain-id probe: one `eth_chainId` POST with a short timeout, before any provider is
 * built, so a dead or wrong endpoint fails fast and in words instead of ethers retrying network
 * detection forever. Uses only `fetch` (Node 18+, browsers).
 */

/** Why a probe failed: no answer at all, or an answer that is not a chain id. */
export type ProbeFailure = "unreachable" | "not-json-rpc";

export interface ChainIdProbeOptions {
  /** Milliseconds to wait for the answer (default 10 s). */
  timeoutMs?: number;
}

interface RpcReply {
  result?: unknown;
  error?: { message?: unknown };
}

/**
 * The chain id `url` answers. Throws ConsentSdkError RPC_UNREACHABLE when nothing answers
 * (`cannot reach the RPC endpoint <url> (<reason>)`, the reason being `timed out` or the
 * system's code such as ECONNREFUSED), and INVALID_INPUT when the answer is no chain id (`the
 * RPC endpoint <url> did not answer eth_chainId (is it an Ethereum JSON-RPC node?)`); `probe`
 * on the error says which.
 */
export async function probeChainId(url: string, opts: ChainIdProbeOptions = {}): Promise<bigint> {
  let reply: RpcReply;
  try {
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
      signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000),
    });
    reply = (await res.json()) as RpcReply;
  } catch (err) {
    const e = err as { name?: string; cause?: { code?: string }; message?: string };
    const reason = e.name === "TimeoutError" ? "timed out" : (e.cause?.code ?? e.message ?? String(err));
    throw Object.assign(
      new ConsentSdkError("RPC_UNREACHABLE", `cannot reach the RPC endpoint ${url} (${reason})`, { cause: err }),
      { probe: "unreachable" as ProbeFailure },
    );
  }
  if (typeof reply.result !== "string" || !/^0x[0-9a-f]+$/i.test(reply.result)) {
    throw Object.assign(
      new ConsentSdkError(
        "INVALID_INPUT",
        `the RPC endpoint ${url} did not answer eth_chainId (is it an Ethereum JSON-RPC node?)`,
      ),
      { probe: "not-json-rpc" as ProbeFailure },
    );
  }
  return BigInt(reply.result);
}
