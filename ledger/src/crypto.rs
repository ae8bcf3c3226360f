//! Member keys: ed25519 signing keys in PKCS#8 PEM, and signature checks.
//!
//! Key *generation* needs randomness and lives in the binaries; this module only converts
//! and verifies, so it stays pure.

pub use custody_consensus::{Ed25519Verifier, PublicKey, Signature, Signer, Verifier};
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use ed25519_dalek::SigningKey;

/// Why a key could not be read.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// Not a PKCS#8 PEM ed25519 private key.
    #[error("not an ed25519 PKCS#8 PEM private key: {0}")]
    BadPem(String),
}

/// Reads an ed25519 signing key from PKCS#8 PEM text.
pub fn signing_key_from_pem(pem: &str) -> Result<SigningKey, KeyError> {
    SigningKey::from_pkcs8_pem(pem).map_err(|e| KeyError::BadPem(e.to_string()))
}

/// Writes a signing key as PKCS#8 PEM text.
pub fn signing_key_to_pem(key: &SigningKey) -> String {
    key.to_pkcs8_pem(Default::default())
        .expect("PKCS#8 encoding of a 32-byte ed25519 key cannot fail")
        .to_string()
}

/// The public key of a signing key.
pub fn public_key(key: &SigningKey) -> PublicKey {
    PublicKey(key.verifying_key().to_bytes())
}

/// Strictly verifies `sig` by `key` over `msg`.
pub fn verify(key: &PublicKey, msg: &[u8], sig: &Signature) -> bool {
    Ed25519Verifier.verify(key, msg, sig)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_round_trip() {
        let k = SigningKey::from_bytes(&[3; 32]);
        let pem = signing_key_to_pem(&k);
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
        assert_eq!(signing_key_from_pem(&pem).unwrap().to_bytes(), k.to_bytes());
        assert!(signing_key_from_pem("garbage").is_err());
    }

    #[test]
    fn verify_rejects_forgery() {
        let k = SigningKey::from_bytes(&[3; 32]);
        let sig = k.sign(b"msg");
        assert!(verify(&public_key(&k), b"msg", &sig));
        assert!(!verify(&public_key(&k), b"msh", &sig));
    }
}
