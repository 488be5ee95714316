//! Builds a `Core` on real seams with a `ManualClock`, and drives logins through its API.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use esignet_cache_memory::MemoryCache;
use esignet_core::acr::{AcrMapping, AuthFactor};
use esignet_core::api::{
    AuthCodeRequest, AuthenticateRequest, OAuthDetailsRequest, SendOtpRequest, TokenForm,
};
use esignet_core::{
    AuthenticateVersion, Core, CoreConfig, CoreDeps, DetailsHeaders, DetailsVersion, JWT_BEARER,
    TokenVersion,
};
use esignet_jose::{Algorithm, PrivateKey};
use esignet_keys::{KeyEncryptionKey, KeyManager, KeyPolicy};
use esignet_mock_authenticator::{Directory, MockAuthenticator, MockSettings};
use esignet_spi::{
    AuditEvent, AuditSink, AuthChallenge, ClientRecord, ClientStatus, ClientStore, ManualClock,
};
use esignet_store_sqlite::SqliteStore;
use serde_json::{Map, Value, json};

pub const ISSUER: &str = "https://esignet.test";
pub const CLIENT: &str = "core-test-client";
pub const REDIRECT: &str = "https://rp.test/cb";
pub const RESIDENT: &str = "8267411571";

/// Records audit events.
#[derive(Default)]
pub struct RecordingAudit(pub Mutex<Vec<AuditEvent>>);

impl AuditSink for RecordingAudit {
    fn record(&self, event: AuditEvent) {
        self.0.lock().unwrap().push(event);
    }
}

pub struct Harness {
    pub core: Core,
    pub clock: Arc<ManualClock>,
    pub store: Arc<SqliteStore>,
    pub audit: Arc<RecordingAudit>,
    pub client_key: PrivateKey,
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

pub fn config() -> CoreConfig {
    let factor = |t: &str| AuthFactor {
        factor_type: t.into(),
        count: 0,
        sub_types: None,
    };
    CoreConfig {
        issuer: ISSUER.into(),
        authorization_endpoint: format!("{ISSUER}/authorize"),
        token_endpoint: format!("{ISSUER}/v1/esignet/oauth/v2/token"),
        token_endpoint_v1: format!("{ISSUER}/v1/esignet/oauth/token"),
        par_endpoint: format!("{ISSUER}/v1/esignet/oauth/par"),
        userinfo_endpoint: format!("{ISSUER}/v1/esignet/oidc/userinfo"),
        introspection_endpoint: format!("{ISSUER}/v1/esignet/oauth/introspect"),
        revocation_endpoint: format!("{ISSUER}/v1/esignet/oauth/revoke"),
        end_session_endpoint: format!("{ISSUER}/v1/esignet/oidc/logout"),
        jwks_uri: format!("{ISSUER}/.well-known/jwks.json"),
        openid_scopes: ["openid", "profile", "email", "phone", "address"]
            .map(String::from)
            .to_vec(),
        authorize_scopes: vec!["Manage-VID".into()],
        claims_supported: ["name", "email", "birthdate"].map(String::from).to_vec(),
        verified_claims_supported: ["name", "birthdate"].map(String::from).to_vec(),
        trust_frameworks_supported: vec!["eidas".to_owned()],
        claims_locales_supported: vec!["en".into()],
        ui_locales_supported: vec!["en".into()],
        acr_values_supported: vec!["otp".into()],
        acr: AcrMapping::new(
            vec![("OTP".into(), vec![factor("OTP")])],
            vec![("otp".into(), vec!["OTP".into()])],
        ),
        fapi2_profile: false,
        id_token_lifetime: secs(3600),
        access_token_lifetime: secs(3600),
        auth_code_lifetime: secs(300),
        preauth_ttl: secs(300),
        authenticated_ttl: secs(120),
        par_ttl: secs(60),
        nonce_ttl: secs(86_400),
        jti_ttl: secs(86_400),
        rate_limit_window: secs(180),
        block_ttl: secs(600),
        send_otp_attempts: 3,
        authenticate_attempts: 3,
        auth_txn_id_length: 10,
        request_time_leeway: secs(120),
        client_assertion_leeway: secs(5),
        dpop_clock_skew: secs(10),
        dpop_iat_window: secs(60),
        dpop_nonce_ttl: secs(15),
        dpop_algs: vec![Algorithm::ES256, Algorithm::RS256],
        client_assertion_algs: vec![Algorithm::RS256],
        ui_configs: Map::new(),
    }
}

impl Harness {
    /// A core whose client has `consent_expire_in_mins` = 10.
    pub async fn new() -> Harness {
        Self::with_config(config()).await
    }

    /// Like [`Harness::new`] with another configuration.
    pub async fn with_config(core_config: CoreConfig) -> Harness {
        let start = time::macros::datetime!(2026-01-01 08:00 UTC);
        let clock = Arc::new(ManualClock::new(start));
        let store = Arc::new(SqliteStore::open_in_memory().await.unwrap());
        let cache = MemoryCache::new(clock.clone());
        let kek = Arc::new(
            KeyEncryptionKey::from_base64("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=").unwrap(),
        );
        let policy = |cn: &str| {
            KeyPolicy::for_jws(
                Algorithm::RS256,
                time::Duration::days(90),
                time::Duration::days(14),
                cn,
            )
        };
        let keys = KeyManager::open(
            store.clone(),
            kek.clone(),
            clock.clone(),
            "OIDC_SERVICE",
            policy("svc"),
        )
        .await
        .unwrap();
        let mock_keys = KeyManager::open(
            store.clone(),
            kek.clone(),
            clock.clone(),
            "MOCK",
            policy("mock"),
        )
        .await
        .unwrap();
        let authenticator = Arc::new(MockAuthenticator::new(
            Directory::demo().unwrap(),
            mock_keys,
            cache.clone(),
            clock.clone(),
            MockSettings::new(ISSUER),
        ));
        let client_key = PrivateKey::generate_rsa(2048).unwrap();
        let public = client_key.public_jwk();
        store
            .insert_client(&ClientRecord {
                client_id: CLIENT.into(),
                name: Map::from_iter([("@none".to_owned(), json!("Core test"))]),
                relying_party_id: "core-rp".into(),
                logo_uri: "https://rp.test/logo.png".into(),
                redirect_uris: vec![REDIRECT.into()],
                claims: ["name", "email", "birthdate"].map(String::from).to_vec(),
                acr_values: vec!["otp".into()],
                public_key: public.to_json(),
                public_key_hash: public.identity_hash(),
                enc_public_key: None,
                grant_types: vec!["authorization_code".into()],
                auth_methods: vec!["private_key_jwt".into()],
                status: ClientStatus::Active,
                additional_config: Some(json!({"consent_expire_in_mins": 10})),
                created_at: start,
                updated_at: None,
            })
            .await
            .unwrap();
        let audit = Arc::new(RecordingAudit::default());
        let core = Core::new(
            core_config,
            CoreDeps {
                clients: store.clone(),
                consents: store.clone(),
                cache,
                authenticator,
                signer: keys,
                audit: audit.clone(),
                clock: clock.clone(),
                transaction_key: kek.derive("transaction-cache"),
            },
        );
        Harness {
            core,
            clock,
            store,
            audit,
            client_key,
        }
    }

    pub fn advance(&self, seconds: i64) {
        self.clock.advance(time::Duration::seconds(seconds));
    }

    pub fn now(&self) -> i64 {
        use esignet_spi::Clock;
        self.clock.now().unix_timestamp()
    }

    /// oauth-details; returns (transaction id, hash).
    pub async fn start(&self, scope: &str) -> (String, String) {
        let outcome = self
            .core
            .oauth_details(
                DetailsVersion::V3,
                OAuthDetailsRequest {
                    client_id: Some(CLIENT.into()),
                    scope: Some(scope.into()),
                    response_type: Some("code".into()),
                    redirect_uri: Some(REDIRECT.into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let hash = esignet_jose::sha256_b64url(outcome.response_json.as_bytes());
        (outcome.transaction_id, hash)
    }

    pub async fn send_otp(&self, txn: &(String, String)) -> esignet_core::Result<()> {
        self.core
            .send_otp(
                DetailsHeaders {
                    key: Some(&txn.0),
                    hash: Some(&txn.1),
                },
                SendOtpRequest {
                    transaction_id: Some(txn.0.clone()),
                    individual_id: Some(RESIDENT.into()),
                    otp_channels: vec!["email".into()],
                    captcha_token: None,
                },
            )
            .await
            .map(|_| ())
    }

    /// send-otp + authenticate; returns the consent action.
    pub async fn authenticate(&self, txn: &(String, String)) -> esignet_core::Result<String> {
        self.send_otp(txn).await?;
        let response = self
            .core
            .authenticate(
                AuthenticateVersion::V2OrV3,
                DetailsHeaders {
                    key: Some(&txn.0),
                    hash: Some(&txn.1),
                },
                AuthenticateRequest {
                    transaction_id: Some(txn.0.clone()),
                    individual_id: Some(RESIDENT.into()),
                    challenge_list: vec![AuthChallenge {
                        auth_factor_type: "OTP".into(),
                        challenge: "111111".into(),
                        format: "alpha-numeric".into(),
                    }],
                    captcha_token: None,
                },
            )
            .await?;
        Ok(serde_json::to_value(response.consent_action)
            .unwrap()
            .as_str()
            .unwrap()
            .to_owned())
    }

    pub async fn auth_code(
        &self,
        txn: &(String, String),
        accepted: &[&str],
    ) -> esignet_core::Result<String> {
        let response = self
            .core
            .auth_code(
                DetailsHeaders {
                    key: Some(&txn.0),
                    hash: Some(&txn.1),
                },
                AuthCodeRequest {
                    transaction_id: Some(txn.0.clone()),
                    accepted_claims: accepted.iter().map(|c| (*c).to_owned()).collect(),
                    permitted_authorize_scopes: vec![],
                },
            )
            .await?;
        Ok(response.code)
    }

    /// A client assertion for the token endpoint expiring `exp_in` seconds from now.
    pub fn assertion(&self, exp_in: i64) -> String {
        let now = self.now();
        let claims = json!({"iss": CLIENT, "sub": CLIENT, "aud": format!("{ISSUER}/v1/esignet/oauth/v2/token"),
                            "iat": now, "exp": now + exp_in, "jti": esignet_jose::random_id()});
        esignet_jose::sign_compact(
            &self.client_key,
            Algorithm::RS256,
            &Map::new(),
            claims.to_string().as_bytes(),
        )
        .unwrap()
    }

    pub async fn token(&self, code: &str, assertion: String) -> esignet_core::Result<Value> {
        let outcome = self
            .core
            .token(
                TokenVersion::V2,
                TokenForm {
                    grant_type: Some("authorization_code".into()),
                    code: Some(code.into()),
                    client_id: Some(CLIENT.into()),
                    redirect_uri: Some(REDIRECT.into()),
                    client_assertion_type: Some(JWT_BEARER.into()),
                    client_assertion: Some(assertion),
                    code_verifier: None,
                },
                None,
            )
            .await?;
        Ok(serde_json::to_value(outcome.response).unwrap())
    }
}
