//! Validation of the `[ui]` section's theme keys (kept apart from `validate.rs` for size; it
//! records problems the same way).

use crate::error::Problems;
use crate::raw::UiRaw;
use crate::settings::UiSettings;
use crate::validate::http_url;

/// WCAG 2 AA contrast for normal text: white button labels on the primary colour.
const MIN_CONTRAST: f64 = 4.5;
/// Longest accepted product title, in characters (it shares the header with the switcher).
const MAX_TITLE_CHARS: usize = 60;

pub(crate) fn ui(
    raw: UiRaw,
    ui_locales_supported: &[String],
    problems: &mut Problems,
) -> UiSettings {
    let title = raw.title.trim().to_owned();
    if title.is_empty() || title.chars().count() > MAX_TITLE_CHARS {
        problems.push(
            "ui.title",
            format!("must be 1 to {MAX_TITLE_CHARS} characters"),
        );
    }
    let logo_url = raw
        .logo_url
        .map(|url| url.trim().to_owned())
        .filter(|url| !url.is_empty());
    if let Some(url) = &logo_url
        && let Err(message) = check_logo_url(url)
    {
        problems.push("ui.logo_url", message);
    }
    match rgb(&raw.primary_color) {
        Some(primary) => {
            let ratio = contrast(primary, (255, 255, 255));
            if ratio < MIN_CONTRAST {
                problems.push(
                    "ui.primary_color",
                    format!(
                        "white text on \"{}\" has contrast {ratio:.2}:1; WCAG AA needs at least {MIN_CONTRAST}:1, choose a darker colour",
                        raw.primary_color
                    ),
                );
            }
        }
        None => problems.push("ui.primary_color", not_a_colour(&raw.primary_color)),
    }
    if rgb(&raw.secondary_color).is_none() {
        problems.push("ui.secondary_color", not_a_colour(&raw.secondary_color));
    }
    let default_language = raw.default_language.trim().to_ascii_lowercase();
    if !ui_locales_supported.contains(&default_language) {
        problems.push(
            "ui.default_language",
            format!(
                "\"{}\" is not in oidc.ui_locales_supported ({})",
                raw.default_language,
                ui_locales_supported.join(", ")
            ),
        );
    }
    for source in &raw.image_sources {
        if !is_csp_source(source) {
            problems.push(
                "ui.image_sources",
                format!(
                    "\"{source}\" is not a CSP source such as https://logos.example.org or https:"
                ),
            );
        }
    }
    UiSettings {
        configs: raw.configs,
        title,
        logo_url,
        primary_color: raw.primary_color.trim().to_ascii_lowercase(),
        secondary_color: raw.secondary_color.trim().to_ascii_lowercase(),
        default_language,
        image_sources: raw.image_sources,
    }
}

fn not_a_colour(text: &str) -> String {
    format!("\"{text}\" is not a hex colour such as #0b5cad or #fff")
}

/// A same-server path (`/static/logo.svg`) or an absolute http(s) URL.
fn check_logo_url(url: &str) -> Result<(), String> {
    if url.starts_with('/') && !url.starts_with("//") {
        return if url
            .chars()
            .any(|c| c.is_whitespace() || c == '"' || c == '<')
        {
            Err(format!("\"{url}\" is not a valid path"))
        } else {
            Ok(())
        };
    }
    http_url(url).map(|_| ())
}

/// A CSP host-source or scheme-source: no whitespace, quotes, `;` or `,` (which would end the
/// directive), and not a keyword that would weaken the policy.
fn is_csp_source(source: &str) -> bool {
    let allowed_chars = source
        .chars()
        .all(|c| c.is_ascii_graphic() && !matches!(c, ';' | ',' | '"' | '\''));
    let scheme_only = matches!(source, "https:" | "http:" | "data:" | "blob:");
    let host_source = source.starts_with("https://") || source.starts_with("http://");
    !source.is_empty() && allowed_chars && (scheme_only || host_source) && source != "*"
}

/// Parses `#rgb` / `#rrggbb`.
fn rgb(text: &str) -> Option<(u8, u8, u8)> {
    let hex = text.trim().strip_prefix('#')?;
    if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let channel = |s: &str| u8::from_str_radix(s, 16).ok();
    match hex.len() {
        3 => {
            let doubled: String = hex.chars().flat_map(|c| [c, c]).collect();
            rgb(&format!("#{doubled}"))
        }
        6 => Some((
            channel(&hex[0..2])?,
            channel(&hex[2..4])?,
            channel(&hex[4..6])?,
        )),
        _ => None,
    }
}

/// WCAG 2 relative luminance.
fn luminance((r, g, b): (u8, u8, u8)) -> f64 {
    let linear = |c: u8| {
        let c = f64::from(c) / 255.0;
        if c <= 0.039_28 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b)
}

/// WCAG 2 contrast ratio.
fn contrast(a: (u8, u8, u8), b: (u8, u8, u8)) -> f64 {
    let (la, lb) = (luminance(a), luminance(b));
    (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems_for(raw: UiRaw) -> Vec<String> {
        let mut problems = Problems::default();
        let supported = vec!["en".to_owned(), "fr".to_owned()];
        ui(raw, &supported, &mut problems);
        problems
            .into_result(())
            .err()
            .map(|errors| errors.to_string().lines().map(str::to_owned).collect())
            .unwrap_or_default()
    }

    #[test]
    fn defaults_are_valid() {
        assert!(problems_for(UiRaw::default()).is_empty());
    }

    #[test]
    fn theme_problems_are_reported() {
        let raw = UiRaw {
            title: " ".into(),
            logo_url: Some("javascript:alert(1)".into()),
            primary_color: "#ffcc00".into(),
            secondary_color: "blue".into(),
            default_language: "de".into(),
            image_sources: vec![
                "https://ok.example".into(),
                "'unsafe-inline'".into(),
                "*".into(),
            ],
            ..UiRaw::default()
        };
        let problems = problems_for(raw).join("\n");
        for key in [
            "ui.title",
            "ui.logo_url",
            "ui.primary_color",
            "ui.secondary_color",
            "ui.default_language",
        ] {
            assert!(problems.contains(key), "{key} not reported in\n{problems}");
        }
        assert_eq!(
            problems.matches("ui.image_sources").count(),
            2,
            "{problems}"
        );
        assert!(problems.contains("contrast"), "{problems}");
    }

    #[test]
    fn colours_and_paths() {
        assert_eq!(rgb("#FFF"), Some((255, 255, 255)));
        assert_eq!(rgb("#0b5cad"), Some((11, 92, 173)));
        assert_eq!(rgb("#0b5ca"), None);
        assert!((contrast((0, 0, 0), (255, 255, 255)) - 21.0).abs() < 1e-9);
        assert!(check_logo_url("/static/logo.svg").is_ok());
        assert!(check_logo_url("//evil.example/logo.svg").is_err());
        assert!(check_logo_url("https://cdn.example.org/logo.svg").is_ok());
        assert!(is_csp_source("https:") && is_csp_source("http://127.0.0.1:8090"));
        assert!(!is_csp_source("https://a.example; script-src *"));
    }
}
