import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import { expect } from "chai";

const KEYS = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "src", "keys");

/** Every module `src/keys/index.ts` re-exports, and what they import, transitively. */
function closure(file: string, seen = new Set<string>()): Set<string> {
  if (seen.has(file)) return seen;
  seen.add(file);
  const text = readFileSync(join(KEYS, file), "utf8");
  for (const m of text.matchAll(/from "\.\/([\w-]+)\.js"/g)) closure(`${m[1]}.ts`, seen);
  return seen;
}

describe("keys: the browser-safe surface", () => {
  it("nothing reachable from src/keys/index.ts imports a node: module (node:crypto only through platform.ts's dynamic import)", () => {
    const files = [...closure("index.ts")].sort();
    expect(files).to.include.members(["platform.ts", "format.ts", "open.ts", "seal.ts", "hpke.ts", "manifest.ts"]);
    expect(files).to.not.include.members(["files.ts", "hash-worker.ts", "storage.ts", "workflow.ts"]);
    for (const f of files) {
      const text = readFileSync(join(KEYS, f), "utf8");
      expect(/from "node:|require\(/.test(text), f).to.equal(false);
    }
    expect(readFileSync(join(KEYS, "platform.ts"), "utf8")).to.include('const specifier = "node:crypto"');
  });
});
