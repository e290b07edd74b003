import { Contract, ContractFactory, ZeroAddress, getAddress } from "ethers";
import type { BaseContract, ContractRunner, InterfaceAbi, Signer } from "ethers";

import {
  ConsentAccessManager__factory,
  ConsentRegistry__factory,
  ConsentSystemDeployer__factory,
  IntegrationRegistry__factory,
} from "./contracts.js";
import { chainIdOf, providerOf } from "./base.js";
import type { Deployment } from "./deployments.js";
import { ConsentSdkError } from "./errors.js";
import { KNOWN_DEPLOYMENTS } from "./known-deployments.js";
import { initialPurposeMetadata } from "./purposes.js";
import { addressSchema, bytes32Schema, parseInput, purposesSchema } from "./validation.js";

/**
 * Deploying the consent system from code: the one `deployConsentSystem` of the repository (the
 * test fixture, the gas and audit benchmarks, the fault tests and the package's consumer test
 * use it) and of a dApp's own tests.
 *
 * - **Governed** (the default): the `ConsentSystemDeployer` the Ignition module deploys, which
 *   creates and wires the AccessManager, the integration registry and the registry in its
 *   constructor (see `contracts/governance/ConsentSystemDeployer.sol`). With `create2`, it is
 *   deployed through the CreateX factory with the salt of `hardhat.config.ts`, as Ignition's
 *   `create2` strategy does, so the addresses are the shipped ones (`known-deployments.ts`) for
 *   the same parameters.
 * - **Direct** (tests and benchmarks only): a plain OpenZeppelin `AccessManager` whose admin has
 *   no delay, so restricted functions can be called at once; any registry contract by artifact
 *   name (e.g. a test harness). Needs `deployContract` (Hardhat's `ethers.deployContract`, or
 *   TypeChain factories): the OpenZeppelin AccessManager's bytecode does not ship here.
 */

/** Deploys contract `name` with constructor `args` and returns it once mined. */
export type ContractDeployer = (name: string, args: readonly unknown[]) => Promise<BaseContract>;

/** An integration registered at deployment (purposes: ids, names or a bitmap). */
export interface InitialIntegrationInput {
  address: string;
  metadataHash: string;
  purposes: readonly (number | string)[] | bigint;
}

export interface DeployConsentSystemOptions {
  /** ADMIN_ROLE holder (default: the deploying account). */
  admin?: string;
  /** GOVERNOR_ROLE holder (governed only; default: the deploying account). */
  governor?: string;
  /** GUARDIAN_ROLE holder (governed only; default: none). */
  guardian?: string;
  /** Seconds every governed change waits (governed only; default 2 days, at least 1). */
  executionDelay?: bigint;
  integrations?: readonly InitialIntegrationInput[];
  /** Governed only: deploy through CreateX (which must exist on the chain) with this salt (default: the project's). */
  create2?: boolean | { salt: string };
  /** Direct wiring for tests: a plain AccessManager, its admin without delay, and this registry contract. */
  direct?: { registryContract?: string };
  /** How contracts are created (default: the bytecode of the bindings shipped in this package). */
  deployContract?: ContractDeployer;
}

/** What was deployed: the addresses (a {@link Deployment}) and the contracts, connected to the deployer. */
export interface DeployedConsentSystem extends Deployment {
  /** The ConsentSystemDeployer (governed only). */
  ConsentSystemDeployer: string | null;
  contracts: { accessManager: BaseContract; integrations: BaseContract; registry: BaseContract };
}

/** CreateX's canonical address (the same on every chain that has it). */
export const CREATE_X_ADDRESS = "0xba5Ed099633D3B313e4D5F7bdc1305d3c28ba5Ed";

const DEFAULT_EXECUTION_DELAY = 2n * 24n * 60n * 60n;

const FACTORIES: Record<string, { abi: InterfaceAbi; bytecode: string }> = {
  ConsentSystemDeployer: ConsentSystemDeployer__factory,
  ConsentAccessManager: ConsentAccessManager__factory,
  IntegrationRegistry: IntegrationRegistry__factory,
  ConsentRegistry: ConsentRegistry__factory,
};

/** A {@link ContractDeployer} over the bytecode this package ships (the deployable contracts only). */
export function bindingsDeployer(signer: Signer): ContractDeployer {
  return async (name, args) => {
    const factory = FACTORIES[name];
    if (factory === undefined) {
      throw new ConsentSdkError(
        "INVALID_INPUT",
        `deployConsentSystem: no bytecode of ${name} ships in this package (${Object.keys(FACTORIES).join(", ")} do); pass deployContract`,
      );
    }
    const contract = await new ContractFactory(factory.abi, factory.bytecode, signer).deploy(...args);
    return contract.waitForDeployment();
  };
}

function initialIntegrations(list: readonly InitialIntegrationInput[]) {
  return list.map((i, n) => ({
    integration: parseInput(addressSchema, i.address, `integrations[${n}].address`),
    metadataHash: parseInput(bytes32Schema, i.metadataHash, `integrations[${n}].metadataHash`),
    purposes: parseInput(purposesSchema, i.purposes, `integrations[${n}].purposes`),
  }));
}

const at = (address: string, abi: InterfaceAbi, runner: ContractRunner): BaseContract =>
  new Contract(address, abi, runner);

/** Deploys the consent system with `signer` (see the module comment for the two wirings). */
export async function deployConsentSystem(
  signer: Signer,
  opts: DeployConsentSystemOptions = {},
): Promise<DeployedConsentSystem> {
  const me = getAddress(await signer.getAddress());
  const chainId = await chainIdOf(providerOf(signer));
  const deploy = opts.deployContract ?? bindingsDeployer(signer);
  const integrations = initialIntegrations(opts.integrations ?? []);
  const admin = opts.admin === undefined ? me : parseInput(addressSchema, opts.admin, "admin");

  if (opts.direct !== undefined) {
    const manager = await deploy("AccessManager", [admin]);
    const managerAddress = await manager.getAddress();
    const registryOfIntegrations = await deploy("IntegrationRegistry", [managerAddress]);
    const integrationsAddress = await registryOfIntegrations.getAddress();
    const registry = await deploy(opts.direct.registryContract ?? "ConsentRegistry", [
      managerAddress,
      integrationsAddress,
      initialPurposeMetadata(),
    ]);
    const asAdmin = IntegrationRegistry__factory.connect(integrationsAddress, signer);
    for (const i of integrations) {
      await (await asAdmin.registerIntegration(i.integration, i.metadataHash, i.purposes)).wait();
    }
    return {
      chainId,
      AccessManager: getAddress(managerAddress),
      IntegrationRegistry: getAddress(integrationsAddress),
      ConsentRegistry: getAddress(await registry.getAddress()),
      ConsentSystemDeployer: null,
      contracts: { accessManager: manager, integrations: registryOfIntegrations, registry },
    };
  }

  const args = [
    admin,
    opts.governor === undefined ? me : parseInput(addressSchema, opts.governor, "governor"),
    opts.guardian === undefined ? ZeroAddress : parseInput(addressSchema, opts.guardian, "guardian"),
    opts.executionDelay ?? DEFAULT_EXECUTION_DELAY,
    initialPurposeMetadata(),
    integrations,
  ] as const;
  let deployerAddress: string;
  if (opts.create2) {
    const salt =
      opts.create2 === true ? KNOWN_DEPLOYMENTS.salt : parseInput(bytes32Schema, opts.create2.salt, "create2.salt");
    deployerAddress = await deployThroughCreateX(signer, salt, args);
  } else {
    deployerAddress = await (await deploy("ConsentSystemDeployer", args)).getAddress();
  }
  const system = ConsentSystemDeployer__factory.connect(deployerAddress, signer);
  const [manager, integrationsAddress, registry] = await Promise.all([
    system.manager(),
    system.integrations(),
    system.registry(),
  ]);
  return {
    chainId,
    AccessManager: getAddress(manager),
    IntegrationRegistry: getAddress(integrationsAddress),
    ConsentRegistry: getAddress(registry),
    ConsentSystemDeployer: getAddress(deployerAddress),
    contracts: {
      accessManager: at(manager, ConsentAccessManager__factory.abi, signer),
      integrations: at(integrationsAddress, IntegrationRegistry__factory.abi, signer),
      registry: at(registry, ConsentRegistry__factory.abi, signer),
    },
  };
}

const createXAbi = ["function deployCreate2(bytes32 salt, bytes initCode) payable returns (address)"];

/** `deployCreate2(salt, initCode)` on CreateX, as Ignition's create2 strategy sends it. */
async function deployThroughCreateX(signer: Signer, salt: string, args: readonly unknown[]): Promise<string> {
  const provider = providerOf(signer);
  if ((await provider.getCode(CREATE_X_ADDRESS)) === "0x") {
    throw new ConsentSdkError(
      "NO_CONTRACT",
      `deployConsentSystem: no CreateX factory at ${CREATE_X_ADDRESS} on this chain; deploy without create2, or with Ignition (which installs it on a local Hardhat network)`,
    );
  }
  const initCode = (
    await new ConsentSystemDeployer__factory().getDeployTransaction(
      ...(args as Parameters<ConsentSystemDeployer__factory["getDeployTransaction"]>),
    )
  ).data;
  const createX = new Contract(CREATE_X_ADDRESS, createXAbi, signer);
  const address = (await createX.getFunction("deployCreate2").staticCall(salt, initCode)) as string;
  await (await createX.getFunction("deployCreate2")(salt, initCode)).wait();
  return address;
}
