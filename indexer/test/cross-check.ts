import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import Database from "better-sqlite3";
import { expect } from "chai";
import type pg from "pg";

import { createDatabase, type PgCluster, usePostgres } from "../../test/helpers/pg.js";
import { DATA, playBranch, playHistory } from "./helpers/history.js";
import { type Node, type Ponder, ROOT, rpc, startNode, startPonder } from "./helpers/processes.js";
import { chainState, indexedState } from "./helpers/state.js";
import { deploySystem, head, indexedChain, mine, type System } from "./helpers/system.js";
import {
  auditRows,
  auditSync,
  diffRows,
  logKeys,
  pgClient,
  ponderRows,
  type Row,
  verifyBoth,
  waitIndexed,
  waitRows,
} from "./helpers/tables.js";

/**
 * Cross-check (issue 14): on the same chain, Ponder's `events` table (PostgreSQL) equals the
 * auditor's (`audit sync` → SQLite, through src/audit's public entry), row for row: the same
 * logs, in the same order, with the same block hashes and the same decoded values, via and
 * version. After a backfill, after reorgs to a shorter and to a longer fork, and after Ponder
 * was killed (SIGKILL) in the middle of its backfill and restarted. Real processes on
 * 127.0.0.1, each stopped by its pid.
 */

/** Every event the history must have produced (so the comparison covers them all). */
const EVERY_EVENT = [
  "AllConsentsRevoked",
  "AuthorityUpdated",
  "ConsentGranted",
  "ConsentRevoked",
  "DataShared",
  "DataUsed",
  "IntegrationRegistered",
  "IntegrationReinstated",
  "IntegrationSuspended",
  "IntegrationUpdated",
  "ManagerSet",
  "OperationCanceled",
  "OperationExecuted",
  "OperationScheduled",
  "PurposeDefined",
  "PurposeDeprecated",
  "SignedRevokeFailed",
  "Unknown",
];

describe("indexer: Ponder's events equal the auditor's, event for event", function () {
  this.timeout(300_000);

  let cluster: PgCluster;
  let node: Node;
  let sys: System;
  let ponder: Ponder | undefined;
  let client: pg.Client;
  let dir: string;
  let dbFile: string;
  let databaseUrl: string;

  before(async () => {
    cluster = await usePostgres();
    dir = mkdtempSync(join(tmpdir(), "omni-indexer-test-"));
    dbFile = join(dir, "audit.db");
    node = await startNode(31337);
    sys = await deploySystem(node);
    await playHistory(sys);
    // Past Ponder's finality depth (30 blocks on a dev chain): the whole history is backfilled.
    await mine(node, 40);
    databaseUrl = await createDatabase(cluster, "crosscheck");
    client = await pgClient(databaseUrl);
    ponder = await startPonder({ chains: [indexedChain(sys)], databaseUrl, schema: "consent" });
  });

  after(async () => {
    await ponder?.stop();
    await client?.end();
    await node?.stop();
    await cluster?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** The chain's logs of the three contracts from the deployment on. */
  async function chainLogs(): Promise<[number, number, string, string][]> {
    const logs = await sys.provider.getLogs({
      address: Object.values(sys.addresses),
      fromBlock: sys.deployBlock,
      toBlock: await head(node),
    });
    return logs.map((l) => [l.blockNumber, l.index, l.blockHash, l.transactionHash]);
  }

  /** Both indexers caught up with the chain; returns both tables and how many reorgs the auditor rewound. */
  async function converge(): Promise<{ audit: Row[]; indexed: Row[]; reorgs: number }> {
    const logs = await chainLogs();
    await waitIndexed(ponder!, client, new Map([[node.chainId, await head(node)]]));
    await waitRows(ponder!, client, node.chainId, logs);
    const { reorgs } = await auditSync(dbFile, node.url, sys.addresses.registry, sys.deployBlock);
    const audit = auditRows(dbFile);
    expect(logKeys(audit)).to.deep.equal(logs);
    return { audit, indexed: await ponderRows(client, "consent"), reorgs };
  }

  it("after the backfill: the same rows, covering every event of the three contracts", async () => {
    const { audit, indexed } = await converge();
    expect(diffRows(audit, indexed)).to.deep.equal([]);
    expect(indexed).to.deep.equal(audit);
    expect([...new Set(audit.map((r) => r[6]))].sort()).to.deep.equal(EVERY_EVENT);
    // Every kind of authorisation is in the history: owner, manager and signature.
    const vias = (name: string) => [...new Set(audit.filter((r) => r[6] === name).map((r) => r[9]))].sort();
    expect(vias("ConsentGranted")).to.deep.equal([0, 1, 2]);
    expect(vias("ConsentRevoked")).to.deep.equal([0, 1, 2]);
    expect(vias("AllConsentsRevoked")).to.deep.equal([0, 1, 2]);
  });

  it("the derived state is the contracts' own: consents, epochs, managers, integrations, purposes, operations", async () => {
    const indexed = await indexedState(client, "consent", node.chainId);
    const chain = await chainState(sys);
    expect(indexed).to.deep.equal(chain);
    // The lockdown rule: managers appointed before a lockdown are not current any more.
    expect(indexed.managers.filter((m) => m[2] === "false").length).to.be.greaterThan(0);
    expect(indexed.managers.filter((m) => m[2] === "true").length).to.be.greaterThan(0);
  });

  /** verify over both stores: the same verdict on the rules; returns both results. */
  async function sameVerdict() {
    const v = await verifyBoth(dbFile, databaseUrl, "consent", node.chainId);
    expect(v.indexedRules).to.deep.equal(v.auditRules);
    return v;
  }

  it("audit verify (unchanged) over Ponder's tables gives the auditor's verdict", async () => {
    const v = await sameVerdict();
    const audit = auditRows(dbFile);
    const count = (name: string) => audit.filter((r) => r[6] === name).length;
    expect(v.auditRules).to.deep.equal({
      ok: true,
      chainId: 31337,
      eventsChecked: audit.length,
      usesChecked: count("DataUsed"),
      sharesChecked: count("DataShared"),
      lastBlock: audit[audit.length - 1][1],
      violations: [],
    });
    expect(v.audit.ok).to.equal(true);
    expect(v.audit.integrity.findings).to.deep.equal([]);
    expect(v.indexed.ok).to.equal(true);
    expect(v.indexed.integrity.findings).to.deep.equal([]);
    // What only the auditor's store can check: the signed requests it read from calldata and
    // the log digest its sync wrote. Ponder keeps neither; verify says so instead of passing them.
    expect(v.audit.signaturesChecked).to.be.greaterThan(0);
    expect(v.indexed.signaturesChecked).to.equal(0);
    expect(v.audit.failedRevocationsChecked).to.equal(count("SignedRevokeFailed"));
    expect(v.indexed.failedRevocationsChecked).to.equal(0);
    expect(v.audit.integrity.digest).to.match(/^[0-9a-f]{64}$/);
    expect(v.indexed.integrity.digest).to.equal("");
  });

  it("GraphQL: an owner's consents with the owner's epoch, filtered and ordered", async () => {
    const o1 = sys.actors.owners[0].address.toLowerCase();
    const res = await fetch(`${ponder!.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        query: `query ($owner: String!) {
          consents(where: { chainId: 31337, owner: $owner }, orderBy: "updatedBlock", orderDirection: "asc", limit: 50) {
            items { grantee dataId purposes expiresAt epoch version via ownerState { epoch } }
            totalCount
          }
        }`,
        variables: { owner: o1 },
      }),
    });
    expect(res.status).to.equal(200);
    const body = (await res.json()) as {
      data: { consents: { items: Record<string, unknown>[]; totalCount: number } };
    };
    const rows = await client.query(
      `SELECT grantee, data_id, purposes::text, expires_at::text, c.epoch, version::text, via, o.epoch AS owner_epoch
       FROM consent.consents c JOIN consent.owners o USING (chain_id, owner)
       WHERE chain_id = 31337 AND owner = $1 ORDER BY updated_block, grantee, data_id`,
      [o1],
    );
    expect(body.data.consents.totalCount).to.equal(rows.rowCount);
    expect(rows.rowCount).to.be.greaterThan(3);
    const key = (x: { grantee: unknown; dataId: unknown }) => `${x.grantee}/${x.dataId}`;
    expect(body.data.consents.items.map((i) => key(i as { grantee: string; dataId: string })).sort()).to.deep.equal(
      rows.rows.map((r) => key({ grantee: r.grantee, dataId: r.data_id })).sort(),
    );
    for (const item of body.data.consents.items) {
      const r = rows.rows.find((x) => x.grantee === item.grantee && x.data_id === item.dataId)!;
      expect(item).to.deep.equal({
        grantee: r.grantee,
        dataId: r.data_id,
        purposes: r.purposes,
        expiresAt: r.expires_at,
        epoch: Number(r.epoch),
        version: r.version,
        via: r.via,
        ownerState: { epoch: Number(r.owner_epoch) },
      });
    }
  });

  it("SQL over HTTP: counts per event name equal the auditor's; writes and other schemas are refused", async () => {
    const sql = async (text: string) => {
      const q = encodeURIComponent(JSON.stringify({ json: { sql: text, params: [] } }));
      const res = await fetch(`${ponder!.url}/sql/db?sql=${q}`);
      return { status: res.status, body: await res.text() };
    };
    const ok = await sql("SELECT event_name, count(*) AS n FROM events GROUP BY event_name ORDER BY event_name");
    expect(ok.status).to.equal(200);
    const got = (JSON.parse(ok.body) as { rows: { event_name: string; n: string }[] }).rows;
    const counts = new Map<string, number>();
    for (const r of auditRows(dbFile)) counts.set(r[6], (counts.get(r[6]) ?? 0) + 1);
    expect(got.map((r) => [r.event_name, Number(r.n)])).to.deep.equal(
      [...counts].sort((a, b) => (a[0] < b[0] ? -1 : 1)),
    );
    expect(await sql("DELETE FROM events")).to.deep.equal({ status: 500, body: "DeleteStmt not supported" });
    expect(await sql("SELECT * FROM ponder_sync.logs")).to.deep.equal({
      status: 500,
      body: "Schema name not supported",
    });
  });

  it("/owners/:owner: active consents and current managers are exactly the registry's", async () => {
    for (const o of sys.actors.owners) {
      const res = await fetch(`${ponder!.url}/owners/${o.address}`);
      expect(res.status).to.equal(200);
      const body = (await res.json()) as {
        owner: string;
        chains: {
          chainId: number;
          epoch: number;
          consents: { grantee: string; dataId: string; purposes: string }[];
          managers: string[];
        }[];
      };
      expect(body.owner).to.equal(o.address.toLowerCase());
      expect(body.chains.map((c) => c.chainId)).to.deep.equal([31337]);
      const [chain] = body.chains;
      expect(chain.epoch).to.equal(Number(await sys.registry.epochOf(o.address)));
      // The registry's answer for every key the owner ever touched.
      const keys = (
        await client.query("SELECT grantee, data_id FROM consent.consents WHERE owner = $1", [o.address.toLowerCase()])
      ).rows as { grantee: string; data_id: string }[];
      const active = [];
      for (const k of keys) {
        const c = await sys.registry.getConsent(o.address, k.grantee, k.data_id);
        if (c.active) active.push({ grantee: k.grantee, dataId: k.data_id, purposes: c.purposes.toString() });
      }
      const sortKey = (x: { grantee: string; dataId: string }) => `${x.grantee}/${x.dataId}`;
      expect(
        chain.consents
          .map((c) => ({ grantee: c.grantee, dataId: c.dataId, purposes: c.purposes }))
          .sort((a, b) => (sortKey(a) < sortKey(b) ? -1 : 1)),
      ).to.deep.equal(active.sort((a, b) => (sortKey(a) < sortKey(b) ? -1 : 1)));
      const everyone = Object.values(sys.actors)
        .flat()
        .map((a) => a.address.toLowerCase());
      const current = [];
      for (const m of [...new Set(everyone)].sort()) if (await sys.registry.isManager(o.address, m)) current.push(m);
      expect(chain.managers).to.deep.equal(current);
    }
    // o1 after its lockdown: only the manager's grant of the new epoch is active (the grant to
    // partner2 came before the lockdown), and only the re-appointed manager is current.
    const o1 = (await (await fetch(`${ponder!.url}/owners/${sys.actors.owners[0].address}`)).json()) as {
      chains: { consents: { grantee: string; dataId: string }[]; managers: string[] }[];
    };
    expect(o1.chains[0].consents.map((c) => [c.grantee, c.dataId])).to.deep.equal([
      [sys.actors.processor.address.toLowerCase(), DATA[1]],
    ]);
    expect(o1.chains[0].managers).to.deep.equal([sys.actors.manager.address.toLowerCase()]);
  });

  it("ponder serve, a read-only replica on the same database, answers exactly as the indexing process", async () => {
    const replica = await startPonder({
      chains: [indexedChain(sys)],
      databaseUrl,
      schema: "consent",
      command: "serve",
    });
    try {
      expect(replica.pid).to.not.equal(ponder!.pid);
      const ask = async (base: string) => {
        const owners = [];
        for (const o of sys.actors.owners) owners.push(await (await fetch(`${base}/owners/${o.address}`)).json());
        const gql = await fetch(`${base}/graphql`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({
            query: "{ events(limit: 1000) { totalCount items { blockNumber logIndex argsJson } } }",
          }),
        });
        const q = encodeURIComponent(
          JSON.stringify({ json: { sql: "SELECT count(*) AS n FROM consents WHERE purposes <> 0", params: [] } }),
        );
        const sql = await fetch(`${base}/sql/db?sql=${q}`);
        return { owners, gql: await gql.json(), sql: await sql.json() };
      };
      const primary = await ask(ponder!.url);
      const served = await ask(replica.url);
      expect(served).to.deep.equal(primary);
      expect((primary.gql as { data: { events: { totalCount: number } } }).data.events.totalCount).to.equal(
        auditRows(dbFile).length,
      );
    } finally {
      await replica.stop();
    }
  });

  it("/owners/:owner refuses a malformed owner or chain id with a stable code", async () => {
    const bad = await fetch(`${ponder!.url}/owners/0x12`);
    expect(bad.status).to.equal(400);
    expect(await bad.json()).to.deep.equal({
      code: "INVALID_OWNER",
      error: "expected a 0x-prefixed 20-byte hex address",
    });
    const badChain = await fetch(`${ponder!.url}/owners/${sys.actors.owners[0].address}?chainId=x`);
    expect(badChain.status).to.equal(400);
    expect(((await badChain.json()) as { code: string }).code).to.equal("INVALID_CHAIN_ID");
  });

  it("docs/INDEXER.md's dashboard queries answer what the registry and the auditor hold, for every owner", async () => {
    const doc = readFileSync(join(ROOT, "docs", "INDEXER.md"), "utf8");
    const sqlBlocks = new Map(
      [...doc.matchAll(/```sql\n-- dashboard: ([^\n]+)\n([\s\S]*?)```/g)].map((m) => [m[1], m[2].trim()]),
    );
    expect([...sqlBlocks.keys()]).to.deep.equal(["live consents", "history", "uses and shares"]);
    const graphqlBlocks = [...doc.matchAll(/```graphql\n([\s\S]*?)```/g)].map((m) => m[1]);
    expect(graphqlBlocks.length).to.equal(1);
    const now = (await sys.provider.getBlock("latest"))!.timestamp;
    const audit = auditRows(dbFile);
    await client.query("SET search_path TO consent");
    try {
      for (const o of sys.actors.owners) {
        const owner = o.address.toLowerCase();
        // Live consents: exactly the keys whose getConsent is active now.
        const live = (await client.query(sqlBlocks.get("live consents")!, [owner, now])).rows as {
          chain_id: number;
          grantee: string;
          data_id: string;
          purposes: string;
        }[];
        const keys = (await client.query("SELECT grantee, data_id FROM consents WHERE owner = $1", [owner])).rows as {
          grantee: string;
          data_id: string;
        }[];
        const active: [number, string, string, string][] = [];
        for (const k of keys) {
          const c = await sys.registry.getConsent(owner, k.grantee, k.data_id);
          if (c.active) active.push([31337, k.grantee, k.data_id, c.purposes.toString()]);
        }
        const byKey = (x: [number, string, string, string], y: [number, string, string, string]) =>
          `${x[1]}/${x[2]}` < `${y[1]}/${y[2]}` ? -1 : 1;
        expect(live.map((r) => [r.chain_id, r.grantee, r.data_id, r.purposes])).to.deep.equal(active.sort(byKey));
        // History and uses/shares: exactly the auditor's rows about this owner.
        const about = (names: string[]) =>
          audit.filter((r) => names.includes(r[6]) && (JSON.parse(r[7]) as { owner?: string }).owner === owner);
        const history = (await client.query(sqlBlocks.get("history")!, [owner])).rows as Record<string, unknown>[];
        const expectedHistory = about([
          "ConsentGranted",
          "ConsentRevoked",
          "AllConsentsRevoked",
          "ManagerSet",
          "SignedRevokeFailed",
        ]);
        expect(expectedHistory.length).to.be.greaterThan(2);
        expect(history.map((r) => [Number(r.block_number), r.tx_hash, r.event_name, r.via, r.args_json])).to.deep.equal(
          expectedHistory.map((r) => [r[1], r[4], r[6], r[9], r[7]]),
        );
        const uses = (await client.query(sqlBlocks.get("uses and shares")!, [owner])).rows as Record<string, unknown>[];
        const expectedUses = about(["DataUsed", "DataShared"]);
        expect(
          uses.map((r) => [Number(r.block_number), r.event_name, r.by, r.shared_to, r.data_id, r.purpose]),
        ).to.deep.equal(
          expectedUses.map((r) => {
            const a = JSON.parse(r[7]) as Record<string, string>;
            return [r[1], r[6], a.processor ?? a.from, a.to ?? null, a.dataId, Number(a.purpose)];
          }),
        );
      }
    } finally {
      await client.query("RESET search_path");
    }
    // o1 used every kind: its queries are not empty by accident.
    const o1 = sys.actors.owners[0].address.toLowerCase();
    const usesO1 = (
      await client.query(sqlBlocks.get("uses and shares")!.replaceAll("FROM events", "FROM consent.events"), [o1])
    ).rows;
    expect(new Set(usesO1.map((r) => r.event_name))).to.deep.equal(new Set(["DataUsed", "DataShared"]));

    // The live-consents query over Ponder's SQL over HTTP, with its parameters.
    const q = encodeURIComponent(JSON.stringify({ json: { sql: sqlBlocks.get("live consents")!, params: [o1, now] } }));
    const res = await fetch(`${ponder!.url}/sql/db?sql=${q}`);
    expect(res.status).to.equal(200);
    const overHttp = (await res.json()) as { rows: { grantee: string; data_id: string }[] };
    expect(overHttp.rows.map((r) => [r.grantee, r.data_id])).to.deep.equal([
      [sys.actors.processor.address.toLowerCase(), DATA[1]],
    ]);

    // The GraphQL example: o1's granted keys and its uses and shares.
    const gql = await fetch(`${ponder!.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query: graphqlBlocks[0], variables: { owner: o1 } }),
    });
    expect(gql.status).to.equal(200);
    const body = (await gql.json()) as {
      errors?: unknown;
      data: { consents: { items: { purposes: string; dataId: string }[] }; events: { items: { eventName: string }[] } };
    };
    expect(body.errors).to.equal(undefined);
    const granted = (
      await client.query("SELECT count(*) AS n FROM consent.consents WHERE owner = $1 AND purposes <> 0", [o1])
    ).rows[0].n;
    expect(body.data.consents.items.length).to.equal(Number(granted));
    expect(body.data.consents.items.every((i) => i.purposes !== "0")).to.equal(true);
    expect(body.data.events.items.length).to.equal(usesO1.length);
  });

  it("after a reorg to a SHORTER fork: both dropped the old branch and hold the new one, row for row", async () => {
    const snapshot = await rpc<string>(node.url, "evm_snapshot");
    const forkPoint = await head(node);
    await playBranch(sys, "a", 9);
    await mine(node, 2);
    const a = await converge();
    expect(a.reorgs).to.equal(0);
    expect(diffRows(a.audit, a.indexed)).to.deep.equal([]);
    const branchA = a.audit.filter((r) => r[1] > forkPoint);
    expect(branchA.length).to.equal(9);

    expect(await rpc(node.url, "evm_revert", [snapshot])).to.equal(true);
    await playBranch(sys, "b", 3);
    expect(await head(node)).to.equal(forkPoint + 3);
    const b = await converge();
    expect(b.reorgs).to.equal(1);
    expect(diffRows(b.audit, b.indexed)).to.deep.equal([]);
    expect(b.indexed).to.deep.equal(b.audit);
    const branchB = b.audit.filter((r) => r[1] > forkPoint);
    expect(branchB.length).to.equal(3);
    // None of branch A's logs survived, in either store.
    const hashesA = new Set(branchA.map((r) => r[2]));
    expect(b.indexed.filter((r) => hashesA.has(r[2]))).to.deep.equal([]);
    expect(await indexedState(client, "consent", node.chainId)).to.deep.equal(await chainState(sys));
    const v = await sameVerdict();
    expect(v.auditRules.ok).to.equal(true);
    expect(v.auditRules.eventsChecked).to.equal(b.audit.length);
  });

  it("after a reorg to a LONGER fork: the same", async () => {
    const forkPoint = await head(node);
    const snapshot = await rpc<string>(node.url, "evm_snapshot");
    await playBranch(sys, "c", 4);
    const c = await converge();
    expect(diffRows(c.audit, c.indexed)).to.deep.equal([]);
    const hashesC = new Set(c.audit.filter((r) => r[1] > forkPoint).map((r) => r[2]));
    expect(hashesC.size).to.equal(4);

    expect(await rpc(node.url, "evm_revert", [snapshot])).to.equal(true);
    await playBranch(sys, "d", 12);
    await mine(node, 3);
    expect(await head(node)).to.equal(forkPoint + 15);
    const d = await converge();
    expect(d.reorgs).to.equal(1);
    expect(diffRows(d.audit, d.indexed)).to.deep.equal([]);
    expect(d.indexed).to.deep.equal(d.audit);
    expect(d.audit.filter((r) => r[1] > forkPoint).length).to.equal(12);
    expect(d.indexed.filter((r) => hashesC.has(r[2]))).to.deep.equal([]);
    expect(await indexedState(client, "consent", node.chainId)).to.deep.equal(await chainState(sys));
    const v = await sameVerdict();
    expect(v.auditRules.ok).to.equal(true);
    expect(v.auditRules.eventsChecked).to.equal(d.audit.length);
  });

  it("the comparison is not vacuous: one changed value in Ponder's table is reported by its key", async () => {
    const [row] = (
      await client.query(
        "SELECT block_number, log_index, args_json FROM consent.events WHERE event_name = 'DataUsed' ORDER BY block_number LIMIT 1",
      )
    ).rows as { block_number: string; log_index: number; args_json: string }[];
    const forged = row.args_json.replace(/"purpose":"(\d+)"/, (_m, p) => `"purpose":"${Number(p) + 1}"`);
    expect(forged).to.not.equal(row.args_json);
    await client.query("UPDATE consent.events SET args_json = $1 WHERE block_number = $2 AND log_index = $3", [
      forged,
      row.block_number,
      row.log_index,
    ]);
    try {
      const diff = diffRows(auditRows(dbFile), await ponderRows(client, "consent"));
      expect(diff.length).to.equal(1);
      expect(diff[0]).to.match(new RegExp(`^changed 31337/${row.block_number}/${row.log_index}: `));
    } finally {
      await client.query("UPDATE consent.events SET args_json = $1 WHERE block_number = $2 AND log_index = $3", [
        row.args_json,
        row.block_number,
        row.log_index,
      ]);
    }
    expect(diffRows(auditRows(dbFile), await ponderRows(client, "consent"))).to.deep.equal([]);
  });

  it("verify is not vacuous: the same forged use (no consent) is the same violation in both stores", async () => {
    const stranger = "0x000000000000000000000000000000000000dead";
    const [last] = (
      await client.query(
        "SELECT block_number, block_hash, tx_hash, block_timestamp FROM consent.events ORDER BY block_number DESC, log_index DESC LIMIT 1",
      )
    ).rows as { block_number: string; block_hash: string; tx_hash: string; block_timestamp: string }[];
    const args = JSON.stringify({
      owner: stranger,
      processor: sys.actors.processor.address.toLowerCase(),
      dataId: DATA[0],
      purpose: "0",
      evidence: DATA[1],
    });
    const forged = [
      31337,
      Number(last.block_number),
      last.block_hash,
      999,
      last.tx_hash,
      sys.addresses.registry,
      "DataUsed",
      args,
      Number(last.block_timestamp),
    ];
    const sqlite = new Database(dbFile);
    const insert = `INSERT INTO events (chain_id, block_number, block_hash, log_index, tx_hash, address, event_name, args_json, block_timestamp, via, version)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL, NULL)`;
    try {
      sqlite.prepare(insert.replace(/\$\d/g, "?")).run(...forged);
      await client.query(insert.replace("INTO events", "INTO consent.events"), forged);
      const v = await verifyBoth(dbFile, databaseUrl, "consent", node.chainId);
      expect(v.indexedRules).to.deep.equal(v.auditRules);
      expect(v.auditRules.violations.map((x) => [x.rule, x.block, x.logIndex])).to.deep.equal([
        ["use-without-consent", Number(last.block_number), 999],
      ]);
      // The auditor's store also sees the edit itself (its digest); Ponder's has none to see it by.
      expect(v.audit.integrity.findings.map((f) => f.rule)).to.deep.equal(["log-digest-mismatch"]);
      expect(v.indexed.integrity.findings).to.deep.equal([]);
    } finally {
      sqlite.prepare("DELETE FROM events WHERE log_index = 999").run();
      sqlite.close();
      await client.query("DELETE FROM consent.events WHERE log_index = 999");
    }
    expect((await verifyBoth(dbFile, databaseUrl, "consent", node.chainId)).auditRules.ok).to.equal(true);
  });
});
