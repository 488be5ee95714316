//! A `Core` with the wallet enabled (mock key binder, SQLite key registry), on a `ManualClock`,
//! and a wallet that binds keys and logs residents in through the core's API.

use std::sync::Arc;
use std::time::Duration;

use esignet_cache_memory::MemoryCache;
use esignet_core::acr::{AcrMapping, AuthFactor};
use esignet_core::api::{OAuthDetailsRequest, TokenForm};
use esignet_core::wallet_api::{
    BindingOtpRequest, LinkAuthCodeRequest, LinkCodeRequest, LinkStatusRequest,
    LinkTransactionRequest, LinkedAuthenticateRequest, LinkedConsentRequest, WalletBindingRequest,
    WalletBindingResponse,
};
use esignet_core::{
    AuthenticateVersion, Core, CoreDeps, DetailsVersion, JWT_BEARER, TokenVersion, WalletConfig,
    WalletSupport,
};
use esignet_jose::{Algorithm, PrivateKey};
use esignet_keys::{KeyEncryptionKey, KeyManager, KeyPolicy};
use esignet_mock_authenticator::{Directory, MockAuthenticator, MockKeyBinder, MockSettings};
use esignet_spi::{AuthChallenge, ClientRecord, ClientStatus, ClientStore, Clock, ManualClock};
use esignet_store_sqlite::SqliteStore;
use serde_json::{Map, Value, json};

use crate::harness::{ISSUER, RecordingAudit};

pub const CLIENT: &str = "wallet-test-client";
pub const REDIRECT: &str = "https://rp.test/wallet-cb";
pub const MANSOUR: &str = "8267411571";
pub const SREYMOM: &str = "5860142938";
/// The long polls' wait in these tests: real time, kept short.
pub const POLL_WAIT: Duration = Duration::from_millis(300);

pub struct WalletHarness {
    pub core: Core,
    pub clock: Arc<ManualClock>,
    client_key: PrivateKey,
}

/// A wallet key with the certificate thumbprint its binding returned.
#[derive(Debug)]
pub struct BoundWallet {
    pub key: PrivateKey,
    pub algorithm: Algorithm,
    pub thumbprint: String,
    pub response: WalletBindingResponse,
}

/// One QR login in progress: the browser's transaction, its link code, the wallet's linked id.
pub struct QrLogin {
    pub transaction_id: String,
    pub link_code: String,
    pub linked_id: String,
}

impl WalletHarness {
    pub async fn new() -> WalletHarness {
        let start = time::macros::datetime!(2026-02-01 09:00 UTC);
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
        let open = |application: &'static str, policy: KeyPolicy| {
            KeyManager::open(
                store.clone(),
                kek.clone(),
                clock.clone(),
                application,
                policy,
            )
        };
        let service_keys = open("OIDC_SERVICE", policy("svc")).await.unwrap();
        let mock_keys = open("MOCK", policy("mock")).await.unwrap();
        let binding_keys = open(
            "MOCK_BINDING_SERVICE",
            policy("binding").issuing_certificates(),
        )
        .await
        .unwrap();
        let mock = Arc::new(MockAuthenticator::new(
            Directory::demo().unwrap(),
            mock_keys,
            cache.clone(),
            clock.clone(),
            MockSettings::new(ISSUER),
        ));
        let binder = Arc::new(MockKeyBinder::new(
            mock.clone(),
            binding_keys,
            time::Duration::days(10),
        ));
        let client_key = PrivateKey::generate_rsa(2048).unwrap();
        let public = client_key.public_jwk();
        store
            .insert_client(&ClientRecord {
                client_id: CLIENT.into(),
                name: Map::from_iter([("@none".to_owned(), json!("Wallet test"))]),
                relying_party_id: "wallet-rp".into(),
                logo_uri: "https://rp.test/logo.png".into(),
                redirect_uris: vec![REDIRECT.into()],
                claims: ["name", "email", "birthdate"].map(String::from).to_vec(),
                acr_values: vec!["wallet".into(), "otp".into()],
                public_key: public.to_json(),
                public_key_hash: public.identity_hash(),
                enc_public_key: None,
                grant_types: vec!["authorization_code".into()],
                auth_methods: vec!["private_key_jwt".into()],
                status: ClientStatus::Active,
                additional_config: None,
                created_at: start,
                updated_at: None,
            })
            .await
            .unwrap();
        let factor = |t: &str| AuthFactor {
            factor_type: t.into(),
            count: 0,
            sub_types: None,
        };
        let mut config = crate::harness::config();
        config.acr = AcrMapping::new(
            vec![
                ("OTP".into(), vec![factor("OTP")]),
                ("Wallet".into(), vec![factor("WLA")]),
            ],
            vec![
                ("otp".into(), vec!["OTP".into()]),
                ("wallet".into(), vec!["Wallet".into()]),
            ],
        );
        let core = Core::new(
            config,
            CoreDeps {
                clients: store.clone(),
                consents: store.clone(),
                cache,
                authenticator: mock,
                signer: service_keys,
                audit: Arc::new(RecordingAudit::default()),
                clock: clock.clone(),
                transaction_key: kek.derive("transaction-cache"),
            },
        )
        .with_wallet(WalletSupport {
            config: WalletConfig {
                link_status_timeout: POLL_WAIT,
                link_auth_code_timeout: POLL_WAIT,
                ..WalletConfig::default()
            },
            binder,
            bindings: store,
        });
        WalletHarness {
            core,
            clock,
            client_key,
        }
    }

    pub fn advance(&self, seconds: i64) {
        self.clock.advance(time::Duration::seconds(seconds));
    }

    pub fn now(&self) -> i64 {
        self.clock.now().unix_timestamp()
    }

    /// binding-otp + wallet-binding with the OTP, for a fresh key of `algorithm`.
    pub async fn bind(
        &self,
        individual_id: &str,
        algorithm: Algorithm,
    ) -> esignet_core::Result<BoundWallet> {
        let key = match algorithm {
            Algorithm::ES256 => PrivateKey::generate_ec_p256().unwrap(),
            _ => PrivateKey::generate_rsa(2048).unwrap(),
        };
        self.bind_key(individual_id, key, algorithm).await
    }

    pub async fn bind_key(
        &self,
        individual_id: &str,
        key: PrivateKey,
        algorithm: Algorithm,
    ) -> esignet_core::Result<BoundWallet> {
        self.core
            .send_binding_otp(
                BindingOtpRequest {
                    individual_id: Some(individual_id.into()),
                    otp_channels: vec!["email".into(), "phone".into()],
                    captcha_token: None,
                },
                &[],
            )
            .await?;
        let response = self
            .core
            .wallet_binding(
                self.binding_request(individual_id, &key, "OTP", "111111"),
                &[],
            )
            .await?;
        let certificate = openssl::x509::X509::from_pem(response.certificate.as_bytes()).unwrap();
        let thumbprint = esignet_jose::sha256_b64url(&certificate.to_der().unwrap());
        Ok(BoundWallet {
            key,
            algorithm,
            thumbprint,
            response,
        })
    }

    /// A wallet holding a fresh, unbound key that names `bound`'s certificate.
    pub fn forged(&self, bound: &BoundWallet) -> BoundWallet {
        BoundWallet {
            key: PrivateKey::generate_rsa(2048).unwrap(),
            algorithm: Algorithm::RS256,
            thumbprint: bound.thumbprint.clone(),
            response: bound.response.clone(),
        }
    }

    pub fn binding_request(
        &self,
        individual_id: &str,
        key: &PrivateKey,
        factor: &str,
        challenge: &str,
    ) -> WalletBindingRequest {
        let format = if factor == "PIN" {
            "number"
        } else {
            "alpha-numeric"
        };
        WalletBindingRequest {
            individual_id: Some(individual_id.into()),
            challenge_list: vec![AuthChallenge {
                auth_factor_type: factor.into(),
                challenge: challenge.into(),
                format: format.into(),
            }],
            public_key: Some(key.public_jwk().to_json()),
            auth_factor_type: Some("WLA".into()),
            format: Some("jwt".into()),
        }
    }

    /// oauth-details (name essential, email voluntary) and a link code.
    pub async fn start_qr(&self) -> esignet_core::Result<QrLogin> {
        let outcome = self
            .core
            .oauth_details(
                DetailsVersion::V3,
                OAuthDetailsRequest {
                    client_id: Some(CLIENT.into()),
                    scope: Some("openid".into()),
                    response_type: Some("code".into()),
                    redirect_uri: Some(REDIRECT.into()),
                    state: Some("st".into()),
                    claims: Some(json!({"userinfo": {"name": {"essential": true}, "email": null}})),
                    ..Default::default()
                },
            )
            .await?;
        let link_code = self.link_code(&outcome.transaction_id).await?;
        Ok(QrLogin {
            transaction_id: outcome.transaction_id,
            link_code,
            linked_id: String::new(),
        })
    }

    pub async fn link_code(&self, transaction_id: &str) -> esignet_core::Result<String> {
        Ok(self
            .core
            .link_code(LinkCodeRequest {
                transaction_id: Some(transaction_id.into()),
            })
            .await?
            .link_code)
    }

    pub async fn link_status(&self, login: &QrLogin) -> esignet_core::Result<()> {
        self.core
            .link_status(LinkStatusRequest {
                transaction_id: Some(login.transaction_id.clone()),
                link_code: Some(login.link_code.clone()),
            })
            .await
            .map(|_| ())
    }

    pub async fn link_transaction(&self, link_code: &str) -> esignet_core::Result<String> {
        Ok(self
            .core
            .link_transaction(
                DetailsVersion::V2,
                LinkTransactionRequest {
                    link_code: Some(link_code.into()),
                },
            )
            .await?
            .link_transaction_id)
    }

    /// A WLA token; `edit` may change the claims before signing.
    pub fn wla(
        &self,
        wallet: &BoundWallet,
        subject: &str,
        edit: impl FnOnce(&mut Value),
    ) -> String {
        let now = self.now();
        let mut claims = json!({"sub": subject, "aud": "esignet-binding", "iss": "test-wallet",
                                "iat": now, "exp": now + 60, "jti": esignet_jose::random_id()});
        edit(&mut claims);
        let header = Map::from_iter([
            ("typ".to_owned(), json!("JWT")),
            ("x5t#S256".to_owned(), json!(wallet.thumbprint)),
        ]);
        esignet_jose::sign_compact(
            &wallet.key,
            wallet.algorithm,
            &header,
            claims.to_string().as_bytes(),
        )
        .unwrap()
    }

    pub async fn authenticate(
        &self,
        linked_id: &str,
        individual_id: &str,
        token: &str,
    ) -> esignet_core::Result<String> {
        let response = self
            .core
            .linked_authenticate(
                AuthenticateVersion::V2OrV3,
                LinkedAuthenticateRequest {
                    linked_transaction_id: Some(linked_id.into()),
                    individual_id: Some(individual_id.into()),
                    challenge_list: vec![AuthChallenge {
                        auth_factor_type: "WLA".into(),
                        challenge: token.into(),
                        format: "jwt".into(),
                    }],
                },
            )
            .await?;
        Ok(serde_json::to_value(response.consent_action)
            .unwrap()
            .as_str()
            .unwrap_or_default()
            .to_owned())
    }

    /// The detached consent signature `<header>.<signature>`.
    pub fn consent_signature(&self, wallet: &BoundWallet, accepted: &[&str]) -> String {
        let accepted: Vec<String> = accepted.iter().map(|c| (*c).to_owned()).collect();
        let payload = esignet_core::wla::consent_payload(&accepted, &[]);
        let header = Map::from_iter([("x5t#S256".to_owned(), json!(wallet.thumbprint))]);
        let jws =
            esignet_jose::sign_compact(&wallet.key, wallet.algorithm, &header, payload.as_bytes())
                .unwrap();
        let parts: Vec<&str> = jws.split('.').collect();
        format!("{}.{}", parts[0], parts[2])
    }

    pub async fn consent(
        &self,
        linked_id: &str,
        accepted: &[&str],
        signature: Option<String>,
    ) -> esignet_core::Result<()> {
        self.core
            .linked_consent(
                AuthenticateVersion::V2OrV3,
                LinkedConsentRequest {
                    linked_transaction_id: Some(linked_id.into()),
                    accepted_claims: accepted.iter().map(|c| (*c).to_owned()).collect(),
                    permitted_authorize_scopes: vec![],
                    signature,
                },
            )
            .await
            .map(|_| ())
    }

    pub async fn link_auth_code(&self, login: &QrLogin) -> esignet_core::Result<String> {
        Ok(self
            .core
            .link_auth_code(LinkAuthCodeRequest {
                transaction_id: Some(login.transaction_id.clone()),
                linked_code: Some(login.link_code.clone()),
            })
            .await?
            .code)
    }

    /// Binds nothing: runs a whole QR login of `individual_id` with `wallet`; returns the code.
    pub async fn qr_login(
        &self,
        wallet: &BoundWallet,
        individual_id: &str,
    ) -> esignet_core::Result<(QrLogin, String)> {
        let mut login = self.start_qr().await?;
        login.linked_id = self.link_transaction(&login.link_code).await?;
        let token = self.wla(wallet, individual_id, |_| {});
        let action = self
            .authenticate(&login.linked_id, individual_id, &token)
            .await?;
        if action == "CAPTURE" {
            let signature = self.consent_signature(wallet, &["name", "email"]);
            self.consent(&login.linked_id, &["name", "email"], Some(signature))
                .await?;
        }
        let code = self.link_auth_code(&login).await?;
        Ok((login, code))
    }

    /// The token endpoint with this client's assertion.
    pub async fn token(&self, code: &str) -> esignet_core::Result<Value> {
        let now = self.now();
        let claims = json!({"iss": CLIENT, "sub": CLIENT,
                            "aud": format!("{ISSUER}/v1/esignet/oauth/v2/token"),
                            "iat": now, "exp": now + 60, "jti": esignet_jose::random_id()});
        let assertion = esignet_jose::sign_compact(
            &self.client_key,
            Algorithm::RS256,
            &Map::new(),
            claims.to_string().as_bytes(),
        )
        .unwrap();
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
