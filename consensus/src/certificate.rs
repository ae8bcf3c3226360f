//! The commit certificate: 2f+1 precommit signatures for one value at one height and round.
//! It is stored with each block and is what lets a third party check that the validators
//! decided the block, with nothing but the validator set.

use crate::bytes::Signature;
use crate::height::{Height, Round};
use crate::signing::Verifier;
use crate::validator_set::{ValidatorIndex, ValidatorSet};
use crate::vote::{vote_sign_bytes, VoteKind};
use serde::{Deserialize, Serialize};

/// One validator's precommit signature inside a certificate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitSignature {
    /// The signer's index in the validator set.
    pub validator: ValidatorIndex,
    /// Its signature over [`vote_sign_bytes`] for a precommit of the certified value.
    pub signature: Signature,
}

/// Proof that a quorum of validators precommitted `value` at `height` in `round`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitCertificate<V> {
    /// The decided height.
    pub height: Height,
    /// The round in which the quorum precommitted.
    pub round: Round,
    /// The decided value (for Custody, a block hash).
    pub value: V,
    /// Precommit signatures, sorted by validator index, no index twice.
    pub signatures: Vec<CommitSignature>,
}

/// Why a certificate does not prove a decision.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertificateError {
    /// Signatures must be listed by strictly increasing validator index.
    #[error(
        "signatures are not sorted by validator index, or a validator signs twice (index {0})"
    )]
    NotCanonical(ValidatorIndex),
    /// An index outside the validator set.
    #[error("validator index {index} is not in the set of {set_size}")]
    UnknownValidator {
        /// The index found.
        index: ValidatorIndex,
        /// The set's size.
        set_size: usize,
    },
    /// A signature that does not verify.
    #[error("precommit signature of validator {index} ({name}) does not verify")]
    BadSignature {
        /// The signer's index.
        index: ValidatorIndex,
        /// The signer's name.
        name: String,
    },
    /// Fewer than a quorum of signatures.
    #[error("{have} precommit signatures, a quorum needs {need}")]
    NoQuorum {
        /// Valid signatures present.
        have: usize,
        /// Quorum size.
        need: usize,
    },
    /// The certificate is for another height or value than expected.
    #[error("certificate is for height {found}, expected {expected}")]
    WrongHeight {
        /// Height expected by the caller.
        expected: Height,
        /// Height in the certificate.
        found: Height,
    },
    /// The certificate certifies another value than expected.
    #[error("certificate certifies another value than the block it is attached to")]
    WrongValue,
}

impl<V: AsRef<[u8]> + PartialEq> CommitCertificate<V> {
    /// The bytes each signer signed.
    pub fn sign_bytes(&self, chain_id: &str) -> Vec<u8> {
        vote_sign_bytes(
            chain_id,
            self.height,
            self.round,
            VoteKind::Precommit,
            Some(self.value.as_ref()),
        )
    }

    /// Checks that a quorum of distinct validators of `set` signed a precommit for this
    /// value, height and round on `chain_id`. Any bad signature fails the whole certificate
    /// (a certificate carries no junk).
    pub fn verify(
        &self,
        chain_id: &str,
        set: &ValidatorSet,
        verifier: &impl Verifier,
    ) -> Result<(), CertificateError> {
        let msg = self.sign_bytes(chain_id);
        let mut last: Option<ValidatorIndex> = None;
        for s in &self.signatures {
            if last.is_some_and(|l| s.validator <= l) {
                return Err(CertificateError::NotCanonical(s.validator));
            }
            last = Some(s.validator);
            let v = set
                .get(s.validator)
                .ok_or(CertificateError::UnknownValidator {
                    index: s.validator,
                    set_size: set.len(),
                })?;
            if !verifier.verify(&v.public_key, &msg, &s.signature) {
                return Err(CertificateError::BadSignature {
                    index: s.validator,
                    name: v.name.clone(),
                });
            }
        }
        if self.signatures.len() < set.quorum() {
            return Err(CertificateError::NoQuorum {
                have: self.signatures.len(),
                need: set.quorum(),
            });
        }
        Ok(())
    }

    /// [`verify`](Self::verify), and that the certificate is for `height` and `value`.
    pub fn verify_for(
        &self,
        chain_id: &str,
        set: &ValidatorSet,
        verifier: &impl Verifier,
        height: Height,
        value: &V,
    ) -> Result<(), CertificateError> {
        if self.height != height {
            return Err(CertificateError::WrongHeight {
                expected: height,
                found: self.height,
            });
        }
        if &self.value != value {
            return Err(CertificateError::WrongValue);
        }
        self.verify(chain_id, set, verifier)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signing::{Ed25519Verifier, Signer};
    use crate::validator_set::Validator;
    use ed25519_dalek::SigningKey;

    fn keys(n: usize) -> (Vec<SigningKey>, ValidatorSet) {
        let keys: Vec<SigningKey> = (0..n)
            .map(|i| SigningKey::from_bytes(&[i as u8 + 1; 32]))
            .collect();
        let set = ValidatorSet::new(
            keys.iter()
                .enumerate()
                .map(|(i, k)| Validator {
                    name: format!("v{i}"),
                    public_key: k.public_key(),
                })
                .collect(),
        )
        .unwrap();
        (keys, set)
    }

    fn cert(keys: &[SigningKey], signers: &[u16]) -> CommitCertificate<[u8; 32]> {
        let mut c = CommitCertificate {
            height: Height(5),
            round: Round(1),
            value: [9u8; 32],
            signatures: vec![],
        };
        let msg = c.sign_bytes("chain");
        c.signatures = signers
            .iter()
            .map(|&i| CommitSignature {
                validator: i,
                signature: keys[usize::from(i)].sign(&msg),
            })
            .collect();
        c
    }

    #[test]
    fn quorum_of_valid_signatures_verifies() {
        let (k, set) = keys(4);
        cert(&k, &[0, 1, 3])
            .verify("chain", &set, &Ed25519Verifier)
            .unwrap();
        cert(&k, &[0, 1, 2, 3])
            .verify("chain", &set, &Ed25519Verifier)
            .unwrap();
    }

    #[test]
    fn one_signature_too_few_fails() {
        let (k, set) = keys(4);
        assert_eq!(
            cert(&k, &[0, 2]).verify("chain", &set, &Ed25519Verifier),
            Err(CertificateError::NoQuorum { have: 2, need: 3 })
        );
    }

    #[test]
    fn duplicate_unknown_and_forged_signers_fail() {
        let (k, set) = keys(4);
        let mut c = cert(&k, &[0, 1, 2]);
        c.signatures[2] = c.signatures[1].clone();
        assert_eq!(
            c.verify("chain", &set, &Ed25519Verifier),
            Err(CertificateError::NotCanonical(1))
        );

        let (other, _) = keys(6);
        let c = cert(&other, &[0, 1, 5]);
        assert!(matches!(
            c.verify("chain", &set, &Ed25519Verifier),
            Err(CertificateError::UnknownValidator { index: 5, .. })
        ));

        let mut c = cert(&k, &[0, 1, 2]);
        c.signatures[1].signature = c.signatures[0].signature;
        assert!(matches!(
            c.verify("chain", &set, &Ed25519Verifier),
            Err(CertificateError::BadSignature { index: 1, .. })
        ));
    }

    #[test]
    fn other_chain_or_value_fails() {
        let (k, set) = keys(4);
        let c = cert(&k, &[0, 1, 2]);
        assert!(c.verify("other", &set, &Ed25519Verifier).is_err());
        let mut c2 = c.clone();
        c2.value = [8; 32];
        assert!(c2.verify("chain", &set, &Ed25519Verifier).is_err());
        assert_eq!(
            c.verify_for("chain", &set, &Ed25519Verifier, Height(6), &[9; 32]),
            Err(CertificateError::WrongHeight {
                expected: Height(6),
                found: Height(5)
            })
        );
    }
}
