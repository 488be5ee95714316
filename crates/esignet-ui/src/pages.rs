//! The page handlers: every page is the shared layout around one content template, rendered
//! in the negotiated language, with the page's script and the translations that script needs.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower_http::compression::CompressionLayer;

use crate::UiConfig;
use crate::assets::{self, Assets};
use crate::i18n::{self, LOCALES, Locale};
use crate::template::{escape, render};
use crate::url::{parse_query, query_value, with_param};

/// The router's state.
pub(crate) type Shared = Arc<Ui>;

/// Everything the handlers need, computed once.
#[derive(Debug)]
pub(crate) struct Ui {
    config: UiConfig,
    pub(crate) assets: Assets,
    csp: HeaderValue,
    brand: String,
}

/// `Cache-Control` of hashed assets: their name changes with their content.
pub(crate) const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// The pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Page {
    Authorize,
    Login,
    ClaimDetails,
    Consent,
    Error,
    SomethingWentWrong,
    NetworkError,
    NotFound,
    SignedOut,
}

impl Page {
    /// Every page, for the tests.
    #[cfg(test)]
    pub(crate) const ALL: [Page; 9] = [
        Page::Authorize,
        Page::Login,
        Page::ClaimDetails,
        Page::Consent,
        Page::Error,
        Page::SomethingWentWrong,
        Page::NetworkError,
        Page::NotFound,
        Page::SignedOut,
    ];

    /// `data-page` of `<body>`.
    pub(crate) fn id(self) -> &'static str {
        match self {
            Page::Authorize => "authorize",
            Page::Login => "login",
            Page::ClaimDetails => "claim-details",
            Page::Consent => "consent",
            Page::Error => "error",
            Page::SomethingWentWrong => "something-went-wrong",
            Page::NetworkError => "network-error",
            Page::NotFound => "page-not-found",
            Page::SignedOut => "signed-out",
        }
    }

    pub(crate) fn title_key(self) -> &'static str {
        match self {
            Page::Authorize => "page.authorize",
            Page::Login => "page.login",
            Page::ClaimDetails => "page.claim_details",
            Page::Consent => "page.consent",
            Page::Error => "page.error",
            Page::SomethingWentWrong => "page.something_went_wrong",
            Page::NetworkError => "page.network_error",
            Page::NotFound => "page.not_found",
            Page::SignedOut => "page.signed_out",
        }
    }

    /// The content template.
    pub(crate) fn template(self) -> &'static str {
        match self {
            Page::Authorize => include_str!("../templates/authorize.html"),
            Page::Login => include_str!("../templates/login.html"),
            Page::ClaimDetails => include_str!("../templates/claim_details.html"),
            Page::Consent => include_str!("../templates/consent.html"),
            Page::Error | Page::SomethingWentWrong | Page::NotFound => {
                include_str!("../templates/error.html")
            }
            Page::NetworkError => include_str!("../templates/network_error.html"),
            Page::SignedOut => include_str!("../templates/signed_out.html"),
        }
    }

    /// The page's entry module.
    pub(crate) fn script(self) -> &'static str {
        match self {
            Page::Authorize => "authorize.js",
            Page::Login => "login.js",
            Page::ClaimDetails => "claims.js",
            Page::Consent => "consent.js",
            Page::Error
            | Page::SomethingWentWrong
            | Page::NetworkError
            | Page::NotFound
            | Page::SignedOut => "status.js",
        }
    }

    /// Translation key prefixes shipped to the page's scripts.
    pub(crate) fn script_prefixes(self) -> &'static [&'static str] {
        match self {
            Page::Authorize => &["js.common.", "errors."],
            Page::Login => &[
                "js.common.",
                "js.login.",
                "js.bio.",
                "js.wallet.",
                "errors.",
            ],
            Page::ClaimDetails => &["js.common.", "js.claims.", "errors.", "claims."],
            Page::Consent => &["js.common.", "js.consent.", "errors.", "claims.", "scopes."],
            Page::Error
            | Page::SomethingWentWrong
            | Page::NetworkError
            | Page::NotFound
            | Page::SignedOut => &["js.common."],
        }
    }
}

impl Ui {
    /// Builds the asset table, the CSP and the header brand from `config`.
    pub(crate) fn new(config: UiConfig) -> Self {
        let assets = Assets::build(&assets::theme_css(
            &config.primary_color,
            &config.secondary_color,
        ));
        let csp = content_security_policy(&config);
        let csp = HeaderValue::from_str(&csp).unwrap_or_else(|_| {
            tracing::error!("the UI content security policy is not a valid header; using the strict default");
            HeaderValue::from_static(
                "default-src 'self'; img-src 'self' data:; connect-src 'self' http://127.0.0.1:*; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
            )
        });
        let brand = match config.logo_url.as_deref().filter(|u| !u.is_empty()) {
            Some(url) => format!(
                "<img class=\"brand-logo\" id=\"brand-logo\" src=\"{}\" alt=\"\" width=\"32\" height=\"32\">",
                escape(url)
            ),
            None => BRAND_MARK.to_owned(),
        };
        Self {
            config,
            assets,
            csp,
            brand,
        }
    }

    /// Renders `page` for the request; `vars` are the content template's own variables.
    pub(crate) fn page(
        &self,
        page: Page,
        uri: &Uri,
        headers: &HeaderMap,
        status: StatusCode,
        vars: &[(&str, &str)],
    ) -> Response {
        let pairs = parse_query(uri.query().unwrap_or_default());
        let locale = self.locale(&pairs, headers);
        let html = self.render(page, locale, uri.path(), &pairs, vars);
        let mut response = (status, html).into_response();
        let h = response.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        // Pages depend on the query, the cookie and Accept-Language, and are cheap to render.
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        h.insert(
            header::VARY,
            HeaderValue::from_static("Accept-Language, Cookie"),
        );
        h.insert(header::CONTENT_SECURITY_POLICY, self.csp.clone());
        // The query carries nonce and state: never leak it to logo hosts or the relying party.
        h.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        );
        response
    }

    /// The page language for this request.
    pub(crate) fn locale(
        &self,
        pairs: &[(String, String)],
        headers: &HeaderMap,
    ) -> &'static Locale {
        let cookie = cookie_value(headers, i18n::LANGUAGE_COOKIE);
        let accept = headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok());
        i18n::negotiate(
            query_value(pairs, "ui_locales"),
            cookie,
            accept,
            &self.config.default_language,
        )
    }

    /// The page's HTML.
    pub(crate) fn render(
        &self,
        page: Page,
        locale: &'static Locale,
        path: &str,
        pairs: &[(String, String)],
        vars: &[(&str, &str)],
    ) -> String {
        let translate = |key: &str| locale.text(key);
        let content = render(page.template(), &translate, vars);
        let script = page.script();
        let preloads: String = Assets::static_closure(script)
            .iter()
            .map(|name| {
                format!(
                    "<link rel=\"modulepreload\" href=\"{}\">",
                    self.assets.url(name)
                )
            })
            .collect();
        let switcher = language_switcher(locale, path, pairs);
        let send_otp = self.config.send_otp_attempts.to_string();
        let authenticate = self.config.authenticate_attempts.to_string();
        let title = locale.text(page.title_key());
        let i18n = locale.json_subset(page.script_prefixes());
        let layout_vars: [(&str, &str); 17] = [
            ("lang", locale.code),
            ("lang3", locale.code3),
            ("dir", if locale.rtl { "rtl" } else { "ltr" }),
            ("page", page.id()),
            ("page_title", &title),
            ("site_title", &self.config.title),
            ("css", self.assets.url("app.css")),
            ("script", self.assets.url(script)),
            ("preloads", &preloads),
            ("i18n", &i18n),
            ("api", &self.config.api_base_path),
            ("send_otp_attempts", &send_otp),
            ("authenticate_attempts", &authenticate),
            ("brand", &self.brand),
            ("switcher", &switcher),
            ("content", &content),
            ("favicon", FAVICON),
        ];
        render(LAYOUT, &translate, &layout_vars)
    }
}

const LAYOUT: &str = include_str!("../templates/layout.html");

/// The built-in header mark (decorative: the title next to it names the service).
const BRAND_MARK: &str = "<svg class=\"brand-logo\" viewBox=\"0 0 32 32\" width=\"32\" height=\"32\" aria-hidden=\"true\" focusable=\"false\"><rect width=\"32\" height=\"32\" rx=\"8\" fill=\"currentColor\"/><path d=\"M9 16.5l4.5 4.5L23 11.5\" fill=\"none\" stroke=\"var(--secondary)\" stroke-width=\"3\" stroke-linecap=\"round\" stroke-linejoin=\"round\"/></svg>";

/// A data-URI icon, so browsers do not request `/favicon.ico`.
const FAVICON: &str = "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 32 32'%3E%3Crect width='32' height='32' rx='8' fill='%230b5cad'/%3E%3C/svg%3E";

/// The language switcher: a disclosure with one link per language. Links work without script
/// (`ui_locales` in the query); the page script adds the URL fragment and remembers the choice
/// in the language cookie.
fn language_switcher(current: &Locale, path: &str, pairs: &[(String, String)]) -> String {
    let label = escape(&current.text("common.language"));
    let mut html = format!(
        "<details class=\"lang\" id=\"language-switcher\" data-testid=\"language-switcher\"><summary id=\"language-button\" data-testid=\"language-button\">{GLOBE}<span class=\"sr-only\">{label}: </span><span lang=\"{}\">{}</span></summary><ul class=\"lang-list\" id=\"language-list\">",
        current.code,
        escape(current.name)
    );
    // One leading slash only: `//host/x` (reachable through the not-found page) must not
    // become a link to another host.
    let path = format!("/{}", path.trim_start_matches(['/', '\\']));
    for locale in LOCALES {
        let href = format!("{path}?{}", with_param(pairs, "ui_locales", locale.code));
        let current_attr = if locale.code == current.code {
            " aria-current=\"true\""
        } else {
            ""
        };
        let dir = if locale.rtl { "rtl" } else { "ltr" };
        html.push_str(&format!(
            "<li><a href=\"{}\" hreflang=\"{code}\" lang=\"{code}\" dir=\"{dir}\" id=\"lang-{code}\" data-testid=\"lang-{code}\" data-lang-link=\"{code}\"{current_attr}>{}</a></li>",
            escape(&href),
            escape(locale.name),
            code = locale.code,
        ));
    }
    html.push_str("</ul></details>");
    html
}

const GLOBE: &str = "<svg class=\"icon\" viewBox=\"0 0 24 24\" width=\"20\" height=\"20\" aria-hidden=\"true\" focusable=\"false\"><circle cx=\"12\" cy=\"12\" r=\"9\" fill=\"none\" stroke=\"currentColor\" stroke-width=\"2\"/><path d=\"M3 12h18M12 3c3 3.5 3 14.5 0 18M12 3c-3 3.5-3 14.5 0 18\" fill=\"none\" stroke=\"currentColor\" stroke-width=\"2\"/></svg>";

/// The value of cookie `name`.
fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// The pages' CSP: nothing inline, scripts and styles from this origin only, API calls to this
/// origin and SBI devices on the loopback interface (any port: the port range is
/// configurable), images from this origin, `data:` (the favicon) and the configured extra
/// sources.
pub(crate) fn content_security_policy(config: &UiConfig) -> String {
    let mut images = vec!["'self'".to_owned(), "data:".to_owned()];
    let logo_origin = config.logo_url.as_deref().and_then(origin_of);
    for source in config.image_sources.iter().cloned().chain(logo_origin) {
        // Validated by the configuration crate; re-checked so nothing can break the header.
        let safe = !source.is_empty()
            && source
                .chars()
                .all(|c| c.is_ascii_graphic() && !matches!(c, ';' | ',' | '"'));
        if safe && !images.contains(&source) {
            images.push(source);
        }
    }
    format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src {}; connect-src 'self' http://127.0.0.1:*; font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
        images.join(" ")
    )
}

/// `scheme://host[:port]` of an absolute http(s) URL.
pub(crate) fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next()?;
    (!authority.is_empty() && !authority.contains('@')).then(|| format!("{scheme}://{authority}"))
}

/// The router.
pub(crate) fn router(ui: Shared) -> Router {
    Router::new()
        .route("/authorize", get(authorize))
        .route("/login", get(login))
        .route("/claim-details", get(claim_details))
        .route("/consent", get(consent))
        .route("/error", get(error))
        .route("/something-went-wrong", get(something_went_wrong))
        .route("/network-error", get(network_error))
        .route("/page-not-found", get(page_not_found))
        .route("/signed-out", get(signed_out))
        .route("/ui/assets/{file}", get(asset))
        .route("/sdk/sign-in-button.js", get(crate::sdk::sign_in_button))
        .fallback(fallback)
        .with_state(ui)
        .layer(CompressionLayer::new())
}

async fn authorize(State(ui): State<Shared>, uri: Uri, headers: HeaderMap) -> Response {
    let pairs = parse_query(uri.query().unwrap_or_default());
    // Without a client there is nothing to ask the server: say so without a round trip.
    let missing = query_value(&pairs, "client_id").is_none_or(str::is_empty);
    let locale = ui.locale(&pairs, &headers);
    let message = if missing {
        locale.text("errors.invalid_query")
    } else {
        String::new()
    };
    ui.page(
        Page::Authorize,
        &uri,
        &headers,
        if missing {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::OK
        },
        &[
            ("server_error", &message),
            ("invalid", if missing { "true" } else { "false" }),
        ],
    )
}

async fn login(State(ui): State<Shared>, uri: Uri, headers: HeaderMap) -> Response {
    ui.page(Page::Login, &uri, &headers, StatusCode::OK, &[])
}

async fn claim_details(State(ui): State<Shared>, uri: Uri, headers: HeaderMap) -> Response {
    ui.page(Page::ClaimDetails, &uri, &headers, StatusCode::OK, &[])
}

/// `/signed-out`: where RP-initiated logout lands when the relying party gave no
/// post-logout URI.
async fn signed_out(State(ui): State<Shared>, uri: Uri, headers: HeaderMap) -> Response {
    ui.page(Page::SignedOut, &uri, &headers, StatusCode::OK, &[])
}

async fn consent(State(ui): State<Shared>, uri: Uri, headers: HeaderMap) -> Response {
    ui.page(Page::Consent, &uri, &headers, StatusCode::OK, &[])
}

/// `/error?error=<code>`: the translated message of a known code. The free-text
/// `error_description` is never shown: anyone can craft this URL, and our origin must not
/// display their words.
async fn error(State(ui): State<Shared>, uri: Uri, headers: HeaderMap) -> Response {
    let pairs = parse_query(uri.query().unwrap_or_default());
    let locale = ui.locale(&pairs, &headers);
    let code = query_value(&pairs, "error")
        .filter(|c| is_code(c))
        .unwrap_or("unknown_error");
    let known = i18n::catalogues()
        .first()
        .is_some_and(|english| english.contains_key(&format!("errors.{code}")));
    let message = if known {
        locale.text(&format!("errors.{code}"))
    } else {
        locale.text("errors.unknown_error")
    };
    let heading = locale.text("status.error_heading");
    ui.page(
        Page::Error,
        &uri,
        &headers,
        StatusCode::OK,
        &[("heading", &heading), ("message", &message), ("code", code)],
    )
}

/// Whether `text` looks like an error code (so it may be echoed on the page).
fn is_code(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 64
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

/// `/something-went-wrong?status=<http status>`: where the scripts go when the API answers a
/// status other than 2xx.
async fn something_went_wrong(State(ui): State<Shared>, uri: Uri, headers: HeaderMap) -> Response {
    let pairs = parse_query(uri.query().unwrap_or_default());
    let locale = ui.locale(&pairs, &headers);
    let status = query_value(&pairs, "status")
        .and_then(|s| s.parse::<u16>().ok())
        .filter(|s| (100..=599).contains(s));
    let key = status
        .map(|s| format!("status.{s}"))
        .filter(|key| {
            i18n::catalogues()
                .first()
                .is_some_and(|english| english.contains_key(key))
        })
        .unwrap_or_else(|| "status.generic".to_owned());
    let heading = locale.text("page.something_went_wrong");
    let message = locale.text(&key);
    let code = status.map(|s| s.to_string()).unwrap_or_default();
    ui.page(
        Page::SomethingWentWrong,
        &uri,
        &headers,
        StatusCode::OK,
        &[
            ("heading", &heading),
            ("message", &message),
            ("code", &code),
        ],
    )
}

async fn network_error(State(ui): State<Shared>, uri: Uri, headers: HeaderMap) -> Response {
    ui.page(Page::NetworkError, &uri, &headers, StatusCode::OK, &[])
}

async fn page_not_found(State(ui): State<Shared>, uri: Uri, headers: HeaderMap) -> Response {
    not_found_page(&ui, &uri, &headers)
}

fn not_found_page(ui: &Ui, uri: &Uri, headers: &HeaderMap) -> Response {
    let pairs = parse_query(uri.query().unwrap_or_default());
    let locale = ui.locale(&pairs, headers);
    let heading = locale.text("page.not_found");
    let message = locale.text("status.404");
    ui.page(
        Page::NotFound,
        uri,
        headers,
        StatusCode::NOT_FOUND,
        &[
            ("heading", &heading),
            ("message", &message),
            ("code", "404"),
        ],
    )
}

/// Unknown paths: the not-found page for browsers; an empty 404 for API clients, for paths
/// under the API base path, the well-known documents and the assets (where an HTML body
/// would only confuse a client).
async fn fallback(State(ui): State<Shared>, uri: Uri, headers: HeaderMap) -> Response {
    let path = uri.path();
    let base = ui.config.api_base_path.as_str();
    let under_api =
        !base.is_empty() && base != "/" && (path == base || path.starts_with(&format!("{base}/")));
    let wants_html = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"));
    if !wants_html || under_api || path.starts_with("/.well-known/") || path.starts_with("/ui/") {
        return StatusCode::NOT_FOUND.into_response();
    }
    not_found_page(&ui, &uri, &headers)
}

async fn asset(State(ui): State<Shared>, Path(file): Path<String>) -> Response {
    let Some(asset) = ui.assets.get(&file) else {
        return (
            StatusCode::NOT_FOUND,
            [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))],
        )
            .into_response();
    };
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(asset.content_type),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static(IMMUTABLE)),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        asset.body.clone(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csp_adds_logo_origin_and_drops_unsafe_sources() {
        let config = UiConfig {
            logo_url: Some("https://cdn.example.org/brand/logo.svg".into()),
            image_sources: vec![
                "https://rp.example.com".into(),
                "x; script-src *".into(),
                "https:".into(),
            ],
            ..UiConfig::default()
        };
        let csp = content_security_policy(&config);
        assert!(csp.contains(
            "img-src 'self' data: https://rp.example.com https: https://cdn.example.org;"
        ));
        assert!(!csp.contains("script-src *"));
        assert_eq!(origin_of("/static/logo.png"), None);
        assert_eq!(
            origin_of("http://127.0.0.1:8090/logo.svg").as_deref(),
            Some("http://127.0.0.1:8090")
        );
    }

    #[test]
    fn language_links_stay_on_this_host() {
        let html = language_switcher(&LOCALES[0], "//evil.example/x", &[]);
        assert!(
            html.contains("href=\"/evil.example/x?ui_locales=fr\""),
            "{html}"
        );
        assert!(!html.contains("href=\"//"));
        let html = language_switcher(&LOCALES[0], "/\\evil.example", &[]);
        assert!(!html.contains("href=\"/\\"), "{html}");
    }

    #[test]
    fn error_codes_are_sanitised() {
        assert!(is_code("invalid_transaction"));
        assert!(!is_code("<script>"));
        assert!(!is_code(""));
        assert!(!is_code(&"a".repeat(65)));
    }
}
