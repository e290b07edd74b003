// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ALL_DATA, MAX_PURPOSE_ID, NO_EXPIRY} from "../Common.sol";
import {ConsentSlot} from "../libraries/ConsentSlot.sol";

/**
 * @title ConsentSlotProperties
 * @notice VERIFICATION ONLY (`npm run verify:smt`, see docs/FORMAL.md). Each function states one
 * property of the consent word (purposes 128 | expiresAt uint40 | epoch uint32 | version uint56)
 * and of the registry's bit tricks as `assert`s over ALL inputs; the SMTChecker proves that no
 * assert can fail. The functions call the real {ConsentSlot} library; where the registry inlines a
 * trick (`_context`, the `dataId + 1` guard, the purpose bit test, how a word is built), the
 * expression here is copied from `ConsentRegistry.sol` verbatim. Never deployed.
 */
contract ConsentSlotProperties {
    using ConsentSlot for uint256;

    /// @dev The version field's top generation: `nextGeneration` of such a word reverts.
    uint64 private constant _MAX_GENERATION = (uint64(1) << 40) - 1;

    /// @notice pack → unpack gives back every field unchanged, and a packed word has version 0.
    function packThenUnpack(uint128 purposes, uint40 expiresAt, uint32 epoch) external pure {
        uint256 word = ConsentSlot.pack(purposes, expiresAt, epoch);
        assert(word.purposes() == purposes);
        assert(word.expiresAt() == expiresAt);
        assert(word.epoch() == epoch);
        assert(word.version() == 0);
    }

    /// @notice A word built as the registry builds it (`version << VERSION_SHIFT | pack(...)`)
    /// reads back the version and every other field unchanged (no field bleeds into another).
    function versionedWordRoundTrip(uint56 version, uint128 purposes, uint40 expiresAt, uint32 epoch) external pure {
        uint256 word = (uint256(version) << ConsentSlot.VERSION_SHIFT) | ConsentSlot.pack(purposes, expiresAt, epoch);
        assert(word.version() == version);
        assert(word.purposes() == purposes);
        assert(word.expiresAt() == expiresAt);
        assert(word.epoch() == epoch);
    }

    /// @notice unpack → pack gives back the word: the four fields cover all 256 bits exactly once.
    function layoutCoversAllBits(uint256 word) external pure {
        uint256 rebuilt =
            (uint256(word.version()) << ConsentSlot.VERSION_SHIFT) |
                ConsentSlot.pack(word.purposes(), word.expiresAt(), word.epoch());
        assert(rebuilt == word);
    }

    /// @notice A granted consent (purposes != 0) is never the "never changed" word 0.
    function grantedWordIsNonZero(uint128 purposes, uint40 expiresAt, uint32 epoch) external pure {
        if (purposes != 0) assert(ConsentSlot.pack(purposes, expiresAt, epoch) != 0);
    }

    /// @notice A transaction change (`nextGeneration`, checked add) below the top generation: the
    /// sequence is cleared, the version is strictly greater and in the next generation, and the
    /// low 200 bits (purposes, expiry, epoch) are cleared.
    function nextGenerationMovesForward(uint256 word) external pure {
        if (word.version() >> 16 < _MAX_GENERATION) {
            uint256 next = word.nextGeneration();
            assert(next.version() & 0xffff == 0);
            assert(next.version() > word.version());
            assert(next.version() >> 16 == (word.version() >> 16) + 1);
            assert(next & ((uint256(1) << ConsentSlot.VERSION_SHIFT) - 1) == 0);
        }
    }

    /// @notice A word with no purposes (never granted, revoked) is never active.
    function emptyIsInactive(uint256 word, uint32 currentEpoch, uint64 nowTs) external pure {
        if (word.purposes() == 0) assert(!word.isActive(currentEpoch, nowTs));
    }

    /// @notice Expired AT expiresAt: with expiresAt != 0 and now >= expiresAt, no word is active.
    function expiredIsInactive(uint256 word, uint32 currentEpoch, uint64 nowTs) external pure {
        uint40 exp = word.expiresAt();
        if (exp != NO_EXPIRY && nowTs >= exp) assert(!word.isActive(currentEpoch, nowTs));
    }

    /// @notice A grant of the current epoch is active strictly before its expiry, and forever
    /// with NO_EXPIRY, whatever its version.
    function liveGrantIsActive(
        uint56 version,
        uint128 purposes,
        uint40 expiresAt,
        uint32 epoch,
        uint64 nowTs
    ) external pure {
        if (purposes != 0 && (expiresAt == NO_EXPIRY || nowTs < expiresAt)) {
            uint256 word =
                (uint256(version) << ConsentSlot.VERSION_SHIFT) | ConsentSlot.pack(purposes, expiresAt, epoch);
            assert(word.isActive(epoch, nowTs));
        }
    }

    /// @notice A consent granted in any other epoch than the owner's current one is dead,
    /// whatever its expiry, version and the time.
    function otherEpochIsInactive(uint256 word, uint32 currentEpoch, uint64 nowTs) external pure {
        if (word.epoch() != currentEpoch) assert(!word.isActive(currentEpoch, nowTs));
    }

    /// @notice `_revokeAll`'s checked `epoch + 1` (uint32) kills every consent of the old epoch.
    /// The increment reverts (never wraps) only at epoch 2^32 - 1: the overflow target reports it.
    function revokeAllKillsOldEpoch(uint256 word, uint64 nowTs) external pure {
        uint32 epoch = word.epoch();
        uint32 newEpoch = epoch + 1;
        assert(newEpoch > epoch);
        assert(!word.isActive(newEpoch, nowTs));
    }

    /// @notice `_isAllowed`'s fallback guard `uint256(dataId) + 1 <= 1` (unchecked) holds
    /// exactly for bytes32(0) and ALL_DATA.
    function fallbackGuardIsExactlyZeroOrAllData(bytes32 dataId) external pure {
        bool noFallback;
        unchecked {
            noFallback = uint256(dataId) + 1 <= 1;
        }
        assert(noFallback == (dataId == bytes32(0) || dataId == ALL_DATA));
    }

    /// @notice For purpose <= MAX_PURPOSE_ID, `_isAllowed`'s test `word & (1 << purpose) != 0`
    /// on a stored word reads the purposes field only, never expiry, epoch or version bits.
    function purposeBitReadsPurposesOnly(uint8 purpose, uint256 word) external pure {
        if (purpose <= MAX_PURPOSE_ID) {
            uint256 bit = uint256(1) << purpose;
            assert((word & bit != 0) == (uint256(word.purposes()) & bit != 0));
        }
    }

    /// @notice `_context`'s packing (grantable | epoch << 128 | now << 192) unpacks exactly as
    /// `_grantIn` reads it, and `purposes & ~uint128(ctx)` is the set of non-grantable purposes.
    function contextRoundTrip(uint128 grantable, uint32 epoch, uint64 nowTs, uint128 purposes) external pure {
        uint256 ctx = uint256(grantable) | (uint256(epoch) << 128) | (uint256(nowTs) << 192);
        assert(uint128(ctx) == grantable);
        assert(uint32(ctx >> 128) == epoch);
        assert(uint64(ctx >> 192) == nowTs);
        uint128 notGrantable = purposes & ~uint128(ctx);
        assert((notGrantable == 0) == (purposes | grantable == grantable));
    }
}
