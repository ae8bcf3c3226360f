//! Signing and verification, kept behind two small traits so the state machine stays
//! generic and its tests can run with cheap fake keys.

use crate::bytes::{PublicKey, Signature};

/// Something that signs consensus messages with one validator's key.
pub trait Signer {
    /// The public key matching the signatures this signer makes.
    fn public_key(&self) -> PublicKey;
    /// Signs `msg`.
    fn sign(&self, msg: &[u8]) -> Signature;
}

/// Checks signatures.
pub trait Verifier {
    /// True when `sig` is `key`'s signature over `msg`.
    fn verify(&self, key: &PublicKey, msg: &[u8], sig: &Signature) -> bool;
}

impl Signer for ed25519_dalek::SigningKey {
    fn public_key(&self) -> PublicKey {
        PublicKey(self.verifying_key().to_bytes())
    }
    fn sign(&self, msg: &[u8]) -> Signature {
        Signature(ed25519_dalek::Signer::sign(self, msg).to_bytes())
    }
}

/// Strict ed25519 verification (rejects small-order keys and non-canonical signatures,
/// so a signature has exactly one valid encoding).
#[derive(Clone, Copy, Debug, Default)]
pub struct Ed25519Verifier;

impl Verifier for Ed25519Verifier {
    fn verify(&self, key: &PublicKey, msg: &[u8], sig: &Signature) -> bool {
        let Ok(vk) = ed25519_dalek::VerifyingKey::from_bytes(&key.0) else {
            return false;
        };
        let sig = ed25519_dalek::Signature::from_bytes(&sig.0);
        vk.verify_strict(msg, &sig).is_ok()
    }
}
