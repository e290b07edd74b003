import { createRequire } from "node:module";

import { expect } from "chai";

import { EVM_VERSION, SOLC_VERSION } from "../hardhat.config.js";

const require = createRequire(import.meta.url);

describe("toolchain", () => {
  it("the npm solc package is exactly the configured compiler version", () => {
    // Hardhat runs whatever soljson.js `solidity.path` points at and labels it SOLC_VERSION;
    // if the two drift apart, artifacts would claim a compiler they were not built with.
    const solc = require("solc/package.json") as { version: string };
    expect(solc.version).to.equal(SOLC_VERSION);
    const lock = require("../package-lock.json") as { packages: Record<string, { version: string }> };
    expect(lock.packages["node_modules/solc"].version).to.equal(SOLC_VERSION);
    const pkg = require("../package.json") as { devDependencies: Record<string, string> };
    expect(pkg.devDependencies.solc).to.equal(SOLC_VERSION);
  });

  it("targets the cancun EVM", () => {
    expect(EVM_VERSION).to.equal("cancun");
  });
});
