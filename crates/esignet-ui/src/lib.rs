//! The resident-facing pages of eSignet-rs: `/authorize`, `/login`, `/claim-details`,
//! `/consent`, `/error` and the status pages, at the paths eSignet's own UI (`oidc-ui`) uses.
//!
//! The server renders each page's shell (labels, headings, the language switcher, `<template>`
//! elements for the forms) in the negotiated language, so the first paint needs no script. Small
//! hand-written ES modules (no framework, no build step) then drive the flow over the same
//! wrapped REST API the official UI calls (`csrf/token`, `v3/oauth-details`,
//! `par-oauth-details`, `send-otp`, `v3/authenticate`, `claim-details`, `auth-code`), carrying
//! the oauth-details response in the URL fragment exactly as `oidc-ui` does, so either UI can
//! drive this server.
//!
//! Everything is embedded in the binary: templates, translations (one JSON catalogue per
//! locale), scripts and the stylesheet. Assets are served under `/ui/assets/<name>.<hash>.<ext>`
//! with immutable caching; pages carry a strict Content-Security-Policy (no inline script or
//! style) and every response may be gzip or brotli compressed.
//!
//! See `docs/ui.md` for how the pages map to the API and the stable element ids.

mod assets;
#[cfg(test)]
mod completeness;
mod i18n;
mod pages;
mod sdk;
mod template;
mod url;

use std::sync::Arc;

pub use i18n::{LOCALES, Locale};
pub use sdk::SIGN_IN_BUTTON_JS;

/// Settings of the pages, built by the binary from `[server]`, `[transaction]` and `[ui]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UiConfig {
    /// Path prefix of the wrapped API the pages call (`[server] base_path`, `/v1/esignet`).
    pub api_base_path: String,
    /// Product name shown in the header and the window title.
    pub title: String,
    /// Logo shown in the header: an absolute `http(s)` URL or a path on this server; `None`
    /// shows the built-in mark.
    pub logo_url: Option<String>,
    /// Brand colour of buttons, links and focus rings, `#rgb` or `#rrggbb`. The configuration
    /// crate checks that white text on it meets WCAG AA (4.5:1).
    pub primary_color: String,
    /// Background colour of the header band, `#rgb` or `#rrggbb`; its text colour (black or
    /// white) is chosen for contrast.
    pub secondary_color: String,
    /// Language used when neither `ui_locales`, the language cookie nor `Accept-Language`
    /// names a supported one (a two-letter code; unsupported values mean English).
    pub default_language: String,
    /// Extra CSP `img-src` sources (for relying-party and wallet logos hosted elsewhere). The
    /// origin of an absolute `logo_url` is added automatically.
    pub image_sources: Vec<String>,
    /// Send-OTP calls allowed per transaction (`[transaction] send_otp_attempts`), so the
    /// page can tell residents how many are left; 0 = unknown.
    pub send_otp_attempts: u32,
    /// Authenticate calls allowed per transaction (`[transaction] authenticate_attempts`);
    /// 0 = unknown.
    pub authenticate_attempts: u32,
}

impl Default for UiConfig {
    fn default() -> Self {
        Self {
            api_base_path: "/v1/esignet".to_owned(),
            title: "eSignet".to_owned(),
            logo_url: None,
            primary_color: "#0b5cad".to_owned(),
            secondary_color: "#eef3f9".to_owned(),
            default_language: "en".to_owned(),
            image_sources: Vec::new(),
            send_otp_attempts: 0,
            authenticate_attempts: 0,
        }
    }
}

impl UiConfig {
    /// Adds the origin of an absolute http(s) `url` to [`UiConfig::image_sources`] (no-op for
    /// anything else), so images served from there may show on the pages.
    pub fn allow_images_from(&mut self, url: &str) {
        if let Some(origin) = pages::origin_of(url)
            && !self.image_sources.contains(&origin)
        {
            self.image_sources.push(origin);
        }
    }
}

/// The pages' router, with its own state: merge it into the application router (it has a
/// fallback, the not-found page, so the application router must not set another).
///
/// Routes: `GET /authorize`, `/login`, `/claim-details`, `/consent`, `/error`,
/// `/something-went-wrong`, `/network-error`, `/page-not-found`, `/ui/assets/{file}`; any other
/// path answers 404 (an HTML page for browsers, an empty body for API clients and for paths
/// under the API base path). Responses are compressed (gzip or brotli) when the client accepts
/// it.
pub fn router(config: UiConfig) -> axum::Router {
    pages::router(Arc::new(pages::Ui::new(config)))
}

/// What other page sets served next to these (the signup pages of `esignet-signup-ui`) share
/// with them instead of copying: the template renderer, the theme, the stylesheet and the
/// scripts served under `/ui/assets/` (the captcha widget).
pub mod shared {
    use std::sync::OnceLock;

    pub use crate::assets::theme_css;
    pub use crate::template::{escape, render};

    /// The base stylesheet (without the theme variables, which [`theme_css`] gives).
    pub const STYLESHEET: &str = crate::assets::STYLESHEET;

    /// The hashed URL (`/ui/assets/captcha.<hash>.js`) of this crate's script `name`, as the
    /// router of [`crate::router`] serves it; `None` for an unknown name. Script hashes do not
    /// depend on the theme, so any configuration gives the same URLs.
    pub fn script_url(name: &str) -> Option<String> {
        static ASSETS: OnceLock<crate::assets::Assets> = OnceLock::new();
        let url = ASSETS
            .get_or_init(|| crate::assets::Assets::build(""))
            .url(name);
        (!url.is_empty() && name.ends_with(".js")).then(|| url.to_owned())
    }
}
