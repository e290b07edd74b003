import { readFileSync } from "node:fs";
import path from "node:path";

import { expect } from "chai";
import hre, { network } from "hardhat";

import { ConsentRegistryClient } from "../../src/sdk/client.js";
import { CREATE_X_ADDRESS, deployConsentSystem } from "../../src/sdk/deploy.js";
import { KNOWN_DEPLOYMENTS, knownChainIds, knownDeployment, loadDeployment } from "../../src/sdk/deployments.js";
import { ConsentSdkError } from "../../src/sdk/errors.js";
import { deployLocal, localParameters } from "../../scripts/lib/local-deployment.js";

/**
 * The addresses the package ships (`src/sdk/known-deployments.ts`) are what an Ignition deploy
 * gives: if the contracts, the compiler settings, the salt or the local parameters changed,
 * this fails, and `npm run deployments` regenerates the file.
 */
describe("known deployments (shipped in the package)", function () {
  this.timeout(120_000);

  // Coverage instruments the bytecode, so its CREATE2 addresses are not the shipped ones: the
  // address checks hold for real builds only (npm test runs them).
  beforeEach(function () {
    const title = this.currentTest?.title ?? "";
    if (hre.globalOptions.coverage && /same addresses|exactly what/.test(title)) this.skip();
  });

  it("chain 31337 is exactly what `ignition deploy --strategy create2` with local.json gives", async () => {
    const fresh = await deployLocal(await network.create({ override: { chainId: 31337 } }));
    expect(
      KNOWN_DEPLOYMENTS.chains["31337"],
      "src/sdk/known-deployments.ts is stale: run `npm run deployments`",
    ).to.deep.equal(fresh);
    const salt = (hre.config.ignition.strategyConfig?.create2 as { salt?: string } | undefined)?.salt;
    expect(KNOWN_DEPLOYMENTS.salt).to.equal(salt);
    expect(fresh.parameters.executionDelay).to.equal(String(localParameters().executionDelay));
  });

  it("deployConsentSystem with create2 (the SDK, no Ignition) lands on the same addresses where CreateX exists", async () => {
    // Ignition installs CreateX on an in-process chain; copy its code to a fresh chain, as a real chain has it.
    const withCreateX = await network.create({ override: { chainId: 31337 } });
    await deployLocal(withCreateX);
    const createX = await withCreateX.ethers.provider.getCode(CREATE_X_ADDRESS);
    const { ethers, provider } = await network.create({ override: { chainId: 31337 } });
    await provider.request({ method: "hardhat_setCode", params: [CREATE_X_ADDRESS, createX] });
    const [account0] = await ethers.getSigners();
    const deployed = await deployConsentSystem(account0, { executionDelay: 60n, create2: true });
    const known = KNOWN_DEPLOYMENTS.chains["31337"]!;
    expect([
      deployed.ConsentSystemDeployer,
      deployed.AccessManager,
      deployed.IntegrationRegistry,
      deployed.ConsentRegistry,
    ]).to.deep.equal([
      known.ConsentSystemDeployer,
      known.AccessManager,
      known.IntegrationRegistry,
      known.ConsentRegistry,
    ]);
    // loadDeployment finds it without any file, and the client connects to it.
    const deployment = await loadDeployment(31337n);
    expect(deployment).to.deep.equal({
      chainId: 31337n,
      AccessManager: known.AccessManager,
      IntegrationRegistry: known.IntegrationRegistry,
      ConsentRegistry: known.ConsentRegistry,
    });
    const client = await ConsentRegistryClient.connect(deployment.ConsentRegistry, account0);
    expect(await client.contract.authority()).to.equal(known.AccessManager);
  });

  it("docs/DEPLOY.md lists the shipped addresses of chain 31337", () => {
    const doc = readFileSync(path.join(import.meta.dirname, "../../docs/DEPLOY.md"), "utf8");
    const known = KNOWN_DEPLOYMENTS.chains["31337"]!;
    for (const name of ["ConsentSystemDeployer", "AccessManager", "IntegrationRegistry", "ConsentRegistry"] as const) {
      expect(doc, `docs/DEPLOY.md: ${name}`).to.match(new RegExp(`ConsentSystem#${name}\\s+${known[name]}\\n`));
    }
  });

  it("a chain without a known deployment is refused in words naming the chains the package knows", async () => {
    expect(knownChainIds()).to.deep.equal([31337n]);
    let err: unknown;
    try {
      await loadDeployment(1n);
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(ConsentSdkError);
    expect([(err as ConsentSdkError).code, (err as ConsentSdkError).message]).to.deep.equal([
      "NOT_FOUND",
      "no known deployment of the consent system on chain 1 (this package knows 31337 (local dev chain (Hardhat network, hardhat node, anvil; default accounts))); give the registry's address explicitly, or read your own Ignition deployment with loadDeployment(chainId, { root })",
    ]);
    expect(knownDeployment(31337).entry.parameters.admin).to.equal("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266");
  });

  it("without CreateX on the chain, create2 is refused before anything is sent", async () => {
    const { ethers } = await network.create({ override: { chainId: 4242 } });
    const [account0] = await ethers.getSigners();
    const before = await ethers.provider.getTransactionCount(account0.address);
    let err: unknown;
    try {
      await deployConsentSystem(account0, { create2: true });
    } catch (e) {
      err = e;
    }
    expect((err as ConsentSdkError).code).to.equal("NO_CONTRACT");
    expect((err as ConsentSdkError).message).to.equal(
      `deployConsentSystem: no CreateX factory at ${CREATE_X_ADDRESS} on this chain; deploy without create2, or with Ignition (which installs it on a local Hardhat network)`,
    );
    expect(await ethers.provider.getTransactionCount(account0.address)).to.equal(before);
  });
});
