import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

import { expect } from "chai";

import { type IndexedEventRow, IndexerSource } from "../../dashboard/src/source/indexer.js";
import { buildOwnerData } from "../../dashboard/src/owner-view.js";

/**
 * The dashboard's indexer adapter against a recorded answer of the indexer's GraphQL
 * (fixtures/indexer-events.json: rows of Ponder's `events` table for one owner, in the shape
 * `indexer/ponder.schema.ts` defines). A fake fetch answers from the recording, in pages, so the
 * test checks the queries sent (filters, cursors), the decoding back into the audit's events
 * and the owner view built from them.
 */
const FIXTURE = fileURLToPath(new URL("./fixtures/indexer-events.json", import.meta.url));
interface Recording {
  watched: { chainId: number; registry: string; integrations: string; authority: string };
  owner: string;
  rows: IndexedEventRow[];
}

interface Sent {
  where: Record<string, unknown>;
  after: string | null;
}

function fakeIndexer(rows: IndexedEventRow[], pageSize: number, head: { number: number; timestamp: number }) {
  const sent: Sent[] = [];
  const fetchFn = (async (url: string | URL, init?: RequestInit) => {
    const u = String(url);
    if (u.endsWith("/status")) {
      // Ponder's /status: per network name (ponder.config.ts), the head and whether it is ready; no chain id.
      return new Response(JSON.stringify({ hardhat: { block: head, ready: true } }));
    }
    const { variables } = JSON.parse(String(init!.body)) as { variables: Sent };
    sent.push(variables);
    const w = variables.where;
    const hit = rows.filter(
      (r) =>
        r.chainId === w.chainId &&
        (w.address === undefined || r.address === w.address) &&
        (w.address_in === undefined || (w.address_in as string[]).includes(r.address)) &&
        (w.eventName_in === undefined || (w.eventName_in as string[]).includes(r.eventName)) &&
        (w.argsJson_contains === undefined || r.argsJson.includes(String(w.argsJson_contains))),
    );
    const start = Number(variables.after ?? 0);
    const items = hit.slice(start, start + pageSize);
    const end = start + items.length;
    return new Response(
      JSON.stringify({
        data: { events: { items, pageInfo: { hasNextPage: end < hit.length, endCursor: String(end) } } },
      }),
    );
  }) as typeof fetch;
  return { fetchFn, sent };
}

describe("dashboard: the indexer API adapter (recorded fixture)", () => {
  const { watched: W, owner: OWNER, rows } = JSON.parse(readFileSync(FIXTURE, "utf8")) as Recording;

  it("asks for the owner's rows, the governance rows and the catalogue, follows the cursors, and rebuilds the owner's view", async () => {
    // The indexed head: 10 s after the last recorded block (the scheduled suspension is 60 s away).
    const last = Math.max(...rows.map((r) => r.blockTimestamp));
    const { fetchFn, sent } = fakeIndexer(rows, 2, { number: 40, timestamp: last + 10 });
    const h = await new IndexerSource("http://127.0.0.1:42069", fetchFn).ownerHistory(OWNER, W);
    const owner = OWNER.toLowerCase();
    expect(sent[0]!.where).to.deep.equal({
      chainId: 31337,
      address: W.registry.toLowerCase(),
      argsJson_contains: `"owner":"${owner}"`,
    });
    // Pages of 2 rows: the cursor of each page is the next request's `after`.
    expect(sent.filter((s) => s.where.argsJson_contains !== undefined).map((s) => s.after)).to.deep.equal([null, "2"]);
    expect(sent.map((s) => s.where).slice(-1)).to.deep.equal([
      { chainId: 31337, address: W.registry.toLowerCase(), eventName_in: ["PurposeDefined", "PurposeDeprecated"] },
    ]);
    // Chain order; another owner's grant (block 6) is left out; the AccessManager's role
    // events stay as Unknown (kept, as the auditor keeps them).
    const known = h.events.filter((e) => e.name !== "Unknown");
    expect(known.map((e) => `${e.blockNumber}:${e.logIndex}:${e.name}`)).to.deep.equal([
      "1:1:AuthorityUpdated",
      ...[3, 4, 5, 6, 7, 8, 9, 10].map((i) => `1:${i}:PurposeDefined`),
      "1:11:IntegrationRegistered",
      "2:0:ConsentGranted",
      "3:0:ConsentGranted",
      "4:0:ManagerSet",
      "5:0:ConsentRevoked",
      "7:0:OperationScheduled",
    ]);
    // Every row but that grant and the registry's own AuthorityUpdated (neither the owner's nor the catalogue's).
    expect(h.events.length).to.equal(rows.length - 2);
    expect([h.lastBlock, h.asOf, h.chainId]).to.deep.equal([40, last + 10, 31337]);
    // Hardhat's default accounts #2 (the integration) and #3 (the manager).
    const acme = "0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc";
    const manager = "0x90f79bf6eb2c4f870365e785982e1f101e93b906";
    const { view, pending } = buildOwnerData(h, W);
    expect(
      view.consents.map((c) => [c.grantee, c.dataId, c.status, c.purposes.map((p) => p.name), c.given.via]),
    ).to.deep.equal([[acme, `0x${"f".repeat(64)}`, "active", ["MODEL_TRAINING", "INFERENCE"], "Owner"]]);
    expect(view.withdrawals.map((w) => w.kind)).to.deep.equal(["revoked"]);
    expect(view.managers.map((m) => [m.manager, m.ended])).to.deep.equal([[manager, null]]);
    expect(pending.map((p) => [p.what, p.integration, p.affects, p.readyAt - h.asOf])).to.deep.equal([
      ["suspend integration", acme, ["you have consent in force for this integration"], 50],
    ]);
  });

  it("an API error is said in words naming the API", async () => {
    const failing = (async () => new Response("oops", { status: 502 })) as unknown as typeof fetch;
    const err = await new IndexerSource("http://127.0.0.1:42069", failing).ownerHistory(OWNER, W).then(
      () => null,
      (e: Error) => e,
    );
    expect(err?.message).to.equal("the indexer's API at http://127.0.0.1:42069 answered HTTP 502");
  });
});
