// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ALL_DATA} from "../../../contracts/Common.sol";
import {IConsentRegistry} from "../../../contracts/interfaces/IConsentRegistry.sol";
import {ConsentRegistryHarness} from "../../../contracts/mocks/ConsentRegistryHarness.sol";
import {vm} from "../utils/Vm.sol";
import {ConsentModel} from "./ConsentModel.sol";
import {HandlerBase} from "./HandlerBase.sol";

/**
 * @title ProcessorHandler
 * @notice Processors and integrations recording uses and shares, with or without consent
 * (senders include strangers; recipients include unregistered and suspended integrations).
 * Data ids include 0 (never allowed, no ALL_DATA fallback). Every outcome is compared with the
 * model's exact prediction; every accepted record is logged
 * with the model's view at that moment, which the invariants check.
 */
contract ProcessorHandler is HandlerBase {
    constructor(ConsentRegistryHarness registry_, ConsentModel model_) HandlerBase(registry_, model_) {}

    /// @notice `sender` records a use of an owner's data.
    function recordUse(uint256 senderSeed, uint256 ownerSeed, uint256 dataSeed, uint256 purposeSeed) external fuzzCall {
        (address sender, address owner, bytes32 dataId, uint8 purpose) = _pick(
            senderSeed,
            ownerSeed,
            dataSeed,
            purposeSeed
        );
        bytes memory expected = _useError(owner, sender, dataId, purpose);
        model.beginAction();
        vm.prank(sender);
        try registry.recordUse(owner, dataId, purpose, keccak256("job")) {
            model.checkOutcome("recordUse", expected, true, "");
            model.logUse(owner, sender, address(0), dataId, purpose);
        } catch (bytes memory err) {
            model.checkOutcome("recordUse", expected, false, err);
        }
        model.recordChanges(sender, ConsentModel.ActionKind.Processor);
    }

    /// @notice `sender` records a share of an owner's data with `to`.
    function recordShare(
        uint256 senderSeed,
        uint256 ownerSeed,
        uint256 toSeed,
        uint256 dataSeed,
        uint256 purposeSeed
    ) external fuzzCall {
        (address sender, address owner, bytes32 dataId, uint8 purpose) = _pick(
            senderSeed,
            ownerSeed,
            dataSeed,
            purposeSeed
        );
        address to = _recipient(owner, sender, dataId, purpose, toSeed);
        bytes memory expected = _shareError(owner, sender, to, dataId, purpose);
        model.beginAction();
        vm.prank(sender);
        try registry.recordShare(owner, to, dataId, purpose, keccak256("receipt")) {
            model.checkOutcome("recordShare", expected, true, "");
            model.logUse(owner, sender, to, dataId, purpose);
        } catch (bytes memory err) {
            model.checkOutcome("recordShare", expected, false, err);
        }
        model.recordChanges(sender, ConsentModel.ActionKind.Processor);
    }

    /// @notice `sender` records 1..3 uses at once: all or nothing, BatchItemFailed(first bad index).
    function recordUseBatch(
        uint256 senderSeed,
        uint256 ownerSeed,
        uint256 dataSeed,
        uint256 purposeSeed
    ) external fuzzCall {
        uint256 n = 1 + (purposeSeed % 3);
        IConsentRegistry.UseRecord[] memory records = new IConsentRegistry.UseRecord[](n);
        bytes memory expected;
        address sender;
        for (uint256 i = 0; i < n; ++i) {
            // The same sender for every item (it is msg.sender); each item's own data and purpose,
            // and 1 in 4 another owner.
            uint256 s = uint256(keccak256(abi.encode(dataSeed, purposeSeed, i)));
            uint256 o = (s >> 128) % 4 == 0 ? (ownerSeed % 3) + 1 : ownerSeed;
            (address itemSender, address owner, bytes32 dataId, uint8 purpose) = _pick(senderSeed, o, s, s >> 64);
            if (i == 0) sender = itemSender;
            records[i] = IConsentRegistry.UseRecord(owner, dataId, purpose, keccak256("job"));
            bytes memory err = _useError(records[i].owner, sender, records[i].dataId, records[i].purpose);
            if (expected.length == 0 && err.length != 0) {
                expected = abi.encodeWithSelector(IConsentRegistry.ConsentRegistryBatchItemFailed.selector, i, err);
            }
        }
        model.beginAction();
        vm.prank(sender);
        try registry.recordUseBatch(records) {
            if (model.checkOutcome("recordUseBatch", expected, true, "")) {
                for (uint256 i = 0; i < n; ++i) {
                    model.logUse(records[i].owner, sender, address(0), records[i].dataId, records[i].purpose);
                }
            }
        } catch (bytes memory err) {
            model.checkOutcome("recordUseBatch", expected, false, err);
        }
        model.recordChanges(sender, ConsentModel.ActionKind.Processor);
    }

    function _useError(
        address owner,
        address sender,
        bytes32 dataId,
        uint8 purpose
    ) private view returns (bytes memory) {
        if (model.allows(owner, sender, dataId, purpose)) return "";
        return
            abi.encodeWithSelector(
                IConsentRegistry.ConsentRegistryConsentRequired.selector,
                owner,
                sender,
                dataId,
                purpose
            );
    }

    /**
     * @dev What a record is about. Half the time a grantee, data id and purpose that one of the
     * owner's live consents covers (the data id is then often another asset than an ALL_DATA
     * consent's, to take the fallback), so that records are accepted; else anything tracked.
     */
    function _pick(
        uint256 senderSeed,
        uint256 ownerSeed,
        uint256 dataSeed,
        uint256 purposeSeed
    ) private view returns (address sender, address owner, bytes32 dataId, uint8 purpose) {
        owner = _owner(ownerSeed);
        if (senderSeed % 2 == 0) {
            address[] memory g = model.grantees();
            bytes32[] memory d = model.dataIds();
            uint256 total = g.length * d.length;
            for (uint256 k = 0; k < total; ++k) {
                uint256 j = ((senderSeed >> 1) + k) % total;
                if (!model.isActive(owner, g[j / d.length], d[j % d.length])) continue;
                sender = g[j / d.length];
                dataId = d[j % d.length];
                if (dataId == ALL_DATA) dataId = _data(dataSeed);
                uint128 purposes = model.consentOf(owner, sender, d[j % d.length]).purposes;
                purpose = _setBit(purposes, purposeSeed);
                return (sender, owner, dataId, purpose);
            }
        }
        return (_sender(senderSeed >> 1), owner, _data(dataSeed), _purpose(purposeSeed));
    }

    /// @dev Half the time a grantee other than the sender that holds the owner's consent for the
    /// record (I1 and I2 first: the integrations), so that the status check is what decides;
    /// else any account.
    function _recipient(
        address owner,
        address sender,
        bytes32 dataId,
        uint8 purpose,
        uint256 seed
    ) private view returns (address) {
        if (seed % 2 == 0) {
            address[] memory g = model.grantees();
            for (uint256 k = 0; k < g.length; ++k) {
                address candidate = g[(2 + k + (seed >> 1)) % g.length];
                if (candidate != sender && model.allows(owner, candidate, dataId, purpose)) return candidate;
            }
        }
        return _sender(seed >> 1);
    }

    /// @dev One of the set bits of `purposes` (non-zero), chosen by `seed`.
    function _setBit(uint128 purposes, uint256 seed) private pure returns (uint8) {
        uint256 n;
        for (uint256 b = 0; b < 128; ++b) if ((purposes >> b) & 1 == 1) ++n;
        uint256 pick = seed % n;
        for (uint8 b = 0; b < 128; ++b) {
            if ((purposes >> b) & 1 == 0) continue;
            if (pick == 0) return b;
            --pick;
        }
        return 0; // not reached
    }

    /// @dev A tracked data id; 1 in 16 data id 0, which never passes (no ALL_DATA fallback for it).
    function _data(uint256 seed) private view returns (bytes32) {
        if (seed % 16 == 15) return bytes32(0);
        return _dataId(seed >> 4);
    }

    /// @dev The registry's order: sender's consent, recipient's consent, recipient's status.
    function _shareError(
        address owner,
        address sender,
        address to,
        bytes32 dataId,
        uint8 purpose
    ) private view returns (bytes memory) {
        if (!model.allows(owner, sender, dataId, purpose)) {
            return
                abi.encodeWithSelector(
                    IConsentRegistry.ConsentRegistryConsentRequired.selector,
                    owner,
                    sender,
                    dataId,
                    purpose
                );
        }
        if (!model.allows(owner, to, dataId, purpose)) {
            return
                abi.encodeWithSelector(
                    IConsentRegistry.ConsentRegistryConsentRequired.selector,
                    owner,
                    to,
                    dataId,
                    purpose
                );
        }
        if (!model.integrationActive(to, purpose)) {
            return abi.encodeWithSelector(IConsentRegistry.ConsentRegistryIntegrationNotActive.selector, to, purpose);
        }
        return "";
    }

    /// @dev A grantee most of the time; 1 in 8 a stranger holding no consent.
    function _sender(uint256 seed) private view returns (address) {
        if (seed % 8 == 7) {
            address[] memory s = model.strangers();
            return s[(seed >> 8) % s.length];
        }
        return _grantee(seed >> 3);
    }
}
