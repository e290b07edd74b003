import { id, type JsonRpcSigner, ZeroHash } from "ethers";

import { ALL_DATA, NO_EXPIRY } from "../../../src/sdk/constants.js";
import { consentDomain, signConsent } from "../../../src/sdk/eip712.js";
import type { ContractTransactionResponse } from "ethers";
import { DELAY, type System } from "./system.js";
import { rpc } from "./processes.js";

/**
 * A history that makes every contract emit every event the indexer handles: grants by the
 * owner (single and batch), by a manager and by signature (single and batch, one stored already
 * expired), revocations of each kind (a best-effort signed batch with a stale item →
 * SignedRevokeFailed), lockdowns by the owner, a manager and a signature, managers appointed,
 * removed and re-appointed after a lockdown, uses and shares (single and batch), and governance
 * through the AccessManager's delay: an integration registered, updated, suspended and
 * reinstated, a purpose defined and deprecated, and an operation scheduled then cancelled.
 * Deployment adds the role, routing and catalogue events.
 */

const PURPOSES = 0b1111_1111n;
const SHARING = 6;

async function sent(tx: Promise<ContractTransactionResponse>): Promise<void> {
  const r = await (await tx).wait();
  if (r?.status !== 1) throw new Error(`transaction ${r?.hash} failed`);
}

async function chainTime(s: System): Promise<bigint> {
  const b = await s.provider.getBlock("latest");
  return BigInt(b!.timestamp);
}

/** Moves chain time past the execution delay (a block is mined with the new time). */
async function waitDelay(s: System): Promise<void> {
  await rpc(s.node.url, "evm_increaseTime", [Number(DELAY) + 1]);
  await rpc(s.node.url, "evm_mine", []);
}

/** Schedules `data` on `target` through the AccessManager and executes it after the delay. */
async function govern(s: System, target: string, data: string): Promise<void> {
  const gov = s.authority.connect(s.actors.governor);
  await sent(gov.schedule(target, data, 0));
  await waitDelay(s);
  await sent(gov.execute(target, data));
}

async function signGrant(
  s: System,
  owner: JsonRpcSigner,
  grantee: string,
  dataId: string,
  purposes: bigint,
  expiresAt: bigint,
  bump = 1n,
) {
  const key = await s.registry.getConsent(owner.address, grantee, dataId);
  const domain = consentDomain(s.node.chainId, s.addresses.registry);
  return signConsent("Grant", owner, domain, {
    owner: owner.address,
    grantee,
    dataId,
    purposes,
    expiresAt,
    noticeHash: id("notice:signed"),
    epoch: await s.registry.epochOf(owner.address),
    version: key.version + bump,
    deadline: (await chainTime(s)) + 3600n,
  });
}

async function signRevoke(s: System, owner: JsonRpcSigner, grantee: string, dataId: string, bump = 1n) {
  const key = await s.registry.getConsent(owner.address, grantee, dataId);
  return signConsent("Revoke", owner, consentDomain(s.node.chainId, s.addresses.registry), {
    owner: owner.address,
    grantee,
    dataId,
    epoch: await s.registry.epochOf(owner.address),
    version: key.version + bump,
    deadline: (await chainTime(s)) + 3600n,
  });
}

export const DATA = [id("asset:x-rays"), id("asset:notes"), id("asset:voice")];

/** Plays the whole history on `s` (about 60 transactions). */
export async function playHistory(s: System): Promise<void> {
  const { owners, manager, processor, partner, relayer, grantee, partner2, governor } = s.actors;
  const [o1, o2, o3] = owners;
  const reg = (signer: JsonRpcSigner) => s.registry.connect(signer);
  const later = (await chainTime(s)) + 365n * 86_400n;

  // Grants by the owner.
  await sent(reg(o1).grant(processor.address, ALL_DATA, PURPOSES, NO_EXPIRY, id("notice:v1")));
  await sent(reg(o1).grant(partner.address, ALL_DATA, 1n << BigInt(SHARING), later, id("notice:v1")));
  await sent(
    reg(o2).grantBatch([
      { grantee: processor.address, dataId: DATA[0], purposes: 0b101n, expiresAt: NO_EXPIRY, noticeHash: id("n2") },
      { grantee: grantee.address, dataId: DATA[1], purposes: 0b10n, expiresAt: later, noticeHash: id("n2") },
    ]),
  );
  // Managers: appointed, acting, removed.
  await sent(reg(o1).setManager(manager.address, true));
  await sent(reg(o3).setManager(manager.address, true));
  await sent(reg(manager).grantFor(o1.address, grantee.address, DATA[0], 0b11n, NO_EXPIRY, id("notice:mgr")));
  await sent(reg(manager).grantFor(o3.address, processor.address, ALL_DATA, PURPOSES, NO_EXPIRY, id("notice:mgr")));
  // Signed grants, relayed: one alone, two in a batch, one stored already expired.
  await sent(reg(relayer).grantBySig(await signGrant(s, o2, grantee.address, DATA[2], 0b1n, NO_EXPIRY)));
  const past = (await chainTime(s)) - 10n;
  const batch = [
    await signGrant(s, o3, grantee.address, DATA[0], 0b100n, later),
    await signGrant(s, o2, partner.address, ALL_DATA, 1n << BigInt(SHARING), NO_EXPIRY),
  ];
  await sent(reg(relayer).grantBySigBatch(batch));
  await sent(reg(relayer).grantBySig(await signGrant(s, o1, grantee.address, DATA[2], 0b1n, past)));

  // Uses and shares.
  await sent(reg(processor).recordUse(o1.address, DATA[0], 0, id("job:1")));
  await sent(
    reg(processor).recordUseBatch([
      { owner: o1.address, dataId: DATA[1], purpose: 2, evidence: id("job:2") },
      { owner: o2.address, dataId: DATA[0], purpose: 0, evidence: id("job:3") },
      { owner: o3.address, dataId: DATA[2], purpose: 7, evidence: id("job:4") },
    ]),
  );
  await sent(reg(processor).recordShare(o1.address, partner.address, DATA[0], SHARING, id("share:1")));

  // Governance: a second integration registered, updated, suspended, reinstated; a purpose
  // defined and deprecated; an operation scheduled and cancelled by its proposer.
  const ir = s.integrations.interface;
  const integrationsAddr = s.addresses.integrations;
  await govern(
    s,
    integrationsAddr,
    ir.encodeFunctionData("registerIntegration", [partner2.address, id("p2"), 1n << 6n]),
  );
  await govern(
    s,
    integrationsAddr,
    ir.encodeFunctionData("updateIntegration", [partner2.address, id("p2:v2"), 0b1100_0000n]),
  );
  await govern(s, integrationsAddr, ir.encodeFunctionData("suspendIntegration", [partner.address]));
  await govern(s, integrationsAddr, ir.encodeFunctionData("reinstateIntegration", [partner.address]));
  const rr = s.registry.interface;
  await govern(s, s.addresses.registry, rr.encodeFunctionData("definePurpose", [8, id("purpose:8")]));
  await govern(s, s.addresses.registry, rr.encodeFunctionData("deprecatePurpose", [8]));
  const cancelled = ir.encodeFunctionData("suspendIntegration", [partner2.address]);
  await sent(s.authority.connect(governor).schedule(integrationsAddr, cancelled, 0));
  await sent(s.authority.connect(governor).cancel(governor.address, integrationsAddr, cancelled));

  // Shares in a batch after the reinstatement; the new integration receives one too.
  await sent(reg(o1).grant(partner2.address, DATA[1], 1n << BigInt(SHARING), NO_EXPIRY, id("notice:p2")));
  await sent(
    reg(processor).recordShareBatch([
      { owner: o1.address, to: partner.address, dataId: DATA[1], purpose: SHARING, evidence: id("share:2") },
      { owner: o1.address, to: partner2.address, dataId: DATA[1], purpose: SHARING, evidence: id("share:3") },
    ]),
  );

  // Revocations: by the owner (single and batch), by a manager, by signature (single, and a
  // best-effort batch where the second item is stale: SignedRevokeFailed).
  await sent(reg(o2).revoke(processor.address, DATA[0]));
  await sent(
    reg(o1).revokeBatch([
      { grantee: grantee.address, dataId: DATA[0] },
      { grantee: partner.address, dataId: DATA[2] },
    ]),
  );
  await sent(reg(manager).revokeFor(o3.address, grantee.address, DATA[0]));
  await sent(reg(relayer).revokeBySig(await signRevoke(s, o2, grantee.address, DATA[1])));
  const good = await signRevoke(s, o2, grantee.address, DATA[2]);
  const stale = await signRevoke(s, o1, processor.address, ALL_DATA, 0n); // version not above the key's
  await sent(reg(relayer).revokeBySigBatch([good, stale]));

  // Lockdowns: by the owner, by a manager, by signature. Managers end with them.
  await sent(reg(o1).revokeAll());
  await sent(reg(manager).revokeAllFor(o3.address));
  const lockdown = await signConsent("RevokeAll", o2, consentDomain(s.node.chainId, s.addresses.registry), {
    owner: o2.address,
    epoch: await s.registry.epochOf(o2.address),
    deadline: (await chainTime(s)) + 3600n,
  });
  await sent(reg(relayer).revokeAllBySig(lockdown));
  // After the lockdown: the manager re-appointed (a new epoch), a new grant, a removal.
  await sent(reg(o1).setManager(manager.address, true));
  await sent(reg(manager).grantFor(o1.address, processor.address, DATA[1], 0b1n, NO_EXPIRY, id("notice:v2")));
  await sent(reg(o3).setManager(grantee.address, true));
  await sent(reg(o3).setManager(grantee.address, false));
  await sent(reg(processor).recordUse(o1.address, DATA[1], 0, id("job:5")));
}

/**
 * A few more transactions for a fork of the chain: `tag` makes their content (evidence, data)
 * differ between branches, `n` sets how many. Valid in any state `playHistory` leaves.
 */
export async function playBranch(s: System, tag: string, n: number): Promise<void> {
  const { owners, processor } = s.actors;
  const o1 = owners[0];
  for (let i = 0; i < n; i++) {
    const dataId = id(`branch:${tag}:${i}`);
    if (i % 3 === 0) {
      await sent(s.registry.connect(o1).grant(processor.address, dataId, 0b11n, NO_EXPIRY, ZeroHash));
    } else if (i % 3 === 1) {
      await sent(
        s.registry.connect(processor).recordUse(o1.address, id(`branch:${tag}:${i - 1}`), 1, id(`ev:${tag}:${i}`)),
      );
    } else {
      await sent(s.registry.connect(o1).revoke(processor.address, id(`branch:${tag}:${i - 2}`)));
    }
  }
}
