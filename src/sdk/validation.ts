import { ZeroHash, getAddress, isHexString } from "ethers";
import { z } from "zod";

import { MAX_EXPIRY, MAX_PURPOSE_ID, NO_EXPIRY } from "./constants.js";
import { ConsentSdkError } from "./errors.js";
import { PURPOSES, purposeIdByName, purposesToMask } from "./purposes.js";

/**
 * Input validation at the SDK's edge, with one schema library (zod). Every public write parses
 * its request here first, so bad input fails with ConsentSdkError("INVALID_INPUT") and a single
 * line naming the field before any transaction is built.
 */

const UINT32_MAX = (1n << 32n) - 1n;
const UINT64_MAX = (1n << 64n) - 1n;
const UINT128_MAX = (1n << 128n) - 1n;
const UINT256_MAX = (1n << 256n) - 1n;

/** What {@link checkAddress} found wrong with a text that should be an address. */
export type AddressProblem = { problem: "format" } | { problem: "checksum"; checksummed: string };

/**
 * The one address rule of the SDK and the CLI: `0x` + 40 hex digits, all-lowercase (no
 * checksum) or exactly the EIP-55 checksummed form. Any other mixing of cases (all-uppercase
 * included) is refused as a bad checksum: it is the one sign of a mistyped address that can be
 * detected.
 * Returns the checksummed address, or what is wrong (each surface words it its own way).
 */
export function checkAddress(text: string): { address: string } | AddressProblem {
  if (!/^0x[0-9a-fA-F]{40}$/.test(text)) return { problem: "format" };
  const checksummed = getAddress(text.toLowerCase());
  if (text !== text.toLowerCase() && text !== checksummed) return { problem: "checksum", checksummed };
  return { address: checksummed };
}

/** An address (see {@link checkAddress}); normalised to the checksum form. */
export const addressSchema = z.string({ error: "expected an address string" }).transform((s, ctx) => {
  const checked = checkAddress(s);
  if ("address" in checked) return checked.address;
  ctx.addIssue({
    code: "custom",
    message:
      checked.problem === "format"
        ? "expected a 0x-prefixed 20-byte hex address"
        : `bad EIP-55 checksum (did you mean ${checked.checksummed}?)`,
  });
  return z.NEVER;
});

/** A 32-byte hex value (data id, notice hash, evidence); normalised to lowercase. */
export const bytes32Schema = z
  .string({ error: "expected a 0x-prefixed 32-byte hex string" })
  .refine((s) => isHexString(s, 32), { error: "expected a 0x-prefixed 32-byte hex string (66 characters)" })
  .transform((s) => s.toLowerCase());

/** A data id: bytes32 and not zero (use a salted hash of the asset, or ALL_DATA). */
export const dataIdSchema = bytes32Schema.refine((s) => s !== ZeroHash, {
  error: "dataId must not be zero; use a salted hash of the asset or ALL_DATA",
});

const purposeNames = PURPOSES.map((p) => p.name).join(", ");

/** A purpose id 0..127. */
export const purposeIdSchema = z
  .number({ error: `expected a purpose id 0..${MAX_PURPOSE_ID}` })
  .int()
  .min(0, { error: `purpose ids are 0..${MAX_PURPOSE_ID}` })
  .max(MAX_PURPOSE_ID, { error: `purpose ids are 0..${MAX_PURPOSE_ID}` });

/**
 * One purpose: an id 0..127, or a name of the initial catalogue in any spelling
 * (`MODEL_TRAINING`, `model_training`, `model-training`); normalised to the id.
 */
export const purposeSchema = z
  .union([z.number(), z.string()], {
    error: `expected a purpose id 0..${MAX_PURPOSE_ID} or one of ${purposeNames}`,
  })
  .transform((p, ctx) => {
    const id = typeof p === "number" ? p : purposeIdByName(p);
    if (typeof p === "number" && !(Number.isInteger(p) && p >= 0 && p <= MAX_PURPOSE_ID)) {
      // `continue: true` so that an enclosing union reports this issue, not its own.
      ctx.addIssue({ code: "custom", message: `purpose ids are 0..${MAX_PURPOSE_ID}`, continue: true });
      return z.NEVER;
    }
    if (id === undefined) {
      ctx.addIssue({
        code: "custom",
        message: `unknown purpose "${String(p)}"; use one of ${purposeNames} (any case, - or _) or an id 0..${MAX_PURPOSE_ID}`,
        continue: true,
      });
      return z.NEVER;
    }
    return id;
  });

/** A non-empty list of purposes, or a non-zero uint128 bitmap; normalised to the bitmap. */
export const purposesSchema = z
  .union(
    [
      z.array(purposeSchema).min(1, { error: "name at least one purpose" }),
      z
        .bigint()
        .min(1n, { error: "the purpose bitmap must not be 0" })
        .max(UINT128_MAX, { error: "the purpose bitmap must fit in uint128" }),
    ],
    { error: "expected a list of purposes or a uint128 bitmap" },
  )
  .transform((p) => (typeof p === "bigint" ? p : purposesToMask(p)));

const uint32Schema = z.bigint({ error: "expected a bigint" }).min(0n).max(UINT32_MAX, { error: "must fit in uint32" });
const uint64Schema = z.bigint({ error: "expected a bigint" }).min(0n).max(UINT64_MAX, { error: "must fit in uint64" });
/** An expiry: unix seconds up to MAX_EXPIRY (2^40 - 1, the registry stores 40 bits), or NO_EXPIRY. */
const expirySchema = z
  .bigint({ error: "expected a bigint" })
  .min(0n, { error: "must not be negative" })
  .max(MAX_EXPIRY, { error: `must be at most ${MAX_EXPIRY} (2^40 - 1, the registry's uint40)` });
const uint256Schema = z
  .bigint({ error: "expected a bigint" })
  .min(0n, { error: "must not be negative" })
  .max(UINT256_MAX, { error: "must fit in uint256" });

export const grantRequestSchema = z.object({
  grantee: addressSchema,
  dataId: dataIdSchema,
  purposes: purposesSchema,
  expiresAt: expirySchema.optional().default(NO_EXPIRY),
  noticeHash: bytes32Schema.optional().default(ZeroHash),
});

export const revokeRequestSchema = z.object({ grantee: addressSchema, dataId: dataIdSchema });

export const useRequestSchema = z.object({
  owner: addressSchema,
  dataId: dataIdSchema,
  purpose: purposeSchema,
  evidence: bytes32Schema.optional().default(ZeroHash),
});

export const shareRequestSchema = useRequestSchema.extend({ to: addressSchema });

/**
 * A signature as the registry accepts it: any whole number of bytes, `0x` included. An EOA's is
 * 65 bytes or 64 (EIP-2098); an ERC-1271 wallet decides what its own signatures look like, and
 * may accept an empty or short one (e.g. a message approved on-chain).
 */
export const signatureSchema = z
  .string({ error: "expected a 0x-prefixed hex signature" })
  .refine((s) => isHexString(s) && s.length % 2 === 0, {
    error:
      "expected a 0x-prefixed hex signature of whole bytes (65 or 64 for an EOA; any length for an ERC-1271 wallet)",
  })
  .transform((s) => s.toLowerCase());

export const signedGrantSchema = z.object({
  owner: addressSchema,
  grantee: addressSchema,
  dataId: dataIdSchema,
  purposes: purposesSchema,
  expiresAt: expirySchema,
  noticeHash: bytes32Schema,
  epoch: uint32Schema,
  version: uint64Schema,
  deadline: uint256Schema,
  signature: signatureSchema,
});

export const signedRevokeSchema = z.object({
  owner: addressSchema,
  grantee: addressSchema,
  dataId: dataIdSchema,
  epoch: uint32Schema,
  version: uint64Schema,
  deadline: uint256Schema,
  signature: signatureSchema,
});

export const signedRevokeAllSchema = z.object({
  owner: addressSchema,
  epoch: uint32Schema,
  deadline: uint256Schema,
  signature: signatureSchema,
});

export { expirySchema, uint256Schema, uint32Schema, uint64Schema };

function pathOf(path: readonly PropertyKey[], label: string): string {
  const parts = path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("");
  return `${label}${parts}`;
}

/**
 * Parses `input` with `schema`, or throws ConsentSdkError("INVALID_INPUT") whose message is one
 * line naming the offending field, e.g. `grant.grantee: bad EIP-55 checksum (…)`.
 */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, label: string): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const where = pathOf(issue?.path ?? [], label);
  throw new ConsentSdkError("INVALID_INPUT", `${where}: ${issue?.message ?? "invalid input"}`);
}

/** Rejects an expiry that is not in the future of `nowTs` (NO_EXPIRY = 0 is always fine). */
export function assertFutureExpiry(expiresAt: bigint, nowTs: bigint, label: string): void {
  if (expiresAt !== NO_EXPIRY && expiresAt <= nowTs) {
    throw new ConsentSdkError(
      "INVALID_INPUT",
      `${label}.expiresAt: ${expiresAt} is not after the chain time ${nowTs}; use a later unix time or NO_EXPIRY (0)`,
    );
  }
}
