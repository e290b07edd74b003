import { ponder } from "ponder:registry";
import { consent, event, manager, owner, purpose } from "ponder:schema";

import { ConsentRegistryAbi } from "../abis/ConsentRegistry";
import { eventRow, type LogEvent, viaOf } from "../lib/rows";

/**
 * The ConsentRegistry: every log into `events`, and the current state the registry keeps,
 * derived from the events alone (the contract's rules, as IConsentRegistry states them):
 * a transaction or signature grant stores purposes, expiry, the owner's current epoch and the
 * version; a revocation leaves only the version; a lockdown moves the owner's epoch, which ends
 * every consent and manager of older epochs without touching their rows (O(1), as on-chain).
 */
const INPUTS = new Map(ConsentRegistryAbi.filter((i) => i.type === "event").map((i) => [i.name as string, i.inputs]));

type Db = Parameters<Parameters<typeof ponder.on<"ConsentRegistry:ConsentGranted">>[1]>[0]["context"]["db"];

async function insertRow(db: Db, chainId: number, name: string, e: LogEvent): Promise<void> {
  await db.insert(event).values(eventRow(chainId, "registry", name, INPUTS.get(name)!, e));
}

/** The owner's current epoch, creating its row (epoch 0) on first sight. */
async function ownerEpoch(db: Db, chainId: number, address: string): Promise<number> {
  const row = await db.find(owner, { chainId, owner: address });
  if (row) return row.epoch;
  await db.insert(owner).values({ chainId, owner: address, epoch: 0 });
  return 0;
}

ponder.on("ConsentRegistry:ConsentGranted", async ({ event: e, context }) => {
  const chainId = context.network.chainId;
  await insertRow(context.db, chainId, "ConsentGranted", e);
  const a = e.args;
  const key = { chainId, owner: a.owner.toLowerCase(), grantee: a.grantee.toLowerCase(), dataId: a.dataId };
  const epoch = await ownerEpoch(context.db, chainId, key.owner);
  const values = {
    purposes: a.purposes,
    expiresAt: BigInt(a.expiresAt),
    epoch,
    version: a.version,
    noticeHash: a.noticeHash,
    actor: a.actor.toLowerCase(),
    via: viaOf(a.owner, a.actor, a.version),
    updatedBlock: Number(e.block.number),
    updatedTx: e.transaction.hash,
  };
  await context.db
    .insert(consent)
    .values({ ...key, ...values })
    .onConflictDoUpdate(values);
});

ponder.on("ConsentRegistry:ConsentRevoked", async ({ event: e, context }) => {
  const chainId = context.network.chainId;
  await insertRow(context.db, chainId, "ConsentRevoked", e);
  const a = e.args;
  const key = { chainId, owner: a.owner.toLowerCase(), grantee: a.grantee.toLowerCase(), dataId: a.dataId };
  await ownerEpoch(context.db, chainId, key.owner);
  // What the slot holds after a revocation: the version of the next generation, nothing else.
  const values = {
    purposes: 0n,
    expiresAt: 0n,
    epoch: 0,
    version: a.version,
    noticeHash: null,
    actor: a.actor.toLowerCase(),
    via: viaOf(a.owner, a.actor, a.version),
    updatedBlock: Number(e.block.number),
    updatedTx: e.transaction.hash,
  };
  await context.db
    .insert(consent)
    .values({ ...key, ...values })
    .onConflictDoUpdate(values);
});

ponder.on("ConsentRegistry:AllConsentsRevoked", async ({ event: e, context }) => {
  const chainId = context.network.chainId;
  await insertRow(context.db, chainId, "AllConsentsRevoked", e);
  const a = e.args;
  const values = {
    epoch: Number(a.newEpoch),
    lastLockdownBlock: Number(e.block.number),
    lastLockdownActor: a.actor.toLowerCase(),
    lastLockdownVia: Number(a.via),
  };
  await context.db
    .insert(owner)
    .values({ chainId, owner: a.owner.toLowerCase(), ...values })
    .onConflictDoUpdate(values);
});

ponder.on("ConsentRegistry:ManagerSet", async ({ event: e, context }) => {
  const chainId = context.network.chainId;
  await insertRow(context.db, chainId, "ManagerSet", e);
  const a = e.args;
  const ownerAddress = a.owner.toLowerCase();
  const epoch = await ownerEpoch(context.db, chainId, ownerAddress);
  const values = { approved: a.approved, epoch, updatedBlock: Number(e.block.number) };
  await context.db
    .insert(manager)
    .values({ chainId, owner: ownerAddress, manager: a.manager.toLowerCase(), ...values })
    .onConflictDoUpdate(values);
});

ponder.on("ConsentRegistry:PurposeDefined", async ({ event: e, context }) => {
  const chainId = context.network.chainId;
  await insertRow(context.db, chainId, "PurposeDefined", e);
  await context.db.insert(purpose).values({
    chainId,
    id: Number(e.args.id),
    metadataHash: e.args.metadataHash,
    deprecated: false,
    definedBlock: Number(e.block.number),
  });
});

ponder.on("ConsentRegistry:PurposeDeprecated", async ({ event: e, context }) => {
  const chainId = context.network.chainId;
  await insertRow(context.db, chainId, "PurposeDeprecated", e);
  await context.db.update(purpose, { chainId, id: Number(e.args.id) }).set({ deprecated: true });
});

// Events that only go to the history.
for (const name of [
  "SignedRevokeFailed",
  "DataUsed",
  "DataShared",
  "EIP712DomainChanged",
  "AuthorityUpdated",
] as const) {
  ponder.on(`ConsentRegistry:${name}`, async ({ event: e, context }) => {
    await insertRow(context.db, context.network.chainId, name, e as unknown as LogEvent);
  });
}
