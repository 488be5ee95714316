//! Languages of the signup pages: the login pages' language list (`esignet_ui::LOCALES`, so
//! both page sets offer the same seven languages and share the language cookie) with this
//! crate's own catalogues, and the negotiation order `ui_locales` > language cookie >
//! `Accept-Language` > configured default > English.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use esignet_ui::{LOCALES, Locale};

/// The cookie remembering the resident's choice, shared with the login pages.
pub(crate) const LANGUAGE_COOKIE: &str = "i18nextLng";

/// The catalogue source of each language, in [`LOCALES`] order.
fn source(code: &str) -> &'static str {
    match code {
        "fr" => include_str!("../locales/fr.json"),
        "ar" => include_str!("../locales/ar.json"),
        "hi" => include_str!("../locales/hi.json"),
        "kn" => include_str!("../locales/kn.json"),
        "ta" => include_str!("../locales/ta.json"),
        "km" => include_str!("../locales/km.json"),
        _ => include_str!("../locales/en.json"),
    }
}

/// The raw catalogue of `locale`, for the duplicate-key test.
#[cfg(test)]
pub(crate) fn source_of(locale: &Locale) -> &'static str {
    source(locale.code)
}

/// The parsed catalogues, in [`LOCALES`] order (English first). A catalogue that fails to
/// parse (a test proves none does) is logged and left empty: its language falls back to
/// English.
pub(crate) fn catalogues() -> &'static [BTreeMap<String, String>] {
    static CATALOGUES: OnceLock<Vec<BTreeMap<String, String>>> = OnceLock::new();
    CATALOGUES.get_or_init(|| {
        LOCALES
            .iter()
            .map(|locale| {
                serde_json::from_str(source(locale.code)).unwrap_or_else(|error| {
                    tracing::error!(locale = locale.code, %error, "signup catalogue is not valid");
                    BTreeMap::new()
                })
            })
            .collect()
    })
}

fn index(locale: &Locale) -> usize {
    LOCALES
        .iter()
        .position(|l| l.code == locale.code)
        .unwrap_or(0)
}

/// The translation of `key`: the locale's, else English, else the key itself.
pub(crate) fn text(locale: &Locale, key: &str) -> String {
    let maps = catalogues();
    maps.get(index(locale))
        .and_then(|map| map.get(key))
        .or_else(|| maps.first().and_then(|map| map.get(key)))
        .cloned()
        .unwrap_or_else(|| key.to_owned())
}

/// The entries whose keys start with one of `prefixes`, as JSON safe inside a
/// `<script type="application/json">` element (`<` escaped).
pub(crate) fn json_subset(locale: &Locale, prefixes: &[&str]) -> String {
    let Some(english) = catalogues().first() else {
        return "{}".to_owned();
    };
    let subset: BTreeMap<&str, String> = english
        .keys()
        .filter(|key| prefixes.iter().any(|p| key.starts_with(p)))
        .map(|key| (key.as_str(), text(locale, key)))
        .collect();
    serde_json::to_string(&subset)
        .unwrap_or_else(|_| "{}".to_owned())
        .replace('<', "\\u003c")
}

/// Picks the page language: the first supported tag of `ui_locales` (space separated), the
/// cookie, the `Accept-Language` entries in order of preference, the default, English.
pub(crate) fn negotiate(
    ui_locales: Option<&str>,
    cookie: Option<&str>,
    accept_language: Option<&str>,
    default: &str,
) -> &'static Locale {
    let from_ui = ui_locales.and_then(|v| v.split_whitespace().find_map(Locale::find));
    let from_cookie = cookie.and_then(Locale::find);
    let from_accept = accept_language.and_then(|header| {
        let mut entries: Vec<(f32, &str)> = header
            .split(',')
            .filter_map(|entry| {
                let mut parts = entry.split(';');
                let tag = parts.next()?.trim();
                let q = parts
                    .find_map(|p| p.trim().strip_prefix("q="))
                    .and_then(|q| q.parse::<f32>().ok())
                    .unwrap_or(1.0);
                (q > 0.0 && !tag.is_empty()).then_some((q, tag))
            })
            .collect();
        // Stable: equal weights keep the header's order.
        entries.sort_by(|a, b| b.0.total_cmp(&a.0));
        entries.into_iter().find_map(|(_, tag)| Locale::find(tag))
    });
    from_ui
        .or(from_cookie)
        .or(from_accept)
        .or_else(|| Locale::find(default))
        .unwrap_or(&LOCALES[0])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiation_order() {
        assert_eq!(negotiate(Some("xx ar"), Some("fr"), None, "en").code, "ar");
        assert_eq!(negotiate(None, Some("fr"), Some("ta"), "en").code, "fr");
        assert_eq!(
            negotiate(None, None, Some("de;q=0.9, kn;q=0.5, hi;q=0.8"), "en").code,
            "hi"
        );
        assert_eq!(negotiate(Some("xx"), Some("zz"), None, "km").code, "km");
        assert_eq!(negotiate(None, None, None, "nope").code, "en");
    }

    #[test]
    fn english_is_the_fallback() {
        let arabic = Locale::find("ar").unwrap();
        assert_eq!(text(arabic, "no.such.key"), "no.such.key");
        assert!(json_subset(arabic, &["js."]).starts_with('{'));
    }
}
