import { existsSync, writeFileSync } from "node:fs";
import { readFile, readdir, stat } from "node:fs/promises";
import { join } from "node:path";

import { type Command, Option } from "commander";
import { getAddress } from "ethers";

import {
  boundHeapGrowth,
  expiryText,
  openRpc,
  ownerScoped,
  readSyncMeta,
  type ReportFormat,
  type ReportKind,
  stateAt,
  syncEvents,
  verifyHistory,
  writeReport,
} from "../../audit/index.js";
import { releasesByOwner, verifyReleases } from "../../custodian/verify-releases.js";
import { readLabelBookFile } from "../../labels/label-book-file.js";
import { LabelBookError } from "../../labels/label-book.js";
import type { LabelBook } from "../../labels/label-book.js";
import type { ReleaseViolationCode } from "../../custodian/verify-releases.js";
import type { ReleaseEntry } from "../../custodian/store.js";
import { parseManifest } from "../../keys/manifest.js";
import type { SignedManifest } from "../../keys/manifest.js";
import type { CliContext } from "../context.js";
import { documentSources } from "../purposes.js";
import { rpcUnreachableWords } from "../context.js";
import { CliError } from "../failure.js";
import { ownProcess } from "../own-process.js";
import { printJson, printLines } from "../output.js";
import { isoOf, parseAddress, parseUint, whenOf } from "../parse.js";
import { chainsToRead, dbLabel, openDbForRead, openDbForSync } from "./audit-store.js";
import { labelBookPath } from "./labels.js";
import { withContext } from "./shared.js";

/**
 * The auditor commands, grouped under `omni-consent audit`:
 *   sync    copy the registry's events into the audit database (resumable, reorg-safe)
 *   state   the consent state rebuilt from events at a block
 *   verify  re-check every recorded use/share and consent change; exit 1 on any violation
 *   report  subject-access (--owner), processor (--processor) or Art. 30 (default) report
 * They use the global --rpc / --registry / --chain-id / --json options and the same context and
 * output helpers as every other command; `state`, `verify` and `report` work offline from the
 * database alone. `--db` is a SQLite file or a postgres:// URL (audit-store.ts); a database may
 * hold many chains: the global --chain-id picks one, else every chain is read.
 */
export function registerAuditCommands(program: Command): void {
  const audit = program
    .command("audit")
    .description(
      "auditor toolkit: sync events into SQLite or PostgreSQL, rebuild state, verify history, write reports",
    );

  const dbOption = () =>
    new Option("--db <path|url>", "audit database: a SQLite file, or postgres://user:pass@host:port/db")
      .env("OMNI_AUDIT_DB")
      .default("./omni-audit.db");
  const blockNumber = (option: string, value: string | undefined) =>
    value === undefined ? undefined : Number(parseUint(option, value));

  audit
    .command("sync")
    .description("fetch every registry, integration-registry and AccessManager event into the database")
    .addOption(dbOption())
    .option("--confirmations <n>", "stay this many blocks behind the head", "0")
    .option("--finalized", "follow the node's finalized block instead of head - confirmations")
    .option("--from-block <n>", "first block to scan on the first sync (the deployment block is ideal)", "0")
    .option("--to-block <n>", "stop at this block")
    .option("--max-range <n>", "largest eth_getLogs block range to try", "5000")
    .option("--timeout <ms>", "per-request timeout", "10000")
    .option("--reset", "discard what the database holds for this chain and sync from the start (e.g. another history)")
    .action(
      withContext<Record<string, string | boolean | undefined>>(async (ctx, o) => {
        await checkChain(ctx, blockNumber("--timeout", String(o.timeout)));
        const registry = await ctx.registryAddress();
        const db = await openDbForSync(String(o.db));
        // This process only syncs: keep its heap near what a chunk holds (heap.ts).
        if (ownProcess.value) boundHeapGrowth();
        try {
          const res = await syncEvents({
            db,
            rpc: ctx.opts.rpc,
            registry,
            confirmations: blockNumber("--confirmations", String(o.confirmations)),
            finalized: o.finalized === true,
            fromBlock: blockNumber("--from-block", String(o.fromBlock)),
            toBlock: blockNumber("--to-block", o.toBlock as string | undefined),
            maxRange: Math.max(1, blockNumber("--max-range", String(o.maxRange)) ?? 5000),
            timeoutMs: blockNumber("--timeout", String(o.timeout)),
            reset: o.reset === true,
          });
          if (ctx.json) printJson(res);
          else printLines(`synced to block ${res.toBlock}: ${res.inserted} new events (${dbLabel(String(o.db))})`);
        } finally {
          await db.close();
        }
      }),
    );

  audit
    .command("state")
    .description("the state rebuilt from events alone at a block (default: the last synced block)")
    .addOption(dbOption())
    .option("--block <n>", "block number")
    .option("--owner <address>", "only this owner's consents")
    .action(
      withContext<{ db: string; block?: string; owner?: string }>(async (ctx, o) => {
        const owner = o.owner === undefined ? undefined : parseAddress("--owner", o.owner).toLowerCase();
        const db = await openDbForRead(o.db);
        try {
          const chains = await chainsToRead(db, o.db, ctx.expectedChainId);
          if (chains.length > 1 && o.block !== undefined)
            throw new CliError(`--block: this database holds chains ${chains.join(", ")}; add --chain-id <id>`);
          const states = [];
          for (const chainId of chains) {
            const state = (await stateAt(db, blockNumber("--block", o.block), { chainId })).toJSON();
            const consents = owner === undefined ? state.consents : state.consents.filter((c) => c.owner === owner);
            states.push({ ...state, consents });
          }
          if (ctx.json) {
            printJson(states.length === 1 ? states[0] : { chains: states });
            return;
          }
          const lines = [];
          for (const state of states) {
            lines.push(`chain ${state.chainId}, block ${state.block} (${isoOf(BigInt(state.timestamp))})`);
            for (const c of state.consents) {
              lines.push(
                `${c.active ? "active " : "expired/withdrawn"} ${c.owner} → ${c.grantee} data ${c.dataId} for ${c.purposeNames.join(",")} until ${expiryText(BigInt(c.expiresAt))}`,
              );
            }
            lines.push(
              `${state.consents.length} consents, ${state.managers.length} managers, ${state.integrations.length} integrations, ${state.purposes.length} purposes`,
            );
          }
          printLines(...lines);
        } finally {
          await db.close();
        }
      }),
    );

  audit
    .command("verify")
    .description("re-check the whole history with an independent implementation of the rules (exit 1 on any violation)")
    .addOption(dbOption())
    .option("--to-block <n>", "only events up to this block")
    .option(
      "--releases <file...>",
      "also re-check custodians' release logs (`custodian log` output) against the chain at --rpc: every key release must have been covered by consent",
    )
    .option(
      "--manifests <path...>",
      "with --releases: owner-signed manifests (JSON files, or folders such as a `data seal --store`) besides those the logs carry; each release is checked against its owner's manifest",
    )
    .addHelpText(
      "after",
      '\nWith --rpc <url> on the command line, verify first proves the database equals that chain (every log by\nblock hash from the block the sync started at, the block hashes, the watched addresses, each signed\nrequest against its calldata, each ERC-1271 answer asked again, and that the registry had no code before\nthat block); without it, the database is only checked against the log digest sync stored ("self-consistent\nonly"). With --registry, the database must hold that registry\'s history.',
    )
    .action(
      withContext<{ db: string; toBlock?: string; releases?: string[] }>(async (ctx, o, _args, cmd) => {
        // --rpc is the global option (it has a default URL): only one given on the command line anchors.
        let root: Command = cmd;
        while (root.parent) root = root.parent;
        const rpc = root.getOptionValueSource("rpc") === "cli" ? cmd.optsWithGlobals<{ rpc: string }>().rpc : undefined;
        let releaseFailure: CliError | null = null;
        if (o.releases !== undefined) {
          releaseFailure = await verifyReleaseLogs(ctx, o.releases, (o as { manifests?: string[] }).manifests);
          // Only the release logs were asked for when there is no audit database to check.
          const dbGiven = cmd.getOptionValueSource("db") === "cli" || cmd.getOptionValueSource("db") === "env";
          if (!dbGiven && !existsSync(o.db)) {
            if (releaseFailure) throw releaseFailure;
            return;
          }
        }
        const db = await openDbForRead(o.db);
        try {
          // With --rpc, the chain of that node; else --chain-id, or every chain the database holds.
          let expected = ctx.expectedChainId;
          if (rpc !== undefined && expected === undefined) {
            const client = await openRpc(rpc, { retries: 4 });
            expected = client.chainId;
            client.close();
          }
          const chains = await chainsToRead(db, o.db, expected);
          // A registry named by --registry (or OMNI_REGISTRY) is the one to audit: the database's
          // sync_state says whose history it holds, and another registry's is refused, not verified.
          const registryGiven = cmd.optsWithGlobals<{ registry?: string }>().registry;
          const wanted =
            registryGiven !== undefined && registryGiven !== ""
              ? (await ctx.registryAddress()).toLowerCase()
              : undefined;
          const results = [];
          const lines: string[] = [];
          const failures: string[] = [];
          for (const chainId of chains) {
            const meta = await readSyncMeta(db, chainId);
            if (wanted !== undefined && meta !== undefined && meta.registry !== wanted) {
              throw new CliError(
                `the database ${o.db} holds the history of registry ${meta.registry} on chain ${chainId}, not of ${wanted} (--registry): verify that registry's database, or leave --registry out`,
              );
            }
            const res = await verifyHistory(db, { chainId, toBlock: blockNumber("--to-block", o.toBlock), rpc });
            results.push({ registry: meta?.registry, ...res });
            lines.push(
              `${chains.length > 1 ? `chain ${chainId}: ` : ""}checked ${res.eventsChecked} events (${res.usesChecked} uses, ${res.sharesChecked} shares) up to block ${res.lastBlock} in ${res.elapsedMs.toFixed(0)} ms; ` +
                `${res.integrity.statement}; digest ${res.integrity.digest} at block ${res.integrity.digestBlock}`,
            );
            for (const f of res.integrity.findings) {
              lines.push(`VIOLATION ${f.rule} at block ${f.block}: ${f.message}`);
              lines.push(`  evidence: ${JSON.stringify(f.evidence)}`);
            }
            for (const v of res.violations) {
              lines.push(`VIOLATION ${v.rule} at block ${v.event.blockNumber} tx ${v.event.txHash}: ${v.message}`);
              lines.push(`  evidence: ${JSON.stringify(v.evidence)}`);
            }
            for (const w of res.warnings) {
              lines.push(`WARNING ${w.rule} at block ${w.event.blockNumber} tx ${w.event.txHash}: ${w.message}`);
              lines.push(`  evidence: ${JSON.stringify(w.evidence)}`);
            }
            if (res.signaturesChecked !== 0 || res.warnings.length !== 0) {
              lines.push(`${res.signaturesChecked} signed consent changes checked, ${res.warnings.length} warning(s)`);
            }
            if (!res.ok) {
              const n = res.integrity.findings.length;
              failures.push(
                `${chains.length > 1 ? `chain ${chainId}: ` : ""}${res.violations.length} violation(s) found in the recorded history` +
                  (n === 0
                    ? ""
                    : `; ${n} integrity finding(s): the database is not ${res.integrity.mode === "chain" ? "the chain's record" : "what sync stored"}`),
              );
            }
          }
          if (ctx.json) printJson(results.length === 1 ? results[0] : { ok: failures.length === 0, chains: results });
          else printLines(...lines);
          if (failures.length) throw new CliError(failures.join("; "));
          if (releaseFailure) throw releaseFailure;
        } finally {
          await db.close();
        }
      }),
    );

  audit
    .command("report")
    .description("subject-access (--owner), processor (--processor) or GDPR Art. 30 record of processing (default)")
    .addOption(dbOption())
    .option("--owner <address>", "data owner: who may use which of my data, and every use and share")
    .option("--processor <address>", "processor or integration: what it may use and what it recorded")
    .addOption(new Option("--format <format>", "output format").choices(["html", "json", "csv"]))
    .option("--out <file>", "write to this file (default: stdout)")
    .option(
      "--releases <file...>",
      "custodians' release logs (`custodian log`): the owner report lists each opening of the owner's sealed assets",
    )
    .action(
      withContext<{
        db: string;
        owner?: string;
        processor?: string;
        format?: string;
        out?: string;
        releases?: string[];
      }>(async (ctx, o) => {
        if (o.owner !== undefined && o.processor !== undefined)
          throw new CliError("give either --owner or --processor, not both");
        const kind: ReportKind = o.owner !== undefined ? "owner" : o.processor !== undefined ? "processor" : "ropa";
        const subject =
          o.owner !== undefined
            ? parseAddress("--owner", o.owner)
            : o.processor !== undefined
              ? parseAddress("--processor", o.processor)
              : undefined;
        const fromExt = o.out?.match(/\.(html|json|csv)$/i)?.[1].toLowerCase();
        const format = (o.format ?? fromExt ?? "json") as ReportFormat;
        if (o.releases !== undefined && kind !== "owner")
          throw new CliError("--releases: key releases belong in an owner's report; add --owner <address>");
        // Names in the HTML: integration documents (--documents), the owner's label book (--labels).
        const documents = documentSources(ctx.opts.documents);
        const labels = kind === "owner" && existsSync(labelBookPath(ctx)) ? await readLabelBook(ctx) : undefined;
        const releases =
          o.releases === undefined
            ? undefined
            : (releasesByOwner(await readReleaseLogs(o.releases)).get(getAddress(subject!)) ?? []);
        const db = await openDbForRead(o.db);
        try {
          const chains = await chainsToRead(db, o.db, ctx.expectedChainId);
          // An owner's report reads only the owner's events (and those naming no owner) through the owner index.
          const source = kind === "owner" ? ownerScoped(db, subject!) : db;
          if (chains.length === 1) {
            const { text } = await writeReport(source, {
              kind,
              format,
              out: o.out,
              subject,
              chainId: chains[0],
              documents,
              labels,
              releases,
            });
            if (o.out === undefined) process.stdout.write(text);
            else printLines(`wrote ${kind} report (${format}) to ${o.out}`);
            return;
          }
          // Across chains: one report per chain in one JSON document.
          if (format !== "json")
            throw new CliError(
              `--format ${format}: this database holds chains ${chains.join(", ")}; a ${format} report covers one chain: add --chain-id <id>, or use --format json for all chains`,
            );
          const reports = [];
          for (const chainId of chains)
            reports.push((await writeReport(source, { kind, format, subject, chainId, releases })).report);
          const text =
            JSON.stringify({ kind, subject: subject?.toLowerCase() ?? null, chains: reports }, null, 2) + "\n";
          if (o.out === undefined) process.stdout.write(text);
          else {
            writeFileSync(o.out, text);
            printLines(`wrote ${kind} report (json, chains ${chains.join(", ")}) to ${o.out}`);
          }
        } finally {
          await db.close();
        }
      }),
    );
}

const RELEASE_WORDS: Record<ReleaseViolationCode, string> = {
  LOG_TAMPERED: "the log was changed after it was written (its hash chain breaks here)",
  WRONG_CHAIN: "the release is for another chain or registry",
  FORGED_REQUEST: "the requester did not sign this request",
  EXPIRED_REQUEST: "the key was released after the request's deadline",
  REPLAYED: "the same request was served twice",
  NOT_ON_CHAIN: "the block the custodian checked at is not on the chain",
  UNCOVERED: "no consent covered this release",
  UNCONFIRMED: "the consent was not yet confirmed deep enough",
  NO_USE_RECORD: "no use record (DataUsed) backs this release",
  BLOCK_ORDER:
    "the custodian logged an older block than for an earlier release (it did not decide at the latest block)",
  MANIFEST_MISSING: "the owner's signed manifest of this asset is not at hand, so the owner's policy cannot be checked",
  MANIFEST_MISMATCH: "the manifest the release names is not this asset version's, or does not name this custodian",
  MANIFEST_FORGED: "the manifest the release names is not signed by the asset's owner",
  POLICY_MISMATCH: "the custodian logged a weaker policy than the owner's manifest sets",
  STALE_HEAD:
    "the custodian decided on an old block: consent no longer held at the block mined by the time of the release",
};

/**
 * `audit verify --releases <file...>`: each file a custodian's release log, re-checked against
 * the chain at --rpc (src/custodian/verify-releases.ts); every violation printed in words.
 * Returns the failure to report (exit 1) when any release was not covered, else null.
 */
async function verifyReleaseLogs(
  ctx: CliContext,
  files: readonly string[],
  manifestPaths: readonly string[] = [],
): Promise<CliError | null> {
  const read = await readReleaseLogFiles(files);
  for (const r of read)
    if (r.manifests === undefined && manifestPaths.length === 0)
      process.stderr.write(
        `warning: --releases: ${r.file} is a bare array of entries (an older \`custodian log\`) and carries no manifests: its releases are MANIFEST_MISSING unless --manifests <path> gives the owners' signed manifests\n`,
      );
  const manifests = await readManifests(manifestPaths);
  const logs = read.map((r) => ({ entries: r.entries, manifests: r.manifests ?? [] }));
  const chain = { rpcUrl: ctx.opts.rpc, chainId: await ctx.chainId(), registry: await ctx.registryAddress() };
  const [res, now, names] = await Promise.all([
    verifyReleases(logs, chain, { manifests }),
    ctx.now(),
    ctx.purposeNames(),
  ]);
  const entries = new Map(read.flatMap((r) => r.entries).map((e) => [`${e.custodian}|${e.seq}`, e]));
  if (ctx.json) {
    printJson({ releases: { files, checked: res.checked, violations: res.violations } });
  } else {
    const lines = [
      `release logs: ${res.checked} key release${res.checked === 1 ? "" : "s"} in ${files.length} file${files.length === 1 ? "" : "s"} re-checked against chain ${chain.chainId} (registry ${chain.registry}): ${res.violations.length} violation${res.violations.length === 1 ? "" : "s"}`,
    ];
    for (const v of res.violations) {
      const e = entries.get(`${v.custodian}|${v.seq}`);
      const what =
        e === undefined
          ? ""
          : ` (the key of ${e.owner}'s data ${e.dataId} for ${e.requester}, ${names.label(Number(e.purpose))}, released ${whenOf(BigInt(Math.floor(e.atMs / 1000)), now)})`;
      lines.push(
        `VIOLATION release #${v.seq} of custodian ${v.custodian}${what}: ${RELEASE_WORDS[v.code]} [${v.code}: ${v.message}]`,
      );
    }
    printLines(...lines);
  }
  return res.violations.length === 0
    ? null
    : new CliError(
        `${res.violations.length} key release(s) not covered by the chain's record (see the VIOLATION lines)`,
      );
}

/**
 * The node's reachability and --chain-id, checked through the audit RPC client (retried with
 * fresh requests: one dropped request at start-up must not fail a sync with a misleading
 * "is it an Ethereum JSON-RPC node?").
 */
async function checkChain(ctx: CliContext, timeoutMs: number | undefined): Promise<void> {
  let chainId: bigint;
  try {
    const rpc = await openRpc(ctx.opts.rpc, { timeoutMs: timeoutMs ?? 10_000, retries: 8 });
    chainId = rpc.chainId;
    rpc.close();
  } catch (err) {
    throw new CliError(rpcUnreachableWords(ctx.opts.rpc, err));
  }
  const expected = ctx.expectedChainId;
  if (expected !== undefined && expected !== chainId) {
    throw new CliError(
      `wrong chain: the node at ${ctx.opts.rpc} is chain ${chainId} but --chain-id says ${expected}; fix --rpc or --chain-id`,
    );
  }
}

/** Custodians' release logs' entries (`custodian log` files), refused in one line when unreadable. */
async function readReleaseLogs(files: readonly string[]): Promise<ReleaseEntry[][]> {
  return (await readReleaseLogFiles(files)).map((r) => r.entries);
}

/**
 * `custodian log` files: each the export `{ format, entries, manifests }` (manifests: the owners'
 * signed manifests of the releases' assets), or the bare JSON array of entries older versions wrote
 * (manifests undefined). Refused in one line when unreadable.
 */
async function readReleaseLogFiles(
  files: readonly string[],
): Promise<{ file: string; entries: ReleaseEntry[]; manifests: unknown[] | undefined }[]> {
  const logs: { file: string; entries: ReleaseEntry[]; manifests: unknown[] | undefined }[] = [];
  for (const file of files) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(await readFile(file, "utf8"));
    } catch (err) {
      const code = (err as { code?: string }).code;
      throw new CliError(
        `--releases: ${file}: ${code !== undefined ? `cannot read the file (${code})` : `not JSON (${(err as Error).message})`}`,
      );
    }
    if (Array.isArray(parsed)) {
      logs.push({ file, entries: parsed as ReleaseEntry[], manifests: undefined });
      continue;
    }
    const doc = parsed as { entries?: unknown; manifests?: unknown } | null;
    if (doc === null || typeof doc !== "object" || !Array.isArray(doc.entries) || !Array.isArray(doc.manifests)) {
      throw new CliError(
        `--releases: ${file} is not a release log (expected what \`custodian log\` writes: { entries, manifests }, or an older log's JSON array)`,
      );
    }
    logs.push({ file, entries: doc.entries as ReleaseEntry[], manifests: doc.manifests as unknown[] });
  }
  return logs;
}

/**
 * Owner-signed manifests for `--manifests`: JSON files, or folders searched for `*.json` manifests
 * (a `data seal --store` folder keeps them under manifests/<owner>/<dataId>/<version>.json); a
 * file given by name must be a manifest, JSON files in folders that are not are skipped.
 */
async function readManifests(paths: readonly string[]): Promise<SignedManifest[]> {
  const out: SignedManifest[] = [];
  const walk = async (path: string, named: boolean): Promise<void> => {
    let info;
    try {
      info = await stat(path);
    } catch (err) {
      throw new CliError(`--manifests: ${path}: cannot read it (${(err as { code?: string }).code ?? "error"})`);
    }
    if (info.isDirectory()) {
      for (const name of (await readdir(path)).sort()) {
        const child = join(path, name);
        if (name.endsWith(".json") || (await stat(child)).isDirectory()) await walk(child, false);
      }
      return;
    }
    try {
      out.push(parseManifest(await readFile(path, "utf8")));
    } catch (err) {
      if (named) throw new CliError(`--manifests: ${path}: ${(err as Error).message}`);
    }
  };
  for (const p of paths) await walk(p, true);
  return out;
}

/** The owner's label book (--labels) for the report's names; a damaged book is refused in one line. */
async function readLabelBook(ctx: CliContext): Promise<LabelBook> {
  try {
    return await readLabelBookFile(labelBookPath(ctx));
  } catch (err) {
    if (err instanceof LabelBookError) throw new CliError(`--labels: ${err.message}`);
    throw err;
  }
}
