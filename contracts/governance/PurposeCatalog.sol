// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessManaged} from "@openzeppelin/contracts/access/manager/AccessManaged.sol";

import {MAX_PURPOSE_ID} from "../Common.sol";
import {IPurposeCatalog} from "../interfaces/IPurposeCatalog.sol";

/**
 * @title PurposeCatalog
 * @notice The governed purpose catalogue, built into the registry so that the check on every
 * grant is one storage read (a separate contract would add a cold call, ~2,600 gas, to every
 * grant). Its functions are `restricted` by an OpenZeppelin AccessManager, which applies the
 * execution delay so users see a change coming before it takes effect.
 *
 * Governance here decides only which purposes may be granted from now on. It cannot read or
 * write any consent: this contract has no access to consent storage, and deprecation does not
 * change what an existing consent allows.
 */
abstract contract PurposeCatalog is IPurposeCatalog, AccessManaged {
    /// @dev bits 0..127: grantable (defined, not deprecated); bits 128..255: ever defined.
    uint256 private _catalog;
    mapping(uint8 id => bytes32 metadataHash) private _metadata;

    /// @param initialMetadata metadata hashes of purposes 0..n-1, defined at deployment.
    constructor(address initialAuthority, bytes32[] memory initialMetadata) AccessManaged(initialAuthority) {
        uint256 n = initialMetadata.length;
        for (uint256 i = 0; i < n; ++i) {
            _definePurpose(uint8(i), initialMetadata[i]);
        }
    }

    /// @inheritdoc IPurposeCatalog
    function definePurpose(uint8 id, bytes32 metadataHash) external restricted {
        _definePurpose(id, metadataHash);
    }

    /// @inheritdoc IPurposeCatalog
    function deprecatePurpose(uint8 id) external restricted {
        if (id > MAX_PURPOSE_ID) revert PurposeCatalogIdOutOfRange(id);
        uint256 catalog = _catalog;
        uint256 bit = uint256(1) << id;
        if (catalog & bit == 0) revert PurposeCatalogNotActive(id);
        _catalog = catalog & ~bit;
        emit PurposeDeprecated(id);
    }

    /// @inheritdoc IPurposeCatalog
    function grantablePurposes() public view returns (uint128) {
        return uint128(_catalog);
    }

    /// @inheritdoc IPurposeCatalog
    function definedPurposes() external view returns (uint128) {
        return uint128(_catalog >> 128);
    }

    /// @inheritdoc IPurposeCatalog
    function purposeMetadata(uint8 id) external view returns (bytes32) {
        return _metadata[id];
    }

    function _definePurpose(uint8 id, bytes32 metadataHash) private {
        if (id > MAX_PURPOSE_ID) revert PurposeCatalogIdOutOfRange(id);
        uint256 catalog = _catalog;
        uint256 definedBit = uint256(1) << (uint256(id) + 128);
        if (catalog & definedBit != 0) revert PurposeCatalogAlreadyDefined(id);
        _catalog = catalog | definedBit | (uint256(1) << id);
        _metadata[id] = metadataHash;
        emit PurposeDefined(id, metadataHash);
    }
}
