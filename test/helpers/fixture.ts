import type { HardhatEthers, HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";

import { initialPurposeMetadata } from "../../src/sdk/purposes.js";
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
  const manager = (await ethers.deployContract("AccessManager", [admin.address])) as unknown as AccessManager;
  const integrations = (await ethers.deployContract("IntegrationRegistry", [
    await manager.getAddress(),
  ])) as unknown as IntegrationRegistry;
  const registry = (await ethers.deployContract("ConsentRegistryHarness", [
    await manager.getAddress(),
    await integrations.getAddress(),
    initialPurposeMetadata(),
  ])) as unknown as ConsentRegistryHarness;
  return { admin, accounts, manager, integrations, registry };
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
