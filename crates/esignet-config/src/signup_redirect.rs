//! Validation of the `[signup_redirect]` section: the signup detour's client, lifetimes and
//! the links of the login pages (empty URLs derive from the issuer, as the signup contract
//! says: `<issuer>/signup/register`, `/signup/reset-password`, `/signup/identity-verification`).

use std::time::Duration;

use crate::error::Problems;
use crate::raw::SignupRedirectRaw;
use crate::validate::{bounded, secs};

/// `[signup_redirect]`, validated.
#[derive(Clone, Debug)]
pub struct SignupRedirectSettings {
    /// Whether the detour is on.
    pub enabled: bool,
    /// The signup service's client id and the ID tokens' audience (non-empty).
    pub client_id: String,
    /// ID token (and cookie) lifetime, 1 to 3600 s.
    pub id_token_lifetime: Duration,
    /// How long a halted transaction waits.
    pub halted_ttl: Duration,
    /// The sign-up banner's target.
    pub signup_url: String,
    /// The forgot-password link's target.
    pub forgot_password_url: String,
    /// The eKYC (identity verification) page.
    pub ekyc_url: String,
    /// Default of the sign-up banner.
    pub signup_banner: bool,
    /// Default of the forgot-password link.
    pub forgot_password_link: bool,
}

pub(crate) fn signup_redirect(
    raw: SignupRedirectRaw,
    issuer: &str,
    problems: &mut Problems,
) -> SignupRedirectSettings {
    let client_id = raw.client_id.trim().to_owned();
    if client_id.is_empty() {
        problems.push("signup_redirect.client_id", "must not be empty");
    }
    let issuer = issuer.trim_end_matches('/');
    let mut url = |key: &str, value: Option<String>, default_path: &str| -> String {
        match value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()) {
            Some(url) => {
                if !(url.starts_with("https://") || url.starts_with("http://")) {
                    problems.push(key, "must be an absolute http(s) URL");
                }
                url
            }
            None => format!("{issuer}{default_path}"),
        }
    };
    let signup_url = url(
        "signup_redirect.signup_url",
        raw.signup_url,
        "/signup/register",
    );
    let forgot_password_url = url(
        "signup_redirect.forgot_password_url",
        raw.forgot_password_url,
        "/signup/reset-password",
    );
    let ekyc_url = url(
        "signup_redirect.ekyc_url",
        raw.ekyc_url,
        "/signup/identity-verification",
    );
    let lifetime = bounded(
        problems,
        "signup_redirect.id_token_lifetime_secs",
        raw.id_token_lifetime_secs,
        1,
        3600,
    );
    SignupRedirectSettings {
        enabled: raw.enabled,
        client_id,
        id_token_lifetime: Duration::from_secs(lifetime),
        halted_ttl: secs(
            problems,
            "signup_redirect.halted_ttl_secs",
            raw.halted_ttl_secs,
            1,
        ),
        signup_url,
        forgot_password_url,
        ekyc_url,
        signup_banner: raw.signup_banner,
        forgot_password_link: raw.forgot_password_link,
    }
}
