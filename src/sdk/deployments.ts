import { ConsentSdkError } from "./errors.js";
import { KNOWN_DEPLOYMENTS } from "./known-deployments.js";

export { KNOWN_DEPLOYMENTS } from "./known-deployments.js";

/** A deployment of the consent system on one chain, with the parameters it was deployed with. */
export interface KnownChainDeployment {
  name: string;
  parameters: { admin: string; governor: string; guardian: string; executionDelay: string };
  ConsentSystemDeployer: string;
  AccessManager: string;
  IntegrationRegistry: string;
  ConsentRegistry: string;
}

/** The addresses of one deployment of the consent system. */
export interface Deployment {
  chainId: bigint;
  AccessManager: string;
  IntegrationRegistry: string;
  ConsentRegistry: string;
}

/** The Ignition module that deploys the system (`ignition/modules/ConsentSystem.ts`). */
export const DEPLOYMENT_MODULE_ID = "ConsentSystem";

/** The chain ids the package knows a deployment of, ascending. */
export function knownChainIds(): bigint[] {
  return Object.keys(KNOWN_DEPLOYMENTS.chains)
    .map(BigInt)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * The deployment of the consent system on `chainId` that ships with the package
 * (`known-deployments.ts`, generated from an Ignition CREATE2 deploy by `npm run deployments`
 * and checked by `test/sdk/known-deployments.ts`), with its parameters. NOT_FOUND, naming the
 * chains it knows, where there is none.
 */
export function knownDeployment(chainId: bigint | number): Deployment & { entry: KnownChainDeployment } {
  const id = BigInt(chainId);
  const entry = (KNOWN_DEPLOYMENTS.chains as Record<string, KnownChainDeployment | undefined>)[id.toString()];
  if (entry === undefined) {
    const known = knownChainIds()
      .map((c) => `${c} (${(KNOWN_DEPLOYMENTS.chains as Record<string, KnownChainDeployment>)[c.toString()]!.name})`)
      .join(", ");
    throw new ConsentSdkError(
      "NOT_FOUND",
      `no known deployment of the consent system on chain ${id} (this package knows ${known}); give the registry's address explicitly, or read your own Ignition deployment with loadDeployment(chainId, { root })`,
    );
  }
  return {
    chainId: id,
    AccessManager: entry.AccessManager,
    IntegrationRegistry: entry.IntegrationRegistry,
    ConsentRegistry: entry.ConsentRegistry,
    entry,
  };
}

/**
 * The addresses of the consent system on `chainId`: by default the deployment that ships with
 * the package ({@link knownDeployment}; no filesystem needed). With `root`, the addresses
 * Ignition recorded in `<root>/ignition/deployments/chain-<id>/deployed_addresses.json` (future
 * ids `ConsentSystem#<Contract>`): a developer's own deployment. Throws ConsentSdkError
 * NOT_FOUND when there is no deployment, INVALID_INPUT when the file is damaged.
 */
export async function loadDeployment(chainId: bigint | number, opts: { root?: string } = {}): Promise<Deployment> {
  if (opts.root === undefined) {
    const { entry: _entry, ...deployment } = knownDeployment(chainId);
    return deployment;
  }
  // The file reader is Node-only (node:fs) and lives in ./ignition-files.ts (also exported as
  // `omnitensor-consent/node`). It is imported by a computed URL, which bundlers do not follow:
  // the SDK's main entry bundles for a browser with no Node module in the bundle (checked by
  // test/dashboard/bundle.ts); only this path, which needs a filesystem anyway, loads it.
  const reader = new URL("./ignition-files.js", import.meta.url).href;
  const { readIgnitionDeployment } = (await import(/* @vite-ignore */ reader)) as typeof import("./ignition-files.js");
  return readIgnitionDeployment(chainId, opts.root);
}
