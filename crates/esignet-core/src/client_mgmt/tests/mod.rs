//! Tests of the client manager against the real SQLite store (in memory), plus scripted stores
//! for outages and races.

mod create;
mod update;

use std::sync::{Arc, Mutex};

use esignet_jose::{PrivateKey, b64url_encode};
use esignet_spi::{AuditEvent, AuditSink, ClientRecord, ClientStore, ManualClock, StoreError};
use esignet_store_sqlite::SqliteStore;
use serde_json::{Value, json};
use time::macros::datetime;

use super::*;

const CLAIMS: [&str; 4] = ["name", "email", "phone_number", "birthdate"];
const ACRS: [&str; 3] = [
    "mosip:idp:acr:generated-code",
    "mosip:idp:acr:password",
    "mosip:idp:acr:biometrics",
];

/// An audit sink that keeps every event.
#[derive(Default)]
struct RecordingAudit(Mutex<Vec<AuditEvent>>);

impl RecordingAudit {
    fn events(&self) -> Vec<AuditEvent> {
        self.0.lock().unwrap().clone()
    }

    fn last(&self) -> AuditEvent {
        self.events().last().cloned().expect("an audit event")
    }
}

impl AuditSink for RecordingAudit {
    fn record(&self, event: AuditEvent) {
        self.0.lock().unwrap().push(event);
    }
}

struct Fixture {
    manager: ClientManager,
    store: Arc<SqliteStore>,
    clock: Arc<ManualClock>,
    audit: Arc<RecordingAudit>,
}

impl Fixture {
    async fn new() -> Self {
        let store = Arc::new(SqliteStore::open_in_memory().await.unwrap());
        let clock = Arc::new(ManualClock::new(datetime!(2025-03-01 10:00:00 UTC)));
        let audit = Arc::new(RecordingAudit::default());
        let manager = manager_on(store.clone(), clock.clone(), audit.clone());
        Self {
            manager,
            store,
            clock,
            audit,
        }
    }

    async fn stored(&self, client_id: &str) -> ClientRecord {
        self.store
            .get_client(client_id)
            .await
            .unwrap()
            .expect("stored client")
    }

    async fn create_v3(&self, body: Value) -> Result<ClientResponse> {
        self.manager
            .create_v3(serde_json::from_value(body).unwrap())
            .await
    }

    /// Registers a valid v3 client and returns its body.
    async fn registered(&self, client_id: &str) -> Value {
        let body = v3_body(client_id);
        self.create_v3(body.clone()).await.unwrap();
        body
    }
}

fn manager_on(
    store: Arc<dyn ClientStore>,
    clock: Arc<ManualClock>,
    audit: Arc<RecordingAudit>,
) -> ClientManager {
    ClientManager::new(
        store,
        clock,
        audit,
        CLAIMS.iter().map(|claim| claim.to_string()).collect(),
        ACRS.iter().map(|acr| acr.to_string()).collect(),
    )
}

/// How a scripted store fails a write.
type Failure = fn() -> StoreError;

/// A store whose answers are scripted: what `get_client` returns and how writes fail.
struct ScriptedStore {
    get: Box<dyn Fn() -> Result<Option<ClientRecord>, StoreError> + Send + Sync>,
    write_error: Box<dyn Fn() -> StoreError + Send + Sync>,
}

impl ScriptedStore {
    fn down() -> Self {
        Self {
            get: Box::new(|| Err(StoreError::Unavailable("connection refused".into()))),
            write_error: Box::new(|| StoreError::Unavailable("connection refused".into())),
        }
    }
}

#[async_trait::async_trait]
impl ClientStore for ScriptedStore {
    async fn get_client(&self, _client_id: &str) -> Result<Option<ClientRecord>, StoreError> {
        (self.get)()
    }

    async fn insert_client(&self, _client: &ClientRecord) -> Result<(), StoreError> {
        Err((self.write_error)())
    }

    async fn update_client(&self, _client: &ClientRecord) -> Result<(), StoreError> {
        Err((self.write_error)())
    }
}

/// A stored client as a scripted store returns it.
fn stored_record(client_id: &str) -> ClientRecord {
    let key = esignet_jose::PublicJwk::from_json(&ec_key()).unwrap();
    ClientRecord {
        client_id: client_id.to_owned(),
        name: validate::name_object(Some("Portal".to_owned()), Map::new()),
        relying_party_id: "rp".to_owned(),
        logo_uri: "https://rp.example.org/logo.png".to_owned(),
        redirect_uris: vec!["https://rp.example.org/cb".to_owned()],
        claims: vec!["name".to_owned()],
        acr_values: vec![ACRS[0].to_owned()],
        public_key: key.to_json(),
        public_key_hash: key.identity_hash(),
        enc_public_key: None,
        grant_types: vec!["authorization_code".to_owned()],
        auth_methods: vec!["private_key_jwt".to_owned()],
        status: ClientStatus::Active,
        additional_config: None,
        created_at: datetime!(2025-01-01 00:00:00 UTC),
        updated_at: None,
    }
}

fn scripted(store: ScriptedStore) -> (ClientManager, Arc<RecordingAudit>) {
    let audit = Arc::new(RecordingAudit::default());
    let clock = Arc::new(ManualClock::new(datetime!(2025-03-01 10:00:00 UTC)));
    (manager_on(Arc::new(store), clock, audit.clone()), audit)
}

fn ec_key() -> Value {
    PrivateKey::generate_ec_p256()
        .unwrap()
        .public_jwk()
        .to_json()
}

fn rsa_key() -> Value {
    PrivateKey::generate_rsa(2048)
        .unwrap()
        .public_jwk()
        .to_json()
}

fn rsa_1024_key() -> Value {
    let rsa = openssl::rsa::Rsa::generate(1024).unwrap();
    json!({"kty": "RSA", "n": b64url_encode(&rsa.n().to_vec()), "e": b64url_encode(&rsa.e().to_vec())})
}

fn with_member(mut key: Value, name: &str, value: &str) -> Value {
    key[name] = json!(value);
    key
}

fn full_additional_config() -> Value {
    json!({
        "userinfo_response_type": "JWE",
        "purpose": {
            "type": "verify",
            "title": {"@none": "Verify yourself", "fra": "Vérifiez-vous"},
            "subTitle": null,
        },
        "signup_banner_required": true,
        "forgot_pwd_link_required": false,
        "consent_expire_in_mins": 20,
        "require_pushed_authorization_requests": false,
        "dpop_bound_access_tokens": true,
        "require_pkce": true,
    })
}

/// A valid `POST /client-mgmt/client` request with a fresh EC key.
fn v3_body(client_id: &str) -> Value {
    json!({
        "clientId": client_id,
        "clientName": "Health portal",
        "clientNameLangMap": {"fra": "Portail santé", "ara": "بوابة الصحة"},
        "publicKey": ec_key(),
        "relyingPartyId": "rp-health",
        "userClaims": ["name", "email"],
        "authContextRefs": ["mosip:idp:acr:generated-code"],
        "logoUri": "https://rp.example.org/logo.png",
        "redirectUris": ["https://rp.example.org/callback"],
        "grantTypes": ["authorization_code"],
        "clientAuthMethods": ["private_key_jwt"],
        "additionalConfig": full_additional_config(),
    })
}

/// A valid `PUT /client-mgmt/client/{id}` request.
fn update_v3_body() -> Value {
    json!({
        "clientName": "Health portal 2",
        "clientNameLangMap": {"spa": "Portal de salud"},
        "logoUri": "https://rp.example.org/logo2.png",
        "redirectUris": ["https://rp.example.org/cb2", "https://rp.example.org/app/*"],
        "userClaims": ["phone_number"],
        "authContextRefs": ["mosip:idp:acr:password mosip:idp:acr:biometrics"],
        "status": "INACTIVE",
        "grantTypes": ["authorization_code"],
        "clientAuthMethods": ["private_key_jwt"],
        "additionalConfig": {"userinfo_response_type": "JWS"},
    })
}

/// `body` with `field` set to `value` (`null` stands for a missing field: both are `None`).
fn set(mut body: Value, field: &str, value: Value) -> Value {
    body[field] = value;
    body
}

/// `body` without `field`.
fn remove(mut body: Value, field: &str) -> Value {
    body.as_object_mut().unwrap().remove(field);
    body
}

fn code_of<T: std::fmt::Debug>(result: Result<T>) -> String {
    result.expect_err("an error").error_code().to_owned()
}

fn strings(value: &str, count: usize) -> Value {
    json!(vec![value; count])
}

#[test]
fn language_codes_are_sorted_unique_and_cover_the_served_languages() {
    assert!(
        validate::ISO_639_3_CODES
            .windows(2)
            .all(|pair| pair[0] < pair[1])
    );
    for code in [
        "eng", "fra", "ara", "hin", "kan", "tam", "khm", "spa", "por", "deu", "ita", "rus", "zho",
        "jpn", "kor", "ben", "urd", "swa", "amh", "tha", "vie", "ind", "msa", "tur", "fil", "tgl",
        "nep", "sin", "mar", "tel", "mal", "guj", "pan", "ori",
    ] {
        assert!(validate::is_language_code(code), "{code}");
    }
    for code in ["en", "ENG", "fre", "xyz", "@none", "", "engl"] {
        assert!(!validate::is_language_code(code), "{code}");
    }
}

#[test]
fn dto_field_names_are_camel_case_and_unknown_fields_are_rejected() {
    let response = ClientResponse {
        client_id: "c1".into(),
        status: ClientStatus::Inactive,
    };
    assert_eq!(
        serde_json::to_string(&response).unwrap(),
        r#"{"clientId":"c1","status":"INACTIVE"}"#
    );
    // A field of a newer version is unknown to an older one; the key cannot be changed by PUT.
    let unknown = [
        serde_json::from_value::<CreateClientV1Request>(json!({"clientNameLangMap": {}})).is_err(),
        serde_json::from_value::<CreateClientV2Request>(json!({"additionalConfig": {}})).is_err(),
        serde_json::from_value::<UpdateClientV3Request>(json!({"publicKey": {}})).is_err(),
        serde_json::from_value::<UpdateClientV3Request>(json!({"encPublicKey": {}})).is_err(),
        serde_json::from_value::<PatchClientRequest>(json!({"relyingPartyId": "x"})).is_err(),
        serde_json::from_value::<PatchClientRequest>(json!({"client_name": "x"})).is_err(),
    ];
    assert!(unknown.iter().all(|rejected| *rejected));
    assert!(
        serde_json::from_value::<CreateClientV3Request>(json!({"userClaims": "name"})).is_err()
    );
    let patch: PatchClientRequest =
        serde_json::from_value(json!({"clientName": null, "encPublicKey": {"kty": "RSA"}}))
            .unwrap();
    assert_eq!(patch.client_name, None);
    assert_eq!(patch.enc_public_key, Some(json!({"kty": "RSA"})));
}
