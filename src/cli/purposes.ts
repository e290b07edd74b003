import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { existsSync } from "node:fs";

import { documentSourceFrom } from "../documents/folder-source.js";
import { resolvePurposeDocument } from "../documents/resolve.js";
import type { DocumentSource } from "../documents/resolve.js";
import type { PurposeDocument } from "../documents/schemas.js";
import { MAX_PURPOSE_ID } from "../sdk/constants.js";
import { PURPOSES, maskToPurposes } from "../sdk/purposes.js";
import { CliError } from "./failure.js";

/**
 * Purpose names as the CLI reads and prints them. The initial catalogue's names are built in
 * (`src/sdk/purposes.ts`); a purpose that governance defined later is named by its purpose
 * document (the document whose hash the chain stores as the purpose's metadata), found in the
 * `--documents <folder|url>` source (env OMNI_DOCUMENTS; default: the package's `documents/`
 * folder). Names are read in any spelling (`MODEL_TRAINING`, `model_training`, `model-training`,
 * `Model-Training`) and printed as the document writes them (`MODEL_TRAINING`). A purpose
 * without a name anywhere prints as `purpose#<id>`.
 */

/** `MODEL_TRAINING` for `model-training`, `Model_Training`, ` MODEL-TRAINING `. */
export function canonicalPurposeName(text: string): string {
  return text.trim().toUpperCase().replace(/-/g, "_");
}

export class PurposeNames {
  private readonly byId = new Map<number, string>();
  private readonly byName = new Map<string, number>();
  /** Purposes defined on-chain but not grantable (deprecated); empty when the catalogue was not read. */
  readonly deprecated = new Set<number>();
  /** Lines about documents that could not be used (missing, mismatching), for `purposes`. */
  readonly notes = new Map<number, string>();
  /** The documents of purposes defined after the initial catalogue, by id (for the AI vocabularies). */
  readonly documents = new Map<number, PurposeDocument>();

  constructor(extra: Iterable<readonly [number, string]> = []) {
    for (const p of PURPOSES) this.add(p.id, p.name);
    for (const [id, name] of extra) this.add(id, name);
  }

  add(id: number, name: string): void {
    const key = canonicalPurposeName(name);
    const other = this.byName.get(key);
    if (other !== undefined && other !== id) return; // a document may not take a name in use
    this.byId.set(id, key);
    this.byName.set(key, id);
  }

  /** The id of a name in any spelling, or undefined. */
  idOf(name: string): number | undefined {
    return this.byName.get(canonicalPurposeName(name));
  }

  /** `INFERENCE`, or `purpose#<id>` for an id nobody named. */
  name(id: number): string {
    return this.byId.get(id) ?? `purpose#${id}`;
  }

  /** `INFERENCE(2)`. */
  label(id: number): string {
    return `${this.name(id)}(${id})`;
  }

  /** `MODEL_TRAINING(0), INFERENCE(2)` for ids or a bitmap. */
  list(purposes: readonly number[] | bigint): string {
    const ids = typeof purposes === "bigint" ? maskToPurposes(purposes) : purposes;
    return ids.map((id) => this.label(id)).join(", ");
  }

  /** Every known name in the CLI's help spelling (`model-training`). */
  words(): string[] {
    return [...this.byId.entries()].sort(([a], [b]) => a - b).map(([, n]) => n.toLowerCase().replace(/_/g, "-"));
  }
}

/** The built-in names only (no chain, no documents). */
export const BUILT_IN_NAMES = new PurposeNames();

/** The names the last command resolved (built-in until a command reads the catalogue); used to word errors. */
let current: PurposeNames = BUILT_IN_NAMES;
export function currentPurposeNames(): PurposeNames {
  return current;
}
export function setCurrentPurposeNames(names: PurposeNames): void {
  current = names;
}

/** `purpose#8` in a message from the SDK becomes the name from the documents, when known. */
export function namePurposesIn(text: string, names: PurposeNames = current): string {
  return text.replace(/purpose#(\d+)/g, (whole, id: string) => {
    const n = names.name(Number(id));
    return n.startsWith("purpose#") ? whole : n;
  });
}

/** The package's own `documents/` folder (the initial purposes' documents), from src/ or dist/src/. */
export function packagedDocumentsFolder(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, "documents");
    if (existsSync(join(candidate, "README.md"))) return candidate;
    dir = dirname(dir);
  }
  return undefined;
}

/** The document source of `--documents` (or the packaged folder), refused in one line when malformed. */
export function documentSources(spec: string | undefined): DocumentSource[] {
  if (spec !== undefined && spec.trim() !== "") {
    try {
      return [documentSourceFrom(spec, { ipfsGateway: process.env.OMNI_IPFS_GATEWAY })];
    } catch (err) {
      throw new CliError(`--documents: ${(err as Error).message}`);
    }
  }
  const packaged = packagedDocumentsFolder();
  return packaged === undefined ? [] : [documentSourceFrom(packaged)];
}

/**
 * The names of a catalogue read from the chain: built-in names for the initial ids, and for any
 * other defined id the name of its purpose document, when a source has it.
 */
export async function namesOfCatalogue(
  catalogue: { purposes: readonly { id: number; metadataHash: string; grantable: boolean }[] },
  sources: readonly DocumentSource[],
): Promise<PurposeNames> {
  const names = new PurposeNames();
  const builtIn = new Set(PURPOSES.map((p) => p.id));
  for (const p of catalogue.purposes) {
    if (!p.grantable) names.deprecated.add(p.id);
    if (builtIn.has(p.id)) continue;
    const r = await resolvePurposeDocument(p, sources);
    if (r.status === "ok") {
      names.add(p.id, r.document.name);
      names.documents.set(p.id, r.document);
    } else names.notes.set(p.id, r.message);
  }
  return names;
}

/** What a purpose token looks like before any chain is asked: a name or an id 0..127. */
export function checkPurposeToken(option: string, token: string): void {
  if (/^\d+$/.test(token)) {
    if (Number(token) > MAX_PURPOSE_ID) {
      throw new CliError(`${option}: purpose id ${token} is outside 0..${MAX_PURPOSE_ID}`);
    }
    return;
  }
  if (!/^[A-Za-z][A-Za-z0-9_-]*$/.test(token)) {
    throw new CliError(
      `${option}: "${token}" is not a purpose name or id; use one of ${BUILT_IN_NAMES.words().join(", ")}, or an id 0..${MAX_PURPOSE_ID}`,
    );
  }
}
