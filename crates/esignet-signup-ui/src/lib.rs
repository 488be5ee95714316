//! The signup pages of eSignet-rs: the landing page (register / reset password),
//! `/register`, `/reset-password`, `/identity-verification` and `/something-went-wrong`,
//! mounted by the binary at `/signup` when signup is enabled.
//!
//! Built like the login pages of `esignet-ui` and sharing their pieces (template renderer,
//! theme, stylesheet, the proof-of-work captcha widget): the server renders each page's shell
//! in the negotiated language (one `<section>` per step, so the first paint needs no script)
//! and small hand-written ES modules drive the steps over the wrapped `/v1/signup` API and its
//! STOMP WebSocket, exactly as eSignet's `signup-ui` does, so either UI can drive the service.
//!
//! Everything is embedded: templates, seven translation catalogues (Arabic right to left),
//! scripts and the extra stylesheet. Assets are served under
//! `<mount>/assets/<version>/<name>` (the version is a hash of all of them, so modules import
//! each other by plain relative names) with immutable caching; pages carry a strict
//! Content-Security-Policy and responses may be gzip or brotli compressed.
//!
//! See the "Signup pages" section of `docs/signup.md`.

mod assets;
#[cfg(test)]
mod completeness;
mod i18n;
mod pages;

use std::sync::Arc;

/// Settings of the signup pages, built by the binary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignupUiConfig {
    /// Where the router is nested (`/signup`): asset URLs and in-page links start with it.
    pub mount_path: String,
    /// Path of the signup API the pages call (`/v1/signup`); the WebSocket is `<this>/ws`.
    pub api_base_path: String,
    /// Path of the provider's wrapped UI API (`/v1/esignet`), for the captcha challenge when
    /// the signup settings do not name one.
    pub esignet_api_base_path: String,
    /// Product name shown in the header and the window title.
    pub title: String,
    /// Header logo: an absolute `http(s)` URL or a path on this server; `None` = built-in mark.
    pub logo_url: Option<String>,
    /// Brand colour (`#rgb` / `#rrggbb`), as the login pages' `[ui] primary_color`.
    pub primary_color: String,
    /// Header band colour, as the login pages' `[ui] secondary_color`.
    pub secondary_color: String,
    /// Language when neither `ui_locales`, the language cookie nor `Accept-Language` names a
    /// supported one.
    pub default_language: String,
}

impl Default for SignupUiConfig {
    fn default() -> Self {
        Self {
            mount_path: "/signup".to_owned(),
            api_base_path: "/v1/signup".to_owned(),
            esignet_api_base_path: "/v1/esignet".to_owned(),
            title: "eSignet Signup".to_owned(),
            logo_url: None,
            primary_color: "#0b5cad".to_owned(),
            secondary_color: "#eef3f9".to_owned(),
            default_language: "en".to_owned(),
        }
    }
}

/// The pages' router, to be nested at [`SignupUiConfig::mount_path`].
///
/// Routes (relative to the mount): `GET /` (landing), `/register`, `/reset-password`,
/// `/identity-verification`, `/something-went-wrong`, `/assets/{version}/{file}`; any other
/// path redirects to the landing page (browsers keep the URL fragment across the redirect).
pub fn router(config: SignupUiConfig) -> axum::Router {
    pages::router(Arc::new(pages::SignupUi::new(config)))
}
