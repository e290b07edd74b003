import { ConsentSdkError } from "./errors.js";
import { addressSchema, parseInput } from "./validation.js";

/** The addresses of one deployment of the consent system. */
export interface Deployment {
  chainId: bigint;
  AccessManager: string;
  IntegrationRegistry: string;
  ConsentRegistry: string;
}

/** The Ignition module that deploys the system (`ignition/modules/ConsentSystem.ts`). */
export const DEPLOYMENT_MODULE_ID = "ConsentSystem";

const CONTRACTS = ["AccessManager", "IntegrationRegistry", "ConsentRegistry"] as const;

/**
 * The addresses Ignition recorded for `chainId` in
 * `<root>/ignition/deployments/chain-<id>/deployed_addresses.json` (future ids
 * `ConsentSystem#<Contract>`). `root` defaults to the current directory. Throws
 * ConsentSdkError NOT_FOUND when there is no deployment, INVALID_INPUT when the file is damaged.
 */
export async function loadDeployment(chainId: bigint | number, opts: { root?: string } = {}): Promise<Deployment> {
  // Node's fs is loaded here, not at the top: the SDK's main entry imports no `node:` module, so
  // it also loads where there is no filesystem (a browser); only this function needs one.
  const [{ readFile }, { join }] = await Promise.all([import("node:fs/promises"), import("node:path")]);
  const id = BigInt(chainId);
  const file = join(opts.root ?? process.cwd(), "ignition", "deployments", `chain-${id}`, "deployed_addresses.json");
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch {
    throw new ConsentSdkError(
      "NOT_FOUND",
      `no deployment for chain ${id}; deploy to a local node with \`npx hardhat node\` then \`npm run deploy:node\``,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ConsentSdkError("INVALID_INPUT", `${file}: not valid JSON; redeploy or restore the file`);
  }
  const record = (json ?? {}) as Record<string, unknown>;
  const out: Partial<Deployment> = { chainId: id };
  for (const name of CONTRACTS) {
    const key = `${DEPLOYMENT_MODULE_ID}#${name}`;
    if (record[key] === undefined) {
      throw new ConsentSdkError(
        "NOT_FOUND",
        `no deployment for chain ${id}: ${file} has no "${key}"; deploy to a local node with \`npx hardhat node\` then \`npm run deploy:node\``,
      );
    }
    out[name] = parseInput(addressSchema, record[key], `${file} "${key}"`);
  }
  return out as Deployment;
}
