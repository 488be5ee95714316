//! Importing an existing PKCS#12 keystore (private key and certificate chain) as a signing key.
//!
//! The keystore is checked before anything is stored: the password opens it, it holds a private
//! key of a supported type (RSA 2048 to 4096 bits, EC P-256) and of the family the policy signs
//! with, its leaf certificate is for that key and valid now, and each further certificate
//! issued the one before it. The chain, leaf first, is published as the key's `x5c`.

use esignet_jose::PrivateKey;
use esignet_spi::StoreError;
use openssl::asn1::{Asn1Time, Asn1TimeRef};
use openssl::nid::Nid;
use openssl::pkcs12::Pkcs12;
use openssl::pkey::{Id, PKey, Private};
use openssl::x509::X509;
use time::OffsetDateTime;

use crate::record::{KeySigner, NewRecord, seal};
use crate::{KeyAlgorithm, KeyError, KeyInfo, KeyManager};

/// A keystore's key and chain, checked.
struct Checked {
    key: PrivateKey,
    family: KeyAlgorithm,
    /// Leaf first, each certificate followed by its issuer.
    chain: Vec<X509>,
    not_after: OffsetDateTime,
}

fn refuse(reason: impl Into<String>) -> KeyError {
    KeyError::Import(reason.into())
}

impl KeyManager {
    /// Imports the private key and certificate chain of a PKCS#12 keystore (`der`, opened with
    /// `password`) as a signing key of this application: into the vault when the manager has
    /// one, else sealed under the KEK like a generated key. The key is published at once and
    /// becomes current exactly like a rotated key: now, or after the policy's activation delay
    /// when a current key exists. It is valid until its certificate expires (automatic rotation
    /// replaces it `rotate_before` earlier).
    ///
    /// Fails with [`KeyError::Import`] when the keystore is refused (the message says why).
    pub async fn import_pkcs12(&self, der: &[u8], password: &str) -> Result<KeyInfo, KeyError> {
        let _guard = self.rotation.lock().await;
        let now = self.clock.now();
        let checked = check(der, password, now)?;
        if checked.family != self.policy.algorithm {
            return Err(refuse(format!(
                "the key is {}, but this deployment signs with {} keys (keys.algorithm): it \
                 would never become current",
                family_name(checked.family),
                family_name(self.policy.algorithm)
            )));
        }
        let activation = if self.snapshot().current.is_some()
            && self.policy.activation_delay > time::Duration::ZERO
        {
            now + self.policy.activation_delay
        } else {
            now
        };
        let activation = activation.replace_nanosecond(0).unwrap_or(activation);
        let vault = self.vault.clone();
        let sealer = self.sealer.clone();
        let application = self.application.clone();
        let (record, vault_key) = tokio::task::spawn_blocking(move || {
            let (signer, vault_key) = match &vault {
                Some(vault) => {
                    let key = vault.import(&application, &checked.key)?;
                    (KeySigner::Vault(key.clone()), Some(key))
                }
                None => (KeySigner::Software(checked.key.clone()), None),
            };
            let chain: Vec<&X509> = checked.chain.iter().collect();
            let record = seal(
                &NewRecord {
                    application: &application,
                    key: &signer,
                    chain: &chain,
                    not_before: activation,
                    not_after: checked.not_after,
                    created_at: now,
                },
                &sealer,
            );
            match record {
                Ok(record) => Ok((record, vault_key)),
                Err(error) => {
                    if let Some(key) = &vault_key {
                        discard_imported(key.as_ref());
                    }
                    Err(error)
                }
            }
        })
        .await
        .map_err(|_| KeyError::Task)??;
        let kid = record.kid.clone();
        if let Err(error) = self.store.insert_key(&record).await {
            if let Some(key) = vault_key {
                // Not stored: leave no orphan in the vault (best effort).
                let _ = tokio::task::spawn_blocking(move || discard_imported(key.as_ref())).await;
            }
            return Err(match error {
                StoreError::Conflict(_) => refuse(format!("key {kid} is already stored")),
                other => other.into(),
            });
        }
        tracing::info!(application = %self.application, kid = %kid, "imported a signing key");
        self.reload().await?;
        let loaded = self.snapshot();
        let key = loaded
            .keys
            .iter()
            .find(|key| key.kid == kid)
            .ok_or_else(|| {
                KeyError::Store(StoreError::Unavailable(
                    "the imported key was not listed".into(),
                ))
            })?;
        Ok(loaded.info(key))
    }
}

/// Deletes an imported vault key whose record could not be stored; a failure leaves an unused
/// key in the vault, which is logged (by label, never key material).
fn discard_imported(key: &dyn crate::VaultKey) {
    if let Err(error) = key.destroy() {
        tracing::warn!(reference = key.reference(), %error, "cannot delete an unused imported HSM key");
    }
}

fn family_name(family: KeyAlgorithm) -> &'static str {
    match family {
        KeyAlgorithm::Rsa2048 => "RSA",
        KeyAlgorithm::EcP256 => "EC P-256",
    }
}

/// Opens and checks the keystore.
fn check(der: &[u8], password: &str, now: OffsetDateTime) -> Result<Checked, KeyError> {
    let pkcs12 = Pkcs12::from_der(der).map_err(|_| refuse("the file is not a PKCS#12 keystore"))?;
    // OpenSSL reports a failed MAC check (the usual symptom of a wrong password) and a
    // corrupt file alike; the file parsed as PKCS#12 above, so the password is the suspect.
    let parsed = pkcs12
        .parse2(password)
        .map_err(|_| refuse("wrong password (or a damaged keystore)"))?;
    let pkey = parsed
        .pkey
        .ok_or_else(|| refuse("the keystore holds no private key"))?;
    let family = supported_family(&pkey)?;
    let mut others: Vec<X509> = parsed
        .ca
        .map(|stack| stack.into_iter().collect())
        .unwrap_or_default();
    // A keystore without the key's own certificate bag: the leaf is the first other one.
    let leaf = match parsed.cert {
        Some(cert) => cert,
        None if !others.is_empty() => others.remove(0),
        None => return Err(refuse("the keystore holds no certificate")),
    };
    let matches = leaf
        .public_key()
        .is_ok_and(|public| public.public_eq(&pkey));
    if !matches {
        return Err(refuse(
            "the private key does not match its certificate (the leaf certificate is for \
             another key)",
        ));
    }
    let now_asn1 = Asn1Time::from_unix(now.unix_timestamp())?;
    if leaf.not_after() <= now_asn1 {
        return Err(refuse(format!(
            "the certificate expired on {}",
            leaf.not_after()
        )));
    }
    if leaf.not_before() > now_asn1 {
        return Err(refuse(format!(
            "the certificate is not valid before {}",
            leaf.not_before()
        )));
    }
    let not_after = unix_time(leaf.not_after())?;
    let chain = order_chain(leaf, others)?;
    let key = PrivateKey::from_pkcs8_der(&zeroize::Zeroizing::new(pkey.private_key_to_pkcs8()?))
        .map_err(|error| refuse(format!("unusable private key: {error}")))?;
    Ok(Checked {
        key,
        family,
        chain,
        not_after,
    })
}

/// The family of a supported key; anything else is refused with what it is.
fn supported_family(pkey: &PKey<Private>) -> Result<KeyAlgorithm, KeyError> {
    match pkey.id() {
        Id::RSA => {
            let bits = pkey.bits();
            if (2048..=4096).contains(&bits) {
                Ok(KeyAlgorithm::Rsa2048)
            } else {
                Err(refuse(format!(
                    "unsupported key type: RSA {bits} bits (supported: RSA 2048 to 4096 bits, \
                     EC P-256)"
                )))
            }
        }
        Id::EC => {
            let curve = pkey.ec_key()?.group().curve_name();
            if curve == Some(Nid::X9_62_PRIME256V1) {
                Ok(KeyAlgorithm::EcP256)
            } else {
                let name = curve
                    .and_then(|nid| nid.short_name().ok())
                    .unwrap_or("unnamed curve");
                Err(refuse(format!(
                    "unsupported key type: EC {name} (supported: RSA 2048 to 4096 bits, EC \
                     P-256)"
                )))
            }
        }
        other => Err(refuse(format!(
            "unsupported key type {other:?} (supported: RSA 2048 to 4096 bits, EC P-256)"
        ))),
    }
}

/// The leaf followed by its issuers as far as the keystore has them; each link's signature is
/// verified, so a published `x5c` is a real chain. Certificates that issued none of the chain
/// are left out.
fn order_chain(leaf: X509, mut others: Vec<X509>) -> Result<Vec<X509>, KeyError> {
    let mut chain = vec![leaf];
    while let Some(last) = chain.last() {
        // A self-signed certificate ends the chain.
        if last.issuer_name_hash() == last.subject_name_hash() {
            break;
        }
        let position = others.iter().position(|candidate| {
            candidate.subject_name_hash() == last.issuer_name_hash()
                && candidate
                    .public_key()
                    .is_ok_and(|public| last.verify(&public).unwrap_or(false))
        });
        match position {
            Some(index) => chain.push(others.remove(index)),
            None => break,
        }
    }
    Ok(chain)
}

fn unix_time(time: &Asn1TimeRef) -> Result<OffsetDateTime, KeyError> {
    let epoch = Asn1Time::from_unix(0)?;
    let diff = epoch.diff(time)?;
    let seconds = i64::from(diff.days) * 86_400 + i64::from(diff.secs);
    OffsetDateTime::from_unix_timestamp(seconds)
        .map_err(|_| refuse("the certificate's expiry is out of range"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_time_reads_asn1_times() {
        let time = Asn1Time::from_unix(1_700_000_123).unwrap();
        assert_eq!(unix_time(&time).unwrap().unix_timestamp(), 1_700_000_123);
    }

    #[test]
    fn garbage_is_not_a_keystore() {
        let error = check(b"not der", "x", OffsetDateTime::UNIX_EPOCH)
            .err()
            .unwrap();
        assert!(
            error.to_string().contains("not a PKCS#12 keystore"),
            "{error}"
        );
    }
}
