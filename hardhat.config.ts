import { createRequire } from "node:module";

import hardhatToolboxMochaEthers from "@nomicfoundation/hardhat-toolbox-mocha-ethers";
import { configVariable, defineConfig } from "hardhat/config";

const require = createRequire(import.meta.url);

/**
 * The compiler. Hardhat cannot download solc on many CI machines, so we use the wasm build
 * shipped in the npm `solc` package. Its npm version MUST equal SOLC_VERSION: Hardhat does
 * not notice a mismatch, so `test/toolchain.ts` fails if they ever differ.
 */
export const SOLC_VERSION = "0.8.30";

/**
 * EVM target: `cancun`. It is the newest target live on Ethereum (since March 2024) and on the
 * major L2s and EVM sidechains, and OpenZeppelin 5.7's SignatureChecker needs its MCOPY.
 * `prague`/`osaka` would only add opcodes we do not use while narrowing the set of chains.
 */
export const EVM_VERSION = "cancun";

export default defineConfig({
  plugins: [hardhatToolboxMochaEthers],
  solidity: {
    // Deployed by Ignition as the governance authority; compiled with our settings.
    npmFilesToBuild: ["@openzeppelin/contracts/access/manager/AccessManager.sol"],
    compilers: [
      {
        version: SOLC_VERSION,
        path: require.resolve("solc/soljson.js"),
        settings: {
          evmVersion: EVM_VERSION,
          optimizer: { enabled: true, runs: 1_000_000 },
        },
      },
    ],
  },
  paths: {
    tests: { mocha: "test", solidity: "test" },
  },
  coverage: {
    // Test-only contracts are not part of what we ship; 100% is required of everything else.
    skipFiles: ["contracts/mocks/**", "contracts/verification/**", "test/**"],
  },
  test: {
    // Solidity test profiles (`--test-profile <name>`; "default" when none is given).
    // failOnRevert is true: handlers (test/solidity/handlers) catch the registry's reverts and
    // check the exact error themselves, so a handler call that reverts is a bug to report.
    solidity: {
      profiles: {
        // Every `npx hardhat test solidity`: quick enough for each commit.
        default: {
          fuzz: { runs: 256 },
          invariant: { runs: 64, depth: 32, failOnRevert: true },
        },
        // `npm run test:invariants`: the long stateful campaign (measured in the PR notes).
        invariants: {
          fuzz: { runs: 256 },
          invariant: { runs: 1000, depth: 50, failOnRevert: true },
        },
      },
    },
  },
  networks: {
    // Any node: OMNI_RPC_URL (the variable the CLI reads too) or 127.0.0.1:8545, e.g.
    // `OMNI_RPC_URL=http://127.0.0.1:9545 npm run deploy:node` when 8545 is taken.
    localhost: {
      type: "http",
      chainType: "l1",
      url: process.env.OMNI_RPC_URL ?? "http://127.0.0.1:8545",
    },
    // A real network: the RPC URL and the deployer key come from configuration variables,
    // resolved from the encrypted keystore (`npx hardhat keystore set SEPOLIA_PRIVATE_KEY`) or the
    // environment, and only when a command uses this network. Never put a key in a file or argv.
    sepolia: {
      type: "http",
      chainType: "l1",
      url: configVariable("SEPOLIA_RPC_URL"),
      accounts: [configVariable("SEPOLIA_PRIVATE_KEY")],
    },
  },
  // Deterministic addresses: `--strategy create2` deploys through the CreateX factory with this
  // salt. Its first 20 bytes are zero and byte 21 is 0x00, so CreateX applies neither a
  // deployer lock nor a chain-id guard: same bytecode + same constructor arguments (same admin)
  // = same addresses on every chain. Changing the salt moves every address (see docs/DEPLOY.md).
  ignition: {
    strategyConfig: {
      create2: { salt: "0x00000000000000000000000000000000000000000000636f6e73656e742d7631" },
    },
  },
  // Source verification (`npx hardhat verify` / `ignition verify`); read only when verifying.
  verify: {
    etherscan: { apiKey: configVariable("ETHERSCAN_API_KEY") },
  },
});
