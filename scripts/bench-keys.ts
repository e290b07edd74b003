/**
 * `npm run bench:keys`: key-release and bulk-crypto figures, and this machine's limit measured
 * in the same run. Writes reports/keys.json (flat) and prints a table; exits 1 on a missed target.
 *
 * - limit: `openssl speed -evp aes-256-gcm` and `-evp sha256` at 1 MiB blocks; one pass of each
 *   over the data is the work of sealing (encrypt + hash the ciphertext for its CID) and of
 *   opening (hash + decrypt): limit = 1 / (1/aes + 1/sha).
 * - seal / open of a file of --size-mib (default 1024) in a child process (its peak RSS is
 *   the child's maxRSS), file to file through the page cache. From 32 MiB on, `sealFile` and
 *   `openFile` run on two threads (the SHA-256 for the CID on a worker, AES-GCM and the I/O on
 *   the main thread), so the ratio compares two cores with the limit of one: `*.cores_used`
 *   (CPU seconds / wall seconds) says how much of the machine each took. `--threads one` measures
 *   the one-thread path instead.
 * - release: a node (anvil, a hardhat node, or each in turn: --node) and five custodian processes
 *   on 127.0.0.1 (the compiled CLI under plain node, as users run it), a 3-of-5 1 KiB asset,
 *   consent and a confirmed DataUsed record; one open at a time (request → plaintext), then 8 at
 *   once; then one custodian at 8 concurrent requests, each with all its checks; then the same
 *   load with a revocation mid-stream, counting releases decided at or after the revoking block.
 * Options: --size-mib N, --releases N (sequential opens), --load N (requests per load test),
 * --threads auto|one|two (seal/open: the hash on a worker thread or not), --only seal|release (one
 * part, written to reports/keys.<part>.json so that keys.json keeps one run's side-by-side figures;
 * the targets of the other part are not judged), --node anvil|hardhat|both (the node of the
 * release part, default both: anvil's figures count for the targets, the hardhat node's are
 * reported under `hardhat_node.*`), --cpu-prof DIR (the loaded custodian writes a V8 CPU profile
 * there when it stops).
 */
import { execFileSync, spawnSync } from "node:child_process";
import * as fsp from "node:fs/promises";
import {
  closeSync,
  constants as fsConstants,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { Agent, request } from "node:http";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

import { HDNodeWallet, Wallet, id as keccakId } from "ethers";

import { CustodianStore } from "../src/custodian/store.js";
import { alignedMemory, openDirect } from "../src/keys/direct-io.js";
import { Flusher, openFile, sealFile, WORKER_MIN_BYTES } from "../src/keys/files.js";
import type { FileOptions } from "../src/keys/files.js";
import { generateKeyPair, openWith } from "../src/keys/hpke.js";
import type { SignedManifest } from "../src/keys/manifest.js";
import { envelopeInfoOf, obtainKey, openBytes, registerShares } from "../src/keys/open.js";
import { keyRequestMessage, signKeyRequest } from "../src/keys/request.js";
import type { KeyRequestBody } from "../src/keys/request.js";
import { fromBytes, sealBytes } from "../src/keys/seal.js";
import { combineShares } from "../src/keys/shares.js";
import { Purpose } from "../src/sdk/purposes.js";
import { deployRegistry, startCustodian, startNode, tempDir } from "../test/custodian/helpers/processes.js";
import type { NodeKind } from "../test/custodian/helpers/processes.js";
import { compileLibrary } from "./lib/compile.js";

const args = process.argv.slice(2);
const opt = (name: string, dflt: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};

// ---------------------------------------------------------------------------------------------
// Child mode: seal or open one big file, print JSON {seconds, maxRssMb}.
// ---------------------------------------------------------------------------------------------
if (args[0] === "--child") {
  const [, mode, input, output, manifestPath, threadsArg] = args;
  const threads = { threads: threadsArg as FileOptions["threads"] };
  const owner = Wallet.createRandom();
  const kps = await Promise.all([0, 1, 2].map(() => generateKeyPair()));
  const REG = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
  if (mode === "seal+open") {
    const baseRss = process.resourceUsage().maxRSS / 1024;
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const r = await sealFile(
      {
        chainId: 31337n,
        registry: REG,
        owner,
        custodians: kps.map((k, i) => ({ url: `http://x${i}`, publicKey: k.publicKey })),
        threshold: 2,
      },
      input,
      output,
      threads,
    );
    const sealS = (performance.now() - t0) / 1000;
    const c1 = process.cpuUsage(c0);
    const sealCpuS = (c1.user + c1.system) / 1e6;
    const sealRss = process.resourceUsage().maxRSS / 1024;
    const key = await combineShares(
      await Promise.all([0, 1].map((i) => openWith(kps[i].privateKey, envelopeInfoOf(r.manifest, i), r.envelopes[i]))),
    );
    const c2 = process.cpuUsage();
    const t1 = performance.now();
    await openFile(r.manifest, key, output, manifestPath, threads);
    const openS = (performance.now() - t1) / 1000;
    const c3 = process.cpuUsage(c2);
    const openCpuS = (c3.user + c3.system) / 1e6;
    const totalRss = process.resourceUsage().maxRSS / 1024;
    process.stdout.write(JSON.stringify({ sealS, openS, sealCpuS, openCpuS, baseRss, sealRss, totalRss }));
  }
  process.exit(0);
}

const optText = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const PARTS = ["seal", "release"] as const;
const ONLY = optText("only");
if (ONLY !== undefined && !(PARTS as readonly string[]).includes(ONLY)) {
  process.stderr.write(`--only ${ONLY}: expected one of ${PARTS.join(", ")}\n`);
  process.exit(2);
}
const want = (part: (typeof PARTS)[number]): boolean => ONLY === undefined || ONLY === part;
const NODE = (optText("node") ?? "both") as NodeKind | "both";
if (!["anvil", "hardhat", "both"].includes(NODE)) {
  process.stderr.write(`--node ${NODE}: expected anvil, hardhat or both\n`);
  process.exit(2);
}
const CPU_PROF = optText("cpu-prof");
const SIZE_MIB = opt("size-mib", 1024);
const RELEASES = opt("releases", 300);
const LOAD = opt("load", 4000);
const word = (name: string, allowed: readonly string[], dflt?: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return dflt;
  if (!allowed.includes(args[i + 1])) {
    process.stderr.write(`bench:keys: --${name} takes one of ${allowed.join(", ")}, not ${args[i + 1] ?? "nothing"}\n`);
    process.exit(2);
  }
  return args[i + 1];
};
const THREADS = word("threads", ["auto", "one", "two"], "auto")!;
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const out: Record<string, number | string | boolean> = {};

/** openssl's rate in bytes/s: by CPU time (its default), or by wall-clock time with `elapsed`. */
function opensslRate(kind: string, elapsed = false): number {
  const flags = [...(elapsed ? ["-elapsed"] : []), "-evp", kind, "-seconds", "2", "-bytes", "1048576"];
  const text = execFileSync("openssl", ["speed", ...flags], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "ignore"],
  });
  const line = text.trim().split("\n").pop()!;
  const k = Number(/([\d.]+)k\s*$/.exec(line)![1]);
  return k * 1000; // bytes per second
}

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};
const r2 = (x: number) => Math.round(x * 100) / 100;

// The machine is shared: the load average says how much of it this run had.
out["machine.cores"] = availableParallelism();
out["machine.load_avg_1m_start"] = r2(loadavg()[0]);

// 1. Limit ------------------------------------------------------------------------------------
// openssl speed divides by CPU time by default: the machine's limit whatever the load. On a
// shared machine our wall-clock figures also pay for other processes, so the limit by wall-clock
// time (-elapsed) is measured right before and after the seal/open run and the wall-clock ratios
// use their mean; the CPU-time ratios compare CPU time with CPU time.
const limitOf = (elapsed: boolean) => {
  const aes = opensslRate("aes-256-gcm", elapsed);
  const sha = opensslRate("sha256", elapsed);
  return { aes, sha, limit: 1 / (1 / aes + 1 / sha) };
};
const cpuLimit = limitOf(false);
{
  // Node's own AES-256-GCM and SHA-256 (its bundled OpenSSL) on 1 MiB frames in memory, per CPU
  // second: what the file path can reach at best. AES runs as the file path runs it, in 64 KiB
  // updates whose outputs are freed at once: Node allocates a new buffer per update, and 1 MiB
  // ones that pile up for the GC cost more in page faults and copies than the AES itself.
  const { createCipheriv, createHash, randomBytes: rnd } = await import("node:crypto");
  const buf = rnd(1 << 20);
  const key = rnd(32);
  const cpu = (f: () => void): number => {
    const c = process.cpuUsage();
    f();
    const u = process.cpuUsage(c);
    return (u.user + u.system) / 1e6;
  };
  const n = 256;
  const free = (b: Buffer) => (b.buffer as ArrayBuffer & { transfer(n: number): ArrayBuffer }).transfer(0);
  const aesS = cpu(() => {
    for (let i = 0; i < n; i++) {
      const x = createCipheriv("aes-256-gcm", key, rnd(12));
      for (let at = 0; at < buf.length; at += 1 << 16) free(x.update(buf.subarray(at, at + (1 << 16))));
      x.final();
    }
  });
  const shaS = cpu(() => {
    const h = createHash("sha256");
    for (let i = 0; i < n; i++) h.update(buf);
    h.digest();
  });
  const bytes = n * buf.length;
  out["limit.node_aes_256_gcm_gbps"] = r2(bytes / aesS / 1e9);
  out["limit.node_sha256_gbps"] = r2(bytes / shaS / 1e9);
  out["limit.node_gbps"] = r2(bytes / (aesS + shaS) / 1e9);
}
out["limit.aes_256_gcm_gbps"] = r2(cpuLimit.aes / 1e9);
out["limit.sha256_gbps"] = r2(cpuLimit.sha / 1e9);
out["limit.gbps"] = r2(cpuLimit.limit / 1e9);
process.stderr.write(
  `limit (CPU time): ${out["limit.aes_256_gcm_gbps"]} / ${out["limit.sha256_gbps"]} → ${out["limit.gbps"]} GB/s\n`,
);

// 2. Seal / open of a big file -------------------------------------------------------------------
if (want("seal")) {
  const dir = mkdtempSync(join(tmpdir(), "omni-bench-keys-"));
  const input = join(dir, "plain.bin");
  const fd = openSync(input, "w");
  const block = Buffer.alloc(1 << 20);
  for (let i = 0; i < SIZE_MIB; i++) {
    block.writeUInt32LE(i, 0);
    for (let j = 4; j < block.length; j += 4096) block.writeUInt32LE((i * 7919 + j) >>> 0, j);
    writeSync(fd, block);
  }
  closeSync(fd);
  // The file path's own cost on this machine, no crypto: the input read and written to a new file
  // in the same directory in 1 MiB pieces, with files.ts's Flusher (an fdatasync every 64 MiB
  // that the writes do not wait for, then a final one): what seal and open do besides the
  // crypto (each reads and writes the whole size once). Beside the crypto limit it says how much
  // of a miss is the disk and the page cache rather than the format.
  // Nothing is deleted until the end: this disk is mounted with `discard`, and the TRIM of a
  // deleted 1 GiB file stalls the writes that follow it (seen: 1 GiB written in 3.2 s right after
  // such a delete, 0.24 s otherwise).
  let copies = 0;
  const copyS = async (): Promise<number> => {
    execFileSync("sync"); // nothing of an earlier step is still being written back meanwhile
    const t = performance.now();
    const src = await fsp.open(input, "r");
    const dst = await fsp.open(join(dir, `copy-${copies++}.bin`), "w");
    const piece = Buffer.allocUnsafe(1 << 20);
    const flusher = new Flusher(dst);
    let written = 0;
    for (let n; (n = (await src.read(piece, 0, piece.length, null)).bytesRead) > 0;) {
      await dst.write(piece, 0, n);
      written += n;
      flusher.maybe(written);
    }
    await flusher.done;
    await dst.datasync();
    await src.close();
    await dst.close();
    return (performance.now() - t) / 1000;
  };
  // The same copy around the page cache (O_DIRECT both ways, as seal and open write, and open reads,
  // where the file system allows it): 4 MiB pieces in aligned memory, two reads ahead, the writes
  // overlapped. What this disk moves per second when every byte is read from it and written to it,
  // which is open's floor here (its input was written around the cache, so it is read from the disk).
  const directCopyS = async (): Promise<number | undefined> => {
    const PIECE = 4 << 20;
    const N = 6;
    const mem = alignedMemory(N * PIECE, false);
    const bufs = Array.from({ length: N }, (_, i) => new Uint8Array(mem, i * PIECE, PIECE));
    const src = await openDirect(input, fsConstants.O_RDONLY);
    const dst = await openDirect(join(dir, `copy-${copies++}.bin`), fsConstants.O_WRONLY | fsConstants.O_CREAT, 0o600);
    if (!src || !dst) {
      await src?.close();
      await dst?.close();
      return undefined; // no O_DIRECT here
    }
    execFileSync("sync");
    const t = performance.now();
    const n = Math.ceil(SIZE_MIB / 4);
    const writes: Promise<unknown>[] = Array.from({ length: N }, () => Promise.resolve());
    const reads: Promise<unknown>[] = [];
    const readAt = (i: number) => writes[i % N].then(() => src.read(bufs[i % N], 0, PIECE, i * PIECE));
    for (let i = 0; i < Math.min(2, n); i++) reads[i] = readAt(i);
    for (let i = 0; i < n; i++) {
      const { bytesRead } = (await reads[i]) as { bytesRead: number };
      if (i + 2 < n) reads[i + 2] = readAt(i + 2);
      // (--size-mib is whole MiB: only a size below 4 KiB would leave bytes uncopied by this floor.)
      const whole = bytesRead - (bytesRead % 4096);
      writes[i % N] = dst.write(bufs[i % N], 0, whole, i * PIECE);
    }
    await Promise.all(writes);
    await dst.datasync();
    const s = (performance.now() - t) / 1000;
    await src.close();
    await dst.close();
    return s;
  };
  const copyBefore = await copyS();
  const directBefore = await directCopyS();
  const wallBefore = limitOf(true).limit;
  execFileSync("sync"); // the input and the copy are on the disk before seal starts
  const childArgs = ["--child", "seal+open", input, join(dir, "sealed.bin"), join(dir, "opened.bin"), THREADS];
  const res = spawnSync(process.execPath, ["--import", "tsx", fileURLToPath(import.meta.url), ...childArgs], {
    cwd: ROOT,
    encoding: "utf8",
  });
  const wallAfter = limitOf(true).limit;
  if (res.status !== 0) throw new Error(`seal/open child failed: ${res.stderr}`);
  const copyMeanS = (copyBefore + (await copyS())) / 2;
  const directAfter = await directCopyS();
  const directMeanS =
    directBefore === undefined || directAfter === undefined ? undefined : (directBefore + directAfter) / 2;
  const child = JSON.parse(res.stdout) as Record<
    "sealS" | "openS" | "sealCpuS" | "openCpuS" | "baseRss" | "sealRss" | "totalRss",
    number
  >;
  const wallLimit = (wallBefore + wallAfter) / 2;
  const bytes = SIZE_MIB * 1024 * 1024;
  out["limit.wall_clock_gbps"] = r2(wallLimit / 1e9);
  out["seal.size_mib"] = SIZE_MIB;
  out["seal.threads"] = THREADS === "one" || (THREADS === "auto" && bytes < WORKER_MIN_BYTES) ? 1 : 2;
  out["seal.cores_used"] = r2(child.sealCpuS / child.sealS);
  out["open.cores_used"] = r2(child.openCpuS / child.openS);
  out["seal.gbps"] = r2(bytes / child.sealS / 1e9);
  out["seal.ratio_to_limit"] = r2(bytes / child.sealS / wallLimit);
  out["seal.cpu_ratio_to_limit"] = r2(bytes / child.sealCpuS / cpuLimit.limit);
  out["seal.peak_rss_mb"] = Math.round(child.sealRss);
  out["seal.baseline_rss_mb"] = Math.round(child.baseRss);
  out["open.gbps"] = r2(bytes / child.openS / 1e9);
  out["open.ratio_to_limit"] = r2(bytes / child.openS / wallLimit);
  out["open.cpu_ratio_to_limit"] = r2(bytes / child.openCpuS / cpuLimit.limit);
  out["limit.file_copy_gbps"] = r2(bytes / copyMeanS / 1e9);
  out["seal.ratio_to_file_copy"] = r2(copyMeanS / child.sealS);
  out["open.ratio_to_file_copy"] = r2(copyMeanS / child.openS);
  if (directMeanS !== undefined) {
    out["limit.direct_copy_gbps"] = r2(bytes / directMeanS / 1e9);
    out["seal.ratio_to_direct_copy"] = r2(directMeanS / child.sealS);
    out["open.ratio_to_direct_copy"] = r2(directMeanS / child.openS);
  }
  out["open.peak_rss_mb"] = Math.round(child.totalRss);
  const nodeLimit = Number(out["limit.node_gbps"]) * 1e9;
  out["seal.cpu_ratio_to_node"] = r2(bytes / child.sealCpuS / nodeLimit);
  out["open.cpu_ratio_to_node"] = r2(bytes / child.openCpuS / nodeLimit);
  rmSync(dir, { recursive: true, force: true });
  process.stderr.write(
    `seal ${out["seal.gbps"]} GB/s, open ${out["open.gbps"]} GB/s, peak RSS ${out["open.peak_rss_mb"]} MB\n`,
  );
}
// 3. Key release against real processes -----------------------------------------------------------
/**
 * The release figures against one dev node: `o` gets `release.*`, `custodian.*`, `node.*` and
 * `revocation.*`. The node runs on this machine and its CPU per release is measured too.
 */
async function releaseBench(kind: NodeKind, o: Record<string, number | string | boolean>): Promise<void> {
  const node = await startNode(kind);
  o["node.kind"] = kind === "anvil" ? "anvil" : "hardhat node";
  const dir = tempDir("omni-bench-custodians-");
  const custodians: Awaited<ReturnType<typeof startCustodian>>[] = [];
  try {
    const chain = await deployRegistry(node.url);
    for (let i = 0; i < 5; i++)
      custodians.push(
        await startCustodian({
          dir,
          name: `c${i}`,
          rpc: node.url,
          registry: chain.registryAddress,
          compiled: true,
          // The custodian of the load tests (the last one) is the one profiled.
          ...(CPU_PROF !== undefined && i === 4 ? { nodeArgs: ["--cpu-prof", "--cpu-prof-dir", CPU_PROF] } : {}),
        }),
      );
    const MNEMONIC = "test test test test test test test test test test test junk";
    const wallet = (i: number) =>
      HDNodeWallet.fromPhrase(MNEMONIC, undefined, `m/44'/60'/0'/0/${i}`).connect(chain.provider);
    const owner = wallet(1);
    const processor = wallet(2);
    const parts: Uint8Array[] = [];
    const { manifest: m, envelopes } = await sealBytes(
      {
        chainId: chain.chainId,
        registry: chain.registryAddress,
        owner,
        custodians: custodians.map((c) => ({ url: c.url, publicKey: c.publicKey })),
        threshold: 3,
        policy: { requireUseRecord: true, useRecordMaxAge: 100_000, confirmations: 2 },
      },
      fromBytes(new Uint8Array(1024).fill(42)),
      (b) => void parts.push(b.slice()),
    );
    const sealed = Buffer.concat(parts);
    await registerShares(m, envelopes);
    const mask = 1n << BigInt(Purpose.INFERENCE);
    await (await chain.registry.connect(owner).grant(processor.address, m.dataId, mask, 0n, keccakId("notice"))).wait();
    const use = await (
      await chain.registry.connect(processor).recordUse(owner.address, m.dataId, Purpose.INFERENCE, keccakId("job"))
    ).wait();
    await chain.mine(2);
    const useTx = use!.hash;

    const cpuMs = (pid: number): number => {
      // utime + stime (fields 14 and 15 of /proc/<pid>/stat) in clock ticks of 10 ms.
      const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
      return (Number(f[11]) + Number(f[12])) * 10;
    };
    const openOnce = async (): Promise<number> => {
      const t = performance.now();
      const key = await obtainKey({ manifest: m, requester: processor, purpose: Purpose.INFERENCE, useTx });
      const plain = await openBytes(m, key, sealed);
      if (plain.length !== 1024) throw new Error("bad plaintext");
      return performance.now() - t;
    };
    for (let i = 0; i < 20; i++) await openOnce(); // warm up JIT and keep-alive connections
    const seq: number[] = [];
    for (let i = 0; i < RELEASES; i++) seq.push(await openOnce());
    o["release.opens"] = RELEASES;
    o["release.p50_ms"] = r2(pct(seq, 50));
    o["release.p99_ms"] = r2(pct(seq, 99));
    const conc: number[] = [];
    // What one open costs the machine at 8 at once: this process (the requester), the custodians
    // asked, the node; with both cores busy, p50 ≈ 8 × that ÷ cores.
    const concCpu0 = {
      client: process.cpuUsage(),
      custodians: custodians.map((c) => cpuMs(c.pid)),
      node: cpuMs(node.pid),
    };
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let i = 0; i < Math.ceil(RELEASES / 8); i++) conc.push(await openOnce());
      }),
    );
    o["release.concurrent8_p50_ms"] = r2(pct(conc, 50));
    o["release.concurrent8_p99_ms"] = r2(pct(conc, 99));
    const concClient = process.cpuUsage(concCpu0.client);
    o["release.concurrent8_cpu_ms_per_open.requester"] = r2((concClient.user + concClient.system) / 1000 / conc.length);
    o["release.concurrent8_cpu_ms_per_open.custodians"] = r2(
      custodians.reduce((a, c, i) => a + cpuMs(c.pid) - concCpu0.custodians[i], 0) / conc.length,
    );
    o["release.concurrent8_cpu_ms_per_open.node"] = r2((cpuMs(node.pid) - concCpu0.node) / conc.length);
    process.stderr.write(
      `release p50 ${o["release.p50_ms"]} ms, p99 ${o["release.p99_ms"]} ms, 8 concurrent p50 ${o["release.concurrent8_p50_ms"]} ms\n`,
    );

    // Pre-signed, distinct requests (signing is the requester's cost, not the custodian's).
    const presign = async (n: number): Promise<string[]> => {
      const bodies: string[] = [];
      for (let i = 0; i < n; i++) {
        const eph = await generateKeyPair();
        const msg = keyRequestMessage({
          owner: m.owner,
          dataId: m.dataId,
          version: m.version,
          purpose: Purpose.INFERENCE,
          requester: processor.address,
          ephemeralKey: eph.publicKey,
          useTx,
        });
        bodies.push(JSON.stringify(await signKeyRequest(processor, m.chainId, m.registry, msg)));
      }
      return bodies;
    };
    const agent = new Agent({ keepAlive: true, maxSockets: 8 });
    const post = (url: string, body: string): Promise<number> =>
      new Promise((resolve, reject) => {
        const req = request(
          `${url}/v1/release`,
          {
            method: "POST",
            agent,
            headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
          },
          (res) => {
            res.resume();
            res.on("end", () => resolve(res.statusCode ?? 0));
          },
        );
        req.on("error", reject);
        req.end(body);
      });
    const load = async (url: string, bodies: string[], onProgress?: (done: number) => Promise<void>) => {
      let next = 0;
      const statuses: number[] = [];
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          while (next < bodies.length) {
            const i = next++;
            statuses[i] = await post(url, bodies[i]);
            if (onProgress) await onProgress(i);
          }
        }),
      );
      return statuses;
    };
    const target = custodians[4];
    const warm = await presign(200);
    await load(target.url, warm);
    const bodies = await presign(LOAD);
    const [custodianCpu0, nodeCpu0] = [cpuMs(target.pid), cpuMs(node.pid)];
    const clientCpu0 = process.cpuUsage();
    const t0 = performance.now();
    const statuses = await load(target.url, bodies);
    const seconds = (performance.now() - t0) / 1000;
    const clientCpu = process.cpuUsage(clientCpu0);
    o["custodian.cpu_ms_per_release"] = r2((cpuMs(target.pid) - custodianCpu0) / LOAD);
    o["node.cpu_ms_per_release"] = r2((cpuMs(node.pid) - nodeCpu0) / LOAD);
    // The load generator runs on the same cores: its share is part of what the machine can do.
    o["load_client.cpu_ms_per_release"] = r2((clientCpu.user + clientCpu.system) / 1000 / LOAD);
    // What this machine's cores could serve if custodian, node and load generator used nothing else.
    o["custodian.cpu_bound_releases_per_s"] = Math.round(
      (availableParallelism() * 1000) /
        (Number(o["custodian.cpu_ms_per_release"]) +
          Number(o["node.cpu_ms_per_release"]) +
          Number(o["load_client.cpu_ms_per_release"])),
    );
    const ok = statuses.filter((s) => s === 200).length;
    if (ok !== LOAD) throw new Error(`load: ${LOAD - ok} of ${LOAD} requests were refused`);
    o["custodian.load_requests"] = LOAD;
    o["custodian.releases_per_s"] = Math.round(LOAD / seconds);
    process.stderr.write(`one custodian, 8 concurrent: ${o["custodian.releases_per_s"]} releases/s\n`);

    // Revocation mid-stream.
    const revBodies = await presign(LOAD);
    let revokeBlock = 0;
    let revoking: Promise<void> | undefined;
    const revStatuses = await load(target.url, revBodies, async (i) => {
      if (i === Math.floor(LOAD / 2) && revoking === undefined) {
        revoking = (async () => {
          const r = await (await chain.registry.connect(owner).revoke(processor.address, m.dataId)).wait();
          revokeBlock = r!.blockNumber;
        })();
      }
    });
    await revoking;
    const store = new CustodianStore(target.db);
    const mine = store
      .releases()
      .filter((e) => e.requester === processor.address && revBodies.some((b) => b.includes(e.nonce)));
    store.close();
    o["revocation.block"] = revokeBlock;
    o["revocation.releases_before_revoke"] = mine.filter((e) => e.block < revokeBlock).length;
    o["revocation.releases_after_revoke"] = mine.filter((e) => e.block >= revokeBlock).length;
    o["revocation.refused_not_allowed"] = revStatuses.filter((s) => s === 403).length;
    agent.destroy();
  } finally {
    await Promise.all(custodians.map((c) => c.stop()));
    await node.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (want("release")) {
  // The custodians run the compiled CLI under plain node, as `omni-consent custodian start` does
  // (through tsx each release cost 12–15% more CPU: BENCHMARKS.md).
  compileLibrary();
  // The node that counts for the targets first; the other one's figures under its prefix.
  const kinds: NodeKind[] = NODE === "both" ? ["anvil", "hardhat"] : [NODE];
  for (const [i, kind] of kinds.entries()) {
    const o: Record<string, number | string | boolean> = {};
    await releaseBench(kind, o);
    for (const [k, v] of Object.entries(o)) out[i === 0 ? k : `${kind}_node.${k}`] = v;
  }
}

out["machine.load_avg_1m_end"] = r2(loadavg()[0]);

// Report ----------------------------------------------------------------------------------------
const targets: [string, string, (v: number) => boolean][] = [
  ["release.p50_ms", "≤ 10", (v) => v <= 10],
  ["release.p99_ms", "≤ 25", (v) => v <= 25],
  ["release.concurrent8_p50_ms", "≤ 25", (v) => v <= 25],
  ["custodian.releases_per_s", "≥ 800", (v) => v >= 800],
  ["seal.ratio_to_limit", "≥ 0.80", (v) => v >= 0.8],
  ["open.ratio_to_limit", "≥ 0.80", (v) => v >= 0.8],
  ["seal.peak_rss_mb", "< 200", (v) => v < 200],
  ["open.peak_rss_mb", "< 200", (v) => v < 200],
  ["revocation.releases_after_revoke", "= 0", (v) => v === 0],
];
let missed = 0;
for (const [k, , ok] of targets) {
  if (!(k in out)) continue; // a part not run (--only)
  out[`${k}.ok`] = ok(Number(out[k]));
  if (!out[`${k}.ok`]) missed++;
}
mkdirSync(join(ROOT, "reports"), { recursive: true });
// A one-part run (--only) does not overwrite the full, side-by-side report.
writeFileSync(
  join(ROOT, "reports", ONLY === undefined ? "keys.json" : `keys.${ONLY}.json`),
  `${JSON.stringify(out, null, 2)}\n`,
);
const rows = Object.keys(out)
  .filter((k) => !k.endsWith(".ok"))
  .map((k) => {
    const t = targets.find(([name]) => name === k);
    return `| ${k.padEnd(36)} | ${String(out[k]).padStart(10)} | ${(t?.[1] ?? "").padEnd(7)} | ${t ? (out[`${k}.ok`] ? "ok" : "MISSED") : ""} |`;
  });
process.stdout.write(
  [
    "| metric                               |      value | target  |        |",
    "| --- | ---: | --- | --- |",
    ...rows,
  ].join("\n") + "\n",
);
process.exit(missed === 0 ? 0 : 1);
