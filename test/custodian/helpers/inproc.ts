/**
 * Custodians in this process (the Custodian class on its own store and RPC client, no HTTP
 * unless a test builds the server), and a fake JSON-RPC node in this process: for tests that
 * need to control the node (its delay, its answers) or count its calls.
 */
import { createServer } from "node:http";
import type { Server } from "node:http";
import { join } from "node:path";

import { Interface, getAddress } from "ethers";

import { ChainReader } from "../../../src/custodian/chain.js";
import { Custodian } from "../../../src/custodian/custodian.js";
import { createKeystore, loadKeystore } from "../../../src/custodian/keystore.js";
import { RpcClient } from "../../../src/custodian/rpc.js";
import { CustodianStore } from "../../../src/custodian/store.js";
import { manifestToJson } from "../../../src/keys/manifest.js";
import type { SignedManifest } from "../../../src/keys/manifest.js";
import { fromBytes, sealBytes } from "../../../src/keys/seal.js";
import type { ReleasePolicy } from "../../../src/keys/manifest.js";
import type { Signer } from "ethers";
import { CONSENT_REGISTRY_ABI } from "../../../src/sdk/abi.js";

export const PASS = "in-process custodian passphrase";

export interface InProc {
  custodian: Custodian;
  store: CustodianStore;
  rpc: RpcClient;
  close(): void;
}

let n = 0;
export async function inProcCustodian(
  dir: string,
  rpcUrl: string,
  chainId: bigint,
  registry: string,
  minConfirmations = 0,
  maxRequestTtl = 600,
  rpcTimeoutMs = 5_000,
): Promise<InProc> {
  const name = `c${n++}`;
  const keyPath = join(dir, `${name}.key.json`);
  await createKeystore(keyPath, PASS);
  const keys = await loadKeystore(keyPath, PASS);
  const store = new CustodianStore(join(dir, `${name}.db`));
  const rpc = new RpcClient(rpcUrl, rpcTimeoutMs);
  const custodian = new Custodian(
    { chainId, registry: getAddress(registry), minConfirmations, maxRequestTtl },
    keys,
    store,
    new ChainReader(rpc, chainId, getAddress(registry)),
  );
  return {
    custodian,
    store,
    rpc,
    close: () => {
      store.close();
      rpc.close();
    },
  };
}

export async function sealAndRegister(
  owner: Signer,
  chainId: bigint,
  registry: string,
  cs: InProc[],
  policy: Partial<ReleasePolicy>,
  previous?: SignedManifest,
  urls?: string[],
  threshold = 2,
): Promise<{ m: SignedManifest; ciphertext: Buffer; envelopes: { enc: string; ct: string }[] }> {
  const parts: Uint8Array[] = [];
  const sealed = await sealBytes(
    {
      chainId,
      registry,
      owner,
      custodians: cs.map((c, i) => ({ url: urls?.[i] ?? `http://c${i}.invalid`, publicKey: c.custodian.publicKey })),
      threshold,
      chunkSize: 256,
      policy,
      ...(previous ? { previous } : {}),
    },
    fromBytes(new TextEncoder().encode("secret medical data ".repeat(10))),
    (b) => void parts.push(b.slice()),
  );
  for (let i = 0; i < cs.length; i++) {
    await cs[i].custodian.register({
      manifest: JSON.parse(manifestToJson(sealed.manifest)) as unknown,
      index: i,
      envelope: sealed.envelopes[i],
    });
  }
  return { m: sealed.manifest, ciphertext: Buffer.concat(parts), envelopes: sealed.envelopes };
}

/**
 * A fake JSON-RPC node, in this process: head 0x10 (hash 0xabab…), isAllowed `allowed` (true) at
 * every block, a DataUsed receipt of `dataUsed`; a configurable delay; every call recorded.
 */
export interface FakeNode {
  url: string;
  server: Server;
  delayMs: number;
  calls: { method: string; params: unknown[] }[];
  dataUsed?: { owner: string; requester: string; dataId: string; purpose: number };
  /** What isAllowed answers (at every block). */
  allowed: boolean;
  close(): Promise<void>;
}

export const FAKE_HEAD = 0x10;
export const FAKE_HEAD_HASH = `0x${"ab".repeat(32)}`;

const registryIface = new Interface(CONSENT_REGISTRY_ABI);
const word = (v: bigint) => `0x${v.toString(16).padStart(64, "0")}`;

export async function fakeNode(registry: string): Promise<FakeNode> {
  const node: FakeNode = {
    url: "",
    server: undefined as unknown as Server,
    delayMs: 0,
    calls: [],
    allowed: true,
    close: () => new Promise((r) => node.server.close(() => r())),
  };
  const answer = (c: { method: string; params: unknown[] }) => {
    switch (c.method) {
      case "eth_chainId":
        return { result: "0x7a69" };
      case "eth_blockNumber":
        return { result: "0x10" };
      case "eth_getBlockByNumber":
        return { result: { number: "0x10", hash: `0x${"ab".repeat(32)}` } };
      case "eth_call":
        return { result: word(node.allowed ? 1n : 0n) };
      case "eth_getTransactionReceipt": {
        const d = node.dataUsed!;
        const log = registryIface.encodeEventLog("DataUsed", [d.owner, d.requester, d.dataId, d.purpose, word(7n)]);
        return {
          result: {
            status: "0x1",
            blockNumber: "0x08",
            logs: [{ address: registry, topics: log.topics, data: log.data }],
          },
        };
      }
      default:
        return { error: { code: -32601, message: `no method ${c.method}` } };
    }
  };
  node.server = createServer((req, res) => {
    let text = "";
    req.on("data", (d: Buffer) => (text += d.toString()));
    req.on("end", () => {
      const body = JSON.parse(text) as
        { id: number; method: string; params: unknown[] } | { id: number; method: string; params: unknown[] }[];
      const calls = Array.isArray(body) ? body : [body];
      for (const c of calls) node.calls.push({ method: c.method, params: c.params });
      const replies = calls.map((c) => ({ jsonrpc: "2.0", id: c.id, ...answer(c) }));
      setTimeout(() => {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify(Array.isArray(body) ? replies : replies[0]));
      }, node.delayMs);
    });
  });
  await new Promise<void>((r) => node.server.listen(0, "127.0.0.1", () => r()));
  const a = node.server.address();
  node.url = `http://127.0.0.1:${typeof a === "object" && a ? a.port : 0}`;
  return node;
}
