import { writeFileSync } from "node:fs";

import hre, { network } from "hardhat";
import { format, resolveConfig } from "prettier";

import { KNOWN_DEPLOYMENTS } from "../src/sdk/known-deployments.js";
import { KNOWN_DEPLOYMENTS_FILE, deployLocal, knownDeploymentsSource } from "./lib/local-deployment.js";

/**
 * `npm run deployments`: regenerates `src/sdk/known-deployments.ts`, the addresses the package
 * ships. The local dev chain's entry (31337) is deployed afresh with Ignition in-process, as
 * `npm run deploy:node` does it; entries of other chains (real deployments, added by hand after
 * `ignition deploy --strategy create2`, see docs/DEPLOY.md) are kept as they are. Run it after
 * any change to the contracts, the compiler settings or the salt: each moves the addresses.
 */
const salt = (hre.config.ignition.strategyConfig?.create2 as { salt?: string } | undefined)?.salt;
if (salt === undefined) throw new Error("hardhat.config.ts sets no ignition.strategyConfig.create2.salt");
const local = await deployLocal(await network.create({ override: { chainId: 31337 } }));
const chains = { ...KNOWN_DEPLOYMENTS.chains, "31337": local };
const style = (await resolveConfig(KNOWN_DEPLOYMENTS_FILE)) ?? {};
writeFileSync(
  KNOWN_DEPLOYMENTS_FILE,
  await format(knownDeploymentsSource(salt, chains), { ...style, filepath: KNOWN_DEPLOYMENTS_FILE }),
);
console.log(`wrote ${KNOWN_DEPLOYMENTS_FILE}: chain 31337 ConsentRegistry ${local.ConsentRegistry}`);
