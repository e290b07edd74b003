import { expect } from "chai";
import { createServer } from "node:net";
import type { AddressInfo } from "node:net";

import { JsonRpcProvider, ZeroHash, getAddress, id } from "ethers";
import type { Signer } from "ethers";
import { network } from "hardhat";

import { ALL_DATA, NO_EXPIRY, REGISTRY_VERSION, Via } from "../../src/sdk/constants.js";
import { ConsentRegistryClient } from "../../src/sdk/client.js";
import { consentDomain, signConsent } from "../../src/sdk/eip712.js";
import { ConsentSdkError } from "../../src/sdk/errors.js";
import { PURPOSES, Purpose, initialPurposeMetadata, purposesToMask } from "../../src/sdk/purposes.js";
import { deploySystem } from "../helpers/fixture.js";

const { ethers, networkHelpers } = await network.create();

const DATA = id("omnitensor:dataset:alice-chats");
const DATA2 = id("omnitensor:dataset:alice-images");
const NOTICE = id("privacy-notice-v3");

async function rejects(p: Promise<unknown>): Promise<ConsentSdkError> {
  try {
    await p;
  } catch (err) {
    expect(err).to.be.instanceOf(ConsentSdkError);
    return err as ConsentSdkError;
  }
  expect.fail("expected a ConsentSdkError");
}

async function setup() {
  const sys = await deploySystem(ethers);
  const [owner, grantee, manager, relayer, processor, stranger] = sys.accounts;
  const address = await sys.registry.getAddress();
  const client = await ConsentRegistryClient.connect(address, owner);
  const as = (s: Signer) => ConsentRegistryClient.connect(address, s);
  return { ...sys, owner, grantee, manager, relayer, processor, stranger, address, client, as };
}

describe("ConsentRegistryClient", () => {
  describe("connect", () => {
    it("connects to a registry and exposes address, contract and chain id", async () => {
      const { client, address } = await networkHelpers.loadFixture(setup);
      expect(client.address).to.equal(getAddress(address));
      expect(client.chainId).to.equal(31337n);
      expect(await client.contract.version()).to.equal(REGISTRY_VERSION);
    });

    it("refuses an address without code (NO_CONTRACT)", async () => {
      const { owner, stranger } = await networkHelpers.loadFixture(setup);
      const err = await rejects(ConsentRegistryClient.connect(stranger.address, owner));
      expect(err.code).to.equal("NO_CONTRACT");
      expect(err.message).to.equal(
        `no contract at ${stranger.address}: is the consent registry deployed on this chain?`,
      );
    });

    it("refuses a registry of another major version (INCOMPATIBLE_VERSION)", async () => {
      const { owner } = await networkHelpers.loadFixture(setup);
      const wrong = await ethers.deployContract("WrongVersionRegistry");
      const address = await wrong.getAddress();
      const err = await rejects(ConsentRegistryClient.connect(address, owner));
      expect(err.code).to.equal("INCOMPATIBLE_VERSION");
      expect(err.message).to.equal(`registry ${address} is version 2.0.0; this SDK speaks 1.x (${REGISTRY_VERSION})`);
      const skipped = await ConsentRegistryClient.connect(address, owner, { skipVersionCheck: true });
      expect(skipped.address).to.equal(address);
    });

    it("refuses a contract without version() (INCOMPATIBLE_VERSION)", async () => {
      const { owner, integrations } = await networkHelpers.loadFixture(setup);
      const address = await integrations.getAddress();
      const err = await rejects(ConsentRegistryClient.connect(address, owner));
      expect(err.code).to.equal("INCOMPATIBLE_VERSION");
      expect(err.message).to.equal(
        `${address} does not answer version(); it is not a consent registry this SDK (v${REGISTRY_VERSION}) can talk to`,
      );
    });

    it("refuses a provider on another chain (WRONG_CHAIN)", async () => {
      const { owner, address } = await networkHelpers.loadFixture(setup);
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
      const { owner } = await networkHelpers.loadFixture(setup);
      const err = await rejects(ConsentRegistryClient.connect("0x1234", owner));
      expect(err.code).to.equal("INVALID_INPUT");
      expect(err.message).to.equal("registry address: expected a 0x-prefixed 20-byte hex address");
    });
  });

  describe("owner writes", () => {
    it("grant: decodes the ConsentGranted event into a domain result", async () => {
      const { client, owner, grantee } = await networkHelpers.loadFixture(setup);
      const expiresAt = BigInt(await networkHelpers.time.latest()) + 86_400n;
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
        via: Via.Owner,
      });
      expect(await client.getConsent(owner.address, grantee.address, DATA)).to.deep.equal({
        purposes: [2, 3],
        purposesMask: 12n,
        expiresAt,
        epoch: 0n,
        active: true,
      });
      expect(await client.isAllowed(owner.address, grantee.address, DATA, "INFERENCE")).to.equal(true);
      expect(await client.isAllowed(owner.address, grantee.address, DATA, Purpose.MODEL_TRAINING)).to.equal(false);
    });

    it("grant: defaults to NO_EXPIRY and a zero notice hash; ALL_DATA covers every data id", async () => {
      const { client, owner, grantee } = await networkHelpers.loadFixture(setup);
      const { result } = await client.grant({ grantee: grantee.address, dataId: ALL_DATA, purposes: 1n }).wait();
      expect(result.expiresAt).to.equal(NO_EXPIRY);
      expect(result.noticeHash).to.equal(ZeroHash);
      expect(result.purposes).to.deep.equal([0]);
      expect(await client.isAllowed(owner.address, grantee.address, DATA2, 0)).to.equal(true);
      expect(await client.isAllowed(owner.address, grantee.address, DATA2, 1)).to.equal(false);
    });

    it("populate and estimateGas build the call without sending it", async () => {
      const { client, owner, grantee, address } = await networkHelpers.loadFixture(setup);
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

    it("revoke: decodes ConsentRevoked; revoking nothing reverts with NotGranted in words", async () => {
      const { client, owner, grantee } = await networkHelpers.loadFixture(setup);
      await client.grant({ grantee: grantee.address, dataId: DATA, purposes: [0] }).wait();
      const { result } = await client.revoke({ grantee: grantee.address, dataId: DATA }).wait();
      expect(result).to.deep.equal({
        owner: owner.address,
        grantee: grantee.address,
        dataId: DATA,
        actor: owner.address,
        via: Via.Owner,
      });
      const err = await rejects(client.revoke({ grantee: grantee.address, dataId: DATA }).wait());
      expect(err.code).to.equal("REVERTED");
      expect(err.message).to.equal(
        `ConsentRegistryNotGranted: ${owner.address} has no live consent for ${grantee.address} on data ${DATA}`,
      );
      expect(err.revert?.name).to.equal("ConsentRegistryNotGranted");
      expect(err.revert?.args).to.deep.equal({ owner: owner.address, grantee: grantee.address, dataId: DATA });
    });

    it("estimateGas decodes a revert the same way", async () => {
      const { client, owner, grantee } = await networkHelpers.loadFixture(setup);
      const err = await rejects(client.revoke({ grantee: grantee.address, dataId: ALL_DATA }).estimateGas());
      expect(err.code).to.equal("REVERTED");
      expect(err.message).to.equal(
        `ConsentRegistryNotGranted: ${owner.address} has no live consent for ${grantee.address} on ALL_DATA`,
      );
    });

    it("grantBatch / revokeBatch: count and items; a bad item is named with its inner error", async () => {
      const { client, owner, grantee, stranger } = await networkHelpers.loadFixture(setup);
      const { result } = await client
        .grantBatch([
          { grantee: grantee.address, dataId: DATA, purposes: [0] },
          { grantee: stranger.address, dataId: DATA2, purposes: ["RESEARCH"] },
        ])
        .wait();
      expect(result.count).to.equal(2);
      expect(result.items.map((g) => [g.grantee, g.dataId, g.purposesMask])).to.deep.equal([
        [grantee.address, DATA, 1n],
        [stranger.address, DATA2, 128n],
      ]);
      const err = await rejects(
        client
          .revokeBatch([
            { grantee: grantee.address, dataId: DATA },
            { grantee: grantee.address, dataId: DATA2 },
          ])
          .wait(),
      );
      expect(err.code).to.equal("REVERTED");
      expect(err.message).to.equal(
        `ConsentRegistryBatchItemFailed: batch item #1 failed: ConsentRegistryNotGranted: ${owner.address} has no live consent for ${grantee.address} on data ${DATA2}`,
      );
      expect(err.revert?.args.index).to.equal(1n);
      const revoked = await client.revokeBatch([{ grantee: stranger.address, dataId: DATA2 }]).wait();
      expect(revoked.result.count).to.equal(1);
      expect(revoked.result.items[0]?.grantee).to.equal(stranger.address);
    });

    it("revokeAll: decodes the new epoch and kills every consent", async () => {
      const { client, owner, grantee } = await networkHelpers.loadFixture(setup);
      await client.grant({ grantee: grantee.address, dataId: DATA, purposes: [0, 1] }).wait();
      const { result } = await client.revokeAll().wait();
      expect(result).to.deep.equal({ owner: owner.address, newEpoch: 1n, actor: owner.address, via: Via.Owner });
      expect(await client.epochOf(owner.address)).to.equal(1n);
      expect((await client.getConsent(owner.address, grantee.address, DATA)).active).to.equal(false);
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
        const { client, owner, grantee } = await networkHelpers.loadFixture(setup);
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
      const { client, grantee } = await networkHelpers.loadFixture(setup);
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
      const { address, owner, grantee } = await networkHelpers.loadFixture(setup);
      const reader = await ConsentRegistryClient.connect(address, ethers.provider);
      expect(await reader.isAllowed(owner.address, grantee.address, DATA, 0)).to.equal(false);
      const err = await rejects(reader.revokeAll().populate());
      expect(err.code).to.equal("NO_SIGNER");
      expect(err.message).to.equal("revokeAll: connect the client with a Signer to send transactions");
    });
  });

  describe("managers", () => {
    it("setManager, then grantFor / revokeFor / revokeAllFor act with via = Manager", async () => {
      const { client, owner, grantee, manager, as } = await networkHelpers.loadFixture(setup);
      const set = await client.setManager(manager.address, true).wait();
      expect(set.result).to.deep.equal({ owner: owner.address, manager: manager.address, approved: true });
      expect(await client.isManager(owner.address, manager.address)).to.equal(true);
      const byManager = await as(manager);
      const g = await byManager
        .grantFor(owner.address, { grantee: grantee.address, dataId: DATA, purposes: [5] })
        .wait();
      expect([g.result.owner, g.result.actor, g.result.via, g.result.purposesMask]).to.deep.equal([
        owner.address,
        manager.address,
        Via.Manager,
        32n,
      ]);
      const r = await byManager.revokeFor(owner.address, { grantee: grantee.address, dataId: DATA }).wait();
      expect([r.result.owner, r.result.actor, r.result.via]).to.deep.equal([
        owner.address,
        manager.address,
        Via.Manager,
      ]);
      const all = await byManager.revokeAllFor(owner.address).wait();
      expect(all.result).to.deep.equal({
        owner: owner.address,
        newEpoch: 1n,
        actor: manager.address,
        via: Via.Manager,
      });
    });

    it("a stranger acting for the owner is refused in words", async () => {
      const { owner, stranger, as } = await networkHelpers.loadFixture(setup);
      const err = await rejects((await as(stranger)).revokeAllFor(owner.address).wait());
      expect(err.message).to.equal(
        `ConsentRegistryNotAuthorized: ${stranger.address} is neither ${owner.address} nor one of its managers`,
      );
    });
  });

  describe("signatures", () => {
    it("signGrant → verifySigned → relayGrant (via Signature, relayer is the actor); replay is refused", async () => {
      const { client, owner, grantee, relayer, as } = await networkHelpers.loadFixture(setup);
      const signed = await client.signGrant(owner, {
        grantee: grantee.address,
        dataId: DATA,
        purposes: ["FINE_TUNING"],
        nonce: 7n,
      });
      expect(signed.owner).to.equal(owner.address);
      expect(signed.purposes).to.equal(2n);
      expect(signed.deadline).to.equal(BigInt(await networkHelpers.time.latest()) + 3600n);
      expect(await client.verifySigned("Grant", signed)).to.equal(true);
      expect(await client.verifySigned("Grant", { ...signed, purposes: 3n })).to.equal(false);

      const relay = await as(relayer);
      const { result } = await relay.relayGrant(signed).wait();
      expect([result.owner, result.actor, result.via, result.purposesMask]).to.deep.equal([
        owner.address,
        relayer.address,
        Via.Signature,
        2n,
      ]);
      expect(await client.isNonceUsed(owner.address, 7n)).to.equal(true);
      const err = await rejects(relay.relayGrant(signed).wait());
      expect(err.message).to.equal(
        `ConsentRegistryNonceUsed: nonce 7 of ${owner.address} was used or invalidated already`,
      );
    });

    it("default nonces are sequential: the lowest unused on-chain and not yet handed out (cheaper relays)", async () => {
      const { client, owner, grantee, relayer, as } = await networkHelpers.loadFixture(setup);
      const req = { grantee: grantee.address, dataId: DATA, purposes: [0] as number[] };
      const first = await client.signGrant(owner, req);
      const second = await client.signGrant(owner, { ...req, dataId: ethers.id("another asset"), purposes: [1] });
      expect([first.nonce, second.nonce]).to.deep.equal([0n, 1n]);
      const relay = await as(relayer);
      const g1 = (await relay.relayGrant(first).wait()).receipt.gasUsed;
      const g2 = (await relay.relayGrant(second).wait()).receipt.gasUsed;
      // The second relay writes the already non-zero bitmap word: 20,000 - 2,900 gas cheaper.
      expect(g1 - g2).to.be.within(16_900n, 17_300n);
      // A fresh client sees nonces 0 and 1 used on-chain and continues at 2; a gap is reused.
      const fresh = await as(relayer);
      expect(await fresh.nextNonce(owner.address)).to.equal(2n);
      await (await as(owner)).invalidateNonces(0n, 0b1000n).wait(); // nonce 3 cancelled
      expect(await fresh.nextNonce(owner.address)).to.equal(4n);
      const other = await as(relayer);
      expect(await other.nextNonce(owner.address)).to.equal(2n);
    });

    it("a signature by someone else is refused in words", async () => {
      const { client, owner, grantee, stranger, as } = await networkHelpers.loadFixture(setup);
      const forged = await client.signGrant(stranger, { grantee: grantee.address, dataId: DATA, purposes: [0] });
      const err = await rejects((await as(grantee)).relayGrant({ ...forged, owner: owner.address }).wait());
      expect(err.message).to.equal(
        `ConsentRegistryInvalidSignature: the signature is not a valid signature of ${owner.address} over this message`,
      );
    });

    it("signRevoke / signRevokeAll relay; relayGrantBatch takes several owners", async () => {
      const { client, owner, grantee, stranger, relayer, as } = await networkHelpers.loadFixture(setup);
      const relay = await as(relayer);
      const a = await client.signGrant(owner, { grantee: grantee.address, dataId: DATA, purposes: [0] });
      const b = await client.signGrant(stranger, { grantee: grantee.address, dataId: DATA, purposes: [1] });
      const batch = await relay.relayGrantBatch([a, b]).wait();
      expect(batch.result.count).to.equal(2);
      expect(batch.result.items.map((i) => [i.owner, i.via])).to.deep.equal([
        [owner.address, Via.Signature],
        [stranger.address, Via.Signature],
      ]);

      const rv = await client.signRevoke(owner, { grantee: grantee.address, dataId: DATA });
      expect(await client.verifySigned("Revoke", rv)).to.equal(true);
      const revoked = await relay.relayRevoke(rv).wait();
      expect([revoked.result.owner, revoked.result.via]).to.deep.equal([owner.address, Via.Signature]);

      const ra = await client.signRevokeAll(stranger);
      expect(await client.verifySigned("RevokeAll", ra)).to.equal(true);
      const all = await relay.relayRevokeAll(ra).wait();
      expect(all.result).to.deep.equal({
        owner: stranger.address,
        newEpoch: 1n,
        actor: relayer.address,
        via: Via.Signature,
      });
    });

    it("invalidateNonces cancels a signed message before it is relayed", async () => {
      const { client, owner, relayer, as } = await networkHelpers.loadFixture(setup);
      const nonce = (5n << 8n) | 9n;
      const signed = await client.signRevokeAll(owner, { nonce });
      const { result } = await client.invalidateNonces(5n, 1n << 9n).wait();
      expect(result).to.deep.equal({ owner: owner.address, wordPos: 5n, mask: 512n });
      expect(await client.isNonceUsed(owner.address, nonce)).to.equal(true);
      const err = await rejects((await as(relayer)).relayRevokeAll(signed).wait());
      expect(err.message).to.equal(
        `ConsentRegistryNonceUsed: nonce ${nonce} of ${owner.address} was used or invalidated already`,
      );
    });

    it("verifySigned asks an ERC-1271 wallet owner", async () => {
      const { client, owner, grantee, address } = await networkHelpers.loadFixture(setup);
      const wallet = await ethers.deployContract("ERC1271WalletMock", [owner.address]);
      const walletAddress = await wallet.getAddress();
      const signed = await signConsent("Grant", owner, consentDomain(31337n, address), {
        owner: walletAddress,
        grantee: grantee.address,
        dataId: DATA,
        purposes: 1n,
        expiresAt: 0n,
        noticeHash: ZeroHash,
        nonce: 1n,
        deadline: 2n ** 40n,
      });
      expect(await client.verifySigned("Grant", signed)).to.equal(true);
      expect(await client.verifySigned("Grant", { ...signed, nonce: 2n })).to.equal(false);
      await (await wallet.setMode(1)).wait();
      expect(await client.verifySigned("Grant", signed)).to.equal(false);
    });
  });

  describe("enforced records", () => {
    it("recordUse / recordUseBatch decode DataUsed; without consent it is refused in words", async () => {
      const { client, owner, processor, as } = await networkHelpers.loadFixture(setup);
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
      const { client, owner, processor, stranger, integrations, as } = await networkHelpers.loadFixture(setup);
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
      const { client } = await networkHelpers.loadFixture(setup);
      const catalogue = await client.purposes();
      const meta = initialPurposeMetadata();
      expect(catalogue.grantableMask).to.equal(255n);
      expect(catalogue.definedMask).to.equal(255n);
      expect(catalogue.purposes).to.deep.equal(
        PURPOSES.map((p) => ({ id: p.id, name: p.name, metadataHash: meta[p.id], grantable: true })),
      );
    });

    it("activeConsentsOf / consentsGrantedTo keep only live consents (revoked, replaced, expired and old-epoch ones drop out)", async () => {
      const { client, owner, grantee, stranger, as } = await networkHelpers.loadFixture(setup);
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

    it("history() lists grants, revocations and revoke-alls of one key, oldest first, with tx hashes", async () => {
      const { client, owner, grantee, manager, as } = await networkHelpers.loadFixture(setup);
      const g1 = await client
        .grant({ grantee: grantee.address, dataId: DATA, purposes: [0], noticeHash: NOTICE })
        .wait();
      await client.grant({ grantee: grantee.address, dataId: DATA2, purposes: [1] }).wait(); // other key
      const r1 = await client.revoke({ grantee: grantee.address, dataId: DATA }).wait();
      await client.setManager(manager.address, true).wait();
      const all = await (await as(manager)).revokeAllFor(owner.address).wait();
      const h = await client.history(owner.address, grantee.address, DATA);
      expect(h).to.deep.equal([
        {
          kind: "granted",
          purposes: [0],
          purposesMask: 1n,
          expiresAt: 0n,
          noticeHash: NOTICE,
          actor: owner.address,
          via: Via.Owner,
          blockNumber: g1.receipt.blockNumber,
          transactionHash: g1.receipt.hash,
          logIndex: 0,
        },
        {
          kind: "revoked",
          actor: owner.address,
          via: Via.Owner,
          blockNumber: r1.receipt.blockNumber,
          transactionHash: r1.receipt.hash,
          logIndex: 0,
        },
        {
          kind: "allRevoked",
          newEpoch: 1n,
          actor: manager.address,
          via: Via.Manager,
          blockNumber: all.receipt.blockNumber,
          transactionHash: all.receipt.hash,
          logIndex: 0,
        },
      ]);
    });
  });
});
