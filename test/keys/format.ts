import { mkdtempSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { expect } from "chai";
import { Wallet } from "ethers";

import { dataIdFor } from "../../src/keys/cid.js";
import { AssetCipher, HEADER_BYTES, SealedFormatError, openStream, sealStream } from "../../src/keys/format.js";
import { openFile, sealFile } from "../../src/keys/files.js";
import { generateKeyPair, openWith } from "../../src/keys/hpke.js";
import { manifestToJson, parseManifest } from "../../src/keys/manifest.js";
import type { SignedManifest } from "../../src/keys/manifest.js";
import { OpenAssetError, checkManifest, envelopeInfoOf, openBytes } from "../../src/keys/open.js";
import { cryptoBackend, randomBytes } from "../../src/keys/platform.js";
import { fromBytes, sealBytes } from "../../src/keys/seal.js";
import { combineShares } from "../../src/keys/shares.js";

const REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
const identity = {
  chainId: 31337n,
  registry: REGISTRY,
  owner: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
  salt: `0x${"11".repeat(32)}`,
  version: 1n,
};

async function collect(it: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const p of it) parts.push(p.slice());
  return Buffer.concat(parts);
}

async function* pieces(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
  if (bytes.length === 0) yield bytes;
}

async function openError(cipher: AssetCipher, sealed: Uint8Array): Promise<string> {
  try {
    await collect(openStream(cipher, fromBytes(sealed)));
    return "OPENED";
  } catch (err) {
    if (err instanceof SealedFormatError) return err.reason;
    throw err;
  }
}

describe("keys: the sealed-file format", () => {
  const key = new Uint8Array(32).fill(7);
  const CHUNK = 64;

  it("node:crypto and @noble/ciphers produce the same bytes and open each other's files", async () => {
    const node = await cryptoBackend();
    const noble = await cryptoBackend({ prefer: "noble" });
    expect([node.name, noble.name]).to.deep.equal(["node", "noble"]);
    const plain = randomBytes(1000);
    const a = await collect(sealStream(new AssetCipher(node, key, identity, CHUNK), pieces(plain, 37)));
    const b = await collect(sealStream(new AssetCipher(noble, key, identity, CHUNK), pieces(plain, 1000)));
    expect(a.equals(b)).to.equal(true);
    const back = await collect(openStream(new AssetCipher(noble, key, identity, CHUNK), pieces(a, 53)));
    expect(back.equals(Buffer.from(plain))).to.equal(true);
  });

  for (const size of [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 3 * CHUNK + 5]) {
    it(`round-trips ${size} bytes with ${size === 0 ? 1 : Math.ceil(size / CHUNK)} frame(s) of exact size`, async () => {
      const backend = await cryptoBackend();
      const plain = randomBytes(size);
      const sealed = await collect(sealStream(new AssetCipher(backend, key, identity, CHUNK), pieces(plain, 10)));
      const frames = size === 0 ? 1 : Math.ceil(size / CHUNK);
      expect(sealed.length).to.equal(HEADER_BYTES + size + 16 * frames);
      const back = await collect(openStream(new AssetCipher(backend, key, identity, CHUNK), pieces(sealed, 29)));
      expect(back.equals(Buffer.from(plain))).to.equal(true);
    });
  }

  describe("refuses altered files", () => {
    let backend: Awaited<ReturnType<typeof cryptoBackend>>;
    let sealed: Buffer;
    const frame = CHUNK + 16;
    before(async () => {
      backend = await cryptoBackend();
      sealed = await collect(
        sealStream(new AssetCipher(backend, key, identity, CHUNK), fromBytes(randomBytes(4 * CHUNK + 10))),
      );
    });
    const cipher = (over: Partial<typeof identity> = {}) =>
      new AssetCipher(backend, key, { ...identity, ...over }, CHUNK);

    it("a flipped ciphertext bit, a flipped tag bit", async () => {
      const a = Buffer.from(sealed);
      a[HEADER_BYTES + frame + 3] ^= 1;
      expect(await openError(cipher(), a)).to.equal("TAMPERED");
      const b = Buffer.from(sealed);
      b[HEADER_BYTES + frame - 1] ^= 0x80;
      expect(await openError(cipher(), b)).to.equal("TAMPERED");
    });

    it("two frames swapped (reordered)", async () => {
      const f = (i: number) => sealed.subarray(HEADER_BYTES + i * frame, HEADER_BYTES + (i + 1) * frame);
      const swapped = Buffer.concat([
        sealed.subarray(0, HEADER_BYTES),
        f(1),
        f(0),
        sealed.subarray(HEADER_BYTES + 2 * frame),
      ]);
      expect(swapped.length).to.equal(sealed.length);
      expect(await openError(cipher(), swapped)).to.equal("TAMPERED");
    });

    it("truncated at a frame boundary, inside a frame, inside the header; a frame appended", async () => {
      expect(await openError(cipher(), sealed.subarray(0, HEADER_BYTES + 2 * frame))).to.equal("TAMPERED");
      expect(await openError(cipher(), sealed.subarray(0, HEADER_BYTES + 2 * frame + 10))).to.equal("TRUNCATED");
      expect(await openError(cipher(), sealed.subarray(0, 10))).to.equal("TRUNCATED");
      const f0 = sealed.subarray(HEADER_BYTES, HEADER_BYTES + frame);
      expect(await openError(cipher(), Buffer.concat([sealed, f0]))).to.equal("TAMPERED");
    });

    it("opened as another owner's, version's, chain's, registry's or salt's asset", async () => {
      for (const over of [
        { owner: "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC" },
        { version: 2n },
        { chainId: 1n },
        { registry: "0x0000000000000000000000000000000000000001" },
        { salt: `0x${"12".repeat(32)}` },
      ]) {
        expect(
          await openError(cipher(over), sealed),
          JSON.stringify(over, (_, v) => (typeof v === "bigint" ? `${v}` : v)),
        ).to.equal("TAMPERED");
      }
    });

    it("a header that names another chunk size or format", async () => {
      const a = Buffer.from(sealed);
      a[15] ^= 1;
      expect(await openError(cipher(), a)).to.equal("CHUNK_SIZE_MISMATCH");
      const b = Buffer.from(sealed);
      b[8] = 2;
      expect(await openError(cipher(), b)).to.equal("BAD_HEADER");
      const c = Buffer.from(sealed);
      c[0] ^= 1;
      expect(await openError(cipher(), c)).to.equal("BAD_HEADER");
    });
  });
});

describe("keys: sealing an asset (manifest, CID, dataId, shares)", () => {
  const owner = Wallet.createRandom();
  let custodians: Awaited<ReturnType<typeof generateKeyPair>>[];
  let m: SignedManifest;
  let sealed: Buffer;
  let key: Uint8Array;
  let envelopes: { enc: string; ct: string }[];
  const plain = randomBytes(5000);

  before(async () => {
    custodians = await Promise.all([0, 1, 2].map(() => generateKeyPair()));
    const parts: Uint8Array[] = [];
    const r = await sealBytes(
      {
        chainId: 31337n,
        registry: REGISTRY,
        owner,
        custodians: custodians.map((c, i) => ({ url: `http://127.0.0.1:${9000 + i}`, publicKey: c.publicKey })),
        threshold: 2,
        chunkSize: 1024,
      },
      pieces(plain, 700),
      (b) => void parts.push(b.slice()),
    );
    m = parseManifest(manifestToJson(r.manifest));
    sealed = Buffer.concat(parts);
    envelopes = r.envelopes;
    key = await combineShares(
      await Promise.all([0, 2].map((i) => openWith(custodians[i].privateKey, envelopeInfoOf(m, i), r.envelopes[i]))),
    );
  });

  it("the manifest: owner-signed, dataId = the salted commitment to the ciphertext's CID, exact fields", async () => {
    checkManifest(m, { chainId: 31337n, registry: REGISTRY });
    expect(m.dataId).to.equal(dataIdFor(m.cid, m.salt));
    expect(m.cid).to.match(/^bafkrei[a-z2-7]{52}$/);
    expect([m.owner, m.version, m.size, m.chunkSize, m.threshold, m.custodians.length]).to.deep.equal([
      owner.address,
      1n,
      5000n,
      1024,
      2,
      3,
    ]);
    expect(m.policy).to.deep.equal({ requireUseRecord: true, useRecordMaxAge: 7200, confirmations: 2 });
    expect(Buffer.from(await openBytes(m, key, sealed)).equals(Buffer.from(plain))).to.equal(true);
  });

  it("an envelope opens only for its custodian, its index and its asset (HPKE info)", async () => {
    const opens = (i: number, info: Uint8Array, env: { enc: string; ct: string }) =>
      openWith(custodians[i].privateKey, info, env).then(
        () => true,
        () => false,
      );
    expect(await opens(0, envelopeInfoOf(m, 0), envelopes[0])).to.equal(true);
    expect(await opens(1, envelopeInfoOf(m, 0), envelopes[0])).to.equal(false); // another custodian's key
    expect(await opens(0, envelopeInfoOf(m, 1), envelopes[0])).to.equal(false); // another index
    expect(await opens(0, envelopeInfoOf({ ...m, dataId: `0x${"cd".repeat(32)}` }, 0), envelopes[0])).to.equal(false);
    expect(await opens(0, envelopeInfoOf({ ...m, chainId: 1n }, 0), envelopes[0])).to.equal(false);
    expect(await opens(0, envelopeInfoOf({ ...m, version: 2n }, 0), envelopes[0])).to.equal(false);
  });

  it("refuses a wrong manifest: not the owner's, another chain, an altered CID, another asset's", async () => {
    const code = async (f: () => unknown): Promise<string> => {
      try {
        await f();
        return "OK";
      } catch (e) {
        if (e instanceof OpenAssetError) return e.code;
        throw e;
      }
    };
    expect(await code(() => checkManifest({ ...m, threshold: 3 }))).to.equal("BAD_MANIFEST");
    expect(await code(() => checkManifest(m, { chainId: 1n }))).to.equal("BAD_MANIFEST");
    // An owner-signed manifest whose dataId is not the commitment to its CID (re-signed by the owner).
    const { signManifest } = await import("../../src/keys/manifest.js");
    const lying = await signManifest(owner, { ...m, dataId: `0x${"ab".repeat(32)}` });
    expect(await code(() => checkManifest(lying))).to.equal("DATA_ID_MISMATCH");
    // Decrypting with the right key but a manifest that names another CID: the bytes open, the CID does not match.
    const otherCid = { ...m, cid: "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy" };
    expect(await code(() => openBytes(otherCid, key, sealed))).to.equal("CID_MISMATCH");
    expect(await code(() => openBytes({ ...m, size: 4999n }, key, sealed))).to.equal("SIZE_MISMATCH");
    expect(await code(() => openBytes({ ...m, salt: `0x${"00".repeat(32)}` }, key, sealed))).to.equal("TAMPERED");
  });

  it("files: seal and open through the file path; a tampered file leaves no output behind", async () => {
    const dir = mkdtempSync(join(tmpdir(), "omni-keys-files-"));
    const input = join(dir, "in.bin");
    const data = randomBytes(3 * 1024 + 17);
    writeFileSync(input, data);
    const r = await sealFile(
      {
        chainId: 31337n,
        registry: REGISTRY,
        owner,
        custodians: custodians.map((c, i) => ({ url: `http://x${i}`, publicKey: c.publicKey })),
        threshold: 2,
        chunkSize: 1024,
      },
      input,
      join(dir, "sealed.bin"),
    );
    const fk = await combineShares(
      await Promise.all(
        [0, 1].map((i) => openWith(custodians[i].privateKey, envelopeInfoOf(r.manifest, i), r.envelopes[i])),
      ),
    );
    // The file path and the stream path write the same format.
    expect(
      Buffer.from(await openBytes(r.manifest, fk, readFileSync(join(dir, "sealed.bin")))).equals(Buffer.from(data)),
    ).to.equal(true);
    await openFile(r.manifest, fk, join(dir, "sealed.bin"), join(dir, "out.bin"));
    expect(readFileSync(join(dir, "out.bin")).equals(Buffer.from(data))).to.equal(true);
    const bad = Buffer.from(readFileSync(join(dir, "sealed.bin")));
    bad[bad.length - 20] ^= 4;
    writeFileSync(join(dir, "bad.bin"), bad);
    let code = "";
    try {
      await openFile(r.manifest, fk, join(dir, "bad.bin"), join(dir, "bad.out"));
    } catch (e) {
      code = (e as OpenAssetError).code;
    }
    expect(code).to.equal("TAMPERED");
    expect([existsSync(join(dir, "bad.out")), existsSync(join(dir, "bad.out.partial"))]).to.deep.equal([false, false]);
  });
});
