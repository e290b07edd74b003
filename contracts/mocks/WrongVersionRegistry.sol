// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/**
 * @title WrongVersionRegistry
 * @notice TEST ONLY. Answers `version()` like a future, incompatible registry (major 2), so the
 * SDK's version check can be tested against real bytecode.
 */
contract WrongVersionRegistry {
    /// @notice The semantic version this stand-in claims to be.
    function version() external pure returns (string memory) {
        return "3.0.0";
    }
}
