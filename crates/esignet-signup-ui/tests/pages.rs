//! The signup pages over HTTP on loopback, mounted as the binary mounts them: nested at
//! `/signup` next to the login pages' router (whose captcha widget they load).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Read;

use esignet_signup_ui::SignupUiConfig;
use reqwest::header;

struct Server {
    base: String,
    client: reqwest::Client,
}

impl Server {
    async fn start(config: SignupUiConfig) -> Self {
        let app = axum::Router::new()
            .nest("/signup", esignet_signup_ui::router(config))
            .merge(esignet_ui::router(esignet_ui::UiConfig::default()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Self {
            base: format!("http://{address}"),
            client,
        }
    }

    async fn get(&self, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
        let mut request = self.client.get(format!("{}{path}", self.base));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send().await.unwrap()
    }

    async fn text(&self, path: &str, headers: &[(&str, &str)]) -> String {
        let response = self.get(path, headers).await;
        assert_eq!(response.status(), 200, "{path}");
        response.text().await.unwrap()
    }
}

const PAGES: [&str; 5] = [
    "/signup",
    "/signup/register",
    "/signup/reset-password",
    "/signup/identity-verification",
    "/signup/something-went-wrong",
];

/// The values of `attr="..."` in `html`.
fn attributes(html: &str, attr: &str) -> Vec<String> {
    html.split(&format!("{attr}=\""))
        .skip(1)
        .filter_map(|piece| piece.split_once('"').map(|(value, _)| value.to_owned()))
        .collect()
}

/// The same-origin stylesheet, script and module-preload URLs of a page.
fn page_assets(html: &str) -> Vec<String> {
    let mut assets: Vec<String> = attributes(html, "href")
        .into_iter()
        .chain(attributes(html, "src"))
        .filter(|url| url.contains("/assets/"))
        .collect();
    assets.sort();
    assets.dedup();
    assets
}

#[tokio::test]
async fn every_page_is_served_with_the_security_headers() {
    let server = Server::start(SignupUiConfig::default()).await;
    for path in PAGES {
        let response = server.get(path, &[]).await;
        assert_eq!(response.status(), 200, "{path}");
        let h = response.headers();
        assert_eq!(h[header::CONTENT_TYPE], "text/html; charset=utf-8");
        assert_eq!(h[header::CACHE_CONTROL], "no-store");
        assert_eq!(h[header::REFERRER_POLICY], "no-referrer");
        let csp = h[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        for directive in [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "connect-src 'self'",
            "frame-ancestors 'none'",
            "object-src 'none'",
        ] {
            assert!(csp.contains(directive), "{path}: {csp}");
        }
        assert!(!csp.contains("unsafe-inline"));
        let camera = h["permissions-policy"].to_str().unwrap();
        assert_eq!(
            camera.starts_with("camera=(self)"),
            path.ends_with("identity-verification"),
            "{path}: {camera}"
        );
        let html = response.text().await.unwrap();
        // No inline script: the only scripts are the module and the JSON catalogue.
        assert_eq!(html.matches("<script").count(), 2, "{path}");
        assert!(html.contains("data-api=\"/v1/signup\""));
    }
}

#[tokio::test]
async fn language_comes_from_ui_locales_then_cookie_then_accept_language() {
    let server = Server::start(SignupUiConfig::default()).await;
    let arabic = server.text("/signup/register?ui_locales=ar", &[]).await;
    assert!(arabic.contains("<html lang=\"ar\" dir=\"rtl\">"));
    assert!(arabic.contains("سجّل برقم هاتفك المحمول"));
    let cookie = server
        .text("/signup/reset-password", &[("cookie", "i18nextLng=km")])
        .await;
    assert!(cookie.contains("<html lang=\"km\" dir=\"ltr\">"));
    let accept = server
        .text("/signup", &[("accept-language", "de, ta;q=0.8, fr;q=0.5")])
        .await;
    assert!(accept.contains("<html lang=\"ta\""));
    let fallback = server
        .text("/signup", &[("accept-language", "de"), ("cookie", "x=1")])
        .await;
    assert!(fallback.contains("<html lang=\"en\" dir=\"ltr\">"));
    // The switcher keeps the query (state, code) and only swaps ui_locales.
    let verify = server
        .text(
            "/signup/identity-verification?state=s1&code=c2&ui_locales=fr",
            &[],
        )
        .await;
    assert!(
        verify.contains(
            "href=\"/signup/identity-verification?state=s1&amp;code=c2&amp;ui_locales=ar\""
        )
    );
    assert!(verify.contains("<html lang=\"fr\""));
}

#[tokio::test]
async fn assets_are_versioned_immutable_and_the_captcha_widget_is_the_login_pages_own() {
    let server = Server::start(SignupUiConfig::default()).await;
    let html = server.text("/signup/register", &[]).await;
    let assets = page_assets(&html);
    assert!(assets.iter().any(|a| a.ends_with("/register.js")));
    assert!(assets.iter().any(|a| a.ends_with("/signup.css")));
    for asset in &assets {
        let response = server.get(asset, &[]).await;
        assert_eq!(response.status(), 200, "{asset}");
        assert!(
            response.headers()[header::CACHE_CONTROL]
                .to_str()
                .unwrap()
                .contains("immutable")
        );
        let expected = if asset.ends_with(".css") {
            "text/css; charset=utf-8"
        } else {
            "text/javascript; charset=utf-8"
        };
        assert_eq!(response.headers()[header::CONTENT_TYPE], expected);
    }
    // The captcha module is esignet-ui's, served by its router, not a copy.
    let captcha = attributes(&html, "data-captcha-module").pop().unwrap();
    assert_eq!(
        Some(captcha.clone()),
        esignet_ui::shared::script_url("captcha.js")
    );
    assert!(captcha.starts_with("/ui/assets/captcha."));
    let widget = server.text(&captcha, &[]).await;
    assert!(widget.contains("export function createCaptcha"));
    // The stylesheet is the theme, the login pages' stylesheet and the signup additions.
    let css_url = assets.iter().find(|a| a.ends_with(".css")).unwrap();
    let css = server.text(css_url, &[]).await;
    assert!(css.starts_with(":root{--primary:#0b5cad"));
    assert!(css.contains(esignet_ui::shared::STYLESHEET));
    assert!(css.contains(".camera"));
    // Another version or an unknown file is not served.
    let version = css_url.split('/').nth(3).unwrap();
    let other = css_url.replace(version, "0000000000");
    assert_eq!(server.get(&other, &[]).await.status(), 404);
    assert_eq!(
        server
            .get(&css_url.replace("signup.css", "nope.js"), &[])
            .await
            .status(),
        404
    );
}

#[tokio::test]
async fn the_theme_and_logo_reach_the_page_and_its_policy() {
    let server = Server::start(SignupUiConfig {
        primary_color: "#7a1f5c".to_owned(),
        logo_url: Some("https://cdn.example.org/logo.svg".to_owned()),
        title: "Example ID".to_owned(),
        ..SignupUiConfig::default()
    })
    .await;
    let response = server.get("/signup", &[]).await;
    let csp = response.headers()[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("img-src 'self' data: https://cdn.example.org;"),
        "{csp}"
    );
    let html = response.text().await.unwrap();
    assert!(html.contains("src=\"https://cdn.example.org/logo.svg\""));
    assert!(html.contains("Example ID"));
    let css_url = page_assets(&html)
        .into_iter()
        .find(|a| a.ends_with(".css"))
        .unwrap();
    assert!(
        server
            .text(&css_url, &[])
            .await
            .starts_with(":root{--primary:#7a1f5c")
    );
}

#[tokio::test]
async fn responses_are_compressed_and_unknown_paths_go_to_the_landing_page() {
    let server = Server::start(SignupUiConfig::default()).await;
    let plain = server.text("/signup/identity-verification", &[]).await;
    let response = server
        .get(
            "/signup/identity-verification",
            &[("accept-encoding", "gzip")],
        )
        .await;
    assert_eq!(response.headers()[header::CONTENT_ENCODING], "gzip");
    let bytes = response.bytes().await.unwrap();
    let mut decoded = String::new();
    flate2::read::GzDecoder::new(&bytes[..])
        .read_to_string(&mut decoded)
        .unwrap();
    assert_eq!(decoded, plain);
    assert!(bytes.len() < plain.len() / 2);

    let response = server.get("/signup/under-construction", &[]).await;
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()[header::LOCATION], "/signup");
}

/// What a resident downloads to see each page (page, stylesheet, entry module and every module
/// it imports, the captcha widget included), gzip-compressed. Run with `--nocapture` for the
/// table in docs/ui.md.
#[tokio::test]
async fn page_weights_stay_within_the_budget() {
    const BUDGET: usize = 60 * 1024;
    let server = Server::start(SignupUiConfig::default()).await;
    let gzip = [("accept-encoding", "gzip")];
    for path in PAGES {
        let html = server.text(path, &[]).await;
        let mut files = vec![path.to_owned()];
        files.extend(page_assets(&html));
        if let Some(captcha) = attributes(&html, "data-captcha-module")
            .pop()
            .filter(|c| !c.is_empty())
        {
            // The widget and what it imports (its common module and the solver).
            let widget = server.text(&captcha, &[]).await;
            files.push(captcha);
            for piece in widget.split("\"./").skip(1) {
                if let Some((file, _)) = piece.split_once('"') {
                    files.push(format!("/ui/assets/{file}"));
                }
            }
        }
        let mut total = 0;
        for file in &files {
            let response = server.get(file, &gzip).await;
            assert_eq!(response.status(), 200, "{file}");
            total += response.bytes().await.unwrap().len();
        }
        println!("{path}: {} files, {total} bytes gzip", files.len());
        assert!(total < BUDGET, "{path}: {total} bytes");
    }
}
