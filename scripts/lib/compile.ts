import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/**
 * Compiles the library into dist/ (`tsc -p tsconfig.build.json`), as the published package ships
 * it. The benchmarks call it first: their measured processes run the compiled code under plain
 * node, as `omni-consent` does, and must never run a stale dist/.
 */
export function compileLibrary(): void {
  execFileSync(
    process.execPath,
    [createRequire(import.meta.url).resolve("typescript/bin/tsc"), "-p", "tsconfig.build.json"],
    { cwd: ROOT, stdio: "inherit" },
  );
}
