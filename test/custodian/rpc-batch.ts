import { spawn } from "node:child_process";
import { join } from "node:path";

import { expect } from "chai";

import { ChainReader } from "../../src/custodian/chain.js";
import { Refusal } from "../../src/custodian/errors.js";
import { MAX_CALLS_PER_REQUEST, RpcClient, RpcError } from "../../src/custodian/rpc.js";
import { FAKE_HEAD, FAKE_HEAD_HASH, fakeNode } from "./helpers/inproc.js";
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

async function withNode<T>(
  mode: string,
  f: (reader: ChainReader, served: () => Promise<Served>) => Promise<T>,
  flags: string[] = [],
): Promise<T> {
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
      // Asked on a client of its own, so the question never travels with the calls it counts.
      const served = async () => {
        const own = new RpcClient(`http://127.0.0.1:${port}`, 5_000);
        try {
          return await own.call<Served>("test_requests", []);
        } finally {
          own.close();
        }
      };
      return await f(new ChainReader(rpc, 31337n, REGISTRY), served);
    } finally {
      rpc.close();
    }
  } finally {
    process.kill(child.pid!, "SIGTERM");
    await exited;
  }
}

interface Served {
  requests: number;
  sizes: number[];
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

  it("checks asked in the same turn travel as ONE HTTP request, and each is decided on its own answers", async () => {
    await withNode("ok", async (reader, served) => {
      // The head guess is learned by the first check (one eth_getBlockByNumber, then its batch).
      expect(await decide(reader)).to.equal("RELEASE at 16 (use record at 11)");
      const before = await served();
      const decided = await Promise.all(Array.from({ length: 8 }, () => decide(reader)));
      expect(decided).to.deep.equal(Array(8).fill("RELEASE at 16 (use record at 11)"));
      const after = await served();
      expect(after.requests - before.requests).to.equal(1);
      expect(after.sizes.slice(before.sizes.length)).to.deep.equal([8 * 5]);
      expect(reader.rpc.requests).to.equal(before.requests + 1);
    });
  });

  it("one request's failed answer in a shared batch fails that request alone", async () => {
    await withNode("error-foreign-receipt", async (reader, served) => {
      const other = { ...question, useTx: `0x${"33".repeat(32)}` };
      const [a, b, c] = await Promise.all([
        decide(reader),
        reader.check(other).then(
          () => "RELEASE",
          (err: Error) => (err instanceof RpcError ? `RpcError: ${err.message}` : `other: ${err.message}`),
        ),
        decide(reader),
      ]);
      expect([a, b, c]).to.deep.equal([
        "RELEASE at 16 (use record at 11)",
        "RpcError: eth_getTransactionReceipt: header not found",
        "RELEASE at 16 (use record at 11)",
      ]);
      // The three heads, then the three checks' 15 calls together; after that only the failed
      // one asks again, alone (its head, then its 5 calls, a round or two) and fails again.
      const sizes = (await served()).sizes;
      expect(sizes.slice(0, 2)).to.deep.equal([3, 15]);
      expect(sizes.length).to.be.oneOf([4, 6]);
      expect(sizes.slice(2)).to.deep.equal(sizes.length === 4 ? [1, 5] : [1, 5, 1, 5]);
    });
  });

  it(`a lost connection fails every request of that batch (none releases); more than ${MAX_CALLS_PER_REQUEST} calls are split`, async () => {
    await withNode("drop", async (reader) => {
      const lost = await Promise.all([decide(reader), decide(reader)]);
      expect(lost.every((d) => d.startsWith("RpcError: "))).to.equal(true);
      expect(lost[0]).to.equal(lost[1]);
    });
    await withNode("ok", async (reader, served) => {
      const many = Math.ceil((MAX_CALLS_PER_REQUEST * 2) / 5) + 1; // 5 calls each
      await decide(reader);
      const before = await served();
      const decided = await Promise.all(Array.from({ length: many }, () => decide(reader)));
      expect(new Set(decided)).to.deep.equal(new Set(["RELEASE at 16 (use record at 11)"]));
      const sizes = (await served()).sizes.slice(before.sizes.length);
      expect(sizes.every((n) => n <= MAX_CALLS_PER_REQUEST)).to.equal(true);
      expect(sizes.reduce((a, n) => a + n, 0)).to.equal(many * 5);
      expect(sizes.length).to.equal(Math.ceil((many * 5) / MAX_CALLS_PER_REQUEST));
    });
  });
});

describe("custodians: the head's consent is asked by block hash (EIP-1898)", () => {
  it("isAllowed at the head names the head's hash, the confirmed depth its number; the logged hash is that block's", async () => {
    const node = await fakeNode(REGISTRY);
    const rpc = new RpcClient(node.url, 5_000);
    try {
      node.dataUsed = { owner: OWNER, requester: REQUESTER, dataId: DATA_ID, purpose: 3 };
      const answer = await new ChainReader(rpc, 31337n, REGISTRY).check({ ...question, useTx: USE_TX });
      expect(answer.blockHash).to.equal(FAKE_HEAD_HASH);
      const calls = node.calls.filter((c) => c.method === "eth_call").map((c) => c.params[1]);
      expect(calls).to.deep.equal([{ blockHash: FAKE_HEAD_HASH }, `0x${(FAKE_HEAD - 2).toString(16)}`]);
    } finally {
      rpc.close();
      await node.close();
    }
  });
});
