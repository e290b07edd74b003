import { spawnSync } from "node:child_process";
import { join } from "node:path";

import { type JsonRpcProvider, id as keccakId } from "ethers";

import { deployConsentSystem } from "../../../src/sdk/deploy.js";
import { ConsentRegistry__factory } from "../../../types/ethers-contracts/index.js";
import { factoryDeployer } from "../../helpers/fixture.js";
import { ROOT } from "./chain.js";

/**
 * The SDK's deployConsentSystem (direct wiring: plain AccessManager, admin without delay) from
 * account 0, whose first three transactions create AccessManager, IntegrationRegistry and
 * ConsentRegistry (so every node gets the same addresses); registers `partner` (account 4) for
 * every purpose.
 */
export async function deployOn(provider: JsonRpcProvider) {
  const [admin, , , , partner] = await Promise.all([0, 1, 2, 3, 4].map((i) => provider.getSigner(i)));
  const system = await deployConsentSystem(admin, {
    direct: {},
    deployContract: factoryDeployer(admin),
    integrations: [{ address: partner.address, metadataHash: keccakId("partner"), purposes: 0xffn }],
  });
  const reg = ConsentRegistry__factory.connect(system.ConsentRegistry, admin);
  return { reg, addresses: [system.ConsentRegistry, system.IntegrationRegistry, system.AccessManager] };
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
