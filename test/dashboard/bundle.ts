import { builtinModules } from "node:module";
import { fileURLToPath } from "node:url";

import { expect } from "chai";
import { build, type Rolldown } from "vite";

/**
 * The SDK's main entry bundles for a browser with no Node-only module (issue 15: the owner's
 * dashboard uses it in the page). Vite builds `src/sdk/index.ts` as a library for the browser;
 * a plugin records every import of a Node builtin (`node:*` or a bare builtin name) that reaches
 * the module graph, and the build fails the test if there is one. The Node-only parts live in
 * `omnitensor-consent/node` (src/sdk/node.ts), which must, conversely, be seen importing them.
 */
const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

async function nodeImportsOf(entry: string): Promise<string[]> {
  const seen: string[] = [];
  await build({
    configFile: false,
    logLevel: "silent",
    root: ROOT,
    build: {
      write: false,
      lib: { entry, formats: ["es"], fileName: "sdk" },
      rollupOptions: { external: [] },
    },
    plugins: [
      {
        name: "record-node-builtins",
        enforce: "pre",
        resolveId(source: string, importer: string | undefined) {
          if (BUILTINS.has(source)) {
            seen.push(`${source} from ${importer?.replace(ROOT, "") ?? "?"}`);
            return { id: source, external: true };
          }
          return null;
        },
      },
    ],
  } as Parameters<typeof build>[0]);
  return seen;
}

describe("the SDK's main entry in a browser bundle", function () {
  this.timeout(120_000);

  it("src/sdk/index.ts bundles with no Node builtin anywhere in its module graph", async () => {
    expect(await nodeImportsOf("src/sdk/index.ts")).to.deep.equal([]);
  });

  it("the Node-only entry (omnitensor-consent/node) does import them: the check sees what it looks for", async () => {
    const seen = await nodeImportsOf("src/sdk/node.ts");
    expect(seen).to.include.members([
      "node:fs/promises from src/sdk/ignition-files.ts",
      "node:path from src/sdk/ignition-files.ts",
    ]);
  });
});

export type { Rolldown };
