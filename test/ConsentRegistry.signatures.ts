import { expect } from "chai";
import { concat, dataLength, dataSlice, getBytes, id, toBeHex, toBigInt, zeroPadValue } from "ethers";
import type { TypedDataDomain } from "ethers";
import { network } from "hardhat";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";

import { ALL_DATA, NO_EXPIRY, Via } from "../src/sdk/constants.js";
import { consentDigest, consentDomain, signConsent, toCompactSignature } from "../src/sdk/eip712.js";
import type { GrantMessage, RevokeAllMessage, RevokeMessage, Signed } from "../src/sdk/eip712.js";
import { Purpose, purposesToMask } from "../src/sdk/purposes.js";
import type {
  ConsentRegistryHarness,
  ERC1271WalletMock,
  GasBurningERC1271WalletMock,
} from "../types/ethers-contracts/index.js";
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
/** The first signed version of a key never changed before: generation 0, sequence 1. */
const V1 = 1n;
/** The gas an ERC-1271 wallet gets per item of revokeBySigBatch (`_BATCH_WALLET_GAS`, ConsentRegistry.sol). */
const BATCH_WALLET_GAS = 500_000n;
/** `GasBurningERC1271WalletMock`'s `burn` for a wallet that loops until its gas is gone. */
const BURN_ALL = (1n << 256n) - 1n;

enum WalletMode {
  CheckSigner = 0,
  AlwaysInvalid = 1,
  Revert = 2,
}

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
    epoch: 0n,
    version: V1,
    deadline: DEADLINE,
    ...overrides,
  };
}

function revokeMessage(owner: string, grantee: string, overrides: Partial<RevokeMessage> = {}): RevokeMessage {
  return { owner, grantee, dataId: DATA, epoch: 0n, version: V1, deadline: DEADLINE, ...overrides };
}

function revokeAllMessage(owner: string, overrides: Partial<RevokeAllMessage> = {}): RevokeAllMessage {
  return { owner, epoch: 0n, deadline: DEADLINE, ...overrides };
}

/** Everything a signed call for `(owner, grantee, dataId)` could change. */
async function stateOf(registry: ConsentRegistryHarness, owner: string, grantee: string, dataId = DATA) {
  return { consent: await consentOf(registry, owner, grantee, dataId), epoch: await registry.epochOf(owner) };
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
    it("grantBySig relayed by a third account: actor = relayer, version = the signed one (a signature)", async () => {
      const { registry, owner, grantee, relayer, domain } = await networkHelpers.loadFixture(fixture);
      const req = await signGrant(owner, domain, grantMessage(owner.address, grantee.address, { version: 7n }));

      await expect(registry.connect(relayer).grantBySig(req))
        .to.emit(registry, "ConsentGranted")
        .withArgs(owner.address, grantee.address, DATA, PURPOSES, EXPIRY, NOTICE, relayer.address, 7n);

      expect(await consentOf(registry, owner.address, grantee.address, DATA)).to.deep.equal([
        PURPOSES,
        EXPIRY,
        0n,
        7n,
        true,
      ]);
      expect(await registry.isAllowed(owner.address, grantee.address, DATA, Purpose.INFERENCE)).to.equal(true);
    });

    it("revokeBySig relayed by a third account withdraws the consent and keeps the signed version", async () => {
      const { registry, owner, grantee, relayer, domain } = await networkHelpers.loadFixture(fixture);
      await registry.connect(owner).grant(grantee.address, DATA, PURPOSES, NO_EXPIRY, NOTICE);
      // The transaction grant put the key in generation 1: the next signature is (1 << 16) + 1.
      const req = await signConsent(
        "Revoke",
        owner,
        domain,
        revokeMessage(owner.address, grantee.address, { version: (1n << 16n) + 1n }),
      );

      await expect(registry.connect(relayer).revokeBySig(req))
        .to.emit(registry, "ConsentRevoked")
        .withArgs(owner.address, grantee.address, DATA, relayer.address, (1n << 16n) + 1n);
      expect(await consentOf(registry, owner.address, grantee.address, DATA)).to.deep.equal([
        0n,
        0n,
        0n,
        (1n << 16n) + 1n,
        false,
      ]);
    });

    it("revokeAllBySig relayed by a third account starts a new epoch", async () => {
      const { registry, owner, grantee, relayer, domain } = await networkHelpers.loadFixture(fixture);
      await registry.connect(owner).grant(grantee.address, ALL_DATA, PURPOSES, NO_EXPIRY, NOTICE);
      const req = await signConsent("RevokeAll", owner, domain, revokeAllMessage(owner.address));

      await expect(registry.connect(relayer).revokeAllBySig(req))
        .to.emit(registry, "AllConsentsRevoked")
        .withArgs(owner.address, 1n, relayer.address, Via.Signature);
      expect(await registry.epochOf(owner.address)).to.equal(1n);
      expect(await registry.isAllowed(owner.address, grantee.address, DATA, Purpose.MODEL_TRAINING)).to.equal(false);
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
          .withArgs(owner.address, grantee.address, full.dataId, PURPOSES, EXPIRY, NOTICE, relayer.address, V1);
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
          .withArgs(owner.address, grantee.address, compact.dataId, PURPOSES, EXPIRY, NOTICE, relayer.address, V1);
        compactParities.add(getBytes(signed.signature)[64] - 27);
      }
    });

    it("withdrawal is as easy as giving: a signed grant is undone by a signed revoke", async () => {
      const { registry, owner, grantee, relayer, domain } = await networkHelpers.loadFixture(fixture);
      const grantReq = await signGrant(owner, domain, grantMessage(owner.address, grantee.address));
      const grantTx = await registry.connect(relayer).grantBySig(grantReq);
      const revokeReq = await signConsent(
        "Revoke",
        owner,
        domain,
        revokeMessage(owner.address, grantee.address, { version: 2n }),
      );
      const revokeTx = await registry.connect(relayer).revokeBySig(revokeReq);
      await expect(revokeTx)
        .to.emit(registry, "ConsentRevoked")
        .withArgs(owner.address, grantee.address, DATA, relayer.address, 2n);

      expect(await registry.isAllowed(owner.address, grantee.address, DATA, Purpose.MODEL_TRAINING)).to.equal(false);
      // Same path, same relayer, and not dearer than the grant.
      const grantGas = (await grantTx.wait())!.gasUsed;
      const revokeGas = (await revokeTx.wait())!.gasUsed;
      expect(revokeGas < grantGas).to.equal(true, `revoke ${revokeGas} gas vs grant ${grantGas} gas`);
    });
  });

  describe("replay and front-running", () => {
    it("replaying an applied signature is StaleSignature and cannot re-grant after a withdrawal", async () => {
      const { registry, owner, grantee, relayer, stranger, domain } = await networkHelpers.loadFixture(fixture);
      const req = await signGrant(owner, domain, grantMessage(owner.address, grantee.address));
      await registry.connect(relayer).grantBySig(req);
      // Replayed right away: version 1 is not above the key's version 1.
      await expect(registry.connect(stranger).grantBySig(req))
        .to.be.revertedWithCustomError(registry, "ConsentRegistryStaleSignature")
        .withArgs(owner.address, 0n, V1, 0n, V1);
      // After the owner's revoke (next generation), still refused.
      await registry.connect(owner).revoke(grantee.address, DATA);
      const before = await stateOf(registry, owner.address, grantee.address);
      for (const who of [relayer, stranger]) {
        await expect(registry.connect(who).grantBySig(req))
          .to.be.revertedWithCustomError(registry, "ConsentRegistryStaleSignature")
          .withArgs(owner.address, 0n, V1, 0n, 1n << 16n);
      }
      expect(await stateOf(registry, owner.address, grantee.address)).to.deep.equal(before);
      expect(before.consent).to.deep.equal([0n, 0n, 0n, 1n << 16n, false]);
    });

    it("a front-running relayer only gets the owner's exact message through; the victim relayer reverts", async () => {
      const { registry, owner, grantee, relayer, relayerB, domain } = await networkHelpers.loadFixture(fixture);
      const m = grantMessage(owner.address, grantee.address, { expiresAt: NO_EXPIRY });
      const req = await signGrant(owner, domain, m);

      await expect(registry.connect(relayerB).grantBySig(req))
        .to.emit(registry, "ConsentGranted")
        .withArgs(owner.address, grantee.address, DATA, PURPOSES, NO_EXPIRY, NOTICE, relayerB.address, V1);
      await expect(registry.connect(relayer).grantBySig(req))
        .to.be.revertedWithCustomError(registry, "ConsentRegistryStaleSignature")
        .withArgs(owner.address, 0n, V1, 0n, V1);

      expect(await consentOf(registry, owner.address, grantee.address, DATA)).to.deep.equal([
        PURPOSES,
        NO_EXPIRY,
        0n,
        V1,
        true,
      ]);
    });

    it("the same signature twice in one grantBySigBatch names item 1 and changes nothing", async () => {
      const { registry, owner, grantee, relayer, domain } = await networkHelpers.loadFixture(fixture);
      const req = await signGrant(owner, domain, grantMessage(owner.address, grantee.address));
      const before = await stateOf(registry, owner.address, grantee.address);

      await expect(registry.connect(relayer).grantBySigBatch([req, req]))
        .to.be.revertedWithCustomError(registry, "ConsentRegistryBatchItemFailed")
        .withArgs(1n, encodedError(registry, "ConsentRegistryStaleSignature", [owner.address, 0n, V1, 0n, V1]));
      expect(await stateOf(registry, owner.address, grantee.address)).to.deep.equal(before);
      expect(before.consent).to.deep.equal([0n, 0n, 0n, 0n, false]);
    });

    it("a replayed signed revoke-all is StaleSignature: it names the epoch it already ended", async () => {
      const { registry, owner, relayer, domain } = await networkHelpers.loadFixture(fixture);
      const req = await signConsent("RevokeAll", owner, domain, revokeAllMessage(owner.address));
      await registry.connect(relayer).revokeAllBySig(req);
      await expect(registry.connect(relayer).revokeAllBySig(req))
        .to.be.revertedWithCustomError(registry, "ConsentRegistryStaleSignature")
        .withArgs(owner.address, 0n, 0n, 1n, 0n);
      expect(await registry.epochOf(owner.address)).to.equal(1n);
    });
  });

  describe("domain binding", () => {
    it("a signature for another chain id is InvalidSignature(owner)", async () => {
      const { registry, owner, grantee, relayer, chainId } = await networkHelpers.loadFixture(fixture);
      const foreign = consentDomain(chainId + 1n, await registry.getAddress());
      const req = await signGrant(owner, foreign, grantMessage(owner.address, grantee.address));
      const before = await stateOf(registry, owner.address, grantee.address);

      await expect(registry.connect(relayer).grantBySig(req))
        .to.be.revertedWithCustomError(registry, "ConsentRegistryInvalidSignature")
        .withArgs(owner.address);
      expect(await stateOf(registry, owner.address, grantee.address)).to.deep.equal(before);
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
      const before = await stateOf(registry, owner.address, grantee.address);

      await expect(registry.connect(relayer).grantBySig(req))
        .to.be.revertedWithCustomError(registry, "ConsentRegistryInvalidSignature")
        .withArgs(owner.address);
      expect(await stateOf(registry, owner.address, grantee.address)).to.deep.equal(before);
      // Control: the very same request is a good signature for the deployment it names.
      await expect(other.connect(relayer).grantBySig(req)).to.emit(other, "ConsentGranted");
    });

    it("a signature of domain version 1 (registry 1.x) is InvalidSignature(owner)", async () => {
      const { registry, owner, grantee, relayer, domain } = await networkHelpers.loadFixture(fixture);
      const req = await signGrant(owner, { ...domain, version: "1" }, grantMessage(owner.address, grantee.address));
      await expect(registry.connect(relayer).grantBySig(req))
        .to.be.revertedWithCustomError(registry, "ConsentRegistryInvalidSignature")
        .withArgs(owner.address);
    });
  });

  describe("deadline (harness clock)", () => {
    it("now > deadline is SignatureExpired(deadline, now)", async () => {
      const { registry, owner, grantee, relayer, domain } = await networkHelpers.loadFixture(fixture);
      const req = await signGrant(owner, domain, grantMessage(owner.address, grantee.address, { deadline: NOW - 1n }));
      const before = await stateOf(registry, owner.address, grantee.address);

      await expect(registry.connect(relayer).grantBySig(req))
        .to.be.revertedWithCustomError(registry, "ConsentRegistrySignatureExpired")
        .withArgs(NOW - 1n, NOW);
      expect(await stateOf(registry, owner.address, grantee.address)).to.deep.equal(before);

      const revoke = await signConsent(
        "Revoke",
        owner,
        domain,
        revokeMessage(owner.address, grantee.address, { deadline: NOW - 1n }),
      );
      await expect(registry.connect(relayer).revokeBySig(revoke))
        .to.be.revertedWithCustomError(registry, "ConsentRegistrySignatureExpired")
        .withArgs(NOW - 1n, NOW);

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
        .withArgs(owner.address, grantee.address, DATA, PURPOSES, EXPIRY, NOTICE, relayer.address, V1);
    });
  });

  describe("content no state can make valid", () => {
    it("a signed grant with a zero grantee, a zero data id or no purposes is refused as such", async () => {
      const { registry, owner, relayer, domain } = await networkHelpers.loadFixture(fixture);
      const cases: [Partial<GrantMessage>, string][] = [
        [{ grantee: ethers.ZeroAddress }, "ConsentRegistryZeroGrantee"],
        [{ dataId: ethers.ZeroHash }, "ConsentRegistryZeroDataId"],
        [{ purposes: 0n }, "ConsentRegistryEmptyPurposes"],
      ];
      for (const [override, error] of cases) {
        const m = { ...grantMessage(owner.address, relayer.address), ...override };
        const req = await signGrant(owner, domain, m);
        await expect(registry.connect(relayer).grantBySig(req)).to.be.revertedWithCustomError(registry, error);
      }
      const revoke = await signConsent("Revoke", owner, domain, revokeMessage(owner.address, ethers.ZeroAddress));
      await expect(registry.connect(relayer).revokeBySig(revoke)).to.be.revertedWithCustomError(
        registry,
        "ConsentRegistryZeroGrantee",
      );
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
      const before = await stateOf(registry, owner.address, grantee.address);

      await expect(registry.connect(relayer).grantBySig({ ...req, signature: twin }))
        .to.be.revertedWithCustomError(registry, "ConsentRegistryInvalidSignature")
        .withArgs(owner.address);
      expect(await stateOf(registry, owner.address, grantee.address)).to.deep.equal(before);
      // The original still works afterwards: the twin burnt nothing.
      await expect(registry.connect(relayer).grantBySig(req)).to.emit(registry, "ConsentGranted");
    });

    it("v = 29, v = 0, and 63- or 66-byte signatures are InvalidSignature(owner)", async () => {
      const { registry, owner, grantee, relayer, domain } = await networkHelpers.loadFixture(fixture);
      const req = await signGrant(owner, domain, grantMessage(owner.address, grantee.address));
      const before = await stateOf(registry, owner.address, grantee.address);
      const mangled = [
        withV(req.signature, 29),
        withV(req.signature, 0),
        withV(req.signature, 1),
        dataSlice(req.signature, 0, 63),
        concat([req.signature, "0x00"]),
        "0x",
      ];
      for (const signature of mangled) {
        await expect(registry.connect(relayer).grantBySig({ ...req, signature }))
          .to.be.revertedWithCustomError(registry, "ConsentRegistryInvalidSignature")
          .withArgs(owner.address);
      }
      expect(await stateOf(registry, owner.address, grantee.address)).to.deep.equal(before);
    });

    it("a signature by someone other than the owner is InvalidSignature(owner)", async () => {
      const { registry, owner, grantee, relayer, stranger, domain } = await networkHelpers.loadFixture(fixture);
      const req = await signGrant(stranger, domain, grantMessage(owner.address, grantee.address));
      await expect(registry.connect(relayer).grantBySig(req))
        .to.be.revertedWithCustomError(registry, "ConsentRegistryInvalidSignature")
        .withArgs(owner.address);
      expect(await stateOf(registry, owner.address, grantee.address)).to.deep.equal({
        consent: [0n, 0n, 0n, 0n, false],
        epoch: 0n,
      });
    });

    it("owner A's signature submitted as owner B is InvalidSignature(B)", async () => {
      const { registry, owner, owner2, grantee, relayer, domain } = await networkHelpers.loadFixture(fixture);
      const req = await signGrant(owner, domain, grantMessage(owner.address, grantee.address));
      const before = await stateOf(registry, owner2.address, grantee.address);
      await expect(registry.connect(relayer).grantBySig({ ...req, owner: owner2.address }))
        .to.be.revertedWithCustomError(registry, "ConsentRegistryInvalidSignature")
        .withArgs(owner2.address);
      expect(await stateOf(registry, owner2.address, grantee.address)).to.deep.equal(before);

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
        { ...req, noticeHash: id("another notice") },
        { ...req, version: req.version + 1n },
        { ...req, deadline: req.deadline + 1n },
      ];
      for (const t of tampered) {
        await expect(registry.connect(relayer).grantBySig(t))
          .to.be.revertedWithCustomError(registry, "ConsentRegistryInvalidSignature")
          .withArgs(owner.address);
      }
      expect(await registry.isAllowed(owner.address, stranger.address, DATA, Purpose.MODEL_TRAINING)).to.equal(false);
      expect(await registry.isAllowed(owner.address, grantee.address, DATA, Purpose.THIRD_PARTY_SHARING)).to.equal(
        false,
      );
      // The untampered message still applies: nothing was consumed.
      await expect(registry.connect(relayer).grantBySig(req)).to.emit(registry, "ConsentGranted");
    });

    it("a Revoke signature cannot be passed off as a Grant with the same fields, nor a Grant as a Revoke", async () => {
      const { registry, owner, grantee, relayer, domain } = await networkHelpers.loadFixture(fixture);
      const revoke = await signConsent("Revoke", owner, domain, revokeMessage(owner.address, grantee.address));
      const forged: Signed<"Grant"> = { ...revoke, purposes: PURPOSES, expiresAt: NO_EXPIRY, noticeHash: NOTICE };
      await expect(registry.connect(relayer).grantBySig(forged))
        .to.be.revertedWithCustomError(registry, "ConsentRegistryInvalidSignature")
        .withArgs(owner.address);
      const grant = await signGrant(owner, domain, grantMessage(owner.address, grantee.address));
      await expect(registry.connect(relayer).revokeBySig(grant))
        .to.be.revertedWithCustomError(registry, "ConsentRegistryInvalidSignature")
        .withArgs(owner.address);
      expect(await stateOf(registry, owner.address, grantee.address)).to.deep.equal({
        consent: [0n, 0n, 0n, 0n, false],
        epoch: 0n,
      });
    });
  });

  describe("ERC-1271 smart-contract wallet owners", () => {
    it("CheckSigner mode accepts the wallet signer's signature", async () => {
      const { registry, wallet, walletSigner, grantee, relayer, domain } = await networkHelpers.loadFixture(fixture);
      const walletAddr = await wallet.getAddress();
      expect(await wallet.mode()).to.equal(BigInt(WalletMode.CheckSigner));
      const req = await signGrant(walletSigner, domain, grantMessage(walletAddr, grantee.address));
      await expect(registry.connect(relayer).grantBySig(req))
        .to.emit(registry, "ConsentGranted")
        .withArgs(walletAddr, grantee.address, DATA, PURPOSES, EXPIRY, NOTICE, relayer.address, V1);

      const revoke = await signConsent(
        "Revoke",
        walletSigner,
        domain,
        revokeMessage(walletAddr, grantee.address, { version: 2n }),
      );
      await expect(registry.connect(relayer).revokeBySig(revoke))
        .to.emit(registry, "ConsentRevoked")
        .withArgs(walletAddr, grantee.address, DATA, relayer.address, 2n);
    });

    it("AlwaysInvalid and Revert modes are InvalidSignature(wallet); the wallet's revert is caught", async () => {
      const { registry, wallet, walletSigner, grantee, relayer, domain } = await networkHelpers.loadFixture(fixture);
      const walletAddr = await wallet.getAddress();
      const req = await signGrant(walletSigner, domain, grantMessage(walletAddr, grantee.address));
      const before = await stateOf(registry, walletAddr, grantee.address);
      for (const mode of [WalletMode.AlwaysInvalid, WalletMode.Revert]) {
        await wallet.setMode(mode);
        await expect(registry.connect(relayer).grantBySig(req))
          .to.be.revertedWithCustomError(registry, "ConsentRegistryInvalidSignature")
          .withArgs(walletAddr);
        expect(await stateOf(registry, walletAddr, grantee.address)).to.deep.equal(before);
      }
    });

    it("an EOA signature by someone other than the wallet's signer is InvalidSignature(wallet)", async () => {
      const { registry, wallet, stranger, grantee, relayer, domain } = await networkHelpers.loadFixture(fixture);
      const walletAddr = await wallet.getAddress();
      const req = await signGrant(stranger, domain, grantMessage(walletAddr, grantee.address));
      await expect(registry.connect(relayer).grantBySig(req))
        .to.be.revertedWithCustomError(registry, "ConsentRegistryInvalidSignature")
        .withArgs(walletAddr);
      expect(await stateOf(registry, walletAddr, grantee.address)).to.deep.equal({
        consent: [0n, 0n, 0n, 0n, false],
        epoch: 0n,
      });
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
          .withArgs(o.address, grantee.address, DATA, PURPOSES, EXPIRY, NOTICE, relayer.address, V1);
      }
      for (const o of owners) {
        expect(await registry.activePurposes(o.address, grantee.address, DATA)).to.equal(PURPOSES);
      }
    });

    it("grantBySigBatch names the first failing item and is all or nothing", async () => {
      const { registry, owner, owner2, owner3, grantee, stranger, relayer, domain } =
        await networkHelpers.loadFixture(fixture);
      const good1 = await signGrant(owner, domain, grantMessage(owner.address, grantee.address));
      const good2 = await signGrant(owner2, domain, grantMessage(owner2.address, grantee.address));
      const forged = await signGrant(stranger, domain, grantMessage(owner3.address, grantee.address));
      const expired = await signGrant(
        owner,
        domain,
        grantMessage(owner.address, grantee.address, { dataId: OTHER_DATA, deadline: 1n }),
      );
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

      // Nothing of items 0 and 1 survived.
      for (const o of [owner, owner2]) {
        expect(await consentOf(registry, o.address, grantee.address, DATA)).to.deep.equal([0n, 0n, 0n, 0n, false]);
      }
      // The good items still work once the bad one is dropped.
      await expect(registry.connect(relayer).grantBySigBatch([good1, good2])).to.emit(registry, "ConsentGranted");
    });

    it("revokeBySigBatch applies every valid item, whatever the others: failures are returned and logged", async () => {
      const { registry, owner, owner2, owner3, grantee, stranger, relayer, domain } =
        await networkHelpers.loadFixture(fixture);
      const owners = [owner, owner2, owner3];
      for (const o of owners) await registry.connect(o).grant(grantee.address, DATA, PURPOSES, NO_EXPIRY, NOTICE);
      const G1 = 1n << 16n;
      const reqs = await Promise.all(
        owners.map((o) =>
          signConsent("Revoke", o, domain, revokeMessage(o.address, grantee.address, { version: G1 + 1n })),
        ),
      );
      // Three kinds of bad item another owner (or a griefer) can slip into a relayer's batch.
      const forged = await signConsent(
        "Revoke",
        stranger,
        domain,
        revokeMessage(owner3.address, grantee.address, { dataId: OTHER_DATA }),
      );
      const expired = await signConsent(
        "Revoke",
        owner2,
        domain,
        revokeMessage(owner2.address, grantee.address, { dataId: OTHER_DATA, deadline: NOW - 5n }),
      );
      const stale = await signConsent("Revoke", owner, domain, revokeMessage(owner.address, grantee.address));
      const batch = [reqs[0], forged, reqs[1], expired, stale, reqs[2]];
      const expectedFailures = [
        "0x",
        encodedError(registry, "ConsentRegistryInvalidSignature", [owner3.address]),
        "0x",
        encodedError(registry, "ConsentRegistrySignatureExpired", [NOW - 5n, NOW]),
        // Item 0 already moved the owner's key to G1 + 1 earlier in the same batch.
        encodedError(registry, "ConsentRegistryStaleSignature", [owner.address, 0n, V1, 0n, G1 + 1n]),
        "0x",
      ];
      expect(await registry.connect(relayer).revokeBySigBatch.staticCall(batch)).to.deep.equal(expectedFailures);

      const tx = registry.connect(relayer).revokeBySigBatch(batch);
      for (const o of owners) {
        await expect(tx)
          .to.emit(registry, "ConsentRevoked")
          .withArgs(o.address, grantee.address, DATA, relayer.address, G1 + 1n);
      }
      const receipt = await (await tx).wait();
      const failed = receipt!.logs
        .map((log) => registry.interface.parseLog(log))
        .filter((p) => p?.name === "SignedRevokeFailed")
        .map((p) => [...p!.args]);
      expect(failed).to.deep.equal([
        [owner3.address, grantee.address, OTHER_DATA, 1n, expectedFailures[1]],
        [owner2.address, grantee.address, OTHER_DATA, 3n, expectedFailures[3]],
        [owner.address, grantee.address, DATA, 4n, expectedFailures[4]],
      ]);
      for (const o of owners) {
        expect(await consentOf(registry, o.address, grantee.address, DATA)).to.deep.equal([0n, 0n, 0n, G1 + 1n, false]);
      }
      // The same batch again: every item is now stale or still bad, and the call still succeeds.
      const again = await registry.connect(relayer).revokeBySigBatch.staticCall(batch);
      expect(again[0]).to.equal(
        encodedError(registry, "ConsentRegistryStaleSignature", [owner.address, 0n, G1 + 1n, 0n, G1 + 1n]),
      );
      expect(again.every((f) => f !== "0x")).to.equal(true);
    });

    describe("an ERC-1271 wallet's check is capped per batch item", () => {
      /** A wallet owner whose isValidSignature burns `burn` gas, then checks `walletSigner`'s signature. */
      async function burner(walletSigner: HardhatEthersSigner, burn: bigint) {
        return (await ethers.deployContract("GasBurningERC1271WalletMock", [
          walletSigner.address,
          burn,
        ])) as unknown as GasBurningERC1271WalletMock;
      }

      /** The receipt's SignedRevokeFailed events as [owner, grantee, dataId, index, reason]. */
      async function failedItems(registry: ConsentRegistryHarness, tx: { wait(): Promise<unknown> }) {
        const receipt = (await tx.wait()) as { logs: Parameters<typeof registry.interface.parseLog>[0][] };
        return receipt.logs
          .map((log) => registry.interface.parseLog(log))
          .filter((p) => p?.name === "SignedRevokeFailed")
          .map((p) => [...p!.args]);
      }

      it("a wallet that loops fails only its own items (InvalidSignature) and costs at most its budget each", async () => {
        const { registry, owner, owner2, grantee, relayer, walletSigner, domain } =
          await networkHelpers.loadFixture(fixture);
        const looper = await burner(walletSigner, BURN_ALL);
        const looperAddr = await looper.getAddress();
        const G1 = 1n << 16n;
        for (const o of [owner, owner2])
          await registry.connect(o).grant(grantee.address, DATA, PURPOSES, NO_EXPIRY, NOTICE);
        const honest = await Promise.all(
          [owner, owner2].map((o) =>
            signConsent("Revoke", o, domain, revokeMessage(o.address, grantee.address, { version: G1 + 1n })),
          ),
        );
        // A correctly signed message of the looping wallet: its check never answers.
        const evil = await signConsent("Revoke", walletSigner, domain, revokeMessage(looperAddr, grantee.address));
        const batch = [honest[0], evil, evil, evil, honest[1]];
        const invalid = encodedError(registry, "ConsentRegistryInvalidSignature", [looperAddr]);
        // Before the cap, each looping item took 63/64 of the gas left and this batch ran out of gas.
        const tx = await registry.connect(relayer).revokeBySigBatch(batch, { gasLimit: 2_000_000 });
        for (const o of [owner, owner2]) {
          await expect(tx)
            .to.emit(registry, "ConsentRevoked")
            .withArgs(o.address, grantee.address, DATA, relayer.address, G1 + 1n);
        }
        expect(await failedItems(registry, tx)).to.deep.equal([
          [looperAddr, grantee.address, DATA, 1n, invalid],
          [looperAddr, grantee.address, DATA, 2n, invalid],
          [looperAddr, grantee.address, DATA, 3n, invalid],
        ]);
        for (const o of [owner, owner2]) {
          expect(await registry.isAllowed(o.address, grantee.address, DATA, Purpose.MODEL_TRAINING)).to.equal(false);
        }
        // Each looping item cost its budget plus the item's own overhead, no more.
        const gasUsed = (await tx.wait())!.gasUsed;
        expect(gasUsed > 3n * BATCH_WALLET_GAS).to.equal(true);
        expect(gasUsed < 3n * BATCH_WALLET_GAS + 150_000n, `gas used ${gasUsed}`).to.equal(true);
      });

      it("a wallet within the budget applies in a batch; one above it fails there, and applies relayed alone", async () => {
        const { registry, owner, grantee, relayer, walletSigner, domain } = await networkHelpers.loadFixture(fixture);
        const G1 = 1n << 16n;
        await registry.connect(owner).grant(grantee.address, DATA, PURPOSES, NO_EXPIRY, NOTICE);
        const honest = await signConsent(
          "Revoke",
          owner,
          domain,
          revokeMessage(owner.address, grantee.address, { version: G1 + 1n }),
        );
        const cheap = await burner(walletSigner, BATCH_WALLET_GAS - 100_000n);
        const costly = await burner(walletSigner, BATCH_WALLET_GAS + 100_000n);
        const cheapAddr = await cheap.getAddress();
        const costlyAddr = await costly.getAddress();
        const cheapRevoke = await signConsent(
          "Revoke",
          walletSigner,
          domain,
          revokeMessage(cheapAddr, grantee.address),
        );
        const costlyRevoke = await signConsent(
          "Revoke",
          walletSigner,
          domain,
          revokeMessage(costlyAddr, grantee.address),
        );
        const batch = [costlyRevoke, cheapRevoke, honest];
        const expected = [encodedError(registry, "ConsentRegistryInvalidSignature", [costlyAddr]), "0x", "0x"];
        expect(await registry.connect(relayer).revokeBySigBatch.staticCall(batch)).to.deep.equal(expected);
        const tx = await registry.connect(relayer).revokeBySigBatch(batch);
        await expect(tx)
          .to.emit(registry, "ConsentRevoked")
          .withArgs(cheapAddr, grantee.address, DATA, relayer.address, V1);
        await expect(tx)
          .to.emit(registry, "ConsentRevoked")
          .withArgs(owner.address, grantee.address, DATA, relayer.address, G1 + 1n);
        expect(await failedItems(registry, tx)).to.deep.equal([[costlyAddr, grantee.address, DATA, 0n, expected[0]]]);
        expect(await consentOf(registry, costlyAddr, grantee.address, DATA)).to.deep.equal([0n, 0n, 0n, 0n, false]);
        // The single-item path does not cap the wallet: its sender chooses the gas.
        await expect(registry.connect(relayer).revokeBySig(costlyRevoke))
          .to.emit(registry, "ConsentRevoked")
          .withArgs(costlyAddr, grantee.address, DATA, relayer.address, V1);
        expect(await consentOf(registry, costlyAddr, grantee.address, DATA)).to.deep.equal([0n, 0n, 0n, V1, false]);
      });

      it("a batch sent with too little gas for a wallet's budget fails whole, never reporting its valid signature invalid", async () => {
        const { registry, grantee, relayer, walletSigner, domain } = await networkHelpers.loadFixture(fixture);
        const wallet = await burner(walletSigner, BATCH_WALLET_GAS - 100_000n);
        const walletAddr = await wallet.getAddress();
        const revoke = await signConsent("Revoke", walletSigner, domain, revokeMessage(walletAddr, grantee.address));
        // Enough for everything around the check, not for the wallet's 400,000: it runs out inside.
        await expect(registry.connect(relayer).revokeBySigBatch([revoke], { gasLimit: 400_000 })).to.be.revert(ethers);
        expect(await consentOf(registry, walletAddr, grantee.address, DATA)).to.deep.equal([0n, 0n, 0n, 0n, false]);
        // With the gas it needs, the same batch applies the item.
        await expect(registry.connect(relayer).revokeBySigBatch([revoke], { gasLimit: 1_000_000 }))
          .to.emit(registry, "ConsentRevoked")
          .withArgs(walletAddr, grantee.address, DATA, relayer.address, V1);
      });
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
