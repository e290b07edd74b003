import { expect } from "chai";
import { createServer } from "node:net";
import type { AddressInfo } from "node:net";

import { JsonRpcProvider, Wallet, ZeroHash, getAddress, id } from "ethers";
import type { Signer } from "ethers";
import { network } from "hardhat";

import { ALL_DATA, NO_EXPIRY, REGISTRY_VERSION } from "../../src/sdk/constants.js";
import { ConsentRegistryClient } from "../../src/sdk/client.js";
import { consentDomain, signConsent } from "../../src/sdk/eip712.js";
import { decodeConsentError } from "../../src/sdk/errors.js";
import { PURPOSES, Purpose, initialPurposeMetadata, purposesToMask } from "../../src/sdk/purposes.js";
import { MemorySigningStore, sharedSigningStore } from "../../src/sdk/signing-store.js";
import { deploySystem } from "../helpers/fixture.js";
import { ALWAYS_VALID_WALLET_CODE, REGISTRY_V1_CODE } from "./stand-ins.js";
import { rejects } from "./rejects.js";

const { ethers, networkHelpers } = await network.create();

const DATA = id("omnitensor:dataset:alice-chats");
const DATA2 = id("omnitensor:dataset:alice-images");
const NOTICE = id("privacy-notice-v3");
/** The first version a transaction gives a key (generation 1, sequence 0). */
const GEN1 = 1n << 16n;

async function setup() {
  const sys = await deploySystem(ethers);
  const [owner, grantee, manager, relayer, processor, stranger] = sys.accounts;
  const address = await sys.registry.getAddress();
  return { ...sys, owner, grantee, manager, relayer, processor, stranger, address };
}

/**
 * The fixture plus clients that share one fresh signing store: the chain is restored between
 * tests (loadFixture), so the store must be too, or reservations would carry over.
 */
async function fixture() {
  const sys = await networkHelpers.loadFixture(setup);
  const store = new MemorySigningStore();
  const as = (s: Signer) => ConsentRegistryClient.connect(sys.address, s, { signingStore: store });
  return { ...sys, store, as, client: await as(sys.owner) };
}

const now = async (): Promise<bigint> => BigInt(await networkHelpers.time.latest());

describe("ConsentRegistryClient", () => {
  describe("connect", () => {
    it("connects to a registry and exposes address, contract and chain id", async () => {
      const { client, address } = await fixture();
      expect(client.address).to.equal(getAddress(address));
      expect(client.chainId).to.equal(31337n);
      expect(await client.contract.version()).to.equal(REGISTRY_VERSION);
    });

    it("refuses an address without code (NO_CONTRACT)", async () => {
      const { owner, stranger } = await fixture();
      const err = await rejects(ConsentRegistryClient.connect(stranger.address, owner));
      expect(err.code).to.equal("NO_CONTRACT");
      expect(err.message).to.equal(
        `no contract at ${stranger.address}: is the consent registry deployed on this chain?`,
      );
    });

    it("refuses a registry of another major version (INCOMPATIBLE_VERSION)", async () => {
      const { owner } = await fixture();
      // A stand-in answering version() with "1.0.0": the nonce-based registry this SDK no longer speaks.
      const address = Wallet.createRandom().address;
      await networkHelpers.setCode(address, REGISTRY_V1_CODE);
      const err = await rejects(ConsentRegistryClient.connect(address, owner));
      expect(err.code).to.equal("INCOMPATIBLE_VERSION");
      expect(err.message).to.equal(`registry ${address} is version 1.0.0; this SDK speaks 2.x (${REGISTRY_VERSION})`);
      const skipped = await ConsentRegistryClient.connect(address, owner, { skipVersionCheck: true });
      expect(skipped.address).to.equal(address);
    });

    it("refuses a contract without version() (INCOMPATIBLE_VERSION)", async () => {
      const { owner, integrations } = await fixture();
      const address = await integrations.getAddress();
      const err = await rejects(ConsentRegistryClient.connect(address, owner));
      expect(err.code).to.equal("INCOMPATIBLE_VERSION");
      expect(err.message).to.equal(
        `${address} does not answer version(); it is not a consent registry this SDK (v${REGISTRY_VERSION}) can talk to`,
      );
    });

    it("refuses a provider on another chain (WRONG_CHAIN)", async () => {
      const { owner, address } = await fixture();
      const err = await rejects(ConsentRegistryClient.connect(address, owner, { expectedChainId: 11155111n }));
      expect(err.code).to.equal("WRONG_CHAIN");
      expect(err.message).to.equal("the provider is on chain 31337, expected chain 11155111; check the RPC URL");
    });

    it("reports an RPC endpoint that does not answer (RPC_UNREACHABLE)", async () => {
      // A port that was free a moment ago: nothing listens there.
      const server = createServer();
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      const { port } = server.address() as AddressInfo;
      await new Promise<void>((resolve) => server.close(() => resolve()));
      const provider = new JsonRpcProvider(`http://127.0.0.1:${port}`, undefined, { cacheTimeout: -1 });
      try {
        const err = await rejects(ConsentRegistryClient.connect(ALL_DATA.slice(0, 42), provider));
        expect(err.code).to.equal("RPC_UNREACHABLE");
        expect(err.message).to.equal(
          `reading the chain id: the RPC endpoint is unreachable (connect ECONNREFUSED 127.0.0.1:${port})`,
        );
      } finally {
        provider.destroy();
      }
    });

    it("rejects a malformed address before any RPC call (INVALID_INPUT)", async () => {
      const { owner } = await fixture();
      const err = await rejects(ConsentRegistryClient.connect("0x1234", owner));
      expect(err.code).to.equal("INVALID_INPUT");
      expect(err.message).to.equal("registry address: expected a 0x-prefixed 20-byte hex address");
    });
  });

  describe("owner writes", () => {
    it("grant: decodes the ConsentGranted event into a domain result, with the key's version", async () => {
      const { client, owner, grantee } = await fixture();
      const expiresAt = (await now()) + 86_400n;
      const { receipt, result } = await client
        .grant({ grantee: grantee.address, dataId: DATA, purposes: ["INFERENCE", 3], expiresAt, noticeHash: NOTICE })
        .wait();
      expect(receipt.status).to.equal(1);
      expect(result).to.deep.equal({
        owner: owner.address,
        grantee: grantee.address,
        dataId: DATA,
        purposes: [2, 3],
        purposesMask: 12n,
        expiresAt,
        noticeHash: NOTICE,
        actor: owner.address,
        version: GEN1,
        via: "Owner",
      });
      expect(await client.getConsent(owner.address, grantee.address, DATA)).to.deep.equal({
        purposes: [2, 3],
        purposesMask: 12n,
        expiresAt,
        epoch: 0n,
        version: GEN1,
        active: true,
      });
      expect(await client.isAllowed(owner.address, grantee.address, DATA, "INFERENCE")).to.equal(true);
      expect(await client.isAllowed(owner.address, grantee.address, DATA, Purpose.MODEL_TRAINING)).to.equal(false);
    });

    it("grant: defaults to NO_EXPIRY and a zero notice hash; ALL_DATA covers every data id", async () => {
      const { client, owner, grantee } = await fixture();
      const { result } = await client.grant({ grantee: grantee.address, dataId: ALL_DATA, purposes: 1n }).wait();
      expect(result.expiresAt).to.equal(NO_EXPIRY);
      expect(result.noticeHash).to.equal(ZeroHash);
      expect(result.purposes).to.deep.equal([0]);
      expect(await client.isAllowed(owner.address, grantee.address, DATA2, 0)).to.equal(true);
      expect(await client.isAllowed(owner.address, grantee.address, DATA2, 1)).to.equal(false);
    });

    it("populate and estimateGas build the call without sending it", async () => {
      const { client, owner, grantee, address } = await fixture();
      const nonce = await ethers.provider.getTransactionCount(owner.address);
      const tx = client.grant({ grantee: grantee.address, dataId: DATA, purposes: [0] });
      const populated = await tx.populate();
      expect(populated.to).to.equal(address);
      expect(populated.from).to.equal(owner.address);
      expect(populated.data).to.equal(
        client.contract.interface.encodeFunctionData("grant", [grantee.address, DATA, 1n, 0n, ZeroHash]),
      );
      const gas = await tx.estimateGas();
      expect(gas > 21_000n && gas < 200_000n).to.equal(true, `gas ${gas}`);
      expect(await ethers.provider.getTransactionCount(owner.address)).to.equal(nonce);
    });

    it("revoke: decodes ConsentRevoked; it always succeeds, live consent or not, and moves the key's generation", async () => {
      const { client, owner, grantee } = await fixture();
      await client.grant({ grantee: grantee.address, dataId: DATA, purposes: [0] }).wait();
      const { result } = await client.revoke({ grantee: grantee.address, dataId: DATA }).wait();
      expect(result).to.deep.equal({
        owner: owner.address,
        grantee: grantee.address,
        dataId: DATA,
        actor: owner.address,
        version: 2n * GEN1,
        via: "Owner",
      });
      // Revoking again, or a key never granted, is no error: it is how an owner voids signatures too.
      const again = await client.revoke({ grantee: grantee.address, dataId: DATA }).wait();
      expect(again.result.version).to.equal(3n * GEN1);
      const never = await client.revoke({ grantee: grantee.address, dataId: DATA2 }).wait();
      expect(never.result.version).to.equal(GEN1);
      expect(await client.getConsent(owner.address, grantee.address, DATA)).to.deep.equal({
        purposes: [],
        purposesMask: 0n,
        expiresAt: 0n,
        epoch: 0n,
        version: 3n * GEN1,
        active: false,
      });
    });

    it("estimateGas decodes a revert into the custom error in words", async () => {
      const { client, grantee } = await fixture();
      // Purpose 100 is a valid id but not defined in the catalogue: only the chain knows.
      const err = await rejects(
        client.grant({ grantee: grantee.address, dataId: DATA, purposes: [100] }).estimateGas(),
      );
      expect(err.code).to.equal("REVERTED");
      expect(err.message).to.equal(
        "ConsentRegistryPurposeNotGrantable: purposes [purpose#100(100)] of [purpose#100(100)] are not defined or are deprecated",
      );
      expect(err.revert?.args).to.deep.equal({ purposes: 1n << 100n, notGrantable: 1n << 100n });
    });

    it("grantBatch / revokeBatch: count and items; a bad item is named with its inner error", async () => {
      const { client, owner, grantee, stranger } = await fixture();
      const { result } = await client
        .grantBatch([
          { grantee: grantee.address, dataId: DATA, purposes: [0] },
          { grantee: stranger.address, dataId: DATA2, purposes: ["RESEARCH"] },
        ])
        .wait();
      expect(result.count).to.equal(2);
      expect(result.items.map((g) => [g.grantee, g.dataId, g.purposesMask, g.version])).to.deep.equal([
        [grantee.address, DATA, 1n, GEN1],
        [stranger.address, DATA2, 128n, GEN1],
      ]);
      const err = await rejects(
        client
          .grantBatch([
            { grantee: grantee.address, dataId: DATA, purposes: [1] },
            { grantee: grantee.address, dataId: DATA2, purposes: [0, 99] },
          ])
          .wait(),
      );
      expect(err.code).to.equal("REVERTED");
      expect(err.message).to.equal(
        "ConsentRegistryBatchItemFailed: batch item #1 failed: ConsentRegistryPurposeNotGrantable: purposes [purpose#99(99)] of [MODEL_TRAINING(0), purpose#99(99)] are not defined or are deprecated",
      );
      expect(err.revert?.args.index).to.equal(1n);
      expect((await client.getConsent(owner.address, grantee.address, DATA)).purposesMask).to.equal(1n);
      const revoked = await client
        .revokeBatch([
          { grantee: stranger.address, dataId: DATA2 },
          { grantee: grantee.address, dataId: DATA },
        ])
        .wait();
      expect(revoked.result.items.map((r) => [r.grantee, r.version, r.via])).to.deep.equal([
        [stranger.address, 2n * GEN1, "Owner"],
        [grantee.address, 2n * GEN1, "Owner"],
      ]);
    });

    it("lockdown (= revokeAll): one transaction ends every consent, signed message and manager", async () => {
      const { client, owner, grantee, manager, relayer, as } = await fixture();
      await client.grant({ grantee: grantee.address, dataId: DATA, purposes: [0, 1] }).wait();
      await client.setManager(manager.address, true).wait();
      const signed = await client.signGrant(owner, { grantee: grantee.address, dataId: DATA2, purposes: [2] });
      expect(await client.managersOf(owner.address)).to.deep.equal([manager.address]);

      const { result } = await client.lockdown().wait();
      expect(result).to.deep.equal({ owner: owner.address, newEpoch: 1n, actor: owner.address, via: "Owner" });
      expect(await client.epochOf(owner.address)).to.equal(1n);
      expect((await client.getConsent(owner.address, grantee.address, DATA)).active).to.equal(false);
      expect(await client.isManager(owner.address, manager.address)).to.equal(false);
      expect(await client.managersOf(owner.address)).to.deep.equal([]);
      const byManager = await as(manager);
      const err = await rejects(
        byManager.grantFor(owner.address, { grantee: grantee.address, dataId: ALL_DATA, purposes: [0] }).wait(),
      );
      expect(err.message).to.equal(
        `ConsentRegistryNotAuthorized: ${manager.address} is neither ${owner.address} nor one of its current managers (a lockdown removes every manager)`,
      );
      const stale = await rejects((await as(relayer)).relayGrant(signed).wait());
      expect(stale.message).to.equal(
        `ConsentRegistryStaleSignature: the signed message of ${owner.address} names epoch 0 but the owner is in epoch 1: a lockdown (revoke-all) since voided every message signed before it`,
      );
      expect(stale.revert?.args).to.deep.equal({
        owner: owner.address,
        epoch: 0n,
        version: 1n,
        currentEpoch: 1n,
        currentVersion: 0n,
      });
      // revokeAll is the same call under the registry's name.
      expect((await client.revokeAll().wait()).result.newEpoch).to.equal(2n);
    });
  });

  describe("validation at the edge (no transaction is sent)", () => {
    // [case, request for grantee g, expected message (a prefix only where it ends in the chain time)]
    const cases: [
      string,
      (g: string) => Parameters<ConsentRegistryClient["grant"]>[0],
      string | ((g: string) => string),
    ][] = [
      [
        "bad checksum",
        (g) => ({
          grantee: g.slice(0, 2) + g.slice(2, 3).toLowerCase() + g.slice(3).toUpperCase(),
          dataId: DATA,
          purposes: [0],
        }),
        (g) => `grant.grantee: bad EIP-55 checksum (did you mean ${g}?)`,
      ],
      [
        "zero data id",
        (g) => ({ grantee: g, dataId: ZeroHash, purposes: [0] }),
        "grant.dataId: dataId must not be zero; use a salted hash of the asset or ALL_DATA",
      ],
      [
        "short data id",
        (g) => ({ grantee: g, dataId: "0x1234", purposes: [0] }),
        "grant.dataId: expected a 0x-prefixed 32-byte hex string (66 characters)",
      ],
      [
        "purpose 128",
        (g) => ({ grantee: g, dataId: DATA, purposes: [128] }),
        "grant.purposes[0]: purpose ids are 0..127",
      ],
      ["no purposes", (g) => ({ grantee: g, dataId: DATA, purposes: [] }), "grant.purposes: name at least one purpose"],
      [
        "zero bitmap",
        (g) => ({ grantee: g, dataId: DATA, purposes: 0n }),
        "grant.purposes: the purpose bitmap must not be 0",
      ],
      [
        "past expiry",
        (g) => ({ grantee: g, dataId: DATA, purposes: [0], expiresAt: 1n }),
        "grant.expiresAt: 1 is not after the chain time",
      ],
    ];
    for (const [name, build, message] of cases) {
      it(`rejects ${name} with INVALID_INPUT and sends nothing`, async () => {
        const { client, owner, grantee } = await fixture();
        const before = await ethers.provider.getTransactionCount(owner.address);
        const err = await rejects(client.grant(build(grantee.address)).wait());
        expect(err.code).to.equal("INVALID_INPUT");
        const expected = typeof message === "string" ? message : message(grantee.address);
        if (name === "past expiry") {
          expect(err.message).to.equal(
            `${expected} ${await networkHelpers.time.latest()}; use a later unix time or NO_EXPIRY (0)`,
          );
        } else {
          expect(err.message).to.equal(expected);
        }
        expect(err.message).to.not.include("\n");
        expect(await ethers.provider.getTransactionCount(owner.address)).to.equal(before);
      });
    }

    it("names the failing item of a batch", async () => {
      const { client, grantee } = await fixture();
      const err = await rejects(
        client
          .grantBatch([
            { grantee: grantee.address, dataId: DATA, purposes: [0] },
            { grantee: "0x0", dataId: DATA, purposes: [0] },
          ])
          .populate(),
      );
      expect(err.message).to.equal("grantBatch[1].grantee: expected a 0x-prefixed 20-byte hex address");
    });

    it("a client over a provider (no signer) can read but refuses to write (NO_SIGNER)", async () => {
      const { address, owner, grantee } = await fixture();
      const reader = await ConsentRegistryClient.connect(address, ethers.provider);
      expect(await reader.isAllowed(owner.address, grantee.address, DATA, 0)).to.equal(false);
      const err = await rejects(reader.revokeAll().populate());
      expect(err.code).to.equal("NO_SIGNER");
      expect(err.message).to.equal("revokeAll: connect the client with a Signer to send transactions");
    });
  });

  describe("managers", () => {
    it("setManager, then grantFor / revokeFor / revokeAllFor act with via = Manager", async () => {
      const { client, owner, grantee, manager, as } = await fixture();
      const set = await client.setManager(manager.address, true).wait();
      expect(set.result).to.deep.equal({ owner: owner.address, manager: manager.address, approved: true });
      expect(await client.isManager(owner.address, manager.address)).to.equal(true);
      const byManager = await as(manager);
      const g = await byManager
        .grantFor(owner.address, { grantee: grantee.address, dataId: DATA, purposes: [5] })
        .wait();
      expect([g.result.owner, g.result.actor, g.result.via, g.result.version, g.result.purposesMask]).to.deep.equal([
        owner.address,
        manager.address,
        "Manager",
        GEN1,
        32n,
      ]);
      const r = await byManager.revokeFor(owner.address, { grantee: grantee.address, dataId: DATA }).wait();
      expect([r.result.owner, r.result.actor, r.result.via, r.result.version]).to.deep.equal([
        owner.address,
        manager.address,
        "Manager",
        2n * GEN1,
      ]);
      const all = await byManager.revokeAllFor(owner.address).wait();
      expect(all.result).to.deep.equal({
        owner: owner.address,
        newEpoch: 1n,
        actor: manager.address,
        via: "Manager",
      });
      // The lockdown removed this manager too.
      expect(await client.isManager(owner.address, manager.address)).to.equal(false);
    });

    it("a change that would change nothing is refused before sending, saying why (NO_CHANGE)", async () => {
      const { client, owner, manager, stranger } = await fixture();
      const before = await ethers.provider.getTransactionCount(owner.address);
      const notOne = await rejects(client.setManager(stranger.address, false).wait());
      expect([notOne.code, notOne.message]).to.deep.equal([
        "NO_CHANGE",
        `setManager: ${stranger.address} is not a manager of ${owner.address} (none appointed in its current epoch 0, and a lockdown removes every manager); nothing to remove, nothing was sent`,
      ]);
      const self = await rejects(client.setManager(owner.address, true).estimateGas());
      expect([self.code, self.message]).to.deep.equal([
        "INVALID_INPUT",
        `setManager.manager: ${owner.address} cannot be a manager of ${owner.address} (the owner itself)`,
      ]);
      expect(await ethers.provider.getTransactionCount(owner.address)).to.equal(before);

      await client.setManager(manager.address, true).wait();
      const already = await rejects(client.setManager(manager.address, true).wait());
      expect([already.code, already.message]).to.deep.equal([
        "NO_CHANGE",
        `setManager: ${manager.address} is already a manager of ${owner.address} (appointed in its current epoch 0); nothing to change, nothing was sent`,
      ]);
      expect(await ethers.provider.getTransactionCount(owner.address)).to.equal(before + 1);
      // The contract agrees: a direct call reverts with ManagerUnchanged(owner, manager, approved).
      const thrown = await client.contract.setManager.staticCall(stranger.address, false).then(
        () => expect.fail("the registry accepted a no-op setManager"),
        (e: unknown) => e,
      );
      const direct = decodeConsentError(thrown);
      expect(direct?.args).to.deep.equal({ owner: owner.address, manager: stranger.address, approved: false });
      expect(direct?.message).to.equal(
        `ConsentRegistryManagerUnchanged: ${stranger.address} is not a manager of ${owner.address} (in its current epoch); nothing to remove`,
      );
    });

    it("a stranger acting for the owner is refused in words", async () => {
      const { owner, stranger, as } = await fixture();
      const err = await rejects((await as(stranger)).revokeAllFor(owner.address).wait());
      expect(err.message).to.equal(
        `ConsentRegistryNotAuthorized: ${stranger.address} is neither ${owner.address} nor one of its current managers (a lockdown removes every manager)`,
      );
    });
  });

  describe("signatures: the owner's latest word wins", () => {
    it("signGrant: current epoch, the key's next version, a deadline 1 h after chain time; relay; a replay is stale", async () => {
      const { client, owner, grantee, relayer, as } = await fixture();
      const signed = await client.signGrant(owner, {
        grantee: grantee.address,
        dataId: DATA,
        purposes: ["FINE_TUNING"],
      });
      expect([signed.owner, signed.purposes, signed.epoch, signed.version]).to.deep.equal([owner.address, 2n, 0n, 1n]);
      expect(signed.deadline).to.equal((await now()) + 3600n);
      expect(await client.verifySigned("Grant", signed)).to.equal(true);
      expect(await client.verifySigned("Grant", { ...signed, purposes: 3n })).to.equal(false);
      expect(await client.verifySigned("Grant", { ...signed, version: 2n })).to.equal(false);

      const relay = await as(relayer);
      const { result } = await relay.relayGrant(signed).wait();
      expect([result.owner, result.actor, result.via, result.version, result.purposesMask]).to.deep.equal([
        owner.address,
        relayer.address,
        "Signature",
        1n,
        2n,
      ]);
      const err = await rejects(relay.relayGrant(signed).wait());
      expect(err.message).to.equal(
        `ConsentRegistryStaleSignature: the signed message of ${owner.address} has version 1 (generation 0, signature #1) but the consent is at version 1 (generation 0, signature #1): the owner changed this consent since (by transaction or a later signature), and that later word holds`,
      );
    });

    it("messages for one key get increasing versions, across client instances; relayed in any order the newer wins", async () => {
      const { client, owner, grantee, relayer, as } = await fixture();
      const key = { grantee: grantee.address, dataId: DATA };
      const broad = await client.signGrant(owner, { ...key, purposes: [0, 1, 2, 3] });
      const other = await as(owner); // another client of the same store: no collision
      const narrow = await other.signGrant(owner, { ...key, purposes: [2] });
      const revoke = await client.signRevoke(owner, key);
      expect([broad.version, narrow.version, revoke.version]).to.deep.equal([1n, 2n, 3n]);
      // Another key has its own sequence.
      expect((await client.signGrant(owner, { ...key, dataId: DATA2, purposes: [0] })).version).to.equal(1n);

      const relay = await as(relayer);
      await relay.relayGrant(narrow).wait(); // the middle one first
      const older = await rejects(relay.relayGrant(broad).wait());
      expect(older.revert?.name).to.equal("ConsentRegistryStaleSignature");
      expect(older.revert?.args).to.deep.include({ version: 1n, currentVersion: 2n });
      expect((await client.getConsent(owner.address, grantee.address, DATA)).purposesMask).to.equal(4n);
      const revoked = await relay.relayRevoke(revoke).wait();
      expect([revoked.result.version, revoked.result.via]).to.deep.equal([3n, "Signature"]);
      // grant → revoke → the old grant cannot come back.
      expect((await rejects(relay.relayGrant(narrow).wait())).revert?.args).to.deep.include({ currentVersion: 3n });
      expect((await client.getConsent(owner.address, grantee.address, DATA)).active).to.equal(false);
    });

    it("every client of a process shares one default store: connecting twice never reuses a version", async () => {
      const { address, owner, grantee } = await fixture();
      const dataId = id(`shared-store:${Math.random()}`); // the shared store outlives fixtures
      const a = await ConsentRegistryClient.connect(address, owner);
      const b = await ConsentRegistryClient.connect(address, owner);
      expect(a.signingStore).to.equal(sharedSigningStore());
      expect(b.signingStore).to.equal(a.signingStore);
      const first = await a.signRevoke(owner, { grantee: grantee.address, dataId });
      const second = await b.signRevoke(owner, { grantee: grantee.address, dataId });
      expect([first.version, second.version]).to.deep.equal([1n, 2n]);
    });

    it("a change by transaction voids earlier signatures; the next one starts the new generation", async () => {
      const { client, owner, grantee, relayer, as } = await fixture();
      const key = { grantee: grantee.address, dataId: DATA };
      const signed = await client.signGrant(owner, { ...key, purposes: [0] });
      await client.revoke(key).wait(); // the owner changes their mind by transaction
      const err = await rejects((await as(relayer)).relayGrant(signed).wait());
      expect(err.revert?.args).to.deep.equal({
        owner: owner.address,
        epoch: 0n,
        version: 1n,
        currentEpoch: 0n,
        currentVersion: GEN1,
      });
      const next = await client.signGrant(owner, { ...key, purposes: [1] });
      expect(next.version).to.equal(GEN1 + 1n);
      expect((await (await as(relayer)).relayGrant(next).wait()).result.version).to.equal(GEN1 + 1n);
    });

    it("a newer message's default deadline is raised to an older outstanding one's; an explicit earlier one is refused", async () => {
      const { client, owner, grantee, relayer, as } = await fixture();
      const key = { grantee: grantee.address, dataId: DATA };
      const t0 = await now();
      const long = await client.signGrant(owner, { ...key, purposes: [0], deadline: t0 + 86_400n });
      const revoke = await client.signRevoke(owner, key);
      expect(revoke.deadline).to.equal(t0 + 86_400n); // not t0 + 3600: the grant must not outlive it
      const short = await rejects(client.signRevoke(owner, { ...key, deadline: t0 + 1800n }));
      expect(short.code).to.equal("INVALID_INPUT");
      const iso = (t: bigint) => new Date(Number(t) * 1000).toISOString().replace(".000Z", "Z");
      expect(short.message).to.equal(
        `signRevoke.deadline: ${iso(t0 + 1800n)} is before ${iso(t0 + 86_400n)}, the deadline of an outstanding signed message for this consent (version 2 (generation 0, signature #2)); a newer message must not expire before an older one (the older would apply once the newer expired unrelayed): give a deadline of ${t0 + 86_400n} or later, or none`,
      );
      // Once the latest message is relayed, older ones are dead: the floor goes away.
      await (await as(relayer)).relayRevoke(revoke).wait();
      const fresh = await client.signGrant(owner, { ...key, purposes: [1] });
      expect([fresh.version, fresh.deadline]).to.deep.equal([3n, (await now()) + 3600n]);
      expect(long.version).to.equal(1n);
    });

    it("explicit epoch / version are used as given and recorded; the next default goes above them", async () => {
      const { client, owner, grantee } = await fixture();
      const key = { grantee: grantee.address, dataId: DATA };
      const chosen = await client.signGrant(owner, { ...key, purposes: [0], version: 40n, epoch: 0n });
      expect([chosen.epoch, chosen.version]).to.deep.equal([0n, 40n]);
      expect((await client.signRevoke(owner, key)).version).to.equal(41n);
      const bad = await rejects(client.signRevoke(owner, { ...key, epoch: 2n ** 32n }));
      expect([bad.code, bad.message]).to.deep.equal([
        "INVALID_INPUT",
        "signRevoke.epoch: must be a bigint in 0..2^32-1",
      ]);
    });

    it("signRevokeAll names the current epoch; relayed once; an outstanding signed lockdown blocks a new signed grant", async () => {
      const { client, owner, grantee, relayer, as } = await fixture();
      const lockdown = await client.signRevokeAll(owner);
      expect([lockdown.epoch, lockdown.deadline]).to.deep.equal([0n, (await now()) + 3600n]);
      const blocked = await rejects(client.signGrant(owner, { grantee: grantee.address, dataId: DATA, purposes: [0] }));
      expect(blocked.code).to.equal("SIGNING_ORDER");
      expect(blocked.message).to.match(
        /^signGrant: a signed lockdown \(RevokeAll of epoch 0\) is outstanding until \S+Z; relaying it would end this grant too\. Relay the lockdown first \(the grant then gets epoch 1\), wait until its deadline has passed, or sign for epoch 1 explicitly$/,
      );
      const after = await client.signGrant(owner, { grantee: grantee.address, dataId: DATA, purposes: [0], epoch: 1n });
      const relay = await as(relayer);
      const done = await relay.relayRevokeAll(lockdown).wait();
      expect(done.result).to.deep.equal({
        owner: owner.address,
        newEpoch: 1n,
        actor: relayer.address,
        via: "Signature",
      });
      const replay = await rejects(relay.relayRevokeAll(lockdown).wait());
      expect(replay.revert?.args).to.deep.equal({
        owner: owner.address,
        epoch: 0n,
        version: 0n,
        currentEpoch: 1n,
        currentVersion: 0n,
      });
      expect((await relay.relayGrant(after).wait()).result.via).to.equal("Signature");
      // The lockdown was relayed: grants are signed normally again, for the new epoch.
      expect(
        (await client.signGrant(owner, { grantee: grantee.address, dataId: DATA2, purposes: [1] })).epoch,
      ).to.equal(1n);
    });

    it("a signature by someone else is refused in words", async () => {
      const { client, owner, grantee, stranger, as } = await fixture();
      const forged = await client.signGrant(stranger, { grantee: grantee.address, dataId: DATA, purposes: [0] });
      const err = await rejects((await as(grantee)).relayGrant({ ...forged, owner: owner.address }).wait());
      expect(err.message).to.equal(
        `ConsentRegistryInvalidSignature: the signature is not a valid signature of ${owner.address} over this message`,
      );
    });

    it("relayGrantBatch takes several owners, all or nothing: one stale item reverts the batch, naming it", async () => {
      const { client, owner, grantee, stranger, relayer, as } = await fixture();
      const relay = await as(relayer);
      const a = await client.signGrant(owner, { grantee: grantee.address, dataId: DATA, purposes: [0] });
      const b = await client.signGrant(stranger, { grantee: grantee.address, dataId: DATA, purposes: [1] });
      const batch = await relay.relayGrantBatch([a, b]).wait();
      expect(batch.result.items.map((i) => [i.owner, i.via, i.version])).to.deep.equal([
        [owner.address, "Signature", 1n],
        [stranger.address, "Signature", 1n],
      ]);
      const c = await client.signGrant(owner, { grantee: grantee.address, dataId: DATA2, purposes: [2] });
      const err = await rejects(relay.relayGrantBatch([c, b]).wait());
      expect(err.message).to.equal(
        `ConsentRegistryBatchItemFailed: batch item #1 failed: ConsentRegistryStaleSignature: the signed message of ${stranger.address} has version 1 (generation 0, signature #1) but the consent is at version 1 (generation 0, signature #1): the owner changed this consent since (by transaction or a later signature), and that later word holds`,
      );
      expect((await client.getConsent(owner.address, grantee.address, DATA2)).active).to.equal(false);
    });

    it("relayRevokeBatch is best effort: valid items apply, each failed one is reported with its reason (simulated first)", async () => {
      const { client, owner, grantee, stranger, processor, relayer, as } = await fixture();
      for (const g of [grantee, stranger, processor]) {
        await client.grant({ grantee: g.address, dataId: DATA, purposes: [0] }).wait();
      }
      const first = await client.signRevoke(owner, { grantee: grantee.address, dataId: DATA });
      const stale = await client.signRevoke(owner, { grantee: stranger.address, dataId: DATA });
      await client.revoke({ grantee: stranger.address, dataId: DATA }).wait(); // voids `stale`
      const bySomeoneElse = await client.signRevoke(stranger, { grantee: processor.address, dataId: DATA });
      const forged = { ...bySomeoneElse, owner: owner.address, version: GEN1 + 1n };
      const last = await client.signRevoke(owner, { grantee: processor.address, dataId: DATA });
      const relay = await as(relayer);

      const simulated = await relay.simulateRevokeBatch([first, stale, forged, last]);
      expect(simulated.map((f) => [f.index, f.owner, f.grantee, f.reason?.name])).to.deep.equal([
        [1, owner.address, stranger.address, "ConsentRegistryStaleSignature"],
        [2, owner.address, processor.address, "ConsentRegistryInvalidSignature"],
      ]);
      const { receipt, result } = await relay.relayRevokeBatch([first, stale, forged, last]).wait();
      expect(receipt.status).to.equal(1);
      expect(result.count).to.equal(2);
      expect(result.items.map((i) => [i.index, i.grantee, i.version, i.via])).to.deep.equal([
        [0, grantee.address, GEN1 + 1n, "Signature"],
        [3, processor.address, GEN1 + 1n, "Signature"],
      ]);
      expect(result.failures.map((f) => [f.index, f.grantee, f.reason?.message])).to.deep.equal([
        [
          1,
          stranger.address,
          `ConsentRegistryStaleSignature: the signed message of ${owner.address} has version ${GEN1 + 1n} (generation 1, signature #1) but the consent is at version ${2n * GEN1} (generation 2, set by transaction): the owner changed this consent since (by transaction or a later signature), and that later word holds`,
        ],
        [
          2,
          processor.address,
          `ConsentRegistryInvalidSignature: the signature is not a valid signature of ${owner.address} over this message`,
        ],
      ]);
      expect(result.failures[0]?.reasonData).to.equal(simulated[0]?.reasonData);
      for (const g of [grantee, processor]) {
        expect((await client.getConsent(owner.address, g.address, DATA)).active).to.equal(false);
      }
    });

    it("verifySigned asks an ERC-1271 wallet owner", async () => {
      const { client, owner, grantee, address } = await fixture();
      const wallet = await ethers.deployContract("ERC1271WalletMock", [owner.address]);
      const walletAddress = await wallet.getAddress();
      const signed = await signConsent("Grant", owner, consentDomain(31337n, address), {
        owner: walletAddress,
        grantee: grantee.address,
        dataId: DATA,
        purposes: 1n,
        expiresAt: 0n,
        noticeHash: ZeroHash,
        epoch: 0n,
        version: 1n,
        deadline: 2n ** 40n,
      });
      expect(await client.verifySigned("Grant", signed)).to.equal(true);
      expect(await client.verifySigned("Grant", { ...signed, version: 2n })).to.equal(false);
      await (await wallet.setMode(1)).wait();
      expect(await client.verifySigned("Grant", signed)).to.equal(false);
    });

    it("accepts every signature the registry accepts: an ERC-1271 wallet's of 0, 1 and 63 bytes", async () => {
      const { grantee, relayer, as } = await fixture();
      // A wallet that says "valid" to anything (so anyone can act for it: see SECURITY.md).
      const wallet = Wallet.createRandom().address;
      await networkHelpers.setCode(wallet, ALWAYS_VALID_WALLET_CODE);
      const relay = await as(relayer);
      const deadline = (await now()) + 600n;
      const message = { owner: wallet, grantee: grantee.address, dataId: DATA, epoch: 0n, deadline };
      for (const [i, signature] of ["0x", "0x01", `0x${"ab".repeat(63)}`].entries()) {
        const version = BigInt(i + 1);
        const { result } = await relay.relayRevoke({ ...message, version, signature }).wait();
        expect([result.owner, result.version, result.via]).to.deep.equal([wallet, version, "Signature"]);
      }
      const odd = await rejects(relay.relayRevoke({ ...message, version: 9n, signature: "0x123" }).populate());
      expect(odd.message).to.equal(
        "relayRevoke.signature: expected a 0x-prefixed hex signature of whole bytes (65 or 64 for an EOA; any length for an ERC-1271 wallet)",
      );
    });
  });

  describe("enforced records", () => {
    it("recordUse / recordUseBatch decode DataUsed; without consent it is refused in words", async () => {
      const { client, owner, processor, as } = await fixture();
      const proc = await as(processor);
      const denied = await rejects(
        proc.recordUse({ owner: owner.address, dataId: DATA, purpose: "MODEL_TRAINING" }).wait(),
      );
      expect(denied.message).to.equal(
        `ConsentRegistryConsentRequired: ${processor.address} holds no active consent of ${owner.address} on data ${DATA} for purpose MODEL_TRAINING (0)`,
      );
      await client.grant({ grantee: processor.address, dataId: ALL_DATA, purposes: [0, 3] }).wait();
      const evidence = id("job-1");
      const { result } = await proc.recordUse({ owner: owner.address, dataId: DATA, purpose: 0, evidence }).wait();
      expect(result).to.deep.equal({
        owner: owner.address,
        processor: processor.address,
        dataId: DATA,
        purpose: 0,
        evidence,
      });
      const batch = await proc
        .recordUseBatch([
          { owner: owner.address, dataId: DATA, purpose: 3 },
          { owner: owner.address, dataId: DATA2, purpose: "EVALUATION" },
        ])
        .wait();
      expect(batch.result.count).to.equal(2);
      expect(batch.result.items.map((u) => [u.dataId, u.purpose, u.evidence])).to.deep.equal([
        [DATA, 3, ZeroHash],
        [DATA2, 3, ZeroHash],
      ]);
    });

    it("recordShare needs an active integration", async () => {
      const { client, owner, processor, stranger, integrations, as } = await fixture();
      await client
        .grantBatch([
          { grantee: processor.address, dataId: DATA, purposes: ["THIRD_PARTY_SHARING"] },
          { grantee: stranger.address, dataId: DATA, purposes: ["THIRD_PARTY_SHARING"] },
        ])
        .wait();
      const proc = await as(processor);
      const req = { owner: owner.address, to: stranger.address, dataId: DATA, purpose: "THIRD_PARTY_SHARING" as const };
      const err = await rejects(proc.recordShare(req).wait());
      expect(err.message).to.equal(
        `ConsentRegistryIntegrationNotActive: ${stranger.address} is not an active integration allowed to receive purpose THIRD_PARTY_SHARING (6)`,
      );
      await (await integrations.registerIntegration(stranger.address, id("dpa"), purposesToMask([6]))).wait();
      const { result } = await proc.recordShare(req).wait();
      expect(result).to.deep.equal({
        owner: owner.address,
        from: processor.address,
        to: stranger.address,
        dataId: DATA,
        purpose: 6,
        evidence: ZeroHash,
      });
    });
  });

  describe("reads from state and events", () => {
    it("purposes() returns the on-chain catalogue with metadata", async () => {
      const { client } = await fixture();
      const catalogue = await client.purposes();
      const meta = initialPurposeMetadata();
      expect(catalogue.grantableMask).to.equal(255n);
      expect(catalogue.definedMask).to.equal(255n);
      expect(catalogue.purposes).to.deep.equal(
        PURPOSES.map((p) => ({ id: p.id, name: p.name, metadataHash: meta[p.id], grantable: true })),
      );
    });

    it("activeConsentsOf / consentsGrantedTo keep only live consents (revoked, replaced, expired and old-epoch ones drop out)", async () => {
      const { client, owner, grantee, stranger, as } = await fixture();
      const soon = BigInt(await networkHelpers.time.latest()) + 100n;
      await client.grant({ grantee: grantee.address, dataId: DATA, purposes: [0] }).wait();
      await client.grant({ grantee: grantee.address, dataId: DATA, purposes: [0, 1] }).wait(); // replaces
      await client.grant({ grantee: grantee.address, dataId: DATA2, purposes: [2], expiresAt: soon }).wait();
      await client.grant({ grantee: stranger.address, dataId: DATA, purposes: [3] }).wait();
      await client.revoke({ grantee: stranger.address, dataId: DATA }).wait();
      const other = await as(stranger);
      await other.grant({ grantee: grantee.address, dataId: ALL_DATA, purposes: [4] }).wait();

      const live = await client.activeConsentsOf(owner.address);
      expect(live.map((c) => [c.grantee, c.dataId, c.purposesMask, c.expiresAt])).to.deep.equal([
        [grantee.address, DATA, 3n, 0n],
        [grantee.address, DATA2, 4n, soon],
      ]);
      expect((await client.consentsGrantedTo(grantee.address)).map((c) => [c.owner, c.dataId])).to.deep.equal([
        [owner.address, DATA],
        [owner.address, DATA2],
        [stranger.address, ALL_DATA],
      ]);

      await networkHelpers.time.increaseTo(soon);
      expect((await client.activeConsentsOf(owner.address)).map((c) => c.dataId)).to.deep.equal([DATA]);
      await client.revokeAll().wait();
      expect(await client.activeConsentsOf(owner.address)).to.deep.equal([]);
    });

    it("history() lists grants, revocations and revoke-alls of one key, oldest first, with versions and how each was authorised", async () => {
      const { client, owner, grantee, manager, relayer, as } = await fixture();
      const g1 = await client
        .grant({ grantee: grantee.address, dataId: DATA, purposes: [0], noticeHash: NOTICE })
        .wait();
      await client.grant({ grantee: grantee.address, dataId: DATA2, purposes: [1] }).wait(); // other key
      const signed = await client.signRevoke(owner, { grantee: grantee.address, dataId: DATA });
      const r1 = await (await as(relayer)).relayRevoke(signed).wait();
      await client.setManager(manager.address, true).wait();
      const byManager = await as(manager);
      const g2 = await byManager
        .grantFor(owner.address, { grantee: grantee.address, dataId: DATA, purposes: [3] })
        .wait();
      const all = await byManager.revokeAllFor(owner.address).wait();
      const h = await client.history(owner.address, grantee.address, DATA);
      expect(h).to.deep.equal([
        {
          kind: "granted",
          purposes: [0],
          purposesMask: 1n,
          expiresAt: 0n,
          noticeHash: NOTICE,
          actor: owner.address,
          version: GEN1,
          via: "Owner",
          blockNumber: g1.receipt.blockNumber,
          transactionHash: g1.receipt.hash,
          logIndex: 0,
        },
        {
          kind: "revoked",
          actor: relayer.address,
          version: GEN1 + 1n,
          via: "Signature",
          blockNumber: r1.receipt.blockNumber,
          transactionHash: r1.receipt.hash,
          logIndex: 0,
        },
        {
          kind: "granted",
          purposes: [3],
          purposesMask: 8n,
          expiresAt: 0n,
          noticeHash: ZeroHash,
          actor: manager.address,
          version: 2n * GEN1,
          via: "Manager",
          blockNumber: g2.receipt.blockNumber,
          transactionHash: g2.receipt.hash,
          logIndex: 0,
        },
        {
          kind: "allRevoked",
          newEpoch: 1n,
          actor: manager.address,
          via: "Manager",
          blockNumber: all.receipt.blockNumber,
          transactionHash: all.receipt.hash,
          logIndex: 0,
        },
      ]);
    });
  });
});
