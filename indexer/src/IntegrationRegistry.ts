import { ponder } from "ponder:registry";
import { event, integration } from "ponder:schema";

import { IntegrationRegistryAbi } from "../abis/IntegrationRegistry";
import { eventRow, type LogEvent } from "../lib/rows";

/** The IntegrationRegistry: every log into `events`, and each integration's current record. */
const INPUTS = new Map(IntegrationRegistryAbi.map((i) => [i.name as string, i.inputs]));

/** IIntegrationRegistry.Status */
const ACTIVE = 1;
const SUSPENDED = 2;

type Db = Parameters<Parameters<typeof ponder.on<"IntegrationRegistry:IntegrationRegistered">>[1]>[0]["context"]["db"];

async function insertRow(db: Db, chainId: number, name: string, e: LogEvent): Promise<void> {
  await db.insert(event).values(eventRow(chainId, "integrations", name, INPUTS.get(name)!, e));
}

ponder.on("IntegrationRegistry:IntegrationRegistered", async ({ event: e, context }) => {
  const chainId = context.network.chainId;
  await insertRow(context.db, chainId, "IntegrationRegistered", e);
  const block = Number(e.block.number);
  await context.db.insert(integration).values({
    chainId,
    integration: e.args.integration.toLowerCase(),
    metadataHash: e.args.metadataHash,
    purposes: e.args.purposes,
    status: ACTIVE,
    registeredBlock: block,
    updatedBlock: block,
  });
});

ponder.on("IntegrationRegistry:IntegrationUpdated", async ({ event: e, context }) => {
  const chainId = context.network.chainId;
  await insertRow(context.db, chainId, "IntegrationUpdated", e);
  await context.db
    .update(integration, { chainId, integration: e.args.integration.toLowerCase() })
    .set({ metadataHash: e.args.metadataHash, purposes: e.args.purposes, updatedBlock: Number(e.block.number) });
});

for (const [name, status] of [
  ["IntegrationSuspended", SUSPENDED],
  ["IntegrationReinstated", ACTIVE],
] as const) {
  ponder.on(`IntegrationRegistry:${name}`, async ({ event: e, context }) => {
    const chainId = context.network.chainId;
    await insertRow(context.db, chainId, name, e);
    await context.db
      .update(integration, { chainId, integration: e.args.integration.toLowerCase() })
      .set({ status, updatedBlock: Number(e.block.number) });
  });
}

ponder.on("IntegrationRegistry:AuthorityUpdated", async ({ event: e, context }) => {
  await insertRow(context.db, context.network.chainId, "AuthorityUpdated", e);
});
