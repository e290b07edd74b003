import { existsSync } from "node:fs";

import { type AuditStore, isPostgresUrl, openAuditStore, redactUrl } from "../../audit/index.js";
import { CliError } from "../failure.js";

/**
 * `--db` of the audit commands: a SQLite file path (the default) or a postgres:// URL, and which
 * of the chains a store holds a command reads (the global --chain-id, or every chain).
 */

/** `--db` in messages: a URL without its password. */
export function dbLabel(target: string): string {
  return isPostgresUrl(target) ? redactUrl(target) : target;
}

/** The store a sync writes (created when missing). */
export function openDbForSync(target: string): Promise<AuditStore> {
  return openAuditStore(target);
}

/**
 * The store state, verify and report read: a SQLite file must exist (nothing is created by a
 * reader); a PostgreSQL store is read in one snapshot (one consistent moment while a sync writes).
 */
export async function openDbForRead(target: string): Promise<AuditStore> {
  if (!isPostgresUrl(target) && !existsSync(target))
    throw new CliError(`--db: ${target} does not exist; run \`omni-consent audit sync --db ${target}\` first`);
  return openAuditStore(target, { snapshot: true });
}

/**
 * The chains to read: the one --chain-id names (refused when the store does not hold it), or
 * every chain the store holds, in chain id order.
 */
export async function chainsToRead(store: AuditStore, target: string, chainId: bigint | undefined): Promise<number[]> {
  const held = (await store.chains()).map((m) => m.chainId);
  if (held.length === 0)
    throw new CliError(`the audit database ${dbLabel(target)} is empty; run \`omni-consent audit sync\` first`);
  if (chainId === undefined) return held;
  if (!held.includes(Number(chainId)))
    throw new CliError(
      `--chain-id: the audit database ${dbLabel(target)} holds chain${held.length > 1 ? "s" : ""} ${held.join(", ")}, not ${chainId}`,
    );
  return [Number(chainId)];
}
