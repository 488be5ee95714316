//! Signing-key lifecycle for eSignet-rs.
//!
//! A [`KeyManager`] owns the signing keys of one application (`OIDC_SERVICE` for tokens, the
//! mock identity system's KYC key, ...) and implements [`esignet_spi::TokenSigner`] over them:
//!
//! * keys are generated on first start (RSA-2048 or EC P-256 per [`KeyPolicy`]), certified by a
//!   shared `ROOT` CA key, and stored through [`esignet_spi::KeyStore`] with the private key
//!   sealed (AES-256-GCM) under a key derived from the [`KeyEncryptionKey`];
//! * the `kid` is the RFC 7638 thumbprint of the public key;
//! * rotation makes a new key current immediately and keeps older keys published in the JWKS,
//!   and verifying, until their certificate expires (esignet-service-api §3.2, §7.4);
//! * several instances may share a store; each reloads periodically to pick up the others'
//!   keys.
//!
//! Nothing private is stored or logged in clear.
#![deny(missing_docs)]

mod certificate;
mod error;
mod import;
mod kek;
mod manager;
mod policy;
mod record;
mod sealer;
mod vault;

pub use error::KeyError;
pub use kek::{KEK_LEN, KeyEncryptionKey};
pub use manager::{IssuedCertificate, KeyInfo, KeyManager, ROOT_APPLICATION, SigningKey};
pub use policy::{KeyAlgorithm, KeyPolicy};
pub use sealer::KeyWrapper;
pub use vault::{KeyVault, VaultKey};
