import { defineConfig } from "hardhat/config";

import baseConfig from "../../hardhat.config.js";

/**
 * The project's Hardhat config plus one network, `e2e`, whose URL comes from OMNI_E2E_NODE_URL.
 * test/e2e/cli.e2e.ts starts `hardhat node` on a free port and deploys to it with Ignition over
 * JSON-RPC (`--config test/e2e/hardhat-e2e.config.ts --network e2e`): the shared `localhost`
 * network is pinned to 8545, which other people's nodes may hold. The project root is still
 * the package root, so sources, artifacts and Ignition modules are the project's own.
 */
export default defineConfig({
  ...baseConfig,
  // A dev node mines each transaction at once: poll for it every 100 ms instead of every second.
  ignition: { ...baseConfig.ignition, blockPollingInterval: 100 },
  networks: {
    ...baseConfig.networks,
    e2e: {
      type: "http",
      chainType: "l1",
      url: process.env.OMNI_E2E_NODE_URL ?? "http://127.0.0.1:8545",
    },
  },
});
