import type { ComponentChildren } from "preact";
import type { OwnerView, WithdrawalItem } from "../../../src/views/data.js";
import { count, relativeTime } from "../../../src/views/format.js";
import { Account, DataRef, How, Note, Purposes, Section, Table, Time } from "../../../src/views/primitives.js";
import type { PendingChange } from "../owner-view.js";

/**
 * The owner's read-only views that only the live page has beyond the report's tables: the
 * timeline with transaction links, governance coming, key releases. Built from the shared
 * primitives (src/views/primitives.tsx), so names, times and hex read the same as in the report.
 */

export function TxLink({ tx, explorer }: { tx: string; explorer?: string }) {
  const href = explorer ? explorer.replace("{tx}", tx) : undefined;
  const short = `${tx.slice(0, 10)}…`;
  return href ? (
    <a href={href} target="_blank" rel="noreferrer" aria-label={`transaction ${tx}`}>
      {short}
    </a>
  ) : (
    <code class="hex" title={tx} aria-label={`transaction ${tx}`}>
      {short}
    </code>
  );
}

type Entry = { at: number; block: number; tx: string; key: string; what: ComponentChildren };

function withdrawalWords(w: WithdrawalItem) {
  if (w.kind === "revoked") {
    return (
      <>
        withdrew consent from <Account address={w.grantee} /> for <DataRef dataId={w.dataId} /> (by{" "}
        <How via={w.via} by={w.by} />)
        {w.stillAllowedThroughAllData.length > 0 && (
          <Note>
            still allowed through your ALL_DATA consent: <Purposes purposes={w.stillAllowedThroughAllData} />
          </Note>
        )}
      </>
    );
  }
  if (w.kind === "lockdown") {
    return (
      <>
        lockdown: ended {count(w.consentsEnded, "consent")} and {count(w.managersEnded, "manager")} (epoch {w.epoch}, by{" "}
        <How via={w.via} by={w.by} />)
      </>
    );
  }
  return (
    <>
      a signed withdrawal for <Account address={w.grantee} /> / <DataRef dataId={w.dataId} /> did not apply: {w.reason}
    </>
  );
}

export function Timeline({ view, explorer }: { view: OwnerView; explorer?: string }) {
  const entries: Entry[] = [];
  for (const c of view.consents) {
    entries.push({
      ...c.given,
      key: `g${c.given.tx}${c.grantee}${c.dataId}`,
      what: (
        <>
          consent to <Account address={c.grantee} /> for <DataRef dataId={c.dataId} />:{" "}
          <Purposes purposes={c.purposes} /> (by <How via={c.given.via} by={c.given.by} />)
        </>
      ),
    });
  }
  for (const [i, w] of view.withdrawals.entries()) entries.push({ ...w.when, key: `w${i}`, what: withdrawalWords(w) });
  for (const [i, m] of view.managers.entries()) {
    entries.push({
      ...m.appointed,
      key: `m${i}`,
      what: (
        <>
          appointed manager <Account address={m.manager} />
        </>
      ),
    });
    if (m.ended?.how === "removed") {
      entries.push({
        ...m.ended,
        key: `mr${i}`,
        what: (
          <>
            removed manager <Account address={m.manager} />
          </>
        ),
      });
    }
  }
  entries.sort((a, b) => b.block - a.block || a.key.localeCompare(b.key));
  const shown = entries.slice(0, 100);
  return (
    <Section
      id="history"
      title="History"
      count={entries.length}
      empty="Nothing yet: no consent was given or withdrawn."
      intro="Consents in force as last given, withdrawals, lockdowns and managers, newest first."
    >
      <ol class="timeline">
        {shown.map((e) => (
          <li key={e.key}>
            <Time t={e.at} /> <span class="what">{e.what}</span> <TxLink tx={e.tx} explorer={explorer} />
          </li>
        ))}
      </ol>
      {entries.length > shown.length && (
        <p class="more">{entries.length - shown.length} older entries are in the subject-access report.</p>
      )}
    </Section>
  );
}

export function UsesAndShares({ view, explorer }: { view: OwnerView; explorer?: string }) {
  const total = view.uses.length + view.shares.length;
  return (
    <Section
      id="usage"
      title="Who used or shared my data"
      count={total}
      empty="No processor recorded a use or a share of your data."
    >
      <Table label="Uses and shares of your data" head={["When", "Who", "What", "Data", "Purpose", "Transaction"]}>
        {view.uses.slice(0, 200).map((u, i) => (
          <tr key={`u${i}`}>
            <td>
              <Time t={u.when.at} />
            </td>
            <td>
              <Account address={u.processor} />
            </td>
            <td>used{u.onlyThroughAllData && <Note>only through your ALL_DATA consent</Note>}</td>
            <td>
              <DataRef dataId={u.dataId} />
            </td>
            <td>
              <Purposes purposes={[u.purpose]} />
            </td>
            <td>
              <TxLink tx={u.when.tx} explorer={explorer} />
            </td>
          </tr>
        ))}
        {view.shares.slice(0, 200).map((s, i) => (
          <tr key={`s${i}`}>
            <td>
              <Time t={s.when.at} />
            </td>
            <td>
              <Account address={s.from} />
            </td>
            <td>
              shared with <Account address={s.to} />
              {(s.onlyThroughAllData.sender || s.onlyThroughAllData.recipient) && (
                <Note>
                  {s.onlyThroughAllData.sender && s.onlyThroughAllData.recipient
                    ? "both sides only through your ALL_DATA consent"
                    : s.onlyThroughAllData.sender
                      ? "the sender only through your ALL_DATA consent"
                      : "the recipient only through your ALL_DATA consent"}
                </Note>
              )}
            </td>
            <td>
              <DataRef dataId={s.dataId} />
            </td>
            <td>
              <Purposes purposes={[s.purpose]} />
            </td>
            <td>
              <TxLink tx={s.when.tx} explorer={explorer} />
            </td>
          </tr>
        ))}
      </Table>
    </Section>
  );
}

export function Managers({ view }: { view: OwnerView }) {
  return (
    <Section
      id="managers"
      title="My managers"
      count={view.managers.length}
      empty="You never appointed a manager."
      intro="A manager may grant and withdraw for you. A lockdown removes every manager."
    >
      <Table label="Managers, current and past" head={["Manager", "Appointed", "Until"]}>
        {view.managers.map((m, i) => (
          <tr key={i}>
            <td>
              <Account address={m.manager} />
            </td>
            <td>
              <Time t={m.appointed.at} />
            </td>
            <td>
              {m.ended === null ? (
                <strong>current</strong>
              ) : (
                <>
                  <Time t={m.ended.at} /> ({m.ended.how === "lockdown" ? "ended by a lockdown" : "removed"})
                </>
              )}
            </td>
          </tr>
        ))}
      </Table>
    </Section>
  );
}

export function Governance({ pending, now }: { pending: PendingChange[]; now: number }) {
  return (
    <Section
      id="governance"
      title="Governance changes coming"
      count={pending.length}
      empty="No change to purposes or integrations is scheduled."
      intro="Governance can change the purpose catalogue and the integrations only after a delay, so you see each change coming. It can never read or change a consent."
    >
      <Table label="Scheduled governance changes" head={["Change", "Runs from", "Time left", "Concerns you"]}>
        {pending.map((p) => (
          <tr key={p.operationId} class={p.affects.length ? "affects" : undefined}>
            <td>
              {p.what}
              {p.integration && (
                <>
                  {" "}
                  <Account address={p.integration} />
                </>
              )}
            </td>
            <td>
              <Time t={p.readyAt} />
            </td>
            <td>{p.readyAt > now ? `runs ${relativeTime(p.readyAt, now)}` : "can run now (until a week after)"}</td>
            <td>{p.affects.length ? <strong>{p.affects.join("; ")}</strong> : "no"}</td>
          </tr>
        ))}
      </Table>
    </Section>
  );
}

export function Releases({ view, onFile }: { view: OwnerView; onFile: (text: string, name: string) => void }) {
  const releases = view.releases ?? [];
  return (
    <Section
      id="releases"
      title="Key releases of my assets"
      count={view.releases ? releases.length : undefined}
      intro="Custodians log every key share they release. Load their release logs (JSON) to see who opened your sealed data and for what."
    >
      <label class="file">
        Custodians' release logs (JSON){" "}
        <input
          type="file"
          accept="application/json,.json"
          multiple
          onChange={async (e) => {
            for (const f of Array.from((e.currentTarget as HTMLInputElement).files ?? []))
              onFile(await f.text(), f.name);
          }}
        />
      </label>
      {view.releases && releases.length === 0 && <p class="empty">No release of your assets in these logs.</p>}
      {releases.length > 0 && (
        <Table label="Key releases" head={["When", "Asset", "Requester", "Purpose", "Custodians"]}>
          {releases.map((r, i) => (
            <tr key={i}>
              <td>
                <Time t={r.at} />
              </td>
              <td>
                <DataRef dataId={r.dataId} />
              </td>
              <td>{r.ownRequest ? "you" : <Account address={r.requester} />}</td>
              <td>{r.purposeName}</td>
              <td>{r.custodians.length}</td>
            </tr>
          ))}
        </Table>
      )}
    </Section>
  );
}
