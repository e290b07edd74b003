import { CONSENT_REGISTRY_ABI, INTEGRATION_REGISTRY_ABI } from "./abi.js";
import { Interface } from "ethers";
import { z } from "zod";

import type { IntegrationRequest } from "./integrations.js";
import { addressSchema, bytes32Schema, parseInput, purposeIdSchema, purposesSchema } from "./validation.js";

/**
 * The governed calls as data: each builder validates its arguments (INVALID_INPUT naming the
 * field) and returns the `{ target, data }` the AccessManager schedules and executes, so the
 * GovernanceClient needs one `propose` and one `execute` for all of them, and a call can be
 * shown, simulated or checked for its role before anything is sent.
 */

/** A call of a governed function: the contract it targets and the calldata. */
export interface GovernedCall {
  target: string;
  data: string;
}

/** Which contracts the governance calls target. */
export interface GovernedTargets {
  consentRegistry: string;
  integrationRegistry: string;
}

/** A governed call by what it does (the same calls as {@link GovernanceCalls}, as a value). */
export type GovernedAction =
  | { kind: "registerIntegration"; request: IntegrationRequest }
  | { kind: "updateIntegration"; request: IntegrationRequest }
  | { kind: "suspendIntegration"; integration: string }
  | { kind: "reinstateIntegration"; integration: string }
  | { kind: "definePurpose"; id: number; metadataHash: string }
  | { kind: "deprecatePurpose"; id: number };

/** Builders of the governed calls, bound to one deployment's targets. */
export interface GovernanceCalls {
  registerIntegration(request: IntegrationRequest): GovernedCall;
  updateIntegration(request: IntegrationRequest): GovernedCall;
  suspendIntegration(integration: string): GovernedCall;
  reinstateIntegration(integration: string): GovernedCall;
  definePurpose(id: number, metadataHash: string): GovernedCall;
  deprecatePurpose(id: number): GovernedCall;
}

const registryIface = new Interface(CONSENT_REGISTRY_ABI);
const integrationsIface = new Interface(INTEGRATION_REGISTRY_ABI);

const integrationRequestSchema = z.object({
  integration: addressSchema,
  metadataHash: bytes32Schema,
  purposes: purposesSchema,
});

/** The target and calldata of `action` (INVALID_INPUT naming `label.field` when it is malformed). */
export function governedCall(
  targets: GovernedTargets,
  action: GovernedAction,
  label: string = action.kind,
): GovernedCall {
  const integrations = (fn: string, args: unknown[]): GovernedCall => ({
    target: targets.integrationRegistry,
    data: integrationsIface.encodeFunctionData(fn, args),
  });
  const registry = (fn: string, args: unknown[]): GovernedCall => ({
    target: targets.consentRegistry,
    data: registryIface.encodeFunctionData(fn, args),
  });
  switch (action.kind) {
    case "registerIntegration":
    case "updateIntegration": {
      const r = parseInput(integrationRequestSchema, action.request, label);
      return integrations(action.kind, [r.integration, r.metadataHash, r.purposes]);
    }
    case "suspendIntegration":
    case "reinstateIntegration":
      return integrations(action.kind, [parseInput(addressSchema, action.integration, `${label}.integration`)]);
    case "definePurpose":
      return registry("definePurpose", [
        parseInput(purposeIdSchema, action.id, `${label}.id`),
        parseInput(bytes32Schema, action.metadataHash, `${label}.metadataHash`),
      ]);
    case "deprecatePurpose":
      return registry("deprecatePurpose", [parseInput(purposeIdSchema, action.id, `${label}.id`)]);
  }
}

/** The builders of every governed call for `targets`. */
export function governanceCalls(targets: GovernedTargets): GovernanceCalls {
  const build = (action: GovernedAction) => governedCall(targets, action);
  return {
    registerIntegration: (request) => build({ kind: "registerIntegration", request }),
    updateIntegration: (request) => build({ kind: "updateIntegration", request }),
    suspendIntegration: (integration) => build({ kind: "suspendIntegration", integration }),
    reinstateIntegration: (integration) => build({ kind: "reinstateIntegration", integration }),
    definePurpose: (id, metadataHash) => build({ kind: "definePurpose", id, metadataHash }),
    deprecatePurpose: (id) => build({ kind: "deprecatePurpose", id }),
  };
}
