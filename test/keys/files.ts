import { createHash } from "node:crypto";
import {
  constants,
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { expect } from "chai";
import { Wallet } from "ethers";

import { cidFromSha256 } from "../../src/keys/cid.js";
import { HEADER_BYTES } from "../../src/keys/format.js";
import { openFile, sealFile, WORKER_MIN_BYTES } from "../../src/keys/files.js";
import type { FileOptions } from "../../src/keys/files.js";
import { HashWorker, HashWorkerError } from "../../src/keys/hash-worker.js";
import { generateKeyPair, openWith } from "../../src/keys/hpke.js";
import type { SignedManifest } from "../../src/keys/manifest.js";
import { OpenAssetError, envelopeInfoOf } from "../../src/keys/open.js";
import { cryptoBackend, randomBytes } from "../../src/keys/platform.js";
import { combineShares } from "../../src/keys/shares.js";

const REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
const sha256 = (b: Uint8Array) => new Uint8Array(createHash("sha256").update(b).digest());
const cidOfFile = (path: string) => cidFromSha256(sha256(readFileSync(path))).toString();

/** What `fn` threw: an OpenAssetError's code, a HashWorkerError's name, else rethrown; "OK" if nothing. */
async function failure(fn: () => Promise<unknown>): Promise<string> {
  try {
    await fn();
    return "OK";
  } catch (e) {
    if (e instanceof OpenAssetError) return e.code;
    if (e instanceof HashWorkerError) return e.name;
    throw e;
  }
}

/** Makes `HashWorker#update` stop its worker (as a crash would) on call `n`; returns the undo. */
function crashWorkerOnUpdate(n: number): () => void {
  const original = HashWorker.prototype.update;
  let calls = 0;
  HashWorker.prototype.update = function (this: HashWorker, ...args: Parameters<HashWorker["update"]>) {
    const p = original.apply(this, args);
    if (++calls === n) void this.terminate();
    return p;
  };
  return () => {
    HashWorker.prototype.update = original;
  };
}

/** Counts `HashWorker` updates while `fn` runs (0: the file never went to a worker). */
async function workerUpdates(fn: () => Promise<unknown>): Promise<number> {
  const original = HashWorker.prototype.update;
  let calls = 0;
  HashWorker.prototype.update = function (this: HashWorker, ...args: Parameters<HashWorker["update"]>) {
    calls++;
    return original.apply(this, args);
  };
  try {
    await fn();
  } finally {
    HashWorker.prototype.update = original;
  }
  return calls;
}

/** Whether files in `dir` can be opened with O_DIRECT (Linux; not tmpfs). */
async function directWorks(dir: string): Promise<boolean> {
  const O_DIRECT = (constants as { O_DIRECT?: number }).O_DIRECT;
  if (O_DIRECT === undefined) return false;
  const probe = join(dir, "direct.probe");
  try {
    const fh = await open(probe, constants.O_WRONLY | constants.O_CREAT | O_DIRECT, 0o600);
    await fh.close();
    return true;
  } catch {
    return false;
  } finally {
    rmSync(probe, { force: true });
  }
}

describe("keys: sealing and opening files on two threads", function () {
  this.timeout(60_000);
  const owner = Wallet.createRandom();
  let custodians: Awaited<ReturnType<typeof generateKeyPair>>[];
  let dir: string;

  before(async () => {
    custodians = await Promise.all([0, 1, 2].map(() => generateKeyPair()));
    dir = mkdtempSync(join(tmpdir(), "omni-keys-files2-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const seal = (
    input: string,
    output: string,
    chunkSize: number,
    threads: FileOptions["threads"],
    more: Omit<FileOptions, "threads"> = {},
  ) =>
    sealFile(
      {
        chainId: 31337n,
        registry: REGISTRY,
        owner,
        custodians: custodians.map((c, i) => ({ url: `http://x${i}`, publicKey: c.publicKey })),
        threshold: 2,
        chunkSize,
      },
      input,
      output,
      { threads, ...more },
    );
  const keyOf = async (r: Awaited<ReturnType<typeof seal>>) =>
    combineShares(
      await Promise.all(
        [0, 1].map((i) => openWith(custodians[i].privateKey, envelopeInfoOf(r.manifest, i), r.envelopes[i])),
      ),
    );
  const leftovers = (prefix: string) => readdirSync(dir).filter((f) => f.startsWith(prefix));

  // chunk 1 KiB: 256 frames per batch, more batches than the 4 in flight; chunk 1 MiB: one frame per batch.
  for (const [label, size, chunkSize] of [
    ["empty", 0, 1024],
    ["one short frame", 100, 1024],
    ["1,333,000 bytes in 1 KiB frames (6 batches)", 1_333_000, 1024],
    ["exactly 1,536 frames of 1 KiB (6 full batches)", 1536 * 1024, 1024],
    ["5.5 MiB in 1 MiB frames", 5.5 * 1024 * 1024, 1 << 20],
  ] as const) {
    it(`${label}: both paths write files of the same format, each opens the other's, CID = SHA-256 of the file`, async () => {
      const name = label.replace(/\W+/g, "-");
      const input = join(dir, `${name}.in`);
      const data = randomBytes(size);
      writeFileSync(input, data);
      const frames = size === 0 ? 1 : Math.ceil(size / chunkSize);
      for (const [sealThreads, openThreads] of [
        ["two", "one"],
        ["one", "two"],
        ["two", "two"],
      ] as const) {
        const sealed = join(dir, `${name}.${sealThreads}.sealed`);
        const opened = join(dir, `${name}.${sealThreads}-${openThreads}.out`);
        const r = await seal(input, sealed, chunkSize, sealThreads);
        expect(readFileSync(sealed).length).to.equal(HEADER_BYTES + size + 16 * frames);
        // The CID in the manifest is the SHA-256 of the file's bytes, byte for byte, whichever thread hashed it.
        expect(r.manifest.cid).to.equal(cidOfFile(sealed));
        expect([r.manifest.size, r.manifest.chunkSize]).to.deep.equal([BigInt(size), chunkSize]);
        await openFile(r.manifest, await keyOf(r), sealed, opened, { threads: openThreads });
        expect(Buffer.compare(readFileSync(opened), data), `${sealThreads} → ${openThreads}`).to.equal(0);
      }
    });
  }

  it("seal and open fsync the whole <out>.partial before it gets its name (both paths)", async () => {
    // FileHandle#sync, watched: at each call, is the output still unnamed and its .partial whole?
    const probe = await open(join(dir, "probe"), "w");
    const proto = Object.getPrototypeOf(probe) as { sync: () => Promise<void> };
    await probe.close();
    const original = proto.sync;
    let target = "";
    const seen: { named: boolean; partialBytes: number }[] = [];
    proto.sync = function (this: unknown) {
      seen.push({ named: existsSync(target), partialBytes: statSync(`${target}.partial`).size });
      return original.call(this);
    };
    try {
      const size = 1_333_000;
      const input = join(dir, "durable.in");
      writeFileSync(input, randomBytes(size));
      for (const threads of ["one", "two"] as const) {
        target = join(dir, `durable-${threads}.sealed`);
        seen.length = 0;
        const r = await seal(input, target, 1024, threads);
        expect(seen, `seal, ${threads}`).to.deep.equal([
          { named: false, partialBytes: HEADER_BYTES + size + 16 * Math.ceil(size / 1024) },
        ]);
        const sealed = target;
        target = join(dir, `durable-${threads}.out`);
        seen.length = 0;
        await openFile(r.manifest, await keyOf(r), sealed, target, { threads });
        expect(seen, `open, ${threads}`).to.deep.equal([{ named: false, partialBytes: size }]);
        expect(existsSync(target) && !existsSync(`${target}.partial`)).to.equal(true);
      }
    } finally {
      proto.sync = original;
    }
  });

  it("a symlink planted at <out>.partial is replaced, never written through (seal and open, both paths)", async () => {
    const input = join(dir, "planted.in");
    const data = randomBytes(50_000);
    writeFileSync(input, data);
    for (const threads of ["one", "two"] as const) {
      const victim = join(dir, `victim-${threads}.txt`);
      writeFileSync(victim, "keep me");
      const sealed = join(dir, `planted-${threads}.sealed`);
      symlinkSync(victim, `${sealed}.partial`);
      const r = await seal(input, sealed, 4096, threads);
      expect(readFileSync(victim, "utf8"), `seal, ${threads}`).to.equal("keep me");
      expect(r.manifest.cid).to.equal(cidOfFile(sealed));
      const opened = join(dir, `planted-${threads}.out`);
      symlinkSync(victim, `${opened}.partial`);
      await openFile(r.manifest, await keyOf(r), sealed, opened, { threads });
      expect(readFileSync(victim, "utf8"), `open, ${threads}`).to.equal("keep me");
      expect(Buffer.compare(readFileSync(opened), data)).to.equal(0);
      expect(existsSync(`${opened}.partial`) || existsSync(`${sealed}.partial`)).to.equal(false);
    }
  });

  it("the noble backend (the browser's AES-GCM) on the two-thread path writes the same format", async () => {
    const input = join(dir, "noble.in");
    const data = randomBytes(300_000);
    writeFileSync(input, data);
    const r = await sealFile(
      {
        chainId: 31337n,
        registry: REGISTRY,
        owner,
        custodians: custodians.map((c, i) => ({ url: `http://x${i}`, publicKey: c.publicKey })),
        threshold: 2,
        chunkSize: 4096,
        backend: await cryptoBackend({ prefer: "noble" }),
      },
      input,
      join(dir, "noble.sealed"),
      { threads: "two" },
    );
    expect(r.manifest.cid).to.equal(cidOfFile(join(dir, "noble.sealed")));
    await openFile(r.manifest, await keyOf(r), join(dir, "noble.sealed"), join(dir, "noble.out"), { threads: "two" });
    expect(Buffer.compare(readFileSync(join(dir, "noble.out")), data)).to.equal(0);
  });

  describe("refuses altered files and leaves no output (two threads)", () => {
    const CHUNK = 1024;
    const FRAME = CHUNK + 16;
    let r: Awaited<ReturnType<typeof seal>>;
    let key: Uint8Array;
    let sealed: Buffer;
    let plain: Uint8Array;
    before(async () => {
      const input = join(dir, "victim.in");
      plain = randomBytes(1200 * CHUNK + 77); // 1,201 frames: 5 batches
      writeFileSync(input, plain);
      r = await seal(input, join(dir, "victim.sealed"), CHUNK, "two");
      key = await keyOf(r);
      sealed = readFileSync(join(dir, "victim.sealed"));
    });
    const frame = (i: number) => sealed.subarray(HEADER_BYTES + i * FRAME, HEADER_BYTES + (i + 1) * FRAME);
    const attempt = async (name: string, bytes: Uint8Array, m: SignedManifest = r.manifest): Promise<string> => {
      writeFileSync(join(dir, `${name}.sealed`), bytes);
      const code = await failure(() =>
        openFile(m, key, join(dir, `${name}.sealed`), join(dir, `${name}.out`), { threads: "two" }),
      );
      expect(leftovers(`${name}.out`), name).to.deep.equal(code === "OK" ? [`${name}.out`] : []);
      return code;
    };

    it("a flipped bit in a frame of the fourth batch (after earlier batches were written to .partial)", async () => {
      const bad = Buffer.from(sealed);
      bad[HEADER_BYTES + 800 * FRAME + 5] ^= 1;
      expect(await attempt("flipped", bad)).to.equal("TAMPERED");
    });

    it("two frames from different batches swapped", async () => {
      const swapped = Buffer.from(sealed);
      frame(700).copy(swapped, HEADER_BYTES + 10 * FRAME);
      frame(10).copy(swapped, HEADER_BYTES + 700 * FRAME);
      expect(await attempt("swapped", swapped)).to.equal("TAMPERED");
    });

    it("truncated at a frame boundary, inside a frame; a frame appended", async () => {
      expect(await attempt("cut-boundary", sealed.subarray(0, HEADER_BYTES + 1000 * FRAME))).to.equal("TAMPERED");
      expect(await attempt("cut-inside", sealed.subarray(0, HEADER_BYTES + 1000 * FRAME + 9))).to.equal("TRUNCATED");
      expect(await attempt("appended", Buffer.concat([sealed, frame(3)]))).to.equal("TAMPERED");
    });

    it("a manifest that names another CID or size: every frame authenticates, the CID or size does not match", async () => {
      const otherCid = { ...r.manifest, cid: cidFromSha256(sha256(Uint8Array.of(1))).toString() };
      expect(await attempt("other-cid", sealed, otherCid)).to.equal("CID_MISMATCH");
      expect(await attempt("other-size", sealed, { ...r.manifest, size: r.manifest.size - 1n })).to.equal(
        "SIZE_MISMATCH",
      );
      expect(await attempt("intact", sealed)).to.equal("OK");
      expect(Buffer.compare(readFileSync(join(dir, "intact.out")), plain)).to.equal(0);
    });
  });

  describe("a worker that dies mid-stream", () => {
    it("seal: fails with HashWorkerError, no sealed file and no .partial left", async () => {
      const input = join(dir, "crash.in");
      writeFileSync(input, randomBytes(3 << 20));
      const undo = crashWorkerOnUpdate(3);
      try {
        expect(await failure(() => seal(input, join(dir, "crash.sealed"), 64 * 1024, "two"))).to.equal(
          "HashWorkerError",
        );
      } finally {
        undo();
      }
      expect(leftovers("crash.sealed")).to.deep.equal([]);
    });

    it("open: fails with HashWorkerError, no plaintext and no .partial left", async () => {
      const input = join(dir, "crash2.in");
      writeFileSync(input, randomBytes(3 << 20));
      const r = await seal(input, join(dir, "crash2.sealed"), 64 * 1024, "two");
      const key = await keyOf(r);
      const undo = crashWorkerOnUpdate(3);
      try {
        expect(
          await failure(() =>
            openFile(r.manifest, key, join(dir, "crash2.sealed"), join(dir, "crash2.out"), { threads: "two" }),
          ),
        ).to.equal("HashWorkerError");
      } finally {
        undo();
      }
      expect(leftovers("crash2.out")).to.deep.equal([]);
      // The same file opens once the worker behaves.
      await openFile(r.manifest, key, join(dir, "crash2.sealed"), join(dir, "crash2.out"), { threads: "two" });
      expect(Buffer.compare(readFileSync(join(dir, "crash2.out")), readFileSync(input))).to.equal(0);
    });
  });

  it(`"auto" hashes on a worker from ${WORKER_MIN_BYTES >> 20} MiB on, on this thread below`, async () => {
    const small = join(dir, "auto-small.in");
    const big = join(dir, "auto-big.in");
    writeFileSync(small, randomBytes(WORKER_MIN_BYTES - 1));
    writeFileSync(big, randomBytes(WORKER_MIN_BYTES));
    const chunk = 1 << 20;
    expect(await workerUpdates(() => seal(small, join(dir, "auto-small.sealed"), chunk, "auto"))).to.equal(0);
    // header + 32 batches of one 1 MiB frame
    expect(await workerUpdates(() => seal(big, join(dir, "auto-big.sealed"), chunk, undefined))).to.equal(33);
    expect(existsSync(join(dir, "auto-big.sealed"))).to.equal(true);
  });

  // O_DIRECT (direct-io.ts) on two threads: the output, and open's input, around the page cache.
  const roundTrip = async (where: string, size: number, io: FileOptions["io"]) => {
    const data = randomBytes(size);
    const input = join(where, `rt-${size}.in`);
    writeFileSync(input, data);
    const sealStats: NonNullable<FileOptions["stats"]> = {};
    const r = await seal(input, join(where, `rt-${size}.sealed`), 64 << 10, "two", { io, stats: sealStats });
    const sealed = readFileSync(join(where, `rt-${size}.sealed`));
    const key = await keyOf(r);
    const opened: Record<string, Buffer> = {};
    const openStats: Record<string, string | undefined> = {};
    const readStats: Record<string, string | undefined> = {};
    for (const [openIo, threads] of [
      ["auto", "two"],
      ["buffered", "two"],
      ["auto", "one"],
    ] as const) {
      const stats: NonNullable<FileOptions["stats"]> = {};
      const out = join(where, `rt-${size}.${openIo}.${threads}.out`);
      await openFile(r.manifest, key, join(where, `rt-${size}.sealed`), out, { threads, io: openIo, stats });
      opened[`${openIo}/${threads}`] = readFileSync(out);
      openStats[`${openIo}/${threads}`] = stats.io;
      readStats[`${openIo}/${threads}`] = stats.read;
      rmSync(out);
    }
    rmSync(input);
    return { data, r, sealed, opened, sealIo: sealStats.io, openStats, readStats };
  };

  // Stage boundaries (4 MiB) and block boundaries (4 KiB) of the output, on both sides of them.
  for (const size of [0, 4095, 4 << 20, (8 << 20) + 4096, (8 << 20) + 4097, (13 << 20) - 1]) {
    it(`${size} bytes: sealed and opened around the page cache here, byte for byte what the page-cache path writes and reads`, async () => {
      const expected = (await directWorks(dir)) ? "direct" : "buffered";
      const direct = await roundTrip(dir, size, "auto");
      expect(direct.sealIo).to.equal(expected);
      const how = { "auto/two": expected, "buffered/two": "buffered", "auto/one": undefined };
      expect(direct.openStats).to.deep.equal(how);
      expect(direct.readStats).to.deep.equal(how);
      const frames = size === 0 ? 1 : Math.ceil(size / (64 << 10));
      expect(direct.sealed.length).to.equal(HEADER_BYTES + size + 16 * frames);
      expect(direct.r.manifest.cid).to.equal(cidFromSha256(sha256(direct.sealed)).toString());
      for (const [how, bytes] of Object.entries(direct.opened))
        expect(Buffer.compare(bytes, direct.data), how).to.equal(0);
      // Sealed through the page cache, it opens the same way around it.
      const buffered = await roundTrip(dir, size, "buffered");
      expect(buffered.sealIo).to.equal("buffered");
      expect(buffered.sealed.length).to.equal(direct.sealed.length);
      for (const [how, bytes] of Object.entries(buffered.opened))
        expect(Buffer.compare(bytes, buffered.data), how).to.equal(0);
    });
  }

  it("where O_DIRECT is refused (tmpfs) or switched off (OMNI_NO_DIRECT_IO=1), the same bytes go through the page cache", async () => {
    const throughTheCache = async (where: string) => {
      const t = await roundTrip(where, (5 << 20) + 3, "auto");
      expect([t.sealIo, t.openStats["auto/two"], t.readStats["auto/two"]]).to.deep.equal([
        "buffered",
        "buffered",
        "buffered",
      ]);
      for (const bytes of Object.values(t.opened)) expect(Buffer.compare(bytes, t.data)).to.equal(0);
    };
    const shm = "/dev/shm";
    if (existsSync(shm) && !(await directWorks(shm))) {
      const where = mkdtempSync(join(shm, "omni-keys-direct-"));
      try {
        await throughTheCache(where);
      } finally {
        rmSync(where, { recursive: true, force: true });
      }
    }
    process.env.OMNI_NO_DIRECT_IO = "1";
    try {
      await throughTheCache(dir);
    } finally {
      delete process.env.OMNI_NO_DIRECT_IO;
    }
  });
});

describe("keys: the SHA-256 worker", () => {
  it("hashes shared and lent bytes in order; lent whole buffers move and come back, views are copied", async () => {
    const w = new HashWorker();
    try {
      const a = randomBytes(1000);
      const shared = new Uint8Array(new SharedArrayBuffer(300));
      shared.set(randomBytes(300));
      const big = randomBytes(5000);
      const view = big.subarray(100, 200);
      expect(await w.update([a], "share")).to.deep.equal([]);
      expect(await w.update([shared], "share")).to.deep.equal([]);
      const whole = Uint8Array.from(randomBytes(64));
      const copyOfWhole = Uint8Array.from(whole);
      const back = await w.update([whole, view], "lend");
      expect([whole.byteLength, view.byteLength, big.byteLength]).to.deep.equal([0, 100, 5000]); // moved; copied
      expect([Buffer.compare(back[0], copyOfWhole), Buffer.compare(back[1], view)]).to.deep.equal([0, 0]);
      const expected = sha256(Buffer.concat([a, shared, copyOfWhole, view]));
      expect(Buffer.from(await w.digest()).toString("hex")).to.equal(Buffer.from(expected).toString("hex"));
      // digest() starts a fresh hash
      await w.update([a], "share");
      expect(Buffer.from(await w.digest()).toString("hex")).to.equal(Buffer.from(sha256(a)).toString("hex"));
    } finally {
      await w.terminate();
    }
  });

  it("an error inside the worker rejects that update, the next ones and the digest", async () => {
    const w = new HashWorker();
    try {
      const bad = w.update([{ not: "bytes" } as unknown as Uint8Array], "share");
      let message = "";
      await bad.catch((e: Error) => (message = `${e.name}: ${e.message}`));
      expect(message).to.match(/^HashWorkerError: the SHA-256 worker failed: .*"data" argument/);
      expect(await failure(() => w.update([Uint8Array.of(1)], "share"))).to.equal("HashWorkerError");
      expect(await failure(() => w.digest())).to.equal("HashWorkerError");
    } finally {
      await w.terminate();
    }
  });

  it("terminate(): pending updates reject, later ones too", async () => {
    const w = new HashWorker();
    const pending = w.update([randomBytes(1 << 20)], "share");
    await w.terminate();
    expect(await failure(() => pending)).to.equal("HashWorkerError");
    expect(await failure(() => w.update([Uint8Array.of(1)], "share"))).to.equal("HashWorkerError");
  });
});
