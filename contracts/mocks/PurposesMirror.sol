// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ALL_DATA, MAX_PURPOSE_ID, NO_EXPIRY} from "../Common.sol";
import {Purposes} from "../Purposes.sol";

/// @dev TEST ONLY. Exposes the Solidity constants so the TypeScript mirror can be compared.
contract PurposesMirror {
    function all() external pure returns (uint8[] memory ids) {
        ids = new uint8[](8);
        ids[0] = Purposes.MODEL_TRAINING;
        ids[1] = Purposes.FINE_TUNING;
        ids[2] = Purposes.INFERENCE;
        ids[3] = Purposes.EVALUATION;
        ids[4] = Purposes.ANALYTICS;
        ids[5] = Purposes.PRODUCT_IMPROVEMENT;
        ids[6] = Purposes.THIRD_PARTY_SHARING;
        ids[7] = Purposes.RESEARCH;
    }

    function initialCount() external pure returns (uint256) {
        return Purposes.INITIAL_COUNT;
    }

    function allData() external pure returns (bytes32) {
        return ALL_DATA;
    }

    function noExpiry() external pure returns (uint64) {
        return NO_EXPIRY;
    }

    function maxPurposeId() external pure returns (uint8) {
        return MAX_PURPOSE_ID;
    }
}
