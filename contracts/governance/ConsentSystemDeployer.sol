// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ConsentRegistry} from "../ConsentRegistry.sol";
import {IIntegrationRegistry} from "../interfaces/IIntegrationRegistry.sol";
import {IPurposeCatalog} from "../interfaces/IPurposeCatalog.sol";
import {ConsentAccessManager} from "./ConsentAccessManager.sol";
import {IntegrationRegistry} from "./IntegrationRegistry.sol";

/**
 * @title ConsentSystemDeployer
 * @notice Deploys and wires the whole consent system in its constructor, i.e. in one
 * transaction, so that no block ever sees it half-governed: from the deployment block on,
 * every governed change is scheduled and waits `executionDelay`, and no account holds an
 * instant power (the deployer contract is the bootstrap admin and renounces before the
 * transaction ends). Deployed once per chain through CREATE2, its address and so the system's
 * addresses depend only on its bytecode and these parameters.
 *
 * Wiring: the initial integrations are registered; every governed function of both registries
 * is routed to GOVERNOR_ROLE; `governor` (and `guardian`, if any) join their roles and `admin`
 * joins ADMIN_ROLE, each with `executionDelay` (the manager refuses less); the grant delay of
 * every role and the admin delay of every target become `executionDelay` (AccessManager applies
 * these only after its 5-day `minSetback`; until then the members' execution delays give the
 * same notice); the deployer renounces ADMIN_ROLE.
 */
contract ConsentSystemDeployer {
    /// @notice An integration registered at deployment.
    struct InitialIntegration {
        address integration;
        bytes32 metadataHash;
        uint128 purposes;
    }

    uint64 private constant _ADMIN_ROLE = 0;

    ConsentAccessManager public immutable manager;
    IntegrationRegistry public immutable integrations;
    ConsentRegistry public immutable registry;

    /// @notice The system is deployed and wired; nothing of it is held by the deployer.
    event ConsentSystemDeployed(
        address manager,
        address integrations,
        address registry,
        address admin,
        address governor,
        address guardian,
        uint32 executionDelay
    );

    /// @notice `admin` or `governor` is the zero address.
    error ConsentSystemDeployerZeroAddress(string role);
    /// @notice The execution delay must be at least one second (0 would mean no notice at all).
    error ConsentSystemDeployerZeroDelay();

    /**
     * @param admin           ADMIN_ROLE (roles, routing, delays, authority), with `executionDelay`
     * @param governor        GOVERNOR_ROLE (purposes and integrations), with `executionDelay`
     * @param guardian        GUARDIAN_ROLE (may cancel scheduled operations), or address(0) for none
     * @param executionDelay  seconds every governed change waits after it is scheduled
     * @param purposeMetadata metadata hashes of the initial purposes 0..n-1
     * @param initial         integrations registered at deployment
     */
    constructor(
        address admin,
        address governor,
        address guardian,
        uint32 executionDelay,
        bytes32[] memory purposeMetadata,
        InitialIntegration[] memory initial
    ) {
        if (admin == address(0)) revert ConsentSystemDeployerZeroAddress("admin");
        if (governor == address(0)) revert ConsentSystemDeployerZeroAddress("governor");
        if (executionDelay == 0) revert ConsentSystemDeployerZeroDelay();

        ConsentAccessManager m = new ConsentAccessManager(address(this), executionDelay);
        IntegrationRegistry ir = new IntegrationRegistry(address(m));
        ConsentRegistry r = new ConsentRegistry(address(m), IIntegrationRegistry(address(ir)), purposeMetadata);

        // Before routing, this contract is the only admin and may call restricted functions.
        for (uint256 i = 0; i < initial.length; ++i) {
            ir.registerIntegration(initial[i].integration, initial[i].metadataHash, initial[i].purposes);
        }

        uint64 governorRole = m.GOVERNOR_ROLE();
        uint64 guardianRole = m.GUARDIAN_ROLE();
        m.setTargetFunctionRole(address(r), _registrySelectors(), governorRole);
        m.setTargetFunctionRole(address(ir), _integrationSelectors(), governorRole);
        m.labelRole(governorRole, "GOVERNOR");
        m.labelRole(guardianRole, "GUARDIAN");

        m.grantRole(governorRole, governor, executionDelay);
        if (guardian != address(0)) m.grantRole(guardianRole, guardian, executionDelay);
        m.grantRole(_ADMIN_ROLE, admin, executionDelay);

        m.setGrantDelay(_ADMIN_ROLE, executionDelay);
        m.setGrantDelay(governorRole, executionDelay);
        m.setGrantDelay(guardianRole, executionDelay);
        m.setTargetAdminDelay(address(r), executionDelay);
        m.setTargetAdminDelay(address(ir), executionDelay);
        m.setTargetAdminDelay(address(m), executionDelay);

        m.renounceRole(_ADMIN_ROLE, address(this));

        manager = m;
        integrations = ir;
        registry = r;
        emit ConsentSystemDeployed(address(m), address(ir), address(r), admin, governor, guardian, executionDelay);
    }

    /// @dev The registry's governed functions (mirrored in `src/sdk/governance.ts`, tested).
    function _registrySelectors() private pure returns (bytes4[] memory s) {
        s = new bytes4[](2);
        s[0] = IPurposeCatalog.definePurpose.selector;
        s[1] = IPurposeCatalog.deprecatePurpose.selector;
    }

    /// @dev The integration registry's governed functions (mirrored in `src/sdk/governance.ts`).
    function _integrationSelectors() private pure returns (bytes4[] memory s) {
        s = new bytes4[](4);
        s[0] = IIntegrationRegistry.registerIntegration.selector;
        s[1] = IIntegrationRegistry.updateIntegration.selector;
        s[2] = IIntegrationRegistry.suspendIntegration.selector;
        s[3] = IIntegrationRegistry.reinstateIntegration.selector;
    }
}
