// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/**
 * @title IIntegrationRegistry
 * @notice Third-party integrations that may receive shared data: registered, updated and
 * suspended by governance (an OpenZeppelin AccessManager with an execution delay). Suspension
 * stops new shares to an integration; it never touches any consent.
 */
interface IIntegrationRegistry {
    enum Status {
        None,
        Active,
        Suspended
    }

    /**
     * @param purposes     bitmap of purposes the integration may receive
     * @param status       None (never registered), Active or Suspended
     * @param metadataHash commitment to the integration's public description (operator, DPA, …)
     */
    struct Integration {
        uint128 purposes;
        Status status;
        bytes32 metadataHash;
    }

    event IntegrationRegistered(address indexed integration, bytes32 metadataHash, uint128 purposes);
    event IntegrationUpdated(address indexed integration, bytes32 metadataHash, uint128 purposes);
    event IntegrationSuspended(address indexed integration);
    event IntegrationReinstated(address indexed integration);

    /// @notice The integration address is zero.
    error IntegrationRegistryZeroAddress();
    /// @notice An integration must be allowed at least one purpose.
    error IntegrationRegistryEmptyPurposes();
    /// @notice `integration` is registered already.
    error IntegrationRegistryAlreadyRegistered(address integration);
    /// @notice `integration` is not registered.
    error IntegrationRegistryNotRegistered(address integration);
    /// @notice `integration` is not in the status the operation needs.
    error IntegrationRegistryWrongStatus(address integration, Status status);

    function registerIntegration(address integration, bytes32 metadataHash, uint128 purposes) external;

    function updateIntegration(address integration, bytes32 metadataHash, uint128 purposes) external;

    function suspendIntegration(address integration) external;

    function reinstateIntegration(address integration) external;

    /// @notice Whether `integration` is registered, active, and allowed to receive `purpose`.
    function isActiveIntegration(address integration, uint8 purpose) external view returns (bool);

    function getIntegration(address integration) external view returns (Integration memory);
}
