import { tmpdir } from "node:os";
import { join } from "node:path";

import { defineConfig } from "hardhat/config";

/**
 * Config of the `hardhat node` the key-release tests start: no plugins, no sources, artifacts in
 * a temp dir, so the node never reads the project's build info (concurrent builds rewrite it).
 * Contracts are deployed with the TypeChain factories, which carry their own bytecode.
 */
export default defineConfig({
  paths: {
    artifacts: join(tmpdir(), "omni-keys-node", "artifacts"),
    cache: join(tmpdir(), "omni-keys-node", "cache"),
  },
});
