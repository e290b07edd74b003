import { id as keccakOfText } from "ethers";
import { z } from "zod";

import { dataIdFor, parseAssetCid } from "../keys/cid.js";
import { ALL_DATA } from "../sdk/constants.js";

/**
 * The owner's label book (browser-safe part): which of the owner's data ids is which asset.
 *
 * **It never leaves the owner's machine.** A data id is a salted commitment so that nobody can
 * link an on-chain consent to an asset; the book holds the labels and the salts that undo
 * exactly that. It is read to show the owner (in the CLI, the owner report, the dashboard) a
 * label instead of hex, and is never sent to a node, a custodian, an indexer or a report for
 * anyone else. The Node file store is `./label-book-file.ts`.
 *
 * Format `omni-consent/label-book@1`, a JSON object `{ format, entries }`, each entry one of:
 * - `{ label, salt, dataId }`: a data id made from a label, as the README shows:
 *   `dataId = keccak256(UTF-8(salt + ":" + label))` (ethers `id(`${salt}:${label}`)`). New
 *   entries get a salt of 32 random bytes written as 0x-hex; older ones may carry any salt text.
 * - `{ label, cid, salt, dataId }`: a sealed asset's data id, `dataIdFor(cid, salt)` of
 *   `src/keys/cid.ts` (salt: 32 bytes, 0x-hex).
 * The stored `dataId` is checked against its recipe on every read, so a damaged or hand-edited
 * book is refused rather than showing a wrong label. Labels and data ids are each unique.
 */

export const LABEL_BOOK_FORMAT = "omni-consent/label-book@1";

const HEX32 = /^0x[0-9a-f]{64}$/;

/** Why a label book or one of its changes was refused, in one line. */
export class LabelBookError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "LabelBookError";
  }
}

const labelSchema = z
  .string()
  .min(1, { error: "the label is empty" })
  .max(200, { error: "a label is at most 200 characters" })
  .refine((s) => s === s.trim(), { error: "a label does not start or end with spaces" })
  .refine((s) => !/[\u0000-\u001f\u007f]/.test(s), { error: "a label has no control characters" });

const labelEntrySchema = z.strictObject({
  label: labelSchema,
  salt: z.string().min(1, { error: "the salt is empty" }).max(200),
  dataId: z.string().regex(HEX32, { error: "expected 0x + 64 lower-case hex digits" }),
});
const cidEntrySchema = z.strictObject({
  label: labelSchema,
  cid: z.string().min(1).max(200),
  salt: z.string().regex(HEX32, { error: "the salt of a CID entry is 32 bytes: 0x + 64 lower-case hex digits" }),
  dataId: z.string().regex(HEX32, { error: "expected 0x + 64 lower-case hex digits" }),
});

const bookSchema = z.strictObject({
  format: z.literal(LABEL_BOOK_FORMAT, { error: `expected "format": "${LABEL_BOOK_FORMAT}"` }),
  entries: z.array(z.unknown(), { error: "expected a list of entries" }),
});

export type LabelEntry = z.infer<typeof labelEntrySchema>;
export type CidEntry = z.infer<typeof cidEntrySchema>;
export type LabelBookEntry = LabelEntry | CidEntry;
export interface LabelBook {
  format: typeof LABEL_BOOK_FORMAT;
  entries: LabelBookEntry[];
}

/** The data id of an asset named `label` with salt `salt`: keccak256(UTF-8(`${salt}:${label}`)). */
export function labelDataId(label: string, salt: string): string {
  if (salt === "") throw new LabelBookError("the salt is empty");
  return keccakOfText(`${salt}:${label}`);
}

/** A fresh salt: 32 random bytes as 0x-hex (from the platform's CSPRNG). */
export function randomSalt(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return `0x${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/** The data id an entry's recipe gives (what its stored `dataId` must be). */
export function derivedDataId(entry: LabelBookEntry): string {
  if ("cid" in entry) return dataIdFor(parseAssetCid(entry.cid), entry.salt);
  return labelDataId(entry.label, entry.salt);
}

export function emptyLabelBook(): LabelBook {
  return { format: LABEL_BOOK_FORMAT, entries: [] };
}

function checkEntries(entries: readonly LabelBookEntry[], where: string): void {
  const labels = new Map<string, number>();
  const ids = new Map<string, number>();
  entries.forEach((e, i) => {
    const at = `${where}entries[${i}]`;
    let derived: string;
    try {
      derived = derivedDataId(e);
    } catch (err) {
      throw new LabelBookError(`${at}.cid: ${(err as Error).message}`);
    }
    if (derived !== e.dataId) {
      throw new LabelBookError(
        `${at}.dataId: does not match its ${"cid" in e ? "CID" : "label"} and salt (expected ${derived}, stored ${e.dataId}); the book was changed by hand or damaged`,
      );
    }
    const sameLabel = labels.get(e.label);
    if (sameLabel !== undefined) {
      throw new LabelBookError(`${at}.label: "${e.label}" is already the label of entries[${sameLabel}]`);
    }
    const sameId = ids.get(e.dataId);
    if (sameId !== undefined) throw new LabelBookError(`${at}.dataId: already the data id of entries[${sameId}]`);
    labels.set(e.label, i);
    ids.set(e.dataId, i);
  });
}

/** Parses a label book's text, checking every entry's data id against its recipe. */
export function parseLabelBook(text: string, source = "label book"): LabelBook {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new LabelBookError(`${source}: not JSON (${(err as Error).message})`);
  }
  const fail = (issues: z.core.$ZodIssue[], prefix: readonly PropertyKey[]): never => {
    const issue = issues[0];
    const key = issue.code === "unrecognized_keys" ? [issue.keys[0]] : [];
    const path = [...prefix, ...issue.path, ...key]
      .map((p, i) => (typeof p === "number" ? `[${p}]` : `${i === 0 ? "" : "."}${String(p)}`))
      .join("");
    const message = issue.code === "unrecognized_keys" ? "not a field of this format" : issue.message;
    throw new LabelBookError(`${source}${path ? ` ${path}` : ""}: ${message}`);
  };
  const book = bookSchema.safeParse(raw);
  if (!book.success) fail(book.error.issues, []);
  const entries = (book.data as { entries: unknown[] }).entries.map((e, i) => {
    const schema = typeof e === "object" && e !== null && "cid" in e ? cidEntrySchema : labelEntrySchema;
    const entry = schema.safeParse(e);
    if (!entry.success) fail(entry.error.issues, ["entries", i]);
    return entry.data as LabelBookEntry;
  });
  checkEntries(entries, `${source} `);
  return { format: LABEL_BOOK_FORMAT, entries };
}

/** The text of a label book: 2-space indented JSON with a final newline. */
export function serializeLabelBook(book: LabelBook): string {
  checkEntries(book.entries, "");
  return `${JSON.stringify({ format: LABEL_BOOK_FORMAT, entries: book.entries }, null, 2)}\n`;
}

/** A new book with the entry added; refuses a label or data id the book already has. */
export function withEntry(book: LabelBook, entry: LabelBookEntry): LabelBook {
  const next = { format: LABEL_BOOK_FORMAT, entries: [...book.entries, entry] } as LabelBook;
  checkEntries(next.entries, "");
  return next;
}

/** An entry for a label-made data id (a fresh random salt unless one is given). */
export function labelEntry(label: string, salt: string = randomSalt()): LabelEntry {
  const parsed = labelSchema.safeParse(label);
  if (!parsed.success) throw new LabelBookError(`label "${label}": ${parsed.error.issues[0].message}`);
  return { label, salt, dataId: labelDataId(label, salt) };
}

/** An entry for a sealed asset's data id (its CID and the 32-byte salt from its manifest). */
export function cidEntry(label: string, cid: string, salt: string): CidEntry {
  const parsed = labelSchema.safeParse(label);
  if (!parsed.success) throw new LabelBookError(`label "${label}": ${parsed.error.issues[0].message}`);
  const s = salt.toLowerCase();
  if (!HEX32.test(s)) throw new LabelBookError(`salt: the salt of a CID entry is 32 bytes (0x + 64 hex digits)`);
  return { label, cid, salt: s, dataId: dataIdFor(parseAssetCid(cid), s) };
}

/** A new book without the entry labelled `label`; refuses an unknown label. */
export function withoutLabel(book: LabelBook, label: string): LabelBook {
  if (!book.entries.some((e) => e.label === label)) throw new LabelBookError(`no entry is labelled "${label}"`);
  return { format: LABEL_BOOK_FORMAT, entries: book.entries.filter((e) => e.label !== label) };
}

/** A new book with entry `from` relabelled `to` (its data id is kept: a CID entry's does not depend on the label; a label entry's does, so it is refused). */
export function withRenamedLabel(book: LabelBook, from: string, to: string): LabelBook {
  const entry = book.entries.find((e) => e.label === from);
  if (!entry) throw new LabelBookError(`no entry is labelled "${from}"`);
  if (!("cid" in entry)) {
    throw new LabelBookError(
      `"${from}" names a data id made from that label; renaming would change the data id (its consents stay on the old one): add a new label instead`,
    );
  }
  const renamed = { ...entry, label: to };
  const entries = book.entries.map((e) => (e === entry ? renamed : e));
  checkEntries(entries, "");
  return { format: LABEL_BOOK_FORMAT, entries };
}

/** The entry labelled `label`, or undefined. */
export function entryByLabel(book: LabelBook, label: string): LabelBookEntry | undefined {
  return book.entries.find((e) => e.label === label);
}

/**
 * Labels by data id, for printing: every entry's, plus ALL_DATA as "all my data" (the
 * registry's data id for all of an owner's data).
 */
export function labelsByDataId(book: LabelBook): ReadonlyMap<string, string> {
  const map = new Map<string, string>([[ALL_DATA, "all my data"]]);
  for (const e of book.entries) map.set(e.dataId, e.label);
  return map;
}
