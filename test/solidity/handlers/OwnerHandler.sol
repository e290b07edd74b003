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
 * @notice The data owners and their managers: grant, revoke, revokeAll, setManager, and the
 * `...For` forms sent by ANY account (owners, managers, grantees, strangers), so unauthorised
 * attempts are part of every run. Each action predicts the registry's exact outcome from the
 * model, compares, records who changed what, and updates the model only if the registry
 * accepted.
 */
contract OwnerHandler is HandlerBase {
    constructor(ConsentRegistryHarness registry_, ConsentModel model_) HandlerBase(registry_, model_) {}

    /// @notice The owner grants directly.
    function grant(uint256 ownerSeed, uint256 keySeed, uint128 purposes, uint256 expirySeed) external {
        address owner = _owner(ownerSeed);
        _grantAs(owner, owner, keySeed, purposes, expirySeed, false);
    }

    /// @notice Someone (often a manager, sometimes nobody authorised) grants for an owner.
    function grantFor(
        uint256 callerSeed,
        uint256 ownerSeed,
        uint256 keySeed,
        uint128 purposes,
        uint256 expirySeed
    ) external {
        _grantAs(_anyone(callerSeed), _owner(ownerSeed), keySeed, purposes, expirySeed, true);
    }

    /// @notice The owner revokes one consent.
    function revoke(uint256 ownerSeed, uint256 keySeed) external {
        address owner = _owner(ownerSeed);
        _revokeAs(owner, owner, keySeed, false);
    }

    /// @notice Someone revokes for an owner.
    function revokeFor(uint256 callerSeed, uint256 ownerSeed, uint256 keySeed) external {
        _revokeAs(_anyone(callerSeed), _owner(ownerSeed), keySeed, true);
    }

    /// @notice The owner withdraws everything.
    function revokeAll(uint256 ownerSeed) external {
        address owner = _owner(ownerSeed);
        _revokeAllAs(owner, owner, false);
    }

    /// @notice Someone withdraws everything for an owner.
    function revokeAllFor(uint256 callerSeed, uint256 ownerSeed) external {
        _revokeAllAs(_anyone(callerSeed), _owner(ownerSeed), true);
    }

    /// @notice An owner appoints or removes a manager (sometimes itself: InvalidManager).
    function setManager(uint256 ownerSeed, uint256 managerSeed, bool approved) external {
        address owner = _owner(ownerSeed);
        address manager = _anyone(managerSeed);
        bytes memory expected =
            manager == owner
                ? abi.encodeWithSelector(IConsentRegistry.ConsentRegistryInvalidManager.selector, manager)
                : bytes("");
        bytes32[] memory before = model.readState();
        vm.prank(owner);
        try registry.setManager(manager, approved) {
            model.checkOutcome("setManager", expected, true, "");
            model.applySetManager(owner, manager, approved);
        } catch (bytes memory err) {
            model.checkOutcome("setManager", expected, false, err);
        }
        // setManager must not touch consents: recorded as an owner action, so any change made to
        // another owner's consents would count as unauthorised.
        model.recordChanges(before, owner, address(0), ConsentModel.ActionKind.Owner);
    }

    // ---------------------------------------------------------------------------------------

    /// @dev One grant attempt (a struct keeps the stack shallow).
    struct GrantCall {
        address caller;
        address owner;
        address grantee;
        bytes32 dataId;
        uint128 purposes;
        uint64 expiresAt;
        bool viaFor;
    }

    function _grantAs(
        address caller,
        address owner,
        uint256 keySeed,
        uint128 purposesSeed,
        uint256 expirySeed,
        bool viaFor
    ) private {
        GrantCall memory c = GrantCall({
            caller: caller,
            owner: owner,
            grantee: _grantee(keySeed),
            dataId: _dataId(keySeed >> 8),
            purposes: purposesSeed & uint128((1 << model.TRACKED_PURPOSES()) - 1),
            expiresAt: _expiry(expirySeed),
            viaFor: viaFor
        });
        // 1 in 32: a zero grantee or data id, which must be refused.
        if (keySeed % 64 == 62) c.grantee = address(0);
        if (keySeed % 64 == 63) c.dataId = bytes32(0);

        bytes memory expected = viaFor ? _authError(caller, owner) : bytes("");
        if (expected.length == 0) expected = _predictGrantError(c.grantee, c.dataId, c.purposes, c.expiresAt);

        bytes32[] memory before = model.readState();
        (bool ok, bytes memory err) = _sendGrant(c);
        if (model.checkOutcome(viaFor ? "grantFor" : "grant", expected, ok, err)) {
            model.applyGrant(owner, c.grantee, c.dataId, c.purposes, c.expiresAt);
        }
        model.recordChanges(before, caller, address(0), ConsentModel.ActionKind.Owner);
    }

    function _sendGrant(GrantCall memory c) private returns (bool ok, bytes memory err) {
        vm.prank(c.caller);
        if (c.viaFor) {
            try registry.grantFor(c.owner, c.grantee, c.dataId, c.purposes, c.expiresAt, keccak256("notice")) {
                ok = true;
            } catch (bytes memory e) {
                err = e;
            }
        } else {
            try registry.grant(c.grantee, c.dataId, c.purposes, c.expiresAt, keccak256("notice")) {
                ok = true;
            } catch (bytes memory e) {
                err = e;
            }
        }
    }

    function _revokeAs(address caller, address owner, uint256 keySeed, bool viaFor) private {
        address grantee = _grantee(keySeed);
        bytes32 dataId = _dataId(keySeed >> 8);
        bytes memory expected = viaFor ? _authError(caller, owner) : bytes("");
        if (expected.length == 0) {
            ConsentModel.ModelConsent memory c = model.consentOf(owner, grantee, dataId);
            if (!c.stored || c.epoch != model.epochOf(owner)) {
                expected = abi.encodeWithSelector(
                    IConsentRegistry.ConsentRegistryNotGranted.selector,
                    owner,
                    grantee,
                    dataId
                );
            }
        }
        bytes32[] memory before = model.readState();
        bool ok;
        bytes memory err;
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
        if (model.checkOutcome(viaFor ? "revokeFor" : "revoke", expected, ok, err)) {
            model.applyRevoke(owner, grantee, dataId);
        }
        model.recordChanges(before, caller, address(0), ConsentModel.ActionKind.Owner);
    }

    function _revokeAllAs(address caller, address owner, bool viaFor) private {
        bytes memory expected = viaFor ? _authError(caller, owner) : bytes("");
        bytes32[] memory before = model.readState();
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
        if (model.checkOutcome(viaFor ? "revokeAllFor" : "revokeAll", expected, ok, err)) {
            model.applyRevokeAll(owner);
        }
        model.recordChanges(before, caller, address(0), ConsentModel.ActionKind.Owner);
    }

    /// @dev NotAuthorized unless `caller` is the owner or, in the model, one of its managers.
    function _authError(address caller, address owner) private view returns (bytes memory) {
        if (caller == owner || model.isManager(owner, caller)) return "";
        return abi.encodeWithSelector(IConsentRegistry.ConsentRegistryNotAuthorized.selector, caller, owner);
    }

    /// @dev Expiries around "now", so that consents expire during a run and boundaries are hit.
    function _expiry(uint256 seed) private view returns (uint64) {
        uint64 nowTs = model.clock();
        uint256 kind = seed % 8;
        if (kind == 0 || kind == 1) return NO_EXPIRY;
        if (kind == 2) return nowTs; // in the past by definition: refused
        if (kind == 3) return nowTs - uint64((seed >> 8) % 3 days) - 1;
        if (kind == 4) return nowTs + 1;
        if (kind == 5) return nowTs + 1 hours;
        return nowTs + 1 + uint64((seed >> 8) % 30 days);
    }
}
