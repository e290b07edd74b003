import { readFileSync } from "node:fs";

import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import { z } from "zod";

import { GOVERNOR_ROLE, governedSelectors } from "../../src/sdk/governance.js";
import { initialPurposeMetadata } from "../../src/sdk/purposes.js";
import { addressSchema, bytes32Schema, parseInput, purposesSchema } from "../../src/sdk/validation.js";

/**
 * Deploys the consent system and wires its governance, as one Ignition module:
 *
 * 1. `AccessManager(admin)`, `IntegrationRegistry(manager)`,
 *    `ConsentRegistry(manager, integrations, initialPurposeMetadata())`;
 * 2. the initial integrations, registered directly by the admin *before* governance is wired
 *    (a fresh AccessManager lets ADMIN_ROLE call every restricted function with no delay);
 * 3. `configureGovernance` (src/sdk/governance.ts) as Ignition calls, in the same order: every
 *    governed selector → GOVERNOR_ROLE, the governor joins GOVERNOR_ROLE with `executionDelay`,
 *    and the same delay becomes GOVERNOR_ROLE's grant delay and both targets' admin delay.
 *
 * The calls are sent by the deploying account, so `admin` must be that account (the default);
 * hand ADMIN_ROLE to a multisig afterwards (see docs/DEPLOY.md). With `--strategy create2` the
 * addresses depend only on the bytecode, the constructor arguments and the salt, so the same
 * admin gives the same addresses on every chain.
 *
 * Parameters (ignition/parameters/*.json, module "ConsentSystem"): `admin` (default: the
 * deploying account), `governor` (default: the deploying account), `executionDelay` (seconds,
 * default 2 days). Initial integrations are module structure, not parameters (Ignition cannot
 * loop over a parameter): the default module reads them from the JSON file named by the
 * environment variable OMNI_INTEGRATIONS_FILE, or use {@link buildConsentSystemModule}.
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
    const executionDelay = m.getParameter("executionDelay", DEFAULT_EXECUTION_DELAY);

    const manager = m.contract("AccessManager", [admin]);
    const integrationRegistry = m.contract("IntegrationRegistry", [manager]);
    const consentRegistry = m.contract("ConsentRegistry", [manager, integrationRegistry, initialPurposeMetadata()]);

    const registered = initial.map((i) =>
      m.call(integrationRegistry, "registerIntegration", [i.address, i.metadataHash, i.purposes], {
        id: `registerIntegration_${i.address}`,
      }),
    );

    // configureGovernance, step by step (same order, same values).
    const restrictRegistry = m.call(
      manager,
      "setTargetFunctionRole",
      [consentRegistry, governedSelectors("registry"), GOVERNOR_ROLE],
      { id: "governRegistry" },
    );
    const restrictIntegrations = m.call(
      manager,
      "setTargetFunctionRole",
      [integrationRegistry, governedSelectors("integrations"), GOVERNOR_ROLE],
      { id: "governIntegrations", after: registered },
    );
    const label = m.call(manager, "labelRole", [GOVERNOR_ROLE, "GOVERNOR"], { id: "labelGovernor" });
    const grant = m.call(manager, "grantRole", [GOVERNOR_ROLE, governor, executionDelay], {
      id: "grantGovernor",
      after: [restrictRegistry, restrictIntegrations, label],
    });
    const grantDelay = m.call(manager, "setGrantDelay", [GOVERNOR_ROLE, executionDelay], {
      id: "governorGrantDelay",
      after: [grant],
    });
    m.call(manager, "setTargetAdminDelay", [consentRegistry, executionDelay], {
      id: "registryAdminDelay",
      after: [grantDelay],
    });
    m.call(manager, "setTargetAdminDelay", [integrationRegistry, executionDelay], {
      id: "integrationsAdminDelay",
      after: [grantDelay],
    });

    return { manager, integrationRegistry, consentRegistry };
  });
}

const integrationsFile = process.env.OMNI_INTEGRATIONS_FILE;

export default buildConsentSystemModule(
  integrationsFile === undefined || integrationsFile === "" ? [] : readInitialIntegrations(integrationsFile),
);
