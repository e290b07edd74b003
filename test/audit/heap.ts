import { expect } from "chai";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

import { boundHeapGrowth } from "../../src/audit/heap.js";

const HEAP = fileURLToPath(new URL("../../src/audit/heap.ts", import.meta.url));

/**
 * A sync's allocation pattern in miniature, in its own process (the flag is process-wide; Node
 * strips heap.ts's types itself): 150 chunks of 20,000 small objects, each kept while the next
 * is built (sync's read-ahead), so every chunk is promoted to the old generation and dies there.
 * Prints the peak heap in MB.
 */
function peakHeapMb(bound: boolean): number {
  const script = `
    import v8 from "node:v8";
    import { boundHeapGrowth } from ${JSON.stringify(HEAP)};
    if (${bound}) boundHeapGrowth();
    let peak = 0;
    const keep = [];
    for (let chunk = 0; chunk < 150; chunk++) {
      keep.push(Array.from({ length: 20000 }, (_, i) => ({ hash: (chunk * 1e6 + i).toString(16).padStart(64, "0"), args: { i, s: "x".repeat(20) + i } })));
      if (keep.length > 2) keep.shift();
      await new Promise((r) => setImmediate(r));
      peak = Math.max(peak, v8.getHeapStatistics().total_heap_size);
    }
    console.log(Math.round(peak / 1e6));`;
  const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], {
    encoding: "utf8",
  });
  return Number(out.trim());
}

describe("audit: sync's heap growth bound (heap.ts)", () => {
  it("the same churn peaks at most 80% as high with the bound as without it, measured side by side", function () {
    this.timeout(60_000);
    const free = peakHeapMb(false);
    const bounded = peakHeapMb(true);
    // Seen here: 191–217 MB without, 113–141 MB with; two chunks (~25 MB) are live throughout.
    expect(bounded, `bounded ${bounded} MB, free ${free} MB`).to.be.at.most(0.8 * free);
    expect(bounded).to.be.at.least(25);
  });

  it("refuses a growth outside 10–300% with an error naming the value", () => {
    expect(() => boundHeapGrowth(5)).to.throw(RangeError, "percent must be an integer from 10 to 300, got 5");
    expect(() => boundHeapGrowth(1.5)).to.throw(RangeError, "got 1.5");
  });
});
