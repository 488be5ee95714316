//! [`RestConfig`]: the operations of the identity system and how its answers map to claims.

use std::time::Duration;

use serde_json::Value;

use crate::template::{BodyTemplate, Placeholder, UrlTemplate, check_pointer};

/// The HTTP method of the `user_info` operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Method {
    /// `GET`, without a body.
    #[default]
    Get,
    /// `POST` with the JSON body template.
    Post,
}

/// `authenticate`: `POST {url}` with `body`, once per challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthenticateOperation {
    /// URL template.
    pub url: String,
    /// JSON body template (`{individual_id}`, `{factor}`, `{challenge}` ...).
    pub body: String,
    /// Pointer into the answer that decides success; `None`: any 2xx answer is a success.
    pub success_pointer: Option<String>,
    /// The value at `success_pointer` that means success (JSON, for example `true` or `"OK"`).
    pub success_value: Value,
    /// Pointer to the person's stable id in the answer, from which the subject is derived;
    /// `None`: the individual id is.
    pub subject_pointer: Option<String>,
}

/// `send_otp`: `POST {url}` with `body`; the masked addresses are read from the answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendOtpOperation {
    /// URL template.
    pub url: String,
    /// JSON body template (`{individual_id}`, `{channels}` ...).
    pub body: String,
    /// Pointer to the masked email address in the answer, if it gives one.
    pub masked_email_pointer: Option<String>,
    /// Pointer to the masked phone number in the answer, if it gives one.
    pub masked_mobile_pointer: Option<String>,
}

/// `user_info`: the person's attributes, read at the KYC exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserInfoOperation {
    /// `GET` or `POST`.
    pub method: Method,
    /// URL template.
    pub url: String,
    /// JSON body template of a `POST`.
    pub body: Option<String>,
}

/// Settings of [`crate::RestAuthenticator`].
#[derive(Clone, PartialEq)]
pub struct RestConfig {
    /// Verifies one challenge.
    pub authenticate: AuthenticateOperation,
    /// Sends an OTP; `None`: the identity system sends none (`not_implemented`).
    pub send_otp: Option<SendOtpOperation>,
    /// Reads the person's attributes.
    pub user_info: UserInfoOperation,
    /// Auth factor types accepted (`OTP`, `PIN`, `PWD`, `KBI` ...); others are refused before
    /// any call.
    pub auth_factors: Vec<String>,
    /// OTP channels the identity system sends on (`email`, `phone`).
    pub otp_channels: Vec<String>,
    /// OIDC claim → JSON pointer into the `user_info` answer.
    pub claims: Vec<(String, String)>,
    /// Mapped claims that, once accepted, must be present: an answer without one is
    /// `data_exchange_failed` instead of a userinfo that silently lacks it.
    pub required_claims: Vec<String>,
    /// Headers sent with every call (API keys); values are secrets, never logged.
    pub headers: Vec<(String, String)>,
    /// The longest one call may take, connection included.
    pub timeout: Duration,
    /// The longest establishing a connection may take.
    pub connect_timeout: Duration,
    /// How long a KYC token stays usable.
    pub kyc_token_ttl: Duration,
    /// The `iss` of the userinfo JWS.
    pub issuer: String,
    /// ISO 639-3 language of multi-language values when no requested locale matches.
    pub default_language: String,
}

impl std::fmt::Debug for RestConfig {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Header values are secrets (API keys, bearer tokens): only their names are shown.
        let header_names: Vec<&str> = self.headers.iter().map(|(name, _)| name.as_str()).collect();
        formatter
            .debug_struct("RestConfig")
            .field("authenticate", &self.authenticate)
            .field("send_otp", &self.send_otp)
            .field("user_info", &self.user_info)
            .field("auth_factors", &self.auth_factors)
            .field("claims", &self.claims)
            .field("headers", &header_names)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// Why a [`RestConfig`] is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid REST identity system settings: {0}")]
pub struct RestConfigError(pub String);

/// The templates of every operation, parsed.
#[derive(Debug)]
pub(crate) struct Compiled {
    pub authenticate_url: UrlTemplate,
    pub authenticate_body: BodyTemplate,
    pub send_otp: Option<(UrlTemplate, BodyTemplate)>,
    pub user_info_url: UrlTemplate,
    pub user_info_body: Option<BodyTemplate>,
    pub headers: reqwest::header::HeaderMap,
}

fn problem(key: &str) -> impl Fn(String) -> RestConfigError + '_ {
    move |message| RestConfigError(format!("{key}: {message}"))
}

fn pointer(key: &str, pointer: Option<&String>) -> Result<(), RestConfigError> {
    pointer.map_or(Ok(()), |pointer| {
        check_pointer(pointer).map_err(problem(key))
    })
}

impl RestConfig {
    /// Parses every template and checks every pointer and header.
    pub(crate) fn compile(&self) -> Result<Compiled, RestConfigError> {
        let authenticate = &self.authenticate;
        let authenticate_url = UrlTemplate::parse(&authenticate.url, Placeholder::AUTHENTICATE)
            .map_err(problem("authenticate.url"))?;
        let authenticate_body = BodyTemplate::parse(&authenticate.body, Placeholder::AUTHENTICATE)
            .map_err(problem("authenticate.body"))?;
        pointer(
            "authenticate.success_pointer",
            authenticate.success_pointer.as_ref(),
        )?;
        pointer(
            "authenticate.subject_pointer",
            authenticate.subject_pointer.as_ref(),
        )?;
        let send_otp = match &self.send_otp {
            None => None,
            Some(operation) => {
                pointer(
                    "send_otp.masked_email_pointer",
                    operation.masked_email_pointer.as_ref(),
                )?;
                pointer(
                    "send_otp.masked_mobile_pointer",
                    operation.masked_mobile_pointer.as_ref(),
                )?;
                Some((
                    UrlTemplate::parse(&operation.url, Placeholder::SEND_OTP)
                        .map_err(problem("send_otp.url"))?,
                    BodyTemplate::parse(&operation.body, Placeholder::SEND_OTP)
                        .map_err(problem("send_otp.body"))?,
                ))
            }
        };
        let user_info_url = UrlTemplate::parse(&self.user_info.url, Placeholder::USER_INFO)
            .map_err(problem("user_info.url"))?;
        let user_info_body = match (self.user_info.method, &self.user_info.body) {
            (Method::Post, Some(body)) => Some(
                BodyTemplate::parse(body, Placeholder::USER_INFO)
                    .map_err(problem("user_info.body"))?,
            ),
            (Method::Post, None) => {
                return Err(RestConfigError(
                    "user_info.body: a POST needs a body template".into(),
                ));
            }
            (Method::Get, _) => None,
        };
        if self.auth_factors.is_empty() {
            return Err(RestConfigError("no auth factor type is configured".into()));
        }
        for (claim, path) in &self.claims {
            if claim.is_empty() {
                return Err(RestConfigError("a claim mapping has no claim name".into()));
            }
            check_pointer(path).map_err(problem(&format!("claims.{claim}")))?;
        }
        if let Some(missing) = self
            .required_claims
            .iter()
            .find(|claim| !self.claims.iter().any(|(name, _)| name == *claim))
        {
            return Err(RestConfigError(format!(
                "required claim `{missing}` is not mapped"
            )));
        }
        if self.kyc_token_ttl.is_zero() {
            return Err(RestConfigError("kyc_token_ttl must be positive".into()));
        }
        let mut headers = reqwest::header::HeaderMap::new();
        for (name, value) in &self.headers {
            let header_name = reqwest::header::HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| RestConfigError(format!("`{name}` is not a header name")))?;
            let mut header_value = reqwest::header::HeaderValue::from_str(value)
                .map_err(|_| RestConfigError(format!("header `{name}` has an unusable value")))?;
            header_value.set_sensitive(true);
            headers.insert(header_name, header_value);
        }
        Ok(Compiled {
            authenticate_url,
            authenticate_body,
            send_otp,
            user_info_url,
            user_info_body,
            headers,
        })
    }
}
