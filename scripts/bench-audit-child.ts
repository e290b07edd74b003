/**
 * One measured auditor step in its own process, so its peak RSS is its own (not the bench's,
 * which holds the generated history): `node scripts/bench-audit-child.ts <step> <json args>`.
 * Prints one JSON line: { ms, cpuMs (all threads), maxRssMb, ...result }.
 *
 *   sync    { rpc, registry, db, toBlock? }   → inserted, chunks, failures, rpc stats
 *   verify  { db, rpc? }                      → events, signatures, ok, integrity mode
 *   report  { db, owner, full? }              → the owner's report (through the owner index, or
 *                                               with `full` over every event): rows per section
 * `db` is a SQLite path or a postgres:// URL.
 *
 * It runs what `omni-consent` runs: the compiled library (dist/, built by bench-audit.ts right
 * before), under plain `node` (Node strips this file's types), not through tsx, whose loader
 * alone holds about 40 MB more. A sync bounds its heap growth as `omni-consent audit sync` does.
 */
type Audit = typeof import("../src/audit/index.js");
const dist = new URL("../dist/src/audit/index.js", import.meta.url).href;
const { boundHeapGrowth, buildReport, openAuditStore, ownerScoped, syncEvents, verifyHistory } = (await import(
  dist
)) as Audit;

const [step, raw] = process.argv.slice(2);
const args = JSON.parse(raw ?? "{}") as {
  rpc?: string;
  registry?: string;
  db: string;
  toBlock?: number;
  owner?: string;
  full?: boolean;
};
const db = await openAuditStore(args.db);
const t = performance.now();
const cpu0 = process.cpuUsage();
let out: Record<string, unknown>;
if (step === "sync") {
  boundHeapGrowth();
  const r = await syncEvents({
    db,
    rpc: args.rpc!,
    registry: args.registry!,
    toBlock: args.toBlock,
    progress: "none",
    maxRetries: 60,
  });
  out = { inserted: r.inserted, chunks: r.chunks, failures: r.failures, rpc: r.rpc, digest: r.digest };
} else if (step === "verify") {
  const r = await verifyHistory(db, { rpc: args.rpc });
  out = {
    events: r.eventsChecked,
    signatures: r.signaturesChecked,
    ok: r.ok,
    violations: r.violations.length,
    findings: r.integrity.findings.length,
    firstProblem: r.violations[0] ?? r.integrity.findings[0] ?? null,
    mode: r.integrity.mode,
    digest: r.integrity.digest,
  };
} else if (step === "report") {
  const r = await buildReport(args.full ? db : ownerScoped(db, args.owner!), { kind: "owner", subject: args.owner });
  out = { sections: Object.fromEntries(r.sections.map((x) => [x.name, x.rows.length])), lastBlock: r.lastBlock };
} else throw new Error(`unknown step ${step}`);
const ms = performance.now() - t;
const cpu = process.cpuUsage(cpu0);
await db.close();
process.stdout.write(
  JSON.stringify(
    { ms, cpuMs: (cpu.user + cpu.system) / 1000, maxRssMb: process.resourceUsage().maxRSS / 1024, ...out },
    (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v),
  ) + "\n",
);
