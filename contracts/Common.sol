// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

// Shared constants of the consent system, written once (mirrored in `src/sdk/constants.ts`,
// which `test/Purposes.ts` checks against these values).

/// @dev The reserved data id meaning "all of this owner's data". Every check for a specific
/// asset also honours a consent for ALL_DATA. Deliberately not `bytes32(0)`, so that an unset
/// variable can never become an all-data grant.
bytes32 constant ALL_DATA = bytes32(type(uint256).max);

/// @dev `expiresAt` value meaning "never expires".
uint64 constant NO_EXPIRY = 0;

/// @dev Purpose ids are 0..MAX_PURPOSE_ID: one bit each of a `uint128` bitmap.
uint8 constant MAX_PURPOSE_ID = 127;
