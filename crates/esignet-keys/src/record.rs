//! Converting between stored [`KeyRecord`]s (private key sealed under the KEK) and usable keys.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use esignet_jose::{Algorithm, PrivateKey, PublicJwk};
use std::sync::Arc;

use esignet_spi::{KeyRecord, SigningCertificate};
use openssl::x509::X509;
use serde_json::{Map, Value};
use time::OffsetDateTime;
use zeroize::Zeroizing;

use crate::sealer::Sealer;
use crate::vault::{VaultKey, reference_bytes, stored_reference};
use crate::{KeyAlgorithm, KeyError, KeyVault};

/// A private key ready to sign: decrypted in memory, or held in a vault.
#[derive(Clone)]
pub(crate) enum KeySigner {
    /// Decrypted from its sealed record; exists in clear only in this process's memory.
    Software(PrivateKey),
    /// Held in a [`KeyVault`]; only a handle is here.
    Vault(Arc<dyn VaultKey>),
}

impl KeySigner {
    pub(crate) fn public_jwk(&self) -> PublicJwk {
        match self {
            KeySigner::Software(key) => key.public_jwk(),
            KeySigner::Vault(key) => key.public_key().clone(),
        }
    }

    pub(crate) fn family(&self) -> KeyAlgorithm {
        KeyAlgorithm::of_public(&self.public_jwk())
    }

    /// The record form of the private part: sealed by `sealer`, or the vault reference.
    fn stored_form(&self, sealer: &Sealer, kid: &str) -> Result<Vec<u8>, KeyError> {
        match self {
            KeySigner::Software(key) => {
                let pkcs8 = key.to_pkcs8_der()?;
                sealer.seal(&pkcs8, kid.as_bytes())
            }
            KeySigner::Vault(key) => Ok(reference_bytes(key.as_ref())),
        }
    }
}

/// Whether a stored record's private key is held in a vault.
pub(crate) fn is_vault_record(record: &KeyRecord) -> bool {
    stored_reference(&record.encrypted_private_key).is_some()
}

/// The label under which the private-key sealing key is derived from the KEK.
pub(crate) const SEALING_LABEL: &str = "esignet-keys/private-key-sealing/v1";

/// A decrypted, validated key with everything the read paths need precomputed.
pub(crate) struct LoadedKey {
    pub(crate) kid: String,
    pub(crate) jws_algorithm: Algorithm,
    pub(crate) family: KeyAlgorithm,
    pub(crate) private: KeySigner,
    /// The public key with `kid`, for verification.
    pub(crate) public: PublicJwk,
    pub(crate) leaf_certificate_pem: String,
    /// The parsed leaf certificate: the issuer of certificates this key signs.
    pub(crate) leaf_certificate: X509,
    /// The JWKS entry (RFC 7517 with `x5c`, `x5t#S256` and `exp`).
    pub(crate) jwk: Value,
    pub(crate) not_before: OffsetDateTime,
    pub(crate) not_after: OffsetDateTime,
}

impl LoadedKey {
    /// Whether the key may sign or verify at `now`.
    pub(crate) fn is_valid_at(&self, now: OffsetDateTime) -> bool {
        self.not_before <= now && now < self.not_after
    }

    pub(crate) fn signing_certificate(&self) -> SigningCertificate {
        SigningCertificate {
            key_id: self.kid.clone(),
            certificate_pem: self.leaf_certificate_pem.clone(),
            issued_at: self.not_before,
            expires_at: self.not_after,
        }
    }
}

/// Everything needed to write one key record.
pub(crate) struct NewRecord<'a> {
    pub(crate) application: &'a str,
    pub(crate) key: &'a KeySigner,
    /// Leaf first.
    pub(crate) chain: &'a [&'a X509],
    pub(crate) not_before: OffsetDateTime,
    pub(crate) not_after: OffsetDateTime,
    pub(crate) created_at: OffsetDateTime,
}

/// Seals the private key (AAD = kid) into a record; for a vault key, records its reference
/// instead.
pub(crate) fn seal(new: &NewRecord<'_>, sealer: &Sealer) -> Result<KeyRecord, KeyError> {
    let kid = new.key.public_jwk().thumbprint();
    let encrypted_private_key = new.key.stored_form(sealer, &kid)?;
    let mut certificate_pem = String::new();
    for certificate in new.chain {
        let pem = certificate.to_pem()?;
        certificate_pem.push_str(
            std::str::from_utf8(&pem)
                .map_err(|_| KeyError::Crypto("certificate PEM is not UTF-8".into()))?,
        );
    }
    Ok(KeyRecord {
        kid,
        application: new.application.to_owned(),
        algorithm: new.key.family().record_name().to_owned(),
        encrypted_private_key,
        certificate_pem,
        not_before: new.not_before,
        not_after: new.not_after,
        created_at: new.created_at,
    })
}

/// Decrypts and checks a record: the key must be opened by `sealer` with the record's
/// kid as AAD (or, for a vault record, be found in `vault`), its thumbprint must be the kid,
/// its family must be the recorded one, and the first certificate must be for this key.
pub(crate) fn open(
    record: &KeyRecord,
    sealer: &Sealer,
    vault: Option<&dyn KeyVault>,
) -> Result<(KeySigner, KeyAlgorithm, Vec<X509>), KeyError> {
    let corrupt = |reason| KeyError::Corrupt {
        kid: record.kid.clone(),
        reason,
    };
    let key = match stored_reference(&record.encrypted_private_key) {
        Some(reference) => {
            let vault = vault.ok_or_else(|| {
                KeyError::Vault(format!(
                    "key {} is held in an HSM, but no HSM is configured (keys.backend)",
                    record.kid
                ))
            })?;
            KeySigner::Vault(vault.find(reference)?)
        }
        None => {
            let pkcs8: Zeroizing<Vec<u8>> = sealer.open(
                &record.encrypted_private_key,
                record.kid.as_bytes(),
                &record.kid,
            )?;
            KeySigner::Software(
                PrivateKey::from_pkcs8_der(&pkcs8)
                    .map_err(|_| corrupt("unreadable private key"))?,
            )
        }
    };
    let public = key.public_jwk();
    if public.thumbprint() != record.kid {
        return Err(corrupt("kid is not the key's thumbprint"));
    }
    let family = KeyAlgorithm::from_record_name(&record.algorithm)
        .ok_or_else(|| corrupt("unknown algorithm"))?;
    if family != key.family() {
        return Err(corrupt("algorithm does not match the key"));
    }
    let chain = X509::stack_from_pem(record.certificate_pem.as_bytes())
        .map_err(|_| corrupt("unreadable certificate chain"))?;
    let leaf_matches = chain
        .first()
        .and_then(|leaf| leaf.public_key().ok())
        .is_some_and(|leaf_key| leaf_key.public_eq(public.openssl_pkey()));
    if !leaf_matches {
        return Err(corrupt("certificate is not for this key"));
    }
    Ok((key, family, chain))
}

/// Opens a record of a signing application and precomputes its JWKS entry. Keys of the policy's
/// family sign with `policy_algorithm`; keys left over from another family keep that family's
/// default algorithm (they stay verifiable until they expire).
pub(crate) fn load(
    record: &KeyRecord,
    sealer: &Sealer,
    vault: Option<&dyn KeyVault>,
    policy_algorithm: Algorithm,
) -> Result<LoadedKey, KeyError> {
    let (private, family, chain) = open(record, sealer, vault)?;
    let jws_algorithm = if KeyAlgorithm::for_jws(policy_algorithm) == family {
        policy_algorithm
    } else {
        family.default_jws()
    };
    let public = private.public_jwk().with_kid(record.kid.clone());
    let leaf = chain.first().ok_or_else(|| KeyError::Corrupt {
        kid: record.kid.clone(),
        reason: "empty certificate chain",
    })?;
    let leaf_der = leaf.to_der()?;
    let leaf_certificate_pem = String::from_utf8(leaf.to_pem()?)
        .map_err(|_| KeyError::Crypto("certificate PEM is not UTF-8".into()))?;
    let mut chain_der = Vec::with_capacity(chain.len());
    for certificate in &chain {
        chain_der.push(certificate.to_der()?);
    }

    // Member order follows eSignet's JWKS entries (esignet-service-api §3.2).
    let mut jwk = Map::new();
    jwk.insert("kid".into(), Value::from(record.kid.as_str()));
    jwk.insert("kty".into(), Value::from(public.kty()));
    jwk.insert("use".into(), Value::from("sig"));
    jwk.insert("alg".into(), Value::from(jws_algorithm.as_str()));
    jwk.insert("exp".into(), Value::from(record.not_after.unix_timestamp()));
    jwk.insert(
        "x5c".into(),
        Value::from(
            chain_der
                .iter()
                .map(|der| STANDARD.encode(der))
                .collect::<Vec<_>>(),
        ),
    );
    jwk.insert(
        "x5t#S256".into(),
        Value::from(esignet_jose::sha256_b64url(&leaf_der)),
    );
    if let Value::Object(members) = private.public_jwk().to_json() {
        for (name, value) in members {
            if name != "kty" {
                jwk.insert(name, value);
            }
        }
    }

    Ok(LoadedKey {
        kid: record.kid.clone(),
        jws_algorithm,
        family,
        private,
        public,
        leaf_certificate_pem,
        leaf_certificate: leaf.clone(),
        jwk: Value::Object(jwk),
        not_before: record.not_before,
        not_after: record.not_after,
    })
}
