import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

import { expect } from "chai";

import { documentFileName, documentHash } from "../../src/documents/canonical.js";
import {
  INITIAL_AI_VOCABULARIES,
  dpvIri,
  initialPurposeDocumentHashes,
  initialPurposeDocuments,
} from "../../src/documents/initial-purposes.js";
import { purposeNamesFromDocuments } from "../../src/documents/resolve.js";
import { PURPOSES, parsePurpose } from "../../src/sdk/purposes.js";

const DOCS = join(import.meta.dirname, "..", "..", "documents");

describe("documents: the initial purposes' documents", () => {
  it("documents/ holds exactly the 8 initial purpose documents, each named by its hash", () => {
    const files = readdirSync(DOCS)
      .filter((f) => f.endsWith(".json"))
      .sort();
    const hashes = initialPurposeDocumentHashes();
    expect(files).to.deep.equal(hashes.map(documentFileName).sort());
    for (const [i, doc] of initialPurposeDocuments().entries()) {
      const stored = JSON.parse(readFileSync(join(DOCS, documentFileName(hashes[i])), "utf8"));
      expect(stored, doc.name).to.deep.equal(doc);
      expect(documentHash(stored), doc.name).to.equal(hashes[i]);
    }
  });

  it("are the SDK's catalogue: same ids, names, descriptions and DPV concepts (as full IRIs)", () => {
    const docs = initialPurposeDocuments();
    expect(docs.map((d) => [d.id, d.name, d.description, d.dpv])).to.deep.equal(
      PURPOSES.map((p) => [p.id, p.name, p.description, `https://w3id.org/dpv#${p.dpv.slice("dpv:".length)}`]),
    );
    expect(dpvIri("dpv:Share")).to.equal("https://w3id.org/dpv#Share");
    expect(dpvIri("https://w3id.org/dpv/ai#AITraining")).to.equal("https://w3id.org/dpv/ai#AITraining");
  });

  it("hash to these values (a change of a document changes what the deployment must commit to)", () => {
    expect(initialPurposeDocumentHashes()[0]).to.equal(
      "0xe2414cf4186c7bddaeb1067bf687d885ccfa0b59c1333a4ad3dad7e2158a7ff6",
    );
    expect(new Set(initialPurposeDocumentHashes()).size).to.equal(8);
  });

  it("map purposes to the vocabularies as the table says", () => {
    expect(INITIAL_AI_VOCABULARIES.MODEL_TRAINING.aipref).to.deep.equal({ "train-ai": "covers" });
    expect(INITIAL_AI_VOCABULARIES.INFERENCE.cawg).to.deep.equal({ "cawg.ai_inference": "covers" });
    expect(INITIAL_AI_VOCABULARIES.THIRD_PARTY_SHARING).to.deep.equal({
      aipref: {},
      cawg: {},
      erc7517: {},
      tdmrep: {},
    });
    const touchingSearch = Object.entries(INITIAL_AI_VOCABULARIES).filter(([, v]) => "search" in v.aipref);
    expect(touchingSearch).to.deep.equal([]);
  });

  it("are the table docs/AI-OPT-OUT.md shows", () => {
    const cell = (r: string | undefined) => (r === "covers" ? "C" : r === "part" ? "p" : "");
    const text = readFileSync(join(DOCS, "..", "docs", "AI-OPT-OUT.md"), "utf8");
    for (const [name, v] of Object.entries(INITIAL_AI_VOCABULARIES)) {
      const row = text.split("\n").find((l) => l.startsWith(`| ${name} `));
      expect(row, name).to.not.equal(undefined);
      const cells = row!
        .split("|")
        .slice(2, -1)
        .map((c) => c.trim());
      const training = [
        v.erc7517.aiTraining,
        v.erc7517.aiGenerativeTraining,
        v.erc7517.aiTrainingWithAuthorship,
        v.erc7517.aiGenerativeTrainingWithAuthorship,
      ];
      expect(new Set(training).size, `${name}: the four ERC-7517 training members share one column`).to.equal(1);
      expect(cells, name).to.deep.equal(
        [
          v.aipref["train-ai"],
          v.aipref.search,
          v.cawg["cawg.ai_training"],
          v.cawg["cawg.ai_generative_training"],
          v.cawg["cawg.ai_inference"],
          v.cawg["cawg.data_mining"],
          training[0],
          v.erc7517.aiInference,
          v.erc7517.dataMining,
          v.tdmrep["tdm:mine"],
        ].map(cell),
      );
    }
  });

  it("give names the SDK's spelling rule reads back, and refuse one name for two purposes", () => {
    const names = purposeNamesFromDocuments(initialPurposeDocuments());
    for (const [id, name] of names) {
      expect(parsePurpose(name.toLowerCase().replace(/_/g, "-"))).to.equal(id);
    }
    const [a, b] = initialPurposeDocuments();
    const extra = { ...b, id: 9, name: a.name };
    expect(() => purposeNamesFromDocuments([a, extra])).to.throw(
      "purpose name MODEL_TRAINING is given to purposes 0 and 9; names must be unique",
    );
    expect(purposeNamesFromDocuments([{ ...b, id: 8, name: "PERSONALISATION" }]).get(8)).to.equal("PERSONALISATION");
  });
});
