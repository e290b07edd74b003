import { ZeroAddress } from "ethers";
import type { ContractRunner } from "ethers";

import { connectTo } from "./base.js";
import { REGISTRY_VERSION } from "./constants.js";
import { ConsentRegistry__factory } from "./contracts.js";
import type { ConsentRegistry, DataSharedEvent, DataUsedEvent, ManagerSetEvent } from "./contracts.js";
import { ConsentSdkError } from "./errors.js";
import { nonEmpty } from "./registry-reads.js";
import { ConsentRegistrySignatures } from "./registry-signatures.js";
import { toGrantResult, toManagerResult, toRevokeResult, toShareResult, toUseResult } from "./requests.js";
import type {
  BatchResult,
  GrantRequest,
  GrantResult,
  ManagerResult,
  RevokeAllResult,
  RevokeRequest,
  RevokeResult,
  ShareRequest,
  ShareResult,
  UseRequest,
  UseResult,
} from "./requests.js";
import { sharedSigningStore } from "./signing-store.js";
import type { SigningStore } from "./signing-store.js";
import type { ConsentTransaction } from "./transaction.js";
import { addressSchema, parseInput, revokeRequestSchema, shareRequestSchema, useRequestSchema } from "./validation.js";

export type { SigningOptions } from "./signing.js";

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

const majorOf = (version: string): string => version.split(".")[0] ?? version;

/**
 * The consent registry, over its TypeChain binding: connecting (chain, code and `version()`
 * checks), the owner's and managers' writes and the processors' enforced records. Its reads are
 * `registry-reads.ts`, its signed messages `registry-signatures.ts`; the plumbing every client
 * shares is `base.ts`, requests and results `requests.ts`. Writes return a
 * {@link ConsentTransaction} (validated at the edge, estimated, sent, decoded); reads return
 * plain values.
 *
 * Over JSON-RPC, create the provider with `{ cacheTimeout: -1 }`: ethers' JsonRpcProvider
 * otherwise answers an identical call from a short cache, so a read right after a write can
 * return the state from before it.
 */
export class ConsentRegistryClient extends ConsentRegistrySignatures {
  private constructor(
    address: string,
    contract: ConsentRegistry,
    chainId: bigint,
    runner: ContractRunner,
    /** Where this client reserves signed-message versions. */
    readonly signingStore: SigningStore,
  ) {
    super(address, contract, chainId, runner);
  }

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
    const { address: target, chainId } = await connectTo(
      address,
      runner,
      { label: "registry address", what: "the consent registry" },
      opts.expectedChainId,
    );
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

  // Owner and manager writes --------------------------------------------------------------

  /** Grants (or replaces) the signer's consent to `req.grantee` for `req.dataId`. */
  grant(req: GrantRequest): ConsentTransaction<GrantResult> {
    return this.tx(
      "grant",
      async () => {
        const g = await this.validGrant(req, "grant");
        return this.callData(
          this.contract.grant.populateTransaction(g.grantee, g.dataId, g.purposes, g.expiresAt, g.noticeHash),
        );
      },
      this.granted,
    );
  }

  /** Grants for `owner`; the signer must be `owner` or one of its managers. */
  grantFor(owner: string, req: GrantRequest): ConsentTransaction<GrantResult> {
    return this.tx(
      "grantFor",
      async () => {
        const o = parseInput(addressSchema, owner, "grantFor.owner");
        const g = await this.validGrant(req, "grantFor");
        const c = this.contract.grantFor;
        return this.callData(c.populateTransaction(o, g.grantee, g.dataId, g.purposes, g.expiresAt, g.noticeHash));
      },
      this.granted,
    );
  }

  /** Withdraws the signer's consent for `(grantee, dataId)`. */
  revoke(req: RevokeRequest): ConsentTransaction<RevokeResult> {
    return this.tx(
      "revoke",
      async () => {
        const v = parseInput(revokeRequestSchema, req, "revoke");
        return this.callData(this.contract.revoke.populateTransaction(v.grantee, v.dataId));
      },
      this.revoked,
    );
  }

  /** Withdraws `owner`'s consent; the signer must be `owner` or one of its managers. */
  revokeFor(owner: string, req: RevokeRequest): ConsentTransaction<RevokeResult> {
    return this.tx(
      "revokeFor",
      async () => {
        const o = parseInput(addressSchema, owner, "revokeFor.owner");
        const v = parseInput(revokeRequestSchema, req, "revokeFor");
        return this.callData(this.contract.revokeFor.populateTransaction(o, v.grantee, v.dataId));
      },
      this.revoked,
    );
  }

  /**
   * Lockdown: in one O(1) transaction, ends every consent of the signer, every signed message it
   * made before (they name the old epoch) and every manager it appointed (appoint them again
   * explicitly afterwards). The same call as {@link revokeAll}.
   */
  lockdown(): ConsentTransaction<RevokeAllResult> {
    return this.tx("lockdown", () => this.callData(this.contract.revokeAll.populateTransaction()), this.allRevoked);
  }

  /** The registry's name for {@link lockdown}: ends every consent, signed message and manager of the signer. */
  revokeAll(): ConsentTransaction<RevokeAllResult> {
    return this.tx("revokeAll", () => this.callData(this.contract.revokeAll.populateTransaction()), this.allRevoked);
  }

  /**
   * Lockdown for `owner` (its consents, signed messages and managers, this manager included);
   * the signer must be `owner` or one of its current managers.
   */
  revokeAllFor(owner: string): ConsentTransaction<RevokeAllResult> {
    return this.tx(
      "revokeAllFor",
      async () =>
        this.callData(
          this.contract.revokeAllFor.populateTransaction(parseInput(addressSchema, owner, "revokeAllFor.owner")),
        ),
      this.allRevoked,
    );
  }

  /** Several grants by the signer, all or nothing. */
  grantBatch(reqs: readonly GrantRequest[]): ConsentTransaction<BatchResult<GrantResult>> {
    return this.tx(
      "grantBatch",
      async () => {
        const grants = [];
        for (const [i, req] of nonEmpty(reqs, "grantBatch", "grant").entries()) {
          grants.push(await this.validGrant(req, `grantBatch[${i}]`));
        }
        return this.callData(this.contract.grantBatch.populateTransaction(grants));
      },
      (r) => this.batch(r, "ConsentGranted", toGrantResult),
    );
  }

  /** Several revocations by the signer, all or nothing. */
  revokeBatch(reqs: readonly RevokeRequest[]): ConsentTransaction<BatchResult<RevokeResult>> {
    return this.tx(
      "revokeBatch",
      async () => {
        const items = nonEmpty(reqs, "revokeBatch", "revocation");
        const revokes = items.map((req, i) => parseInput(revokeRequestSchema, req, `revokeBatch[${i}]`));
        return this.callData(this.contract.revokeBatch.populateTransaction(revokes));
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
        const owner = await this.senderAddress("setManager");
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
        return this.callData(this.contract.setManager.populateTransaction(m, approved));
      },
      (r) => this.one<ManagerSetEvent.OutputObject, ManagerResult>(r, "ManagerSet", toManagerResult),
    );
  }

  // Enforced records (the signer is the processor) -----------------------------------------

  /** Records that the signer used `owner`'s data; reverts (decoded) without live consent. */
  recordUse(req: UseRequest): ConsentTransaction<UseResult> {
    return this.tx(
      "recordUse",
      async () => {
        const u = parseInput(useRequestSchema, req, "recordUse");
        return this.callData(this.contract.recordUse.populateTransaction(u.owner, u.dataId, u.purpose, u.evidence));
      },
      (r) => this.one<DataUsedEvent.OutputObject, UseResult>(r, "DataUsed", toUseResult),
    );
  }

  /** Records that the signer shared `owner`'s data with integration `to`. */
  recordShare(req: ShareRequest): ConsentTransaction<ShareResult> {
    return this.tx(
      "recordShare",
      async () => {
        const s = parseInput(shareRequestSchema, req, "recordShare");
        return this.callData(
          this.contract.recordShare.populateTransaction(s.owner, s.to, s.dataId, s.purpose, s.evidence),
        );
      },
      (r) => this.one<DataSharedEvent.OutputObject, ShareResult>(r, "DataShared", toShareResult),
    );
  }

  /** Several use records by the signer, all or nothing. */
  recordUseBatch(reqs: readonly UseRequest[]): ConsentTransaction<BatchResult<UseResult>> {
    return this.tx(
      "recordUseBatch",
      async () => {
        const items = nonEmpty(reqs, "recordUseBatch", "record");
        const records = items.map((req, i) => parseInput(useRequestSchema, req, `recordUseBatch[${i}]`));
        return this.callData(this.contract.recordUseBatch.populateTransaction(records));
      },
      (r) => this.batch(r, "DataUsed", toUseResult),
    );
  }

  /** Several share records by the signer, all or nothing. */
  recordShareBatch(reqs: readonly ShareRequest[]): ConsentTransaction<BatchResult<ShareResult>> {
    return this.tx(
      "recordShareBatch",
      async () => {
        const items = nonEmpty(reqs, "recordShareBatch", "record");
        const records = items.map((req, i) => parseInput(shareRequestSchema, req, `recordShareBatch[${i}]`));
        return this.callData(this.contract.recordShareBatch.populateTransaction(records));
      },
      (r) => this.batch(r, "DataShared", toShareResult),
    );
  }
}
