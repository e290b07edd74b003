import { NO_EXPIRY } from "../sdk/constants.js";
import { maskToPurposes, purposeName } from "../sdk/purposes.js";
import { initialPurposeDocuments } from "../documents/initial-purposes.js";
import type { AiVocabularies, PurposeDocument } from "../documents/schemas.js";
import { VOCABULARIES } from "./terms.js";
import type { TermRelation, VocabularyName, VocabularyTerm } from "./terms.js";

/**
 * An owner's current choices for one asset, read in each AI opt-out vocabulary's terms
 * (browser-safe). The rule of the registry is that nothing is allowed without a consent, so for
 * everyone who holds none every term is "not allowed"; a grantee's live consent allows a term
 * its purposes cover, and allows it only under conditions ("constrained") when they cover part
 * of it. How each purpose relates to each term comes from its purpose document
 * (`aiVocabularies`), so purposes defined later by governance map the same way.
 */

/** One consent as the chain holds it now (`getConsent(owner, grantee, dataId)` while active). */
export interface AssetConsent {
  grantee: string;
  /** The purpose bitmap, or the purpose ids. */
  purposes: bigint | readonly number[];
  /** Unix seconds; NO_EXPIRY (0) never expires. The consent is over from `expiresAt` on. */
  expiresAt: bigint;
  /** The data id it is on (the asset's, or ALL_DATA); for the record only. */
  dataId?: string;
}

/** What the export is about and the consents that apply to the asset: those on its data id and the owner's ALL_DATA ones. */
export interface AssetChoices {
  owner: string;
  dataId: string;
  consents: readonly AssetConsent[];
  /** The chain's time (unix seconds): consents expired by then are left out. */
  now: bigint;
  /** The registry the consents are in, named in the exports' words. */
  registry?: { chainId: bigint; address: string };
}

/** How each purpose id maps to the vocabularies (from purpose documents). */
export type PurposeMappings = ReadonlyMap<number, AiVocabularies>;

/** The mappings of the initial catalogue's documents. */
export function initialMappings(): PurposeMappings {
  return mappingsFromDocuments(initialPurposeDocuments());
}

/** Mappings from resolved purpose documents (e.g. the initial ones plus governance's). */
export function mappingsFromDocuments(documents: readonly PurposeDocument[]): PurposeMappings {
  return new Map(documents.map((d) => [d.id, d.aiVocabularies]));
}

export type Use = "allowed" | "constrained" | "notAllowed";

export interface GranteeUse {
  grantee: string;
  use: "allowed" | "constrained";
  /** The grantee's purposes that touch the term. */
  purposes: number[];
  /** When this use ends (the latest expiry among the consents that give it); NO_EXPIRY = never. */
  until: bigint;
}

export interface TermAssessment {
  term: string;
  /** For everyone without a consent for the term: not allowed; constrained when some grantee may (only with a consent). */
  everyone: "notAllowed" | "constrained";
  grantees: GranteeUse[];
}

export interface Assessment<V extends VocabularyName> {
  vocabulary: V;
  terms: Record<VocabularyTerm<V>, TermAssessment>;
  /** Each grantee with a live consent, and its use of every term. */
  grantees: { grantee: string; uses: Record<VocabularyTerm<V>, Use>; until: Record<VocabularyTerm<V>, bigint> }[];
  /** The earliest future expiry among the live consents: the export describes the choices until then. */
  changesAt: bigint | null;
  /** Purposes of live consents that have no mapping (no document): their consents are not reflected. */
  unmapped: number[];
}

const rank: Record<Use, number> = { notAllowed: 0, constrained: 1, allowed: 2 };
const later = (a: bigint, b: bigint) => (a === NO_EXPIRY || b === NO_EXPIRY ? NO_EXPIRY : a > b ? a : b);

/** Whether a consent is live at `now`: it has purposes and has not expired. */
export function isLive(c: AssetConsent, now: bigint): boolean {
  const ids = typeof c.purposes === "bigint" ? maskToPurposes(c.purposes) : c.purposes;
  return ids.length > 0 && (c.expiresAt === NO_EXPIRY || c.expiresAt > now);
}

/** The owner's choices for the asset in the terms of `vocabulary`. */
export function assess<V extends VocabularyName>(
  vocabulary: V,
  choices: AssetChoices,
  mappings: PurposeMappings = initialMappings(),
): Assessment<V> {
  const terms = VOCABULARIES[vocabulary] as readonly VocabularyTerm<V>[];
  const live = choices.consents.filter((c) => isLive(c, choices.now));
  const unmapped = new Set<number>();
  const byGrantee = new Map<string, { grantee: string; uses: Map<string, GranteeUse> }>();
  for (const c of live) {
    const ids = typeof c.purposes === "bigint" ? maskToPurposes(c.purposes) : [...c.purposes];
    const key = c.grantee.toLowerCase();
    const g = byGrantee.get(key) ?? { grantee: c.grantee, uses: new Map<string, GranteeUse>() };
    byGrantee.set(key, g);
    for (const id of ids) {
      const mapping = mappings.get(id);
      if (!mapping) {
        unmapped.add(id);
        continue;
      }
      const relations = mapping[vocabulary] as Partial<Record<string, TermRelation>>;
      for (const term of terms) {
        const relation = relations[term];
        if (!relation) continue;
        const use = relation === "covers" ? "allowed" : "constrained";
        const had = g.uses.get(term);
        if (!had || rank[use] > rank[had.use]) {
          g.uses.set(term, { grantee: c.grantee, use, purposes: [id], until: c.expiresAt });
        } else if (had.use === use) {
          if (!had.purposes.includes(id)) had.purposes.push(id);
          had.until = later(had.until, c.expiresAt);
        } else if (!had.purposes.includes(id)) {
          had.purposes.push(id);
        }
      }
    }
  }
  const termsOut = {} as Record<VocabularyTerm<V>, TermAssessment>;
  for (const term of terms) {
    const grantees = [...byGrantee.values()].flatMap((g) => {
      const u = g.uses.get(term);
      return u ? [{ ...u, purposes: [...u.purposes].sort((a, b) => a - b) }] : [];
    });
    termsOut[term] = { term, everyone: grantees.length > 0 ? "constrained" : "notAllowed", grantees };
  }
  const grantees = [...byGrantee.values()].map((g) => {
    const uses = {} as Record<VocabularyTerm<V>, Use>;
    const until = {} as Record<VocabularyTerm<V>, bigint>;
    for (const term of terms) {
      const u = g.uses.get(term);
      uses[term] = u?.use ?? "notAllowed";
      until[term] = u?.until ?? NO_EXPIRY;
    }
    return { grantee: g.grantee, uses, until };
  });
  const future = live.map((c) => c.expiresAt).filter((t) => t !== NO_EXPIRY && t > choices.now);
  return {
    vocabulary,
    terms: termsOut,
    grantees,
    changesAt: future.length ? future.reduce((a, b) => (a < b ? a : b)) : null,
    unmapped: [...unmapped].sort((a, b) => a - b),
  };
}

/** Warnings for purposes the export could not reflect, in words. */
export function unmappedWarnings(unmapped: readonly number[]): string[] {
  return unmapped.map(
    (id) =>
      `${purposeName(id)} (${id}) has no purpose document here, so consents for it are not reflected in this export (resolve its document first)`,
  );
}

/** Where the consent that allows a use is recorded, in words, for texts inside the exports. */
export function registryWords(choices: AssetChoices): string {
  const where = choices.registry
    ? `the OmniTensor Consent Registry ${choices.registry.address} on chain ${choices.registry.chainId}`
    : "the OmniTensor Consent Registry";
  return `${where}, owner ${choices.owner}, data id ${choices.dataId}`;
}
