// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/**
 * @title Vm
 * @notice The few cheatcodes our Solidity tests use, declared by hand: Hardhat 3 runs forge-style
 * tests without forge-std, and a small interface keeps every cheatcode we rely on visible.
 * The runner answers calls to {VM_ADDRESS}; the signatures are the standard cheatcode ones.
 */
// The standard cheatcode interface name, kept so readers recognise it:
// solhint-disable-next-line interface-starts-with-i
interface Vm {
    /// @dev One log captured by {recordLogs}.
    struct Log {
        bytes32[] topics;
        bytes data;
        address emitter;
    }

    // --- environment ---
    function warp(uint256 newTimestamp) external;
    function prank(address msgSender) external;
    function startPrank(address msgSender) external;
    function stopPrank() external;
    function label(address account, string calldata newLabel) external;
    function load(address target, bytes32 slot) external view returns (bytes32 data);
    function store(address target, bytes32 slot, bytes32 value) external;
    /// @dev Saves the whole state / returns to a saved state (the saved id stays valid).
    function snapshotState() external returns (uint256 snapshotId);
    function revertToState(uint256 snapshotId) external returns (bool success);
    /// @dev Starts recording storage accesses (clearing earlier ones); {accesses} lists them.
    function record() external;
    function accesses(address target) external returns (bytes32[] memory readSlots, bytes32[] memory writeSlots);

    // --- keys and signatures ---
    function addr(uint256 privateKey) external pure returns (address keyAddr);
    function sign(uint256 privateKey, bytes32 digest) external pure returns (uint8 v, bytes32 r, bytes32 s);

    // --- logs (handlers compare the exact events of a call with what the model predicts) ---
    function recordLogs() external;
    function getRecordedLogs() external returns (Log[] memory logs);

    // --- expectations ---
    function expectRevert(bytes calldata revertData) external;
    function expectEmit(bool checkTopic1, bool checkTopic2, bool checkTopic3, bool checkData, address emitter) external;
    function assume(bool condition) external pure;

    // --- assertions (fail the test with both values shown) ---
    function assertTrue(bool condition, string calldata error) external pure;
    function assertFalse(bool condition, string calldata error) external pure;
    function assertEq(uint256 left, uint256 right, string calldata error) external pure;
    function assertEq(bytes32 left, bytes32 right, string calldata error) external pure;
    function assertEq(address left, address right, string calldata error) external pure;
    function assertEq(bool left, bool right, string calldata error) external pure;
    function assertEq(bytes calldata left, bytes calldata right, string calldata error) external pure;
}

/// @dev The address every cheatcode runner listens on: `address(uint160(uint256(keccak256("hevm cheat code"))))`.
address constant VM_ADDRESS = 0x7109709ECfa91a80626fF3989D68f67F5b1DD12D;

/// @dev The one handle tests and handlers use.
Vm constant vm = Vm(VM_ADDRESS);
