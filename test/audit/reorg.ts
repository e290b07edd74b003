import { expect } from "chai";
import { network } from "hardhat";

import { type AuditStore, syncEvents, verifyHistory } from "../../src/audit/index.js";
import { ALL_DATA, NO_EXPIRY } from "../../src/sdk/constants.js";
import { deploySystem } from "../helpers/fixture.js";
import { backends } from "./helpers/stores.js";

const { ethers, networkHelpers } = await network.create();

/** (block, logIndex, blockHash, txHash) of every stored row, in chain order. */
async function stored(db: AuditStore) {
  return (await db.eventsInRange(31337, 0, Number.MAX_SAFE_INTEGER)).map(
    ({ block_number, log_index, block_hash, tx_hash, event_name }) => ({
      block_number,
      log_index,
      block_hash,
      tx_hash,
      event_name,
    }),
  );
}

for (const backend of backends())
  describe(`audit: reorg handling (${backend.name})`, function () {
    this.timeout(60_000);

    for (const shape of ["longer", "shorter"] as const) {
      it(`rewinds to the common ancestor and resyncs when the chain is replaced by a ${shape} fork`, async () => {
        const { accounts, registry, integrations, manager } = await deploySystem(ethers);
        const [owner, processor, other] = accounts;
        const addr = await registry.getAddress();
        const data = ethers.id("asset");
        await registry.connect(owner).grant(processor.address, ALL_DATA, 0b111n, NO_EXPIRY, ethers.ZeroHash);
        await registry.connect(processor).recordUse(owner.address, data, 1, ethers.id("before-fork"));
        const db = await backend.open();
        await syncEvents({ db, rpc: ethers.provider, registry: addr, progress: "none" });
        const forkPoint = await ethers.provider.getBlockNumber();

        const snapshot = await networkHelpers.takeSnapshot();
        // Branch A: three uses and a revocation, then 5 empty blocks.
        for (let i = 0; i < 3; i++)
          await registry.connect(processor).recordUse(owner.address, data, 0, ethers.id(`a${i}`));
        await registry.connect(owner).revoke(processor.address, ALL_DATA);
        await networkHelpers.mine(5);
        const a = await syncEvents({ db, rpc: ethers.provider, registry: addr, progress: "none", initialRange: 3 });
        expect(a.reorgs).to.equal(0);
        expect(a.inserted).to.equal(4);
        const branchAHead = await ethers.provider.getBlockNumber();

        await snapshot.restore();
        // Branch B: a different history at the same heights.
        await registry.connect(owner).grant(other.address, data, 0b10n, NO_EXPIRY, ethers.ZeroHash);
        await registry.connect(other).recordUse(owner.address, data, 1, ethers.id("b0"));
        if (shape === "longer") await networkHelpers.mine(20);
        const headB = await ethers.provider.getBlockNumber();
        expect(headB > branchAHead).to.equal(shape === "longer");

        const b = await syncEvents({ db, rpc: ethers.provider, registry: addr, progress: "none" });
        expect(b.reorgs).to.equal(1);
        expect(b.toBlock).to.equal(headB);
        const chain = await ethers.provider.getLogs({
          address: [addr, await integrations.getAddress(), await manager.getAddress()],
          fromBlock: 0,
          toBlock: headB,
        });
        expect((await stored(db)).map((r) => [r.block_number, r.log_index, r.block_hash, r.tx_hash])).to.deep.equal(
          chain.map((l) => [l.blockNumber, l.index, l.blockHash, l.transactionHash]),
        );
        const names = (await stored(db)).filter((r) => r.block_number > forkPoint).map((r) => r.event_name);
        expect(names).to.deep.equal(["ConsentGranted", "DataUsed"]);
        const checkpoint = await db.meta(31337);
        expect([checkpoint?.blockNumber, checkpoint?.blockHash]).to.deep.equal([
          headB,
          (await ethers.provider.getBlock(headB))!.hash,
        ]);
        expect((await verifyHistory(db)).violations).to.deep.equal([]);
        await db.close();
      });
    }

    it("stays `confirmations` blocks behind the head, or at the node's finalized block", async () => {
      const { accounts, registry } = await deploySystem(ethers);
      const [owner, processor] = accounts;
      const addr = await registry.getAddress();
      await registry.connect(owner).grant(processor.address, ALL_DATA, 1n, NO_EXPIRY, ethers.ZeroHash);
      const grantBlock = await ethers.provider.getBlockNumber();
      await networkHelpers.mine(3);
      const db = await backend.open();
      const behind = await syncEvents({ db, rpc: ethers.provider, registry: addr, progress: "none", confirmations: 4 });
      expect(behind.toBlock).to.equal(grantBlock - 1);
      expect(
        (await stored(db)).some((r) => r.event_name === "ConsentGranted" && r.block_number === grantBlock),
      ).to.equal(false);
      const fin = await syncEvents({ db, rpc: ethers.provider, registry: addr, progress: "none", finalized: true });
      expect(fin.toBlock).to.equal((await ethers.provider.getBlock("finalized"))!.number);
      expect(fin.toBlock).to.be.greaterThan(grantBlock);
      expect((await stored(db)).filter((r) => r.block_number === grantBlock).map((r) => r.event_name)).to.deep.equal([
        "ConsentGranted",
      ]);
      await db.close();
    });
  });
