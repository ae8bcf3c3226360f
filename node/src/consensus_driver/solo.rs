//! One validator deciding alone: it signs the precommit for its own block, which is a
//! complete 1-of-1 commit certificate (quorum of a one-validator set is one).

use custody_consensus::{
    CommitCertificate, CommitSignature, Ed25519Verifier, Height, Round, Signer, ValidatorIndex,
    ValidatorSet,
};
use custody_ledger::block::BlockCertificate;
use custody_ledger::hash::Hash32;
use ed25519_dalek::SigningKey;

/// Why this node cannot decide alone.
#[derive(Debug, thiserror::Error)]
pub enum SoloError {
    /// The key is not in the validator set.
    #[error("this node's key is not a validator of the chain")]
    NotAValidator,
    /// More than one validator: a quorum needs the others.
    #[error("the chain has {0} validators; deciding alone needs exactly one")]
    NotAlone(usize),
}

/// Certifies blocks as the chain's only validator.
pub struct SoloCertifier {
    key: SigningKey,
    index: ValidatorIndex,
    set: ValidatorSet,
    chain_id: String,
}

impl SoloCertifier {
    /// A certifier for `key`, which must be the one validator of `set`.
    pub fn new(key: SigningKey, set: ValidatorSet, chain_id: String) -> Result<Self, SoloError> {
        let index = set
            .index_of(&key.public_key())
            .ok_or(SoloError::NotAValidator)?;
        if set.len() != 1 {
            return Err(SoloError::NotAlone(set.len()));
        }
        Ok(SoloCertifier {
            key,
            index,
            set,
            chain_id,
        })
    }

    /// This validator's index (the proposer of every block).
    pub fn index(&self) -> ValidatorIndex {
        self.index
    }

    /// Decides `block_hash` at `height`: signs the precommit and checks the resulting
    /// certificate the way any third party will.
    pub fn certify(&self, height: u64, block_hash: Hash32) -> BlockCertificate {
        let mut cert = CommitCertificate {
            height: Height(height),
            round: Round(0),
            value: block_hash,
            signatures: Vec::new(),
        };
        let signature = self.key.sign(&cert.sign_bytes(&self.chain_id));
        cert.signatures.push(CommitSignature {
            validator: self.index,
            signature,
        });
        debug_assert!(cert
            .verify(&self.chain_id, &self.set, &Ed25519Verifier)
            .is_ok());
        cert
    }
}
