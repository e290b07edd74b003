import { expect } from "chai";
import { ZeroAddress, ZeroHash, id } from "ethers";
import { network } from "hardhat";

import { ALL_DATA, NO_EXPIRY } from "../../src/sdk/constants.js";
import { Purpose, purposesToMask } from "../../src/sdk/purposes.js";
import type { TrainingJobBoard } from "../../types/ethers-contracts/index.js";
import { deploySystem } from "../helpers/fixture.js";

const { ethers } = await network.create();

const PHOTOS = id("dataset:alice:photos");
const VOICE = id("dataset:alice:voice");
const BOB_TEXT = id("dataset:bob:text");
const NOTICE = id("notice:v1");
const TRAINING = Purpose.MODEL_TRAINING;
const RESEARCH = Purpose.RESEARCH;

async function setup() {
  const system = await deploySystem(ethers);
  const [creator, processor, alice, bob, stranger] = system.accounts;
  const board = (await ethers.deployContract("TrainingJobBoard", [
    await system.registry.getAddress(),
  ])) as unknown as TrainingJobBoard;
  return { ...system, creator, processor, alice, bob, stranger, board };
}

describe("TrainingJobBoard (example dApp gated on consent)", () => {
  describe("createJob", () => {
    it("numbers jobs from 1, defaults to MODEL_TRAINING and emits JobCreated", async () => {
      const { registry, creator, processor, stranger, board } = await setup();
      expect(await board.consentRegistry()).to.equal(await registry.getAddress());
      expect(await board.jobCount()).to.equal(0n);

      await expect(board.connect(creator)["createJob(address)"](processor.address))
        .to.emit(board, "JobCreated")
        .withArgs(1n, creator.address, processor.address, TRAINING);
      await expect(board.connect(stranger)["createJob(address,uint8)"](processor.address, RESEARCH))
        .to.emit(board, "JobCreated")
        .withArgs(2n, stranger.address, processor.address, RESEARCH);

      expect(await board.jobCount()).to.equal(2n);
      const job = await board.getJob(1n);
      expect([job.creator, job.processor, job.purpose, job.contributors]).to.deep.equal([
        creator.address,
        processor.address,
        BigInt(TRAINING),
        0n,
      ]);
      expect((await board.getJob(2n)).purpose).to.equal(BigInt(RESEARCH));
      expect(await board.contributors(1n)).to.equal(0n);
      expect(await board.dataCount(1n)).to.equal(0n);
    });

    it("rejects a zero processor and a purpose above 127", async () => {
      const { processor, board } = await setup();
      await expect(board["createJob(address)"](ZeroAddress)).to.be.revertedWithCustomError(
        board,
        "TrainingJobBoardZeroProcessor",
      );
      await expect(board["createJob(address,uint8)"](processor.address, 128))
        .to.be.revertedWithCustomError(board, "TrainingJobBoardPurposeOutOfRange")
        .withArgs(128);
      expect(await board.jobCount()).to.equal(0n);
    });

    it("unknown job ids revert with UnknownJob in every view", async () => {
      const { processor, board } = await setup();
      await board["createJob(address)"](processor.address);
      for (const jobId of [0n, 2n]) {
        await expect(board.getJob(jobId))
          .to.be.revertedWithCustomError(board, "TrainingJobBoardUnknownJob")
          .withArgs(jobId);
        await expect(board.contributors(jobId))
          .to.be.revertedWithCustomError(board, "TrainingJobBoardUnknownJob")
          .withArgs(jobId);
        await expect(board.dataCount(jobId))
          .to.be.revertedWithCustomError(board, "TrainingJobBoardUnknownJob")
          .withArgs(jobId);
        await expect(board.dataItem(jobId, 0n))
          .to.be.revertedWithCustomError(board, "TrainingJobBoardUnknownJob")
          .withArgs(jobId);
        await expect(board.stillConsented(jobId, 0n))
          .to.be.revertedWithCustomError(board, "TrainingJobBoardUnknownJob")
          .withArgs(jobId);
      }
    });
  });

  describe("addData", () => {
    it("accepts an item the owner consented to for the job's processor and purpose", async () => {
      const { registry, creator, processor, alice, bob, board } = await setup();
      await board.connect(creator)["createJob(address)"](processor.address);
      await registry.connect(alice).grant(processor.address, PHOTOS, purposesToMask([TRAINING]), NO_EXPIRY, NOTICE);
      await registry.connect(alice).grant(processor.address, VOICE, purposesToMask([TRAINING]), NO_EXPIRY, NOTICE);
      await registry.connect(bob).grant(processor.address, BOB_TEXT, purposesToMask([TRAINING]), NO_EXPIRY, NOTICE);

      await expect(board.connect(creator).addData(1n, alice.address, PHOTOS))
        .to.emit(board, "DataAdded")
        .withArgs(1n, alice.address, PHOTOS);
      await board.connect(creator).addData(1n, alice.address, VOICE);
      await board.connect(creator).addData(1n, bob.address, BOB_TEXT);

      // Two distinct owners, three items, in insertion order.
      expect(await board.contributors(1n)).to.equal(2n);
      expect((await board.getJob(1n)).contributors).to.equal(2n);
      expect(await board.dataCount(1n)).to.equal(3n);
      const items = await Promise.all([0n, 1n, 2n].map((i) => board.dataItem(1n, i)));
      expect(items.map((item) => [item.owner, item.dataId])).to.deep.equal([
        [alice.address, PHOTOS],
        [alice.address, VOICE],
        [bob.address, BOB_TEXT],
      ]);
      await expect(board.dataItem(1n, 3n))
        .to.be.revertedWithCustomError(board, "TrainingJobBoardIndexOutOfRange")
        .withArgs(1n, 3n, 3n);
    });

    it("checks the job's processor, not the creator who calls", async () => {
      const { registry, creator, processor, alice, board } = await setup();
      await board.connect(creator)["createJob(address)"](processor.address);
      // Consent to the creator is not consent to the processor.
      await registry.connect(alice).grant(creator.address, PHOTOS, purposesToMask([TRAINING]), NO_EXPIRY, NOTICE);

      await expect(board.connect(creator).addData(1n, alice.address, PHOTOS))
        .to.be.revertedWithCustomError(board, "ConsentGatedConsentRequired")
        .withArgs(alice.address, processor.address, PHOTOS, TRAINING);
    });

    it("checks the job's purpose", async () => {
      const { registry, creator, processor, alice, board } = await setup();
      await board.connect(creator)["createJob(address,uint8)"](processor.address, RESEARCH);
      await registry.connect(alice).grant(processor.address, PHOTOS, purposesToMask([TRAINING]), NO_EXPIRY, NOTICE);

      await expect(board.connect(creator).addData(1n, alice.address, PHOTOS))
        .to.be.revertedWithCustomError(board, "ConsentGatedConsentRequired")
        .withArgs(alice.address, processor.address, PHOTOS, RESEARCH);

      await registry
        .connect(alice)
        .grant(processor.address, PHOTOS, purposesToMask([TRAINING, RESEARCH]), NO_EXPIRY, NOTICE);
      await expect(board.connect(creator).addData(1n, alice.address, PHOTOS))
        .to.emit(board, "DataAdded")
        .withArgs(1n, alice.address, PHOTOS);
    });

    it("an ALL_DATA consent covers any of the owner's data ids", async () => {
      const { registry, creator, processor, alice, board } = await setup();
      await board.connect(creator)["createJob(address)"](processor.address);
      await registry.connect(alice).grant(processor.address, ALL_DATA, purposesToMask([TRAINING]), NO_EXPIRY, NOTICE);

      for (const dataId of [PHOTOS, VOICE, ALL_DATA]) {
        await expect(board.connect(creator).addData(1n, alice.address, dataId))
          .to.emit(board, "DataAdded")
          .withArgs(1n, alice.address, dataId);
      }
      expect(await board.contributors(1n)).to.equal(1n);
      expect(await board.dataCount(1n)).to.equal(3n);
    });

    it("refuses once consent is withdrawn (revoke, revoke-all) or expired", async () => {
      const { registry, creator, processor, alice, board } = await setup();
      await board.connect(creator)["createJob(address)"](processor.address);
      const mask = purposesToMask([TRAINING]);
      const refused = (dataId: string) =>
        expect(board.connect(creator).addData(1n, alice.address, dataId))
          .to.be.revertedWithCustomError(board, "ConsentGatedConsentRequired")
          .withArgs(alice.address, processor.address, dataId, TRAINING);

      await registry.connect(alice).grant(processor.address, PHOTOS, mask, NO_EXPIRY, NOTICE);
      await registry.connect(alice).revoke(processor.address, PHOTOS);
      await refused(PHOTOS);

      await registry.connect(alice).grant(processor.address, ALL_DATA, mask, NO_EXPIRY, NOTICE);
      await registry.connect(alice).revokeAll();
      await refused(VOICE);

      const now = 2_000_000_000n;
      await registry.setTime(now);
      await registry.connect(alice).grant(processor.address, VOICE, mask, now + 60n, NOTICE);
      await registry.setTime(now + 60n);
      await refused(VOICE);
      expect(await board.dataCount(1n)).to.equal(0n);
      expect(await board.contributors(1n)).to.equal(0n);
    });

    it("only the creator may add, to an existing job, a non-zero data id, once", async () => {
      const { registry, creator, processor, alice, stranger, board } = await setup();
      await board.connect(creator)["createJob(address)"](processor.address);
      await registry.connect(alice).grant(processor.address, ALL_DATA, purposesToMask([TRAINING]), NO_EXPIRY, NOTICE);

      await expect(board.connect(stranger).addData(1n, alice.address, PHOTOS))
        .to.be.revertedWithCustomError(board, "TrainingJobBoardNotCreator")
        .withArgs(1n, stranger.address);
      // Even the processor, who holds the consent, does not curate the job.
      await expect(board.connect(processor).addData(1n, alice.address, PHOTOS))
        .to.be.revertedWithCustomError(board, "TrainingJobBoardNotCreator")
        .withArgs(1n, processor.address);
      await expect(board.connect(creator).addData(7n, alice.address, PHOTOS))
        .to.be.revertedWithCustomError(board, "TrainingJobBoardUnknownJob")
        .withArgs(7n);
      // bytes32(0) names no data asset; refused by the board before asking the registry.
      await expect(board.connect(creator).addData(1n, alice.address, ZeroHash)).to.be.revertedWithCustomError(
        board,
        "TrainingJobBoardZeroDataId",
      );

      await board.connect(creator).addData(1n, alice.address, PHOTOS);
      await expect(board.connect(creator).addData(1n, alice.address, PHOTOS))
        .to.be.revertedWithCustomError(board, "TrainingJobBoardDuplicateData")
        .withArgs(1n, alice.address, PHOTOS);
      expect(await board.dataCount(1n)).to.equal(1n);
    });

    it("jobs are independent: the same item can join two jobs, each checked on its own terms", async () => {
      const { registry, creator, processor, alice, stranger, board } = await setup();
      await board.connect(creator)["createJob(address)"](processor.address);
      await board.connect(creator)["createJob(address)"](stranger.address);
      await registry.connect(alice).grant(processor.address, PHOTOS, purposesToMask([TRAINING]), NO_EXPIRY, NOTICE);

      await board.connect(creator).addData(1n, alice.address, PHOTOS);
      await expect(board.connect(creator).addData(2n, alice.address, PHOTOS))
        .to.be.revertedWithCustomError(board, "ConsentGatedConsentRequired")
        .withArgs(alice.address, stranger.address, PHOTOS, TRAINING);
      await registry.connect(alice).grant(stranger.address, PHOTOS, purposesToMask([TRAINING]), NO_EXPIRY, NOTICE);
      await board.connect(creator).addData(2n, alice.address, PHOTOS);
      expect([await board.contributors(1n), await board.contributors(2n)]).to.deep.equal([1n, 1n]);
    });
  });

  describe("after an item joined", () => {
    it("stillConsented follows the owner's consent, and the registry refuses the processor's record", async () => {
      const { registry, creator, processor, alice, board } = await setup();
      await board.connect(creator)["createJob(address)"](processor.address);
      await registry.connect(alice).grant(processor.address, PHOTOS, purposesToMask([TRAINING]), NO_EXPIRY, NOTICE);
      await board.connect(creator).addData(1n, alice.address, PHOTOS);
      const evidence = id("job:1:run:1");

      expect(await board.stillConsented(1n, 0n)).to.equal(true);
      await expect(registry.connect(processor).recordUse(alice.address, PHOTOS, TRAINING, evidence))
        .to.emit(registry, "DataUsed")
        .withArgs(alice.address, processor.address, PHOTOS, TRAINING, evidence);

      await registry.connect(alice).revoke(processor.address, PHOTOS);
      expect(await board.stillConsented(1n, 0n)).to.equal(false);
      // The item stays listed (membership is history), but the use is no longer covered.
      expect(await board.dataCount(1n)).to.equal(1n);
      await expect(registry.connect(processor).recordUse(alice.address, PHOTOS, TRAINING, evidence))
        .to.be.revertedWithCustomError(registry, "ConsentRegistryConsentRequired")
        .withArgs(alice.address, processor.address, PHOTOS, TRAINING);

      // Granting again re-covers the same item.
      await registry.connect(alice).grant(processor.address, PHOTOS, purposesToMask([TRAINING]), NO_EXPIRY, NOTICE);
      expect(await board.stillConsented(1n, 0n)).to.equal(true);
      await expect(board.stillConsented(1n, 1n))
        .to.be.revertedWithCustomError(board, "TrainingJobBoardIndexOutOfRange")
        .withArgs(1n, 1n, 1n);
    });

    it("the board never writes to the registry: adding data emits only the board's event", async () => {
      const { registry, creator, processor, alice, board } = await setup();
      await board.connect(creator)["createJob(address)"](processor.address);
      await registry.connect(alice).grant(processor.address, PHOTOS, purposesToMask([TRAINING]), NO_EXPIRY, NOTICE);
      const receipt = await (await board.connect(creator).addData(1n, alice.address, PHOTOS)).wait();
      expect(receipt?.logs.map((log) => log.address)).to.deep.equal([await board.getAddress()]);
    });
  });
});
