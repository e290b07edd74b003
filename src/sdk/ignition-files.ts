import { readFile } from "node:fs/promises";
import { join } from "node:path";

import { DEPLOYMENT_MODULE_ID, type Deployment } from "./deployments.js";
import { ConsentSdkError } from "./errors.js";
import { addressSchema, parseInput } from "./validation.js";

/**
 * Node only: the addresses Ignition recorded in
 * `<root>/ignition/deployments/chain-<id>/deployed_addresses.json` (future ids
 * `ConsentSystem#<Contract>`): a developer's own deployment. `loadDeployment(chainId, { root })`
 * of the main entry loads this module when asked for a root; `omnitensor-consent/node` exports
 * it directly. Throws ConsentSdkError NOT_FOUND when there is no deployment, INVALID_INPUT when
 * the file is damaged.
 */
const CONTRACTS = ["AccessManager", "IntegrationRegistry", "ConsentRegistry"] as const;

export async function readIgnitionDeployment(chainId: bigint | number, root: string): Promise<Deployment> {
  const id = BigInt(chainId);
  const file = join(root, "ignition", "deployments", `chain-${id}`, "deployed_addresses.json");
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
