// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ConsentRegistry} from "../ConsentRegistry.sol";
import {IIntegrationRegistry} from "../interfaces/IIntegrationRegistry.sol";

/// @dev TEST ONLY. The registry with a settable clock (0 = use block.timestamp).
contract ConsentRegistryHarness is ConsentRegistry {
    uint64 private _fakeTime;

    constructor(
        address authority,
        IIntegrationRegistry integrations_,
        bytes32[] memory initialPurposes
    ) ConsentRegistry(authority, integrations_, initialPurposes) {}

    function setTime(uint64 t) external {
        _fakeTime = t;
    }

    function _time() internal view override returns (uint64) {
        return _fakeTime == 0 ? uint64(block.timestamp) : _fakeTime;
    }
}
