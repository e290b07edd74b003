// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {VERSION_SEQUENCE_BITS} from "../Common.sol";
import {ConsentSlot} from "../libraries/ConsentSlot.sol";

/**
 * @title ConsentOrderingProperties
 * @notice VERIFICATION ONLY (`npm run verify:smt`, see docs/FORMAL.md). The signed-message
 * ordering rule, over ALL words, epochs and versions. `_accepts` is the acceptance condition of
 * `ConsentRegistry._checkSigned`, copied verbatim (negated back): the SMTChecker models
 * `abi.encodeWithSelector` as an uninterpreted function whose length is unknown, so the real
 * function's "no error" (`err.length == 0`) cannot be observed by an assert. Everything else is
 * the real code: {ConsentSlot.version}, {ConsentSlot.nextGeneration} (what every transaction
 * change does), and the words the registry stores after a signed grant or revoke (copied from
 * `_grantBySig` / `_revokeBySig`). Never deployed.
 */
contract ConsentOrderingProperties {
    using ConsentSlot for uint256;

    /// @dev The version field's top generation: `nextGeneration` of such a word reverts.
    uint64 private constant _MAX_GENERATION = (uint64(1) << 40) - 1;

    /// @notice An accepted signed version is above the key's version, in the key's generation,
    /// for the owner's current epoch, and fits the 56-bit field: stored, it reads back unchanged.
    function acceptsOnlyAboveWithinGeneration(
        uint256 word,
        uint32 currentEpoch,
        uint32 epoch,
        uint64 signedVersion
    ) external pure {
        if (_accepts(word, currentEpoch, epoch, signedVersion)) {
            assert(epoch == currentEpoch);
            assert(signedVersion > word.version());
            assert(signedVersion >> VERSION_SEQUENCE_BITS == word.version() >> VERSION_SEQUENCE_BITS);
            uint256 stored = uint256(signedVersion) << ConsentSlot.VERSION_SHIFT;
            assert(stored.version() == signedVersion);
        }
    }

    /// @notice A transaction change (grant or revoke by the owner or a manager: `nextGeneration`,
    /// then the new consent OR-ed in) makes every signed version that was acceptable before it
    /// unacceptable.
    function transactionChangeVoidsEverySignature(
        uint256 word,
        uint32 epoch,
        uint64 signedVersion,
        uint128 purposes,
        uint40 expiresAt
    ) external pure {
        if (word.version() >> VERSION_SEQUENCE_BITS < _MAX_GENERATION && _accepts(word, epoch, epoch, signedVersion)) {
            uint256 revoked = word.nextGeneration();
            assert(!_accepts(revoked, epoch, epoch, signedVersion));
            uint256 granted = revoked | ConsentSlot.pack(purposes, expiresAt, epoch);
            assert(!_accepts(granted, epoch, epoch, signedVersion));
        }
    }

    /// @notice A signed change to version v (grant or revoke, stored as `_grantBySig` /
    /// `_revokeBySig` store it) makes every version <= v unacceptable: no older or equal signed
    /// message can apply after it, in any relay order.
    function signedChangeVoidsEveryVersionUpToIt(
        uint256 word,
        uint32 epoch,
        uint64 signedVersion,
        uint64 laterVersion,
        uint128 purposes,
        uint40 expiresAt
    ) external pure {
        if (_accepts(word, epoch, epoch, signedVersion) && laterVersion <= signedVersion) {
            uint256 granted =
                (uint256(signedVersion) << ConsentSlot.VERSION_SHIFT) | ConsentSlot.pack(purposes, expiresAt, epoch);
            assert(!_accepts(granted, epoch, epoch, laterVersion));
            uint256 revoked = uint256(signedVersion) << ConsentSlot.VERSION_SHIFT;
            assert(!_accepts(revoked, epoch, epoch, laterVersion));
        }
    }

    /// @dev `ConsentRegistry._checkSigned`'s condition, verbatim; it returns no error exactly when
    /// this holds.
    function _accepts(
        uint256 word,
        uint32 currentEpoch,
        uint32 epoch,
        uint64 signedVersion
    ) private pure returns (bool) {
        uint64 current = word.version();
        return
            !(epoch != currentEpoch ||
                signedVersion <= current ||
                signedVersion >> VERSION_SEQUENCE_BITS != current >> VERSION_SEQUENCE_BITS);
    }
}
