import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

import { id, JsonRpcProvider, type JsonRpcSigner } from "ethers";

import { documentFileName, documentHash } from "../../src/documents/canonical.js";
import { dpvIri } from "../../src/documents/initial-purposes.js";
import { emptyLabelBook, labelEntry, serializeLabelBook, withEntry } from "../../src/labels/label-book.js";
import { ConsentRegistryClient } from "../../src/sdk/client.js";
import { ALL_DATA } from "../../src/sdk/constants.js";
import { deployConsentSystem } from "../../src/sdk/deploy.js";
import { GovernanceClient } from "../../src/sdk/governance-client.js";
import { PURPOSES } from "../../src/sdk/purposes.js";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** A child process on 127.0.0.1, stopped by its pid. */
export interface Proc {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  process.kill(child.pid!, "SIGTERM");
  const timer = setTimeout(() => child.exitCode === null && process.kill(child.pid!, "SIGKILL"), 5_000);
  await exited;
  clearTimeout(timer);
}

/** Spawns `args` and waits for a line matching `ready` (its first group is the URL). */
export async function spawnServer(name: string, args: string[], ready: RegExp, env: Record<string, string> = {}) {
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...env },
  });
  let log = "";
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start in 60 s:\n${log}`)), 60_000);
    const onData = (d: Buffer) => {
      log = (log + d.toString()).slice(-6000);
      const m = ready.exec(log);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code}):\n${log}`));
    });
  });
  return { url, pid: child.pid!, stop: () => stopChild(child), child } satisfies Proc & { child: ChildProcess };
}

/** The dashboard as `npm run dashboard` serves it (already built), its own process. */
export function startDashboard(flags: string[]) {
  return spawnServer(
    "dashboard",
    ["--import", "tsx", join(ROOT, "scripts", "dashboard.ts"), "--no-build", "--port", "0", ...flags],
    /dashboard: (http:\/\/127\.0\.0\.1:\d+\/)/,
  );
}

/**
 * The test wallet, injected into the page before any script: an EIP-1193 provider announced by
 * EIP-6963 that forwards JSON-RPC to `url` (the node signs: its accounts are unlocked) and that
 * the test steers through `window.__testWallet`: reject the next signature, report another
 * chain, hold a send until released, point at another URL.
 */
export function testWalletScript(cfg: { url: string; account: string; chainId: string }) {
  return `(() => {
  const state = { url: ${JSON.stringify(cfg.url)}, account: ${JSON.stringify(cfg.account)}, chainId: ${JSON.stringify(cfg.chainId)}, reject: false, hold: false,
    release: null, held: false, listeners: {}, calls: [] };
  const emit = (ev, v) => (state.listeners[ev] || []).forEach((f) => f(v));
  async function rpc(method, params) {
    // The transport runs outside the page (window.__walletTransport, bound by the test), as a
    // wallet extension's background does: no CORS, and a dead node is a failed request.
    const text = await window.__walletTransport(state.url, JSON.stringify({ jsonrpc: "2.0", id: Date.now(), method, params }));
    const j = JSON.parse(text);
    if (j.error) { const e = new Error(j.error.message); e.code = j.error.code; e.data = j.error.data; throw e; }
    return j.result;
  }
  const provider = {
    async request({ method, params = [] }) {
      state.calls.push(method);
      switch (method) {
        case "eth_requestAccounts": case "eth_accounts": return [state.account];
        case "eth_chainId": return state.chainId;
        case "net_version": return String(parseInt(state.chainId, 16));
        case "wallet_switchEthereumChain":
          state.chainId = params[0].chainId; emit("chainChanged", state.chainId); return null;
        case "eth_sendTransaction": case "eth_signTypedData_v4": case "personal_sign": {
          if (state.reject) { state.reject = false; const e = new Error("User rejected the request."); e.code = 4001; throw e; }
          if (state.hold) { state.held = true; await new Promise((r) => (state.release = r)); state.hold = false; state.held = false; }
          return rpc(method, params);
        }
        default: return rpc(method, params);
      }
    },
    on(ev, f) { (state.listeners[ev] = state.listeners[ev] || []).push(f); },
    removeListener(ev, f) { state.listeners[ev] = (state.listeners[ev] || []).filter((x) => x !== f); },
  };
  state.emit = emit;
  window.__testWallet = state;
  const info = { uuid: "5b0c8c8e-2f7e-4c55-9d5e-0d1c7e6b3a11", name: "Test Wallet", rdns: "dev.omnitensor.testwallet",
    icon: "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E%3Crect width='16' height='16' fill='%230b57d0'/%3E%3C/svg%3E" };
  const announce = () => window.dispatchEvent(new CustomEvent("eip6963:announceProvider", { detail: Object.freeze({ info, provider }) }));
  window.addEventListener("eip6963:requestProvider", announce);
  announce();
})();`;
}

/** The owner's label book: three labels with fixed salts (so the data ids are known here). */
const ENTRIES = ["holiday photos", "chat messages", "health records"].map((l) => labelEntry(l, id(`salt:${l}`)));
export const LABEL_BOOK = serializeLabelBook(ENTRIES.reduce(withEntry, emptyLabelBook()));
export const [D1, D2, D3] = ENTRIES.map((e) => e.dataId) as [string, string, string];

export interface Seeded {
  registry: string;
  integrations: string;
  authority: string;
  owner: string;
  acme: string;
  beta: string;
  processor: string;
  manager: string;
  bigOwner: string;
  documents: string;
  signer: (i: number) => Promise<JsonRpcSigner>;
  provider: JsonRpcProvider;
}

function integrationDoc(address: string, displayName: string, ids: number[]) {
  return {
    format: "omni-consent/integration-document@1",
    integration: address,
    displayName,
    legalEntity: `${displayName} Ltd`,
    country: "DE",
    privacyPolicy: "https://example.org/privacy",
    contact: { email: "privacy@example.org" },
    purposes: ids.map((i) => ({ id: i, name: PURPOSES[i]!.name, dpv: dpvIri(PURPOSES[i]!.dpv) })),
    retention: { period: "P30D" },
  };
}

/**
 * The governed system (deployConsentSystem, 60 s delay) with two named integrations (their
 * documents written to `docsDir`), and owner #1's history: consents to both integrations and an
 * ALL_DATA consent to a processor, a manager, a use and a share, and a suspension of one
 * integration scheduled on the AccessManager (a governance change coming).
 */
export async function seed(nodeUrl: string, docsDir: string): Promise<Seeded> {
  const provider = new JsonRpcProvider(nodeUrl, undefined, { staticNetwork: true, cacheTimeout: -1 });
  const signer = (i: number) => provider.getSigner(i);
  const [admin, owner, acme, beta, manager, processor, bigOwner] = await Promise.all(
    [0, 1, 2, 3, 4, 5, 6].map(async (i) => (await signer(i)).address),
  );
  mkdirSync(docsDir, { recursive: true });
  const docs = [integrationDoc(acme!, "Acme Research", [0, 2]), integrationDoc(beta!, "Beta Labs", [1, 2, 4])];
  for (const d of docs) writeFileSync(join(docsDir, documentFileName(documentHash(d))), JSON.stringify(d, null, 2));
  const sys = await deployConsentSystem(await signer(0), {
    executionDelay: 60n,
    integrations: [
      { address: acme!, metadataHash: documentHash(docs[0]), purposes: [0, 2] },
      { address: beta!, metadataHash: documentHash(docs[1]), purposes: [1, 2, 4] },
    ],
  });
  void admin;
  const as = (i: number) => signer(i).then((s) => ConsentRegistryClient.connect(sys.ConsentRegistry, s));
  const o = await as(1);
  const now = BigInt((await provider.getBlock("latest"))!.timestamp);
  await o.grant({ grantee: beta!, dataId: D1, purposes: ["INFERENCE"] }).wait();
  await o.grant({ grantee: beta!, dataId: D2, purposes: ["FINE_TUNING"], expiresAt: now + 60n * 86_400n }).wait();
  await o.grant({ grantee: processor!, dataId: ALL_DATA, purposes: ["INFERENCE", "ANALYTICS"] }).wait();
  await o.setManager(manager!, true).wait();
  const p = await as(5);
  await p.recordUse({ owner: owner!, dataId: D1, purpose: "ANALYTICS", evidence: id("job-1") }).wait();
  await p.recordShare({ owner: owner!, to: beta!, dataId: D1, purpose: "INFERENCE", evidence: id("share-1") }).wait();
  const gov = await GovernanceClient.connect(sys.AccessManager, await signer(0), {
    consentRegistry: sys.ConsentRegistry,
    integrationRegistry: sys.IntegrationRegistry,
  });
  await gov.propose(gov.calls.suspendIntegration(beta!)).wait();
  return {
    registry: sys.ConsentRegistry,
    integrations: sys.IntegrationRegistry,
    authority: sys.AccessManager,
    owner: owner!,
    acme: acme!,
    beta: beta!,
    processor: processor!,
    manager: manager!,
    bigOwner: bigOwner!,
    documents: docsDir,
    signer,
    provider,
  };
}

/** `n` consents of `owner` (node account `index`), in grant batches of 200, to `n / 10` grantees. */
export async function manyConsents(s: Seeded, index: number, n: number): Promise<void> {
  const c = ConsentRegistryClient.connect(s.registry, await s.signer(index));
  const client = await c;
  const reqs = Array.from({ length: n }, (_, i) => ({
    grantee: `0x${(0x1000 + Math.floor(i / 10)).toString(16).padStart(40, "0")}`,
    dataId: id(`bulk-${i}`),
    purposes: [i % 8, (i + 3) % 8],
    expiresAt: 0n,
  }));
  for (let i = 0; i < reqs.length; i += 200) await client.grantBatch(reqs.slice(i, i + 200)).wait();
}
