// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ALL_DATA, MAX_PURPOSE_ID, NO_EXPIRY} from "../Common.sol";
import {ConsentSlot} from "../libraries/ConsentSlot.sol";

/**
 * @title ConsentSlotProperties
 * @notice VERIFICATION ONLY (`npm run verify:smt`, see docs/FORMAL.md). Each function states one
 * property of the consent word and of the registry's bit tricks as `assert`s over ALL inputs;
 * solc's SMTChecker (CHC engine) proves the asserts can never fail. The functions call the real
 * {ConsentSlot} library; where the registry inlines a trick (`_context`, the `dataId + 1` guard,
 * the purpose bit test), the expression here is copied from `ConsentRegistry.sol` verbatim.
 * Never deployed.
 */
contract ConsentSlotProperties {
    using ConsentSlot for uint256;

    /// @notice pack → unpack gives back every field unchanged (no field bleeds into another).
    function packThenUnpack(uint128 purposes, uint40 expiresAt, uint32 epoch) external pure {
        uint256 word = ConsentSlot.pack(purposes, expiresAt, epoch);
        assert(word.purposes() == purposes);
        assert(word.expiresAt() == expiresAt);
        assert(word.epoch() == epoch);
    }

    /// @notice unpack → pack gives back the word: the layout covers all 256 bits exactly once.
    function unpackThenPack(uint256 word) external pure {
        assert(ConsentSlot.pack(word.purposes(), word.expiresAt(), word.epoch()) == word);
    }

    /// @notice A granted consent (purposes != 0) is never the "nothing stored" word 0.
    function grantedWordIsNonZero(uint128 purposes, uint40 expiresAt, uint32 epoch) external pure {
        if (purposes != 0) assert(ConsentSlot.pack(purposes, expiresAt, epoch) != 0);
    }

    /// @notice Expired AT expiresAt: with expiresAt != 0 and now >= expiresAt, no word is active.
    function expiredIsInactive(uint256 word, uint32 currentEpoch, uint64 nowTs) external pure {
        uint40 exp = word.expiresAt();
        if (exp != NO_EXPIRY && nowTs >= exp) assert(!word.isActive(currentEpoch, nowTs));
    }

    /// @notice A grant of the current epoch is active strictly before its expiry, and forever
    /// with NO_EXPIRY.
    function liveGrantIsActive(uint128 purposes, uint40 expiresAt, uint32 epoch, uint64 nowTs) external pure {
        if (purposes != 0 && (expiresAt == NO_EXPIRY || nowTs < expiresAt)) {
            assert(ConsentSlot.pack(purposes, expiresAt, epoch).isActive(epoch, nowTs));
        }
    }

    /// @notice A consent granted in any other epoch than the owner's current one is dead,
    /// whatever its expiry and the time.
    function otherEpochIsInactive(
        uint128 purposes,
        uint40 expiresAt,
        uint32 grantEpoch,
        uint32 currentEpoch,
        uint64 nowTs
    ) external pure {
        if (grantEpoch != currentEpoch) {
            assert(!ConsentSlot.pack(purposes, expiresAt, grantEpoch).isActive(currentEpoch, nowTs));
        }
    }

    /// @notice `_revokeAll`'s checked `epoch + 1` kills every consent of the old epoch. The
    /// increment reverts (never wraps) only at epoch 2^64 - 1: the overflow target reports it.
    function revokeAllKillsOldEpoch(uint128 purposes, uint40 expiresAt, uint32 epoch, uint64 nowTs) external pure {
        uint32 newEpoch = epoch + 1;
        assert(newEpoch > epoch);
        assert(!ConsentSlot.pack(purposes, expiresAt, epoch).isActive(newEpoch, nowTs));
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
    /// on a packed word reads the purposes field only, never expiry or epoch bits.
    function purposeBitReadsPurposesOnly(
        uint8 purpose,
        uint128 purposes,
        uint40 expiresAt,
        uint32 epoch
    ) external pure {
        if (purpose <= MAX_PURPOSE_ID) {
            uint256 bit = uint256(1) << purpose;
            uint256 word = ConsentSlot.pack(purposes, expiresAt, epoch);
            assert((word & bit != 0) == (uint256(purposes) & bit != 0));
        }
    }

    /// @notice `_context`'s packing (grantable | epoch << 128 | now << 192) unpacks exactly as
    /// `_grantIn` reads it, and `purposes & ~uint128(ctx)` is the set of non-grantable purposes.
    function contextRoundTrip(uint128 grantable, uint32 epoch, uint64 nowTs, uint128 purposes) external pure {
        uint256 ctx = uint256(grantable) | (uint256(epoch) << 128) | (uint256(nowTs) << 192);
        assert(uint128(ctx) == grantable);
        assert(uint64(ctx >> 128) == epoch);
        assert(uint64(ctx >> 192) == nowTs);
        uint128 notGrantable = purposes & ~uint128(ctx);
        assert((notGrantable == 0) == (purposes | grantable == grantable));
    }
}
