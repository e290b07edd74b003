import { PURPOSES } from "../sdk/purposes.js";
import type { PurposeName } from "../sdk/purposes.js";
import { documentHash } from "./canonical.js";
import { PURPOSE_DOCUMENT_FORMAT, purposeDocumentSchema } from "./schemas.js";
import type { AiVocabularies, PurposeDocument } from "./schemas.js";

/**
 * The purpose documents of the initial catalogue (browser-safe), built from `PURPOSES`
 * (`src/sdk/purposes.ts`: id, name, description, DPV concept) and the one table below that maps
 * each purpose to the AI opt-out vocabularies. `documents/` holds them as files
 * (`npm run documents` writes them; `test/documents/initial-purposes.ts` checks they are these).
 *
 * Reading the table: `covers` means every use the term names is within the purpose, `part` that
 * only some are; a term left out is one the purpose does not touch.
 * - MODEL_TRAINING is training any model, generative or not, so it covers AIPREF `train-ai`
 *   (changing the parameters of a generative model), CAWG `ai_training` (non-generative) and
 *   `ai_generative_training`, and ERC-7517's four training members; training is one kind of text
 *   and data mining (`tdm:mine`: analysis that yields patterns, trends, correlations): part.
 * - FINE_TUNING adapts an existing model: some training uses, so `part` of each training term.
 * - INFERENCE is what CAWG `ai_inference` and ERC-7517 `aiInference` name (input to a trained
 *   model to infer a result); AIPREF -07 has no inference category.
 * - EVALUATION runs models over the data to measure them: part of inference.
 * - ANALYTICS, PRODUCT_IMPROVEMENT and RESEARCH may mine the data for patterns, among other
 *   things: part of CAWG `data_mining`, ERC-7517 `dataMining` and `tdm:mine`.
 * - THIRD_PARTY_SHARING hands the data on; no vocabulary has a term for that.
 * No purpose touches AIPREF `search` (selecting assets and linking users to them).
 */
export const INITIAL_AI_VOCABULARIES: Readonly<Record<PurposeName, AiVocabularies>> = {
  MODEL_TRAINING: {
    aipref: { "train-ai": "covers" },
    cawg: { "cawg.ai_training": "covers", "cawg.ai_generative_training": "covers" },
    erc7517: {
      aiTraining: "covers",
      aiGenerativeTraining: "covers",
      aiTrainingWithAuthorship: "covers",
      aiGenerativeTrainingWithAuthorship: "covers",
    },
    tdmrep: { "tdm:mine": "part" },
  },
  FINE_TUNING: {
    aipref: { "train-ai": "part" },
    cawg: { "cawg.ai_training": "part", "cawg.ai_generative_training": "part" },
    erc7517: {
      aiTraining: "part",
      aiGenerativeTraining: "part",
      aiTrainingWithAuthorship: "part",
      aiGenerativeTrainingWithAuthorship: "part",
    },
    tdmrep: { "tdm:mine": "part" },
  },
  INFERENCE: {
    aipref: {},
    cawg: { "cawg.ai_inference": "covers" },
    erc7517: { aiInference: "covers" },
    tdmrep: {},
  },
  EVALUATION: {
    aipref: {},
    cawg: { "cawg.ai_inference": "part" },
    erc7517: { aiInference: "part" },
    tdmrep: {},
  },
  ANALYTICS: {
    aipref: {},
    cawg: { "cawg.data_mining": "part" },
    erc7517: { dataMining: "part" },
    tdmrep: { "tdm:mine": "part" },
  },
  PRODUCT_IMPROVEMENT: {
    aipref: {},
    cawg: { "cawg.data_mining": "part" },
    erc7517: { dataMining: "part" },
    tdmrep: { "tdm:mine": "part" },
  },
  THIRD_PARTY_SHARING: { aipref: {}, cawg: {}, erc7517: {}, tdmrep: {} },
  RESEARCH: {
    aipref: {},
    cawg: { "cawg.data_mining": "part" },
    erc7517: { dataMining: "part" },
    tdmrep: { "tdm:mine": "part" },
  },
};

/** `dpv:Share` → `https://w3id.org/dpv#Share` (the SDK writes the DPV prefix form). */
export function dpvIri(concept: string): string {
  return concept.startsWith("dpv:") ? `https://w3id.org/dpv#${concept.slice(4)}` : concept;
}

/** The purpose documents of the initial catalogue, in id order, each checked against its schema. */
export function initialPurposeDocuments(): PurposeDocument[] {
  return PURPOSES.map((p) =>
    purposeDocumentSchema.parse({
      format: PURPOSE_DOCUMENT_FORMAT,
      id: p.id,
      name: p.name,
      description: p.description,
      dpv: dpvIri(p.dpv),
      aiVocabularies: INITIAL_AI_VOCABULARIES[p.name],
      language: "en",
    }),
  );
}

/**
 * The metadata hashes of the initial purpose documents, in id order: what the deployment should
 * pass as `purposeMetadata` once the registry's purposes commit to documents (today
 * `initialPurposeMetadata()` in `src/sdk/purposes.ts` hashes a `omnitensor-purpose:…` string).
 */
export function initialPurposeDocumentHashes(): string[] {
  return initialPurposeDocuments().map(documentHash);
}
