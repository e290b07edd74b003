import { getAddress } from "ethers";

/**
 * The same consent condition for the key networks people already run, so an owner can pick
 * TACo or Lit as the custodian network instead of running custodians: "release to the caller
 * only if `isAllowed(owner, caller, dataId, purpose)` on this registry is true".
 *
 * Both networks check consent at the latest block only: they have no confirmation depth and
 * no use-record check, which is what our own custodians add (docs/KEYS.md says so). The shapes
 * are validated in `test/keys/interop.ts` against the projects' own published schemas
 * (`@nucypher/taco`'s `ContractCondition`, `@lit-protocol/access-control-conditions-schemas`'
 * `EvmContractAccSchema`).
 */

export interface ConsentCondition {
  registry: string;
  owner: string;
  dataId: string;
  purpose: number;
}

const IS_ALLOWED_INPUTS = [
  { name: "owner", type: "address", internalType: "address" },
  { name: "grantee", type: "address", internalType: "address" },
  { name: "dataId", type: "bytes32", internalType: "bytes32" },
  { name: "purpose", type: "uint8", internalType: "uint8" },
];

function check(c: ConsentCondition): void {
  if (!/^0x[0-9a-fA-F]{64}$/.test(c.dataId)) throw new TypeError("dataId must be 32 bytes of 0x-hex");
  if (!Number.isInteger(c.purpose) || c.purpose < 0 || c.purpose > 127) throw new RangeError("purpose must be 0..127");
}

/** A TACo `ContractCondition` (conditionType "contract") on EVM chain `chainId`. */
export function tacoConsentCondition(c: ConsentCondition & { chainId: number }) {
  check(c);
  return {
    conditionType: "contract" as const,
    chain: c.chainId,
    contractAddress: getAddress(c.registry),
    method: "isAllowed",
    functionAbi: {
      name: "isAllowed",
      type: "function" as const,
      stateMutability: "view" as const,
      inputs: IS_ALLOWED_INPUTS,
      outputs: [{ name: "", type: "bool", internalType: "bool" }],
    },
    parameters: [getAddress(c.owner), ":userAddress", c.dataId.toLowerCase(), c.purpose],
    returnValueTest: { comparator: "==" as const, value: true },
  };
}

/** A Lit `evmContractConditions` entry; `chain` is Lit's chain name (e.g. "ethereum", "sepolia", "base"). */
export function litConsentCondition(c: ConsentCondition & { chain: string }) {
  check(c);
  return {
    conditionType: "evmContract" as const,
    contractAddress: getAddress(c.registry),
    chain: c.chain,
    functionName: "isAllowed",
    functionParams: [getAddress(c.owner), ":userAddress", c.dataId.toLowerCase(), String(c.purpose)],
    functionAbi: {
      name: "isAllowed",
      type: "function",
      stateMutability: "view",
      inputs: IS_ALLOWED_INPUTS,
      outputs: [{ name: "", type: "bool", internalType: "bool" }],
    },
    returnValueTest: { key: "", comparator: "=" as const, value: "true" },
  };
}
