import { Token, serializeDictionary } from "structured-headers";
import type { Dictionary } from "structured-headers";

import { assess, unmappedWarnings } from "./choices.js";
import type { AssetChoices, PurposeMappings, Use } from "./choices.js";
import { AIPREF_ATTACH_DRAFT, AIPREF_DRAFT, AIPREF_TERMS } from "./terms.js";
import type { AiprefTerm } from "./terms.js";

/**
 * IETF AIPREF statements of preference (draft-ietf-aipref-vocab-07 §"Exemplary Serialization
 * Format": an RFC 9651 Dictionary of category label → Token `y` | `n`), attached as the
 * `Content-Usage` HTTP field or robots.txt rule of draft-ietf-aipref-attach-05.
 *
 * - For everyone: every category `n`. The registry allows nothing without a consent, and a
 *   statement of preference cannot name who it is for.
 * - For a grantee (a server that knows who asks may send that grantee's statement): `y` for a
 *   category its live consent covers, `n` otherwise, including one it covers only in part:
 *   AIPREF has no "constrained" and `y` would allow uses the consent does not; the consent is
 *   the more specific arrangement the draft says then applies (§"More Specific Instructions").
 */
export interface AiprefExport {
  format: "aipref";
  draft: typeof AIPREF_DRAFT;
  attach: typeof AIPREF_ATTACH_DRAFT;
  /** The Content-Usage value for everyone, e.g. `train-ai=n, search=n`. */
  contentUsage: string;
  /** A robots.txt group carrying it (`Content-Usage: [path] …`). */
  robotsTxt: string;
  /** Each grantee with a live consent: its own statement, and until when it holds. */
  grantees: { grantee: string; contentUsage: string; until: Record<AiprefTerm, bigint> }[];
  changesAt: bigint | null;
  warnings: string[];
}

function statement(uses: Record<AiprefTerm, Use>): string {
  const dict: Dictionary = new Map(
    AIPREF_TERMS.map((t) => [t, [new Token(uses[t] === "allowed" ? "y" : "n"), new Map()]] as const),
  );
  return serializeDictionary(dict);
}

export function exportAipref(
  choices: AssetChoices,
  opts: { mappings?: PurposeMappings; robotsPath?: string } = {},
): AiprefExport {
  const a = assess("aipref", choices, opts.mappings);
  const everyone = Object.fromEntries(AIPREF_TERMS.map((t) => [t, "notAllowed"])) as Record<AiprefTerm, Use>;
  const contentUsage = statement(everyone);
  const path = opts.robotsPath;
  if (path !== undefined && !/^\/[^\s#]*$/.test(path)) {
    throw new RangeError(`robots.txt path "${path}": a path starts with / and has no spaces or #`);
  }
  return {
    format: "aipref",
    draft: AIPREF_DRAFT,
    attach: AIPREF_ATTACH_DRAFT,
    contentUsage,
    robotsTxt: `User-Agent: *\nContent-Usage: ${path ? `${path} ` : ""}${contentUsage}\n`,
    grantees: a.grantees.map((g) => ({ grantee: g.grantee, contentUsage: statement(g.uses), until: g.until })),
    changesAt: a.changesAt,
    warnings: unmappedWarnings(a.unmapped),
  };
}
