import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { expect } from "chai";

import {
  type AuditStore,
  ChainBusyError,
  type ChunkWrite,
  type EventRow,
  openAuditStore,
  ownerScoped,
  type ReplayEvent,
  type SignedRequestRow,
  type SyncMeta,
} from "../../src/audit/index.js";
import { rejection } from "./helpers/chain.js";
import { backends, tableRows } from "./helpers/stores.js";

/**
 * The audit store's contract, the same tests on every backend (helpers/stores.ts): SQLite
 * always, PostgreSQL under `npm run test:pg`. Rows go in through the interface and must come out
 * exactly as written (integers past 2^53 as decimal strings, nulls as nulls), per chain.
 */

const A = "0x" + "aa".repeat(20);
const B = "0x" + "bb".repeat(20);
const hash = (n: number, tag = "h") => "0x" + `${tag}${n}`.padEnd(64, "0").replace(/[^0-9a-f]/g, "e");

function meta(chainId: number, over: Partial<SyncMeta> = {}): SyncMeta {
  return {
    chainId,
    registry: "0x" + "5f".repeat(20),
    integrations: "0x" + "11".repeat(20),
    authority: "0x" + "22".repeat(20),
    genesisHash: hash(0, "g"),
    fromBlock: 0,
    blockNumber: -1,
    blockHash: "",
    digest: "0x" + "00".repeat(32),
    ...over,
  };
}

function ev(
  chainId: number,
  block: number,
  logIndex: number,
  name: string,
  args: object,
  extra: Partial<EventRow> = {},
) {
  return {
    chain_id: chainId,
    block_number: block,
    block_hash: hash(block),
    log_index: logIndex,
    tx_hash: hash(block * 100 + logIndex, "t"),
    address: "0x" + "5f".repeat(20),
    event_name: name,
    args_json: JSON.stringify(args),
    block_timestamp: 1_700_000_000 + block * 12,
    via: null,
    version: null,
    ...extra,
  } satisfies EventRow;
}

function chunk(chainId: number, events: EventRow[], to: number, over: Partial<ChunkWrite> = {}): ChunkWrite {
  const blocks = [...new Set(events.map((e) => e.block_number))];
  return {
    chainId,
    events,
    signed: [],
    headers: [...blocks, to].map((n) => ({ number: n, hash: hash(n), timestamp: 1_700_000_000 + n * 12 })),
    checkpoint: { number: to, hash: hash(to) },
    blockDigests: blocks.map((b) => ({ block: b, digest: hash(b, "d") })),
    digest: hash(to, "d"),
    keepHashes: 256,
    ...over,
  };
}

const grant = (owner: string, grantee: string, version: string) => ({
  owner,
  grantee,
  dataId: hash(1, "a"),
  purposes: "3",
  expiresAt: "0",
  noticeHash: hash(2, "n"),
  actor: owner,
  version,
});

for (const backend of backends()) {
  describe(`audit store contract (${backend.name})`, function () {
    this.timeout(60_000);
    let store: AuditStore;
    beforeEach(async () => (store = await backend.open()));
    afterEach(async () => void (await store.close()));

    it(`is ${backend.name}, empty at first`, async () => {
      expect(store.dialect).to.equal(backend.name);
      expect([await store.meta(), await store.meta(1), await store.chains(), await store.countEvents(1)]).to.deep.equal(
        [undefined, undefined, [], 0],
      );
    });

    it("gives back every row exactly as written: events, signed requests, headers, digests, the checkpoint", async () => {
      await store.startSync(meta(7), false);
      const huge = (2n ** 200n + 1n).toString();
      const rows = [
        ev(7, 3, 0, "ConsentGranted", grant(A, B, huge), { via: 2, version: huge }),
        ev(7, 3, 1, "PurposeDefined", { id: "9", metadataHash: hash(9) }),
        ev(7, 5, 4, "DataUsed", { owner: A, processor: B, dataId: hash(1, "a"), purpose: "1", evidence: hash(3) }),
      ];
      const signed: SignedRequestRow = {
        chain_id: 7,
        block_number: 3,
        tx_hash: rows[0].tx_hash,
        item_index: 0,
        kind: "Grant",
        owner: A,
        args_json: JSON.stringify({ grantee: B }),
        epoch: huge,
        version: huge,
        deadline: "1099511627776",
        signature: "0x" + "1b".repeat(65),
        erc1271_valid: null,
      };
      const marker: SignedRequestRow = {
        ...signed,
        item_index: 1,
        kind: "unsigned",
        epoch: null,
        version: null,
        deadline: null,
        signature: null,
        erc1271_valid: 1,
      };
      expect(await store.commitChunk(chunk(7, rows, 6, { signed: [signed, marker] }))).to.equal(3);
      expect(await store.eventsInRange(7, 0, 100)).to.deep.equal(rows);
      expect(await store.eventsInRange(7, 4, 5)).to.deep.equal([rows[2]]);
      expect(await store.signedRequests(7)).to.deep.equal([signed, marker]);
      expect(await store.signedRequests(7, 2)).to.deep.equal([]);
      expect(await store.keptHeaders(7)).to.deep.equal(
        [3, 5, 6].map((n) => ({ number: n, hash: hash(n), timestamp: 1_700_000_000 + n * 12 })),
      );
      expect(await store.blockDigests(7)).to.deep.equal([
        { block: 3, digest: hash(3, "d") },
        { block: 5, digest: hash(5, "d") },
      ]);
      expect([await store.digestAt(7, 4), await store.digestAt(7, 2), await store.blockTimestamp(7, 5)]).to.deep.equal([
        hash(3, "d"),
        undefined,
        1_700_000_060,
      ]);
      expect(await store.meta(7)).to.deep.equal(meta(7, { blockNumber: 6, blockHash: hash(6), digest: hash(6, "d") }));
      expect(await store.knownBlocks(7, 5)).to.deep.equal([
        { number: 3, hash: hash(3) },
        { number: 5, hash: hash(5) },
      ]);
      // The same chunk again (a sync killed after its commit, resumed): nothing new.
      expect(await store.commitChunk(chunk(7, rows, 6))).to.equal(0);
      expect(await store.countEvents(7)).to.equal(3);
    });

    it("replays in chain order up to a block, with the rows when asked", async () => {
      await store.startSync(meta(7), false);
      const first = [ev(7, 2, 0, "PurposeDefined", { id: "1", metadataHash: hash(1) })];
      const second = [
        ev(7, 4, 1, "DataUsed", { owner: A }),
        ev(7, 4, 0, "ConsentGranted", grant(A, B, "1"), { via: 0, version: "1" }),
      ];
      await store.commitChunk(chunk(7, first, 3));
      await store.commitChunk(chunk(7, second, 9));
      const seen: [number, number, string, EventRow | undefined][] = [];
      const all = await store.replay({ chainId: 7, rows: true }, (e, row) =>
        seen.push([e.blockNumber, e.logIndex, e.name, row]),
      );
      expect(seen).to.deep.equal([
        [2, 0, "PurposeDefined", first[0]],
        [4, 0, "ConsentGranted", second[1]],
        [4, 1, "DataUsed", second[0]],
      ]);
      expect(all).to.deep.equal({ chainId: 7, events: 3, lastBlock: 4, lastTimestamp: 1_700_000_048 });
      const events: ReplayEvent[] = [];
      const upTo3 = await store.replay({ chainId: 7, toBlock: 3 }, (e) => events.push(e));
      expect(upTo3).to.deep.equal({ chainId: 7, events: 1, lastBlock: 2, lastTimestamp: 1_700_000_024 });
      expect(events).to.deep.equal([
        {
          blockNumber: 2,
          logIndex: 0,
          txHash: first[0].tx_hash,
          name: "PurposeDefined",
          args: { id: "1", metadataHash: hash(1) },
          blockTimestamp: 1_700_000_024,
          via: null,
        },
      ]);
    });

    it("an owner's replay reads that owner's events and those naming no owner; 'now' stays the chain's", async () => {
      await store.startSync(meta(7), false);
      const rows = [
        ev(7, 1, 0, "PurposeDefined", { id: "1", metadataHash: hash(1) }),
        ev(7, 2, 0, "ConsentGranted", grant(A, B, "1"), { via: 0, version: "1" }),
        ev(7, 2, 1, "ConsentGranted", grant(B, A, "1"), { via: 0, version: "1" }),
        ev(7, 3, 0, "IntegrationSuspended", { integration: B }),
        ev(7, 4, 0, "DataUsed", { owner: B, processor: A, dataId: hash(1), purpose: "1", evidence: hash(2) }),
        ev(7, 5, 0, "DataUsed", { owner: A, processor: B, dataId: hash(1), purpose: "1", evidence: hash(2) }),
        ev(7, 8, 0, "ManagerSet", { owner: B, manager: A, approved: true }),
      ];
      await store.commitChunk(chunk(7, rows, 8));
      const seen: string[] = [];
      const r = await store.replay({ chainId: 7, owner: A }, (e) =>
        seen.push(`${e.blockNumber}.${e.logIndex} ${e.name}`),
      );
      expect(seen).to.deep.equal([
        "1.0 PurposeDefined",
        "2.0 ConsentGranted",
        "3.0 IntegrationSuspended",
        "5.0 DataUsed",
      ]);
      expect(r).to.deep.equal({ chainId: 7, events: 4, lastBlock: 8, lastTimestamp: 1_700_000_096 });
      // ownerScoped: the same, through every caller of replay; the other methods are the store's.
      const scoped = ownerScoped(store, A.toUpperCase().replace("0X", "0x"));
      const viaScope: string[] = [];
      await scoped.replay({ chainId: 7, toBlock: 4 }, (e) => viaScope.push(e.name));
      expect(viaScope).to.deep.equal(["PurposeDefined", "ConsentGranted", "IntegrationSuspended"]);
      expect([scoped.dialect, await scoped.countEvents(7)]).to.deep.equal([backend.name, 7]);
    });

    it("rewinds everything above the common ancestor in one step, and keeps only the newest block hashes", async () => {
      await store.startSync(meta(7), false);
      const rows = [1, 2, 3, 4, 5].map((b) => ev(7, b, 0, "DataUsed", { owner: A }));
      await store.commitChunk(chunk(7, rows.slice(0, 3), 3, { keepHashes: 2 }));
      await store.commitChunk(chunk(7, rows.slice(3), 5, { keepHashes: 2 }));
      expect((await store.keptHeaders(7)).map((h) => h.number)).to.deep.equal([4, 5]);
      await store.rewind(7, { number: 2, hash: hash(2) }, hash(2, "d"));
      expect((await store.eventsInRange(7, 0, 99)).map((r) => r.block_number)).to.deep.equal([1, 2]);
      expect([await store.keptHeaders(7), await store.blockDigests(7)]).to.deep.equal([
        [],
        [1, 2].map((b) => ({ block: b, digest: hash(b, "d") })),
      ]);
      expect(await store.meta(7)).to.deep.equal(meta(7, { blockNumber: 2, blockHash: hash(2), digest: hash(2, "d") }));
    });

    it("holds many chains apart: each its own checkpoint and rows; a reset of one leaves the others", async () => {
      await store.startSync(meta(31337), false);
      await store.startSync(meta(31338, { genesisHash: hash(1, "g") }), false);
      await store.commitChunk(chunk(31337, [ev(31337, 5, 0, "DataUsed", { owner: A })], 5));
      await store.commitChunk(
        chunk(31338, [ev(31338, 5, 0, "DataUsed", { owner: B }), ev(31338, 6, 0, "DataUsed", { owner: A })], 9),
      );
      expect((await store.chains()).map((m) => [m.chainId, m.blockNumber, m.genesisHash])).to.deep.equal([
        [31337, 5, hash(0, "g")],
        [31338, 9, hash(1, "g")],
      ]);
      expect([await store.countEvents(31337), await store.countEvents(31338)]).to.deep.equal([1, 2]);
      expect((await store.meta())!.chainId).to.equal(31337);
      expect(await store.startSync(meta(31338), true)).to.equal(2);
      expect([
        await store.countEvents(31337),
        await store.countEvents(31338),
        await store.blockDigests(31338),
      ]).to.deep.equal([1, 0, []]);
      expect((await store.eventsInRange(31337, 0, 99))[0].args_json).to.equal(JSON.stringify({ owner: A }));
    });

    it("a second startSync of a chain without reset is refused (the first checkpoint is kept)", async () => {
      await store.startSync(meta(7), false);
      await rejection(store.startSync(meta(7, { registry: B }), false));
      expect((await store.meta(7))!.registry).to.equal(meta(7).registry);
    });
  });

  if (backend.name === "postgresql") {
    describe("audit store: PostgreSQL schema", function () {
      this.timeout(60_000);
      it("a database of another audit schema, or with a foreign events table, is refused unchanged", async () => {
        const url = await backend.target("");
        const store = await openAuditStore(url);
        const sql = (store as unknown as { sql: { query(s: string): Promise<unknown> } }).sql;
        await sql.query("UPDATE audit_schema SET version = 4");
        await store.close();
        const shown = url.replace(/:[^:@/]+@/, ":***@");
        expect((await rejection(openAuditStore(url))).message).to.equal(
          `${shown} was written by audit schema 4; this auditor reads audit schema 3 (registry 2.0.0) only and does not convert databases of other schemas: sync into a new --db`,
        );
        const other = await backend.target("");
        const { Client } = (await import("pg")).default;
        const c = new Client({ connectionString: other });
        await c.connect();
        await c.query("CREATE TABLE events (id INTEGER)");
        await c.end();
        expect((await rejection(openAuditStore(other))).message).to.equal(
          `${other.replace(/:[^:@/]+@/, ":***@")} has an events table but no audit_schema: it was not written by this auditor; sync into another database`,
        );
        expect(shown).to.not.include(new URL(url).password);
      });

      it("a snapshot reader sees one moment while a sync writes, and refuses writes", async () => {
        const url = await backend.target("");
        const writer = await openAuditStore(url);
        await writer.startSync(meta(7), false);
        await writer.commitChunk(chunk(7, [ev(7, 1, 0, "DataUsed", { owner: A })], 1));
        const reader = await openAuditStore(url, { snapshot: true });
        try {
          expect(await reader.countEvents(7)).to.equal(1);
          await writer.commitChunk(chunk(7, [ev(7, 2, 0, "DataUsed", { owner: A })], 2));
          let seen = 0;
          await reader.replay({ chainId: 7 }, () => seen++);
          expect([seen, await reader.countEvents(7), (await reader.meta(7))!.blockNumber]).to.deep.equal([1, 1, 1]);
          expect(await writer.countEvents(7)).to.equal(2);
          expect((await rejection(reader.startSync(meta(8), false))).message).to.equal(
            "this audit store was opened read-only (snapshot)",
          );
        } finally {
          await reader.close();
          await writer.close();
        }
      });
    });
  }

  describe(`audit store: one sync per chain (${backend.name}, two connections)`, function () {
    this.timeout(60_000);
    const dir = mkdtempSync(join(tmpdir(), "omni-store-"));
    after(() => rmSync(dir, { recursive: true, force: true }));

    it("a second claim of a chain is refused naming the owner; another chain is free; release frees it", async () => {
      const target = await backend.target(join(dir, "claims.db"));
      const one = await openAuditStore(target);
      const two = await openAuditStore(target);
      try {
        const claim = await one.claimChain(31337);
        const err = await rejection(two.claimChain(31337));
        expect(err).to.be.instanceOf(ChainBusyError);
        expect((err as ChainBusyError).chainId).to.equal(31337);
        const holder =
          backend.name === "sqlite"
            ? new RegExp(`^process ${process.pid} on this host, since \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z$`)
            : /^PostgreSQL session \d+: "omni-consent audit \(pid \d+ on .+\)" from 127\.0\.0\.1\/32, connected since \d{4}-\d\d-\d\dT[\d:.]+Z$/;
        expect((err as ChainBusyError).holder).to.match(holder);
        expect(err.message).to.equal(
          `another sync owns chain 31337 in this audit database (${(err as ChainBusyError).holder}); nothing was written: wait for it to finish or stop it, or sync another chain`,
        );
        // Another chain in the same database is not blocked; the same connection cannot claim twice.
        const other = await two.claimChain(10);
        await rejection(one.claimChain(31337));
        await claim.release();
        const again = await two.claimChain(31337);
        await rejection(one.claimChain(31337));
        await again.release();
        await other.release();
      } finally {
        await one.close();
        await two.close();
      }
    });

    it("a claim ends with its connection (a killed sync does not lock the chain forever)", async () => {
      const target = await backend.target(join(dir, "closed.db"));
      const one = await openAuditStore(target);
      const two = await openAuditStore(target);
      try {
        await one.claimChain(5);
        await rejection(two.claimChain(5));
        if (backend.name === "postgresql") {
          await one.close();
          await (await two.claimChain(5)).release();
        } else {
          // SQLite: the lease names this (live) process; one of a dead pid is taken over.
          const sql = (two as unknown as { sql: { prepare(s: string): { run(...a: unknown[]): unknown } } }).sql;
          sql.prepare("UPDATE sync_owner SET pid = ? WHERE chain_id = 5").run(2 ** 22 + 12345);
          await (await two.claimChain(5)).release();
          expect(await tableRows(two, "SELECT * FROM sync_owner")).to.deep.equal([]);
        }
      } finally {
        await one.close();
        await two.close();
      }
    });
  });
}
