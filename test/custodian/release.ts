import { readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";

import { expect } from "chai";
import { ZeroHash, getAddress, id as keccakId } from "ethers";
import type { JsonRpcSigner } from "ethers";

import { ChainReader } from "../../src/custodian/chain.js";
import { Refusal } from "../../src/custodian/errors.js";
import { RpcClient } from "../../src/custodian/rpc.js";
import { buildServer } from "../../src/custodian/server.js";
import { registerShare, requestShare } from "../../src/keys/custodian-client.js";
import { generateKeyPair, openWith, releaseInfo } from "../../src/keys/hpke.js";
import { keyRequestHasher, keyRequestMessage, signKeyRequest } from "../../src/keys/request.js";
import { keyCommitment } from "../../src/keys/shares.js";
import { manifestDigest, manifestToJson, parseManifest } from "../../src/keys/manifest.js";
import type { SignedManifest } from "../../src/keys/manifest.js";
import { OpenAssetError, obtainKey, openBytes, registerShares } from "../../src/keys/open.js";
import { fromBytes, sealBytes } from "../../src/keys/seal.js";
import type { SealResult } from "../../src/keys/seal.js";
import { Purpose } from "../../src/sdk/purposes.js";
import { GENESIS_HASH, entryHashOf } from "../../src/custodian/store.js";
import type { ReleaseEntry, ReleaseLogExport } from "../../src/custodian/store.js";
import { releasesByOwner, verifyReleases } from "../../src/custodian/verify-releases.js";
import { grant, keyRequestBody, outcome, randomWallet, recordUse } from "./helpers/assets.js";
import { fakeNode, inProcCustodian, sealAndRegister } from "./helpers/inproc.js";
import type { FakeNode, InProc } from "./helpers/inproc.js";
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
  /** The custodians' exports (`custodian log`): entries and the signed manifests they name. */
  const exports: ReleaseLogExport[] = [];
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

    it("the same request again gets the same bytes, logged once; another request with its nonce is REPLAY", async () => {
      const body = await keyRequestBody(m, processor, INFERENCE, { useTx });
      const first = await requestShare(custodians[4].url, body);
      released(4);
      expect(await requestShare(custodians[4].url, body)).to.deep.equal(first);
      const sameNonce = await keyRequestBody(m, processor, INFERENCE, { useTx, nonce: body.request.nonce });
      expect(await outcome(custodians[4].url, sameNonce)).to.equal("REPLAY");
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
      // The request released just before, asked again (by anyone who saw it): the owner's latest word wins.
      expect(await outcome(custodians[3].url, ok)).to.equal("NOT_ALLOWED");
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

  describe("ERC-1271 as OpenZeppelin's SignatureChecker reads it: code at the address, one exact magic word", () => {
    // The identity precompile echoes its input; so does this contract (runtime: CALLDATASIZE PUSH0
    // PUSH0 CALLDATACOPY CALLDATASIZE PUSH0 RETURN): both answer 0x1626ba7e… to isValidSignature.
    const IDENTITY = "0x0000000000000000000000000000000000000004";
    const ECHO_INIT = "0x66365f5f37365ff35f5260076019f3";
    let echo: string;
    let reader: ChainReader;
    let rpc: RpcClient;

    before(async () => {
      const tx = await chain.signers[5].sendTransaction({ data: ECHO_INIT });
      echo = getAddress((await tx.wait())!.contractAddress!);
      rpc = new RpcClient(node.url);
      reader = new ChainReader(rpc, chain.chainId, chain.registryAddress);
    });
    after(() => rpc?.close());

    it("the identity precompile and an echo contract do not sign; a real ERC-1271 wallet does", async () => {
      const junk = `0x${"11".repeat(65)}`;
      const digest = keccakId("anything");
      const key = randomWallet();
      const wallet = await (await new ERC1271WalletMock__factory(processor).deploy(key.address)).waitForDeployment();
      expect([
        await reader.erc1271(IDENTITY, digest, junk),
        await reader.erc1271(echo, digest, junk),
        await reader.erc1271(randomWallet().address, digest, junk),
        await reader.erc1271(await wallet.getAddress(), digest, junk),
        await reader.erc1271(await wallet.getAddress(), digest, key.signingKey.sign(digest).serialized),
      ]).to.deep.equal([false, false, false, false, true]);
    });

    it("a request with a junk signature naming the precompile or the echo contract as requester is BAD_SIGNATURE everywhere", async () => {
      const parts: Uint8Array[] = [];
      const plain = await sealBytes(
        {
          chainId: chain.chainId,
          registry: chain.registryAddress,
          owner,
          custodians: custodians.map((c) => ({ url: c.url, publicKey: c.publicKey })),
          threshold: 3,
          chunkSize: 256,
          policy: { requireUseRecord: false, confirmations: 1 },
        },
        fromBytes(plaintext),
        (b) => void parts.push(b.slice()),
      );
      expect((await registerShares(plain.manifest, plain.envelopes)).every((r) => r.ok)).to.equal(true);
      for (const who of [IDENTITY, echo]) {
        await grant(chain, owner, who, plain.manifest.dataId, [INFERENCE]);
        await chain.mine(2);
        const body = await keyRequestBody(plain.manifest, processor, INFERENCE, { requesterAddress: who });
        const junk = { ...body, signature: `0x${"22".repeat(65)}` };
        expect(await askAll(junk), who).to.deep.equal(Array(5).fill("BAD_SIGNATURE"));
      }
    });

    it("a manifest naming the echo contract as owner, with a junk signature, is not registered (BAD_MANIFEST_SIGNATURE)", async () => {
      const fake = { getAddress: async () => echo, signTypedData: async () => `0x${"33".repeat(65)}` } as never;
      const sealedByNobody = await sealBytes(
        {
          chainId: chain.chainId,
          registry: chain.registryAddress,
          owner: fake,
          custodians: custodians.map((c) => ({ url: c.url, publicKey: c.publicKey })),
          threshold: 3,
          chunkSize: 256,
          policy: { requireUseRecord: false },
        },
        fromBytes(plaintext),
        () => undefined,
      );
      const refusals = await Promise.all(
        custodians.map((c, i) =>
          registerShare(c.url, {
            manifest: JSON.parse(manifestToJson(sealedByNobody.manifest)) as unknown,
            index: i,
            envelope: sealedByNobody.envelopes[i],
          }).then(
            () => "REGISTERED",
            (e: { code: string }) => e.code,
          ),
        ),
      );
      expect(refusals).to.deep.equal(Array(5).fill("BAD_MANIFEST_SIGNATURE"));
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
      const answer = await requestShare(custodians[1].url, replayed);
      released(1);
      // The same request again: the same bytes (kept with the nonce), not logged again.
      expect(await requestShare(custodians[1].url, replayed)).to.deep.equal(answer);
      const sameNonce = await keyRequestBody(m, owner, INFERENCE, { nonce: replayed.request.nonce });
      expect(await outcome(custodians[1].url, sameNonce)).to.equal("REPLAY");
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
      expect(await requestShare(custodians[1].url, replayed)).to.deep.equal(answer);
      expect(await outcome(custodians[1].url, sameNonce)).to.equal("REPLAY");
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
        const doc = JSON.parse(readFileSync(out, "utf8")) as ReleaseLogExport;
        expect(doc.format).to.equal("omnitensor-release-log/2");
        exports.push(doc);
        const log = doc.entries;
        logs.push(log);
        // The owner-signed manifest of every asset version released, as registered.
        const named = new Set(log.map((e) => e.manifestDigest));
        expect(new Set(doc.manifests.map((x) => manifestDigest(parseManifest(x))))).to.deep.equal(named);
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
    // Each log checked with the manifests the custodians exported (all of them: any is the owner's word).
    const verify = (l: ReleaseEntry[][]) =>
      verifyReleases(
        l.map((entries) => ({ entries, manifests: exports.flatMap((x) => x.manifests) })),
        { rpcUrl: node.url, chainId: chain.chainId, registry: chain.registryAddress },
      );
    const codes = (r: Awaited<ReturnType<typeof verify>>) => r.violations.map((v) => v.code);

    it("every real release is covered: no violation", async () => {
      const r = await verify(logs);
      expect(r.checked).to.equal([...expectedReleases.values()].reduce((a, b) => a + b, 0));
      expect(r.violations).to.deep.equal([]);
      // The exports as written by `custodian log` check the same.
      const own = await verifyReleases(exports, {
        rpcUrl: node.url,
        chainId: chain.chainId,
        registry: chain.registryAddress,
      });
      expect([own.checked, own.violations]).to.deep.equal([r.checked, []]);
    });

    it("the bare entries (an older log's shape) carry no manifest: every release is MANIFEST_MISSING", async () => {
      const r = await verifyReleases(logs, {
        rpcUrl: node.url,
        chainId: chain.chainId,
        registry: chain.registryAddress,
      });
      expect(r.violations.map((v) => v.code)).to.deep.equal(Array(r.checked).fill("MANIFEST_MISSING"));
    });

    it("an edited entry breaks the hash chain and its signature", async () => {
      const log = logs.find((l) => l.some((e) => e.requester === processor.address))!;
      const i = log.findIndex((e) => e.requester === processor.address);
      const edited = log.map((e, j) => (j === i ? { ...e, requester: stranger.address } : e));
      expect(codes(await verify([edited]))).to.deep.equal(["LOG_TAMPERED", "FORGED_REQUEST", "UNCOVERED"]);
    });

    it("a forged, re-chained release after the revocation is UNCOVERED (and out of block order); a duplicated one REPLAYED", async () => {
      const log = logs[0];
      const genuine = log.find((e) => e.requester === processor.address)!; // also served by c1, c2; not by c4
      const at = revokeBlock;
      const blockHash = (await chain.provider.getBlock(at))!.hash!;
      const target = logs[4];
      const forged = rechain([
        ...target,
        { ...genuine, custodian: target[0].custodian, shareIndex: target[0].shareIndex, block: at, blockHash },
      ]);
      const r = await verify([forged]);
      // Appended after later releases, its block also goes back along the log.
      expect(r.violations.map((v) => [v.code, v.seq])).to.deep.equal([
        ["BLOCK_ORDER", target.length + 1],
        ["UNCOVERED", target.length + 1],
      ]);
      expect(r.violations[1].evidence).to.deep.equal({ block: at, isAllowed: false });
      expect(codes(await verify([rechain([...log, genuine])]))).to.deep.equal(["BLOCK_ORDER", "REPLAYED"]);
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

/**
 * Custodians in this process against a fake node (helpers/inproc.ts), for what needs the node
 * controlled: a request relayed to the other custodians first, a node slow past the deadline, an
 * unusable ephemeral key, a repeat after the owner's revocation.
 */
describe("custodians (in process, fake node): a repeated request, the deadline, the ephemeral key", function () {
  this.timeout(60_000);
  const REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
  const CHAIN = 31337n;
  const dir = tempDir("omni-keys-inproc-");
  let node: FakeNode;
  let cs: InProc[];
  const owner = randomWallet();
  const requester = randomWallet();
  let m: SignedManifest;
  const apps: { close(): Promise<unknown> }[] = [];
  let relay: Server | undefined;

  const body = async (over: { deadline?: bigint; nonce?: string; ephemeralKey?: string } = {}) => {
    const eph = await generateKeyPair();
    const msg = keyRequestMessage({
      owner: m.owner,
      dataId: m.dataId,
      version: m.version,
      purpose: 3,
      requester: requester.address,
      ephemeralKey: over.ephemeralKey ?? eph.publicKey,
      useTx: ZeroHash,
      ...(over.deadline === undefined ? {} : { deadline: over.deadline }),
      ...(over.nonce === undefined ? {} : { nonce: over.nonce }),
    });
    return {
      body: await signKeyRequest(requester, CHAIN, REGISTRY, msg),
      eph,
      digest: keyRequestHasher(CHAIN, REGISTRY).digest(msg),
    };
  };
  const code = (p: Promise<unknown>) =>
    p.then(
      () => "RELEASED",
      (e: Error) => (e instanceof Refusal ? `${e.code}: ${e.message}` : `THROWN: ${e.message}`),
    );

  before(async () => {
    node = await fakeNode(REGISTRY);
    cs = [];
    for (let i = 0; i < 4; i++) cs.push(await inProcCustodian(dir, node.url, CHAIN, REGISTRY));
  });
  afterEach(() => {
    node.allowed = true;
    node.delayMs = 0;
  });
  after(async () => {
    for (const a of apps) await a.close();
    if (relay) await new Promise((r) => relay!.close(r));
    for (const c of cs ?? []) c.close();
    await node?.close();
  });

  it("one custodian relaying the signed body to the others first does not block the open: the same request gets the same bytes, logged once", async () => {
    const urls: string[] = [];
    for (const c of cs) {
      const app = buildServer(c.custodian, { logLevel: "silent" });
      urls.push(await app.listen({ port: 0, host: "127.0.0.1" }));
      apps.push(app);
    }
    // Custodian #0 is malicious: it forwards every release body to the others, then answers 503.
    const answers: { index: number; enc: string; ct: string }[] = [];
    relay = createServer((req, res) => {
      let text = "";
      req.on("data", (d: Buffer) => (text += d.toString()));
      req.on("end", async () => {
        for (const u of urls.slice(1)) {
          const r = await fetch(`${u}/v1/release`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: text,
          });
          answers.push((await r.json()) as { index: number; enc: string; ct: string });
        }
        res.writeHead(503, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: { code: "CHAIN_UNAVAILABLE", message: "try again" } }));
      });
    });
    await new Promise<void>((r) => relay!.listen(0, "127.0.0.1", () => r()));
    const relayUrl = `http://127.0.0.1:${(relay.address() as AddressInfo).port}`;
    const sealed = await sealAndRegister(
      owner,
      CHAIN,
      REGISTRY,
      cs,
      { requireUseRecord: false, confirmations: 0 },
      undefined,
      [relayUrl, ...urls.slice(1)],
    );
    m = sealed.m;
    const key = await obtainKey({ manifest: m, requester, purpose: 3 });
    expect(keyCommitment(m.dataId, m.version, key)).to.equal(m.keyCommitment.toLowerCase());
    expect(Buffer.from(await openBytes(m, key, sealed.ciphertext)).toString()).to.equal(
      "secret medical data ".repeat(10),
    );
    // The relayed asks were released (sealed to the requester's key); the requester's own asks got those bytes again.
    expect(answers.map((a) => a.index)).to.deep.equal([1, 2, 3]);
    expect(cs.map((c) => c.store.releases().length)).to.deep.equal([0, 1, 1, 1]);
  });

  it("the same request again: every check runs again (the revocation wins: NOT_ALLOWED), the answer is the first's bytes, nothing logged; another request with that nonce is REPLAY", async () => {
    ({ m } = await sealAndRegister(owner, CHAIN, REGISTRY, cs, { requireUseRecord: false, confirmations: 0 }));
    const c = cs[1];
    const first = await body();
    const r1 = await c.custodian.release(first.body);
    const logged = c.store.releases().length;
    const r2 = await c.custodian.release(first.body);
    expect(r2).to.deep.equal(r1);
    const share = await openWith(first.eph.keyPair, releaseInfo(first.digest, r2.index), r2);
    expect(share.length).to.equal(33);
    expect(c.store.releases().length).to.equal(logged);
    // The owner revoked (the node now says isAllowed = false): the repeat is refused at the latest block.
    node.allowed = false;
    expect(await code(c.custodian.release(first.body))).to.equal(
      `NOT_ALLOWED: the owner's consent does not allow this requester this purpose at the latest block: isAllowed(${m.owner}, ${requester.address}, ${m.dataId}, 3) is false at block 16`,
    );
    node.allowed = true;
    // The same nonce in another request (another ephemeral key: another digest) stays a replay.
    const other = await body({ nonce: first.body.request.nonce });
    expect(await code(c.custodian.release(other.body))).to.equal(
      `REPLAY: this request (requester, nonce) was already served: nonce ${first.body.request.nonce}`,
    );
    expect(c.store.releases().length).to.equal(logged);
  });

  it("a nonce spent before answers were kept (an older database) stays REPLAY for the same request", async () => {
    const c = cs[2];
    const b = await body();
    // What an older custodian wrote: the nonce alone.
    (c.store as unknown as { db: { prepare(q: string): { run(...a: unknown[]): void } } }).db
      .prepare("INSERT INTO nonces (requester, nonce, used_at) VALUES (?, ?, ?)")
      .run(requester.address.toLowerCase(), b.body.request.nonce.toLowerCase(), 1);
    expect(await code(c.custodian.release(b.body))).to.equal(
      `REPLAY: this request (requester, nonce) was already served: nonce ${b.body.request.nonce}`,
    );
  });

  it("40 concurrent copies of one request and 10 others with its nonce: one release logged, the copies all get its bytes, the others REPLAY", async () => {
    const c = cs[3];
    const nonce = keccakId("race");
    const b = await body({ nonce });
    const others = await Promise.all(Array.from({ length: 10 }, () => body({ nonce })));
    const before = c.store.releases().length;
    const copies = await Promise.all(Array.from({ length: 40 }, () => c.custodian.release(b.body)));
    const refused = await Promise.all(others.map((o) => code(c.custodian.release(o.body))));
    expect(new Set(copies.map((r) => r.ct)).size).to.equal(1);
    expect(new Set(refused)).to.deep.equal(
      new Set([`REPLAY: this request (requester, nonce) was already served: nonce ${nonce}`]),
    );
    expect(c.store.releases().length - before).to.equal(1);
  });

  it("a deadline that passes while the node is slow is EXPIRED, and nothing is logged or spent", async () => {
    const c = cs[0];
    node.delayMs = 1_200;
    const deadline = BigInt(Math.floor(Date.now() / 1000) + 1);
    const b = await body({ deadline });
    const before = c.store.releases().length;
    const out = await code(c.custodian.release(b.body));
    expect(out).to.match(
      new RegExp(
        `^EXPIRED: the request's deadline has passed: deadline ${deadline} passed while the chain was asked \\(now \\d+\\)$`,
      ),
    );
    expect(c.store.releases().length).to.equal(before);
    expect(c.store.nonceAnswer(requester.address, b.body.request.nonce)).to.equal(undefined);
  });

  it("an unusable ephemeral key (zero, small order, wrong length) is INVALID_REQUEST before any chain call", async () => {
    const app = buildServer(cs[1].custodian, { logLevel: "silent" });
    try {
      const before = node.calls.length;
      for (const ek of [
        ZeroHash,
        `0x01${"00".repeat(31)}`,
        "0xe0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
        `0xec${"ff".repeat(30)}7f`,
      ]) {
        const b = await body({ ephemeralKey: ek });
        const r = await app.inject({ method: "POST", url: "/v1/release", payload: b.body });
        expect([r.statusCode, r.json()]).to.deep.equal([
          400,
          {
            error: {
              code: "INVALID_REQUEST",
              message: `the request does not match the API schema: ephemeralKey ${ek.toLowerCase()}: a point of small order (no secret can be agreed with it)`,
            },
          },
        ]);
      }
      const b = await body();
      const short = { ...b.body, request: { ...b.body.request, ephemeralKey: "0x1234" } };
      expect(await code(cs[1].custodian.release(short))).to.equal(
        "INVALID_REQUEST: the request does not match the API schema: ephemeralKey 0x1234: not 32 bytes of hex (an X25519 public key)",
      );
      expect(node.calls.length).to.equal(before);
    } finally {
      await app.close();
    }
  });
});
