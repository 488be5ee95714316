//! The endpoints eSignet calls: `send-otp`, `kyc-auth` (v1, v2) and `kyc-exchange` (v1, v2,
//! v3). Bodies are unwrapped (no `requestTime`); unknown members are ignored. Each of them waits
//! the configured response delay before answering.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::Response;
use esignet_jose::PublicJwk;
use std::collections::BTreeMap;

use esignet_mock_authenticator::{AuthFactor, Identity};
use esignet_spi::{
    AuthChallenge, Authenticator as _, KycAuthRequest, KycExchangeRequest, Notification,
    NotificationChannel, NotificationTemplate, Notifier, SendOtpRequest, UserinfoResponseType,
};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::codes;
use crate::envelope::{ApiError, ApiResult, parse_body};
use crate::state::{SharedState, store_failure};

/// `send-otp` body.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SendOtpBody {
    transaction_id: Option<String>,
    individual_id: Option<String>,
    otp_channels: Option<Vec<String>>,
}

/// `kyc-auth` body: one member per factor, as eSignet's mock plugin sends them.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct KycAuthBody {
    transaction_id: Option<String>,
    individual_id: Option<String>,
    otp: Option<String>,
    pin: Option<String>,
    biometrics: Option<String>,
    kbi: Option<String>,
    password: Option<String>,
    tokens: Option<Vec<String>>,
    claim_metadata_required: Option<bool>,
}

/// `kyc-exchange` body (all versions). `requestDateTime` is accepted and ignored: the token's
/// age is judged by this service's own clock, not by the caller's claim.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct KycExchangeBody {
    transaction_id: Option<String>,
    kyc_token: Option<String>,
    individual_id: Option<String>,
    accepted_claims: Option<Vec<String>>,
    claim_locales: Option<Vec<String>>,
    accepted_claim_detail: Option<Map<String, Value>>,
    resp_type: Option<String>,
}

/// The `{relyingPartyId}/{clientId}` path segments (not validated, as in the Java mock; the
/// relying party id drives the pairwise subject).
type Partner = Path<(String, String)>;

/// `POST /send-otp/{rp}/{client}`: records the development OTP for (transaction, individual),
/// delivers it when a notifier is configured, and returns the masked destinations.
pub(crate) async fn send_otp(
    State(state): State<SharedState>,
    Path((relying_party_id, client_id)): Partner,
    body: Bytes,
) -> Response {
    let result = send(&state, &relying_party_id, &client_id, &body).await;
    state.delay().await;
    state.respond(result)
}

async fn send(
    state: &SharedState,
    relying_party_id: &str,
    client_id: &str,
    body: &[u8],
) -> ApiResult {
    let body: SendOtpBody = parse_body(body, "send-otp")?;
    let individual_id = required_individual_id(body.individual_id)?;
    let otp_channels = body.otp_channels.unwrap_or_default();
    if otp_channels.is_empty() {
        return Err(ApiError::code(codes::INVALID_OTP_CHANNEL).into());
    }
    let identity = state.identity(&individual_id, false).await?;
    let destination = identity.clone();
    let requested = otp_channels.clone();
    let sent = state
        .authenticator(identity)?
        .send_otp(
            relying_party_id,
            client_id,
            SendOtpRequest {
                transaction_id: body.transaction_id.unwrap_or_default(),
                individual_id,
                otp_channels,
            },
        )
        .await?;
    if let (Some(notifier), Some(identity)) = (&state.notifier, destination) {
        deliver_otp(state, notifier.as_ref(), &identity, &requested).await?;
    }
    Ok(json!({
        "transactionId": sent.transaction_id,
        "maskedEmail": sent.masked_email,
        "maskedMobile": sent.masked_mobile,
    }))
}

/// Sends the OTP to the identity's e-mail and phone, for each channel asked that the notifier
/// supports (others are left undelivered, as without a notifier). A failure is
/// `send_otp_failed`; neither the address nor the OTP is logged or answered.
async fn deliver_otp(
    state: &SharedState,
    notifier: &dyn Notifier,
    identity: &Identity,
    channels: &[String],
) -> Result<(), ApiError> {
    let mut targets = Vec::new();
    for channel in channels {
        let target = match channel.to_ascii_lowercase().as_str() {
            "email" => identity
                .email
                .clone()
                .map(|to| (NotificationChannel::Email, to)),
            "phone" | "mobile" => identity
                .phone
                .clone()
                .map(|to| (NotificationChannel::Sms, to)),
            _ => None,
        };
        if let Some(target) = target
            && notifier.supports(target.0)
            && !targets.contains(&target)
        {
            targets.push(target);
        }
    }
    let minutes = state.settings.otp_ttl.as_secs().div_ceil(60).max(1);
    for (channel, recipient) in targets {
        let notification = Notification {
            channel,
            recipient,
            template: NotificationTemplate::LoginOtp,
            locale: identity.preferred_lang.clone().unwrap_or_default(),
            values: BTreeMap::from([
                ("otp".to_owned(), state.settings.otp.clone()),
                ("validity_minutes".to_owned(), minutes.to_string()),
            ]),
        };
        if let Err(error) = notifier.send(&notification).await {
            // The notifier logged the masked recipient; the error names no address.
            tracing::warn!(channel = channel.as_str(), %error, "login OTP not delivered");
            return Err(ApiError::code(codes::SEND_OTP_FAILED));
        }
    }
    Ok(())
}

/// `POST /kyc-auth/{rp}/{client}`: authenticates without claims metadata.
pub(crate) async fn kyc_auth_v1(
    State(state): State<SharedState>,
    Path((relying_party_id, client_id)): Partner,
    body: Bytes,
) -> Response {
    let result = authenticate(&state, &relying_party_id, &client_id, &body, false).await;
    state.delay().await;
    state.respond(result)
}

/// `POST /v2/kyc-auth/{rp}/{client}`: as v1, plus `claimMetadata` when
/// `claimMetadataRequired` is true.
pub(crate) async fn kyc_auth_v2(
    State(state): State<SharedState>,
    Path((relying_party_id, client_id)): Partner,
    body: Bytes,
) -> Response {
    let result = authenticate(&state, &relying_party_id, &client_id, &body, true).await;
    state.delay().await;
    state.respond(result)
}

async fn authenticate(
    state: &SharedState,
    relying_party_id: &str,
    client_id: &str,
    body: &[u8],
    v2: bool,
) -> ApiResult {
    let body: KycAuthBody = parse_body(body, "kyc-auth")?;
    let individual_id = required_individual_id(body.individual_id)?;
    let metadata_required = v2 && body.claim_metadata_required.unwrap_or(false);
    // The Java mock's evaluation order; here every supplied factor must pass.
    let supplied = [
        ("OTP", AuthFactor::Otp, body.otp),
        ("PIN", AuthFactor::Pin, body.pin),
        ("BIO", AuthFactor::Biometrics, body.biometrics),
        ("KBI", AuthFactor::Kbi, body.kbi),
        ("PWD", AuthFactor::Password, body.password),
        (
            "WLA",
            AuthFactor::Wallet,
            body.tokens
                .map(|tokens| tokens.into_iter().next().unwrap_or_default()),
        ),
    ];
    let challenges = supplied
        .into_iter()
        .filter_map(|(factor_type, factor, challenge)| {
            Some(AuthChallenge {
                auth_factor_type: factor_type.to_owned(),
                challenge: challenge?,
                format: factor.expected_format().to_owned(),
            })
        })
        .collect();
    let identity = state.identity(&individual_id, metadata_required).await?;
    let result = state
        .authenticator(identity)?
        .kyc_auth(
            relying_party_id,
            client_id,
            metadata_required,
            KycAuthRequest {
                transaction_id: body.transaction_id.unwrap_or_default(),
                individual_id,
                challenges,
            },
        )
        .await?;
    let mut response = json!({
        "authStatus": true,
        "kycToken": result.kyc_token,
        "partnerSpecificUserToken": result.partner_specific_user_token,
    });
    if metadata_required && let Some(object) = response.as_object_mut() {
        object.insert(
            "claimMetadata".to_owned(),
            Value::Object(result.claims_metadata),
        );
    }
    Ok(response)
}

/// `claim-metadata` body (an extension of this mock, not in the Java mock).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ClaimMetadataBody {
    individual_id: Option<String>,
    claims: Option<Vec<String>>,
}

/// `POST /v2/claim-metadata/{rp}/{client}` (an extension): what `v2/kyc-auth` would report in
/// `claimMetadata` for the identity now, without authenticating. eSignet reads it when a
/// halted login resumes after identity verification, so consent shows the claims verified
/// meanwhile. Like the rest of this mock, it trusts its caller (the identity system's
/// network boundary is the deployment's).
pub(crate) async fn claim_metadata(
    State(state): State<SharedState>,
    Path((relying_party_id, client_id)): Partner,
    body: Bytes,
) -> Response {
    let result = read_claim_metadata(&state, &relying_party_id, &client_id, &body).await;
    state.delay().await;
    state.respond(result)
}

async fn read_claim_metadata(
    state: &SharedState,
    relying_party_id: &str,
    client_id: &str,
    body: &[u8],
) -> ApiResult {
    let body: ClaimMetadataBody = parse_body(body, "claim-metadata")?;
    let individual_id = required_individual_id(body.individual_id)?;
    let claims = body.claims.unwrap_or_default();
    let identity = state.identity(&individual_id, true).await?;
    let metadata = state
        .authenticator(identity)?
        .claims_metadata(relying_party_id, client_id, &individual_id, &claims)
        .await?
        .unwrap_or_default();
    Ok(json!({ "claimMetadata": metadata }))
}

/// Which exchange endpoint was called.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ExchangeVersion {
    /// `acceptedClaims` only.
    V1,
    /// Plus `acceptedClaimDetail` (verified claims).
    V2,
    /// Plus `respType` (`JWS` or `JWE`).
    V3,
}

/// `POST /kyc-exchange/{rp}/{client}`: the signed KYC of the accepted claims.
pub(crate) async fn kyc_exchange_v1(
    State(state): State<SharedState>,
    Path((relying_party_id, client_id)): Partner,
    body: Bytes,
) -> Response {
    let result = exchange(
        &state,
        &relying_party_id,
        &client_id,
        &body,
        ExchangeVersion::V1,
    )
    .await;
    state.delay().await;
    state.respond(result)
}

/// `POST /v2/kyc-exchange/{rp}/{client}`: also releases requested `verified_claims`.
pub(crate) async fn kyc_exchange_v2(
    State(state): State<SharedState>,
    Path((relying_party_id, client_id)): Partner,
    body: Bytes,
) -> Response {
    let result = exchange(
        &state,
        &relying_party_id,
        &client_id,
        &body,
        ExchangeVersion::V2,
    )
    .await;
    state.delay().await;
    state.respond(result)
}

/// `POST /v3/kyc-exchange/{rp}/{client}`: as v2; with `respType: JWE` the signed KYC is
/// encrypted to the key registered with `POST /partner` for (rp, client).
pub(crate) async fn kyc_exchange_v3(
    State(state): State<SharedState>,
    Path((relying_party_id, client_id)): Partner,
    body: Bytes,
) -> Response {
    let result = exchange(
        &state,
        &relying_party_id,
        &client_id,
        &body,
        ExchangeVersion::V3,
    )
    .await;
    state.delay().await;
    state.respond(result)
}

async fn exchange(
    state: &SharedState,
    relying_party_id: &str,
    client_id: &str,
    body: &[u8],
    version: ExchangeVersion,
) -> ApiResult {
    let body: KycExchangeBody = parse_body(body, "kyc-exchange")?;
    let details = match version {
        ExchangeVersion::V1 => Map::new(),
        ExchangeVersion::V2 | ExchangeVersion::V3 => body.accepted_claim_detail.unwrap_or_default(),
    };
    let encrypt = match version {
        ExchangeVersion::V3 => match body.resp_type.as_deref() {
            None | Some("JWS") => false,
            Some("JWE") => true,
            Some(_) => return Err(ApiError::code(codes::INVALID_RESP_TYPE).into()),
        },
        ExchangeVersion::V1 | ExchangeVersion::V2 => false,
    };
    // Looked up before the exchange: a missing key must not spend the single-use KYC token.
    let recipient = if encrypt {
        Some(partner_key(state, relying_party_id, client_id).await?)
    } else {
        None
    };
    // The requested claims are the accepted ones plus every claim given a detail.
    let mut accepted_claims = body.accepted_claims.unwrap_or_default();
    for claim in details.keys() {
        if claim != "verified_claims" && !accepted_claims.contains(claim) {
            accepted_claims.push(claim.clone());
        }
    }
    let individual_id = body.individual_id.unwrap_or_default();
    let identity = state.identity(&individual_id, true).await?;
    let result = state
        .authenticator(identity)?
        .verified_kyc_exchange(
            relying_party_id,
            client_id,
            KycExchangeRequest {
                transaction_id: body.transaction_id.unwrap_or_default(),
                kyc_token: body.kyc_token.unwrap_or_default(),
                individual_id,
                accepted_claims,
                claims_locales: body.claim_locales.unwrap_or_default(),
                userinfo_response_type: UserinfoResponseType::Jws,
                accepted_claim_details: details,
            },
        )
        .await?;
    let kyc = match recipient {
        None => result.encrypted_kyc,
        Some(recipient) => {
            esignet_jose::encrypt_compact(result.encrypted_kyc.as_bytes(), &recipient, Some("JWT"))
                .map_err(|error| {
                    tracing::warn!(%error, "kyc encryption failed");
                    ApiError::code(codes::DATA_EXCHANGE_FAILED)
                })?
        }
    };
    Ok(json!({"kyc": kyc}))
}

/// The active encryption key of (partner, client); `data_exchange_failed` without one.
async fn partner_key(
    state: &SharedState,
    partner_id: &str,
    client_id: &str,
) -> Result<PublicJwk, ApiError> {
    let registered = state
        .store
        .partner(partner_id, client_id)
        .await
        .map_err(|error| store_failure("read partner key", &error))?;
    let key = registered
        .filter(|key| key.status.eq_ignore_ascii_case("ACTIVE"))
        .and_then(|key| serde_json::from_str::<Value>(&key.public_key).ok())
        .and_then(|key| PublicJwk::from_json(&key).ok());
    key.ok_or_else(|| {
        // Relying party and client ids are configuration, not personal data.
        tracing::info!(
            partner_id,
            client_id,
            "no active partner key for a JWE kyc-exchange"
        );
        ApiError::code(codes::DATA_EXCHANGE_FAILED)
    })
}

fn required_individual_id(individual_id: Option<String>) -> Result<String, ApiError> {
    individual_id
        .filter(|id| !id.trim().is_empty())
        .ok_or_else(|| ApiError::code(codes::INVALID_INDIVIDUAL_ID))
}
