//! The pages over real HTTP: rendering in every language, language negotiation, security and
//! cache headers, compression, and the not-found handling.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use esignet_ui::{LOCALES, UiConfig};
use support::{Server, decode, page_assets};

/// Every page path, with the status it answers.
const PAGES: &[(&str, u16)] = &[
    (
        "/authorize?client_id=health-services-demo&scope=openid",
        200,
    ),
    ("/login?nonce=n1&state=s1", 200),
    ("/claim-details?state=s1", 200),
    ("/consent?state=s1", 200),
    ("/error?error=invalid_transaction", 200),
    ("/something-went-wrong?status=503", 200),
    ("/network-error", 200),
    ("/page-not-found", 404),
    ("/no/such/page", 404),
];

fn with_lang(path: &str, lang: &str) -> String {
    let separator = if path.contains('?') { '&' } else { '?' };
    format!("{path}{separator}ui_locales={lang}")
}

fn html_tag(html: &str) -> &str {
    let start = html.find("<html").unwrap();
    &html[start..start + html[start..].find('>').unwrap() + 1]
}

#[tokio::test]
async fn every_page_renders_in_every_language_with_lang_and_dir() {
    let server = Server::default().await;
    for (path, status) in PAGES {
        for locale in LOCALES {
            let url = with_lang(path, locale.code);
            let (code, headers, html) = server.page(&url, &[]).await;
            assert_eq!(code, *status, "{url}");
            assert_eq!(headers["content-type"], "text/html; charset=utf-8");
            let dir = if locale.rtl { "rtl" } else { "ltr" };
            assert_eq!(
                html_tag(&html),
                format!("<html lang=\"{}\" dir=\"{dir}\">", locale.code),
                "{url}"
            );
            assert!(!html.contains("{{"), "{url}: unresolved placeholder");
            // The switcher lists every language and marks the current one.
            assert!(html.contains("id=\"language-switcher\""), "{url}");
            assert!(
                html.contains(&format!(
                    "data-lang-link=\"{}\" aria-current=\"true\"",
                    locale.code
                )),
                "{url}"
            );
            for other in LOCALES {
                assert!(html.contains(&format!("id=\"lang-{}\"", other.code)));
            }
            // Every referenced asset is served.
            for asset in page_assets(&html) {
                let (code, _, _) = server.get(&asset, &[]).await;
                assert_eq!(code, 200, "{url} references missing {asset}");
            }
        }
    }
}

#[tokio::test]
async fn pages_are_translated() {
    let server = Server::default().await;
    let (_, _, en) = server.page("/login?ui_locales=en", &[]).await;
    assert!(en.contains("Skip to main content"));
    let (_, _, fr) = server.page("/login?ui_locales=fr", &[]).await;
    assert!(!fr.contains("Skip to main content"));
    let (_, _, ar) = server.page("/consent?ui_locales=ar", &[]).await;
    assert!(!ar.contains(">Allow<"));
    // The switcher keeps the query and replaces only ui_locales.
    assert!(en.contains("href=\"/login?ui_locales=hi\""));
    let (_, _, with_query) = server.page("/login?state=abc&ui_locales=en", &[]).await;
    assert!(with_query.contains("href=\"/login?state=abc&amp;ui_locales=ta\""));
}

#[tokio::test]
async fn language_negotiation_order() {
    let server = Server::default().await;
    let lang_of = |html: &str| {
        let tag = html_tag(html).to_owned();
        tag.split("lang=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_owned()
    };
    // ui_locales first (space-separated, first supported; three-letter codes mapped).
    let all = [
        ("Cookie", "i18nextLng=ar"),
        ("Accept-Language", "hi, en;q=0.5"),
    ];
    let (_, _, html) = server.page("/login?ui_locales=de%20khm%20fr", &all).await;
    assert_eq!(lang_of(&html), "km");
    // Then the cookie.
    let (_, _, html) = server.page("/login?ui_locales=de", &all).await;
    assert_eq!(lang_of(&html), "ar");
    // Then Accept-Language, by quality.
    let (_, _, html) = server
        .page("/login", &[("Accept-Language", "de, ta;q=0.4, kn;q=0.8")])
        .await;
    assert_eq!(lang_of(&html), "kn");
    // Then the configured default, then English.
    let (_, _, html) = server.page("/login", &[("Accept-Language", "de")]).await;
    assert_eq!(lang_of(&html), "en");
    let french = Server::start(UiConfig {
        default_language: "fr".into(),
        ..UiConfig::default()
    })
    .await;
    let (_, _, html) = french.page("/login", &[("Accept-Language", "de")]).await;
    assert_eq!(lang_of(&html), "fr");
    let (_, _, html) = french.page("/login", &[("Cookie", "i18nextLng=zz")]).await;
    assert_eq!(lang_of(&html), "fr");
}

#[tokio::test]
async fn pages_carry_a_strict_csp_and_no_store() {
    let server = Server::default().await;
    for (path, _) in PAGES {
        let (_, headers, html) = server.page(path, &[]).await;
        let csp = headers["content-security-policy"].to_str().unwrap();
        for directive in [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "connect-src 'self' http://127.0.0.1:*",
            "frame-ancestors 'none'",
            "form-action 'self'",
            "object-src 'none'",
            "base-uri 'none'",
        ] {
            assert!(
                csp.contains(directive),
                "{path}: {directive} missing in {csp}"
            );
        }
        assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"));
        assert_eq!(headers["cache-control"], "no-store", "{path}");
        assert_eq!(headers["referrer-policy"], "no-referrer", "{path}");
        // No inline script or style: only external modules and JSON data blocks.
        for piece in html.split("<script").skip(1) {
            let tag = piece.split('>').next().unwrap();
            assert!(
                tag.contains(" src=\"/ui/assets/") || tag.contains("type=\"application/json\""),
                "{path}: inline script {tag}"
            );
        }
        assert!(
            !html.contains("<style") && !html.contains(" style=\""),
            "{path}"
        );
        assert!(
            !html.contains(" onclick=") && !html.contains("javascript:"),
            "{path}"
        );
    }
}

#[tokio::test]
async fn configured_logo_origin_and_image_sources_join_img_src() {
    let server = Server::start(UiConfig {
        logo_url: Some("https://cdn.example.org/logo.svg".into()),
        image_sources: vec!["http://127.0.0.1:8090".into()],
        ..UiConfig::default()
    })
    .await;
    let (_, headers, html) = server.page("/login", &[]).await;
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("img-src 'self' data: http://127.0.0.1:8090 https://cdn.example.org;"));
    assert!(html.contains("src=\"https://cdn.example.org/logo.svg\""));
}

#[tokio::test]
async fn assets_are_immutable_and_unknown_ones_are_404() {
    let server = Server::default().await;
    let (_, _, html) = server.page("/login", &[]).await;
    let assets = page_assets(&html);
    assert!(assets.iter().any(|a| a.ends_with(".css")));
    assert!(assets.iter().any(|a| a.ends_with(".js")));
    for asset in assets {
        let (code, headers, _) = server.get(&asset, &[]).await;
        assert_eq!(code, 200);
        assert_eq!(
            headers["cache-control"],
            "public, max-age=31536000, immutable"
        );
        assert_eq!(headers["x-content-type-options"], "nosniff");
        let expected = if asset.ends_with(".css") {
            "text/css"
        } else {
            "text/javascript"
        };
        assert!(
            headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with(expected)
        );
    }
    let (code, headers, _) = server.get("/ui/assets/login.0000000000.js", &[]).await;
    assert_eq!(code, 404);
    assert_eq!(headers["cache-control"], "no-store");
}

#[tokio::test]
async fn pages_and_assets_are_served_compressed() {
    let server = Server::default().await;
    let (_, _, html) = server.page("/login", &[]).await;
    let mut paths = page_assets(&html);
    paths.push("/login".to_owned());
    for path in paths {
        let (_, _, identity) = server.get(&path, &[("Accept-Encoding", "identity")]).await;
        for encoding in ["gzip", "br"] {
            let (code, headers, body) = server.get(&path, &[("Accept-Encoding", encoding)]).await;
            assert_eq!(code, 200);
            assert_eq!(headers["content-encoding"], encoding, "{path}");
            assert!(
                body.len() < identity.len(),
                "{path}: {encoding} is not smaller"
            );
            let decoded = decode(encoding, &body);
            if path.starts_with("/ui/assets/") {
                assert_eq!(decoded, identity, "{path}: {encoding} round trip");
            } else {
                assert!(
                    String::from_utf8(decoded)
                        .unwrap()
                        .starts_with("<!doctype html>")
                );
            }
        }
    }
}

#[tokio::test]
async fn unknown_paths_answer_404_pages_only_to_browsers() {
    let server = Server::default().await;
    let (code, _, html) = server.page("/nowhere", &[]).await;
    assert_eq!(code, 404);
    assert!(html.contains("data-page=\"page-not-found\""));
    // API clients and API paths get an empty 404.
    let (code, _, body) = server
        .get("/nowhere", &[("Accept", "application/json")])
        .await;
    assert_eq!((code, body.len()), (404, 0));
    for path in ["/v1/esignet/nothing", "/.well-known/nothing", "/ui/nothing"] {
        let (code, _, body) = server.page(path, &[]).await;
        assert_eq!((code, body.len()), (404, 0), "{path}");
    }
}

#[tokio::test]
async fn authorize_without_a_client_explains_in_place() {
    let server = Server::default().await;
    let (code, _, html) = server.page("/authorize", &[]).await;
    assert_eq!(code, 400);
    assert!(html.contains("data-invalid=\"true\""));
    assert!(html.contains("This sign-in link is incomplete"));
    let (code, _, html) = server.page("/authorize?client_id=abc", &[]).await;
    assert_eq!(code, 200);
    assert!(html.contains("data-invalid=\"false\""));
}

#[tokio::test]
async fn error_page_translates_known_codes_and_never_echoes_descriptions() {
    let server = Server::default().await;
    let (_, _, html) = server
        .page(
            "/error?error=invalid_transaction&error_description=Call%20%2B1-555%20now",
            &[],
        )
        .await;
    assert!(html.contains("Your sign-in session has expired or is not valid."));
    assert!(html.contains("<code>invalid_transaction</code>"));
    // Shown nowhere as text (the language links keep the query, escaped, in their hrefs).
    let main = html
        .split("<main")
        .nth(1)
        .unwrap()
        .split("</main>")
        .next()
        .unwrap();
    assert!(!main.contains("555"));
    let (_, _, html) = server.page("/error?error=%3Cscript%3E", &[]).await;
    assert!(html.contains("<code>unknown_error</code>") && !html.contains("<script>"));
    let (_, _, html) = server.page("/something-went-wrong?status=503", &[]).await;
    assert!(html.contains("temporarily unavailable") && html.contains("<code>503</code>"));
}

#[tokio::test]
async fn page_bodies_carry_the_api_base_path_and_attempt_limits() {
    let server = Server::start(UiConfig {
        api_base_path: "/idp/api".into(),
        send_otp_attempts: 3,
        authenticate_attempts: 5,
        ..UiConfig::default()
    })
    .await;
    let (_, _, html) = server.page("/login", &[]).await;
    assert!(html.contains("data-api=\"/idp/api\""));
    assert!(html.contains("data-send-otp-attempts=\"3\""));
    assert!(html.contains("data-authenticate-attempts=\"5\""));
    let (code, _, body) = server.page("/idp/api/unknown", &[]).await;
    assert_eq!((code, body.len()), (404, 0));
}
