//! KeyManager behaviour over an in-memory KeyStore and a ManualClock.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers: a panic is how a test reports failure"
)]

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use esignet_jose::{Algorithm, PublicJwk, decode_compact, sign_compact};
use esignet_keys::{KeyEncryptionKey, KeyError, KeyManager, KeyPolicy, ROOT_APPLICATION};
use esignet_spi::{Clock, KeyRecord, KeyStore, ManualClock, SignerError, StoreError, TokenSigner};
use openssl::stack::Stack;
use openssl::x509::store::X509StoreBuilder;
use openssl::x509::verify::X509VerifyParam;
use openssl::x509::{X509, X509StoreContext};
use serde_json::{Map, Value, json};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const APP: &str = "OIDC_SERVICE";
const START: OffsetDateTime = datetime!(2030-01-01 00:00:00.123 UTC);

/// A KeyStore in memory, listing newest first (ties: latest inserted first), with switches to
/// inject failures.
#[derive(Default)]
struct MemoryKeyStore {
    records: Mutex<Vec<KeyRecord>>,
    inserts: AtomicUsize,
    fail: AtomicBool,
    conflict_next_insert: AtomicBool,
}

impl MemoryKeyStore {
    fn records(&self, application: &str) -> Vec<KeyRecord> {
        let mut records: Vec<KeyRecord> = self
            .records
            .lock()
            .unwrap()
            .iter()
            .rev()
            .filter(|record| record.application == application)
            .cloned()
            .collect();
        records.sort_by_key(|record| std::cmp::Reverse(record.created_at));
        records
    }

    fn replace(&self, kid: &str, edit: impl FnOnce(&mut KeyRecord)) {
        let mut records = self.records.lock().unwrap();
        edit(records.iter_mut().find(|record| record.kid == kid).unwrap());
    }
}

#[async_trait::async_trait]
impl KeyStore for MemoryKeyStore {
    async fn list_keys(&self, application: &str) -> Result<Vec<KeyRecord>, StoreError> {
        if self.fail.load(Ordering::SeqCst) {
            return Err(StoreError::Unavailable("injected".into()));
        }
        Ok(self.records(application))
    }

    async fn insert_key(&self, key: &KeyRecord) -> Result<(), StoreError> {
        if self.fail.load(Ordering::SeqCst) {
            return Err(StoreError::Unavailable("injected".into()));
        }
        if self.conflict_next_insert.swap(false, Ordering::SeqCst) {
            return Err(StoreError::Conflict("kid"));
        }
        let mut records = self.records.lock().unwrap();
        if records.iter().any(|record| record.kid == key.kid) {
            return Err(StoreError::Conflict("kid"));
        }
        records.push(key.clone());
        self.inserts.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

struct Fixture {
    store: Arc<MemoryKeyStore>,
    clock: Arc<ManualClock>,
    kek: Arc<KeyEncryptionKey>,
}

impl Fixture {
    fn new() -> Self {
        Self {
            store: Arc::new(MemoryKeyStore::default()),
            clock: Arc::new(ManualClock::new(START)),
            kek: kek(1),
        }
    }

    async fn open(&self, alg: Algorithm) -> Result<Arc<KeyManager>, KeyError> {
        self.open_with(self.kek.clone(), alg).await
    }

    async fn open_with(
        &self,
        kek: Arc<KeyEncryptionKey>,
        alg: Algorithm,
    ) -> Result<Arc<KeyManager>, KeyError> {
        KeyManager::open(
            self.store.clone(),
            kek,
            self.clock.clone(),
            APP,
            policy(alg),
        )
        .await
    }
}

fn kek(byte: u8) -> Arc<KeyEncryptionKey> {
    Arc::new(KeyEncryptionKey::from_base64(&STANDARD.encode([byte; 32])).unwrap())
}

fn policy(alg: Algorithm) -> KeyPolicy {
    KeyPolicy::for_jws(
        alg,
        Duration::days(30),
        Duration::days(5),
        "eSignet OIDC test",
    )
}

fn kids(manager: &KeyManager) -> Vec<String> {
    manager.keys().into_iter().map(|info| info.kid).collect()
}

fn jwks_kids(manager: &KeyManager) -> Vec<String> {
    manager
        .public_jwks()
        .iter()
        .map(|jwk| jwk["kid"].as_str().unwrap().to_owned())
        .collect()
}

fn current_kid(manager: &KeyManager) -> String {
    manager.current_key().unwrap().kid
}

fn header_kid(token: &str) -> String {
    decode_compact(token).unwrap().kid().unwrap().to_owned()
}

/// Decodes the `x5c` chain (leaf first) of a JWKS entry.
fn x5c(jwk: &Value) -> Vec<X509> {
    jwk["x5c"]
        .as_array()
        .unwrap()
        .iter()
        .map(|cert| X509::from_der(&STANDARD.decode(cert.as_str().unwrap()).unwrap()).unwrap())
        .collect()
}

/// Verifies `leaf` against the single trusted `root` at time `at` (not the wall clock).
fn chains_to(leaf: &X509, root: &X509, at: OffsetDateTime) -> bool {
    let mut builder = X509StoreBuilder::new().unwrap();
    builder.add_cert(root.clone()).unwrap();
    let mut param = X509VerifyParam::new().unwrap();
    param.set_time(at.unix_timestamp());
    builder.set_param(&param).unwrap();
    let store = builder.build();
    let mut context = X509StoreContext::new().unwrap();
    context
        .init(&store, leaf, &Stack::new().unwrap(), |context| {
            context.verify_cert()
        })
        .unwrap()
}

fn their_validation(alg: jsonwebtoken::Algorithm) -> jsonwebtoken::Validation {
    let mut validation = jsonwebtoken::Validation::new(alg);
    // The token carries no time claims: the checks here are about keys and signatures.
    validation.validate_exp = false;
    validation.required_spec_claims.clear();
    validation
}

#[tokio::test]
async fn first_open_generates_and_stores_keys_encrypted() {
    let fixture = Fixture::new();
    let manager = fixture.open(Algorithm::RS256).await.unwrap();

    let records = fixture.store.records(APP);
    assert_eq!(records.len(), 1);
    let roots = fixture.store.records(ROOT_APPLICATION);
    assert_eq!(roots.len(), 1);
    assert_eq!(roots[0].algorithm, "RS256");

    let record = &records[0];
    let current = manager.current_key().unwrap();
    assert_eq!(record.kid, current.kid);
    assert_eq!(current.kid, current.key.public_jwk().thumbprint());
    assert_eq!(current.algorithm, Algorithm::RS256);
    assert_eq!(record.algorithm, "RS256");
    assert_eq!(record.not_before, datetime!(2030-01-01 00:00:00 UTC));
    assert_eq!(record.not_after, record.not_before + Duration::days(30));
    assert_eq!(
        record.certificate_pem.matches("BEGIN CERTIFICATE").count(),
        2
    );

    // The private key is not in the record in clear, in whole or in any 16-byte window.
    let pkcs8 = current.key.to_pkcs8_der().unwrap();
    assert!(
        !record
            .encrypted_private_key
            .windows(16)
            .any(|window| pkcs8.windows(16).any(|part| part == window)),
        "stored bytes contain PKCS#8 material"
    );
    assert_eq!(manager.keys().len(), 1);
    assert!(manager.keys()[0].is_current);
    assert_eq!(manager.algorithm(), "RS256");
    assert_eq!(manager.application(), APP);
}

#[tokio::test]
async fn second_open_loads_the_same_key_without_generating() {
    let fixture = Fixture::new();
    let first = fixture.open(Algorithm::RS256).await.unwrap();
    let inserts = fixture.store.inserts.load(Ordering::SeqCst);
    assert_eq!(inserts, 2, "one ROOT and one signing key");

    fixture.clock.advance(Duration::hours(1));
    let second = fixture.open(Algorithm::RS256).await.unwrap();
    assert_eq!(fixture.store.inserts.load(Ordering::SeqCst), inserts);
    assert_eq!(current_kid(&second), current_kid(&first));

    // What one instance signs, the other verifies.
    let token = first.sign_jws(Some("JWT"), br#"{"sub":"a"}"#).unwrap();
    assert_eq!(second.verify_jws(&token).unwrap(), br#"{"sub":"a"}"#);
}

#[tokio::test]
async fn a_wrong_kek_fails_clearly() {
    let fixture = Fixture::new();
    let manager = fixture.open(Algorithm::RS256).await.unwrap();
    let kid = current_kid(&manager);

    let error = fixture
        .open_with(kek(2), Algorithm::RS256)
        .await
        .unwrap_err();
    assert!(matches!(&error, KeyError::WrongKek { kid: failed } if *failed == kid));
    assert_eq!(
        error.to_string(),
        format!("cannot decrypt key {kid}: wrong key-encryption key?")
    );
}

#[tokio::test]
async fn tampered_records_are_rejected() {
    let fixture = Fixture::new();
    let manager = fixture.open(Algorithm::RS256).await.unwrap();
    let kid = current_kid(&manager);
    let root_pem = fixture.store.records(ROOT_APPLICATION)[0]
        .certificate_pem
        .clone();

    // A certificate for another key (here: the root's) in place of the signing key's.
    fixture
        .store
        .replace(&kid, |record| record.certificate_pem = root_pem);
    assert!(matches!(
        fixture.open(Algorithm::RS256).await,
        Err(KeyError::Corrupt { kid: failed, .. }) if failed == kid
    ));

    // A flipped ciphertext byte reads as an undecryptable key.
    fixture
        .store
        .replace(&kid, |record| record.encrypted_private_key[20] ^= 1);
    assert!(matches!(
        fixture.open(Algorithm::RS256).await,
        Err(KeyError::WrongKek { .. })
    ));
}

#[tokio::test]
async fn rotation_overlaps_until_the_old_key_expires() {
    let fixture = Fixture::new();
    let manager = fixture.open(Algorithm::RS256).await.unwrap();
    let old_kid = current_kid(&manager);
    let old_token = manager.sign_jws(Some("JWT"), br#"{"n":1}"#).unwrap();
    assert_eq!(header_kid(&old_token), old_kid);

    fixture.clock.advance(Duration::days(10));
    let mut changes = manager.changes();
    changes.borrow_and_update();
    let rotated = manager.rotate().await.unwrap();
    assert!(changes.has_changed().unwrap());
    assert_ne!(rotated.kid, old_kid);
    assert!(rotated.is_current);
    assert_eq!(rotated.not_after, rotated.not_before + Duration::days(30));
    assert_eq!(current_kid(&manager), rotated.kid);
    assert_eq!(kids(&manager), [rotated.kid.clone(), old_kid.clone()]);
    assert_eq!(
        manager
            .keys()
            .iter()
            .map(|key| key.is_current)
            .collect::<Vec<_>>(),
        [true, false]
    );
    assert_eq!(jwks_kids(&manager), [rotated.kid.clone(), old_kid.clone()]);
    assert_eq!(manager.certificates().len(), 2);
    // The ROOT key is reused, not regenerated.
    assert_eq!(fixture.store.records(ROOT_APPLICATION).len(), 1);

    let new_token = manager.sign_jws(None, br#"{"n":2}"#).unwrap();
    assert_eq!(header_kid(&new_token), rotated.kid);
    assert_eq!(decode_compact(&new_token).unwrap().typ(), None);
    assert_eq!(manager.verify_jws(&old_token).unwrap(), br#"{"n":1}"#);
    assert_eq!(manager.verify_jws(&new_token).unwrap(), br#"{"n":2}"#);

    // Just before the old key's not_after it is still published; at not_after it is gone.
    fixture
        .clock
        .set(START + Duration::days(30) - Duration::seconds(1));
    assert_eq!(jwks_kids(&manager).len(), 2);
    fixture.clock.advance(Duration::seconds(1));
    assert_eq!(jwks_kids(&manager), std::slice::from_ref(&rotated.kid));
    assert_eq!(kids(&manager), std::slice::from_ref(&rotated.kid));
    assert_eq!(manager.certificates().len(), 1);
    assert_eq!(manager.certificates()[0].key_id, rotated.kid);
    assert!(manager.verify_jws(&old_token).is_none());
    assert!(manager.verify_jws(&new_token).is_some());

    // A fresh instance no longer loads the expired key at all.
    let fresh = fixture.open(Algorithm::RS256).await.unwrap();
    assert_eq!(kids(&fresh), [rotated.kid]);
}

#[tokio::test]
async fn rotate_if_due_rotates_only_inside_the_window() {
    let fixture = Fixture::new();
    let manager = fixture.open(Algorithm::ES256).await.unwrap();
    let first = current_kid(&manager);
    assert_eq!(manager.rotate_if_due().await.unwrap(), None);

    // 30-day keys, rotated when 5 days or less remain.
    fixture.clock.set(START + Duration::days(24));
    assert_eq!(manager.rotate_if_due().await.unwrap(), None);
    assert_eq!(current_kid(&manager), first);

    fixture.clock.set(START + Duration::days(25));
    let rotated = manager.rotate_if_due().await.unwrap().unwrap();
    assert_ne!(rotated.kid, first);
    assert_eq!(current_kid(&manager), rotated.kid);
    assert_eq!(manager.rotate_if_due().await.unwrap(), None);
    assert_eq!(kids(&manager).len(), 2);
}

#[tokio::test]
async fn an_expired_current_key_stops_signing_until_rotated() {
    let fixture = Fixture::new();
    let manager = fixture.open(Algorithm::ES256).await.unwrap();
    fixture.clock.advance(Duration::days(31));
    assert!(manager.current_key().is_none());
    assert!(matches!(
        manager.sign_jws(None, b"{}"),
        Err(SignerError::NoActiveKey)
    ));
    assert!(manager.public_jwks().is_empty());

    let rotated = manager.rotate_if_due().await.unwrap().unwrap();
    let token = manager.sign_jws(None, b"{}").unwrap();
    assert_eq!(header_kid(&token), rotated.kid);

    // Opening over a store whose keys have all expired generates a new one.
    fixture.clock.advance(Duration::days(31));
    let reopened = fixture.open(Algorithm::ES256).await.unwrap();
    assert_ne!(current_kid(&reopened), rotated.kid);
    assert_eq!(kids(&reopened).len(), 1);
}

#[tokio::test]
async fn jwks_entries_verify_with_jsonwebtoken() {
    for (alg, theirs) in [
        (Algorithm::RS256, jsonwebtoken::Algorithm::RS256),
        (Algorithm::PS256, jsonwebtoken::Algorithm::PS256),
    ] {
        let fixture = Fixture::new();
        let manager = fixture.open(alg).await.unwrap();
        let jwks = manager.public_jwks();
        assert_eq!(jwks.len(), 1);
        let jwk = &jwks[0];
        let names: Vec<&str> = jwk
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            names,
            [
                "kid", "kty", "use", "alg", "exp", "x5c", "x5t#S256", "n", "e"
            ]
        );
        assert_eq!(jwk["kty"], "RSA");
        assert_eq!(jwk["use"], "sig");
        assert_eq!(jwk["alg"], alg.as_str());
        assert_eq!(manager.algorithm(), alg.as_str());
        let not_after = manager.keys()[0].not_after;
        assert_eq!(jwk["exp"], not_after.unix_timestamp());
        let leaf_der = STANDARD.decode(jwk["x5c"][0].as_str().unwrap()).unwrap();
        assert_eq!(jwk["x5t#S256"], esignet_jose::sha256_b64url(&leaf_der));

        let token = manager.sign_jws(Some("JWT"), br#"{"sub":"abc"}"#).unwrap();
        let key = jsonwebtoken::DecodingKey::from_rsa_components(
            jwk["n"].as_str().unwrap(),
            jwk["e"].as_str().unwrap(),
        )
        .unwrap();
        let data = jsonwebtoken::decode::<Value>(&token, &key, &their_validation(theirs)).unwrap();
        assert_eq!(data.claims, json!({"sub": "abc"}));
        assert_eq!(data.header.kid.as_deref(), jwk["kid"].as_str());
        assert_eq!(data.header.typ.as_deref(), Some("JWT"));
    }
}

#[tokio::test]
async fn verify_jws_accepts_only_the_keys_algorithm_and_known_kids() {
    let fixture = Fixture::new();
    let manager = fixture.open(Algorithm::PS256).await.unwrap();
    let current = manager.current_key().unwrap();
    let mut header = Map::new();
    header.insert("kid".into(), Value::from(current.kid.as_str()));

    let ps = sign_compact(&current.key, Algorithm::PS256, &header, b"{}").unwrap();
    assert!(manager.verify_jws(&ps).is_some());
    // Same key, same kid, but RS256: refused (no algorithm substitution).
    let rs = sign_compact(&current.key, Algorithm::RS256, &header, b"{}").unwrap();
    assert!(manager.verify_jws(&rs).is_none());
    // Unknown kid, missing kid, garbage.
    header.insert("kid".into(), Value::from("unknown"));
    let unknown = sign_compact(&current.key, Algorithm::PS256, &header, b"{}").unwrap();
    assert!(manager.verify_jws(&unknown).is_none());
    let no_kid = sign_compact(&current.key, Algorithm::PS256, &Map::new(), b"{}").unwrap();
    assert!(manager.verify_jws(&no_kid).is_none());
    assert!(manager.verify_jws("not.a.token").is_none());
    // A token from another manager's key with our kid in the header.
    let other = Fixture::new().open(Algorithm::PS256).await.unwrap();
    let mut header = Map::new();
    header.insert("kid".into(), Value::from(current.kid.as_str()));
    let forged = sign_compact(
        &other.current_key().unwrap().key,
        Algorithm::PS256,
        &header,
        b"{}",
    )
    .unwrap();
    assert!(manager.verify_jws(&forged).is_none());
}

#[tokio::test]
async fn x5c_leaf_chains_to_the_root_and_matches_the_jwk() {
    let fixture = Fixture::new();
    let manager = fixture.open(Algorithm::RS256).await.unwrap();
    let jwk = manager.public_jwks().remove(0);
    let chain = x5c(&jwk);
    assert_eq!(chain.len(), 2);
    let (leaf, root) = (&chain[0], &chain[1]);
    let now = fixture.clock.now();
    assert!(chains_to(leaf, root, now));
    // Not before its validity, nor after it.
    assert!(!chains_to(leaf, root, now - Duration::days(1)));
    assert!(!chains_to(leaf, root, now + Duration::days(31)));
    // The root is self-signed (trusted only by itself) and is the stored ROOT certificate.
    assert!(chains_to(root, root, now));
    let stored_root = fixture.store.records(ROOT_APPLICATION).remove(0);
    let stored_root = X509::from_pem(stored_root.certificate_pem.as_bytes()).unwrap();
    assert_eq!(stored_root.to_der().unwrap(), root.to_der().unwrap());
    // Another deployment's root does not vouch for this leaf.
    let other = Fixture::new().open(Algorithm::RS256).await.unwrap();
    let other_root = x5c(&other.public_jwks()[0]).remove(1);
    assert!(!chains_to(leaf, &other_root, now));

    let public = PublicJwk::from_json(&jwk).unwrap();
    assert!(leaf.public_key().unwrap().public_eq(public.openssl_pkey()));
    assert_eq!(public.thumbprint(), jwk["kid"]);
    let pem = &manager.certificates()[0].certificate_pem;
    let from_pem = X509::from_pem(pem.as_bytes()).unwrap();
    assert_eq!(from_pem.to_der().unwrap(), leaf.to_der().unwrap());
    let common_name = leaf
        .subject_name()
        .entries()
        .next()
        .unwrap()
        .data()
        .to_string()
        .unwrap();
    assert_eq!(common_name, "eSignet OIDC test");
}

#[tokio::test]
async fn es256_policy_works_end_to_end() {
    let fixture = Fixture::new();
    let manager = fixture.open(Algorithm::ES256).await.unwrap();
    assert_eq!(manager.algorithm(), "ES256");
    assert_eq!(fixture.store.records(APP)[0].algorithm, "ES256");
    assert_eq!(
        fixture.store.records(ROOT_APPLICATION)[0].algorithm,
        "ES256"
    );

    let jwk = manager.public_jwks().remove(0);
    let names: Vec<&str> = jwk
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        names,
        [
            "kid", "kty", "use", "alg", "exp", "x5c", "x5t#S256", "crv", "x", "y"
        ]
    );
    assert_eq!(jwk["kty"], "EC");
    assert_eq!(jwk["crv"], "P-256");
    assert_eq!(jwk["alg"], "ES256");

    let token = manager.sign_jws(Some("JWT"), br#"{"sub":"ec"}"#).unwrap();
    assert_eq!(
        decode_compact(&token).unwrap().alg(),
        Some(Algorithm::ES256)
    );
    let key = jsonwebtoken::DecodingKey::from_ec_components(
        jwk["x"].as_str().unwrap(),
        jwk["y"].as_str().unwrap(),
    )
    .unwrap();
    let data = jsonwebtoken::decode::<Value>(
        &token,
        &key,
        &their_validation(jsonwebtoken::Algorithm::ES256),
    )
    .unwrap();
    assert_eq!(data.claims, json!({"sub": "ec"}));
    assert_eq!(manager.verify_jws(&token).unwrap(), br#"{"sub":"ec"}"#);

    let chain = x5c(&jwk);
    assert!(chains_to(&chain[0], &chain[1], fixture.clock.now()));
    assert_eq!(chain[0].public_key().unwrap().id(), openssl::pkey::Id::EC);
}

#[tokio::test]
async fn a_changed_policy_family_adds_a_key_and_keeps_the_old_one_verifiable() {
    let fixture = Fixture::new();
    let rsa = fixture.open(Algorithm::RS256).await.unwrap();
    let rsa_kid = current_kid(&rsa);
    let rsa_token = rsa.sign_jws(None, b"{}").unwrap();

    fixture.clock.advance(Duration::minutes(1));
    let ec = fixture.open(Algorithm::ES256).await.unwrap();
    let current = ec.current_key().unwrap();
    assert_eq!(current.algorithm, Algorithm::ES256);
    assert_ne!(current.kid, rsa_kid);
    assert_eq!(kids(&ec), [current.kid.clone(), rsa_kid.clone()]);
    let infos = ec.keys();
    assert_eq!(infos[1].algorithm, Algorithm::RS256);
    assert_eq!(ec.public_jwks()[1]["alg"], "RS256");
    assert!(ec.verify_jws(&rsa_token).is_some());
    // Each family has its own ROOT.
    assert_eq!(fixture.store.records(ROOT_APPLICATION).len(), 2);
}

#[tokio::test]
async fn reload_picks_up_another_instances_rotation() {
    let fixture = Fixture::new();
    let first = fixture.open(Algorithm::ES256).await.unwrap();
    let second = fixture.open(Algorithm::ES256).await.unwrap();
    let mut changes = second.changes();
    changes.borrow_and_update();

    fixture.clock.advance(Duration::hours(1));
    let rotated = first.rotate().await.unwrap();
    assert_ne!(current_kid(&second), rotated.kid);
    assert_eq!(kids(&second).len(), 1);

    second.reload().await.unwrap();
    assert!(changes.has_changed().unwrap());
    assert_eq!(current_kid(&second), rotated.kid);
    assert_eq!(kids(&second), kids(&first));

    // A reload that finds nothing new does not signal a change.
    changes.borrow_and_update();
    second.reload().await.unwrap();
    assert!(!changes.has_changed().unwrap());
}

#[tokio::test]
async fn a_conflicting_insert_reloads_instead() {
    let fixture = Fixture::new();
    let winner = fixture.open(Algorithm::ES256).await.unwrap();
    let loser = fixture.open(Algorithm::ES256).await.unwrap();
    fixture.clock.advance(Duration::hours(1));
    let won = winner.rotate().await.unwrap();

    let inserts = fixture.store.inserts.load(Ordering::SeqCst);
    fixture
        .store
        .conflict_next_insert
        .store(true, Ordering::SeqCst);
    let result = loser.rotate().await.unwrap();
    assert_eq!(fixture.store.inserts.load(Ordering::SeqCst), inserts);
    assert_eq!(result.kid, won.kid);
    assert!(result.is_current);
    assert_eq!(current_kid(&loser), won.kid);
    assert_eq!(kids(&loser), kids(&winner));
}

#[tokio::test]
async fn store_failures_are_reported_and_leave_the_state_intact() {
    let fixture = Fixture::new();
    fixture.store.fail.store(true, Ordering::SeqCst);
    assert!(matches!(
        fixture.open(Algorithm::ES256).await,
        Err(KeyError::Store(StoreError::Unavailable(_)))
    ));

    fixture.store.fail.store(false, Ordering::SeqCst);
    let manager = fixture.open(Algorithm::ES256).await.unwrap();
    let kid = current_kid(&manager);
    fixture.store.fail.store(true, Ordering::SeqCst);
    assert!(manager.reload().await.is_err());
    assert!(manager.rotate().await.is_err());
    assert_eq!(current_kid(&manager), kid);
    assert!(manager.sign_jws(None, b"{}").is_ok());
}

#[tokio::test]
async fn invalid_policies_and_applications_are_refused() {
    let fixture = Fixture::new();
    let mut bad = policy(Algorithm::RS256);
    bad.rotate_before = Duration::days(40);
    let result = KeyManager::open(
        fixture.store.clone(),
        fixture.kek.clone(),
        fixture.clock.clone(),
        APP,
        bad,
    )
    .await;
    assert!(matches!(result, Err(KeyError::InvalidPolicy(_))));
    for application in ["", ROOT_APPLICATION] {
        let result = KeyManager::open(
            fixture.store.clone(),
            fixture.kek.clone(),
            fixture.clock.clone(),
            application,
            policy(Algorithm::RS256),
        )
        .await;
        assert!(
            matches!(result, Err(KeyError::InvalidPolicy(_))),
            "{application:?}"
        );
    }
    assert_eq!(fixture.store.inserts.load(Ordering::SeqCst), 0);
}

#[tokio::test(start_paused = true)]
async fn the_rotation_task_rotates_when_due_survives_errors_and_stops_with_the_manager() {
    let fixture = Fixture::new();
    let manager = fixture.open(Algorithm::ES256).await.unwrap();
    let first = current_kid(&manager);
    let mut changes = manager.changes();
    changes.borrow_and_update();
    let every = std::time::Duration::from_secs(3600);

    // Store down and rotation due: the task logs and keeps going.
    fixture.store.fail.store(true, Ordering::SeqCst);
    fixture.clock.set(START + Duration::days(26));
    let task = manager.spawn_rotation(every);
    tokio::time::advance(every * 3).await;
    assert!(!task.is_finished());
    assert_eq!(current_kid(&manager), first);

    // Store back: a later tick rotates.
    fixture.store.fail.store(false, Ordering::SeqCst);
    tokio::time::timeout(every * 2, changes.changed())
        .await
        .unwrap()
        .unwrap();
    assert_ne!(current_kid(&manager), first);

    // The task holds no strong reference: dropping the manager ends it at the next tick.
    drop(manager);
    tokio::time::timeout(every * 2, task)
        .await
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn a_rotated_key_is_published_before_it_signs_when_an_activation_delay_is_set() {
    let fixture = Fixture::new();
    let policy = policy(Algorithm::RS256).with_activation_delay(time::Duration::minutes(2));
    let manager = KeyManager::open(
        fixture.store.clone(),
        fixture.kek.clone(),
        fixture.clock.clone(),
        APP,
        policy,
    )
    .await
    .unwrap();
    let first = manager.current_key().unwrap().kid;
    let rotated = manager.rotate().await.unwrap();
    assert_ne!(rotated.kid, first);
    // Published at once, but the old key keeps signing until the activation time.
    let published: Vec<String> = manager
        .public_jwks()
        .iter()
        .map(|jwk| jwk["kid"].as_str().unwrap().to_owned())
        .collect();
    assert!(published.contains(&rotated.kid));
    assert_eq!(manager.current_key().unwrap().kid, first);
    assert!(
        manager.rotate_if_due().await.unwrap().is_none(),
        "a pending replacement is enough"
    );
    fixture.clock.advance(time::Duration::minutes(2));
    manager.reload().await.unwrap();
    assert_eq!(manager.current_key().unwrap().kid, rotated.kid);
}
