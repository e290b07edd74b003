import { copyFileSync, existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { expect } from "chai";
import { type BaseWallet, Wallet } from "ethers";
import { network } from "hardhat";

import { openFile } from "../../src/keys/files.js";
import { generateKeyPair, openWith } from "../../src/keys/hpke.js";
import { manifestToJson, parseManifest, signManifest } from "../../src/keys/manifest.js";
import type { SignedManifest } from "../../src/keys/manifest.js";
import {
  OpenAssetError,
  checkManifest,
  checkManifestOnChain,
  decryptAsset,
  envelopeInfoOf,
  openBytes,
} from "../../src/keys/open.js";
import { randomBytes } from "../../src/keys/platform.js";
import { fromBytes, sealBytes } from "../../src/keys/seal.js";
import { combineShares } from "../../src/keys/shares.js";
import { LocalFolderStore } from "../../src/keys/storage.js";

/**
 * What the review of sealing and opening found (2 Dec): a large asset given to the in-memory
 * opener in one piece, a store whose file names lie about the manifest inside, an owner that is
 * a contract wallet, and a file that is not sealed at all.
 */

const { ethers } = await network.create();
const REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3";

async function sealed(owner: BaseWallet, size: number, previous?: SignedManifest) {
  const custodians = await Promise.all([0, 1].map(() => generateKeyPair()));
  const parts: Uint8Array[] = [];
  const plain = randomBytes(size);
  const r = await sealBytes(
    {
      chainId: 31337n,
      registry: REGISTRY,
      owner,
      custodians: custodians.map((c, i) => ({ url: `http://127.0.0.1:${9000 + i}`, publicKey: c.publicKey })),
      threshold: 2,
      previous,
    },
    fromBytes(plain),
    (b) => void parts.push(b.slice()),
  );
  const m = parseManifest(manifestToJson(r.manifest));
  const key = await combineShares(
    await Promise.all([0, 1].map((i) => openWith(custodians[i].privateKey, envelopeInfoOf(m, i), r.envelopes[i]))),
  );
  return { manifest: m, key, plain, bytes: Buffer.concat(parts) };
}

async function failure(f: () => Promise<unknown> | unknown): Promise<string> {
  try {
    await f();
  } catch (err) {
    return err instanceof OpenAssetError ? `${err.code}: ${err.message}` : `${(err as Error).message}`;
  }
  return "no error";
}

describe("keys: a 4 MiB asset handed to the in-memory opener in one piece", function () {
  this.timeout(120_000);
  it("opens byte for byte (the header is split off once, not cut into 262,144 views)", async () => {
    const a = await sealed(Wallet.createRandom(), 4 << 20);
    const out = await openBytes(a.manifest, a.key, a.bytes);
    expect(out.length).to.equal(4 << 20);
    expect(Buffer.from(out).equals(Buffer.from(a.plain))).to.equal(true);
    // The same stream cut at every awkward place of the header: 1 byte, then 15, then the rest.
    async function* pieces(): AsyncGenerator<Uint8Array> {
      yield a.bytes.subarray(0, 1);
      yield a.bytes.subarray(1, 16);
      yield a.bytes.subarray(16);
    }
    let n = 0;
    for await (const c of decryptAsset(a.manifest, a.key, pieces())) n += c.length;
    expect(n).to.equal(4 << 20);
    // Cut inside the header, and nothing after it: still a clear TRUNCATED.
    async function* headerOnly(): AsyncGenerator<Uint8Array> {
      yield a.bytes.subarray(0, 7);
      yield a.bytes.subarray(7, 12);
    }
    expect(
      await failure(async () => {
        for await (const _ of decryptAsset(a.manifest, a.key, headerOnly())) void _;
      }),
    ).to.equal("TRUNCATED: the file ends inside its header");
  });
});

describe("keys: the local store refuses a manifest file that is not the asset asked for", function () {
  this.timeout(60_000);
  it("another version renamed as the latest, another owner's manifest copied in: refused, naming both", async () => {
    const root = mkdtempSync(join(tmpdir(), "omni-store-"));
    const store = new LocalFolderStore(root);
    const a = Wallet.createRandom();
    const b = Wallet.createRandom();
    const a1 = (await sealed(a, 100)).manifest;
    const a2 = (await sealed(a, 100, a1)).manifest;
    const b1 = (await sealed(b, 100)).manifest;
    for (const m of [a1, a2, b1]) await store.putManifest(m);
    expect((await store.getManifest(a.address, a1.dataId)).version).to.equal(2n);

    const dirA = join(root, "manifests", a.address.toLowerCase(), a1.dataId);
    copyFileSync(join(dirA, "1.json"), join(dirA, "99.json"));
    expect(await failure(() => store.getManifest(a.address, a1.dataId))).to.equal(
      `${join(dirA, "99.json")} holds the manifest of ${a1.owner} ${a1.dataId} version 1, not of ${a.address} ${a1.dataId} version 99: the store was altered`,
    );

    const dirB = join(root, "manifests", b.address.toLowerCase(), b1.dataId);
    copyFileSync(join(dirB, "1.json"), join(dirA, "100.json"));
    expect(await failure(() => store.getManifest(a.address, a1.dataId, 100n))).to.equal(
      `${join(dirA, "100.json")} holds the manifest of ${b1.owner} ${b1.dataId} version 1, not of ${a.address} ${a1.dataId} version 100: the store was altered`,
    );
    // The honest files still read (lower-case addresses are the same owner).
    expect((await store.getManifest(a.address.toLowerCase(), a1.dataId, 2n)).version).to.equal(2n);
  });
});

describe("keys: a manifest whose owner is a contract wallet (ERC-1271)", function () {
  this.timeout(60_000);
  const unsigned = async (owner: string) => {
    const base = (await sealed(Wallet.createRandom(), 100)).manifest;
    const { signature: _, ...rest } = base;
    return { ...rest, owner };
  };

  it("checkManifest (no chain) refuses and says where to check; checkManifestOnChain asks the wallet", async () => {
    const [, controller, stranger] = await ethers.getSigners();
    const wallet = await ethers.deployContract("ERC1271WalletMock", [controller.address]);
    const owner = await wallet.getAddress();
    const m = await signManifest(controller, await unsigned(owner));
    expect(await failure(() => checkManifest(m))).to.equal(
      `BAD_MANIFEST: manifest is not signed by its owner ${owner} (if the owner is a contract wallet, check it on chain: checkManifestOnChain)`,
    );
    expect(await failure(() => checkManifestOnChain(m, ethers.provider))).to.equal("no error");
    const refused = `BAD_MANIFEST: manifest is not signed by its owner ${owner}: not its key, and the owner did not accept it as a contract wallet (ERC-1271)`;
    // Signed by someone else than the wallet's key; the wallet saying no; the wallet reverting.
    expect(await failure(async () => checkManifestOnChain(await signManifest(stranger, m), ethers.provider))).to.equal(
      refused,
    );
    await wallet.setMode(1);
    expect(await failure(() => checkManifestOnChain(m, ethers.provider))).to.equal(refused);
    await wallet.setMode(2);
    expect(await failure(() => checkManifestOnChain(m, ethers.provider))).to.equal(refused);
    // An EOA owner needs no chain: the same answer as checkManifest.
    const eoa = (await sealed(Wallet.createRandom(), 100)).manifest;
    expect(await failure(() => checkManifestOnChain(eoa, ethers.provider))).to.equal("no error");
  });

  it("an address without code, the identity precompile and a contract that echoes its calldata sign nothing", async () => {
    const [, controller] = await ethers.getSigners();
    const echo = Wallet.createRandom().address;
    // CALLDATASIZE PUSH0 PUSH0 CALLDATACOPY CALLDATASIZE PUSH0 RETURN: returns the call's input,
    // whose first 4 bytes are isValidSignature's selector.
    await ethers.provider.send("hardhat_setCode", [echo, "0x365f5f37365ff3"]);
    for (const owner of [Wallet.createRandom().address, "0x0000000000000000000000000000000000000004", echo]) {
      const m = await signManifest(controller, await unsigned(owner));
      expect(await failure(() => checkManifestOnChain(m, ethers.provider))).to.equal(
        `BAD_MANIFEST: manifest is not signed by its owner ${owner}: not its key, and the owner did not accept it as a contract wallet (ERC-1271)`,
      );
    }
  });
});

describe("keys: openFile on a file that is not a sealed file", function () {
  it("says BAD_HEADER whatever its size, and leaves no output", async () => {
    const a = await sealed(Wallet.createRandom(), 100);
    const dir = mkdtempSync(join(tmpdir(), "omni-notsealed-"));
    for (const [name, bytes] of [
      ["text", Buffer.from("just some text, not sealed at all, long enough to hold a frame: ".repeat(4))],
      ["short", Buffer.from("tiny text file!!!")],
    ] as const) {
      const input = join(dir, name);
      writeFileSync(input, bytes);
      expect(await failure(() => openFile(a.manifest, a.key, input, join(dir, `${name}.out`)))).to.equal(
        "BAD_HEADER: not an OmniTensor sealed file (bad magic)",
      );
      expect(existsSync(join(dir, `${name}.out`))).to.equal(false);
      expect(existsSync(join(dir, `${name}.out.partial`))).to.equal(false);
    }
    const tiny = join(dir, "tiny");
    writeFileSync(tiny, Buffer.from("0123456789"));
    expect(await failure(() => openFile(a.manifest, a.key, tiny, join(dir, "tiny.out")))).to.equal(
      "TRUNCATED: the file ends inside its header",
    );
  });
});
