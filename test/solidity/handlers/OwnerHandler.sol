// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {NO_EXPIRY} from "../../../contracts/Common.sol";
import {IConsentRegistry} from "../../../contracts/interfaces/IConsentRegistry.sol";
import {ConsentRegistryHarness} from "../../../contracts/mocks/ConsentRegistryHarness.sol";
import {vm} from "../utils/Vm.sol";
import {ConsentModel} from "./ConsentModel.sol";
import {HandlerBase} from "./HandlerBase.sol";

/**
 * @title OwnerHandler
 * @notice The data owners and their managers, by transaction: grant, narrow, revoke, lockdown
 * (revokeAll), batches, setManager, and the `...For` forms sent by ANY account (owners,
 * managers, grantees, strangers), so unauthorised attempts and managers removed by a lockdown
 * are part of every run. Each action predicts the registry's exact outcome (and events) from
 * the model, compares, records who changed what, and updates the model only if the registry
 * accepted. Every accepted change is one of the owner's instructions, in effect at once.
 */
contract OwnerHandler is HandlerBase {
    bytes32 private constant NOTICE = keccak256("notice");

    constructor(ConsentRegistryHarness registry_, ConsentModel model_) HandlerBase(registry_, model_) {}

    /// @notice The owner grants directly.
    function grant(uint256 ownerSeed, uint256 keySeed, uint256 purposesSeed, uint256 expirySeed) external fuzzCall {
        address owner = _owner(ownerSeed);
        _grantAs(_grantCall(owner, owner, keySeed, _purposes(purposesSeed), _expiry(expirySeed), false));
    }

    /// @notice Someone (often a manager, sometimes nobody authorised) grants for an owner.
    function grantFor(
        uint256 callerSeed,
        uint256 ownerSeed,
        uint256 keySeed,
        uint256 purposesSeed,
        uint256 expirySeed
    ) external fuzzCall {
        address owner = _owner(ownerSeed);
        address caller = _callerFor(owner, callerSeed);
        _grantAs(_grantCall(caller, owner, keySeed, _purposes(purposesSeed), _expiry(expirySeed), true));
    }

    /**
     * @notice The owner (or, one time in 2, someone for the owner) narrows a live consent: a
     * subset of its purposes with the same, an earlier or (1 in 4) a later expiry. With purposes
     * deprecated since the grant, narrowing must succeed and widening the expiry must not.
     */
    function narrow(
        uint256 callerSeed,
        uint256 ownerSeed,
        uint256 keySeed,
        uint256 maskSeed,
        uint256 expirySeed
    ) external fuzzCall {
        address owner = _owner(ownerSeed);
        (address grantee, bytes32 dataId) = _liveKey(owner, keySeed);
        ConsentModel.ModelConsent memory c = model.consentOf(owner, grantee, dataId);
        uint128 purposes = c.purposes & uint128(maskSeed);
        if (purposes == 0 && c.purposes != 0) purposes = c.purposes & (~c.purposes + 1); // its lowest purpose
        if (purposes == 0) purposes = 1; // nothing stored: an ordinary grant of purpose 0
        uint40 expiresAt = _narrowedExpiry(c.expiresAt, expirySeed);
        address caller = callerSeed % 2 == 0 ? owner : _callerFor(owner, callerSeed >> 1);
        GrantCall memory g = GrantCall(caller, owner, grantee, dataId, purposes, expiresAt, caller != owner);
        _grantAs(g);
    }

    /// @notice The owner revokes one consent (always succeeds for a valid key).
    function revoke(uint256 ownerSeed, uint256 keySeed) external fuzzCall {
        address owner = _owner(ownerSeed);
        _revokeAs(owner, owner, keySeed, false);
    }

    /// @notice Someone revokes for an owner.
    function revokeFor(uint256 callerSeed, uint256 ownerSeed, uint256 keySeed) external fuzzCall {
        address owner = _owner(ownerSeed);
        _revokeAs(_callerFor(owner, callerSeed), owner, keySeed, true);
    }

    /// @notice The owner's lockdown: every consent, signature and manager ends.
    function revokeAll(uint256 ownerSeed) external fuzzCall {
        address owner = _owner(ownerSeed);
        _revokeAllAs(owner, owner, false);
    }

    /// @notice Someone (a manager: removed by it too) locks down for an owner.
    function revokeAllFor(uint256 callerSeed, uint256 ownerSeed) external fuzzCall {
        address owner = _owner(ownerSeed);
        _revokeAllAs(_callerFor(owner, callerSeed), owner, true);
    }

    /// @notice An owner appoints or removes a manager (itself: InvalidManager; no change: ManagerUnchanged).
    function setManager(uint256 ownerSeed, uint256 managerSeed, bool approved) external fuzzCall {
        address owner = _owner(ownerSeed);
        address manager = _anyone(managerSeed);
        bytes memory expected;
        if (manager == owner) {
            expected = abi.encodeWithSelector(IConsentRegistry.ConsentRegistryInvalidManager.selector, manager);
        } else if (model.isManager(owner, manager) == approved) {
            expected = abi.encodeWithSelector(
                IConsentRegistry.ConsentRegistryManagerUnchanged.selector,
                owner,
                manager,
                approved
            );
        }
        model.beginAction();
        vm.recordLogs();
        vm.prank(owner);
        try registry.setManager(manager, approved) {
            model.checkOutcome("setManager", expected, true, "");
            model.applySetManager(owner, manager, approved);
            bytes[] memory want = new bytes[](1);
            want[0] = _log2(IConsentRegistry.ManagerSet.selector, _topic(owner), _topic(manager), abi.encode(approved));
            model.checkEqual("setManager events", abi.encode(want), abi.encode(_registryLogs()));
        } catch (bytes memory err) {
            model.checkOutcome("setManager", expected, false, err);
            _registryLogs();
        }
        // setManager must not touch consents: recorded as an owner action, so any change made to
        // another owner's consents would count as unauthorised.
        model.recordChanges(owner, ConsentModel.ActionKind.Owner);
    }

    /**
     * @notice A grantBatch of 0..3 grants on distinct keys (0: EmptyBatch), one of them possibly
     * bad: all or nothing, BatchItemFailed(first bad index, its error).
     */
    function grantBatch(uint256 ownerSeed, uint256 keySeed, uint256 purposesSeed, uint256 shapeSeed) external fuzzCall {
        address owner = _owner(ownerSeed);
        uint256 n = shapeSeed % 16 == 0 ? 0 : 1 + ((shapeSeed >> 4) % 3);
        IConsentRegistry.GrantInput[] memory items = new IConsentRegistry.GrantInput[](n);
        bytes memory expected =
            n == 0 ? abi.encodeWithSelector(IConsentRegistry.ConsentRegistryEmptyBatch.selector) : bytes("");
        for (uint256 i = 0; i < n; ++i) {
            uint256 itemSeed = uint256(keccak256(abi.encode(purposesSeed, i)));
            (address grantee, bytes32 dataId) = _distinctKey(keySeed, i);
            items[i] = IConsentRegistry.GrantInput(
                grantee,
                dataId,
                _purposes(itemSeed),
                _expiry(itemSeed >> 64),
                NOTICE
            );
            if ((shapeSeed >> 8) % 8 == i) items[i].grantee = address(0);
            bytes memory err = _predictGrantError(
                owner,
                items[i].grantee,
                items[i].dataId,
                items[i].purposes,
                items[i].expiresAt
            );
            if (expected.length == 0 && err.length != 0) {
                expected = abi.encodeWithSelector(IConsentRegistry.ConsentRegistryBatchItemFailed.selector, i, err);
            }
        }
        model.beginAction();
        vm.prank(owner);
        try registry.grantBatch(items) {
            if (model.checkOutcome("grantBatch", expected, true, "")) {
                for (uint256 i = 0; i < n; ++i) {
                    IConsentRegistry.GrantInput memory g = items[i];
                    model.applyTxGrant(owner, g.grantee, g.dataId, g.purposes, g.expiresAt);
                }
            }
        } catch (bytes memory err) {
            model.checkOutcome("grantBatch", expected, false, err);
        }
        model.recordChanges(owner, ConsentModel.ActionKind.Owner);
    }

    /// @notice A revokeBatch of 1..3 revocations (one possibly of a zero key): all or nothing.
    function revokeBatch(uint256 ownerSeed, uint256 keySeed, uint256 shapeSeed) external fuzzCall {
        address owner = _owner(ownerSeed);
        uint256 n = 1 + (shapeSeed % 3);
        IConsentRegistry.RevokeInput[] memory items = new IConsentRegistry.RevokeInput[](n);
        bytes memory expected;
        for (uint256 i = 0; i < n; ++i) {
            (items[i].grantee, items[i].dataId) = _distinctKey(keySeed, i);
            if ((shapeSeed >> 8) % 8 == i) items[i].dataId = bytes32(0);
            bytes memory err = _keyError(items[i].grantee, items[i].dataId);
            if (expected.length == 0 && err.length != 0) {
                expected = abi.encodeWithSelector(IConsentRegistry.ConsentRegistryBatchItemFailed.selector, i, err);
            }
        }
        model.beginAction();
        vm.prank(owner);
        try registry.revokeBatch(items) {
            if (model.checkOutcome("revokeBatch", expected, true, "")) {
                for (uint256 i = 0; i < n; ++i) model.applyTxRevoke(owner, items[i].grantee, items[i].dataId);
            }
        } catch (bytes memory err) {
            model.checkOutcome("revokeBatch", expected, false, err);
        }
        model.recordChanges(owner, ConsentModel.ActionKind.Owner);
    }

    // ---------------------------------------------------------------------------------------

    /// @dev One grant attempt (a struct keeps the stack shallow).
    struct GrantCall {
        address caller;
        address owner;
        address grantee;
        bytes32 dataId;
        uint128 purposes;
        uint40 expiresAt;
        bool viaFor;
    }

    function _grantCall(
        address caller,
        address owner,
        uint256 keySeed,
        uint128 purposes,
        uint40 expiresAt,
        bool viaFor
    ) private view returns (GrantCall memory c) {
        c = GrantCall(caller, owner, _grantee(keySeed), _dataId(keySeed >> 8), purposes, expiresAt, viaFor);
        // 1 in 32: a zero grantee or data id, which must be refused.
        if (keySeed % 64 == 62) c.grantee = address(0);
        if (keySeed % 64 == 63) c.dataId = bytes32(0);
    }

    function _grantAs(GrantCall memory c) private {
        bytes memory expected = c.viaFor ? _authError(c.caller, c.owner) : bytes("");
        if (expected.length == 0) expected = _predictGrantError(c.owner, c.grantee, c.dataId, c.purposes, c.expiresAt);
        uint64 version = model.nextGeneration(model.consentOf(c.owner, c.grantee, c.dataId).version);

        model.beginAction();
        vm.recordLogs();
        (bool ok, bytes memory err) = _sendGrant(c);
        bytes[] memory logs = _registryLogs();
        if (model.checkOutcome(c.viaFor ? "grantFor" : "grant", expected, ok, err)) {
            model.applyTxGrant(c.owner, c.grantee, c.dataId, c.purposes, c.expiresAt);
            bytes[] memory want = new bytes[](1);
            want[0] = _log3(
                IConsentRegistry.ConsentGranted.selector,
                _topic(c.owner),
                _topic(c.grantee),
                c.dataId,
                abi.encode(c.purposes, c.expiresAt, NOTICE, c.caller, version)
            );
            model.checkEqual("grant events", abi.encode(want), abi.encode(logs));
        }
        model.recordChanges(c.caller, ConsentModel.ActionKind.Owner);
    }

    function _sendGrant(GrantCall memory c) private returns (bool ok, bytes memory err) {
        vm.prank(c.caller);
        if (c.viaFor) {
            try registry.grantFor(c.owner, c.grantee, c.dataId, c.purposes, c.expiresAt, NOTICE) {
                ok = true;
            } catch (bytes memory e) {
                err = e;
            }
        } else {
            try registry.grant(c.grantee, c.dataId, c.purposes, c.expiresAt, NOTICE) {
                ok = true;
            } catch (bytes memory e) {
                err = e;
            }
        }
    }

    function _revokeAs(address caller, address owner, uint256 keySeed, bool viaFor) private {
        address grantee = _grantee(keySeed);
        bytes32 dataId = _dataId(keySeed >> 8);
        if (keySeed % 64 == 62) grantee = address(0);
        if (keySeed % 64 == 63) dataId = bytes32(0);
        bytes memory expected = viaFor ? _authError(caller, owner) : bytes("");
        if (expected.length == 0) expected = _keyError(grantee, dataId);
        bytes[] memory want = _revokedLogs(owner, grantee, dataId, caller);

        model.beginAction();
        vm.recordLogs();
        (bool ok, bytes memory err) = _sendRevoke(caller, owner, grantee, dataId, viaFor);
        bytes[] memory logs = _registryLogs();
        if (model.checkOutcome(viaFor ? "revokeFor" : "revoke", expected, ok, err)) {
            model.applyTxRevoke(owner, grantee, dataId);
            model.checkEqual("revoke events", abi.encode(want), abi.encode(logs));
        }
        model.recordChanges(caller, ConsentModel.ActionKind.Owner);
    }

    /// @dev The one ConsentRevoked event a transaction revoke must emit: the next generation.
    function _revokedLogs(
        address owner,
        address grantee,
        bytes32 dataId,
        address caller
    ) private view returns (bytes[] memory want) {
        want = new bytes[](1);
        want[0] = _log3(
            IConsentRegistry.ConsentRevoked.selector,
            _topic(owner),
            _topic(grantee),
            dataId,
            abi.encode(caller, model.nextGeneration(model.consentOf(owner, grantee, dataId).version))
        );
    }

    function _sendRevoke(
        address caller,
        address owner,
        address grantee,
        bytes32 dataId,
        bool viaFor
    ) private returns (bool ok, bytes memory err) {
        vm.prank(caller);
        if (viaFor) {
            try registry.revokeFor(owner, grantee, dataId) {
                ok = true;
            } catch (bytes memory e) {
                err = e;
            }
        } else {
            try registry.revoke(grantee, dataId) {
                ok = true;
            } catch (bytes memory e) {
                err = e;
            }
        }
    }

    function _revokeAllAs(address caller, address owner, bool viaFor) private {
        bytes memory expected = viaFor ? _authError(caller, owner) : bytes("");
        IConsentRegistry.Via via = caller == owner ? IConsentRegistry.Via.Owner : IConsentRegistry.Via.Manager;
        uint32 newEpoch = model.epochOf(owner) + 1;
        model.beginAction();
        vm.recordLogs();
        bool ok;
        bytes memory err;
        vm.prank(caller);
        if (viaFor) {
            try registry.revokeAllFor(owner) {
                ok = true;
            } catch (bytes memory e) {
                err = e;
            }
        } else {
            try registry.revokeAll() {
                ok = true;
            } catch (bytes memory e) {
                err = e;
            }
        }
        bytes[] memory logs = _registryLogs();
        if (model.checkOutcome(viaFor ? "revokeAllFor" : "revokeAll", expected, ok, err)) {
            model.applyLockdown(owner);
            bytes[] memory want = new bytes[](1);
            want[0] = _log1(
                IConsentRegistry.AllConsentsRevoked.selector,
                _topic(owner),
                abi.encode(newEpoch, caller, via)
            );
            model.checkEqual("revokeAll events", abi.encode(want), abi.encode(logs));
        }
        model.recordChanges(caller, ConsentModel.ActionKind.Owner);
    }

    /// @dev 3 in 4: a key of the owner's with a live consent (if any); else any tracked key.
    function _liveKey(address owner, uint256 seed) private view returns (address, bytes32) {
        address[] memory g = model.grantees();
        bytes32[] memory d = model.dataIds();
        uint256 total = g.length * d.length;
        if (seed % 4 != 0) {
            for (uint256 k = 0; k < total; ++k) {
                uint256 j = ((seed >> 8) + k) % total;
                if (model.isActive(owner, g[j / d.length], d[j % d.length])) return (g[j / d.length], d[j % d.length]);
            }
        }
        return (_grantee(seed >> 16), _dataId(seed >> 24));
    }

    /// @dev The `i`-th of distinct tracked keys starting at `seed` (i < grantees × data ids).
    function _distinctKey(uint256 seed, uint256 i) private view returns (address, bytes32) {
        address[] memory g = model.grantees();
        bytes32[] memory d = model.dataIds();
        uint256 total = g.length * d.length;
        uint256 j = ((seed % total) + i) % total;
        return (g[j / d.length], d[j % d.length]);
    }

    /// @dev Expiries around "now", so that consents expire during a run and boundaries are hit.
    function _expiry(uint256 seed) private view returns (uint40) {
        uint40 nowTs = uint40(model.clock());
        uint256 kind = seed % 8;
        if (kind == 0 || kind == 1) return NO_EXPIRY;
        if (kind == 2) return nowTs; // in the past by definition: refused
        if (kind == 3) return nowTs - uint40((seed >> 8) % 3 days) - 1;
        if (kind == 4) return nowTs + 1;
        if (kind == 5) return nowTs + 1 hours;
        return nowTs + 1 + uint40((seed >> 8) % 30 days);
    }

    /// @dev For narrowing a consent that expires at `old`: the same expiry, an earlier one still in
    /// the future, or (1 in 4) a later one or NO_EXPIRY after a dated one (not narrowing).
    function _narrowedExpiry(uint40 old, uint256 seed) private view returns (uint40) {
        uint40 nowTs = uint40(model.clock());
        uint256 kind = seed % 4;
        if (kind == 2) {
            if (old == NO_EXPIRY) return nowTs + 1 + uint40((seed >> 8) % 30 days);
            if (old > nowTs + 1) return nowTs + 1 + uint40((seed >> 8) % (old - nowTs - 1));
        }
        if (kind != 3) return old;
        if ((seed >> 8) % 2 == 0) return NO_EXPIRY;
        return (old > nowTs ? old : nowTs) + 1 + uint40((seed >> 16) % 1 days);
    }
}
