import { Interface, type Log, type ParamType, type Result } from "ethers";

import { CONSENT_REGISTRY_ABI, INTEGRATION_REGISTRY_ABI } from "../sdk/abi.js";

/**
 * The AccessManager's scheduling events (OpenZeppelin 5 `IAccessManager`), written out here so the
 * audit toolkit does not depend on more generated bindings than the two registries'.
 */
const ACCESS_MANAGER_EVENTS = [
  "event OperationScheduled(bytes32 indexed operationId, uint32 indexed nonce, uint48 schedule, address caller, address target, bytes data)",
  "event OperationExecuted(bytes32 indexed operationId, uint32 indexed nonce)",
  "event OperationCanceled(bytes32 indexed operationId, uint32 indexed nonce)",
];

export type Watched = "registry" | "integrations" | "authority";

const INTERFACES: Record<Watched, Interface> = {
  registry: new Interface(CONSENT_REGISTRY_ABI),
  integrations: new Interface(INTEGRATION_REGISTRY_ABI),
  authority: new Interface(ACCESS_MANAGER_EVENTS),
};

export interface DecodedLog {
  name: string;
  args: Record<string, string | boolean>;
}

function plain(value: unknown, type: ParamType): string | boolean {
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "boolean") return value;
  if (type.type === "address") return String(value).toLowerCase();
  return String(value);
}

/**
 * Decodes a log of a watched contract into `{ name, args }` with JSON-safe values: integers as
 * decimal strings, addresses lowercase, bytes as hex. Unknown topics (e.g. AccessManager role
 * events) are kept as `Unknown` with their raw topics and data, so nothing on chain is dropped.
 */
export function decodeLog(kind: Watched, log: Pick<Log, "topics" | "data">): DecodedLog {
  const parsed = INTERFACES[kind].parseLog({ topics: [...log.topics], data: log.data });
  if (!parsed) return { name: "Unknown", args: { topics: log.topics.join(","), data: log.data } };
  const args: Record<string, string | boolean> = {};
  const inputs = parsed.fragment.inputs;
  const values: Result = parsed.args;
  for (let i = 0; i < inputs.length; i++) args[inputs[i].name] = plain(values[i], inputs[i]);
  return { name: parsed.name, args };
}
