//! Blocks: header, canonical hash, transaction Merkle root, validator signatures.

use borsh::{BorshDeserialize, BorshSerialize};
use consentry_circuits::field::sha256_tagged;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

use super::types::{hex_bytes, Hash32, TxId};

/// A block header. Its hash is what validators sign.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
pub struct BlockHeader {
    /// Height (genesis is 0).
    pub height: u64,
    /// Hash of the previous header (zero for genesis).
    pub prev_hash: Hash32,
    /// Merkle root of the transaction ids ([`tx_root`]).
    pub tx_root: Hash32,
    /// Registry root after this block (32-byte big-endian field element).
    pub registry_root: Hash32,
    /// Proposal time, milliseconds since the epoch.
    pub time_ms: u64,
    /// The proposer's Ed25519 key.
    #[serde(with = "hex_bytes")]
    pub proposer: [u8; 32],
}

impl BlockHeader {
    /// SHA-256 of the canonical encoding, domain-tagged.
    pub fn hash(&self) -> Hash32 {
        let bytes = borsh::to_vec(self).expect("encoding to a Vec cannot fail");
        Hash32(sha256_tagged(b"consentry/v1/block-header", &bytes))
    }

    /// The day (since 1970-01-01, UTC) of the block's time.
    pub fn day(&self) -> u32 {
        (self.time_ms / 86_400_000) as u32
    }
}

/// One validator's signature over a header hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
pub struct BlockSignature {
    /// The validator's Ed25519 key.
    #[serde(with = "hex_bytes")]
    pub validator: [u8; 32],
    /// Ed25519 signature over [`signing_bytes`].
    #[serde(with = "hex_bytes")]
    pub signature: [u8; 64],
}

/// A block as stored: header, finality signatures, and the ids of its transactions in order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
pub struct Block {
    /// The header.
    pub header: BlockHeader,
    /// Validators' signatures (a quorum makes the block final).
    pub signatures: Vec<BlockSignature>,
    /// Transaction ids, in execution order.
    pub tx_ids: Vec<TxId>,
}

impl Block {
    /// Canonical bytes (version byte + Borsh).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = vec![1u8];
        borsh::to_writer(&mut out, self).expect("encoding to a Vec cannot fail");
        out
    }

    /// Decodes [`Block::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Block, String> {
        match bytes.split_first() {
            Some((1, rest)) => borsh::from_slice(rest).map_err(|e| e.to_string()),
            Some((v, _)) => Err(format!("unsupported block version {v}")),
            None => Err("empty".into()),
        }
    }
}

/// What a validator signs: a domain tag, the chain id, the header hash.
pub fn signing_bytes(chain_id: &str, header_hash: &Hash32) -> Vec<u8> {
    let mut out = b"consentry/v1/block-signature\0".to_vec();
    out.extend_from_slice(chain_id.as_bytes());
    out.push(0);
    out.extend_from_slice(&header_hash.0);
    out
}

/// Signs a header hash.
pub fn sign_header(key: &SigningKey, chain_id: &str, header_hash: &Hash32) -> BlockSignature {
    BlockSignature {
        validator: key.verifying_key().to_bytes(),
        signature: key.sign(&signing_bytes(chain_id, header_hash)).to_bytes(),
    }
}

/// Whether `sig` is a valid signature by `sig.validator` (strict Ed25519 verification).
pub fn signature_valid(sig: &BlockSignature, chain_id: &str, header_hash: &Hash32) -> bool {
    let Ok(key) = VerifyingKey::from_bytes(&sig.validator) else {
        return false;
    };
    key.verify_strict(
        &signing_bytes(chain_id, header_hash),
        &Signature::from_bytes(&sig.signature),
    )
    .is_ok()
}

/// Merkle root of transaction ids: SHA-256 binary tree with tagged leaves and nodes; an odd
/// node is promoted unchanged (never duplicated, so two lists cannot share a root).
pub fn tx_root(ids: &[TxId]) -> Hash32 {
    if ids.is_empty() {
        return Hash32(sha256_tagged(b"consentry/v1/txtree-empty", &[]));
    }
    let mut level: Vec<[u8; 32]> = ids
        .iter()
        .map(|id| sha256_tagged(b"consentry/v1/txtree-leaf", &id.0))
        .collect();
    while level.len() > 1 {
        level = level
            .chunks(2)
            .map(|pair| match pair {
                [l, r] => sha256_tagged(
                    b"consentry/v1/txtree-node",
                    &[l.as_slice(), r.as_slice()].concat(),
                ),
                [one] => *one,
                _ => unreachable!("chunks of two"),
            })
            .collect();
    }
    Hash32(level[0])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(i: u8) -> TxId {
        Hash32([i; 32])
    }

    #[test]
    fn tx_root_depends_on_every_id_and_order() {
        let ids: Vec<TxId> = (0..5).map(id).collect();
        let root = tx_root(&ids);
        let mut swapped = ids.clone();
        swapped.swap(1, 2);
        assert_ne!(tx_root(&swapped), root);
        assert_ne!(tx_root(&ids[..4]), root);
        // Duplicating the odd last id must not give the same root (no CVE-2012-2459 shape).
        let mut dup = ids.clone();
        dup.push(id(4));
        assert_ne!(tx_root(&dup), root);
        assert_ne!(tx_root(&[]), tx_root(&[id(0)]));
    }

    #[test]
    fn header_signatures_verify_and_bind_chain_and_header() {
        let key = SigningKey::from_bytes(&[3u8; 32]);
        let header = BlockHeader {
            height: 1,
            prev_hash: Hash32([1; 32]),
            tx_root: tx_root(&[]),
            registry_root: Hash32::default(),
            time_ms: 0,
            proposer: key.verifying_key().to_bytes(),
        };
        let h = header.hash();
        let sig = sign_header(&key, "test", &h);
        assert!(signature_valid(&sig, "test", &h));
        assert!(!signature_valid(&sig, "other-chain", &h));
        let mut h2 = header.clone();
        h2.height = 2;
        assert!(!signature_valid(&sig, "test", &h2.hash()));
        let mut bad = sig.clone();
        bad.signature[0] ^= 1;
        assert!(!signature_valid(&bad, "test", &h));
    }

    #[test]
    fn blocks_round_trip_and_reject_garbage() {
        let b = Block {
            header: BlockHeader {
                height: 9,
                prev_hash: Hash32([2; 32]),
                tx_root: tx_root(&[id(1)]),
                registry_root: Hash32([3; 32]),
                time_ms: 42,
                proposer: [4; 32],
            },
            signatures: vec![],
            tx_ids: vec![id(1)],
        };
        assert_eq!(Block::from_bytes(&b.to_bytes()).unwrap(), b);
        assert!(Block::from_bytes(&[]).is_err());
        assert!(Block::from_bytes(&[2, 0]).is_err());
        let bytes = b.to_bytes();
        assert!(Block::from_bytes(&bytes[..bytes.len() - 1]).is_err());
    }
}
