import { createHash } from "node:crypto";

import Database from "better-sqlite3";

/**
 * The custodian's state in SQLite; the only module with SQL. Three things, all of them the
 * custodian's own (no consent state: that is asked of the chain on every request):
 * - `shares`: one row per asset version it holds a share of (manifest, the owner's HPKE
 *   envelope as received, and the share re-encrypted under the custodian's storage key);
 * - `nonces`: every (requester, nonce) it released for, forever (a replay is refused even
 *   after a restart), with the EIP-712 digest of the request and the answer it got (the share
 *   sealed to the request's ephemeral key): the same request asked again is answered with those
 *   same bytes once its checks pass again (see `Custodian.release`). Rows of databases older
 *   than these columns hold NULL there: such a request asked again stays a REPLAY;
 * - `releases`: the release log, append-only, hash-chained (`entry_hash = sha256(prev_hash ‖
 *   entry)`), so a deleted, edited or reordered entry breaks the chain for `verifyReleases`.
 * WAL with synchronous=FULL by default: a release is on disk (the WAL fsynced) before its share
 * leaves, so even a power loss cannot forget a spent nonce or a logged release. The fsync is paid
 * once per group, not per release: `Custodian` hands the releases decided in one turn of the event
 * loop to `recordReleases`, one transaction (see `ReleaseLog`). `durable: false` is
 * synchronous=NORMAL: survives a crash of the process (SIGKILL), not of the machine.
 */

export interface ShareRow {
  owner: string;
  dataId: string;
  version: number;
  shareIndex: number;
  manifestJson: string;
  manifestDigest: string;
  envelopeJson: string;
  sealedShare: Buffer;
}

/** One entry of the release log, as exported (`custodian log`) and checked by `verifyReleases`. */
export interface ReleaseEntry {
  seq: number;
  /** Wall-clock time of the release, ms since the epoch. */
  atMs: number;
  custodian: string;
  chainId: string;
  registry: string;
  owner: string;
  requester: string;
  dataId: string;
  version: string;
  purpose: number;
  nonce: string;
  deadline: string;
  ephemeralKey: string;
  useTx: string;
  signature: string;
  /** Block the checks ran at (latest), its hash, and the confirmation depth applied. */
  block: number;
  blockHash: string;
  confirmations: number;
  /** Block of the use record (null: the owner's own request, or a plain-consent asset). */
  useBlock: number | null;
  requireUseRecord: boolean;
  useRecordMaxAge: number;
  shareIndex: number;
  manifestDigest: string;
  prevHash: string;
  entryHash: string;
}

export const GENESIS_HASH = `0x${"0".repeat(64)}`;

/** What is kept with a spent nonce: the request's EIP-712 digest and the answer sent (JSON). */
export interface KeptAnswer {
  digest: string;
  answer: string;
}

/** `custodian log`'s export format (older versions wrote the bare array of entries). */
export const RELEASE_LOG_FORMAT = "omnitensor-release-log/2";

export interface ReleaseLogExport {
  format: typeof RELEASE_LOG_FORMAT;
  entries: ReleaseEntry[];
  /** The signed manifests (`manifestToJson` objects) of the asset versions the entries name. */
  manifests: unknown[];
}

/** The hash of an entry given its predecessor's (every field but `seq`, `prevHash`, `entryHash`). */
export function entryHashOf(e: Omit<ReleaseEntry, "seq" | "entryHash">): string {
  const { prevHash, ...fields } = e;
  const canonical = JSON.stringify(
    Object.keys(fields)
      .sort()
      .map((k) => [k, (fields as Record<string, unknown>)[k]]),
  );
  return `0x${createHash("sha256").update(prevHash).update(canonical).digest("hex")}`;
}

export class CustodianStore {
  private readonly db: Database.Database;
  private readonly q;

  constructor(path: string, opts: { durable?: boolean } = {}) {
    this.db = new Database(path);
    this.db.pragma("journal_mode = WAL");
    this.db.pragma(`synchronous = ${opts.durable === false ? "NORMAL" : "FULL"}`);
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS shares (
        owner TEXT NOT NULL, data_id TEXT NOT NULL, version INTEGER NOT NULL,
        share_index INTEGER NOT NULL, manifest_json TEXT NOT NULL, manifest_digest TEXT NOT NULL,
        envelope_json TEXT NOT NULL, sealed_share BLOB NOT NULL, registered_at INTEGER NOT NULL,
        PRIMARY KEY (owner, data_id, version)
      );
      CREATE TABLE IF NOT EXISTS nonces (
        requester TEXT NOT NULL, nonce TEXT NOT NULL, used_at INTEGER NOT NULL,
        PRIMARY KEY (requester, nonce)
      );
      CREATE TABLE IF NOT EXISTS releases (
        seq INTEGER PRIMARY KEY, entry TEXT NOT NULL, entry_hash TEXT NOT NULL
      );
    `);
    // Migration: nonces gained the request digest and the stored answer (NULL in older rows).
    const nonceColumns = new Set(
      (this.db.prepare("PRAGMA table_info(nonces)").all() as { name: string }[]).map((c) => c.name),
    );
    if (!nonceColumns.has("request_digest")) this.db.exec("ALTER TABLE nonces ADD COLUMN request_digest TEXT");
    if (!nonceColumns.has("answer")) this.db.exec("ALTER TABLE nonces ADD COLUMN answer TEXT");
    this.q = {
      share: this.db.prepare(
        "SELECT owner, data_id AS dataId, version, share_index AS shareIndex, manifest_json AS manifestJson, manifest_digest AS manifestDigest, envelope_json AS envelopeJson, sealed_share AS sealedShare FROM shares WHERE owner = ? AND data_id = ? AND version = ?",
      ),
      // The asked version and every later one, newest first (one index range; usually one row).
      releaseRows: this.db
        .prepare(
          "SELECT version, share_index, manifest_digest, sealed_share FROM shares WHERE owner = ? AND data_id = ? AND version >= ? ORDER BY version DESC",
        )
        .raw(true),
      manifestJson: this.db.prepare("SELECT manifest_json AS j FROM shares WHERE manifest_digest = ? LIMIT 1"),
      insertShare: this.db.prepare(
        "INSERT INTO shares (owner, data_id, version, share_index, manifest_json, manifest_digest, envelope_json, sealed_share, registered_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (owner, data_id, version) DO NOTHING",
      ),
      nonceUsed: this.db.prepare("SELECT 1 FROM nonces WHERE requester = ? AND nonce = ?"),
      nonceRow: this.db.prepare(
        "SELECT request_digest AS digest, answer FROM nonces WHERE requester = ? AND nonce = ?",
      ),
      // Spends a nonce: changes = 0 when it was spent already (the primary key decides, atomically).
      spendNonce: this.db.prepare(
        "INSERT INTO nonces (requester, nonce, used_at, request_digest, answer) VALUES (?, ?, ?, ?, ?) ON CONFLICT (requester, nonce) DO NOTHING",
      ),
      lastBlock: this.db.prepare(
        "SELECT json_extract(entry, '$.block') AS block FROM releases ORDER BY seq DESC LIMIT 1",
      ),
      lastRelease: this.db.prepare("SELECT seq, entry_hash AS entryHash FROM releases ORDER BY seq DESC LIMIT 1"),
      insertRelease: this.db.prepare("INSERT INTO releases (seq, entry, entry_hash) VALUES (?, ?, ?)"),
      allReleases: this.db.prepare("SELECT entry FROM releases ORDER BY seq"),
      counts: this.db.prepare(
        "SELECT (SELECT COUNT(*) FROM shares) AS shares, (SELECT COUNT(*) FROM nonces) AS nonces, (SELECT COUNT(*) FROM releases) AS releases",
      ),
    };
  }

  share(owner: string, dataId: string, version: number): ShareRow | undefined {
    return this.q.share.get(owner.toLowerCase(), dataId.toLowerCase(), version) as ShareRow | undefined;
  }

  /**
   * What a release needs of a share, in one query: its index, manifest digest (the manifest itself
   * is `manifestJson`, parsed once per digest) and sealed share, and the asset's latest version.
   */
  releaseRow(
    owner: string,
    dataId: string,
    version: number,
  ): { shareIndex: number; manifestDigest: string; sealedShare: Buffer; latestVersion: number } | undefined {
    const rows = this.q.releaseRows.all(owner.toLowerCase(), dataId.toLowerCase(), version) as [
      number,
      number,
      string,
      Buffer,
    ][];
    const asked = rows[rows.length - 1];
    if (asked === undefined || asked[0] !== version) return undefined;
    return { shareIndex: asked[1], manifestDigest: asked[2], sealedShare: asked[3], latestVersion: rows[0][0] };
  }

  /** The manifest JSON registered under `digest`. */
  manifestJson(digest: string): string | undefined {
    return (this.q.manifestJson.get(digest) as { j: string } | undefined)?.j;
  }

  /** Adds a share; false if that asset version already has one (the caller compares). */
  addShare(row: ShareRow): boolean {
    const res = this.q.insertShare.run(
      row.owner.toLowerCase(),
      row.dataId.toLowerCase(),
      row.version,
      row.shareIndex,
      row.manifestJson,
      row.manifestDigest,
      row.envelopeJson,
      row.sealedShare,
      Date.now(),
    );
    return res.changes === 1;
  }

  nonceUsed(requester: string, nonce: string): boolean {
    return this.q.nonceUsed.get(requester.toLowerCase(), nonce.toLowerCase()) !== undefined;
  }

  /**
   * The spent nonce's row: the request digest and the stored answer (JSON of the release
   * response), null in rows written before those were kept; undefined when the nonce is unspent.
   */
  nonceAnswer(requester: string, nonce: string): { digest: string | null; answer: string | null } | undefined {
    return this.q.nonceRow.get(requester.toLowerCase(), nonce.toLowerCase()) as
      { digest: string | null; answer: string | null } | undefined;
  }

  /** The block of the last logged release (undefined: an empty log). */
  lastBlock(): number | undefined {
    const r = this.q.lastBlock.get() as { block: number | null } | undefined;
    return r?.block ?? undefined;
  }

  /**
   * Spends the nonce and appends the release, in one transaction. Returns the entry, or
   * undefined when the nonce was spent meanwhile (a concurrent duplicate: a replay).
   */
  recordRelease(e: Omit<ReleaseEntry, "seq" | "prevHash" | "entryHash">, kept?: KeptAnswer): ReleaseEntry | undefined {
    return this.recordReleases([e], [kept])[0];
  }

  /**
   * Spends the nonces and appends the releases, in order, in ONE transaction (one fsync for the
   * group). Per release: its entry, or undefined when its nonce was already spent (before, or by
   * an earlier release of the same group): a replay, which appends nothing. `kept[i]`, when
   * given, is stored with release i's nonce (its request digest and answer).
   */
  recordReleases(
    es: readonly Omit<ReleaseEntry, "seq" | "prevHash" | "entryHash">[],
    kept: readonly (KeptAnswer | undefined)[] = [],
  ): (ReleaseEntry | undefined)[] {
    return this.db.transaction((): (ReleaseEntry | undefined)[] => {
      const last = this.q.lastRelease.get() as { seq: number; entryHash: string } | undefined;
      let prevHash = last?.entryHash ?? GENESIS_HASH;
      let seq = last?.seq ?? 0;
      return es.map((e, i) => {
        const k = kept[i];
        const spent = this.q.spendNonce.run(
          e.requester.toLowerCase(),
          e.nonce.toLowerCase(),
          e.atMs,
          k?.digest.toLowerCase() ?? null,
          k?.answer ?? null,
        );
        if (spent.changes === 0) return undefined;
        seq += 1;
        const entryHash = entryHashOf({ ...e, prevHash });
        const entry: ReleaseEntry = { seq, ...e, prevHash, entryHash };
        this.q.insertRelease.run(seq, JSON.stringify(entry), entryHash);
        prevHash = entryHash;
        return entry;
      });
    })();
  }

  releases(): ReleaseEntry[] {
    return (this.q.allReleases.all() as { entry: string }[]).map((r) => JSON.parse(r.entry) as ReleaseEntry);
  }

  /**
   * The release log as `custodian log` exports it: the entries, and the owner-signed manifest of
   * every asset version they name (as registered, JSON objects), so that an auditor checks each
   * release against the owner's policy, not the log's own copy of it.
   */
  exportLog(): ReleaseLogExport {
    const entries = this.releases();
    const manifests: unknown[] = [];
    for (const digest of new Set(entries.map((e) => e.manifestDigest))) {
      const json = this.manifestJson(digest);
      if (json !== undefined) manifests.push(JSON.parse(json) as unknown);
    }
    return { format: RELEASE_LOG_FORMAT, entries, manifests };
  }

  counts(): { shares: number; nonces: number; releases: number } {
    return this.q.counts.get() as { shares: number; nonces: number; releases: number };
  }

  close(): void {
    this.db.close();
  }
}
