import type { HardhatEthers, HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";

import type { ContractFactory, Signer } from "ethers";

import { deployConsentSystem } from "../../src/sdk/deploy.js";
import type { ContractDeployer } from "../../src/sdk/deploy.js";
import type { Deployment } from "../../src/sdk/deployments.js";
import * as bindings from "../../types/ethers-contracts/index.js";
import type { AccessManager, ConsentRegistryHarness, IntegrationRegistry } from "../../types/ethers-contracts/index.js";

export interface System {
  admin: HardhatEthersSigner;
  accounts: HardhatEthersSigner[];
  manager: AccessManager;
  integrations: IntegrationRegistry;
  registry: ConsentRegistryHarness;
}

/**
 * Deploys AccessManager (admin = first signer, no delay), IntegrationRegistry and the registry
 * harness (settable clock) with the initial purpose catalogue. `accounts` are the other signers.
 */
export async function deploySystem(ethers: HardhatEthers): Promise<System> {
  const [admin, ...accounts] = await ethers.getSigners();
  // The SDK's one deployConsentSystem, wired directly (test-only), from the build's artifacts.
  const { contracts } = await deployConsentSystem(admin, {
    direct: { registryContract: "ConsentRegistryHarness" },
    deployContract: (name, args) => ethers.deployContract(name, [...args]),
  });
  return {
    admin,
    accounts,
    manager: contracts.accessManager as unknown as AccessManager,
    integrations: contracts.integrations as unknown as IntegrationRegistry,
    registry: contracts.registry as unknown as ConsentRegistryHarness,
  };
}

/** A consent as a comparable tuple: [purposes, expiresAt, epoch, version, active]. */
export async function consentOf(
  registry: ConsentRegistryHarness,
  owner: string,
  grantee: string,
  dataId: string,
): Promise<[bigint, bigint, bigint, bigint, boolean]> {
  const c = await registry.getConsent(owner, grantee, dataId);
  return [c.purposes, c.expiresAt, c.epoch, c.version, c.active];
}

/**
 * A ContractDeployer over the TypeChain factories of this build (every contract, test-only ones
 * included), for a signer of any provider (e.g. a JSON-RPC node): what `deployConsentSystem`
 * needs for the direct wiring outside Hardhat's in-process network.
 */
export function factoryDeployer(signer: Signer): ContractDeployer {
  return async (name, args) => {
    const Factory = (bindings as unknown as Record<string, (new (s: Signer) => ContractFactory) | undefined>)[
      `${name}__factory`
    ];
    if (Factory === undefined) throw new Error(`no TypeChain factory for ${name}`);
    return (await new Factory(signer).deploy(...args)).waitForDeployment();
  };
}

/** The direct (test) wiring of {@link deploySystem} over any signer; returns the addresses. */
export async function deployDirect(signer: Signer): Promise<Deployment> {
  const { chainId, AccessManager, IntegrationRegistry, ConsentRegistry } = await deployConsentSystem(signer, {
    direct: {},
    deployContract: factoryDeployer(signer),
  });
  return { chainId, AccessManager, IntegrationRegistry, ConsentRegistry };
}
