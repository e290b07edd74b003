import { tmpdir } from "node:os";
import { join } from "node:path";

import { defineConfig } from "hardhat/config";

/**
 * Config of the `hardhat node`s the indexer tests start: no plugins, no sources, artifacts in a
 * temp dir (the node must not read the project's build info, which concurrent builds rewrite),
 * and the chain id of OMNI_INDEXER_NODE_CHAIN_ID (default 31337), so two nodes can be two chains.
 */
const chainId = Number(process.env.OMNI_INDEXER_NODE_CHAIN_ID ?? 31337);

export default defineConfig({
  networks: { node: { type: "edr-simulated", chainId } },
  paths: {
    artifacts: join(tmpdir(), "omni-indexer-node", "artifacts"),
    cache: join(tmpdir(), "omni-indexer-node", "cache"),
  },
});
