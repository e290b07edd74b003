// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IConsentRegistry} from "../interfaces/IConsentRegistry.sol";

/// @dev TEST/BENCH ONLY. Measures the gas of one external view call as another contract would
/// pay it (gasleft before/after), in a transaction so that the target's account and storage are
/// cold. The result is emitted so benchmarks read it from the receipt.
contract GasProbe {
    event Measured(uint256 gasUsed, bool result);

    error GasProbeCallFailed(bytes reason);

    function measureIsAllowed(
        IConsentRegistry registry,
        address owner,
        address grantee,
        bytes32 dataId,
        uint8 purpose
    ) external returns (uint256 used) {
        uint256 before = gasleft();
        bool result = registry.isAllowed(owner, grantee, dataId, purpose);
        used = before - gasleft();
        emit Measured(used, result);
    }

    /// @dev Measures an arbitrary staticcall (used for the EAS anchor). `result` is true only
    /// when the call returned exactly one word equal to 1 (a `bool` true): other return data,
    /// such as EAS `getAttestation`'s struct, is not decoded (decoding it as `bool` reverted).
    function measureStaticCall(address target, bytes calldata data) external returns (uint256 used) {
        uint256 before = gasleft();
        // solhint-disable-next-line avoid-low-level-calls
        (bool ok, bytes memory ret) = target.staticcall(data);
        used = before - gasleft();
        if (!ok) revert GasProbeCallFailed(ret);
        emit Measured(used, ret.length == 32 && uint256(bytes32(ret)) == 1);
    }
}
