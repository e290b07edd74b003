import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { expect } from "chai";
import Database from "better-sqlite3";
import { Signature } from "ethers";
import type { TypedDataDomain } from "ethers";
import { network } from "hardhat";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";

import { type AuditDb, openAuditDb, syncEvents, verifyHistory } from "../../src/audit/index.js";
import { ALL_DATA, NO_EXPIRY } from "../../src/sdk/constants.js";
import {
  consentDigest,
  consentDomain,
  type GrantMessage,
  type RevokeMessage,
  signConsent,
  toCompactSignature,
} from "../../src/sdk/eip712.js";
import {
  type ERC1271WalletMock,
  type RelayForwarderMock,
  RelayForwarderMock__factory,
} from "../../types/ethers-contracts/index.js";
import { ROOT } from "../cli/harness.js";
import { deploySystem } from "../helpers/fixture.js";

const { ethers, networkHelpers } = await network.create();

const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const X = ethers.id("asset-x");
const Y = ethers.id("asset-y");
const Z = ethers.id("asset-z");
const NOTICE = ethers.id("notice-v1");

interface SignedRow {
  block_number: number;
  tx_hash: string;
  item_index: number;
  kind: string;
  owner: string;
  args_json: string;
  nonce: string | null;
  deadline: string | null;
  signature: string | null;
  erc1271_valid: number | null;
}

function rows(db: AuditDb): SignedRow[] {
  return db
    .prepare(
      `SELECT block_number, tx_hash, item_index, kind, owner, args_json, nonce, deadline, signature, erc1271_valid
       FROM signed_requests ORDER BY block_number, item_index`,
    )
    .all() as SignedRow[];
}

/** An independent copy of a synced database, to forge without touching the original. */
function copyOf(db: AuditDb): AuditDb {
  return new Database(db.serialize());
}

function grantMsg(owner: string, grantee: string, dataId: string, nonce: bigint, deadline: bigint): GrantMessage {
  return { owner, grantee, dataId, purposes: 0b11n, expiresAt: NO_EXPIRY, noticeHash: NOTICE, nonce, deadline };
}

function revokeMsg(owner: string, grantee: string, dataId: string, nonce: bigint, deadline: bigint): RevokeMessage {
  return { owner, grantee, dataId, nonce, deadline };
}

/**
 * A history with every signed path: single and batched grants and revocations by two EOAs (one
 * batch item with a 64-byte compact signature), a revoke-all, an ERC-1271 wallet's grant, an owner
 * invalidating a nonce, and a grant relayed through a forwarder contract.
 */
async function signedHistory() {
  const { accounts, registry } = await deploySystem(ethers);
  const [a, b, grantee, relayer, walletSigner, stranger] = accounts;
  const registryAddress = (await registry.getAddress()).toLowerCase();
  const { chainId } = await ethers.provider.getNetwork();
  const domain = consentDomain(chainId, registryAddress);
  const wallet = (await ethers.deployContract("ERC1271WalletMock", [
    walletSigner.address,
  ])) as unknown as ERC1271WalletMock;
  const forwarder = (await ethers.deployContract("RelayForwarderMock", [
    registryAddress,
  ])) as unknown as RelayForwarderMock;
  const deadline = BigInt((await ethers.provider.getBlock("latest"))!.timestamp + 3600);
  const r = registry.connect(relayer);
  const A = a.address.toLowerCase();
  const B = b.address.toLowerCase();
  const G = grantee.address.toLowerCase();
  const W = (await wallet.getAddress()).toLowerCase();
  const F = (await forwarder.getAddress()).toLowerCase();

  const txs: Record<string, string> = {};
  const mined = async (name: string, p: Promise<{ hash: string }>) => {
    txs[name] = (await p).hash;
  };
  await mined("invalidate", registry.connect(b).invalidateNonces(0n, 1n << 9n)); // B's nonce 9
  const g1 = await signConsent("Grant", a, domain, grantMsg(A, G, X, 1n, deadline));
  await mined("grant", r.grantBySig(g1));
  const g2 = await signConsent("Grant", a, domain, grantMsg(A, G, Y, 2n, deadline));
  const g3 = await signConsent("Grant", b, domain, grantMsg(B, G, ALL_DATA, 1n, deadline));
  await mined("grantBatch", r.grantBySigBatch([{ ...g2, signature: toCompactSignature(g2.signature) }, g3]));
  const v1 = await signConsent("Revoke", a, domain, revokeMsg(A, G, X, 3n, deadline));
  await mined("revoke", r.revokeBySig(v1));
  const v2 = await signConsent("Revoke", a, domain, revokeMsg(A, G, Y, 4n, deadline));
  const v3 = await signConsent("Revoke", b, domain, revokeMsg(B, G, ALL_DATA, 2n, deadline));
  await mined("revokeBatch", r.revokeBySigBatch([v2, v3]));
  const all = await signConsent("RevokeAll", a, domain, { owner: A, nonce: 5n, deadline });
  await mined("revokeAll", r.revokeAllBySig(all));
  const gw = await signConsent("Grant", walletSigner, domain, grantMsg(W, G, X, 1n, deadline));
  await mined("wallet", r.grantBySig(gw));
  const gf = await signConsent("Grant", b, domain, grantMsg(B, G, Z, 7n, deadline));
  await mined("forwarded", forwarder.connect(relayer).forwardGrant(gf));
  const blockOf = async (name: string) => (await ethers.provider.getTransactionReceipt(txs[name]))!.blockNumber;
  return {
    registry,
    registryAddress,
    domain,
    deadline,
    a,
    b,
    stranger,
    A,
    B,
    G,
    W,
    F,
    txs,
    blockOf,
    signed: { g1, g2, g3, v1, v2, v3, all, gw, gf },
    warnBlock: 0,
  };
}

describe("audit: consent changes made by signature", function () {
  this.timeout(120_000);

  let h: Awaited<ReturnType<typeof signedHistory>>;
  let db: AuditDb;

  before(async () => {
    h = await signedHistory();
    db = openAuditDb(":memory:");
    h.warnBlock = await h.blockOf("forwarded");
    await syncEvents({ db, rpc: ethers.provider, registry: h.registryAddress, progress: "none" });
  });

  it("sync stores each signed request from the relaying calldata, and marks the forwarded tx internal", async () => {
    const { txs, signed: s, A, B, G, W, F } = h;
    const fields = (m: GrantMessage | RevokeMessage) =>
      "purposes" in m
        ? JSON.stringify({
            grantee: G,
            dataId: m.dataId,
            purposes: "3",
            expiresAt: "0",
            noticeHash: NOTICE,
          })
        : JSON.stringify({ grantee: G, dataId: m.dataId });
    const d = h.deadline.toString();
    const forwardSelector = RelayForwarderMock__factory.createInterface().getFunction("forwardGrant").selector;
    const expected = [
      [txs.grant, 0, "Grant", A, fields(s.g1), "1", d, s.g1.signature, null],
      [txs.grantBatch, 0, "Grant", A, fields(s.g2), "2", d, toCompactSignature(s.g2.signature), null],
      [txs.grantBatch, 1, "Grant", B, fields(s.g3), "1", d, s.g3.signature, null],
      [txs.revoke, 0, "Revoke", A, fields(s.v1), "3", d, s.v1.signature, null],
      [txs.revokeBatch, 0, "Revoke", A, fields(s.v2), "4", d, s.v2.signature, null],
      [txs.revokeBatch, 1, "Revoke", B, fields(s.v3), "2", d, s.v3.signature, null],
      [txs.revokeAll, 0, "RevokeAll", A, "{}", "5", d, s.all.signature, null],
      // The wallet's key is not the owner: sync asked the wallet (ERC-1271) at that block.
      [txs.wallet, 0, "Grant", W, fields(s.gw), "1", d, s.gw.signature, 1],
      [txs.forwarded, 0, "internal", "", JSON.stringify({ to: F, selector: forwardSelector }), null, null, null, null],
    ];
    const got = rows(db).map((r) => [
      r.tx_hash,
      r.item_index,
      r.kind,
      r.owner,
      r.args_json,
      r.nonce,
      r.deadline,
      r.signature,
      r.erc1271_valid,
    ]);
    expect(got).to.deep.equal(expected);
    // Each row carries its transaction's block (the key for rewinding it on a reorg).
    const nameOf = new Map(Object.entries(txs).map(([name, hash]) => [hash, name]));
    const blocks = await Promise.all(rows(db).map((r) => h.blockOf(nameOf.get(r.tx_hash)!)));
    expect(rows(db).map((r) => r.block_number)).to.deep.equal(blocks);
  });

  it("verify checks every signed change: 0 violations, one warning for the forwarded grant", async () => {
    const res = verifyHistory(db);
    expect(res.violations).to.deep.equal([]);
    expect(res.ok).to.equal(true);
    expect(res.signaturesChecked).to.equal(9);
    expect(res.warnings.map((w) => [w.rule, w.event.txHash, w.event.name, w.evidence])).to.deep.equal([
      [
        "signature-unverifiable-internal",
        h.txs.forwarded,
        "ConsentGranted",
        { tx: h.txs.forwarded, block: await h.blockOf("forwarded"), owner: h.B, relayer: h.F },
      ],
    ]);
  });

  it("CLI `audit verify` prints the warning with its evidence and the count of checked signatures", () => {
    const dir = mkdtempSync(join(tmpdir(), "omni-sig-"));
    try {
      const dbPath = join(dir, "audit.db");
      writeFileSync(dbPath, db.serialize());
      const out = spawnSync(
        process.execPath,
        ["--import", "tsx", join(ROOT, "src/cli/main.ts"), "audit", "verify", "--db", dbPath],
        { cwd: ROOT, encoding: "utf8" },
      );
      expect(out.status).to.equal(0);
      const lines = out.stdout.trim().split("\n");
      expect(lines.slice(1)).to.deep.equal([
        `WARNING signature-unverifiable-internal at block ${h.warnBlock} tx ${h.txs.forwarded}: ConsentGranted for ${h.B} via Signature was relayed through contract ${h.F}; its signature is not in the transaction's calldata and was not checked`,
        `  evidence: ${JSON.stringify({ tx: h.txs.forwarded, block: h.warnBlock, owner: h.B, relayer: h.F })}`,
        "9 signed consent changes checked, 1 warning(s)",
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("sync is idempotent and backfills signed_requests missing from an older database", async () => {
    const before = rows(db);
    await syncEvents({ db, rpc: ethers.provider, registry: h.registryAddress, progress: "none" });
    expect(rows(db)).to.deep.equal(before);
    db.prepare("DELETE FROM signed_requests").run();
    expect(verifyHistory(db).violations.map((v) => v.rule)).to.deep.equal(Array(9).fill("signature-request-missing"));
    await syncEvents({ db, rpc: ethers.provider, registry: h.registryAddress, progress: "none" });
    expect(rows(db)).to.deep.equal(before);
  });

  describe("a forged database is caught, with evidence", () => {
    const grantDigest = (m: GrantMessage) => consentDigest("Grant", h.domain as TypedDataDomain, m);

    it("a signature by another key: signature-invalid names the recovered signer and the digest", async () => {
      const forged = copyOf(db);
      const m = grantMsg(h.A, h.G, X, 1n, h.deadline);
      const other = await signConsent("Grant", h.stranger as HardhatEthersSigner, h.domain, m);
      forged.prepare("UPDATE signed_requests SET signature = ? WHERE tx_hash = ?").run(other.signature, h.txs.grant);
      const res = verifyHistory(forged);
      expect(res.ok).to.equal(false);
      expect(res.violations.map((v) => [v.rule, v.event.txHash, v.evidence])).to.deep.equal([
        [
          "signature-invalid",
          h.txs.grant,
          {
            tx: h.txs.grant,
            block: await h.blockOf("grant"),
            owner: h.A,
            index: 0,
            kind: "Grant",
            nonce: "1",
            deadline: h.deadline.toString(),
            digest: grantDigest(m),
            recoveredSigner: h.stranger.address.toLowerCase(),
            reason: null,
            signature: other.signature,
            erc1271Valid: null,
          },
        ],
      ]);
    });

    it("the malleable (high-s) twin of a valid signature is refused like the contract does", async () => {
      const forged = copyOf(db);
      const sig = Signature.from(h.signed.g1.signature);
      const highS = `0x${(N - BigInt(sig.s)).toString(16).padStart(64, "0")}`;
      const twin = sig.r + highS.slice(2) + (sig.v === 27 ? "1c" : "1b");
      forged.prepare("UPDATE signed_requests SET signature = ? WHERE tx_hash = ?").run(twin, h.txs.grant);
      const [v] = verifyHistory(forged).violations;
      expect([v.rule, v.evidence.recoveredSigner, v.evidence.reason]).to.deep.equal([
        "signature-invalid",
        null,
        "high s (malleable signature)",
      ]);
    });

    it("a nonce already used by the owner: signature-nonce-reused points at the first use", async () => {
      const forged = copyOf(db);
      // Re-signed with the owner's key, so only the nonce is wrong (a contract that failed to
      // mark nonces would produce exactly this history).
      const replay = await signConsent("Revoke", h.a, h.domain, revokeMsg(h.A, h.G, X, 1n, h.deadline));
      forged
        .prepare("UPDATE signed_requests SET nonce = '1', signature = ? WHERE tx_hash = ?")
        .run(replay.signature, h.txs.revoke);
      const res = verifyHistory(forged);
      expect(
        res.violations.map((v) => [v.rule, v.event.txHash, v.evidence.previousUse, v.evidence.nonce]),
      ).to.deep.equal([
        ["signature-nonce-reused", h.txs.revoke, { tx: h.txs.grant, block: await h.blockOf("grant") }, "1"],
      ]);
    });

    it("a nonce the owner invalidated (NoncesInvalidated) is reported as reused", async () => {
      const forged = copyOf(db);
      const replay = await signConsent("Revoke", h.b, h.domain, revokeMsg(h.B, h.G, ALL_DATA, 9n, h.deadline));
      forged
        .prepare("UPDATE signed_requests SET nonce = '9', signature = ? WHERE tx_hash = ? AND item_index = 1")
        .run(replay.signature, h.txs.revokeBatch);
      const res = verifyHistory(forged);
      expect(
        res.violations.map((v) => [v.rule, v.event.txHash, v.evidence.owner, v.evidence.previousUse]),
      ).to.deep.equal([["signature-nonce-reused", h.txs.revokeBatch, h.B, "invalidated"]]);
    });

    it("a deadline before the block time: signature-expired", async () => {
      const forged = copyOf(db);
      const ts = (await ethers.provider.getBlock(await h.blockOf("revokeAll")))!.timestamp;
      const late = BigInt(ts - 1);
      const resigned = await signConsent("RevokeAll", h.a, h.domain, { owner: h.A, nonce: 5n, deadline: late });
      forged
        .prepare("UPDATE signed_requests SET deadline = ?, signature = ? WHERE tx_hash = ?")
        .run(late.toString(), resigned.signature, h.txs.revokeAll);
      const res = verifyHistory(forged);
      expect(
        res.violations.map((v) => [v.rule, v.event.name, v.evidence.deadline, v.evidence.timestamp]),
      ).to.deep.equal([["signature-expired", "AllConsentsRevoked", late.toString(), ts]]);
    });

    it("an ERC-1271 wallet that said no: signature-invalid with the wallet's answer", async () => {
      const forged = copyOf(db);
      forged.prepare("UPDATE signed_requests SET erc1271_valid = 0 WHERE tx_hash = ?").run(h.txs.wallet);
      const res = verifyHistory(forged);
      expect(res.violations.map((v) => [v.rule, v.evidence.owner, v.evidence.erc1271Valid])).to.deep.equal([
        ["signature-invalid", h.W, 0],
      ]);
      expect(res.violations[0].message).to.contain("ERC-1271 isValidSignature said no");
    });

    it("a via-Signature consent event with no signed request in its tx: signature-request-missing", async () => {
      const forged = copyOf(db);
      const last = forged.prepare("SELECT MAX(block_number) AS n FROM events").get() as { n: number };
      const fakeTx = ethers.id("no such transaction");
      const args = {
        owner: h.A,
        grantee: h.G,
        dataId: Z,
        purposes: "3",
        expiresAt: "0",
        noticeHash: NOTICE,
        actor: h.G,
        via: "2",
      };
      forged
        .prepare(
          `INSERT INTO events (chain_id, block_number, block_hash, log_index, tx_hash, address, event_name, args_json, block_timestamp)
           SELECT chain_id, ?, block_hash, 0, ?, address, 'ConsentGranted', ?, block_timestamp + 12 FROM events
           WHERE block_number = ? LIMIT 1`,
        )
        .run(last.n + 1, fakeTx, JSON.stringify(args), last.n);
      const res = verifyHistory(forged);
      expect(res.violations.map((v) => [v.rule, v.event.txHash, v.evidence])).to.deep.equal([
        [
          "signature-request-missing",
          fakeTx,
          {
            tx: fakeTx,
            block: last.n + 1,
            owner: h.A,
            kind: "Grant",
            fields: { grantee: h.G, dataId: Z, purposes: "3", expiresAt: "0", noticeHash: NOTICE },
            requestsInTx: [],
          },
        ],
      ]);
    });
  });

  it("a reorg rewinds signed_requests with the events", async () => {
    const { accounts, registry } = await deploySystem(ethers);
    const [owner, grantee, relayer] = accounts;
    const addr = (await registry.getAddress()).toLowerCase();
    const { chainId } = await ethers.provider.getNetwork();
    const domain = consentDomain(chainId, addr);
    const deadline = BigInt((await ethers.provider.getBlock("latest"))!.timestamp + 3600);
    const O = owner.address.toLowerCase();
    const G = grantee.address.toLowerCase();
    const fdb = openAuditDb(":memory:");
    await syncEvents({ db: fdb, rpc: ethers.provider, registry: addr, progress: "none" });
    const snapshot = await networkHelpers.takeSnapshot();
    const onA = await signConsent("Grant", owner, domain, grantMsg(O, G, X, 100n, deadline));
    const txA = (await registry.connect(relayer).grantBySig(onA)).hash;
    await syncEvents({ db: fdb, rpc: ethers.provider, registry: addr, progress: "none" });
    expect(rows(fdb).map((r) => [r.tx_hash, r.nonce])).to.deep.equal([[txA, "100"]]);

    await snapshot.restore();
    const onB = await signConsent("Grant", owner, domain, grantMsg(O, G, Y, 200n, deadline));
    const txB = (await registry.connect(relayer).grantBySig(onB)).hash;
    await networkHelpers.mine(2);
    const res = await syncEvents({ db: fdb, rpc: ethers.provider, registry: addr, progress: "none" });
    expect(res.reorgs).to.equal(1);
    expect(rows(fdb).map((r) => [r.tx_hash, r.nonce, JSON.parse(r.args_json).dataId])).to.deep.equal([[txB, "200", Y]]);
    const v = verifyHistory(fdb);
    expect([v.violations, v.warnings, v.signaturesChecked]).to.deep.equal([[], [], 1]);
  });
});
