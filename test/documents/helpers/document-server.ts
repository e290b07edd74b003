import { realpathSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * A loopback document server for test/documents/resolve.ts, its own process (stopped by its
 * pid):
 *
 *   node --import tsx test/documents/helpers/document-server.ts <folder>
 *
 * It listens on 127.0.0.1 (a port the OS picks) and prints `listening <port>`. Routes, each
 * ending in a file name of <folder>:
 * - `/docs/<name>` and `/ipfs/<cid>/<name>` (a gateway's path form): the file, or 404;
 * - `/stall/<name>`: headers never come (the client's timeout must end it);
 * - `/fail/<name>`: HTTP 500;
 * - `/big/<name>`: a 1 MiB body with no content-length.
 *
 * It runs only as a program: mocha loads every file under test/, and then this file does nothing.
 */

const isEntryPoint =
  process.argv[1] !== undefined && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
if (isEntryPoint) main();

function main(): void {
  const folder = process.argv[2];
  if (folder === undefined) {
    process.stderr.write("usage: document-server.ts <folder>\n");
    process.exit(2);
  }
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://127.0.0.1").pathname;
    const name = basename(path);
    if (path.startsWith("/stall/")) return; // never answered
    if (path.startsWith("/fail/")) {
      res.writeHead(500, { "content-type": "text/plain" }).end("boom");
      return;
    }
    if (path.startsWith("/big/")) {
      res.writeHead(200, { "content-type": "application/json" });
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      for (let i = 0; i < 16; i++) res.write(chunk);
      res.end();
      return;
    }
    if (!path.startsWith("/docs/") && !/^\/ipfs\/[^/]+\/[^/]+$/.test(path)) {
      res.writeHead(404).end();
      return;
    }
    readFile(join(folder, name)).then(
      (body) => res.writeHead(200, { "content-type": "application/json" }).end(body),
      () => res.writeHead(404, { "content-type": "text/plain" }).end("not found"),
    );
  });
  server.listen(0, "127.0.0.1", () => {
    const a = server.address();
    process.stdout.write(`listening ${typeof a === "object" && a !== null ? a.port : 0}\n`);
  });
  const stop = () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}
