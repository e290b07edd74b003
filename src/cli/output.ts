/**
 * Output of the CLI: `--json` prints exactly one JSON document on stdout (bigints as decimal
 * strings, so nothing loses precision); otherwise a short human-readable text or table.
 * Diagnostics never go to stdout, so `--json` output can always be piped into `jq`.
 */

/** JSON.stringify with bigints as decimal strings. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === "bigint" ? v.toString() : v), 2);
}

let printedJson = false;

/** Prints `value` as JSON. */
export function printJson(value: unknown): void {
  printedJson = true;
  process.stdout.write(`${toJson(value)}\n`);
}

/** Whether this run printed its JSON document already (then a failure adds no second one); resets the flag. */
export function takePrintedJson(): boolean {
  const was = printedJson;
  printedJson = false;
  return was;
}

/** Prints lines of text. */
export function printLines(...lines: string[]): void {
  process.stdout.write(`${lines.join("\n")}\n`);
}

/** `key: value` lines with aligned values. */
export function formatFields(fields: readonly (readonly [string, string])[]): string {
  const width = Math.max(0, ...fields.map(([k]) => k.length));
  return fields.map(([k, v]) => `${`${k}:`.padEnd(width + 2)}${v}`).join("\n");
}

/** A plain-text table: a header row, a rule, then the rows; `empty` when there are no rows. */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[], empty: string): string {
  if (rows.length === 0) return empty;
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i])))
      .join("  ")
      .trimEnd();
  return [line(headers), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

/** A short form of a 32-byte value for tables (`0x1234…abcd`); ALL_DATA reads `ALL`. */
export function shortHash(value: string): string {
  if (/^0xf{64}$/i.test(value)) return "ALL";
  return value.length > 14 ? `${value.slice(0, 6)}…${value.slice(-4)}` : value;
}
