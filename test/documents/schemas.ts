import { readFileSync } from "node:fs";
import { join } from "node:path";

import { expect } from "chai";

import { initialPurposeDocuments } from "../../src/documents/initial-purposes.js";
import {
  DOCUMENT_KINDS,
  integrationDocumentSchema,
  publishedJsonSchema,
  purposeDocumentSchema,
} from "../../src/documents/schemas.js";
import type { DocumentKind } from "../../src/documents/schemas.js";
import { compileSchema, errorsOf } from "../helpers/ajv.js";
import { SAMPLE_INTEGRATION } from "./helpers/samples.js";

const ROOT = join(import.meta.dirname, "..", "..");

type Sample = [label: string, value: unknown, valid: boolean];

const P = initialPurposeDocuments()[0];
const purposeSamples: Sample[] = [
  ...initialPurposeDocuments().map((d): Sample => [`initial ${d.name}`, d, true]),
  ["no language", { ...P, language: undefined }, true],
  ["500 emoji (500 characters)", { ...P, description: "😀".repeat(500) }, true],
  ["501 characters", { ...P, description: "a".repeat(501) }, false],
  ["empty description", { ...P, description: "" }, false],
  ["DPV extension namespace", { ...P, dpv: "https://w3id.org/dpv/ai#AITraining" }, true],
  ["DPV prefix form", { ...P, dpv: "dpv:ResearchAndDevelopment" }, false],
  ["DPV over http", { ...P, dpv: "http://w3id.org/dpv#Share" }, false],
  ["kebab name", { ...P, name: "model-training" }, false],
  ["lower name", { ...P, name: "model_training" }, false],
  ["double underscore", { ...P, name: "MODEL__TRAINING" }, false],
  ["name with digit", { ...P, name: "TIER2_ANALYTICS" }, true],
  ["id 128", { ...P, id: 128 }, false],
  ["id -1", { ...P, id: -1 }, false],
  ["id 1.5", { ...P, id: 1.5 }, false],
  ["id as string", { ...P, id: "0" }, false],
  ["other format", { ...P, format: "omni-consent/purpose-document@2" }, false],
  ["extra member", { ...P, owner: "x" }, false],
  ["no aiVocabularies", { ...P, aiVocabularies: undefined }, false],
  ["missing vocabulary", { ...P, aiVocabularies: { aipref: {}, cawg: {}, erc7517: {} } }, false],
  [
    "unknown AIPREF term ai-use",
    { ...P, aiVocabularies: { ...P.aiVocabularies, aipref: { "ai-use": "covers" } } },
    false,
  ],
  ["unknown relation", { ...P, aiVocabularies: { ...P.aiVocabularies, tdmrep: { "tdm:mine": "all" } } }, false],
  ["language en-GB", { ...P, language: "en-GB" }, true],
  ["language EN", { ...P, language: "EN" }, false],
  ["not an object", [P], false],
];

const I = SAMPLE_INTEGRATION;
const integrationSamples: Sample[] = [
  ["sample", I, true],
  ["lower-case address", { ...I, integration: I.integration.toLowerCase() }, true],
  ["short address", { ...I, integration: "0x1234" }, false],
  ["country de", { ...I, country: "de" }, false],
  ["country DEU", { ...I, country: "DEU" }, false],
  ["privacy policy over http", { ...I, privacyPolicy: "http://acme.example/privacy" }, false],
  ["privacy policy with a space", { ...I, privacyPolicy: "https://acme.example/pri vacy" }, false],
  ["privacy policy, host only", { ...I, privacyPolicy: "https://acme.example" }, true],
  ["no contact email", { ...I, contact: { url: "https://acme.example/contact" } }, false],
  ["bad email", { ...I, contact: { email: "privacy at acme" } }, false],
  ["contact with an extra member", { ...I, contact: { ...I.contact, phone: "+49" } }, false],
  ["no purposes", { ...I, purposes: [] }, false],
  ["purpose without dpv", { ...I, purposes: [{ id: 6, name: "THIRD_PARTY_SHARING" }] }, false],
  ["retention P52W", { ...I, retention: { period: "P52W" } }, true],
  ["retention PT36H", { ...I, retention: { period: "PT36H" } }, true],
  ["retention P1DT12H", { ...I, retention: { period: "P1DT12H" } }, true],
  ["retention P1M (months vary)", { ...I, retention: { period: "P1M" } }, false],
  ["retention P1Y", { ...I, retention: { period: "P1Y" } }, false],
  ["retention P", { ...I, retention: { period: "P" } }, false],
  ["retention PT", { ...I, retention: { period: "PT" } }, false],
  ["retention P1DT", { ...I, retention: { period: "P1DT" } }, false],
  ["retention P1W2D", { ...I, retention: { period: "P1W2D" } }, false],
  ["retention 30 days", { ...I, retention: { period: "30 days" } }, false],
  ["display name of 100 emoji", { ...I, displayName: "🏢".repeat(100) }, true],
  ["display name of 101 characters", { ...I, displayName: "x".repeat(101) }, false],
];

describe("documents: published JSON Schemas (2020-12) and their zod definitions", () => {
  for (const kind of Object.keys(DOCUMENT_KINDS) as DocumentKind[]) {
    it(`schemas/${DOCUMENT_KINDS[kind].file} is what the zod definition generates`, () => {
      const committed = JSON.parse(readFileSync(join(ROOT, "schemas", DOCUMENT_KINDS[kind].file), "utf8"));
      expect(committed).to.deep.equal(publishedJsonSchema(kind));
      expect(committed.$schema).to.equal("https://json-schema.org/draft/2020-12/schema");
      expect(committed.$id).to.equal(`urn:omni-consent:schema:${kind}-document:1`);
    });
  }

  const cases: [DocumentKind, typeof purposeDocumentSchema | typeof integrationDocumentSchema, Sample[]][] = [
    ["purpose", purposeDocumentSchema, purposeSamples],
    ["integration", integrationDocumentSchema, integrationSamples],
  ];
  for (const [kind, zodSchema, samples] of cases) {
    it(`ajv (the committed ${kind} schema) and zod give the expected verdict on ${samples.length} samples`, () => {
      const file = join(ROOT, "schemas", DOCUMENT_KINDS[kind].file);
      const validate = compileSchema(JSON.parse(readFileSync(file, "utf8")));
      for (const [label, raw, valid] of samples) {
        const value = JSON.parse(JSON.stringify(raw)); // as a file would hold it (undefined members dropped)
        const byAjv = validate(value);
        const byZod = zodSchema.safeParse(value).success;
        expect({ label, ajv: byAjv, zod: byZod }, errorsOf(validate).join("; ")).to.deep.equal({
          label,
          ajv: valid,
          zod: valid,
        });
      }
    });
  }
});
