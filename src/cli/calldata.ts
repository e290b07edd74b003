import { Interface, getAddress } from "ethers";

import { CONSENT_ACCESS_MANAGER_ABI, CONSENT_REGISTRY_ABI, INTEGRATION_REGISTRY_ABI } from "../sdk/abi.js";
import { inWords, namedArgs } from "../sdk/errors.js";
import { maskToPurposes, purposeName } from "../sdk/purposes.js";
import { timeLeftWords } from "../sdk/time-words.js";

/**
 * Governed calls in words, for `gov pending`: what a scheduled AccessManager operation will do
 * when executed. The calldata is decoded with the ABI of the contract it targets (never by
 * selector alone across ABIs, so a call can only be read as a function its target really has).
 */

/** The contracts a pending operation can target. */
export interface KnownTargets {
  consentRegistry: string;
  integrationRegistry: string;
  accessManager: string;
}

export type TargetName = "ConsentRegistry" | "IntegrationRegistry" | "AccessManager";

export interface DecodedCall {
  /** The function name, e.g. `suspendIntegration`; null when the calldata is not a function of the target. */
  function: string | null;
  /** Arguments by ABI parameter name (uint values as bigint). */
  args: Record<string, unknown>;
  /** The call in words, e.g. `suspend integration 0x15d3…`. */
  words: string;
}

const INTERFACES: Record<TargetName, Interface> = {
  ConsentRegistry: new Interface(CONSENT_REGISTRY_ABI),
  IntegrationRegistry: new Interface(INTEGRATION_REGISTRY_ABI),
  AccessManager: new Interface(CONSENT_ACCESS_MANAGER_ABI),
};

/** The name of `target` among the known contracts, or null for any other address. */
export function targetName(target: string, known: KnownTargets): TargetName | null {
  const t = getAddress(target);
  if (t === getAddress(known.consentRegistry)) return "ConsentRegistry";
  if (t === getAddress(known.integrationRegistry)) return "IntegrationRegistry";
  if (t === getAddress(known.accessManager)) return "AccessManager";
  return null;
}

/** `RESEARCH, MODEL_TRAINING`-style list of a purpose bitmap (ids outside the initial catalogue as `purpose#<id>`). */
function maskWords(mask: bigint): string {
  const ids = maskToPurposes(mask);
  return ids.length === 0 ? "no purposes" : ids.map(purposeName).join(", ");
}

/** `ANALYTICS (id 4)` for a purpose of the initial catalogue, `id 8` for any other. */
function purposeWords(id: bigint): string {
  const name = purposeName(Number(id));
  return name.startsWith("purpose#") ? `id ${id}` : `${name} (id ${id})`;
}

const WORDS: Record<string, (a: Record<string, unknown>) => string> = {
  registerIntegration: (a) =>
    `register integration ${String(a.integration)} for ${maskWords(a.purposes as bigint)} (metadata ${String(a.metadataHash)})`,
  updateIntegration: (a) =>
    `update integration ${String(a.integration)} to ${maskWords(a.purposes as bigint)} (metadata ${String(a.metadataHash)})`,
  suspendIntegration: (a) => `suspend integration ${String(a.integration)}`,
  reinstateIntegration: (a) => `reinstate integration ${String(a.integration)}`,
  definePurpose: (a) => `define purpose ${purposeWords(a.id as bigint)} (metadata ${String(a.metadataHash)})`,
  deprecatePurpose: (a) => `deprecate purpose ${purposeWords(a.id as bigint)}`,
};

/**
 * Decodes `data` as a call of the contract `name` (null: unknown target). Calls the target does
 * not have come back with `function: null` and the selector in the words.
 */
export function decodeGovernedCall(name: TargetName | null, data: string): DecodedCall {
  const selector = data.slice(0, 10);
  const unknown = (why: string): DecodedCall => ({ function: null, args: {}, words: `${why} (selector ${selector})` });
  if (name === null) return unknown("a call to a contract this CLI does not know");
  let parsed;
  try {
    parsed = INTERFACES[name].parseTransaction({ data });
  } catch {
    return unknown(`calldata that is not a valid ${name} call`);
  }
  if (parsed === null) return unknown(`a function ${name} does not have`);
  const args = namedArgs(parsed.fragment.inputs, parsed.args);
  return { function: parsed.name, args, words: inWords(parsed.name, args, WORDS) };
}

/** `ready`, or the time left until `readyAt` by the chain clock `now`: `in 23 h 59 min`, `in 2 d 3 h`, `in 40 s`. */
export function readyWords(readyAt: bigint, now: bigint): string {
  return timeLeftWords(readyAt, now);
}
