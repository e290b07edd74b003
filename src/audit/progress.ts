/** Sync progress on stderr: a bar on a TTY, plain lines otherwise, or nothing. */
export interface Progress {
  tick(done: number, total: number, events: number, elapsedMs: number, block: number): void;
  line(msg: string): void;
  debug(msg: string): void;
  done(msg: string): void;
}

export function makeProgress(mode: "auto" | "bar" | "lines" | "none"): Progress {
  const resolved = mode === "auto" ? (process.stderr.isTTY ? "bar" : "lines") : mode;
  let lastLine = 0;
  const write = (s: string) => process.stderr.write(s);
  if (resolved === "none") return { tick() {}, line() {}, debug() {}, done() {} };
  return {
    tick(done, total, events, elapsedMs, block) {
      const frac = total > 0 ? Math.min(1, done / total) : 1;
      const secs = Math.max(elapsedMs / 1000, 1e-3);
      const rate = events / secs;
      const eta = frac > 0 ? (secs * (1 - frac)) / frac : 0;
      const text = `block ${block} ${(frac * 100).toFixed(1)}% ${events} events ${rate.toFixed(0)} ev/s ETA ${eta.toFixed(0)}s`;
      if (resolved === "bar") {
        const width = 30;
        const filled = Math.round(frac * width);
        write(`\r[${"#".repeat(filled)}${".".repeat(width - filled)}] ${text}   `);
      } else if (Date.now() - lastLine > 2000) {
        lastLine = Date.now();
        write(`sync: ${text}\n`);
      }
    },
    line(msg) {
      write(`${resolved === "bar" ? "\n" : ""}sync: ${msg}\n`);
    },
    debug(msg) {
      if (process.env.OMNI_AUDIT_DEBUG) write(`sync: ${msg}\n`);
    },
    done(msg) {
      write(`${resolved === "bar" ? "\n" : ""}sync: ${msg}\n`);
    },
  };
}
