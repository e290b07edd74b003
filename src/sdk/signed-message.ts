import { ZeroAddress } from "ethers";
import { z } from "zod";

import { consentDigest, consentDomain, consentTypedData } from "./eip712.js";
import type { ConsentMessageKind, ConsentTypedData, MessageOf, Signed } from "./eip712.js";
import { ConsentSdkError } from "./errors.js";
import {
  addressSchema,
  signatureSchema,
  signedGrantSchema,
  signedRevokeAllSchema,
  signedRevokeSchema,
} from "./validation.js";

/**
 * The one file format in which a signed consent message is saved and handed between tools
 * (the SDK, `omni-consent sign-*` and `relay`, a wallet's own tooling): one EIP-712 message,
 * its signature, and the domain it was signed for (chain id and registry), so a relayer can
 * refuse a message meant for another chain or deployment before paying gas for a certain revert.
 *
 * ```json
 * { "format": "omni-consent/signed-message@2", "kind": "Grant", "chainId": "31337",
 *   "registry": "0x…", "message": { "owner": "0x…", …, "epoch": "0", "version": "1",
 *   "deadline": "…" }, "signature": "0x…" }
 * ```
 * Integers are decimal strings (JSON numbers cannot hold a uint256, and `JSON.stringify` throws
 * on a bigint). Format 2 (registry 2.x) carries the owner's `epoch` and the consent's `version`
 * (a RevokeAll: `epoch` only) where format 1 carried a `nonce`; a format-1 file is refused in
 * words, since registry 2.x can never apply it. `signature` is `null` in a message prepared for
 * an owner that signs elsewhere (a contract wallet, a hardware wallet): it becomes relayable once
 * the signature is added ({@link withSignature}).
 *
 * Pure text in, text out (no filesystem), so it runs in a browser too.
 */
export const SIGNED_MESSAGE_FORMAT = "omni-consent/signed-message@2";

/** The nonce-based format of registry 1.x (refused). */
export const SIGNED_MESSAGE_FORMAT_V1 = "omni-consent/signed-message@1";

/** A message for one deployment, signed or (signature `null`) still to be signed. */
export interface ConsentMessageFile<K extends ConsentMessageKind = ConsentMessageKind> {
  kind: K;
  chainId: bigint;
  registry: string;
  message: MessageOf[K];
  signature: string | null;
}

/** A signed message for one deployment: `signed` is exactly what the registry's relay functions take. */
export interface SignedMessageFile<K extends ConsentMessageKind = ConsentMessageKind> {
  kind: K;
  chainId: bigint;
  registry: string;
  signed: Signed<K>;
}

/** Any message file, discriminated by `kind` (so `file.kind === "Grant"` narrows `file.message`). */
export type AnyConsentMessageFile = { [K in ConsentMessageKind]: ConsentMessageFile<K> }[ConsentMessageKind];

/** Any signed message file, discriminated by `kind` (so `file.kind === "Grant"` narrows `file.signed`). */
export type AnySignedMessageFile = { [K in ConsentMessageKind]: SignedMessageFile<K> }[ConsentMessageKind];

const uintString = z
  .string({ error: "expected a decimal integer string" })
  .regex(/^\d+$/, { error: "expected a decimal integer string" })
  .transform((s) => BigInt(s));

const envelopeSchema = z.object({
  format: z.literal(SIGNED_MESSAGE_FORMAT, { error: `expected "${SIGNED_MESSAGE_FORMAT}"` }),
  kind: z.enum(["Grant", "Revoke", "RevokeAll"], { error: "expected Grant, Revoke or RevokeAll" }),
  chainId: uintString,
  registry: z.string({ error: "expected an address string" }),
  message: z.record(z.string(), z.unknown(), { error: "expected an object" }),
  signature: z.union([z.string(), z.null()], { error: "expected a 0x-prefixed hex signature" }),
});

/** Decimal-string fields of each kind's message (its uint fields). */
const UINT_FIELDS: Record<ConsentMessageKind, readonly string[]> = {
  Grant: ["purposes", "expiresAt", "epoch", "version", "deadline"],
  Revoke: ["epoch", "version", "deadline"],
  RevokeAll: ["epoch", "deadline"],
};

const MESSAGE_SCHEMAS = {
  Grant: signedGrantSchema.omit({ signature: true }),
  Revoke: signedRevokeSchema.omit({ signature: true }),
  RevokeAll: signedRevokeAllSchema.omit({ signature: true }),
};

function invalid(message: string): ConsentSdkError {
  return new ConsentSdkError("INVALID_INPUT", message);
}

function firstIssue(error: z.ZodError, label: string): string {
  const issue = error.issues[0];
  const path = (issue?.path ?? []).map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("");
  return `${label}${path}: ${issue?.message ?? "invalid"}`;
}

/** JSON with bigints as decimal strings (two-space indented, one trailing newline). */
function toJsonText(value: unknown): string {
  return `${JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v), 2)}\n`;
}

/** The file text of a message, signed ({@link SignedMessageFile}) or not ({@link ConsentMessageFile}). */
export function encodeSignedMessage<K extends ConsentMessageKind>(
  file: SignedMessageFile<K> | ConsentMessageFile<K>,
): string {
  const { message, signature } = "signed" in file ? splitSigned(file.signed) : file;
  return toJsonText({
    format: SIGNED_MESSAGE_FORMAT,
    kind: file.kind,
    chainId: file.chainId,
    registry: file.registry,
    message,
    signature,
  });
}

function splitSigned<K extends ConsentMessageKind>(signed: Signed<K>): { message: MessageOf[K]; signature: string } {
  const { signature, ...message } = signed;
  return { message: message as unknown as MessageOf[K], signature };
}

/**
 * Parses a file's text, signed or not. Throws ConsentSdkError INVALID_INPUT whose message names
 * `label` (e.g. the file's path) and the field: `grant.json.message.version: expected a decimal
 * integer string`. Checks the format only; whether the signature is the owner's is
 * `checkSignature`'s question (it may need the chain).
 */
export function decodeConsentMessage(text: string, label: string): AnyConsentMessageFile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw invalid(`${label}: not a JSON file; expected a signed message written by sign-grant or sign-revoke`);
  }
  if ((json as { format?: unknown } | null)?.format === SIGNED_MESSAGE_FORMAT_V1) {
    throw invalid(
      `${label}: a ${SIGNED_MESSAGE_FORMAT_V1} file (nonce-based, for registry 1.x); registry 2.x orders signed messages by the owner's epoch and the consent's version instead, so this message can never apply: ask the owner to sign it again (sign-grant / sign-revoke / sign-revoke-all)`,
    );
  }
  const envelope = envelopeSchema.safeParse(json);
  if (!envelope.success) throw invalid(firstIssue(envelope.error, label));
  const { kind, chainId, message } = envelope.data;
  const registry = addressSchema.safeParse(envelope.data.registry);
  if (!registry.success || !/^0x[0-9a-fA-F]{40}$/.test(envelope.data.registry)) {
    throw invalid(`${label}.registry: expected a 0x-prefixed 20-byte hex address`);
  }

  const raw: Record<string, unknown> = { ...message };
  for (const field of UINT_FIELDS[kind]) {
    const parsed = uintString.safeParse(raw[field]);
    if (!parsed.success) throw invalid(`${label}.message.${field}: expected a decimal integer string`);
    raw[field] = parsed.data;
  }
  const checked = MESSAGE_SCHEMAS[kind].safeParse(raw);
  if (!checked.success) throw invalid(firstIssue(checked.error, `${label}.message`));
  const parsedMessage = checked.data as unknown as MessageOf[typeof kind];
  if (parsedMessage.owner === ZeroAddress) throw invalid(`${label}.message.owner: the zero address cannot sign`);

  let signature: string | null = null;
  if (envelope.data.signature !== null) {
    const sig = signatureSchema.safeParse(envelope.data.signature);
    if (!sig.success) throw invalid(firstIssue(sig.error, `${label}.signature`));
    signature = sig.data;
  }
  return { kind, chainId, registry: registry.data, message: parsedMessage, signature } as AnyConsentMessageFile;
}

/** Parses a file that must be signed (what `relay` takes); an unsigned one is refused in words. */
export function decodeSignedMessage(text: string, label: string): AnySignedMessageFile {
  const file = decodeConsentMessage(text, label);
  if (file.signature === null) {
    throw invalid(
      `${label}: not signed yet (signature null): the owner signs its digest or typed data, then \`omni-consent add-signature ${label} --signature 0x…\` adds it`,
    );
  }
  return withSignature<ConsentMessageKind>(file, file.signature) as AnySignedMessageFile;
}

/** The signed form of a prepared message (the signature is not checked here). */
export function withSignature<K extends ConsentMessageKind>(
  file: ConsentMessageFile<K>,
  signature: string,
): SignedMessageFile<K> {
  const sig = signatureSchema.safeParse(signature);
  if (!sig.success) throw invalid(firstIssue(sig.error, "signature"));
  return {
    kind: file.kind,
    chainId: file.chainId,
    registry: file.registry,
    signed: { ...file.message, signature: sig.data } as Signed<K>,
  };
}

/** The registry's domain of a file (chain id and registry). */
function domainOf(file: { chainId: bigint; registry: string }) {
  return consentDomain(file.chainId, file.registry);
}

/** The EIP-712 digest the owner signs: what `ecrecover` recovers from, and what an ERC-1271 wallet is asked about. */
export function digestOf(file: ConsentMessageFile | SignedMessageFile): string {
  const message = "signed" in file ? splitSigned(file.signed).message : file.message;
  return consentDigest(file.kind, domainOf(file), message);
}

/** The `eth_signTypedData_v4` payload of a file's message, for a wallet to sign. */
export function typedDataOf(file: ConsentMessageFile | SignedMessageFile): ConsentTypedData {
  const message = "signed" in file ? splitSigned(file.signed).message : file.message;
  return consentTypedData(file.kind, domainOf(file), message);
}
