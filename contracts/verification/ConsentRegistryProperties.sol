// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {MAX_PURPOSE_ID} from "../Common.sol";
import {ConsentRegistry} from "../ConsentRegistry.sol";
import {IIntegrationRegistry} from "../interfaces/IIntegrationRegistry.sol";

/**
 * @title ConsentRegistryProperties
 * @notice VERIFICATION ONLY (`npm run verify:smt`, see docs/FORMAL.md). The real registry plus
 * `check*` functions whose `assert`s state properties of its real `_isAllowed` over every
 * REACHABLE state (job registry-reachable, CHC: every sequence of calls to every inherited
 * external function: grants, revokes, revoke-alls, signatures, managers...). With z3 5.1 these
 * stay unknown (docs/FORMAL.md says why), so the job is opt-in. Never deployed.
 */
contract ConsentRegistryProperties is ConsentRegistry {
    constructor(
        address authority,
        IIntegrationRegistry integrations_,
        bytes32[] memory initialPurposes
    ) ConsentRegistry(authority, integrations_, initialPurposes) {}

    /// @notice A purpose id above MAX_PURPOSE_ID is never allowed, in any state.
    function checkPurposeAboveMaxNeverAllowed(
        address owner,
        address grantee,
        bytes32 dataId,
        uint8 purpose
    ) external view {
        if (purpose > MAX_PURPOSE_ID) assert(!_isAllowed(owner, grantee, dataId, purpose));
    }

    /// @notice Data id 0 is never allowed: no grant can store it and it has no ALL_DATA fallback.
    function checkZeroDataIdNeverAllowed(address owner, address grantee, uint8 purpose) external view {
        assert(!_isAllowed(owner, grantee, bytes32(0), purpose));
    }

    /// @notice Right after the caller's revoke-all, nothing at all is allowed for the caller.
    function checkRevokeAllDeniesEverything(address grantee, bytes32 dataId, uint8 purpose) external {
        _revokeAll(msg.sender, Via.Owner);
        assert(!_isAllowed(msg.sender, grantee, dataId, purpose));
    }
}
