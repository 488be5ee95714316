//! A small, fast JOSE layer on OpenSSL.
//!
//! eSignet-rs signs and verifies compact JWS (ID and access tokens, client assertions, DPoP
//! proofs, userinfo), encrypts userinfo as compact JWE and reads relying parties' JWKs. This
//! crate covers exactly that subset, with OpenSSL as the single crypto backend:
//!
//! * [`Algorithm`]: the JWS algorithms we accept (`RS256`, `PS256`, `ES256`). Anything else,
//!   `none` and the HMAC family in particular, never verifies.
//! * [`PublicJwk`]: a validated public RSA (2048 bits or more) or EC P-256 key, with the RFC 7638
//!   thumbprint.
//! * [`PrivateKey`]: generation, PKCS#8 / PEM / JWK import and export, raw signing.
//! * [`sign_compact`], [`decode_compact`] and [`DecodedJws`]: compact JWS.
//! * [`encrypt_compact`] and [`decrypt_compact`]: compact JWE with `RSA-OAEP-256` / `A256GCM`.
//! * [`aead`]: AES-256-GCM sealing of data at rest.
//! * encoding, hashing and randomness helpers used across the service.
//!
//! Errors ([`JoseError`]) never carry key material or token contents.
#![deny(missing_docs)]

pub mod aead;
mod algorithm;
mod ecdsa;
mod error;
mod jwe;
mod jwk;
mod jws;
mod private_key;
mod util;

pub use algorithm::Algorithm;
pub use error::JoseError;
pub use jwe::{decrypt_compact, encrypt_compact};
pub use jwk::PublicJwk;
pub use jws::{DecodedJws, MAX_JWS_LEN, decode_compact, sign_compact};
pub use private_key::PrivateKey;
pub use util::{
    b64url_decode, b64url_encode, constant_time_eq, half_sha256_b64url, random_alphanumeric,
    random_bytes, random_id, sha3_256_b64url, sha256, sha256_b64url,
};
