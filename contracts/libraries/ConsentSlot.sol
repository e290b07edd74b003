// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {VERSION_SEQUENCE_BITS} from "../Common.sol";

/**
 * @title ConsentSlot
 * @notice One consent = one storage word, so a grant costs a single fresh SSTORE and a check a
 * single SLOAD.
 *
 *   bits   0..127  purposes   bitmap of purpose ids (0 = nothing granted: never granted, revoked)
 *   bits 128..167  expiresAt  unix seconds (uint40), 0 = no expiry
 *   bits 168..199  epoch      the owner's lockdown epoch at grant time (uint32)
 *   bits 200..255  version    the key's version (uint56): generation (40 bits) << 16 | sequence
 *
 * A revocation keeps the version and clears the rest, so that a key's version only ever grows:
 * a signed message bound to an old version can never become valid again (grant → revoke → old
 * grant cannot come back). A word of 0 is a key that was never changed.
 */
library ConsentSlot {
    uint256 private constant _EXPIRES_SHIFT = 128;
    uint256 private constant _EPOCH_SHIFT = 168;
    uint256 internal constant VERSION_SHIFT = 200;

    /// @dev The sequence bits of the version field, in place in the word.
    uint256 private constant _SEQUENCE_IN_WORD = ((uint256(1) << VERSION_SEQUENCE_BITS) - 1) << VERSION_SHIFT;
    /// @dev The version field, in place in the word.
    uint256 private constant _VERSION_IN_WORD = type(uint256).max << VERSION_SHIFT;

    function pack(uint128 purposes_, uint40 expiresAt_, uint32 epoch_) internal pure returns (uint256) {
        return uint256(purposes_) | (uint256(expiresAt_) << _EXPIRES_SHIFT) | (uint256(epoch_) << _EPOCH_SHIFT);
    }

    function purposes(uint256 word) internal pure returns (uint128) {
        return uint128(word);
    }

    function expiresAt(uint256 word) internal pure returns (uint40) {
        return uint40(word >> _EXPIRES_SHIFT);
    }

    function epoch(uint256 word) internal pure returns (uint32) {
        return uint32(word >> _EPOCH_SHIFT);
    }

    function version(uint256 word) internal pure returns (uint64) {
        return uint64(word >> VERSION_SHIFT);
    }

    /**
     * @dev The version field of `word` moved to the first version of the next generation
     * (sequence 0), in place, with every other field cleared. Checked arithmetic: the add
     * reverts (Panic 0x11) instead of wrapping once the generation reaches 2^40 - 1, i.e. after
     * 2^40 transaction changes of one key, more than 400 times every transaction Ethereum has
     * ever carried; a wrap would revive old signatures, a revert cannot.
     */
    function nextGeneration(uint256 word) internal pure returns (uint256) {
        return ((word | _SEQUENCE_IN_WORD) + (uint256(1) << VERSION_SHIFT)) & _VERSION_IN_WORD;
    }

    /// @dev Granted (purposes != 0), of `currentEpoch`, and not expired at `nowTs` (expired AT expiresAt).
    function isActive(uint256 word, uint32 currentEpoch, uint64 nowTs) internal pure returns (bool) {
        uint40 exp = expiresAt(word);
        return uint128(word) != 0 && epoch(word) == currentEpoch && (exp == 0 || nowTs < exp);
    }
}
