import { assess, unmappedWarnings } from "./choices.js";
import type { AssetChoices, PurposeMappings } from "./choices.js";
import { ERC7517_TERMS } from "./terms.js";
import type { Erc7517Term } from "./terms.js";

/**
 * ERC-7517 `dataMiningPreference` (Draft: an object of member → `allowed` | `notAllowed` |
 * `constrained`), to put in an asset's token or ERC-7053 metadata. Token metadata is public, so
 * like the CAWG assertion it states what holds for everyone: `notAllowed`, or `constrained`
 * where some grantee's live consent allows the use (the ERC: permitted under conditions,
 * "defaulting to notAllowed in the absence of such information"). The consent is the condition;
 * the ERC leaves the conditions to the asset's license reference.
 */
export interface Erc7517Export {
  format: "erc7517";
  dataMiningPreference: Record<Erc7517Term, "allowed" | "notAllowed" | "constrained">;
  changesAt: bigint | null;
  warnings: string[];
}

export function exportErc7517(choices: AssetChoices, opts: { mappings?: PurposeMappings } = {}): Erc7517Export {
  const a = assess("erc7517", choices, opts.mappings);
  const pref = {} as Erc7517Export["dataMiningPreference"];
  for (const term of ERC7517_TERMS) pref[term] = a.terms[term].everyone;
  return {
    format: "erc7517",
    dataMiningPreference: pref,
    changesAt: a.changesAt,
    warnings: unmappedWarnings(a.unmapped),
  };
}
