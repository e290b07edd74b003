import type pg from "pg";

import type { System } from "./system.js";

/**
 * The indexer's derived state next to the contracts' own view at the same block (the head):
 * what `getConsent`, `epochOf`, `isManager`, `getIntegration`, the purpose catalogue and the
 * AccessManager's schedule answer, for every key the indexer has a row for, and for every key
 * the events name (so a missing row is caught too). Both sides are returned as plain values;
 * the tests compare them with deep equality.
 */
export interface StateView {
  consents: string[][];
  owners: string[][];
  managers: string[][];
  integrations: string[][];
  purposes: string[][];
  operations: string[][];
}

const s = (v: unknown) => (v === null || v === undefined ? "null" : String(v));

/** The indexer's rows of chain `chainId`, as sorted string tuples. */
export async function indexedState(c: pg.Client, schema: string, chainId: number): Promise<StateView> {
  // Sorted here, not by the database's collation, as chainState sorts.
  const q = async (sql: string) =>
    (await c.query(sql, [chainId])).rows
      .map((r: Record<string, unknown>) => Object.values(r).map(s))
      .sort((x: string[], y: string[]) => (x.join("/") < y.join("/") ? -1 : 1));
  return {
    consents: await q(
      `SELECT owner, grantee, data_id, purposes, expires_at, epoch, version FROM "${schema}".consents WHERE chain_id = $1 ORDER BY 1, 2, 3`,
    ),
    owners: await q(`SELECT owner, epoch FROM "${schema}".owners WHERE chain_id = $1 ORDER BY 1`),
    managers: await q(
      `SELECT m.owner, m.manager, (m.approved AND m.epoch = o.epoch) AS current FROM "${schema}".managers m
       JOIN "${schema}".owners o ON o.chain_id = m.chain_id AND o.owner = m.owner WHERE m.chain_id = $1 ORDER BY 1, 2`,
    ),
    integrations: await q(
      `SELECT integration, metadata_hash, purposes, status FROM "${schema}".integrations WHERE chain_id = $1 ORDER BY 1`,
    ),
    purposes: await q(`SELECT id, metadata_hash, deprecated FROM "${schema}".purposes WHERE chain_id = $1 ORDER BY 1`),
    operations: await q(
      `SELECT op_id, nonce, (status = 'scheduled') AS pending FROM "${schema}".operations WHERE chain_id = $1 ORDER BY 1`,
    ),
  };
}

/**
 * The contracts' answers for the keys the chain's events name (owners, consent keys, managers,
 * integrations, purposes, operations), read from the logs with ethers' decoder, independently of
 * both indexers.
 */
export async function chainState(sys: System): Promise<StateView> {
  const { registry, integrations, authority, provider } = sys;
  const logs = await provider.getLogs({ address: Object.values(sys.addresses), fromBlock: sys.deployBlock });
  const keys = new Map<string, [string, string, string]>();
  const owners = new Set<string>();
  const managers = new Map<string, [string, string]>();
  const integrationSet = new Set<string>();
  const purposeIds = new Set<number>();
  const ops = new Set<string>();
  for (const log of logs) {
    const addr = log.address.toLowerCase();
    if (addr === sys.addresses.registry) {
      const e = registry.interface.parseLog(log);
      if (!e) continue;
      const a = e.args;
      if (e.name === "ConsentGranted" || e.name === "ConsentRevoked") {
        const k: [string, string, string] = [a.owner.toLowerCase(), a.grantee.toLowerCase(), a.dataId];
        keys.set(k.join("/"), k);
        owners.add(k[0]);
      } else if (e.name === "AllConsentsRevoked") owners.add(a.owner.toLowerCase());
      else if (e.name === "ManagerSet") {
        const k: [string, string] = [a.owner.toLowerCase(), a.manager.toLowerCase()];
        managers.set(k.join("/"), k);
        owners.add(k[0]);
      } else if (e.name === "PurposeDefined") purposeIds.add(Number(a.id));
    } else if (addr === sys.addresses.integrations) {
      const e = integrations.interface.parseLog(log);
      if (e?.name === "IntegrationRegistered") integrationSet.add(e.args.integration.toLowerCase());
    } else {
      const e = authority.interface.parseLog(log);
      if (e?.name === "OperationScheduled") ops.add(e.args.operationId);
    }
  }
  const sorted = <T>(xs: Iterable<T>, by: (x: T) => string) => [...xs].sort((x, y) => (by(x) < by(y) ? -1 : 1));
  const byKey = (rows: string[][]) => rows.sort((x, y) => (x.join("/") < y.join("/") ? -1 : 1));
  const consents: string[][] = [];
  for (const [o, g, d] of sorted(keys.values(), (k) => k.join("/"))) {
    const c = await registry.getConsent(o, g, d);
    consents.push([o, g, d, s(c.purposes), s(c.expiresAt), s(c.epoch), s(c.version)]);
  }
  const ownerRows: string[][] = [];
  for (const o of sorted(owners, (x) => x)) ownerRows.push([o, s(await registry.epochOf(o))]);
  const managerRows: string[][] = [];
  for (const [o, m] of sorted(managers.values(), (k) => k.join("/"))) {
    managerRows.push([o, m, s(await registry.isManager(o, m))]);
  }
  const integrationRows: string[][] = [];
  for (const i of sorted(integrationSet, (x) => x)) {
    const r = await integrations.getIntegration(i);
    integrationRows.push([i, r.metadataHash, s(r.purposes), s(r.status)]);
  }
  const grantable = await registry.grantablePurposes();
  const purposeRows: string[][] = [];
  for (const id of [...purposeIds].sort((x, y) => x - y)) {
    purposeRows.push([s(id), await registry.purposeMetadata(id), s(((grantable >> BigInt(id)) & 1n) === 0n)]);
  }
  const opRows: string[][] = [];
  for (const op of sorted(ops, (x) => x)) {
    opRows.push([op, s(await authority.getNonce(op)), s((await authority.getSchedule(op)) !== 0n)]);
  }
  return {
    consents: byKey(consents),
    owners: byKey(ownerRows),
    managers: byKey(managerRows),
    integrations: byKey(integrationRows),
    purposes: byKey(purposeRows),
    operations: byKey(opRows),
  };
}
