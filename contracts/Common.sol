// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

// Shared constants of the consent system, written once (mirrored in `src/sdk/constants.ts`,
// which `test/Purposes.ts` checks against these values).

/// @dev The reserved data id meaning "all of this owner's data". Every check for a specific
/// asset also honours a consent for ALL_DATA. Deliberately not `bytes32(0)`, so that an unset
/// variable can never become an all-data grant.
bytes32 constant ALL_DATA = bytes32(type(uint256).max);

/// @dev `expiresAt` value meaning "never expires".
uint40 constant NO_EXPIRY = 0;

/// @dev Latest expiry a consent can have: `expiresAt` is a `uint40` (2^40 - 1 seconds, the year
/// 36812), so that the consent, its epoch and its version share one storage word.
uint40 constant MAX_EXPIRY = type(uint40).max;

/// @dev Purpose ids are 0..MAX_PURPOSE_ID: one bit each of a `uint128` bitmap.
uint8 constant MAX_PURPOSE_ID = 127;

/// @dev A consent version is `generation << VERSION_SEQUENCE_BITS | sequence`. A transaction
/// change starts the next generation (sequence 0); a signed change keeps the generation and
/// sets the sequence it was signed with (at least 1). See {IConsentRegistry}.
uint256 constant VERSION_SEQUENCE_BITS = 16;
