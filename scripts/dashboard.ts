/**
 * `npm run dashboard`: builds the owner's dashboard (Vite) and serves it on 127.0.0.1 (a free
 * port unless --port), printing the URL. The page is static: it talks to the node, the wallet
 * and, with --indexer, the indexer's API straight from the browser. Served beside it:
 * `config.json` (what the flags say) and `documents/` (the integration and purpose documents
 * names are read from, checked against their on-chain hashes).
 *
 *   npm run dashboard -- [--rpc URL] [--registry 0x… --integrations 0x… --authority 0x…]
 *                        [--from-block N] [--indexer URL [--indexer-network NAME]]
 *                        [--explorer https://…/tx/] [--documents DIR] [--port N] [--no-build]
 *
 * Without addresses the page uses the deployment the package ships for the chain (31337: the
 * CREATE2 addresses `npm run deploy:node` gives on a `hardhat node`).
 */
import { existsSync, readFileSync } from "node:fs";
import { join, normalize, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

import { build, preview } from "vite";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const CONFIG = join(ROOT, "dashboard", "vite.config.ts");

function fail(line: string): never {
  process.stderr.write(`dashboard: ${line}\n`);
  process.exit(2);
}

let values: ReturnType<typeof parse>;
function parse() {
  return parseArgs({
    options: {
      rpc: { type: "string", default: "http://127.0.0.1:8545" },
      registry: { type: "string" },
      integrations: { type: "string" },
      authority: { type: "string" },
      "from-block": { type: "string" },
      "chain-id": { type: "string" },
      indexer: { type: "string" },
      "indexer-network": { type: "string" },
      explorer: { type: "string" },
      documents: { type: "string", default: join(ROOT, "documents") },
      port: { type: "string", default: "0" },
      "no-build": { type: "boolean", default: false },
    },
    strict: true,
  }).values;
}
try {
  values = parse();
} catch (err) {
  fail(`${(err as Error).message}; see the usage at the top of scripts/dashboard.ts`);
}

const address = /^0x[0-9a-fA-F]{40}$/;
const given = [values.registry, values.integrations, values.authority].filter((v) => v !== undefined);
if (given.length !== 0 && given.length !== 3)
  fail("give all three of --registry, --integrations and --authority, or none");
for (const k of ["registry", "integrations", "authority"] as const) {
  const v = values[k];
  if (v !== undefined && !address.test(v)) fail(`--${k} ${v}: expected a 0x address (40 hex digits)`);
}
for (const k of ["rpc", "indexer", "explorer"] as const) {
  const v = values[k];
  if (v !== undefined && !/^https?:\/\/[^\s]+$/.test(v)) fail(`--${k} ${v}: expected an http(s) URL`);
}
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535)
  fail(`--port ${values.port}: expected 0–65535 (0: a free port)`);
for (const k of ["from-block", "chain-id"] as const) {
  const v = values[k];
  if (v !== undefined && !/^[0-9]+$/.test(v)) fail(`--${k} ${v}: expected a whole number`);
}
const documents = resolve(values.documents!);
if (!existsSync(documents)) fail(`--documents ${documents}: no such folder`);

const config = {
  rpc: values.rpc,
  ...(values["chain-id"] ? { chainId: Number(values["chain-id"]) } : {}),
  ...(values.registry
    ? { registry: values.registry, integrations: values.integrations, authority: values.authority }
    : {}),
  ...(values["from-block"] ? { fromBlock: Number(values["from-block"]) } : {}),
  ...(values.indexer ? { indexer: values.indexer } : {}),
  ...(values["indexer-network"] ? { indexerNetwork: values["indexer-network"] } : {}),
  ...(values.explorer ? { explorer: values.explorer } : {}),
  documents: "./documents",
};

if (!values["no-build"] || !existsSync(join(ROOT, "dashboard", "dist", "index.html"))) {
  await build({ configFile: CONFIG, logLevel: "warn" });
}

const server = await preview({
  configFile: CONFIG,
  logLevel: "warn",
  preview: { host: "127.0.0.1", port, strictPort: port !== 0, open: false },
  plugins: [
    {
      name: "dashboard-config-and-documents",
      configurePreviewServer(s) {
        s.middlewares.use((req, res, next) => {
          const url = new URL(req.url ?? "/", "http://127.0.0.1");
          if (url.pathname === "/config.json") {
            res.setHeader("content-type", "application/json");
            res.setHeader("cache-control", "no-store");
            res.end(JSON.stringify(config));
            return;
          }
          const m = /^\/documents\/(0x[0-9a-f]{64}\.json)$/.exec(url.pathname);
          if (m) {
            const file = normalize(join(documents, m[1]!));
            if (!existsSync(file)) {
              res.statusCode = 404;
              res.end("no such document");
              return;
            }
            res.setHeader("content-type", "application/json");
            res.end(readFileSync(file));
            return;
          }
          next();
        });
      },
    },
  ],
});

const bound = server.httpServer.address();
const actualPort = typeof bound === "object" && bound ? bound.port : port;
process.stdout.write(`dashboard: http://127.0.0.1:${actualPort}/\n`);
const stop = () => {
  server.httpServer.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2_000).unref();
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
