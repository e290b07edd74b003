import { readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

import { expect } from "chai";

const SRC = join(import.meta.dirname, "..", "..", "src");

/** Every module `file` imports by a relative path, transitively (src-relative paths). */
function closure(file: string, seen = new Set<string>()): Set<string> {
  const rel = relative(SRC, file);
  if (seen.has(rel)) return seen;
  seen.add(rel);
  const text = readFileSync(file, "utf8");
  for (const m of text.matchAll(/from "(\.\.?\/[\w./-]+)\.js"/g)) closure(resolve(dirname(file), `${m[1]}.ts`), seen);
  return seen;
}

describe("issue-13 modules: the browser-safe surface", () => {
  const entries = [
    "documents/index.ts",
    "labels/label-book.ts",
    "vocabularies/export.ts",
    "sdk/time-input.ts",
    "sdk/time-relative.ts",
  ];
  for (const entry of entries) {
    it(`nothing reachable from src/${entry} imports a node: module`, () => {
      const files = [...closure(join(SRC, entry))].sort();
      expect(files).to.not.include.members(["documents/folder-source.ts", "labels/label-book-file.ts"]);
      for (const f of files) {
        expect(/from "node:|require\(/.test(readFileSync(join(SRC, f), "utf8")), f).to.equal(false);
      }
    });
  }
});
