import { ZeroHash } from "ethers";
import type { z } from "zod";

import { maskToPurposes } from "../sdk/purposes.js";
import { documentFileName, documentHash } from "./canonical.js";
import { DOCUMENT_KINDS } from "./schemas.js";
import type { DocumentKind, DocumentOf, IntegrationDocument, PurposeDocument } from "./schemas.js";

/**
 * Finding the document behind an on-chain metadata hash, and saying plainly what is wrong when
 * it cannot be shown (browser-safe: sources are passed in; the Node folder source is in
 * `./folder-source.ts`, the HTTP and IPFS-gateway source in `./http-source.ts`).
 *
 * Order of the checks: fetch `<hash>.json` → parse JSON → hash it (RFC 8785 + keccak256, see
 * `./canonical.ts`) and compare with the on-chain hash → validate it against its schema → check
 * that it is about what the chain says (a purpose document's `id`, an integration document's
 * address and purposes). A document that does not match its hash is never validated or shown:
 * whatever it says, it is not what was committed to.
 */

/** Where documents are fetched from. */
export interface DocumentSource {
  /** Where it looks, for messages: `folder ./documents`, `https://docs.example/omni/`. */
  readonly description: string;
  /**
   * The text stored for `fileName` (`<hash>.json`), or `null` when the source has no such
   * document. Throws {@link DocumentSourceError} when it cannot tell (unreachable, timed out,
   * too large, refused).
   */
  fetchText(fileName: string): Promise<string | null>;
}

/** A source that could not say whether it holds a document (network, timeout, size, permissions). */
export class DocumentSourceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DocumentSourceError";
  }
}

interface ResolutionBase {
  kind: DocumentKind;
  /** The on-chain hash that was asked for (lower case). */
  hash: string;
  /** One line saying what happened, naming the document and the source. */
  message: string;
}

export type Resolution<K extends DocumentKind = DocumentKind> =
  | (ResolutionBase & { status: "ok"; document: DocumentOf[K]; source: string })
  /** The chain commits to no document (metadata hash zero). */
  | (ResolutionBase & { status: "none" })
  /** No source has `<hash>.json`. */
  | (ResolutionBase & { status: "missing"; sources: string[] })
  /** A source has a file of that name whose content hashes to something else. */
  | (ResolutionBase & { status: "mismatch"; actual: string; source: string })
  /** The content matches but is not a valid document, or is about something else; `field` is where. */
  | (ResolutionBase & { status: "invalid"; field: string; source: string })
  /** No source could be read (and none had it). */
  | (ResolutionBase & { status: "unavailable"; source: string });

const WORDS: Record<DocumentKind, string> = { purpose: "purpose document", integration: "integration document" };

function short(hash: string): string {
  return `${hash.slice(0, 10)}…${hash.slice(-4)}`;
}

function fieldOf(path: readonly PropertyKey[]): string {
  if (path.length === 0) return "(the document)";
  return path.map((p, i) => (typeof p === "number" ? `[${p}]` : `${i === 0 ? "" : "."}${String(p)}`)).join("");
}

/** The first schema problem of `value`, as `{ field, problem }`, or null when it is valid. */
export function firstProblem(schema: z.ZodType, value: unknown): { field: string; problem: string } | null {
  const result = schema.safeParse(value);
  if (result.success) return null;
  const issue = result.error.issues[0];
  const path = issue.path;
  if (issue.code === "unrecognized_keys") {
    return { field: fieldOf([...path, issue.keys[0]]), problem: `not a field of this format` };
  }
  return { field: fieldOf(path), problem: issue.message };
}

async function fromOneSource<K extends DocumentKind>(
  kind: K,
  hash: string,
  source: DocumentSource,
): Promise<Resolution<K> | "missing"> {
  const what = `${WORDS[kind]} ${short(hash)}`;
  let text: string | null;
  try {
    text = await source.fetchText(documentFileName(hash));
  } catch (err) {
    const reason = err instanceof DocumentSourceError ? err.message : String(err);
    return {
      status: "unavailable",
      kind,
      hash,
      source: source.description,
      message: `${what} could not be read from ${source.description}: ${reason}`,
    };
  }
  if (text === null) return "missing";
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    return {
      status: "invalid",
      kind,
      hash,
      field: "(the document)",
      source: source.description,
      message: `${what} from ${source.description} is invalid (not JSON: ${(err as Error).message})`,
    };
  }
  const actual = documentHash(parsed);
  if (actual !== hash) {
    return {
      status: "mismatch",
      kind,
      hash,
      actual,
      source: source.description,
      message: `${what} from ${source.description} does not match (expected ${hash}, got ${actual}): it is not the document the chain commits to`,
    };
  }
  const problem = firstProblem(DOCUMENT_KINDS[kind].schema, parsed);
  if (problem) {
    return {
      status: "invalid",
      kind,
      hash,
      field: problem.field,
      source: source.description,
      message: `${what} from ${source.description} is invalid (field ${problem.field}: ${problem.problem})`,
    };
  }
  return {
    status: "ok",
    kind,
    hash,
    document: parsed as DocumentOf[K],
    source: source.description,
    message: `${what} from ${source.description}`,
  };
}

/**
 * The document of `kind` whose metadata hash is `hash`, from the first of `sources` that has a
 * matching, valid one. When none has: a mismatch or an invalid document is reported before an
 * unreadable source, and that before "missing" (which names every source tried).
 */
export async function resolveDocument<K extends DocumentKind>(
  kind: K,
  hash: string,
  sources: DocumentSource | readonly DocumentSource[],
): Promise<Resolution<K>> {
  const h = hash.toLowerCase();
  if (!/^0x[0-9a-f]{64}$/.test(h)) throw new TypeError(`not a 32-byte metadata hash: "${hash.slice(0, 80)}"`);
  if (h === ZeroHash) {
    return { status: "none", kind, hash: h, message: `no ${WORDS[kind]}: the chain commits to none (metadata hash 0)` };
  }
  const list = Array.isArray(sources) ? (sources as readonly DocumentSource[]) : [sources as DocumentSource];
  const failures: Resolution<K>[] = [];
  for (const source of list) {
    const r = await fromOneSource(kind, h, source);
    if (r === "missing") continue;
    if (r.status === "ok") return r;
    failures.push(r);
  }
  const rank = (r: Resolution<K>) => (r.status === "unavailable" ? 1 : 0);
  const worst = [...failures].sort((a, b) => rank(a) - rank(b))[0];
  if (worst) return worst;
  const names = list.map((s) => s.description);
  return {
    status: "missing",
    kind,
    hash: h,
    sources: names,
    message: `${WORDS[kind]} ${short(h)} is missing: no ${documentFileName(h)} in ${names.join(", ") || "any source (none configured)"}`,
  };
}

function notAbout<K extends DocumentKind>(r: Resolution<K> & { status: "ok" }, field: string, problem: string) {
  return {
    status: "invalid" as const,
    kind: r.kind,
    hash: r.hash,
    field,
    source: r.source,
    message: `${WORDS[r.kind]} ${short(r.hash)} from ${r.source} is invalid (field ${field}: ${problem})`,
  };
}

/** The purpose document of purpose `id` as the chain defines it, checked to be about that purpose. */
export async function resolvePurposeDocument(
  onChain: { id: number; metadataHash: string },
  sources: DocumentSource | readonly DocumentSource[],
): Promise<Resolution<"purpose">> {
  const r = await resolveDocument("purpose", onChain.metadataHash, sources);
  if (r.status === "ok" && r.document.id !== onChain.id) {
    return notAbout(r, "id", `the document is for purpose ${r.document.id}, the chain defines it for ${onChain.id}`);
  }
  return r;
}

/**
 * The integration document of an integration as the chain registers it, checked to be about
 * that address (any letter case) and to list exactly its on-chain purposes.
 */
export async function resolveIntegrationDocument(
  onChain: { integration: string; metadataHash: string; purposes: bigint },
  sources: DocumentSource | readonly DocumentSource[],
): Promise<Resolution<"integration">> {
  const r = await resolveDocument("integration", onChain.metadataHash, sources);
  if (r.status !== "ok") return r;
  const doc: IntegrationDocument = r.document;
  if (doc.integration.toLowerCase() !== onChain.integration.toLowerCase()) {
    return notAbout(r, "integration", `the document is about ${doc.integration}, not ${onChain.integration}`);
  }
  const listed = [...new Set(doc.purposes.map((p) => p.id))].sort((a, b) => a - b);
  const registered = maskToPurposes(onChain.purposes);
  if (listed.length !== doc.purposes.length) {
    return notAbout(r, "purposes", "a purpose is listed twice");
  }
  if (listed.join(",") !== registered.join(",")) {
    return notAbout(
      r,
      "purposes",
      `the document lists purposes ${listed.join(", ") || "none"}, the chain registers ${registered.join(", ") || "none"}`,
    );
  }
  return r;
}

/**
 * Names of purposes from their documents (id → NAME), for purposes that governance defined
 * after the initial catalogue: the SDK's spelling rule (`MODEL_TRAINING`, `model_training`,
 * `model-training`) applies to them unchanged, since a document's name is always capitals
 * and underscores.
 */
export function purposeNamesFromDocuments(documents: readonly PurposeDocument[]): ReadonlyMap<number, string> {
  const names = new Map<number, string>();
  const taken = new Map<string, number>();
  for (const d of documents) {
    const other = taken.get(d.name);
    if (other !== undefined && other !== d.id) {
      throw new RangeError(`purpose name ${d.name} is given to purposes ${other} and ${d.id}; names must be unique`);
    }
    taken.set(d.name, d.id);
    names.set(d.id, d.name);
  }
  return names;
}
