//! A wallet simulator for eSignet-rs (and eSignet): what a wallet app such as Inji does, over
//! the wallet's own HTTP API, for demos, tests and integrators checking their deployment.
//!
//! * [`WalletSim::bind`]: `POST /binding/binding-otp` then `/binding/wallet-binding` with the
//!   OTP: a fresh key (ES256 or RS256) is certified and recorded for the `WLA` factor.
//! * [`WalletSim::login`]: completes a QR-code login from the link code the login page shows:
//!   `/linked-authorization/v2/link-transaction` → `/v2/authenticate` with a WLA token signed by
//!   the bound key → `/v2/consent` with the detached signature, when consent is asked for.
//!
//! The wire formats are documented in `docs/wallet.md`. Nothing here keeps personal data beyond
//! the values the caller passes in; a [`Binding`] holds a private key and should be stored like
//! one ([`Binding::to_json`]).
#![deny(missing_docs)]

use std::sync::Arc;

use esignet_jose::{Algorithm, PrivateKey};
use esignet_spi::Clock;
use openssl::x509::X509;
use serde_json::{Map, Value, json};
use time::macros::format_description;

/// The default `aud` of WLA tokens (eSignet's `mosip.esignet.binding.audience-id`).
pub const DEFAULT_AUDIENCE: &str = "esignet-binding";

/// Seconds a WLA token made here is valid.
const WLA_LIFETIME_SECS: i64 = 60;

/// Why a wallet operation failed.
#[derive(Debug, thiserror::Error)]
pub enum WalletError {
    /// The server could not be reached or answered with a non-JSON body.
    #[error("HTTP failure on {path}: {detail}")]
    Http {
        /// The API path called.
        path: String,
        /// What went wrong.
        detail: String,
    },
    /// The server answered with an error code in `errors[]`.
    #[error("{path} answered {code}")]
    Api {
        /// The API path called.
        path: String,
        /// eSignet's error code (`invalid_link_code`, `auth_failed`, ...).
        code: String,
    },
    /// An answer or a stored binding lacked something the protocol requires, or signing failed.
    #[error("protocol error: {0}")]
    Protocol(String),
}

impl WalletError {
    /// The eSignet error code, for [`WalletError::Api`].
    pub fn code(&self) -> Option<&str> {
        match self {
            WalletError::Api { code, .. } => Some(code),
            _ => None,
        }
    }
}

/// A key bound to a resident: the private key, the certificate the server issued and what the
/// binding call answered.
#[derive(Debug, Clone)]
pub struct Binding {
    /// The wallet's private key.
    pub key: PrivateKey,
    /// The JWS algorithm the key signs with (`ES256` or `RS256`).
    pub algorithm: Algorithm,
    /// The PEM certificate of the key.
    pub certificate: String,
    /// The certificate's `x5t#S256` thumbprint, put in every WLA token and consent signature.
    pub thumbprint: String,
    /// `walletUserId` as answered (a JWE for RSA keys unless the server turned that off).
    pub wallet_user_id: String,
    /// When the binding ends (`expireDateTime`).
    pub expire_date_time: String,
}

impl Binding {
    /// The binding as JSON (private key as a JWK): keep it secret.
    pub fn to_json(&self) -> Result<Value, WalletError> {
        Ok(json!({
            "key": self.key.private_jwk_json().map_err(protocol)?,
            "algorithm": self.algorithm.as_str(),
            "certificate": self.certificate,
            "thumbprint": self.thumbprint,
            "walletUserId": self.wallet_user_id,
            "expireDateTime": self.expire_date_time,
        }))
    }

    /// A binding saved with [`Binding::to_json`].
    pub fn from_json(value: &Value) -> Result<Self, WalletError> {
        let text = |name: &str| {
            value
                .get(name)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| WalletError::Protocol(format!("saved binding lacks {name}")))
        };
        let key = PrivateKey::from_private_jwk_json(
            value
                .get("key")
                .ok_or_else(|| WalletError::Protocol("saved binding lacks key".into()))?,
        )
        .map_err(protocol)?;
        let algorithm = Algorithm::parse(&text("algorithm")?)
            .ok_or_else(|| WalletError::Protocol("unknown algorithm".into()))?;
        Ok(Binding {
            key,
            algorithm,
            certificate: text("certificate")?,
            thumbprint: text("thumbprint")?,
            wallet_user_id: text("walletUserId")?,
            expire_date_time: text("expireDateTime")?,
        })
    }
}

/// Which claims the simulated resident accepts when the wallet shows a consent screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConsentChoice {
    /// Essential claims only, no authorize scope.
    EssentialOnly,
    /// Every requested claim and authorize scope.
    All,
    /// Exactly these claims (possibly leaving out essential ones, to see the refusal), no scope.
    Claims(Vec<String>),
}

/// What a completed wallet login did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginOutcome {
    /// The linked transaction id.
    pub linked_transaction_id: String,
    /// `CAPTURE` (consent was sent) or `NOCAPTURE` (a stored consent covered the request).
    pub consent_action: String,
    /// The claims consented to (empty for `NOCAPTURE`).
    pub accepted_claims: Vec<String>,
    /// The authorize scopes permitted (empty for `NOCAPTURE`).
    pub permitted_scopes: Vec<String>,
}

/// A wallet talking to one eSignet(-rs) server.
pub struct WalletSim {
    http: reqwest::Client,
    api: String,
    clock: Arc<dyn Clock>,
    audience: String,
}

impl WalletSim {
    /// A wallet for the server at `base_url` (`http://127.0.0.1:8088`) whose API lives under
    /// `base_path` (`/v1/esignet`), reading time from `clock` (request times, WLA `iat`).
    pub fn new(
        base_url: &str,
        base_path: &str,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, WalletError> {
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(60))
            .build()
            .map_err(|error| WalletError::Http {
                path: String::new(),
                detail: error.to_string(),
            })?;
        Ok(Self {
            http,
            api: format!("{}{}", base_url.trim_end_matches('/'), base_path),
            clock,
            audience: DEFAULT_AUDIENCE.to_owned(),
        })
    }

    /// Uses `audience` as the `aud` of WLA tokens (the server's `wallet.binding_audience`).
    pub fn with_audience(mut self, audience: impl Into<String>) -> Self {
        self.audience = audience.into();
        self
    }

    /// POSTs a wrapped request to `path` (under the base path); the `response` object, or the
    /// first error code of `errors[]`.
    pub async fn call(&self, path: &str, request: Value) -> Result<Value, WalletError> {
        let body = json!({"requestTime": self.request_time(), "request": request});
        let http = |detail: String| WalletError::Http {
            path: path.to_owned(),
            detail,
        };
        let answer: Value = self
            .http
            .post(format!("{}{path}", self.api))
            .json(&body)
            .send()
            .await
            .map_err(|error| http(error.to_string()))?
            .json()
            .await
            .map_err(|error| http(error.to_string()))?;
        if let Some(code) = answer
            .get("errors")
            .and_then(Value::as_array)
            .and_then(|errors| errors.first())
            .and_then(|error| error.get("errorCode"))
            .and_then(Value::as_str)
        {
            return Err(WalletError::Api {
                path: path.to_owned(),
                code: code.to_owned(),
            });
        }
        answer
            .get("response")
            .filter(|response| !response.is_null())
            .cloned()
            .ok_or_else(|| http("no response object".into()))
    }

    /// Binds a fresh key of `algorithm` (ES256 or RS256) to `individual_id` for the `WLA`
    /// factor, proving identity with `otp` after asking for one on `email` and `phone`.
    pub async fn bind(
        &self,
        individual_id: &str,
        otp: &str,
        algorithm: Algorithm,
    ) -> Result<Binding, WalletError> {
        let key = match algorithm {
            Algorithm::ES256 => PrivateKey::generate_ec_p256(),
            Algorithm::RS256 | Algorithm::PS256 => PrivateKey::generate_rsa(2048),
        }
        .map_err(protocol)?;
        self.call(
            "/binding/binding-otp",
            json!({"individualId": individual_id, "otpChannels": ["email", "phone"]}),
        )
        .await?;
        let response = self
            .call(
                "/binding/wallet-binding",
                json!({
                    "individualId": individual_id,
                    "challengeList": [{"authFactorType": "OTP", "challenge": otp, "format": "alpha-numeric"}],
                    "publicKey": key.public_jwk().to_json(),
                    "authFactorType": "WLA",
                    "format": "jwt",
                }),
            )
            .await?;
        let text = |name: &str| {
            response
                .get(name)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| WalletError::Protocol(format!("wallet-binding answer lacks {name}")))
        };
        let certificate = text("certificate")?;
        // A wallet trusts its certificate only once it chains to a key the server publishes.
        self.verify_certificate(&certificate).await?;
        let thumbprint = certificate_thumbprint(&certificate)?;
        Ok(Binding {
            key,
            algorithm,
            certificate,
            thumbprint,
            wallet_user_id: text("walletUserId")?,
            expire_date_time: text("expireDateTime")?,
        })
    }

    /// Verifies a binding certificate against the server's published binding CA keys
    /// (`GET /binding/certificates`): one of them must name it as issuer and carry a valid
    /// signature over it, each CA's `x5c` chain must link up by signature, and the certificate
    /// must be valid now.
    pub async fn verify_certificate(&self, certificate_pem: &str) -> Result<(), WalletError> {
        let path = "/binding/certificates";
        let http = |detail: String| WalletError::Http {
            path: path.to_owned(),
            detail,
        };
        let set: Value = self
            .http
            .get(format!("{}{path}", self.api))
            .send()
            .await
            .map_err(|error| http(error.to_string()))?
            .error_for_status()
            .map_err(|error| http(error.to_string()))?
            .json()
            .await
            .map_err(|error| http(error.to_string()))?;
        let certificate = X509::from_pem(certificate_pem.as_bytes()).map_err(protocol)?;
        let now = openssl::asn1::Asn1Time::from_unix(self.clock.now().unix_timestamp())
            .map_err(protocol)?;
        if certificate.not_before() > now || certificate.not_after() < now {
            return Err(WalletError::Protocol(
                "the binding certificate is not valid now".into(),
            ));
        }
        let keys = set
            .get("keys")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for key in keys {
            let chain: Vec<X509> = key
                .get("x5c")
                .and_then(Value::as_array)
                .map(|x5c| {
                    x5c.iter()
                        .filter_map(Value::as_str)
                        .filter_map(|b64| openssl::base64::decode_block(b64).ok())
                        .filter_map(|der| X509::from_der(&der).ok())
                        .collect()
                })
                .unwrap_or_default();
            let Some(authority) = chain.first() else {
                continue;
            };
            let links_up = chain.windows(2).all(|pair| signed_by(&pair[0], &pair[1]));
            if links_up && signed_by(&certificate, authority) {
                return Ok(());
            }
        }
        Err(WalletError::Protocol(
            "the binding certificate does not chain to a published binding CA".into(),
        ))
    }

    /// Completes the QR-code login shown as `link_code` (the code, or the deep link carrying
    /// `linkCode=`) for `individual_id` with `binding`, consenting as `choice` says if asked.
    pub async fn login(
        &self,
        binding: &Binding,
        individual_id: &str,
        link_code: &str,
        choice: &ConsentChoice,
    ) -> Result<LoginOutcome, WalletError> {
        let details = self
            .call(
                "/linked-authorization/v2/link-transaction",
                json!({"linkCode": parse_link_code(link_code)}),
            )
            .await?;
        let linked_id = details
            .get("linkTransactionId")
            .and_then(Value::as_str)
            .ok_or_else(|| WalletError::Protocol("no linkTransactionId".into()))?
            .to_owned();
        let token = self.wla_token(binding, individual_id)?;
        let authenticated = self
            .call(
                "/linked-authorization/v2/authenticate",
                json!({
                    "linkedTransactionId": linked_id,
                    "individualId": individual_id,
                    "challengeList": [{"authFactorType": "WLA", "challenge": token, "format": "jwt"}],
                }),
            )
            .await?;
        let consent_action = authenticated
            .get("consentAction")
            .and_then(Value::as_str)
            .unwrap_or("CAPTURE")
            .to_owned();
        if consent_action == "NOCAPTURE" {
            return Ok(LoginOutcome {
                linked_transaction_id: linked_id,
                consent_action,
                accepted_claims: Vec::new(),
                permitted_scopes: Vec::new(),
            });
        }
        let list = |name: &str| -> Vec<String> {
            details
                .get(name)
                .and_then(Value::as_array)
                .map(|items| {
                    items
                        .iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default()
        };
        let (accepted, permitted) = match choice {
            ConsentChoice::EssentialOnly => (list("essentialClaims"), Vec::new()),
            ConsentChoice::All => {
                let mut claims = list("essentialClaims");
                claims.extend(list("voluntaryClaims"));
                (claims, list("authorizeScopes"))
            }
            ConsentChoice::Claims(claims) => (claims.clone(), Vec::new()),
        };
        let signature = consent_signature(binding, &accepted, &permitted)?;
        self.call(
            "/linked-authorization/v2/consent",
            json!({
                "linkedTransactionId": linked_id,
                "acceptedClaims": accepted,
                "permittedAuthorizeScopes": permitted,
                "signature": signature,
            }),
        )
        .await?;
        Ok(LoginOutcome {
            linked_transaction_id: linked_id,
            consent_action,
            accepted_claims: accepted,
            permitted_scopes: permitted,
        })
    }

    /// A fresh WLA token for `individual_id`: header `x5t#S256`, claims `sub`, `aud`, `iss`,
    /// `iat`, `exp` (60 s) and a random `jti`.
    pub fn wla_token(&self, binding: &Binding, individual_id: &str) -> Result<String, WalletError> {
        let now = self.clock.now().unix_timestamp();
        let claims = json!({
            "sub": individual_id,
            "aud": self.audience,
            "iss": "esignet-wallet-sim",
            "iat": now,
            "exp": now + WLA_LIFETIME_SECS,
            "jti": esignet_jose::random_id(),
        });
        let header = Map::from_iter([
            ("typ".to_owned(), Value::from("JWT")),
            (
                "x5t#S256".to_owned(),
                Value::from(binding.thumbprint.as_str()),
            ),
        ]);
        esignet_jose::sign_compact(
            &binding.key,
            binding.algorithm,
            &header,
            claims.to_string().as_bytes(),
        )
        .map_err(protocol)
    }

    fn request_time(&self) -> String {
        let format = format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
        );
        self.clock
            .now()
            .to_offset(time::UtcOffset::UTC)
            .format(format)
            .unwrap_or_default()
    }
}

/// The detached consent signature `<header>.<signature>`: a JWS (header `x5t#S256`) over the
/// canonical `{"accepted_claims":[sorted],"permitted_authorized_scopes":[sorted]}`, with the
/// payload part left out.
pub fn consent_signature(
    binding: &Binding,
    accepted_claims: &[String],
    permitted_scopes: &[String],
) -> Result<String, WalletError> {
    let mut claims = accepted_claims.to_vec();
    claims.sort();
    let mut scopes = permitted_scopes.to_vec();
    scopes.sort();
    let payload =
        json!({"accepted_claims": claims, "permitted_authorized_scopes": scopes}).to_string();
    let header = Map::from_iter([(
        "x5t#S256".to_owned(),
        Value::from(binding.thumbprint.as_str()),
    )]);
    let jws =
        esignet_jose::sign_compact(&binding.key, binding.algorithm, &header, payload.as_bytes())
            .map_err(protocol)?;
    let mut parts = jws.split('.');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(header), Some(_), Some(signature)) => Ok(format!("{header}.{signature}")),
        _ => Err(WalletError::Protocol("malformed JWS".into())),
    }
}

/// Whether `authority` names `certificate`'s issuer and its key verifies the signature.
fn signed_by(certificate: &X509, authority: &X509) -> bool {
    let names_match = certificate
        .issuer_name()
        .try_cmp(authority.subject_name())
        .is_ok_and(|ordering| ordering == std::cmp::Ordering::Equal);
    names_match
        && authority
            .public_key()
            .ok()
            .and_then(|key| certificate.verify(&key).ok())
            .unwrap_or(false)
}

/// The `x5t#S256` of a PEM certificate: base64url(SHA-256(DER)).
pub fn certificate_thumbprint(pem: &str) -> Result<String, WalletError> {
    let certificate = openssl::x509::X509::from_pem(pem.as_bytes()).map_err(protocol)?;
    let der = certificate.to_der().map_err(protocol)?;
    Ok(esignet_jose::sha256_b64url(&der))
}

/// The link code of a scanned QR text: the `linkCode` query parameter of a deep link
/// (`io.mosip.residentapp.inji://wla-auth?linkCode=...&linkExpireDateTime=...`), or the text
/// itself.
pub fn parse_link_code(scanned: &str) -> String {
    let scanned = scanned.trim();
    url::Url::parse(scanned)
        .ok()
        .and_then(|url| {
            url.query_pairs()
                .find(|(name, _)| name == "linkCode")
                .map(|(_, value)| value.into_owned())
        })
        .unwrap_or_else(|| scanned.to_owned())
}

fn protocol(error: impl std::fmt::Display) -> WalletError {
    WalletError::Protocol(error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_codes_come_from_deep_links_or_as_they_are() {
        assert_eq!(
            parse_link_code(
                "io.mosip.residentapp.inji://wla-auth?linkCode=AbC123dEf456GhI&linkExpireDateTime=2026-01-01T00:00:00.000Z"
            ),
            "AbC123dEf456GhI"
        );
        assert_eq!(parse_link_code(" AbC123dEf456GhI "), "AbC123dEf456GhI");
    }

    #[test]
    fn consent_signatures_are_detached_and_verify_over_the_sorted_payload() {
        let key = PrivateKey::generate_ec_p256().unwrap_or_else(|_| unreachable!());
        let binding = Binding {
            key: key.clone(),
            algorithm: Algorithm::ES256,
            certificate: String::new(),
            thumbprint: "thumb".into(),
            wallet_user_id: String::new(),
            expire_date_time: String::new(),
        };
        let signature =
            consent_signature(&binding, &["name".into(), "email".into()], &[]).unwrap_or_default();
        let (header, signature) = signature.split_once('.').unwrap_or_default();
        let payload = r#"{"accepted_claims":["email","name"],"permitted_authorized_scopes":[]}"#;
        let compact = format!(
            "{header}.{}.{signature}",
            esignet_jose::b64url_encode(payload.as_bytes())
        );
        let decoded = esignet_jose::decode_compact(&compact).unwrap_or_else(|_| unreachable!());
        assert!(decoded.verify(&key.public_jwk()));
        assert_eq!(decoded.header["x5t#S256"], "thumb");
    }
}
