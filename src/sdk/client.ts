import { AbiCoder, ZeroAddress, ZeroHash, getAddress } from "ethers";
import type { ContractRunner, ContractTransactionReceipt, Log, Provider, Signer } from "ethers";

import { ConsentRegistry__factory } from "../../types/ethers-contracts/index.js";
import type { ConsentRegistry } from "../../types/ethers-contracts/index.js";
import { REGISTRY_VERSION, Via, viaOf } from "./constants.js";
import { consentDomain, recoverConsentSigner, consentDigest } from "./eip712.js";
import type { ConsentMessageKind, MessageOf, Signed } from "./eip712.js";
import { ConsentSdkError, decodeRevertData, toConsentSdkError } from "./errors.js";
import type { DecodedConsentError } from "./errors.js";
import { Purpose, maskToPurposes, purposeName } from "./purposes.js";
import type { PurposeName } from "./purposes.js";
import {
  signGrant as signGrantMessage,
  signRevoke as signRevokeMessage,
  signRevokeAll as signRevokeAllMessage,
} from "./signing.js";
import type { SigningContext, SigningOptions } from "./signing.js";
import { sharedSigningStore } from "./signing-store.js";
import type { SigningStore } from "./signing-store.js";
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
  useRequestSchema,
} from "./validation.js";

export { ConsentTransaction } from "./transaction.js";
export type { SigningOptions } from "./signing.js";

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

export interface GrantResult {
  owner: string;
  grantee: string;
  dataId: string;
  purposes: number[];
  purposesMask: bigint;
  expiresAt: bigint;
  noticeHash: string;
  actor: string;
  /** The key's version after the change (see IConsentRegistry: the owner's latest word wins). */
  version: bigint;
  /** Derived from `version` and `actor` ({@link viaOf}). */
  via: Via;
}

export interface RevokeResult {
  owner: string;
  grantee: string;
  dataId: string;
  actor: string;
  version: bigint;
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

/** A batch's result: how many items it applied, and each item's decoded event. */
export interface BatchResult<T> {
  count: number;
  items: T[];
}

/** A signed revocation of a best-effort batch that did not apply, and why. */
export interface SignedRevokeFailure {
  /** The item's position in the batch. */
  index: number;
  owner: string;
  grantee: string;
  dataId: string;
  /** The ABI-encoded custom error the registry returned for the item. */
  reasonData: string;
  /** That error decoded into words (null if it is not one of the consent system's errors). */
  reason: DecodedConsentError | null;
}

/**
 * A best-effort batch of signed revocations ({@link ConsentRegistryClient.relayRevokeBatch}):
 * the items that applied (with their position) and the ones that did not.
 */
export interface RevokeBatchResult extends BatchResult<RevokeResult & { index: number }> {
  failures: SignedRevokeFailure[];
}

/** A consent as stored (exact key, no ALL_DATA fallback), with whether it is active now. */
export interface ConsentView {
  purposes: number[];
  purposesMask: bigint;
  expiresAt: bigint;
  epoch: bigint;
  /** The key's version: the next signed message for this key must exceed it (in its generation). */
  version: bigint;
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
  | ({
      kind: "granted";
      purposes: number[];
      purposesMask: bigint;
      expiresAt: bigint;
      noticeHash: string;
      version: bigint;
    } & EventPlace &
      Actor)
  | ({ kind: "revoked"; version: bigint } & EventPlace & Actor)
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
  /**
   * Where signed-message versions are reserved (default: {@link sharedSigningStore}, shared by
   * every client of this process). Processes that sign for the same owner must share one
   * store: pass a `FileSigningStore` (`omnitensor-consent/file-signing-store`) on one directory.
   */
  signingStore?: SigningStore;
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
    /** Where this client reserves signed-message versions. */
    readonly signingStore: SigningStore,
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
    return new ConsentRegistryClient(target, contract, chainId, runner, opts.signingStore ?? sharedSigningStore());
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

  /**
   * Lockdown: in one O(1) transaction, ends every consent of the signer, every signed message it
   * made before (they name the old epoch) and every manager it appointed (appoint them again
   * explicitly afterwards). The same call as {@link revokeAll}.
   */
  lockdown(): ConsentTransaction<RevokeAllResult> {
    return this.tx(
      "lockdown",
      () => this.contract.revokeAll.populateTransaction(),
      (r) => this.one(r, "AllConsentsRevoked", toRevokeAllResult),
    );
  }

  /** The registry's name for {@link lockdown}: ends every consent, signed message and manager of the signer. */
  revokeAll(): ConsentTransaction<RevokeAllResult> {
    return this.tx(
      "revokeAll",
      () => this.contract.revokeAll.populateTransaction(),
      (r) => this.one(r, "AllConsentsRevoked", toRevokeAllResult),
    );
  }

  /**
   * Lockdown for `owner` (its consents, signed messages and managers, this manager included);
   * the signer must be `owner` or one of its current managers.
   */
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

  /**
   * Appoints (`approved = true`) or removes a manager of the signer. A call that would change
   * nothing is refused before anything is sent (NO_CHANGE, saying why), like the zero address or
   * the signer itself (INVALID_INPUT); the registry would revert with ManagerUnchanged /
   * InvalidManager.
   */
  setManager(manager: string, approved: boolean): ConsentTransaction<ManagerResult> {
    return this.tx(
      "setManager",
      async () => {
        const m = parseInput(addressSchema, manager, "setManager.manager");
        const owner = getAddress(await this.senderAddress("setManager"));
        if (m === ZeroAddress || m === owner) {
          throw new ConsentSdkError(
            "INVALID_INPUT",
            `setManager.manager: ${m} cannot be a manager of ${owner} (${m === ZeroAddress ? "the zero address" : "the owner itself"})`,
          );
        }
        const [current, epoch] = await Promise.all([this.isManager(owner, m), this.epochOf(owner)]);
        if (current === approved) {
          throw new ConsentSdkError(
            "NO_CHANGE",
            approved
              ? `setManager: ${m} is already a manager of ${owner} (appointed in its current epoch ${epoch}); nothing to change, nothing was sent`
              : `setManager: ${m} is not a manager of ${owner} (none appointed in its current epoch ${epoch}, and a lockdown removes every manager); nothing to remove, nothing was sent`,
          );
        }
        return this.contract.setManager.populateTransaction(m, approved);
      },
      (r) =>
        this.one(r, "ManagerSet", (a) => ({
          owner: String(a.owner),
          manager: String(a.manager),
          approved: Boolean(a.approved),
        })),
    );
  }

  // -----------------------------------------------------------------------------------------
  // Signatures: sign off-chain (no gas), relay by anyone
  // -----------------------------------------------------------------------------------------

  private domain() {
    return consentDomain(this.chainId, this.address);
  }

  /**
   * What `sign*` use: this deployment's domain, `store` (default: this client's
   * {@link signingStore}) and this client's chain reads (epoch, key version, chain time).
   */
  signingContext(store: SigningStore = this.signingStore): SigningContext {
    return {
      chainId: this.chainId,
      registry: this.address,
      store,
      chain: {
        now: () => this.chainTime(),
        epochOf: (owner) => this.epochOf(owner),
        versionOf: async (owner, grantee, dataId) => (await this.getConsent(owner, grantee, dataId)).version,
      },
    };
  }

  /**
   * Signs a grant by `signer` (the owner) for anyone to relay with {@link relayGrant}: the
   * owner's current epoch, the key's next version (reserved in the signing store, so no other
   * message of this owner for this key gets it) and a deadline one hour after chain time, raised
   * to the deadline of an older message of this key that may still be relayed (an explicit
   * earlier deadline is refused). `epoch` / `version` may be given explicitly. See `signing.ts`.
   */
  async signGrant(signer: Signer, req: GrantRequest & SigningOptions): Promise<Signed<"Grant">> {
    const g = await this.validGrant(req, "signGrant");
    return signGrantMessage(this.signingContext(), signer, g, signingOptionsOf(req));
  }

  /** Signs a revocation by `signer` (the owner), like {@link signGrant}. */
  async signRevoke(signer: Signer, req: RevokeRequest & SigningOptions): Promise<Signed<"Revoke">> {
    const v = parseInput(revokeRequestSchema, req, "signRevoke");
    return signRevokeMessage(this.signingContext(), signer, v, signingOptionsOf(req));
  }

  /**
   * Signs a lockdown (RevokeAll) by `signer` (the owner) for its current epoch; once relayed it
   * ends every consent, signed message and manager of that epoch.
   */
  async signRevokeAll(signer: Signer, opts: SigningOptions = {}): Promise<Signed<"RevokeAll">> {
    return signRevokeAllMessage(this.signingContext(), signer, signingOptionsOf(opts));
  }

  /**
   * Whether `signed.signature` is `signed.owner`'s signature over the message for this
   * registry and chain: ecrecover for an EOA, ERC-1271 `isValidSignature` for a contract owner.
   * Does not check the epoch, version or deadline (the relay's simulation does).
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
    const data = "0x1626ba7e" + AbiCoder.defaultAbiCoder().encode(["bytes32", "bytes"], [digest, signature]).slice(2);
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

  private revokeBatchRequests(signed: readonly Signed<"Revoke">[], label: string) {
    if (signed.length === 0)
      throw new ConsentSdkError("INVALID_INPUT", `${label}: pass at least one signed revocation`);
    return signed.map((s, i) => parseInput(signedRevokeSchema, s, `${label}[${i}]`));
  }

  /**
   * Relays several signed revocations (any owners) in one best-effort `revokeBySigBatch`: every
   * valid item applies, and an invalid, stale or already applied one blocks no one else's
   * withdrawal. The result lists the applied items and, from the receipt's SignedRevokeFailed
   * events, each failed one with its reason in words. Use {@link simulateRevokeBatch} first to
   * leave out items that would fail.
   */
  relayRevokeBatch(signed: readonly Signed<"Revoke">[]): ConsentTransaction<RevokeBatchResult> {
    return this.tx(
      "relayRevokeBatch",
      async () =>
        this.contract.revokeBySigBatch.populateTransaction(this.revokeBatchRequests(signed, "relayRevokeBatch")),
      (r) => this.revokeBatchResult(r, signed.length),
    );
  }

  /**
   * What a best-effort revocation batch would do now, without sending it: the per-item
   * failures `revokeBySigBatch` returns, decoded (an eth_call from this client's signer, or
   * from nobody on a read-only client). Items not listed would apply, in order.
   */
  async simulateRevokeBatch(signed: readonly Signed<"Revoke">[]): Promise<SignedRevokeFailure[]> {
    const reqs = this.revokeBatchRequests(signed, "simulateRevokeBatch");
    const data = this.contract.interface.encodeFunctionData("revokeBySigBatch", [reqs]);
    const signer = this.runner as Partial<Signer>;
    const from = typeof signer.getAddress === "function" ? await signer.getAddress() : undefined;
    let returned: string;
    try {
      returned = await providerOf(this.runner).call({ to: this.address, data, ...(from ? { from } : {}) });
    } catch (err) {
      throw toConsentSdkError(err, "simulateRevokeBatch");
    }
    const [failures] = this.contract.interface.decodeFunctionResult("revokeBySigBatch", returned) as unknown as [
      string[],
    ];
    const out: SignedRevokeFailure[] = [];
    failures.forEach((reasonData, index) => {
      if (reasonData === "0x") return;
      const req = reqs[index]!;
      out.push({
        index,
        owner: req.owner,
        grantee: req.grantee,
        dataId: req.dataId,
        reasonData,
        reason: decodeRevertData(reasonData),
      });
    });
    return out;
  }

  private revokeBatchResult(receipt: ContractTransactionReceipt, size: number): RevokeBatchResult {
    const failures = this.events(receipt, "SignedRevokeFailed").map((a): SignedRevokeFailure => ({
      index: Number(a.index),
      owner: String(a.owner),
      grantee: String(a.grantee),
      dataId: String(a.dataId),
      reasonData: String(a.reason),
      reason: decodeRevertData(String(a.reason)),
    }));
    // ConsentRevoked events come in item order, one per applied item.
    const failed = new Set(failures.map((f) => f.index));
    const appliedIndexes = [...Array(size).keys()].filter((i) => !failed.has(i));
    const items = this.events(receipt, "ConsentRevoked").map((a, n) => ({
      ...toRevokeResult(a),
      index: appliedIndexes[n] ?? -1,
    }));
    return { count: items.length, items, failures };
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
      version: c.version,
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

  /**
   * The current managers of `owner`: every account a ManagerSet event ever named, kept if
   * `isManager` says so now (a lockdown removes them all without an event).
   */
  async managersOf(owner: string, range: EventRange = {}): Promise<string[]> {
    const o = parseInput(addressSchema, owner, "managersOf.owner");
    const logs = await this.read("managersOf", () =>
      this.contract.queryFilter(this.contract.filters.ManagerSet(o), range.fromBlock ?? 0, range.toBlock ?? "latest"),
    );
    const named = [...new Set(logs.map((l) => getAddress(l.args.manager)))];
    const current = await Promise.all(named.map((m) => this.isManager(o, m)));
    return named.filter((_, i) => current[i]);
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
        version: l.args.version,
        via: viaOf(l.args.owner, l.args.actor, l.args.version),
        ...place(l),
      })),
      ...revoked.map((l): HistoryEntry => ({
        kind: "revoked",
        actor: l.args.actor,
        version: l.args.version,
        via: viaOf(l.args.owner, l.args.actor, l.args.version),
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

/** Only the signing fields of a request (so a request object can carry both). */
function signingOptionsOf(o: SigningOptions): SigningOptions {
  const out: SigningOptions = {};
  if (o.deadline !== undefined) out.deadline = o.deadline;
  if (o.epoch !== undefined) out.epoch = o.epoch;
  if (o.version !== undefined) out.version = o.version;
  return out;
}

function toGrantResult(a: Record<string, unknown>): GrantResult {
  const mask = BigInt(a.purposes as bigint);
  const version = BigInt(a.version as bigint);
  return {
    owner: String(a.owner),
    grantee: String(a.grantee),
    dataId: String(a.dataId),
    purposes: maskToPurposes(mask),
    purposesMask: mask,
    expiresAt: BigInt(a.expiresAt as bigint),
    noticeHash: String(a.noticeHash),
    actor: String(a.actor),
    version,
    via: viaOf(String(a.owner), String(a.actor), version),
  };
}

function toRevokeResult(a: Record<string, unknown>): RevokeResult {
  const version = BigInt(a.version as bigint);
  return {
    owner: String(a.owner),
    grantee: String(a.grantee),
    dataId: String(a.dataId),
    actor: String(a.actor),
    version,
    via: viaOf(String(a.owner), String(a.actor), version),
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
