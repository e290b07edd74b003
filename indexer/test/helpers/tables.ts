import Database from "better-sqlite3";
import pg from "pg";

import { openAuditDb, syncEvents, verifyHistory, type VerifyResult } from "../../../src/audit/index.js";
import { PonderAuditStore } from "../../audit/ponder-store.js";
import type { Ponder } from "./processes.js";
import { sleep } from "./processes.js";

/**
 * The two sides of the cross-check, read into one comparable shape: the auditor's `events`
 * table (SQLite, written by `syncEvents` through src/audit's public entry) and Ponder's (the
 * same columns in PostgreSQL). Integers come back as numbers on both sides, text as text.
 */
export type Row = [
  chainId: number,
  blockNumber: number,
  blockHash: string,
  logIndex: number,
  txHash: string,
  address: string,
  eventName: string,
  argsJson: string,
  blockTimestamp: number,
  via: number | null,
  version: string | null,
];

const COLUMNS =
  "chain_id, block_number, block_hash, log_index, tx_hash, address, event_name, args_json, block_timestamp, via, version";

function normalize(r: Record<string, unknown>): Row {
  return [
    Number(r.chain_id),
    Number(r.block_number),
    String(r.block_hash),
    Number(r.log_index),
    String(r.tx_hash),
    String(r.address),
    String(r.event_name),
    String(r.args_json),
    Number(r.block_timestamp),
    r.via === null ? null : Number(r.via),
    r.version === null ? null : String(r.version),
  ];
}

/** Runs the auditor's sync of `registry` on `rpc` into the SQLite file `path` (created or continued). */
export async function auditSync(path: string, rpc: string, registry: string, fromBlock: number) {
  const db = openAuditDb(path);
  try {
    return await syncEvents({ db, rpc, registry, fromBlock, progress: "none" });
  } finally {
    db.close();
  }
}

/** The auditor's events, in chain order (chain, block, log index). */
export function auditRows(path: string, chainId?: number): Row[] {
  const db = new Database(path, { readonly: true });
  try {
    const where = chainId === undefined ? "" : `WHERE chain_id = ${Number(chainId)}`;
    return (
      db.prepare(`SELECT ${COLUMNS} FROM events ${where} ORDER BY chain_id, block_number, log_index`).all() as Record<
        string,
        unknown
      >[]
    ).map(normalize);
  } finally {
    db.close();
  }
}

/** A PostgreSQL client for `url`, closed by `end()`. */
export async function pgClient(url: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  return c;
}

/** Ponder's events in `schema`, in chain order. */
export async function ponderRows(c: pg.Client, schema: string, chainId?: number): Promise<Row[]> {
  const where = chainId === undefined ? "" : `WHERE chain_id = ${Number(chainId)}`;
  const res = await c.query(
    `SELECT ${COLUMNS} FROM "${schema}".events ${where} ORDER BY chain_id, block_number, log_index`,
  );
  return res.rows.map(normalize);
}

/**
 * Each chain's indexed block in Ponder's status table, by chain id (absent until its backfill is
 * done). The table is keyed by network name; the tests name chain N `chainN` (the default).
 */
export async function ponderHeads(c: pg.Client, schema: string): Promise<Map<number, number | null>> {
  try {
    const res = await c.query(`SELECT network_name, block_number FROM "${schema}"._ponder_status`);
    return new Map(
      res.rows.map((r) => [
        Number(String(r.network_name).replace(/^chain/, "")),
        r.block_number === null ? null : Number(r.block_number),
      ]),
    );
  } catch {
    return new Map(); // the schema or table does not exist yet
  }
}

/**
 * Waits until Ponder has indexed every chain of `heads` (chain id → block) exactly up to that
 * block: its /ready answers 200 (backfill done) and its status table names the block (after a
 * reorg to a shorter chain the status first shows the old, higher head: "at least" would not do).
 */
export async function waitIndexed(
  ponder: Ponder,
  c: pg.Client,
  heads: Map<number, number>,
  timeoutMs = 120_000,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  let last = new Map<number, number | null>();
  while (Date.now() < until) {
    if (!ponder.alive()) throw new Error(`ponder exited:\n${ponder.output()}`);
    const ready = await fetch(`${ponder.url}/ready`).then(
      (r) => r.status === 200,
      () => false,
    );
    last = await ponderHeads(c, ponder.schema);
    if (ready && [...heads].every(([id, block]) => last.get(id) === block)) return;
    await sleep(100);
  }
  throw new Error(
    `ponder did not index ${JSON.stringify([...heads])} in ${timeoutMs} ms (status ${JSON.stringify([...last])}):\n${ponder.output()}`,
  );
}

/**
 * Differences between two row lists, in words (empty = equal): missing, extra or changed rows
 * by (chain, block, log index). Used by every comparison so a failure says which log differs.
 */
export function diffRows(expected: Row[], actual: Row[]): string[] {
  const key = (r: Row) => `${r[0]}/${r[1]}/${r[3]}`;
  const a = new Map(actual.map((r) => [key(r), r]));
  const e = new Map(expected.map((r) => [key(r), r]));
  const out: string[] = [];
  for (const [k, r] of e) {
    const other = a.get(k);
    if (!other) out.push(`missing ${k} ${r[6]}`);
    else if (JSON.stringify(other) !== JSON.stringify(r))
      out.push(`changed ${k}: ${JSON.stringify(r)} != ${JSON.stringify(other)}`);
  }
  for (const [k, r] of a) if (!e.has(k)) out.push(`extra ${k} ${r[6]}`);
  if (out.length === 0 && JSON.stringify(expected.map(key)) !== JSON.stringify(actual.map(key)))
    out.push("same rows, other order");
  return out;
}

/** The chain's logs of the watched contracts as (block, log index, block hash, tx hash). */
export function logKeys(rows: Row[]): [number, number, string, string][] {
  return rows.map((r) => [r[1], r[3], r[2], r[4]]);
}

/**
 * Polls until Ponder's events of `chainId` are exactly `expected` (block, log index, block hash,
 * tx hash), in order: how a test knows Ponder has handled a reorg, whose old rows it must drop.
 */
export async function waitRows(
  ponder: Ponder,
  c: pg.Client,
  chainId: number,
  expected: [number, number, string, string][],
  timeoutMs = 120_000,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  let got: [number, number, string, string][] = [];
  while (Date.now() < until) {
    if (!ponder.alive()) throw new Error(`ponder exited:\n${ponder.output()}`);
    got = logKeys(await ponderRows(c, ponder.schema, chainId));
    if (JSON.stringify(got) === JSON.stringify(expected)) return;
    await sleep(100);
  }
  throw new Error(
    `ponder's rows did not become the chain's logs in ${timeoutMs} ms: ${got.length} rows, ${expected.length} logs:\n${ponder.output()}`,
  );
}

/** What `verifyHistory` says about the rules, comparable between the two stores. */
export interface RulesVerdict {
  ok: boolean;
  chainId: number;
  eventsChecked: number;
  usesChecked: number;
  sharesChecked: number;
  lastBlock: number;
  violations: { rule: string; block: number; logIndex: number; message: string }[];
}

export interface VerifyBoth {
  audit: VerifyResult;
  indexed: VerifyResult;
  /** The rules' verdict of each, in the same shape. */
  auditRules: RulesVerdict;
  indexedRules: RulesVerdict;
}

function rulesVerdict(r: VerifyResult): RulesVerdict {
  return {
    // The indexer's store has no sync digest: `ok` here is about the rules only, on both sides.
    ok: r.violations.length === 0,
    chainId: r.chainId,
    eventsChecked: r.eventsChecked,
    usesChecked: r.usesChecked,
    sharesChecked: r.sharesChecked,
    lastBlock: r.lastBlock,
    violations: r.violations.map((v) => ({
      rule: v.rule,
      block: v.event.blockNumber,
      logIndex: v.event.logIndex,
      message: v.message,
    })),
  };
}

/**
 * `verifyHistory` (src/audit/verify.ts, unchanged) over the auditor's SQLite store and over
 * Ponder's tables (indexer/audit/ponder-store.ts), for chain `chainId`.
 */
export async function verifyBoth(
  dbFile: string,
  databaseUrl: string,
  schema: string,
  chainId: number,
): Promise<VerifyBoth> {
  const sqlite = openAuditDb(dbFile);
  let audit: VerifyResult;
  try {
    audit = await verifyHistory(sqlite, { chainId });
  } finally {
    sqlite.close();
  }
  const store = await PonderAuditStore.open(databaseUrl, schema);
  let indexed: VerifyResult;
  try {
    indexed = await verifyHistory(store, { chainId });
  } finally {
    await store.end();
  }
  return { audit, indexed, auditRules: rulesVerdict(audit), indexedRules: rulesVerdict(indexed) };
}
