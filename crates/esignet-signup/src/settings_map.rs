//! `GET /settings`: the page's configuration (`mosip.signup.ui.config.key-values`).

use std::sync::Arc;

use axum::extract::State;
use axum::response::Response;
use serde_json::{Map, Value, json};

use crate::SignupConfig;
use crate::envelope;
use crate::registration::Service;

/// The default map of eSignet signup, filled from `[signup]`, then `signup.ui_configs` on top.
pub fn configs(config: &SignupConfig) -> Map<String, Value> {
    let s = &config.settings;
    let esignet = config.public_url.trim_end_matches('/');
    let mut map = Map::new();
    let mut put = |key: &str, value: Value| {
        map.insert(key.to_owned(), value);
    };
    put("identifier.pattern", json!(s.identifier_regex));
    put("identifier.prefix", json!(s.identifier_prefix));
    put(
        "captcha.site.key",
        json!(config.captcha_site_key.clone().unwrap_or_default()),
    );
    put("otp.length", json!(s.otp_length));
    put("password.pattern", json!(s.password_pattern));
    put("password.length.max", json!(s.password_max_length));
    put("password.length.min", json!(s.password_min_length));
    put("challenge.timeout", json!(s.challenge_timeout.as_secs()));
    put("resend.attempts", json!(s.resend_attempts));
    put("resend.delay", json!(s.resend_delay.as_secs()));
    put("fullname.pattern", json!(s.fullname_pattern));
    put(
        "status.request.delay",
        json!(s.status_request_delay.as_secs()),
    );
    put("status.request.limit", json!(s.status_request_limit));
    put("status.request.retry.error.codes", json!("unknown_error"));
    put("slot.request.delay", json!(s.slot_request_delay.as_secs()));
    put("slot.request.limit", json!(s.slot_request_limit));
    put("popup.timeout", json!(10));
    put("signin.redirect-url", json!(format!("{esignet}/authorize")));
    put("identifier.allowed.characters", json!("^[0-9]+"));
    put("identifier.length.min", json!(8));
    put("identifier.length.max", json!(9));
    put("fullname.allowed.characters", json!(".*"));
    put("fullname.length.min", json!(1));
    put("fullname.length.max", json!(30));
    put("otp.blocked", json!(s.blocked.as_secs()));
    put("send-challenge.captcha.required", json!(s.captcha_required));
    put("signup.oauth-client-id", json!(s.oauth_client_id));
    put(
        "identity-verification.redirect-url",
        json!(format!("{esignet}/signup/identity-verification")),
    );
    put(
        "broswer.minimum-version",
        json!({"chrome": "123", "firefox": "124", "edge": "123", "safari": "17"}),
    );
    put(
        "esignet-consent.redirect-url",
        json!(format!("{esignet}/consent")),
    );
    for (key, value) in &s.ui_configs {
        map.insert(key.clone(), value.clone());
    }
    map
}

pub(crate) async fn settings(State(service): State<Arc<Service>>) -> Response {
    envelope::ok(service.now(), json!({"configs": service.configs}))
}
