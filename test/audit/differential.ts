import { expect } from "chai";
import { network } from "hardhat";

import { openAuditDb, stateAt, syncEvents, verifyHistory } from "../../src/audit/index.js";
import { ALL_DATA, NO_EXPIRY } from "../../src/sdk/constants.js";
import { consentDomain, type Signed, signConsent } from "../../src/sdk/eip712.js";
import { consentOf, deploySystem } from "../helpers/fixture.js";
import { rejection } from "./helpers/chain.js";

const { ethers, networkHelpers } = await network.create();

/** Small seeded PRNG so a failing history can be replayed (seed printed on failure). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SEED = Number(process.env.AUDIT_SEED ?? 20261125);

type Pooled =
  | { kind: "Grant"; m: Signed<"Grant"> }
  | { kind: "Revoke"; m: Signed<"Revoke"> }
  | { kind: "RevokeAll"; m: Signed<"RevokeAll"> };

describe("audit: differential check of the verifier against the contract", function () {
  this.timeout(180_000);

  it("random history (transactions, managers, lockdowns, signatures relayed in random order and batches): verify passes, and state at any block equals the contract's", async () => {
    const rnd = mulberry32(SEED);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
    const { admin, accounts, registry, integrations } = await deploySystem(ethers);
    const registryAddress = await registry.getAddress();
    const { chainId } = await ethers.provider.getNetwork();
    const domain = consentDomain(chainId, registryAddress);
    const owners = accounts.slice(0, 4);
    const processors = accounts.slice(4, 7);
    const partners = accounts.slice(7, 9); // registered as integrations
    const candidates = accounts.slice(9, 12); // manager candidates
    const relayer = accounts[12];
    const grantees = [...processors, ...partners];
    const dataIds = [ethers.id("asset-a"), ethers.id("asset-b"), ethers.id("asset-c"), ALL_DATA];
    for (const p of partners)
      await integrations.connect(admin).registerIntegration(p.address, ethers.id(p.address), 0xffn);
    const suspended = new Set<string>();
    // Recent grants, so use/share attempts often target a key that may be live.
    const recent: { owner: string; grantee: string; dataId: string; mask: bigint }[] = [];
    const target = (granteeFilter: (g: string) => boolean) => {
      const hits = recent.filter((k) => granteeFilter(k.grantee));
      if (hits.length === 0 || rnd() < 0.3) return null;
      const k = pick(hits);
      return { ...k, dataId: k.dataId === ALL_DATA && rnd() < 0.7 ? pick(dataIds.slice(0, 3)) : k.dataId };
    };
    const isProcessor = (g: string) => processors.some((p) => p.address === g);
    // Signed messages waiting for a relayer, relayed later in random order (some twice, some
    // after a newer word of the owner, some after their deadline).
    const pool: Pooled[] = [];
    let uses = 0;
    let shares = 0;
    let failed = 0;

    const attempt = async (send: () => Promise<unknown>) => {
      try {
        await send();
        return true;
      } catch {
        failed++;
        return false;
      }
    };
    /** A current manager of `owner` when it has one (found on chain), else any candidate (who will be refused). */
    const managerFor = async (owner: string) => {
      for (const c of candidates) if (await registry.isManager(owner, c.address)) return { signer: c, current: true };
      return { signer: pick(candidates), current: false };
    };
    /** A version for the next signed message of a key: above the key's, in its generation, sometimes skipping. */
    const nextVersion = async (owner: string, grantee: string, dataId: string) =>
      (await registry.getConsent(owner, grantee, dataId)).version + 1n + BigInt(Math.floor(rnd() * 3));

    // A known-good start, so every run contains at least one landed use and share.
    await registry.connect(owners[0]).grant(processors[0].address, ALL_DATA, 0xffn, NO_EXPIRY, ethers.ZeroHash);
    await registry.connect(owners[0]).grant(partners[0].address, dataIds[0], 0x40n, NO_EXPIRY, ethers.ZeroHash);
    recent.push({ owner: owners[0].address, grantee: processors[0].address, dataId: ALL_DATA, mask: 0xffn });
    recent.push({ owner: owners[0].address, grantee: partners[0].address, dataId: dataIds[0], mask: 0x40n });
    await registry.connect(processors[0]).recordUse(owners[0].address, dataIds[1], 3, ethers.id("first-use"));
    await registry
      .connect(processors[0])
      .recordShare(owners[0].address, partners[0].address, dataIds[0], 6, ethers.id("s"));
    uses++;
    shares++;

    for (let step = 0; step < 360; step++) {
      const r = rnd();
      const owner = pick(owners);
      const now = await networkHelpers.time.latest();
      if (r < 0.2) {
        const grantee = pick(grantees);
        const mask = BigInt(1 + Math.floor(rnd() * 255));
        const expiresAt = rnd() < 0.5 ? NO_EXPIRY : BigInt(now + 2 + Math.floor(rnd() * 300));
        const { signer: mgr, current } = await managerFor(owner.address);
        const viaManager = current && rnd() < 0.5;
        const dataId = pick(dataIds);
        const ok = await attempt(() =>
          viaManager
            ? registry.connect(mgr).grantFor(owner.address, grantee.address, dataId, mask, expiresAt, ethers.ZeroHash)
            : registry.connect(owner).grant(grantee.address, dataId, mask, expiresAt, ethers.id(`notice-${step}`)),
        );
        if (ok) recent.push({ owner: owner.address, grantee: grantee.address, dataId, mask });
      } else if (r < 0.23) {
        const { signer: mgr } = await managerFor(owner.address);
        const [g, d] = [pick(grantees).address, pick(dataIds)];
        await attempt(() =>
          rnd() < 0.5 ? registry.connect(mgr).revokeFor(owner.address, g, d) : registry.connect(owner).revoke(g, d),
        );
      } else if (r < 0.25) {
        const { signer: mgr } = await managerFor(owner.address);
        await attempt(() =>
          rnd() < 0.5 ? registry.connect(mgr).revokeAllFor(owner.address) : registry.connect(owner).revokeAll(),
        );
      } else if (r < 0.3) {
        // May revert ManagerUnchanged (counted as a rejected attempt).
        await attempt(() => registry.connect(owner).setManager(pick(candidates).address, rnd() < 0.7));
      } else if (r < 0.36) {
        await networkHelpers.time.increase(1 + Math.floor(rnd() * 120));
      } else if (r < 0.38) {
        const p = pick(partners);
        if (suspended.has(p.address)) {
          await integrations.connect(admin).reinstateIntegration(p.address);
          suspended.delete(p.address);
        } else {
          await integrations.connect(admin).suspendIntegration(p.address);
          suspended.add(p.address);
        }
      } else if (r < 0.385 && (await registry.grantablePurposes()) & 0x80n) {
        await registry.connect(admin).deprecatePurpose(7);
      } else if (r < 0.47) {
        // Sign a message now, for a relayer to send later (or never).
        const [g, d] = [pick(grantees).address, pick(dataIds)];
        const epoch = await registry.epochOf(owner.address);
        const deadline = BigInt(now + 30 + Math.floor(rnd() * 500));
        const kind = rnd();
        if (kind < 0.55) {
          const m = await signConsent("Grant", owner, domain, {
            owner: owner.address,
            grantee: g,
            dataId: d,
            purposes: BigInt(1 + Math.floor(rnd() * 255)),
            // Sometimes an expiry that will have passed when it is relayed (stored expired).
            expiresAt: rnd() < 0.5 ? NO_EXPIRY : BigInt(now + 5 + Math.floor(rnd() * 200)),
            noticeHash: ethers.id(`signed-${step}`),
            epoch,
            version: await nextVersion(owner.address, g, d),
            deadline,
          });
          pool.push({ kind: "Grant", m });
        } else if (kind < 0.9) {
          const m = await signConsent("Revoke", owner, domain, {
            owner: owner.address,
            grantee: g,
            dataId: d,
            epoch,
            version: await nextVersion(owner.address, g, d),
            deadline,
          });
          pool.push({ kind: "Revoke", m });
        } else {
          const m = await signConsent("RevokeAll", owner, domain, { owner: owner.address, epoch, deadline });
          pool.push({ kind: "RevokeAll", m });
        }
      } else if (r < 0.58 && pool.length > 0) {
        // Relay: one pooled message, or a batch. Stale, replayed and expired ones fail.
        const rr = rnd();
        const rl = registry.connect(relayer);
        if (rr < 0.6) {
          const p = pick(pool);
          const ok = await attempt(() =>
            p.kind === "Grant"
              ? rl.grantBySig(p.m)
              : p.kind === "Revoke"
                ? rl.revokeBySig(p.m)
                : rl.revokeAllBySig(p.m),
          );
          if (ok && p.kind === "Grant") {
            recent.push({ owner: p.m.owner, grantee: p.m.grantee, dataId: p.m.dataId, mask: p.m.purposes });
          }
        } else if (rr < 0.85) {
          const revokes = pool.filter((p) => p.kind === "Revoke").map((p) => p.m as Signed<"Revoke">);
          const batch = Array.from({ length: Math.min(revokes.length, 2 + Math.floor(rnd() * 3)) }, () =>
            pick(revokes),
          );
          // Best effort: never reverts for a bad item (SignedRevokeFailed instead).
          if (batch.length > 0) await rl.revokeBySigBatch(batch);
        } else {
          const grants = pool.filter((p) => p.kind === "Grant").map((p) => p.m as Signed<"Grant">);
          const batch = Array.from({ length: Math.min(grants.length, 1 + Math.floor(rnd() * 2)) }, () => pick(grants));
          if (batch.length > 0) await attempt(() => rl.grantBySigBatch(batch));
        }
        if (pool.length > 40) pool.splice(0, pool.length - 40);
      } else if (r < 0.8) {
        const t = target(isProcessor) ?? {
          owner: owner.address,
          grantee: pick(processors).address,
          dataId: pick(dataIds),
        };
        const proc = processors.find((p) => p.address === t.grantee)!;
        if (
          await attempt(() =>
            registry.connect(proc).recordUse(t.owner, t.dataId, Math.floor(rnd() * 9), ethers.id(`u${step}`)),
          )
        )
          uses++;
      } else {
        // Aim at an owner who granted both a partner and a processor, so some shares can land.
        const toPartner = target((g) => !isProcessor(g));
        const fromProc = toPartner && recent.filter((k) => k.owner === toPartner.owner && isProcessor(k.grantee));
        const t =
          toPartner && fromProc && fromProc.length > 0
            ? { ...pick(fromProc), to: toPartner.grantee, dataId: toPartner.dataId, mask: toPartner.mask }
            : {
                owner: owner.address,
                grantee: pick(processors).address,
                to: pick(partners).address,
                dataId: pick(dataIds),
                mask: 0xffn,
              };
        // Mostly a purpose the partner was granted (it may still be stale, expired or suspended).
        const granted = [0, 1, 2, 3, 4, 5, 6, 7].filter((b) => (t.mask >> BigInt(b)) & 1n);
        const purpose = rnd() < 0.8 && granted.length > 0 ? pick(granted) : Math.floor(rnd() * 8);
        const proc = processors.find((p) => p.address === t.grantee)!;
        if (
          await attempt(() =>
            registry.connect(proc).recordShare(t.owner, t.to, t.dataId, purpose, ethers.id(`s${step}`)),
          )
        )
          shares++;
      }
    }
    // The history must exercise both outcomes, or the comparison below proves little.
    expect(uses, `seed ${SEED}: successful uses`).to.be.greaterThan(5);
    expect(shares, `seed ${SEED}: successful shares`).to.be.greaterThan(1);
    expect(failed, `seed ${SEED}: rejected attempts`).to.be.greaterThan(20);

    const db = openAuditDb(":memory:");
    const synced = await syncEvents({
      db,
      rpc: ethers.provider,
      registry: registryAddress,
      progress: "none",
      initialRange: 7,
    });
    const head = await ethers.provider.getBlockNumber();
    expect(synced.toBlock).to.equal(head);
    const onChain = await ethers.provider.getLogs({
      address: [registryAddress, await integrations.getAddress(), await registry.authority()],
      fromBlock: 0,
      toBlock: head,
    });
    expect(synced.inserted).to.equal(onChain.length);

    // Every path was taken (the stored via column makes this one query).
    const count = (sql: string) => (db.sql.prepare(sql).get() as { n: number }).n;
    for (const [event, via] of [
      ["ConsentGranted", 0],
      ["ConsentGranted", 1],
      ["ConsentGranted", 2],
      ["ConsentRevoked", 0],
      ["ConsentRevoked", 1],
      ["ConsentRevoked", 2],
      ["AllConsentsRevoked", 0],
      ["AllConsentsRevoked", 1],
      ["AllConsentsRevoked", 2],
    ] as const) {
      expect(
        count(`SELECT COUNT(*) AS n FROM events WHERE event_name = '${event}' AND via = ${via}`),
        `seed ${SEED}: ${event} via ${via}`,
      ).to.be.greaterThan(0);
    }
    expect(
      count("SELECT COUNT(*) AS n FROM events WHERE event_name = 'SignedRevokeFailed'"),
      `seed ${SEED}`,
    ).to.be.greaterThan(2);
    expect(count("SELECT COUNT(*) AS n FROM events WHERE event_name = 'ManagerSet'"), `seed ${SEED}`).to.be.greaterThan(
      3,
    );

    const verdict = await verifyHistory(db);
    expect(verdict.violations, `seed ${SEED}`).to.deep.equal([]);
    expect(verdict.warnings, `seed ${SEED}`).to.deep.equal([]);
    expect(verdict.ok).to.equal(true);
    expect(verdict.usesChecked).to.equal(uses);
    expect(verdict.sharesChecked).to.equal(shares);
    expect(verdict.signaturesChecked).to.equal(count("SELECT COUNT(*) AS n FROM events WHERE via = 2"));

    // Sampled comparison at historical blocks (eth_call with blockTag): isAllowed (data id 0
    // included: never true, though an ALL_DATA consent may be live), getConsent of whole keys
    // (purposes, expiry, epoch, version, active), epochs and managers. Expiry must be exercised.
    const deployBlock = onChain.find((l) => l.address === registryAddress)!.blockNumber;
    const queryIds = [...dataIds, ethers.ZeroHash];
    let trues = 0;
    let compared = 0;
    let zeroWithAllData = 0;
    for (let s = 0; s < 45; s++) {
      const block = deployBlock + Math.floor(rnd() * (head - deployBlock + 1));
      const ts = (await ethers.provider.getBlock(block))!.timestamp;
      const state = await stateAt(db, block, { timestamp: ts });
      for (let q = 0; q < 12; q++) {
        const [o, g, d] = [pick(owners).address, pick(grantees).address, pick(queryIds)];
        const purpose = rnd() < 0.05 ? 200 : Math.floor(rnd() * 9);
        const at = `seed ${SEED} block ${block} ${o} ${g} ${d} ${purpose}`;
        const expected = await registry.isAllowed(o, g, d, purpose, { blockTag: block });
        expect(state.isAllowed(o, g, d, purpose), at).to.equal(expected);
        if (d === ethers.ZeroHash && purpose < 8 && state.isAllowed(o, g, ALL_DATA, purpose)) zeroWithAllData++;
        compared++;
        if (expected) trues++;
        if (d !== ethers.ZeroHash) {
          const c = await registry.getConsent(o, g, d, { blockTag: block });
          const mine = state.consent(o, g, d);
          expect([mine.purposes, mine.expiresAt, mine.epoch, mine.version, mine.active], at).to.deep.equal([
            c.purposes,
            c.expiresAt,
            c.epoch,
            c.version,
            c.active,
          ]);
        }
      }
      const o = pick(owners).address;
      expect(state.epochOf(o)).to.equal(await registry.epochOf(o, { blockTag: block }));
      for (const m of candidates) {
        expect(state.isManager(o, m.address), `seed ${SEED} block ${block} manager ${m.address}`).to.equal(
          await registry.isManager(o, m.address, { blockTag: block }),
        );
      }
    }
    expect(compared).to.equal(540);
    expect(trues, "some sampled checks must be true").to.be.greaterThan(10);
    expect(zeroWithAllData, "data id 0 asked while an ALL_DATA consent allowed").to.be.greaterThan(0);

    // Full state at head equals the contract's storage for every key, manager and epoch.
    const final = await stateAt(db);
    expect(final.block).to.equal(head);
    expect(final.timestamp).to.equal((await ethers.provider.getBlock(head))!.timestamp);
    let activeAtHead = 0;
    let versioned = 0;
    for (const o of owners) {
      expect(final.epochOf(o.address)).to.equal(await registry.epochOf(o.address, { blockTag: head }));
      for (const m of candidates) {
        expect(final.isManager(o.address, m.address)).to.equal(await registry.isManager(o.address, m.address));
      }
      for (const g of grantees)
        for (const d of dataIds) {
          const c = await consentOf(registry, o.address, g.address, d);
          const mine = final.consent(o.address, g.address, d);
          expect(
            [mine.purposes, mine.expiresAt, mine.epoch, mine.version, mine.active],
            `${o.address} ${g.address} ${d}`,
          ).to.deep.equal(c);
          if (c[4]) activeAtHead++;
          if (c[3] !== 0n) versioned++;
        }
    }
    expect(activeAtHead, "some consents are live at the head").to.be.greaterThan(0);
    expect(versioned, "many keys were changed").to.be.greaterThan(20);
  });

  it("reports injected uses without consent, a grant by a non-manager and one by a manager ended by a lockdown, with evidence", async () => {
    const { accounts, registry } = await deploySystem(ethers);
    const [owner, processor, stranger, manager] = accounts;
    const data = ethers.id("asset");
    await registry.connect(owner).grant(processor.address, data, 0b101n, NO_EXPIRY, ethers.ZeroHash);
    await registry.connect(owner).grant(processor.address, ALL_DATA, 0b10n, NO_EXPIRY, ethers.ZeroHash);
    await registry.connect(processor).recordUse(owner.address, data, 2, ethers.id("job-1"));
    await registry.connect(owner).setManager(manager.address, true);
    await registry.connect(owner).revokeAll();
    await registry.connect(owner).grant(processor.address, ALL_DATA, 0b10n, NO_EXPIRY, ethers.ZeroHash);
    const db = openAuditDb(":memory:");
    const addr = await registry.getAddress();
    await syncEvents({ db, rpc: ethers.provider, registry: addr, progress: "none" });
    expect((await verifyHistory(db)).violations).to.deep.equal([]);

    const head = (await ethers.provider.getBlock("latest"))!;
    const forge = db.sql.prepare(
      `INSERT INTO events (chain_id, block_number, block_hash, log_index, tx_hash, address, event_name, args_json, block_timestamp)
       VALUES (31337, ?, ?, 0, ?, ?, ?, ?, ?)`,
    );
    const o = owner.address.toLowerCase();
    const p = processor.address.toLowerCase();
    const s = stranger.address.toLowerCase();
    const m = manager.address.toLowerCase();
    const use = (processorAddress: string, dataId: string, purpose: string) => ({
      owner: o,
      processor: processorAddress,
      dataId,
      purpose,
      evidence: ethers.ZeroHash,
    });
    const grantBy = (actor: string) => ({
      owner: o,
      grantee: s,
      dataId: data,
      purposes: "1",
      expiresAt: "0",
      noticeHash: ethers.ZeroHash,
      actor,
      version: "65536", // a change by transaction (sequence 0) of a fresh key: via Manager, as actor ≠ owner
    });
    const forged = [
      ["DataUsed", use(s, data, "2")],
      // Data id 0 never falls back to ALL_DATA, although the processor holds ALL_DATA for purpose 1.
      ["DataUsed", use(p, ethers.ZeroHash, "1")],
      ["ConsentGranted", grantBy(s)],
      ["ConsentGranted", { ...grantBy(m), grantee: p, dataId: ethers.id("other") }],
    ] as const;
    forged.forEach(([name, args], i) =>
      forge.run(
        head.number + 1 + i,
        ethers.ZeroHash,
        ethers.id(`forged-${i}`),
        addr.toLowerCase(),
        name,
        JSON.stringify(args),
        head.timestamp + 1 + i,
      ),
    );

    const verdict = await verifyHistory(db);
    expect(verdict.ok).to.equal(false);
    expect(verdict.violations.map((v) => [v.rule, v.event.txHash])).to.deep.equal([
      ["use-without-consent", ethers.id("forged-0")],
      ["use-without-consent", ethers.id("forged-1")],
      ["actor-not-manager", ethers.id("forged-2")],
      ["actor-not-manager", ethers.id("forged-3")],
    ]);
    const [stray, zero, notManager, endedManager] = verdict.violations;
    expect(stray.event.args).to.deep.equal(forged[0][1]);
    expect(stray.evidence).to.deep.equal({
      timestamp: head.timestamp + 1,
      purpose: 2,
      consent: { grantee: s, ownerEpoch: "1", exact: null, allData: null },
    });
    expect(stray.message).to.equal(
      `${s} recorded a use of ${o}'s data ${data} for purpose 2 at block ${head.number + 1} without live consent`,
    );
    expect(zero.evidence).to.deep.equal({
      timestamp: head.timestamp + 2,
      purpose: 1,
      consent: { grantee: p, ownerEpoch: "1", exact: null, allData: null },
    });
    expect((await stateAt(db, head.number)).isAllowed(o, p, ALL_DATA, 1)).to.equal(true);
    expect(await registry.isAllowed(o, p, ALL_DATA, 1)).to.equal(true);
    expect(await registry.isAllowed(o, p, ethers.ZeroHash, 1)).to.equal(false);
    expect(notManager.evidence).to.deep.equal({
      owner: o,
      actor: s,
      via: "Manager",
      managerAtBlock: false,
      ownerEpoch: "1",
      appointedInEpoch: null,
    });
    // Appointed in epoch 0; the lockdown to epoch 1 ended it.
    expect(endedManager.evidence).to.deep.equal({
      owner: o,
      actor: m,
      via: "Manager",
      managerAtBlock: false,
      ownerEpoch: "1",
      appointedInEpoch: "0",
    });
    expect(endedManager.message).to.equal(
      `ConsentGranted for ${o} was sent by ${m}, which was not a manager of ${o} at block ${head.number + 4}`,
    );
  });

  it("reports a change by transaction that did not start the next generation, and a manager set twice", async () => {
    const { accounts, registry } = await deploySystem(ethers);
    const [owner, processor, manager] = accounts;
    const data = ethers.id("asset");
    await registry.connect(owner).grant(processor.address, data, 0b1n, NO_EXPIRY, ethers.ZeroHash);
    await registry.connect(owner).revoke(processor.address, data); // 65536 → 131072
    await registry.connect(owner).setManager(manager.address, true);
    const db = openAuditDb(":memory:");
    const addr = await registry.getAddress();
    await syncEvents({ db, rpc: ethers.provider, registry: addr, progress: "none" });
    expect((await registry.getConsent(owner.address, processor.address, data)).version).to.equal(131072n);
    const head = (await ethers.provider.getBlock("latest"))!;
    const o = owner.address.toLowerCase();
    const insert = db.sql.prepare(
      `INSERT INTO events (chain_id, block_number, block_hash, log_index, tx_hash, address, event_name, args_json, block_timestamp)
       VALUES (31337, ?, ?, 0, ?, ?, ?, ?, ?)`,
    );
    // A grant that kept the generation of the revocation (a contract that forgot to bump it).
    insert.run(
      head.number + 1,
      ethers.ZeroHash,
      ethers.id("f1"),
      addr.toLowerCase(),
      "ConsentGranted",
      JSON.stringify({
        owner: o,
        grantee: processor.address.toLowerCase(),
        dataId: data,
        purposes: "1",
        expiresAt: "0",
        noticeHash: ethers.ZeroHash,
        actor: o,
        version: "131072",
      }),
      head.timestamp + 1,
    );
    insert.run(
      head.number + 2,
      ethers.ZeroHash,
      ethers.id("f2"),
      addr.toLowerCase(),
      "ManagerSet",
      JSON.stringify({ owner: o, manager: manager.address.toLowerCase(), approved: true }),
      head.timestamp + 2,
    );
    expect((await verifyHistory(db)).violations.map((v) => [v.rule, v.evidence, v.message])).to.deep.equal([
      [
        "version-not-next-generation",
        { previousVersion: "131072", expected: "196608", version: "131072" },
        `ConsentGranted for ${o} → ${processor.address.toLowerCase()} on ${data} by transaction set version 131072; after version 131072 it must be 196608`,
      ],
      [
        "manager-unchanged",
        { owner: o, manager: manager.address.toLowerCase(), approved: true, ownerEpoch: "0" },
        `ManagerSet(${o}, ${manager.address.toLowerCase()}, true) changed nothing (${manager.address.toLowerCase()} already was a manager in epoch 0), which the registry refuses`,
      ],
    ]);
    // A row that is not a registry 2.0 event (no version) is refused naming the field, not misread.
    insert.run(
      head.number + 3,
      ethers.ZeroHash,
      ethers.id("f3"),
      addr.toLowerCase(),
      "ConsentRevoked",
      JSON.stringify({ owner: o, grantee: o, dataId: data, actor: o, via: "0" }),
      head.timestamp + 3,
    );
    expect((await rejection(verifyHistory(db))).message).to.include(
      `ConsentRevoked at block ${head.number + 3} log 0: field version is undefined, not an unsigned integer`,
    );
  });
});
