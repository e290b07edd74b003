import { expect } from "chai";
import { network } from "hardhat";

import { openAuditDb, stateAt, syncEvents, verifyHistory } from "../../src/audit/index.js";
import { ALL_DATA, NO_EXPIRY, Via } from "../../src/sdk/constants.js";
import { deploySystem } from "../helpers/fixture.js";

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

describe("audit: differential check of the verifier against the contract", function () {
  this.timeout(120_000);

  it("random history: sync + verify pass, and allowed-at-block equals isAllowed via eth_call at that block", async () => {
    const rnd = mulberry32(SEED);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
    const { admin, accounts, registry, integrations } = await deploySystem(ethers);
    const registryAddress = await registry.getAddress();
    const owners = accounts.slice(0, 4);
    const processors = accounts.slice(4, 7);
    const partners = accounts.slice(7, 9); // registered as integrations
    const grantees = [...processors, ...partners];
    const dataIds = [ethers.id("asset-a"), ethers.id("asset-b"), ethers.id("asset-c"), ALL_DATA];
    for (const p of partners)
      await integrations.connect(admin).registerIntegration(p.address, ethers.id(p.address), 0xffn);
    const managerOf = new Map<string, (typeof accounts)[number]>();
    const suspended = new Set<string>();
    // Recent successful grants, so use/share attempts often target a key that may be live.
    const recent: { owner: string; grantee: string; dataId: string; mask: bigint }[] = [];
    const target = (granteeFilter: (g: string) => boolean) => {
      const hits = recent.filter((k) => granteeFilter(k.grantee));
      if (hits.length === 0 || rnd() < 0.3) return null;
      const k = pick(hits);
      return { ...k, dataId: k.dataId === ALL_DATA && rnd() < 0.7 ? pick(dataIds.slice(0, 3)) : k.dataId };
    };
    const isProcessor = (g: string) => processors.some((p) => p.address === g);
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

    for (let step = 0; step < 300; step++) {
      const r = rnd();
      const owner = pick(owners);
      if (r < 0.3) {
        const grantee = pick(grantees);
        const mask = BigInt(1 + Math.floor(rnd() * 255));
        const now = await networkHelpers.time.latest();
        const expiresAt = rnd() < 0.5 ? NO_EXPIRY : BigInt(now + 2 + Math.floor(rnd() * 300));
        const mgr = managerOf.get(owner.address);
        const viaManager = mgr !== undefined && rnd() < 0.5;
        const dataId = pick(dataIds);
        const ok = await attempt(() =>
          viaManager
            ? registry.connect(mgr).grantFor(owner.address, grantee.address, dataId, mask, expiresAt, ethers.ZeroHash)
            : registry.connect(owner).grant(grantee.address, dataId, mask, expiresAt, ethers.id(`notice-${step}`)),
        );
        if (ok) recent.push({ owner: owner.address, grantee: grantee.address, dataId, mask });
      } else if (r < 0.32) {
        await attempt(() => registry.connect(owner).revoke(pick(grantees).address, pick(dataIds)));
      } else if (r < 0.35) {
        const mgr = managerOf.get(owner.address);
        await attempt(() =>
          mgr && rnd() < 0.5 ? registry.connect(mgr).revokeAllFor(owner.address) : registry.connect(owner).revokeAll(),
        );
      } else if (r < 0.4) {
        const candidate = pick(accounts.slice(9, 12));
        const approve = rnd() < 0.7;
        await registry.connect(owner).setManager(candidate.address, approve);
        if (approve) managerOf.set(owner.address, candidate);
        else if (managerOf.get(owner.address)?.address === candidate.address) managerOf.delete(owner.address);
      } else if (r < 0.47) {
        await networkHelpers.time.increase(1 + Math.floor(rnd() * 120));
      } else if (r < 0.5) {
        const p = pick(partners);
        if (suspended.has(p.address)) {
          await integrations.connect(admin).reinstateIntegration(p.address);
          suspended.delete(p.address);
        } else {
          await integrations.connect(admin).suspendIntegration(p.address);
          suspended.add(p.address);
        }
      } else if (r < 0.51 && (await registry.grantablePurposes()) & 0x80n) {
        await registry.connect(admin).deprecatePurpose(7);
      } else if (r < 0.78) {
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

    const verdict = verifyHistory(db);
    expect(verdict.violations, `seed ${SEED}`).to.deep.equal([]);
    expect(verdict.ok).to.equal(true);
    expect(verdict.usesChecked).to.equal(uses);
    expect(verdict.sharesChecked).to.equal(shares);

    // Sampled comparison at historical blocks (eth_call with blockTag). Expiry must be exercised.
    const deployBlock = onChain.find((l) => l.address === registryAddress)!.blockNumber;
    let trues = 0;
    let compared = 0;
    for (let s = 0; s < 45; s++) {
      const block = deployBlock + Math.floor(rnd() * (head - deployBlock + 1));
      const ts = (await ethers.provider.getBlock(block))!.timestamp;
      const state = stateAt(db, block, { timestamp: ts });
      for (let q = 0; q < 12; q++) {
        const [o, g, d] = [pick(owners).address, pick(grantees).address, pick(dataIds)];
        const purpose = rnd() < 0.05 ? 200 : Math.floor(rnd() * 9);
        const expected = await registry.isAllowed(o, g, d, purpose, { blockTag: block });
        expect(state.isAllowed(o, g, d, purpose), `seed ${SEED} block ${block} ${o} ${g} ${d} ${purpose}`).to.equal(
          expected,
        );
        compared++;
        if (expected) trues++;
      }
    }
    expect(compared).to.equal(540);
    expect(trues, "some sampled checks must be true").to.be.greaterThan(10);

    // Full state at head equals the contract's storage for every key.
    const final = stateAt(db);
    expect(final.block).to.equal(head);
    expect(final.timestamp).to.equal((await ethers.provider.getBlock(head))!.timestamp);
    let activeAtHead = 0;
    for (const o of owners) {
      expect(final.model.epochOf(o.address.toLowerCase())).to.equal(
        Number(await registry.epochOf(o.address, { blockTag: head })),
      );
      for (const g of grantees)
        for (const d of dataIds) {
          const c = await registry.getConsent(o.address, g.address, d, { blockTag: head });
          const mine = final
            .consents()
            .find(
              (x) => x.owner === o.address.toLowerCase() && x.grantee === g.address.toLowerCase() && x.dataId === d,
            );
          expect(mine ? BigInt(mine.purposes.reduce((m, p) => m | (1 << p), 0)) : 0n).to.equal(c.purposes);
          expect(mine?.active ?? false).to.equal(c.active);
          if (c.active) activeAtHead++;
        }
    }
    expect(activeAtHead, "some consents are live at the head").to.be.greaterThan(0);
  });

  it("reports an injected use without consent, and a grant by a non-manager, with evidence", async () => {
    const { accounts, registry } = await deploySystem(ethers);
    const [owner, processor, stranger] = accounts;
    const data = ethers.id("asset");
    await registry.connect(owner).grant(processor.address, data, 0b101n, NO_EXPIRY, ethers.ZeroHash);
    await registry.connect(processor).recordUse(owner.address, data, 2, ethers.id("job-1"));
    const db = openAuditDb(":memory:");
    await syncEvents({ db, rpc: ethers.provider, registry: await registry.getAddress(), progress: "none" });
    expect(verifyHistory(db).violations).to.deep.equal([]);

    const head = await ethers.provider.getBlock("latest");
    const forge = db.prepare(
      `INSERT INTO events (chain_id, block_number, block_hash, log_index, tx_hash, address, event_name, args_json, block_timestamp)
       VALUES (31337, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const o = owner.address.toLowerCase();
    const forgedUse = {
      owner: o,
      processor: stranger.address.toLowerCase(),
      dataId: data,
      purpose: "2",
      evidence: ethers.ZeroHash,
    };
    forge.run(
      head!.number + 1,
      ethers.ZeroHash,
      0,
      "0x" + "ab".repeat(32),
      await registry.getAddress(),
      "DataUsed",
      JSON.stringify(forgedUse),
      head!.timestamp + 1,
    );
    const forgedGrant = {
      owner: o,
      grantee: stranger.address.toLowerCase(),
      dataId: data,
      purposes: "1",
      expiresAt: "0",
      noticeHash: ethers.ZeroHash,
      actor: stranger.address.toLowerCase(),
      via: String(Via.Manager),
    };
    forge.run(
      head!.number + 2,
      ethers.ZeroHash,
      0,
      "0x" + "cd".repeat(32),
      await registry.getAddress(),
      "ConsentGranted",
      JSON.stringify(forgedGrant),
      head!.timestamp + 2,
    );

    const verdict = verifyHistory(db);
    expect(verdict.ok).to.equal(false);
    expect(verdict.violations.map((v) => v.rule)).to.deep.equal(["use-without-consent", "actor-not-manager"]);
    const [use, grant] = verdict.violations;
    expect(use.event.blockNumber).to.equal(head!.number + 1);
    expect(use.event.txHash).to.equal("0x" + "ab".repeat(32));
    expect(use.event.args).to.deep.equal(forgedUse);
    expect(use.evidence).to.deep.equal({
      timestamp: head!.timestamp + 1,
      purpose: 2,
      consent: { grantee: stranger.address.toLowerCase(), ownerEpoch: 0, exact: null, allData: null },
    });
    expect(use.message).to.equal(
      `${stranger.address.toLowerCase()} recorded a use of ${o}'s data ${data} for purpose 2 at block ${head!.number + 1} without live consent`,
    );
    expect(grant.evidence).to.deep.equal({
      owner: o,
      actor: stranger.address.toLowerCase(),
      via: "Manager",
      managerAtBlock: false,
    });
  });
});
