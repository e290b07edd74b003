/**
 * The AI opt-out vocabularies (browser-safe entry, `omnitensor-consent/vocabularies`): an owner's
 * current choices for an asset written as IETF AIPREF, C2PA/CAWG, ERC-7517 or TDMRep.
 */
export * from "./terms.js";
export * from "./choices.js";
export * from "./aipref.js";
export * from "./cawg.js";
export * from "./erc7517.js";
export * from "./tdmrep.js";
export * from "./export.js";
