import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

import { keccak256, toUtf8Bytes } from "ethers";

/**
 * A JSON-RPC chain model in this process, for the audit of release logs (verifyReleases): blocks
 * 0..head with the hashes and timestamps the model gives, `isAllowed(owner, grantee, …)` of the
 * registry answered by `allowed(grantee, block)`, receipts by hash, no code anywhere. Counts the
 * HTTP requests and records every call.
 */

export interface ChainModel {
  head: number;
  tsOf(n: number): number;
  hashOf?(n: number): string;
  registry: string;
  allowed(grantee: string, block: number): boolean;
  receipts?: Map<string, unknown>;
}

export interface FakeChain {
  url: string;
  requests: number;
  calls: { method: string; params: unknown[] }[];
  close(): Promise<void>;
}

export const blockHashOf = (n: number): string => keccak256(toUtf8Bytes(`block ${n}`));
const word = (v: bigint) => `0x${v.toString(16).padStart(64, "0")}`;

export async function serveChain(model: ChainModel): Promise<FakeChain> {
  const hashOf = model.hashOf ?? blockHashOf;
  const answer = (c: { method: string; params: unknown[] }): unknown => {
    switch (c.method) {
      case "eth_chainId":
        return "0x7a69";
      case "eth_blockNumber":
        return `0x${model.head.toString(16)}`;
      case "eth_getBlockByNumber": {
        const n = c.params[0] === "latest" ? model.head : Number(c.params[0]);
        if (n > model.head) return null;
        return { number: `0x${n.toString(16)}`, hash: hashOf(n), timestamp: `0x${model.tsOf(n).toString(16)}` };
      }
      case "eth_getCode":
        return "0x";
      case "eth_call": {
        const { to, data } = c.params[0] as { to: string; data: string };
        if (to.toLowerCase() !== model.registry.toLowerCase()) return "0x";
        const grantee = `0x${data.slice(10 + 64 + 24, 10 + 128)}`.toLowerCase();
        return word(model.allowed(grantee, Number(c.params[1])) ? 1n : 0n);
      }
      case "eth_getTransactionReceipt":
        return model.receipts?.get(c.params[0] as string) ?? null;
      default:
        throw new Error(`no method ${c.method}`);
    }
  };
  const chain: FakeChain = {
    url: "",
    requests: 0,
    calls: [],
    close: () => new Promise((r) => server.close(() => r())),
  };
  const server = createServer((req, res) => {
    let text = "";
    req.on("data", (d: Buffer) => (text += d.toString()));
    req.on("end", () => {
      chain.requests++;
      const body = JSON.parse(text) as
        { id: number; method: string; params: unknown[] } | { id: number; method: string; params: unknown[] }[];
      const calls = Array.isArray(body) ? body : [body];
      const out = calls.map((c) => {
        chain.calls.push({ method: c.method, params: c.params });
        try {
          return { jsonrpc: "2.0", id: c.id, result: answer(c) };
        } catch (e) {
          return { jsonrpc: "2.0", id: c.id, error: { code: -32601, message: (e as Error).message } };
        }
      });
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(Array.isArray(body) ? out : out[0]));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  chain.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return chain;
}
