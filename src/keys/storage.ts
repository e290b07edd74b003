import { createReadStream } from "node:fs";
import { copyFile, mkdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";

import { getAddress } from "ethers";

import { cidFromSha256, parseAssetCid } from "./cid.js";
import { manifestToJson, parseManifest } from "./manifest.js";
import type { SignedManifest } from "./manifest.js";
import { cryptoBackend } from "./platform.js";

/**
 * Where sealed assets and their manifests live. The interface is what an IPFS backend would
 * implement; the default is a local content-addressed folder (Node only):
 *
 * ```
 * <root>/blobs/<cid>                              the sealed file, named by the CID of its bytes
 * <root>/manifests/<owner>/<dataId>/<version>.json the signed manifest
 * ```
 * `put` recomputes the CID of what it stores and refuses a mismatch; `get` re-checks on read is
 * left to the opener (it verifies the CID anyway while decrypting).
 */
export interface AssetStore {
  /** Stores a sealed file (copied from `path`) under its CID; returns the CID. */
  putFile(path: string, expectedCid?: string): Promise<string>;
  /** Path of the stored sealed file of `cid` (a local copy for remote stores). */
  pathOf(cid: string): Promise<string>;
  putManifest(m: SignedManifest): Promise<void>;
  /** The manifest of the latest (or given) version of an asset. */
  getManifest(owner: string, dataId: string, version?: bigint): Promise<SignedManifest>;
}

export class LocalFolderStore implements AssetStore {
  constructor(readonly root: string) {}

  private blobPath(cid: string): string {
    return join(this.root, "blobs", parseAssetCid(cid).toString());
  }

  private manifestDir(owner: string, dataId: string): string {
    if (!/^0x[0-9a-fA-F]{40}$/.test(owner) || !/^0x[0-9a-fA-F]{64}$/.test(dataId)) {
      throw new TypeError("owner must be an address and dataId 32 bytes of hex");
    }
    return join(this.root, "manifests", owner.toLowerCase(), dataId.toLowerCase());
  }

  async putFile(path: string, expectedCid?: string): Promise<string> {
    const backend = await cryptoBackend();
    const hash = backend.sha256();
    for await (const piece of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(piece as Buffer);
    const cid = cidFromSha256(hash.digest()).toString();
    if (expectedCid !== undefined && expectedCid !== cid) throw new Error(`${path} has CID ${cid}, not ${expectedCid}`);
    await mkdir(join(this.root, "blobs"), { recursive: true });
    const target = this.blobPath(cid);
    const tmp = `${target}.partial`;
    await copyFile(path, tmp);
    await rename(tmp, target);
    return cid;
  }

  async pathOf(cid: string): Promise<string> {
    const p = this.blobPath(cid);
    await stat(p).catch(() => {
      throw new Error(`no sealed file ${cid} in ${this.root}`);
    });
    return p;
  }

  async putManifest(m: SignedManifest): Promise<void> {
    const dir = this.manifestDir(m.owner, m.dataId);
    await mkdir(dir, { recursive: true });
    const tmp = join(dir, `${m.version}.json.partial`);
    await writeFile(tmp, manifestToJson(m));
    await rename(tmp, join(dir, `${m.version}.json`));
  }

  async getManifest(owner: string, dataId: string, version?: bigint): Promise<SignedManifest> {
    const dir = this.manifestDir(owner, dataId);
    let v = version;
    if (v === undefined) {
      const { readdir } = await import("node:fs/promises");
      const versions = (await readdir(dir).catch(() => [] as string[]))
        .filter((f) => /^\d+\.json$/.test(f))
        .map((f) => BigInt(f.slice(0, -5)));
      if (versions.length === 0) throw new Error(`no manifest for ${owner} ${dataId} in ${this.root}`);
      v = versions.reduce((a, b) => (a > b ? a : b));
    }
    const m = parseManifest(await readFile(join(dir, `${v}.json`), "utf8"));
    // The folder's names are not the manifest: a file copied or renamed into this place (another
    // asset's, another owner's, an old version as "latest") is refused, not opened or re-sealed.
    if (
      getAddress(m.owner) !== getAddress(owner) ||
      m.dataId.toLowerCase() !== dataId.toLowerCase() ||
      m.version !== v
    ) {
      throw new Error(
        `${join(dir, `${v}.json`)} holds the manifest of ${m.owner} ${m.dataId} version ${m.version}, not of ${owner} ${dataId} version ${v}: the store was altered`,
      );
    }
    return m;
  }

  /** Removes a stored sealed file (e.g. an old version after re-sealing). */
  async remove(cid: string): Promise<void> {
    await rm(this.blobPath(cid), { force: true });
  }
}
