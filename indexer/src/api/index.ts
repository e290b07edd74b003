import { Hono } from "hono";
import { and, asc, client, eq, graphql, ne } from "ponder";
import { db } from "ponder:api";
import schema from "ponder:schema";

import { indexedHeads } from "../../lib/status";

/**
 * What a dashboard or a data team queries (`ponder start` / `ponder serve`, 127.0.0.1):
 *
 * - `POST /graphql`: every table, filters, pagination; a consent's or a manager's `ownerState`
 *   gives its owner's epoch in the same query.
 * - `GET /sql/db?sql=…`: read-only SQL over the tables (Ponder's SQL over HTTP, `@ponder/client`).
 * - `GET /owners/:owner`: the owner's ACTIVE consents and CURRENT managers on every indexed
 *   chain (`?chainId=` for one), with the registry's rules applied at each chain's indexed head:
 *   a consent is active when granted (purposes ≠ 0), of the owner's current epoch and not
 *   expired at the head's timestamp; a manager is current when approved in the current epoch.
 * - `/health`, `/ready`, `/status`, `/metrics`: Ponder's own.
 */
const app = new Hono();

app.use("/sql/*", client({ db, schema }));
app.use("/graphql", graphql({ db, schema }));

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;

app.get("/owners/:owner", async (c) => {
  const address = c.req.param("owner");
  if (!ADDRESS.test(address))
    return c.json({ code: "INVALID_OWNER", error: "expected a 0x-prefixed 20-byte hex address" }, 400);
  const chainParam = c.req.query("chainId");
  if (chainParam !== undefined && !/^[1-9][0-9]*$/.test(chainParam)) {
    return c.json({ code: "INVALID_CHAIN_ID", error: "chainId must be a positive integer" }, 400);
  }
  const ownerAddress = address.toLowerCase();
  const heads = (await indexedHeads(db)).filter((h) => chainParam === undefined || h.chainId === Number(chainParam));

  const { consent, manager, owner } = schema;
  const chains = [];
  for (const head of heads) {
    const [state] = await db
      .select()
      .from(owner)
      .where(and(eq(owner.chainId, head.chainId), eq(owner.owner, ownerAddress)));
    const epoch = state?.epoch ?? 0;
    const consents = await db
      .select()
      .from(consent)
      .where(
        and(
          eq(consent.chainId, head.chainId),
          eq(consent.owner, ownerAddress),
          ne(consent.purposes, 0n),
          eq(consent.epoch, epoch),
        ),
      )
      .orderBy(asc(consent.grantee), asc(consent.dataId));
    const managers = await db
      .select()
      .from(manager)
      .where(
        and(
          eq(manager.chainId, head.chainId),
          eq(manager.owner, ownerAddress),
          eq(manager.approved, true),
          eq(manager.epoch, epoch),
        ),
      )
      .orderBy(asc(manager.manager));
    const at = BigInt(head.blockTimestamp ?? 0);
    chains.push({
      chainId: head.chainId,
      block: head.blockNumber,
      timestamp: head.blockTimestamp,
      epoch,
      consents: consents
        .filter((k) => k.expiresAt === 0n || at < k.expiresAt)
        .map((k) => ({
          grantee: k.grantee,
          dataId: k.dataId,
          purposes: k.purposes.toString(),
          expiresAt: k.expiresAt.toString(),
          version: k.version.toString(),
          via: k.via,
        })),
      managers: managers.map((m) => m.manager),
    });
  }
  return c.json({ owner: ownerAddress, chains });
});

export default app;
