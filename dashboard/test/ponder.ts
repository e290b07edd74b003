/**
 * The dashboard's indexer source against a live Ponder (`npm run test:dashboard:ponder`): the
 * indexer app of `indexer/` over a hardhat node, into a throwaway PostgreSQL cluster, each its
 * own process on 127.0.0.1 stopped by pid (the indexer tests' helpers). For every owner of the
 * indexer tests' history (grants, revocations, lockdowns by owner, manager and signature, uses,
 * shares, governance), the events the page reads through Ponder's GraphQL equal the events it
 * reads from the chain's logs, and so does the owner view built from them. Needs
 * `npm ci --prefix indexer` and PostgreSQL (scripts/pg), as `npm run test:indexer` does.
 */
import { expect } from "chai";

import { createDatabase, type PgCluster, usePostgres } from "../../test/helpers/pg.js";
import { playHistory } from "../../indexer/test/helpers/history.js";
import { type Node, type Ponder, rpc, startNode, startPonder } from "../../indexer/test/helpers/processes.js";
import { deploySystem, head, indexedChain, mine, type System } from "../../indexer/test/helpers/system.js";
import { pgClient, waitIndexed } from "../../indexer/test/helpers/tables.js";
import { buildOwnerData } from "../src/owner-view.js";
import { IndexerSource } from "../src/source/indexer.js";
import { RpcSource } from "../src/source/rpc.js";
import type { Watched } from "../src/source/types.js";

describe("dashboard: the indexer source on a live Ponder equals the chain's logs", function () {
  this.timeout(300_000);
  let cluster: PgCluster;
  let node: Node;
  let sys: System;
  let ponder: Ponder | undefined;
  let client: Awaited<ReturnType<typeof pgClient>> | undefined;

  before(async () => {
    cluster = await usePostgres();
    node = await startNode(31337);
    sys = await deploySystem(node);
    await playHistory(sys);
    await mine(node, 40); // past Ponder's finality depth on a dev chain: all backfilled
    const databaseUrl = await createDatabase(cluster, "dashboard");
    client = await pgClient(databaseUrl);
    ponder = await startPonder({ chains: [indexedChain(sys)], databaseUrl, schema: "consent" });
    await waitIndexed(ponder, client, new Map([[node.chainId, await head(node)]]));
  });

  after(async () => {
    await ponder?.stop();
    await client?.end();
    await node?.stop();
    await cluster?.stop();
  });

  it("every owner: the same events in chain order, and the same owner view", async () => {
    const w: Watched = {
      chainId: node.chainId,
      registry: sys.addresses.registry,
      integrations: sys.addresses.integrations,
      authority: sys.addresses.accessManager,
      fromBlock: sys.deployBlock,
    };
    const logs = new RpcSource((method, params) => rpc(node.url, method, params));
    const indexer = new IndexerSource(ponder!.url);
    let events = 0;
    for (const o of sys.actors.owners) {
      const owner = await o.getAddress();
      const [a, b] = await Promise.all([logs.ownerHistory(owner, w), indexer.ownerHistory(owner, w)]);
      expect(b.events.length).to.be.greaterThan(10);
      expect(b.events).to.deep.equal(a.events);
      // Ponder's head is the chain's (indexed to the tip): the same time, so the same statuses.
      expect([b.lastBlock, b.asOf]).to.deep.equal([a.lastBlock, a.asOf]);
      const strip = (v: ReturnType<typeof buildOwnerData>) => ({ ...v, view: { ...v.view, meta: undefined } });
      expect(strip(buildOwnerData(b, w))).to.deep.equal(strip(buildOwnerData(a, w)));
      events += b.events.length;
    }
    console.log(
      `      ${sys.actors.owners.length} owners, ${events} events, equal from Ponder's GraphQL and eth_getLogs`,
    );
  });
});
