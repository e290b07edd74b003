/**
 * The synthetic history of `npm run bench:audit` (verify at 1M events), built without a chain.
 * `tsx scripts/bench-audit-synthetic.ts <db> <events>` builds one on its own (`<db>`: a SQLite
 * path or a postgres:// URL).
 */
import { createRequire } from "node:module";
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";

import { getBytes, id as keccakId, Wallet } from "ethers";

import { chunkDigests, initialDigest } from "../src/audit/digest.js";
import { type EventRow, openAuditStore, type SignedRequestRow } from "../src/audit/index.js";
import { RequestDigester } from "../src/audit/signed-request.js";
import { consentDomain } from "../src/sdk/eip712.js";

/**
 * A synthetic store that verify must pass: 8 purposes, signers' signed grants (5%, with real
 * signatures; each key re-signed with growing versions in its generation) and the processor's
 * uses of the granted keys, 500 events per block, written through the store like sync does
 * (with the log digest).
 */
export async function buildSynthetic(
  /** A SQLite path or a postgres:// URL (the same rows through either store). */
  path: string,
  events: number,
  signedShare: number,
): Promise<{ events: number; signed: number; owners: string[] }> {
  const native = createRequire(import.meta.url)("secp256k1/bindings.js") as {
    ecdsaSign(msg: Uint8Array, key: Uint8Array): { signature: Uint8Array; recid: number };
  };
  const registry = "0x" + "5f".repeat(20);
  const processor = "0x" + "7a".repeat(20);
  const relayer = "0x" + "3c".repeat(20);
  const chainId = 31337;
  const store = await openAuditStore(path);
  const digester = new RequestDigester(consentDomain(chainId, registry));
  const keys = Array.from({ length: 2000 }, (_, i) => {
    const w = new Wallet(keccakId(`synthetic-signer-${i}`));
    return { owner: w.address.toLowerCase(), priv: getBytes(w.privateKey) };
  });
  let digest = initialDigest(chainId, registry);
  await store.startSync(
    {
      chainId,
      registry,
      integrations: "0x" + "11".repeat(20),
      authority: "0x" + "22".repeat(20),
      genesisHash: keccakId("g"),
      fromBlock: 0,
      blockNumber: -1,
      blockHash: "",
      digest,
    },
    false,
  );
  const signedTotal = Math.round(events * signedShare);
  const perBlock = 500;
  let made = 0;
  let signed = 0;
  let tx = 0;
  const granted: { owner: string; dataId: string }[] = [];
  const versions = new Map<string, number>();
  for (let block = 1; made < events; block++) {
    const ts = 1_700_000_000 + 12 * block;
    const hash = keccakId(`block-${block}`);
    const rows: EventRow[] = [];
    const reqs: SignedRequestRow[] = [];
    const ev = (txHash: string, name: string, args: object, via: number | null, version: string | null) =>
      rows.push({
        chain_id: chainId,
        block_number: block,
        block_hash: hash,
        log_index: rows.length,
        tx_hash: txHash,
        address: registry,
        event_name: name,
        args_json: JSON.stringify(args),
        block_timestamp: ts,
        via,
        version,
      });
    if (block === 1)
      for (let id = 0; id < 8; id++)
        ev(keccakId("deploy"), "PurposeDefined", { id: String(id), metadataHash: keccakId(`p${id}`) }, null, null);
    const signedHere = Math.min(signedTotal - signed, Math.round(perBlock * signedShare), events - made);
    for (let i = 0; i < signedHere; i++, signed++) {
      const k = keys[signed % keys.length];
      const dataId = keccakId(`d-${Math.floor(signed / keys.length) % 5}`);
      const key = `${k.owner}|${dataId}`;
      const version = (versions.get(key) ?? 0) + 1;
      versions.set(key, version);
      if (version === 1) granted.push({ owner: k.owner, dataId });
      const fields = { grantee: processor, dataId, purposes: "3", expiresAt: "0", noticeHash: keccakId("n") };
      const q = {
        kind: "Grant" as const,
        owner: k.owner,
        fields,
        epoch: "0",
        version: String(version),
        deadline: String(deadline()),
      };
      const sig = native.ecdsaSign(getBytes(digester.digest(q)), k.priv);
      const signature = `0x${Buffer.from(sig.signature).toString("hex")}${(27 + sig.recid).toString(16)}`;
      const txHash = keccakId(`tx-${tx++}`);
      ev(
        txHash,
        "ConsentGranted",
        {
          owner: k.owner,
          grantee: processor,
          dataId,
          purposes: "3",
          expiresAt: "0",
          noticeHash: keccakId("n"),
          actor: relayer,
          version: String(version),
        },
        2,
        String(version),
      );
      reqs.push({
        chain_id: chainId,
        block_number: block,
        tx_hash: txHash,
        item_index: 0,
        kind: "Grant",
        owner: k.owner,
        args_json: JSON.stringify(fields),
        epoch: "0",
        version: String(version),
        deadline: String(deadline()),
        signature,
        erc1271_valid: null,
      });
    }
    const useTx = keccakId(`tx-${tx++}`);
    while (rows.length < perBlock && made + rows.length < events && granted.length > 0) {
      const g = granted[(made + rows.length) % granted.length];
      ev(
        useTx,
        "DataUsed",
        {
          owner: g.owner,
          processor,
          dataId: g.dataId,
          purpose: String(rows.length % 2),
          evidence: keccakId(`e${made + rows.length}`),
        },
        null,
        null,
      );
    }
    made += rows.length;
    const d = chunkDigests(digest, rows, reqs);
    digest = d.last;
    await store.commitChunk({
      chainId,
      events: rows,
      signed: reqs,
      headers: [{ number: block, hash, timestamp: ts }],
      checkpoint: { number: block, hash },
      blockDigests: d.blocks,
      digest,
      keepHashes: 4,
    });
  }
  await store.close();
  return { events: made, signed, owners: keys.map((k) => k.owner) };

  function deadline(): bigint {
    return 2n ** 40n;
  }
}

const entry = process.argv[1] !== undefined && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url);
if (entry) {
  const t = performance.now();
  const r = await buildSynthetic(process.argv[2], Number(process.argv[3] ?? 1_000_000), 0.05);
  process.stderr.write(
    `built ${r.events} events (${r.signed} signed) in ${((performance.now() - t) / 1000).toFixed(1)} s\n`,
  );
}
