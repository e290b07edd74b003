import { expect } from "chai";
import { getCreateAddress, id } from "ethers";
import { network } from "hardhat";

import ConsentSystem, { buildConsentSystemModule } from "../../ignition/modules/ConsentSystem.js";
import { REGISTRY_VERSION } from "../../src/sdk/constants.js";
import { ADMIN_ROLE, GOVERNOR_ROLE, GUARDIAN_ROLE, governedSelectors } from "../../src/sdk/governance.js";
import { ConsentAccessManager__factory, IntegrationRegistry__factory } from "../../types/ethers-contracts/index.js";

const DELAY = 3600n;
const INTEGRATION = "0x00000000000000000000000000000000000A11cE";
const INTEGRATION_META = id("integration:alice-labs:dpa-v1");

/** CreateX's canonical address (the same on every chain that has it). */
const CREATE_X = "0xba5Ed099633D3B313e4D5F7bdc1305d3c28ba5Ed";

async function deployOn(chainId: number, extraTxs: number, createXCode?: string) {
  const connection = await network.create({ override: { chainId } });
  const [deployer, governor, guardian] = await connection.ethers.getSigners();
  // Ignition deploys CreateX itself only on chain 31337; elsewhere it must already exist, as on
  // every major chain. Install the same runtime code there, as a real chain would have it.
  if (createXCode !== undefined)
    await connection.provider.request({ method: "hardhat_setCode", params: [CREATE_X, createXCode] });
  // Burn some nonces: with CREATE2 the addresses must not depend on the deployer's nonce.
  for (let i = 0; i < extraTxs; i++) await (await deployer.sendTransaction({ to: governor.address, value: 1n })).wait();
  const deployed = await connection.ignition.deploy(
    buildConsentSystemModule([{ address: INTEGRATION, metadataHash: INTEGRATION_META, purposes: ["INFERENCE", 6] }]),
    {
      strategy: "create2",
      parameters: { ConsentSystem: { governor: governor.address, guardian: guardian.address, executionDelay: DELAY } },
    },
  );
  const addresses = {
    deployer: await deployed.deployer.getAddress(),
    manager: await deployed.manager.getAddress(),
    integrations: await deployed.integrationRegistry.getAddress(),
    registry: await deployed.consentRegistry.getAddress(),
  };
  return { connection, deployer, governor, guardian, addresses };
}

describe("Ignition module ConsentSystem", () => {
  it("CREATE2 gives the same addresses on different chains whatever the deployer's nonce", async () => {
    const a = await deployOn(31337, 0);
    const createXCode = await a.connection.ethers.provider.getCode(CREATE_X);
    const b = await deployOn(4242, 3, createXCode);
    expect(await a.connection.ethers.provider.getNetwork().then((n) => n.chainId)).to.equal(31337n);
    expect(await b.connection.ethers.provider.getNetwork().then((n) => n.chainId)).to.equal(4242n);
    expect(b.addresses).to.deep.equal(a.addresses);
    // and they are not the deployer's plain CREATE addresses
    expect(a.addresses.manager).to.not.equal(getCreateAddress({ from: a.deployer.address, nonce: 0 }));
  });

  it("one deployer transaction deploys and wires everything; no account keeps an instant power", async () => {
    const { connection, deployer, governor, guardian, addresses } = await deployOn(31337, 0);
    const { ethers } = connection;
    const registry = await ethers.getContractAt("ConsentRegistry", addresses.registry);
    const manager = ConsentAccessManager__factory.connect(addresses.manager, deployer);
    const integrations = IntegrationRegistry__factory.connect(addresses.integrations, deployer);
    const system = await ethers.getContractAt("ConsentSystemDeployer", addresses.deployer);

    expect([await system.manager(), await system.integrations(), await system.registry()]).to.deep.equal([
      addresses.manager,
      addresses.integrations,
      addresses.registry,
    ]);
    expect(await registry.version()).to.equal(REGISTRY_VERSION);
    expect(await registry.integrations()).to.equal(addresses.integrations);
    expect(await registry.authority()).to.equal(addresses.manager);
    expect(await integrations.authority()).to.equal(addresses.manager);
    expect(await registry.grantablePurposes()).to.equal(255n);
    const i = await integrations.getIntegration(INTEGRATION);
    expect([i.purposes, i.status, i.metadataHash]).to.deep.equal([(1n << 2n) | (1n << 6n), 1n, INTEGRATION_META]);

    for (const selector of governedSelectors("registry")) {
      expect(await manager.getTargetFunctionRole(addresses.registry, selector)).to.equal(GOVERNOR_ROLE);
    }
    for (const selector of governedSelectors("integrations")) {
      expect(await manager.getTargetFunctionRole(addresses.integrations, selector)).to.equal(GOVERNOR_ROLE);
    }
    expect([await manager.GOVERNOR_ROLE(), await manager.GUARDIAN_ROLE()]).to.deep.equal([
      GOVERNOR_ROLE,
      GUARDIAN_ROLE,
    ]);
    expect(await manager.minExecutionDelay()).to.equal(DELAY);
    // Every member acts through the delay, the admin (the deploying account by default) included.
    expect(await manager.hasRole(GOVERNOR_ROLE, governor.address)).to.deep.equal([true, DELAY]);
    expect(await manager.hasRole(GUARDIAN_ROLE, guardian.address)).to.deep.equal([true, DELAY]);
    expect(await manager.hasRole(ADMIN_ROLE, deployer.address)).to.deep.equal([true, DELAY]);
    // The deployer contract renounced its bootstrap role.
    expect(await manager.hasRole(ADMIN_ROLE, addresses.deployer)).to.deep.equal([false, 0n]);

    // The admin reaches governed functions neither directly nor at once: a role change of its
    // own must be scheduled first (a direct call looks for the scheduled operation).
    await expect(integrations.suspendIntegration(INTEGRATION))
      .to.be.revertedWithCustomError(integrations, "AccessManagedUnauthorized")
      .withArgs(deployer.address);
    await expect(manager.grantRole(GOVERNOR_ROLE, deployer.address, DELAY))
      .to.be.revertedWithCustomError(manager, "AccessManagerNotScheduled")
      .withArgs(
        await manager.hashOperation(
          deployer.address,
          addresses.manager,
          manager.interface.encodeFunctionData("grantRole", [GOVERNOR_ROLE, deployer.address, DELAY]),
        ),
      );
    // Grant and target-admin delays take effect after AccessManager's 5-day minimum setback.
    await connection.networkHelpers.time.increase(5 * 24 * 3600);
    expect(await manager.getRoleGrantDelay(GOVERNOR_ROLE)).to.equal(DELAY);
    expect(await manager.getRoleGrantDelay(ADMIN_ROLE)).to.equal(DELAY);
    expect(await manager.getTargetAdminDelay(addresses.registry)).to.equal(DELAY);
    expect(await manager.getTargetAdminDelay(addresses.integrations)).to.equal(DELAY);
    expect(await manager.getTargetAdminDelay(addresses.manager)).to.equal(DELAY);
  });

  it("the default module has no initial integrations (none configured)", () => {
    expect(ConsentSystem.id).to.equal("ConsentSystem");
    const futures = [...ConsentSystem.futures].map((f) => f.id).sort();
    // The ids loadDeployment reads, plus the deployer; no registerIntegration call of its own.
    for (const name of ["AccessManager", "IntegrationRegistry", "ConsentRegistry", "ConsentSystemDeployer"]) {
      expect(futures).to.include(`ConsentSystem#${name}`);
    }
    expect(futures.filter((fid) => fid.includes("registerIntegration"))).to.deep.equal([]);
  });

  it("rejects a malformed initial integration with one line", () => {
    expect(() =>
      buildConsentSystemModule([{ address: "0x12", metadataHash: INTEGRATION_META, purposes: [0] }]),
    ).to.throw("integrations[0].address: expected a 0x-prefixed 20-byte hex address");
  });
});
