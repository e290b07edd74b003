/**
 * The gas benchmark: measures the consent registry's operations and, in the same run, the
 * Ethereum Attestation Service (EAS 1.9.0, deployed from its shipped artifacts) doing the
 * nearest equivalent, so every number has an anchor. `scripts/bench-gas.ts` prints and saves
 * the result; `test/bench-gas.ts` runs the same function and fails on a missed target.
 *
 * Conditions, chosen to be realistic and reproducible:
 * - the production `ConsentRegistry` is measured, not the test harness (whose settable clock
 *   adds a storage read to every `_time()`);
 * - values look random but are derived from fixed labels (keccak256), so calldata (zero bytes
 *   cost less) and therefore gas are the same on every run;
 * - every grant names 3 purposes and expires one year ahead;
 * - every number is one transaction's `receipt.gasUsed` (after refunds), except the
 *   `isAllowed` / `isValid` rows (gas of the call as another contract pays it, read from
 *   `GasProbe`'s `Measured` event, in a fresh transaction so account and storage are cold)
 *   and the `.perItem` rows ((gas(batch of 20) − gas(batch of 1)) / 19, rounded up).
 */
import { mkdir, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";

import {
  AbiCoder,
  ContractFactory,
  Signature,
  Wallet,
  ZeroAddress,
  ZeroHash,
  keccak256,
  solidityPackedKeccak256,
  toUtf8Bytes,
} from "ethers";
import type { BaseContract, ContractTransactionResponse, InterfaceAbi, TypedDataDomain } from "ethers";
import type { HardhatEthers, HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";

import { ALL_DATA } from "../../src/sdk/constants.js";
import { consentDomain, signConsent } from "../../src/sdk/eip712.js";
import { deployConsentSystem } from "../../src/sdk/deploy.js";
import { Purpose, purposesToMask } from "../../src/sdk/purposes.js";
import type {
  ConsentRegistry,
  GasProbe,
  IConsentRegistry,
  IntegrationRegistry,
} from "../../types/ethers-contracts/index.js";

// ---------------------------------------------------------------------------------------------
// Ids, targets, anchors
// ---------------------------------------------------------------------------------------------

/** The registry's rows, in table order. */
export const REGISTRY_IDS = [
  "registry.grant",
  "registry.grant.batch.perItem",
  "registry.grantBySig",
  "registry.revoke",
  "registry.revokeBySig",
  "registry.revokeBySig.batch.perItem",
  "registry.revokeAll",
  "registry.revokeAll.later",
  "registry.revokeAll.after50",
  "registry.isAllowed.cold.hit",
  "registry.isAllowed.cold",
  "log.use",
  "log.share",
  "log.use.batch.perItem",
] as const;

/** The EAS anchors measured in the same run. */
export const EAS_IDS = [
  "eas.attest",
  "eas.multiAttest.perItem",
  "eas.attestByDelegation",
  "eas.attestByDelegation.firstNonce",
  "eas.revoke",
  "eas.isValid",
] as const;

export type RegistryId = (typeof REGISTRY_IDS)[number];
export type EasId = (typeof EAS_IDS)[number];
export type GasId = RegistryId | EasId;

/** Every id of `reports/gas.json`, exactly. */
export const GAS_IDS: readonly GasId[] = [...REGISTRY_IDS, ...EAS_IDS];

/** `{ "<id>": gasUsed }`: the content of `reports/gas.json`. */
export type GasReport = Record<GasId, number>;

/** A ceiling, or "within `tolerance` gas of another row". */
export type Target = { max: number; info?: { label: string; max: number } } | { near: GasId; tolerance: number };

export const TARGETS: Record<RegistryId, Target> = {
  "registry.grant": { max: 54_000 },
  "registry.grant.batch.perItem": { max: 28_600 },
  "registry.grantBySig": { max: 70_000 },
  "registry.revoke": { max: 31_000 },
  "registry.revokeBySig": { max: 50_000 },
  "registry.revokeBySig.batch.perItem": { max: 22_000 },
  "registry.revokeAll": { max: 46_000 },
  "registry.revokeAll.later": { max: 31_000 },
  "registry.revokeAll.after50": { near: "registry.revokeAll", tolerance: 100 },
  "registry.isAllowed.cold.hit": { max: 9_000 },
  "registry.isAllowed.cold": { max: 11_000 },
  "log.use": { max: 36_000 },
  "log.share": { max: 44_000 },
  "log.use.batch.perItem": { max: 15_000 },
};

/** The EAS row each registry row is compared with. */
export const ANCHORS: Partial<Record<RegistryId, EasId>> = {
  "registry.grant": "eas.attest",
  "registry.grant.batch.perItem": "eas.multiAttest.perItem",
  "registry.grantBySig": "eas.attestByDelegation",
  "registry.revoke": "eas.revoke",
  "registry.isAllowed.cold.hit": "eas.isValid",
};

// ---------------------------------------------------------------------------------------------
// Measuring
// ---------------------------------------------------------------------------------------------

const YEAR = 365n * 24n * 60n * 60n;
const BATCH = 20;
const PURPOSES = purposesToMask([Purpose.MODEL_TRAINING, Purpose.INFERENCE, Purpose.ANALYTICS]);
const USE_PURPOSE = Purpose.MODEL_TRAINING;
/** The consent-shaped EAS schema: what a consent attestation would have to carry. */
export const EAS_SCHEMA = "bytes32 dataId,uint128 purposes,bytes32 noticeHash";

/** A random-looking but fixed 32-byte value. */
function word(label: string): string {
  return keccak256(toUtf8Bytes(`omnitensor-gas-bench:${label}`));
}

/** A fixed wallet (for owners that only sign: a relayer pays their gas). */
function wallet(label: string): Wallet {
  return new Wallet(word(`key:${label}`));
}

async function gasOf(pending: Promise<ContractTransactionResponse>, what: string): Promise<number> {
  const receipt = await (await pending).wait();
  if (receipt === null || receipt.status !== 1) throw new Error(`gas bench: ${what} failed`);
  return Number(receipt.gasUsed);
}

function perItem(batchOfN: number, batchOfOne: number): number {
  return Math.ceil((batchOfN - batchOfOne) / (BATCH - 1));
}

/** Reads `GasProbe.Measured(gasUsed, result)` from a probe transaction. */
async function probed(
  probe: GasProbe,
  pending: Promise<ContractTransactionResponse>,
  what: string,
): Promise<{ gas: number; result: boolean }> {
  const receipt = await (await pending).wait();
  if (receipt === null || receipt.status !== 1) throw new Error(`gas bench: ${what} failed`);
  for (const log of receipt.logs) {
    const parsed = probe.interface.parseLog(log);
    if (parsed?.name === "Measured") return { gas: Number(parsed.args[0]), result: Boolean(parsed.args[1]) };
  }
  throw new Error(`gas bench: ${what} emitted no Measured event`);
}

interface Artifact {
  abi: InterfaceAbi;
  bytecode: string;
}

/** EAS 1.9.0's compiled artifacts, as shipped in its npm package (never recompiled here). */
function easArtifact(name: "EAS" | "SchemaRegistry"): Artifact {
  const require = createRequire(import.meta.url);
  const artifact = require(
    `@ethereum-attestation-service/eas-contracts/artifacts/contracts/${name}.sol/${name}.json`,
  ) as Artifact;
  return { abi: artifact.abi, bytecode: artifact.bytecode };
}

async function now(ethers: HardhatEthers): Promise<bigint> {
  const block = await ethers.provider.getBlock("latest");
  if (block === null) throw new Error("gas bench: no latest block");
  return BigInt(block.timestamp);
}

/**
 * Deploys the registry and EAS on `ethers`' network, performs every benchmarked operation and
 * returns `{ id: gasUsed }` for exactly {@link GAS_IDS}.
 */
export async function runGasBench(ethers: HardhatEthers): Promise<GasReport> {
  const [admin, relayer, processor, ...owners] = await ethers.getSigners();
  const need = 8;
  if (owners.length < need) throw new Error(`gas bench: needs ${need + 3} funded signers, has ${owners.length + 3}`);
  const registryGas = await benchRegistry(ethers, admin, relayer, processor, owners);
  const easGas = await benchEas(ethers, relayer, owners[owners.length - 1]);
  const report = { ...registryGas, ...easGas } as GasReport;
  for (const id of GAS_IDS) {
    if (!Number.isInteger(report[id])) throw new Error(`gas bench: ${id} was not measured`);
  }
  return report;
}

async function benchRegistry(
  ethers: HardhatEthers,
  admin: HardhatEthersSigner,
  relayer: HardhatEthersSigner,
  processor: HardhatEthersSigner,
  owners: HardhatEthersSigner[],
): Promise<Record<RegistryId, number>> {
  const { contracts } = await deployConsentSystem(admin, {
    direct: {},
    deployContract: (name, args) => ethers.deployContract(name, [...args]),
  });
  const integrations = contracts.integrations as unknown as IntegrationRegistry;
  const registry = contracts.registry as unknown as ConsentRegistry;
  const probe = (await ethers.deployContract("GasProbe")) as unknown as GasProbe;
  const registryAddress = await registry.getAddress();
  const domain = consentDomain((await ethers.provider.getNetwork()).chainId, registryAddress);
  const g: Partial<Record<RegistryId, number>> = {};

  const [ownerA, ownerB, ownerC, ownerD, ownerE, ownerF] = owners;
  const grantee = wallet("grantee").address;
  const integration = wallet("integration").address;
  const expiry = async (): Promise<bigint> => (await now(ethers)) + YEAR;
  const grantArgs = async (label: string, to = grantee, dataId = word(`data:${label}`)) =>
    [to, dataId, PURPOSES, await expiry(), word(`notice:${label}`)] as const;

  // Grant and revoke by the owner: fresh consent slot, then clearing it.
  g["registry.grant"] = await gasOf(registry.connect(ownerA).grant(...(await grantArgs("A"))), "grant");
  g["registry.revoke"] = await gasOf(registry.connect(ownerA).revoke(grantee, word("data:A")), "revoke");

  // Marginal cost of one more grant in a batch by one owner (fresh slots, different assets).
  const batchGrants = async (label: string, n: number) => {
    const items: IConsentRegistry.GrantInputStruct[] = [];
    for (let i = 0; i < n; i++) {
      const [to, dataId, purposes, expiresAt, noticeHash] = await grantArgs(`${label}:${i}`);
      items.push({ grantee: to, dataId, purposes, expiresAt, noticeHash });
    }
    return items;
  };
  const grantOne = await gasOf(registry.connect(ownerA).grantBatch(await batchGrants("batch1", 1)), "grantBatch(1)");
  const grantN = await gasOf(registry.connect(ownerA).grantBatch(await batchGrants("batchN", BATCH)), "grantBatch(N)");
  g["registry.grant.batch.perItem"] = perItem(grantN, grantOne);

  // Revoke-all: first (fresh epoch slot), later (slot in use), and after 50 grants (O(1)).
  await gasOf(registry.connect(ownerB).grant(...(await grantArgs("B"))), "grant B");
  g["registry.revokeAll"] = await gasOf(registry.connect(ownerB).revokeAll(), "revokeAll");
  g["registry.revokeAll.later"] = await gasOf(registry.connect(ownerB).revokeAll(), "revokeAll later");
  await gasOf(registry.connect(ownerC).grantBatch(await batchGrants("C", 50)), "50 grants");
  g["registry.revokeAll.after50"] = await gasOf(registry.connect(ownerC).revokeAll(), "revokeAll after 50");

  // Signatures, relayed: an owner without ETH signs, the relayer pays. Each message names the
  // owner's epoch and the consent version it sets (the key's version + 1 in its generation).
  const signer = wallet("sig-owner");
  const signingState = async (owner: string, to: string, dataId: string) => ({
    epoch: await registry.epochOf(owner),
    version: (await registry.getConsent(owner, to, dataId)).version + 1n,
    deadline: (await now(ethers)) + 3600n,
  });
  const signedGrant = async (owner: Wallet, label: string) => {
    const [to, dataId, purposes, expiresAt, noticeHash] = await grantArgs(label);
    const state = await signingState(owner.address, to, dataId);
    const message = { owner: owner.address, grantee: to, dataId, purposes, expiresAt, noticeHash, ...state };
    return signConsent("Grant", owner, domain, message);
  };
  g["registry.grantBySig"] = await gasOf(
    registry.connect(relayer).grantBySig(await signedGrant(signer, "sig2")),
    "grantBySig",
  );
  const signedRevoke = async (owner: Wallet, dataId: string) => {
    const state = await signingState(owner.address, grantee, dataId);
    return signConsent("Revoke", owner, domain, { owner: owner.address, grantee, dataId, ...state });
  };
  g["registry.revokeBySig"] = await gasOf(
    registry.connect(relayer).revokeBySig(await signedRevoke(signer, word("data:sig2"))),
    "revokeBySig",
  );
  // Marginal cost of one more signed revocation in a best-effort batch (different owners).
  const revokeBatch = async (label: string, n: number) => {
    const owners = Array.from({ length: n }, (_, i) => wallet(`${label}:${i}`));
    await gasOf(
      registry
        .connect(relayer)
        .grantBySigBatch(await Promise.all(owners.map((o, i) => signedGrant(o, `${label}:${i}`)))),
      `grants for ${label}`,
    );
    return Promise.all(owners.map((o, i) => signedRevoke(o, word(`data:${label}:${i}`))));
  };
  const revokeOne = await gasOf(
    registry.connect(relayer).revokeBySigBatch(await revokeBatch("rb1", 1)),
    "revokeBySigBatch(1)",
  );
  const revokeN = await gasOf(
    registry.connect(relayer).revokeBySigBatch(await revokeBatch("rbN", BATCH)),
    "revokeBySigBatch(N)",
  );
  g["registry.revokeBySig.batch.perItem"] = perItem(revokeN, revokeOne);

  // isAllowed from another contract, cold: a specific consent (hit), and the worst case where
  // the specific consent is missing and the owner's ALL_DATA consent answers.
  await gasOf(registry.connect(ownerD).grant(...(await grantArgs("D", processor.address))), "grant D");
  const hit = await probed(
    probe,
    probe.measureIsAllowed(registryAddress, ownerD.address, processor.address, word("data:D"), USE_PURPOSE),
    "isAllowed hit",
  );
  await gasOf(registry.connect(ownerE).grant(...(await grantArgs("E", processor.address, ALL_DATA))), "grant E");
  const fallback = await probed(
    probe,
    probe.measureIsAllowed(registryAddress, ownerE.address, processor.address, word("data:E"), USE_PURPOSE),
    "isAllowed fallback",
  );
  if (!hit.result || !fallback.result) throw new Error("gas bench: isAllowed measured a refusal, not an allow");
  g["registry.isAllowed.cold.hit"] = hit.gas;
  g["registry.isAllowed.cold"] = fallback.gas;

  // Enforced records: a use covered by a specific consent; a share where the processor and the
  // receiving integration both hold consent and the integration is active for the purpose.
  g["log.use"] = await gasOf(
    registry.connect(processor).recordUse(ownerD.address, word("data:D"), USE_PURPOSE, word("evidence:use")),
    "recordUse",
  );
  await gasOf(
    integrations.connect(admin).registerIntegration(integration, word("integration-meta"), PURPOSES),
    "registerIntegration",
  );
  await gasOf(registry.connect(ownerF).grant(...(await grantArgs("F", processor.address))), "grant F processor");
  await gasOf(
    registry.connect(ownerF).grant(...(await grantArgs("F-int", integration, word("data:F")))),
    "grant F integration",
  );
  g["log.share"] = await gasOf(
    registry
      .connect(processor)
      .recordShare(ownerF.address, integration, word("data:F"), USE_PURPOSE, word("evidence:share")),
    "recordShare",
  );

  // Batched use records over 21 different owners (each signed a grant; one relayed batch sets them up).
  const batchOwners = Array.from({ length: BATCH + 1 }, (_, i) => wallet(`use-owner:${i}`));
  const setup = await Promise.all(batchOwners.map((o, i) => signedGrantTo(o, i)));
  async function signedGrantTo(owner: Wallet, i: number) {
    const deadline = (await now(ethers)) + 3600n;
    const message = {
      owner: owner.address,
      grantee: processor.address,
      dataId: word(`data:use-owner:${i}`),
      purposes: PURPOSES,
      expiresAt: (await now(ethers)) + YEAR,
      noticeHash: word(`notice:use-owner:${i}`),
      epoch: 0n,
      version: 1n,
      deadline,
    };
    return signConsent("Grant", owner, domain, message);
  }
  await gasOf(registry.connect(relayer).grantBySigBatch(setup), "grantBySigBatch setup");
  const useRecord = (i: number): IConsentRegistry.UseRecordStruct => ({
    owner: batchOwners[i].address,
    dataId: word(`data:use-owner:${i}`),
    purpose: USE_PURPOSE,
    evidence: word(`evidence:batch:${i}`),
  });
  const useOne = await gasOf(registry.connect(processor).recordUseBatch([useRecord(0)]), "recordUseBatch(1)");
  const useN = await gasOf(
    registry.connect(processor).recordUseBatch(Array.from({ length: BATCH }, (_, i) => useRecord(i + 1))),
    "recordUseBatch(N)",
  );
  g["log.use.batch.perItem"] = perItem(useN, useOne);

  return g as Record<RegistryId, number>;
}

/** EAS's `Attest` EIP-712 type (its ATTEST_TYPEHASH). */
const EAS_ATTEST_TYPES = {
  Attest: [
    { name: "attester", type: "address" },
    { name: "schema", type: "bytes32" },
    { name: "recipient", type: "address" },
    { name: "expirationTime", type: "uint64" },
    { name: "revocable", type: "bool" },
    { name: "refUID", type: "bytes32" },
    { name: "data", type: "bytes" },
    { name: "value", type: "uint256" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint64" },
  ],
};

async function benchEas(
  ethers: HardhatEthers,
  relayer: HardhatEthersSigner,
  attester: HardhatEthersSigner,
): Promise<Record<EasId, number>> {
  const schemaArtifact = easArtifact("SchemaRegistry");
  const easArtifactJson = easArtifact("EAS");
  const schemaRegistry: BaseContract = await new ContractFactory(
    schemaArtifact.abi,
    schemaArtifact.bytecode,
    relayer,
  ).deploy();
  await schemaRegistry.waitForDeployment();
  const eas: BaseContract = await new ContractFactory(easArtifactJson.abi, easArtifactJson.bytecode, relayer).deploy(
    await schemaRegistry.getAddress(),
  );
  await eas.waitForDeployment();
  const easAddress = await eas.getAddress();
  const probe = (await ethers.deployContract("GasProbe")) as unknown as GasProbe;
  const g: Partial<Record<EasId, number>> = {};

  await gasOf(schemaRegistry.getFunction("register")(EAS_SCHEMA, ZeroAddress, true), "EAS register schema");
  // EAS's schema uid: keccak256(abi.encodePacked(schema, resolver, revocable)).
  const schema = solidityPackedKeccak256(["string", "address", "bool"], [EAS_SCHEMA, ZeroAddress, true]);
  const coder = AbiCoder.defaultAbiCoder();
  const requestData = async (label: string) => ({
    recipient: wallet("grantee").address,
    expirationTime: (await now(ethers)) + YEAR,
    revocable: true,
    refUID: ZeroHash,
    data: coder.encode(
      ["bytes32", "uint128", "bytes32"],
      [word(`eas-data:${label}`), PURPOSES, word(`eas-notice:${label}`)],
    ),
    value: 0n,
  });

  // attest (the attester pays), then revoke it.
  const attestTx = (await eas.connect(attester).getFunction("attest")({
    schema,
    data: await requestData("one"),
  })) as ContractTransactionResponse;
  g["eas.attest"] = await gasOf(Promise.resolve(attestTx), "EAS attest");
  const attestReceipt = await ethers.provider.getTransactionReceipt(attestTx.hash);
  const attested = attestReceipt?.logs
    .map((log) => eas.interface.parseLog(log))
    .find((parsed) => parsed?.name === "Attested");
  if (attested === undefined || attested === null) throw new Error("gas bench: EAS attest emitted no Attested");
  const uid = String(attested.args.uid);

  // The consumer-side check, cold, from another contract. `isAttestationValid(uid)` only says
  // that the uid exists (it ignores revocation and expiry), so a consumer must read the whole
  // record with `getAttestation(uid)` and check revocationTime and expirationTime itself.
  const isValid = await probed(
    probe,
    probe.measureStaticCall(easAddress, eas.interface.encodeFunctionData("getAttestation", [uid])),
    "EAS getAttestation",
  );
  g["eas.isValid"] = isValid.gas;

  g["eas.revoke"] = await gasOf(
    eas.connect(attester).getFunction("revoke")({ schema, data: { uid, value: 0n } }),
    "EAS revoke",
  );

  // multiAttest: marginal cost of one more attestation in one request.
  const multi = async (label: string, n: number) => {
    const data = [];
    for (let i = 0; i < n; i++) data.push(await requestData(`${label}:${i}`));
    return gasOf(eas.connect(attester).getFunction("multiAttest")([{ schema, data }]), `EAS multiAttest(${n})`);
  };
  const multiOne = await multi("multi1", 1);
  const multiN = await multi("multiN", BATCH);
  g["eas.multiAttest.perItem"] = perItem(multiN, multiOne);

  // attestByDelegation: EAS nonces are ordered per attester, so the first delegation writes a
  // fresh nonce slot and later ones update it.
  const domainTuple = (await eas.getFunction("eip712Domain")()) as unknown as [string, string, string, bigint, string];
  const domain: TypedDataDomain = {
    name: domainTuple[1],
    version: domainTuple[2],
    chainId: domainTuple[3],
    verifyingContract: domainTuple[4],
  };
  const delegator = wallet("eas-delegator");
  const delegated = async (label: string) => {
    const data = await requestData(label);
    const nonce = (await eas.getFunction("getNonce")(delegator.address)) as bigint;
    const deadline = (await now(ethers)) + 3600n;
    const message = { attester: delegator.address, schema, ...data, nonce, deadline };
    const sig = Signature.from(await delegator.signTypedData(domain, EAS_ATTEST_TYPES, message));
    return { schema, data, signature: { v: sig.v, r: sig.r, s: sig.s }, attester: delegator.address, deadline };
  };
  g["eas.attestByDelegation.firstNonce"] = await gasOf(
    eas.connect(relayer).getFunction("attestByDelegation")(await delegated("del1")),
    "EAS attestByDelegation first",
  );
  g["eas.attestByDelegation"] = await gasOf(
    eas.connect(relayer).getFunction("attestByDelegation")(await delegated("del2")),
    "EAS attestByDelegation",
  );

  return g as Record<EasId, number>;
}

// ---------------------------------------------------------------------------------------------
// Checking and printing
// ---------------------------------------------------------------------------------------------

export interface RowResult {
  id: RegistryId;
  gas: number;
  /** e.g. "≤ 56,000 (core ≤ 54,000)" */
  target: string;
  /** e.g. "eas.attest 272,000", or "" */
  anchor: string;
  ok: boolean;
  /** why the row failed, naming the numbers; "" when ok */
  problem: string;
}

const fmt = (n: number): string => n.toLocaleString("en-US");

/** Checks every registry row of `report` against {@link TARGETS}. */
export function evaluate(report: GasReport): RowResult[] {
  return REGISTRY_IDS.map((id) => {
    const target = TARGETS[id];
    const gas = report[id];
    let text: string;
    let ok: boolean;
    let problem = "";
    if ("max" in target) {
      text = `≤ ${fmt(target.max)}`;
      ok = gas <= target.max;
      if (target.info !== undefined) {
        const infoOk = gas <= target.info.max;
        text += ` (${target.info.label} ≤ ${fmt(target.info.max)}: ${infoOk ? "met" : "missed"})`;
      }
      if (!ok) problem = `${id} used ${fmt(gas)} gas, above its target ${fmt(target.max)}`;
    } else {
      const diff = Math.abs(gas - report[target.near]);
      text = `${target.near} ± ${target.tolerance} (Δ ${diff})`;
      ok = diff <= target.tolerance;
      if (!ok) problem = `${id} used ${fmt(gas)} gas, ${diff} from ${target.near} (allowed ${target.tolerance})`;
    }
    const anchorId = ANCHORS[id];
    const anchor = anchorId === undefined ? "" : `${anchorId} ${fmt(report[anchorId])}`;
    return { id, gas, target: text, anchor, ok, problem };
  });
}

/** The markdown table printed by `npm run bench:gas`. */
export function formatTable(rows: readonly RowResult[]): string {
  const lines = ["| id | gas | target | anchor (EAS 1.9.0) | ok |", "|---|---:|---|---|---|"];
  for (const r of rows) {
    lines.push(`| ${r.id} | ${fmt(r.gas)} | ${r.target} | ${r.anchor || "—"} | ${r.ok ? "yes" : "**NO**"} |`);
  }
  return lines.join("\n");
}

/** Writes `report` as a flat `{ "<id>": gasUsed }` JSON object in {@link GAS_IDS} order. */
export async function writeGasReport(report: GasReport, file: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const ordered = Object.fromEntries(GAS_IDS.map((id) => [id, report[id]]));
  await writeFile(file, `${JSON.stringify(ordered, null, 2)}\n`);
}
