import type { DocumentSource } from "../documents/resolve.js";
import { resolveIntegrationDocument } from "../documents/resolve.js";
import type { IntegrationDocument } from "../documents/schemas.js";
import type { LabelBook } from "../labels/label-book.js";
import { labelsByDataId } from "../labels/label-book.js";
import type { IntegrationItem, NameBook } from "./data.js";

/**
 * Where the names in a view come from (browser-safe): integration documents (the document an
 * integration's on-chain metadata hash commits to), the owner's label book, and names the reader
 * gives for other accounts (e.g. the demo's processors). A document that is missing or does not
 * match its hash gives no name; the view says why (`documentProblem`).
 */

/** What a view shows of an integration's document (its name, who runs it, where to write). */
export interface IntegrationFacts {
  displayName: string;
  legalEntity: string;
  country: string;
  privacyPolicy: string;
  email: string;
  retention: string;
}

/** A NameBook that also knows integrations' documents, and why a document could not be shown. */
export interface ViewNames extends NameBook {
  integrationOf?(address: string): IntegrationFacts | undefined;
  /** One line: why an integration's document is not shown (missing, mismatch, invalid, unreachable). */
  documentProblem?(address: string): string | undefined;
}

export interface NameSources {
  /** Integration documents by integration address (checked against their hash by `resolveIntegrationNames`). */
  integrations?: ReadonlyMap<string, IntegrationDocument>;
  /** Why an integration's document could not be shown, by address. */
  problems?: ReadonlyMap<string, string>;
  /** The owner's label book (never leaves their machine). */
  labels?: LabelBook;
  /** Other names the reader knows, by address (any letter case). */
  accounts?: ReadonlyMap<string, string> | Record<string, string>;
}

const lower = <V>(m: ReadonlyMap<string, V> | Record<string, V> | undefined): Map<string, V> =>
  new Map([...(m instanceof Map ? m.entries() : Object.entries(m ?? {}))].map(([k, v]) => [k.toLowerCase(), v]));

/** A name book from documents, a label book and known names; integration documents win over `accounts`. */
export function viewNames(src: NameSources = {}): ViewNames {
  const docs = lower(src.integrations);
  const problems = lower(src.problems);
  const accounts = lower(src.accounts);
  const labels = src.labels ? lower(labelsByDataId(src.labels)) : new Map<string, string>();
  return {
    nameOf: (address) => docs.get(address.toLowerCase())?.displayName ?? accounts.get(address.toLowerCase()),
    labelOf: (dataId) => labels.get(dataId.toLowerCase()),
    integrationOf(address) {
      const d = docs.get(address.toLowerCase());
      if (!d) return undefined;
      return {
        displayName: d.displayName,
        legalEntity: d.legalEntity,
        country: d.country,
        privacyPolicy: d.privacyPolicy,
        email: d.contact.email,
        retention: d.retention.description ?? d.retention.period,
      };
    },
    documentProblem: (address) => problems.get(address.toLowerCase()),
  };
}

/**
 * Each integration's document from `sources`, checked against its on-chain hash, address and
 * purposes: the documents found, and a line for each one that could not be shown.
 */
export async function resolveIntegrationNames(
  integrations: readonly Pick<IntegrationItem, "address" | "metadataHash" | "purposes">[],
  sources: DocumentSource | readonly DocumentSource[],
): Promise<{ integrations: Map<string, IntegrationDocument>; problems: Map<string, string> }> {
  const found = new Map<string, IntegrationDocument>();
  const problems = new Map<string, string>();
  for (const i of integrations) {
    const mask = i.purposes.reduce((m, p) => m | (1n << BigInt(p.id)), 0n);
    const r = await resolveIntegrationDocument(
      { integration: i.address, metadataHash: i.metadataHash, purposes: mask },
      sources,
    );
    if (r.status === "ok") found.set(i.address.toLowerCase(), r.document);
    else problems.set(i.address.toLowerCase(), r.message);
  }
  return { integrations: found, problems };
}
