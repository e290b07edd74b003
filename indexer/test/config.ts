import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { expect } from "chai";

import { chainsFromEnv, parseChains } from "../lib/chains.js";
import { INDEXER } from "./helpers/processes.js";

/**
 * The indexer's chain configuration (lib/chains.ts): every mistake refused before Ponder starts,
 * in one line naming the field; a good configuration read with its defaults.
 */
describe("indexer: chain configuration", () => {
  const A = "0x" + "aa".repeat(20);
  const B = "0x" + "Bb".repeat(20);
  const C = "0x" + "cc".repeat(20);
  const good = { chainId: 31337, rpc: "http://127.0.0.1:8545", registry: A, integrations: B, accessManager: C };

  it("reads a chain with its defaults, addresses lowercase; a bare array too", () => {
    const expected = [
      {
        name: "chain31337",
        chainId: 31337,
        rpc: "http://127.0.0.1:8545",
        registry: A,
        integrations: B.toLowerCase(),
        accessManager: C,
        startBlock: 0,
        pollingIntervalMs: 1000,
        maxRequestsPerSecond: 50,
      },
    ];
    expect(parseChains({ chains: [good] })).to.deep.equal(expected);
    expect(parseChains([good])).to.deep.equal(expected);
    expect(
      parseChains({
        chains: [{ ...good, name: "local", startBlock: 7, pollingIntervalMs: 100, maxRequestsPerSecond: 5 }],
      }),
    ).to.deep.equal([
      { ...expected[0], name: "local", startBlock: 7, pollingIntervalMs: 100, maxRequestsPerSecond: 5 },
    ]);
  });

  const bad: [string, unknown, string][] = [
    [
      "no chains",
      { chains: [] },
      'indexer config: configuration: expected { "chains": [ … ] } with at least one chain',
    ],
    ["not an object", { chains: [7] }, "indexer config: chains[0]: expected an object"],
    ["an unknown field", { chains: [{ ...good, registy: A }] }, "indexer config: chains[0].registy: unknown field"],
    [
      "chain id 0",
      { chains: [{ ...good, chainId: 0 }] },
      "indexer config: chains[0].chainId: expected an integer >= 1",
    ],
    [
      "chain id as text",
      { chains: [{ ...good, chainId: "1" }] },
      "indexer config: chains[0].chainId: expected an integer >= 1",
    ],
    ["a ws URL", { chains: [{ ...good, rpc: "ws://x" }] }, "indexer config: chains[0].rpc: expected an http(s) URL"],
    [
      "a short address",
      { chains: [{ ...good, registry: "0x12" }] },
      "indexer config: chains[0].registry: expected a 0x-prefixed 20-byte hex address",
    ],
    [
      "a negative start block",
      { chains: [{ ...good, startBlock: -1 }] },
      "indexer config: chains[0].startBlock: expected an integer >= 0",
    ],
    [
      "a name with a dash",
      { chains: [{ ...good, name: "main-net" }] },
      "indexer config: chains[0].name: expected a name of letters, digits and _",
    ],
    [
      "the same chain twice",
      { chains: [good, { ...good, name: "other" }] },
      "indexer config: chains[1]: same id as chains[0]",
    ],
    [
      "the same name twice",
      {
        chains: [
          { ...good, name: "x" },
          { ...good, chainId: 1, name: "x" },
        ],
      },
      "indexer config: chains[1]: same name as chains[0]",
    ],
  ];
  for (const [what, json, message] of bad) {
    it(`refuses ${what} in one line naming the field`, () => {
      expect(() => parseChains(json))
        .to.throw(Error, message)
        .with.property("message", message);
    });
  }

  it("reads the environment: inline JSON or a file, exactly one of them, JSON checked", () => {
    const dir = mkdtempSync(join(tmpdir(), "omni-indexer-config-"));
    try {
      const file = join(dir, "chains.json");
      writeFileSync(file, JSON.stringify({ chains: [good] }));
      expect(chainsFromEnv({ OMNI_INDEXER_CONFIG: file })).to.deep.equal(parseChains([good]));
      expect(chainsFromEnv({ OMNI_INDEXER_CHAINS: JSON.stringify([good]) })).to.deep.equal(parseChains([good]));
      expect(() => chainsFromEnv({})).to.throw(
        "indexer config: environment: set OMNI_INDEXER_CHAINS (JSON) or OMNI_INDEXER_CONFIG (a JSON file)",
      );
      expect(() => chainsFromEnv({ OMNI_INDEXER_CHAINS: "[]", OMNI_INDEXER_CONFIG: file })).to.throw(
        "indexer config: environment: set OMNI_INDEXER_CHAINS or OMNI_INDEXER_CONFIG, not both",
      );
      expect(() => chainsFromEnv({ OMNI_INDEXER_CHAINS: "{chains" })).to.throw(
        /^indexer config: OMNI_INDEXER_CHAINS: not JSON \(/,
      );
      writeFileSync(file, JSON.stringify({ chains: [{ ...good, rpc: 1 }] }));
      expect(() => chainsFromEnv({ OMNI_INDEXER_CONFIG: file })).to.throw(
        "indexer config: chains[0].rpc: expected an http(s) URL",
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("ponder start with a bad field exits 1 and says which field, before touching a database", async () => {
    const message = "indexer config: chains[0].registry: expected a 0x-prefixed 20-byte hex address";
    const child = spawn(
      process.execPath,
      [
        join(INDEXER, "node_modules", "ponder", "dist", "esm", "bin", "ponder.js"),
        "start",
        "--schema",
        "x",
        "--port",
        "0",
      ],
      {
        cwd: INDEXER,
        stdio: ["ignore", "pipe", "pipe"],
        env: {
          ...process.env,
          PONDER_TELEMETRY_DISABLED: "1",
          // Nothing listens there: the process must stop at the configuration, not at the database.
          DATABASE_URL: "postgresql://nobody@127.0.0.1:1/none",
          OMNI_INDEXER_CHAINS: JSON.stringify({ chains: [{ ...good, registry: "0x12" }] }),
          OMNI_INDEXER_CONFIG: "",
        },
      },
    );
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once("exit", (c) => resolve(c)));
    expect(code).to.equal(1);
    expect(out).to.include(`Error: ${message}\n`);
    expect(out).to.not.include("ECONNREFUSED");
  }).timeout(60_000);
});
