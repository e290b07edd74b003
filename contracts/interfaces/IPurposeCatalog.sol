// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/**
 * @title IPurposeCatalog
 * @notice The governed catalogue of purpose ids (0..127) that consents may name. Governance can
 * define new purposes and deprecate old ones (never re-define them: an id keeps its meaning
 * forever, so existing consents stay readable and mean what the owner agreed to). Granting an
 * undefined or deprecated purpose reverts; deprecation never changes an existing consent.
 */
interface IPurposeCatalog {
    /// @notice Purpose `id` was defined; `metadataHash` commits to its DPV concept and notice text.
    event PurposeDefined(uint8 indexed id, bytes32 metadataHash);
    /// @notice Purpose `id` can no longer be granted. Existing consents are untouched.
    event PurposeDeprecated(uint8 indexed id);

    /// @notice Purpose ids are 0..127 (one bit each of a `uint128`).
    error PurposeCatalogIdOutOfRange(uint8 id);
    /// @notice Purpose `id` was defined before (ids are never reused).
    error PurposeCatalogAlreadyDefined(uint8 id);
    /// @notice Purpose `id` is not defined, or already deprecated.
    error PurposeCatalogNotActive(uint8 id);

    /// @notice Defines purpose `id` (restricted to governance, through the AccessManager delay).
    function definePurpose(uint8 id, bytes32 metadataHash) external;

    /// @notice Deprecates purpose `id` (restricted to governance).
    function deprecatePurpose(uint8 id) external;

    /// @notice Bitmap of purposes that can be granted now.
    function grantablePurposes() external view returns (uint128);

    /// @notice Bitmap of every purpose ever defined (including deprecated ones).
    function definedPurposes() external view returns (uint128);

    /// @notice The metadata hash purpose `id` was defined with (0 if undefined).
    function purposeMetadata(uint8 id) external view returns (bytes32);
}
