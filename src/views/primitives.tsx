import { type ComponentChildren, Fragment } from "preact";

import { useViewSettings } from "./context.js";
import type { ChainMoment, PurposeRef, ViaWord } from "./data.js";
import { ALL_DATA_ID, isoTime, MAX_DATE_SECONDS, purposeWords, relativeTime, shortHex, toSeconds } from "./format.js";

/**
 * The small pieces every view is made of: a time, an account, a data id, purposes, an on-chain
 * record. Names and labels come first; the hex is one click away (a <details> disclosure, which
 * works by keyboard and opens in print).
 */

/** A time: ISO 8601 with its zone, and below it the relative form ("in 23 h", "3 days ago"). */
export function Time({ t, prefix, inline }: { t: number | string; prefix?: string; inline?: boolean }) {
  const { now } = useViewSettings();
  const s = toSeconds(t);
  const inRange = Number.isFinite(s) && Math.abs(s) <= MAX_DATE_SECONDS;
  const iso = isoTime(t);
  if (inline) {
    return (
      <span class="when-inline">
        {prefix}
        {inRange ? <time dateTime={iso}>{iso}</time> : <span>{iso}</span>}
        {inRange && ` (${relativeTime(s, now)})`}
      </span>
    );
  }
  return (
    <span class="when">
      {prefix}
      {inRange ? <time dateTime={iso}>{iso}</time> : <span>{iso}</span>}
      {inRange && <span class="rel">{relativeTime(s, now)}</span>}
    </span>
  );
}

/** Hex behind a word: the word is the disclosure's summary, the hex its content. */
export function Disclose({ summary, hex, kind }: { summary: ComponentChildren; hex: string; kind: string }) {
  return (
    <details class="id">
      <summary>{summary}</summary>
      <span class="hex-label">{kind}</span> <code class="hex">{hex}</code>
    </details>
  );
}

/** An account or integration by name (or short hex when none is known); "you" for the report's owner. */
export function Account({ address }: { address: string }) {
  const { names, self } = useViewSettings();
  if (self !== undefined && address.toLowerCase() === self) {
    return <Disclose summary={<span class="you">you</span>} hex={address} kind="your address" />;
  }
  const name = names.nameOf(address);
  return (
    <Disclose
      summary={name === undefined ? <span class="unnamed">{shortHex(address)}</span> : <span class="name">{name}</span>}
      hex={address}
      kind={name === undefined ? "address (no name known)" : "address"}
    />
  );
}

/** A data id by the owner's label; ALL_DATA in words. */
export function DataRef({ dataId }: { dataId: string }) {
  const { names, self } = useViewSettings();
  if (dataId.toLowerCase() === ALL_DATA_ID) {
    return (
      <Disclose
        summary={<span class="name">{self === undefined ? "all the owner's data" : "all your data"} (ALL_DATA)</span>}
        hex={dataId}
        kind="data id"
      />
    );
  }
  const label = names.labelOf(dataId);
  return (
    <Disclose
      summary={
        label === undefined ? <span class="unnamed">{shortHex(dataId)}</span> : <span class="name">{label}</span>
      }
      hex={dataId}
      kind={label === undefined ? "data id (no label in the label book)" : "data id"}
    />
  );
}

/** Purposes in words, each with its description on hover. */
export function Purposes({ purposes }: { purposes: readonly PurposeRef[] }) {
  if (purposes.length === 0) return <span class="muted">none</span>;
  return (
    <ul class="purposes">
      {purposes.map((p) => (
        <li key={p.id} title={p.description}>
          {purposeWords(p.name)}
        </li>
      ))}
    </ul>
  );
}

/** Purposes as words in a sentence: `model training and inference`. */
export function PurposeWords({ purposes }: { purposes: readonly PurposeRef[] }) {
  const w = purposes.map((p) => purposeWords(p.name));
  if (w.length === 0) return <span class="muted">no purpose</span>;
  return (
    <span class="purpose-words">{w.length === 1 ? w[0] : `${w.slice(0, -1).join(", ")} and ${w[w.length - 1]}`}</span>
  );
}

/** How a change was authorised, in words. */
export function How({ via, by }: { via: ViaWord; by: string }) {
  const { self } = useViewSettings();
  if (via === "Owner") return <Account address={by} />;
  if (via === "Manager")
    return (
      <span>
        manager <Account address={by} />
      </span>
    );
  if (via === "Signature")
    return (
      <span>
        {self === undefined ? "the owner's" : "your"} signature, relayed by <Account address={by} />
      </span>
    );
  return (
    <span>
      <Account address={by} /> (unknown authorisation)
    </span>
  );
}

/** The on-chain record of a row: its block, one click from the transaction and the other hashes. */
export function Record({ at, extra }: { at: Pick<ChainMoment, "block" | "tx">; extra?: [string, string][] }) {
  return (
    <details class="record">
      <summary>block {at.block}</summary>
      <dl>
        <dt>transaction</dt>
        <dd>
          <code class="hex">{at.tx}</code>
        </dd>
        {(extra ?? []).map(([k, v]) => (
          <Fragment key={k}>
            <dt>{k}</dt>
            <dd>
              <code class="hex">{v}</code>
            </dd>
          </Fragment>
        ))}
      </dl>
    </details>
  );
}

/** A note in the margin of a row, e.g. "only through your ALL_DATA consent". */
export function Note({ children }: { children: ComponentChildren }) {
  return <span class="note">{children}</span>;
}

/** A report section: a landmark with its heading, the count, and words for when it is empty. */
export function Section({
  id,
  title,
  count,
  empty,
  intro,
  children,
}: {
  id: string;
  title: string;
  count?: number;
  empty?: string;
  intro?: ComponentChildren;
  children?: ComponentChildren;
}) {
  return (
    <section id={id} aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>
        {title}
        {count !== undefined && <span class="count"> ({count})</span>}
      </h2>
      {intro && <p class="intro">{intro}</p>}
      {count === 0 && empty !== undefined ? <p class="empty">{empty}</p> : children}
    </section>
  );
}

/** The first `rowLimit` items, and a line saying how many more the JSON / CSV report holds. */
export function useLimited<T>(items: readonly T[]): { shown: readonly T[]; more: ComponentChildren } {
  const { rowLimit } = useViewSettings();
  if (rowLimit === undefined || items.length <= rowLimit) return { shown: items, more: null };
  return {
    shown: items.slice(0, rowLimit),
    more: (
      <p class="more">
        {items.length - rowLimit} more rows are in the JSON and CSV reports (this page shows the first {rowLimit}).
      </p>
    ),
  };
}

/** A table with column headers; `rows` are rendered by the caller. */
export function Table({ label, head, children }: { label: string; head: string[]; children: ComponentChildren }) {
  return (
    <div class="table-wrap">
      <table aria-label={label}>
        <thead>
          <tr>
            {head.map((h) => (
              <th scope="col" key={h}>
                {h}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}
