//! The page handlers: the layout around one content template per page, rendered in the
//! negotiated language, with the page's script and the translations it needs.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use esignet_ui::shared::{escape, render, script_url};
use esignet_ui::{LOCALES, Locale};
use tower_http::compression::CompressionLayer;

use crate::SignupUiConfig;
use crate::assets::Assets;
use crate::i18n::{self, LANGUAGE_COOKIE};

pub(crate) type Shared = Arc<SignupUi>;

/// Everything the handlers need, computed once.
#[derive(Debug)]
pub(crate) struct SignupUi {
    config: SignupUiConfig,
    pub(crate) assets: Assets,
    csp: HeaderValue,
    brand: String,
    captcha_module: String,
}

/// `Cache-Control` of the versioned assets.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// The pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Page {
    Landing,
    Register,
    ResetPassword,
    IdentityVerification,
    SomethingWentWrong,
}

impl Page {
    #[cfg(test)]
    pub(crate) const ALL: [Page; 5] = [
        Page::Landing,
        Page::Register,
        Page::ResetPassword,
        Page::IdentityVerification,
        Page::SomethingWentWrong,
    ];

    /// `data-page` of `<body>`, and the path below the mount.
    pub(crate) fn id(self) -> &'static str {
        match self {
            Page::Landing => "landing",
            Page::Register => "register",
            Page::ResetPassword => "reset-password",
            Page::IdentityVerification => "identity-verification",
            Page::SomethingWentWrong => "something-went-wrong",
        }
    }

    fn path(self) -> &'static str {
        match self {
            Page::Landing => "",
            Page::Register => "/register",
            Page::ResetPassword => "/reset-password",
            Page::IdentityVerification => "/identity-verification",
            Page::SomethingWentWrong => "/something-went-wrong",
        }
    }

    pub(crate) fn title_key(self) -> &'static str {
        match self {
            Page::Landing => "page.landing",
            Page::Register => "page.register",
            Page::ResetPassword => "page.reset_password",
            Page::IdentityVerification => "page.identity_verification",
            Page::SomethingWentWrong => "page.something_went_wrong",
        }
    }

    pub(crate) fn template(self) -> &'static str {
        match self {
            Page::Landing => include_str!("../templates/landing.html"),
            Page::Register => include_str!("../templates/register.html"),
            Page::ResetPassword => include_str!("../templates/reset.html"),
            Page::IdentityVerification => include_str!("../templates/verify.html"),
            Page::SomethingWentWrong => include_str!("../templates/wrong.html"),
        }
    }

    pub(crate) fn script(self) -> &'static str {
        match self {
            Page::Landing | Page::SomethingWentWrong => "landing.js",
            Page::Register => "register.js",
            Page::ResetPassword => "reset.js",
            Page::IdentityVerification => "verify.js",
        }
    }

    /// Translation key prefixes the page's scripts need (`js.login.captcha_` is what the
    /// login pages' captcha widget shows).
    pub(crate) fn script_prefixes(self) -> &'static [&'static str] {
        match self {
            Page::Landing | Page::SomethingWentWrong => &["js.common."],
            Page::Register => &[
                "js.common.",
                "js.otp.",
                "js.form.",
                "js.register.",
                "js.login.captcha_",
                "errors.",
            ],
            Page::ResetPassword => &[
                "js.common.",
                "js.otp.",
                "js.form.",
                "js.register.",
                "js.reset.",
                "js.login.captcha_",
                "errors.",
            ],
            Page::IdentityVerification => &["js.common.", "js.verify.", "errors."],
        }
    }
}

/// The shared OTP step of register and reset password.
const OTP_STEP: &str = include_str!("../templates/otp.html");
const LAYOUT: &str = include_str!("../templates/layout.html");

impl SignupUi {
    pub(crate) fn new(config: SignupUiConfig) -> Self {
        let assets = Assets::build(&config.primary_color, &config.secondary_color);
        let csp = HeaderValue::from_str(&content_security_policy(&config)).unwrap_or_else(|_| {
            tracing::error!("the signup pages' content security policy is not a valid header; using the strict default");
            HeaderValue::from_static(
                "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
            )
        });
        let brand = match config.logo_url.as_deref().filter(|u| !u.is_empty()) {
            Some(url) => format!(
                "<img class=\"brand-logo\" id=\"brand-logo\" src=\"{}\" alt=\"\" width=\"32\" height=\"32\">",
                escape(url)
            ),
            None => BRAND_MARK.to_owned(),
        };
        let captcha_module = script_url("captcha.js").unwrap_or_default();
        Self {
            config,
            assets,
            csp,
            brand,
            captcha_module,
        }
    }

    fn asset_url(&self, name: &str) -> String {
        format!(
            "{}/assets/{}/{name}",
            self.config.mount_path.trim_end_matches('/'),
            self.assets.version
        )
    }

    /// The page language for this request.
    fn locale(&self, query: &str, headers: &HeaderMap) -> &'static Locale {
        let ui_locales = query_value(query, "ui_locales");
        let accept = headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok());
        i18n::negotiate(
            ui_locales.as_deref(),
            cookie_value(headers, LANGUAGE_COOKIE),
            accept,
            &self.config.default_language,
        )
    }

    /// Renders `page` for the request.
    pub(crate) fn page(&self, page: Page, uri: &Uri, headers: &HeaderMap) -> Response {
        let query = uri.query().unwrap_or_default();
        let locale = self.locale(query, headers);
        let html = self.render(page, locale, query);
        let mut response = (StatusCode::OK, html).into_response();
        let h = response.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        h.insert(
            header::VARY,
            HeaderValue::from_static("Accept-Language, Cookie"),
        );
        h.insert(header::CONTENT_SECURITY_POLICY, self.csp.clone());
        // The query and fragment carry the authorize request, state and id_token_hint.
        h.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        );
        // The identity verification page needs the camera; nothing else does.
        let camera = if page == Page::IdentityVerification {
            "camera=(self), microphone=()"
        } else {
            "camera=(), microphone=()"
        };
        h.insert("permissions-policy", HeaderValue::from_static(camera));
        response
    }

    pub(crate) fn render(&self, page: Page, locale: &'static Locale, query: &str) -> String {
        let translate = |key: &str| i18n::text(locale, key);
        let otp = render(OTP_STEP, &translate, &[]);
        let mount = self.config.mount_path.trim_end_matches('/').to_owned();
        let content = render(
            page.template(),
            &translate,
            &[("otp_step", &otp), ("mount", &mount)],
        );
        let script = page.script();
        let mut preloads: String = Assets::closure(script)
            .iter()
            .map(|name| {
                format!(
                    "<link rel=\"modulepreload\" href=\"{}\">",
                    escape(&self.asset_url(name))
                )
            })
            .collect();
        let captcha = if matches!(page, Page::Register | Page::ResetPassword) {
            self.captcha_module.as_str()
        } else {
            ""
        };
        if !captcha.is_empty() {
            preloads.push_str(&format!(
                "<link rel=\"modulepreload\" href=\"{}\">",
                escape(captcha)
            ));
        }
        let switcher = language_switcher(locale, &format!("{mount}{}", page.path()), query);
        let title = i18n::text(locale, page.title_key());
        let i18n_json = i18n::json_subset(locale, page.script_prefixes());
        let css = self.asset_url("signup.css");
        let script_url = self.asset_url(script);
        let vars: [(&str, &str); 17] = [
            ("lang", locale.code),
            ("lang3", locale.code3),
            ("dir", if locale.rtl { "rtl" } else { "ltr" }),
            ("page", page.id()),
            ("page_title", &title),
            ("site_title", &self.config.title),
            ("css", &css),
            ("script", &script_url),
            ("preloads", &preloads),
            ("i18n", &i18n_json),
            ("api", &self.config.api_base_path),
            ("esignet_api", &self.config.esignet_api_base_path),
            ("mount", &mount),
            ("captcha_module", captcha),
            ("brand", &self.brand),
            ("switcher", &switcher),
            ("content", &content),
        ];
        render(LAYOUT, &translate, &vars)
    }
}

/// The built-in header mark (decorative).
const BRAND_MARK: &str = "<svg class=\"brand-logo\" viewBox=\"0 0 32 32\" width=\"32\" height=\"32\" aria-hidden=\"true\" focusable=\"false\"><rect width=\"32\" height=\"32\" rx=\"8\" fill=\"currentColor\"/><path d=\"M9 16.5l4.5 4.5L23 11.5\" fill=\"none\" stroke=\"var(--secondary)\" stroke-width=\"3\" stroke-linecap=\"round\" stroke-linejoin=\"round\"/></svg>";

const GLOBE: &str = "<svg class=\"icon\" viewBox=\"0 0 24 24\" width=\"20\" height=\"20\" aria-hidden=\"true\" focusable=\"false\"><circle cx=\"12\" cy=\"12\" r=\"9\" fill=\"none\" stroke=\"currentColor\" stroke-width=\"2\"/><path d=\"M3 12h18M12 3c3 3.5 3 14.5 0 18M12 3c-3 3.5-3 14.5 0 18\" fill=\"none\" stroke=\"currentColor\" stroke-width=\"2\"/></svg>";

/// The language switcher, with the login pages' markup (and so their styles): one link per
/// language with `ui_locales` replaced; the page script carries the URL fragment over.
fn language_switcher(current: &Locale, path: &str, query: &str) -> String {
    let label = escape(&i18n::text(current, "common.language"));
    let mut html = format!(
        "<details class=\"lang\" id=\"language-switcher\" data-testid=\"language-switcher\"><summary id=\"language-button\" data-testid=\"language-button\">{GLOBE}<span class=\"sr-only\">{label}: </span><span lang=\"{}\">{}</span></summary><ul class=\"lang-list\" id=\"language-list\">",
        current.code,
        escape(current.name)
    );
    let kept: Vec<&str> = query
        .split('&')
        .filter(|pair| !pair.is_empty() && pair.split('=').next() != Some("ui_locales"))
        .collect();
    for locale in LOCALES {
        let mut pairs = kept.clone();
        let lang = format!("ui_locales={}", locale.code);
        pairs.push(&lang);
        let href = format!("{path}?{}", pairs.join("&"));
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

/// The (percent- and plus-decoded, ASCII only) value of `name` in a raw query string.
fn query_value(query: &str, name: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        (key == name).then(|| value.replace('+', " ").replace("%20", " "))
    })
}

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

/// The CSP: nothing inline; scripts, styles, API calls and the WebSocket (`'self'` covers
/// `ws:`/`wss:` of this origin) to this origin only; images from here, `data:` and the logo's
/// origin; the camera stream needs no source (it is attached with `srcObject`).
pub(crate) fn content_security_policy(config: &SignupUiConfig) -> String {
    let mut images = vec!["'self'".to_owned(), "data:".to_owned()];
    if let Some(origin) = config.logo_url.as_deref().and_then(origin_of)
        && origin
            .chars()
            .all(|c| c.is_ascii_graphic() && !matches!(c, ';' | ',' | '"'))
    {
        images.push(origin);
    }
    format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src {}; connect-src 'self'; media-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
        images.join(" ")
    )
}

/// `scheme://host[:port]` of an absolute http(s) URL.
fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next()?;
    (!authority.is_empty() && !authority.contains('@')).then(|| format!("{scheme}://{authority}"))
}

pub(crate) fn router(ui: Shared) -> Router {
    Router::new()
        .route("/", get(landing))
        .route("/register", get(register))
        .route("/reset-password", get(reset_password))
        .route("/identity-verification", get(identity_verification))
        .route("/something-went-wrong", get(something_went_wrong))
        .route("/assets/{version}/{file}", get(asset))
        .fallback(fallback)
        .with_state(ui)
        .layer(CompressionLayer::new())
}

async fn landing(State(ui): State<Shared>, uri: Uri, headers: HeaderMap) -> Response {
    ui.page(Page::Landing, &uri, &headers)
}

async fn register(State(ui): State<Shared>, uri: Uri, headers: HeaderMap) -> Response {
    ui.page(Page::Register, &uri, &headers)
}

async fn reset_password(State(ui): State<Shared>, uri: Uri, headers: HeaderMap) -> Response {
    ui.page(Page::ResetPassword, &uri, &headers)
}

async fn identity_verification(State(ui): State<Shared>, uri: Uri, headers: HeaderMap) -> Response {
    ui.page(Page::IdentityVerification, &uri, &headers)
}

async fn something_went_wrong(State(ui): State<Shared>, uri: Uri, headers: HeaderMap) -> Response {
    ui.page(Page::SomethingWentWrong, &uri, &headers)
}

/// Unknown paths go to the landing page, as signup-ui's router does (the browser keeps the
/// fragment, which carries the authorize request).
async fn fallback(State(ui): State<Shared>) -> Response {
    let mount = ui.config.mount_path.trim_end_matches('/');
    Redirect::to(if mount.is_empty() { "/" } else { mount }).into_response()
}

async fn asset(
    State(ui): State<Shared>,
    Path((version, file)): Path<(String, String)>,
) -> Response {
    match ui.assets.get(&file) {
        Some(asset) if version == ui.assets.version => {
            let mut response = asset.body.clone().into_response();
            let h = response.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(asset.content_type),
            );
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static(IMMUTABLE));
            h.insert(
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            );
            response
        }
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}
