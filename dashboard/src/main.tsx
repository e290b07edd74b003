import { render } from "preact";

import { App } from "./app.js";
import { loadConfig } from "./config.js";

window.__dashboard = { loadStartMs: performance.now() };
const root = document.getElementById("app")!;
void loadConfig().then((cfg) => render(<App cfg={cfg} />, root));
