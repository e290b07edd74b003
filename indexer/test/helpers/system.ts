import { rmSync } from "node:fs";
import { join } from "node:path";

import { id, JsonRpcProvider, type JsonRpcSigner } from "ethers";
import { network } from "hardhat";

import { buildConsentSystemModule } from "../../../ignition/modules/ConsentSystem.js";
import {
  ConsentAccessManager__factory,
  ConsentRegistry__factory,
  IntegrationRegistry__factory,
} from "../../../types/ethers-contracts/index.js";
import type {
  ConsentAccessManager,
  ConsentRegistry,
  IntegrationRegistry,
} from "../../../types/ethers-contracts/index.js";
import { type IndexedChain, type Node, ROOT, rpc } from "./processes.js";

/** CreateX's canonical address (the same on every chain that has it). */
export const CREATE_X = "0xba5Ed099633D3B313e4D5F7bdc1305d3c28ba5Ed";
/** Governance execution delay of the test deployments (seconds). */
export const DELAY = 60n;

/** The dev node's accounts, by role (the same mnemonic on every node: the same addresses). */
export interface Actors {
  governor: JsonRpcSigner;
  owners: JsonRpcSigner[];
  manager: JsonRpcSigner;
  processor: JsonRpcSigner;
  /** Registered as an integration at deployment (INFERENCE, THIRD_PARTY_SHARING). */
  partner: JsonRpcSigner;
  relayer: JsonRpcSigner;
  grantee: JsonRpcSigner;
  guardian: JsonRpcSigner;
  /** Registered through governance during the history. */
  partner2: JsonRpcSigner;
}

export interface System {
  node: Node;
  provider: JsonRpcProvider;
  actors: Actors;
  registry: ConsentRegistry;
  integrations: IntegrationRegistry;
  authority: ConsentAccessManager;
  /** The block of the deployment transaction (the indexers start there). */
  deployBlock: number;
  addresses: { registry: string; integrations: string; accessManager: string };
}

/** The chain as the indexer's configuration names it. */
export function indexedChain(s: System): IndexedChain {
  return { chainId: s.node.chainId, rpc: s.node.url, ...s.addresses, startBlock: s.deployBlock };
}

/**
 * Deploys the consent system on `node` with the project's Ignition module, `--strategy create2`
 * (CreateX), so every chain gets the same addresses. Ignition installs CreateX itself only on
 * chain 31337; elsewhere pass `createXCode` (its runtime code, read from a 31337 node) and it is
 * set at CreateX's address first, as every major chain has it. Ignition's journal for the
 * JSON-RPC network goes to a throwaway deployment id, deleted afterwards.
 */
export async function deploySystem(node: Node, createXCode?: string): Promise<System> {
  const provider = new JsonRpcProvider(node.url, undefined, { staticNetwork: true, pollingInterval: 50 });
  const accounts = (await provider.send("eth_accounts", [])) as string[];
  const signers = await Promise.all(accounts.slice(0, 11).map((a) => provider.getSigner(a)));
  const actors: Actors = {
    governor: signers[0],
    owners: [signers[1], signers[2], signers[3]],
    manager: signers[4],
    processor: signers[5],
    partner: signers[6],
    relayer: signers[7],
    grantee: signers[8],
    guardian: signers[9],
    partner2: signers[10],
  };
  if (createXCode !== undefined) await rpc(node.url, "hardhat_setCode", [CREATE_X, createXCode]);
  const connection = await network.create({ network: "localhost", override: { url: node.url } });
  const deploymentId = `indexer-test-${node.chainId}-${process.pid}-${Date.now()}`;
  try {
    const deployed = await connection.ignition.deploy(
      buildConsentSystemModule([
        { address: actors.partner.address, metadataHash: id("integration:partner"), purposes: ["INFERENCE", 6] },
      ]),
      {
        strategy: "create2",
        deploymentId,
        parameters: {
          ConsentSystem: {
            governor: actors.governor.address,
            guardian: actors.guardian.address,
            executionDelay: DELAY,
          },
        },
      },
    );
    const addresses = {
      registry: (await deployed.consentRegistry.getAddress()).toLowerCase(),
      integrations: (await deployed.integrationRegistry.getAddress()).toLowerCase(),
      accessManager: (await deployed.manager.getAddress()).toLowerCase(),
    };
    const registry = ConsentRegistry__factory.connect(addresses.registry, provider);
    // The deployment block: the one whose receipt created the registry (its first log).
    const logs = await provider.getLogs({ address: addresses.registry, fromBlock: 0, toBlock: "latest" });
    if (logs.length === 0) throw new Error("the registry emitted nothing at deployment");
    return {
      node,
      provider,
      actors,
      registry,
      integrations: IntegrationRegistry__factory.connect(addresses.integrations, provider),
      authority: ConsentAccessManager__factory.connect(addresses.accessManager, provider),
      deployBlock: logs[0].blockNumber,
      addresses,
    };
  } finally {
    await connection.close();
    rmSync(join(ROOT, "ignition", "deployments", deploymentId), { recursive: true, force: true });
  }
}

/**
 * Mines `n` empty blocks, one evm_mine each: `hardhat_mine` reserves blocks whose parent hashes
 * are not linked (a block in the middle names 0x00… as its parent), which Ponder rightly takes
 * for a reorg below its finalized block.
 */
export async function mine(node: Node, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await rpc(node.url, "evm_mine");
}

export async function head(node: Node): Promise<number> {
  return Number(await rpc<string>(node.url, "eth_blockNumber"));
}
