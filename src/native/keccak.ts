import { createRequire } from "node:module";
import { dirname, join } from "node:path";

import { keccak_256 } from "@noble/hashes/sha3.js";

/**
 * keccak-256 in Node, fast: the native addon of the optional `keccak` package (prebuilt binaries
 * inside its npm package, the same maintainers as `secp256k1`) when it loads, else
 * @noble/hashes'. The same output at every length (test/audit/ecdsa.ts, test/keys/eip712.ts);
 * measured here 2–3 µs per hash of two words (the addon's sponge), 9–10 µs (noble), 39–68 µs
 * (ethers' keccak256). The auditor's signed-request digests and the custodian's key-request
 * hashes both use it.
 * `OMNI_NO_NATIVE_KECCAK=1` forces the pure-JS hash.
 */

/** The addon's sponge (what `keccak`'s own stream API wraps). */
interface KeccakState {
  initialize(rate: number, capacity: number): void;
  absorb(data: Buffer): void;
  squeeze(length: number): Buffer;
}

/**
 * The addon's sponge itself, loaded the way the package's `bindings.js` loads it
 * (`node-gyp-build` on the package's folder). Not the package's `keccak("keccak256")` API: that
 * builds a readable-stream Transform for every hash: 7.4 µs for a hash of two words here, the
 * sponge alone, reused, 2–3 µs (noble: 9–10 µs).
 */
function loadKeccak(): KeccakState | undefined {
  if (process.env.OMNI_NO_NATIVE_KECCAK === "1") return undefined;
  try {
    const require = createRequire(import.meta.url);
    const dir = dirname(require.resolve("keccak/package.json"));
    const addon = createRequire(join(dir, "bindings.js"))("node-gyp-build")(dir) as unknown;
    if (typeof addon !== "function") return undefined; // a runtime without N-API (the package checks the same)
    const state = new (addon as new () => KeccakState)();
    // Another 3.x release may shape its addon differently: use it only if it hashes "" right.
    state.initialize(1088, 512);
    state.absorb(Buffer.alloc(0));
    return state.squeeze(32).toString("hex") === EMPTY ? state : undefined;
  } catch {
    return undefined;
  }
}

/** keccak-256 of no bytes. */
const EMPTY = "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470";

const sponge = loadKeccak();

/** Which implementation hashes keccak-256 in this process (the optional `keccak` addon, or noble's). */
export const keccakBackend: "native" | "noble" = sponge ? "native" : "noble";

/** keccak-256 of bytes. */
export function keccak256Bytes(data: Uint8Array): Uint8Array {
  if (!sponge) return keccak_256(data);
  // The addon takes Buffers only: a Uint8Array is viewed as one (no copy). One sponge, reset
  // before each hash (synchronous, so no two hashes share it; a worker has its own module).
  const buf = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  sponge.initialize(1088, 512);
  sponge.absorb(buf);
  return sponge.squeeze(32);
}

/** keccak-256 of bytes as 0x-hex (what ethers' `keccak256` returns). */
export function keccak256Hex(data: Uint8Array): string {
  return `0x${Buffer.from(keccak256Bytes(data)).toString("hex")}`;
}
