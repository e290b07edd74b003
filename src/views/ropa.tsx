import type { ChartSvgs } from "./charts.js";
import type { RopaPurpose, RopaView } from "./data.js";
import { count, purposeWords } from "./format.js";
import { Chart, Integrations } from "./owner.js";
import { Account, Section, Table, Time } from "./primitives.js";

/**
 * The record of processing activities (GDPR Art. 30) as a reader sees it: per purpose, who the
 * data subjects and processors are, to whom data may go, and how long consents keep it.
 */

function Retention({ r }: { r: RopaPurpose["retention"] }) {
  if (r.noExpiry + r.expiring === 0) return <span class="muted">no consent in force</span>;
  return (
    <span>
      {r.noExpiry > 0 && <span class="block">{count(r.noExpiry, "consent")} without expiry</span>}
      {r.expiring > 0 && r.first !== null && r.last !== null && (
        <span class="block">
          {count(r.expiring, "consent")} expiring from <Time t={r.first} /> to <Time t={r.last} />
        </span>
      )}
    </span>
  );
}

/** One row per purpose of the catalogue. */
export function RopaPurposes({ purposes }: { purposes: readonly RopaPurpose[] }) {
  return (
    <Section
      id="purposes"
      title="Purposes of processing"
      count={purposes.length}
      empty="No purpose is defined."
      intro="Each purpose of the catalogue: what it is, who consented to it, who processes for it, to whom data may go, and for how long."
    >
      <Table
        label="purposes of processing"
        head={[
          "purpose",
          "catalogue",
          "data subjects",
          "processors",
          "recipients",
          "retention (consent expiry)",
          "activity",
        ]}
      >
        {purposes.map((p) => (
          <tr key={p.purpose.id}>
            <th scope="row">
              <span class="name">{purposeWords(p.purpose.name)}</span>
              {p.purpose.description && <span class="facts">{p.purpose.description}</span>}
              {p.purpose.dpv && <span class="facts">DPV: {p.purpose.dpv}</span>}
            </th>
            <td>
              {p.status === "grantable" ? (
                <span class="status ok">grantable</span>
              ) : (
                <span class="status warn">deprecated</span>
              )}
              <details class="record">
                <summary>defined at block {p.definedBlock}</summary>
                <dl>
                  <dt>metadata hash</dt>
                  <dd>
                    <code class="hex">{p.metadataHash}</code>
                  </dd>
                </dl>
              </details>
            </td>
            <td>{p.dataSubjects}</td>
            <td>{p.processors}</td>
            <td>
              {p.recipients.length === 0 ? (
                <span class="muted">none</span>
              ) : (
                <ul class="plain">
                  {p.recipients.map((r) => (
                    <li key={r.address}>
                      <Account address={r.address} />{" "}
                      <span class={r.status === "Active" ? "status ok" : "status warn"}>{r.status.toLowerCase()}</span>
                    </li>
                  ))}
                </ul>
              )}
            </td>
            <td>
              <Retention r={p.retention} />
            </td>
            <td>
              {count(p.uses, "use")}, {count(p.shares, "share")}
            </td>
          </tr>
        ))}
      </Table>
    </Section>
  );
}

/** The record's totals. */
export function RopaSummary({ view }: { view: RopaView }) {
  return (
    <dl class="summary">
      <div>
        <dt>consents in force</dt>
        <dd>{view.totals.liveConsents}</dd>
      </div>
      <div>
        <dt>data subjects</dt>
        <dd>{view.totals.dataSubjects}</dd>
      </div>
      <div>
        <dt>purposes</dt>
        <dd>{view.purposes.length}</dd>
      </div>
      <div>
        <dt>integrations</dt>
        <dd>{view.recipients.length}</dd>
      </div>
      <div>
        <dt>uses / shares recorded</dt>
        <dd>
          {view.totals.uses} / {view.totals.shares}
        </dd>
      </div>
    </dl>
  );
}

/** The whole Art. 30 record. */
export function RopaRecord({ view, charts }: { view: RopaView; charts: ChartSvgs }) {
  return (
    <>
      <RopaSummary view={view} />
      <RopaPurposes purposes={view.purposes} />
      <Integrations integrations={view.recipients} owner={false} />
      <Section id="charts" title="Charts">
        <Chart chart={charts.timeline} empty="No consent change to draw." />
        <Chart chart={charts.perPurpose} empty="No use or share to draw." />
        <Chart chart={charts.perIntegration} empty="No share with an integration to draw." />
      </Section>
    </>
  );
}
