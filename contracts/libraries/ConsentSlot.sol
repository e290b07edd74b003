// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/**
 * @title ConsentSlot
 * @notice One consent = one storage word, so a grant costs a single fresh SSTORE and a check a
 * single SLOAD.
 *
 *   bits   0..127  purposes   bitmap of purpose ids (never 0 for a stored consent)
 *   bits 128..191  expiresAt  unix seconds, 0 = no expiry
 *   bits 192..255  epoch      the owner's revoke-all epoch at grant time
 *
 * A word of 0 means "nothing stored" (a grant always has purposes != 0).
 */
library ConsentSlot {
    uint256 private constant _EXPIRES_SHIFT = 128;
    uint256 private constant _EPOCH_SHIFT = 192;

    function pack(uint128 purposes_, uint64 expiresAt_, uint64 epoch_) internal pure returns (uint256) {
        return uint256(purposes_) | (uint256(expiresAt_) << _EXPIRES_SHIFT) | (uint256(epoch_) << _EPOCH_SHIFT);
    }

    function purposes(uint256 word) internal pure returns (uint128) {
        return uint128(word);
    }

    function expiresAt(uint256 word) internal pure returns (uint64) {
        return uint64(word >> _EXPIRES_SHIFT);
    }

    function epoch(uint256 word) internal pure returns (uint64) {
        return uint64(word >> _EPOCH_SHIFT);
    }

    /// @dev Stored, granted in `currentEpoch`, and not expired at `nowTs` (expired AT expiresAt).
    function isActive(uint256 word, uint64 currentEpoch, uint64 nowTs) internal pure returns (bool) {
        uint64 exp = expiresAt(word);
        return word != 0 && epoch(word) == currentEpoch && (exp == 0 || nowTs < exp);
    }
}
