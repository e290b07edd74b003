import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execFileSync } from "node:child_process";

import { expect } from "chai";
import { network } from "hardhat";
import { type Browser, chromium, type Page } from "playwright-core";

import { openAuditDb, syncEvents, writeReport } from "../src/audit/index.js";
import { folderDocumentSource, writeDocumentToFolder } from "../src/documents/folder-source.js";
import { ALL_DATA, NO_EXPIRY } from "../src/sdk/constants.js";
import { buildOwnerView, buildRopaView } from "../src/views/build.js";
import { viewNames } from "../src/views/names.js";
import { renderOwnerHtml, renderRopaHtml } from "../src/views/render.js";
import { deploySystem } from "../test/helpers/fixture.js";
import { OWNER, sampleHistory } from "../test/views/helpers/history.js";

/**
 * The reports in a real browser (issue 13): Debian's headless Chromium, driven by playwright-core
 * (no browser download), opens the subject-access report and the Art. 30 record — from a chain
 * history synced by the audit toolkit and from the views' sample history — writes screenshots
 * to reports/screenshots/ and runs axe-core: no serious and no critical violation.
 *
 * Run: npm run test:browser (needs /usr/bin/chromium, or CHROMIUM=<path>).
 */

const OUT = join(import.meta.dirname, "..", "reports", "screenshots");
const AXE = readFileSync(join(import.meta.dirname, "..", "node_modules", "axe-core", "axe.min.js"), "utf8");
const CHROMIUM =
  process.env.CHROMIUM ?? execFileSync("sh", ["-c", "command -v chromium || echo /usr/bin/chromium"]).toString().trim();

const { ethers } = await network.create();

interface AxeResult {
  violations: { id: string; impact: string | null; nodes: { target: string[] }[] }[];
}

async function axe(page: Page): Promise<{ serious: number; critical: number; ids: string[] }> {
  await page.addScriptTag({ content: AXE });
  const r = await page.evaluate(
    async () => (await (globalThis as unknown as { axe: { run(): Promise<AxeResult> } }).axe.run()) as AxeResult,
  );
  return {
    serious: r.violations.filter((v) => v.impact === "serious").length,
    critical: r.violations.filter((v) => v.impact === "critical").length,
    ids: r.violations.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`),
  };
}

describe("reports in headless Chromium: screenshots and axe-core", function () {
  this.timeout(120_000);
  let browser: Browser;
  const dir = mkdtempSync(join(tmpdir(), "omni-browser-"));
  const files: Record<string, string> = {};
  const results: Record<string, unknown> = {};

  before(async () => {
    mkdirSync(OUT, { recursive: true });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });

    // A chain history: an integration with its document, consents by the owner and a manager,
    // ALL_DATA, uses, a share and a withdrawal; synced and rendered by the audit's writeReport.
    const { admin, accounts, registry, integrations } = await deploySystem(ethers);
    const [owner, processor, partner, manager] = accounts;
    const docs = join(dir, "documents");
    const partnerDoc = {
      format: "omni-consent/integration-document@1",
      integration: partner.address,
      displayName: "Partner Analytics",
      legalEntity: "Partner Analytics SAS",
      country: "FR",
      privacyPolicy: "https://partner.example/privacy",
      contact: { email: "dpo@partner.example" },
      purposes: [
        { id: 2, name: "INFERENCE", dpv: "https://w3id.org/dpv#ServiceProvision" },
        { id: 6, name: "THIRD_PARTY_SHARING", dpv: "https://w3id.org/dpv#ServiceProvision" },
      ],
      retention: { period: "P30D" },
    };
    const metadataHash = await writeDocumentToFolder(docs, partnerDoc);
    await integrations.connect(admin).registerIntegration(partner.address, metadataHash, 0b1000100n);
    const data = ethers.id("photos");
    await registry.connect(owner).setManager(manager.address, true);
    await registry.connect(owner).grant(processor.address, ALL_DATA, 0b101n, NO_EXPIRY, ethers.id("notice-v1"));
    await registry.connect(manager).grantFor(owner.address, partner.address, data, 0b100n, NO_EXPIRY, ethers.ZeroHash);
    await registry.connect(processor).recordUse(owner.address, data, 0, ethers.id("job-1"));
    await registry.connect(processor).recordShare(owner.address, partner.address, data, 2, ethers.id("share-1"));
    await registry.connect(owner).revoke(partner.address, data);
    await registry
      .connect(manager)
      .grantFor(owner.address, partner.address, ethers.id("wearable"), 0b100n, NO_EXPIRY, ethers.ZeroHash);
    const db = openAuditDb(join(dir, "r.db"));
    await syncEvents({ db, rpc: ethers.provider, registry: await registry.getAddress(), progress: "none" });
    const known = { [processor.address]: "trainer-A", [manager.address]: "my assistant" };
    const documents = folderDocumentSource(docs);
    files["chain-owner"] = join(dir, "chain-owner.html");
    files["chain-ropa"] = join(dir, "chain-ropa.html");
    await writeReport(db, {
      kind: "owner",
      subject: owner.address,
      format: "html",
      out: files["chain-owner"],
      documents,
      accounts: known,
    });
    await writeReport(db, { kind: "ropa", format: "html", out: files["chain-ropa"], documents, accounts: known });
    db.close();

    // The views' sample history: every kind of row, names that try to inject markup.
    const h = sampleHistory();
    const src = { chainId: 31337, source: "test events", asOf: h.asOf, generatedAt: "2026-10-21T09:00:00Z" };
    const sampleNames = viewNames({ integrations: h.documents, labels: h.labels, accounts: h.accounts });
    files["sample-owner"] = join(dir, "sample-owner.html");
    files["sample-ropa"] = join(dir, "sample-ropa.html");
    writeFileSync(
      files["sample-owner"],
      await renderOwnerHtml(buildOwnerView(h.events, OWNER, src), { names: sampleNames }),
    );
    writeFileSync(files["sample-ropa"], await renderRopaHtml(buildRopaView(h.events, src), { names: sampleNames }));
  });

  after(async () => {
    await browser?.close();
    writeFileSync(join(OUT, "axe.json"), JSON.stringify(results, null, 2) + "\n");
    rmSync(dir, { recursive: true, force: true });
  });

  for (const name of ["chain-owner", "chain-ropa", "sample-owner", "sample-ropa"]) {
    it(`${name}: screenshot, no serious or critical axe violation, no page-wide overflow, no script`, async () => {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(e.message));
      page.on("dialog", (d) => {
        errors.push(`dialog: ${d.message()}`);
        void d.dismiss();
      });
      await page.goto(`file://${files[name]}`);
      await page.screenshot({ path: join(OUT, `${name}.png`), fullPage: true });
      const a = await axe(page);
      results[name] = a;
      expect(a.ids, a.ids.join("\n")).to.be.an("array");
      expect([a.serious, a.critical]).to.deep.equal([0, 0]);
      // Nothing runs (the hostile names are text), nothing overflows the page sideways.
      expect(errors).to.deep.equal([]);
      expect(await page.evaluate(() => document.scripts.length)).to.equal(1); // axe's own, added by the test
      expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).to.equal(true);
      // Words are never broken inside: only hex (code.hex) may wrap anywhere.
      const breaking = await page.evaluate(() =>
        [...document.querySelectorAll("body *")]
          .filter((el) => {
            const s = getComputedStyle(el);
            return (s.wordBreak === "break-all" || s.overflowWrap === "anywhere") && !el.matches("code.hex");
          })
          .map((el) => el.tagName),
      );
      expect(breaking).to.deep.equal([]);
      await page.close();
    });
  }

  it("chain-owner: names from the integration document, hex one keypress away, saved as PDF", async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`file://${files["chain-owner"]}`);
    const body = await page.locator("main").innerText();
    expect(body).to.include("Partner Analytics");
    expect(body).to.include("Partner Analytics SAS (FR)");
    expect(body).to.include("no notice named");
    expect(body).to.match(/by manager\s+my assistant/); // the consent the manager gave
    expect(body).to.include("trainer-A");
    // Keyboard: the first disclosure opens with Enter and shows the full hex.
    const first = page.locator("#live details.id summary").first();
    await first.focus();
    await page.keyboard.press("Enter");
    const opened = page.locator("#live details.id").first();
    expect(await opened.getAttribute("open")).to.equal("");
    expect(await opened.locator("code.hex").innerText()).to.match(/^0x[0-9a-f]{40}$/);
    const hiddenHex = () =>
      page.evaluate(() => {
        const all = [...document.querySelectorAll("table code.hex")];
        return [all.length, all.filter((c) => !c.checkVisibility()).length];
      });
    // On screen the disclosures are closed: their hex takes no room.
    const onScreen = await hiddenHex();
    expect(onScreen[1]).to.equal(onScreen[0]); // (the one opened above is in a heading)
    await page.emulateMedia({ media: "print" });
    await page.screenshot({ path: join(OUT, "chain-owner-print.png"), fullPage: true });
    const pdf = await page.pdf({ format: "A4", landscape: true, printBackground: true });
    writeFileSync(join(OUT, "chain-owner.pdf"), pdf);
    expect(pdf.subarray(0, 5).toString()).to.equal("%PDF-");
    // In print every hex of the tables is visible (the timeline repeats them without).
    const hex = await hiddenHex();
    expect(hex[0]).to.be.greaterThan(20);
    expect(hex[1]).to.equal(0);
    await page.close();
  });

  it("sample-owner on a phone-sized screen: tables scroll inside their box, the page does not", async () => {
    const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
    await page.goto(`file://${files["sample-owner"]}`);
    await page.screenshot({ path: join(OUT, "sample-owner-narrow.png"), fullPage: true });
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).to.equal(true);
    await page.close();
  });
});
