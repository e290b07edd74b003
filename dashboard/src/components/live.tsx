import type { OwnerView } from "../../../src/views/data.js";
import { relativeTime } from "../../../src/views/format.js";
import { Account, Section, Table, Time } from "../../../src/views/primitives.js";
import type { PendingChange } from "../owner-view.js";

/**
 * What only the live page has beside the shared views (src/views/owner.tsx): governance changes
 * coming, and the place to load custodians' release logs. Built from the shared primitives, so
 * names, times and hex read as in the report.
 */

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

export function ReleaseLogs({ view, onFile }: { view: OwnerView; onFile: (text: string, name: string) => void }) {
  return (
    <p class="release-logs">
      <label class="file">
        Custodians' release logs (JSON), to see who opened your sealed data{" "}
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
      {view.releases !== undefined && <span class="muted"> ({view.releases.length} openings in the logs given)</span>}
    </p>
  );
}
