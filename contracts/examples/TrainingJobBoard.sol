// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {MAX_PURPOSE_ID} from "../Common.sol";
import {ConsentGated} from "../ConsentGated.sol";
import {IConsentRegistry} from "../interfaces/IConsentRegistry.sol";
import {Purposes} from "../Purposes.sol";

/**
 * @title TrainingJobBoard
 * @notice Example dApp gated on consent: a board of training jobs. Anyone creates a job naming
 * the processor that will run it and the purpose (MODEL_TRAINING unless stated). The job's
 * creator then adds data items `(owner, dataId)`, and the board accepts an item only if the owner
 * has consented to *that job's processor* using that data for *that job's purpose* right now.
 *
 * The board only gates membership. It records no use: the processor must itself call
 * `IConsentRegistry.recordUse` for each item when it trains, and that call is checked again at
 * that block. Consent can be withdrawn after an item was added; {stillConsented} shows whether
 * an item is still covered, and the registry will refuse the processor's record if it is not.
 */
contract TrainingJobBoard is ConsentGated {
    /// @param creator    who created the job (the only account that may add data)
    /// @param processor  the grantee whose consent every item needs
    /// @param purpose    the purpose every item needs consent for
    /// @param contributors number of distinct data owners with at least one item in the job
    struct Job {
        address creator;
        address processor;
        uint8 purpose;
        uint64 contributors;
    }

    /// @notice One data item of a job: `owner`'s asset `dataId` (or ALL_DATA for all of it).
    struct DataItem {
        address owner;
        bytes32 dataId;
    }

    /// @dev Job ids are 1..`_jobCount`, so id 0 never names a job.
    uint256 private _jobCount;
    mapping(uint256 jobId => Job) private _jobs;
    mapping(uint256 jobId => DataItem[]) private _items;
    mapping(uint256 jobId => mapping(address owner => bool)) private _isContributor;
    mapping(uint256 jobId => mapping(address owner => mapping(bytes32 dataId => bool added))) private _added;

    /// @notice Job `jobId` was created by `creator` for `processor` and `purpose`.
    event JobCreated(uint256 indexed jobId, address indexed creator, address indexed processor, uint8 purpose);
    /// @notice `owner`'s `dataId` joined job `jobId` (the owner consented to its processor and purpose).
    event DataAdded(uint256 indexed jobId, address indexed owner, bytes32 indexed dataId);

    /// @notice A job needs a processor.
    error TrainingJobBoardZeroProcessor();
    /// @notice Purpose ids are 0..127.
    error TrainingJobBoardPurposeOutOfRange(uint8 purpose);
    /// @notice No job has id `jobId`.
    error TrainingJobBoardUnknownJob(uint256 jobId);
    /// @notice Only the creator of job `jobId` may add data to it; `caller` is not.
    error TrainingJobBoardNotCreator(uint256 jobId, address caller);
    /// @notice `bytes32(0)` names no data asset (the registry never grants it either).
    error TrainingJobBoardZeroDataId();
    /// @notice `owner`'s `dataId` is already part of job `jobId`.
    error TrainingJobBoardDuplicateData(uint256 jobId, address owner, bytes32 dataId);
    /// @notice Job `jobId` has `count` items; `index` is not one of them.
    error TrainingJobBoardIndexOutOfRange(uint256 jobId, uint256 index, uint256 count);

    /// @param registry_ the consent registry every item is checked against
    constructor(IConsentRegistry registry_) ConsentGated(registry_) {}

    /// @notice Creates a job for `processor` with the default purpose, MODEL_TRAINING.
    function createJob(address processor) external returns (uint256 jobId) {
        return _createJob(processor, Purposes.MODEL_TRAINING);
    }

    /// @notice Creates a job for `processor` and `purpose` (0..127).
    function createJob(address processor, uint8 purpose) external returns (uint256 jobId) {
        return _createJob(processor, purpose);
    }

    /**
     * @notice Adds `owner`'s `dataId` to job `jobId`. Only the job's creator may call it, and only
     * while `owner` consents to the job's processor using `dataId` for the job's purpose
     * (a consent for ALL_DATA counts). Reverts with ConsentGatedConsentRequired otherwise.
     */
    function addData(uint256 jobId, address owner, bytes32 dataId) external {
        Job storage job = _job(jobId);
        if (job.creator != msg.sender) revert TrainingJobBoardNotCreator(jobId, msg.sender);
        if (dataId == bytes32(0)) revert TrainingJobBoardZeroDataId();
        if (_added[jobId][owner][dataId]) revert TrainingJobBoardDuplicateData(jobId, owner, dataId);
        // The grantee is the job's processor, not msg.sender: the creator only curates the job.
        _requireConsent(owner, job.processor, dataId, job.purpose);

        _added[jobId][owner][dataId] = true;
        _items[jobId].push(DataItem({owner: owner, dataId: dataId}));
        if (!_isContributor[jobId][owner]) {
            _isContributor[jobId][owner] = true;
            // A job cannot hold 2^64 distinct owners: each needs its own storage writes.
            unchecked {
                ++job.contributors;
            }
        }
        emit DataAdded(jobId, owner, dataId);
    }

    /// @notice Number of jobs created so far (ids are 1..jobCount).
    function jobCount() external view returns (uint256) {
        return _jobCount;
    }

    /// @notice Job `jobId`. Reverts with UnknownJob.
    function getJob(uint256 jobId) external view returns (Job memory) {
        return _job(jobId);
    }

    /// @notice Number of distinct data owners in job `jobId`. Reverts with UnknownJob.
    function contributors(uint256 jobId) external view returns (uint256) {
        return _job(jobId).contributors;
    }

    /// @notice Number of data items in job `jobId`. Reverts with UnknownJob.
    function dataCount(uint256 jobId) external view returns (uint256) {
        _job(jobId);
        return _items[jobId].length;
    }

    /// @notice Item `index` of job `jobId`. Reverts with UnknownJob or IndexOutOfRange.
    function dataItem(uint256 jobId, uint256 index) external view returns (DataItem memory) {
        _job(jobId);
        return _item(jobId, index);
    }

    /**
     * @notice Whether item `index` of job `jobId` is still covered by its owner's consent to the
     * job's processor and purpose now. Being on the board is no lasting permission: the owner
     * may revoke, revoke all, or let the consent expire at any time after the item was added.
     */
    function stillConsented(uint256 jobId, uint256 index) external view returns (bool) {
        Job storage job = _job(jobId);
        DataItem storage item = _item(jobId, index);
        return _hasConsent(item.owner, job.processor, item.dataId, job.purpose);
    }

    function _createJob(address processor, uint8 purpose) private returns (uint256 jobId) {
        if (processor == address(0)) revert TrainingJobBoardZeroProcessor();
        if (purpose > MAX_PURPOSE_ID) revert TrainingJobBoardPurposeOutOfRange(purpose);
        jobId = ++_jobCount;
        _jobs[jobId] = Job({creator: msg.sender, processor: processor, purpose: purpose, contributors: 0});
        emit JobCreated(jobId, msg.sender, processor, purpose);
    }

    function _job(uint256 jobId) private view returns (Job storage job) {
        job = _jobs[jobId];
        if (job.creator == address(0)) revert TrainingJobBoardUnknownJob(jobId);
    }

    function _item(uint256 jobId, uint256 index) private view returns (DataItem storage) {
        DataItem[] storage items = _items[jobId];
        if (index >= items.length) revert TrainingJobBoardIndexOutOfRange(jobId, index, items.length);
        return items[index];
    }
}
