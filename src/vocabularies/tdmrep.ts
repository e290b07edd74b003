import { assess, unmappedWarnings } from "./choices.js";
import type { AssetChoices, PurposeMappings } from "./choices.js";

/**
 * TDMRep (W3C TDM Reservation Protocol CG Final Report): `tdm-reservation` 1 (TDM rights
 * reserved) for the asset, always, since the registry allows no mining without a consent, in
 * the protocol's forms: HTTP header fields, a `/.well-known/tdmrep.json` rule, HTML `meta`
 * elements; and, when a policy is asked for, a TDM Policy (the report's ODRL 2.2 profile: an
 * `Offer` whose one permission is `tdm:mine` with the duty `obtainConsent`) saying that mining
 * needs the owner's consent in the registry. The protocol names no party, so a grantee's
 * consent is not written into it: the consent is the license the policy points to.
 */
export interface TdmPolicyOptions {
  /** The policy's identifier (a URI; need not resolve), e.g. `https://owner.example/policies/1`. */
  uid: string;
  /** The rightsholder's name (vCard fn), and a web page about obtaining consent (vCard hasURL). */
  name?: string;
  url?: string;
  /** An email for requests (written as a mailto: URI). */
  email?: string;
}

export interface TdmrepExport {
  format: "tdmrep";
  reservation: 1;
  headers: Record<string, string>;
  wellKnown: { location: string; "tdm-reservation": 1; "tdm-policy"?: string }[];
  htmlMeta: string;
  policy?: Record<string, unknown>;
  /** How many grantees hold a live consent that touches text and data mining (`tdm:mine`). */
  consentsForMining: number;
  changesAt: bigint | null;
  warnings: string[];
}

const escapeAttr = (s: string) => s.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");

export function exportTdmrep(
  choices: AssetChoices,
  opts: { mappings?: PurposeMappings; location?: string; policyUrl?: string; policy?: TdmPolicyOptions } = {},
): TdmrepExport {
  const a = assess("tdmrep", choices, opts.mappings);
  const location = opts.location ?? "/";
  if (!location.startsWith("/"))
    throw new RangeError(`location "${location}": a TDMRep location pattern starts with /`);
  if (opts.policyUrl !== undefined && !/^https?:\/\/\S+$/.test(opts.policyUrl)) {
    throw new RangeError(`policy URL "${opts.policyUrl}": a tdm-policy is an http(s) URL`);
  }
  const headers: Record<string, string> = { "tdm-reservation": "1" };
  if (opts.policyUrl) headers["tdm-policy"] = opts.policyUrl;
  const rule: TdmrepExport["wellKnown"][number] = { location, "tdm-reservation": 1 };
  if (opts.policyUrl) rule["tdm-policy"] = opts.policyUrl;
  const meta = [`<meta name="tdm-reservation" content="1">`];
  if (opts.policyUrl) meta.push(`<meta name="tdm-policy" content="${escapeAttr(opts.policyUrl)}">`);
  const out: TdmrepExport = {
    format: "tdmrep",
    reservation: 1,
    headers,
    wellKnown: [rule],
    htmlMeta: `${meta.join("\n")}\n`,
    consentsForMining: a.terms["tdm:mine"].grantees.length,
    changesAt: a.changesAt,
    warnings: unmappedWarnings(a.unmapped),
  };
  if (opts.policy) {
    const p = opts.policy;
    // The owner's account as a CAIP-10 did:pkh, when the chain is known.
    const assigner: Record<string, string> = {};
    if (choices.registry) assigner.uid = `did:pkh:eip155:${choices.registry.chainId}:${choices.owner}`;
    if (p.name) assigner["vcard:fn"] = p.name;
    if (p.email) assigner["vcard:hasEmail"] = `mailto:${p.email}`;
    if (p.url) assigner["vcard:hasURL"] = p.url;
    out.policy = {
      "@context": ["http://www.w3.org/ns/odrl.jsonld", "http://www.w3.org/ns/tdmrep.jsonld"],
      "@type": "Offer",
      profile: "http://www.w3.org/ns/tdmrep",
      uid: p.uid,
      assigner,
      permission: [{ action: "tdm:mine", duty: [{ action: "obtainConsent" }] }],
    };
  }
  return out;
}
