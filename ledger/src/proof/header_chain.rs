//! Certified headers and the check that a run of them extends the chain from genesis: each
//! header is of the format this build reads, names its parent's hash, heights follow one
//! another, and each carries a commit certificate for its own hash from a quorum of the
//! genesis validators.

use crate::block::{BlockCertificate, BlockHeader, HeaderError};
use crate::genesis::Genesis;
use crate::hash::Hash32;
use custody_consensus::{CertificateError, Ed25519Verifier, Height, ValidatorSet};
use serde::{Deserialize, Serialize};

/// A block header with the certificate that decided it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertifiedHeader {
    /// The header.
    pub header: BlockHeader,
    /// 2f+1 precommits for the header's hash.
    pub certificate: BlockCertificate,
}

impl CertifiedHeader {
    /// Checks that the header is of the format this build reads
    /// ([`BLOCK_FORMAT_VERSION`](crate::block::BLOCK_FORMAT_VERSION)), then that the
    /// certificate is a quorum of `set` (the genesis validators) for this header's hash at
    /// its height.
    pub fn verify(&self, genesis: &Genesis, set: &ValidatorSet) -> Result<(), HeaderError> {
        self.header.check_version()?;
        self.certificate.verify_for(
            &genesis.chain_id,
            set,
            &Ed25519Verifier,
            Height(self.header.height),
            &self.header.hash(),
        )?;
        Ok(())
    }
}

/// Why a run of headers is not a certified extension of the chain.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainError {
    /// The genesis has no usable validator set.
    #[error("the genesis has no valid validator set")]
    NoValidators,
    /// A header is of a format this build does not read.
    #[error("header {height} is in block header format version {found}; this build reads version {supported}")]
    Version {
        /// Height.
        height: u64,
        /// The header's format version.
        found: u16,
        /// The one this build reads.
        supported: u16,
    },
    /// A header is for another chain.
    #[error("header {height} is for chain {found:?}, not {expected:?}")]
    WrongChain {
        /// Height.
        height: u64,
        /// The genesis chain id.
        expected: String,
        /// The header's.
        found: String,
    },
    /// Heights do not follow one another.
    #[error("expected header {expected}, got header {found}")]
    Gap {
        /// The next height.
        expected: u64,
        /// The header's.
        found: u64,
    },
    /// A header does not name the previous header as its parent.
    #[error("header {height} names parent {found}, but the previous block is {expected}")]
    WrongParent {
        /// Height.
        height: u64,
        /// Hash of the previous header (or genesis).
        expected: Hash32,
        /// The header's parent field.
        found: Hash32,
    },
    /// A header's time does not move forward.
    #[error("header {height} has time {time_ms}, not after its parent's {parent_ms}")]
    TimeNotAfterParent {
        /// Height.
        height: u64,
        /// Its time.
        time_ms: u64,
        /// The parent's.
        parent_ms: u64,
    },
    /// A certificate does not prove the header was decided.
    #[error("header {height}: {source}")]
    Certificate {
        /// Height.
        height: u64,
        /// Why.
        source: CertificateError,
    },
}

/// Checks that `headers` extend the chain: the first must be the child of `parent` (the
/// genesis hash for height 1) at `parent_height + 1`, each next one the child of the one
/// before, every one certified by a quorum of the genesis validators. Returns the hash of
/// the last header (or `parent` if there are none).
pub fn verify_header_chain(
    genesis: &Genesis,
    parent: Hash32,
    parent_height: u64,
    parent_time_ms: u64,
    headers: &[CertifiedHeader],
) -> Result<Hash32, ChainError> {
    let set = genesis.validator_set().ok_or(ChainError::NoValidators)?;
    let (mut prev, mut prev_time) = (parent, parent_time_ms);
    for (i, ch) in headers.iter().enumerate() {
        let h = &ch.header;
        h.check_version().map_err(|e| chain_error(h.height, e))?;
        // No height follows u64::MAX: a header after it is a gap, not an overflow.
        let Some(expected) = parent_height.checked_add(i as u64 + 1) else {
            return Err(ChainError::Gap {
                expected: u64::MAX,
                found: h.height,
            });
        };
        if h.chain_id != genesis.chain_id {
            return Err(ChainError::WrongChain {
                height: h.height,
                expected: genesis.chain_id.clone(),
                found: h.chain_id.clone(),
            });
        }
        if h.height != expected {
            return Err(ChainError::Gap {
                expected,
                found: h.height,
            });
        }
        if h.parent != prev {
            return Err(ChainError::WrongParent {
                height: h.height,
                expected: prev,
                found: h.parent,
            });
        }
        if h.time_ms <= prev_time && expected > 1 {
            return Err(ChainError::TimeNotAfterParent {
                height: h.height,
                time_ms: h.time_ms,
                parent_ms: prev_time,
            });
        }
        let hash = h.hash();
        ch.verify(genesis, &set)
            .map_err(|e| chain_error(h.height, e))?;
        prev = hash;
        prev_time = h.time_ms;
    }
    Ok(prev)
}

/// The [`ChainError`] for header `height` failing `e`.
fn chain_error(height: u64, e: HeaderError) -> ChainError {
    match e {
        HeaderError::Version { found, supported } => ChainError::Version {
            height,
            found,
            supported,
        },
        HeaderError::Certificate(source) => ChainError::Certificate { height, source },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::block::Block;
    use crate::genesis::tests::demo;
    use custody_consensus::{CommitCertificate, CommitSignature, Round, Signer};
    use ed25519_dalek::SigningKey;

    /// A chain of `n` empty blocks certified by the demo genesis's one validator.
    fn chain(n: u64) -> (Genesis, Vec<CertifiedHeader>, SigningKey) {
        let (g, keys) = demo();
        let validator = keys[4].clone();
        let mut out = Vec::new();
        let mut parent = g.hash();
        for h in 1..=n {
            let block = Block::new(&g.chain_id, h, parent, 1_000 + h, 0, vec![]);
            out.push(certify(&g, &validator, block.header));
            parent = out.last().unwrap().header.hash();
        }
        (g, out, validator)
    }

    fn certify(g: &Genesis, key: &SigningKey, header: BlockHeader) -> CertifiedHeader {
        let mut certificate = CommitCertificate {
            height: Height(header.height),
            round: Round(0),
            value: header.hash(),
            signatures: vec![],
        };
        let sig = key.sign(&certificate.sign_bytes(&g.chain_id));
        certificate.signatures.push(CommitSignature {
            validator: 0,
            signature: sig,
        });
        CertifiedHeader {
            header,
            certificate,
        }
    }

    #[test]
    fn a_certified_chain_verifies() {
        let (g, hs, _) = chain(5);
        let last = verify_header_chain(&g, g.hash(), 0, 0, &hs).unwrap();
        assert_eq!(last, hs[4].header.hash());
        // A suffix verifies from its parent.
        verify_header_chain(&g, hs[1].header.hash(), 2, hs[1].header.time_ms, &hs[2..]).unwrap();
    }

    #[test]
    fn gaps_forks_and_forged_certificates_fail() {
        let (g, hs, key) = chain(4);
        let mut gap = hs.clone();
        gap.remove(1);
        assert!(matches!(
            verify_header_chain(&g, g.hash(), 0, 0, &gap),
            Err(ChainError::Gap {
                expected: 2,
                found: 3
            })
        ));

        // A different block at height 3, certified by the real validator, does not extend
        // the chain's block 3's parent link for block 4.
        let mut fork = hs.clone();
        let mut other = fork[2].header.clone();
        other.tx_count = 7;
        fork[2] = certify(&g, &key, other);
        assert!(matches!(
            verify_header_chain(&g, g.hash(), 0, 0, &fork),
            Err(ChainError::WrongParent { height: 4, .. })
        ));

        // A certificate signed by someone who is not a validator.
        let mut forged = hs.clone();
        forged[3] = certify(
            &g,
            &SigningKey::from_bytes(&[42; 32]),
            forged[3].header.clone(),
        );
        assert!(matches!(
            verify_header_chain(&g, g.hash(), 0, 0, &forged),
            Err(ChainError::Certificate { height: 4, .. })
        ));

        // A certificate for another header.
        let mut swapped = hs.clone();
        swapped[2].certificate = hs[1].certificate.clone();
        assert!(matches!(
            verify_header_chain(&g, g.hash(), 0, 0, &swapped),
            Err(ChainError::Certificate { height: 3, .. })
        ));
    }

    #[test]
    fn a_header_of_another_format_is_refused_even_when_certified() {
        let (g, hs, key) = chain(3);
        let set = g.validator_set().unwrap();
        hs[1].verify(&g, &set).unwrap();
        let mut other = hs[1].header.clone();
        other.version = 9;
        // The real validator certified it: only the version is wrong.
        let certified = certify(&g, &key, other);
        let e = certified.verify(&g, &set).unwrap_err();
        assert_eq!(
            e,
            HeaderError::Version {
                found: 9,
                supported: crate::block::BLOCK_FORMAT_VERSION
            }
        );
        let mut run = hs.clone();
        run[1] = certified;
        let e = verify_header_chain(&g, g.hash(), 0, 0, &run).unwrap_err();
        assert_eq!(
            e,
            ChainError::Version {
                height: 2,
                found: 9,
                supported: 1
            }
        );
        assert_eq!(
            e.to_string(),
            "header 2 is in block header format version 9; this build reads version 1"
        );
    }
}
