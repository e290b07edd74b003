import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { expect } from "chai";
import { Interface, Signature } from "ethers";
import { network } from "hardhat";

import { type AuditDb, openAuditDb, syncEvents, verifyHistory } from "../../src/audit/index.js";
import { CONSENT_REGISTRY_ABI } from "../../src/sdk/abi.js";
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
  type CallerBoundERC1271WalletMock,
  type ERC1271WalletMock,
  type RelayForwarderMock,
  RelayForwarderMock__factory,
} from "../../types/ethers-contracts/index.js";
import { deploySystem } from "../helpers/fixture.js";
import { ROOT } from "./helpers/chain.js";

const { ethers, networkHelpers } = await network.create();

const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const X = ethers.id("asset-x");
const Y = ethers.id("asset-y");
const Z = ethers.id("asset-z");
const NOTICE = ethers.id("notice-v1");
const REGISTRY = new Interface(CONSENT_REGISTRY_ABI);
/** Purpose 7 (RESEARCH): deprecated in the middle of the history. */
const RESEARCH = 1n << 7n;

interface SignedRow {
  block_number: number;
  tx_hash: string;
  item_index: number;
  kind: string;
  owner: string;
  args_json: string;
  epoch: string | null;
  version: string | null;
  deadline: string | null;
  signature: string | null;
  erc1271_valid: number | null;
}

function rows(db: AuditDb): SignedRow[] {
  return db.sql
    .prepare(
      `SELECT block_number, tx_hash, item_index, kind, owner, args_json, epoch, version, deadline, signature, erc1271_valid
       FROM signed_requests ORDER BY block_number, item_index`,
    )
    .all() as SignedRow[];
}

/** An independent copy of a synced database, to forge without touching the original. */
function copyOf(db: AuditDb): AuditDb {
  return openAuditDb(db.sql.serialize());
}

interface GrantOpts {
  epoch?: bigint;
  purposes?: bigint;
  expiresAt?: bigint;
}

function grantMsg(
  owner: string,
  grantee: string,
  dataId: string,
  version: bigint,
  deadline: bigint,
  o: GrantOpts = {},
): GrantMessage {
  return {
    owner,
    grantee,
    dataId,
    purposes: o.purposes ?? 0b11n,
    expiresAt: o.expiresAt ?? NO_EXPIRY,
    noticeHash: NOTICE,
    epoch: o.epoch ?? 0n,
    version,
    deadline,
  };
}

function revokeMsg(
  owner: string,
  grantee: string,
  dataId: string,
  version: bigint,
  deadline: bigint,
  epoch = 0n,
): RevokeMessage {
  return { owner, grantee, dataId, epoch, version, deadline };
}

/**
 * A history with every signed path: single and batched grants and revocations by two EOAs (one
 * batch item with a 64-byte compact signature); a best-effort revocation batch with a stale and
 * a wrongly signed item (two SignedRevokeFailed); a signed lockdown; an ERC-1271 wallet's grant;
 * a grant of a wallet that answers "valid" only when the registry asks; a grant relayed through
 * a forwarder contract; and, after the lockdown, a signed grant relayed after its expiry with a
 * purpose deprecated since it was signed (stored expired and narrowed).
 */
async function signedHistory() {
  const { admin, accounts, registry } = await deploySystem(ethers);
  const [a, b, grantee, relayer, walletSigner, stranger, boundSigner] = accounts;
  const registryAddress = (await registry.getAddress()).toLowerCase();
  const { chainId } = await ethers.provider.getNetwork();
  const domain = consentDomain(chainId, registryAddress);
  const wallet = (await ethers.deployContract("ERC1271WalletMock", [
    walletSigner.address,
  ])) as unknown as ERC1271WalletMock;
  const bound = (await ethers.deployContract("CallerBoundERC1271WalletMock", [
    boundSigner.address,
    registryAddress,
  ])) as unknown as CallerBoundERC1271WalletMock;
  const forwarder = (await ethers.deployContract("RelayForwarderMock", [
    registryAddress,
  ])) as unknown as RelayForwarderMock;
  const deadline = BigInt((await ethers.provider.getBlock("latest"))!.timestamp + 3600);
  const r = registry.connect(relayer);
  const A = a.address.toLowerCase();
  const B = b.address.toLowerCase();
  const G = grantee.address.toLowerCase();
  const W = (await wallet.getAddress()).toLowerCase();
  const CB = (await bound.getAddress()).toLowerCase();
  const F = (await forwarder.getAddress()).toLowerCase();

  const txs: Record<string, string> = {};
  const mined = async (name: string, p: Promise<{ hash: string }>) => {
    txs[name] = (await p).hash;
  };
  const g1 = await signConsent("Grant", a, domain, grantMsg(A, G, X, 1n, deadline));
  await mined("grant", r.grantBySig(g1));
  const g2 = await signConsent("Grant", a, domain, grantMsg(A, G, Y, 1n, deadline));
  const g3 = await signConsent("Grant", b, domain, grantMsg(B, G, ALL_DATA, 1n, deadline));
  await mined("grantBatch", r.grantBySigBatch([{ ...g2, signature: toCompactSignature(g2.signature) }, g3]));
  const v1 = await signConsent("Revoke", a, domain, revokeMsg(A, G, X, 2n, deadline));
  await mined("revoke", r.revokeBySig(v1));
  const v2 = await signConsent("Revoke", a, domain, revokeMsg(A, G, Y, 2n, deadline));
  const v3 = await signConsent("Revoke", b, domain, revokeMsg(B, G, ALL_DATA, 2n, deadline));
  // Item 2 is v1 again (applied already: stale); item 3 is "B's" revocation signed by a stranger.
  const forgedB = await signConsent("Revoke", stranger, domain, revokeMsg(B, G, Z, 1n, deadline));
  await mined("revokeBatch", r.revokeBySigBatch([v2, v3, v1, forgedB]));
  const all = await signConsent("RevokeAll", a, domain, { owner: A, epoch: 0n, deadline });
  await mined("revokeAll", r.revokeAllBySig(all));
  const gw = await signConsent("Grant", walletSigner, domain, grantMsg(W, G, X, 1n, deadline));
  await mined("wallet", r.grantBySig(gw));
  const gb = await signConsent("Grant", boundSigner, domain, grantMsg(CB, G, X, 1n, deadline));
  await mined("bound", r.grantBySig(gb));
  const gf = await signConsent("Grant", b, domain, grantMsg(B, G, Z, 1n, deadline));
  await mined("forwarded", forwarder.connect(relayer).forwardGrant(gf));
  // After the lockdown (epoch 1): signed with RESEARCH and a 100 s expiry; relayed 200 s later,
  // after governance deprecated RESEARCH. The key (A, G, X) is at version 2 (the revocation).
  const now = (await ethers.provider.getBlock("latest"))!.timestamp;
  const late = await signConsent(
    "Grant",
    a,
    domain,
    grantMsg(A, G, X, 3n, deadline, { epoch: 1n, purposes: 0b11n | RESEARCH, expiresAt: BigInt(now + 100) }),
  );
  await registry.connect(admin).deprecatePurpose(7);
  await networkHelpers.time.increase(200);
  await mined("late", r.grantBySig(late));
  const blockOf = async (name: string) => (await ethers.provider.getTransactionReceipt(txs[name]))!.blockNumber;
  return {
    registry,
    registryAddress,
    domain,
    deadline,
    a,
    b,
    stranger,
    R: relayer.address.toLowerCase(),
    A,
    B,
    G,
    W,
    CB,
    F,
    txs,
    blockOf,
    signed: { g1, g2, g3, v1, v2, v3, forgedB, all, gw, gb, gf, late },
  };
}

describe("audit: consent changes made by signature (registry 2.0: epoch + version)", function () {
  this.timeout(120_000);

  let h: Awaited<ReturnType<typeof signedHistory>>;
  let db: AuditDb;

  before(async () => {
    h = await signedHistory();
    db = openAuditDb(":memory:");
    await syncEvents({ db, rpc: ethers.provider, registry: h.registryAddress, progress: "none" });
  });

  it("the chain did what the history says: stale and forged batch items failed, the late grant is stored expired and narrowed", async () => {
    const receipt = (await ethers.provider.getTransactionReceipt(h.txs.revokeBatch))!;
    const failed = receipt.logs
      .map((l) => REGISTRY.parseLog(l))
      .filter((l) => l?.name === "SignedRevokeFailed")
      .map((l) => [l!.args.owner.toLowerCase(), l!.args.index, REGISTRY.parseError(l!.args.reason)!.name]);
    expect(failed).to.deep.equal([
      [h.A, 2n, "ConsentRegistryStaleSignature"],
      [h.B, 3n, "ConsentRegistryInvalidSignature"],
    ]);
    const c = await h.registry.getConsent(h.A, h.G, X);
    expect([c.purposes, c.expiresAt, c.epoch, c.version, c.active]).to.deep.equal([
      0b11n,
      h.signed.late.expiresAt,
      1n,
      3n,
      false,
    ]);
  });

  it("sync stores each signed request (epoch, version, deadline) from the relaying calldata, and marks the forwarded tx internal", async () => {
    const { txs, signed: s, A, B, G, W, CB, F } = h;
    const fields = (m: GrantMessage | RevokeMessage) =>
      "purposes" in m
        ? JSON.stringify({
            grantee: G,
            dataId: m.dataId,
            purposes: m.purposes.toString(),
            expiresAt: m.expiresAt.toString(),
            noticeHash: NOTICE,
          })
        : JSON.stringify({ grantee: G, dataId: m.dataId });
    const d = h.deadline.toString();
    const forwardSelector = RelayForwarderMock__factory.createInterface().getFunction("forwardGrant").selector;
    const expected = [
      [txs.grant, 0, "Grant", A, fields(s.g1), "0", "1", d, s.g1.signature, null],
      [txs.grantBatch, 0, "Grant", A, fields(s.g2), "0", "1", d, toCompactSignature(s.g2.signature), null],
      [txs.grantBatch, 1, "Grant", B, fields(s.g3), "0", "1", d, s.g3.signature, null],
      [txs.revoke, 0, "Revoke", A, fields(s.v1), "0", "2", d, s.v1.signature, null],
      [txs.revokeBatch, 0, "Revoke", A, fields(s.v2), "0", "2", d, s.v2.signature, null],
      [txs.revokeBatch, 1, "Revoke", B, fields(s.v3), "0", "2", d, s.v3.signature, null],
      [txs.revokeBatch, 2, "Revoke", A, fields(s.v1), "0", "2", d, s.v1.signature, null],
      // Not B's key: sync asked B (an EOA, no code) for ERC-1271, which is "no".
      [txs.revokeBatch, 3, "Revoke", B, fields(s.forgedB), "0", "1", d, s.forgedB.signature, 0],
      [txs.revokeAll, 0, "RevokeAll", A, "{}", "0", null, d, s.all.signature, null],
      // The wallets' keys are not the owners: sync asked each wallet (ERC-1271) as the registry.
      [txs.wallet, 0, "Grant", W, fields(s.gw), "0", "1", d, s.gw.signature, 1],
      [txs.bound, 0, "Grant", CB, fields(s.gb), "0", "1", d, s.gb.signature, 1],
      [
        txs.forwarded,
        0,
        "internal",
        "",
        JSON.stringify({ to: F, selector: forwardSelector }),
        null,
        null,
        null,
        null,
        null,
      ],
      [txs.late, 0, "Grant", A, fields(s.late), "1", "3", d, s.late.signature, null],
    ];
    const got = rows(db).map((r) => [
      r.tx_hash,
      r.item_index,
      r.kind,
      r.owner,
      r.args_json,
      r.epoch,
      r.version,
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

  it("events store the derived via and the version as columns; SignedRevokeFailed is stored with its reason", async () => {
    const consentRows = db.sql
      .prepare(
        `SELECT tx_hash, event_name, via, version FROM events
         WHERE event_name IN ('ConsentGranted', 'ConsentRevoked', 'AllConsentsRevoked', 'SignedRevokeFailed')
         ORDER BY block_number, log_index`,
      )
      .all();
    const t = h.txs;
    expect(consentRows).to.deep.equal([
      { tx_hash: t.grant, event_name: "ConsentGranted", via: 2, version: "1" },
      { tx_hash: t.grantBatch, event_name: "ConsentGranted", via: 2, version: "1" },
      { tx_hash: t.grantBatch, event_name: "ConsentGranted", via: 2, version: "1" },
      { tx_hash: t.revoke, event_name: "ConsentRevoked", via: 2, version: "2" },
      { tx_hash: t.revokeBatch, event_name: "ConsentRevoked", via: 2, version: "2" },
      { tx_hash: t.revokeBatch, event_name: "ConsentRevoked", via: 2, version: "2" },
      { tx_hash: t.revokeBatch, event_name: "SignedRevokeFailed", via: null, version: null },
      { tx_hash: t.revokeBatch, event_name: "SignedRevokeFailed", via: null, version: null },
      { tx_hash: t.revokeAll, event_name: "AllConsentsRevoked", via: 2, version: null },
      { tx_hash: t.wallet, event_name: "ConsentGranted", via: 2, version: "1" },
      { tx_hash: t.bound, event_name: "ConsentGranted", via: 2, version: "1" },
      { tx_hash: t.forwarded, event_name: "ConsentGranted", via: 2, version: "1" },
      { tx_hash: t.late, event_name: "ConsentGranted", via: 2, version: "3" },
    ]);
    const failure = db.sql
      .prepare("SELECT args_json FROM events WHERE event_name = 'SignedRevokeFailed' ORDER BY log_index LIMIT 1")
      .get() as { args_json: string };
    expect(JSON.parse(failure.args_json)).to.deep.equal({
      owner: h.A,
      grantee: h.G,
      dataId: X,
      index: "2",
      reason: REGISTRY.encodeErrorResult("ConsentRegistryStaleSignature", [h.A, 0, 2n, 0, 2n]),
    });
  });

  it("verify checks every signed change and failure: 0 violations, one warning for the forwarded grant", async () => {
    const res = await verifyHistory(db);
    expect(res.violations).to.deep.equal([]);
    expect(res.ok).to.equal(true);
    expect(res.signaturesChecked).to.equal(11);
    expect(res.failedRevocationsChecked).to.equal(2);
    expect(res.warnings.map((w) => [w.rule, w.event.txHash, w.event.name, w.evidence])).to.deep.equal([
      [
        "signature-unverifiable-internal",
        h.txs.forwarded,
        "ConsentGranted",
        { tx: h.txs.forwarded, block: await h.blockOf("forwarded"), owner: h.B, relayer: h.F },
      ],
    ]);
    // Anchored, every stored signed request (batches, ERC-1271 rows, the internal marker) is the
    // row sync builds from its transaction's calldata again.
    const anchored = await verifyHistory(db, { rpc: ethers.provider });
    expect([anchored.ok, anchored.integrity.findings, anchored.violations]).to.deep.equal([true, [], []]);
    expect(anchored.integrity.chain!.signedTxsCompared).to.equal(new Set(rows(db).map((r) => r.tx_hash)).size);
  });

  it("ERC-1271 is asked as the registry asked: the caller-bound wallet says valid to the registry only", async () => {
    const block = await h.blockOf("bound");
    const digest = consentDigest("Grant", h.domain, grantMsg(h.CB, h.G, X, 1n, h.deadline));
    const data = REGISTRY.getAbiCoder().encode(["bytes32", "bytes"], [digest, h.signed.gb.signature]);
    const ask = (from?: string) =>
      ethers.provider.call({ to: h.CB, from, data: "0x1626ba7e" + data.slice(2), blockTag: block });
    expect((await ask(h.registryAddress)).slice(0, 10)).to.equal("0x1626ba7e");
    // Asked from anywhere else (as the auditor used to, without `from`) the wallet says no.
    expect((await ask()).slice(0, 10)).to.equal("0x00000000");
    expect((await ask(h.stranger.address)).slice(0, 10)).to.equal("0x00000000");
    const stored = rows(db).find((r) => r.tx_hash === h.txs.bound)!;
    expect([stored.owner, stored.erc1271_valid]).to.deep.equal([h.CB, 1]);
    expect((await verifyHistory(db)).violations.filter((v) => v.event.txHash === h.txs.bound)).to.deep.equal([]);
  });

  it("CLI `audit verify` prints the warning with its evidence and the count of checked signatures", () => {
    const dir = mkdtempSync(join(tmpdir(), "omni-sig-"));
    try {
      const dbPath = join(dir, "audit.db");
      writeFileSync(dbPath, db.sql.serialize());
      const out = spawnSync(
        process.execPath,
        ["--import", "tsx", join(ROOT, "src/cli/main.ts"), "audit", "verify", "--db", dbPath],
        { cwd: ROOT, encoding: "utf8" },
      );
      expect(out.status, out.stderr).to.equal(0);
      const lines = out.stdout.trim().split("\n");
      const block = rows(db).find((r) => r.tx_hash === h.txs.forwarded)!.block_number;
      expect(lines.slice(1)).to.deep.equal([
        `WARNING signature-unverifiable-internal at block ${block} tx ${h.txs.forwarded}: ConsentGranted for ${h.B} via Signature was relayed through contract ${h.F}; its signature is not in the transaction's calldata and was not checked`,
        `  evidence: ${JSON.stringify({ tx: h.txs.forwarded, block, owner: h.B, relayer: h.F })}`,
        "11 signed consent changes checked, 1 warning(s)",
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("sync is idempotent: a second run adds no signed request", async () => {
    const before = rows(db);
    const again = await syncEvents({ db, rpc: ethers.provider, registry: h.registryAddress, progress: "none" });
    expect(again.inserted).to.equal(0);
    expect(rows(db)).to.deep.equal(before);
  });

  describe("a forged database is caught, with evidence", () => {
    const grantDigest = (m: GrantMessage) => consentDigest("Grant", h.domain, m);
    /** Rewrites the args (and the version column) of the consent event of `tx`. */
    const forgeEvent = (forged: AuditDb, tx: string, name: string, patch: Record<string, string>) => {
      const row = forged.sql
        .prepare("SELECT rowid, args_json FROM events WHERE tx_hash = ? AND event_name = ?")
        .get(tx, name) as { rowid: number; args_json: string };
      const args = { ...(JSON.parse(row.args_json) as Record<string, string>), ...patch };
      forged.sql
        .prepare("UPDATE events SET args_json = ?, version = ? WHERE rowid = ?")
        .run(JSON.stringify(args), args.version ?? null, row.rowid);
    };

    it("a signature by another key: signature-invalid names the recovered signer and the digest", async () => {
      const forged = copyOf(db);
      const m = grantMsg(h.A, h.G, X, 1n, h.deadline);
      const other = await signConsent("Grant", h.stranger as HardhatEthersSigner, h.domain, m);
      forged.sql
        .prepare("UPDATE signed_requests SET signature = ? WHERE tx_hash = ?")
        .run(other.signature, h.txs.grant);
      const res = await verifyHistory(forged);
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
            epoch: "0",
            version: "1",
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
      forged.sql.prepare("UPDATE signed_requests SET signature = ? WHERE tx_hash = ?").run(twin, h.txs.grant);
      const [v] = (await verifyHistory(forged)).violations;
      expect([v.rule, v.evidence.recoveredSigner, v.evidence.reason]).to.deep.equal([
        "signature-invalid",
        null,
        "high s (malleable signature)",
      ]);
    });

    it("a signed version not above the key's (a replay after a newer word): signature-version-stale", async () => {
      const forged = copyOf(db);
      // The revocation re-signed by A with version 1, the version the grant already set: a
      // contract that failed to order messages would produce exactly this history.
      const replay = await signConsent("Revoke", h.a, h.domain, revokeMsg(h.A, h.G, X, 1n, h.deadline));
      forged.sql
        .prepare("UPDATE signed_requests SET version = '1', signature = ? WHERE tx_hash = ?")
        .run(replay.signature, h.txs.revoke);
      forgeEvent(forged, h.txs.revoke, "ConsentRevoked", { version: "1" });
      const res = await verifyHistory(forged);
      expect(res.violations[0]).to.deep.include({
        rule: "signature-version-stale",
        evidence: { previousVersion: "1", version: "1" },
        message: `ConsentRevoked for ${h.A} → ${h.G} on ${X} applied a signed version 1 that is not above the key's version 1 in its generation`,
      });
      expect(res.violations[0].event.txHash).to.equal(h.txs.revoke);
      // In that history the key stayed at version 1, so the batch's replay of the real
      // version-2 revocation could have applied: the auditor says so too.
      expect(res.violations.slice(1).map((v) => [v.rule, v.evidence.index, v.evidence.expected])).to.deep.equal([
        ["signed-revoke-refused", 2, null],
      ]);
    });

    it("a signed version of another generation (signed before a change by transaction): signature-version-stale", async () => {
      const forged = copyOf(db);
      const replay = await signConsent(
        "Grant",
        h.a,
        h.domain,
        grantMsg(h.A, h.G, X, 0x10003n, h.deadline, {
          epoch: 1n,
          purposes: 0b11n | RESEARCH,
          expiresAt: h.signed.late.expiresAt,
        }),
      );
      forged.sql
        .prepare("UPDATE signed_requests SET version = ?, signature = ? WHERE tx_hash = ?")
        .run(String(0x10003), replay.signature, h.txs.late);
      forgeEvent(forged, h.txs.late, "ConsentGranted", { version: String(0x10003) });
      expect((await verifyHistory(forged)).violations.map((v) => [v.rule, v.evidence])).to.deep.equal([
        ["signature-version-stale", { previousVersion: "2", version: "65539" }],
      ]);
    });

    it("a message signed before the lockdown (old epoch): signature-epoch-stale", async () => {
      const forged = copyOf(db);
      const m = grantMsg(h.A, h.G, X, 3n, h.deadline, {
        epoch: 0n,
        purposes: 0b11n | RESEARCH,
        expiresAt: h.signed.late.expiresAt,
      });
      const old = await signConsent("Grant", h.a, h.domain, m);
      forged.sql
        .prepare("UPDATE signed_requests SET epoch = '0', signature = ? WHERE tx_hash = ?")
        .run(old.signature, h.txs.late);
      const res = await verifyHistory(forged);
      expect(res.violations.map((v) => [v.rule, v.event.txHash, v.evidence])).to.deep.equal([
        [
          "signature-epoch-stale",
          h.txs.late,
          {
            tx: h.txs.late,
            block: await h.blockOf("late"),
            owner: h.A,
            index: 0,
            kind: "Grant",
            epoch: "0",
            version: "3",
            deadline: h.deadline.toString(),
            digest: grantDigest(m),
            currentEpoch: "1",
          },
        ],
      ]);
    });

    it("a signed grant that kept a purpose no longer grantable: purpose-not-grantable and signature-purposes-mismatch", async () => {
      const forged = copyOf(db);
      forgeEvent(forged, h.txs.late, "ConsentGranted", { purposes: String(0b11n | RESEARCH) });
      const res = await verifyHistory(forged);
      expect(res.violations.map((v) => [v.rule, v.evidence.grantable, v.evidence.keepable])).to.deep.equal([
        ["signature-purposes-mismatch", "127", "0"],
        ["purpose-not-grantable", "127", "0"],
      ]);
      expect(res.violations[0].evidence).to.include({ signedPurposes: "131", storedPurposes: "131", expected: "3" });
      expect(res.violations[1].evidence).to.include({ purposes: "131", notGrantable: "128" });
    });

    it("a deadline before the block time: signature-expired", async () => {
      const forged = copyOf(db);
      const ts = (await ethers.provider.getBlock(await h.blockOf("revokeAll")))!.timestamp;
      const late = BigInt(ts - 1);
      const resigned = await signConsent("RevokeAll", h.a, h.domain, { owner: h.A, epoch: 0n, deadline: late });
      forged.sql
        .prepare("UPDATE signed_requests SET deadline = ?, signature = ? WHERE tx_hash = ?")
        .run(late.toString(), resigned.signature, h.txs.revokeAll);
      const res = await verifyHistory(forged);
      expect(
        res.violations.map((v) => [v.rule, v.event.name, v.evidence.deadline, v.evidence.timestamp]),
      ).to.deep.equal([["signature-expired", "AllConsentsRevoked", late.toString(), ts]]);
    });

    it("a signed lockdown of another epoch: signature-epoch-stale", async () => {
      const forged = copyOf(db);
      const resigned = await signConsent("RevokeAll", h.a, h.domain, { owner: h.A, epoch: 7n, deadline: h.deadline });
      forged.sql
        .prepare("UPDATE signed_requests SET epoch = '7', signature = ? WHERE tx_hash = ?")
        .run(resigned.signature, h.txs.revokeAll);
      expect(
        (await verifyHistory(forged)).violations.map((v) => [v.rule, v.evidence.epoch, v.evidence.currentEpoch]),
      ).to.deep.equal([["signature-epoch-stale", "7", "0"]]);
    });

    it("an ERC-1271 wallet that said no: signature-invalid with the wallet's answer", async () => {
      const forged = copyOf(db);
      forged.sql.prepare("UPDATE signed_requests SET erc1271_valid = 0 WHERE tx_hash = ?").run(h.txs.wallet);
      const res = await verifyHistory(forged);
      expect(res.violations.map((v) => [v.rule, v.evidence.owner, v.evidence.erc1271Valid])).to.deep.equal([
        ["signature-invalid", h.W, 0],
      ]);
      expect(res.violations[0].message).to.contain("ERC-1271 isValidSignature, asked from the registry, said no");
    });

    it("a signed change with no signed request in its tx: signature-request-missing", async () => {
      const forged = copyOf(db);
      const last = forged.sql.prepare("SELECT MAX(block_number) AS n FROM events").get() as { n: number };
      const fakeTx = ethers.id("no such transaction");
      const args = {
        owner: h.A,
        grantee: h.G,
        dataId: Z,
        purposes: "3",
        expiresAt: "0",
        noticeHash: NOTICE,
        actor: h.G,
        version: "1",
      };
      forged.sql
        .prepare(
          `INSERT INTO events (chain_id, block_number, block_hash, log_index, tx_hash, address, event_name, args_json, block_timestamp, via, version)
           SELECT chain_id, ?, block_hash, 0, ?, address, 'ConsentGranted', ?, block_timestamp + 12, 2, '1' FROM events
           WHERE block_number = ? LIMIT 1`,
        )
        .run(last.n + 1, fakeTx, JSON.stringify(args), last.n);
      const res = await verifyHistory(forged);
      expect(res.violations.map((v) => [v.rule, v.event.txHash, v.evidence])).to.deep.equal([
        [
          "signature-request-missing",
          fakeTx,
          {
            tx: fakeTx,
            block: last.n + 1,
            owner: h.A,
            kind: "Grant",
            fields: { grantee: h.G, dataId: Z, expiresAt: "0", noticeHash: NOTICE },
            version: "1",
            requestsInTx: [],
          },
        ],
      ]);
    });

    it("a failed batch item reported for another reason than the contract's checks give: signed-revoke-reason-mismatch", async () => {
      const forged = copyOf(db);
      const expired = REGISTRY.encodeErrorResult("ConsentRegistrySignatureExpired", [h.deadline, 1n]);
      const row = forged.sql
        .prepare(
          "SELECT rowid, args_json FROM events WHERE event_name = 'SignedRevokeFailed' ORDER BY log_index LIMIT 1",
        )
        .get() as { rowid: number; args_json: string };
      forged.sql
        .prepare("UPDATE events SET args_json = ? WHERE rowid = ?")
        .run(JSON.stringify({ ...JSON.parse(row.args_json), reason: expired }), row.rowid);
      const res = await verifyHistory(forged);
      expect(
        res.violations.map((v) => [v.rule, v.evidence.index, v.evidence.reason, v.evidence.expected]),
      ).to.deep.equal([
        [
          "signed-revoke-reason-mismatch",
          2,
          `ConsentRegistrySignatureExpired(${h.deadline}, 1)`,
          `ConsentRegistryStaleSignature(${h.A}, 0, 2, 0, 2)`,
        ],
      ]);
    });

    it("a valid signed withdrawal reported as failed: signed-revoke-refused (withdrawal always works)", async () => {
      const forged = copyOf(db);
      // Item 0 of the batch (A's revocation of Y) applied; forge the history where it "failed".
      const row = forged.sql
        .prepare(
          "SELECT rowid, * FROM events WHERE tx_hash = ? AND event_name = 'ConsentRevoked' ORDER BY log_index LIMIT 1",
        )
        .get(h.txs.revokeBatch) as { rowid: number };
      const reason = REGISTRY.encodeErrorResult("ConsentRegistryInvalidSignature", [h.A]);
      forged.sql
        .prepare(
          "UPDATE events SET event_name = 'SignedRevokeFailed', args_json = ?, via = NULL, version = NULL WHERE rowid = ?",
        )
        .run(JSON.stringify({ owner: h.A, grantee: h.G, dataId: Y, index: "0", reason }), row.rowid);
      const res = await verifyHistory(forged);
      expect(res.violations.map((v) => [v.rule, v.event.txHash, v.evidence, v.message])).to.deep.equal([
        [
          "signed-revoke-refused",
          h.txs.revokeBatch,
          {
            tx: h.txs.revokeBatch,
            block: await h.blockOf("revokeBatch"),
            owner: h.A,
            index: 0,
            reason: `ConsentRegistryInvalidSignature(${h.A})`,
            epoch: "0",
            version: "2",
            deadline: h.deadline.toString(),
            expected: null,
          },
          `a valid signed withdrawal (item 0 of tx ${h.txs.revokeBatch}, ${h.A} → ${h.G} on ${Y}) was not applied; the registry reported ConsentRegistryInvalidSignature(${h.A})`,
        ],
      ]);
    });

    it("a via column that disagrees with the event's version: via-column-mismatch", async () => {
      const forged = copyOf(db);
      forged.sql
        .prepare("UPDATE events SET via = 0 WHERE tx_hash = ? AND event_name = 'ConsentGranted'")
        .run(h.txs.grant);
      expect((await verifyHistory(forged)).violations.map((v) => [v.rule, v.evidence])).to.deep.equal([
        ["via-column-mismatch", { stored: 0, derived: 2, version: "1", actor: h.R }],
      ]);
    });
  });

  for (const variant of ["signed by another key", "an expired copy"] as const) {
    it(`a failed batch item before the applied one of the same key and version verifies clean (${variant})`, async () => {
      const { accounts, registry } = await deploySystem(ethers);
      const [owner, grantee, relayer, other] = accounts;
      const addr = (await registry.getAddress()).toLowerCase();
      const domain = consentDomain((await ethers.provider.getNetwork()).chainId, addr);
      const O = owner.address.toLowerCase();
      const G = grantee.address.toLowerCase();
      const data = ethers.id(`batch-${variant}`);
      await registry.connect(owner).grant(grantee.address, data, 1n, NO_EXPIRY, ethers.ZeroHash);
      const now = BigInt(await networkHelpers.time.latest());
      const msg: RevokeMessage = {
        owner: owner.address,
        grantee: grantee.address,
        dataId: data,
        epoch: 0n,
        version: 0x10001n,
        deadline: now + 3600n,
      };
      const real = await signConsent("Revoke", owner, domain, msg);
      const bad =
        variant === "signed by another key"
          ? await signConsent("Revoke", other, domain, msg)
          : await signConsent("Revoke", owner, domain, { ...msg, deadline: now - 1n });
      const tx = (await (await registry.connect(relayer).revokeBySigBatch([bad, real])).wait())!;
      const reason =
        variant === "signed by another key" ? "ConsentRegistryInvalidSignature" : "ConsentRegistrySignatureExpired";
      // On chain: item 0 failed, item 1 (the same key and version) applied.
      expect(
        tx.logs.map((l) => {
          const e = registry.interface.parseLog(l)!;
          return e.name === "SignedRevokeFailed"
            ? [e.name, e.args.index, REGISTRY.parseError(e.args.reason)!.name]
            : [e.name];
        }),
      ).to.deep.equal([["SignedRevokeFailed", 0n, reason], ["ConsentRevoked"]]);
      expect((await registry.getConsent(O, G, data)).purposes).to.equal(0n);

      const fdb = openAuditDb(":memory:");
      await syncEvents({ db: fdb, rpc: ethers.provider, registry: addr, progress: "none" });
      expect(rows(fdb).map((r) => [r.tx_hash, r.item_index, r.kind, r.owner, r.version])).to.deep.equal([
        [tx.hash, 0, "Revoke", O, "65537"],
        [tx.hash, 1, "Revoke", O, "65537"],
      ]);
      const v = await verifyHistory(fdb, { rpc: ethers.provider });
      expect([v.violations, v.warnings, v.integrity.findings, v.ok]).to.deep.equal([[], [], [], true]);
      expect([v.signaturesChecked, v.failedRevocationsChecked]).to.deep.equal([1, 1]);
    });
  }

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
    expect(rows(fdb).map((r) => [r.tx_hash, r.version])).to.deep.equal([[txA, "100"]]);

    await snapshot.restore();
    const onB = await signConsent("Grant", owner, domain, grantMsg(O, G, Y, 200n, deadline));
    const txB = (await registry.connect(relayer).grantBySig(onB)).hash;
    await networkHelpers.mine(2);
    const res = await syncEvents({ db: fdb, rpc: ethers.provider, registry: addr, progress: "none" });
    expect(res.reorgs).to.equal(1);
    expect(rows(fdb).map((r) => [r.tx_hash, r.version, JSON.parse(r.args_json).dataId])).to.deep.equal([
      [txB, "200", Y],
    ]);
    const v = await verifyHistory(fdb);
    expect([v.violations, v.warnings, v.signaturesChecked]).to.deep.equal([[], [], 1]);
  });
});
