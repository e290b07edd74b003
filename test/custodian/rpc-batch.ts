import { spawn } from "node:child_process";
import { join } from "node:path";

import { expect } from "chai";

import { ChainReader } from "../../src/custodian/chain.js";
import { Refusal } from "../../src/custodian/errors.js";
import { RpcClient, RpcError } from "../../src/custodian/rpc.js";
import { ROOT } from "./helpers/processes.js";

/**
 * The consent checks and the use record of one request travel as ONE JSON-RPC batch. A node's
 * batch answer is matched to the calls by id, never by position; an answer that is out of order
 * is read right, and one that lacks a call, carries an error, or answers some other request is
 * CHAIN_UNAVAILABLE (RpcError), never a release. Each node below is its own process
 * (helpers/fake-rpc.ts), stopped by its pid.
 */

const OWNER = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";
const REQUESTER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const DATA_ID = `0x${"11".repeat(32)}`;
const REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
const USE_TX = `0x${"22".repeat(32)}`;

async function withNode<T>(mode: string, f: (reader: ChainReader) => Promise<T>, flags: string[] = []): Promise<T> {
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      join(ROOT, "test/custodian/helpers/fake-rpc.ts"),
      mode,
      OWNER,
      REQUESTER,
      DATA_ID,
      "3",
      ...flags,
    ],
    { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] },
  );
  const exited = new Promise((r) => child.once("exit", r));
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout.once("data", (d: Buffer) => resolve(Number(d.toString().trim())));
      child.once("exit", (code) => reject(new Error(`fake node exited ${code}`)));
    });
    const rpc = new RpcClient(`http://127.0.0.1:${port}`, 5_000);
    try {
      return await f(new ChainReader(rpc, 31337n, REGISTRY));
    } finally {
      rpc.close();
    }
  } finally {
    process.kill(child.pid!, "SIGTERM");
    await exited;
  }
}

const question = {
  owner: OWNER,
  requester: REQUESTER,
  dataId: DATA_ID,
  purpose: 3,
  confirmations: 2,
  useTx: USE_TX,
  useRecordMaxAge: 100,
};

/** What `check` decided: the block, or the refusal code, or the RpcError's message. */
const decide = (reader: ChainReader) =>
  reader.check(question).then(
    (a) => `RELEASE at ${a.block} (use record at ${a.useBlock})`,
    (err: Error) =>
      err instanceof Refusal
        ? err.code
        : err instanceof RpcError
          ? `RpcError: ${err.message}`
          : `other: ${err.message}`,
  );

describe("custodians: the batched JSON-RPC answer is matched by id; a broken one releases nothing", function () {
  this.timeout(60_000);

  it("an answer in order, and the same answer reversed, decide the same release", async () => {
    expect(await withNode("ok", decide)).to.equal("RELEASE at 16 (use record at 11)");
    expect(await withNode("reversed", decide)).to.equal("RELEASE at 16 (use record at 11)");
  });

  it("reversed, the not-yet-confirmed consent is still read at its own block: NOT_CONFIRMED", async () => {
    expect(await withNode("reversed", decide, ["--unconfirmed"])).to.equal("NOT_CONFIRMED");
  });

  it("one error element, a missing element, foreign ids, a non-array: CHAIN_UNAVAILABLE, saying which", async () => {
    expect(await withNode("error-receipt", decide)).to.equal("RpcError: eth_getTransactionReceipt: header not found");
    expect(await withNode("missing-call", decide)).to.equal("RpcError: the node did not answer eth_call");
    expect(await withNode("foreign-ids", decide)).to.equal("RpcError: the node did not answer eth_getBlockByNumber");
    expect(await withNode("not-array", decide)).to.equal("RpcError: the node did not answer eth_call");
  });
});
