import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { expect } from "chai";
import type pg from "pg";

import { createDatabase, type PgCluster, usePostgres } from "../../test/helpers/pg.js";
import { playBranch, playHistory } from "./helpers/history.js";
import { type Node, type Ponder, startNode, startPonder } from "./helpers/processes.js";
import { chainState, indexedState } from "./helpers/state.js";
import { CREATE_X, deploySystem, head, indexedChain, mine, type System } from "./helpers/system.js";
import { buildReport, openAuditDb, ownerScoped } from "../../src/audit/index.js";
import { PonderAuditStore } from "../audit/ponder-store.js";
import { auditRows, auditSync, diffRows, pgClient, ponderRows, verifyBoth, waitIndexed } from "./helpers/tables.js";

/**
 * Many chains (issue 14): two `hardhat node`s with different chain ids (31337 and 4242), the
 * system deployed on both by the Ignition module with `--strategy create2` at the same
 * addresses, different histories, one Ponder indexing both into one PostgreSQL database and the
 * auditor syncing both into one SQLite file. Both chains' rows are equal; queries per chain and
 * across chains answer what each chain's contracts hold.
 */
describe("indexer: two chains, one database", function () {
  this.timeout(300_000);

  let cluster: PgCluster;
  const nodes: Node[] = [];
  const systems: System[] = [];
  let ponder: Ponder | undefined;
  let client: pg.Client;
  let dir: string;
  let dbFile: string;
  let databaseUrl: string;
  const BRANCH = 7;

  before(async () => {
    cluster = await usePostgres();
    dir = mkdtempSync(join(tmpdir(), "omni-indexer-chains-"));
    dbFile = join(dir, "audit.db");
    nodes.push(await startNode(31337), await startNode(4242));
    systems.push(await deploySystem(nodes[0]));
    // CreateX exists on every major chain; Ignition installs it itself only on 31337.
    systems.push(await deploySystem(nodes[1], await systems[0].provider.getCode(CREATE_X)));
    await playHistory(systems[0]);
    await playHistory(systems[1]);
    // Seven more transactions on 4242 only: grants of 3 new keys, 2 of them revoked, 2 uses.
    await playBranch(systems[1], "only-on-4242", BRANCH);
    for (const n of nodes) await mine(n, 40);
    databaseUrl = await createDatabase(cluster, "chains");
    client = await pgClient(databaseUrl);
    ponder = await startPonder({ chains: systems.map(indexedChain), databaseUrl, schema: "consent" });
    await waitIndexed(
      ponder,
      client,
      new Map(await Promise.all(nodes.map(async (n) => [n.chainId, await head(n)] as const))),
    );
    for (const s of systems) await auditSync(dbFile, s.node.url, s.addresses.registry, s.deployBlock);
  });

  after(async () => {
    await ponder?.stop();
    await client?.end();
    for (const n of nodes) await n.stop();
    await cluster?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("CREATE2 put the system at the same addresses on both chains", () => {
    expect(systems[1].addresses).to.deep.equal(systems[0].addresses);
    expect(nodes.map((n) => n.chainId)).to.deep.equal([31337, 4242]);
  });

  it("one database holds both histories, each equal to the auditor's, row for row", async () => {
    const audit = auditRows(dbFile);
    const indexed = await ponderRows(client, "consent");
    expect(diffRows(audit, indexed)).to.deep.equal([]);
    expect(indexed).to.deep.equal(audit);
    const per = (id: number) => indexed.filter((r) => r[0] === id).length;
    expect(per(4242)).to.equal(per(31337) + BRANCH); // the extra branch of 4242
    for (const s of systems) {
      const logs = await s.provider.getLogs({ address: Object.values(s.addresses), fromBlock: s.deployBlock });
      expect(per(s.node.chainId)).to.equal(logs.length);
      expect(await ponderRows(client, "consent", s.node.chainId)).to.deep.equal(auditRows(dbFile, s.node.chainId));
    }
  });

  it("each chain's derived state is that chain's contracts' own", async () => {
    for (const s of systems) {
      expect(await indexedState(client, "consent", s.node.chainId)).to.deep.equal(await chainState(s));
    }
    // Same addresses, different state: the chains are told apart by chain_id, not by address.
    const [a, b] = await Promise.all(systems.map((s) => indexedState(client, "consent", s.node.chainId)));
    expect(b.consents.length).to.equal(a.consents.length + 3);
  });

  it("GraphQL per chain and SQL across chains", async () => {
    const gql = async (chainId: number) => {
      const res = await fetch(`${ponder!.url}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          query: `query ($c: Int!) { events(where: { chainId: $c, eventName: "ConsentGranted" }) { totalCount } }`,
          variables: { c: chainId },
        }),
      });
      return ((await res.json()) as { data: { events: { totalCount: number } } }).data.events.totalCount;
    };
    const audit = auditRows(dbFile);
    for (const s of systems) {
      const id = s.node.chainId;
      expect(await gql(id)).to.equal(audit.filter((r) => r[0] === id && r[6] === "ConsentGranted").length);
    }
    const q = encodeURIComponent(
      JSON.stringify({
        json: { sql: "SELECT chain_id, count(*) AS n FROM events GROUP BY chain_id ORDER BY chain_id", params: [] },
      }),
    );
    const res = await fetch(`${ponder!.url}/sql/db?sql=${q}`);
    expect(res.status).to.equal(200);
    const rows = ((await res.json()) as { rows: { chain_id: number; n: string }[] }).rows;
    expect(rows.map((r) => [r.chain_id, Number(r.n)])).to.deep.equal(
      [31337, 4242].sort((x, y) => x - y).map((id) => [id, audit.filter((r) => r[0] === id).length]),
    );
  });

  it("/owners/:owner lists the owner's active consents on every chain, or on one with ?chainId", async () => {
    const owner = systems[0].actors.owners[0].address;
    const all = (await (await fetch(`${ponder!.url}/owners/${owner}`)).json()) as {
      chains: { chainId: number; epoch: number; consents: { grantee: string; dataId: string; purposes: string }[] }[];
    };
    expect(all.chains.map((c) => c.chainId)).to.deep.equal([4242, 31337]);
    const sortKey = (x: { grantee: string; dataId: string }) => `${x.grantee}/${x.dataId}`;
    const sorted = <T extends { grantee: string; dataId: string }>(xs: T[]) =>
      xs.sort((a, b) => (sortKey(a) < sortKey(b) ? -1 : 1));
    for (const chain of all.chains) {
      const s = systems.find((x) => x.node.chainId === chain.chainId)!;
      expect(chain.epoch).to.equal(Number(await s.registry.epochOf(owner)));
      // The chain's own answer for every key the owner ever touched on it.
      const keys = (
        await client.query("SELECT grantee, data_id FROM consent.consents WHERE chain_id = $1 AND owner = $2", [
          chain.chainId,
          owner.toLowerCase(),
        ])
      ).rows as { grantee: string; data_id: string }[];
      const active = [];
      for (const k of keys) {
        const c = await s.registry.getConsent(owner, k.grantee, k.data_id);
        if (c.active) active.push({ grantee: k.grantee, dataId: k.data_id, purposes: c.purposes.toString() });
      }
      expect(
        sorted(chain.consents.map((c) => ({ grantee: c.grantee, dataId: c.dataId, purposes: c.purposes }))),
      ).to.deep.equal(sorted(active));
    }
    // 4242's extra branch left one more grant of o1 in force there (the last of its three keys).
    const byChain = new Map(all.chains.map((c) => [c.chainId, c.consents.map((k) => k.dataId).sort()]));
    expect(byChain.get(4242)!.length).to.equal(byChain.get(31337)!.length + 1);
    const one = (await (await fetch(`${ponder!.url}/owners/${owner}?chainId=4242`)).json()) as {
      chains: { chainId: number }[];
    };
    expect(one.chains.map((c) => c.chainId)).to.deep.equal([4242]);
    const none = (await (await fetch(`${ponder!.url}/owners/${owner}?chainId=1`)).json()) as { chains: unknown[] };
    expect(none.chains).to.deep.equal([]);
  });

  it("audit verify (unchanged) over Ponder's tables gives the auditor's verdict on each chain", async () => {
    const audit = auditRows(dbFile);
    for (const s of systems) {
      const id = s.node.chainId;
      const v = await verifyBoth(dbFile, databaseUrl, "consent", id);
      expect(v.indexedRules).to.deep.equal(v.auditRules);
      const rows = audit.filter((r) => r[0] === id);
      expect(v.auditRules).to.deep.include({ ok: true, chainId: id, eventsChecked: rows.length, violations: [] });
      expect(v.auditRules.usesChecked).to.equal(rows.filter((r) => r[6] === "DataUsed").length);
      expect(v.audit.integrity.findings).to.deep.equal([]);
    }
  });

  it("an owner's report over Ponder's tables (owner-scoped, through its owner index) is the auditor's, on each chain", async () => {
    const owner = systems[0].actors.owners[0].address.toLowerCase();
    const store = await PonderAuditStore.open(databaseUrl, "consent");
    const sqlite = openAuditDb(dbFile);
    try {
      for (const s of systems) {
        const opts = {
          kind: "owner" as const,
          subject: owner,
          chainId: s.node.chainId,
          generatedAt: "2026-12-01T00:00:00.000Z",
        };
        const indexed = await buildReport(ownerScoped(store, owner), opts);
        const audit = await buildReport(sqlite, opts);
        // The same report but for its point in time: the auditor's is as of the block its sync
        // read to (the head), Ponder's tables know no block after the chain's last event.
        const atNoTime = (r: unknown) =>
          JSON.parse(JSON.stringify(r, (k, v: unknown) => (k === "lastBlock" || k === "asOf" ? undefined : v)));
        expect(atNoTime(indexed)).to.deep.equal(atNoTime(audit));
        expect(indexed.chainId).to.equal(s.node.chainId);
        expect(indexed.lastBlock).to.equal((await head(s.node)) - 40); // the chain's last event, not the owner's
        expect(audit.lastBlock).to.equal(await head(s.node));
        const rows = new Map(indexed.sections.map((x) => [x.name, x.rows.length]));
        expect([...rows.values()].reduce((a, b) => a + b, 0)).to.be.greaterThan(10);
      }
    } finally {
      sqlite.close();
      await store.close();
    }
  });
});
