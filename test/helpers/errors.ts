import type { Interface } from "ethers";

/** A custom error decoded with a contract interface: its name and its arguments, in order. */
export interface DecodedError {
  name: string;
  args: unknown[];
}

/**
 * Decodes ABI-encoded custom-error bytes (selector + arguments) with `iface`. Throws, naming the
 * selector, when the interface does not know the error, so a test can never pass on bytes it
 * did not understand.
 */
export function decodeCustomError(iface: Interface, data: string): DecodedError {
  const parsed = iface.parseError(data);
  if (parsed === null) throw new Error(`unknown custom error selector ${data.slice(0, 10)}`);
  return { name: parsed.name, args: [...parsed.args] };
}

/**
 * Decodes `ConsentRegistryBatchItemFailed(index, reason)` revert data into the failing index and
 * the inner error. Throws when `data` is any other error.
 */
export function decodeBatchItemFailed(iface: Interface, data: string): { index: bigint; reason: DecodedError } {
  const outer = decodeCustomError(iface, data);
  if (outer.name !== "ConsentRegistryBatchItemFailed") {
    throw new Error(`expected ConsentRegistryBatchItemFailed, got ${outer.name}`);
  }
  const [index, reason] = outer.args as [bigint, string];
  return { index, reason: decodeCustomError(iface, reason) };
}

/** The revert data of a failed call (ethers attaches it as `data` to CALL_EXCEPTION errors). */
export function revertData(error: unknown): string {
  if (typeof error === "object" && error !== null && "data" in error && typeof error.data === "string") {
    return error.data;
  }
  throw new Error(`no revert data in ${String(error)}`);
}

/** Runs `call` (a static call expected to revert) and returns its revert data. */
export async function revertDataOf(call: () => Promise<unknown>): Promise<string> {
  try {
    await call();
  } catch (error) {
    return revertData(error);
  }
  throw new Error("the call did not revert");
}
