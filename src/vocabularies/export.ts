import { exportAipref } from "./aipref.js";
import type { AiprefExport } from "./aipref.js";
import { exportCawg } from "./cawg.js";
import type { CawgExport } from "./cawg.js";
import type { AssetChoices, PurposeMappings } from "./choices.js";
import { exportErc7517 } from "./erc7517.js";
import type { Erc7517Export } from "./erc7517.js";
import { exportTdmrep } from "./tdmrep.js";
import type { TdmPolicyOptions, TdmrepExport } from "./tdmrep.js";

/**
 * One entry for every format (browser-safe): the engine behind
 * `omni-consent export --format aipref|cawg|erc7517|tdmrep`. Each result carries `warnings`
 * (purposes it could not reflect) and `changesAt` (the next expiry that changes it).
 */
export const EXPORT_FORMATS = ["aipref", "cawg", "erc7517", "tdmrep"] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface ExportOptions {
  mappings?: PurposeMappings;
  /** aipref: the robots.txt path the rule is for. */
  robotsPath?: string;
  /** tdmrep: the location pattern, the tdm-policy URL, and the policy to write. */
  location?: string;
  policyUrl?: string;
  policy?: TdmPolicyOptions;
}

export type ExportResult = AiprefExport | CawgExport | Erc7517Export | TdmrepExport;

export function exportChoices(format: ExportFormat, choices: AssetChoices, opts: ExportOptions = {}): ExportResult {
  switch (format) {
    case "aipref":
      return exportAipref(choices, opts);
    case "cawg":
      return exportCawg(choices, opts);
    case "erc7517":
      return exportErc7517(choices, opts);
    case "tdmrep":
      return exportTdmrep(choices, opts);
  }
}
