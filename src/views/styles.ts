/**
 * The reports' one stylesheet (inlined: the HTML file has no external resource). Words are never
 * broken inside (only hex, in <code>, may wrap anywhere); print keeps table rows whole and opens
 * the tables' hex disclosures, so "Save as PDF" keeps every hex (the history timeline, which
 * repeats the tables, prints its lines without them).
 */
export const REPORT_CSS = `
:root{--fg:#1d1d1f;--muted:#555;--line:#d0d0d6;--bg-head:#f2f2f5;--ok:#136c3a;--warn:#8a4b00;--accent:#1f4fa0}
*{box-sizing:border-box}
html{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);line-height:1.45}
body{margin:0 auto;padding:1.5rem 2rem 3rem;max-width:80rem}
header.report-head{border-bottom:2px solid var(--fg);margin-bottom:1rem}
h1{font-size:1.6rem;margin:0 0 .3rem}
h2{font-size:1.2rem;margin:2rem 0 .4rem;border-bottom:1px solid var(--line);padding-bottom:.2rem}
h3{font-size:1rem;margin:1.2rem 0 .3rem;display:flex;flex-wrap:wrap;gap:.5rem;align-items:baseline}
h3 details.id{display:inline-block}
p{margin:.3rem 0}
.meta{color:var(--muted);font-size:.9rem}
.intro{color:var(--muted);max-width:60rem}
.empty{font-style:italic;color:var(--muted)}
.muted{color:var(--muted)}
.count{color:var(--muted);font-weight:normal}
dl.summary{display:flex;flex-wrap:wrap;gap:.5rem 2rem;margin:1rem 0;padding:0}
dl.summary div{min-width:9rem}
dl.summary dt{font-size:.8rem;color:var(--muted)}
dl.summary dd{margin:0;font-size:1.4rem;font-weight:600}
.table-wrap{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:.85rem;margin:.3rem 0 1rem}
th,td{border:1px solid var(--line);padding:.35rem .5rem;text-align:left;vertical-align:top;word-break:normal;overflow-wrap:normal;hyphens:manual}
thead th{background:var(--bg-head);white-space:nowrap}
tbody th{font-weight:normal}
tr{break-inside:avoid}
.when{display:inline-flex;flex-direction:column;white-space:nowrap}
.when .rel{color:var(--muted);font-size:.8rem}
.when-inline{white-space:nowrap}
.by{display:block;font-size:.8rem}
.block{display:block}
.note{display:block;font-size:.8rem;color:var(--warn);margin-top:.15rem;max-width:28rem}
.facts{display:block;font-size:.8rem;color:var(--muted);max-width:32rem}
.since{display:block;font-size:.8rem;color:var(--muted)}
.status{display:inline-block;font-size:.8rem;padding:0 .4rem;border-radius:.6rem;border:1px solid currentColor;white-space:nowrap}
.status.ok{color:var(--ok)}
.status.warn{color:var(--warn)}
.you{font-weight:600}
.name{font-weight:600}
.unnamed{font-family:ui-monospace,monospace}
ul.purposes{list-style:none;margin:0;padding:0;display:flex;flex-wrap:wrap;gap:.25rem}
ul.purposes li{background:#e8eef8;color:#17345f;border-radius:.3rem;padding:0 .35rem;white-space:nowrap}
ul.plain{list-style:none;margin:0;padding:0}
details{display:inline-block}
details summary{cursor:pointer;color:var(--accent)}
details summary:focus-visible{outline:2px solid var(--accent);outline-offset:2px}
details[open]{display:block}
code.hex{font-family:ui-monospace,monospace;font-size:.78rem;overflow-wrap:anywhere;word-break:break-all}
.hex-label{font-size:.75rem;color:var(--muted)}
details.record dl{margin:.2rem 0;font-size:.78rem}
details.record dt{color:var(--muted)}
details.record dd{margin:0 0 .2rem}
ol.timeline{list-style:none;margin:0;padding:0 0 0 1rem;border-left:2px solid var(--line)}
ol.timeline li{position:relative;display:grid;grid-template-columns:12.5rem minmax(0,1fr) auto;gap:.8rem;padding:.35rem 0;border-bottom:1px dotted var(--line);break-inside:avoid}
ol.timeline li::before{content:"";position:absolute;left:-1.4rem;top:.7rem;width:.6rem;height:.6rem;border-radius:50%;background:var(--accent)}
ol.timeline li.withdrawn::before,ol.timeline li.withdrew-all::before{background:#b3261e}
ol.timeline li.granted::before{background:var(--ok)}
ol.timeline .what ul.purposes{display:inline-flex}
figure.chart{margin:1rem 0;break-inside:avoid}
figure.chart svg{max-width:100%;height:auto}
figcaption{font-size:.85rem;color:var(--muted);max-width:60rem}
a{color:var(--accent)}
footer{margin-top:2rem;font-size:.8rem;color:var(--muted)}
@media (max-width:40rem){
  body{padding:1rem}
  .table-wrap table{min-width:44rem}
  ol.timeline li{grid-template-columns:minmax(0,1fr)}
  dl.summary div{min-width:7rem}
}
@media print{
  @page{size:A4 landscape;margin:12mm}
  body{padding:0;max-width:none}
  .table-wrap{overflow:visible}
  table{font-size:8pt}
  table details::details-content,h3 details::details-content{content-visibility:visible;display:block}
  ol.timeline .rec{display:none}
  details summary{color:var(--fg)}
  h2,h3{break-after:avoid}
  a{color:var(--fg)}
}
`;
