import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import { expect } from "chai";
import { Wallet, id } from "ethers";

import { consentDomain, recoverConsentSigner } from "../../src/sdk/eip712.js";
import type { MessageOf } from "../../src/sdk/eip712.js";
import { FileSigningStore } from "../../src/sdk/file-signing-store.js";
import { keyOf, scopeId } from "../../src/sdk/signing-store.js";
import type { SigningScope } from "../../src/sdk/signing-store.js";
import { planKeyMessage } from "../../src/sdk/signing.js";
import { rejects } from "./rejects.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const WORKER = join(ROOT, "test", "sdk", "signing-worker.ts");
const REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
const GRANTEE = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";
const DATA = id("concurrent-signing:one-key");

/** One reservation for (GRANTEE, DATA) against chain state epoch 0, version `chainVersion`. */
function reserve(store: FileSigningStore, scope: SigningScope, chainVersion = 0n) {
  return store.transact(scope, (state) =>
    planKeyMessage(state, keyOf(GRANTEE, DATA), {
      kind: "Revoke",
      now: 1_000n,
      chain: { epoch: 0n, version: chainVersion },
      opts: {},
    }),
  );
}

/** The pid of a process that has exited (its pid is free). */
function deadPid(): number {
  const child = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"]);
  return Number(child.stdout.toString());
}

describe("FileSigningStore: versions reserved across processes", function () {
  this.timeout(120_000);

  let dir: string;
  const owner = Wallet.createRandom();
  const scope = (): SigningScope => ({ chainId: 31337n, registry: REGISTRY, owner: owner.address });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "omni-signing-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("six OS processes signing for one key at once never get the same version", async function () {
    const workers = 6;
    const each = 15;
    const children = Array.from({ length: workers }, () =>
      spawn(process.execPath, ["--import", "tsx", WORKER, dir, String(each), REGISTRY, owner.privateKey, GRANTEE], {
        cwd: ROOT,
        stdio: ["pipe", "pipe", "pipe"],
      }),
    );
    const outputs = children.map(
      (child) =>
        new Promise<{ stdout: string; stderr: string; code: number | null }>((resolve) => {
          let stdout = "";
          let stderr = "";
          child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
          child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
          child.on("close", (code) => resolve({ stdout, stderr, code }));
        }),
    );
    // Start them together, once every one of them is ready.
    await Promise.all(
      children.map(
        (child) =>
          new Promise<void>((resolve) => {
            const onData = (d: Buffer) => {
              if (d.toString().includes("ready")) {
                child.stdout.off("data", onData);
                resolve();
              }
            };
            child.stdout.on("data", onData);
          }),
      ),
    );
    for (const child of children) child.stdin.write("go\n");
    const results = await Promise.all(outputs);

    const signed: (Record<string, string> & { kind: "Grant" | "Revoke" })[] = [];
    for (const r of results) {
      expect(r.stderr, r.stderr).to.equal("");
      expect(r.code).to.equal(0);
      signed.push(...(JSON.parse(r.stdout.split("\n").filter((l) => l.startsWith("["))[0]!) as typeof signed));
    }
    const versions = signed.map((s) => BigInt(s.version)).sort((a, b) => (a < b ? -1 : 1));
    // Exactly 1..90: all distinct, none skipped.
    expect(versions).to.deep.equal(Array.from({ length: workers * each }, (_, i) => BigInt(i + 1)));
    // Each is a real signature of the owner over the version it carries.
    const domain = consentDomain(31337n, REGISTRY);
    for (const s of signed) {
      const message = {
        ...s,
        epoch: BigInt(s.epoch),
        version: BigInt(s.version),
        deadline: BigInt(s.deadline),
        ...(s.kind === "Grant" ? { purposes: BigInt(s.purposes), expiresAt: BigInt(s.expiresAt) } : {}),
      } as unknown as MessageOf[typeof s.kind];
      expect(recoverConsentSigner(s.kind, domain, message, s.signature)).to.equal(owner.address);
    }
    // One state file, no lock or temporary file left behind.
    expect(readdirSync(dir)).to.deep.equal([`${scopeId(scope())}.json`]);
    const state = JSON.parse(readFileSync(join(dir, `${scopeId(scope())}.json`), "utf8")) as {
      keys: Record<string, { version: string }>;
    };
    expect(state.keys[keyOf(GRANTEE, DATA)]?.version).to.equal(String(workers * each));
  });

  it("persists: a second store on the same directory continues after the first one's reservations", async () => {
    const a = new FileSigningStore(dir);
    expect((await reserve(a, scope())).version).to.equal(1n);
    expect((await reserve(a, scope())).version).to.equal(2n);
    const b = new FileSigningStore(dir);
    expect((await reserve(b, scope())).version).to.equal(3n);
    // The chain moved past the store (a transaction changed the key): the chain's version wins.
    expect((await reserve(b, scope(), 5n << 16n)).version).to.equal((5n << 16n) + 1n);
    const other = { ...scope(), owner: Wallet.createRandom().address };
    expect((await reserve(b, other)).version).to.equal(1n);
  });

  it("recovers a lock left by a process that died", async () => {
    const store = new FileSigningStore(dir);
    const lock = `${store.fileOf(scope())}.lock`;
    const pid = deadPid();
    writeFileSync(lock, JSON.stringify({ pid, host: hostname(), createdAt: Date.now(), token: "dead" }));
    const started = Date.now();
    expect((await reserve(store, scope())).version).to.equal(1n);
    expect(Date.now() - started).to.be.below(2_000);
    expect(readdirSync(dir)).to.deep.equal([`${scopeId(scope())}.json`]);
  });

  it("recovers a lock older than staleLockMs even if its holder runs, and an unwritten one by its file time", async () => {
    const store = new FileSigningStore(dir, { staleLockMs: 5_000 });
    const lock = `${store.fileOf(scope())}.lock`;
    writeFileSync(
      lock,
      JSON.stringify({ pid: process.pid, host: hostname(), createdAt: Date.now() - 60_000, token: "old" }),
    );
    expect((await reserve(store, scope())).version).to.equal(1n);
    writeFileSync(lock, ""); // created, never written: judged by its modification time
    const old = new Date(Date.now() - 60_000);
    utimesSync(lock, old, old);
    expect((await reserve(store, scope())).version).to.equal(2n);
  });

  it("waits for a live lock and gives up after lockTimeoutMs, naming the holder", async () => {
    const store = new FileSigningStore(dir, { lockTimeoutMs: 300 });
    const lock = `${store.fileOf(scope())}.lock`;
    writeFileSync(lock, JSON.stringify({ pid: process.pid, host: hostname(), createdAt: Date.now(), token: "live" }));
    const started = Date.now();
    const err = await rejects(reserve(store, scope()));
    expect(Date.now() - started).to.be.within(300, 3_000);
    expect([err.code, err.message]).to.deep.equal([
      "SIGNING_STORE",
      `${lock}: still held by process ${process.pid} on ${hostname()} after 300 ms; if no omni-consent signer is running, remove that file`,
    ]);
    // Nothing was reserved, and the other process's lock is untouched.
    expect(readdirSync(dir)).to.deep.equal([`${scopeId(scope())}.json.lock`]);
    expect(JSON.parse(readFileSync(lock, "utf8")).token).to.equal("live");
  });

  it("a holder whose lock was broken meanwhile writes nothing", async () => {
    const store = new FileSigningStore(dir);
    const file = store.fileOf(scope());
    expect((await reserve(store, scope())).version).to.equal(1n);
    const err = await rejects(
      store.transact(scope(), (state) => {
        // As if this holder had paused for longer than staleLockMs and another process took over.
        writeFileSync(
          `${file}.lock`,
          JSON.stringify({ pid: process.pid, host: hostname(), createdAt: Date.now(), token: "thief" }),
        );
        return planKeyMessage(state, keyOf(GRANTEE, DATA), {
          kind: "Grant",
          now: 1_000n,
          chain: { epoch: 0n, version: 0n },
          opts: {},
        });
      }),
    );
    expect([err.code, err.message]).to.deep.equal([
      "SIGNING_STORE",
      `${file}.lock: this process's lock was broken as stale while it held it; nothing was reserved, sign again`,
    ]);
    const state = JSON.parse(readFileSync(file, "utf8")) as { keys: Record<string, { version: string }> };
    expect(state.keys[keyOf(GRANTEE, DATA)]?.version).to.equal("1");
    // The other holder's lock is not removed by this one's release.
    expect(JSON.parse(readFileSync(`${file}.lock`, "utf8")).token).to.equal("thief");
  });

  it("refuses a damaged state file in words, and changes nothing", async () => {
    const store = new FileSigningStore(dir);
    const file = store.fileOf(scope());
    writeFileSync(file, "{ not json");
    const err = await rejects(reserve(store, scope()));
    expect([err.code, err.message]).to.deep.equal([
      "SIGNING_STORE",
      `${file}: not valid JSON; restore it from a backup or remove it`,
    ]);
    writeFileSync(
      file,
      JSON.stringify({
        format: "omni-consent/signing-state@1",
        keys: { k: { epoch: "0", version: "-1", deadline: "1" } },
      }),
    );
    const bad = await rejects(reserve(store, scope()));
    expect(bad.message).to.equal(`${file} keys["k"].version: expected a decimal integer string`);
    expect(readFileSync(file, "utf8")).to.include('"-1"');
  });
});
