import { spawnSync } from "node:child_process";
import { join } from "node:path";

import { type JsonRpcProvider, id as keccakId } from "ethers";

import { initialPurposeMetadata } from "../../../src/sdk/purposes.js";
import {
  AccessManager__factory,
  ConsentRegistry__factory,
  IntegrationRegistry__factory,
} from "../../../types/ethers-contracts/index.js";
import { ROOT } from "./chain.js";

/**
 * Deploys AccessManager, IntegrationRegistry and ConsentRegistry from account 0 as its first three
 * transactions (so every node gets the same addresses), registers `partner` as an integration.
 */
export async function deployOn(provider: JsonRpcProvider) {
  const [admin, , , , partner] = await Promise.all([0, 1, 2, 3, 4].map((i) => provider.getSigner(i)));
  const manager = await (await new AccessManager__factory(admin).deploy(admin.address)).waitForDeployment();
  const integrations = await (
    await new IntegrationRegistry__factory(admin).deploy(await manager.getAddress())
  ).waitForDeployment();
  const reg = await (
    await new ConsentRegistry__factory(admin).deploy(
      await manager.getAddress(),
      await integrations.getAddress(),
      initialPurposeMetadata(),
    )
  ).waitForDeployment();
  await (await integrations.registerIntegration(partner.address, keccakId("partner"), 0xffn)).wait();
  return { reg, addresses: [await reg.getAddress(), await integrations.getAddress(), await manager.getAddress()] };
}

/** Runs the CLI (`omni-consent … audit <args> --db <dbPath>`) as a user does. */
export function auditCli(rpc: string, registry: string, dbPath: string, ...args: string[]) {
  return spawnSync(
    process.execPath,
    [
      "--import",
      "tsx",
      join(ROOT, "src/cli/main.ts"),
      "--rpc",
      rpc,
      "--registry",
      registry,
      "audit",
      ...args,
      "--db",
      dbPath,
    ],
    { cwd: ROOT, encoding: "utf8", env: { ...process.env, OMNI_RPC_URL: "", OMNI_REGISTRY: "" } },
  );
}
