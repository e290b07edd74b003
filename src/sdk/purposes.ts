import { keccak256, toUtf8Bytes } from "ethers";

import { MAX_PURPOSE_ID } from "./constants.js";

/**
 * The initial purpose catalogue: the TypeScript mirror of `contracts/Purposes.sol`.
 * `test/Purposes.ts` compiles-and-compares both, so they cannot drift apart.
 */
export const Purpose = {
  MODEL_TRAINING: 0,
  FINE_TUNING: 1,
  INFERENCE: 2,
  EVALUATION: 3,
  ANALYTICS: 4,
  PRODUCT_IMPROVEMENT: 5,
  THIRD_PARTY_SHARING: 6,
  RESEARCH: 7,
} as const;

export type PurposeName = keyof typeof Purpose;

export interface PurposeInfo {
  id: number;
  name: PurposeName;
  /** Closest W3C Data Privacy Vocabulary concept. */
  dpv: string;
  description: string;
}

export const PURPOSES: readonly PurposeInfo[] = [
  { id: 0, name: "MODEL_TRAINING", dpv: "dpv:ResearchAndDevelopment", description: "Training AI models on the data" },
  { id: 1, name: "FINE_TUNING", dpv: "dpv:ServiceOptimisation", description: "Adapting an existing model to the data" },
  {
    id: 2,
    name: "INFERENCE",
    dpv: "dpv:ServiceProvision",
    description: "Running a model on the data to produce outputs",
  },
  {
    id: 3,
    name: "EVALUATION",
    dpv: "dpv:ServiceOptimisation",
    description: "Evaluating / validating models on the data",
  },
  {
    id: 4,
    name: "ANALYTICS",
    dpv: "dpv:ServiceUsageAnalytics",
    description: "Statistical analysis of usage and performance",
  },
  {
    id: 5,
    name: "PRODUCT_IMPROVEMENT",
    dpv: "dpv:ImproveExistingProductsAndServices",
    description: "Improving the network's products and services",
  },
  {
    id: 6,
    name: "THIRD_PARTY_SHARING",
    dpv: "dpv:Share",
    description: "Passing the data to a third-party integration",
  },
  { id: 7, name: "RESEARCH", dpv: "dpv:AcademicResearch", description: "Scientific or academic research" },
];

/** Metadata hash of a purpose as defined on-chain: keccak256 of `omnitensor-purpose:<id>:<name>:<dpv>`. */
export function purposeMetadataHash(p: PurposeInfo): string {
  return keccak256(toUtf8Bytes(`omnitensor-purpose:${p.id}:${p.name}:${p.dpv}`));
}

/** Metadata hashes of the initial catalogue, in id order (the registry constructor argument). */
export function initialPurposeMetadata(): string[] {
  return PURPOSES.map(purposeMetadataHash);
}

/** Bitmap of the given purpose ids. Throws on an id outside 0..127. */
export function purposesToMask(ids: readonly number[]): bigint {
  let mask = 0n;
  for (const id of ids) {
    if (!Number.isInteger(id) || id < 0 || id > MAX_PURPOSE_ID) {
      throw new RangeError(`purpose id ${id} is outside 0..${MAX_PURPOSE_ID}`);
    }
    mask |= 1n << BigInt(id);
  }
  return mask;
}

/** Purpose ids set in a bitmap, ascending. */
export function maskToPurposes(mask: bigint): number[] {
  const ids: number[] = [];
  for (let id = 0; id <= MAX_PURPOSE_ID; id++) if ((mask >> BigInt(id)) & 1n) ids.push(id);
  return ids;
}

type Kebab<S extends string> = S extends `${infer A}_${infer B}` ? `${A}-${Kebab<B>}` : S;

/**
 * A purpose of the initial catalogue as people write it: `MODEL_TRAINING`, `model_training` or
 * `model-training` (the SDK and the CLI accept all three; they print the first).
 */
export type PurposeSpelling = PurposeName | Lowercase<PurposeName> | Kebab<Lowercase<PurposeName>>;

/** A purpose given by id (0..127) or by name of the initial catalogue, in any {@link PurposeSpelling}. */
export type PurposeInput = number | PurposeSpelling;

/** The purpose names as the CLI's help spells them (`model-training`, …). */
export const PURPOSE_WORDS: readonly string[] = PURPOSES.map((p) => p.name.toLowerCase().replace(/_/g, "-"));

/** The id of a purpose name in any spelling (case-insensitive, `-` or `_`), or undefined. */
export function purposeIdByName(name: string): number | undefined {
  const key = name.trim().toUpperCase().replace(/-/g, "_");
  return Object.hasOwn(Purpose, key) ? Purpose[key as PurposeName] : undefined;
}

/** Parses a purpose name (case-insensitive, `-` or `_`) or a numeric id. Throws with the list of names. */
export function parsePurpose(input: string): number {
  const trimmed = input.trim();
  if (/^\d+$/.test(trimmed)) {
    const id = Number(trimmed);
    if (id > MAX_PURPOSE_ID) throw new RangeError(`purpose id ${id} is outside 0..${MAX_PURPOSE_ID}`);
    return id;
  }
  const id = purposeIdByName(trimmed);
  if (id !== undefined) return id;
  throw new RangeError(`unknown purpose "${input}"; use one of ${PURPOSE_WORDS.join(", ")} or an id`);
}

/** The name of a purpose id of the initial catalogue, or `purpose#<id>`: how every purpose is printed. */
export function purposeName(id: number): string {
  return PURPOSES.find((p) => p.id === id)?.name ?? `purpose#${id}`;
}

/** `INFERENCE(2)`: a purpose id with its name. */
export function purposeLabel(id: number): string {
  return `${purposeName(id)}(${id})`;
}

/** `MODEL_TRAINING(0), INFERENCE(2)` for a list of ids or a bitmap. */
export function purposeListLabel(purposes: readonly number[] | bigint): string {
  const ids = typeof purposes === "bigint" ? maskToPurposes(purposes) : purposes;
  return ids.map(purposeLabel).join(", ");
}
