import { id, zeroPadValue } from "ethers";

import { decodeLog, viaOfEvent, type Watched as WatchedKind } from "../../../src/audit/decode.js";
import type { ReplayEvent } from "../../../src/audit/events.js";
import { byChainOrder, type DataSource, type OwnerHistory, type Watched } from "./types.js";

/** What the RPC source needs of a provider: EIP-1193's `request` or ethers' `send`. */
export type RpcSend = (method: string, params: unknown[]) => Promise<unknown>;

interface RawLog {
  address: string;
  topics: string[];
  data: string;
  blockNumber: string;
  transactionHash: string;
  logIndex: string;
  removed?: boolean;
  /** Some nodes include the block's time in each log (geth ≥ 1.15, EDR); otherwise it is asked per block. */
  blockTimestamp?: string;
}

/** The registry's purpose catalogue events (not owner-indexed), by topic. */
const PURPOSE_TOPICS = [id("PurposeDefined(uint8,bytes32)"), id("PurposeDeprecated(uint8)")];

/**
 * The chain's logs through the node: `eth_getLogs` for the registry's events whose first indexed
 * argument is the owner (every owner event indexes `owner` first), the registry's purpose
 * catalogue, and all of the IntegrationRegistry's and the AccessManager's logs (few: governance).
 * A range the node refuses as too large is split in halves. Block times come with the logs where
 * the node includes them, otherwise one `eth_getBlockByNumber` per distinct block.
 */
export class RpcSource implements DataSource {
  readonly kind = "rpc" as const;

  constructor(private readonly send: RpcSend) {}

  async ownerHistory(owner: string, w: Watched): Promise<OwnerHistory> {
    const o = owner.toLowerCase();
    const head = await this.head();
    const from = w.fromBlock ?? 0;
    const ownerTopic = zeroPadValue(o, 32).toLowerCase();
    const [mine, catalogue, integrations, authority] = await Promise.all([
      this.logs({ address: w.registry, topics: [null, ownerTopic] }, from, head.number),
      this.logs({ address: w.registry, topics: [PURPOSE_TOPICS] }, from, head.number),
      this.logs({ address: w.integrations, topics: [] }, from, head.number),
      this.logs({ address: w.authority, topics: [] }, from, head.number),
    ]);
    const times = await this.timestamps([...mine, ...catalogue, ...integrations, ...authority]);
    const events: ReplayEvent[] = [];
    const add = (kind: WatchedKind, logs: RawLog[]) => {
      for (const l of logs) {
        if (l.removed) continue;
        const decoded = decodeLog(kind, l);
        const blockNumber = Number(l.blockNumber);
        events.push({
          ...decoded,
          blockNumber,
          logIndex: Number(l.logIndex),
          txHash: l.transactionHash.toLowerCase(),
          blockTimestamp: times.get(blockNumber) ?? 0,
          via: viaOfEvent(decoded.name, decoded.args),
        } as ReplayEvent);
      }
    };
    add("registry", mine);
    add("registry", catalogue);
    add("integrations", integrations);
    add("authority", authority);
    events.sort(byChainOrder);
    return {
      chainId: w.chainId,
      owner: o,
      events,
      lastBlock: head.number,
      asOf: head.timestamp,
      source: `the chain's logs through the RPC (blocks ${from}–${head.number})`,
    };
  }

  private async head(): Promise<{ number: number; timestamp: number }> {
    const b = (await this.send("eth_getBlockByNumber", ["latest", false])) as { number: string; timestamp: string };
    return { number: Number(b.number), timestamp: Number(b.timestamp) };
  }

  private async logs(
    filter: { address: string; topics: (string | string[] | null)[] },
    from: number,
    to: number,
  ): Promise<RawLog[]> {
    try {
      return (await this.send("eth_getLogs", [
        { ...filter, fromBlock: `0x${from.toString(16)}`, toBlock: `0x${to.toString(16)}` },
      ])) as RawLog[];
    } catch (err) {
      // A node that caps the range or the result size: halve it (a transport error is not that).
      const text = String((err as { message?: unknown }).message ?? err);
      if (to > from && /range|too many|limit|exceed/i.test(text)) {
        const mid = Math.floor((from + to) / 2);
        return [...(await this.logs(filter, from, mid)), ...(await this.logs(filter, mid + 1, to))];
      }
      throw err;
    }
  }

  private async timestamps(logs: RawLog[]): Promise<Map<number, number>> {
    const out = new Map<number, number>();
    const missing = new Set<number>();
    for (const l of logs) {
      const n = Number(l.blockNumber);
      if (l.blockTimestamp !== undefined) out.set(n, Number(l.blockTimestamp));
      else missing.add(n);
    }
    for (const n of out.keys()) missing.delete(n);
    const blocks = [...missing];
    // A few at a time: a wallet's provider sends one request per call.
    for (let i = 0; i < blocks.length; i += 16) {
      await Promise.all(
        blocks.slice(i, i + 16).map(async (n) => {
          const b = (await this.send("eth_getBlockByNumber", [`0x${n.toString(16)}`, false])) as { timestamp: string };
          out.set(n, Number(b.timestamp));
        }),
      );
    }
    return out;
  }
}
