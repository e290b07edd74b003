import { Interface } from "ethers";
import type { Provider } from "ethers";

import { CONSENT_REGISTRY_ABI, INTEGRATION_REGISTRY_ABI } from "./abi.js";
import { MAX_PURPOSE_ID } from "./constants.js";
import { ConsentSdkError, decodeRevertData, findRevertData, toConsentSdkError } from "./errors.js";
import type { DecodedConsentError } from "./errors.js";

/**
 * Would a governed call succeed if executed now? `gov propose` asks before scheduling, so that a
 * call that can only fail (suspending an address that is not an integration, defining a purpose
 * that exists) is not announced for days and then reverts.
 *
 * Precisely, when the node supports `eth_call` state overrides: the call is run against the real
 * target with the AccessManager's code replaced by a permissive authority (`canCall` returns
 * `(true, 0)` for everyone), so the target's `restricted` check passes and every one of its own
 * checks runs on the current state. A probe first checks that the node applies overrides at
 * all (a node that ignores them would answer with the real manager). Otherwise, by reading the
 * target's state and repeating its checks (the same custom errors as the contracts).
 *
 * Either way the answer is about the state now; the call executes after the delay, when other
 * operations may have run first.
 */

/** Runtime code answering any call with `(true, 0)`: `mstore(0, 1) return(0, 64)`. */
export const PERMISSIVE_AUTHORITY_CODE = "0x600160005260406000f3";

export type SimulationMethod = "state-override" | "state-reads";

export interface GovernedCallSimulation {
  method: SimulationMethod;
  /** Null when the call would succeed. */
  error: DecodedConsentError | null;
}

export interface SimulationTargets {
  accessManager: string;
  consentRegistry: string;
  integrationRegistry: string;
}

interface RawSender {
  send(method: string, params: unknown[]): Promise<unknown>;
}

const authorityIface = new Interface(["function canCall(address,address,bytes4) view returns (bool,uint32)"]);
const registryIface = new Interface(CONSENT_REGISTRY_ABI);
const integrationsIface = new Interface(INTEGRATION_REGISTRY_ABI);
const ZERO = "0x0000000000000000000000000000000000000000";
const EXPECTED_PROBE = "0x" + "0".repeat(63) + "1" + "0".repeat(64);

function rawSender(provider: Provider): RawSender | null {
  const p = provider as Partial<RawSender>;
  return typeof p.send === "function" ? (p as RawSender) : null;
}

/** Whether the node applies an `eth_call` state override (tried on the AccessManager's address). */
export async function supportsStateOverride(provider: Provider, accessManager: string): Promise<boolean> {
  const raw = rawSender(provider);
  if (raw === null) return false;
  try {
    const data = authorityIface.encodeFunctionData("canCall", [ZERO, ZERO, "0x00000000"]);
    const out = await raw.send("eth_call", [
      { to: accessManager, data },
      "latest",
      { [accessManager]: { code: PERMISSIVE_AUTHORITY_CODE } },
    ]);
    return typeof out === "string" && out.toLowerCase() === EXPECTED_PROBE;
  } catch {
    return false;
  }
}

/** Simulates `data` on `target` as if the governor executed it now. */
export async function simulateGovernedCall(
  provider: Provider,
  targets: SimulationTargets,
  target: string,
  data: string,
  from?: string,
): Promise<GovernedCallSimulation> {
  if (await supportsStateOverride(provider, targets.accessManager)) {
    const raw = rawSender(provider)!;
    try {
      await raw.send("eth_call", [
        { to: target, data, ...(from ? { from } : {}) },
        "latest",
        { [targets.accessManager]: { code: PERMISSIVE_AUTHORITY_CODE } },
      ]);
      return { method: "state-override", error: null };
    } catch (err) {
      const revert = findRevertData(err);
      const decoded = revert ? decodeRevertData(revert) : null;
      if (decoded) return { method: "state-override", error: decoded };
      const e = toConsentSdkError(err, "simulating the governed call");
      if (e.code === "RPC_UNREACHABLE") throw e;
      return { method: "state-override", error: { name: "Unknown", args: {}, message: e.message } };
    }
  }
  return { method: "state-reads", error: await checkByReading(provider, targets, target, data) };
}

function errorOf(iface: Interface, name: string, args: unknown[]): DecodedConsentError {
  return decodeRevertData(iface.encodeErrorResult(name, args))!;
}

const STATUS_NONE = 0n;
const STATUS_ACTIVE = 1n;
const STATUS_SUSPENDED = 2n;

async function checkByReading(
  provider: Provider,
  targets: SimulationTargets,
  target: string,
  data: string,
): Promise<DecodedConsentError | null> {
  const t = target.toLowerCase();
  const call = async (iface: Interface, name: string, args: unknown[]) => {
    const out = await provider.call({ to: target, data: iface.encodeFunctionData(name, args) });
    return iface.decodeFunctionResult(name, out);
  };
  try {
    if (t === targets.consentRegistry.toLowerCase()) {
      const parsed = registryIface.parseTransaction({ data });
      if (parsed === null) return null;
      const id = BigInt(parsed.args[0] as bigint);
      if (parsed.name !== "definePurpose" && parsed.name !== "deprecatePurpose") return null;
      if (id > BigInt(MAX_PURPOSE_ID)) return errorOf(registryIface, "PurposeCatalogIdOutOfRange", [id]);
      const bit = 1n << id;
      if (parsed.name === "definePurpose") {
        const [defined] = await call(registryIface, "definedPurposes", []);
        return (BigInt(defined as bigint) & bit) !== 0n
          ? errorOf(registryIface, "PurposeCatalogAlreadyDefined", [id])
          : null;
      }
      const [grantable] = await call(registryIface, "grantablePurposes", []);
      return (BigInt(grantable as bigint) & bit) === 0n
        ? errorOf(registryIface, "PurposeCatalogNotActive", [id])
        : null;
    }
    if (t === targets.integrationRegistry.toLowerCase()) {
      const parsed = integrationsIface.parseTransaction({ data });
      if (parsed === null) return null;
      const integration = String(parsed.args[0]);
      const [record] = await call(integrationsIface, "getIntegration", [integration]);
      const status = BigInt((record as { status: bigint }).status);
      switch (parsed.name) {
        case "registerIntegration":
          if (integration === ZERO) return errorOf(integrationsIface, "IntegrationRegistryZeroAddress", []);
          if (BigInt(parsed.args[2] as bigint) === 0n)
            return errorOf(integrationsIface, "IntegrationRegistryEmptyPurposes", []);
          return status !== STATUS_NONE
            ? errorOf(integrationsIface, "IntegrationRegistryAlreadyRegistered", [integration])
            : null;
        case "updateIntegration":
          if (BigInt(parsed.args[2] as bigint) === 0n)
            return errorOf(integrationsIface, "IntegrationRegistryEmptyPurposes", []);
          return status === STATUS_NONE
            ? errorOf(integrationsIface, "IntegrationRegistryNotRegistered", [integration])
            : null;
        case "suspendIntegration":
          return status !== STATUS_ACTIVE
            ? errorOf(integrationsIface, "IntegrationRegistryWrongStatus", [integration, status])
            : null;
        case "reinstateIntegration":
          return status !== STATUS_SUSPENDED
            ? errorOf(integrationsIface, "IntegrationRegistryWrongStatus", [integration, status])
            : null;
        default:
          return null;
      }
    }
  } catch (err) {
    throw toConsentSdkError(err, "reading the governed contract's state");
  }
  throw new ConsentSdkError(
    "INVALID_INPUT",
    `cannot simulate a call to ${target}: it is neither the consent registry nor the integration registry`,
  );
}
