//! Hand-written HTML: the page layout, the landing and error pages, the logo, and the escaping
//! every outside value goes through.
//!
//! Pages load nothing from elsewhere (no fonts, scripts or stylesheets): the CSS is inline and
//! the only images are our logo and the resident's photo as a data URL. The
//! `Content-Security-Policy` set by the handlers enforces that.

use std::fmt::Write as _;

use crate::error::LoginError;

/// HTML-escapes `text` for element content and double-quoted attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

/// The site name, shown in every page's header.
pub(crate) const SITE_NAME: &str = "Health Services Portal";

/// The inline stylesheet. Colours meet WCAG AA contrast (body text 15:1, buttons 8:1 on white);
/// focus stays visible for keyboard users.
const STYLE: &str = "\
*{box-sizing:border-box}\
body{margin:0;font-family:system-ui,-apple-system,'Segoe UI',Roboto,'Noto Sans',sans-serif;\
color:#1b1f24;background:#f4f6f8;line-height:1.5}\
header{background:#0b4f71;color:#fff;padding:.75rem 1.5rem;display:flex;align-items:center;gap:.75rem}\
header a{color:#fff;text-decoration:none;font-weight:600;font-size:1.2rem}\
header img{width:40px;height:40px}\
main{max-width:52rem;margin:1.5rem auto;padding:0 1rem}\
section,.card{background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:1rem 1.25rem;margin:0 0 1rem}\
h1{font-size:1.6rem;margin:.5rem 0 1rem}h2{font-size:1.2rem;margin:0 0 .5rem}\
.button{display:inline-block;font:inherit;font-weight:600;color:#fff;background:#0b5394;\
border:2px solid #0b5394;border-radius:6px;padding:.6rem 1.1rem;cursor:pointer;text-decoration:none}\
.button.secondary{background:#fff;color:#0b5394}\
.button:hover{background:#083d6d;color:#fff}\
a:focus-visible,.button:focus-visible,summary:focus-visible{outline:3px solid #b35c00;outline-offset:2px}\
a{color:#0b5394}\
form,.sign-in-button{display:inline-block;margin:.25rem .5rem .25rem 0}\
dl{display:grid;grid-template-columns:minmax(8rem,max-content) 1fr;gap:.35rem 1rem;margin:0}\
dt{font-weight:600;color:#3d4650}dd{margin:0;overflow-wrap:anywhere}\
.lang{display:inline-block;min-width:5.5rem;color:#3d4650;font-size:.9rem}\
.badge{display:inline-block;background:#e6f4ea;color:#0f5223;border-radius:4px;padding:0 .4rem;font-size:.85rem}\
.photo{float:right;width:120px;height:auto;border-radius:8px;border:1px solid #d0d7de;margin:0 0 .5rem 1rem}\
.error{border-color:#b3261e}.error h1{color:#8c1d18}\
pre{background:#f6f8fa;padding:.75rem;overflow:auto;font-size:.85rem;white-space:pre-wrap;overflow-wrap:anywhere}\
code{font-size:.95em}\
table{border-collapse:collapse;width:100%}th,td{text-align:start;padding:.3rem .5rem;border-bottom:1px solid #e1e4e8;vertical-align:top}\
footer{max-width:52rem;margin:0 auto 2rem;padding:0 1rem;color:#3d4650;font-size:.9rem}";

/// A whole page: `<html lang="en">` with the header, `body` inside `<main>`, and a footer.
/// `title` is escaped; `body` must already be safe HTML.
pub(crate) fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
<title>{title} – {SITE_NAME}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
<header><img src=\"/logo.svg\" alt=\"\"><a href=\"/\">{SITE_NAME}</a></header>\n\
<main>\n{body}\n</main>\n\
<footer>A demonstration relying party for eSignet-rs. The health data shown here is fictional.</footer>\n\
</body>\n</html>\n",
        title = escape(title),
    )
}

/// The landing page. `signed_in_as` is the resident's display name when a session is signed
/// in (escaped here).
pub(crate) fn landing(signed_in_as: Option<&str>, provider_url: &str) -> String {
    let mut body = String::from(
        "<h1>Welcome to the Health Services Portal</h1>\n\
<section aria-labelledby=\"about\"><h2 id=\"about\">Your health records, in one place</h2>\n\
<p>Book appointments, see your prescriptions and your vaccination record. Sign in with your \
national digital identity through eSignet: the portal never sees your credentials, only the \
details you agree to share.</p></section>\n",
    );
    match signed_in_as {
        Some(name) => {
            let _ = write!(
                body,
                "<section aria-labelledby=\"signed-in\"><h2 id=\"signed-in\">You are signed in</h2>\n\
<p>Signed in as <strong>{}</strong>.</p>\n\
<p><a class=\"button\" href=\"/profile\">View your profile</a> \
<a class=\"button secondary\" href=\"/logout\">Sign out</a></p></section>\n",
                escape(name)
            );
        }
        None => {
            // The forms work without JavaScript; the page script replaces them by the
            // provider's sign-in button (see `button.rs`).
            let _ = write!(
                body,
                "<section aria-labelledby=\"sign-in\"><h2 id=\"sign-in\">Sign in</h2>\n\
<div id=\"esignet-sign-in\" class=\"sign-in-buttons\" data-provider=\"{}\">\
<form class=\"sign-in\" method=\"post\" action=\"/login\">\
<button class=\"button\" type=\"submit\">Sign in with eSignet</button></form>\n\
<form class=\"sign-in\" method=\"post\" action=\"/login/par\">\
<button class=\"button secondary\" type=\"submit\">Sign in with eSignet (PAR + DPoP)</button></form>\n\
<form class=\"sign-in\" method=\"post\" action=\"/login/verified\">\
<button class=\"button secondary\" type=\"submit\">Sign in with verified details</button></form>\n\
</div>\n\
<p>The first button sends an ordinary OpenID Connect request (authorization code with PKCE). \
The second pushes the request to the provider first (PAR) and binds the tokens to a key held \
by this portal (DPoP), as the FAPI 2.0 profile asks. The third asks for your name as a verified \
claim: if your identity record has no verified name yet, eSignet offers a video identity \
verification during the sign-in.</p></section>\n\
<script type=\"module\" src=\"/sign-in.js\"></script>\n",
                escape(provider_url)
            );
        }
    }
    page("Home", &body)
}

/// The error page for a failed sign-in: what failed, the error code and its description, all
/// escaped, and a way back.
pub(crate) fn error_page(error: &LoginError) -> String {
    let mut body = format!(
        "<section class=\"error\" role=\"alert\" aria-labelledby=\"failed\">\
<h1 id=\"failed\">Sign-in failed</h1>\n<p>{}</p>\n<dl>\n<dt>Error code</dt><dd><code>{}</code></dd>\n",
        escape(error.summary),
        escape(&error.code)
    );
    if let Some(description) = &error.description {
        let _ = writeln!(body, "<dt>Description</dt><dd>{}</dd>", escape(description));
    }
    body.push_str("</dl>\n<p><a class=\"button\" href=\"/\">Back to the portal</a></p></section>");
    page("Sign-in failed", &body)
}

/// The page for a path we do not serve.
pub(crate) fn not_found() -> String {
    page(
        "Not found",
        "<section><h1>Page not found</h1><p><a href=\"/\">Back to the portal</a></p></section>",
    )
}

/// The portal's logo: a white cross on a teal heart. The provider shows it on its login page
/// (`<public_url>/logo.svg` is the demo client's `logoUri`).
pub(crate) const LOGO_SVG: &str = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 64 64\" \
role=\"img\" aria-label=\"Health Services Portal\">\
<path fill=\"#12939a\" d=\"M32 58 8 34C1 27 2 15 10 10c6-4 14-3 19 2l3 3 3-3c5-5 13-6 19-2 8 5 9 17 \
2 24z\"/><path fill=\"#fff\" d=\"M28 20h8v9h9v8h-9v9h-8v-9h-9v-8h9z\"/></svg>";

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::StatusCode;

    #[test]
    fn escaping_covers_markup_and_both_quotes() {
        assert_eq!(
            escape(r#"<a href="x" title='y'>&</a>"#),
            "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;"
        );
        assert_eq!(escape("Chan Sreymom ចាន់"), "Chan Sreymom ចាន់");
    }

    #[test]
    fn pages_escape_outside_values_and_load_nothing_external() {
        let error = LoginError::from_provider(
            StatusCode::BAD_REQUEST,
            "x",
            "<b>code</b>",
            Some("<script>alert(1)</script>"),
        );
        let html = error_page(&error);
        assert!(html.contains("&lt;b&gt;code&lt;/b&gt;"));
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(!html.contains("<script>"));
        let landing = landing(Some("<i>Eve</i>"), "http://127.0.0.1:8088");
        assert!(landing.contains("&lt;i&gt;Eve&lt;/i&gt;"));
        for html in [html, landing, not_found()] {
            assert!(html.contains("<html lang=\"en\">"));
            assert!(!html.contains("http://") && !html.contains("https://"));
        }
    }
}
