import { getAddress } from "ethers";
import type { Signer } from "ethers";

import { custodianInfo } from "./custodian-client.js";
import { openFile, sealFile } from "./files.js";
import type { ReleasePolicy, SignedManifest } from "./manifest.js";
import { checkManifest, checkManifestOnChain, obtainKey, registerShares } from "./open.js";
import { LocalFolderStore } from "./storage.js";

/**
 * The two owner/processor workflows behind `omni-consent data seal|open` (Node: files and a
 * local store). The CLI only parses and prints; this is the logic.
 */

export interface SealToStoreOptions {
  owner: Signer;
  input: string;
  store: string;
  custodianUrls: string[];
  threshold: number;
  policy?: Partial<ReleasePolicy>;
  chunkSize?: number;
  /** Expected registry (else the custodians' registry, which must agree). */
  registry?: string;
  /** Re-seal: the dataId of an asset of this owner already in the store (new version). */
  newVersionOf?: string;
}

export interface SealToStoreResult {
  manifest: SignedManifest;
  manifestPath: string;
  registrations: { index: number; url: string; ok: boolean; code?: string; message?: string }[];
}

export async function sealToStore(o: SealToStoreOptions): Promise<SealToStoreResult> {
  const infos = await Promise.all(o.custodianUrls.map((u) => custodianInfo(u)));
  const chainIds = new Set(infos.map((i) => i.chainId));
  const registries = new Set(infos.map((i) => getAddress(i.registry)));
  if (chainIds.size !== 1 || registries.size !== 1) {
    throw new Error("the custodians serve different chains or registries; pick custodians of one deployment");
  }
  const chainId = BigInt(infos[0].chainId);
  const registry = getAddress(infos[0].registry);
  if (o.registry !== undefined && getAddress(o.registry) !== registry) {
    throw new Error(`the custodians serve registry ${registry}, not ${o.registry}`);
  }
  const store = new LocalFolderStore(o.store);
  const owner = getAddress(await o.owner.getAddress());
  const previous = o.newVersionOf === undefined ? undefined : await store.getManifest(owner, o.newVersionOf);
  const { mkdtemp, rm } = await import("node:fs/promises");
  const { join } = await import("node:path");
  const { tmpdir } = await import("node:os");
  const work = await mkdtemp(join(tmpdir(), "omni-seal-"));
  try {
    const sealedPath = join(work, "sealed.bin");
    const { manifest, envelopes } = await sealFile(
      {
        chainId,
        registry,
        owner: o.owner,
        custodians: o.custodianUrls.map((url, i) => ({ url, publicKey: infos[i].publicKey })),
        threshold: o.threshold,
        policy: o.policy,
        chunkSize: o.chunkSize,
        previous,
      },
      o.input,
      sealedPath,
    );
    await store.putFile(sealedPath, manifest.cid);
    await store.putManifest(manifest);
    const registrations = await registerShares(manifest, envelopes);
    const failed = registrations.filter((r) => !r.ok);
    if (o.custodianUrls.length - failed.length < o.threshold) {
      throw new Error(
        `only ${o.custodianUrls.length - failed.length} of ${o.custodianUrls.length} custodians took their share (need ${o.threshold}): ${failed.map((f) => `${f.url}: ${f.message}`).join("; ")}`,
      );
    }
    return {
      manifest,
      manifestPath: join(o.store, "manifests", owner.toLowerCase(), manifest.dataId, `${manifest.version}.json`),
      registrations,
    };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

export interface OpenFromStoreOptions {
  requester: Signer;
  store: string;
  owner: string;
  dataId: string;
  version?: bigint;
  purpose: number;
  useTx?: string;
  output: string;
}

export async function openFromStore(o: OpenFromStoreOptions): Promise<SignedManifest> {
  const store = new LocalFolderStore(o.store);
  const manifest = await store.getManifest(getAddress(o.owner), o.dataId, o.version);
  // A contract-wallet owner's signature is its wallet's answer: asked through the requester's node.
  const provider = o.requester.provider;
  if (provider) await checkManifestOnChain(manifest, provider);
  else checkManifest(manifest);
  const key = await obtainKey({ manifest, requester: o.requester, purpose: o.purpose, useTx: o.useTx });
  try {
    await openFile(manifest, key, await store.pathOf(manifest.cid), o.output);
  } finally {
    key.fill(0);
  }
  return manifest;
}
