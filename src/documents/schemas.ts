import { z } from "zod";

import { MAX_PURPOSE_ID } from "../sdk/constants.js";
import { TERM_RELATIONS, VOCABULARIES } from "../vocabularies/terms.js";
import type { TermRelation, VocabularyName, VocabularyTerm } from "../vocabularies/terms.js";

/**
 * The documents behind the on-chain metadata hashes (browser-safe): one zod definition each,
 * from which the published JSON Schemas in `schemas/` are generated (`npm run documents`;
 * `test/documents/schemas.ts` checks that the committed files are what this generates and that
 * ajv and zod agree on every sample). Only constructs that JSON Schema 2020-12 states exactly
 * are used (literals, regular expressions, integer ranges, strict objects, arrays), so the two
 * definitions accept the same documents.
 */

export const PURPOSE_DOCUMENT_FORMAT = "omni-consent/purpose-document@1";
export const INTEGRATION_DOCUMENT_FORMAT = "omni-consent/integration-document@1";

/** Patterns, each valid both as a JavaScript regular expression and under ajv's `u` flag. */
const PURPOSE_NAME = /^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/;
const DPV_IRI = /^https:\/\/w3id\.org\/dpv(\/[a-z0-9-]+)*#[A-Za-z][A-Za-z0-9]*$/;
const HTTPS_URL = /^https:\/\/[^\s/?#]+(\/[^\s]*)?$/;
const EMAIL = /^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$/;
const ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const COUNTRY = /^[A-Z]{2}$/;
const LANGUAGE = /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/;
/** An ISO 8601 duration without months or years (their length varies): PnW, or PnD with an optional time part. */
const DURATION = /^P(\d+W|(?=\d|T\d)(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?)$/;

/**
 * A string of at most `max` characters counted as JSON Schema counts them (code points, so an
 * emoji is one), where zod's own `.max` would count UTF-16 units; the limit is published as
 * `maxLength`.
 */
const chars = (max: number) =>
  z
    .string()
    .refine((s) => [...s].length <= max, { error: `at most ${max} characters` })
    .meta({ maxLength: max });
/** Non-empty text of at most `max` characters. */
const text = (max: number) => chars(max).min(1, { error: "must not be empty" });

const purposeId = z.int().min(0).max(MAX_PURPOSE_ID).describe("the purpose id on-chain (0..127)");
const purposeName = chars(64)
  .regex(PURPOSE_NAME)
  .describe("the purpose's name in capitals with underscores (MODEL_TRAINING); also written model-training");
const dpvIri = chars(200)
  .regex(DPV_IRI)
  .describe("the closest W3C Data Privacy Vocabulary concept, as a full IRI (https://w3id.org/dpv#Purpose)");

const relation = z.enum(TERM_RELATIONS);

function termMap<V extends VocabularyName>(name: V, description: string) {
  const shape = Object.fromEntries(VOCABULARIES[name].map((t) => [t, relation.optional()]));
  return z
    .strictObject(shape as Record<VocabularyTerm<V>, z.ZodOptional<typeof relation>>)
    .describe(description) as unknown as z.ZodType<Partial<Record<VocabularyTerm<V>, TermRelation>>>;
}

/** How a purpose maps to each AI opt-out vocabulary: term → `covers` | `part`; a term left out is not touched by the purpose. */
export const aiVocabulariesSchema = z
  .strictObject({
    aipref: termMap("aipref", "IETF AIPREF usage categories (draft-ietf-aipref-vocab-07)"),
    cawg: termMap("cawg", "CAWG Training and Data Mining assertion 1.1 entries"),
    erc7517: termMap("erc7517", "ERC-7517 dataMiningPreference members"),
    tdmrep: termMap("tdmrep", "TDMRep actions"),
  })
  .describe(
    "For each vocabulary, the terms this purpose touches: covers = every use the term names is within the purpose; part = only some are",
  );

export const purposeDocumentSchema = z
  .strictObject({
    format: z.literal(PURPOSE_DOCUMENT_FORMAT),
    id: purposeId,
    name: purposeName,
    description: text(500).describe("what the purpose allows, in one or two sentences a data subject can read"),
    dpv: dpvIri,
    aiVocabularies: aiVocabulariesSchema,
    language: z.string().regex(LANGUAGE).optional().describe("BCP 47 language of the texts (default en)"),
  })
  .meta({
    title: "OmniTensor purpose document",
    description:
      "The document a purpose's on-chain metadataHash commits to: metadataHash = keccak256(UTF-8(RFC 8785 JCS(document)))",
  });

export const integrationDocumentSchema = z
  .strictObject({
    format: z.literal(INTEGRATION_DOCUMENT_FORMAT),
    integration: z.string().regex(ADDRESS).describe("the integration's address on-chain"),
    displayName: text(100).describe("the name people know the integration by"),
    legalEntity: text(200).describe("the legal entity that operates it (the controller or processor)"),
    country: z.string().regex(COUNTRY).describe("the legal entity's country, ISO 3166-1 alpha-2"),
    privacyPolicy: chars(500).regex(HTTPS_URL).describe("an https URL of its privacy policy"),
    contact: z
      .strictObject({
        email: chars(200).regex(EMAIL),
        url: chars(500).regex(HTTPS_URL).optional(),
        dataProtectionOfficer: chars(200).regex(EMAIL).optional(),
      })
      .describe("where a data subject writes to"),
    purposes: z
      .array(z.strictObject({ id: purposeId, name: purposeName, dpv: dpvIri }))
      .min(1)
      .max(128)
      .describe("the purposes it receives data for (the same set as its on-chain purposes)"),
    retention: z
      .strictObject({
        period: z.string().regex(DURATION).describe("ISO 8601 duration without months or years (P30D, P52W)"),
        description: text(500).optional(),
      })
      .describe("how long it keeps data it receives"),
    language: z.string().regex(LANGUAGE).optional().describe("BCP 47 language of the texts (default en)"),
  })
  .meta({
    title: "OmniTensor integration document",
    description:
      "The document an integration's on-chain metadataHash commits to: metadataHash = keccak256(UTF-8(RFC 8785 JCS(document)))",
  });

export type PurposeDocument = z.infer<typeof purposeDocumentSchema>;
export type IntegrationDocument = z.infer<typeof integrationDocumentSchema>;
export type AiVocabularies = z.infer<typeof aiVocabulariesSchema>;

/** The kinds of document, by name, with their schema. */
export const DOCUMENT_KINDS = {
  purpose: { format: PURPOSE_DOCUMENT_FORMAT, schema: purposeDocumentSchema, file: "purpose-document.schema.json" },
  integration: {
    format: INTEGRATION_DOCUMENT_FORMAT,
    schema: integrationDocumentSchema,
    file: "integration-document.schema.json",
  },
} as const;
export type DocumentKind = keyof typeof DOCUMENT_KINDS;
export interface DocumentOf {
  purpose: PurposeDocument;
  integration: IntegrationDocument;
}

/** The published JSON Schema (2020-12) of a kind of document, as committed in `schemas/`. */
export function publishedJsonSchema(kind: DocumentKind): Record<string, unknown> {
  const { $schema, ...rest } = z.toJSONSchema(DOCUMENT_KINDS[kind].schema, { target: "draft-2020-12" });
  return { $schema, $id: `urn:omni-consent:schema:${kind}-document:1`, ...rest };
}
