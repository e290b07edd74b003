/**
 * The terms of the AI opt-out vocabularies that purposes map to (browser-safe), each with the
 * text it comes from. One list per vocabulary; the purpose documents' schema
 * (`src/documents/schemas.ts`) and the writers (`src/vocabularies/*.ts`) both read these.
 */

/**
 * IETF AIPREF usage categories, from the label table of draft-ietf-aipref-vocab-07 (19 August
 * 2026; §"Usage Category Labels"): `train-ai` (AI Model Training: using an asset to change the
 * learned parameters of a model used to generate synthetic content) and `search`. `ai-use`
 * existed only in draft -02 (July 2025) and `train-genai` in -02/-03; -04 had `ai-output`; none
 * is in -05, -06 or -07, so none is written here.
 */
export const AIPREF_DRAFT = "draft-ietf-aipref-vocab-07";
/** The draft whose Content-Usage header field and robots.txt rule are written (draft-ietf-aipref-attach-05). */
export const AIPREF_ATTACH_DRAFT = "draft-ietf-aipref-attach-05";
export const AIPREF_TERMS = ["train-ai", "search"] as const;
export type AiprefTerm = (typeof AIPREF_TERMS)[number];

/**
 * Entries of the CAWG Training and Data Mining assertion 1.1 (DIF, ratified 16 May 2025; label
 * `cawg.training-mining`, CDDL `training-mining-entries-map`). In 1.1 `cawg.ai_training` is the
 * training of non-generative models only; generative training is `cawg.ai_generative_training`.
 */
export const CAWG_VERSION = "CAWG Training and Data Mining assertion 1.1";
export const CAWG_TERMS = [
  "cawg.data_mining",
  "cawg.ai_inference",
  "cawg.ai_generative_training",
  "cawg.ai_training",
] as const;
export type CawgTerm = (typeof CAWG_TERMS)[number];

/**
 * Members of ERC-7517's `dataMiningPreference` (Draft, "Content Consent for AI/ML Data Mining",
 * §Specification and its JSON schema). `aiTraining` covers generative and non-generative
 * training; the `…WithAuthorship` variants are the same uses on condition that authorship is
 * disclosed.
 */
export const ERC7517_TERMS = [
  "dataMining",
  "aiInference",
  "aiTraining",
  "aiGenerativeTraining",
  "aiTrainingWithAuthorship",
  "aiGenerativeTrainingWithAuthorship",
] as const;
export type Erc7517Term = (typeof ERC7517_TERMS)[number];

/**
 * TDMRep (W3C TDM Reservation Protocol Community Group, Final Report): one reservation
 * (`tdm-reservation`) over text and data mining, whose policy's only action is `tdm:mine`
 * ("analyse, via automated analytical technique, text and data in digital form in order to
 * generate information which includes but is not limited to patterns, trends and correlations").
 */
export const TDMREP_TERMS = ["tdm:mine"] as const;
export type TdmrepTerm = (typeof TDMREP_TERMS)[number];

/**
 * How a purpose relates to a term: `covers` when every use the term names is within the
 * purpose (a consent for the purpose allows the whole term), `part` when only some are (a
 * consent allows the term only under conditions: CAWG and ERC-7517 `constrained`).
 */
export const TERM_RELATIONS = ["covers", "part"] as const;
export type TermRelation = (typeof TERM_RELATIONS)[number];

export const VOCABULARIES = {
  aipref: AIPREF_TERMS,
  cawg: CAWG_TERMS,
  erc7517: ERC7517_TERMS,
  tdmrep: TDMREP_TERMS,
} as const;
export type VocabularyName = keyof typeof VOCABULARIES;
export type VocabularyTerm<V extends VocabularyName> = (typeof VOCABULARIES)[V][number];
