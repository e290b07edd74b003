// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {VERSION_SEQUENCE_BITS} from "../Common.sol";
import {ConsentSlot} from "../libraries/ConsentSlot.sol";

/**
 * @title SMTNegativeControls
 * @notice VERIFICATION ONLY (`npm run verify:smt`, see docs/FORMAL.md). FALSE properties, each
 * a plausible mistake, written with the same library calls and bit tricks as the real harnesses:
 * the SMTChecker must refute every assert here. If it ever calls one safe, the checker set-up is
 * vacuous (e.g. no solver answered) and the run fails. Never deployed.
 */
contract SMTNegativeControls {
    using ConsentSlot for uint256;

    /// @notice Dropping `_isAllowed`'s `purpose > MAX_PURPOSE_ID` guard: purpose 128..255 would
    /// read expiry/epoch/version bits, so this (unguarded) statement must be refuted.
    function unguardedPurposeBitReadsPurposesOnly(uint8 purpose, uint256 word) external pure {
        uint256 bit = uint256(1) << purpose;
        assert((word & bit != 0) == (uint256(word.purposes()) & bit != 0));
    }

    /// @notice Off by one on expiry ("expired only AFTER expiresAt"): must be refuted at
    /// nowTs == expiresAt.
    function activeAtExpiry(uint128 purposes, uint40 expiresAt, uint32 epoch) external pure {
        if (purposes != 0 && expiresAt != 0) {
            assert(ConsentSlot.pack(purposes, expiresAt, epoch).isActive(epoch, expiresAt));
        }
    }

    /// @notice A checked-looking guard written as `dataId + 1 == 0` misses data id 0.
    function wrongFallbackGuard(bytes32 dataId) external pure {
        bool noFallback;
        unchecked {
            noFallback = uint256(dataId) + 1 == 0;
        }
        assert(noFallback == (dataId == bytes32(0) || dataId == bytes32(type(uint256).max)));
    }

    /// @notice The ordering rule with `>=` instead of `>`: the signed message that was just
    /// applied would still be acceptable (a replay). Must be refuted.
    function replayWithNonStrictVersion(uint256 word, uint64 signedVersion) external pure {
        uint64 current = word.version();
        if (signedVersion >= current && signedVersion >> VERSION_SEQUENCE_BITS == current >> VERSION_SEQUENCE_BITS) {
            uint256 stored = uint256(signedVersion) << ConsentSlot.VERSION_SHIFT;
            uint64 now_ = stored.version();
            assert(!(signedVersion >= now_ && signedVersion >> VERSION_SEQUENCE_BITS == now_ >> VERSION_SEQUENCE_BITS));
        }
    }
}
