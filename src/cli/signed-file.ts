import { readFile } from "node:fs/promises";

import { Signature, ZeroAddress, getAddress } from "ethers";
import { z } from "zod";

import { consentDomain, recoverConsentSigner } from "../sdk/eip712.js";
import type { ConsentMessageKind, MessageOf, Signed } from "../sdk/eip712.js";
import { maskToPurposes } from "../sdk/purposes.js";
import { signedGrantSchema, signedRevokeAllSchema, signedRevokeSchema } from "../sdk/validation.js";
import { CliError } from "./failure.js";
import { toJson } from "./output.js";

/**
 * The file `sign-grant` / `sign-revoke` write and `relay` reads: one EIP-712 message, its
 * signature, and the domain it was signed for (chain id and registry), so a relayer can refuse a
 * message meant for another chain or deployment before paying gas for a certain revert.
 *
 * ```json
 * { "format": "omni-consent/signed-message@2", "kind": "Grant", "chainId": "31337",
 *   "registry": "0x…", "message": { "owner": "0x…", …, "epoch": "0", "version": "1",
 *   "deadline": "…" }, "signature": "0x…" }
 * ```
 * Integers are decimal strings (JSON numbers cannot hold a uint256). Format 2 (registry 2.x)
 * carries the owner's `epoch` and the consent's `version` (a RevokeAll: `epoch` only) where
 * format 1 carried a `nonce`; a format-1 file is refused with a clear message, since registry
 * 2.x can never apply it.
 */
export const SIGNED_FILE_FORMAT = "omni-consent/signed-message@2";

/** The nonce-based format of registry 1.x. */
export const SIGNED_FILE_FORMAT_V1 = "omni-consent/signed-message@1";

export type SignedKind = ConsentMessageKind;

export interface SignedFile<K extends SignedKind = SignedKind> {
  kind: K;
  chainId: bigint;
  registry: string;
  signed: Signed<K>;
}

const uintString = z
  .string({ error: "expected a decimal integer string" })
  .regex(/^\d+$/, { error: "expected a decimal integer string" })
  .transform((s) => BigInt(s));

const envelopeSchema = z.object({
  format: z.literal(SIGNED_FILE_FORMAT, { error: `expected "${SIGNED_FILE_FORMAT}"` }),
  kind: z.enum(["Grant", "Revoke", "RevokeAll"], { error: "expected Grant, Revoke or RevokeAll" }),
  chainId: uintString,
  registry: z.string({ error: "expected an address string" }),
  message: z.record(z.string(), z.unknown(), { error: "expected an object" }),
  signature: z.string({ error: "expected a 0x-prefixed hex signature" }),
});

/** Decimal-string fields of each kind's message (uint fields). */
const UINT_FIELDS: Record<SignedKind, readonly string[]> = {
  Grant: ["purposes", "expiresAt", "epoch", "version", "deadline"],
  Revoke: ["epoch", "version", "deadline"],
  RevokeAll: ["epoch", "deadline"],
};

const MESSAGE_SCHEMAS = { Grant: signedGrantSchema, Revoke: signedRevokeSchema, RevokeAll: signedRevokeAllSchema };

function firstIssue(error: z.ZodError, label: string): string {
  const issue = error.issues[0];
  const path = (issue?.path ?? []).map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("");
  return `${label}${path}: ${issue?.message ?? "invalid"}`;
}

/** Serialises a signed message for `relay`. */
export function encodeSignedFile<K extends SignedKind>(file: SignedFile<K>): string {
  const { signature, ...message } = file.signed;
  return `${toJson({
    format: SIGNED_FILE_FORMAT,
    kind: file.kind,
    chainId: file.chainId,
    registry: file.registry,
    message,
    signature,
  })}\n`;
}

/**
 * Reads and checks a signed-message file offline: JSON, shape, field types, signature length,
 * and that the signature recovers to `message.owner` (EOA owners; an owner that is a contract is
 * checked on-chain by ERC-1271 when relayed, so `isContract` skips recovery for it).
 * Throws a CliError naming the file and the field.
 */
export async function readSignedFile(
  path: string,
  isContract: (owner: string) => Promise<boolean>,
): Promise<SignedFile> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    throw new CliError(`${path}: cannot read the file (${(err as { code?: string }).code ?? String(err)})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new CliError(`${path}: not a JSON file; expected a signed message written by sign-grant or sign-revoke`);
  }
  if ((json as { format?: unknown } | null)?.format === SIGNED_FILE_FORMAT_V1) {
    throw new CliError(
      `${path}: a ${SIGNED_FILE_FORMAT_V1} file (nonce-based, for registry 1.x); registry 2.x orders signed messages by the owner's epoch and the consent's version instead, so this message can never apply: ask the owner to sign it again (sign-grant / sign-revoke / sign-revoke-all)`,
    );
  }
  const envelope = envelopeSchema.safeParse(json);
  if (!envelope.success) throw new CliError(firstIssue(envelope.error, path));
  const { kind, chainId, message } = envelope.data;

  const registryCheck = z
    .string()
    .regex(/^0x[0-9a-fA-F]{40}$/)
    .safeParse(envelope.data.registry);
  if (!registryCheck.success) throw new CliError(`${path}.registry: expected a 0x-prefixed 20-byte hex address`);
  const registry = getAddress(envelope.data.registry.toLowerCase());

  const raw: Record<string, unknown> = { ...message, signature: envelope.data.signature };
  for (const field of UINT_FIELDS[kind]) {
    const parsed = uintString.safeParse(raw[field]);
    if (!parsed.success) throw new CliError(`${path}.message.${field}: expected a decimal integer string`);
    raw[field] = parsed.data;
  }
  const checked = MESSAGE_SCHEMAS[kind].safeParse(raw);
  if (!checked.success) {
    const where = checked.error.issues[0]?.path[0] === "signature" ? path : `${path}.message`;
    throw new CliError(firstIssue(checked.error, where));
  }
  const signed = checked.data as Signed<typeof kind>;
  if (signed.owner === ZeroAddress) throw new CliError(`${path}.message.owner: the zero address cannot sign`);

  if (!(await isContract(signed.owner))) {
    const sigLength = (signed.signature.length - 2) / 2;
    if (sigLength !== 65 && sigLength !== 64) {
      throw new CliError(`${path}.signature: ${sigLength} bytes; an EOA signature has 65 (or 64, compact) bytes`);
    }
    let signer: string;
    try {
      const { signature, ...msg } = signed;
      signer = recoverConsentSigner(
        kind,
        consentDomain(chainId, registry),
        msg as MessageOf[typeof kind],
        Signature.from(signature).serialized,
      );
    } catch {
      throw new CliError(`${path}.signature: not a valid secp256k1 signature`);
    }
    if (signer !== signed.owner) {
      throw new CliError(
        `${path}: the signature was made by ${signer}, not by the owner ${signed.owner} (or for another chain/registry)`,
      );
    }
  }
  return { kind, chainId, registry, signed };
}

/** A one-line summary of a signed message, for the relay's output. */
export function describeSigned(file: SignedFile): string {
  const s = file.signed as Partial<Signed<"Grant">> & Signed<"RevokeAll">;
  if (file.kind === "Grant") {
    return `Grant by ${s.owner} to ${s.grantee} on ${s.dataId} for purposes [${maskToPurposes(s.purposes ?? 0n).join(",")}] (version ${s.version})`;
  }
  if (file.kind === "Revoke") return `Revoke by ${s.owner} of ${s.grantee} on ${s.dataId} (version ${s.version})`;
  return `RevokeAll by ${s.owner} (lockdown of epoch ${s.epoch})`;
}
