//! The relying parties' "Sign in with eSignet" button (`sdk/sign-in-button` in the repository,
//! published there as an npm-style package), served at a stable URL (`/sdk/sign-in-button.js`) so an RP page can load it
//! straight from its provider: `<script type="module" src="<issuer>/sdk/sign-in-button.js">`.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

/// The module's source.
pub const SIGN_IN_BUTTON_JS: &str = include_str!("../../../sdk/sign-in-button/sign-in-button.js");

/// Serves the button module. RP pages on other origins load it as a module script, which
/// browsers fetch in CORS mode: hence `Access-Control-Allow-Origin: *` (the file is public
/// and carries no credentials). The URL is stable, not content-hashed, so it is cached for an
/// hour rather than forever.
pub(crate) async fn sign_in_button() -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/javascript; charset=utf-8"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=3600"),
            ),
            (
                header::ACCESS_CONTROL_ALLOW_ORIGIN,
                HeaderValue::from_static("*"),
            ),
            (
                header::HeaderName::from_static("cross-origin-resource-policy"),
                HeaderValue::from_static("cross-origin"),
            ),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        SIGN_IN_BUTTON_JS,
    )
        .into_response()
}
