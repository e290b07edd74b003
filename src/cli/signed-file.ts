import { readFile, writeFile } from "node:fs/promises";

import { decodeConsentMessage, decodeSignedMessage, encodeSignedMessage } from "../sdk/signed-message.js";
import type { ConsentMessageFile, SignedMessageFile } from "../sdk/signed-message.js";
import type { ConsentMessageKind } from "../sdk/eip712.js";
import { currentPurposeNames } from "./purposes.js";
import { CliError } from "./failure.js";

/**
 * The signed-message files of `sign-*`, `add-signature` and `relay`, in the SDK's one format
 * (`omnitensor-consent`'s `encodeSignedMessage` / `decodeSignedMessage`, `signed-message@2`):
 * this module only reads and writes the file and words it for the relay's output.
 */

export type SignedKind = ConsentMessageKind;
export type SignedFile<K extends SignedKind = SignedKind> = SignedMessageFile<K>;

async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    throw new CliError(`${path}: cannot read the file (${(err as { code?: string }).code ?? String(err)})`);
  }
}

/** Reads a signed message (format and field types; the signature is checked against the chain by `relay`). */
export async function readSignedFile(path: string): Promise<SignedFile> {
  return decodeSignedMessage(await readText(path), path);
}

/** Reads a message file that may still lack its signature (`add-signature`). */
export async function readMessageFile(path: string): Promise<ConsentMessageFile> {
  return decodeConsentMessage(await readText(path), path);
}

/** Writes a message file (signed or not) for `relay` / `add-signature`, naming `option` on failure. */
export async function writeMessageFile(
  path: string,
  file: SignedFile | ConsentMessageFile,
  option = "--out",
): Promise<void> {
  try {
    await writeFile(path, encodeSignedMessage(file), { mode: 0o644 });
  } catch (err) {
    throw new CliError(`${option}: cannot write ${path} (${(err as { code?: string }).code ?? String(err)})`);
  }
}

/** A one-line summary of a signed message, for the relay's output. */
export function describeSigned(file: SignedFile): string {
  const s = file.signed;
  if ("purposes" in s) {
    return `Grant by ${s.owner} to ${s.grantee} on ${s.dataId} for purposes [${currentPurposeNames().list(s.purposes)}] (version ${s.version})`;
  }
  if ("grantee" in s) return `Revoke by ${s.owner} of ${s.grantee} on ${s.dataId} (version ${s.version})`;
  return `RevokeAll by ${s.owner} (lockdown of epoch ${s.epoch})`;
}
