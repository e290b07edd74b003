// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ConsentRegistryHarness} from "../../../contracts/mocks/ConsentRegistryHarness.sol";
import {vm} from "../utils/Vm.sol";
import {ConsentModel} from "./ConsentModel.sol";
import {HandlerBase} from "./HandlerBase.sol";

/**
 * @title TimeHandler
 * @notice Moves time forward: by a random step, or exactly to the next expiry of a tracked
 * consent (so runs land on `now == expiresAt`, the boundary where a consent must already be
 * dead). Both clocks move: the EVM's (vm.warp) and the harness's, which the registry reads.
 */
contract TimeHandler is HandlerBase {
    uint64 private constant MAX_STEP = 3 days;

    constructor(ConsentRegistryHarness registry_, ConsentModel model_) HandlerBase(registry_, model_) {}

    function warp(uint256 seed) external fuzzCall {
        uint64 nowTs = model.clock();
        uint64 next = seed % 3 == 0 ? _nextExpiry(nowTs) : 0;
        if (next == 0) next = nowTs + 1 + uint64((seed >> 8) % MAX_STEP);
        model.beginAction();
        vm.warp(next);
        registry.setTime(next);
        model.setClock(next);
        // Time passing changes what is active, never what is stored.
        model.recordChanges(address(this), ConsentModel.ActionKind.Time);
    }

    /// @dev The earliest expiry after `nowTs` among the model's consents, or 0 if none.
    function _nextExpiry(uint64 nowTs) private view returns (uint64 best) {
        address[] memory owners = model.owners();
        address[] memory grantees = model.grantees();
        bytes32[] memory ids = model.dataIds();
        for (uint256 o = 0; o < owners.length; ++o) {
            for (uint256 g = 0; g < grantees.length; ++g) {
                for (uint256 d = 0; d < ids.length; ++d) {
                    uint64 e = model.consentOf(owners[o], grantees[g], ids[d]).expiresAt;
                    if (e > nowTs && (best == 0 || e < best)) best = e;
                }
            }
        }
    }
}
