// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {NO_EXPIRY} from "../../../contracts/Common.sol";
import {IConsentRegistry} from "../../../contracts/interfaces/IConsentRegistry.sol";
import {ConsentRegistryHarness} from "../../../contracts/mocks/ConsentRegistryHarness.sol";
import {Vm, vm} from "../utils/Vm.sol";
import {ConsentModel} from "./ConsentModel.sol";

/**
 * @title HandlerBase
 * @notice What every invariant actor shares: the registry, the ghost model, and pickers that
 * turn a fuzzed seed into one of a small set of actors, keys and purposes (a small set makes
 * the fuzzer hit the same consents again and again, which is where bugs live).
 */
abstract contract HandlerBase {
    // Plain storage, not immutables: the invariant runner identifies a target by comparing its
    // runtime code with the artifacts, and immutables filled in at deployment defeat that match.
    ConsentRegistryHarness internal registry;
    ConsentModel internal model;

    /// @dev Every fuzzed entry point: tells the model a new call starts (see ConsentModel.callCount).
    modifier fuzzCall() {
        model.newCall();
        _;
    }

    constructor(ConsentRegistryHarness registry_, ConsentModel model_) {
        registry = registry_;
        model = model_;
    }

    function _owner(uint256 seed) internal view returns (address) {
        address[] memory all = model.owners();
        return all[seed % all.length];
    }

    function _grantee(uint256 seed) internal view returns (address) {
        address[] memory all = model.grantees();
        return all[seed % all.length];
    }

    function _dataId(uint256 seed) internal view returns (bytes32) {
        bytes32[] memory all = model.dataIds();
        return all[seed % all.length];
    }

    /// @dev Any account that may send a call: owners, grantees, strangers (for unauthorised tries).
    function _anyone(uint256 seed) internal view returns (address) {
        address[] memory o = model.owners();
        address[] memory g = model.grantees();
        address[] memory s = model.strangers();
        uint256 i = seed % (o.length + g.length + s.length);
        if (i < o.length) return o[i];
        if (i < o.length + g.length) return g[i - o.length];
        return s[i - o.length - g.length];
    }

    /// @dev Mostly a tracked purpose id (0..9); 1 in 16 the top id 127 (definable by governance,
    /// the boundary of the range); 1 in 16 an id above 127, which must never pass.
    function _purpose(uint256 seed) internal view returns (uint8) {
        if (seed % 16 == 15) return uint8(128 + ((seed >> 8) % 128));
        if (seed % 16 == 14) return 127;
        return uint8((seed >> 8) % model.TRACKED_LOW());
    }

    /// @dev A purpose bitmap: any of the initial ids 0..7, and each of the ids governance may
    /// define (8, 9, the top id 127) one time in 8, so that most grants are grantable.
    function _purposes(uint256 seed) internal pure returns (uint128 p) {
        p = uint128(seed) & 0xff;
        if ((seed >> 8) % 8 == 0) p |= uint128(1) << 8;
        if ((seed >> 11) % 8 == 0) p |= uint128(1) << 9;
        if ((seed >> 14) % 8 == 0) p |= uint128(1) << 127;
    }

    /// @dev Who sends a `...For` call for `owner`: half the time one of its current managers (if
    /// it has any), else any account (the owner itself, a removed manager, a stranger).
    function _callerFor(address owner, uint256 seed) internal view returns (address) {
        if (seed % 2 == 0) {
            uint256 n = 9; // 3 owners, 4 grantees, 2 strangers: the accounts of `_anyone`
            for (uint256 k = 0; k < n; ++k) {
                address candidate = _anyone((seed >> 1) + k);
                if (model.isManager(owner, candidate)) return candidate;
            }
        }
        return _anyone(seed >> 1);
    }

    /**
     * @dev The error the registry must give a grant by transaction of these inputs now, in its
     * validation order (grantee, data id, purposes, expiry, catalogue), or "" if it must be
     * accepted. Purposes no longer grantable pass if the live consent holds them and the new
     * expiry is not later (narrowing always works).
     */
    function _predictGrantError(
        address owner,
        address grantee,
        bytes32 dataId,
        uint128 purposes,
        uint40 expiresAt
    ) internal view returns (bytes memory) {
        if (grantee == address(0)) return abi.encodeWithSelector(IConsentRegistry.ConsentRegistryZeroGrantee.selector);
        if (dataId == bytes32(0)) return abi.encodeWithSelector(IConsentRegistry.ConsentRegistryZeroDataId.selector);
        if (purposes == 0) return abi.encodeWithSelector(IConsentRegistry.ConsentRegistryEmptyPurposes.selector);
        uint64 nowTs = model.clock();
        if (expiresAt != NO_EXPIRY && expiresAt <= nowTs) {
            return abi.encodeWithSelector(IConsentRegistry.ConsentRegistryExpiryInPast.selector, expiresAt, nowTs);
        }
        uint128 notGrantable = purposes & ~model.grantable();
        if (notGrantable != 0) notGrantable &= ~model.keepable(owner, grantee, dataId, expiresAt);
        if (notGrantable != 0) {
            return
                abi.encodeWithSelector(
                    IConsentRegistry.ConsentRegistryPurposeNotGrantable.selector,
                    purposes,
                    notGrantable
                );
        }
        return "";
    }

    /// @dev ZeroGrantee / ZeroDataId for a key that is not valid, else "".
    function _keyError(address grantee, bytes32 dataId) internal pure returns (bytes memory) {
        if (grantee == address(0)) return abi.encodeWithSelector(IConsentRegistry.ConsentRegistryZeroGrantee.selector);
        if (dataId == bytes32(0)) return abi.encodeWithSelector(IConsentRegistry.ConsentRegistryZeroDataId.selector);
        return "";
    }

    /// @dev NotAuthorized unless `caller` is the owner or, in the model, one of its current managers.
    function _authError(address caller, address owner) internal view returns (bytes memory) {
        if (caller == owner || model.isManager(owner, caller)) return "";
        return abi.encodeWithSelector(IConsentRegistry.ConsentRegistryNotAuthorized.selector, caller, owner);
    }

    /// @dev The logs the registry emitted since the last {vm.recordLogs} (other emitters skipped),
    /// each ABI-encoded as (topics, data), so a handler can compare them with its prediction.
    function _registryLogs() internal returns (bytes[] memory out) {
        Vm.Log[] memory logs = vm.getRecordedLogs();
        uint256 n;
        for (uint256 i = 0; i < logs.length; ++i) if (logs[i].emitter == address(registry)) ++n;
        out = new bytes[](n);
        n = 0;
        for (uint256 i = 0; i < logs.length; ++i) {
            if (logs[i].emitter != address(registry)) continue;
            out[n] = abi.encode(logs[i].topics, logs[i].data);
            ++n;
        }
    }

    /// @dev One expected log as {_registryLogs} encodes it: three indexed topics after the event's.
    function _log3(
        bytes32 sig,
        bytes32 t1,
        bytes32 t2,
        bytes32 t3,
        bytes memory data
    ) internal pure returns (bytes memory) {
        bytes32[] memory topics = new bytes32[](4);
        topics[0] = sig;
        topics[1] = t1;
        topics[2] = t2;
        topics[3] = t3;
        return abi.encode(topics, data);
    }

    /// @dev One expected log with two indexed topics after the event's.
    function _log2(bytes32 sig, bytes32 t1, bytes32 t2, bytes memory data) internal pure returns (bytes memory) {
        bytes32[] memory topics = new bytes32[](3);
        topics[0] = sig;
        topics[1] = t1;
        topics[2] = t2;
        return abi.encode(topics, data);
    }

    /// @dev One expected log with one indexed topic after the event's.
    function _log1(bytes32 sig, bytes32 t1, bytes memory data) internal pure returns (bytes memory) {
        bytes32[] memory topics = new bytes32[](2);
        topics[0] = sig;
        topics[1] = t1;
        return abi.encode(topics, data);
    }

    function _topic(address a) internal pure returns (bytes32) {
        return bytes32(uint256(uint160(a)));
    }
}
