import { createConfig } from "ponder";
import { http } from "viem";

import { ConsentAccessManagerAbi } from "./abis/ConsentAccessManager";
import { ConsentRegistryAbi } from "./abis/ConsentRegistry";
import { IntegrationRegistryAbi } from "./abis/IntegrationRegistry";
import { chainsFromEnv } from "./lib/chains";

/**
 * The chains come from the environment (lib/chains.ts: OMNI_INDEXER_CHAINS or
 * OMNI_INDEXER_CONFIG); the database is PostgreSQL at DATABASE_URL (Ponder's variable), in the
 * schema given by `--schema` or DATABASE_SCHEMA. PGlite, Ponder's fallback, is refused: the point
 * of this app is a database that many readers and `ponder serve` replicas share.
 *
 * `multichain` ordering: each chain is indexed on its own (its state depends only on its own
 * events), so one slow or reorging chain never holds the others back.
 */
const chains = chainsFromEnv();
const databaseUrl = process.env.DATABASE_URL;
if (!databaseUrl) throw new Error("indexer config: DATABASE_URL: set it to the PostgreSQL connection URL");

const contract = <A>(abi: A, address: (c: (typeof chains)[number]) => `0x${string}`) => ({
  abi,
  network: Object.fromEntries(chains.map((c) => [c.name, { address: address(c), startBlock: c.startBlock }])),
});

export default createConfig({
  database: { kind: "postgres", connectionString: databaseUrl },
  ordering: "multichain",
  networks: Object.fromEntries(
    chains.map((c) => [
      c.name,
      {
        chainId: c.chainId,
        transport: http(c.rpc),
        pollingInterval: c.pollingIntervalMs,
        maxRequestsPerSecond: c.maxRequestsPerSecond,
      },
    ]),
  ),
  contracts: {
    ConsentRegistry: contract(ConsentRegistryAbi, (c) => c.registry),
    IntegrationRegistry: contract(IntegrationRegistryAbi, (c) => c.integrations),
    AccessManager: contract(ConsentAccessManagerAbi, (c) => c.accessManager),
  },
});
