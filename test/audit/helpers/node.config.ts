import { tmpdir } from "node:os";
import { join } from "node:path";

import { defineConfig } from "hardhat/config";

/**
 * Config for the `hardhat node` the audit tests start: no plugins, no sources, and artifacts in a
 * temp dir. The node must not read the project's build info, which concurrent builds rewrite
 * (a half-written or failed build made `hardhat node` refuse to start). The audit tests deploy
 * with the TypeChain factories, which carry their own bytecode.
 *
 * OMNI_AUDIT_NODE_DATE fixes the genesis time (ISO date): two nodes with the same date start
 * from the same genesis block, nodes with different dates have different genesis hashes (same
 * chain id 31337 either way), which is how the tests build "another history".
 */
const initialDate = process.env.OMNI_AUDIT_NODE_DATE;

export default defineConfig({
  ...(initialDate ? { networks: { node: { type: "edr-simulated", initialDate } } } : {}),
  paths: {
    artifacts: join(tmpdir(), "omni-audit-node", "artifacts"),
    cache: join(tmpdir(), "omni-audit-node", "cache"),
  },
});
