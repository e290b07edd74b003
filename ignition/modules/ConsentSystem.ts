import { readFileSync } from "node:fs";

import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import { ZeroAddress } from "ethers";
import { z } from "zod";

import { initialPurposeMetadata } from "../../src/sdk/purposes.js";
import { addressSchema, bytes32Schema, parseInput, purposesSchema } from "../../src/sdk/validation.js";

/**
 * Deploys the consent system as one Ignition module, in one transaction: `ConsentSystemDeployer`
 * (`contracts/governance/ConsentSystemDeployer.sol`) creates the `ConsentAccessManager`, the
 * `IntegrationRegistry` and the `ConsentRegistry` in its constructor, registers the initial
 * integrations, routes every governed function to GOVERNOR_ROLE, gives `governor`, `guardian`
 * and `admin` their roles with `executionDelay`, sets every grant and target-admin delay, and
 * renounces its own bootstrap ADMIN_ROLE. From the deployment block on, no account holds an
 * instant power and every governed change waits `executionDelay` (the manager refuses any role
 * member with less). The module then only reads the three addresses back (`contractAt`, under
 * the ids `AccessManager`, `IntegrationRegistry`, `ConsentRegistry` that `loadDeployment` reads).
 *
 * Parameters (ignition/parameters/*.json, module "ConsentSystem"): `admin` (default: the
 * deploying account, which then holds ADMIN_ROLE only with the delay), `governor` (default: the
 * deploying account), `guardian` (default: none), `executionDelay` (seconds, ≥ 1, default 2
 * days). With `--strategy create2` the addresses depend only on the bytecode, these parameters
 * and the salt: the same parameters give the same addresses on every chain. Initial
 * integrations are module structure, not parameters (Ignition cannot loop over a parameter):
 * the default module reads them from the JSON file named by the environment variable
 * OMNI_INTEGRATIONS_FILE, or use {@link buildConsentSystemModule}.
 */

/** An integration registered at deployment. */
export interface InitialIntegration {
  address: string;
  metadataHash: string;
  /** Purpose ids or names, or a uint128 bitmap. */
  purposes: readonly (number | string)[] | bigint;
}

const MODULE_ID = "ConsentSystem";
const DEFAULT_EXECUTION_DELAY = 2n * 24n * 60n * 60n;

const integrationFileSchema = z.array(
  z.object({
    address: addressSchema,
    metadataHash: bytes32Schema,
    purposes: z.union([z.array(z.union([z.number(), z.string()])), z.string().regex(/^\d+$/)]),
  }),
);

/** Reads initial integrations from a JSON file: `[{ "address", "metadataHash", "purposes": [ids or names] }]`. */
export function readInitialIntegrations(file: string): InitialIntegration[] {
  const parsed = parseInput(integrationFileSchema, JSON.parse(readFileSync(file, "utf8")) as unknown, file);
  return parsed.map((i) => ({ ...i, purposes: typeof i.purposes === "string" ? BigInt(i.purposes) : i.purposes }));
}

/** The ConsentSystem module with `integrations` registered at deployment. */
export function buildConsentSystemModule(integrations: readonly InitialIntegration[] = []) {
  const initial = integrations.map((i, n) => ({
    address: parseInput(addressSchema, i.address, `integrations[${n}].address`),
    metadataHash: parseInput(bytes32Schema, i.metadataHash, `integrations[${n}].metadataHash`),
    purposes: parseInput(purposesSchema, i.purposes, `integrations[${n}].purposes`),
  }));

  return buildModule(MODULE_ID, (m) => {
    const admin = m.getParameter("admin", m.getAccount(0));
    const governor = m.getParameter("governor", m.getAccount(0));
    const guardian = m.getParameter("guardian", ZeroAddress);
    const executionDelay = m.getParameter("executionDelay", DEFAULT_EXECUTION_DELAY);

    const deployer = m.contract("ConsentSystemDeployer", [
      admin,
      governor,
      guardian,
      executionDelay,
      initialPurposeMetadata(),
      initial.map((i) => ({ integration: i.address, metadataHash: i.metadataHash, purposes: i.purposes })),
    ]);
    const manager = m.contractAt(
      "ConsentAccessManager",
      m.staticCall(deployer, "manager", [], 0, { id: "managerAddress" }),
      {
        id: "AccessManager",
      },
    );
    const integrationRegistry = m.contractAt(
      "IntegrationRegistry",
      m.staticCall(deployer, "integrations", [], 0, { id: "integrationsAddress" }),
      { id: "IntegrationRegistry" },
    );
    const consentRegistry = m.contractAt(
      "ConsentRegistry",
      m.staticCall(deployer, "registry", [], 0, { id: "registryAddress" }),
      { id: "ConsentRegistry" },
    );

    return { deployer, manager, integrationRegistry, consentRegistry };
  });
}

const integrationsFile = process.env.OMNI_INTEGRATIONS_FILE;

export default buildConsentSystemModule(
  integrationsFile === undefined || integrationsFile === "" ? [] : readInitialIntegrations(integrationsFile),
);
