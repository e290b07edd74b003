import { readFileSync } from "node:fs";
import { join } from "node:path";

import { expect } from "chai";
import { Token, parseDictionary } from "structured-headers";

import { initialPurposeDocuments } from "../../src/documents/initial-purposes.js";
import { ALL_DATA, NO_EXPIRY } from "../../src/sdk/constants.js";
import { Purpose, purposesToMask } from "../../src/sdk/purposes.js";
import { assess, mappingsFromDocuments } from "../../src/vocabularies/choices.js";
import type { AssetChoices } from "../../src/vocabularies/choices.js";
import { EXPORT_FORMATS, exportChoices } from "../../src/vocabularies/export.js";
import { exportAipref } from "../../src/vocabularies/aipref.js";
import { exportCawg } from "../../src/vocabularies/cawg.js";
import { exportErc7517 } from "../../src/vocabularies/erc7517.js";
import { exportTdmrep } from "../../src/vocabularies/tdmrep.js";
import { compileSchema, errorsOf } from "../helpers/ajv.js";

const FIXTURES = join(import.meta.dirname, "..", "fixtures", "vocabularies");
const schema = (name: string) => compileSchema(JSON.parse(readFileSync(join(FIXTURES, name), "utf8")));
const examples = JSON.parse(readFileSync(join(FIXTURES, "examples.json"), "utf8")) as Record<
  string,
  { valid: unknown[]; invalid: unknown[] }
>;

const NOW = 1_800_000_000n;
const OWNER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const DATA = `0x${"5f".repeat(32)}`;
const G1 = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";
const G2 = "0x90F79bf6EB2c4f870365E785982E1f101E93b906";
const G3 = "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65";
const G4 = "0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc";
const REGISTRY = { chainId: 31337n, address: "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0" };

/** G1 may train and infer (ALL_DATA, no expiry); G2 may fine-tune for 1000 s more; G3's analytics consent expired; G4 holds a purpose with no document. */
const CHOICES: AssetChoices = {
  owner: OWNER,
  dataId: DATA,
  now: NOW,
  registry: REGISTRY,
  consents: [
    {
      grantee: G1,
      purposes: purposesToMask([Purpose.MODEL_TRAINING, Purpose.INFERENCE]),
      expiresAt: NO_EXPIRY,
      dataId: ALL_DATA,
    },
    { grantee: G2, purposes: [Purpose.FINE_TUNING], expiresAt: NOW + 1000n, dataId: DATA },
    { grantee: G3, purposes: [Purpose.ANALYTICS], expiresAt: NOW, dataId: DATA },
    { grantee: G4, purposes: [9], expiresAt: NO_EXPIRY, dataId: DATA },
  ],
};
const NONE: AssetChoices = { ...CHOICES, consents: [] };
const WHERE = `the OmniTensor Consent Registry ${REGISTRY.address} on chain 31337, owner ${OWNER}, data id ${DATA}`;
const WARNING =
  "purpose#9 (9) has no purpose document here, so consents for it are not reflected in this export (resolve its document first)";

/**
 * The processing of draft-ietf-aipref-vocab-07 §"Processing Algorithm", written here from the
 * draft: parse an RFC 9651 Dictionary; per category, Token y → allow, Token n → disallow, anything
 * else (absent, not a Token, another Token) → unknown; a parse failure leaves all unknown.
 */
function aiprefPreferences(text: string): Record<"train-ai" | "search", "allow" | "disallow" | "unknown"> {
  const out = { "train-ai": "unknown", search: "unknown" } as Record<
    "train-ai" | "search",
    "allow" | "disallow" | "unknown"
  >;
  let dict: Map<string, unknown>;
  try {
    dict = parseDictionary(text) as Map<string, unknown>;
  } catch {
    return out;
  }
  for (const label of ["train-ai", "search"] as const) {
    const member = dict.get(label) as [unknown, unknown] | undefined;
    const value = member?.[0];
    if (value instanceof Token && value.toString() === "y") out[label] = "allow";
    else if (value instanceof Token && value.toString() === "n") out[label] = "disallow";
  }
  return out;
}

/** The value of the robots.txt Content-Usage rules of a group (draft-ietf-aipref-attach-05 §"Processing Content-Usage Rules"). */
function contentUsageRules(robots: string): { path: string; value: string }[] {
  return robots
    .split(/\r?\n/)
    .map((line) => /^[ \t]*content-usage[ \t]*:[ \t]*([^#\r\n]*)/i.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => {
      const rest = m[1].trim();
      const sp = /^(\/\S*)[ \t]+(.*)$/.exec(rest);
      return sp ? { path: sp[1], value: sp[2] } : { path: "", value: rest };
    });
}

describe("vocabularies: an owner's choices in the AI opt-out formats", () => {
  describe("the fixtures written from each specification", () => {
    const files: Record<string, string> = {
      cawg: "cawg-training-mining-1.1.schema.json",
      erc7517: "erc7517-data-mining-preference.schema.json",
      "tdmrep-well-known": "tdmrep-well-known.schema.json",
      "tdmrep-policy": "tdmrep-policy.schema.json",
    };
    for (const [name, file] of Object.entries(files)) {
      it(`${file} accepts its valid examples and refuses its invalid ones`, () => {
        const validate = schema(file);
        for (const v of examples[name].valid)
          expect(validate(v), JSON.stringify(v) + errorsOf(validate)).to.equal(true);
        for (const v of examples[name].invalid) expect(validate(v), JSON.stringify(v)).to.equal(false);
      });
    }

    it("the AIPREF processing reads the draft's kinds of statement", () => {
      expect(aiprefPreferences("train-ai=y, search=n")).to.deep.equal({ "train-ai": "allow", search: "disallow" });
      expect(aiprefPreferences('train-ai=y, train-ai, search=n, search="n"')).to.deep.equal({
        "train-ai": "unknown",
        search: "unknown",
      });
      expect(aiprefPreferences("train-ai;allow=n, train-ai=y")).to.deep.equal({
        "train-ai": "allow",
        search: "unknown",
      });
      expect(aiprefPreferences("Train-AI=n")).to.deep.equal({ "train-ai": "unknown", search: "unknown" });
      expect(aiprefPreferences("search=n, ai-use=n")).to.deep.equal({ "train-ai": "unknown", search: "disallow" });
    });
  });

  it("reads the choices per term: live consents only, covers → allowed, part → constrained", () => {
    const a = assess("cawg", CHOICES);
    expect(a.terms["cawg.ai_training"]).to.deep.equal({
      term: "cawg.ai_training",
      everyone: "constrained",
      grantees: [
        { grantee: G1, use: "allowed", purposes: [0], until: NO_EXPIRY },
        { grantee: G2, use: "constrained", purposes: [1], until: NOW + 1000n },
      ],
    });
    expect(a.terms["cawg.data_mining"]).to.deep.equal({
      term: "cawg.data_mining",
      everyone: "notAllowed",
      grantees: [],
    });
    expect(a.grantees.map((g) => g.grantee)).to.deep.equal([G1, G2, G4]);
    expect(a.changesAt).to.equal(NOW + 1000n);
    expect(a.unmapped).to.deep.equal([9]);
    const withDoc = mappingsFromDocuments([
      ...initialPurposeDocuments(),
      { ...initialPurposeDocuments()[2], id: 9, name: "LIVE_INFERENCE" },
    ]);
    expect(assess("cawg", CHOICES, withDoc).terms["cawg.ai_inference"].grantees.map((g) => g.grantee)).to.deep.equal([
      G1,
      G4,
    ]);
  });

  describe("IETF AIPREF (draft-ietf-aipref-vocab-07, attach-05)", () => {
    it("says n to every category for everyone, in the header field and in robots.txt", () => {
      const out = exportAipref(CHOICES, { robotsPath: "/assets/" });
      expect(out.contentUsage).to.equal("train-ai=n, search=n");
      expect(aiprefPreferences(out.contentUsage)).to.deep.equal({ "train-ai": "disallow", search: "disallow" });
      expect(out.robotsTxt).to.equal("User-Agent: *\nContent-Usage: /assets/ train-ai=n, search=n\n");
      expect(contentUsageRules(out.robotsTxt)).to.deep.equal([{ path: "/assets/", value: "train-ai=n, search=n" }]);
      expect(contentUsageRules(exportAipref(NONE).robotsTxt)).to.deep.equal([
        { path: "", value: "train-ai=n, search=n" },
      ]);
      expect(out).to.deep.include({ draft: "draft-ietf-aipref-vocab-07", attach: "draft-ietf-aipref-attach-05" });
      expect(out.warnings).to.deep.equal([WARNING]);
      expect(() => exportAipref(CHOICES, { robotsPath: "assets" })).to.throw("a path starts with /");
    });

    it("gives each grantee its own statement: y only where its consent covers the whole category", () => {
      const out = exportAipref(CHOICES);
      expect(out.grantees.map((g) => [g.grantee, g.contentUsage])).to.deep.equal([
        [G1, "train-ai=y, search=n"],
        [G2, "train-ai=n, search=n"],
        [G4, "train-ai=n, search=n"],
      ]);
      expect(aiprefPreferences(out.grantees[0].contentUsage)).to.deep.equal({
        "train-ai": "allow",
        search: "disallow",
      });
      expect(out.grantees[0].until["train-ai"]).to.equal(NO_EXPIRY);
    });
  });

  describe("CAWG training-and-data-mining assertion 1.1", () => {
    const validate = schema("cawg-training-mining-1.1.schema.json");

    it("is constrained where a grantee's consent allows the use, notAllowed elsewhere, and valid", () => {
      const out = exportCawg(CHOICES);
      expect(out.label).to.equal("cawg.training-mining");
      const info = `allowed only with a consent recorded in ${WHERE}; without one: not allowed`;
      expect(out.assertion).to.deep.equal({
        entries: {
          "cawg.data_mining": { use: "notAllowed" },
          "cawg.ai_inference": { use: "constrained", constraint_info: info },
          "cawg.ai_generative_training": { use: "constrained", constraint_info: info },
          "cawg.ai_training": { use: "constrained", constraint_info: info },
        },
      });
      expect(validate(out.assertion), errorsOf(validate).join("; ")).to.equal(true);
    });

    it("is notAllowed everywhere with no consent", () => {
      const out = exportCawg(NONE);
      expect(Object.values(out.assertion.entries)).to.deep.equal(Array(4).fill({ use: "notAllowed" }));
      expect(validate(out.assertion)).to.equal(true);
      expect(out.changesAt).to.equal(null);
    });
  });

  describe("ERC-7517 dataMiningPreference", () => {
    it("has every member, constrained or notAllowed, and is valid", () => {
      const out = exportErc7517(CHOICES);
      expect(out.dataMiningPreference).to.deep.equal({
        dataMining: "notAllowed",
        aiInference: "constrained",
        aiTraining: "constrained",
        aiGenerativeTraining: "constrained",
        aiTrainingWithAuthorship: "constrained",
        aiGenerativeTrainingWithAuthorship: "constrained",
      });
      const validate = schema("erc7517-data-mining-preference.schema.json");
      expect(validate(out.dataMiningPreference)).to.equal(true);
      expect(validate(exportErc7517(NONE).dataMiningPreference)).to.equal(true);
    });
  });

  describe("TDMRep", () => {
    it("reserves TDM rights in every form, with a valid well-known file and policy", () => {
      const out = exportTdmrep(CHOICES, {
        location: "/assets/*",
        policyUrl: "https://owner.example/tdm-policy.json",
        policy: { uid: "https://owner.example/policies/1", name: "A. Owner", email: "me@owner.example" },
      });
      expect(out.headers).to.deep.equal({
        "tdm-reservation": "1",
        "tdm-policy": "https://owner.example/tdm-policy.json",
      });
      expect(out.wellKnown).to.deep.equal([
        { location: "/assets/*", "tdm-reservation": 1, "tdm-policy": "https://owner.example/tdm-policy.json" },
      ]);
      expect(out.htmlMeta).to.equal(
        '<meta name="tdm-reservation" content="1">\n<meta name="tdm-policy" content="https://owner.example/tdm-policy.json">\n',
      );
      expect(out.consentsForMining).to.equal(2);
      const wellKnown = schema("tdmrep-well-known.schema.json");
      expect(wellKnown(out.wellKnown), errorsOf(wellKnown).join("; ")).to.equal(true);
      const policy = schema("tdmrep-policy.schema.json");
      expect(policy(out.policy), errorsOf(policy).join("; ")).to.equal(true);
      expect(out.policy).to.deep.equal({
        "@context": ["http://www.w3.org/ns/odrl.jsonld", "http://www.w3.org/ns/tdmrep.jsonld"],
        "@type": "Offer",
        profile: "http://www.w3.org/ns/tdmrep",
        uid: "https://owner.example/policies/1",
        assigner: {
          uid: `did:pkh:eip155:31337:${OWNER}`,
          "vcard:fn": "A. Owner",
          "vcard:hasEmail": "mailto:me@owner.example",
        },
        permission: [{ action: "tdm:mine", duty: [{ action: "obtainConsent" }] }],
      });
    });

    it("reserves with no consent too, and refuses a bad location or policy URL", () => {
      const out = exportTdmrep(NONE);
      expect(out).to.deep.include({ reservation: 1, consentsForMining: 0, headers: { "tdm-reservation": "1" } });
      expect(out.wellKnown).to.deep.equal([{ location: "/", "tdm-reservation": 1 }]);
      expect(out).to.not.have.property("policy");
      const noChain = exportTdmrep({ ...NONE, registry: undefined }, { policy: { uid: "urn:example:policy:1" } });
      expect(noChain.policy?.assigner).to.deep.equal({});
      expect(schema("tdmrep-policy.schema.json")(noChain.policy)).to.equal(true);
      expect(() => exportTdmrep(NONE, { location: "assets" })).to.throw("starts with /");
      expect(() => exportTdmrep(NONE, { policyUrl: "policy.json" })).to.throw("a tdm-policy is an http(s) URL");
    });
  });

  it("exportChoices dispatches every format", () => {
    expect(EXPORT_FORMATS.map((f) => exportChoices(f, NONE).format)).to.deep.equal([...EXPORT_FORMATS]);
  });
});
