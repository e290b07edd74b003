import { expect } from "chai";

import { buildOwnerView, buildRopaView } from "../../src/views/build.js";
import { perPurposeSpec, renderSvg, timelineRows, timelineSpec } from "../../src/views/charts.js";
import { viewNames } from "../../src/views/names.js";
import { renderOwnerHtml, renderRopaHtml } from "../../src/views/render.js";
import { HOSTILE_NAME, OWNER, sampleHistory, T0 } from "./helpers/history.js";

const src = (asOf: number) => ({ chainId: 31337, source: "test events", asOf, generatedAt: "2026-10-21T09:00:00Z" });
/** The page's text without tags (what a reader sees, disclosures closed or open). */
const text = (html: string) =>
  html
    .replace(/<style>[\s\S]*?<\/style>/, "")
    .replace(/<svg[\s\S]*?<\/svg>/g, "")
    .replace(/<[^>]+>/g, " ")
    .replace(/\s+/g, " ");

/** The markup with every quoted attribute value emptied (text in values is not markup). */
const tagsOnly = (html: string) => html.replace(/"[^"]*"/g, '""');

describe("views: the reports rendered (Preact to string, Vega-Lite to SVG)", function () {
  this.timeout(30_000);
  const h = sampleHistory();
  const names = viewNames({ integrations: h.documents, labels: h.labels, accounts: h.accounts });
  let owner = "";
  let ropa = "";
  before(async () => {
    owner = await renderOwnerHtml(buildOwnerView(h.events, OWNER, src(h.asOf)), { names });
    ropa = await renderRopaHtml(buildRopaView(h.events, src(h.asOf)), { names });
  });

  it("escapes names from documents everywhere, the charts' SVG included", () => {
    for (const html of [owner, ropa]) {
      expect(html).to.not.include("<img");
      // No element carries an event handler or a script (the name is text, not a tag).
      expect(tagsOnly(html)).to.not.match(/<script|<[a-z][^>]*\son[a-z]+=/i);
      expect(html).to.include("&lt;img src=x onerror=alert(1)>");
    }
    // In the SVG, Vega escapes the label too (no element from it).
    const svgs = owner.match(/<svg[\s\S]*?<\/svg>/g)!;
    expect(svgs.length).to.equal(3);
    expect(svgs.join("")).to.include("&lt;img src=x onerror=alert(1)");
    expect(HOSTILE_NAME).to.include("<img");
  });

  it("names and labels instead of hex, the hex one click away", () => {
    const t = text(owner);
    for (const word of [
      "trainer-A",
      "Research Lab",
      "my sister",
      "old phone",
      "holiday photos 2026",
      "wearable heart rate",
    ]) {
      expect(t, word).to.include(word);
    }
    expect(t).to.include("all your data (ALL_DATA)");
    expect(t).to.include("allowed through ALL_DATA: this consent covers every data id of yours");
    expect(t).to.include("allowed only through your ALL_DATA consent");
    expect(t).to.include("still allowed through ALL_DATA for inference");
    // The label's data id is in a disclosure, never as the visible name.
    expect(owner).to.match(
      new RegExp(
        `<summary><span class="name">holiday photos 2026</span></summary><span class="hex-label">data id</span> <code class="hex">${h.photos}</code>`,
      ),
    );
  });

  it("times as ISO with zone and relative form; expiry with countdown; no unix seconds, no empty notice", () => {
    const t = text(owner);
    expect(t).to.include("2026-10-11T09:00:00Z 10 days ago"); // LAB's consent expired
    expect(t).to.include("2027-11-05T09:00:00Z (in 12 months)"); // the first grant, in the history
    expect(t).to.include("no expiry (until you withdraw it)");
    expect(t).to.include("no notice named");
    expect(owner).to.not.include(`0x${"0".repeat(64)}`);
    expect(t).to.not.match(new RegExp(String(T0).slice(0, 6)));
    // Sections apart: live consents, then ended ones.
    expect(t.indexOf("Who may use your data now (2)")).to.be.lessThan(t.indexOf("Consents no longer in force (1)"));
    expect(t).to.include("Your managers, current and past (2)");
    expect(t).to.include("suspended integration");
  });

  it("print CSS, no word broken inside (only hex may wrap), self-contained", () => {
    expect(owner).to.include("@media print");
    expect(owner).to.include("@page{size:A4 landscape");
    expect(owner).to.match(/th,td\{[^}]*word-break:normal;overflow-wrap:normal/);
    expect(owner).to.match(/code\.hex\{[^}]*overflow-wrap:anywhere/);
    expect(tagsOnly(owner)).to.not.match(/<link|<[a-z][^>]*\ssrc=|url\(/i);
    expect(ropa).to.include("Record of processing activities (GDPR Art. 30)");
    expect(text(ropa)).to.include("2 consents without expiry");
  });

  it("charts: a UTC date axis (YYYY-MM-DD), counts as integers", async () => {
    const svg = await renderSvg(
      timelineSpec([
        { start: T0, grants: 2, withdrawals: 0 },
        { start: T0 + 5 * 86_400, grants: 0, withdrawals: 1 },
      ]),
    );
    const labels = [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
    const dates = labels.filter((l) => /^\d{4}-\d{2}-\d{2}$/.test(l));
    expect(dates.length).to.be.greaterThan(1);
    expect(dates[0] >= "2026-10-01" && dates.at(-1)! <= "2026-10-07").to.equal(true);
    expect(labels).to.include("day (UTC)");
    expect(labels.filter((l) => /^\d+\.\d+$/.test(l))).to.deep.equal([]);
    const bars = await renderSvg(perPurposeSpec([{ label: "MODEL_TRAINING", uses: 3, shares: 1 }]));
    expect(bars).to.include(">model training<");
  });

  it("the timeline counts per UTC hour, day or month by the history's span, gaps kept", () => {
    const h0 = Date.UTC(2026, 11, 1, 13, 5) / 1000;
    expect(
      timelineRows([
        { start: h0, grants: 2, withdrawals: 0 },
        { start: h0 + 2 * 3600 + 60, grants: 0, withdrawals: 1 },
      ]),
    ).to.deep.equal({
      unit: "hour",
      rows: [
        { at: "2026-12-01 13:00", grants: 2, withdrawals: 0 },
        { at: "2026-12-01 14:00", grants: 0, withdrawals: 0 },
        { at: "2026-12-01 15:00", grants: 0, withdrawals: 1 },
      ],
    });
    const months = timelineRows([
      { start: Date.UTC(2026, 0, 31) / 1000, grants: 1, withdrawals: 0 },
      { start: Date.UTC(2026, 5, 2) / 1000, grants: 0, withdrawals: 3 },
    ]);
    expect(months.unit).to.equal("month");
    expect(months.rows.map((r) => `${r.at}:${r.grants}/${r.withdrawals}`)).to.deep.equal([
      "2026-01:1/0",
      "2026-02:0/0",
      "2026-03:0/0",
      "2026-04:0/0",
      "2026-05:0/0",
      "2026-06:0/3",
    ]);
    expect(timelineRows([])).to.deep.equal({ unit: "hour", rows: [] });
  });
});
