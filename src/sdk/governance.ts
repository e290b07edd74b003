import { id } from "ethers";

/**
 * Governance of the consent system: the roles of the `ConsentAccessManager` and the functions
 * they govern. Wiring them is not done from TypeScript any more: `ConsentSystemDeployer`
 * (`contracts/governance/ConsentSystemDeployer.sol`, deployed by the Ignition module) deploys and
 * wires everything in its constructor and renounces, so no block ever sees the system
 * half-governed and no account keeps an instant power.
 *
 * What governance can do: define / deprecate purposes in the registry's catalogue and register /
 * update / suspend / reinstate integrations, each scheduled on the AccessManager and executable
 * only after the execution delay (`OperationScheduled` carries the target and the full calldata,
 * so owners, wallets and auditors see the change coming). What it can never do: read or change a
 * consent. Grants, revocations and the enforced records are not `restricted` functions, so no
 * role reaches them, and withdrawal works whatever governance does.
 */

/** Holds the AccessManager itself (roles, routing, delays, authority), with an execution delay. */
export const ADMIN_ROLE = 0n;

/** May schedule (and, after the delay, execute) the governed functions. */
export const GOVERNOR_ROLE = 1n;

/**
 * May cancel any scheduled operation at once (the ConsentAccessManager lets only an operation's
 * proposer or a guardian cancel it). It cannot schedule or execute anything, nor touch a consent.
 */
export const GUARDIAN_ROLE = 2n;

/** Largest delay the AccessManager accepts (delays are `uint32` seconds). */
export const MAX_DELAY = 2n ** 32n - 1n;

/** The `restricted` functions of each governed contract, by canonical signature (the deployer routes these). */
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
