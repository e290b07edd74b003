// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IConsentRegistry} from "../interfaces/IConsentRegistry.sol";

/// @dev TEST ONLY. A relayer contract that submits a signed grant to the registry from inside its
/// own call, so the transaction's calldata is the forwarder's, not the registry's (the auditor
/// cannot read the signature from the transaction alone).
contract RelayForwarderMock {
    IConsentRegistry public immutable registry;

    constructor(IConsentRegistry registry_) {
        registry = registry_;
    }

    /// @notice Relays `request` to the registry's `grantBySig`.
    function forwardGrant(IConsentRegistry.SignedGrant calldata request) external {
        registry.grantBySig(request);
    }
}
