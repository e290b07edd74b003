import { createServer } from "node:http";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";

import { Interface } from "ethers";

import { CONSENT_REGISTRY_ABI } from "../../../src/sdk/abi.js";

/**
 * A JSON-RPC node that answers the custodian's consent batch with canned values, in a way chosen
 * by argv[2] (its own process on 127.0.0.1; prints its port). Head 0x10; isAllowed true at every
 * block but, with `--unconfirmed`, false below the head; the receipt holds the DataUsed record of
 * argv[3..6] (owner, requester, dataId, purpose). Modes of answering a batch:
 * - `ok`: in order; `reversed`: in reverse order (ids still right);
 * - `error-receipt`: the receipt call answers a JSON-RPC error; `missing-call`: the answer to the
 *   confirmed-depth eth_call is left out; `not-array`: one object for the whole batch;
 * - `foreign-ids`: every id shifted by 1000 (answers to some other request);
 * - `error-foreign-receipt`: the receipt of transaction 0x3333… answers a JSON-RPC error (the
 *   batches of concurrent requests travel together: only the request naming it must fail);
 * - `drop`: every request whose batch holds more than 5 calls loses its connection.
 * `test_requests` answers how many HTTP requests it has served and the calls of each (that one
 * excluded).
 */

const [mode, owner, requester, dataId, purpose, ...flags] = process.argv.slice(2);
const unconfirmed = flags.includes("--unconfirmed");
const HEAD = 0x10;
const REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
const registry = new Interface(CONSENT_REGISTRY_ABI);
const word = (v: bigint) => `0x${v.toString(16).padStart(64, "0")}`;

interface Call {
  id: number;
  method: string;
  params: unknown[];
}

function answer(c: Call): { result?: unknown; error?: { code: number; message: string } } {
  switch (c.method) {
    case "eth_chainId":
      return { result: "0x7a69" };
    case "eth_blockNumber":
      return { result: `0x${HEAD.toString(16)}` };
    case "eth_getBlockByNumber":
      return { result: { number: `0x${HEAD.toString(16)}`, hash: `0x${"ab".repeat(32)}` } };
    case "eth_call": {
      const block = Number(c.params[1]);
      return { result: word(unconfirmed && block < HEAD ? 0n : 1n) };
    }
    case "eth_getTransactionReceipt": {
      const log = registry.encodeEventLog("DataUsed", [owner, requester, dataId, Number(purpose), word(7n)]);
      return {
        result: {
          status: "0x1",
          blockNumber: `0x${(HEAD - 5).toString(16)}`,
          logs: [{ address: REGISTRY, topics: log.topics, data: log.data }],
        },
      };
    }
    default:
      return { error: { code: -32601, message: `no method ${c.method}` } };
  }
}

// Mocha loads every file under test/, this one too: serve only when run as its own process
// (a server started on import kept the test run from ever exiting).
if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const served = { requests: 0, sizes: [] as number[] };
  const server = createServer((req, res) => {
    let text = "";
    req.on("data", (d: Buffer) => (text += d.toString()));
    req.on("end", () => {
      const body = JSON.parse(text) as Call | Call[];
      const calls = Array.isArray(body) ? body : [body];
      if (calls.length === 1 && calls[0].method === "test_requests") {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify([{ jsonrpc: "2.0", id: calls[0].id, result: served }]));
        return;
      }
      served.requests++;
      served.sizes.push(calls.length);
      if (mode === "drop" && calls.length > 5) {
        req.socket.destroy();
        return;
      }
      let replies = calls.map((c) => ({ jsonrpc: "2.0", id: c.id, ...answer(c) }));
      if (mode === "error-foreign-receipt") {
        replies = replies.map((r, i) =>
          calls[i].method === "eth_getTransactionReceipt" && calls[i].params[0] === `0x${"33".repeat(32)}`
            ? { jsonrpc: "2.0", id: r.id, error: { code: -32000, message: "header not found" } }
            : r,
        );
      }
      if (calls.length > 1) {
        if (mode === "reversed") replies = replies.reverse();
        if (mode === "error-receipt") {
          replies = replies.map((r, i) =>
            calls[i].method === "eth_getTransactionReceipt"
              ? { jsonrpc: "2.0", id: r.id, error: { code: -32000, message: "header not found" } }
              : r,
          );
        }
        if (mode === "missing-call") replies = replies.filter((_, i) => i !== 2);
        if (mode === "foreign-ids") replies = replies.map((r) => ({ ...r, id: r.id + 1000 }));
      }
      const out = Array.isArray(body) && !(mode === "not-array" && calls.length > 1) ? replies : replies[0];
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(out));
    });
  });
  server.listen(0, "127.0.0.1", () => {
    const a = server.address();
    process.stdout.write(`${typeof a === "object" && a !== null ? a.port : 0}\n`);
  });
  process.on("SIGTERM", () => server.close(() => process.exit(0)));
}
