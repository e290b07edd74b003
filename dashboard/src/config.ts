import { knownDeployment } from "../../src/sdk/deployments.js";
import type { Watched } from "./source/types.js";

/**
 * What the page talks to: `config.json` beside it (written by `npm run dashboard`), overridden by
 * the address bar (`?rpc=…&registry=…&indexer=…`). Without addresses, the deployment this
 * package ships for the chain (`known-deployments.ts`) is used.
 */
export interface DashboardConfig {
  /** The node for local mode and for reads when no wallet is connected. */
  rpc: string;
  /** The chain the deployment is on: a wallet on another chain is told so. */
  chainId?: number;
  registry?: string;
  integrations?: string;
  authority?: string;
  fromBlock?: number;
  /** The indexer's API (Ponder, issue 12); absent: the chain's logs through the RPC. */
  indexer?: string;
  /** The network's name in the indexer's ponder.config.ts, when it indexes several chains. */
  indexerNetwork?: string;
  /** Where integration documents are served (`<hash>.json`). */
  documents?: string;
  /** Local mode at once with this dev-node account (tests, demos). */
  account?: string;
  /** A block explorer's transaction URL prefix ("https://etherscan.io/tx/"): history links there. */
  explorer?: string;
}

export async function loadConfig(): Promise<DashboardConfig> {
  let file: Partial<DashboardConfig> = {};
  try {
    const res = await fetch("./config.json", { cache: "no-store" });
    if (res.ok) file = (await res.json()) as Partial<DashboardConfig>;
  } catch {
    // no config.json: defaults and the address bar
  }
  const q = new URLSearchParams(location.search);
  const pick = (k: keyof DashboardConfig) => q.get(k) ?? (file[k] === undefined ? undefined : String(file[k]));
  const num = (v: string | undefined) => (v === undefined || v === "" ? undefined : Number(v));
  return {
    rpc: pick("rpc") ?? "http://127.0.0.1:8545",
    chainId: num(pick("chainId")),
    registry: pick("registry"),
    integrations: pick("integrations"),
    authority: pick("authority"),
    fromBlock: num(pick("fromBlock")),
    indexer: pick("indexer") || undefined,
    indexerNetwork: pick("indexerNetwork") || undefined,
    documents: pick("documents") ?? "./documents",
    account: pick("account"),
    explorer: pick("explorer") || undefined,
  };
}

/** The contracts to read on `chainId`: the configured ones, else the shipped deployment. */
export function watchedFor(cfg: DashboardConfig, chainId: number): Watched {
  if (cfg.registry && cfg.integrations && cfg.authority) {
    return {
      chainId,
      registry: cfg.registry,
      integrations: cfg.integrations,
      authority: cfg.authority,
      fromBlock: cfg.fromBlock,
    };
  }
  const d = knownDeployment(chainId);
  return {
    chainId,
    registry: d.ConsentRegistry,
    integrations: d.IntegrationRegistry,
    authority: d.AccessManager,
    fromBlock: cfg.fromBlock,
  };
}
