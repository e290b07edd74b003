import { readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

import { expect } from "chai";

const SRC = join(import.meta.dirname, "..", "..", "src");

/** Every module `file` imports by a relative path, transitively (src-relative), and the packages they import. */
function closure(file: string, seen = new Set<string>(), packages = new Set<string>()) {
  const rel = relative(SRC, file);
  if (seen.has(rel)) return { seen, packages };
  seen.add(rel);
  const text = readFileSync(file, "utf8");
  for (const m of text.matchAll(/from "([^"]+)"/g)) {
    const spec = m[1];
    if (spec.startsWith(".")) {
      const base = resolve(dirname(file), spec.replace(/\.js$/, ""));
      const ts = `${base}.ts`;
      let next = ts;
      try {
        readFileSync(ts);
      } catch {
        next = `${base}.tsx`;
      }
      closure(next, seen, packages);
    } else {
      packages.add(spec);
    }
  }
  return { seen, packages };
}

describe("views: browser-safe (the dashboard imports them)", () => {
  const { seen, packages } = closure(join(SRC, "views", "index.ts"));

  it("nothing reachable from src/views/index.ts imports a node: module or a Node-only file", () => {
    expect(seen.size).to.be.greaterThan(15);
    for (const f of seen) {
      expect(/from "node:|require\(/.test(readFileSync(join(SRC, f), "utf8")), f).to.equal(false);
    }
    expect(
      [...seen].filter((f) => /folder-source|label-book-file|sqlite|store\.ts|rpc\.ts|custodian/.test(f)),
    ).to.deep.equal([]);
  });

  it("the packages it imports are browser-capable ones, each named here (a new one must be added knowingly)", () => {
    expect([...packages].sort()).to.deep.equal([
      "canonicalize",
      "ethers",
      "multiformats/cid",
      "multiformats/hashes/digest",
      "preact",
      "preact-render-to-string",
      "preact/hooks",
      "vega",
      "vega-lite",
      "zod",
    ]);
  });
});
