import type { ChartSvg, ChartSvgs } from "./charts.js";
import { useViewSettings } from "./context.js";
import type {
  ConsentItem,
  ConsentState,
  HistoryItem,
  IntegrationItem,
  KeyRelease,
  ManagerTerm,
  OwnerView,
  ShareItem,
  UseItem,
  WithdrawalItem,
} from "./data.js";
import { count, purposeWords, shortHex } from "./format.js";
import {
  Account,
  DataRef,
  How,
  Note,
  PurposeWords,
  Purposes,
  Record,
  Section,
  Table,
  Time,
  useLimited,
} from "./primitives.js";

/**
 * The owner's views (a data subject's "who may use my data, for what, until when"), each a
 * component of plain data (src/views/data.ts). The subject-access report renders them to a
 * string; the owner's dashboard (issue 15) renders the same components live.
 */

const STATE_WORDS: Record<ConsentState, string> = {
  active: "in force",
  expired: "expired",
  "ended-by-lockdown": "ended when you withdrew everything",
  "nothing-granted": "nothing granted (no signed purpose was grantable)",
};

/** Until when a consent holds: the date and a countdown, or "no expiry". */
export function Expiry({ expiresAt, inline }: { expiresAt: number | null; inline?: boolean }) {
  if (expiresAt === null) return <span>no expiry (until you withdraw it)</span>;
  return <Time t={expiresAt} inline={inline} />;
}

/** The notice you were shown when you gave it; in words when the grant named none. */
export function Notice({ hash }: { hash: string | null }) {
  if (hash === null) return <span class="muted">no notice named</span>;
  return (
    <details class="id">
      <summary>notice {shortHex(hash)}</summary>
      <span class="hex-label">notice hash</span> <code class="hex">{hash}</code>
    </details>
  );
}

/** An integration's status in words, with its document's facts when known. */
export function IntegrationStatus({ integration }: { integration: IntegrationItem | undefined }) {
  if (!integration) return <span class="muted">not a registered integration</span>;
  return (
    <span class={integration.status === "Active" ? "status ok" : "status warn"}>
      {integration.status === "Active" ? "active integration" : "suspended integration"}
    </span>
  );
}

function ConsentRows({ consents }: { consents: readonly ConsentItem[] }) {
  return (
    <Table label="consents" head={["your data", "purposes", "until", "given", "notice", "record"]}>
      {consents.map((c) => (
        <tr key={`${c.grantee}|${c.dataId}`}>
          <td>
            <DataRef dataId={c.dataId} />
            {c.allData && (
              <Note>
                allowed through ALL_DATA: this consent covers every data id of yours, also those whose own consent you
                withdrew
              </Note>
            )}
          </td>
          <td>
            <Purposes purposes={c.purposes} />
          </td>
          <td>
            <Expiry expiresAt={c.expiresAt} />
            {c.status !== "active" && <Note>{STATE_WORDS[c.status]}</Note>}
          </td>
          <td>
            <Time t={c.given.at} />
            <span class="by">
              by <How via={c.given.via} by={c.given.by} />
            </span>
          </td>
          <td>
            <Notice hash={c.noticeHash} />
          </td>
          <td>
            <Record at={c.given} extra={[["version", c.version]]} />
          </td>
        </tr>
      ))}
    </Table>
  );
}

/** Consents grouped by grantee: one heading per grantee (its name and status), its consents below. */
export function ConsentsByGrantee({
  consents,
  integrations,
}: {
  consents: readonly ConsentItem[];
  integrations: readonly IntegrationItem[];
}) {
  const groups = new Map<string, ConsentItem[]>();
  for (const c of consents) groups.set(c.grantee, [...(groups.get(c.grantee) ?? []), c]);
  return (
    <div class="groups">
      {[...groups.entries()].map(([grantee, list]) => (
        <div class="group" key={grantee}>
          <h3>
            <Account address={grantee} />{" "}
            <IntegrationStatus integration={integrations.find((i) => i.address === grantee)} />
          </h3>
          <ConsentRows consents={list} />
        </div>
      ))}
    </div>
  );
}

/** Who may use which of my data now (consents in force), apart from those that ended. */
export function LiveConsents({ view }: { view: Pick<OwnerView, "consents" | "integrations"> }) {
  const live = view.consents.filter((c) => c.status === "active");
  return (
    <Section
      id="live"
      title="Who may use your data now"
      count={live.length}
      empty="Nobody: no consent of yours is in force."
      intro="Each consent in force, by whom it may be used: for which purposes, until when, and how you gave it."
    >
      <ConsentsByGrantee consents={live} integrations={view.integrations} />
    </Section>
  );
}

/** Stored consents no longer in force (expired, ended by a lockdown, nothing granted). */
export function EndedConsents({ view }: { view: Pick<OwnerView, "consents" | "integrations"> }) {
  const ended = view.consents.filter((c) => c.status !== "active");
  return (
    <Section
      id="ended"
      title="Consents no longer in force"
      count={ended.length}
      empty="None: every stored consent of yours is in force."
      intro="They expired, or ended when you withdrew everything; nobody may use your data through them."
    >
      <ConsentsByGrantee consents={ended} integrations={view.integrations} />
    </Section>
  );
}

function WithdrawalRow({ w }: { w: WithdrawalItem }) {
  if (w.kind === "revoked") {
    return (
      <tr>
        <td>
          <Time t={w.when.at} />
        </td>
        <td>
          withdrew the consent of <Account address={w.grantee} /> for <DataRef dataId={w.dataId} />
          {w.stillAllowedThroughAllData.length > 0 && (
            <Note>
              still allowed through ALL_DATA for{" "}
              {w.stillAllowedThroughAllData.map((p) => purposeWords(p.name)).join(", ")}: withdraw the ALL_DATA consent
              to end it
            </Note>
          )}
        </td>
        <td>
          <How via={w.via} by={w.by} />
        </td>
        <td>
          <Record at={w.when} />
        </td>
      </tr>
    );
  }
  if (w.kind === "lockdown") {
    return (
      <tr>
        <td>
          <Time t={w.when.at} />
        </td>
        <td>
          withdrew everything: {count(w.consentsEnded, "consent")} in force and {count(w.managersEnded, "manager")}{" "}
          ended
        </td>
        <td>
          <How via={w.via} by={w.by} />
        </td>
        <td>
          <Record at={w.when} />
        </td>
      </tr>
    );
  }
  return (
    <tr>
      <td>
        <Time t={w.when.at} />
      </td>
      <td>
        a signed withdrawal for <Account address={w.grantee} /> and <DataRef dataId={w.dataId} /> was relayed but not
        applied
        <Note>{w.reason}</Note>
      </td>
      <td>
        <span class="muted">relayed in a batch</span>
      </td>
      <td>
        <Record at={w.when} />
      </td>
    </tr>
  );
}

/** What I withdrew: single withdrawals, lockdowns, and signed withdrawals that did not apply. */
export function Withdrawals({ withdrawals }: { withdrawals: readonly WithdrawalItem[] }) {
  const { shown, more } = useLimited(withdrawals);
  return (
    <Section id="withdrawn" title="What you withdrew" count={withdrawals.length} empty="You withdrew nothing.">
      <Table label="withdrawals" head={["when", "what", "by", "record"]}>
        {shown.map((w) => (
          <WithdrawalRow key={`${w.when.tx}|${w.kind}|${"grantee" in w ? w.grantee + w.dataId : ""}`} w={w} />
        ))}
      </Table>
      {more}
    </Section>
  );
}

/** Who used my data, for what, when (the use records), with the ALL_DATA fallback made visible. */
export function Uses({ uses }: { uses: readonly UseItem[] }) {
  const { shown, more } = useLimited(uses);
  return (
    <Section
      id="uses"
      title="Who used your data"
      count={uses.length}
      empty="Nobody recorded a use of your data."
      intro="Each use a processor recorded on-chain, with the purpose it gave."
    >
      <Table label="uses" head={["when", "who", "your data", "purpose", "record"]}>
        {shown.map((u) => (
          <tr key={`${u.when.tx}|${u.dataId}|${u.purpose.id}`}>
            <td>
              <Time t={u.when.at} />
            </td>
            <td>
              <Account address={u.processor} />
            </td>
            <td>
              <DataRef dataId={u.dataId} />
              {u.onlyThroughAllData && <Note>allowed only through your ALL_DATA consent</Note>}
            </td>
            <td>
              <Purposes purposes={[u.purpose]} />
            </td>
            <td>
              <Record at={u.when} extra={[["evidence", u.evidence]]} />
            </td>
          </tr>
        ))}
      </Table>
      {more}
    </Section>
  );
}

/** Who shared my data with whom, for what, when. */
export function Shares({ shares }: { shares: readonly ShareItem[] }) {
  const { shown, more } = useLimited(shares);
  return (
    <Section
      id="shares"
      title="Who shared your data, and with whom"
      count={shares.length}
      empty="Nobody recorded a share of your data."
    >
      <Table label="shares" head={["when", "shared by", "shared with", "your data", "purpose", "record"]}>
        {shown.map((s) => (
          <tr key={`${s.when.tx}|${s.dataId}|${s.to}`}>
            <td>
              <Time t={s.when.at} />
            </td>
            <td>
              <Account address={s.from} />
              {s.onlyThroughAllData.sender && <Note>allowed only through your ALL_DATA consent</Note>}
            </td>
            <td>
              <Account address={s.to} />
              {s.onlyThroughAllData.recipient && <Note>allowed only through your ALL_DATA consent</Note>}
            </td>
            <td>
              <DataRef dataId={s.dataId} />
            </td>
            <td>
              <Purposes purposes={[s.purpose]} />
            </td>
            <td>
              <Record at={s.when} extra={[["evidence", s.evidence]]} />
            </td>
          </tr>
        ))}
      </Table>
      {more}
    </Section>
  );
}

/** My managers, current and past (a lockdown ends every current one). */
export function Managers({ managers }: { managers: readonly ManagerTerm[] }) {
  const current = managers.filter((m) => m.ended === null);
  return (
    <Section
      id="managers"
      title="Your managers, current and past"
      count={managers.length}
      empty="You never appointed a manager."
      intro={`A manager may grant and withdraw consents for you. ${current.length === 0 ? "None is current." : `${count(current.length, "manager")} current.`}`}
    >
      <Table label="managers" head={["manager", "appointed", "ended", "record"]}>
        {managers.map((m) => (
          <tr key={`${m.manager}|${m.appointed.tx}`}>
            <td>
              <Account address={m.manager} />
            </td>
            <td>
              <Time t={m.appointed.at} />
            </td>
            <td>
              {m.ended === null ? (
                <span class="status ok">current</span>
              ) : (
                <>
                  <Time t={m.ended.at} />
                  <Note>{m.ended.how === "lockdown" ? "ended when you withdrew everything" : "you removed it"}</Note>
                </>
              )}
            </td>
            <td>
              <Record at={m.appointed} />
            </td>
          </tr>
        ))}
      </Table>
    </Section>
  );
}

/** Each integration's current status, what it may receive, and whether I consented to it. */
export function Integrations({
  integrations,
  owner = true,
}: {
  integrations: readonly IntegrationItem[];
  /** An owner's view: say whether the owner has a consent in force for each. */
  owner?: boolean;
}) {
  const { names } = useViewSettings();
  return (
    <Section
      id="integrations"
      title={owner ? "Integrations and their status" : "Recipients: third-party integrations"}
      count={integrations.length}
      empty="No integration is registered."
      intro="Third parties registered by governance to receive data for some purposes; a suspended one may receive nothing."
    >
      <Table
        label="integrations"
        head={[
          "integration",
          "status",
          "may receive",
          owner ? "your consent" : "operated by",
          owner ? "shares of your data" : "shares received",
          "record",
        ]}
      >
        {integrations.map((i) => {
          const facts = names.integrationOf?.(i.address);
          const problem = names.documentProblem?.(i.address);
          return (
            <tr key={i.address}>
              <td>
                <Account address={i.address} />
                {facts && (
                  <span class="facts">
                    {facts.legalEntity} ({facts.country}) · <a href={facts.privacyPolicy}>privacy policy</a> ·{" "}
                    <a href={`mailto:${facts.email}`}>{facts.email}</a> · keeps data: {facts.retention}
                  </span>
                )}
                {problem && <Note>{problem}</Note>}
              </td>
              <td>
                <IntegrationStatus integration={i} />
                <span class="since">
                  since <Time t={i.since.at} />
                </span>
              </td>
              <td>
                <Purposes purposes={i.purposes} />
              </td>
              <td>
                {owner ? (
                  i.holdsConsent ? (
                    "in force"
                  ) : (
                    <span class="muted">none in force</span>
                  )
                ) : facts ? (
                  facts.legalEntity
                ) : (
                  <span class="muted">no document</span>
                )}
              </td>
              <td>{i.sharesReceived}</td>
              <td>
                <details class="record">
                  <summary>block {i.since.block}</summary>
                  <dl>
                    <dt>metadata hash</dt>
                    <dd>
                      <code class="hex">{i.metadataHash}</code>
                    </dd>
                  </dl>
                </details>
              </td>
            </tr>
          );
        })}
      </Table>
    </Section>
  );
}

/** Key releases of my sealed assets, from the custodians' release logs. */
export function KeyReleases({ releases }: { releases: readonly KeyRelease[] | undefined }) {
  if (releases === undefined) {
    return (
      <Section id="releases" title="Keys released to open your sealed data">
        <p class="empty">No custodian release logs were given for this report.</p>
      </Section>
    );
  }
  return (
    <Section
      id="releases"
      title="Keys released to open your sealed data"
      count={releases.length}
      empty="No custodian released a key of your data."
      intro="Each time custodians released the key of a sealed asset of yours: to whom, for what, when."
    >
      <Table label="key releases" head={["when", "to", "your data", "purpose", "custodians", "chain block"]}>
        {releases.map((r) => (
          <tr key={`${r.requester}|${r.at}|${r.dataId}`}>
            <td>
              <Time t={r.at} />
            </td>
            <td>
              <Account address={r.requester.toLowerCase()} />
              {r.ownRequest && <Note>your own request</Note>}
            </td>
            <td>
              <DataRef dataId={r.dataId.toLowerCase()} />
            </td>
            <td>{purposeWords(r.purposeName)}</td>
            <td>{count(r.custodians.length, "custodian")}</td>
            <td>{r.block}</td>
          </tr>
        ))}
      </Table>
    </Section>
  );
}

function HistoryLine({ h }: { h: HistoryItem }) {
  const party = h.party === undefined ? null : <Account address={h.party} />;
  const data = h.dataId === undefined ? null : <DataRef dataId={h.dataId} />;
  const how = h.via !== undefined && h.by !== undefined ? <How via={h.via} by={h.by} /> : null;
  switch (h.kind) {
    case "granted":
      return (
        <>
          consent given to {party} for {data}: <PurposeWords purposes={h.purposes ?? []} />
          {h.expiresAt == null ? (
            ", with no expiry"
          ) : (
            <>
              , until <Time t={h.expiresAt} inline />
            </>
          )}{" "}
          — by {how}
        </>
      );
    case "withdrawn":
      return (
        <>
          consent of {party} for {data} withdrawn — by {how}
        </>
      );
    case "withdrew-all":
      return <>every consent and manager withdrawn (lockdown) — by {how}</>;
    case "signed-withdrawal-not-applied":
      return (
        <>
          a signed withdrawal for {party} and {data} was not applied: {h.note}
        </>
      );
    case "manager-appointed":
      return <>{party} appointed as your manager</>;
    case "manager-removed":
      return <>{party} no longer your manager</>;
    case "used":
      return (
        <>
          {party} used {data} for <PurposeWords purposes={h.purposes ?? []} />
        </>
      );
    case "shared":
      return (
        <>
          {party} shared {data} with {h.recipient === undefined ? null : <Account address={h.recipient} />} for{" "}
          <PurposeWords purposes={h.purposes ?? []} />
        </>
      );
  }
}

/** Everything that happened to my consents and data, newest first, on a timeline. */
export function HistoryTimeline({ history }: { history: readonly HistoryItem[] }) {
  const newestFirst = [...history].reverse();
  const { shown, more } = useLimited(newestFirst);
  return (
    <Section id="history" title="History, newest first" count={history.length} empty="Nothing happened yet.">
      <ol class="timeline">
        {shown.map((h, i) => (
          <li key={`${h.when.tx}|${i}`} class={`event ${h.kind}`}>
            <span class="at">
              <Time t={h.when.at} />
            </span>
            <span class="what">
              <HistoryLine h={h} />
            </span>
            <span class="rec">
              <Record at={h.when} />
            </span>
          </li>
        ))}
      </ol>
      {more}
    </Section>
  );
}

/** A chart drawn elsewhere (src/views/charts.ts) with its words; null: no data, said in words. */
export function Chart({ chart, empty }: { chart: ChartSvg | null; empty: string }) {
  if (chart === null) return <p class="empty">{empty}</p>;
  return (
    <figure class="chart">
      {/* Vega's SVG: every label in it is escaped by Vega; nothing else is set as markup. */}
      <div
        role="img"
        aria-label={`${chart.title}: ${chart.description}`}
        dangerouslySetInnerHTML={{ __html: chart.svg }}
      />
      <figcaption>
        <strong>{chart.title}.</strong> {chart.description}
      </figcaption>
    </figure>
  );
}

/** The owner's summary in a few numbers. */
export function OwnerSummary({ view }: { view: OwnerView }) {
  const live = view.consents.filter((c) => c.status === "active");
  const grantees = new Set(live.map((c) => c.grantee)).size;
  return (
    <dl class="summary">
      <div>
        <dt>consents in force</dt>
        <dd>
          {live.length} <span class="muted">({count(grantees, "grantee")})</span>
        </dd>
      </div>
      <div>
        <dt>withdrawals</dt>
        <dd>{view.withdrawals.length}</dd>
      </div>
      <div>
        <dt>uses recorded</dt>
        <dd>{view.uses.length}</dd>
      </div>
      <div>
        <dt>shares recorded</dt>
        <dd>{view.shares.length}</dd>
      </div>
      <div>
        <dt>current managers</dt>
        <dd>{view.managers.filter((m) => m.ended === null).length}</dd>
      </div>
    </dl>
  );
}

/** The whole owner view (the subject-access report's body; the dashboard may use the parts). */
export function OwnerReport({ view, charts }: { view: OwnerView; charts: ChartSvgs }) {
  return (
    <>
      <OwnerSummary view={view} />
      <LiveConsents view={view} />
      <Uses uses={view.uses} />
      <Shares shares={view.shares} />
      <Withdrawals withdrawals={view.withdrawals} />
      <EndedConsents view={view} />
      <KeyReleases releases={view.releases} />
      <Managers managers={view.managers} />
      <Integrations integrations={view.integrations} />
      <Section id="charts" title="Charts">
        <Chart chart={charts.timeline} empty="No consent change to draw." />
        <Chart chart={charts.perPurpose} empty="No use or share to draw." />
        <Chart chart={charts.perIntegration} empty="No share with an integration to draw." />
      </Section>
      <HistoryTimeline history={view.history} />
    </>
  );
}
