import { expect } from "chai";
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const ENTRY = join(ROOT, "dist", "src", "sdk", "index.js");

/**
 * The published SDK must work with plain Node from the compiled output: no tsx, no Hardhat.
 * `npm test` builds first (`pretest`); run `npm run build` before this file on its own.
 */
describe("package: the compiled SDK under plain Node", function () {
  this.timeout(30_000);

  before(function () {
    if (!existsSync(ENTRY)) throw new Error(`${ENTRY} is missing; run \`npm run build\` first`);
  });

  async function node(script: string): Promise<unknown> {
    // A bare environment: no NODE_OPTIONS (tsx / Hardhat loaders), plain `node`.
    const { stdout } = await run(process.execPath, ["--input-type=module", "-e", script], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? "" },
    });
    return JSON.parse(stdout) as unknown;
  }

  const probe = (specifier: string) => `
    const m = await import(${JSON.stringify(specifier)});
    const mask = m.purposesToMask([m.Purpose.INFERENCE, m.Purpose.RESEARCH]).toString();
    const { Interface } = await import("ethers");
    const data = new Interface(m.CONSENT_REGISTRY_ABI).encodeErrorResult("ConsentRegistryEmptyBatch", []);
    const decoded = m.decodeRevertData(data);
    console.log(JSON.stringify({
      mask,
      allData: m.ALL_DATA,
      version: m.REGISTRY_VERSION,
      governorRole: m.GOVERNOR_ROLE.toString(),
      functions: ["ConsentRegistryClient", "IntegrationRegistryClient", "GovernanceClient", "ConsentTransaction",
        "ConsentSdkError", "decodeConsentError", "loadDeployment", "signConsent", "governedSelectors",
        "MemorySigningStore", "sharedSigningStore", "signGrant", "signRevoke", "signRevokeAll", "planKeyMessage"]
        .filter((n) => typeof m[n] !== "function"),
      fileStoreInMain: "FileSigningStore" in m,
      decoded: decoded.message,
      loaders: process.execArgv.filter((a) => /^--(import|loader|require|experimental-loader)/.test(a)),
    }));`;

  const expected = {
    mask: "132",
    allData: `0x${"f".repeat(64)}`,
    version: "2.0.0",
    governorRole: "1",
    functions: [],
    fileStoreInMain: false,
    decoded: "ConsentRegistryEmptyBatch: a batch must contain at least one item",
    loaders: [],
  };

  it("dist/src/sdk/index.js loads and works by path", async () => {
    const out = (await node(probe(ENTRY))) as Record<string, unknown>;
    expect(out).to.deep.equal(expected);
  });

  it("the package name resolves through package.json `exports` (what a consumer imports)", async () => {
    const name = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { name: string }).name;
    const out = (await node(probe(name))) as Record<string, unknown>;
    expect(out).to.deep.equal(expected);
    const abi = (await node(
      `const m = await import("${name}/abi"); console.log(JSON.stringify(m.CONSENT_REGISTRY_ABI.some((f) => f.name === "grantBySig")));`,
    )) as boolean;
    expect(abi).to.equal(true);
    const store = (await node(
      `const m = await import("${name}/file-signing-store"); console.log(JSON.stringify(typeof m.FileSigningStore));`,
    )) as string;
    expect(store).to.equal("function");
  });

  it("the main entry imports no node: module (it loads without a filesystem); the file store is its own entry", () => {
    // Follow the static imports of the compiled main entry through the package's own files.
    const seen = new Set<string>();
    const nodeImports: string[] = [];
    const visit = (file: string): void => {
      if (seen.has(file)) return;
      seen.add(file);
      const text = readFileSync(file, "utf8");
      for (const m of text.matchAll(/^(?:import|export)[^;]*?from\s+"([^"]+)";/gms)) {
        const spec = m[1];
        if (spec.startsWith("node:")) nodeImports.push(`${file.slice(ROOT.length + 1)} → ${spec}`);
        else if (spec.startsWith(".")) visit(join(dirname(file), spec));
      }
    };
    visit(ENTRY);
    expect(seen.size).to.be.greaterThan(10);
    expect(nodeImports).to.deep.equal([]);
    const fileStore = readFileSync(join(ROOT, "dist", "src", "sdk", "file-signing-store.js"), "utf8");
    expect(fileStore).to.include('from "node:fs/promises"');
    expect([...seen].some((f) => f.endsWith("file-signing-store.js"))).to.equal(false);
  });
});
