import { FetchRequest, JsonRpcProvider, Network, type Provider } from "ethers";

/** A provider given by URL (we own it and destroy it) or an existing ethers Provider. */
export interface ProviderHandle {
  provider: Provider;
  chainId: bigint;
  close(): void;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Runs `fn` until it succeeds, with exponential backoff; rethrows after `retries` failures. */
export async function withRetry<T>(what: string, fn: () => Promise<T>, retries = 10): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= retries) {
        throw new Error(`${what} failed after ${attempt + 1} attempts: ${errorMessage(err)}`, { cause: err });
      }
      await sleep(Math.min(2000, 25 * 2 ** attempt));
    }
  }
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message.split("\n")[0];
  return String(err);
}

async function rawChainId(url: string, timeoutMs: number): Promise<bigint> {
  const req = new FetchRequest(url);
  req.timeout = timeoutMs;
  req.setHeader("content-type", "application/json");
  req.body = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] });
  const res = await req.send();
  res.assertOk();
  const body = res.bodyJson as { result?: string; error?: { message?: string } };
  if (typeof body.result !== "string") throw new Error(`eth_chainId: ${body.error?.message ?? "no result"}`);
  return BigInt(body.result);
}

/**
 * Opens a provider. For a URL, every request gets `timeoutMs` (a hung RPC must not stall a sync)
 * and the network is fixed after one eth_chainId, so ethers never loops on network detection.
 */
export async function openProvider(
  source: string | Provider,
  opts: { timeoutMs?: number; retries?: number } = {},
): Promise<ProviderHandle> {
  const retries = opts.retries ?? 10;
  if (typeof source !== "string") {
    const net = await withRetry("eth_chainId", () => source.getNetwork(), retries);
    return { provider: source, chainId: net.chainId, close: () => undefined };
  }
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const chainId = await withRetry("eth_chainId", () => rawChainId(source, timeoutMs), retries);
  const req = new FetchRequest(source);
  req.timeout = timeoutMs;
  const provider = new JsonRpcProvider(req, Network.from(chainId), { staticNetwork: true, batchMaxCount: 1 });
  return { provider, chainId, close: () => provider.destroy() };
}
