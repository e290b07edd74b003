import { assess, registryWords, unmappedWarnings } from "./choices.js";
import type { AssetChoices, PurposeMappings } from "./choices.js";
import { CAWG_TERMS, CAWG_VERSION } from "./terms.js";
import type { CawgTerm } from "./terms.js";

/**
 * The CAWG Training and Data Mining assertion 1.1 (label `cawg.training-mining`; CDDL
 * `training-mining-map`: `{ entries: { <entry label>: { use, constraint_info? } } }`), for an
 * asset's C2PA manifest. An assertion is read by anyone who has the asset, so it states what
 * holds for everyone: `notAllowed` for an entry no live consent touches, `constrained` for one
 * that some grantee's consent allows (the 1.1 text: constrained means permission is not
 * unconditionally granted, and is treated as notAllowed without more information), with
 * `constraint_info` saying where that consent is recorded. Never `allowed`: the registry allows
 * nothing to everyone.
 */
export interface CawgEntry {
  use: "allowed" | "notAllowed" | "constrained";
  constraint_info?: string;
}
export interface CawgExport {
  format: "cawg";
  version: typeof CAWG_VERSION;
  label: "cawg.training-mining";
  assertion: { entries: Record<CawgTerm, CawgEntry> };
  changesAt: bigint | null;
  warnings: string[];
}

export function exportCawg(choices: AssetChoices, opts: { mappings?: PurposeMappings } = {}): CawgExport {
  const a = assess("cawg", choices, opts.mappings);
  const entries = {} as Record<CawgTerm, CawgEntry>;
  for (const term of CAWG_TERMS) {
    const t = a.terms[term];
    entries[term] =
      t.everyone === "constrained"
        ? {
            use: "constrained",
            constraint_info: `allowed only with a consent recorded in ${registryWords(choices)}; without one: not allowed`,
          }
        : { use: "notAllowed" };
  }
  return {
    format: "cawg",
    version: CAWG_VERSION,
    label: "cawg.training-mining",
    assertion: { entries },
    changesAt: a.changesAt,
    warnings: unmappedWarnings(a.unmapped),
  };
}
