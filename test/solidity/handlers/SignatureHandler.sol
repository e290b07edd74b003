// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {NO_EXPIRY} from "../../../contracts/Common.sol";
import {IConsentRegistry} from "../../../contracts/interfaces/IConsentRegistry.sol";
import {ConsentRegistryHarness} from "../../../contracts/mocks/ConsentRegistryHarness.sol";
import {Signing} from "../utils/Signing.sol";
import {vm} from "../utils/Vm.sol";
import {ConsentModel} from "./ConsentModel.sol";
import {HandlerBase} from "./HandlerBase.sol";

/**
 * @title SignatureHandler
 * @notice The EIP-712 path, as an adversarial relayer sees it. Owners (addresses of known
 * private keys) SIGN Grant / Revoke / RevokeAll messages with `vm.sign`, numbered by the SDK
 * rule (the owner's epoch; the key's version + 1, above any version still held back), and the
 * relayer HOLDS THEM BACK in a pool. Other actions relay pooled messages in random order, after
 * random delays (the time actor moves the clock in between), singly or in batches
 * (`revokeBySigBatch` best effort, `grantBySigBatch` all or nothing), again after they applied,
 * and after the owner cancelled them by transaction or locked down. Probes that must always be
 * refused are relayed too: signatures by the wrong key, for another owner, over a tampered
 * message, in high-s form, for another chain, with a passed deadline, or naming a stale epoch
 * or version on purpose.
 *
 * Every outcome is predicted exactly from the model (success, or the custom error with its
 * arguments; per item for batches; events included). Every applied message goes through
 * {ConsentModel-applySigned}, which checks that the owner's latest instruction holds, and every
 * change is attributed by {ConsentModel-recordChanges}.
 */
contract SignatureHandler is HandlerBase {
    using Signing for *;

    /// @dev One relay's inputs (a struct keeps the stack shallow).
    struct Relay {
        uint256 id;
        ConsentModel.Message m;
        bytes sig;
        address relayer;
    }

    /// @dev Raised if the model's owners are not the addresses of the given keys.
    error SignatureHandlerKeyMismatch(uint256 index, address expected, address actual);

    /// @notice How many messages relayers hold back at most (a new one then replaces a random one).
    uint256 public constant POOL_SIZE = 16;
    /// @dev secp256k1 group order: `N - s` is the high-s twin of a signature.
    uint256 private constant SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;
    bytes32 private constant NOTICE = keccak256("signed notice");

    // Storage, not immutables (see HandlerBase).
    uint256[] private _ownerKeys; // same order as model.owners()
    uint256 private _rogueKey; // a key that is no owner's
    uint256[] private _pool; // ids of the messages held back
    mapping(uint256 id => bytes) private _sigs;

    constructor(
        ConsentRegistryHarness registry_,
        ConsentModel model_,
        uint256[] memory ownerKeys,
        uint256 rogueKey
    ) HandlerBase(registry_, model_) {
        address[] memory owners = model_.owners();
        for (uint256 i = 0; i < owners.length; ++i) {
            address derived = vm.addr(ownerKeys[i]);
            if (derived != owners[i]) revert SignatureHandlerKeyMismatch(i, owners[i], derived);
        }
        _ownerKeys = ownerKeys;
        _rogueKey = rogueKey;
    }

    // ---------------------------------------------------------------------------------------
    // Actions: signing and holding back
    // ---------------------------------------------------------------------------------------

    /**
     * @notice An owner signs 1..3 messages, held back by the relayer. Often for the key of a
     * message already held (the owner changes her mind before the first one is relayed), and
     * the later ones of a burst mostly for the same key.
     */
    function sign(uint256 ownerSeed, uint256 keySeed, uint256 kindSeed, uint256 timeSeed) external fuzzCall {
        uint256 n = 1 + (kindSeed % 3);
        (address owner, address grantee, bytes32 dataId) = _signingKey(ownerSeed, keySeed);
        for (uint256 j = 0; j < n; ++j) {
            // The first message's details come straight from `timeSeed` (fixed scenarios set them).
            uint256 s = j == 0 ? timeSeed : uint256(keccak256(abi.encode(timeSeed, j)));
            if (j > 0 && (kindSeed >> (12 + j)) % 4 == 0) (grantee, dataId) = (_grantee(s >> 8), _dataId(s >> 16));
            uint256 kind = (kindSeed >> (4 + 3 * j)) % 8; // 4 in 8 grants, 3 in 8 revokes, 1 in 8 lockdowns
            ConsentModel.MessageKind k =
                kind < 4
                    ? ConsentModel.MessageKind.Grant
                    : (kind < 7 ? ConsentModel.MessageKind.Revoke : ConsentModel.MessageKind.RevokeAll);
            _hold(_signInstruction(k, owner, grantee, dataId, s), s);
        }
    }

    // ---------------------------------------------------------------------------------------
    // Actions: relaying
    // ---------------------------------------------------------------------------------------

    /// @notice Relays one held message (any kind, in any order, maybe again), by anyone. With
    /// nothing held (or 1 time in 4), a new grant is signed and held first.
    function relay(uint256 pickSeed, uint256 relayerSeed) external fuzzCall {
        if (_pool.length == 0 || (relayerSeed >> 128) % 4 == 3) {
            (address owner, address grantee, bytes32 dataId) = _signingKey(pickSeed >> 64, pickSeed >> 96);
            _hold(_signInstruction(ConsentModel.MessageKind.Grant, owner, grantee, dataId, pickSeed >> 32), pickSeed);
        }
        uint256 id = _pool[pickSeed % _pool.length];
        _relay(_load(id, _anyone(relayerSeed)), "relay");
    }

    /**
     * @notice A revokeBySigBatch of held revocations (0..5 items, in random order, repeats
     * allowed), one of them possibly a probe that must fail (rogue key, passed deadline, zero data
     * id, stale epoch). Best effort: every valid item applies, each failure is returned and
     * emitted as SignedRevokeFailed; predicted item by item, in order.
     */
    function relayRevokeBatch(uint256 pickSeed, uint256 relayerSeed, uint256 shapeSeed) external fuzzCall {
        uint256 n = shapeSeed % 32 == 0 ? 0 : 1 + ((shapeSeed >> 5) % 5);
        uint256[] memory ids = _pickBatch(ConsentModel.MessageKind.Revoke, pickSeed, n, 8);
        if (n != 0 && (shapeSeed >> 8) % 2 == 0) ids[(shapeSeed >> 9) % n] = _revokeProbe(pickSeed, shapeSeed >> 16);
        address relayer = _anyone(relayerSeed);
        IConsentRegistry.SignedRevoke[] memory reqs = new IConsentRegistry.SignedRevoke[](n);
        for (uint256 i = 0; i < n; ++i) reqs[i] = _signedRevoke(model.messageAt(ids[i]), _sigs[ids[i]]);

        bytes[] memory expected = _predictBatch(ids);
        model.beginAction();
        vm.recordLogs();
        vm.prank(relayer);
        try registry.revokeBySigBatch(reqs) returns (bytes[] memory failures) {
            bytes[] memory logs = _registryLogs();
            model.checkOutcome("revokeBySigBatch", n == 0 ? _emptyBatch() : bytes(""), true, "");
            model.checkEqual("revokeBySigBatch failures", abi.encode(expected), abi.encode(failures));
            bytes[] memory want = new bytes[](n);
            for (uint256 i = 0; i < n; ++i) {
                ConsentModel.Message memory m = model.messageAt(ids[i]);
                bool applied = i < failures.length && failures[i].length == 0;
                model.count("revokeBySigBatch item", applied);
                if (applied) {
                    model.applySigned(ids[i]);
                    want[i] = _revokedLog(m, relayer);
                } else {
                    bytes memory reason = i < failures.length ? failures[i] : bytes("");
                    model.refuseSigned(ids[i], reason);
                    want[i] = _log3(
                        IConsentRegistry.SignedRevokeFailed.selector,
                        _topic(m.owner),
                        _topic(m.grantee),
                        m.dataId,
                        abi.encode(i, reason)
                    );
                }
            }
            model.checkEqual("revokeBySigBatch events", abi.encode(want), abi.encode(logs));
        } catch (bytes memory err) {
            _registryLogs();
            model.checkOutcome("revokeBySigBatch", n == 0 ? _emptyBatch() : bytes(""), false, err);
        }
        model.recordChanges(relayer, ConsentModel.ActionKind.Signature);
    }

    /**
     * @notice A grantBySigBatch of 1..4 held grants (random order, repeats allowed: a repeat is
     * stale once its first copy applied), one possibly a probe (rogue key, passed deadline, zero
     * grantee, stale version). All or nothing: BatchItemFailed(first bad index, its error).
     */
    function relayGrantBatch(uint256 pickSeed, uint256 relayerSeed, uint256 shapeSeed) external fuzzCall {
        uint256 n = 1 + (shapeSeed % 4);
        // Half the batches mostly of grants signed just now (so that some pass as a whole), the
        // others of held ones (often stale, expired or repeated: refused as a whole).
        uint256 freshOdds = (shapeSeed >> 12) % 2 == 0 ? 8 : 1;
        uint256[] memory ids = _pickBatch(ConsentModel.MessageKind.Grant, pickSeed, n, freshOdds);
        if ((shapeSeed >> 8) % 3 == 0) ids[(shapeSeed >> 10) % n] = _grantProbe(pickSeed, shapeSeed >> 16);
        address relayer = _anyone(relayerSeed);
        IConsentRegistry.SignedGrant[] memory reqs = new IConsentRegistry.SignedGrant[](n);
        for (uint256 i = 0; i < n; ++i) reqs[i] = _signedGrant(model.messageAt(ids[i]), _sigs[ids[i]]);

        bytes[] memory failures = _predictBatch(ids);
        bytes memory expected;
        for (uint256 i = 0; i < n && expected.length == 0; ++i) {
            if (failures[i].length != 0) {
                expected = abi.encodeWithSelector(
                    IConsentRegistry.ConsentRegistryBatchItemFailed.selector,
                    i,
                    failures[i]
                );
            }
        }
        model.beginAction();
        vm.recordLogs();
        vm.prank(relayer);
        try registry.grantBySigBatch(reqs) {
            bytes[] memory logs = _registryLogs();
            model.checkOutcome("grantBySigBatch", expected, true, "");
            bytes[] memory want = new bytes[](n);
            for (uint256 i = 0; i < n; ++i) {
                uint128 stored = model.applySigned(ids[i]);
                want[i] = _grantedLog(model.messageAt(ids[i]), stored, relayer);
            }
            model.checkEqual("grantBySigBatch events", abi.encode(want), abi.encode(logs));
        } catch (bytes memory err) {
            _registryLogs();
            model.checkOutcome("grantBySigBatch", expected, false, err);
            model.refuseSignedBatchItem(ids, err);
        }
        model.recordChanges(relayer, ConsentModel.ActionKind.Signature);
    }

    /**
     * @notice The owner cancels a held Grant/Revoke by transaction before it is relayed: a
     * revoke of its key (3 in 4) or a lockdown. The message relayed afterwards must be refused
     * as stale: the owner's later word holds.
     */
    function cancelThenRelay(uint256 pickSeed, uint256 relayerSeed, uint256 mode) external fuzzCall {
        ConsentModel.MessageKind kind =
            (mode >> 1) % 2 == 0 ? ConsentModel.MessageKind.Grant : ConsentModel.MessageKind.Revoke;
        uint256[] memory ids = _pickBatch(kind, pickSeed, 1, 8);
        ConsentModel.Message memory m = model.messageAt(ids[0]);
        model.beginAction();
        vm.prank(m.owner);
        if (mode % 4 != 3) {
            try registry.revoke(m.grantee, m.dataId) {
                if (model.checkOutcome("cancelByRevoke", _keyError(m.grantee, m.dataId), true, "")) {
                    model.applyTxRevoke(m.owner, m.grantee, m.dataId);
                }
            } catch (bytes memory err) {
                model.checkOutcome("cancelByRevoke", _keyError(m.grantee, m.dataId), false, err);
            }
        } else {
            try registry.revokeAll() {
                model.checkOutcome("cancelByLockdown", "", true, "");
                model.applyLockdown(m.owner);
            } catch (bytes memory err) {
                model.checkOutcome("cancelByLockdown", "", false, err);
            }
        }
        model.recordChanges(m.owner, ConsentModel.ActionKind.Owner);
        _relay(_load(ids[0], _anyone(relayerSeed)), "relayCancelled");
    }

    /**
     * @notice A signature that is not the owner's over exactly this message (otherwise valid:
     * current epoch, next version, deadline ahead): by a key that is no owner's, by another
     * owner's key, over a message changed after signing, the high-s twin of the owner's
     * signature, or for another chain's domain. All must fail with InvalidSignature(owner).
     */
    function wrongSigner(uint256 ownerSeed, uint256 relayerSeed, uint256 keySeed, uint256 modeSeed) external fuzzCall {
        ConsentModel.Message memory m = _fresh(ConsentModel.MessageKind(modeSeed % 3), ownerSeed, keySeed);
        uint256 mode = (modeSeed >> 8) % 5;
        bytes32 hash = _hash(m, registry.DOMAIN_SEPARATOR());
        bytes memory sig;
        if (mode == 0) {
            sig = Signing.sign(_rogueKey, hash);
            m.signer = vm.addr(_rogueKey);
        } else if (mode == 1) {
            uint256 otherKey = _ownerKeys[(_indexOf(m.owner) + 1 + ((modeSeed >> 16) % 2)) % _ownerKeys.length];
            sig = Signing.signCompact(otherKey, hash);
            m.signer = vm.addr(otherKey);
        } else if (mode == 2) {
            sig = Signing.sign(_keyOf(m.owner), hash);
            // Still a valid deadline, but no longer the signed message.
            m.deadline = m.deadline == type(uint256).max ? m.deadline - 1 : m.deadline + 1;
            m.signer = address(0);
        } else if (mode == 3) {
            sig = _highS(_keyOf(m.owner), hash);
            m.signer = address(0);
        } else {
            sig = Signing.sign(_keyOf(m.owner), _hash(m, Signing.domain(address(registry), block.chainid + 1)));
            m.signer = address(0);
        }
        _relay(_load(_register(m, sig), _anyone(relayerSeed)), "wrongSigner");
    }

    /// @notice The owner's valid signature relayed after its deadline: SignatureExpired.
    function expired(uint256 ownerSeed, uint256 relayerSeed, uint256 keySeed, uint256 kindSeed) external fuzzCall {
        ConsentModel.Message memory m = _fresh(ConsentModel.MessageKind(kindSeed % 3), ownerSeed, keySeed);
        m.deadline = model.clock() - 1 - ((kindSeed >> 8) % 7 days);
        _relay(_load(_registerSigned(m, kindSeed), _anyone(relayerSeed)), "expiredSig");
    }

    /**
     * @notice The owner's signature over a message naming a stale epoch or version on purpose
     * (the current version itself, the next or the previous generation, another epoch):
     * StaleSignature with the message's and the key's epoch and version.
     */
    function staleMessage(uint256 ownerSeed, uint256 relayerSeed, uint256 keySeed, uint256 modeSeed) external fuzzCall {
        ConsentModel.Message memory m = _fresh(ConsentModel.MessageKind(modeSeed % 3), ownerSeed, keySeed);
        uint64 current = model.consentOf(m.owner, m.grantee, m.dataId).version;
        uint256 mode = (modeSeed >> 8) % 5;
        if (mode == 0) m.version = current;
        else if (mode == 1) m.version = model.nextGeneration(current) + 1;
        else if (mode == 2) m.version = current >> 16 == 0 ? current : (((current >> 16) - 1) << 16) | 1;
        else if (mode == 3) ++m.epoch;
        else m.epoch = m.epoch == 0 ? 2 : m.epoch - 1;
        if (m.kind == ConsentModel.MessageKind.RevokeAll && m.epoch == model.epochOf(m.owner)) ++m.epoch;
        _relay(_load(_registerSigned(m, modeSeed), _anyone(relayerSeed)), "staleSig");
    }

    // ---------------------------------------------------------------------------------------
    // Views (for the invariant test)
    // ---------------------------------------------------------------------------------------

    function poolLength() external view returns (uint256) {
        return _pool.length;
    }

    function pooled(uint256 i) external view returns (uint256) {
        return _pool[i];
    }

    /// @notice The address of the key that is no owner's.
    function rogue() external view returns (address) {
        return vm.addr(_rogueKey);
    }

    // ---------------------------------------------------------------------------------------
    // Building and signing messages
    // ---------------------------------------------------------------------------------------

    /// @dev The key an owner signs for: 1 in 2 the key of a held Grant/Revoke, else from the seeds.
    function _signingKey(uint256 ownerSeed, uint256 keySeed) private view returns (address, address, bytes32) {
        if (_pool.length != 0 && keySeed % 2 == 0) {
            ConsentModel.Message memory held = model.messageAt(_pool[(keySeed >> 1) % _pool.length]);
            if (held.kind != ConsentModel.MessageKind.RevokeAll) return (held.owner, held.grantee, held.dataId);
        }
        return (_owner(ownerSeed), _grantee(keySeed >> 8), _dataId(keySeed >> 16));
    }

    /// @dev The owner's instruction of `kind` for the key, numbered by the SDK rule, signed and
    /// registered (given now).
    function _signInstruction(
        ConsentModel.MessageKind kind,
        address owner,
        address grantee,
        bytes32 dataId,
        uint256 seed
    ) private returns (uint256) {
        ConsentModel.Message memory m;
        m.kind = kind;
        m.owner = owner;
        m.epoch = model.epochOf(owner);
        // Each detail from its own bit field of `seed` (so fixed scenarios can choose them).
        m.deadline = _deadline(uint32(seed >> 32));
        if (kind != ConsentModel.MessageKind.RevokeAll) {
            m.grantee = grantee;
            m.dataId = dataId;
            m.version = model.nextSignedVersion(owner, grantee, dataId);
        }
        if (kind == ConsentModel.MessageKind.Grant) {
            m.purposes = _purposes(uint32(seed >> 64));
            // Mostly purposes grantable now; the others are dropped if still not grantable when
            // relayed. 1 in 32 none at all (EmptyPurposes).
            uint32 shape = uint32(seed >> 96);
            if (shape % 4 != 0) m.purposes &= model.grantable();
            if (shape % 32 == 1) m.purposes = 0;
            m.expiresAt = _expiry(uint64(seed >> 128));
        }
        m.instruction = true;
        return _registerSigned(m, seed);
    }

    /// @dev A message for the current state (epoch, next version, deadline ahead) that is NOT
    /// one of the owner's instructions: material for probes, registered by the caller.
    function _fresh(
        ConsentModel.MessageKind kind,
        uint256 ownerSeed,
        uint256 keySeed
    ) private view returns (ConsentModel.Message memory m) {
        m.kind = kind;
        m.owner = _owner(ownerSeed);
        m.epoch = model.epochOf(m.owner);
        m.deadline = _deadline(keySeed >> 128);
        if (kind != ConsentModel.MessageKind.RevokeAll) {
            m.grantee = _grantee(keySeed);
            m.dataId = _dataId(keySeed >> 8);
            m.version = model.nextSignedVersion(m.owner, m.grantee, m.dataId);
        }
        if (kind == ConsentModel.MessageKind.Grant) {
            uint128 grantable = model.grantable();
            m.purposes = _purposes(keySeed >> 16) & grantable;
            if (m.purposes == 0 && grantable != 0) m.purposes = grantable & (~grantable + 1);
            if (m.purposes == 0) m.purposes = 1;
            m.expiresAt = _expiry(keySeed >> 64);
        }
    }

    /// @dev Signs `m` with its owner's key (65 or 64 bytes), registers it, returns its id.
    function _registerSigned(ConsentModel.Message memory m, uint256 seed) private returns (uint256) {
        bytes32 hash = _hash(m, registry.DOMAIN_SEPARATOR());
        uint256 k = _keyOf(m.owner);
        bytes memory sig = (seed >> 200) % 2 == 0 ? Signing.sign(k, hash) : Signing.signCompact(k, hash);
        m.signer = m.owner;
        return _register(m, sig);
    }

    function _register(ConsentModel.Message memory m, bytes memory sig) private returns (uint256 id) {
        id = model.newMessage(m);
        _sigs[id] = sig;
    }

    function _hold(uint256 id, uint256 seed) private {
        if (_pool.length < POOL_SIZE) _pool.push(id);
        else _pool[uint256(keccak256(abi.encode(seed, id))) % POOL_SIZE] = id;
    }

    /// @dev `n` held messages of `kind` picked at random (repeats allowed); one time in
    /// `freshOdds` (and whenever none is held) an instruction of that kind signed now instead
    /// (and held too).
    function _pickBatch(
        ConsentModel.MessageKind kind,
        uint256 seed,
        uint256 n,
        uint256 freshOdds
    ) private returns (uint256[] memory ids) {
        uint256[] memory candidates = new uint256[](_pool.length);
        uint256 c;
        for (uint256 i = 0; i < _pool.length; ++i) {
            if (model.kindOf(_pool[i]) != kind) continue;
            candidates[c] = _pool[i];
            ++c;
        }
        ids = new uint256[](n);
        for (uint256 i = 0; i < n; ++i) {
            uint256 s = uint256(keccak256(abi.encode(seed, i)));
            if (c == 0 || s % freshOdds == 0) {
                (address owner, address grantee, bytes32 dataId) = _signingKey(s >> 8, s >> 16);
                ids[i] = _signInstruction(kind, owner, grantee, dataId, s);
                _hold(ids[i], s);
            } else {
                ids[i] = candidates[(s >> 3) % c];
            }
        }
    }

    /// @dev A revocation that must fail: rogue key, passed deadline, zero data id, stale epoch.
    function _revokeProbe(uint256 keySeed, uint256 mode) private returns (uint256) {
        ConsentModel.Message memory m = _fresh(ConsentModel.MessageKind.Revoke, keySeed, keySeed >> 8);
        return _probe(m, mode % 4);
    }

    /// @dev A grant that must fail: rogue key, passed deadline, zero grantee, stale version.
    function _grantProbe(uint256 keySeed, uint256 mode) private returns (uint256) {
        ConsentModel.Message memory m = _fresh(ConsentModel.MessageKind.Grant, keySeed, keySeed >> 8);
        return _probe(m, mode % 4);
    }

    function _probe(ConsentModel.Message memory m, uint256 mode) private returns (uint256) {
        if (mode == 0) {
            m.signer = vm.addr(_rogueKey);
            return _register(m, Signing.sign(_rogueKey, _hash(m, registry.DOMAIN_SEPARATOR())));
        }
        if (mode == 1) m.deadline = model.clock() - 1;
        else if (mode == 2 && m.kind == ConsentModel.MessageKind.Revoke) m.dataId = bytes32(0);
        else if (mode == 2) m.grantee = address(0);
        else if (m.kind == ConsentModel.MessageKind.Revoke) ++m.epoch;
        else m.version = model.consentOf(m.owner, m.grantee, m.dataId).version;
        return _registerSigned(m, mode);
    }

    function _hash(ConsentModel.Message memory m, bytes32 domainSeparator) private pure returns (bytes32) {
        bytes32 structHash;
        if (m.kind == ConsentModel.MessageKind.Grant) structHash = Signing.grantHash(_signedGrant(m, ""));
        else if (m.kind == ConsentModel.MessageKind.Revoke) structHash = Signing.revokeHash(_signedRevoke(m, ""));
        else structHash = Signing.revokeAllHash(IConsentRegistry.SignedRevokeAll(m.owner, m.epoch, m.deadline, ""));
        return Signing.digest(domainSeparator, structHash);
    }

    /// @dev The malleable twin (r, N - s, flipped v) of `key`'s signature: mathematically valid,
    /// but a registry that accepted it would accept two signatures for one authorisation.
    function _highS(uint256 key, bytes32 hash) private pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, hash);
        return abi.encodePacked(r, bytes32(SECP256K1_N - uint256(s)), v == 27 ? uint8(28) : uint8(27));
    }

    function _keyOf(address owner) private view returns (uint256) {
        return _ownerKeys[_indexOf(owner)];
    }

    function _indexOf(address owner) private view returns (uint256) {
        address[] memory all = model.owners();
        for (uint256 i = 0; i < all.length; ++i) if (all[i] == owner) return i;
        return 0; // not reached: messages are only built for model owners
    }

    /// @dev Deadlines: exactly now (valid until the clock moves), just after, an hour, up to 3
    /// days, never. The time actor's steps (up to 3 days) let many pass while messages are held.
    function _deadline(uint256 seed) private view returns (uint256) {
        uint64 nowTs = model.clock();
        uint256 kind = seed % 5;
        if (kind == 0) return nowTs;
        if (kind == 1) return nowTs + 1;
        if (kind == 2) return nowTs + 1 hours;
        if (kind == 3) return nowTs + 1 + ((seed >> 8) % 3 days);
        return type(uint256).max;
    }

    /// @dev Consent expiries: none, soon, later; 1 in 16 already past (a signed grant stores it).
    function _expiry(uint256 seed) private view returns (uint40) {
        uint40 nowTs = uint40(model.clock());
        uint256 kind = seed % 16;
        if (kind < 6) return NO_EXPIRY;
        if (kind == 6) return nowTs - 1;
        if (kind == 7) return nowTs + 1;
        return nowTs + 1 + uint40((seed >> 8) % 30 days);
    }

    // ---------------------------------------------------------------------------------------
    // Relaying, predicting, applying
    // ---------------------------------------------------------------------------------------

    function _load(uint256 id, address relayer) private view returns (Relay memory) {
        return Relay(id, model.messageAt(id), _sigs[id], relayer);
    }

    /// @dev Predicts, relays, compares (outcome and events); on acceptance the model applies it.
    function _relay(Relay memory r, string memory action) private {
        ConsentModel.Message memory m = r.m;
        bytes memory expected = _predict(m, model.consentOf(m.owner, m.grantee, m.dataId).version);
        uint32 newEpoch = model.epochOf(m.owner) + 1;
        model.beginAction();
        vm.recordLogs();
        (bool ok, bytes memory err) = _send(r);
        bytes[] memory logs = _registryLogs();
        if (model.checkOutcome(action, expected, ok, err)) {
            uint128 stored = model.applySigned(r.id);
            bytes[] memory want = new bytes[](1);
            if (m.kind == ConsentModel.MessageKind.Grant) want[0] = _grantedLog(m, stored, r.relayer);
            else if (m.kind == ConsentModel.MessageKind.Revoke) want[0] = _revokedLog(m, r.relayer);
            else {
                want[0] = _log1(
                    IConsentRegistry.AllConsentsRevoked.selector,
                    _topic(m.owner),
                    abi.encode(newEpoch, r.relayer, IConsentRegistry.Via.Signature)
                );
            }
            model.checkEqual(string.concat(action, " events"), abi.encode(want), abi.encode(logs));
        } else {
            model.refuseSigned(r.id, err);
        }
        model.recordChanges(r.relayer, ConsentModel.ActionKind.Signature);
    }

    function _send(Relay memory r) private returns (bool ok, bytes memory err) {
        ConsentModel.Message memory m = r.m;
        vm.prank(r.relayer);
        if (m.kind == ConsentModel.MessageKind.Grant) {
            try registry.grantBySig(_signedGrant(m, r.sig)) {
                ok = true;
            } catch (bytes memory e) {
                err = e;
            }
        } else if (m.kind == ConsentModel.MessageKind.Revoke) {
            try registry.revokeBySig(_signedRevoke(m, r.sig)) {
                ok = true;
            } catch (bytes memory e) {
                err = e;
            }
        } else {
            try registry.revokeAllBySig(IConsentRegistry.SignedRevokeAll(m.owner, m.epoch, m.deadline, r.sig)) {
                ok = true;
            } catch (bytes memory e) {
                err = e;
            }
        }
    }

    /**
     * @dev The registry's checks in its order: deadline, the message's own content (key,
     * purposes), the ordering rule (epoch; version above `current` in its generation), the
     * signature. "" if it must apply. Time or governance changes since signing refuse nothing.
     */
    function _predict(ConsentModel.Message memory m, uint64 current) private view returns (bytes memory) {
        uint64 nowTs = model.clock();
        if (nowTs > m.deadline) {
            return abi.encodeWithSelector(IConsentRegistry.ConsentRegistrySignatureExpired.selector, m.deadline, nowTs);
        }
        uint32 epoch = model.epochOf(m.owner);
        if (m.kind == ConsentModel.MessageKind.RevokeAll) {
            if (m.epoch != epoch) return _stale(m.owner, m.epoch, 0, epoch, 0);
        } else {
            bytes memory err = _keyError(m.grantee, m.dataId);
            if (err.length != 0) return err;
            if (m.kind == ConsentModel.MessageKind.Grant && m.purposes == 0) {
                return abi.encodeWithSelector(IConsentRegistry.ConsentRegistryEmptyPurposes.selector);
            }
            if (m.epoch != epoch || m.version <= current || m.version >> 16 != current >> 16) {
                return _stale(m.owner, m.epoch, m.version, epoch, current);
            }
        }
        if (m.signer != m.owner) {
            return abi.encodeWithSelector(IConsentRegistry.ConsentRegistryInvalidSignature.selector, m.owner);
        }
        return "";
    }

    /// @dev Each item's error (or "") as the registry meets them in order: an item that applies
    /// moves its key's version for the items after it.
    function _predictBatch(uint256[] memory ids) private view returns (bytes[] memory errs) {
        uint256 n = ids.length;
        errs = new bytes[](n);
        bytes32[] memory keys = new bytes32[](n);
        uint64[] memory versions = new uint64[](n);
        uint256 moved;
        for (uint256 i = 0; i < n; ++i) {
            ConsentModel.Message memory m = model.messageAt(ids[i]);
            bytes32 k = model.key(m.owner, m.grantee, m.dataId);
            uint64 current = model.consentOf(m.owner, m.grantee, m.dataId).version;
            for (uint256 j = 0; j < moved; ++j) if (keys[j] == k) current = versions[j];
            errs[i] = _predict(m, current);
            if (errs[i].length == 0) {
                keys[moved] = k;
                versions[moved] = m.version;
                ++moved;
            }
        }
    }

    function _stale(
        address owner,
        uint32 epoch,
        uint64 version,
        uint32 currentEpoch,
        uint64 currentVersion
    ) private pure returns (bytes memory) {
        return
            abi.encodeWithSelector(
                IConsentRegistry.ConsentRegistryStaleSignature.selector,
                owner,
                epoch,
                version,
                currentEpoch,
                currentVersion
            );
    }

    function _emptyBatch() private pure returns (bytes memory) {
        return abi.encodeWithSelector(IConsentRegistry.ConsentRegistryEmptyBatch.selector);
    }

    function _grantedLog(
        ConsentModel.Message memory m,
        uint128 stored,
        address relayer
    ) private pure returns (bytes memory) {
        return
            _log3(
                IConsentRegistry.ConsentGranted.selector,
                _topic(m.owner),
                _topic(m.grantee),
                m.dataId,
                abi.encode(stored, m.expiresAt, NOTICE, relayer, m.version)
            );
    }

    function _revokedLog(ConsentModel.Message memory m, address relayer) private pure returns (bytes memory) {
        return
            _log3(
                IConsentRegistry.ConsentRevoked.selector,
                _topic(m.owner),
                _topic(m.grantee),
                m.dataId,
                abi.encode(relayer, m.version)
            );
    }

    function _signedGrant(
        ConsentModel.Message memory m,
        bytes memory sig
    ) private pure returns (IConsentRegistry.SignedGrant memory) {
        return
            IConsentRegistry.SignedGrant(
                m.owner,
                m.grantee,
                m.dataId,
                m.purposes,
                m.expiresAt,
                NOTICE,
                m.epoch,
                m.version,
                m.deadline,
                sig
            );
    }

    function _signedRevoke(
        ConsentModel.Message memory m,
        bytes memory sig
    ) private pure returns (IConsentRegistry.SignedRevoke memory) {
        return IConsentRegistry.SignedRevoke(m.owner, m.grantee, m.dataId, m.epoch, m.version, m.deadline, sig);
    }
}
