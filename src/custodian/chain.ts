import { Interface, ZeroHash, getAddress } from "ethers";

import { CONSENT_REGISTRY_ABI } from "../sdk/abi.js";
import { Refusal } from "./errors.js";
import { RpcClient, RpcError } from "./rpc.js";
import { isMagicValue, isValidSignatureCalldata } from "./signatures.js";

/**
 * What a custodian asks the chain, per request, with no cache: the head, then in ONE JSON-RPC
 * batch `isAllowed` at the head (by its hash, EIP-1898) and at head − confirmations, the use
 * record's receipt, and the head again. If a block arrived meanwhile the answers are already stale and the round is
 * redone, so a release is always decided at the block that was the latest when it was decided:
 * a revocation counts from the very next block.
 */

const registryInterface = new Interface(CONSENT_REGISTRY_ABI);
const DATA_USED_TOPIC = registryInterface.getEvent("DataUsed")!.topicHash;
const IS_ALLOWED = registryInterface.getFunction("isAllowed")!.selector;

const pad = (hex: string): string => hex.slice(2).toLowerCase().padStart(64, "0");
const hexQuantity = (n: number): string => `0x${n.toString(16)}`;

export function isAllowedCalldata(owner: string, grantee: string, dataId: string, purpose: number): string {
  return IS_ALLOWED + pad(owner) + pad(grantee) + pad(dataId) + purpose.toString(16).padStart(64, "0");
}

export interface ConsentQuestion {
  owner: string;
  requester: string;
  dataId: string;
  purpose: number;
  confirmations: number;
  /** Zero hash: no use record asked. */
  useTx: string;
  useRecordMaxAge: number;
}

export interface ConsentAnswer {
  block: number;
  blockHash: string;
  useBlock: number | null;
}

interface Receipt {
  status: string;
  blockNumber: string;
  logs: { address: string; topics: string[]; data: string }[];
}

interface Block {
  number: string;
  hash: string;
}

export class ChainReader {
  /** The head the last round saw (number and hash): where the next round asks first. */
  private headGuess: { number: number; hash: string } | undefined;

  constructor(
    readonly rpc: RpcClient,
    readonly chainId: bigint,
    readonly registry: string,
  ) {}

  async chainIdOfNode(): Promise<bigint> {
    return BigInt(await this.rpc.call<string>("eth_chainId", []));
  }

  async head(): Promise<Block> {
    const b = await this.rpc.call<Block | null>("eth_getBlockByNumber", ["latest", false]);
    if (b === null) throw new RpcError("the node has no latest block");
    return b;
  }

  /**
   * Whether `signer` (a contract) accepts `signature` over `digest` at `block` (ERC-1271), as
   * OpenZeppelin's SignatureChecker decides: the address has code, and `isValidSignature` answers
   * at least one ABI word equal to the magic value (see `isMagicValue`). The code and the call are
   * asked in one batch. No code (an EOA, a precompile such as the identity at 0x…04): false.
   */
  async erc1271(
    signer: string,
    digest: string,
    signature: string,
    block: string | number = "latest",
  ): Promise<boolean> {
    try {
      const tag = typeof block === "number" ? hexQuantity(block) : block;
      const [code, res] = await this.rpc.batch([
        { method: "eth_getCode", params: [signer, tag] },
        { method: "eth_call", params: [{ to: signer, data: isValidSignatureCalldata(digest, signature) }, tag] },
      ]);
      if (typeof code !== "string" || !/^0x([0-9a-fA-F]{2})+$/.test(code)) return false;
      return isMagicValue(res);
    } catch (err) {
      if (err instanceof RpcError && /revert|execution/i.test(err.message)) return false;
      throw err;
    }
  }

  /** Only the head (the owner's own request needs no consent, but the log names the block). */
  async headOnly(): Promise<ConsentAnswer> {
    const h = await this.head();
    return { block: Number(h.number), blockHash: h.hash, useBlock: null };
  }

  /**
   * Runs the consent and use-record checks; resolves with the block they held at, or throws
   * the Refusal that applies (NOT_ALLOWED, NOT_CONFIRMED, NO_USE_RECORD, USE_RECORD_TOO_OLD).
   */
  async check(q: ConsentQuestion): Promise<ConsentAnswer> {
    for (let round = 0; round < 5; round++) {
      // The head number of the last round is only a guess of where to ask; the same batch
      // reads the head before and after the calls, and the answers count only if both are that
      // block. Otherwise (a block arrived) the round is redone at the new head. Nothing about
      // consent is ever reused: each request gets its own answers, at the actual latest block.
      // The head's call is asked by block hash (EIP-1898), so the answer is that very block's
      // even if a reorg replaced the block of that number meanwhile: the logged hash is the block
      // the answer came from. (hardhat node and anvil both take `{ blockHash }`.)
      let guess = this.headGuess;
      if (guess === undefined) {
        const h = await this.head();
        guess = { number: Number(h.number), hash: h.hash };
      }
      const latest = guess.number;
      const confirmedAt = latest - q.confirmations;
      const call = (block: number | { blockHash: string }) => ({
        method: "eth_call",
        params: [
          { to: this.registry, data: isAllowedCalldata(q.owner, q.requester, q.dataId, q.purpose) },
          typeof block === "number" ? hexQuantity(Math.max(block, 0)) : block,
        ],
      });
      const wantUse = q.useTx !== ZeroHash;
      const calls = [
        { method: "eth_getBlockByNumber", params: ["latest", false] },
        call({ blockHash: guess.hash }),
        call(confirmedAt),
      ];
      if (wantUse) calls.push({ method: "eth_getTransactionReceipt", params: [q.useTx] });
      calls.push({ method: "eth_blockNumber", params: [] });
      let all: unknown[];
      try {
        all = await this.rpc.batch(calls);
      } catch (err) {
        // A guess above the node's head (a node restarted from scratch) fails the calls: ask afresh.
        if (this.headGuess === undefined) throw err;
        this.headGuess = undefined;
        continue;
      }
      const h = all[0] as Block | null;
      if (h === null) throw new RpcError("the node has no latest block");
      const headAfter = Number(all[all.length - 1] as string);
      if (Number(h.number) !== latest || h.hash.toLowerCase() !== guess.hash.toLowerCase() || headAfter !== latest) {
        // Decide again at the new head (the one read here when it is still the latest, else ask).
        this.headGuess = Number(h.number) === headAfter ? { number: headAfter, hash: h.hash } : undefined;
        continue;
      }
      this.headGuess = guess;
      const results = all.slice(1);
      // The head's answer must be one ABI word (anything else: a wrong address or a broken node).
      // Below the head, "0x" means the registry had no code yet at that block: not confirmed.
      const word = (r: unknown): boolean => typeof r === "string" && /^0x[0-9a-fA-F]{64}$/.test(r);
      if (!word(results[0])) {
        throw new RpcError(`isAllowed at block ${latest} returned ${String(results[0]).slice(0, 20)}, not a bool`);
      }
      if (results[1] !== "0x" && !word(results[1])) {
        throw new RpcError(`isAllowed at block ${confirmedAt} returned ${String(results[1]).slice(0, 20)}, not a bool`);
      }
      if (BigInt(results[0] as string) !== 1n) {
        throw new Refusal(
          "NOT_ALLOWED",
          `isAllowed(${q.owner}, ${q.requester}, ${q.dataId}, ${q.purpose}) is false at block ${latest}`,
        );
      }
      if (confirmedAt < 0 || results[1] === "0x" || BigInt(results[1] as string) !== 1n) {
        throw new Refusal(
          "NOT_CONFIRMED",
          `consent holds at block ${latest} but not at ${confirmedAt} (${q.confirmations} confirmations needed)`,
        );
      }
      let useBlock: number | null = null;
      if (wantUse) {
        const receipt = results[2] as Receipt | null;
        if (receipt === null) throw new Refusal("NO_USE_RECORD", `transaction ${q.useTx} is not mined on this chain`);
        if (BigInt(receipt.status) !== 1n) throw new Refusal("NO_USE_RECORD", `transaction ${q.useTx} reverted`);
        const registry = this.registry.toLowerCase();
        const want = [DATA_USED_TOPIC, `0x${pad(q.owner)}`, `0x${pad(q.requester)}`, q.dataId.toLowerCase()];
        const found = receipt.logs.some(
          (l) =>
            l.address.toLowerCase() === registry &&
            l.topics.length === 4 &&
            l.topics.every((t, i) => t.toLowerCase() === want[i]) &&
            BigInt(`0x${l.data.slice(2, 66)}`) === BigInt(q.purpose),
        );
        if (!found) {
          throw new Refusal(
            "NO_USE_RECORD",
            `transaction ${q.useTx} has no DataUsed(${q.owner}, ${q.requester}, ${q.dataId}, purpose ${q.purpose}) from registry ${getAddress(this.registry)}`,
          );
        }
        useBlock = Number(receipt.blockNumber);
        if (useBlock > confirmedAt) {
          throw new Refusal(
            "NOT_CONFIRMED",
            `the use record (block ${useBlock}) needs ${q.confirmations} confirmations; head is ${latest}`,
          );
        }
        if (latest - useBlock > q.useRecordMaxAge) {
          throw new Refusal(
            "USE_RECORD_TOO_OLD",
            `the use record is ${latest - useBlock} blocks old; the policy allows ${q.useRecordMaxAge}`,
          );
        }
      }
      return { block: latest, blockHash: h.hash, useBlock };
    }
    throw new RpcError("the chain kept moving: no stable head in 5 rounds");
  }
}
