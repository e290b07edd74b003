import { ZeroHash, getAddress } from "ethers";
import type { ContractRunner, ContractTransactionReceipt, Log, Provider, Signer } from "ethers";

import { ConsentRegistry__factory } from "../../types/ethers-contracts/index.js";
import type { ConsentRegistry } from "../../types/ethers-contracts/index.js";
import { REGISTRY_VERSION, Via } from "./constants.js";
import { consentDomain, recoverConsentSigner, signConsent, consentDigest } from "./eip712.js";
import type { ConsentMessageKind, MessageOf, Signed } from "./eip712.js";
import { ConsentSdkError, toConsentSdkError } from "./errors.js";
import { Purpose, maskToPurposes, purposeName } from "./purposes.js";
import type { PurposeName } from "./purposes.js";
import { ConsentTransaction } from "./transaction.js";
import {
  addressSchema,
  assertFutureExpiry,
  bytes32Schema,
  grantRequestSchema,
  parseInput,
  purposeSchema,
  revokeRequestSchema,
  shareRequestSchema,
  signedGrantSchema,
  signedRevokeAllSchema,
  signedRevokeSchema,
  uint256Schema,
  useRequestSchema,
} from "./validation.js";

export { ConsentTransaction } from "./transaction.js";

/** A purpose given by id (0..127) or by name of the initial catalogue. */
export type PurposeInput = number | PurposeName;

/** A grant as the caller writes it; defaults: `expiresAt` NO_EXPIRY, `noticeHash` ZeroHash. */
export interface GrantRequest {
  grantee: string;
  dataId: string;
  purposes: readonly PurposeInput[] | bigint;
  expiresAt?: bigint;
  noticeHash?: string;
}

export interface RevokeRequest {
  grantee: string;
  dataId: string;
}

/** A data use by the connected signer (the processor). `evidence` defaults to ZeroHash. */
export interface UseRequest {
  owner: string;
  dataId: string;
  purpose: PurposeInput;
  evidence?: string;
}

/** A share by the connected signer to integration `to`. */
export interface ShareRequest extends UseRequest {
  to: string;
}

/** Signing options: by default the owner's next free nonce ({@link ConsentRegistryClient.nextNonce}) and a deadline one hour after chain time. */
export interface SigningOptions {
  nonce?: bigint;
  deadline?: bigint;
}

export interface GrantResult {
  owner: string;
  grantee: string;
  dataId: string;
  purposes: number[];
  purposesMask: bigint;
  expiresAt: bigint;
  noticeHash: string;
  actor: string;
  via: Via;
}

export interface RevokeResult {
  owner: string;
  grantee: string;
  dataId: string;
  actor: string;
  via: Via;
}

export interface RevokeAllResult {
  owner: string;
  newEpoch: bigint;
  actor: string;
  via: Via;
}

export interface ManagerResult {
  owner: string;
  manager: string;
  approved: boolean;
}

export interface UseResult {
  owner: string;
  processor: string;
  dataId: string;
  purpose: number;
  evidence: string;
}

export interface ShareResult {
  owner: string;
  from: string;
  to: string;
  dataId: string;
  purpose: number;
  evidence: string;
}

export interface NoncesResult {
  owner: string;
  wordPos: bigint;
  mask: bigint;
}

/** A batch's result: how many items it applied, and each item's decoded event. */
export interface BatchResult<T> {
  count: number;
  items: T[];
}

/** A consent as stored (exact key, no ALL_DATA fallback), with whether it is active now. */
export interface ConsentView {
  purposes: number[];
  purposesMask: bigint;
  expiresAt: bigint;
  epoch: bigint;
  active: boolean;
}

/** An active consent found from events and confirmed against current state. */
export interface ActiveConsent extends ConsentView {
  owner: string;
  grantee: string;
  dataId: string;
}

export interface PurposeEntry {
  id: number;
  name: string;
  metadataHash: string;
  /** Can be newly granted now (defined and not deprecated). */
  grantable: boolean;
}

export interface PurposeCatalogView {
  grantableMask: bigint;
  definedMask: bigint;
  purposes: PurposeEntry[];
}

export type HistoryEntry =
  | ({ kind: "granted"; purposes: number[]; purposesMask: bigint; expiresAt: bigint; noticeHash: string } & EventPlace &
      Actor)
  | ({ kind: "revoked" } & EventPlace & Actor)
  | ({ kind: "allRevoked"; newEpoch: bigint } & EventPlace & Actor);

interface EventPlace {
  blockNumber: number;
  transactionHash: string;
  logIndex: number;
}

interface Actor {
  actor: string;
  via: Via;
}

/** Block range for event scans (defaults: the whole chain). */
export interface EventRange {
  fromBlock?: number;
  toBlock?: number | "latest";
}

export interface ConnectOptions {
  /** Skip the `version()` major check (for tooling that reads older deployments on purpose). */
  skipVersionCheck?: boolean;
  /** Refuse to connect unless the provider is on this chain. */
  expectedChainId?: bigint;
}

function majorOf(version: string): string {
  return version.split(".")[0] ?? version;
}

/** The provider behind a runner, or INVALID_INPUT naming what is missing. */
export function providerOf(runner: ContractRunner): Provider {
  if (!runner.provider)
    throw new ConsentSdkError("INVALID_INPUT", "runner: connect a Provider or a Signer with a provider");
  return runner.provider;
}

/** Checks there is code at `address` on the runner's chain (NO_CONTRACT otherwise). */
export async function assertContract(provider: Provider, address: string, what: string): Promise<void> {
  let code: string;
  try {
    code = await provider.getCode(address);
  } catch (err) {
    throw toConsentSdkError(err, `reading the code at ${address}`);
  }
  if (code === "0x") {
    throw new ConsentSdkError("NO_CONTRACT", `no contract at ${address}: is ${what} deployed on this chain?`);
  }
}

/** The chain id of a provider (RPC_UNREACHABLE when it does not answer). */
export async function chainIdOf(provider: Provider): Promise<bigint> {
  try {
    return (await provider.getNetwork()).chainId;
  } catch (err) {
    throw toConsentSdkError(err, "reading the chain id");
  }
}

/**
 * The consent registry, over its TypeChain binding. Writes return a {@link ConsentTransaction}
 * (validated at the edge, estimated, sent, decoded); reads return plain values.
 *
 * Over JSON-RPC, create the provider with `{ cacheTimeout: -1 }`: ethers' JsonRpcProvider
 * otherwise answers an identical call from a short cache, so a read right after a write can
 * return the state from before it.
 */
export class ConsentRegistryClient {
  private constructor(
    readonly address: string,
    readonly contract: ConsentRegistry,
    readonly chainId: bigint,
    private readonly runner: ContractRunner,
  ) {}

  /**
   * Connects to the registry at `address`: refuses an address without code (NO_CONTRACT), a
   * provider on another chain than `expectedChainId` (WRONG_CHAIN), and a deployment whose
   * `version()` major differs from this SDK's {@link REGISTRY_VERSION} (INCOMPATIBLE_VERSION).
   */
  static async connect(
    address: string,
    runner: ContractRunner,
    opts: ConnectOptions = {},
  ): Promise<ConsentRegistryClient> {
    const target = parseInput(addressSchema, address, "registry address");
    const provider = providerOf(runner);
    const chainId = await chainIdOf(provider);
    if (opts.expectedChainId !== undefined && opts.expectedChainId !== chainId) {
      throw new ConsentSdkError(
        "WRONG_CHAIN",
        `the provider is on chain ${chainId}, expected chain ${opts.expectedChainId}; check the RPC URL`,
      );
    }
    await assertContract(provider, target, "the consent registry");
    const contract = ConsentRegistry__factory.connect(target, runner);
    if (!opts.skipVersionCheck) {
      let version: string;
      try {
        version = await contract.version();
      } catch (err) {
        throw new ConsentSdkError(
          "INCOMPATIBLE_VERSION",
          `${target} does not answer version(); it is not a consent registry this SDK (v${REGISTRY_VERSION}) can talk to`,
          { cause: err },
        );
      }
      if (majorOf(version) !== majorOf(REGISTRY_VERSION)) {
        throw new ConsentSdkError(
          "INCOMPATIBLE_VERSION",
          `registry ${target} is version ${version}; this SDK speaks ${majorOf(REGISTRY_VERSION)}.x (${REGISTRY_VERSION})`,
        );
      }
    }
    return new ConsentRegistryClient(target, contract, chainId, runner);
  }

  // -----------------------------------------------------------------------------------------
  // Plumbing
  // -----------------------------------------------------------------------------------------

  private tx<T>(
    action: string,
    build: () => Promise<{ to: string; data: string }>,
    decode: (r: ContractTransactionReceipt) => T,
  ): ConsentTransaction<T> {
    return new ConsentTransaction(
      this.runner,
      this.contract.interface,
      action,
      async () => {
        const tx = await build();
        const from = await this.senderAddress(action);
        return { to: tx.to, data: tx.data, from };
      },
      decode,
    );
  }

  private async senderAddress(action: string): Promise<string> {
    const signer = this.runner as Partial<Signer>;
    if (typeof signer.getAddress !== "function") {
      throw new ConsentSdkError("NO_SIGNER", `${action}: connect the client with a Signer to send transactions`);
    }
    return signer.getAddress();
  }

  private async chainTime(): Promise<bigint> {
    const provider = providerOf(this.runner);
    try {
      const block = await provider.getBlock("latest");
      if (!block) throw new Error("no latest block");
      return BigInt(block.timestamp);
    } catch (err) {
      throw toConsentSdkError(err, "reading the chain time");
    }
  }

  private events(receipt: ContractTransactionReceipt, name: string): Record<string, unknown>[] {
    const out: Record<string, unknown>[] = [];
    for (const log of receipt.logs as readonly Log[]) {
      if (getAddress(log.address) !== this.address) continue;
      const parsed = this.contract.interface.parseLog({ topics: [...log.topics], data: log.data });
      if (parsed?.name === name) out.push(parsed.args.toObject());
    }
    return out;
  }

  private one<T>(receipt: ContractTransactionReceipt, name: string, map: (a: Record<string, unknown>) => T): T {
    const [first] = this.events(receipt, name);
    if (!first) throw new ConsentSdkError("NOT_FOUND", `transaction ${receipt.hash} emitted no ${name} event`);
    return map(first);
  }

  private batch<T>(
    receipt: ContractTransactionReceipt,
    name: string,
    map: (a: Record<string, unknown>) => T,
  ): BatchResult<T> {
    const items = this.events(receipt, name).map(map);
    return { count: items.length, items };
  }

  private async validGrant(req: GrantRequest, label: string) {
    const g = parseInput(grantRequestSchema, req, label);
    assertFutureExpiry(g.expiresAt, await this.chainTime(), label);
    return g;
  }

  // -----------------------------------------------------------------------------------------
  // Owner and manager writes
  // -----------------------------------------------------------------------------------------

  /** Grants (or replaces) the signer's consent to `req.grantee` for `req.dataId`. */
  grant(req: GrantRequest): ConsentTransaction<GrantResult> {
    return this.tx(
      "grant",
      async () => {
        const g = await this.validGrant(req, "grant");
        return this.contract.grant.populateTransaction(g.grantee, g.dataId, g.purposes, g.expiresAt, g.noticeHash);
      },
      (r) => this.one(r, "ConsentGranted", toGrantResult),
    );
  }

  /** Grants for `owner`; the signer must be `owner` or one of its managers. */
  grantFor(owner: string, req: GrantRequest): ConsentTransaction<GrantResult> {
    return this.tx(
      "grantFor",
      async () => {
        const o = parseInput(addressSchema, owner, "grantFor.owner");
        const g = await this.validGrant(req, "grantFor");
        return this.contract.grantFor.populateTransaction(
          o,
          g.grantee,
          g.dataId,
          g.purposes,
          g.expiresAt,
          g.noticeHash,
        );
      },
      (r) => this.one(r, "ConsentGranted", toGrantResult),
    );
  }

  /** Withdraws the signer's consent for `(grantee, dataId)`. */
  revoke(req: RevokeRequest): ConsentTransaction<RevokeResult> {
    return this.tx(
      "revoke",
      async () => {
        const v = parseInput(revokeRequestSchema, req, "revoke");
        return this.contract.revoke.populateTransaction(v.grantee, v.dataId);
      },
      (r) => this.one(r, "ConsentRevoked", toRevokeResult),
    );
  }

  /** Withdraws `owner`'s consent; the signer must be `owner` or one of its managers. */
  revokeFor(owner: string, req: RevokeRequest): ConsentTransaction<RevokeResult> {
    return this.tx(
      "revokeFor",
      async () => {
        const o = parseInput(addressSchema, owner, "revokeFor.owner");
        const v = parseInput(revokeRequestSchema, req, "revokeFor");
        return this.contract.revokeFor.populateTransaction(o, v.grantee, v.dataId);
      },
      (r) => this.one(r, "ConsentRevoked", toRevokeResult),
    );
  }

  /** Withdraws every consent of the signer (new revoke-all epoch). */
  revokeAll(): ConsentTransaction<RevokeAllResult> {
    return this.tx(
      "revokeAll",
      () => this.contract.revokeAll.populateTransaction(),
      (r) => this.one(r, "AllConsentsRevoked", toRevokeAllResult),
    );
  }

  /** Withdraws every consent of `owner`; the signer must be `owner` or one of its managers. */
  revokeAllFor(owner: string): ConsentTransaction<RevokeAllResult> {
    return this.tx(
      "revokeAllFor",
      async () =>
        this.contract.revokeAllFor.populateTransaction(parseInput(addressSchema, owner, "revokeAllFor.owner")),
      (r) => this.one(r, "AllConsentsRevoked", toRevokeAllResult),
    );
  }

  /** Several grants by the signer, all or nothing. */
  grantBatch(reqs: readonly GrantRequest[]): ConsentTransaction<BatchResult<GrantResult>> {
    return this.tx(
      "grantBatch",
      async () => {
        if (reqs.length === 0) throw new ConsentSdkError("INVALID_INPUT", "grantBatch: pass at least one grant");
        const grants = [];
        for (const [i, req] of reqs.entries()) grants.push(await this.validGrant(req, `grantBatch[${i}]`));
        return this.contract.grantBatch.populateTransaction(grants);
      },
      (r) => this.batch(r, "ConsentGranted", toGrantResult),
    );
  }

  /** Several revocations by the signer, all or nothing. */
  revokeBatch(reqs: readonly RevokeRequest[]): ConsentTransaction<BatchResult<RevokeResult>> {
    return this.tx(
      "revokeBatch",
      async () => {
        if (reqs.length === 0) throw new ConsentSdkError("INVALID_INPUT", "revokeBatch: pass at least one revocation");
        const revokes = reqs.map((req, i) => parseInput(revokeRequestSchema, req, `revokeBatch[${i}]`));
        return this.contract.revokeBatch.populateTransaction(revokes);
      },
      (r) => this.batch(r, "ConsentRevoked", toRevokeResult),
    );
  }

  /** Appoints (`approved = true`) or removes a manager of the signer. */
  setManager(manager: string, approved: boolean): ConsentTransaction<ManagerResult> {
    return this.tx(
      "setManager",
      async () =>
        this.contract.setManager.populateTransaction(
          parseInput(addressSchema, manager, "setManager.manager"),
          approved,
        ),
      (r) =>
        this.one(r, "ManagerSet", (a) => ({
          owner: String(a.owner),
          manager: String(a.manager),
          approved: Boolean(a.approved),
        })),
    );
  }

  /** Marks the signer's nonces in `mask` of bitmap word `wordPos` as used (cancels signed messages). */
  invalidateNonces(wordPos: bigint, mask: bigint): ConsentTransaction<NoncesResult> {
    return this.tx(
      "invalidateNonces",
      async () =>
        this.contract.invalidateNonces.populateTransaction(
          parseInput(uint256Schema, wordPos, "invalidateNonces.wordPos"),
          parseInput(uint256Schema, mask, "invalidateNonces.mask"),
        ),
      (r) =>
        this.one(r, "NoncesInvalidated", (a) => ({
          owner: String(a.owner),
          wordPos: BigInt(a.wordPos as bigint),
          mask: BigInt(a.mask as bigint),
        })),
    );
  }

  // -----------------------------------------------------------------------------------------
  // Signatures: sign off-chain (no gas), relay by anyone
  // -----------------------------------------------------------------------------------------

  private domain() {
    return consentDomain(this.chainId, this.address);
  }

  /** Nonces this client has handed out per owner and not yet seen used on-chain. */
  private readonly reservedNonces = new Map<string, Set<bigint>>();

  /**
   * The lowest nonce of `owner` that is unused on-chain and not yet handed out by this client.
   * Sequential nonces share one bitmap word, so after the owner's first signature each relayed
   * message writes an already non-zero word: ~17,000 gas less than a random nonce, which almost
   * always lands in a fresh word (BENCHMARKS.md: grantBySig vs grantBySig.firstNonce). Two
   * independent signers for the same owner may pick the same nonce; the second relay then fails
   * with ConsentRegistryNonceUsed and nothing else happens — pass `nonce: randomNonce()` to
   * avoid that when signing from several places at once.
   */
  async nextNonce(owner: string): Promise<bigint> {
    const key = parseInput(addressSchema, owner, "nextNonce.owner");
    let taken = this.reservedNonces.get(key);
    if (!taken) this.reservedNonces.set(key, (taken = new Set()));
    for (let word = 0n; ; word++) {
      const bitmap = await this.contract.nonceBitmap(key, word);
      for (let bit = 0n; bit < 256n; bit++) {
        const nonce = (word << 8n) | bit;
        if (((bitmap >> bit) & 1n) === 0n && !taken.has(nonce)) {
          taken.add(nonce);
          return nonce;
        }
      }
    }
  }

  private async signingDefaults(opts: SigningOptions, owner: string): Promise<{ nonce: bigint; deadline: bigint }> {
    const nonce =
      opts.nonce === undefined ? await this.nextNonce(owner) : parseInput(uint256Schema, opts.nonce, "sign.nonce");
    const deadline =
      opts.deadline === undefined
        ? (await this.chainTime()) + 3600n
        : parseInput(uint256Schema, opts.deadline, "sign.deadline");
    return { nonce, deadline };
  }

  /** Signs a grant by `signer` (the owner) for anyone to relay with {@link relayGrant}. */
  async signGrant(signer: Signer, req: GrantRequest & SigningOptions): Promise<Signed<"Grant">> {
    const g = await this.validGrant(req, "signGrant");
    const owner = getAddress(await signer.getAddress());
    const { nonce, deadline } = await this.signingDefaults(req, owner);
    return signConsent("Grant", signer, this.domain(), { owner, ...g, nonce, deadline });
  }

  /** Signs a revocation by `signer` (the owner). */
  async signRevoke(signer: Signer, req: RevokeRequest & SigningOptions): Promise<Signed<"Revoke">> {
    const v = parseInput(revokeRequestSchema, req, "signRevoke");
    const owner = getAddress(await signer.getAddress());
    const { nonce, deadline } = await this.signingDefaults(req, owner);
    return signConsent("Revoke", signer, this.domain(), { owner, ...v, nonce, deadline });
  }

  /** Signs a revoke-all by `signer` (the owner). */
  async signRevokeAll(signer: Signer, opts: SigningOptions = {}): Promise<Signed<"RevokeAll">> {
    const owner = getAddress(await signer.getAddress());
    const { nonce, deadline } = await this.signingDefaults(opts, owner);
    return signConsent("RevokeAll", signer, this.domain(), { owner, nonce, deadline });
  }

  /**
   * Whether `signed.signature` is `signed.owner`'s signature over the message for this
   * registry and chain: ecrecover for an EOA, ERC-1271 `isValidSignature` for a contract owner.
   * Does not check the nonce or the deadline (see {@link isNonceUsed}).
   */
  async verifySigned<K extends ConsentMessageKind>(kind: K, signed: Signed<K>): Promise<boolean> {
    const { signature, ...message } = signed;
    const msg = message as unknown as MessageOf[K];
    const owner = getAddress(msg.owner);
    const provider = providerOf(this.runner);
    const code = await provider.getCode(owner);
    if (code === "0x") {
      try {
        return getAddress(recoverConsentSigner(kind, this.domain(), msg, signature)) === owner;
      } catch {
        return false;
      }
    }
    const digest = consentDigest(kind, this.domain(), msg);
    const data = "0x1626ba7e" + digest.slice(2).padStart(64, "0") + abiBytesTail(signature);
    try {
      const result = await provider.call({ to: owner, data });
      return result.slice(0, 10).toLowerCase() === "0x1626ba7e";
    } catch {
      return false;
    }
  }

  /** Relays a grant signed by its owner (the signer pays gas). */
  relayGrant(signed: Signed<"Grant">): ConsentTransaction<GrantResult> {
    return this.tx(
      "relayGrant",
      async () => this.contract.grantBySig.populateTransaction(parseInput(signedGrantSchema, signed, "relayGrant")),
      (r) => this.one(r, "ConsentGranted", toGrantResult),
    );
  }

  /** Relays a revocation signed by its owner. */
  relayRevoke(signed: Signed<"Revoke">): ConsentTransaction<RevokeResult> {
    return this.tx(
      "relayRevoke",
      async () => this.contract.revokeBySig.populateTransaction(parseInput(signedRevokeSchema, signed, "relayRevoke")),
      (r) => this.one(r, "ConsentRevoked", toRevokeResult),
    );
  }

  /** Relays a revoke-all signed by its owner. */
  relayRevokeAll(signed: Signed<"RevokeAll">): ConsentTransaction<RevokeAllResult> {
    return this.tx(
      "relayRevokeAll",
      async () =>
        this.contract.revokeAllBySig.populateTransaction(parseInput(signedRevokeAllSchema, signed, "relayRevokeAll")),
      (r) => this.one(r, "AllConsentsRevoked", toRevokeAllResult),
    );
  }

  /** Relays several signed grants (any owners), all or nothing. */
  relayGrantBatch(signed: readonly Signed<"Grant">[]): ConsentTransaction<BatchResult<GrantResult>> {
    return this.tx(
      "relayGrantBatch",
      async () => {
        if (signed.length === 0)
          throw new ConsentSdkError("INVALID_INPUT", "relayGrantBatch: pass at least one signed grant");
        const reqs = signed.map((s, i) => parseInput(signedGrantSchema, s, `relayGrantBatch[${i}]`));
        return this.contract.grantBySigBatch.populateTransaction(reqs);
      },
      (r) => this.batch(r, "ConsentGranted", toGrantResult),
    );
  }

  /** Relays several signed revocations (any owners), all or nothing. */
  relayRevokeBatch(signed: readonly Signed<"Revoke">[]): ConsentTransaction<BatchResult<RevokeResult>> {
    return this.tx(
      "relayRevokeBatch",
      async () => {
        if (signed.length === 0)
          throw new ConsentSdkError("INVALID_INPUT", "relayRevokeBatch: pass at least one signed revocation");
        const reqs = signed.map((s, i) => parseInput(signedRevokeSchema, s, `relayRevokeBatch[${i}]`));
        return this.contract.revokeBySigBatch.populateTransaction(reqs);
      },
      (r) => this.batch(r, "ConsentRevoked", toRevokeResult),
    );
  }

  // -----------------------------------------------------------------------------------------
  // Enforced records (the signer is the processor)
  // -----------------------------------------------------------------------------------------

  /** Records that the signer used `owner`'s data; reverts (decoded) without live consent. */
  recordUse(req: UseRequest): ConsentTransaction<UseResult> {
    return this.tx(
      "recordUse",
      async () => {
        const u = parseInput(useRequestSchema, req, "recordUse");
        return this.contract.recordUse.populateTransaction(u.owner, u.dataId, u.purpose, u.evidence);
      },
      (r) => this.one(r, "DataUsed", toUseResult),
    );
  }

  /** Records that the signer shared `owner`'s data with integration `to`. */
  recordShare(req: ShareRequest): ConsentTransaction<ShareResult> {
    return this.tx(
      "recordShare",
      async () => {
        const s = parseInput(shareRequestSchema, req, "recordShare");
        return this.contract.recordShare.populateTransaction(s.owner, s.to, s.dataId, s.purpose, s.evidence);
      },
      (r) => this.one(r, "DataShared", toShareResult),
    );
  }

  /** Several use records by the signer, all or nothing. */
  recordUseBatch(reqs: readonly UseRequest[]): ConsentTransaction<BatchResult<UseResult>> {
    return this.tx(
      "recordUseBatch",
      async () => {
        if (reqs.length === 0) throw new ConsentSdkError("INVALID_INPUT", "recordUseBatch: pass at least one record");
        const records = reqs.map((req, i) => parseInput(useRequestSchema, req, `recordUseBatch[${i}]`));
        return this.contract.recordUseBatch.populateTransaction(records);
      },
      (r) => this.batch(r, "DataUsed", toUseResult),
    );
  }

  /** Several share records by the signer, all or nothing. */
  recordShareBatch(reqs: readonly ShareRequest[]): ConsentTransaction<BatchResult<ShareResult>> {
    return this.tx(
      "recordShareBatch",
      async () => {
        if (reqs.length === 0) throw new ConsentSdkError("INVALID_INPUT", "recordShareBatch: pass at least one record");
        const records = reqs.map((req, i) => parseInput(shareRequestSchema, req, `recordShareBatch[${i}]`));
        return this.contract.recordShareBatch.populateTransaction(records);
      },
      (r) => this.batch(r, "DataShared", toShareResult),
    );
  }

  // -----------------------------------------------------------------------------------------
  // Reads
  // -----------------------------------------------------------------------------------------

  private async read<T>(what: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      throw toConsentSdkError(err, what);
    }
  }

  /** Whether `grantee` may use `owner`'s `dataId` for `purpose` now (honours ALL_DATA). */
  isAllowed(owner: string, grantee: string, dataId: string, purpose: PurposeInput): Promise<boolean> {
    const o = parseInput(addressSchema, owner, "isAllowed.owner");
    const g = parseInput(addressSchema, grantee, "isAllowed.grantee");
    const d = parseInput(bytes32Schema, dataId, "isAllowed.dataId");
    const p = purposeId(parseInput(purposeSchema, purpose, "isAllowed.purpose"));
    return this.read("isAllowed", () => this.contract.isAllowed(o, g, d, p));
  }

  /** The consent stored for the exact key (no ALL_DATA fallback), with `active` now. */
  async getConsent(owner: string, grantee: string, dataId: string): Promise<ConsentView> {
    const o = parseInput(addressSchema, owner, "getConsent.owner");
    const g = parseInput(addressSchema, grantee, "getConsent.grantee");
    const d = parseInput(bytes32Schema, dataId, "getConsent.dataId");
    const c = await this.read("getConsent", () => this.contract.getConsent(o, g, d));
    return {
      purposes: maskToPurposes(c.purposes),
      purposesMask: c.purposes,
      expiresAt: c.expiresAt,
      epoch: c.epoch,
      active: c.active,
    };
  }

  /** The owner's current revoke-all epoch. */
  epochOf(owner: string): Promise<bigint> {
    const o = parseInput(addressSchema, owner, "epochOf.owner");
    return this.read("epochOf", () => this.contract.epochOf(o));
  }

  /** Whether `manager` is a manager of `owner`. */
  isManager(owner: string, manager: string): Promise<boolean> {
    const o = parseInput(addressSchema, owner, "isManager.owner");
    const m = parseInput(addressSchema, manager, "isManager.manager");
    return this.read("isManager", () => this.contract.isManager(o, m));
  }

  /** Whether `owner`'s `nonce` was used or invalidated. */
  isNonceUsed(owner: string, nonce: bigint): Promise<boolean> {
    const o = parseInput(addressSchema, owner, "isNonceUsed.owner");
    const n = parseInput(uint256Schema, nonce, "isNonceUsed.nonce");
    return this.read("isNonceUsed", () => this.contract.isNonceUsed(o, n));
  }

  /** The purpose catalogue as the chain has it: every defined purpose, its metadata hash, grantable or not. */
  async purposes(): Promise<PurposeCatalogView> {
    const [grantableMask, definedMask] = await this.read("purposes", () =>
      Promise.all([this.contract.grantablePurposes(), this.contract.definedPurposes()]),
    );
    const ids = maskToPurposes(definedMask);
    const hashes = await this.read("purposeMetadata", () =>
      Promise.all(ids.map((id) => this.contract.purposeMetadata(id))),
    );
    return {
      grantableMask,
      definedMask,
      purposes: ids.map((id, i) => ({
        id,
        name: purposeName(id),
        metadataHash: hashes[i] ?? ZeroHash,
        grantable: ((grantableMask >> BigInt(id)) & 1n) === 1n,
      })),
    };
  }

  /**
   * The owner's consents that are active now: every key the owner ever granted (from
   * ConsentGranted events), confirmed against current state (revocation, revoke-all, expiry).
   */
  async activeConsentsOf(owner: string, range: EventRange = {}): Promise<ActiveConsent[]> {
    const o = parseInput(addressSchema, owner, "activeConsentsOf.owner");
    const logs = await this.read("activeConsentsOf", () =>
      this.contract.queryFilter(
        this.contract.filters.ConsentGranted(o),
        range.fromBlock ?? 0,
        range.toBlock ?? "latest",
      ),
    );
    return this.confirmActive(logs.map((l) => [l.args.owner, l.args.grantee, l.args.dataId] as const));
  }

  /** Consents active now that name `grantee` (any owner). */
  async consentsGrantedTo(grantee: string, range: EventRange = {}): Promise<ActiveConsent[]> {
    const g = parseInput(addressSchema, grantee, "consentsGrantedTo.grantee");
    const logs = await this.read("consentsGrantedTo", () =>
      this.contract.queryFilter(
        this.contract.filters.ConsentGranted(undefined, g),
        range.fromBlock ?? 0,
        range.toBlock ?? "latest",
      ),
    );
    return this.confirmActive(logs.map((l) => [l.args.owner, l.args.grantee, l.args.dataId] as const));
  }

  private async confirmActive(keys: (readonly [string, string, string])[]): Promise<ActiveConsent[]> {
    const seen = new Map<string, readonly [string, string, string]>();
    for (const k of keys) seen.set(k.join("|").toLowerCase(), k);
    const out: ActiveConsent[] = [];
    for (const [owner, grantee, dataId] of seen.values()) {
      const c = await this.getConsent(owner, grantee, dataId);
      if (c.active) out.push({ owner: getAddress(owner), grantee: getAddress(grantee), dataId, ...c });
    }
    return out;
  }

  /**
   * Every event that shaped the consent `(owner, grantee, dataId)`, oldest first: its grants and
   * revocations plus the owner's revoke-alls, with block number and transaction hash.
   */
  async history(owner: string, grantee: string, dataId: string, range: EventRange = {}): Promise<HistoryEntry[]> {
    const o = parseInput(addressSchema, owner, "history.owner");
    const g = parseInput(addressSchema, grantee, "history.grantee");
    const d = parseInput(bytes32Schema, dataId, "history.dataId");
    const from = range.fromBlock ?? 0;
    const to = range.toBlock ?? "latest";
    const c = this.contract;
    const [granted, revoked, allRevoked] = await this.read("history", () =>
      Promise.all([
        c.queryFilter(c.filters.ConsentGranted(o, g, d), from, to),
        c.queryFilter(c.filters.ConsentRevoked(o, g, d), from, to),
        c.queryFilter(c.filters.AllConsentsRevoked(o), from, to),
      ]),
    );
    const place = (l: Log): EventPlace => ({
      blockNumber: l.blockNumber,
      transactionHash: l.transactionHash,
      logIndex: l.index,
    });
    const entries: HistoryEntry[] = [
      ...granted.map((l): HistoryEntry => ({
        kind: "granted",
        purposes: maskToPurposes(l.args.purposes),
        purposesMask: l.args.purposes,
        expiresAt: l.args.expiresAt,
        noticeHash: l.args.noticeHash,
        actor: l.args.actor,
        via: Number(l.args.via) as Via,
        ...place(l),
      })),
      ...revoked.map((l): HistoryEntry => ({
        kind: "revoked",
        actor: l.args.actor,
        via: Number(l.args.via) as Via,
        ...place(l),
      })),
      ...allRevoked.map((l): HistoryEntry => ({
        kind: "allRevoked",
        newEpoch: l.args.newEpoch,
        actor: l.args.actor,
        via: Number(l.args.via) as Via,
        ...place(l),
      })),
    ];
    return entries.sort((a, b) => a.blockNumber - b.blockNumber || a.logIndex - b.logIndex);
  }
}

function purposeId(p: number | PurposeName): number {
  return typeof p === "number" ? p : Purpose[p];
}

/** ABI tail of `isValidSignature(bytes32,bytes)` for the `bytes` argument (offset, length, data). */
function abiBytesTail(signature: string): string {
  const hex = signature.slice(2);
  const len = hex.length / 2;
  const padded = hex.padEnd(Math.ceil(hex.length / 64) * 64, "0");
  return (64).toString(16).padStart(64, "0") + len.toString(16).padStart(64, "0") + padded;
}

function toGrantResult(a: Record<string, unknown>): GrantResult {
  const mask = BigInt(a.purposes as bigint);
  return {
    owner: String(a.owner),
    grantee: String(a.grantee),
    dataId: String(a.dataId),
    purposes: maskToPurposes(mask),
    purposesMask: mask,
    expiresAt: BigInt(a.expiresAt as bigint),
    noticeHash: String(a.noticeHash),
    actor: String(a.actor),
    via: Number(a.via) as Via,
  };
}

function toRevokeResult(a: Record<string, unknown>): RevokeResult {
  return {
    owner: String(a.owner),
    grantee: String(a.grantee),
    dataId: String(a.dataId),
    actor: String(a.actor),
    via: Number(a.via) as Via,
  };
}

function toRevokeAllResult(a: Record<string, unknown>): RevokeAllResult {
  return {
    owner: String(a.owner),
    newEpoch: BigInt(a.newEpoch as bigint),
    actor: String(a.actor),
    via: Number(a.via) as Via,
  };
}

function toUseResult(a: Record<string, unknown>): UseResult {
  return {
    owner: String(a.owner),
    processor: String(a.processor),
    dataId: String(a.dataId),
    purpose: Number(a.purpose),
    evidence: String(a.evidence),
  };
}

function toShareResult(a: Record<string, unknown>): ShareResult {
  return {
    owner: String(a.owner),
    from: String(a.from),
    to: String(a.to),
    dataId: String(a.dataId),
    purpose: Number(a.purpose),
    evidence: String(a.evidence),
  };
}
