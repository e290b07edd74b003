// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ConsentGated} from "../ConsentGated.sol";
import {IConsentRegistry} from "../interfaces/IConsentRegistry.sol";

/// @dev TEST ONLY. Exposes ConsentGated's modifier and internal checks, and measures the check.
contract ConsentGatedMock is ConsentGated {
    event GatedCall(address indexed caller, address indexed owner, bytes32 indexed dataId, uint8 purpose);

    constructor(IConsentRegistry registry_) ConsentGated(registry_) {}

    /// @dev A function behind the modifier: the caller must hold the consent.
    function gated(address owner, bytes32 dataId, uint8 purpose) external onlyWithConsent(owner, dataId, purpose) {
        emit GatedCall(msg.sender, owner, dataId, purpose);
    }

    function requireConsent(address owner, address grantee, bytes32 dataId, uint8 purpose) external view {
        _requireConsent(owner, grantee, dataId, purpose);
    }

    function hasConsent(address owner, address grantee, bytes32 dataId, uint8 purpose) external view returns (bool) {
        return _hasConsent(owner, grantee, dataId, purpose);
    }

    /// @dev Gas of the same check twice in one call: first cold (registry account and slots),
    /// then warm. Call it with eth_call so nothing in the registry is warm beforehand.
    function measure(
        address owner,
        address grantee,
        bytes32 dataId,
        uint8 purpose
    ) external view returns (uint256 cold, uint256 warm) {
        uint256 start = gasleft();
        _hasConsent(owner, grantee, dataId, purpose);
        uint256 middle = gasleft();
        _hasConsent(owner, grantee, dataId, purpose);
        cold = start - middle;
        warm = middle - gasleft();
    }
}
