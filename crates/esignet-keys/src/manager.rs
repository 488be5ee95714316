//! [`KeyManager`]: one application's signing keys, from the store to signatures and the JWKS.

use std::sync::{Arc, PoisonError, RwLock};

use esignet_jose::{Algorithm, PrivateKey, PublicJwk, decode_compact, sign_compact};
use esignet_spi::{
    Clock, KeyRecord, KeyStore, SignerError, SigningCertificate, StoreError, TokenSigner,
};
use openssl::x509::X509;
use serde_json::{Map, Value};
use time::OffsetDateTime;
use tokio::sync::{Mutex, watch};

use crate::certificate::{issue_for_public_key, issue_leaf, self_signed_root};
use crate::record::{
    KeySigner, LoadedKey, NewRecord, SEALING_LABEL, is_vault_record, load, open, seal,
};
use crate::sealer::Sealer;
use crate::{KeyAlgorithm, KeyEncryptionKey, KeyError, KeyPolicy, KeyVault};

/// The application id of the shared certificate-issuing keys.
pub const ROOT_APPLICATION: &str = "ROOT";

/// A public summary of one key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyInfo {
    /// The key id (RFC 7638 thumbprint of the public key).
    pub kid: String,
    /// The algorithm this key signs with.
    pub algorithm: Algorithm,
    /// Start of validity.
    pub not_before: OffsetDateTime,
    /// End of validity: the key is unpublished and no longer verifies after this.
    pub not_after: OffsetDateTime,
    /// Whether new signatures are made with this key.
    pub is_current: bool,
}

/// The current signing key, for callers that build their own JWS headers (for example a
/// `jwk` or extra `typ` members). Sign with `algorithm` and put `kid` in the header.
#[derive(Debug, Clone)]
pub struct SigningKey {
    /// The key id to put in the JWS header.
    pub kid: String,
    /// The algorithm to sign with.
    pub algorithm: Algorithm,
    /// The private key.
    pub key: PrivateKey,
}

/// A certificate [`KeyManager::issue_certificate`] made for another party's key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedCertificate {
    /// The PEM certificate.
    pub pem: String,
    /// Its `x5t#S256` thumbprint: base64url(SHA-256(DER)).
    pub thumbprint: String,
    /// Start of validity.
    pub not_before: OffsetDateTime,
    /// End of validity.
    pub not_after: OffsetDateTime,
}

/// The keys as last read from the store: every unexpired key, newest first, and the current
/// one. Replaced as a whole, never mutated, so readers need no lock beyond cloning the `Arc`.
pub(crate) struct Loaded {
    pub(crate) keys: Vec<Arc<LoadedKey>>,
    pub(crate) current: Option<Arc<LoadedKey>>,
}

impl Loaded {
    fn current_kid(&self) -> Option<&str> {
        self.current.as_ref().map(|key| key.kid.as_str())
    }

    pub(crate) fn info(&self, key: &LoadedKey) -> KeyInfo {
        KeyInfo {
            kid: key.kid.clone(),
            algorithm: key.jws_algorithm,
            not_before: key.not_before,
            not_after: key.not_after,
            is_current: self.current_kid() == Some(key.kid.as_str()),
        }
    }

    /// A cheap fingerprint of what readers can observe, to notify only on real changes.
    fn same_keys_as(&self, other: &Loaded) -> bool {
        self.current_kid() == other.current_kid()
            && self.keys.len() == other.keys.len()
            && self
                .keys
                .iter()
                .zip(&other.keys)
                .all(|(left, right)| left.kid == right.kid)
    }
}

/// The signing keys of one application (for example `OIDC_SERVICE`).
///
/// Keys live in a [`KeyStore`] with their private part sealed under the key-encryption key, and
/// each carries a certificate issued by the shared `ROOT` key. The current key signs; every key
/// not yet past its `not_after` stays in the JWKS and keeps verifying, so tokens signed before a
/// rotation remain valid for their lifetime. Several service instances can share one store:
/// each picks the newest usable key the store lists, and [`KeyManager::reload`] (run
/// periodically by [`KeyManager::spawn_rotation`]) picks up keys another instance generated.
///
/// Reads (signing, JWKS) take a short read lock to clone an `Arc` and never wait on the store.
pub struct KeyManager {
    pub(crate) store: Arc<dyn KeyStore>,
    pub(crate) sealer: Sealer,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) application: String,
    pub(crate) policy: KeyPolicy,
    /// Where new keys are generated; `None`: in software, sealed under the KEK.
    pub(crate) vault: Option<Arc<dyn KeyVault>>,
    state: RwLock<Arc<Loaded>>,
    /// Serializes generation in this process, so two due-checks cannot both rotate.
    pub(crate) rotation: Mutex<()>,
    changes: watch::Sender<u64>,
}

impl std::fmt::Debug for KeyManager {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("KeyManager")
            .field("application", &self.application)
            .field("policy", &self.policy)
            .field("current", &self.snapshot().current_kid())
            .finish_non_exhaustive()
    }
}

impl KeyManager {
    /// Loads the keys of `application`, generating a first key (and, if needed, a `ROOT` key
    /// of the same family) when none is usable now.
    ///
    /// Fails with [`KeyError::WrongKek`] if a stored key does not decrypt under `kek`, with
    /// [`KeyError::InvalidPolicy`] for an inconsistent policy or an application named `ROOT`.
    pub async fn open(
        store: Arc<dyn KeyStore>,
        kek: Arc<KeyEncryptionKey>,
        clock: Arc<dyn Clock>,
        application: &str,
        policy: KeyPolicy,
    ) -> Result<Arc<KeyManager>, KeyError> {
        Self::open_with_vault(store, kek, None, clock, application, policy).await
    }

    /// As [`KeyManager::open`], but with `vault` new keys (and the `ROOT` issuer they chain
    /// to) are generated and used inside the vault (an HSM): the store holds their
    /// certificates and a reference, never the private key. Keys stored earlier in software
    /// stay usable (they still decrypt under `kek`) until they expire or are rotated out.
    pub async fn open_with_vault(
        store: Arc<dyn KeyStore>,
        kek: Arc<KeyEncryptionKey>,
        vault: Option<Arc<dyn KeyVault>>,
        clock: Arc<dyn Clock>,
        application: &str,
        policy: KeyPolicy,
    ) -> Result<Arc<KeyManager>, KeyError> {
        policy.validate()?;
        if application.is_empty() || application == ROOT_APPLICATION {
            return Err(KeyError::InvalidPolicy(
                "the application must be named and must not be ROOT",
            ));
        }
        let manager = Arc::new(KeyManager {
            store,
            sealer: kek.sealer(SEALING_LABEL),
            clock,
            application: application.to_owned(),
            policy,
            vault,
            state: RwLock::new(Arc::new(Loaded {
                keys: Vec::new(),
                current: None,
            })),
            rotation: Mutex::new(()),
            changes: watch::channel(0).0,
        });
        manager.reload().await?;
        if manager.snapshot().current.is_none() {
            let _guard = manager.rotation.lock().await;
            manager.generate_and_reload().await?;
        }
        Ok(manager)
    }

    /// The application id these keys belong to.
    pub fn application(&self) -> &str {
        &self.application
    }

    /// Generates a new key, which becomes current at once, or after the policy's
    /// [`KeyPolicy::activation_delay`] (published meanwhile). Earlier keys stay published and
    /// verifiable until their `not_after`. Returns the new key (or, if another instance's
    /// insert won a conflict, the key that is current after reloading).
    pub async fn rotate(&self) -> Result<KeyInfo, KeyError> {
        let _guard = self.rotation.lock().await;
        self.generate_and_reload().await
    }

    /// Rotates if no key is usable now or the current key expires within the policy's
    /// `rotate_before`; returns the new key, or `None` when no rotation was due.
    pub async fn rotate_if_due(&self) -> Result<Option<KeyInfo>, KeyError> {
        let _guard = self.rotation.lock().await;
        let now = self.clock.now();
        let loaded = self.snapshot();
        // A replacement already published and waiting for its activation time is enough.
        let replacement_pending = loaded.keys.iter().any(|key| key.not_before > now);
        let is_due = !replacement_pending
            && match &loaded.current {
                Some(current) => {
                    !current.is_valid_at(now)
                        || current.not_after - now <= self.policy.rotate_before
                }
                None => true,
            };
        if !is_due {
            return Ok(None);
        }
        self.generate_and_reload().await.map(Some)
    }

    /// Re-reads the application's keys from the store (to pick up keys another instance wrote)
    /// and makes the newest usable one current. The previous state stays in place on error.
    pub async fn reload(&self) -> Result<(), KeyError> {
        let records = self.store.list_keys(&self.application).await?;
        let now = self.clock.now();
        let live: Vec<KeyRecord> = records
            .into_iter()
            .filter(|record| record.not_after > now)
            .collect();
        let keys = if (self.vault.is_some() && live.iter().any(is_vault_record))
            || self.sealer.is_blocking()
        {
            // Finding keys in a vault, or opening them through the HSM's KEK, is blocking I/O.
            let sealer = self.sealer.clone();
            let vault = self.vault.clone();
            let algorithm = self.policy.jws_algorithm;
            tokio::task::spawn_blocking(move || load_all(&live, &sealer, vault, algorithm))
                .await
                .map_err(|_| KeyError::Task)??
        } else {
            load_all(&live, &self.sealer, None, self.policy.jws_algorithm)?
        };
        // The store lists newest first; the first key of the policy's family that is valid now
        // is current, which every instance sharing the store agrees on.
        let current = keys
            .iter()
            .find(|key| key.family == self.policy.algorithm && key.is_valid_at(now))
            .cloned();
        self.install(Loaded { keys, current });
        Ok(())
    }

    /// Every key that is not yet expired, newest first.
    pub fn keys(&self) -> Vec<KeyInfo> {
        let now = self.clock.now();
        let loaded = self.snapshot();
        loaded
            .keys
            .iter()
            .filter(|key| now < key.not_after)
            .map(|key| loaded.info(key))
            .collect()
    }

    /// The current signing key, or `None` when no key is valid now (rotation overdue) or the
    /// current key is held in a vault (it has no private key to hand out: sign through
    /// [`TokenSigner::sign_jws`]).
    pub fn current_key(&self) -> Option<SigningKey> {
        let now = self.clock.now();
        self.snapshot()
            .current
            .as_ref()
            .filter(|key| key.is_valid_at(now))
            .and_then(|key| match &key.private {
                KeySigner::Software(private) => Some(SigningKey {
                    kid: key.kid.clone(),
                    algorithm: key.jws_algorithm,
                    key: private.clone(),
                }),
                KeySigner::Vault(_) => None,
            })
    }

    /// Whether new keys are generated in a vault (an HSM).
    pub fn uses_vault(&self) -> bool {
        self.vault.is_some()
    }

    /// A receiver whose value changes whenever the set of keys or the current key changes
    /// (after a rotation or a reload that found new keys), for caches of the JWKS document.
    pub fn changes(&self) -> watch::Receiver<u64> {
        self.changes.subscribe()
    }

    /// Starts a background task that, every `every`, reloads the keys and rotates if due. The
    /// first check runs immediately. Errors are logged and retried on the next tick; the task
    /// ends when the manager is dropped.
    pub fn spawn_rotation(
        self: &Arc<Self>,
        every: std::time::Duration,
    ) -> tokio::task::JoinHandle<()> {
        let manager = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(every);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                let Some(manager) = manager.upgrade() else {
                    return;
                };
                if let Err(error) = manager.reload().await {
                    tracing::error!(
                        application = %manager.application,
                        %error,
                        "key reload failed"
                    );
                }
                match manager.rotate_if_due().await {
                    Ok(Some(info)) => {
                        tracing::info!(
                            application = %manager.application,
                            kid = %info.kid,
                            "signing key rotated"
                        );
                    }
                    Ok(None) => {}
                    Err(error) => {
                        tracing::error!(
                            application = %manager.application,
                            %error,
                            "key rotation failed"
                        );
                    }
                }
            }
        })
    }

    /// Certifies another party's public key (a wallet's) with the current key: an end-entity
    /// certificate with subject `CN=<common_name>`, valid from now for `validity`, cut at the
    /// issuing key's own expiry so it never outlives its issuer. The issuer's certificate is
    /// among [`TokenSigner::certificates`] until it expires.
    ///
    /// CPU work (one signature): call it from a blocking context on a busy runtime.
    ///
    /// Fails with [`KeyError::InvalidPolicy`] unless the policy
    /// [issues certificates](KeyPolicy::issues_certificates) and the validity is positive, with
    /// [`KeyError::Crypto`] when no key is usable now or OpenSSL fails.
    pub fn issue_certificate(
        &self,
        subject: &PublicJwk,
        common_name: &str,
        validity: time::Duration,
    ) -> Result<IssuedCertificate, KeyError> {
        if !self.policy.issues_certificates {
            return Err(KeyError::InvalidPolicy(
                "this application's keys do not issue certificates",
            ));
        }
        if !validity.is_positive() {
            return Err(KeyError::InvalidPolicy(
                "certificate validity must be positive",
            ));
        }
        let now = self.clock.now();
        let loaded = self.snapshot();
        let issuer = loaded
            .current
            .as_ref()
            .filter(|key| key.is_valid_at(now))
            .ok_or_else(|| KeyError::Crypto("no usable issuing key".into()))?;
        // Certificates have one-second resolution.
        let not_before = now.replace_nanosecond(0).unwrap_or(now);
        let not_after = (not_before + validity).min(issuer.not_after);
        let certificate = issue_for_public_key(
            subject.openssl_pkey(),
            common_name,
            not_before,
            not_after,
            &issuer.private,
            &issuer.leaf_certificate,
        )?;
        let der = certificate.to_der()?;
        let pem = String::from_utf8(certificate.to_pem()?)
            .map_err(|_| KeyError::Crypto("certificate PEM is not UTF-8".into()))?;
        Ok(IssuedCertificate {
            pem,
            thumbprint: esignet_jose::sha256_b64url(&der),
            not_before,
            not_after,
        })
    }

    pub(crate) fn snapshot(&self) -> Arc<Loaded> {
        // A poisoned lock still holds a complete Arc (it is only ever replaced whole).
        self.state
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn install(&self, loaded: Loaded) {
        let loaded = Arc::new(loaded);
        let previous = {
            let mut state = self.state.write().unwrap_or_else(PoisonError::into_inner);
            std::mem::replace(&mut *state, loaded.clone())
        };
        if !previous.same_keys_as(&loaded) {
            self.changes.send_modify(|generation| *generation += 1);
        }
    }

    /// Generates, stores and loads a new key. The caller holds `self.rotation`.
    async fn generate_and_reload(&self) -> Result<KeyInfo, KeyError> {
        let now = self.clock.now();
        let root = self.usable_root(now).await?;
        let policy = self.policy.clone();
        let application = self.application.clone();
        let sealer = self.sealer.clone();
        let vault = self.vault.clone();
        // A replacement is published before it signs (other instances must learn it first); a
        // first key is needed at once.
        let activation = if self.snapshot().current.is_some()
            && policy.activation_delay > time::Duration::ZERO
        {
            now + policy.activation_delay
        } else {
            now
        };
        let generated = tokio::task::spawn_blocking(move || {
            generate(
                &policy,
                &application,
                root,
                now,
                activation,
                &sealer,
                vault.as_deref(),
            )
        })
        .await
        .map_err(|_| KeyError::Task)??;

        if let Some(root_record) = &generated.root {
            match self.store.insert_key(root_record).await {
                Ok(()) => tracing::info!(kid = %root_record.kid, "generated a ROOT key"),
                // The same ROOT key is already stored: nothing to do.
                Err(StoreError::Conflict(_)) => {}
                Err(error) => {
                    discard(generated.vault_keys).await;
                    return Err(error.into());
                }
            }
        }
        let kid = generated.leaf.kid.clone();
        let inserted = self.store.insert_key(&generated.leaf).await;
        if let Err(error) = &inserted
            && !matches!(error, StoreError::Conflict(_))
        {
            // The leaf is not stored (the ROOT, if new, is, and stays usable).
            let leaf_only = generated.vault_keys.into_iter().take(1).collect();
            discard(leaf_only).await;
        }
        match inserted {
            Ok(()) => {
                tracing::info!(
                    application = %self.application,
                    kid = %kid,
                    "generated a signing key"
                );
            }
            Err(StoreError::Conflict(_)) => {
                tracing::info!(
                    application = %self.application,
                    "another instance stored a key first; reloading"
                );
            }
            Err(error) => return Err(error.into()),
        }
        self.reload().await?;

        let loaded = self.snapshot();
        let key = loaded
            .keys
            .iter()
            .find(|key| key.kid == kid)
            .or(loaded.current.as_ref())
            .ok_or_else(|| {
                KeyError::Store(StoreError::Unavailable(
                    "a newly stored key was not listed".into(),
                ))
            })?;
        Ok(loaded.info(key))
    }

    /// The newest `ROOT` key of the policy's family that is valid now and outlives a key
    /// issued now, decrypted; `None` if a new one must be generated.
    ///
    /// A manager with a vault only uses `ROOT` keys held in the vault (so no private key of its
    /// chain exists in software), one without only software ones.
    async fn usable_root(
        &self,
        now: OffsetDateTime,
    ) -> Result<Option<(KeySigner, X509)>, KeyError> {
        let leaf_not_after = now + self.policy.validity;
        let records = self.store.list_keys(ROOT_APPLICATION).await?;
        let Some(record) = records.into_iter().find(|record| {
            KeyAlgorithm::from_record_name(&record.algorithm) == Some(self.policy.algorithm)
                && record.not_before <= now
                && record.not_after >= leaf_not_after
                && is_vault_record(record) == self.vault.is_some()
        }) else {
            return Ok(None);
        };
        let (key, _, mut chain) = match &self.vault {
            _ if self.sealer.is_blocking() => {
                let vault = self.vault.clone();
                let sealer = self.sealer.clone();
                let record = record.clone();
                tokio::task::spawn_blocking(move || open(&record, &sealer, vault.as_deref()))
                    .await
                    .map_err(|_| KeyError::Task)??
            }
            Some(vault) => {
                let vault = vault.clone();
                let sealer = self.sealer.clone();
                let record = record.clone();
                tokio::task::spawn_blocking(move || open(&record, &sealer, Some(vault.as_ref())))
                    .await
                    .map_err(|_| KeyError::Task)??
            }
            None => open(&record, &self.sealer, None)?,
        };
        let certificate = chain.drain(..).next().ok_or(KeyError::Corrupt {
            kid: record.kid.clone(),
            reason: "empty certificate chain",
        })?;
        Ok(Some((key, certificate)))
    }
}

/// The records produced by one generation: the signing key and, if one had to be made, a root.
struct Generated {
    leaf: KeyRecord,
    root: Option<KeyRecord>,
    /// The vault keys made (leaf first), to delete if their records cannot be stored.
    vault_keys: Vec<Arc<dyn crate::VaultKey>>,
}

/// Loads every record (the caller filtered out expired ones).
fn load_all(
    records: &[KeyRecord],
    sealer: &Sealer,
    vault: Option<Arc<dyn KeyVault>>,
    policy_algorithm: esignet_jose::Algorithm,
) -> Result<Vec<Arc<LoadedKey>>, KeyError> {
    records
        .iter()
        .map(|record| load(record, sealer, vault.as_deref(), policy_algorithm).map(Arc::new))
        .collect()
}

/// Deletes vault keys whose records could not be stored (best effort: a failure leaves an
/// unused key in the vault, which is logged).
async fn discard(keys: Vec<Arc<dyn crate::VaultKey>>) {
    if keys.is_empty() {
        return;
    }
    let outcome = tokio::task::spawn_blocking(move || {
        for key in keys {
            if let Err(error) = key.destroy() {
                tracing::warn!(reference = key.reference(), %error, "cannot delete an unused HSM key");
            }
        }
    })
    .await;
    if outcome.is_err() {
        tracing::warn!("the task deleting unused HSM keys failed");
    }
}

/// A fresh private key of `family`: in the vault, or in memory.
fn new_key(
    family: KeyAlgorithm,
    application: &str,
    vault: Option<&dyn KeyVault>,
    made: &mut Vec<Arc<dyn crate::VaultKey>>,
) -> Result<KeySigner, KeyError> {
    match vault {
        Some(vault) => {
            let key = vault.generate(application, family)?;
            made.push(key.clone());
            Ok(KeySigner::Vault(key))
        }
        None => Ok(KeySigner::Software(family.generate()?)),
    }
}

/// Generates a signing key (and a root if `root` is `None`), certifies it and seals both.
/// CPU-bound: runs on the blocking pool.
fn generate(
    policy: &KeyPolicy,
    application: &str,
    root: Option<(KeySigner, X509)>,
    now: OffsetDateTime,
    activation: OffsetDateTime,
    sealer: &Sealer,
    vault: Option<&dyn KeyVault>,
) -> Result<Generated, KeyError> {
    let mut made = Vec::new();
    let generated = generate_keys(
        policy,
        application,
        root,
        now,
        activation,
        sealer,
        vault,
        &mut made,
    );
    match generated {
        Ok((leaf, root)) => {
            // Leaf first: `discard` of the leaf alone takes the first.
            made.reverse();
            Ok(Generated {
                leaf,
                root,
                vault_keys: made,
            })
        }
        Err(error) => {
            for key in made {
                if let Err(destroy_error) = key.destroy() {
                    tracing::warn!(reference = key.reference(), error = %destroy_error, "cannot delete an unused HSM key");
                }
            }
            Err(error)
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn generate_keys(
    policy: &KeyPolicy,
    application: &str,
    root: Option<(KeySigner, X509)>,
    now: OffsetDateTime,
    activation: OffsetDateTime,
    sealer: &Sealer,
    vault: Option<&dyn KeyVault>,
    made: &mut Vec<Arc<dyn crate::VaultKey>>,
) -> Result<(KeyRecord, Option<KeyRecord>), KeyError> {
    // Certificates have one-second resolution; keep the records identical to them.
    let now = now.replace_nanosecond(0).unwrap_or(now);
    let activation = activation.replace_nanosecond(0).unwrap_or(activation);
    let not_after = now + policy.validity;
    let (root_key, root_certificate, root_record) = match root {
        Some((key, certificate)) => (key, certificate, None),
        None => {
            let key = new_key(policy.algorithm, ROOT_APPLICATION, vault, made)?;
            let root_not_after = now + policy.root_validity;
            let certificate = self_signed_root(&key, now, root_not_after)?;
            let record = seal(
                &NewRecord {
                    application: ROOT_APPLICATION,
                    key: &key,
                    chain: &[&certificate],
                    not_before: now,
                    not_after: root_not_after,
                    created_at: now,
                },
                sealer,
            )?;
            (key, certificate, Some(record))
        }
    };
    let key = new_key(policy.algorithm, application, vault, made)?;
    let certificate = issue_leaf(
        &key,
        &policy.subject_common_name,
        now,
        not_after,
        &root_key,
        &root_certificate,
        policy.issues_certificates,
    )?;
    let leaf = seal(
        &NewRecord {
            application,
            key: &key,
            chain: &[&certificate, &root_certificate],
            not_before: activation,
            not_after,
            created_at: now,
        },
        sealer,
    )?;
    Ok((leaf, root_record))
}

impl TokenSigner for KeyManager {
    fn sign_jws(&self, typ: Option<&str>, payload: &[u8]) -> Result<String, SignerError> {
        let now = self.clock.now();
        let loaded = self.snapshot();
        let key = loaded
            .current
            .as_ref()
            .filter(|key| key.is_valid_at(now))
            .ok_or(SignerError::NoActiveKey)?;
        let mut header = Map::with_capacity(2);
        header.insert("kid".into(), Value::from(key.kid.as_str()));
        if let Some(typ) = typ {
            header.insert("typ".into(), Value::from(typ));
        }
        match &key.private {
            KeySigner::Software(private) => {
                sign_compact(private, key.jws_algorithm, &header, payload)
                    .map_err(|error| SignerError::Crypto(error.to_string()))
            }
            KeySigner::Vault(vault_key) => {
                sign_compact_in_vault(vault_key.as_ref(), key.jws_algorithm, header, payload)
            }
        }
    }

    fn algorithm(&self) -> &'static str {
        self.snapshot()
            .current
            .as_ref()
            .map_or(self.policy.jws_algorithm, |key| key.jws_algorithm)
            .as_str()
    }

    fn certificates(&self) -> Vec<SigningCertificate> {
        let now = self.clock.now();
        self.snapshot()
            .keys
            .iter()
            .filter(|key| now < key.not_after)
            .map(|key| key.signing_certificate())
            .collect()
    }

    fn public_jwks(&self) -> Vec<Value> {
        let now = self.clock.now();
        self.snapshot()
            .keys
            .iter()
            .filter(|key| now < key.not_after)
            .map(|key| key.jwk.clone())
            .collect()
    }

    fn verify_jws(&self, compact: &str) -> Option<Vec<u8>> {
        let decoded = decode_compact(compact).ok()?;
        let kid = decoded.kid()?;
        let now = self.clock.now();
        let loaded = self.snapshot();
        let key = loaded
            .keys
            .iter()
            .find(|key| key.kid == kid && now < key.not_after)?;
        // Only the algorithm this key signs with: no RS256/PS256 substitution.
        if decoded.alg()? != key.jws_algorithm || !decoded.verify(&key.public) {
            return None;
        }
        Some(decoded.payload)
    }
}

/// A compact JWS signed by a vault key, with the same header layout as
/// [`esignet_jose::sign_compact`] (`alg` first, then the given members).
fn sign_compact_in_vault(
    key: &dyn crate::VaultKey,
    alg: esignet_jose::Algorithm,
    members: Map<String, Value>,
    payload: &[u8],
) -> Result<String, SignerError> {
    let mut header = Map::with_capacity(members.len() + 1);
    header.insert("alg".into(), Value::from(alg.as_str()));
    header.extend(members);
    let header = serde_json::to_vec(&Value::Object(header))
        .map_err(|error| SignerError::Crypto(error.to_string()))?;
    let mut token = esignet_jose::b64url_encode(&header);
    token.push('.');
    token.push_str(&esignet_jose::b64url_encode(payload));
    let signature = key
        .sign(alg, token.as_bytes())
        .map_err(|error| SignerError::Crypto(error.to_string()))?;
    token.push('.');
    token.push_str(&esignet_jose::b64url_encode(&signature));
    Ok(token)
}
