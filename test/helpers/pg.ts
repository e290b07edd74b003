import { execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

/**
 * PostgreSQL for tests: the cluster `.ci/run` started (scripts/pg/start.sh exported OMNI_PG_URL
 * and OMNI_PG_BIN), or, when there is none, a throwaway cluster of this test run, started by the
 * same script and stopped by its pid when the run ends (`stop()` in an `after` hook, which mocha
 * runs when a test failed too; a process `exit` hook as the last resort). Each test takes its
 * own database (`createDatabase`), so tests never see each other's tables.
 */
export interface PgCluster {
  /** URL of the cluster's `postgres` database (a superuser: tests create databases with it). */
  url: string;
  /** The directory of PostgreSQL's binaries (psql, pg_ctl). */
  bin: string;
  /** The postmaster's pid. */
  pid: number;
  /** True when this process started the cluster (and `stop` stops it). */
  own: boolean;
  stop(): Promise<void>;
}

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const exec = promisify(execFile);

let shared: Promise<PgCluster> | undefined;

/**
 * The cluster of this test run (started on first use). Its `stop()` stops it and forgets it, so
 * the next suite of the same mocha process that asks gets a fresh cluster, not a stopped one.
 */
export function usePostgres(): Promise<PgCluster> {
  shared ??= open();
  return shared;
}

async function open(): Promise<PgCluster> {
  const url = process.env.OMNI_PG_URL;
  if (url) {
    const bin = process.env.OMNI_PG_BIN ?? "/usr/lib/postgresql/15/bin";
    return { url, bin, pid: Number(process.env.OMNI_PG_PID ?? 0), own: false, stop: async () => {} };
  }
  const script = join(ROOT, "scripts", "pg", "start.sh");
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn("bash", [script], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) =>
      code === 0 ? resolve(stdout) : reject(new Error(`scripts/pg/start.sh exited ${code}:\n${stderr}`)),
    );
  });
  const vars = Object.fromEntries(
    [...out.matchAll(/^export (OMNI_PG_[A-Z]+)=(.*)$/gm)].map((m) => [m[1], m[2].replace(/^'|'$/g, "")]),
  );
  const dir = vars.OMNI_PG_DIR;
  const pid = Number(vars.OMNI_PG_PID);
  if (!vars.OMNI_PG_URL || !dir || !Number.isInteger(pid)) throw new Error(`unexpected start.sh output:\n${out}`);
  let stopped = false;
  const stopSync = () => {
    if (stopped) return;
    stopped = true;
    try {
      process.kill(pid, "SIGINT"); // PostgreSQL's fast shutdown
    } catch {
      // already gone
    }
  };
  process.once("exit", stopSync);
  return {
    url: vars.OMNI_PG_URL,
    bin: vars.OMNI_PG_BIN,
    pid,
    own: true,
    async stop() {
      if (stopped) return;
      stopped = true;
      shared = undefined;
      process.removeListener("exit", stopSync);
      await exec("bash", [join(ROOT, "scripts", "pg", "stop.sh"), dir]);
    },
  };
}

/** Runs one SQL statement with psql as the cluster's superuser; returns its unaligned output. */
export async function psql(cluster: PgCluster, sql: string, database = "postgres"): Promise<string> {
  const psqlBin = existsSync(join(cluster.bin, "psql")) ? join(cluster.bin, "psql") : "psql";
  const url = new URL(cluster.url);
  url.pathname = `/${database}`;
  const { stdout } = await exec(psqlBin, ["-X", "-v", "ON_ERROR_STOP=1", "-At", "-d", url.toString(), "-c", sql]);
  return stdout;
}

/** A new empty database in the cluster (a unique name from `prefix`); returns its URL. */
export async function createDatabase(cluster: PgCluster, prefix: string): Promise<string> {
  const name = `${prefix.replace(/[^a-z0-9_]/gi, "_").toLowerCase()}_${process.pid}_${Date.now().toString(36)}_${Math.floor(Math.random() * 1e6)}`;
  await psql(cluster, `CREATE DATABASE "${name}"`);
  const url = new URL(cluster.url);
  url.pathname = `/${name}`;
  return url.toString();
}
