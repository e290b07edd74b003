// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccessManaged} from "@openzeppelin/contracts/access/manager/AccessManaged.sol";

import {MAX_PURPOSE_ID} from "../Common.sol";
import {IIntegrationRegistry} from "../interfaces/IIntegrationRegistry.sol";

/**
 * @title IntegrationRegistry
 * @notice Third-party integrations that may receive shares, managed by governance through an
 * OpenZeppelin AccessManager (with an execution delay). It holds no consent and cannot change
 * one: the consent registry only *reads* {isActiveIntegration} when a share is recorded.
 */
contract IntegrationRegistry is IIntegrationRegistry, AccessManaged {
    mapping(address integration => Integration) private _integrations;

    constructor(address initialAuthority) AccessManaged(initialAuthority) {}

    /// @inheritdoc IIntegrationRegistry
    function registerIntegration(address integration, bytes32 metadataHash, uint128 purposes) external restricted {
        if (integration == address(0)) revert IntegrationRegistryZeroAddress();
        if (purposes == 0) revert IntegrationRegistryEmptyPurposes();
        Integration storage entry = _integrations[integration];
        if (entry.status != Status.None) revert IntegrationRegistryAlreadyRegistered(integration);
        entry.purposes = purposes;
        entry.status = Status.Active;
        entry.metadataHash = metadataHash;
        emit IntegrationRegistered(integration, metadataHash, purposes);
    }

    /// @inheritdoc IIntegrationRegistry
    function updateIntegration(address integration, bytes32 metadataHash, uint128 purposes) external restricted {
        if (purposes == 0) revert IntegrationRegistryEmptyPurposes();
        Integration storage entry = _integrations[integration];
        if (entry.status == Status.None) revert IntegrationRegistryNotRegistered(integration);
        entry.purposes = purposes;
        entry.metadataHash = metadataHash;
        emit IntegrationUpdated(integration, metadataHash, purposes);
    }

    /// @inheritdoc IIntegrationRegistry
    function suspendIntegration(address integration) external restricted {
        Integration storage entry = _integrations[integration];
        if (entry.status != Status.Active) revert IntegrationRegistryWrongStatus(integration, entry.status);
        entry.status = Status.Suspended;
        emit IntegrationSuspended(integration);
    }

    /// @inheritdoc IIntegrationRegistry
    function reinstateIntegration(address integration) external restricted {
        Integration storage entry = _integrations[integration];
        if (entry.status != Status.Suspended) revert IntegrationRegistryWrongStatus(integration, entry.status);
        entry.status = Status.Active;
        emit IntegrationReinstated(integration);
    }

    /// @inheritdoc IIntegrationRegistry
    function isActiveIntegration(address integration, uint8 purpose) external view returns (bool) {
        if (purpose > MAX_PURPOSE_ID) return false;
        Integration storage entry = _integrations[integration];
        return entry.status == Status.Active && (entry.purposes >> purpose) & 1 == 1;
    }

    /// @inheritdoc IIntegrationRegistry
    function getIntegration(address integration) external view returns (Integration memory) {
        return _integrations[integration];
    }
}
