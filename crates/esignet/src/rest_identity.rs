//! Wiring of `authenticator.kind = "rest"`: the generic REST authenticator with its own
//! userinfo signing keys (opened from the service's key store) and no wallet key binding.

use std::sync::Arc;

use anyhow::Context;
use esignet_authenticator_rest::{
    AuthenticateOperation, Method, RestAuthenticator, RestConfig, SendOtpOperation,
    UserInfoOperation,
};
use esignet_authenticator_sunbird::NoKeyBinder;
use esignet_config::Settings;
use esignet_keys::{KeyEncryptionKey, KeyManager};
use esignet_spi::{Authenticator, Cache, Clock, KeyBinder};

use crate::backends::Store;

/// Key application that signs the REST identity system's userinfo (eSignet's plugins sign KYC
/// with their keymanager's `OIDC_PARTNER` key, as the Sunbird RC wiring does; a separate name
/// keeps the two adapters' keys apart in one store).
pub const REST_KYC_KEYS: &str = "REST_IDENTITY_KYC";

/// The adapter's settings from `[rest_identity]`.
fn rest_config(settings: &Settings) -> RestConfig {
    let section = &settings.rest_identity;
    let mut headers = section.headers.clone();
    if let Some((name, key)) = &section.api_key {
        headers.push((name.clone(), key.expose().to_owned()));
    }
    let (success_pointer, success_value) = match &section.authenticate_success {
        Some((pointer, value)) => (Some(pointer.clone()), value.clone()),
        None => (None, serde_json::Value::Bool(true)),
    };
    RestConfig {
        authenticate: AuthenticateOperation {
            url: section.authenticate_url.clone(),
            body: section.authenticate_body.clone(),
            success_pointer,
            success_value,
            subject_pointer: section.authenticate_subject_pointer.clone(),
        },
        send_otp: section.send_otp.as_ref().map(|send_otp| SendOtpOperation {
            url: send_otp.url.clone(),
            body: send_otp.body.clone(),
            masked_email_pointer: send_otp.masked_email_pointer.clone(),
            masked_mobile_pointer: send_otp.masked_mobile_pointer.clone(),
        }),
        user_info: UserInfoOperation {
            method: if section.user_info_post {
                Method::Post
            } else {
                Method::Get
            },
            url: section.user_info_url.clone(),
            body: section.user_info_body.clone(),
        },
        auth_factors: section.auth_factors.clone(),
        otp_channels: section.otp_channels.clone(),
        claims: section.claims.clone(),
        required_claims: section.required_claims.clone(),
        headers,
        timeout: section.timeout,
        connect_timeout: section.connect_timeout,
        kyc_token_ttl: section.kyc_token_ttl,
        issuer: settings.issuer().to_owned(),
        default_language: section.default_language.clone(),
    }
}

/// The authenticator, its (refusing) key binder and the signing keys' rotation task.
pub async fn rest_authenticator(
    settings: &Settings,
    store: Arc<dyn Store>,
    kek: Arc<KeyEncryptionKey>,
    cache: Arc<dyn Cache>,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<(
    Arc<dyn Authenticator>,
    Arc<dyn KeyBinder>,
    tokio::task::JoinHandle<()>,
)> {
    let keys = KeyManager::open(
        store,
        kek,
        clock.clone(),
        REST_KYC_KEYS,
        crate::app::key_policy(settings, "REST identity system KYC signing")?,
    )
    .await
    .context("cannot open the REST identity system's userinfo signing keys")?;
    let rotation = keys.spawn_rotation(settings.keys.rotation_check_interval);
    let authenticator = RestAuthenticator::new(rest_config(settings), keys, cache, clock)
        .context("cannot set up the REST identity system authenticator")?;
    Ok((Arc::new(authenticator), Arc::new(NoKeyBinder), rotation))
}
