/**
 * Byte encodings shared by the sealed-file format, the share envelopes and the key requests.
 * Browser-safe: plain Uint8Array, no Buffer.
 */

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));
const NIBBLE = new Int8Array(128).fill(-1);
for (let i = 0; i < 16; i++) {
  NIBBLE["0123456789abcdef".charCodeAt(i)] = i;
  NIBBLE["0123456789ABCDEF".charCodeAt(i)] = i;
}

/** Lower-case 0x-hex of `bytes`. */
export function toHex(bytes: Uint8Array): string {
  let out = "0x";
  for (let i = 0; i < bytes.length; i++) out += HEX[bytes[i]];
  return out;
}

/** Bytes of a 0x-hex string; throws on odd length or a non-hex digit. */
export function fromHex(hex: string, expectedLength?: number): Uint8Array {
  const start = hex.startsWith("0x") || hex.startsWith("0X") ? 2 : 0;
  const digits = hex.length - start;
  if (digits % 2 !== 0) throw new TypeError(`not hex: ${hex.slice(0, 20)}…`);
  const out = new Uint8Array(digits / 2);
  for (let i = 0; i < out.length; i++) {
    const hi = hex.charCodeAt(start + 2 * i);
    const lo = hex.charCodeAt(start + 2 * i + 1);
    const h = hi < 128 ? NIBBLE[hi] : -1;
    const l = lo < 128 ? NIBBLE[lo] : -1;
    if (h < 0 || l < 0) throw new TypeError(`not hex: ${hex.slice(0, 20)}…`);
    out[i] = (h << 4) | l;
  }
  if (expectedLength !== undefined && out.length !== expectedLength) {
    throw new TypeError(`expected ${expectedLength} bytes, got ${out.length}`);
  }
  return out;
}

/** Concatenation of byte arrays. */
export function concatBytes(...parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** `value` as `width` big-endian bytes; throws if it does not fit. */
export function uintBytes(value: bigint | number, width: number): Uint8Array {
  let v = BigInt(value);
  if (v < 0n || v >= 1n << BigInt(8 * width)) throw new RangeError(`${value} does not fit in ${width} bytes`);
  const out = new Uint8Array(width);
  for (let i = width - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

/** The 20 bytes of an 0x address (any case). */
export function addressBytes(address: string): Uint8Array {
  return fromHex(address, 20);
}

/** UTF-8 bytes of a string. */
export function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

/** Constant-time equality of two byte arrays of public length. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}
