import type { AuditEvent, ReplayEvent } from "../../../src/audit/events.js";
import { byChainOrder, type DataSource, type OwnerHistory, type Watched } from "./types.js";

/**
 * The indexer's API (the Ponder app of issue 12, `indexer/`): its `events` table holds every log
 * of the three contracts exactly as the audit store does (`argsJson` = the decoded args as JSON,
 * addresses lowercase), so the owner's events are the rows whose `argsJson` names them as
 * `"owner":"0x…"`, and the governance events are those of the integration registry and the
 * AccessManager. Read through Ponder's GraphQL (`POST /graphql`), 1,000 rows a page (Ponder's
 * page limit), following `pageInfo.endCursor`; the head comes from `/status`.
 */

/** One row of the indexer's `events` table as its GraphQL returns it. */
export interface IndexedEventRow {
  chainId: number;
  blockNumber: number;
  logIndex: number;
  txHash: string;
  address: string;
  eventName: string;
  argsJson: string;
  blockTimestamp: number;
  via: number | null;
}

interface EventsPage {
  data?: {
    events?: {
      items: IndexedEventRow[];
      pageInfo: { hasNextPage: boolean; endCursor: string | null };
    };
  };
  errors?: { message: string }[];
}

const FIELDS = "chainId blockNumber logIndex txHash address eventName argsJson blockTimestamp via";

const QUERY = `query Events($where: eventFilter, $after: String) {
  events(where: $where, orderBy: "blockNumber", orderDirection: "asc", limit: 1000, after: $after) {
    items { ${FIELDS} }
    pageInfo { hasNextPage endCursor }
  }
}`;

/**
 * Ponder's `/status`: per network (by the name in ponder.config.ts), the indexed head
 * (`{ block: { number, timestamp } | null, ready }`, ponder 1.0.0 `database.getStatus`). It does not
 * carry the chain id: the network is the one named `network` (IndexerSource's option), else the
 * only one.
 */
type PonderStatus = Record<
  string,
  { id?: number; block?: { number: number | string; timestamp: number | string } | null }
>;

export class IndexerSource implements DataSource {
  readonly kind = "indexer" as const;

  constructor(
    private readonly baseUrl: string,
    private readonly fetchFn: typeof fetch = (...a) => fetch(...a),
    /** The network's name in the indexer's ponder.config.ts (needed only when it indexes several). */
    private readonly network?: string,
  ) {}

  async ownerHistory(owner: string, w: Watched): Promise<OwnerHistory> {
    const o = owner.toLowerCase();
    const [mine, governance, head] = await Promise.all([
      this.rows({ chainId: w.chainId, address: w.registry.toLowerCase(), argsJson_contains: `"owner":"${o}"` }),
      this.rows({
        chainId: w.chainId,
        address_in: [w.integrations.toLowerCase(), w.authority.toLowerCase()],
      }),
      this.head(w.chainId),
    ]);
    const catalogue = await this.rows({
      chainId: w.chainId,
      address: w.registry.toLowerCase(),
      eventName_in: ["PurposeDefined", "PurposeDeprecated"],
    });
    const events = [...mine, ...governance, ...catalogue].map(toReplayEvent).sort(byChainOrder);
    const last = events.at(-1);
    return {
      chainId: w.chainId,
      owner: o,
      events,
      lastBlock: head?.number ?? last?.blockNumber ?? 0,
      asOf: head?.timestamp ?? last?.blockTimestamp ?? 0,
      source: head
        ? `the indexer's API at ${this.baseUrl} (indexed to block ${head.number})`
        : `the indexer's API at ${this.baseUrl} (its head unknown: statuses judged at the last event, block ${last?.blockNumber ?? 0})`,
    };
  }

  private async rows(where: Record<string, unknown>): Promise<IndexedEventRow[]> {
    const out: IndexedEventRow[] = [];
    let after: string | null = null;
    for (;;) {
      const res = await this.fetchFn(`${this.baseUrl}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ query: QUERY, variables: { where, after } }),
      });
      if (!res.ok) throw new Error(`the indexer's API at ${this.baseUrl} answered HTTP ${res.status}`);
      const page = (await res.json()) as EventsPage;
      if (page.errors?.length) throw new Error(`the indexer's API refused the query: ${page.errors[0]!.message}`);
      const events = page.data?.events;
      if (!events) throw new Error(`the indexer's API at ${this.baseUrl} returned no events table`);
      out.push(...events.items);
      if (!events.pageInfo.hasNextPage || !events.pageInfo.endCursor) return out;
      after = events.pageInfo.endCursor;
    }
  }

  private async head(chainId: number): Promise<{ number: number; timestamp: number } | undefined> {
    try {
      const res = await this.fetchFn(`${this.baseUrl}/status`);
      if (!res.ok) return undefined;
      const status = ((await res.json()) ?? {}) as PonderStatus;
      const entries = Object.entries(status);
      const hit =
        (this.network !== undefined ? status[this.network] : undefined) ??
        entries.find(([, c]) => c.id === chainId)?.[1] ??
        (entries.length === 1 ? entries[0]![1] : undefined);
      const b = hit?.block;
      return b ? { number: Number(b.number), timestamp: Number(b.timestamp) } : undefined;
    } catch {
      return undefined;
    }
  }
}

/** An indexer row as the audit's replay event (the same decoded args, parsed back). */
export function toReplayEvent(r: IndexedEventRow): ReplayEvent {
  const decoded = { name: r.eventName, args: JSON.parse(r.argsJson) as unknown } as AuditEvent;
  return {
    ...decoded,
    blockNumber: Number(r.blockNumber),
    logIndex: Number(r.logIndex),
    txHash: r.txHash,
    blockTimestamp: Number(r.blockTimestamp),
    via: r.via,
  } as ReplayEvent;
}
