import type { ContractTransactionReceipt, Signer } from "ethers";

import { addressOfRunner } from "./base.js";
import type { ConsentRevokedEvent, SignedRevokeFailedEvent } from "./contracts.js";
import { consentDigest, consentDomain } from "./eip712.js";
import type { ConsentMessageKind, MessageOf, Signed } from "./eip712.js";
import { decodeRevertData, toConsentSdkError } from "./errors.js";
import { ConsentRegistryReads, nonEmpty, signingOptionsOf } from "./registry-reads.js";
import { toGrantResult, toRevokeResult } from "./requests.js";
import type {
  BatchResult,
  GrantRequest,
  GrantResult,
  RevokeAllResult,
  RevokeBatchResult,
  RevokeRequest,
  RevokeResult,
  SignedRevokeFailure,
} from "./requests.js";
import { checkSignature } from "./signature-check.js";
import type { SignatureVerdict } from "./signature-check.js";
import type { ConsentMessageFile } from "./signed-message.js";
import { prepareGrant, prepareRevoke, prepareRevokeAll, signPrepared } from "./signing.js";
import type { SigningContext, SigningOptions } from "./signing.js";
import type { SigningStore } from "./signing-store.js";
import type { ConsentTransaction } from "./transaction.js";
import {
  addressSchema,
  parseInput,
  revokeRequestSchema,
  signedGrantSchema,
  signedRevokeAllSchema,
  signedRevokeSchema,
} from "./validation.js";

/**
 * The registry client's signed messages: preparing a message for any owner, signing it for an
 * EOA owner (versions reserved in the signing store, `signing.ts`), checking a signature by the
 * contract's rule (`signature-check.ts`), and relaying, singly or in batches.
 */
export abstract class ConsentRegistrySignatures extends ConsentRegistryReads {
  /** Where this client reserves signed-message versions. */
  abstract readonly signingStore: SigningStore;

  /**
   * What `sign*` / `prepare*` use: this deployment's domain, `store` (default: this client's
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
   * Builds a grant for `req.owner` (any address, e.g. a Safe) without signing it: the owner's
   * current epoch, the key's next version (reserved in the signing store) and the default
   * deadline, as {@link signGrant}. Hand out its digest or typed data (`digestOf`,
   * `typedDataOf`), then `withSignature` makes it relayable.
   */
  async prepareGrant(
    req: GrantRequest & SigningOptions & { owner: string },
    label = "prepareGrant",
  ): Promise<ConsentMessageFile<"Grant">> {
    const owner = parseInput(addressSchema, req.owner, `${label}.owner`);
    const g = await this.validGrant(req, label);
    return prepareGrant(this.signingContext(), owner, g, signingOptionsOf(req));
  }

  /** Builds a revocation for `req.owner` (any address) without signing it. */
  async prepareRevoke(
    req: RevokeRequest & SigningOptions & { owner: string },
    label = "prepareRevoke",
  ): Promise<ConsentMessageFile<"Revoke">> {
    const owner = parseInput(addressSchema, req.owner, `${label}.owner`);
    const v = parseInput(revokeRequestSchema, req, label);
    return prepareRevoke(this.signingContext(), owner, v, signingOptionsOf(req));
  }

  /** Builds a lockdown (RevokeAll) for `owner` (any address) without signing it. */
  async prepareRevokeAll(owner: string, opts: SigningOptions = {}): Promise<ConsentMessageFile<"RevokeAll">> {
    const o = parseInput(addressSchema, owner, "prepareRevokeAll.owner");
    return prepareRevokeAll(this.signingContext(), o, signingOptionsOf(opts));
  }

  /**
   * Signs a grant by `signer` (the owner) for anyone to relay with {@link relayGrant}: the
   * owner's current epoch, the key's next version (reserved in the signing store, so no other
   * message of this owner for this key gets it) and a deadline one hour after chain time, raised
   * to the deadline of an older message of this key that may still be relayed (an explicit
   * earlier deadline is refused). `epoch` / `version` may be given explicitly. See `signing.ts`.
   */
  async signGrant(signer: Signer, req: GrantRequest & SigningOptions): Promise<Signed<"Grant">> {
    const owner = await signer.getAddress();
    return signPrepared(await this.prepareGrant({ ...req, owner }, "signGrant"), signer);
  }

  /** Signs a revocation by `signer` (the owner), like {@link signGrant}. */
  async signRevoke(signer: Signer, req: RevokeRequest & SigningOptions): Promise<Signed<"Revoke">> {
    const owner = await signer.getAddress();
    return signPrepared(await this.prepareRevoke({ ...req, owner }, "signRevoke"), signer);
  }

  /**
   * Signs a lockdown (RevokeAll) by `signer` (the owner) for its current epoch; once relayed it
   * ends every consent, signed message and manager of that epoch.
   */
  async signRevokeAll(signer: Signer, opts: SigningOptions = {}): Promise<Signed<"RevokeAll">> {
    return signPrepared(await this.prepareRevokeAll(await signer.getAddress(), opts), signer);
  }

  /**
   * The registry's verdict on `signed.signature` as `signed.owner`'s signature over the message
   * for this registry and chain (`signature-check.ts`: ECDSA first, then ERC-1271 asked from the
   * registry's address). Does not check the epoch, version or deadline (the relay's simulation
   * does).
   */
  async checkSigned<K extends ConsentMessageKind>(kind: K, signed: Signed<K>): Promise<SignatureVerdict> {
    const { signature, ...message } = signed;
    const digest = consentDigest(kind, consentDomain(this.chainId, this.address), message as unknown as MessageOf[K]);
    return checkSignature(this.provider, this.address, signed.owner, digest, signature);
  }

  /** Whether the registry would accept `signed.signature` as the owner's ({@link checkSigned}). */
  async verifySigned<K extends ConsentMessageKind>(kind: K, signed: Signed<K>): Promise<boolean> {
    return (await this.checkSigned(kind, signed)).valid;
  }

  /** Relays a grant signed by its owner (the signer pays gas). */
  relayGrant(signed: Signed<"Grant">): ConsentTransaction<GrantResult> {
    return this.tx(
      "relayGrant",
      async () =>
        this.callData(
          this.contract.grantBySig.populateTransaction(parseInput(signedGrantSchema, signed, "relayGrant")),
        ),
      this.granted,
    );
  }

  /** Relays a revocation signed by its owner. */
  relayRevoke(signed: Signed<"Revoke">): ConsentTransaction<RevokeResult> {
    return this.tx(
      "relayRevoke",
      async () =>
        this.callData(
          this.contract.revokeBySig.populateTransaction(parseInput(signedRevokeSchema, signed, "relayRevoke")),
        ),
      this.revoked,
    );
  }

  /** Relays a revoke-all signed by its owner. */
  relayRevokeAll(signed: Signed<"RevokeAll">): ConsentTransaction<RevokeAllResult> {
    return this.tx(
      "relayRevokeAll",
      async () =>
        this.callData(
          this.contract.revokeAllBySig.populateTransaction(parseInput(signedRevokeAllSchema, signed, "relayRevokeAll")),
        ),
      this.allRevoked,
    );
  }

  /** Relays several signed grants (any owners), all or nothing. */
  relayGrantBatch(signed: readonly Signed<"Grant">[]): ConsentTransaction<BatchResult<GrantResult>> {
    return this.tx(
      "relayGrantBatch",
      async () => {
        const items = nonEmpty(signed, "relayGrantBatch", "signed grant");
        const reqs = items.map((s, i) => parseInput(signedGrantSchema, s, `relayGrantBatch[${i}]`));
        return this.callData(this.contract.grantBySigBatch.populateTransaction(reqs));
      },
      (r) => this.batch(r, "ConsentGranted", toGrantResult),
    );
  }

  private revokeBatchRequests(signed: readonly Signed<"Revoke">[], label: string) {
    return nonEmpty(signed, label, "signed revocation").map((s, i) =>
      parseInput(signedRevokeSchema, s, `${label}[${i}]`),
    );
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
        this.callData(
          this.contract.revokeBySigBatch.populateTransaction(this.revokeBatchRequests(signed, "relayRevokeBatch")),
        ),
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
    const from = await addressOfRunner(this.runner);
    let returned: string;
    try {
      returned = await this.provider.call({ to: this.address, data, ...(from ? { from } : {}) });
    } catch (err) {
      throw toConsentSdkError(err, "simulateRevokeBatch");
    }
    const [failures] = this.contract.interface.decodeFunctionResult("revokeBySigBatch", returned) as unknown as [
      string[],
    ];
    const out: SignedRevokeFailure[] = [];
    failures.forEach((reasonData, index) => {
      if (reasonData === "0x") return;
      const { owner, grantee, dataId } = reqs[index]!;
      out.push({ index, owner, grantee, dataId, reasonData, reason: decodeRevertData(reasonData) });
    });
    return out;
  }

  private revokeBatchResult(receipt: ContractTransactionReceipt, size: number): RevokeBatchResult {
    const failures = this.events<SignedRevokeFailedEvent.OutputObject>(receipt, "SignedRevokeFailed").map(
      (e): SignedRevokeFailure => ({
        index: Number(e.index),
        owner: e.owner,
        grantee: e.grantee,
        dataId: e.dataId,
        reasonData: e.reason,
        reason: decodeRevertData(e.reason),
      }),
    );
    // ConsentRevoked events come in item order, one per applied item.
    const failed = new Set(failures.map((f) => f.index));
    const appliedIndexes = [...Array(size).keys()].filter((i) => !failed.has(i));
    const items = this.events<ConsentRevokedEvent.OutputObject>(receipt, "ConsentRevoked").map((e, n) => ({
      ...toRevokeResult(e),
      index: appliedIndexes[n] ?? -1,
    }));
    return { count: items.length, items, failures };
  }
}
