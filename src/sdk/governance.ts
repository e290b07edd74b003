import { ZeroAddress, getAddress, id, isAddress } from "ethers";
import type { ContractTransactionReceipt, ContractTransactionResponse } from "ethers";

import type { AccessManager } from "../../types/ethers-contracts/index.js";

/**
 * Governance of the consent system through an OpenZeppelin AccessManager with an execution
 * delay. Plain ethers (no Hardhat), so Ignition modules, scripts and the CLI share one wiring.
 *
 * What governance can do: define / deprecate purposes in the registry's catalogue and register /
 * update / suspend / reinstate integrations. What it can never do: read or change a consent.
 * Grants, revocations and the enforced records are not `restricted` functions, so no role of the
 * AccessManager reaches them, and withdrawal works whatever governance does.
 *
 * Why a delay: the governor's role is granted with an *execution delay*, so every governed call
 * must first be scheduled (`AccessManager.schedule`, which emits `OperationScheduled` with the
 * target and the full calldata) and can only execute once the delay has passed. Owners, wallets
 * and auditors watching the manager see e.g. "suspend integration X" or "deprecate purpose 5"
 * days before it takes effect and can react (withdraw consent, move data, raise the alarm), and
 * the guardian can cancel the operation in the meantime.
 */

/** Role allowed to schedule (and, after the delay, execute) the governed functions. */
export const GOVERNOR_ROLE = 1n;

/**
 * Role that may only cancel operations scheduled under {@link GOVERNOR_ROLE} (it is that role's
 * guardian). It cannot schedule or execute anything, and it can never touch a consent.
 */
export const GUARDIAN_ROLE = 2n;

/** Largest delay the AccessManager accepts (delays are `uint32` seconds). */
export const MAX_DELAY = 2n ** 32n - 1n;

/** The `restricted` functions of each governed contract, by canonical signature. */
export const GOVERNED_FUNCTIONS = {
  registry: ["definePurpose(uint8,bytes32)", "deprecatePurpose(uint8)"],
  integrations: [
    "registerIntegration(address,bytes32,uint128)",
    "updateIntegration(address,bytes32,uint128)",
    "suspendIntegration(address)",
    "reinstateIntegration(address)",
  ],
} as const;

export type GovernedContract = keyof typeof GOVERNED_FUNCTIONS;

/** The 4-byte selectors of the governed functions of `kind`, in {@link GOVERNED_FUNCTIONS} order. */
export function governedSelectors(kind: GovernedContract): string[] {
  const signatures = GOVERNED_FUNCTIONS[kind] as readonly string[] | undefined;
  if (signatures === undefined) {
    throw new RangeError(`unknown governed contract "${String(kind)}"; use registry or integrations`);
  }
  return signatures.map((signature) => id(signature).slice(0, 10));
}

/** The AccessManager functions {@link configureGovernance} calls (a TypeChain `AccessManager` fits). */
export type AccessManagerLike = Pick<
  AccessManager,
  "setTargetFunctionRole" | "grantRole" | "labelRole" | "setGrantDelay" | "setTargetAdminDelay" | "setRoleGuardian"
>;

export interface GovernanceConfig {
  /** The consent registry (its purpose catalogue is governed). */
  registry: string;
  /** The integration registry. */
  integrations: string;
  /** The governor: typically a multisig or a Governor contract. */
  governor: string;
  /**
   * Seconds between scheduling and executing any governed call: the notice users get. `0` means
   * no notice at all (governed calls take effect in the same block); use it only in development.
   */
  executionDelay: bigint | number;
  /** Optional account that may cancel scheduled governor operations (and nothing else). */
  guardian?: string;
}

function checkedAddress(name: string, value: string): string {
  if (typeof value !== "string" || !isAddress(value) || getAddress(value) === ZeroAddress) {
    throw new TypeError(`${name} must be a non-zero 0x-prefixed 20-byte address, got "${String(value)}"`);
  }
  return getAddress(value);
}

function checkedDelay(value: bigint | number): bigint {
  const isInteger = typeof value === "bigint" || (typeof value === "number" && Number.isSafeInteger(value));
  const delay = isInteger ? BigInt(value) : -1n;
  if (delay < 0n || delay > MAX_DELAY) {
    throw new RangeError(`executionDelay must be a whole number of seconds in 0..${MAX_DELAY}, got ${String(value)}`);
  }
  return delay;
}

/**
 * Wires governance into `manager`, which must be called by an account holding the manager's
 * ADMIN_ROLE without delay (the deployer, right after deployment). Transactions are sent one at
 * a time and awaited; the receipts are returned in order:
 *
 * 1. every governed selector of both contracts → {@link GOVERNOR_ROLE};
 * 2. role labels, and `governor` joins GOVERNOR_ROLE with `executionDelay` as its execution
 *    delay, so each governed call must be scheduled and wait `executionDelay`;
 * 3. the same delay as GOVERNOR_ROLE's grant delay, so a governor added later gains power only
 *    after users could see the grant coming;
 * 4. the same delay as both targets' admin delay, so the admin cannot silently re-route the
 *    governed functions, close a target or move it to another authority either;
 * 5. with `guardian`: it joins GUARDIAN_ROLE (no delay) and GUARDIAN_ROLE becomes the guardian of
 *    GOVERNOR_ROLE, i.e. it can cancel scheduled governor operations.
 *
 * The delays set in 3 and 4 take effect only after the AccessManager's `minSetback` (5 days), a
 * rule of AccessManager that stops an admin from shortening notice by first lowering a delay.
 * The ADMIN_ROLE itself should end up held by a timelocked account; this function does not
 * change it.
 *
 * Throws (before sending anything) with one line naming the bad field.
 */
export async function configureGovernance(
  manager: AccessManagerLike,
  config: GovernanceConfig,
): Promise<ContractTransactionReceipt[]> {
  const registry = checkedAddress("registry", config.registry);
  const integrations = checkedAddress("integrations", config.integrations);
  const governor = checkedAddress("governor", config.governor);
  const guardian = config.guardian === undefined ? undefined : checkedAddress("guardian", config.guardian);
  const delay = checkedDelay(config.executionDelay);
  if (registry === integrations) throw new TypeError("registry and integrations must be different contracts");
  if (guardian === governor)
    throw new TypeError("guardian must differ from governor (it exists to check the governor)");

  const receipts: ContractTransactionReceipt[] = [];
  const send = async (pending: Promise<ContractTransactionResponse>): Promise<void> => {
    const receipt = await (await pending).wait();
    if (receipt === null) throw new Error("governance transaction was dropped");
    receipts.push(receipt);
  };

  await send(manager.setTargetFunctionRole(registry, governedSelectors("registry"), GOVERNOR_ROLE));
  await send(manager.setTargetFunctionRole(integrations, governedSelectors("integrations"), GOVERNOR_ROLE));
  await send(manager.labelRole(GOVERNOR_ROLE, "GOVERNOR"));
  await send(manager.grantRole(GOVERNOR_ROLE, governor, delay));
  await send(manager.setGrantDelay(GOVERNOR_ROLE, delay));
  await send(manager.setTargetAdminDelay(registry, delay));
  await send(manager.setTargetAdminDelay(integrations, delay));
  if (guardian !== undefined) {
    await send(manager.labelRole(GUARDIAN_ROLE, "GUARDIAN"));
    await send(manager.grantRole(GUARDIAN_ROLE, guardian, 0n));
    await send(manager.setRoleGuardian(GOVERNOR_ROLE, GUARDIAN_ROLE));
  }
  return receipts;
}
