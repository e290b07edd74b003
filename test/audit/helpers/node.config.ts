import { tmpdir } from "node:os";
import { join } from "node:path";

import { defineConfig } from "hardhat/config";

/**
 * Config for the `hardhat node` the audit tests start: no plugins, no sources, and artifacts in a
 * temp dir. The node must not read the project's build info, which concurrent builds rewrite
 * (a half-written or failed build made `hardhat node` refuse to start). The audit tests deploy
 * with the TypeChain factories, which carry their own bytecode.
 */
export default defineConfig({
  paths: {
    artifacts: join(tmpdir(), "omni-audit-node", "artifacts"),
    cache: join(tmpdir(), "omni-audit-node", "cache"),
  },
});
