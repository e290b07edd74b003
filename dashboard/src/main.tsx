import { render } from "preact";

import { REPORT_CSS } from "../../src/views/styles.js";
import { App } from "./app.js";
import { loadConfig } from "./config.js";

window.__dashboard = { loadStartMs: performance.now() };
// The views' stylesheet first (the same as the report's), the page's own rules after it.
const views = document.createElement("style");
views.textContent = REPORT_CSS;
document.head.prepend(views);
const root = document.getElementById("app")!;
void loadConfig().then((cfg) => render(<App cfg={cfg} />, root));
