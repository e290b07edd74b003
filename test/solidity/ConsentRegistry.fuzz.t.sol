// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ALL_DATA, MAX_EXPIRY, NO_EXPIRY} from "../../contracts/Common.sol";
import {IConsentRegistry} from "../../contracts/interfaces/IConsentRegistry.sol";
import {IPurposeCatalog} from "../../contracts/interfaces/IPurposeCatalog.sol";
import {ConsentSlot} from "../../contracts/libraries/ConsentSlot.sol";
import {Signing} from "./utils/Signing.sol";
import {SystemBase} from "./utils/SystemBase.sol";
import {Vm, vm} from "./utils/Vm.sol";

/**
 * @title ConsentRegistryFuzzTest
 * @notice Property tests of the consent semantics over random inputs: expiry, the ALL_DATA
 * fallback (and none for data id 0), lockdown epochs, the purpose id range (127 works, 128 never
 * does), shares (integration status and purposes), the storage word, the exact errors of grant
 * validation, narrowing with deprecated purposes, and the signed-message ordering rule (any
 * relay order, signed grants after time and governance moved, best-effort revocation batches).
 */
contract ConsentRegistryFuzzTest is SystemBase {
    uint256 private constant OWNER_KEY = 0xA11CE;
    uint256 private constant OTHER_KEY = 0xB0B;
    address private constant GRANTEE = address(0xB0B0);
    address private constant OTHER_GRANTEE = address(0xCA11);
    address private constant INTEGRATION = address(0x4001);
    address private constant RELAYER = address(0x7001);
    address private constant MANAGER = address(0x5001);
    uint40 private constant MAX_OFFSET = 100 * 365 days;
    bytes32 private constant NOTICE = keccak256("notice");
    /// @dev NO_EXPIRY as the ABI's uint40 (Common.sol declares it uint64).
    uint40 private constant NEVER = NO_EXPIRY;

    address private _owner;
    uint256 private _epochsSlot;
    uint256 private _consentsSlot;

    function setUp() public {
        _deploySystem(address(this));
        _owner = vm.addr(OWNER_KEY);
        _epochsSlot = _findEpochsSlot();
        _consentsSlot = _findConsentsSlot();
    }

    // ---------------------------------------------------------------------------------------
    // Expiry
    // ---------------------------------------------------------------------------------------

    /// @notice A consent allows iff it has no expiry or the clock is before its expiry.
    function testFuzzExpiryAllowsIffBeforeExpiresAt(uint256 expirySeed, uint256 checkSeed, uint8 purpose) public {
        purpose = uint8(_bound(purpose, 0, 7));
        // 1 in 8 runs: NEVER; otherwise strictly after START, up to the largest expiry.
        uint40 expiresAt =
            expirySeed % 8 == 0
                ? NEVER
                : uint40(_bound(expirySeed, START + 1, expirySeed % 8 == 1 ? uint256(MAX_EXPIRY) : START + MAX_OFFSET));
        uint64 checkAt = uint64(_bound(checkSeed, START, uint256(START) + MAX_OFFSET + 1));
        // Hit the boundary itself often: the consent must already be dead AT expiresAt.
        if (checkSeed % 4 == 0 && expiresAt != NEVER) checkAt = expiresAt - uint64(checkSeed % 2 == 0 ? 0 : 1);
        bytes32 dataId = keccak256(abi.encode(expirySeed));

        vm.prank(_owner);
        registry.grant(GRANTEE, dataId, INITIAL_PURPOSES, expiresAt, bytes32(0));
        _setTime(checkAt);

        bool expected = expiresAt == NEVER || checkAt < expiresAt;
        vm.assertEq(registry.isAllowed(_owner, GRANTEE, dataId, purpose), expected, "isAllowed vs expiry");
        vm.assertEq(registry.getConsent(_owner, GRANTEE, dataId).active, expected, "getConsent.active vs expiry");
        vm.assertEq(
            registry.activePurposes(_owner, GRANTEE, dataId),
            expected ? INITIAL_PURPOSES : 0,
            "activePurposes vs expiry"
        );
        // Expiry hides the consent but keeps the record.
        vm.assertEq(registry.getConsent(_owner, GRANTEE, dataId).expiresAt, expiresAt, "stored expiresAt");
    }

    /// @notice A grant whose expiry is not after now reverts with the exact values.
    function testFuzzGrantRejectsExpiryNotInFuture(uint64 nowTs, uint40 expiresAt) public {
        nowTs = uint64(_bound(nowTs, START, type(uint64).max));
        expiresAt = uint40(_bound(expiresAt, 1, nowTs < MAX_EXPIRY ? uint256(nowTs) : MAX_EXPIRY)); // 0 is NEVER
        _setTime(nowTs);
        vm.expectRevert(
            abi.encodeWithSelector(IConsentRegistry.ConsentRegistryExpiryInPast.selector, expiresAt, nowTs)
        );
        vm.prank(_owner);
        registry.grant(GRANTEE, keccak256("d"), 1, expiresAt, bytes32(0));
    }

    // ---------------------------------------------------------------------------------------
    // ALL_DATA fallback, and none for data id 0
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

        vm.startPrank(_owner);
        if (allPurposes != 0) registry.grant(GRANTEE, ALL_DATA, allPurposes, NEVER, bytes32(0));
        registry.grant(GRANTEE, dataId, specificPurposes, expireSpecific ? uint40(START + 10) : NEVER, bytes32(0));
        vm.stopPrank();
        if (expireSpecific) _setTime(START + 10);

        bool inAll = (allPurposes >> purpose) & 1 == 1;
        bool inSpecific = !expireSpecific && (specificPurposes >> purpose) & 1 == 1;
        vm.assertEq(registry.isAllowed(_owner, GRANTEE, dataId, purpose), inSpecific || inAll, "specific check");
        vm.assertEq(registry.isAllowed(_owner, GRANTEE, ALL_DATA, purpose), inAll, "ALL_DATA check");
        // The specific consent is for dataId only: another asset sees only the all-data consent.
        bytes32 otherId = keccak256(abi.encode(dataId));
        vm.assertEq(registry.isAllowed(_owner, GRANTEE, otherId, purpose), inAll, "other asset");
        // Consent is per grantee.
        vm.assertFalse(registry.isAllowed(_owner, OTHER_GRANTEE, dataId, purpose), "other grantee");
    }

    /// @notice A specific consent never makes an ALL_DATA check pass.
    function testFuzzAllDataCheckIgnoresSpecificConsents(bytes32 dataId, uint8 purpose) public {
        vm.assume(dataId != bytes32(0) && dataId != ALL_DATA);
        purpose = uint8(_bound(purpose, 0, 7));
        vm.prank(_owner);
        registry.grant(GRANTEE, dataId, INITIAL_PURPOSES, NEVER, bytes32(0));
        vm.assertTrue(registry.isAllowed(_owner, GRANTEE, dataId, purpose), "specific allowed");
        vm.assertFalse(registry.isAllowed(_owner, GRANTEE, ALL_DATA, purpose), "ALL_DATA not allowed");
    }

    /**
     * @notice Data id 0 is never allowed, even with an ALL_DATA consent for every purpose (no
     * fallback: an unset variable must not pass as "all data"); it cannot be granted or revoked,
     * used or shared.
     */
    function testFuzzDataIdZeroNeverAllowed(uint8 purpose, uint128 purposes) public {
        purpose = uint8(_bound(purpose, 0, 7));
        purposes = (purposes & INITIAL_PURPOSES) | (uint128(1) << purpose);
        integrations.registerIntegration(INTEGRATION, keccak256("I"), INITIAL_PURPOSES);
        vm.startPrank(_owner);
        registry.grant(GRANTEE, ALL_DATA, purposes, NEVER, bytes32(0));
        registry.grant(INTEGRATION, ALL_DATA, purposes, NEVER, bytes32(0));
        vm.expectRevert(abi.encodeWithSelector(IConsentRegistry.ConsentRegistryZeroDataId.selector));
        registry.grant(GRANTEE, bytes32(0), purposes, NEVER, bytes32(0));
        vm.expectRevert(abi.encodeWithSelector(IConsentRegistry.ConsentRegistryZeroDataId.selector));
        registry.revoke(GRANTEE, bytes32(0));
        vm.stopPrank();

        vm.assertTrue(registry.isAllowed(_owner, GRANTEE, keccak256("any asset"), purpose), "fallback works");
        vm.assertFalse(registry.isAllowed(_owner, GRANTEE, bytes32(0), purpose), "data id 0 refused");
        vm.expectRevert(
            abi.encodeWithSelector(
                IConsentRegistry.ConsentRegistryConsentRequired.selector,
                _owner,
                GRANTEE,
                bytes32(0),
                purpose
            )
        );
        vm.prank(GRANTEE);
        registry.recordUse(_owner, bytes32(0), purpose, bytes32(0));
        vm.expectRevert(
            abi.encodeWithSelector(
                IConsentRegistry.ConsentRegistryConsentRequired.selector,
                _owner,
                GRANTEE,
                bytes32(0),
                purpose
            )
        );
        vm.prank(GRANTEE);
        registry.recordShare(_owner, INTEGRATION, bytes32(0), purpose, bytes32(0));
    }

    // ---------------------------------------------------------------------------------------
    // The purpose id range: 127 is the top valid id, 128 and above never pass
    // ---------------------------------------------------------------------------------------

    /**
     * @notice Purpose 127 can be defined, granted, checked (exactly and through ALL_DATA), used
     * and shared to an integration registered for it, and deprecated; 128 cannot be defined and
     * is never allowed. (Each `> MAX_PURPOSE_ID` check turned into `>=` fails here.)
     */
    function testFuzzTopPurposeId127(uint128 others, bytes32 dataId, bool viaAllData, uint8 above) public {
        vm.assume(dataId != bytes32(0) && dataId != ALL_DATA);
        above = uint8(_bound(above, 128, 255));
        uint128 top = uint128(1) << 127;
        registry.definePurpose(127, keccak256("purpose 127"));
        vm.assertEq(registry.grantablePurposes(), INITIAL_PURPOSES | top, "127 grantable");
        vm.expectRevert(abi.encodeWithSelector(IPurposeCatalog.PurposeCatalogIdOutOfRange.selector, above));
        registry.definePurpose(above, bytes32(0));
        integrations.registerIntegration(INTEGRATION, keccak256("I"), top);
        vm.assertTrue(integrations.isActiveIntegration(INTEGRATION, 127), "integration for 127");

        uint128 purposes = (others & INITIAL_PURPOSES) | top;
        bytes32 grantedId = viaAllData ? ALL_DATA : dataId;
        vm.startPrank(_owner);
        registry.grant(GRANTEE, grantedId, purposes, NEVER, bytes32(0));
        registry.grant(INTEGRATION, grantedId, top, NEVER, bytes32(0));
        vm.stopPrank();
        vm.assertTrue(registry.isAllowed(_owner, GRANTEE, dataId, 127), "127 allowed");
        vm.assertFalse(registry.isAllowed(_owner, GRANTEE, dataId, above), "above 127 refused");
        vm.assertEq(registry.activePurposes(_owner, GRANTEE, grantedId), purposes, "stored with bit 127");

        vm.expectEmit(true, true, true, true, address(registry));
        emit IConsentRegistry.DataUsed(_owner, GRANTEE, dataId, 127, keccak256("job"));
        vm.prank(GRANTEE);
        registry.recordUse(_owner, dataId, 127, keccak256("job"));
        vm.expectEmit(true, true, true, true, address(registry));
        emit IConsentRegistry.DataShared(_owner, GRANTEE, INTEGRATION, dataId, 127, keccak256("receipt"));
        vm.prank(GRANTEE);
        registry.recordShare(_owner, INTEGRATION, dataId, 127, keccak256("receipt"));

        registry.deprecatePurpose(127);
        vm.assertEq(registry.grantablePurposes(), INITIAL_PURPOSES, "127 deprecated");
        vm.assertTrue(registry.isAllowed(_owner, GRANTEE, dataId, 127), "existing consent keeps 127");
        vm.expectRevert(abi.encodeWithSelector(IConsentRegistry.ConsentRegistryPurposeNotGrantable.selector, top, top));
        vm.prank(_owner);
        registry.grant(OTHER_GRANTEE, dataId, top, NEVER, bytes32(0));
    }

    /**
     * @notice A purpose id > 127 is never allowed, whatever the stored word's upper bits: its
     * bit would fall in the expiry (128..167), epoch (168..199) or version (200..255) field. The
     * word is written directly with that bit set and every field random, the owner's epoch to
     * match, so the consent is active: only the range check refuses.
     */
    function testFuzzPurposeAbove127NeverAllowed(
        uint8 purpose,
        uint40 expiresAt,
        uint32 epoch,
        uint56 version,
        bool allData
    ) public {
        purpose = uint8(_bound(purpose, 128, 255));
        expiresAt = uint40(_bound(expiresAt, START + 1, MAX_EXPIRY));
        if (purpose < 168) expiresAt |= uint40(1) << (purpose - 128);
        else if (purpose < 200) epoch |= uint32(1) << (purpose - 168);
        else version |= uint56(1) << (purpose - 200);
        bytes32 dataId = allData ? ALL_DATA : keccak256("asset");
        uint256 word = ConsentSlot.pack(INITIAL_PURPOSES, expiresAt, epoch) | (uint256(version) << VERSION_SHIFT);
        vm.store(address(registry), keccak256(abi.encode(_owner, _epochsSlot)), bytes32(uint256(epoch)));
        vm.store(address(registry), _consentSlot(_consentsSlot, _owner, GRANTEE, dataId), bytes32(word));
        vm.assertEq((word >> purpose) & 1, 1, "the purpose's bit is set in the word");
        vm.assertTrue(registry.getConsent(_owner, GRANTEE, dataId).active, "consent is active");

        vm.assertFalse(registry.isAllowed(_owner, GRANTEE, dataId, purpose), "purpose > 127 refused");
        vm.assertFalse(registry.isAllowed(_owner, GRANTEE, keccak256("another"), purpose), "fallback refused");
        vm.expectRevert(
            abi.encodeWithSelector(
                IConsentRegistry.ConsentRegistryConsentRequired.selector,
                _owner,
                GRANTEE,
                dataId,
                purpose
            )
        );
        vm.prank(GRANTEE);
        registry.recordUse(_owner, dataId, purpose, bytes32(0));
    }

    // ---------------------------------------------------------------------------------------
    // Shares: the recipient must be an active integration FOR THAT PURPOSE
    // ---------------------------------------------------------------------------------------

    /**
     * @notice Sender and recipient both hold the owner's consent; the share passes only if the
     * recipient is a registered, active integration whose purposes include `purpose`: an
     * unregistered recipient, a suspended integration and an integration registered for other
     * purposes are all IntegrationNotActive(to, purpose).
     */
    function testFuzzShareNeedsAnActiveIntegrationForThePurpose(
        uint128 integrationPurposes,
        uint8 purpose,
        uint8 state,
        bytes32 dataId
    ) public {
        vm.assume(dataId != bytes32(0) && dataId != ALL_DATA);
        purpose = uint8(_bound(purpose, 0, 7));
        integrationPurposes &= INITIAL_PURPOSES;
        if (integrationPurposes == 0) integrationPurposes = uint128(1) << ((purpose + 1) % 8);
        state = uint8(_bound(state, 0, 2)); // 0 none, 1 active, 2 suspended
        if (state != 0) integrations.registerIntegration(INTEGRATION, keccak256("I"), integrationPurposes);
        if (state == 2) integrations.suspendIntegration(INTEGRATION);
        vm.startPrank(_owner);
        registry.grant(GRANTEE, dataId, INITIAL_PURPOSES, NEVER, bytes32(0));
        registry.grant(INTEGRATION, dataId, INITIAL_PURPOSES, NEVER, bytes32(0));
        vm.stopPrank();

        bool passes = state == 1 && (integrationPurposes >> purpose) & 1 == 1;
        if (passes) {
            vm.expectEmit(true, true, true, true, address(registry));
            emit IConsentRegistry.DataShared(_owner, GRANTEE, INTEGRATION, dataId, purpose, keccak256("r"));
        } else {
            vm.expectRevert(
                abi.encodeWithSelector(
                    IConsentRegistry.ConsentRegistryIntegrationNotActive.selector,
                    INTEGRATION,
                    purpose
                )
            );
        }
        vm.prank(GRANTEE);
        registry.recordShare(_owner, INTEGRATION, dataId, purpose, keccak256("r"));
    }

    /// @notice A share also needs the recipient's own consent, checked before its status.
    function testFuzzShareNeedsTheRecipientsConsent(uint8 purpose, bytes32 dataId) public {
        vm.assume(dataId != bytes32(0) && dataId != ALL_DATA);
        purpose = uint8(_bound(purpose, 0, 7));
        integrations.registerIntegration(INTEGRATION, keccak256("I"), INITIAL_PURPOSES);
        vm.prank(_owner);
        registry.grant(GRANTEE, dataId, INITIAL_PURPOSES, NEVER, bytes32(0));
        vm.expectRevert(
            abi.encodeWithSelector(
                IConsentRegistry.ConsentRegistryConsentRequired.selector,
                _owner,
                INTEGRATION,
                dataId,
                purpose
            )
        );
        vm.prank(GRANTEE);
        registry.recordShare(_owner, INTEGRATION, dataId, purpose, bytes32(0));
    }

    // ---------------------------------------------------------------------------------------
    // Lockdown
    // ---------------------------------------------------------------------------------------

    /// @notice A lockdown kills every consent; a re-grant revives only the re-granted key.
    function testFuzzLockdownKillsAllAndRegrantRevivesOnlyThatKey(
        uint8 keyCount,
        uint256 regrantSeed,
        uint8 lockdowns,
        uint8 purpose
    ) public {
        keyCount = uint8(_bound(keyCount, 1, 6));
        lockdowns = uint8(_bound(lockdowns, 1, 4));
        purpose = uint8(_bound(purpose, 0, 7));
        bytes32[] memory ids = new bytes32[](keyCount);
        vm.startPrank(_owner);
        for (uint256 i = 0; i < keyCount; ++i) {
            // the last key is the all-data consent, to show it dies too
            ids[i] = i == keyCount - 1 ? ALL_DATA : keccak256(abi.encode("asset", i));
            registry.grant(GRANTEE, ids[i], INITIAL_PURPOSES, NEVER, bytes32(0));
        }
        for (uint256 k = 0; k < lockdowns; ++k) registry.revokeAll();
        vm.stopPrank();

        vm.assertEq(registry.epochOf(_owner), lockdowns, "epoch");
        for (uint256 i = 0; i < keyCount; ++i) {
            vm.assertFalse(registry.isAllowed(_owner, GRANTEE, ids[i], purpose), "dead after lockdown");
            vm.assertEq(registry.activePurposes(_owner, GRANTEE, ids[i]), 0, "no active purposes");
        }

        uint256 revived = regrantSeed % keyCount;
        vm.prank(_owner);
        registry.grant(GRANTEE, ids[revived], uint128(1) << purpose, NEVER, bytes32(0));
        vm.assertEq(registry.getConsent(_owner, GRANTEE, ids[revived]).epoch, lockdowns, "regrant epoch");
        for (uint256 i = 0; i < keyCount; ++i) {
            bool alive = i == revived || ids[revived] == ALL_DATA; // ALL_DATA revives every asset
            vm.assertEq(registry.isAllowed(_owner, GRANTEE, ids[i], purpose), alive, "only the regranted key");
            vm.assertEq(registry.getConsent(_owner, GRANTEE, ids[i]).active, i == revived, "exact key active");
        }
    }

    /**
     * @notice The lockdown ends managers too: a manager appointed before it can no longer act,
     * is no manager (so removing it changes nothing: ManagerUnchanged), and can be appointed
     * again explicitly. Every signature made before it is stale.
     */
    function testFuzzLockdownEndsManagersAndSignatures(uint8 lockdowns, bool byManager, bytes32 dataId) public {
        vm.assume(dataId != bytes32(0));
        lockdowns = uint8(_bound(lockdowns, 1, 3));
        vm.prank(_owner);
        registry.setManager(MANAGER, true);
        IConsentRegistry.SignedGrant memory g = _signedGrant(dataId, INITIAL_PURPOSES, NEVER, 0, 1);
        for (uint256 k = 0; k < lockdowns; ++k) {
            vm.prank(byManager && k == 0 ? MANAGER : _owner);
            if (byManager && k == 0) registry.revokeAllFor(_owner);
            else registry.revokeAll();
        }
        vm.assertFalse(registry.isManager(_owner, MANAGER), "manager ended");
        vm.expectRevert(
            abi.encodeWithSelector(IConsentRegistry.ConsentRegistryNotAuthorized.selector, MANAGER, _owner)
        );
        vm.prank(MANAGER);
        registry.grantFor(_owner, GRANTEE, dataId, 1, NEVER, bytes32(0));
        vm.expectRevert(
            abi.encodeWithSelector(IConsentRegistry.ConsentRegistryManagerUnchanged.selector, _owner, MANAGER, false)
        );
        vm.prank(_owner);
        registry.setManager(MANAGER, false);
        vm.expectRevert(
            abi.encodeWithSelector(
                IConsentRegistry.ConsentRegistryStaleSignature.selector,
                _owner,
                0,
                1,
                uint32(lockdowns),
                0
            )
        );
        vm.prank(RELAYER);
        registry.grantBySig(g);

        vm.prank(_owner);
        registry.setManager(MANAGER, true);
        vm.expectRevert(
            abi.encodeWithSelector(IConsentRegistry.ConsentRegistryManagerUnchanged.selector, _owner, MANAGER, true)
        );
        vm.prank(_owner);
        registry.setManager(MANAGER, true);
        vm.prank(MANAGER);
        registry.grantFor(_owner, GRANTEE, dataId, 1, NEVER, bytes32(0));
        vm.assertTrue(registry.isAllowed(_owner, GRANTEE, dataId, 0), "re-appointed manager acts");
    }

    // ---------------------------------------------------------------------------------------
    // Revoke always succeeds for a valid key
    // ---------------------------------------------------------------------------------------

    /**
     * @notice Whatever the key's state (never granted, live, expired, revoked, of an older
     * epoch), revoke succeeds, emits ConsentRevoked with the next generation's version, leaves
     * nothing but that version in the slot, and voids a signature made before it.
     */
    function testFuzzRevokeAlwaysSucceedsAndVoidsSignatures(uint8 state, bytes32 dataId, uint8 priorChanges) public {
        vm.assume(dataId != bytes32(0));
        state = uint8(_bound(state, 0, 4));
        priorChanges = uint8(_bound(priorChanges, 0, 3));
        vm.startPrank(_owner);
        for (uint256 i = 0; i < priorChanges; ++i) registry.revoke(GRANTEE, dataId);
        if (state >= 1) registry.grant(GRANTEE, dataId, 3, state == 2 ? uint40(START + 5) : NEVER, bytes32(0));
        if (state == 3) registry.revoke(GRANTEE, dataId);
        if (state == 4) registry.revokeAll();
        vm.stopPrank();
        if (state == 2) _setTime(START + 5);
        uint64 v = registry.getConsent(_owner, GRANTEE, dataId).version;
        vm.assertEq(v, uint64(priorChanges + (state >= 1 ? 1 : 0) + (state == 3 ? 1 : 0)) << 16, "generations");
        IConsentRegistry.SignedGrant memory g = _signedGrant(dataId, 1, NEVER, registry.epochOf(_owner), v + 1);

        uint64 next = (v | 0xffff) + 1;
        vm.expectEmit(true, true, true, true, address(registry));
        emit IConsentRegistry.ConsentRevoked(_owner, GRANTEE, dataId, _owner, next);
        vm.prank(_owner);
        registry.revoke(GRANTEE, dataId);
        bytes32 slot = _consentSlot(_consentsSlot, _owner, GRANTEE, dataId);
        vm.assertEq(uint256(vm.load(address(registry), slot)), uint256(next) << VERSION_SHIFT, "only the version");

        vm.expectRevert(
            abi.encodeWithSelector(
                IConsentRegistry.ConsentRegistryStaleSignature.selector,
                _owner,
                registry.epochOf(_owner),
                v + 1,
                registry.epochOf(_owner),
                next
            )
        );
        vm.prank(RELAYER);
        registry.grantBySig(g);
        vm.expectRevert(abi.encodeWithSelector(IConsentRegistry.ConsentRegistryZeroGrantee.selector));
        vm.prank(_owner);
        registry.revoke(address(0), dataId);
    }

    // ---------------------------------------------------------------------------------------
    // Storage word
    // ---------------------------------------------------------------------------------------

    /// @notice pack/unpack round-trips every field, nextGeneration keeps only the next
    /// generation's version, and isActive follows its definition.
    function testFuzzConsentSlotRoundTrip(
        uint128 purposes,
        uint40 expiresAt,
        uint32 epoch,
        uint56 version,
        uint32 currentEpoch,
        uint64 nowTs
    ) public pure {
        vm.assume(version >> 16 < type(uint40).max); // the last generation cannot move on (checked add)
        uint256 word = ConsentSlot.pack(purposes, expiresAt, epoch) | (uint256(version) << VERSION_SHIFT);
        vm.assertEq(ConsentSlot.purposes(word), purposes, "purposes");
        vm.assertEq(ConsentSlot.expiresAt(word), expiresAt, "expiresAt");
        vm.assertEq(ConsentSlot.epoch(word), epoch, "epoch");
        vm.assertEq(ConsentSlot.version(word), version, "version");
        vm.assertEq(
            word,
            uint256(purposes) | (uint256(expiresAt) << 128) | (uint256(epoch) << 168) | (uint256(version) << 200),
            "layout"
        );
        uint256 next = ConsentSlot.nextGeneration(word);
        vm.assertEq(next, uint256((uint64(version) | 0xffff) + 1) << 200, "next generation, nothing else");
        if (currentEpoch % 2 == 0) currentEpoch = epoch; // exercise the same-epoch branch half the time
        bool expected = purposes != 0 && epoch == currentEpoch && (expiresAt == 0 || nowTs < expiresAt);
        vm.assertEq(ConsentSlot.isActive(word, currentEpoch, nowTs), expected, "isActive");
    }

    /// @notice The registry stores exactly `pack(purposes, expiresAt, ownerEpoch)` with the
    /// version of the key's next generation, whatever came before.
    function testFuzzGrantStoresPackedWord(uint128 purposes, uint40 expiresAt, uint8 lockdowns, uint8 regrants) public {
        purposes = (purposes & INITIAL_PURPOSES) | 2;
        expiresAt = expiresAt % 3 == 0 ? NEVER : uint40(_bound(expiresAt, START + 1, MAX_EXPIRY));
        lockdowns = uint8(_bound(lockdowns, 0, 3));
        regrants = uint8(_bound(regrants, 0, 3));
        vm.startPrank(_owner);
        for (uint256 k = 0; k < lockdowns; ++k) registry.revokeAll();
        for (uint256 k = 0; k < regrants; ++k) registry.grant(GRANTEE, ALL_DATA, 1, NEVER, bytes32(0));
        registry.grant(GRANTEE, ALL_DATA, purposes, expiresAt, bytes32(0));
        vm.stopPrank();
        uint64 version = uint64(regrants + 1) << 16;
        bytes32 stored = vm.load(address(registry), _consentSlot(_consentsSlot, _owner, GRANTEE, ALL_DATA));
        vm.assertEq(
            uint256(stored),
            ConsentSlot.pack(purposes, expiresAt, lockdowns) | (uint256(version) << VERSION_SHIFT),
            "stored word"
        );
        IConsentRegistry.Consent memory c = registry.getConsent(_owner, GRANTEE, ALL_DATA);
        vm.assertEq(c.purposes, purposes, "getConsent.purposes");
        vm.assertEq(c.expiresAt, expiresAt, "getConsent.expiresAt");
        vm.assertEq(c.epoch, lockdowns, "getConsent.epoch");
        vm.assertEq(c.version, version, "getConsent.version");
    }

    // ---------------------------------------------------------------------------------------
    // Grant validation: exact errors, single and batched
    // ---------------------------------------------------------------------------------------

    /// @notice Each invalid grant reverts with its exact error (checked in the contract's
    /// order: grantee, data id, purposes, expiry, catalogue), alone and as a batch item wrapped
    /// in BatchItemFailed(index, error).
    function testFuzzGrantValidationErrors(
        uint8 fault,
        address grantee,
        bytes32 dataId,
        uint128 purposes,
        uint40 expiresAt,
        uint8 batchIndex
    ) public {
        fault = uint8(_bound(fault, 0, 4));
        vm.assume(grantee != address(0));
        vm.assume(dataId != bytes32(0));
        purposes = (purposes & INITIAL_PURPOSES) | 4;
        expiresAt = expiresAt % 2 == 0 ? NEVER : uint40(_bound(expiresAt, START + 1, MAX_EXPIRY));
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
            // some bit outside the catalogue (ids 8..127 are undefined here), expiry valid
            uint128 extra = uint128(1) << uint8(_bound(uint256(dataId), 8, 127));
            purposes |= extra;
            expected = abi.encodeWithSelector(
                IConsentRegistry.ConsentRegistryPurposeNotGrantable.selector,
                purposes,
                extra
            );
        } else {
            // an expiry in the past is reported before an undefined purpose
            if (uint256(dataId) % 2 == 0) purposes |= uint128(1) << 100;
            expiresAt = uint40(_bound(expiresAt, 1, START));
            expected = abi.encodeWithSelector(IConsentRegistry.ConsentRegistryExpiryInPast.selector, expiresAt, START);
        }

        vm.expectRevert(expected);
        vm.prank(_owner);
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
            batch[i] = IConsentRegistry.GrantInput(GRANTEE, keccak256(abi.encode(i)), 1, NEVER, bytes32(0));
        }
        batch[batchIndex] = bad;
        vm.expectRevert(
            abi.encodeWithSelector(IConsentRegistry.ConsentRegistryBatchItemFailed.selector, batchIndex, expected)
        );
        vm.prank(_owner);
        registry.grantBatch(batch);
        vm.assertEq(registry.getConsent(_owner, GRANTEE, keccak256(abi.encode(uint256(0)))).purposes, 0, "no partial");
    }

    // ---------------------------------------------------------------------------------------
    // Deprecation and narrowing
    // ---------------------------------------------------------------------------------------

    /// @notice Deprecating a purpose blocks new grants of it but never changes an existing consent.
    function testFuzzDeprecationKeepsExistingConsent(uint8 purpose, bytes32 dataId) public {
        purpose = uint8(_bound(purpose, 0, 7));
        vm.assume(dataId != bytes32(0));
        vm.prank(_owner);
        registry.grant(GRANTEE, dataId, INITIAL_PURPOSES, NEVER, bytes32(0));
        registry.deprecatePurpose(purpose); // this test contract is the AccessManager admin
        vm.assertTrue(registry.isAllowed(_owner, GRANTEE, dataId, purpose), "existing consent still allows");
        vm.assertEq(registry.activePurposes(_owner, GRANTEE, dataId), INITIAL_PURPOSES, "purposes unchanged");
        uint128 bit = uint128(1) << purpose;
        vm.expectRevert(abi.encodeWithSelector(IConsentRegistry.ConsentRegistryPurposeNotGrantable.selector, bit, bit));
        vm.prank(_owner);
        registry.grant(OTHER_GRANTEE, dataId, bit, NEVER, bytes32(0));
    }

    /**
     * @notice Narrowing always works: with a live consent for `held` and some of its purposes
     * deprecated since, a grant of any subset with an expiry not later than the current one
     * succeeds (NEVER is the latest); a later expiry, or a deprecated purpose the consent
     * does not hold, is PurposeNotGrantable with exactly the deprecated bits.
     */
    function testFuzzNarrowingKeepsDeprecatedPurposes(
        uint128 held,
        uint128 subset,
        uint8 deprecated,
        uint40 oldExpiry,
        uint40 newExpiry,
        bool widen
    ) public {
        held = (held & INITIAL_PURPOSES) | 1;
        deprecated = uint8(_bound(deprecated, 0, 7));
        held |= uint128(1) << deprecated;
        subset = (subset & held) | (uint128(1) << deprecated);
        oldExpiry = oldExpiry % 3 == 0 ? NEVER : uint40(_bound(oldExpiry, START + 2, START + MAX_OFFSET));
        bool later;
        if (widen) {
            later = oldExpiry != NEVER; // nothing is later than NEVER
            if (later) newExpiry = newExpiry % 2 == 0 ? NEVER : uint40(_bound(newExpiry, oldExpiry + 1, MAX_EXPIRY));
            else newExpiry = NEVER;
        } else {
            uint40 cap = oldExpiry == NEVER ? MAX_EXPIRY : oldExpiry;
            newExpiry = newExpiry % 4 == 0 ? oldExpiry : uint40(_bound(newExpiry, START + 1, cap));
        }
        vm.prank(_owner);
        registry.grant(GRANTEE, ALL_DATA, held, oldExpiry, bytes32(0));
        registry.deprecatePurpose(deprecated);
        uint128 bit = uint128(1) << deprecated;

        if (later) {
            vm.expectRevert(
                abi.encodeWithSelector(IConsentRegistry.ConsentRegistryPurposeNotGrantable.selector, subset, bit)
            );
        } else {
            vm.expectEmit(true, true, true, true, address(registry));
            emit IConsentRegistry.ConsentGranted(_owner, GRANTEE, ALL_DATA, subset, newExpiry, NOTICE, _owner, 2 << 16);
        }
        vm.prank(_owner);
        registry.grant(GRANTEE, ALL_DATA, subset, newExpiry, NOTICE);
        if (!later) vm.assertEq(registry.activePurposes(_owner, GRANTEE, ALL_DATA), subset, "narrowed");

        // A deprecated purpose the consent of another grantee does not hold is refused.
        vm.expectRevert(abi.encodeWithSelector(IConsentRegistry.ConsentRegistryPurposeNotGrantable.selector, bit, bit));
        vm.prank(_owner);
        registry.grant(OTHER_GRANTEE, ALL_DATA, bit, NEVER, bytes32(0));
    }

    // ---------------------------------------------------------------------------------------
    // Signed messages: the owner's latest word wins in any relay order
    // ---------------------------------------------------------------------------------------

    /**
     * @notice `n` messages for one key, signed in order (versions 1..n, random grants and
     * revokes), relayed in a random order: each relay applies iff its version is above every
     * version applied before (else StaleSignature with the exact versions), and the final
     * consent is always that of the last message signed.
     */
    function testFuzzSignedMessagesInAnyRelayOrderTheLatestHolds(uint256 seed, uint8 count) public {
        uint256 n = _bound(count, 2, 6);
        bytes32 dataId = keccak256(abi.encode("asset", seed));
        bool[] memory isGrant = new bool[](n);
        uint128[] memory purposes = new uint128[](n);
        uint256[] memory order = new uint256[](n);
        for (uint256 i = 0; i < n; ++i) {
            isGrant[i] = (seed >> i) & 1 == 1 || i == 0;
            purposes[i] = (uint128(seed >> (8 * i + 16)) & INITIAL_PURPOSES) | 1;
            order[i] = i;
        }
        for (uint256 i = n - 1; i > 0; --i) {
            uint256 j = uint256(keccak256(abi.encode(seed, i))) % (i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
        uint64 applied;
        for (uint256 k = 0; k < n; ++k) {
            uint256 i = order[k];
            uint64 version = uint64(i + 1);
            bool applies = version > applied;
            // Signed before the expectation: it applies to the next call only.
            IConsentRegistry.SignedGrant memory g = _signedGrant(dataId, purposes[i], NEVER, 0, version);
            IConsentRegistry.SignedRevoke memory r = _signedRevoke(dataId, 0, version);
            if (!applies) {
                vm.expectRevert(
                    abi.encodeWithSelector(
                        IConsentRegistry.ConsentRegistryStaleSignature.selector,
                        _owner,
                        0,
                        version,
                        0,
                        applied
                    )
                );
            }
            vm.prank(RELAYER);
            if (isGrant[i]) registry.grantBySig(g);
            else registry.revokeBySig(r);
            if (applies) applied = version;
        }
        uint256 last = n - 1;
        vm.assertEq(registry.getConsent(_owner, GRANTEE, dataId).version, n, "the last message's version");
        vm.assertEq(
            registry.activePurposes(_owner, GRANTEE, dataId),
            isGrant[last] ? purposes[last] : 0,
            "the last message signed holds"
        );
    }

    /**
     * @notice A signed grant relayed after time and governance moved is not refused: an expiry
     * already passed is stored (the consent is simply expired) and purposes deprecated since are
     * dropped (the event names what was stored, possibly nothing).
     */
    function testFuzzSignedGrantRelayedLateStoresWhatStillHolds(
        uint128 purposes,
        uint8 deprecated,
        uint40 expiresAt,
        uint64 delay,
        bool dropAll
    ) public {
        purposes = (purposes & INITIAL_PURPOSES) | 1;
        deprecated = uint8(_bound(deprecated, 0, 7));
        if (dropAll) purposes = uint128(1) << deprecated;
        expiresAt = expiresAt % 3 == 0 ? NEVER : uint40(_bound(expiresAt, START + 1, START + 30 days));
        delay = uint64(_bound(delay, 0, 60 days));
        bytes32 dataId = keccak256("late");
        IConsentRegistry.SignedGrant memory g = _signedGrant(dataId, purposes, expiresAt, 0, 1);
        g.deadline = type(uint256).max;
        g.signature = Signing.sign(OWNER_KEY, Signing.digest(registry.DOMAIN_SEPARATOR(), Signing.grantHash(g)));

        registry.deprecatePurpose(deprecated);
        _setTime(START + delay);
        uint128 stored = purposes & ~(uint128(1) << deprecated);
        vm.expectEmit(true, true, true, true, address(registry));
        emit IConsentRegistry.ConsentGranted(_owner, GRANTEE, dataId, stored, expiresAt, NOTICE, RELAYER, 1);
        vm.prank(RELAYER);
        registry.grantBySig(g);
        IConsentRegistry.Consent memory c = registry.getConsent(_owner, GRANTEE, dataId);
        vm.assertEq(c.purposes, stored, "deprecated purposes dropped");
        vm.assertEq(c.expiresAt, expiresAt, "expiry stored as signed");
        bool live = stored != 0 && (expiresAt == NEVER || START + delay < expiresAt);
        vm.assertEq(c.active, live, "active iff something is left and not expired");
        vm.assertEq(c.version, 1, "the message's version");
    }

    /**
     * @notice revokeBySigBatch is best effort: of `n` revocations of different keys, some spoiled
     * (stale, expired, bad signature), every valid one applies and each spoiled one is returned
     * and emitted as SignedRevokeFailed(index, exact error); nothing reverts.
     */
    function testFuzzRevokeBySigBatchAppliesEveryValidItem(uint256 spoilMask, uint8 count) public {
        uint256 n = _bound(count, 1, 8);
        IConsentRegistry.SignedRevoke[] memory reqs = new IConsentRegistry.SignedRevoke[](n);
        bytes[] memory expected = new bytes[](n);
        vm.startPrank(_owner);
        for (uint256 i = 0; i < n; ++i) {
            registry.grant(GRANTEE, keccak256(abi.encode("batch", i)), 1, NEVER, bytes32(0));
        }
        vm.stopPrank();
        for (uint256 i = 0; i < n; ++i) {
            (reqs[i], expected[i]) = _revokeItem(keccak256(abi.encode("batch", i)), (spoilMask >> (2 * i)) % 4);
        }
        vm.recordLogs();
        vm.prank(RELAYER);
        bytes[] memory failures = registry.revokeBySigBatch(reqs);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        vm.assertEq(keccak256(abi.encode(failures)), keccak256(abi.encode(expected)), "failures per item");
        vm.assertEq(logs.length, n, "one event per item");
        for (uint256 i = 0; i < n; ++i) {
            bytes32 dataId = keccak256(abi.encode("batch", i));
            bool applied = expected[i].length == 0;
            vm.assertEq(registry.isAllowed(_owner, GRANTEE, dataId, 0), !applied, "applied iff valid");
            bytes32 sig =
                applied ? IConsentRegistry.ConsentRevoked.selector : IConsentRegistry.SignedRevokeFailed.selector;
            vm.assertEq(logs[i].topics[0], sig, "event kind");
            vm.assertEq(logs[i].topics[3], dataId, "event data id");
            bytes memory data = applied ? abi.encode(RELAYER, FIRST_TX_VERSION + 1) : abi.encode(i, expected[i]);
            vm.assertEq(logs[i].data, data, "event data");
        }
    }

    /// @dev A signed revocation of a key granted once by transaction, valid (`spoil` 0), or stale,
    /// expired or signed by another key (1, 2, 3), with the error it must fail with.
    function _revokeItem(
        bytes32 dataId,
        uint256 spoil
    ) private view returns (IConsentRegistry.SignedRevoke memory r, bytes memory expected) {
        r = _signedRevoke(dataId, 0, spoil == 1 ? FIRST_TX_VERSION : FIRST_TX_VERSION + 1);
        if (spoil == 1) {
            expected = abi.encodeWithSelector(
                IConsentRegistry.ConsentRegistryStaleSignature.selector,
                _owner,
                0,
                FIRST_TX_VERSION,
                0,
                FIRST_TX_VERSION
            );
        } else if (spoil == 2) {
            r.deadline = START - 1;
            r.signature = _signRevoke(OWNER_KEY, r);
            expected = abi.encodeWithSelector(
                IConsentRegistry.ConsentRegistrySignatureExpired.selector,
                START - 1,
                START
            );
        } else if (spoil == 3) {
            r.signature = _signRevoke(OTHER_KEY, r);
            expected = abi.encodeWithSelector(IConsentRegistry.ConsentRegistryInvalidSignature.selector, _owner);
        }
    }

    /// @notice grantBySigBatch stays all or nothing: a stale item (already applied earlier in the
    /// same batch) names its index, and no item applies.
    function testFuzzGrantBySigBatchIsAllOrNothing(uint8 count, uint8 repeatAt) public {
        uint256 n = _bound(count, 2, 5);
        uint256 r = _bound(repeatAt, 1, n - 1);
        IConsentRegistry.SignedGrant[] memory reqs = new IConsentRegistry.SignedGrant[](n);
        for (uint256 i = 0; i < n; ++i) reqs[i] = _signedGrant(keccak256(abi.encode("g", i)), 3, NEVER, 0, 1);
        reqs[r] = reqs[r - 1];
        bytes memory stale = abi.encodeWithSelector(
            IConsentRegistry.ConsentRegistryStaleSignature.selector,
            _owner,
            0,
            1,
            0,
            1
        );
        vm.expectRevert(abi.encodeWithSelector(IConsentRegistry.ConsentRegistryBatchItemFailed.selector, r, stale));
        vm.prank(RELAYER);
        registry.grantBySigBatch(reqs);
        for (uint256 i = 0; i < n; ++i) {
            vm.assertEq(registry.getConsent(_owner, GRANTEE, keccak256(abi.encode("g", i))).version, 0, "nothing");
        }
    }

    // ---------------------------------------------------------------------------------------
    // Signing helpers
    // ---------------------------------------------------------------------------------------

    function _signedGrant(
        bytes32 dataId,
        uint128 purposes,
        uint40 expiresAt,
        uint32 epoch,
        uint64 version
    ) private view returns (IConsentRegistry.SignedGrant memory g) {
        g = IConsentRegistry.SignedGrant(
            _owner,
            GRANTEE,
            dataId,
            purposes,
            expiresAt,
            NOTICE,
            epoch,
            version,
            START + 1 hours,
            ""
        );
        g.signature = Signing.sign(OWNER_KEY, Signing.digest(registry.DOMAIN_SEPARATOR(), Signing.grantHash(g)));
    }

    function _signedRevoke(
        bytes32 dataId,
        uint32 epoch,
        uint64 version
    ) private view returns (IConsentRegistry.SignedRevoke memory r) {
        r = IConsentRegistry.SignedRevoke(_owner, GRANTEE, dataId, epoch, version, START + 1 hours, "");
        r.signature = _signRevoke(OWNER_KEY, r);
    }

    function _signRevoke(uint256 key, IConsentRegistry.SignedRevoke memory r) private view returns (bytes memory) {
        return Signing.sign(key, Signing.digest(registry.DOMAIN_SEPARATOR(), Signing.revokeHash(r)));
    }
}
