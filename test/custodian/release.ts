import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

import { expect } from "chai";
import { ZeroHash, id as keccakId } from "ethers";
import type { JsonRpcSigner } from "ethers";

import { registerShare } from "../../src/keys/custodian-client.js";
import { manifestToJson } from "../../src/keys/manifest.js";
import type { SignedManifest } from "../../src/keys/manifest.js";
import { OpenAssetError, obtainKey, openBytes, registerShares } from "../../src/keys/open.js";
import { fromBytes, sealBytes } from "../../src/keys/seal.js";
import type { SealResult } from "../../src/keys/seal.js";
import { Purpose } from "../../src/sdk/purposes.js";
import { GENESIS_HASH, entryHashOf } from "../../src/custodian/store.js";
import type { ReleaseEntry } from "../../src/custodian/store.js";
import { releasesByOwner, verifyReleases } from "../../src/custodian/verify-releases.js";
import { grant, keyRequestBody, outcome, recordUse } from "./helpers/assets.js";
import {
  ROOT,
  deployRegistry,
  runCustodianCommand,
  runScript,
  startCustodian,
  startNode,
  tempDir,
} from "./helpers/processes.js";
import type { Chain, CustodianProc, Proc } from "./helpers/processes.js";
import { ERC1271WalletMock__factory } from "../../types/ethers-contracts/index.js";

/**
 * Key release end to end, on loopback only: a `hardhat node`, the real registry, and five
 * custodian processes (3-of-5). Every refusal is checked at every custodian that was asked, with
 * its exact code, and the release logs are counted at the end: nothing was released but what
 * the tests expect.
 */
describe("custodians: a key is released only while consent holds and after a use record", function () {
  this.timeout(180_000);
  const dir = tempDir("omni-keys-e2e-");
  let node: Proc & { url: string };
  let chain: Chain;
  let custodians: CustodianProc[];
  let owner: JsonRpcSigner;
  let processor: JsonRpcSigner;
  let stranger: JsonRpcSigner;
  let sealed: SealResult;
  let m: SignedManifest;
  let ciphertext: Uint8Array;
  const plaintext = new TextEncoder().encode("patient 17: blood pressure 120/80; ".repeat(40));
  const INFERENCE = Purpose.INFERENCE;
  /** Releases each custodian made, as the tests expect them. */
  const expectedReleases = new Map<number, number>();
  let revokeBlock = 0;
  const logs: ReleaseEntry[][] = [];
  const released = (i: number) => expectedReleases.set(i, (expectedReleases.get(i) ?? 0) + 1);

  before(async () => {
    node = await startNode();
    chain = await deployRegistry(node.url);
    [owner, processor, stranger] = [chain.signers[1], chain.signers[2], chain.signers[3]];
    custodians = await Promise.all(
      [0, 1, 2, 3, 4].map((i) =>
        startCustodian({ dir, name: `c${i}`, rpc: node.url, registry: chain.registryAddress }),
      ),
    );
    const parts: Uint8Array[] = [];
    sealed = await sealBytes(
      {
        chainId: chain.chainId,
        registry: chain.registryAddress,
        owner,
        custodians: custodians.map((c) => ({ url: c.url, publicKey: c.publicKey })),
        threshold: 3,
        chunkSize: 256,
        policy: { requireUseRecord: true, useRecordMaxAge: 20, confirmations: 2 },
      },
      fromBytes(plaintext),
      (b) => void parts.push(b.slice()),
    );
    m = sealed.manifest;
    ciphertext = Buffer.concat(parts);
  });

  after(async () => {
    await Promise.all((custodians ?? []).map((c) => c.stop()));
    await node?.stop();
  });

  const askAll = async (body: Awaited<ReturnType<typeof keyRequestBody>>) =>
    Promise.all(custodians.map((c) => outcome(c.url, body)));

  describe("registration", () => {
    it("refuses a share whose manifest the owner did not sign, a wrong index, a foreign envelope", async () => {
      const forged = {
        ...m,
        signature: await stranger.signTypedData({ name: "x" }, { T: [{ name: "a", type: "uint8" }] }, { a: 1 }),
      };
      const refusal = async (url: string, body: Parameters<typeof registerShare>[1]) =>
        registerShare(url, body).then(
          () => "REGISTERED",
          // The message rides along only when the code is not a registration refusal (to debug, never to match).
          (e: { code: string; message: string }) => (e.code === "CHAIN_UNAVAILABLE" ? e.message : e.code),
        );
      const json = (x: SignedManifest) => JSON.parse(manifestToJson(x)) as unknown;
      expect(
        await refusal(custodians[0].url, { manifest: json(forged), index: 0, envelope: sealed.envelopes[0] }),
      ).to.equal("BAD_MANIFEST_SIGNATURE");
      expect(await refusal(custodians[0].url, { manifest: json(m), index: 1, envelope: sealed.envelopes[1] })).to.equal(
        "NOT_THIS_CUSTODIAN",
      );
      // Custodian 1's envelope sent to custodian 0 under index 0: it cannot open it.
      expect(await refusal(custodians[0].url, { manifest: json(m), index: 0, envelope: sealed.envelopes[1] })).to.equal(
        "BAD_SHARE",
      );
      const otherChain = { ...(json(m) as Record<string, unknown>), chainId: "1" };
      expect(
        await refusal(custodians[0].url, { manifest: otherChain, index: 0, envelope: sealed.envelopes[0] }),
      ).to.equal("WRONG_CHAIN");
    });

    it("accepts each owner-signed share once; the same registration again is a no-op", async () => {
      const results = await registerShares(m, sealed.envelopes);
      expect(results.map((r) => r.ok)).to.deep.equal([true, true, true, true, true]);
      const again = await registerShare(custodians[2].url, {
        manifest: JSON.parse(manifestToJson(m)) as unknown,
        index: 2,
        envelope: sealed.envelopes[2],
      });
      expect(again).to.deep.equal({ registered: false, publicKey: custodians[2].publicKey });
    });
  });

  describe("before consent", () => {
    it("unknown asset, no consent, no use record: refused everywhere with its own code", async () => {
      const unknown = await keyRequestBody({ ...m, dataId: keccakId("nope") }, processor, INFERENCE, {
        useTx: keccakId("tx"),
      });
      expect(await askAll(unknown)).to.deep.equal(Array(5).fill("UNKNOWN_ASSET"));
      const noUse = await keyRequestBody(m, processor, INFERENCE);
      expect(await askAll(noUse)).to.deep.equal(Array(5).fill("NO_USE_RECORD"));
      const noConsent = await keyRequestBody(m, processor, INFERENCE, { useTx: keccakId("some tx") });
      expect(await askAll(noConsent)).to.deep.equal(Array(5).fill("NOT_ALLOWED"));
    });

    it("the owner always gets its own key: no consent and no use record needed", async () => {
      const key = await obtainKey({ manifest: m, requester: owner, purpose: INFERENCE });
      expect(Buffer.from(await openBytes(m, key, ciphertext)).equals(Buffer.from(plaintext))).to.equal(true);
      [0, 1, 2].forEach(released);
    });
  });

  describe("with consent and a use record", () => {
    let useTx: string;
    let useBlock: number;

    it("a grant and a use record not yet confirmed (2 blocks) are refused NOT_CONFIRMED", async () => {
      await grant(chain, owner, processor.address, m.dataId, [INFERENCE]);
      ({ hash: useTx, block: useBlock } = await recordUse(chain, processor, owner.address, m.dataId, INFERENCE));
      const body = await keyRequestBody(m, processor, INFERENCE, { useTx });
      expect(await askAll(body)).to.deep.equal(Array(5).fill("NOT_CONFIRMED"));
    });

    it("once confirmed, the consented requester opens the asset (3 of 5 custodians asked)", async () => {
      await chain.mine(2);
      const key = await obtainKey({ manifest: m, requester: processor, purpose: INFERENCE, useTx });
      expect(Buffer.from(await openBytes(m, key, ciphertext)).toString()).to.equal(Buffer.from(plaintext).toString());
      [0, 1, 2].forEach(released);
    });

    it("a replayed request is refused REPLAY, by the custodian that served it", async () => {
      const body = await keyRequestBody(m, processor, INFERENCE, { useTx });
      expect(await outcome(custodians[4].url, body)).to.equal("RELEASED");
      released(4);
      expect(await outcome(custodians[4].url, body)).to.equal("REPLAY");
    });

    it("wrong purpose, forged signature, expired, another chain or registry: each its own code", async () => {
      const wrongPurpose = await keyRequestBody(m, processor, Purpose.MODEL_TRAINING, { useTx });
      expect(await askAll(wrongPurpose)).to.deep.equal(Array(5).fill("NOT_ALLOWED"));
      // The stranger signs a request that names the processor as requester.
      const forged = await keyRequestBody(m, processor, INFERENCE, { useTx, signAs: stranger });
      expect(await askAll(forged)).to.deep.equal(Array(5).fill("BAD_SIGNATURE"));
      const nowS = BigInt(Math.floor(Date.now() / 1000));
      const expired = await keyRequestBody(m, processor, INFERENCE, { useTx, deadline: nowS - 1n });
      expect(await askAll(expired)).to.deep.equal(Array(5).fill("EXPIRED"));
      const tooFar = await keyRequestBody(m, processor, INFERENCE, { useTx, deadline: nowS + 3_600n });
      expect(await askAll(tooFar)).to.deep.equal(Array(5).fill("DEADLINE_TOO_FAR"));
      const malformed = { ...(await keyRequestBody(m, processor, INFERENCE, { useTx })), signature: "not hex" };
      expect(await askAll(malformed)).to.deep.equal(Array(5).fill("INVALID_REQUEST"));
      const onOtherChain = { ...(await keyRequestBody(m, processor, INFERENCE, { useTx })), chainId: "1" };
      expect(await askAll(onOtherChain)).to.deep.equal(Array(5).fill("WRONG_CHAIN"));
      // Signed for another deployment's domain, sent here: the signature does not cover this registry.
      const otherRegistry = await keyRequestBody(m, processor, INFERENCE, { useTx, registry: stranger.address });
      expect(await askAll(otherRegistry)).to.deep.equal(Array(5).fill("BAD_SIGNATURE"));
    });

    it("a use record that is missing, of another asset or purpose, of another registry, or too old is refused", async () => {
      const missing = await keyRequestBody(m, processor, INFERENCE, { useTx: keccakId("not a tx") });
      expect(await askAll(missing)).to.deep.equal(Array(5).fill("NO_USE_RECORD"));
      // A real DataUsed, but for another asset (the processor holds ALL_DATA-free consent only for m.dataId: grant one).
      const other = keccakId("other asset");
      await grant(chain, owner, processor.address, other, [INFERENCE]);
      const foreign = await recordUse(chain, processor, owner.address, other, INFERENCE);
      // A real DataUsed from ANOTHER registry deployment, same owner, requester, dataId, purpose.
      const second = await deployRegistry(node.url);
      await grant(second, owner, processor.address, m.dataId, [INFERENCE]);
      const elsewhere = await recordUse(second, processor, owner.address, m.dataId, INFERENCE);
      // The stranger's transaction (no DataUsed at all).
      const plain = await (await stranger.sendTransaction({ to: stranger.address, value: 1n })).wait();
      await chain.mine(2);
      for (const tx of [foreign.hash, elsewhere.hash, plain!.hash]) {
        const body = await keyRequestBody(m, processor, INFERENCE, { useTx: tx });
        expect(await askAll(body), tx).to.deep.equal(Array(5).fill("NO_USE_RECORD"));
      }
      const head = await chain.blockNumber();
      await chain.mine(20 - (head - useBlock) + 1); // the original use record is now 21 blocks old
      const stale = await keyRequestBody(m, processor, INFERENCE, { useTx });
      expect(await askAll(stale)).to.deep.equal(Array(5).fill("USE_RECORD_TOO_OLD"));
    });

    it("a consent that expired is refused NOT_ALLOWED from the block of its expiry", async () => {
      const wallet = chain.signers[4];
      const now = (await chain.provider.getBlock("latest"))!.timestamp;
      const mask = 1n << BigInt(INFERENCE);
      await (
        await chain.registry.connect(owner).grant(wallet.address, m.dataId, mask, BigInt(now + 60), keccakId("n"))
      ).wait();
      const u = await recordUse(chain, wallet, owner.address, m.dataId, INFERENCE);
      await chain.mine(2);
      const before = await keyRequestBody(m, wallet, INFERENCE, { useTx: u.hash });
      expect(await outcome(custodians[1].url, before)).to.equal("RELEASED");
      released(1);
      await chain.provider.send("evm_increaseTime", [120]);
      await chain.mine(1);
      const after = await keyRequestBody(m, wallet, INFERENCE, { useTx: u.hash });
      expect(await askAll(after)).to.deep.equal(Array(5).fill("NOT_ALLOWED"));
    });

    it("a revocation counts from the next block; a lockdown too", async () => {
      const fresh = await recordUse(chain, processor, owner.address, m.dataId, INFERENCE);
      await chain.mine(2);
      const ok = await keyRequestBody(m, processor, INFERENCE, { useTx: fresh.hash });
      expect(await outcome(custodians[3].url, ok)).to.equal("RELEASED");
      released(3);
      revokeBlock = (await (await chain.registry.connect(owner).revoke(processor.address, m.dataId)).wait())!
        .blockNumber;
      const afterRevoke = await keyRequestBody(m, processor, INFERENCE, { useTx: fresh.hash });
      expect(await askAll(afterRevoke)).to.deep.equal(Array(5).fill("NOT_ALLOWED"));
      // Re-grant (confirmed) and a new use record: released again; then lock down.
      await grant(chain, owner, processor.address, m.dataId, [INFERENCE]);
      const again = await recordUse(chain, processor, owner.address, m.dataId, INFERENCE);
      await chain.mine(2);
      const before = await keyRequestBody(m, processor, INFERENCE, { useTx: again.hash });
      expect(await outcome(custodians[0].url, before)).to.equal("RELEASED");
      released(0);
      await (await chain.registry.connect(owner).revokeAll()).wait();
      const afterLockdown = await keyRequestBody(m, processor, INFERENCE, { useTx: again.hash });
      expect(await askAll(afterLockdown)).to.deep.equal(Array(5).fill("NOT_ALLOWED"));
    });
  });

  describe("an ERC-1271 wallet as requester", () => {
    it("is served when its isValidSignature accepts, refused BAD_SIGNATURE when it does not", async () => {
      const wallet = await (
        await new ERC1271WalletMock__factory(processor).deploy(processor.address)
      ).waitForDeployment();
      const w = await wallet.getAddress();
      await grant(chain, owner, w, m.dataId, [INFERENCE]);
      const data = chain.registry.interface.encodeFunctionData("recordUse", [
        owner.address,
        m.dataId,
        INFERENCE,
        keccakId("job"),
      ]);
      const use = (await (await wallet.execute(chain.registryAddress, data)).wait())!;
      await chain.mine(2);
      // The wallet's signer key signs a request that names the wallet as requester.
      const body = await keyRequestBody(m, processor, INFERENCE, { useTx: use.hash, requesterAddress: w });
      expect(await outcome(custodians[2].url, body)).to.equal("RELEASED");
      released(2);
      await (await wallet.setMode(1)).wait(); // AlwaysInvalid
      const refused = await keyRequestBody(m, processor, INFERENCE, { useTx: use.hash, requesterAddress: w });
      expect(await askAll(refused)).to.deep.equal(Array(5).fill("BAD_SIGNATURE"));
    });
  });

  describe("a new version", () => {
    it("re-sealing keeps the dataId with a new key; custodians then refuse the old version (SUPERSEDED) but to the owner", async () => {
      const parts: Uint8Array[] = [];
      const v2 = await sealBytes(
        {
          chainId: chain.chainId,
          registry: chain.registryAddress,
          owner,
          custodians: custodians.map((c) => ({ url: c.url, publicKey: c.publicKey })),
          threshold: 3,
          chunkSize: 256,
          previous: m,
        },
        fromBytes(plaintext),
        (b) => void parts.push(b.slice()),
      );
      expect([v2.manifest.dataId, v2.manifest.version, v2.manifest.salt]).to.deep.equal([m.dataId, 2n, m.salt]);
      expect(v2.manifest.keyCommitment).to.not.equal(m.keyCommitment);
      expect(v2.manifest.cid).to.not.equal(m.cid);
      expect((await registerShares(v2.manifest, v2.envelopes)).every((r) => r.ok)).to.equal(true);
      const old = await keyRequestBody(m, processor, INFERENCE, { useTx: keccakId("any") });
      expect(await askAll(old)).to.deep.equal(Array(5).fill("SUPERSEDED"));
      const mine = await keyRequestBody(m, owner, INFERENCE);
      expect(await outcome(custodians[4].url, mine)).to.equal("RELEASED");
      released(4);
      // The owner opens version 2 with its own key; version 1's key does not open it.
      const k2 = await obtainKey({ manifest: v2.manifest, requester: owner, purpose: INFERENCE });
      expect(
        Buffer.from(await openBytes(v2.manifest, k2, Buffer.concat(parts))).equals(Buffer.from(plaintext)),
      ).to.equal(true);
      [0, 1, 2].forEach(released);
    });
  });

  describe("CLI: omni-consent data seal | open | conditions", () => {
    const cli = (args: string[]) =>
      runScript(join(ROOT, "test", "custodian", "helpers", "cli-entry.ts"), ["--rpc", node.url, ...args]);

    it("seal → grant → record use → open → revoke → refused, through the commands", async () => {
      const store = join(dir, "store");
      const input = join(dir, "photos.bin");
      const content = Buffer.from("not really photos ".repeat(5000));
      writeFileSync(input, content);
      const urls = custodians
        .slice(0, 3)
        .map((c) => c.url)
        .join(",");
      const sealedRun = await cli([
        "--account",
        "1",
        "--json",
        "data",
        "seal",
        "--in",
        input,
        "--custodians",
        urls,
        "--threshold",
        "2",
        "--confirmations",
        "1",
        "--store",
        store,
        "--chunk-size",
        "4096",
      ]);
      expect(sealedRun.code, sealedRun.stderr).to.equal(0);
      const sealedDoc = JSON.parse(sealedRun.stdout) as {
        dataId: string;
        cid: string;
        version: string;
        registrations: { ok: boolean }[];
      };
      expect([sealedDoc.version, sealedDoc.registrations.map((r) => r.ok)]).to.deep.equal(["1", [true, true, true]]);
      await grant(chain, owner, processor.address, sealedDoc.dataId, [INFERENCE]);
      const use = await recordUse(chain, processor, owner.address, sealedDoc.dataId, INFERENCE);
      await chain.mine(1);
      const out = join(dir, "photos.out");
      const open = (extra: string[] = []) =>
        cli([
          "--account",
          "2",
          "data",
          "open",
          "--owner",
          owner.address,
          "--data",
          sealedDoc.dataId,
          "--purpose",
          "inference",
          "--use-tx",
          use.hash,
          "--out",
          out,
          "--store",
          store,
          ...extra,
        ]);
      const opened = await open();
      expect(opened.code, opened.stderr).to.equal(0);
      expect(opened.stdout).to.equal(`opened ${sealedDoc.dataId} v1 for INFERENCE: ${content.length} bytes → ${out}\n`);
      expect(readFileSync(out).equals(content)).to.equal(true);
      [0, 1].forEach(released);
      await (await chain.registry.connect(owner).revoke(processor.address, sealedDoc.dataId)).wait();
      const refused = await open();
      expect(refused.code).to.equal(1);
      expect(refused.stderr).to.match(
        /^error: got 0 of the 2 shares needed .*custodian #0 .*: NOT_ALLOWED .*custodian #2 .*: NOT_ALLOWED/,
      );
      const bad = await cli([
        "--account",
        "2",
        "data",
        "open",
        "--owner",
        "0x12",
        "--data",
        sealedDoc.dataId,
        "--purpose",
        "inference",
        "--out",
        out,
      ]);
      expect([bad.code, bad.stderr]).to.deep.equal([1, "error: --owner: 0x12 is not an address\n"]);
      const cond = await cli([
        "--registry",
        chain.registryAddress,
        "data",
        "conditions",
        "--owner",
        owner.address,
        "--data",
        sealedDoc.dataId,
        "--purpose",
        "inference",
        "--chain-id",
        "137",
        "--lit-chain",
        "polygon",
      ]);
      expect(cond.code, cond.stderr).to.equal(0);
      const doc = JSON.parse(cond.stdout) as { taco: { parameters: unknown[] }; lit: { functionParams: string[] }[] };
      expect(doc.taco.parameters).to.deep.equal([owner.address, ":userAddress", sealedDoc.dataId, 2]);
      expect(doc.lit[0].functionParams).to.deep.equal([owner.address, ":userAddress", sealedDoc.dataId, "2"]);
    });
  });

  describe("custodians down", () => {
    it("n−k custodians SIGKILLed: still opens; k−1 left: fails clearly; a restarted one keeps shares and nonces", async () => {
      // The owner's own key keeps this independent of consent (revoked above).
      await custodians[0].kill();
      await custodians[1].kill();
      const key = await obtainKey({ manifest: m, requester: owner, purpose: INFERENCE, timeoutMs: 2_000 });
      expect(Buffer.from(await openBytes(m, key, ciphertext)).equals(Buffer.from(plaintext))).to.equal(true);
      [2, 3, 4].forEach(released);
      await custodians[2].kill();
      let err: unknown;
      try {
        await obtainKey({ manifest: m, requester: owner, purpose: INFERENCE, timeoutMs: 2_000 });
      } catch (e) {
        err = e;
      }
      expect(err).to.be.instanceOf(OpenAssetError);
      const e = err as OpenAssetError;
      expect(e.code).to.equal("NOT_ENOUGH_SHARES");
      expect(e.failures.map((f) => [f.index, f.code])).to.deep.equal([
        [0, "UNREACHABLE"],
        [1, "UNREACHABLE"],
        [2, "UNREACHABLE"],
      ]);
      expect(e.message).to.match(/^got 2 of the 3 shares needed/);
      [3, 4].forEach(released); // the two live ones did release (and logged it)

      // Restart custodian 1 with the same database, key and port.
      const replayed = await keyRequestBody(m, owner, INFERENCE);
      custodians[1] = await startCustodian({
        dir,
        name: "c1",
        rpc: node.url,
        registry: chain.registryAddress,
        port: custodians[1].port,
        publicKey: custodians[1].publicKey,
      });
      expect(await outcome(custodians[1].url, replayed)).to.equal("RELEASED");
      released(1);
      expect(await outcome(custodians[1].url, replayed)).to.equal("REPLAY");
      // SIGKILL again right after a release: the spent nonce is on disk.
      await custodians[1].kill();
      custodians[1] = await startCustodian({
        dir,
        name: "c1",
        rpc: node.url,
        registry: chain.registryAddress,
        port: custodians[1].port,
        publicKey: custodians[1].publicKey,
      });
      expect(await outcome(custodians[1].url, replayed)).to.equal("REPLAY");
      const k2 = await obtainKey({ manifest: m, requester: owner, purpose: INFERENCE, timeoutMs: 2_000 });
      expect(Buffer.from(await openBytes(m, k2, ciphertext)).equals(Buffer.from(plaintext))).to.equal(true);
      [1, 3, 4].forEach(released);
    });

    it("each custodian's release log holds exactly the releases the tests made, hash-chained", async () => {
      const exported = await Promise.all(
        [0, 1, 2, 3, 4].map((i) =>
          runCustodianCommand(["log", "--db", custodians[i].db, "--out", join(dir, `c${i}.releases.json`)]),
        ),
      );
      for (let i = 0; i < 5; i++) {
        const out = join(dir, `c${i}.releases.json`);
        const res = exported[i];
        expect(res.code, res.stderr).to.equal(0);
        const log = JSON.parse(readFileSync(out, "utf8")) as ReleaseEntry[];
        logs.push(log);
        expect(log.length, `custodian ${i}`).to.equal(expectedReleases.get(i) ?? 0);
        expect(log.map((e) => e.seq)).to.deep.equal(log.map((_, j) => j + 1));
        for (let j = 1; j < log.length; j++) expect(log[j].prevHash).to.equal(log[j - 1].entryHash);
        for (const e of log) {
          // The owner's own requests skip consent and use record; every other release names its use record.
          if (e.requester === owner.address) expect([e.useTx, e.useBlock]).to.deep.equal([ZeroHash, null]);
          else
            expect(e.useBlock)
              .to.be.a("number")
              .and.to.be.at.most(e.block - e.confirmations);
        }
      }
    });
  });

  describe("shutdown", () => {
    it("SIGTERM: a custodian closes its server and database and exits 0", async () => {
      await custodians[4].stop();
      expect([custodians[4].child.exitCode, custodians[4].child.signalCode]).to.deep.equal([0, null]);
      expect(await outcome(custodians[4].url, await keyRequestBody(m, owner, INFERENCE))).to.equal("UNREACHABLE");
    });
  });

  describe("audit: verifyReleases over the custodians' logs", () => {
    const rechain = (log: ReleaseEntry[]): ReleaseEntry[] => {
      let prevHash = GENESIS_HASH;
      return log.map((e, i) => {
        const { seq: _s, entryHash: _h, prevHash: _p, ...rest } = e;
        const entryHash = entryHashOf({ ...rest, prevHash });
        const out = { ...rest, seq: i + 1, prevHash, entryHash };
        prevHash = entryHash;
        return out;
      });
    };
    const verify = (l: ReleaseEntry[][]) =>
      verifyReleases(l, { rpcUrl: node.url, chainId: chain.chainId, registry: chain.registryAddress });
    const codes = (r: Awaited<ReturnType<typeof verify>>) => r.violations.map((v) => v.code);

    it("every real release is covered: no violation", async () => {
      const r = await verify(logs);
      expect(r.checked).to.equal([...expectedReleases.values()].reduce((a, b) => a + b, 0));
      expect(r.violations).to.deep.equal([]);
    });

    it("an edited entry breaks the hash chain and its signature", async () => {
      const log = logs.find((l) => l.some((e) => e.requester === processor.address))!;
      const i = log.findIndex((e) => e.requester === processor.address);
      const edited = log.map((e, j) => (j === i ? { ...e, requester: stranger.address } : e));
      expect(codes(await verify([edited]))).to.deep.equal(["LOG_TAMPERED", "FORGED_REQUEST", "UNCOVERED"]);
    });

    it("a forged, re-chained release after the revocation is UNCOVERED; a duplicated one REPLAYED", async () => {
      const log = logs[0];
      const genuine = log.find((e) => e.requester === processor.address)!; // also served by c1, c2; not by c4
      const at = revokeBlock;
      const blockHash = (await chain.provider.getBlock(at))!.hash!;
      const target = logs[4];
      const forged = rechain([...target, { ...genuine, custodian: target[0].custodian, block: at, blockHash }]);
      const r = await verify([forged]);
      expect(r.violations.map((v) => [v.code, v.seq])).to.deep.equal([["UNCOVERED", target.length + 1]]);
      expect(r.violations[0].evidence).to.deep.equal({ block: at, isAllowed: false });
      expect(codes(await verify([rechain([...log, genuine])]))).to.deep.equal(["REPLAYED"]);
      const moved = rechain([...log.slice(0, -1), { ...log[log.length - 1], blockHash: `0x${"ee".repeat(32)}` }]);
      expect(codes(await verify([moved]))).to.deep.equal(["NOT_ON_CHAIN"]);
    });

    it("reports: each opening of the owner's asset, grouped over custodians (who, purpose, when)", () => {
      const mine = releasesByOwner(logs).get(owner.address)!;
      const byProcessor = mine.filter((r) => r.requester === processor.address);
      expect(byProcessor.map((r) => [r.purposeName, r.custodians.length])).to.deep.equal([
        ["INFERENCE", 3],
        ["INFERENCE", 1],
        ["INFERENCE", 1],
        ["INFERENCE", 1],
        ["INFERENCE", 2], // through the CLI, another asset
      ]);
      expect(mine.filter((r) => r.ownRequest).map((r) => r.custodians.length)).to.deep.equal([3, 1, 3, 3, 2, 1, 3]);
    });
  });
});
