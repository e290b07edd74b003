import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { expect } from "chai";
import type pg from "pg";

import { createDatabase, type PgCluster, usePostgres } from "../../test/helpers/pg.js";
import { playBulk } from "./helpers/bulk.js";
import { playHistory } from "./helpers/history.js";
import { type Node, type Ponder, sleep, startNode, startPonder } from "./helpers/processes.js";
import { chainState, indexedState } from "./helpers/state.js";
import { deploySystem, head, indexedChain, mine, type System } from "./helpers/system.js";
import { auditRows, auditSync, diffRows, pgClient, ponderRows, verifyBoth, waitIndexed } from "./helpers/tables.js";

/**
 * Ponder killed with SIGKILL in the middle of its backfill (some batches committed, the rest
 * not) and started again on the same database and schema: its crash recovery resumes from the
 * last committed checkpoint, and the result is row for row what the auditor synced, with no log
 * lost or doubled, and the same derived state. (The restart waits for Ponder's schema lock of
 * the killed process to expire: its heartbeat timeout is 25 s.)
 */
describe("indexer: Ponder killed mid-backfill and restarted", function () {
  this.timeout(300_000);

  const EVENTS = 12_000;
  let cluster: PgCluster;
  let node: Node;
  let sys: System;
  let ponder: Ponder | undefined;
  let client: pg.Client;
  let dir: string;
  let databaseUrl: string;

  before(async () => {
    cluster = await usePostgres();
    dir = mkdtempSync(join(tmpdir(), "omni-indexer-crash-"));
    node = await startNode(31337);
    sys = await deploySystem(node);
    await playHistory(sys);
    expect(await playBulk(sys, EVENTS)).to.equal(EVENTS);
    await mine(node, 40);
    databaseUrl = await createDatabase(cluster, "crash");
    client = await pgClient(databaseUrl);
  });

  after(async () => {
    await ponder?.stop();
    await client?.end();
    await node?.stop();
    await cluster?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("resumes from its last checkpoint and ends with exactly the auditor's rows", async () => {
    const chains = [indexedChain(sys)];
    const total = (await sys.provider.getLogs({ address: Object.values(sys.addresses), fromBlock: sys.deployBlock }))
      .length;
    ponder = await startPonder({ chains, databaseUrl, schema: "consent" });
    // Kill once a tenth of the events is committed (several of Ponder's batches, not only the
    // first) and the backfill is not done.
    let atKill = 0;
    const seen = new Set<number>();
    const until = Date.now() + 120_000;
    while (Date.now() < until) {
      const n = await countEvents();
      if (n > 0) seen.add(n);
      if (n >= total / 10) {
        const ready = await fetch(`${ponder.url}/ready`).then((r) => r.status);
        expect(ready, "the backfill finished before the kill").to.equal(503);
        await ponder.kill();
        atKill = await countEvents();
        break;
      }
      await sleep(20);
    }
    expect(ponder.alive()).to.equal(false);
    expect(ponder.child.signalCode).to.equal("SIGKILL");
    expect(seen.size, "commits seen before the kill").to.be.greaterThan(1);
    expect(atKill).to.be.at.least(total / 10);
    expect(atKill).to.be.lessThan(total);
    process.stderr.write(`      (killed with ${atKill} of ${total} events committed)\n`);

    ponder = await startPonder({ chains, databaseUrl, schema: "consent", logLevel: "info" });
    await waitIndexed(ponder, client, new Map([[node.chainId, await head(node)]]), 180_000);
    expect(ponder.output()).to.include("Detected crash recovery for build");
    expect(ponder.output()).to.include("is locked by a different Ponder app"); // the killed one's lock

    const dbFile = join(dir, "audit.db");
    await auditSync(dbFile, node.url, sys.addresses.registry, sys.deployBlock);
    const audit = auditRows(dbFile);
    expect(audit.length).to.equal(total);
    const indexed = await ponderRows(client, "consent");
    expect(diffRows(audit, indexed)).to.deep.equal([]);
    expect(indexed).to.deep.equal(audit);
    expect(await indexedState(client, "consent", node.chainId)).to.deep.equal(await chainState(sys));
    // audit verify over Ponder's tables: the auditor's verdict, on every one of the events.
    const v = await verifyBoth(dbFile, databaseUrl, "consent", node.chainId);
    expect(v.indexedRules).to.deep.equal(v.auditRules);
    expect(v.auditRules).to.deep.include({ ok: true, eventsChecked: total, violations: [] });
  });

  async function countEvents(): Promise<number> {
    try {
      return Number((await client.query('SELECT count(*) AS n FROM "consent".events')).rows[0].n);
    } catch {
      return 0; // not created yet
    }
  }
});
