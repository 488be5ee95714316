//! The HTTP routes and the response headers every page carries.

use std::sync::Arc;

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, COOKIE, LOCATION, REFERRER_POLICY,
    SET_COOKIE, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::App;
use crate::button;
use crate::error::LoginError;
use crate::flow::{self, Callback};
use crate::html;
use crate::profile::{display_name, profile_page};
use crate::session::{COOKIE_NAME, LoginMode, session_id_from_cookies};

/// Pages load only our own images and data-URL photos, inline styles, and no script at all.
/// `form-action` is deliberately absent: browsers apply it to the redirect that follows our
/// own login forms, which goes to the provider.
const PAGE_CSP: &str = "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; \
base-uri 'none'; frame-ancestors 'none'";

/// The landing page also runs our page script and the provider's sign-in button module
/// (`script-src` names the provider's origin, nothing else) and talks only to ourselves.
fn landing_csp(provider_origin: &str) -> String {
    format!(
        "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; \
script-src 'self' {provider_origin}; connect-src 'self'; base-uri 'none'; frame-ancestors 'none'"
    )
}

/// The portal's routes.
pub(crate) fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/", get(landing))
        .route("/login", post(login_plain))
        .route("/login/par", post(login_par))
        .route("/login/verified", post(login_verified))
        .route("/callback", get(callback))
        .route("/profile", get(profile))
        .route("/logout", get(logout))
        .route("/logo.svg", get(logo))
        .route(button::PAGE_SCRIPT_PATH, get(page_script))
        .fallback(not_found)
        .with_state(app)
}

async fn landing(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    let name = session_id(&headers)
        .and_then(|id| app.sessions.profile(&id))
        .map(|profile| display_name(&profile.claims).unwrap_or_else(|| "a resident".to_owned()));
    let body = html::landing(name.as_deref(), &app.settings.provider_url);
    page_with_csp(
        StatusCode::OK,
        body,
        &landing_csp(&app.settings.provider_origin),
    )
}

async fn login_plain(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    login(&app, &headers, LoginMode::Plain).await
}

async fn login_par(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    login(&app, &headers, LoginMode::ParDpop).await
}

async fn login_verified(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    login(&app, &headers, LoginMode::VerifiedClaims).await
}

/// Starts a sign-in: a 303 to the provider for the plain form, or, for the sign-in button
/// (`Accept: application/json`), `{"location": ...}` with the same session cookie.
async fn login(app: &App, headers: &HeaderMap, mode: LoginMode) -> Response {
    let wants_json = headers
        .get(axum::http::header::ACCEPT)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|accept| accept.contains("application/json"));
    match flow::start(app, session_id(headers).as_deref(), mode).await {
        Ok(started) => {
            tracing::info!(?mode, "sign-in started");
            let cookie = session_cookie(&started.session_id, app.settings.secure_cookie);
            if wants_json {
                let body = serde_json::json!({ "location": started.location }).to_string();
                return (
                    StatusCode::OK,
                    [
                        (CONTENT_TYPE, "application/json".to_owned()),
                        (CACHE_CONTROL, "no-store".to_owned()),
                        (SET_COOKIE, cookie),
                    ],
                    body,
                )
                    .into_response();
            }
            redirect(&started.location, Some(cookie))
        }
        Err(error) if wants_json => {
            let body = serde_json::json!({ "error": error.code, "summary": error.summary });
            (
                error.status,
                [(CACHE_CONTROL, "no-store")],
                axum::Json(body),
            )
                .into_response()
        }
        Err(error) => error_response(&error),
    }
}

async fn page_script() -> Response {
    (
        [
            (CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (CACHE_CONTROL, "no-cache"),
            (X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        button::PAGE_SCRIPT,
    )
        .into_response()
}

async fn callback(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let result = match Callback::parse(query.as_deref()) {
        Ok(callback) => flow::finish(&app, session_id(&headers).as_deref(), callback).await,
        Err(error) => Err(error),
    };
    match result {
        Ok(new_session) => {
            tracing::info!("sign-in completed");
            redirect(
                "/profile",
                Some(session_cookie(&new_session, app.settings.secure_cookie)),
            )
        }
        Err(error) => error_response(&error),
    }
}

async fn profile(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    match session_id(&headers).and_then(|id| app.sessions.profile(&id)) {
        Some(profile) => page(StatusCode::OK, profile_page(&profile)),
        None => redirect("/", None),
    }
}

async fn logout(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    if let Some(id) = session_id(&headers) {
        app.sessions.remove(&id);
    }
    let clear = format!(
        "{COOKIE_NAME}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax{}",
        if app.settings.secure_cookie {
            "; Secure"
        } else {
            ""
        }
    );
    redirect("/", Some(clear))
}

async fn logo() -> Response {
    (
        [
            (CONTENT_TYPE, "image/svg+xml"),
            (CACHE_CONTROL, "public, max-age=86400"),
            (CONTENT_SECURITY_POLICY, "default-src 'none'"),
            (X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        html::LOGO_SVG,
    )
        .into_response()
}

async fn not_found() -> Response {
    page(StatusCode::NOT_FOUND, html::not_found())
}

fn session_id(headers: &HeaderMap) -> Option<String> {
    session_id_from_cookies(
        headers
            .get_all(COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok()),
    )
}

/// The session cookie: `HttpOnly` (no script can read it), `SameSite=Lax` (sent on the
/// provider's top-level redirect back to us, not on cross-site subrequests), `Secure` when the
/// portal is served over HTTPS. No `Max-Age`: it ends with the browser session, and the server
/// ends it after 30 idle minutes anyway.
fn session_cookie(id: &str, secure: bool) -> String {
    format!(
        "{COOKIE_NAME}={id}; Path=/; HttpOnly; SameSite=Lax{}",
        if secure { "; Secure" } else { "" }
    )
}

/// An HTML page with the security headers. Pages are personal, so none is cached.
fn page(status: StatusCode, body: String) -> Response {
    page_with_csp(status, body, PAGE_CSP)
}

/// [`page`] with its own content security policy.
fn page_with_csp(status: StatusCode, body: String, csp: &str) -> Response {
    let csp = HeaderValue::try_from(csp).unwrap_or(HeaderValue::from_static(PAGE_CSP));
    (
        status,
        [
            (
                CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            (CACHE_CONTROL, HeaderValue::from_static("no-store")),
            (CONTENT_SECURITY_POLICY, csp),
            (X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
            (X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
            (REFERRER_POLICY, HeaderValue::from_static("no-referrer")),
        ],
        body,
    )
        .into_response()
}

/// A 303 to `location`, optionally setting a cookie. `no-referrer` keeps the callback URL
/// (with its code) out of the next request's `Referer`.
fn redirect(location: &str, cookie: Option<String>) -> Response {
    let Ok(location) = HeaderValue::try_from(location) else {
        return error_response(&LoginError::unreachable(
            "The redirect address is not a valid URL.",
        ));
    };
    let mut response = (
        StatusCode::SEE_OTHER,
        [
            (CACHE_CONTROL, HeaderValue::from_static("no-store")),
            (REFERRER_POLICY, HeaderValue::from_static("no-referrer")),
            (LOCATION, location),
        ],
    )
        .into_response();
    if let Some(cookie) = cookie.and_then(|cookie| HeaderValue::try_from(cookie).ok()) {
        response.headers_mut().insert(SET_COOKIE, cookie);
    }
    response
}

/// The error page; logs the (sanitised) code only, never a description, token or claim.
fn error_response(error: &LoginError) -> Response {
    tracing::warn!(
        code = error.loggable_code(),
        status = error.status.as_u16(),
        "sign-in failed"
    );
    page(error.status, html::error_page(error))
}
