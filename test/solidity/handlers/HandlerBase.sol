// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {NO_EXPIRY} from "../../../contracts/Common.sol";
import {IConsentRegistry} from "../../../contracts/interfaces/IConsentRegistry.sol";
import {ConsentRegistryHarness} from "../../../contracts/mocks/ConsentRegistryHarness.sol";
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

    /// @dev Mostly a tracked purpose id (0..9); 1 in 16 an id above 127, which must never pass.
    function _purpose(uint256 seed) internal view returns (uint8) {
        if (seed % 16 == 15) return uint8(128 + ((seed >> 8) % 128));
        return uint8((seed >> 8) % model.TRACKED_PURPOSES());
    }

    /// @dev The error the registry must give a grant of these inputs now, in its validation order
    /// (grantee, data id, purposes, catalogue, expiry), or "" if it must be accepted.
    function _predictGrantError(
        address grantee,
        bytes32 dataId,
        uint128 purposes,
        uint64 expiresAt
    ) internal view returns (bytes memory) {
        if (grantee == address(0)) return abi.encodeWithSelector(IConsentRegistry.ConsentRegistryZeroGrantee.selector);
        if (dataId == bytes32(0)) return abi.encodeWithSelector(IConsentRegistry.ConsentRegistryZeroDataId.selector);
        if (purposes == 0) return abi.encodeWithSelector(IConsentRegistry.ConsentRegistryEmptyPurposes.selector);
        uint128 notGrantable = purposes & ~model.grantable();
        if (notGrantable != 0) {
            return
                abi.encodeWithSelector(
                    IConsentRegistry.ConsentRegistryPurposeNotGrantable.selector,
                    purposes,
                    notGrantable
                );
        }
        uint64 nowTs = model.clock();
        if (expiresAt != NO_EXPIRY && expiresAt <= nowTs) {
            return abi.encodeWithSelector(IConsentRegistry.ConsentRegistryExpiryInPast.selector, expiresAt, nowTs);
        }
        return "";
    }
}
