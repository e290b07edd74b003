import { expect } from "chai";
import { concat, dataLength, dataSlice, getBytes, id, toBeHex, toBigInt, zeroPadValue } from "ethers";
import type { TypedDataDomain } from "ethers";
import { network } from "hardhat";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";

import { ALL_DATA, NO_EXPIRY, Via } from "../src/sdk/constants.js";
import {
  consentDigest,
  consentDomain,
  nonceBitPosition,
  randomNonce,
  signConsent,
  toCompactSignature,
} from "../src/sdk/eip712.js";
import type { GrantMessage, RevokeAllMessage, RevokeMessage, Signed } from "../src/sdk/eip712.js";
import { Purpose, purposesToMask } from "../src/sdk/purposes.js";
import type { ConsentRegistryHarness, ERC1271WalletMock } from "../types/ethers-contracts/index.js";
import { consentOf, deploySystem } from "./helpers/fixture.js";

const { ethers, networkHelpers } = await network.create();

/** secp256k1 group order. */
const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const ECRECOVER_PRECOMPILE = "0x0000000000000000000000000000000000000001";

const DATA = id("dataset:alice/chat-logs#salt-1");
const OTHER_DATA = id("dataset:alice/photos#salt-2");
const NOTICE = id("notice:v3");
const PURPOSES = purposesToMask([Purpose.MODEL_TRAINING, Purpose.INFERENCE]);
/** The harness clock during every test (a fixed, known "now"). */
const NOW = 2_000_000_000n;
const DEADLINE = NOW + 3_600n;
const EXPIRY = NOW + 30n * 86_400n;

enum WalletMode {
  CheckSigner = 0,
  AlwaysInvalid = 1,
  Revert = 2,
}

/** The stored consent as `[purposes, expiresAt, epoch, active]`, for exact comparisons. */
async function fixture() {
  const system = await deploySystem(ethers);
  const { registry, accounts } = system;
  const [owner, owner2, owner3, grantee, relayer, relayerB, stranger, walletSigner] = accounts;
  await registry.setTime(NOW);
  const { chainId } = await ethers.provider.getNetwork();
  const domain = consentDomain(chainId, await registry.getAddress());
  const wallet = (await ethers.deployContract("ERC1271WalletMock", [
    walletSigner.address,
  ])) as unknown as ERC1271WalletMock;
  return {
    ...system,
    owner,
    owner2,
    owner3,
    grantee,
    relayer,
    relayerB,
    stranger,
    walletSigner,
    wallet,
    chainId,
    domain,
  };
}

function grantMessage(owner: string, grantee: string, overrides: Partial<GrantMessage> = {}): GrantMessage {
  return {
    owner,
    grantee,
    dataId: DATA,
    purposes: PURPOSES,
    expiresAt: EXPIRY,
    noticeHash: NOTICE,
    nonce: randomNonce(),
    deadline: DEADLINE,
    ...overrides,
  };
}

function revokeMessage(owner: string, grantee: string, overrides: Partial<RevokeMessage> = {}): RevokeMessage {
  return { owner, grantee, dataId: DATA, nonce: randomNonce(), deadline: DEADLINE, ...overrides };
}

function revokeAllMessage(owner: string, overrides: Partial<RevokeAllMessage> = {}): RevokeAllMessage {
  return { owner, nonce: randomNonce(), deadline: DEADLINE, ...overrides };
}

/** Everything a signed call for `(owner, grantee, dataId)` with `nonce` could change. */
async function stateOf(registry: ConsentRegistryHarness, owner: string, grantee: string, nonce: bigint, dataId = DATA) {
  const { wordPos } = nonceBitPosition(nonce);
  return {
    consent: await consentOf(registry, owner, grantee, dataId),
    epoch: await registry.epochOf(owner),
    nonceUsed: await registry.isNonceUsed(owner, nonce),
    bitmap: await registry.nonceBitmap(owner, wordPos),
  };
}

/** The ABI-encoded custom error a batch carries as `reason`. */
function encodedError(registry: ConsentRegistryHarness, name: string, args: readonly unknown[]): string {
  return registry.interface.encodeErrorResult(name, args);
}

/** Runs `call` as a static call and decodes BatchItemFailed(index, inner) down to the inner error. */
async function decodeBatchFailure(registry: ConsentRegistryHarness, call: () => Promise<unknown>) {
  try {
    await call();
  } catch (e) {
    const data = (e as { data?: string }).data;
    if (data === undefined) throw e;
    const outer = registry.interface.parseError(data);
    if (outer?.name !== "ConsentRegistryBatchItemFailed") throw e;
    const inner = registry.interface.parseError(outer.args[1] as string);
    return { index: outer.args[0] as bigint, name: inner?.name, args: inner?.args.toArray() };
  }
  throw new Error("expected the batch to revert");
}

const withV = (sig: string, v: number): string => concat([dataSlice(sig, 0, 64), toBeHex(v, 1)]);

/** The other valid ECDSA signature of the same digest: (r, n - s, v ^ 1). */
function malleate(sig: string): string {
  const s = toBigInt(dataSlice(sig, 32, 64));
  const v = getBytes(sig)[64];
  return concat([dataSlice(sig, 0, 32), toBeHex(SECP256K1_N - s, 32), toBeHex(v === 27 ? 28 : 27, 1)]);
}

/** Raw ecrecover through the precompile, without OpenZeppelin's malleability checks. */
async function rawEcrecover(digest: string, sig: string): Promise<string> {
  const v = getBytes(sig)[64];
  const out = await ethers.provider.call({
    to: ECRECOVER_PRECOMPILE,
    data: concat([digest, zeroPadValue(toBeHex(v), 32), dataSlice(sig, 0, 32), dataSlice(sig, 32, 64)]),
  });
  return ethers.getAddress(dataSlice(out, 12, 32));
}

async function signGrant(signer: HardhatEthersSigner, domain: TypedDataDomain, m: GrantMessage) {
  return signConsent("Grant", signer, domain, m);
}

describe("ConsentRegistry: gasless consent by EIP-712 signature", () => {
  describe("relayed happy paths", () => {
    it("grantBySig relayed by a third account: actor = relayer, via = Signature, nonce marked used", async () => {
      const { registry, owner, grantee, relayer, domain } = await networkHelpers.loadFixture(fixture);
      const m = grantMessage(owner.address, grantee.address, { nonce: (7n << 8n) | 42n });
      const req = await signGrant(owner, domain, m);

      await expect(registry.connect(relayer).grantBySig(req))
        .to.emit(registry, "ConsentGranted")
        .withArgs(owner.address, grantee.address, DATA, PURPOSES, EXPIRY, NOTICE, relayer.address, Via.Signature);

      expect(await consentOf(registry, owner.address, grantee.address, DATA)).to.deep.equal([
        PURPOSES,
        EXPIRY,
        0n,
        true,
      ]);
      expect(await registry.isAllowed(owner.address, grantee.address, DATA, Purpose.INFERENCE)).to.equal(true);
      expect(await registry.isNonceUsed(owner.address, m.nonce)).to.equal(true);
      expect(await registry.nonceBitmap(owner.address, 7n)).to.equal(1n << 42n);
      expect(await registry.isNonceUsed(owner.address, m.nonce + 1n)).to.equal(false);
    });

    it("revokeBySig relayed by a third account withdraws the consent", async () => {
      const { registry, owner, grantee, relayer, domain } = await networkHelpers.loadFixture(fixture);
      await registry.connect(owner).grant(grantee.address, DATA, PURPOSES, NO_EXPIRY, NOTICE);
      const m = revokeMessage(owner.address, grantee.address);
      const req = await signConsent("Revoke", owner, domain, m);

      await expect(registry.connect(relayer).revokeBySig(req))
        .to.emit(registry, "ConsentRevoked")
        .withArgs(owner.address, grantee.address, DATA, relayer.address, Via.Signature);
      expect(await consentOf(registry, owner.address, grantee.address, DATA)).to.deep.equal([0n, 0n, 0n, false]);
      expect(await registry.isNonceUsed(owner.address, m.nonce)).to.equal(true);
    });

    it("revokeAllBySig relayed by a third account starts a new epoch", async () => {
      const { registry, owner, grantee, relayer, domain } = await networkHelpers.loadFixture(fixture);
      await registry.connect(owner).grant(grantee.address, ALL_DATA, PURPOSES, NO_EXPIRY, NOTICE);
      const m = revokeAllMessage(owner.address);
      const req = await signConsent("RevokeAll", owner, domain, m);

      await expect(registry.connect(relayer).revokeAllBySig(req))
        .to.emit(registry, "AllConsentsRevoked")
        .withArgs(owner.address, 1n, relayer.address, Via.Signature);
      expect(await registry.epochOf(owner.address)).to.equal(1n);
      expect(await registry.isAllowed(owner.address, grantee.address, DATA, Purpose.MODEL_TRAINING)).to.equal(false);
      expect(await registry.isNonceUsed(owner.address, m.nonce)).to.equal(true);
    });

    it("accepts 65-byte and 64-byte EIP-2098 compact signatures (both y-parities)", async () => {
      const { registry, owner, grantee, relayer, domain } = await networkHelpers.loadFixture(fixture);
      const fullParities = new Set<number>();
      const compactParities = new Set<number>();
      let dataIndex = 0;
      // Each signature has y-parity 0 or 1 by chance: sign until both forms were seen with both.
      while (fullParities.size < 2 || compactParities.size < 2) {
        const full = await signGrant(
          owner,
          domain,
          grantMessage(owner.address, grantee.address, { dataId: id(`asset-${dataIndex++}`) }),
        );
        expect(dataLength(full.signature)).to.equal(65);
        await expect(registry.connect(relayer).grantBySig(full))
          .to.emit(registry, "ConsentGranted")
          .withArgs(owner.address, grantee.address, full.dataId, PURPOSES, EXPIRY, NOTICE, relayer.address, 2);
        expect(await registry.isNonceUsed(owner.address, full.nonce)).to.equal(true);
        fullParities.add(getBytes(full.signature)[64] - 27);

        const signed = await signGrant(
          owner,
          domain,
          grantMessage(owner.address, grantee.address, { dataId: id(`asset-${dataIndex++}`) }),
        );
        const compact = { ...signed, signature: toCompactSignature(signed.signature) };
        expect(dataLength(compact.signature)).to.equal(64);
        await expect(registry.connect(relayer).grantBySig(compact))
          .to.emit(registry, "ConsentGranted")
          .withArgs(owner.address, grantee.address, compact.dataId, PURPOSES, EXPIRY, NOTICE, relayer.address, 2);
        expect(await registry.isNonceUsed(owner.address, compact.nonce)).to.equal(true);
        compactParities.add(getBytes(signed.signature)[64] - 27);
      }
    });

    it("withdrawal is as easy as giving: a signed grant is undone by a signed revoke", async () => {
      const { registry, owner, grantee, relayer, domain } = await networkHelpers.loadFixture(fixture);
      const grantReq = await signGrant(owner, domain, grantMessage(owner.address, grantee.address));
      const grantTx = await registry.connect(relayer).grantBySig(grantReq);
      const revokeReq = await signConsent("Revoke", owner, domain, revokeMessage(owner.address, grantee.address));
      const revokeTx = await registry.connect(relayer).revokeBySig(revokeReq);
      await expect(revokeTx)
        .to.emit(registry, "ConsentRevoked")
        .withArgs(owner.address, grantee.address, DATA, relayer.address, Via.Signature);

      expect(await registry.isAllowed(owner.address, grantee.address, DATA, Purpose.MODEL_TRAINING)).to.equal(false);
      // Same path, same relayer, and not dearer than the grant (the storage clear is refunded).
      const grantGas = (await grantTx.wait())!.gasUsed;
      const revokeGas = (await revokeTx.wait())!.gasUsed;
      expect(revokeGas < grantGas).to.equal(true, `revoke ${revokeGas} gas vs grant ${grantGas} gas`);
    });
  });

  describe("replay and front-running", () => {
    it("replaying a used signature reverts NonceUsed and cannot re-grant after a withdrawal", async () => {
      const { registry, owner, grantee, relayer, stranger, domain } = await networkHelpers.loadFixture(fixture);
      const req = await signGrant(owner, domain, grantMessage(owner.address, grantee.address));
      await registry.connect(relayer).grantBySig(req);
      await registry.connect(owner).revoke(grantee.address, DATA);
      const before = await stateOf(registry, owner.address, grantee.address, req.nonce);

      for (const who of [relayer, stranger]) {
        await expect(registry.connect(who).grantBySig(req))
          .to.be.revertedWithCustomError(registry, "ConsentRegistryNonceUsed")
          .withArgs(owner.address, req.nonce);
      }
      expect(await stateOf(registry, owner.address, grantee.address, req.nonce)).to.deep.equal(before);
      expect(before.consent).to.deep.equal([0n, 0n, 0n, false]);
    });

    it("a front-running relayer only gets the owner's exact message through; the victim relayer reverts", async () => {
      const { registry, owner, grantee, relayer, relayerB, domain } = await networkHelpers.loadFixture(fixture);
      const m = grantMessage(owner.address, grantee.address, { expiresAt: NO_EXPIRY });
      const req = await signGrant(owner, domain, m);

      await expect(registry.connect(relayerB).grantBySig(req))
        .to.emit(registry, "ConsentGranted")
        .withArgs(owner.address, grantee.address, DATA, PURPOSES, NO_EXPIRY, NOTICE, relayerB.address, Via.Signature);
      await expect(registry.connect(relayer).grantBySig(req))
        .to.be.revertedWithCustomError(registry, "ConsentRegistryNonceUsed")
        .withArgs(owner.address, m.nonce);

      expect(await consentOf(registry, owner.address, grantee.address, DATA)).to.deep.equal([
        PURPOSES,
        NO_EXPIRY,
        0n,
        true,
      ]);
    });

    it("the same signature twice in one grantBySigBatch names item 1 and changes nothing", async () => {
      const { registry, owner, grantee, relayer, domain } = await networkHelpers.loadFixture(fixture);
      const req = await signGrant(owner, domain, grantMessage(owner.address, grantee.address));
      const before = await stateOf(registry, owner.address, grantee.address, req.nonce);

      await expect(registry.connect(relayer).grantBySigBatch([req, req]))
        .to.be.revertedWithCustomError(registry, "ConsentRegistryBatchItemFailed")
        .withArgs(1n, encodedError(registry, "ConsentRegistryNonceUsed", [owner.address, req.nonce]));
      expect(await stateOf(registry, owner.address, grantee.address, req.nonce)).to.deep.equal(before);
      expect(before.nonceUsed).to.equal(false);
    });
  });

  describe("domain binding", () => {
    it("a signature for another chain id is InvalidSignature(owner)", async () => {
      const { registry, owner, grantee, relayer, chainId } = await networkHelpers.loadFixture(fixture);
      const foreign = consentDomain(chainId + 1n, await registry.getAddress());
      const req = await signGrant(owner, foreign, grantMessage(owner.address, grantee.address));
      const before = await stateOf(registry, owner.address, grantee.address, req.nonce);

      await expect(registry.connect(relayer).grantBySig(req))
        .to.be.revertedWithCustomError(registry, "ConsentRegistryInvalidSignature")
        .withArgs(owner.address);
      expect(await stateOf(registry, owner.address, grantee.address, req.nonce)).to.deep.equal(before);
    });

    it("a signature for another deployment on the same chain is InvalidSignature(owner) here, valid there", async () => {
      const { registry, owner, grantee, relayer, chainId } = await networkHelpers.loadFixture(fixture);
      const { registry: other } = await deploySystem(ethers);
      await other.setTime(NOW);
      const req = await signGrant(
        owner,
        consentDomain(chainId, await other.getAddress()),
        grantMessage(owner.address, grantee.address),
      );
      const before = await stateOf(registry, owner.address, grantee.address, req.nonce);

      await expect(registry.connect(relayer).grantBySig(req))
        .to.be.revertedWithCustomError(registry, "ConsentRegistryInvalidSignature")
        .withArgs(owner.address);
      expect(await stateOf(registry, owner.address, grantee.address, req.nonce)).to.deep.equal(before);
      // Control: the very same request is a good signature for the deployment it names.
      await expect(other.connect(relayer).grantBySig(req)).to.emit(other, "ConsentGranted");
    });
  });

  describe("deadline (harness clock)", () => {
    it("now > deadline is SignatureExpired(deadline, now)", async () => {
      const { registry, owner, grantee, relayer, domain } = await networkHelpers.loadFixture(fixture);
      const req = await signGrant(owner, domain, grantMessage(owner.address, grantee.address, { deadline: NOW - 1n }));
      const before = await stateOf(registry, owner.address, grantee.address, req.nonce);

      await expect(registry.connect(relayer).grantBySig(req))
        .to.be.revertedWithCustomError(registry, "ConsentRegistrySignatureExpired")
        .withArgs(NOW - 1n, NOW);
      expect(await stateOf(registry, owner.address, grantee.address, req.nonce)).to.deep.equal(before);

      const revokeAll = await signConsent(
        "RevokeAll",
        owner,
        domain,
        revokeAllMessage(owner.address, { deadline: 0n }),
      );
      await expect(registry.connect(relayer).revokeAllBySig(revokeAll))
        .to.be.revertedWithCustomError(registry, "ConsentRegistrySignatureExpired")
        .withArgs(0n, NOW);
      expect(await registry.epochOf(owner.address)).to.equal(0n);
    });

    it("deadline == now is accepted", async () => {
      const { registry, owner, grantee, relayer, domain } = await networkHelpers.loadFixture(fixture);
      const req = await signGrant(owner, domain, grantMessage(owner.address, grantee.address, { deadline: NOW }));
      await expect(registry.connect(relayer).grantBySig(req))
        .to.emit(registry, "ConsentGranted")
        .withArgs(owner.address, grantee.address, DATA, PURPOSES, EXPIRY, NOTICE, relayer.address, Via.Signature);
      expect(await registry.isNonceUsed(owner.address, req.nonce)).to.equal(true);
    });
  });

  describe("forged and mangled signatures", () => {
    it("the malleable twin (n - s, flipped v) recovers the owner by raw ecrecover but is rejected", async () => {
      const { registry, owner, grantee, relayer, domain } = await networkHelpers.loadFixture(fixture);
      const m = grantMessage(owner.address, grantee.address);
      const req = await signGrant(owner, domain, m);
      const twin = malleate(req.signature);
      // The attack is real: the twin is a valid secp256k1 signature of the same digest.
      expect(await rawEcrecover(consentDigest("Grant", domain, m), twin)).to.equal(owner.address);
      const before = await stateOf(registry, owner.address, grantee.address, m.nonce);

      await expect(registry.connect(relayer).grantBySig({ ...req, signature: twin }))
        .to.be.revertedWithCustomError(registry, "ConsentRegistryInvalidSignature")
        .withArgs(owner.address);
      expect(await stateOf(registry, owner.address, grantee.address, m.nonce)).to.deep.equal(before);
      // The original still works afterwards: the twin burnt nothing.
      await expect(registry.connect(relayer).grantBySig(req)).to.emit(registry, "ConsentGranted");
    });

    it("v = 29, v = 0, and 63- or 66-byte signatures are InvalidSignature(owner)", async () => {
      const { registry, owner, grantee, relayer, domain } = await networkHelpers.loadFixture(fixture);
      const req = await signGrant(owner, domain, grantMessage(owner.address, grantee.address));
      const before = await stateOf(registry, owner.address, grantee.address, req.nonce);
      const mangled = [
        withV(req.signature, 29),
        withV(req.signature, 0),
        dataSlice(req.signature, 0, 63),
        concat([req.signature, "0x00"]),
        "0x",
      ];
      for (const signature of mangled) {
        await expect(registry.connect(relayer).grantBySig({ ...req, signature }))
          .to.be.revertedWithCustomError(registry, "ConsentRegistryInvalidSignature")
          .withArgs(owner.address);
      }
      expect(await stateOf(registry, owner.address, grantee.address, req.nonce)).to.deep.equal(before);
    });

    it("a signature by someone other than the owner is InvalidSignature(owner)", async () => {
      const { registry, owner, grantee, relayer, stranger, domain } = await networkHelpers.loadFixture(fixture);
      const req = await signGrant(stranger, domain, grantMessage(owner.address, grantee.address));
      await expect(registry.connect(relayer).grantBySig(req))
        .to.be.revertedWithCustomError(registry, "ConsentRegistryInvalidSignature")
        .withArgs(owner.address);
      expect(await stateOf(registry, owner.address, grantee.address, req.nonce)).to.deep.equal({
        consent: [0n, 0n, 0n, false],
        epoch: 0n,
        nonceUsed: false,
        bitmap: 0n,
      });
    });

    it("owner A's signature submitted as owner B is InvalidSignature(B)", async () => {
      const { registry, owner, owner2, grantee, relayer, domain } = await networkHelpers.loadFixture(fixture);
      const req = await signGrant(owner, domain, grantMessage(owner.address, grantee.address));
      const before = await stateOf(registry, owner2.address, grantee.address, req.nonce);
      await expect(registry.connect(relayer).grantBySig({ ...req, owner: owner2.address }))
        .to.be.revertedWithCustomError(registry, "ConsentRegistryInvalidSignature")
        .withArgs(owner2.address);
      expect(await stateOf(registry, owner2.address, grantee.address, req.nonce)).to.deep.equal(before);

      const revokeAll = await signConsent("RevokeAll", owner, domain, revokeAllMessage(owner.address));
      await expect(registry.connect(relayer).revokeAllBySig({ ...revokeAll, owner: owner2.address }))
        .to.be.revertedWithCustomError(registry, "ConsentRegistryInvalidSignature")
        .withArgs(owner2.address);
      expect(await registry.epochOf(owner2.address)).to.equal(0n);
    });

    it("tampering with any signed field after signing is InvalidSignature(owner)", async () => {
      const { registry, owner, grantee, stranger, relayer, domain } = await networkHelpers.loadFixture(fixture);
      const req = await signGrant(owner, domain, grantMessage(owner.address, grantee.address));
      const tampered: Signed<"Grant">[] = [
        { ...req, purposes: req.purposes | purposesToMask([Purpose.THIRD_PARTY_SHARING]) },
        { ...req, grantee: stranger.address },
        { ...req, dataId: ALL_DATA },
        { ...req, expiresAt: NO_EXPIRY },
        { ...req, deadline: req.deadline + 1n },
      ];
      for (const t of tampered) {
        await expect(registry.connect(relayer).grantBySig(t))
          .to.be.revertedWithCustomError(registry, "ConsentRegistryInvalidSignature")
          .withArgs(owner.address);
      }
      expect(await registry.isNonceUsed(owner.address, req.nonce)).to.equal(false);
      expect(await registry.isAllowed(owner.address, stranger.address, DATA, Purpose.MODEL_TRAINING)).to.equal(false);
      expect(await registry.isAllowed(owner.address, grantee.address, DATA, Purpose.THIRD_PARTY_SHARING)).to.equal(
        false,
      );
    });

    it("a Revoke signature cannot be passed off as a Grant with the same fields", async () => {
      const { registry, owner, grantee, relayer, domain } = await networkHelpers.loadFixture(fixture);
      const revoke = await signConsent("Revoke", owner, domain, revokeMessage(owner.address, grantee.address));
      const forged: Signed<"Grant"> = { ...revoke, purposes: PURPOSES, expiresAt: NO_EXPIRY, noticeHash: NOTICE };
      await expect(registry.connect(relayer).grantBySig(forged))
        .to.be.revertedWithCustomError(registry, "ConsentRegistryInvalidSignature")
        .withArgs(owner.address);
      expect(await registry.isNonceUsed(owner.address, revoke.nonce)).to.equal(false);
    });
  });

  describe("unordered nonces", () => {
    it("several signed grants relayed in reverse order all succeed", async () => {
      const { registry, owner, grantee, relayer, domain } = await networkHelpers.loadFixture(fixture);
      const nonces = [1n, 2n, 300n, 1n << 200n];
      const reqs = await Promise.all(
        nonces.map((nonce, i) =>
          signGrant(owner, domain, grantMessage(owner.address, grantee.address, { nonce, dataId: id(`asset-${i}`) })),
        ),
      );
      for (const req of [...reqs].reverse()) {
        await expect(registry.connect(relayer).grantBySig(req))
          .to.emit(registry, "ConsentGranted")
          .withArgs(owner.address, grantee.address, req.dataId, PURPOSES, EXPIRY, NOTICE, relayer.address, 2);
      }
      for (const req of reqs) {
        expect(await registry.isNonceUsed(owner.address, req.nonce)).to.equal(true);
        expect(await registry.activePurposes(owner.address, grantee.address, req.dataId)).to.equal(PURPOSES);
      }
      expect(await registry.nonceBitmap(owner.address, 0n)).to.equal((1n << 1n) | (1n << 2n));
      expect(await registry.nonceBitmap(owner.address, 1n)).to.equal(1n << 44n);
      expect(await registry.isNonceUsed(owner.address, 0n)).to.equal(false);
    });

    it("invalidateNonces emits NoncesInvalidated and cancels exactly the masked nonces", async () => {
      const { registry, owner, grantee, relayer, domain } = await networkHelpers.loadFixture(fixture);
      const wordPos = 5n;
      const mask = (1n << 0n) | (1n << 9n) | (1n << 255n);
      const cancelled = await Promise.all(
        [0n, 9n, 255n].map((bit) =>
          signGrant(owner, domain, grantMessage(owner.address, grantee.address, { nonce: (wordPos << 8n) | bit })),
        ),
      );
      const kept = await signGrant(
        owner,
        domain,
        grantMessage(owner.address, grantee.address, { nonce: (wordPos << 8n) | 10n, dataId: OTHER_DATA }),
      );

      await expect(registry.connect(owner).invalidateNonces(wordPos, mask))
        .to.emit(registry, "NoncesInvalidated")
        .withArgs(owner.address, wordPos, mask);
      expect(await registry.nonceBitmap(owner.address, wordPos)).to.equal(mask);

      for (const req of cancelled) {
        await expect(registry.connect(relayer).grantBySig(req))
          .to.be.revertedWithCustomError(registry, "ConsentRegistryNonceUsed")
          .withArgs(owner.address, req.nonce);
      }
      expect(await consentOf(registry, owner.address, grantee.address, DATA)).to.deep.equal([0n, 0n, 0n, false]);
      // A nonce of the same word outside the mask is untouched.
      await expect(registry.connect(relayer).grantBySig(kept)).to.emit(registry, "ConsentGranted");
      expect(await registry.nonceBitmap(owner.address, wordPos)).to.equal(mask | (1n << 10n));
    });

    it("invalidateNonces only touches the caller's own nonces", async () => {
      const { registry, owner, grantee, stranger, relayer, domain } = await networkHelpers.loadFixture(fixture);
      const req = await signGrant(owner, domain, grantMessage(owner.address, grantee.address, { nonce: 3n }));
      await expect(registry.connect(stranger).invalidateNonces(0n, 1n << 3n))
        .to.emit(registry, "NoncesInvalidated")
        .withArgs(stranger.address, 0n, 1n << 3n);
      expect(await registry.nonceBitmap(owner.address, 0n)).to.equal(0n);
      await expect(registry.connect(relayer).grantBySig(req)).to.emit(registry, "ConsentGranted");
    });

    it("a signed grant whose inner grant is invalid reverts ExpiryInPast and leaves the nonce unused", async () => {
      const { registry, owner, grantee, relayer, domain } = await networkHelpers.loadFixture(fixture);
      const nonce = randomNonce();
      const bad = await signGrant(
        owner,
        domain,
        grantMessage(owner.address, grantee.address, { nonce, expiresAt: NOW }),
      );
      await expect(registry.connect(relayer).grantBySig(bad))
        .to.be.revertedWithCustomError(registry, "ConsentRegistryExpiryInPast")
        .withArgs(NOW, NOW);
      expect(await registry.isNonceUsed(owner.address, nonce)).to.equal(false);
      // The same message fails the same way on retry; a corrected message may reuse the nonce.
      await expect(registry.connect(relayer).grantBySig(bad))
        .to.be.revertedWithCustomError(registry, "ConsentRegistryExpiryInPast")
        .withArgs(NOW, NOW);
      const fixed = await signGrant(owner, domain, grantMessage(owner.address, grantee.address, { nonce }));
      await expect(registry.connect(relayer).grantBySig(fixed)).to.emit(registry, "ConsentGranted");
      expect(await registry.isNonceUsed(owner.address, nonce)).to.equal(true);
    });
  });

  describe("ERC-1271 smart-contract wallet owners", () => {
    it("CheckSigner mode accepts the wallet signer's signature (via = Signature)", async () => {
      const { registry, wallet, walletSigner, grantee, relayer, domain } = await networkHelpers.loadFixture(fixture);
      const walletAddr = await wallet.getAddress();
      expect(await wallet.mode()).to.equal(BigInt(WalletMode.CheckSigner));
      const req = await signGrant(walletSigner, domain, grantMessage(walletAddr, grantee.address));
      await expect(registry.connect(relayer).grantBySig(req))
        .to.emit(registry, "ConsentGranted")
        .withArgs(walletAddr, grantee.address, DATA, PURPOSES, EXPIRY, NOTICE, relayer.address, Via.Signature);
      expect(await registry.isNonceUsed(walletAddr, req.nonce)).to.equal(true);

      const revoke = await signConsent("Revoke", walletSigner, domain, revokeMessage(walletAddr, grantee.address));
      await expect(registry.connect(relayer).revokeBySig(revoke))
        .to.emit(registry, "ConsentRevoked")
        .withArgs(walletAddr, grantee.address, DATA, relayer.address, Via.Signature);
    });

    it("AlwaysInvalid and Revert modes are InvalidSignature(wallet); the wallet's revert is caught", async () => {
      const { registry, wallet, walletSigner, grantee, relayer, domain } = await networkHelpers.loadFixture(fixture);
      const walletAddr = await wallet.getAddress();
      const req = await signGrant(walletSigner, domain, grantMessage(walletAddr, grantee.address));
      const before = await stateOf(registry, walletAddr, grantee.address, req.nonce);
      for (const mode of [WalletMode.AlwaysInvalid, WalletMode.Revert]) {
        await wallet.setMode(mode);
        await expect(registry.connect(relayer).grantBySig(req))
          .to.be.revertedWithCustomError(registry, "ConsentRegistryInvalidSignature")
          .withArgs(walletAddr);
        expect(await stateOf(registry, walletAddr, grantee.address, req.nonce)).to.deep.equal(before);
      }
    });

    it("an EOA signature by someone other than the wallet's signer is InvalidSignature(wallet)", async () => {
      const { registry, wallet, stranger, grantee, relayer, domain } = await networkHelpers.loadFixture(fixture);
      const walletAddr = await wallet.getAddress();
      const req = await signGrant(stranger, domain, grantMessage(walletAddr, grantee.address));
      await expect(registry.connect(relayer).grantBySig(req))
        .to.be.revertedWithCustomError(registry, "ConsentRegistryInvalidSignature")
        .withArgs(walletAddr);
      expect(await registry.isNonceUsed(walletAddr, req.nonce)).to.equal(false);
    });
  });

  describe("signed batches", () => {
    it("grantBySigBatch relays grants of three owners in one transaction", async () => {
      const { registry, owner, owner2, owner3, grantee, relayer, domain } = await networkHelpers.loadFixture(fixture);
      const owners = [owner, owner2, owner3];
      const reqs = await Promise.all(owners.map((o) => signGrant(o, domain, grantMessage(o.address, grantee.address))));
      const tx = registry.connect(relayer).grantBySigBatch(reqs);
      for (const o of owners) {
        await expect(tx)
          .to.emit(registry, "ConsentGranted")
          .withArgs(o.address, grantee.address, DATA, PURPOSES, EXPIRY, NOTICE, relayer.address, Via.Signature);
      }
      for (const [i, o] of owners.entries()) {
        expect(await registry.isNonceUsed(o.address, reqs[i].nonce)).to.equal(true);
        expect(await registry.activePurposes(o.address, grantee.address, DATA)).to.equal(PURPOSES);
      }
    });

    it("grantBySigBatch names the first failing item and is all or nothing", async () => {
      const { registry, owner, owner2, owner3, grantee, stranger, relayer, domain } =
        await networkHelpers.loadFixture(fixture);
      const good1 = await signGrant(owner, domain, grantMessage(owner.address, grantee.address));
      const good2 = await signGrant(owner2, domain, grantMessage(owner2.address, grantee.address));
      const forged = await signGrant(stranger, domain, grantMessage(owner3.address, grantee.address));
      const expired = await signGrant(owner, domain, grantMessage(owner.address, grantee.address, { deadline: 1n }));
      const items = [good1, good2, forged, expired];

      await expect(registry.connect(relayer).grantBySigBatch(items))
        .to.be.revertedWithCustomError(registry, "ConsentRegistryBatchItemFailed")
        .withArgs(2n, encodedError(registry, "ConsentRegistryInvalidSignature", [owner3.address]));
      expect(
        await decodeBatchFailure(registry, () => registry.connect(relayer).grantBySigBatch.staticCall(items)),
      ).to.deep.equal({
        index: 2n,
        name: "ConsentRegistryInvalidSignature",
        args: [owner3.address],
      });

      // Nothing of items 0 and 1 survived: no consent, no nonce consumed.
      for (const [o, req] of [
        [owner, good1],
        [owner2, good2],
      ] as const) {
        expect(await registry.isNonceUsed(o.address, req.nonce)).to.equal(false);
        expect(await registry.activePurposes(o.address, grantee.address, DATA)).to.equal(0n);
      }
      // The good items still work once the bad one is dropped.
      await expect(registry.connect(relayer).grantBySigBatch([good1, good2])).to.emit(registry, "ConsentGranted");
    });

    it("revokeBySigBatch relays revocations of three owners; a failure is named and undoes the rest", async () => {
      const { registry, owner, owner2, owner3, grantee, relayer, domain } = await networkHelpers.loadFixture(fixture);
      const owners = [owner, owner2, owner3];
      for (const o of owners) await registry.connect(o).grant(grantee.address, DATA, PURPOSES, NO_EXPIRY, NOTICE);
      const reqs = await Promise.all(
        owners.map((o) => signConsent("Revoke", o, domain, revokeMessage(o.address, grantee.address))),
      );
      const notGranted = await signConsent(
        "Revoke",
        owner3,
        domain,
        revokeMessage(owner3.address, grantee.address, { dataId: OTHER_DATA }),
      );

      const failing = [reqs[0], notGranted, reqs[1]];
      await expect(registry.connect(relayer).revokeBySigBatch(failing))
        .to.be.revertedWithCustomError(registry, "ConsentRegistryBatchItemFailed")
        .withArgs(
          1n,
          encodedError(registry, "ConsentRegistryNotGranted", [owner3.address, grantee.address, OTHER_DATA]),
        );
      expect(
        await decodeBatchFailure(registry, () => registry.connect(relayer).revokeBySigBatch.staticCall(failing)),
      ).to.deep.equal({
        index: 1n,
        name: "ConsentRegistryNotGranted",
        args: [owner3.address, grantee.address, OTHER_DATA],
      });
      expect(await registry.activePurposes(owner.address, grantee.address, DATA)).to.equal(PURPOSES);
      expect(await registry.isNonceUsed(owner.address, reqs[0].nonce)).to.equal(false);
      expect(await registry.isNonceUsed(owner3.address, notGranted.nonce)).to.equal(false);

      const tx = registry.connect(relayer).revokeBySigBatch(reqs);
      for (const o of owners) {
        await expect(tx)
          .to.emit(registry, "ConsentRevoked")
          .withArgs(o.address, grantee.address, DATA, relayer.address, Via.Signature);
      }
      for (const [i, o] of owners.entries()) {
        expect(await registry.activePurposes(o.address, grantee.address, DATA)).to.equal(0n);
        expect(await registry.isNonceUsed(o.address, reqs[i].nonce)).to.equal(true);
      }
    });

    it("empty signed batches revert EmptyBatch", async () => {
      const { registry, relayer } = await networkHelpers.loadFixture(fixture);
      await expect(registry.connect(relayer).grantBySigBatch([])).to.be.revertedWithCustomError(
        registry,
        "ConsentRegistryEmptyBatch",
      );
      await expect(registry.connect(relayer).revokeBySigBatch([])).to.be.revertedWithCustomError(
        registry,
        "ConsentRegistryEmptyBatch",
      );
    });
  });
});
