// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ALL_DATA, NO_EXPIRY} from "../../contracts/Common.sol";
import {IConsentRegistry} from "../../contracts/interfaces/IConsentRegistry.sol";
import {ConsentSlot} from "../../contracts/libraries/ConsentSlot.sol";
import {SystemBase} from "./utils/SystemBase.sol";
import {vm} from "./utils/Vm.sol";

/**
 * @title ConsentRegistryFuzzTest
 * @notice Property tests of the consent semantics over random inputs: expiry, the ALL_DATA
 * fallback, revoke-all epochs, purpose ids above 127, the storage word layout, and the exact
 * errors of grant validation.
 */
contract ConsentRegistryFuzzTest is SystemBase {
    address private constant OWNER = address(0xA11CE);
    address private constant GRANTEE = address(0xB0B);
    address private constant OTHER_GRANTEE = address(0xCA11);
    uint64 private constant MAX_OFFSET = 100 * 365 days;

    uint256 private _epochsSlot;
    uint256 private _consentsSlot;

    function setUp() public {
        _deploySystem(address(this));
        _epochsSlot = _findEpochsSlot();
        _consentsSlot = _findConsentsSlot();
    }

    // ---------------------------------------------------------------------------------------
    // Expiry
    // ---------------------------------------------------------------------------------------

    /// @notice A consent allows iff it has no expiry or the clock is before its expiry.
    function testFuzzExpiryAllowsIffBeforeExpiresAt(uint256 expirySeed, uint256 checkSeed, uint8 purpose) public {
        purpose = uint8(_bound(purpose, 0, 7));
        // 1 in 8 runs: NO_EXPIRY; otherwise strictly after START.
        uint64 expiresAt = expirySeed % 8 == 0 ? NO_EXPIRY : uint64(_bound(expirySeed, START + 1, START + MAX_OFFSET));
        uint64 checkAt = uint64(_bound(checkSeed, START, START + MAX_OFFSET + 1));
        // Hit the boundary itself often: the consent must already be dead AT expiresAt.
        if (checkSeed % 4 == 0 && expiresAt != NO_EXPIRY) checkAt = expiresAt - uint64(checkSeed % 2 == 0 ? 0 : 1);
        bytes32 dataId = keccak256(abi.encode(expirySeed));

        vm.prank(OWNER);
        registry.grant(GRANTEE, dataId, INITIAL_PURPOSES, expiresAt, bytes32(0));
        _setTime(checkAt);

        bool expected = expiresAt == NO_EXPIRY || checkAt < expiresAt;
        vm.assertEq(registry.isAllowed(OWNER, GRANTEE, dataId, purpose), expected, "isAllowed vs expiry");
        vm.assertEq(registry.getConsent(OWNER, GRANTEE, dataId).active, expected, "getConsent.active vs expiry");
        vm.assertEq(
            registry.activePurposes(OWNER, GRANTEE, dataId),
            expected ? INITIAL_PURPOSES : 0,
            "activePurposes vs expiry"
        );
        // Expiry hides the consent but keeps the record (it can still be revoked).
        vm.assertEq(registry.getConsent(OWNER, GRANTEE, dataId).expiresAt, expiresAt, "stored expiresAt");
    }

    /// @notice A grant whose expiry is not after now reverts with the exact values.
    function testFuzzGrantRejectsExpiryNotInFuture(uint64 nowTs, uint64 expiresAt) public {
        nowTs = uint64(_bound(nowTs, START, type(uint64).max));
        expiresAt = uint64(_bound(expiresAt, 1, nowTs)); // 0 would be NO_EXPIRY
        _setTime(nowTs);
        vm.expectRevert(
            abi.encodeWithSelector(IConsentRegistry.ConsentRegistryExpiryInPast.selector, expiresAt, nowTs)
        );
        vm.prank(OWNER);
        registry.grant(GRANTEE, keccak256("d"), 1, expiresAt, bytes32(0));
    }

    // ---------------------------------------------------------------------------------------
    // ALL_DATA fallback
    // ---------------------------------------------------------------------------------------

    /// @notice A specific check honours the specific consent OR the all-data consent; an
    /// ALL_DATA check looks at the all-data consent only.
    function testFuzzAllDataFallback(
        bytes32 dataId,
        uint128 allPurposes,
        uint128 specificPurposes,
        uint8 purpose,
        bool expireSpecific
    ) public {
        vm.assume(dataId != bytes32(0) && dataId != ALL_DATA);
        allPurposes &= INITIAL_PURPOSES;
        specificPurposes = (specificPurposes & INITIAL_PURPOSES) | 1; // never empty
        purpose = uint8(_bound(purpose, 0, 7));

        vm.startPrank(OWNER);
        if (allPurposes != 0) registry.grant(GRANTEE, ALL_DATA, allPurposes, NO_EXPIRY, bytes32(0));
        registry.grant(GRANTEE, dataId, specificPurposes, expireSpecific ? START + 10 : NO_EXPIRY, bytes32(0));
        vm.stopPrank();
        if (expireSpecific) _setTime(START + 10);

        bool inAll = (allPurposes >> purpose) & 1 == 1;
        bool inSpecific = !expireSpecific && (specificPurposes >> purpose) & 1 == 1;
        vm.assertEq(registry.isAllowed(OWNER, GRANTEE, dataId, purpose), inSpecific || inAll, "specific check");
        vm.assertEq(registry.isAllowed(OWNER, GRANTEE, ALL_DATA, purpose), inAll, "ALL_DATA check");
        // The specific consent is for dataId only: another asset sees only the all-data consent.
        bytes32 otherId = keccak256(abi.encode(dataId));
        vm.assertEq(registry.isAllowed(OWNER, GRANTEE, otherId, purpose), inAll, "other asset");
        // Consent is per grantee.
        vm.assertFalse(registry.isAllowed(OWNER, OTHER_GRANTEE, dataId, purpose), "other grantee");
    }

    /// @notice A specific consent never makes an ALL_DATA check pass.
    function testFuzzAllDataCheckIgnoresSpecificConsents(bytes32 dataId, uint8 purpose) public {
        vm.assume(dataId != bytes32(0) && dataId != ALL_DATA);
        purpose = uint8(_bound(purpose, 0, 7));
        vm.prank(OWNER);
        registry.grant(GRANTEE, dataId, INITIAL_PURPOSES, NO_EXPIRY, bytes32(0));
        vm.assertTrue(registry.isAllowed(OWNER, GRANTEE, dataId, purpose), "specific allowed");
        vm.assertFalse(registry.isAllowed(OWNER, GRANTEE, ALL_DATA, purpose), "ALL_DATA not allowed");
    }

    // ---------------------------------------------------------------------------------------
    // Revoke-all epochs
    // ---------------------------------------------------------------------------------------

    /// @notice revokeAll kills every consent; a re-grant revives only the re-granted key.
    function testFuzzRevokeAllKillsAllAndRegrantRevivesOnlyThatKey(
        uint8 keyCount,
        uint256 regrantSeed,
        uint8 revokeAlls,
        uint8 purpose
    ) public {
        keyCount = uint8(_bound(keyCount, 1, 6));
        revokeAlls = uint8(_bound(revokeAlls, 1, 4));
        purpose = uint8(_bound(purpose, 0, 7));
        bytes32[] memory ids = new bytes32[](keyCount);
        vm.startPrank(OWNER);
        for (uint256 i = 0; i < keyCount; ++i) {
            // the last key is the all-data consent, to show it dies too
            ids[i] = i == keyCount - 1 ? ALL_DATA : keccak256(abi.encode("asset", i));
            registry.grant(GRANTEE, ids[i], INITIAL_PURPOSES, NO_EXPIRY, bytes32(0));
        }
        for (uint256 k = 0; k < revokeAlls; ++k) registry.revokeAll();
        vm.stopPrank();

        vm.assertEq(registry.epochOf(OWNER), revokeAlls, "epoch");
        for (uint256 i = 0; i < keyCount; ++i) {
            vm.assertFalse(registry.isAllowed(OWNER, GRANTEE, ids[i], purpose), "dead after revokeAll");
            vm.assertEq(registry.activePurposes(OWNER, GRANTEE, ids[i]), 0, "no active purposes");
        }

        uint256 revived = regrantSeed % keyCount;
        vm.prank(OWNER);
        registry.grant(GRANTEE, ids[revived], uint128(1) << purpose, NO_EXPIRY, bytes32(0));
        vm.assertEq(registry.getConsent(OWNER, GRANTEE, ids[revived]).epoch, revokeAlls, "regrant epoch");
        for (uint256 i = 0; i < keyCount; ++i) {
            bool alive = i == revived || ids[revived] == ALL_DATA; // ALL_DATA revives every asset
            vm.assertEq(registry.isAllowed(OWNER, GRANTEE, ids[i], purpose), alive, "only the regranted key");
            vm.assertEq(registry.getConsent(OWNER, GRANTEE, ids[i]).active, i == revived, "exact key active");
        }
    }

    /// @notice A consent of an older epoch cannot be revoked: it is already dead.
    function testFuzzRevokeOfStaleConsentIsNotGranted(bytes32 dataId) public {
        vm.assume(dataId != bytes32(0));
        vm.startPrank(OWNER);
        registry.grant(GRANTEE, dataId, 1, NO_EXPIRY, bytes32(0));
        registry.revokeAll();
        vm.expectRevert(
            abi.encodeWithSelector(IConsentRegistry.ConsentRegistryNotGranted.selector, OWNER, GRANTEE, dataId)
        );
        registry.revoke(GRANTEE, dataId);
        vm.stopPrank();
    }

    // ---------------------------------------------------------------------------------------
    // Purpose ids above 127
    // ---------------------------------------------------------------------------------------

    /**
     * @notice A purpose id > 127 is never allowed, whatever the stored word's upper bits: its
     * bit would fall in the expiry (128..191) or epoch (192..255) field, which we fill with
     * random values (epochs set directly in storage: 2^64 revokeAlls are not practical).
     */
    function testFuzzPurposeAbove127NeverAllowed(uint8 purpose, uint64 expiresAt, uint64 epoch, bool allData) public {
        purpose = uint8(_bound(purpose, 128, 255));
        expiresAt = uint64(_bound(expiresAt, START + 1, type(uint64).max));
        epoch = uint64(_bound(epoch, 0, type(uint64).max));
        // Make the purpose's own bit 1 in the word: choose the field value that sets it.
        if (purpose < 192) expiresAt |= uint64(1) << (purpose - 128);
        else epoch |= uint64(1) << (purpose - 192);
        vm.store(address(registry), keccak256(abi.encode(OWNER, _epochsSlot)), bytes32(uint256(epoch)));
        vm.assertEq(registry.epochOf(OWNER), epoch, "epoch stored");

        bytes32 dataId = allData ? ALL_DATA : keccak256("asset");
        vm.prank(OWNER);
        registry.grant(GRANTEE, dataId, INITIAL_PURPOSES, expiresAt, bytes32(0));
        uint256 word = uint256(vm.load(address(registry), _consentSlot(_consentsSlot, OWNER, GRANTEE, dataId)));
        vm.assertEq((word >> purpose) & 1, 1, "the purpose's bit is set in the word");
        vm.assertTrue(registry.getConsent(OWNER, GRANTEE, dataId).active, "consent is active");

        vm.assertFalse(registry.isAllowed(OWNER, GRANTEE, dataId, purpose), "purpose > 127 refused");
        vm.assertFalse(registry.isAllowed(OWNER, GRANTEE, keccak256("another"), purpose), "fallback refused");
        vm.expectRevert(
            abi.encodeWithSelector(
                IConsentRegistry.ConsentRegistryConsentRequired.selector,
                OWNER,
                GRANTEE,
                dataId,
                purpose
            )
        );
        vm.prank(GRANTEE);
        registry.recordUse(OWNER, dataId, purpose, bytes32(0));
    }

    // ---------------------------------------------------------------------------------------
    // Storage word
    // ---------------------------------------------------------------------------------------

    /// @notice pack/unpack round-trips every field, and isActive follows its definition.
    function testFuzzConsentSlotRoundTrip(
        uint128 purposes,
        uint64 expiresAt,
        uint64 epoch,
        uint64 currentEpoch,
        uint64 nowTs
    ) public pure {
        uint256 word = ConsentSlot.pack(purposes, expiresAt, epoch);
        vm.assertEq(ConsentSlot.purposes(word), purposes, "purposes");
        vm.assertEq(ConsentSlot.expiresAt(word), expiresAt, "expiresAt");
        vm.assertEq(ConsentSlot.epoch(word), epoch, "epoch");
        vm.assertEq(word, uint256(purposes) | (uint256(expiresAt) << 128) | (uint256(epoch) << 192), "layout");
        if (currentEpoch % 2 == 0) currentEpoch = epoch; // exercise the same-epoch branch half the time
        bool expected = word != 0 && epoch == currentEpoch && (expiresAt == 0 || nowTs < expiresAt);
        vm.assertEq(ConsentSlot.isActive(word, currentEpoch, nowTs), expected, "isActive");
    }

    /// @notice The registry stores exactly `pack(purposes, expiresAt, ownerEpoch)`.
    function testFuzzGrantStoresPackedWord(uint128 purposes, uint64 expiresAt, uint8 revokeAlls) public {
        purposes = (purposes & INITIAL_PURPOSES) | 2;
        expiresAt = expiresAt % 3 == 0 ? NO_EXPIRY : uint64(_bound(expiresAt, START + 1, type(uint64).max));
        revokeAlls = uint8(_bound(revokeAlls, 0, 3));
        vm.startPrank(OWNER);
        for (uint256 k = 0; k < revokeAlls; ++k) registry.revokeAll();
        registry.grant(GRANTEE, ALL_DATA, purposes, expiresAt, bytes32(0));
        vm.stopPrank();
        bytes32 stored = vm.load(address(registry), _consentSlot(_consentsSlot, OWNER, GRANTEE, ALL_DATA));
        vm.assertEq(uint256(stored), ConsentSlot.pack(purposes, expiresAt, revokeAlls), "stored word");
        IConsentRegistry.Consent memory c = registry.getConsent(OWNER, GRANTEE, ALL_DATA);
        vm.assertEq(c.purposes, purposes, "getConsent.purposes");
        vm.assertEq(c.expiresAt, expiresAt, "getConsent.expiresAt");
        vm.assertEq(c.epoch, revokeAlls, "getConsent.epoch");
    }

    // ---------------------------------------------------------------------------------------
    // Grant validation: exact errors, single and batched
    // ---------------------------------------------------------------------------------------

    /// @notice Each invalid grant reverts with its exact error (checked in the contract's
    /// order), alone and as a batch item wrapped in BatchItemFailed(index, error).
    function testFuzzGrantValidationErrors(
        uint8 fault,
        address grantee,
        bytes32 dataId,
        uint128 purposes,
        uint64 expiresAt,
        uint8 batchIndex
    ) public {
        fault = uint8(_bound(fault, 0, 4));
        vm.assume(grantee != address(0));
        vm.assume(dataId != bytes32(0));
        purposes = (purposes & INITIAL_PURPOSES) | 4;
        expiresAt = expiresAt % 2 == 0 ? NO_EXPIRY : uint64(_bound(expiresAt, START + 1, type(uint64).max));
        bytes memory expected;
        if (fault == 0) {
            grantee = address(0);
            expected = abi.encodeWithSelector(IConsentRegistry.ConsentRegistryZeroGrantee.selector);
        } else if (fault == 1) {
            dataId = bytes32(0);
            expected = abi.encodeWithSelector(IConsentRegistry.ConsentRegistryZeroDataId.selector);
        } else if (fault == 2) {
            purposes = 0;
            expected = abi.encodeWithSelector(IConsentRegistry.ConsentRegistryEmptyPurposes.selector);
        } else if (fault == 3) {
            // some bit outside the catalogue (ids 8..127 are undefined here)
            uint128 extra = uint128(1) << uint8(_bound(uint256(dataId), 8, 127));
            purposes |= extra;
            expected = abi.encodeWithSelector(
                IConsentRegistry.ConsentRegistryPurposeNotGrantable.selector,
                purposes,
                extra
            );
        } else {
            expiresAt = uint64(_bound(expiresAt, 1, START));
            expected = abi.encodeWithSelector(IConsentRegistry.ConsentRegistryExpiryInPast.selector, expiresAt, START);
        }

        vm.expectRevert(expected);
        vm.prank(OWNER);
        registry.grant(grantee, dataId, purposes, expiresAt, bytes32(0));
        _expectBatchItemFailed(
            IConsentRegistry.GrantInput(grantee, dataId, purposes, expiresAt, 0),
            batchIndex,
            expected
        );
    }

    /// @dev Puts `bad` at a random position of an otherwise valid batch: the batch must revert
    /// with BatchItemFailed(index, expected) and store nothing (all or nothing).
    function _expectBatchItemFailed(
        IConsentRegistry.GrantInput memory bad,
        uint8 batchIndex,
        bytes memory expected
    ) private {
        batchIndex = uint8(_bound(batchIndex, 0, 4));
        IConsentRegistry.GrantInput[] memory batch = new IConsentRegistry.GrantInput[](5);
        for (uint256 i = 0; i < batch.length; ++i) {
            batch[i] = IConsentRegistry.GrantInput(GRANTEE, keccak256(abi.encode(i)), 1, NO_EXPIRY, bytes32(0));
        }
        batch[batchIndex] = bad;
        vm.expectRevert(
            abi.encodeWithSelector(IConsentRegistry.ConsentRegistryBatchItemFailed.selector, batchIndex, expected)
        );
        vm.prank(OWNER);
        registry.grantBatch(batch);
        vm.assertEq(registry.getConsent(OWNER, GRANTEE, keccak256(abi.encode(uint256(0)))).purposes, 0, "no partial");
    }

    /// @notice Deprecating a purpose blocks new grants of it but never changes an existing consent.
    function testFuzzDeprecationKeepsExistingConsent(uint8 purpose, bytes32 dataId) public {
        purpose = uint8(_bound(purpose, 0, 7));
        vm.assume(dataId != bytes32(0));
        vm.prank(OWNER);
        registry.grant(GRANTEE, dataId, INITIAL_PURPOSES, NO_EXPIRY, bytes32(0));
        registry.deprecatePurpose(purpose); // this test contract is the AccessManager admin
        vm.assertTrue(registry.isAllowed(OWNER, GRANTEE, dataId, purpose), "existing consent still allows");
        vm.assertEq(registry.activePurposes(OWNER, GRANTEE, dataId), INITIAL_PURPOSES, "purposes unchanged");
        uint128 bit = uint128(1) << purpose;
        vm.expectRevert(abi.encodeWithSelector(IConsentRegistry.ConsentRegistryPurposeNotGrantable.selector, bit, bit));
        vm.prank(OWNER);
        registry.grant(OTHER_GRANTEE, dataId, bit, NO_EXPIRY, bytes32(0));
    }
}
