/**
 * Runtime bytecode stand-ins installed with `hardhat_setCode` where a test needs a contract
 * that behaves in one fixed way and `contracts/mocks` has none (tests only).
 */

/** Answers every call with the ABI-encoded string "1.0.0": a registry of the old, nonce-based major 1. */
export const REGISTRY_V1_CODE =
  "0x" +
  "6020600052" + // mstore(0, 0x20): offset of the string
  "6005602052" + // mstore(0x20, 5): its length
  "64312e302e3060d81b604052" + // mstore(0x40, "1.0.0" << 216): its bytes, left-aligned
  "60606000f3"; // return(0, 0x60)

/**
 * An ERC-1271 wallet that answers "valid" (0x1626ba7e) to every signature, of any length, the
 * empty one included: what a wallet with a careless `isValidSignature` looks like (anyone can
 * act for it; see SECURITY.md).
 */
export const ALWAYS_VALID_WALLET_CODE = "0x631626ba7e60e01b60005260206000f3";
