import { ponder } from "ponder:registry";
import { event, operation } from "ponder:schema";

import { ConsentAccessManagerAbi } from "../abis/ConsentAccessManager";
import { eventRow, type LogEvent } from "../lib/rows";

/**
 * The AccessManager (ConsentAccessManager): every log into `events` (the role and routing events
 * as `Unknown`, raw, as the auditor keeps them), and each scheduled operation's fate.
 */
const INPUTS = new Map(ConsentAccessManagerAbi.map((i) => [i.name as string, i.inputs]));

type Db = Parameters<Parameters<typeof ponder.on<"AccessManager:OperationScheduled">>[1]>[0]["context"]["db"];

async function insertRow(db: Db, chainId: number, name: string, e: LogEvent): Promise<void> {
  await db.insert(event).values(eventRow(chainId, "authority", name, INPUTS.get(name)!, e));
}

ponder.on("AccessManager:OperationScheduled", async ({ event: e, context }) => {
  const chainId = context.network.chainId;
  await insertRow(context.db, chainId, "OperationScheduled", e);
  const a = e.args;
  const block = Number(e.block.number);
  const values = {
    nonce: Number(a.nonce),
    schedule: BigInt(a.schedule),
    caller: a.caller.toLowerCase(),
    target: a.target.toLowerCase(),
    data: a.data,
    status: "scheduled",
    scheduledBlock: block,
    updatedBlock: block,
  };
  await context.db
    .insert(operation)
    .values({ chainId, opId: a.operationId, ...values })
    .onConflictDoUpdate(values);
});

for (const [name, status] of [
  ["OperationExecuted", "executed"],
  ["OperationCanceled", "canceled"],
] as const) {
  ponder.on(`AccessManager:${name}`, async ({ event: e, context }) => {
    const chainId = context.network.chainId;
    await insertRow(context.db, chainId, name, e);
    // An operation executed without being scheduled (a caller without delay) has no row.
    const row = await context.db.find(operation, { chainId, opId: e.args.operationId });
    if (row && row.nonce === Number(e.args.nonce)) {
      await context.db
        .update(operation, { chainId, opId: e.args.operationId })
        .set({ status, updatedBlock: Number(e.block.number) });
    }
  });
}

for (const name of [
  "RoleAdminChanged",
  "RoleGrantDelayChanged",
  "RoleGranted",
  "RoleGuardianChanged",
  "RoleLabel",
  "RoleRevoked",
  "TargetAdminDelayUpdated",
  "TargetClosed",
  "TargetFunctionRoleUpdated",
] as const) {
  ponder.on(`AccessManager:${name}`, async ({ event: e, context }) => {
    await insertRow(context.db, context.network.chainId, name, e as unknown as LogEvent);
  });
}
