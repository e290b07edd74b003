import { appendFileSync, realpathSync } from "node:fs";
import { createServer } from "node:http";
import type { IncomingMessage, ServerResponse } from "node:http";
import { fileURLToPath } from "node:url";

/**
 * A loopback JSON-RPC proxy that loses connections on purpose, for the "sent, not confirmed"
 * tests (test/cli/not-confirmed.ts, test/sdk/not-confirmed.ts). Its own process, so a test stops
 * it by its pid:
 *
 *   node --import tsx test/cli/rpc-proxy.ts <upstream-url> <mode> <log-file>
 *
 * It listens on 127.0.0.1 (a port the OS picks), prints `listening <port>` on stdout, and
 * appends one line per JSON-RPC method it sees to `<log-file>` (`<method> forwarded|dropped`).
 * Modes:
 * - `pass`: forward everything.
 * - `drop-after-send`: forward a request holding `eth_sendRawTransaction` or
 *   `eth_sendTransaction` to the node, wait for the node's answer (so the node has the
 *   transaction), then destroy the client's connection without answering: the client cannot
 *   know whether its transaction was accepted.
 * - `drop-receipt`: destroy the connection of any request holding `eth_getTransactionReceipt`
 *   without forwarding it (the transaction itself went through).
 * Batches (JSON arrays) count as holding a method when any of their items does.
 *
 * It runs only as a program: mocha loads every file under test/, and then this file does nothing.
 */

const isEntryPoint =
  process.argv[1] !== undefined && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
if (isEntryPoint) main();

function main(): void {
  const [upstream, mode, logFile] = process.argv.slice(2);
  if (upstream === undefined || logFile === undefined || !["pass", "drop-after-send", "drop-receipt"].includes(mode)) {
    process.stderr.write("usage: rpc-proxy.ts <upstream-url> pass|drop-after-send|drop-receipt <log-file>\n");
    process.exit(2);
  }

  const SENDS = new Set(["eth_sendRawTransaction", "eth_sendTransaction"]);

  function methodsOf(body: string): string[] {
    try {
      const parsed = JSON.parse(body) as unknown;
      const items = Array.isArray(parsed) ? parsed : [parsed];
      return items.map((i) => String((i as { method?: unknown }).method));
    } catch {
      return ["<unparsable>"];
    }
  }

  function log(methods: readonly string[], what: string): void {
    appendFileSync(logFile, methods.map((m) => `${m} ${what}\n`).join(""));
  }

  async function forward(body: string): Promise<{ status: number; text: string }> {
    const res = await fetch(upstream, { method: "POST", headers: { "content-type": "application/json" }, body });
    return { status: res.status, text: await res.text() };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString("utf8");
    const methods = methodsOf(body);
    if (mode === "drop-receipt" && methods.includes("eth_getTransactionReceipt")) {
      log(methods, "dropped");
      req.socket.destroy();
      return;
    }
    const reply = await forward(body);
    if (mode === "drop-after-send" && methods.some((m) => SENDS.has(m))) {
      log(methods, "forwarded-then-dropped");
      req.socket.destroy();
      return;
    }
    log(methods, "forwarded");
    res.writeHead(reply.status, { "content-type": "application/json" });
    res.end(reply.text);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      process.stderr.write(`proxy: ${String(err)}\n`);
      req.socket.destroy();
    });
  });
  // No keep-alive reuse across requests: each dropped request takes only its own connection down.
  server.keepAliveTimeout = 1;
  server.listen(0, "127.0.0.1", () => {
    const address = server.address();
    const port = typeof address === "object" && address !== null ? address.port : 0;
    process.stdout.write(`listening ${port}\n`);
  });
  const stop = (): void => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}
