// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IConsentRegistry} from "./interfaces/IConsentRegistry.sol";

/**
 * @title ConsentGated
 * @notice Base for dApp contracts that must only act on a person's data while that person's
 * consent covers it. Inherit it, pass the registry address to the constructor, and either put
 * {onlyWithConsent} on a function (the caller must hold the consent) or call {_requireConsent}
 * for any other grantee (e.g. the processor a job names).
 *
 * `IConsentRegistry` is all a dApp needs: the check is one `isAllowed` view call, which honours
 * expiry, revocation, revoke-all and the owner's ALL_DATA consent. The gate is read-only: it
 * only ever STATICCALLs the registry (`isAllowed` is `view`), so it can never write a consent or
 * a record, and a gated contract gains no power over anyone's consent.
 *
 * Cost of one check, measured from a contract on the cancun EVM against the optimised registry
 * (`test/ConsentGated.ts` keeps these numbers honest): the first check in a transaction (cold
 * registry account and cold slots) costs about 8.6k gas when the specific consent allows, and
 * about 10.8k in the worst case (the specific consent does not allow, then the owner's ALL_DATA
 * consent is read). Repeating a check for the same key in the same transaction (warm account and
 * slots) costs about 2.2k-2.4k, most of it the call itself. A gate that passes is only a
 * point-in-time answer: the owner can withdraw consent in the next block.
 */
abstract contract ConsentGated {
    IConsentRegistry private immutable _consentRegistry;

    /// @notice The registry address given to the constructor is zero.
    error ConsentGatedZeroRegistry();

    /// @notice `grantee` holds no active consent of `owner` for `dataId` and `purpose` now.
    error ConsentGatedConsentRequired(address owner, address grantee, bytes32 dataId, uint8 purpose);

    /// @param registry_ the consent registry to check against (immutable: a gate cannot be re-pointed)
    constructor(IConsentRegistry registry_) {
        if (address(registry_) == address(0)) revert ConsentGatedZeroRegistry();
        _consentRegistry = registry_;
    }

    /// @notice Reverts with {ConsentGatedConsentRequired} unless `msg.sender` may use `owner`'s
    /// `dataId` for `purpose` now.
    modifier onlyWithConsent(address owner, bytes32 dataId, uint8 purpose) {
        _requireConsent(owner, msg.sender, dataId, purpose);
        _;
    }

    /// @notice The consent registry this contract checks against.
    function consentRegistry() public view returns (IConsentRegistry) {
        return _consentRegistry;
    }

    /// @dev Reverts with {ConsentGatedConsentRequired} unless `grantee` may use `owner`'s `dataId`
    /// for `purpose` now (ALL_DATA consent, expiry and revocation are the registry's rules).
    function _requireConsent(address owner, address grantee, bytes32 dataId, uint8 purpose) internal view {
        if (!_consentRegistry.isAllowed(owner, grantee, dataId, purpose)) {
            revert ConsentGatedConsentRequired(owner, grantee, dataId, purpose);
        }
    }

    /// @dev Whether `grantee` may use `owner`'s `dataId` for `purpose` now (no revert).
    function _hasConsent(address owner, address grantee, bytes32 dataId, uint8 purpose) internal view returns (bool) {
        return _consentRegistry.isAllowed(owner, grantee, dataId, purpose);
    }
}
