import { readFileSync } from "node:fs";

/**
 * Which chains the indexer follows: any number, each with its RPC URL, the three contract
 * addresses and the block to start from. Read from the environment when Ponder loads
 * ponder.config.ts:
 *
 * - `OMNI_INDEXER_CHAINS`: the JSON below, inline; or
 * - `OMNI_INDEXER_CONFIG`: the path of a file holding it.
 *
 * ```json
 * { "chains": [
 *   { "chainId": 31337, "rpc": "http://127.0.0.1:8545",
 *     "registry": "0x…", "integrations": "0x…", "accessManager": "0x…", "startBlock": 0 } ] }
 * ```
 *
 * Optional per chain: `name` (Ponder's network name; default `chain<id>`),
 * `pollingIntervalMs` (default 1000) and `maxRequestsPerSecond` (default 50). A bare array is
 * accepted for `chains`. With `--strategy create2` the addresses are the same on every chain,
 * but each chain still names them: a chain can hold another deployment.
 *
 * Every mistake is refused with one message naming the field, before Ponder starts.
 */
export interface ChainConfig {
  name: string;
  chainId: number;
  rpc: string;
  registry: `0x${string}`;
  integrations: `0x${string}`;
  accessManager: `0x${string}`;
  startBlock: number;
  pollingIntervalMs: number;
  maxRequestsPerSecond: number;
}

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const NAME = /^[A-Za-z][A-Za-z0-9_]*$/;
const KNOWN = new Set([
  "name",
  "chainId",
  "rpc",
  "registry",
  "integrations",
  "accessManager",
  "startBlock",
  "pollingIntervalMs",
  "maxRequestsPerSecond",
]);

function fail(where: string, what: string): never {
  throw new Error(`indexer config: ${where}: ${what}`);
}

function int(v: unknown, where: string, min: number): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min) fail(where, `expected an integer >= ${min}`);
  return v;
}

function address(v: unknown, where: string): `0x${string}` {
  if (typeof v !== "string" || !ADDRESS.test(v)) fail(where, "expected a 0x-prefixed 20-byte hex address");
  return v.toLowerCase() as `0x${string}`;
}

/** Parses and checks the chains configuration (the JSON above). */
export function parseChains(json: unknown, source = "configuration"): ChainConfig[] {
  const list = Array.isArray(json) ? json : (json as { chains?: unknown } | null)?.chains;
  if (!Array.isArray(list) || list.length === 0) fail(source, 'expected { "chains": [ … ] } with at least one chain');
  const chains = list.map((raw, i): ChainConfig => {
    const at = `chains[${i}]`;
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) fail(at, "expected an object");
    const c = raw as Record<string, unknown>;
    for (const key of Object.keys(c)) if (!KNOWN.has(key)) fail(`${at}.${key}`, "unknown field");
    const chainId = int(c.chainId, `${at}.chainId`, 1);
    if (typeof c.rpc !== "string" || !/^https?:\/\/.+/.test(c.rpc)) fail(`${at}.rpc`, "expected an http(s) URL");
    const name = c.name === undefined ? `chain${chainId}` : c.name;
    if (typeof name !== "string" || !NAME.test(name)) fail(`${at}.name`, "expected a name of letters, digits and _");
    return {
      name,
      chainId,
      rpc: c.rpc,
      registry: address(c.registry, `${at}.registry`),
      integrations: address(c.integrations, `${at}.integrations`),
      accessManager: address(c.accessManager, `${at}.accessManager`),
      startBlock: c.startBlock === undefined ? 0 : int(c.startBlock, `${at}.startBlock`, 0),
      pollingIntervalMs:
        c.pollingIntervalMs === undefined ? 1000 : int(c.pollingIntervalMs, `${at}.pollingIntervalMs`, 10),
      maxRequestsPerSecond:
        c.maxRequestsPerSecond === undefined ? 50 : int(c.maxRequestsPerSecond, `${at}.maxRequestsPerSecond`, 1),
    };
  });
  const seen = new Map<string, number>();
  for (const [i, c] of chains.entries()) {
    for (const key of [`id:${c.chainId}`, `name:${c.name}`]) {
      const before = seen.get(key);
      if (before !== undefined) fail(`chains[${i}]`, `same ${key.split(":")[0]} as chains[${before}]`);
      seen.set(key, i);
    }
  }
  return chains;
}

/** The chains of OMNI_INDEXER_CHAINS or OMNI_INDEXER_CONFIG (exactly one of them must be set). */
export function chainsFromEnv(env: NodeJS.ProcessEnv = process.env): ChainConfig[] {
  const inline = env.OMNI_INDEXER_CHAINS;
  const file = env.OMNI_INDEXER_CONFIG;
  if (inline && file) fail("environment", "set OMNI_INDEXER_CHAINS or OMNI_INDEXER_CONFIG, not both");
  if (!inline && !file) fail("environment", "set OMNI_INDEXER_CHAINS (JSON) or OMNI_INDEXER_CONFIG (a JSON file)");
  const [source, text] = inline ? ["OMNI_INDEXER_CHAINS", inline] : [file!, readFileSync(file!, "utf8")];
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    fail(source, `not JSON (${(err as Error).message})`);
  }
  return parseChains(json, source);
}
