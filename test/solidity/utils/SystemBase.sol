// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessManager} from "@openzeppelin/contracts/access/manager/AccessManager.sol";

import {IntegrationRegistry} from "../../../contracts/governance/IntegrationRegistry.sol";
import {ConsentRegistryHarness} from "../../../contracts/mocks/ConsentRegistryHarness.sol";
import {Purposes} from "../../../contracts/Purposes.sol";
import {vm} from "./Vm.sol";

/**
 * @title SystemBase
 * @notice Deploys the consent system the way production does (AccessManager as the authority of
 * the purpose catalogue and of the integration registry), with the test harness registry whose
 * clock can be set. `admin` holds the AccessManager's ADMIN_ROLE with no delay, so it may call
 * every `restricted` function directly.
 */
abstract contract SystemBase {
    /// @dev Unix time every test starts at (Nov 2023): far from 0 so "expiry in the past" is testable.
    uint64 internal constant START = 1_700_000_000;

    /// @dev Where the version field starts in a consent word (see ConsentSlot).
    uint256 internal constant VERSION_SHIFT = 200;
    /// @dev A key's version after its first transaction change: generation 1, sequence 0.
    uint64 internal constant FIRST_TX_VERSION = 1 << 16;

    /// @dev Bitmap of the initial purposes 0..7.
    uint128 internal constant INITIAL_PURPOSES = uint128((uint256(1) << Purposes.INITIAL_COUNT) - 1);

    AccessManager internal manager;
    IntegrationRegistry internal integrations;
    ConsentRegistryHarness internal registry;

    /// @dev Raised when a storage mapping could not be located (the harness layout changed).
    error SystemBaseSlotNotFound(string what);

    /// @param admin the account given ADMIN_ROLE of the AccessManager
    function _deploySystem(address admin) internal {
        manager = new AccessManager(admin);
        integrations = new IntegrationRegistry(address(manager));
        bytes32[] memory metadata = new bytes32[](Purposes.INITIAL_COUNT);
        for (uint256 i = 0; i < metadata.length; ++i) {
            metadata[i] = keccak256(abi.encodePacked("omnitensor:purpose:", i));
        }
        registry = new ConsentRegistryHarness(address(manager), integrations, metadata);
        vm.warp(START);
        registry.setTime(START);
        vm.label(address(manager), "AccessManager");
        vm.label(address(integrations), "IntegrationRegistry");
        vm.label(address(registry), "ConsentRegistry");
    }

    /// @dev Sets both clocks: the EVM's and the harness's (which the registry reads).
    function _setTime(uint64 t) internal {
        vm.warp(t);
        registry.setTime(t);
    }

    /// @dev `x` mapped into `[lo, hi]` (inclusive), uniformly enough for fuzzing.
    function _bound(uint256 x, uint256 lo, uint256 hi) internal pure returns (uint256) {
        if (hi <= lo) return lo;
        uint256 size = hi - lo + 1;
        if (size == 0) return x; // the whole uint256 range
        return lo + (x % size);
    }

    /**
     * @dev The storage slot of the registry's `_epochs` mapping, found by probing (layout-proof:
     * no hard-coded slot number). Makes a throwaway account call revokeAll once.
     */
    function _findEpochsSlot() internal returns (uint256) {
        address probe = address(uint160(uint256(keccak256("epochs-slot-probe"))));
        vm.prank(probe);
        registry.revokeAll();
        for (uint256 p = 0; p < 64; ++p) {
            if (vm.load(address(registry), keccak256(abi.encode(probe, p))) == bytes32(uint256(1))) return p;
        }
        revert SystemBaseSlotNotFound("_epochs");
    }

    /// @dev The storage slot of the registry's `_consents` mapping, found by probing: a grant of
    /// purpose 0, no expiry, in epoch 0, is the word `1 | FIRST_TX_VERSION << 200`.
    function _findConsentsSlot() internal returns (uint256) {
        address probe = address(uint160(uint256(keccak256("consents-slot-probe"))));
        address grantee = address(0xBEEF);
        bytes32 dataId = keccak256("probe-data");
        vm.prank(probe);
        registry.grant(grantee, dataId, 1, 0, bytes32(0));
        bytes32 expected = bytes32(1 | (uint256(FIRST_TX_VERSION) << VERSION_SHIFT));
        for (uint256 p = 0; p < 64; ++p) {
            if (vm.load(address(registry), _consentSlot(p, probe, grantee, dataId)) == expected) return p;
        }
        revert SystemBaseSlotNotFound("_consents");
    }

    /// @dev Where `_consents[owner][grantee][dataId]` lives when the mapping is at `base`.
    function _consentSlot(
        uint256 base,
        address owner,
        address grantee,
        bytes32 dataId
    ) internal pure returns (bytes32) {
        bytes32 byOwner = keccak256(abi.encode(owner, base));
        bytes32 byGrantee = keccak256(abi.encode(grantee, byOwner));
        return keccak256(abi.encode(dataId, byGrantee));
    }
}
