import { expect } from "chai";
import { Wallet, id } from "ethers";

import { consentDomain, recoverConsentSigner } from "../../src/sdk/eip712.js";
import { ConsentSdkError } from "../../src/sdk/errors.js";
import { MemorySigningStore, keyOf } from "../../src/sdk/signing-store.js";
import type { SigningState } from "../../src/sdk/signing-store.js";
import { MAX_EXPIRY } from "../../src/sdk/constants.js";
import {
  planKeyMessage,
  planRevokeAll,
  prepareGrant,
  signGrant,
  signRevoke,
  signRevokeAll,
} from "../../src/sdk/signing.js";
import type { KeyPlanInput } from "../../src/sdk/signing.js";

/** The reservation rule (src/sdk/signing.ts) as pure functions, and signing without a chain. */

const GRANTEE = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";
const DATA = id("signing:asset");
const KEY = keyOf(GRANTEE, DATA);
const NOW = 1_000_000n;
const GEN = 1n << 16n;

function plan(state: SigningState, input: Partial<KeyPlanInput> & { chain?: KeyPlanInput["chain"] }) {
  return planKeyMessage(state, KEY, { kind: "Revoke", now: NOW, opts: {}, ...input });
}

function refusal(fn: () => unknown): ConsentSdkError {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(ConsentSdkError);
    return err as ConsentSdkError;
  }
  expect.fail("expected a ConsentSdkError");
}

describe("signing: reserving epoch, version and deadline", () => {
  it("the next version is one above both the chain's and the store's; a moved generation restarts the sequence", () => {
    const state: SigningState = { keys: {} };
    const chain = { epoch: 3n, version: 7n };
    expect(plan(state, { chain })).to.deep.equal({ epoch: 3n, version: 8n, deadline: NOW + 3600n });
    expect(plan(state, { chain })).to.deep.equal({ epoch: 3n, version: 9n, deadline: NOW + 3600n });
    expect(state.keys[KEY]).to.deep.equal({ epoch: 3n, version: 9n, deadline: NOW + 3600n });
    // A transaction moved the key to generation 4: the chain is ahead of the store.
    expect(plan(state, { chain: { epoch: 3n, version: 4n * GEN } }).version).to.equal(4n * GEN + 1n);
  });

  it("refuses the 65,536th signature of a generation: a transaction must start a new one", () => {
    const state: SigningState = { keys: {} };
    const err = refusal(() => plan(state, { chain: { epoch: 0n, version: GEN + 0xffffn } }));
    expect([err.code, err.message]).to.deep.equal([
      "SIGNING_ORDER",
      "signRevoke: version 131071 (generation 1, signature #65535) is the last signed version of this consent's generation; change the consent once by transaction (grant or revoke) to start a new generation, then sign again",
    ]);
    expect(state.keys).to.deep.equal({});
  });

  it("refuses when the store is a generation ahead of the chain (another history of the chain)", () => {
    const state: SigningState = { keys: { [KEY]: { epoch: 0n, version: 2n * GEN + 4n, deadline: NOW } } };
    const err = refusal(() => plan(state, { chain: { epoch: 0n, version: GEN } }));
    expect(err.code).to.equal("SIGNING_STORE");
    expect(err.message).to.equal(
      "signRevoke: the signing store has handed out version 131076 (generation 2, signature #4) for this consent, but the chain is at version 65536 (generation 1, set by transaction), an older generation: the store belongs to another history of this chain (a reset dev node?); clear the store's entry for this owner or pass an explicit version",
    );
  });

  it("the deadline floor holds only while the older message can still apply", () => {
    const outstanding = (
      record: { epoch: bigint; version: bigint; deadline: bigint },
      chain: { epoch: bigint; version: bigint },
    ) => plan({ keys: { [KEY]: record } }, { chain }).deadline;
    const late = NOW + 90_000n;
    expect(outstanding({ epoch: 0n, version: 3n, deadline: late }, { epoch: 0n, version: 2n })).to.equal(late);
    // Applied (chain at its version), overtaken, from another epoch, or expired: no floor.
    expect(outstanding({ epoch: 0n, version: 3n, deadline: late }, { epoch: 0n, version: 3n })).to.equal(NOW + 3600n);
    expect(outstanding({ epoch: 0n, version: 3n, deadline: late }, { epoch: 1n, version: 2n })).to.equal(NOW + 3600n);
    expect(outstanding({ epoch: 0n, version: 3n, deadline: NOW - 1n }, { epoch: 0n, version: 2n })).to.equal(
      NOW + 3600n,
    );
  });

  it("a signed lockdown's deadline is at least every message of its epoch that may still be relayed", () => {
    const state: SigningState = {
      keys: {
        [KEY]: { epoch: 2n, version: 5n, deadline: NOW + 7200n },
        [keyOf(GRANTEE, id("other"))]: { epoch: 1n, version: 9n, deadline: NOW + 99_999n }, // older epoch: void
      },
    };
    expect(planRevokeAll(state, { now: NOW, chainEpoch: 2n, opts: {} })).to.deep.equal({
      epoch: 2n,
      version: 0n,
      deadline: NOW + 7200n,
    });
    expect(state.revokeAll).to.deep.equal({ epoch: 2n, deadline: NOW + 7200n });
    const err = refusal(() => planRevokeAll(state, { now: NOW, chainEpoch: 2n, opts: { deadline: NOW + 60n } }));
    expect(err.code).to.equal("INVALID_INPUT");
    expect(err.message).to.include(
      `the deadline of a signed message of this epoch for grantee ${GRANTEE} on ${DATA} (version 5 (generation 0, signature #5)) that may still be relayable`,
    );
    expect(refusal(() => planRevokeAll(state, { now: NOW, chainEpoch: 2n, opts: { version: 1n } })).message).to.equal(
      "signRevokeAll.version: a RevokeAll has no version, only an epoch",
    );
  });

  it("a grant waits for an outstanding signed lockdown of its epoch, not for one the chain has moved past", () => {
    const state: SigningState = { keys: {}, revokeAll: { epoch: 4n, deadline: NOW + 10n } };
    const grant = (chain: { epoch: bigint; version: bigint }, epoch?: bigint) =>
      planKeyMessage(state, KEY, { kind: "Grant", now: NOW, chain, opts: epoch === undefined ? {} : { epoch } });
    expect(refusal(() => grant({ epoch: 4n, version: 0n })).code).to.equal("SIGNING_ORDER");
    expect(grant({ epoch: 4n, version: 0n }, 5n).epoch).to.equal(5n);
    expect(grant({ epoch: 5n, version: 0n }).epoch).to.equal(5n); // the lockdown was relayed
    // A revocation is never blocked: the lockdown would end that consent anyway.
    expect(
      planKeyMessage(state, KEY, { kind: "Revoke", now: NOW, chain: { epoch: 4n, version: 0n }, opts: {} }).epoch,
    ).to.equal(4n);
  });

  it("signs offline with explicit epoch and version (local clock); without them it says what is missing", async () => {
    const owner = Wallet.createRandom();
    const registry = Wallet.createRandom().address;
    const ctx = { chainId: 5n, registry, store: new MemorySigningStore() };
    const before = BigInt(Math.floor(Date.now() / 1000));
    const signed = await signRevoke(ctx, owner, { grantee: GRANTEE, dataId: DATA }, { epoch: 1n, version: 12n });
    expect([signed.owner, signed.epoch, signed.version]).to.deep.equal([owner.address, 1n, 12n]);
    expect(signed.deadline >= before + 3600n && signed.deadline <= before + 3602n).to.equal(true);
    const { signature, ...message } = signed;
    expect(recoverConsentSigner("Revoke", consentDomain(5n, registry), message, signature)).to.equal(owner.address);
    // The store recorded it: the next explicit-epoch grant without a version is refused, not guessed.
    const noVersion = await signGrant(
      ctx,
      owner,
      { grantee: GRANTEE, dataId: DATA, purposes: 1n, expiresAt: 0n, noticeHash: DATA },
      { epoch: 1n },
    ).catch((e: unknown) => e as ConsentSdkError);
    expect((noVersion as ConsentSdkError).message).to.equal(
      "signGrant: offline signing needs an explicit version (and epoch)",
    );
    const noEpoch = await signRevokeAll(ctx, owner).catch((e: unknown) => e as ConsentSdkError);
    expect((noEpoch as ConsentSdkError).message).to.equal("signRevokeAll: offline signing needs an explicit epoch");
  });

  it("prepareGrant checks the grant before reserving: an expiry beyond the registry's uint40 is refused, the store untouched", async () => {
    const owner = Wallet.createRandom().address;
    const store = new MemorySigningStore();
    const ctx = { chainId: 5n, registry: Wallet.createRandom().address, store };
    const grant = { grantee: GRANTEE, dataId: DATA, purposes: 4n, expiresAt: 1_800_000_000_000n, noticeHash: DATA };
    const err = await prepareGrant(ctx, owner, grant, { epoch: 0n, version: 1n }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(ConsentSdkError);
    expect([(err as ConsentSdkError).code, (err as ConsentSdkError).message]).to.deep.equal([
      "INVALID_INPUT",
      "signGrant.expiresAt: must be at most 1099511627775 (2^40 - 1, the registry's uint40)",
    ]);
    const scope = { chainId: 5n, registry: ctx.registry, owner };
    expect(await store.transact(scope, (state) => state)).to.deep.equal({ keys: {} });
    const zero = await prepareGrant(
      ctx,
      owner,
      { ...grant, expiresAt: 0n, purposes: 0n },
      { epoch: 0n, version: 1n },
    ).catch((e: unknown) => e as ConsentSdkError);
    expect((zero as ConsentSdkError).message).to.equal("signGrant.purposes: the purpose bitmap must not be 0");
    const ok = await prepareGrant(ctx, owner, { ...grant, expiresAt: MAX_EXPIRY }, { epoch: 0n, version: 1n });
    expect([ok.message.expiresAt, ok.message.version]).to.deep.equal([MAX_EXPIRY, 1n]);
  });
});
