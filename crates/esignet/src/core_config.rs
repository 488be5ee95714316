//! Turns validated settings into what the domain and the HTTP layer need.

use esignet_config::Settings;
use esignet_core::acr::{AcrMapping, AuthFactor};
use esignet_core::{CoreConfig, WalletConfig};
use esignet_jose::Algorithm;
use serde_json::{Map, Value, json};

/// The domain configuration.
pub fn core_config(settings: &Settings) -> CoreConfig {
    let issuer = settings.issuer().to_owned();
    let public_url = settings.server.public_url.clone();
    let oidc = &settings.oidc;
    CoreConfig {
        authorization_endpoint: format!("{public_url}/authorize"),
        token_endpoint: settings.endpoint_url("/oauth/v2/token"),
        token_endpoint_v1: settings.endpoint_url("/oauth/token"),
        par_endpoint: settings.endpoint_url("/oauth/par"),
        userinfo_endpoint: settings.endpoint_url("/oidc/userinfo"),
        introspection_endpoint: settings.endpoint_url("/oauth/introspect"),
        revocation_endpoint: settings.endpoint_url("/oauth/revoke"),
        end_session_endpoint: settings.endpoint_url("/oidc/logout"),
        jwks_uri: format!("{public_url}/.well-known/jwks.json"),
        issuer,
        openid_scopes: oidc.scopes.clone(),
        authorize_scopes: oidc.authorize_scopes.clone(),
        claims_supported: oidc.claims_supported.clone(),
        verified_claims_supported: oidc.claims_in_verified_claims_supported.clone(),
        trust_frameworks_supported: oidc.trust_frameworks_supported.clone(),
        claims_locales_supported: oidc.claims_locales_supported.clone(),
        ui_locales_supported: oidc.ui_locales_supported.clone(),
        acr_values_supported: oidc.acr_values_supported.clone(),
        acr: acr_mapping(&oidc.acr_mapping),
        fapi2_profile: settings.server.profile.as_str() == "fapi2.0",
        id_token_lifetime: settings.tokens.id_token_lifetime,
        access_token_lifetime: settings.tokens.access_token_lifetime,
        auth_code_lifetime: settings.tokens.auth_code_lifetime,
        preauth_ttl: settings.transaction.preauth_ttl,
        authenticated_ttl: settings.transaction.authenticated_ttl,
        par_ttl: settings.transaction.par_ttl,
        nonce_ttl: settings.transaction.nonce_ttl,
        jti_ttl: settings.transaction.jti_ttl,
        rate_limit_window: settings.transaction.rate_limit_window,
        block_ttl: settings.transaction.block_ttl,
        send_otp_attempts: u64::from(settings.transaction.send_otp_attempts),
        authenticate_attempts: u64::from(settings.transaction.authenticate_attempts),
        auth_txn_id_length: settings.transaction.auth_txn_id_length,
        request_time_leeway: settings.security.request_time_leeway,
        client_assertion_leeway: settings.security.client_assertion_leeway,
        dpop_clock_skew: settings.security.dpop_clock_skew,
        dpop_iat_window: settings.security.dpop_iat_window,
        dpop_nonce_ttl: settings.security.dpop_nonce_ttl,
        dpop_algs: algorithms(&settings.security.dpop_signing_algs),
        client_assertion_algs: algorithms(&settings.security.client_assertion_signing_algs),
        ui_configs: ui_configs(settings),
    }
}

/// The wallet flows' configuration (`[wallet]`).
pub fn wallet_config(settings: &Settings) -> WalletConfig {
    let wallet = &settings.wallet;
    WalletConfig {
        link_code_ttl: wallet.link_code_ttl,
        link_code_length: wallet.link_code_length,
        link_code_limit: wallet.link_code_limit,
        active_link_codes: wallet.active_link_codes,
        link_status_timeout: wallet.link_status_timeout,
        link_auth_code_timeout: wallet.link_auth_code_timeout,
        linked_ttl: wallet.linked_ttl,
        linked_auth_ttl: wallet.linked_auth_ttl,
        consented_ttl: wallet.consented_ttl,
        binding_audience: wallet.binding_audience.clone(),
        wla_max_age: wallet.wla_max_age,
        wla_clock_skew: wallet.wla_clock_skew,
        encrypt_binding_id: wallet.encrypt_binding_id,
    }
}

fn algorithms(names: &[esignet_config::SigningAlgorithm]) -> Vec<Algorithm> {
    names
        .iter()
        .filter_map(|alg| Algorithm::parse(alg.as_str()))
        .collect()
}

fn acr_mapping(mapping: &esignet_config::AcrMapping) -> AcrMapping {
    let amr = mapping
        .amr
        .iter()
        .map(|(name, factors)| {
            let factors = factors
                .iter()
                .map(|spec| AuthFactor {
                    factor_type: spec.factor_type.clone(),
                    count: spec.count,
                    sub_types: spec.sub_types.clone(),
                })
                .collect();
            (name.clone(), factors)
        })
        .collect();
    AcrMapping::new(amr, mapping.acr_amr.clone())
}

/// The UI `configs` map of oauth-details (eSignet §10 defaults), overridden by `[ui] configs`.
fn ui_configs(settings: &Settings) -> Map<String, Value> {
    let defaults = json!({
        "sbi.env": "Developer",
        "sbi.timeout.DISC": 30,
        "sbi.timeout.DINFO": 30,
        "sbi.timeout.CAPTURE": 30,
        "sbi.capture.count.face": 1,
        "sbi.capture.count.finger": 1,
        "sbi.capture.count.iris": 1,
        "sbi.capture.score.face": 70,
        "sbi.capture.score.finger": 70,
        "sbi.capture.score.iris": 70,
        "resend.otp.delay.secs": 180,
        "send.otp.channels": "email,phone",
        "captcha.sitekey": "",
        "captcha.enable": "",
        "auth.txnid.length": settings.transaction.auth_txn_id_length,
        "preauth-screen-timeout-in-secs": settings.transaction.preauth_ttl.as_secs(),
        "consent.screen.timeout-in-secs": settings.transaction.authenticated_ttl.as_secs(),
        "consent.screen.timeout-buffer-in-secs": 5,
        // How long the login page waits for the wallet once linked (eSignet's default is 240).
        "linked-transaction-expire-in-secs": (settings.wallet.linked_ttl + settings.wallet.linked_auth_ttl).as_secs(),
        "sbi.port.range": "4501-4600",
        "sbi.bio.subtypes.iris": "UNKNOWN",
        "sbi.bio.subtypes.finger": "UNKNOWN",
        "wallet.qr-code-buffer-in-secs": 10,
        "otp.length": 6,
        "password.regex": "^.{8,30}$",
        "password.max-length": 30,
        "username.regex": "^[0-9]{5,19}$",
        "username.prefix": "",
        "username.postfix": "",
        "username.max-length": 19,
        "username.input-type": "text",
        // One wallet: `esignet wallet-sim` (or any wallet handling eSignet's deep link).
        "wallet.config": [{
            "wallet.name": "eSignet wallet",
            "wallet.logo-url": "",
            "wallet.download-uri": "",
            "wallet.deep-link-uri": "io.mosip.residentapp.inji://wla-auth?linkCode=LINK_CODE&linkExpireDateTime=LINK_EXPIRE_DT",
            "wallet.footer": true
        }],
        "signup.config": {"signup.banner": false, "signup.url": ""},
        "forgot-password.config": {"forgot-password": false, "forgot-password.url": ""},
        "eKYC-steps.config": "",
        "error.banner.close-timer": 10,
        "auth.factor.kbi.individual-id-field": "individualId",
        "auth.factor.kbi.field-details": {
            "schema": [
                {"id": "individualId", "controlType": "textbox", "labelName": {"eng": "National ID"}, "required": true,
                 "validators": [{"type": "regex", "validator": "^[0-9]{5,19}$"}]},
                {"id": "phone", "controlType": "textbox", "labelName": {"eng": "Phone number"}, "required": true,
                 "validators": [{"type": "regex", "validator": "^\\+?[0-9]{7,15}$"}]},
                {"id": "dateOfBirth", "controlType": "date", "labelName": {"eng": "Date of birth"}, "required": true,
                 "format": "yyyy-MM-dd", "validators": [{"type": "regex", "validator": "^\\d{4}-\\d{2}-\\d{2}$"}]}
            ],
            "language": {"mandatory": ["eng"], "langCodeMap": {"eng": "en"}}
        },
        "login-id.options": [{"id": "nin", "svg": "nin_icon", "prefixes": "", "postfix": "", "maxLength": 19, "regex": "^[0-9]{5,19}$"}],
    });
    let mut configs = match defaults {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    for (key, value) in &settings.ui.configs {
        configs.insert(key.clone(), value.clone());
    }
    configs.insert(
        "issuer".to_owned(),
        Value::String(settings.issuer().to_owned()),
    );
    captcha_ui_configs(settings, &mut configs);
    signup_ui_configs(settings, &mut configs);
    configs
}

/// The signup detour's keys of the UI `configs` (eSignet's UI reads the same three), set only
/// when `[signup_redirect]` is enabled: `signup.config`, `forgot-password.config` and
/// `eKYC-steps.config`.
fn signup_ui_configs(settings: &Settings, configs: &mut Map<String, Value>) {
    let signup = &settings.signup_redirect;
    if !signup.enabled {
        return;
    }
    configs.insert(
        "signup.config".to_owned(),
        json!({"signup.banner": signup.signup_banner, "signup.url": signup.signup_url}),
    );
    configs.insert(
        "forgot-password.config".to_owned(),
        json!({
            "forgot-password": signup.forgot_password_link,
            "forgot-password.url": signup.forgot_password_url,
        }),
    );
    configs.insert(
        "eKYC-steps.config".to_owned(),
        Value::String(signup.ekyc_url.clone()),
    );
}

/// The signup detour's configuration, when `[signup_redirect]` is enabled.
pub fn signup_redirect_config(
    settings: &Settings,
) -> Option<esignet_core::signup::SignupRedirectConfig> {
    let signup = &settings.signup_redirect;
    signup
        .enabled
        .then(|| esignet_core::signup::SignupRedirectConfig {
            client_id: signup.client_id.clone(),
            id_token_lifetime: signup.id_token_lifetime,
            halted_ttl: signup.halted_ttl,
        })
}

/// The captcha keys of the UI `configs`, from `[captcha]`. They replace any `[ui] configs`
/// values: the page must show a captcha exactly where the server checks one.
///
/// * `captcha.enable`: comma list of the required actions (eSignet's UI key), empty when off.
/// * `captcha.sitekey`: the remote provider's site key; empty otherwise.
/// * `captcha.kind`: `none`, `pow` or `remote`.
/// * `captcha.provider` (remote): `recaptcha`, `hcaptcha` or `turnstile`.
/// * `captcha.pow.challenge-url` and `captcha.pow.difficulty` (pow): where the page fetches a
///   challenge, and the work it will take.
fn captcha_ui_configs(settings: &Settings, configs: &mut Map<String, Value>) {
    let captcha = &settings.captcha;
    let kind = if captcha.is_enabled() {
        captcha.kind.as_str()
    } else {
        "none"
    };
    let site_key = captcha
        .remote
        .as_ref()
        .filter(|_| captcha.is_enabled())
        .map(|remote| remote.site_key.clone())
        .unwrap_or_default();
    let mut set = |key: &str, value: Value| {
        configs.insert(key.to_owned(), value);
    };
    set("captcha.enable", Value::from(captcha.required.join(",")));
    set("captcha.sitekey", Value::from(site_key));
    set("captcha.kind", Value::from(kind));
    match (kind, &captcha.remote) {
        ("pow", _) => {
            set(
                "captcha.pow.challenge-url",
                Value::from(settings.endpoint_url("/captcha/challenge")),
            );
            set(
                "captcha.pow.difficulty",
                Value::from(captcha.pow_difficulty_bits),
            );
        }
        ("remote", Some(remote)) => set("captcha.provider", Value::from(remote.provider.as_str())),
        _ => {}
    }
}
