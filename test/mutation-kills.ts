import { expect } from "chai";
import { ZeroAddress, id } from "ethers";
import { network } from "hardhat";

import { NO_EXPIRY, Via, viaOf } from "../src/sdk/constants.js";
import { consentDomain, signConsent } from "../src/sdk/eip712.js";
import type { GrantMessage, RevokeMessage } from "../src/sdk/eip712.js";
import { Purpose } from "../src/sdk/purposes.js";
import type { ERC1271WalletMock, TrainingJobBoard } from "../types/ethers-contracts/index.js";
import { consentOf, deploySystem } from "./helpers/fixture.js";

/**
 * Behaviour that a mutant of `contracts/` (scripts/lib/mutants.ts, `npm run test:mutation`) once
 * survived: each test names the mutant(s) it kills. Functional assertions only (exact values,
 * custom errors with their arguments, events with their arguments), never gas.
 */
const { ethers, networkHelpers } = await network.create();

/** A fixed harness time, so every boundary is exact. */
const NOW = 2_000_000_000n;
const DATA = id("mutation:asset");
const NOTICE = id("mutation:notice");
const bit = (purpose: number): bigint => 1n << BigInt(purpose);
const TRAIN = Purpose.MODEL_TRAINING;
const INFER = Purpose.INFERENCE;
/** The first version of generation `n` (what the n-th transaction change of a key sets). */
const GEN = (n: bigint): bigint => n << 16n;

async function fixture() {
  const system = await deploySystem(ethers);
  const [owner, grantee, relayer, manager, other] = system.accounts;
  await system.registry.setTime(NOW);
  const { chainId } = await ethers.provider.getNetwork();
  const domain = consentDomain(chainId, await system.registry.getAddress());
  return { ...system, owner, grantee, relayer, manager, other, domain };
}

function grantMessage(owner: string, grantee: string, overrides: Partial<GrantMessage> = {}): GrantMessage {
  return {
    owner,
    grantee,
    dataId: DATA,
    purposes: bit(TRAIN),
    expiresAt: NOW + 1_000n,
    noticeHash: NOTICE,
    epoch: 0n,
    version: 1n,
    deadline: NOW + 60n,
    ...overrides,
  };
}

function revokeMessage(owner: string, grantee: string, overrides: Partial<RevokeMessage> = {}): RevokeMessage {
  return { owner, grantee, dataId: DATA, epoch: 0n, version: 1n, deadline: NOW + 60n, ...overrides };
}

describe("mutation kills: behaviour only a mutant of contracts/ showed untested", () => {
  describe("signed messages", () => {
    // registry/revokeBySig-deadline-inclusive, registry/revokeAllBySig-deadline-inclusive
    it("a signed revoke and a signed RevokeAll are valid AT their deadline second", async () => {
      const { registry, owner, grantee, relayer, domain } = await networkHelpers.loadFixture(fixture);
      await registry.connect(owner).grant(grantee.address, DATA, bit(TRAIN), NO_EXPIRY, NOTICE);

      const revoke = await signConsent(
        "Revoke",
        owner,
        domain,
        revokeMessage(owner.address, grantee.address, { version: GEN(1n) + 1n, deadline: NOW }),
      );
      await expect(registry.connect(relayer).revokeBySig(revoke))
        .to.emit(registry, "ConsentRevoked")
        .withArgs(owner.address, grantee.address, DATA, relayer.address, GEN(1n) + 1n);
      expect(await consentOf(registry, owner.address, grantee.address, DATA)).to.deep.equal([
        0n,
        0n,
        0n,
        GEN(1n) + 1n,
        false,
      ]);

      const revokeAll = await signConsent("RevokeAll", owner, domain, {
        owner: owner.address,
        epoch: 0n,
        deadline: NOW,
      });
      await expect(registry.connect(relayer).revokeAllBySig(revokeAll))
        .to.emit(registry, "AllConsentsRevoked")
        .withArgs(owner.address, 1n, relayer.address, Via.Signature);
      expect(await registry.epochOf(owner.address)).to.equal(1n);
    });

    // sig/recover-error-ignored: a garbage signature "recovers" address(0); nobody may act as it.
    it("nobody acts for owner address(0): any signature naming it is InvalidSignature(0x0)", async () => {
      const { registry, grantee, relayer, domain } = await networkHelpers.loadFixture(fixture);
      const garbage = `0x${"00".repeat(65)}`;
      const grant = { ...grantMessage(ZeroAddress, grantee.address), signature: garbage };
      await expect(registry.connect(relayer).grantBySig(grant))
        .to.be.revertedWithCustomError(registry, "ConsentRegistryInvalidSignature")
        .withArgs(ZeroAddress);
      const revoke = { ...revokeMessage(ZeroAddress, grantee.address), signature: garbage };
      await expect(registry.connect(relayer).revokeBySig(revoke))
        .to.be.revertedWithCustomError(registry, "ConsentRegistryInvalidSignature")
        .withArgs(ZeroAddress);
      const revokeAll = { owner: ZeroAddress, epoch: 0n, deadline: NOW, signature: garbage };
      await expect(registry.connect(relayer).revokeAllBySig(revokeAll))
        .to.be.revertedWithCustomError(registry, "ConsentRegistryInvalidSignature")
        .withArgs(ZeroAddress);
      // A well-formed signature by a real key over a message naming 0x0 is refused the same way.
      const signed = await signConsent("Grant", relayer, domain, grantMessage(ZeroAddress, grantee.address));
      await expect(registry.connect(relayer).grantBySig(signed))
        .to.be.revertedWithCustomError(registry, "ConsentRegistryInvalidSignature")
        .withArgs(ZeroAddress);
      expect(await consentOf(registry, ZeroAddress, grantee.address, DATA)).to.deep.equal([0n, 0n, 0n, 0n, false]);
      expect(await registry.epochOf(ZeroAddress)).to.equal(0n);
    });
  });

  describe("events name the actor", () => {
    // registry/grantIn-actor-is-origin
    it("a manager that is a contract is the actor of its grantFor, not the account behind the transaction", async () => {
      const { registry, owner, grantee, manager: walletSigner } = await networkHelpers.loadFixture(fixture);
      const wallet = (await ethers.deployContract("ERC1271WalletMock", [
        walletSigner.address,
      ])) as unknown as ERC1271WalletMock;
      const walletAddress = await wallet.getAddress();
      await registry.connect(owner).setManager(walletAddress, true);
      const call = registry.interface.encodeFunctionData("grantFor", [
        owner.address,
        grantee.address,
        DATA,
        bit(TRAIN),
        NO_EXPIRY,
        NOTICE,
      ]);
      await expect(wallet.connect(walletSigner).execute(await registry.getAddress(), call))
        .to.emit(registry, "ConsentGranted")
        .withArgs(owner.address, grantee.address, DATA, bit(TRAIN), NO_EXPIRY, NOTICE, walletAddress, GEN(1n));
      expect(viaOf(owner.address, walletAddress, GEN(1n))).to.equal(Via.Manager);
    });
  });

  describe("narrowing a consent with no expiry after a deprecation", () => {
    /** {TRAIN, INFER} with NO_EXPIRY, then governance deprecates INFER. */
    async function noExpiryFixture() {
      const f = await fixture();
      await f.registry.connect(f.owner).grant(f.grantee.address, DATA, bit(TRAIN) | bit(INFER), NO_EXPIRY, NOTICE);
      await f.registry.connect(f.admin).deprecatePurpose(INFER);
      return f;
    }

    // registry/keepable-old-no-expiry
    it("keeps the deprecated purpose with NO_EXPIRY again, or with any finite expiry", async () => {
      const { registry, owner, grantee } = await networkHelpers.loadFixture(noExpiryFixture);
      await expect(registry.connect(owner).grant(grantee.address, DATA, bit(INFER), NO_EXPIRY, NOTICE))
        .to.emit(registry, "ConsentGranted")
        .withArgs(owner.address, grantee.address, DATA, bit(INFER), NO_EXPIRY, NOTICE, owner.address, GEN(2n));
      expect(await consentOf(registry, owner.address, grantee.address, DATA)).to.deep.equal([
        bit(INFER),
        NO_EXPIRY,
        0n,
        GEN(2n),
        true,
      ]);
      const fresh = await networkHelpers.loadFixture(noExpiryFixture);
      await fresh.registry.connect(fresh.owner).grant(fresh.grantee.address, DATA, bit(INFER), NOW + 5n, NOTICE);
      expect(await consentOf(fresh.registry, fresh.owner.address, fresh.grantee.address, DATA)).to.deep.equal([
        bit(INFER),
        NOW + 5n,
        0n,
        GEN(2n),
        true,
      ]);
    });
  });

  describe("purpose catalogue", () => {
    // catalog/deprecate-127-refused
    it("the top purpose id, 127, can be defined, granted, deprecated, and then no longer granted", async () => {
      const { registry, admin, owner, grantee } = await networkHelpers.loadFixture(fixture);
      await registry.connect(admin).definePurpose(127, id("purpose:127"));
      await registry.connect(owner).grant(grantee.address, DATA, bit(127), NO_EXPIRY, NOTICE);
      await expect(registry.connect(admin).deprecatePurpose(127)).to.emit(registry, "PurposeDeprecated").withArgs(127);
      expect((await registry.grantablePurposes()) & bit(127)).to.equal(0n);
      expect((await registry.definedPurposes()) & bit(127)).to.equal(bit(127));
      await expect(registry.connect(owner).grant(grantee.address, id("mutation:other"), bit(127), NO_EXPIRY, NOTICE))
        .to.be.revertedWithCustomError(registry, "ConsentRegistryPurposeNotGrantable")
        .withArgs(bit(127), bit(127));
      // The consent granted before the deprecation still allows it.
      expect(await registry.isAllowed(owner.address, grantee.address, DATA, 127)).to.equal(true);
    });
  });

  describe("TrainingJobBoard", () => {
    // board/purpose-127-refused
    it("runs a job for the top purpose id, 127, once governance defines it", async () => {
      const { registry, admin, owner, grantee: processor, other: creator } = await networkHelpers.loadFixture(fixture);
      const board = (await ethers.deployContract("TrainingJobBoard", [
        await registry.getAddress(),
      ])) as unknown as TrainingJobBoard;
      await expect(board.connect(creator)["createJob(address,uint8)"](processor.address, 127))
        .to.emit(board, "JobCreated")
        .withArgs(1n, creator.address, processor.address, 127);
      await registry.connect(admin).definePurpose(127, id("purpose:127"));
      await registry.connect(owner).grant(processor.address, DATA, bit(127), NO_EXPIRY, NOTICE);
      await expect(board.connect(creator).addData(1n, owner.address, DATA))
        .to.emit(board, "DataAdded")
        .withArgs(1n, owner.address, DATA);
      expect(await board.stillConsented(1n, 0n)).to.equal(true);
    });
  });
});
