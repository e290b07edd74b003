import { getAddress } from "ethers";
import type { Signer } from "ethers";
import { z } from "zod";

import { DEFAULT_SIGNATURE_TTL, VERSION_SEQUENCE_BITS } from "./constants.js";
import { consentDomain, signConsent } from "./eip712.js";
import type { ConsentMessageKind, GrantMessage, MessageOf, Signed } from "./eip712.js";
import { ConsentSdkError, versionWords } from "./errors.js";
import { keyOf } from "./signing-store.js";
import type { SigningScope, SigningState, SigningStore } from "./signing-store.js";
import type { ConsentMessageFile } from "./signed-message.js";
import { isoTime } from "./time-words.js";
import { addressSchema, bytes32Schema, dataIdSchema, expirySchema, parseInput, purposesSchema } from "./validation.js";

/**
 * Signing consent messages so that the owner's latest word wins (the registry's ordering rule,
 * `IConsentRegistry`): every signed Grant / Revoke names the owner's current `epoch` and a
 * `version` above the consent key's on-chain version, in the key's generation; a RevokeAll names
 * the epoch it ends. What this module adds on top of the rule:
 *
 * - **Versions are reserved, never guessed.** The next version of a key is one above both the
 *   on-chain version (`getConsent(...).version`) and the highest version the {@link SigningStore}
 *   has handed out for that key; the store reserves it atomically. So two messages of one owner
 *   for one key never share a version, across clients and (with a shared file store) processes,
 *   and the message signed later always has the higher version, so it wins in any relay order.
 * - **A newer message never expires before an older one.** The store keeps, per key, the latest
 *   deadline of a reserved message that may still apply. A later message's default deadline
 *   ({@link DEFAULT_SIGNATURE_TTL} after chain time) is raised to at least that; an explicit
 *   shorter deadline is refused (INVALID_INPUT). Otherwise the older message could be relayed
 *   after the newer one expired unrelayed. A signed RevokeAll is held to the same rule against
 *   every key of the owner.
 * - **A grant is not signed while a signed lockdown of the same epoch is outstanding**
 *   (SIGNING_ORDER): relaying that lockdown would end the newer grant too.
 *
 * `epoch` and `version` can be given explicitly (advanced: offline signing, or signing for a
 * state the chain will only reach later). The store does not check them; it records them, so the
 * next default version is above them.
 */

/** Options of every `sign*`; all optional. */
export interface SigningOptions {
  /** Last unix time (chain clock) a relayer may submit the message; default: see the module comment. */
  deadline?: bigint;
  /** The owner's epoch the message is for; default `epochOf(owner)`. */
  epoch?: bigint;
  /** Grant / Revoke only: the version the message sets; default the next free one (reserved in the store). */
  version?: bigint;
}

/** What signing reads from the chain. */
export interface SigningChainView {
  /** The chain's clock (latest block timestamp). */
  now(): Promise<bigint>;
  epochOf(owner: string): Promise<bigint>;
  /** The key's current version (`getConsent(owner, grantee, dataId).version`). */
  versionOf(owner: string, grantee: string, dataId: string): Promise<bigint>;
}

/** Where and how to sign: the EIP-712 domain, the store, and (unless offline) the chain. */
export interface SigningContext {
  chainId: bigint;
  registry: string;
  store: SigningStore;
  /**
   * Without a chain view (fully offline), `epoch` (and for Grant / Revoke `version`) must be
   * given, and deadlines count from the local clock.
   */
  chain?: SigningChainView;
}

/** What a reservation decided. */
export interface MessagePlan {
  epoch: bigint;
  version: bigint;
  deadline: bigint;
}

export interface KeyPlanInput {
  kind: "Grant" | "Revoke";
  /** The clock deadlines count from. */
  now: bigint;
  /** The owner's epoch and the key's version on-chain; undefined when signing offline. */
  chain?: { epoch: bigint; version: bigint };
  opts: SigningOptions;
}

const SEQUENCE_MASK = (1n << VERSION_SEQUENCE_BITS) - 1n;
const UINT32_MAX = (1n << 32n) - 1n;
const UINT64_MAX = (1n << 64n) - 1n;
const UINT256_MAX = (1n << 256n) - 1n;

/** Marks the "store ahead of the chain" refusal, which a fresh read of the chain may resolve. */
const STORE_AHEAD = Symbol("store ahead of the chain");

const generationOf = (version: bigint): bigint => version >> VERSION_SEQUENCE_BITS;

function checkUint(value: bigint, max: bigint, label: string, bits: number): bigint {
  if (typeof value !== "bigint" || value < 0n || value > max) {
    throw new ConsentSdkError("INVALID_INPUT", `${label}: must be a bigint in 0..2^${bits}-1`);
  }
  return value;
}

function checkOptions(opts: SigningOptions, label: string): void {
  if (opts.epoch !== undefined) checkUint(opts.epoch, UINT32_MAX, `${label}.epoch`, 32);
  if (opts.version !== undefined) checkUint(opts.version, UINT64_MAX, `${label}.version`, 64);
  if (opts.deadline !== undefined) checkUint(opts.deadline, UINT256_MAX, `${label}.deadline`, 256);
}

function chooseDeadline(
  opts: SigningOptions,
  now: bigint,
  floor: { deadline: bigint; what: string } | null,
  label: string,
): bigint {
  if (opts.deadline === undefined) {
    const byDefault = now + DEFAULT_SIGNATURE_TTL;
    return floor !== null && floor.deadline > byDefault ? floor.deadline : byDefault;
  }
  if (opts.deadline < now) {
    throw new ConsentSdkError(
      "INVALID_INPUT",
      `${label}.deadline: ${opts.deadline} (${isoTime(opts.deadline)}) has passed already (chain time ${isoTime(now)})`,
    );
  }
  if (floor !== null && opts.deadline < floor.deadline) {
    throw new ConsentSdkError(
      "INVALID_INPUT",
      `${label}.deadline: ${isoTime(opts.deadline)} is before ${isoTime(floor.deadline)}, the deadline of ${floor.what}; a newer message must not expire before an older one (the older would apply once the newer expired unrelayed): give a deadline of ${floor.deadline} or later, or none`,
    );
  }
  return opts.deadline;
}

/**
 * Reserves the next message of consent key `key` in `state` (mutated) and returns its epoch,
 * version and deadline; the pure core of {@link signGrant} / {@link signRevoke}, run inside
 * {@link SigningStore.transact}.
 */
export function planKeyMessage(state: SigningState, key: string, input: KeyPlanInput): MessagePlan {
  const { kind, now, chain, opts } = input;
  const label = kind === "Grant" ? "signGrant" : "signRevoke";
  checkOptions(opts, label);
  const record = state.keys[key];

  const epoch = opts.epoch ?? chain?.epoch;
  if (epoch === undefined) {
    throw new ConsentSdkError("INVALID_INPUT", `${label}: offline signing needs an explicit epoch (and version)`);
  }

  let version: bigint;
  if (opts.version !== undefined) {
    version = opts.version;
  } else {
    if (chain === undefined) {
      throw new ConsentSdkError("INVALID_INPUT", `${label}: offline signing needs an explicit version (and epoch)`);
    }
    if (record !== undefined && generationOf(record.version) > generationOf(chain.version)) {
      throw new ConsentSdkError(
        "SIGNING_STORE",
        `${label}: the signing store has handed out ${versionWords(record.version)} for this consent, but the chain is at ${versionWords(chain.version)}, an older generation: the store belongs to another history of this chain (a reset dev node?); clear the store's entry for this owner or pass an explicit version`,
        { cause: STORE_AHEAD },
      );
    }
    const base = record !== undefined && record.version > chain.version ? record.version : chain.version;
    version = base + 1n;
    if ((version & SEQUENCE_MASK) === 0n) {
      throw new ConsentSdkError(
        "SIGNING_ORDER",
        `${label}: ${versionWords(base)} is the last signed version of this consent's generation; change the consent once by transaction (grant or revoke) to start a new generation, then sign again`,
      );
    }
  }

  if (kind === "Grant") {
    const lockdown = state.revokeAll;
    if (
      lockdown !== undefined &&
      lockdown.epoch === epoch &&
      lockdown.deadline >= now &&
      (chain === undefined || chain.epoch === lockdown.epoch)
    ) {
      throw new ConsentSdkError(
        "SIGNING_ORDER",
        `${label}: a signed lockdown (RevokeAll of epoch ${lockdown.epoch}) is outstanding until ${isoTime(lockdown.deadline)}; relaying it would end this grant too. Relay the lockdown first (the grant then gets epoch ${lockdown.epoch + 1n}), wait until its deadline has passed, or sign for epoch ${lockdown.epoch + 1n} explicitly`,
      );
    }
  }

  // The latest reserved message of this key may still apply: same epoch and generation, older
  // than this one, not applied or overtaken on-chain, deadline not passed.
  const live =
    record !== undefined &&
    record.epoch === epoch &&
    generationOf(record.version) === generationOf(version) &&
    record.deadline >= now;
  const outstanding = live && record.version < version && (chain === undefined || record.version > chain.version);
  const deadline = chooseDeadline(
    opts,
    now,
    outstanding
      ? {
          deadline: record.deadline,
          what: `an outstanding signed message for this consent (${versionWords(record.version)})`,
        }
      : null,
    label,
  );

  // The record names the latest reservation; only an explicit, lower version leaves it in place.
  const newer = record !== undefined && record.version > version;
  state.keys[key] = {
    epoch: newer ? record.epoch : epoch,
    version: newer ? record.version : version,
    deadline: newer && live && record.deadline > deadline ? record.deadline : deadline,
  };
  return { epoch, version, deadline };
}

/**
 * Reserves a signed lockdown (RevokeAll) in `state` (mutated): epoch `opts.epoch` or the chain's,
 * and a deadline no earlier than any message of the owner reserved in that epoch that may still
 * be relayable (counted conservatively: the store does not know which of them were relayed).
 */
export function planRevokeAll(
  state: SigningState,
  input: { now: bigint; chainEpoch?: bigint; opts: SigningOptions },
): MessagePlan {
  const { now, chainEpoch, opts } = input;
  checkOptions(opts, "signRevokeAll");
  if (opts.version !== undefined) {
    throw new ConsentSdkError("INVALID_INPUT", "signRevokeAll.version: a RevokeAll has no version, only an epoch");
  }
  const epoch = opts.epoch ?? chainEpoch;
  if (epoch === undefined) {
    throw new ConsentSdkError("INVALID_INPUT", "signRevokeAll: offline signing needs an explicit epoch");
  }
  let floor: { deadline: bigint; what: string } | null = null;
  for (const [key, r] of Object.entries(state.keys)) {
    if (r.epoch === epoch && r.deadline >= now && (floor === null || r.deadline > floor.deadline)) {
      const [grantee, dataId] = key.split("|");
      floor = {
        deadline: r.deadline,
        what: `a signed message of this epoch for grantee ${getAddress(grantee)} on ${dataId} (${versionWords(r.version)}) that may still be relayable`,
      };
    }
  }
  const deadline = chooseDeadline(opts, now, floor, "signRevokeAll");
  const previous = state.revokeAll;
  state.revokeAll = {
    epoch,
    deadline:
      previous !== undefined && previous.epoch === epoch && previous.deadline > deadline ? previous.deadline : deadline,
  };
  return { epoch, version: 0n, deadline };
}

async function chainNow(ctx: SigningContext): Promise<bigint> {
  return ctx.chain ? ctx.chain.now() : BigInt(Math.floor(Date.now() / 1000));
}

function scopeOf(ctx: SigningContext, owner: string): SigningScope {
  return { chainId: ctx.chainId, registry: ctx.registry, owner };
}

/** The fields of a grant other than owner, epoch, version and deadline. */
export type GrantContent = Omit<GrantMessage, "owner" | "epoch" | "version" | "deadline">;

/** {@link GrantContent} as the registry takes it (purposes a uint128 bitmap, expiry a uint40). */
const grantContentSchema = z.object({
  grantee: addressSchema,
  dataId: dataIdSchema,
  purposes: purposesSchema,
  expiresAt: expirySchema,
  noticeHash: bytes32Schema,
});

function prepared<K extends ConsentMessageKind>(
  ctx: SigningContext,
  kind: K,
  message: MessageOf[K],
): ConsentMessageFile<K> {
  return { kind, chainId: ctx.chainId, registry: ctx.registry, message, signature: null };
}

/**
 * Builds a grant by `owner` (any address: an EOA, a Safe or another ERC-1271 wallet, an
 * EIP-7702 account) with the next reserved version of its key, without signing it: the owner
 * signs its digest or typed data elsewhere ({@link digestOf}, {@link typedDataOf}) and
 * {@link withSignature} makes it relayable. Epoch, version and deadline follow the module
 * comment; the reservation counts as soon as it is made (an unsigned message that is never
 * signed leaves an unused version, which is harmless).
 */
export async function prepareGrant(
  ctx: SigningContext,
  owner: string,
  grant: GrantContent,
  opts: SigningOptions = {},
): Promise<ConsentMessageFile<"Grant">> {
  const o = getAddress(owner);
  // Checked before a version is reserved: a grant the registry cannot take (an expiry beyond its
  // uint40, say) must leave no reservation and no file behind.
  const content = parseInput(grantContentSchema, grant, "signGrant");
  const plan = await reserveKey(ctx, "Grant", o, content.grantee, content.dataId, opts);
  return prepared(ctx, "Grant", { owner: o, ...content, ...plan });
}

/** Builds a revocation by `owner` (any address) with the next reserved version of its key, unsigned. */
export async function prepareRevoke(
  ctx: SigningContext,
  owner: string,
  key: { grantee: string; dataId: string },
  opts: SigningOptions = {},
): Promise<ConsentMessageFile<"Revoke">> {
  const o = getAddress(owner);
  const plan = await reserveKey(ctx, "Revoke", o, key.grantee, key.dataId, opts);
  return prepared(ctx, "Revoke", { owner: o, grantee: key.grantee, dataId: key.dataId, ...plan });
}

/** Builds a lockdown (RevokeAll) by `owner` (any address) for its current epoch, unsigned. */
export async function prepareRevokeAll(
  ctx: SigningContext,
  owner: string,
  opts: SigningOptions = {},
): Promise<ConsentMessageFile<"RevokeAll">> {
  const o = getAddress(owner);
  const [now, chainEpoch] = await Promise.all([
    chainNow(ctx),
    opts.epoch === undefined && ctx.chain ? ctx.chain.epochOf(o) : Promise.resolve(undefined),
  ]);
  const plan = await ctx.store.transact(scopeOf(ctx, o), (state) => planRevokeAll(state, { now, chainEpoch, opts }));
  return prepared(ctx, "RevokeAll", { owner: o, epoch: plan.epoch, deadline: plan.deadline });
}

/** Signs a prepared message with `signer`, which must be its owner's key (EIP-712 `signTypedData`). */
export async function signPrepared<K extends ConsentMessageKind>(
  file: ConsentMessageFile<K>,
  signer: Signer,
): Promise<Signed<K>> {
  const address = getAddress(await signer.getAddress());
  if (address !== getAddress(file.message.owner)) {
    throw new ConsentSdkError(
      "INVALID_INPUT",
      `sign: ${address} is not the owner ${file.message.owner} of this message; a contract owner signs the digest its own way (see prepareGrant)`,
    );
  }
  return signConsent(file.kind, signer, consentDomain(file.chainId, file.registry), file.message);
}

/**
 * Signs a grant by `signer` (the owner) with the next reserved version of its key; see the
 * module comment for epoch, version and deadline. The reservation happens before the signer is
 * asked: a signature the signer refuses leaves an unused version, which is harmless.
 */
export async function signGrant(
  ctx: SigningContext,
  signer: Signer,
  grant: GrantContent,
  opts: SigningOptions = {},
): Promise<Signed<"Grant">> {
  return signPrepared(await prepareGrant(ctx, await signer.getAddress(), grant, opts), signer);
}

/** Signs a revocation by `signer` (the owner) with the next reserved version of its key. */
export async function signRevoke(
  ctx: SigningContext,
  signer: Signer,
  key: { grantee: string; dataId: string },
  opts: SigningOptions = {},
): Promise<Signed<"Revoke">> {
  return signPrepared(await prepareRevoke(ctx, await signer.getAddress(), key, opts), signer);
}

/** Signs a lockdown (RevokeAll) by `signer` (the owner) for its current epoch. */
export async function signRevokeAll(
  ctx: SigningContext,
  signer: Signer,
  opts: SigningOptions = {},
): Promise<Signed<"RevokeAll">> {
  return signPrepared(await prepareRevokeAll(ctx, await signer.getAddress(), opts), signer);
}

async function reserveKey(
  ctx: SigningContext,
  kind: "Grant" | "Revoke",
  owner: string,
  grantee: string,
  dataId: string,
  opts: SigningOptions,
): Promise<MessagePlan> {
  // Read the chain before taking the store's lock: the chain only moves forward, and the
  // store's record covers every reservation made since these reads. A record of a newer
  // generation than the read means the key changed on-chain in between: read again.
  const chain = ctx.chain;
  for (let attempt = 0; ; attempt++) {
    const [now, onChain] = await Promise.all([
      chainNow(ctx),
      chain
        ? Promise.all([chain.epochOf(owner), chain.versionOf(owner, grantee, dataId)]).then(([epoch, version]) => ({
            epoch,
            version,
          }))
        : Promise.resolve(undefined),
    ]);
    try {
      return await ctx.store.transact(scopeOf(ctx, owner), (state) =>
        planKeyMessage(state, keyOf(grantee, dataId), { kind, now, chain: onChain, opts }),
      );
    } catch (err) {
      if (attempt < 2 && err instanceof ConsentSdkError && err.cause === STORE_AHEAD) continue;
      throw err;
    }
  }
}
