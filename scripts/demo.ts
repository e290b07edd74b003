/**
 * `npm run demo` — the main job on the embedded default: Hardhat's in-process chain and SQLite.
 *
 * Deploys the whole system with Ignition, then plays a realistic scenario for 20 data owners,
 * 5 AI processors and 3 third-party integrations: grants by transaction and by relayed EIP-712
 * signature (owners without gas), enforced uses and shares, shares refused for lack of consent,
 * revocations, a lockdown, a signed revoke, two signed grants relayed in the wrong order (the
 * owner's latest word still wins), and an integration suspended through the governance delay. It prints who may use what and what was refused, then syncs the events into
 * SQLite, re-verifies every use and share with the independent auditor, and writes an HTML report.
 */
import { mkdirSync, rmSync } from "node:fs";
import path from "node:path";

import { Wallet, id as hashText } from "ethers";
import type { Signer } from "ethers";
import { network } from "hardhat";

import ConsentSystem from "../ignition/modules/ConsentSystem.js";
import { keyReleaseScenario } from "./lib/key-release-demo.js";
import { openAuditDb, syncEvents, verifyHistory, writeReport } from "../src/audit/index.js";
import { releasesByOwner } from "../src/custodian/verify-releases.js";
import { folderDocumentSource, writeDocumentToFolder } from "../src/documents/folder-source.js";
import { emptyLabelBook, labelEntry, type LabelBook, withEntry } from "../src/labels/label-book.js";
import {
  ALL_DATA,
  ConsentRegistryClient,
  ConsentSdkError,
  GovernanceClient,
  IntegrationRegistryClient,
  NO_EXPIRY,
  type PurposeName,
  Purpose,
  PURPOSES,
  type Signed,
  purposeName,
} from "../src/sdk/index.js";

const started = performance.now();
const DAY = 24n * 60n * 60n;
const EXECUTION_DELAY = 1n * DAY;
const OUT_DIR = "reports";

const { ethers, ignition, networkHelpers, provider } = await network.create();
const [admin, relayer, ...signers] = await ethers.getSigners();
const processors = signers.slice(0, 5);
const integrationAccounts = signers.slice(5, 8);
const PROCESSOR_NAMES = ["trainer-A", "trainer-B", "inference-node", "validator", "analytics"];
const INTEGRATION_NAMES = ["research-lab", "model-market", "ad-partner"];
const label = new Map<string, string>();
processors.forEach((p, i) => label.set(p.address.toLowerCase(), PROCESSOR_NAMES[i]));
integrationAccounts.forEach((p, i) => label.set(p.address.toLowerCase(), INTEGRATION_NAMES[i]));
label.set(relayer.address.toLowerCase(), "relayer");

function who(address: string): string {
  return label.get(address.toLowerCase()) ?? `${address.slice(0, 8)}…`;
}
/** A chain time (unix seconds) as people read it: the UTC date and minute. */
function when(unixSeconds: bigint | number): string {
  const d = new Date(Number(unixSeconds) * 1000);
  return `${d.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

function say(line = ""): void {
  console.log(line);
}
/** `== title ====` within 78 columns: a long title is wrapped at a word, and the rule fills the last line. */
function section(title: string): void {
  const lines: string[] = [];
  let line = "==";
  for (const word of title.split(" ")) {
    if (line.length + 1 + word.length > 76 && line !== "==") {
      lines.push(line);
      line = "  ";
    }
    line += ` ${word}`;
  }
  lines.push(`${line} ${"=".repeat(Math.max(2, 77 - line.length))}`);
  say(`\n${lines.join("\n")}`);
}
/** Each owner's label book (it stays on their machine; the report of owner-01 reads its labels). */
const labelBooks = new Map<number, LabelBook>();
/** A salted commitment to a data asset (the label book's recipe, fresh salt): nothing personal goes on-chain. */
function assetId(owner: number, name: string): string {
  const entry = labelEntry(name);
  labelBooks.set(owner, withEntry(labelBooks.get(owner) ?? emptyLabelBook(), entry));
  return entry.dataId;
}
/** Runs a write that must be refused and prints the decoded reason. */
async function refused(what: string, action: () => Promise<unknown>): Promise<string> {
  try {
    await action();
  } catch (err) {
    const raw = err instanceof ConsentSdkError ? err.message : String(err);
    const reason = raw
      .replace(/0x[0-9a-fA-F]{40}\b/g, (a) => who(a))
      .replace(/0x[0-9a-fA-F]{64}\b/g, (h) => `${h.slice(0, 10)}…`);
    say(`  REFUSED  ${what}\n           ${reason}`);
    refusals.push({ what, reason });
    return reason;
  }
  throw new Error(`demo invariant broken: "${what}" was not refused`);
}
const refusals: { what: string; reason: string }[] = [];

// ---------------------------------------------------------------------------------------------
section("1. Deploy (Ignition, in-process chain)");
const { manager, integrationRegistry, consentRegistry } = await ignition.deploy(ConsentSystem, {
  parameters: { ConsentSystem: { executionDelay: EXECUTION_DELAY } },
  displayUi: false,
});
const registryAddress = await consentRegistry.getAddress();
const integrationsAddress = await integrationRegistry.getAddress();
const managerAddress = await manager.getAddress();
const as = (signer: Signer) => ConsentRegistryClient.connect(registryAddress, signer);
const registry = await as(relayer);
say(`  ConsentRegistry      ${registryAddress}  version ${await registry.contract.version()}`);
say(`  IntegrationRegistry  ${integrationsAddress}`);
say(`  AccessManager        ${managerAddress}  (governance delay ${EXECUTION_DELAY / 3600n} h)`);

// ---------------------------------------------------------------------------------------------
section("2. Governance registers 3 integrations (scheduled, visible for a day, then executed)");
const gov = await GovernanceClient.connect(managerAddress, admin, {
  consentRegistry: registryAddress,
  integrationRegistry: integrationsAddress,
});
const integrationPurposes: PurposeName[][] = [
  ["RESEARCH", "MODEL_TRAINING"],
  ["MODEL_TRAINING", "FINE_TUNING", "INFERENCE"],
  ["ANALYTICS"],
];
// Each integration commits on-chain to its integration document (docs/DOCUMENTS.md); reports
// show the document's name and contact, checked against that hash.
const DOCUMENTS_DIR = path.join(OUT_DIR, "documents");
const integrationRequests = await Promise.all(
  integrationAccounts.map(async (acct, i) => ({
    integration: acct.address,
    metadataHash: await writeDocumentToFolder(DOCUMENTS_DIR, {
      format: "omni-consent/integration-document@1",
      integration: acct.address,
      displayName: INTEGRATION_NAMES[i],
      legalEntity: `${INTEGRATION_NAMES[i]} Ltd`,
      country: "IE",
      privacyPolicy: `https://${INTEGRATION_NAMES[i]}.example/privacy`,
      contact: { email: `privacy@${INTEGRATION_NAMES[i]}.example` },
      purposes: integrationPurposes[i].map((name) => ({
        id: Purpose[name],
        name,
        dpv: `https://w3id.org/dpv#${PURPOSES.find((p) => p.name === name)!.dpv.replace("dpv:", "")}`,
      })),
      retention: { period: "P30D", description: "30 days after the job ends" },
    }),
    purposes: integrationPurposes[i],
  })),
);
for (const req of integrationRequests) {
  const { result } = await gov.propose(gov.calls.registerIntegration(req)).wait();
  say(`  scheduled register ${who(req.integration)} (${req.purposes.join(", ")}), ready at ${when(result.readyAt)}`);
}
await networkHelpers.time.increase(EXECUTION_DELAY);
for (const req of integrationRequests) await gov.execute(gov.calls.registerIntegration(req)).wait();
const integrationsClient = await IntegrationRegistryClient.connect(integrationsAddress, relayer);
say(`  executed after the delay: ${(await integrationsClient.list()).length} integrations active`);

// ---------------------------------------------------------------------------------------------
section("3. 20 data owners consent (10 by transaction, 10 gasless by signature)");
const owners = Array.from({ length: 20 }, () => Wallet.createRandom(ethers.provider));
owners.forEach((o, i) => label.set(o.address.toLowerCase(), `owner-${String(i + 1).padStart(2, "0")}`));
const assets = owners.map((_, i) => ({ photos: assetId(i, "photos"), health: assetId(i, "wearable") }));
const now = BigInt((await ethers.provider.getBlock("latest"))!.timestamp);
const notice = hashText("OmniTensor consent notice v1 (privacy policy 2025-01)");

for (let i = 0; i < 10; i++) await networkHelpers.setBalance(owners[i].address, 10n ** 18n);
let grantsByTx = 0;
for (let i = 0; i < 10; i++) {
  const client = await as(owners[i]);
  await client
    .grantBatch([
      // the inference node may run inference on everything, no expiry
      {
        grantee: processors[2].address,
        dataId: ALL_DATA,
        purposes: ["INFERENCE"],
        expiresAt: NO_EXPIRY,
        noticeHash: notice,
      },
      // the research lab (integration) may receive the photos for research
      {
        grantee: integrationAccounts[0].address,
        dataId: assets[i].photos,
        purposes: ["RESEARCH", "MODEL_TRAINING"],
        noticeHash: notice,
      },
      // trainer-A may train on the photos, and pass them on for research, for 90 days
      {
        grantee: processors[0].address,
        dataId: assets[i].photos,
        purposes: ["MODEL_TRAINING", "RESEARCH"],
        expiresAt: now + 90n * DAY,
        noticeHash: notice,
      },
    ])
    .wait();
  grantsByTx += 3;
}
say(`  owners 01-10: ${grantsByTx} grants in 10 transactions (grantBatch)`);

const signed: Signed<"Grant">[] = [];
for (let i = 10; i < 20; i++) {
  const client = await as(owners[i]);
  signed.push(
    await client.signGrant(owners[i], {
      grantee: processors[1].address,
      dataId: assets[i].health,
      purposes: ["MODEL_TRAINING", "FINE_TUNING"],
      expiresAt: now + 30n * DAY,
      noticeHash: notice,
    }),
    await client.signGrant(owners[i], {
      grantee: processors[3].address,
      dataId: ALL_DATA,
      purposes: ["EVALUATION"],
      noticeHash: notice,
    }),
  );
}
const relayed = await registry.relayGrantBatch(signed).wait();
say(`  owners 11-20: ${relayed.result.count} signed grants relayed by ${who(relayer.address)} in ONE transaction`);
say(
  `               (the owners hold no ETH: balance of owner-11 = ${await ethers.provider.getBalance(owners[10].address)})`,
);

// ---------------------------------------------------------------------------------------------
section("4. Processors record uses and shares — checked against consent on-chain");
const trainerA = await as(processors[0]);
const trainerB = await as(processors[1]);
const inference = await as(processors[2]);
const validator = await as(processors[3]);
const analytics = await as(processors[4]);
const job = (name: string) => hashText(`job:${name}`);

const uses = await trainerA
  .recordUseBatch(
    owners.slice(0, 10).map((o, i) => ({
      owner: o.address,
      dataId: assets[i].photos,
      purpose: "MODEL_TRAINING",
      evidence: job("train-vision-v1"),
    })),
  )
  .wait();
say(`  trainer-A      trained on 10 owners' photos          (${uses.result.count} DataUsed, batch)`);
const inferenceUses = await inference
  .recordUseBatch(
    owners
      .slice(0, 10)
      .map((o, i) => ({ owner: o.address, dataId: assets[i].health, purpose: "INFERENCE", evidence: job("infer-1") })),
  )
  .wait();
say(
  `  inference-node ran inference on 10 owners' wearable data via their ALL_DATA consent (${inferenceUses.result.count} uses)`,
);
await trainerB
  .recordUseBatch(
    owners.slice(10).map((o, j) => ({
      owner: o.address,
      dataId: assets[10 + j].health,
      purpose: "FINE_TUNING",
      evidence: job("ft-health-v2"),
    })),
  )
  .wait();
await validator
  .recordUse({ owner: owners[15].address, dataId: assets[15].health, purpose: "EVALUATION", evidence: job("eval-7") })
  .wait();
say(`  trainer-B      fine-tuned on 10 gasless owners' data; validator evaluated owner-16's data`);
const shares = await trainerA
  .recordShareBatch(
    owners.slice(0, 5).map((o, i) => ({
      owner: o.address,
      to: integrationAccounts[0].address,
      dataId: assets[i].photos,
      purpose: "RESEARCH",
      evidence: job("share-lab"),
    })),
  )
  .wait();
say(`  trainer-A      shared 5 owners' photos with research-lab for RESEARCH (${shares.result.count} DataShared)`);

await refused("analytics uses owner-01's photos for ANALYTICS (no consent)", () =>
  analytics.recordUse({ owner: owners[0].address, dataId: assets[0].photos, purpose: "ANALYTICS" }).wait(),
);
await refused("trainer-A shares owner-01's photos with model-market (the market holds no consent)", () =>
  trainerA
    .recordShare({
      owner: owners[0].address,
      to: integrationAccounts[1].address,
      dataId: assets[0].photos,
      purpose: "MODEL_TRAINING",
    })
    .wait(),
);
await refused("trainer-B shares owner-11's data with ad-partner (trainer-B lacks ANALYTICS consent)", () =>
  trainerB
    .recordShare({
      owner: owners[10].address,
      to: integrationAccounts[2].address,
      dataId: assets[10].health,
      purpose: "ANALYTICS",
    })
    .wait(),
);

// ---------------------------------------------------------------------------------------------
section("5. Owners withdraw: revoke, lockdown, a gasless signed revoke; the latest word wins");
await (await as(owners[2])).revoke({ grantee: processors[0].address, dataId: assets[2].photos }).wait();
say(`  owner-03 revoked trainer-A's consent for their photos`);
const ra = await (await as(owners[4])).lockdown().wait();
say(
  `  owner-05 locked down in O(1) (epoch → ${ra.result.newEpoch}): every consent, every signature made before and every manager ended`,
);
const signedRevoke = await (
  await as(owners[12])
).signRevoke(owners[12], { grantee: processors[1].address, dataId: assets[12].health });
await registry.relayRevoke(signedRevoke).wait();
say(
  `  owner-13 signed a revoke offline (version ${signedRevoke.version}); ${who(relayer.address)} relayed it (withdrawal as easy as giving)`,
);
const owner14 = await as(owners[13]);
const broad = await owner14.signGrant(owners[13], {
  grantee: processors[4].address,
  dataId: assets[13].health,
  purposes: ["ANALYTICS", "PRODUCT_IMPROVEMENT"],
  noticeHash: notice,
});
const narrow = await owner14.signGrant(owners[13], {
  grantee: processors[4].address,
  dataId: assets[13].health,
  purposes: ["ANALYTICS"],
  noticeHash: notice,
});
await registry.relayGrant(narrow).wait();
say(
  `  owner-14 signed a broad grant (version ${broad.version}), then a narrower one (version ${narrow.version}); the relayer sends the narrow one first…`,
);
await refused("…then the older, broader grant (the owner's later word holds)", () => registry.relayGrant(broad).wait());
await refused("trainer-A trains on owner-03's photos after the revoke", () =>
  trainerA.recordUse({ owner: owners[2].address, dataId: assets[2].photos, purpose: "MODEL_TRAINING" }).wait(),
);
await refused("inference-node uses owner-05's data after the lockdown", () =>
  inference.recordUse({ owner: owners[4].address, dataId: assets[4].health, purpose: "INFERENCE" }).wait(),
);

// ---------------------------------------------------------------------------------------------
section("6. Governance suspends research-lab — announced, effective only after the delay");
const proposal = await gov.propose(gov.calls.suspendIntegration(integrationAccounts[0].address)).wait();
say(`  scheduled: suspend research-lab, ready at ${when(proposal.result.readyAt)}`);
await trainerA
  .recordShare({
    owner: owners[5].address,
    to: integrationAccounts[0].address,
    dataId: assets[5].photos,
    purpose: "RESEARCH",
    evidence: job("share-lab"),
  })
  .wait();
say(`  during the delay shares still flow (owner-06 → research-lab recorded); everyone can see the change coming`);
await networkHelpers.time.increase(EXECUTION_DELAY);
await gov.execute(gov.calls.suspendIntegration(integrationAccounts[0].address)).wait();
say(`  executed: research-lab is ${(await integrationsClient.getIntegration(integrationAccounts[0].address)).status}`);
await refused("trainer-A shares owner-07's photos with the suspended research-lab", () =>
  trainerA
    .recordShare({
      owner: owners[6].address,
      to: integrationAccounts[0].address,
      dataId: assets[6].photos,
      purpose: "RESEARCH",
    })
    .wait(),
);
const kept = await registry.getConsent(owners[6].address, integrationAccounts[0].address, assets[6].photos);
say(`  suspension touched no consent: owner-07 → research-lab consent still active = ${kept.active}`);

// ---------------------------------------------------------------------------------------------
section("7. Who may use what now (from events, confirmed against current state)");
const rows: string[] = [];
for (const grantee of [...processors, ...integrationAccounts]) {
  const consents = await registry.consentsGrantedTo(grantee.address);
  const byPurpose = new Map<string, number>();
  for (const c of consents)
    for (const p of c.purposes) byPurpose.set(purposeName(p), (byPurpose.get(purposeName(p)) ?? 0) + 1);
  const owners = new Set(consents.map((c) => c.owner)).size;
  const purposes = [...byPurpose].map(([p, n]) => `${p}×${n}`).join(", ") || "—";
  rows.push(`  ${who(grantee.address).padEnd(15)} ${String(owners).padStart(2)} owners  ${purposes}`);
}
say(rows.join("\n"));
const o1 = await registry.activeConsentsOf(owners[0].address);
say(
  `  e.g. owner-01 has ${o1.length} active consents: ${o1.map((c) => `${who(c.grantee)}:${c.purposes.map(purposeName).join("+")}${c.expiresAt ? " until " + new Date(Number(c.expiresAt) * 1000).toISOString().slice(0, 10) : ""}`).join("; ")}`,
);
say(`  refused: ${refusals.length} attempts (each reverted on-chain with a named custom error)`);

// ---------------------------------------------------------------------------------------------
section("8. Sealed data: the key opens only while consent holds, after a use record");
const keyOwner = owners[0];
// trainer-B: it holds no ALL_DATA consent of owner-01 (inference-node does, which a specific
// revocation would not end — see SECURITY.md, "ALL_DATA and specific consents").
const keyProcessor = processors[1];
const keyDemo = await keyReleaseScenario({
  provider,
  chainId: registry.chainId,
  registry: registryAddress,
  owner: keyOwner,
  processor: keyProcessor,
  purpose: Purpose.MODEL_TRAINING,
  purposeName: "MODEL_TRAINING",
  grant: async (dataId) => {
    await (await as(keyOwner)).grant({ grantee: keyProcessor.address, dataId, purposes: ["MODEL_TRAINING"] }).wait();
  },
  recordUse: async (dataId) => {
    const { receipt } = await (
      await as(keyProcessor)
    )
      .recordUse({ owner: keyOwner.address, dataId, purpose: "MODEL_TRAINING", evidence: hashText("job:asr-training") })
      .wait();
    return receipt.hash;
  },
  revoke: async (dataId) => {
    await (await as(keyOwner)).revoke({ grantee: keyProcessor.address, dataId }).wait();
  },
  mine: (blocks) => networkHelpers.mine(blocks),
  name: who,
});
for (const line of keyDemo.lines) say(line);

// ---------------------------------------------------------------------------------------------
section("9. Audit: sync events into SQLite, verify independently, write the report");
mkdirSync(OUT_DIR, { recursive: true });
const dbPath = path.join(OUT_DIR, "demo-audit.db");
for (const suffix of ["", "-wal", "-shm"]) rmSync(dbPath + suffix, { force: true });
const db = openAuditDb(dbPath);
const synced = await syncEvents({ db, rpc: ethers.provider, registry: registryAddress, progress: "none" });
const verdict = await verifyHistory(db);
say(`  synced ${synced.inserted} events into ${dbPath}`);
say(
  `  verify: ${verdict.usesChecked} uses and ${verdict.sharesChecked} shares re-checked by the independent rule engine → ${verdict.violations.length} violations`,
);
const html = path.join(OUT_DIR, "demo-report.html");
const documents = folderDocumentSource(DOCUMENTS_DIR);
await writeReport(db, { kind: "ropa", format: "html", out: html, documents, accounts: label });
const ownerHtml = path.join(OUT_DIR, "demo-owner-01.html");
await writeReport(db, {
  kind: "owner",
  format: "html",
  out: ownerHtml,
  subject: owners[0].address,
  documents,
  accounts: label,
  labels: labelBooks.get(0),
  releases: releasesByOwner(keyDemo.releases).get(owners[0].address) ?? [],
});
db.close();
say(`  wrote ${html} (record of processing) and ${ownerHtml} (owner-01's subject access report)`);
if (!verdict.ok) throw new Error(`audit found ${verdict.violations.length} violations`);

// `npm run demo` (scripts/demo-start.mjs) passes when it started, so the total includes compiling.
const since = Number(process.env.OMNI_DEMO_STARTED_MS ?? "");
const scenario = ((performance.now() - started) / 1000).toFixed(1);
say(
  Number.isFinite(since) && since > 0
    ? `\nDone in ${((Date.now() - since) / 1000).toFixed(1)} s (the scenario ${scenario} s, the rest compiling and starting). Open ${html} in a browser.`
    : `\nDone in ${scenario} s. Open ${html} in a browser.`,
);
