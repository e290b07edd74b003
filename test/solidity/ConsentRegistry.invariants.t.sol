// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ALL_DATA} from "../../contracts/Common.sol";
import {IConsentRegistry} from "../../contracts/interfaces/IConsentRegistry.sol";
import {IIntegrationRegistry} from "../../contracts/interfaces/IIntegrationRegistry.sol";
import {GovernanceHandler} from "./handlers/GovernanceHandler.sol";
import {ConsentModel} from "./handlers/ConsentModel.sol";
import {OwnerHandler} from "./handlers/OwnerHandler.sol";
import {ProcessorHandler} from "./handlers/ProcessorHandler.sol";
import {TimeHandler} from "./handlers/TimeHandler.sol";
import {SystemBase} from "./utils/SystemBase.sol";
import {vm} from "./utils/Vm.sol";

/**
 * @title ConsentRegistryInvariantTest
 * @notice Stateful fuzzing of the whole consent system by four actors (owners/managers,
 * processors, governance, time) against the ghost {ConsentModel}. After every call of every
 * sequence, the invariants below must hold. Run long with `npm run test:invariants`.
 */
contract ConsentRegistryInvariantTest is SystemBase {
    /// @dev Forge-style targeting: which contract and which of its functions the fuzzer calls.
    struct FuzzSelector {
        address addr;
        bytes4[] selectors;
    }

    /// @dev Purpose ids checked against the model: the tracked ones plus ids above 127.
    uint8[] private _checkedPurposes;

    ConsentModel internal model;
    OwnerHandler internal owners;
    ProcessorHandler internal processors;
    GovernanceHandler internal governance;
    TimeHandler internal time;

    address[] private _targets;
    FuzzSelector[] private _selectors;

    function setUp() public {
        _deploySystem(address(this));

        model = _deployModel();
        // OwnerHandler is deployed last on purpose: created right after the model, Hardhat's
        // invariant runner failed to associate its address with its artifact
        // ("[targetSelectors] address does not have an associated contract").
        processors = new ProcessorHandler(registry, model);
        governance = new GovernanceHandler(registry, model, integrations);
        time = new TimeHandler(registry, model);
        owners = new OwnerHandler(registry, model);

        // Governance acts through the AccessManager: give the handler ADMIN_ROLE (0), no delay.
        manager.grantRole(0, address(governance), 0);
        address i1 = model.grantees()[2];
        integrations.registerIntegration(i1, keccak256("I1"), INITIAL_PURPOSES);
        model.applyIntegration(i1, _active(), INITIAL_PURPOSES);

        for (uint8 p = 0; p < model.TRACKED_PURPOSES(); ++p) _checkedPurposes.push(p);
        _checkedPurposes.push(128);
        _checkedPurposes.push(200);
        _checkedPurposes.push(255);

        _target(address(owners), _ownerSelectors());
        _target(address(processors), _processorSelectors());
        _target(address(governance), _governanceSelectors());
        _target(address(time), _timeSelectors());
    }

    /// @dev The actors and keys of the campaign: 3 owners, 4 grantees (P1, P2 processors; I1
    /// an integration from the start; I2 one governance may register), 2 data ids + ALL_DATA,
    /// 2 strangers (typical manager candidates and unauthorised senders).
    function _deployModel() private returns (ConsentModel) {
        address[] memory ownerList = new address[](3);
        ownerList[0] = address(0x1001);
        ownerList[1] = address(0x1002);
        ownerList[2] = address(0x1003);
        address[] memory granteeList = new address[](4);
        granteeList[0] = address(0x3001);
        granteeList[1] = address(0x3002);
        granteeList[2] = address(0x4001);
        granteeList[3] = address(0x4002);
        bytes32[] memory ids = new bytes32[](3);
        ids[0] = keccak256("asset-1");
        ids[1] = keccak256("asset-2");
        ids[2] = ALL_DATA;
        address[] memory strangerList = new address[](2);
        strangerList[0] = address(0x5001); // typical manager candidate
        strangerList[1] = address(0x5002);

        uint256 consentsSlot = _findConsentsSlot();
        uint256 epochsSlot = _findEpochsSlot();
        return
            new ConsentModel(
                registry,
                ownerList,
                granteeList,
                ids,
                strangerList,
                START,
                INITIAL_PURPOSES,
                consentsSlot,
                epochsSlot
            );
    }

    // ---------------------------------------------------------------------------------------
    // Invariants
    // ---------------------------------------------------------------------------------------

    /// @notice (1) Every use/share the registry accepted had active consent in the MODEL at
    /// that time for the sender and the recipient, and the recipient was an active integration.
    function invariantAcceptedRecordsHadConsent() public view {
        uint256 n = model.useCount();
        for (uint256 i = 0; i < n; ++i) {
            ConsentModel.UseRecord memory u = model.useAt(i);
            vm.assertTrue(u.fromAllowed, "accepted record: sender had no consent in the model");
            vm.assertTrue(u.toAllowed, "accepted share: recipient had no consent in the model");
            vm.assertTrue(u.toActiveIntegration, "accepted share: recipient was not an active integration");
        }
    }

    /// @notice (2) Governance actions never changed any consent word or epoch.
    function invariantGovernanceNeverChangesConsents() public view {
        vm.assertEq(model.governanceConsentChanges(), 0, "governance changed consent state");
    }

    /// @notice (3) After revoke / revokeAll, no use or share relied on that consent until it was
    /// granted again (checked with revocation flags, independently of epochs).
    function invariantNoRecordAfterRevokeUntilRegranted() public view {
        uint256 n = model.useCount();
        for (uint256 i = 0; i < n; ++i) {
            ConsentModel.UseRecord memory u = model.useAt(i);
            vm.assertTrue(u.fromUnrevoked, "accepted record relied on a revoked consent (sender)");
            vm.assertTrue(u.toUnrevoked, "accepted share relied on a revoked consent (recipient)");
        }
    }

    /// @notice (4) An expired consent never allows: for every tracked key whose STORED expiry is
    /// reached, the registry reports it inactive and with no active purposes, and an ALL_DATA
    /// check (which has no fallback) refuses every purpose.
    function invariantExpiredConsentNeverAllows() public view {
        address[] memory o = model.owners();
        address[] memory g = model.grantees();
        bytes32[] memory d = model.dataIds();
        uint64 nowTs = model.clock();
        for (uint256 a = 0; a < o.length; ++a) {
            for (uint256 b = 0; b < g.length; ++b) {
                for (uint256 c = 0; c < d.length; ++c) {
                    IConsentRegistry.Consent memory k = registry.getConsent(o[a], g[b], d[c]);
                    if (k.expiresAt == 0 || nowTs < k.expiresAt) continue;
                    vm.assertFalse(k.active, "expired consent reported active");
                    vm.assertEq(registry.activePurposes(o[a], g[b], d[c]), 0, "expired consent has purposes");
                    if (d[c] != ALL_DATA) continue;
                    for (uint256 p = 0; p < _checkedPurposes.length; ++p) {
                        vm.assertFalse(
                            registry.isAllowed(o[a], g[b], ALL_DATA, _checkedPurposes[p]),
                            "expired ALL_DATA consent allows"
                        );
                    }
                }
            }
        }
    }

    /// @notice (5) Only the owner, or a manager the owner had appointed at that moment, changed
    /// the owner's consents (every change is attributed from the registry's own storage).
    function invariantOnlyOwnerOrManagerChangedConsents() public view {
        vm.assertEq(model.unauthorizedChanges(), 0, "consent changed by an unauthorised actor");
        uint256 n = model.changeCount();
        for (uint256 i = 0; i < n; ++i) {
            ConsentModel.ChangeRecord memory c = model.changeAt(i);
            vm.assertTrue(c.authorized, "unauthorised change recorded");
            bool ownerKind = c.kind == ConsentModel.ActionKind.Owner || c.kind == ConsentModel.ActionKind.Signature;
            vm.assertTrue(ownerKind, "consent changed by a non-owner action");
        }
    }

    /// @notice registry.isAllowed agrees with the model for every tracked (owner, grantee,
    /// dataId, purpose), at the current time, purposes > 127 included.
    function invariantIsAllowedMatchesModel() public view {
        address[] memory o = model.owners();
        address[] memory g = model.grantees();
        bytes32[] memory d = model.dataIds();
        for (uint256 a = 0; a < o.length; ++a) {
            vm.assertEq(registry.epochOf(o[a]), model.epochOf(o[a]), "epoch differs from model");
            for (uint256 b = 0; b < g.length; ++b) {
                for (uint256 c = 0; c < d.length; ++c) {
                    for (uint256 p = 0; p < _checkedPurposes.length; ++p) {
                        uint8 purpose = _checkedPurposes[p];
                        vm.assertEq(
                            registry.isAllowed(o[a], g[b], d[c], purpose),
                            model.allows(o[a], g[b], d[c], purpose),
                            "isAllowed differs from model"
                        );
                    }
                }
            }
        }
    }

    /// @notice Every action's outcome (success, or the exact custom error with its arguments)
    /// was the one the model predicted.
    function invariantEveryOutcomeMatchesModel() public view {
        vm.assertEq(model.outcomeMismatches(), 0, string.concat("unexpected outcome of ", model.lastMismatchAction()));
    }

    // ---------------------------------------------------------------------------------------
    // The detectors themselves can fail (a check that cannot fail proves nothing)
    // ---------------------------------------------------------------------------------------

    /// @notice A change made by one account but attributed to a non-manager is flagged.
    function testChangeDetectorFlagsUnauthorizedActor() public {
        address owner = model.owners()[0];
        address stranger = model.strangers()[0];
        address grantee = model.grantees()[0];
        bytes32 dataId = model.dataIds()[0];
        bytes32[] memory before = model.readState();
        vm.prank(owner);
        registry.grant(grantee, dataId, 1, 0, bytes32(0));
        model.recordChanges(before, stranger, address(0), ConsentModel.ActionKind.Owner);
        vm.assertEq(model.unauthorizedChanges(), 1, "stranger's change flagged");
        ConsentModel.ChangeRecord memory c = model.changeAt(0);
        vm.assertEq(c.owner, owner, "change owner");
        vm.assertEq(c.actor, stranger, "change actor");
        vm.assertFalse(c.authorized, "change not authorised");

        // The same kind of change by an appointed manager is authorised.
        vm.prank(owner);
        registry.setManager(stranger, true);
        model.applySetManager(owner, stranger, true);
        before = model.readState();
        vm.prank(stranger);
        registry.revokeAllFor(owner);
        model.recordChanges(before, stranger, address(0), ConsentModel.ActionKind.Owner);
        vm.assertEq(model.unauthorizedChanges(), 1, "manager's change not flagged");
        vm.assertEq(model.changeCount(), 2, "epoch change recorded");
    }

    /// @notice Any consent change during a governance action is counted.
    function testChangeDetectorCountsGovernanceChanges() public {
        bytes32[] memory before = model.readState();
        vm.prank(model.owners()[1]);
        registry.revokeAll();
        model.recordChanges(before, address(governance), address(0), ConsentModel.ActionKind.Governance);
        vm.assertEq(model.governanceConsentChanges(), 1, "governance change counted");
    }

    /// @notice A wrong prediction is counted as a mismatch, with what was expected and seen.
    function testOutcomeCheckerCountsMismatch() public {
        model.checkOutcome("probe", "", false, hex"deadbeef");
        vm.assertEq(model.outcomeMismatches(), 1, "mismatch counted");
        vm.assertEq(model.lastMismatchActual(), hex"deadbeef", "actual kept");
    }

    /// @notice A short fixed scenario through the handlers reaches the success paths the
    /// invariants reason about (so they are not vacuously true).
    function testHandlersReachSuccessPaths() public {
        // owner 0 grants P1 (grantee 0) ALL_DATA, purposes 0..7, no expiry: keySeed picks grantee
        // 0 and data id 2 (ALL_DATA) via keySeed >> 8.
        owners.grant(0, 2 << 8, INITIAL_PURPOSES, 0);
        // owner 0 also grants I1 (grantee 2) ALL_DATA.
        owners.grant(0, (2 << 8) | 2, INITIAL_PURPOSES, 0);
        // P1 uses asset-1 of owner 0 for purpose 3 (sender seed 0 -> grantee 0).
        processors.recordUse(0, 0, 0, 3 << 8);
        // P1 shares with I1 (to seed 2 << 3 -> grantee 2) for purpose 6.
        processors.recordShare(0, 0, 2 << 3, 0, 6 << 8);
        vm.assertEq(model.useCount(), 2, "use and share accepted");
        owners.revokeAll(0);
        processors.recordUse(0, 0, 0, 3 << 8); // refused now
        vm.assertEq(model.useCount(), 2, "nothing accepted after revokeAll");
        governance.deprecatePurpose(3 << 8);
        time.warp(1);
        vm.assertEq(model.outcomeMismatches(), 0, "all outcomes predicted");
        vm.assertEq(model.successes(keccak256("grant")), 2, "grants accepted");
        vm.assertEq(model.failures(keccak256("recordUse")), 1, "use refused");
        invariantAcceptedRecordsHadConsent();
        invariantNoRecordAfterRevokeUntilRegranted();
        invariantIsAllowedMatchesModel();
        invariantOnlyOwnerOrManagerChangedConsents();
    }

    // ---------------------------------------------------------------------------------------
    // Targeting (read by the invariant runner)
    // ---------------------------------------------------------------------------------------

    function targetContracts() public view returns (address[] memory) {
        return _targets;
    }

    function targetSelectors() public view returns (FuzzSelector[] memory) {
        return _selectors;
    }

    function _target(address handler, bytes4[] memory selectors) private {
        _targets.push(handler);
        _selectors.push(FuzzSelector(handler, selectors));
    }

    function _ownerSelectors() private view returns (bytes4[] memory s) {
        s = new bytes4[](7);
        s[0] = owners.grant.selector;
        s[1] = owners.grantFor.selector;
        s[2] = owners.revoke.selector;
        s[3] = owners.revokeFor.selector;
        s[4] = owners.revokeAll.selector;
        s[5] = owners.revokeAllFor.selector;
        s[6] = owners.setManager.selector;
    }

    function _processorSelectors() private view returns (bytes4[] memory s) {
        s = new bytes4[](2);
        s[0] = processors.recordUse.selector;
        s[1] = processors.recordShare.selector;
    }

    function _governanceSelectors() private view returns (bytes4[] memory s) {
        s = new bytes4[](5);
        s[0] = governance.definePurpose.selector;
        s[1] = governance.deprecatePurpose.selector;
        s[2] = governance.registerIntegration.selector;
        s[3] = governance.updateIntegration.selector;
        s[4] = governance.setIntegrationStatus.selector;
    }

    function _timeSelectors() private view returns (bytes4[] memory s) {
        s = new bytes4[](1);
        s[0] = time.warp.selector;
    }

    function _active() private pure returns (IIntegrationRegistry.Status) {
        return IIntegrationRegistry.Status.Active;
    }
}
