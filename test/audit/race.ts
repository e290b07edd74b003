import { expect } from "chai";
import { Interface, JsonRpcProvider, type Log, id as keccakId } from "ethers";

import { type AuditStore, syncEvents, verifyHistory } from "../../src/audit/index.js";
import { CONSENT_REGISTRY_ABI } from "../../src/sdk/abi.js";
import { ALL_DATA, NO_EXPIRY } from "../../src/sdk/constants.js";
import { type ReorgTrigger, type RpcProxy, startHardhatNode, startRpcProxy } from "./helpers/chain.js";
import { deployOn } from "./helpers/deploy.js";
import { backends } from "./helpers/stores.js";

/**
 * Sync against a reorg forced at each point of a chunk's life by a proxy process in front of a
 * `hardhat node`: branch A is on the chain when the chunk starts, branch B (another history from
 * the same fork point) replaces it at the chosen point. Whatever the point, the stored rows must
 * end equal to the chain's logs (block, log index, block hash, tx hash) and verify must pass.
 */

type Row = [number, number, string, string];
const stored = async (db: AuditStore): Promise<Row[]> =>
  (await db.eventsInRange(31337, 0, Number.MAX_SAFE_INTEGER)).map(
    (r) => [r.block_number, r.log_index, r.block_hash, r.tx_hash] as Row,
  );
const onChain = (logs: Log[]): Row[] => logs.map((l) => [l.blockNumber, l.index, l.blockHash, l.transactionHash]);

for (const backend of backends())
  describe(`audit: sync under a reorg forced at each point of a chunk's life (proxy process, ${backend.name})`, function () {
    this.timeout(120_000);
    let node: Awaited<ReturnType<typeof startHardhatNode>>;
    let provider: JsonRpcProvider;
    let proxy: RpcProxy;
    let registry: string;
    let addresses: string[];
    let processor: string;
    let owner: string;
    const iface = new Interface(CONSENT_REGISTRY_ABI);

    before(async () => {
      node = await startHardhatNode();
      proxy = await startRpcProxy(node.url);
      provider = new JsonRpcProvider(node.url, undefined, { staticNetwork: true, cacheTimeout: -1 });
      const deployed = await deployOn(provider);
      registry = deployed.addresses[0];
      addresses = deployed.addresses;
      const [o, p] = await Promise.all([provider.getSigner(1), provider.getSigner(3)]);
      [owner, processor] = [o.address, p.address];
      await (await deployed.reg.connect(o).grant(processor, ALL_DATA, 0xffn, NO_EXPIRY, keccakId("n"))).wait();
    });

    after(async () => {
      await proxy?.close();
      provider?.destroy();
      node?.stop();
    });

    const head = async () => Number(await provider.send("eth_blockNumber", []));
    const send = (method: string, params: unknown[]) => provider.send(method, params);
    /** A recordUse sent as a plain eth_sendTransaction (the proxy replays such calls for branch B). */
    const use = (tag: string) => ({
      method: "eth_sendTransaction",
      params: [
        {
          from: processor,
          to: registry,
          gas: "0x100000",
          data: iface.encodeFunctionData("recordUse", [owner, keccakId("d"), 1, keccakId(tag)]),
        },
      ],
    });

    /**
     * Fork point F = the head now. Branch A: 3 empty blocks, 2 uses, 3 empty blocks (head F+8).
     * Branch B (forced by the proxy): 3 uses at F+1..F+3, then 7 empty blocks (head F+10): A's
     * chunk F+1..F+4 holds no log where B's holds three — the case that lost events for good.
     */
    async function scenario(
      point: ReorgTrigger["point"] | "mid-write",
    ): Promise<{ fork: number; db: AuditStore; res: Awaited<ReturnType<typeof syncEvents>> }> {
      const fork = await head();
      const snapshot = (await send("evm_snapshot", [])) as string;
      await send("hardhat_mine", ["0x3"]);
      for (const tag of ["a1", "a2"]) await send(use(`${point}-${tag}`).method, use(`${point}-${tag}`).params);
      await send("hardhat_mine", ["0x3"]);
      const branchB = [
        { method: "evm_revert", params: [snapshot] },
        use(`${point}-b1`),
        use(`${point}-b2`),
        use(`${point}-b3`),
        { method: "hardhat_mine", params: ["0x7"] },
      ];
      await proxy.arm({
        point: point === "mid-write" ? "after-headers" : point,
        // mid-write: never fired by a request, but by the test while the chunk is written.
        afterBlock: point === "mid-write" ? Number.MAX_SAFE_INTEGER : fork,
        calls: branchB,
      });
      // Synced to the fork point first, so the next chunk starts right above it (F+1..F+4).
      const db = await backend.open();
      const common = {
        db,
        rpc: proxy.url,
        registry,
        progress: "none" as const,
        initialRange: 4,
        maxRange: 4,
        timeoutMs: 5000,
      };
      await syncEvents({ ...common, toBlock: fork });
      let forced = false;
      const res = await syncEvents({
        ...common,
        beforeCommit:
          point === "mid-write"
            ? async ({ from }) => {
                if (!forced && from > fork) {
                  forced = true;
                  await proxy.reorgNow(); // the chain changes while this chunk is being written
                }
              }
            : undefined,
      });
      return { fork, db, res };
    }

    const checks = async (fork: number, db: AuditStore) => {
      const h = await head();
      expect(h).to.equal(fork + 10); // branch B is the chain
      const logs = await provider.getLogs({ address: addresses, fromBlock: 0, toBlock: h });
      const forked = logs.filter((l) => l.blockNumber > fork);
      expect(forked.map((l) => l.blockNumber)).to.deep.equal([fork + 1, fork + 2, fork + 3]);
      expect(await stored(db)).to.deep.equal(onChain(logs));
      const v = await verifyHistory(db);
      expect([v.violations, v.integrity.findings, v.ok]).to.deep.equal([[], [], true]);
      const anchored = await verifyHistory(db, { rpc: node.url });
      expect(anchored.integrity.findings).to.deep.equal([]);
      expect(anchored.integrity.statement).to.equal(
        `anchored to chain 31337 at block ${h} (${(await provider.getBlock(h))!.hash}), from block 0, registry ${addresses[0].toLowerCase()}`,
      );
      await db.close();
    };

    it("before the logs: the chunk's end header changed under it, it is read again from branch B", async () => {
      const { fork, db, res } = await scenario("before-logs");
      expect((await proxy.counts()).reorgs).to.equal(1);
      expect([res.reorgs, res.failures >= 1]).to.deep.equal([0, true]);
      await checks(fork, db);
    });

    it("between the logs and the headers: A's (empty) logs are not taken with B's headers", async () => {
      const { fork, db, res } = await scenario("between-logs-and-headers");
      expect((await proxy.counts()).reorgs).to.equal(2);
      expect([res.reorgs, res.failures >= 1]).to.deep.equal([0, true]);
      await checks(fork, db);
    });

    it("after the headers: A's consistent chunk is written, the next chunk sees its end is gone and rewinds", async () => {
      const { fork, db, res } = await scenario("after-headers");
      expect((await proxy.counts()).reorgs).to.equal(3);
      expect(res.reorgs).to.equal(1);
      await checks(fork, db);
    });

    it("mid-write: the chain changes while the chunk is committed; the next chunk rewinds", async () => {
      const { fork, db, res } = await scenario("mid-write");
      expect((await proxy.counts()).reorgs).to.equal(4);
      expect(res.reorgs).to.equal(1);
      await checks(fork, db);
    });
  });
