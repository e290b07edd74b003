import { iso, type Report } from "./report-build.js";

/** The report's inline SVG charts (no script): the consent timeline and per-purpose / per-integration bars. */

export const esc = (s: string | number) =>
  String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

export function lineChart(data: Report["charts"]["timeline"]): string {
  if (data.length === 0) return "<p>No consent changes.</p>";
  const w = 640;
  const h = 200;
  const pad = 30;
  const max = Math.max(1, ...data.map((d) => Math.max(d.grants, d.withdrawals)));
  const x = (i: number) => pad + (data.length === 1 ? 0 : (i * (w - 2 * pad)) / (data.length - 1));
  const y = (v: number) => h - pad - (v * (h - 2 * pad)) / max;
  const path = (k: "grants" | "withdrawals") =>
    data.map((d, i) => `${x(i).toFixed(1)},${y(d[k]).toFixed(1)}`).join(" ");
  // Dots mark each bucket, so a history whose events all fall in one bucket still shows.
  const dots = (k: "grants" | "withdrawals", color: string) =>
    data
      .map((d, i) =>
        d[k] > 0
          ? `<circle cx="${x(i).toFixed(1)}" cy="${y(d[k]).toFixed(1)}" r="3" fill="${color}"><title>${d[k]}</title></circle>`
          : "",
      )
      .join("");
  return `<svg viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img" aria-label="Consents and withdrawals over time">
<line x1="${pad}" y1="${h - pad}" x2="${w - pad}" y2="${h - pad}" stroke="#888"/><line x1="${pad}" y1="${pad}" x2="${pad}" y2="${h - pad}" stroke="#888"/>
<text x="2" y="${pad}" font-size="10">${max}</text><text x="${pad}" y="${h - 8}" font-size="10">${esc(iso(data[0].start).slice(0, 16))}</text>
<text x="${w - pad - 90}" y="${h - 8}" font-size="10">${esc(iso(data[data.length - 1].start).slice(0, 16))}</text>
<polyline fill="none" stroke="#2a7" stroke-width="2" points="${path("grants")}"/><polyline fill="none" stroke="#c33" stroke-width="2" points="${path("withdrawals")}"/>
${dots("grants", "#2a7")}${dots("withdrawals", "#c33")}
<text x="${w - 150}" y="14" font-size="11" fill="#2a7">■ consents</text><text x="${w - 80}" y="14" font-size="11" fill="#c33">■ withdrawals</text></svg>`;
}

export function barChart(
  title: string,
  bars: { label: string; values: number[] }[],
  colors: string[],
  legend: string[],
): string {
  if (bars.length === 0) return `<p>${esc(title)}: none.</p>`;
  const rowH = 22;
  const labelW = 330;
  const w = 720;
  const max = Math.max(1, ...bars.flatMap((b) => b.values));
  const h = bars.length * rowH + 24;
  const parts = bars.map((b, i) => {
    const sub = rowH / b.values.length - 2;
    const rects = b.values
      .map((v, j) => {
        const bw = ((w - labelW - 60) * v) / max;
        const yy = 20 + i * rowH + j * (sub + 1);
        return `<rect x="${labelW}" y="${yy}" width="${bw.toFixed(1)}" height="${sub.toFixed(1)}" fill="${colors[j]}"/><text x="${(labelW + bw + 4).toFixed(1)}" y="${(yy + sub - 1).toFixed(1)}" font-size="9">${v}</text>`;
      })
      .join("");
    return `<text x="0" y="${20 + i * rowH + rowH / 2}" font-size="11">${esc(b.label)}</text>${rects}`;
  });
  const leg = legend
    .map((l, j) => `<text x="${labelW + j * 80}" y="12" font-size="11" fill="${colors[j]}">■ ${esc(l)}</text>`)
    .join("");
  return `<svg viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img" aria-label="${esc(title)}">${leg}${parts.join("")}</svg>`;
}
