//! Languages of the pages: the supported locales, their catalogues (flat JSON maps embedded in
//! the binary) and the negotiation order `ui_locales` > language cookie > `Accept-Language` >
//! configured default > English.

use std::collections::BTreeMap;
use std::sync::OnceLock;

/// Name of the cookie remembering the resident's choice. `oidc-ui` (i18next) uses the same
/// name, so a choice made in either UI carries over.
pub(crate) const LANGUAGE_COOKIE: &str = "i18nextLng";

/// One supported language.
#[derive(Debug, PartialEq, Eq)]
pub struct Locale {
    /// ISO 639-1 code (`en`), used in URLs, `lang` attributes and the cookie.
    pub code: &'static str,
    /// ISO 639-2/T code (`eng`), the key of eSignet's multilingual maps (`clientName`, ...).
    pub code3: &'static str,
    /// The language's own name, shown in the switcher.
    pub name: &'static str,
    /// Written right to left.
    pub rtl: bool,
    source: &'static str,
}

/// The supported languages; English first (the reference catalogue and the last fallback).
pub const LOCALES: &[Locale] = &[
    Locale {
        code: "en",
        code3: "eng",
        name: "English",
        rtl: false,
        source: include_str!("../locales/en.json"),
    },
    Locale {
        code: "fr",
        code3: "fra",
        name: "Français",
        rtl: false,
        source: include_str!("../locales/fr.json"),
    },
    Locale {
        code: "ar",
        code3: "ara",
        name: "العربية",
        rtl: true,
        source: include_str!("../locales/ar.json"),
    },
    Locale {
        code: "hi",
        code3: "hin",
        name: "हिन्दी",
        rtl: false,
        source: include_str!("../locales/hi.json"),
    },
    Locale {
        code: "kn",
        code3: "kan",
        name: "ಕನ್ನಡ",
        rtl: false,
        source: include_str!("../locales/kn.json"),
    },
    Locale {
        code: "ta",
        code3: "tam",
        name: "தமிழ்",
        rtl: false,
        source: include_str!("../locales/ta.json"),
    },
    Locale {
        code: "km",
        code3: "khm",
        name: "ខ្មែរ",
        rtl: false,
        source: include_str!("../locales/km.json"),
    },
];

impl Locale {
    /// The locale with two-letter `code`, or three-letter `code3`, case-insensitively; a
    /// region or script subtag (`fr-CA`) is ignored.
    pub fn find(tag: &str) -> Option<&'static Locale> {
        let primary = tag.split(['-', '_']).next()?.trim().to_ascii_lowercase();
        LOCALES
            .iter()
            .find(|l| l.code == primary || l.code3 == primary)
    }

    /// The index of this locale in [`LOCALES`].
    fn index(&self) -> usize {
        LOCALES
            .iter()
            .position(|l| l.code == self.code)
            .unwrap_or(0)
    }

    /// The translation of `key`: this locale's, else English, else the key itself (so a gap
    /// shows up as a readable key rather than an empty label).
    pub(crate) fn text(&self, key: &str) -> String {
        let maps = catalogues();
        maps.get(self.index())
            .and_then(|map| map.get(key))
            .or_else(|| maps.first().and_then(|map| map.get(key)))
            .cloned()
            .unwrap_or_else(|| key.to_owned())
    }

    /// The entries of this locale whose keys start with one of `prefixes`, as a JSON object
    /// safe to embed in a `<script type="application/json">` block (`<` is escaped, so the
    /// data cannot close the element).
    pub(crate) fn json_subset(&self, prefixes: &[&str]) -> String {
        let maps = catalogues();
        let Some(english) = maps.first() else {
            return "{}".to_owned();
        };
        let subset: BTreeMap<&str, String> = english
            .keys()
            .filter(|key| prefixes.iter().any(|p| key.starts_with(p)))
            .map(|key| (key.as_str(), self.text(key)))
            .collect();
        serde_json::to_string(&subset)
            .unwrap_or_else(|_| "{}".to_owned())
            .replace('<', "\\u003c")
    }
}

/// The parsed catalogues, in [`LOCALES`] order. A catalogue that fails to parse (a test proves
/// none does) is logged and left empty, so its language falls back to English.
pub(crate) fn catalogues() -> &'static [BTreeMap<String, String>] {
    static CATALOGUES: OnceLock<Vec<BTreeMap<String, String>>> = OnceLock::new();
    CATALOGUES.get_or_init(|| {
        LOCALES
            .iter()
            .map(|locale| {
                serde_json::from_str(locale.source).unwrap_or_else(|error| {
                    tracing::error!(locale = locale.code, %error, "translation catalogue is not valid");
                    BTreeMap::new()
                })
            })
            .collect()
    })
}

/// The raw catalogue text of `locale`, for the duplicate-key test.
#[cfg(test)]
pub(crate) fn source_of(locale: &Locale) -> &'static str {
    locale.source
}

/// Picks the page language. Order: `ui_locales` (space-separated, the relying party's
/// preference order; two-letter codes or the three-letter codes eSignet uses), then the
/// resident's earlier choice (`cookie`), then `Accept-Language` by quality, then `default`,
/// then English.
pub(crate) fn negotiate(
    ui_locales: Option<&str>,
    cookie: Option<&str>,
    accept_language: Option<&str>,
    default: &str,
) -> &'static Locale {
    ui_locales
        .and_then(|tags| tags.split_whitespace().find_map(Locale::find))
        .or_else(|| cookie.and_then(Locale::find))
        .or_else(|| accept_language.and_then(from_accept_language))
        .or_else(|| Locale::find(default))
        .unwrap_or(&LOCALES[0])
}

/// The best supported language of an `Accept-Language` header (RFC 9110 §12.5.4): ranges by
/// descending quality, ties in header order; `q=0` excludes; `*` matches nothing specific.
fn from_accept_language(header: &str) -> Option<&'static Locale> {
    let mut ranges: Vec<(u16, usize, &str)> = header
        .split(',')
        .enumerate()
        .filter_map(|(position, item)| {
            let mut parts = item.split(';');
            let tag = parts.next()?.trim();
            let quality = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .map_or(Some(1000), parse_quality)?;
            (quality > 0 && !tag.is_empty() && tag != "*").then_some((quality, position, tag))
        })
        .collect();
    ranges.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    ranges.iter().find_map(|(_, _, tag)| Locale::find(tag))
}

/// A quality value in thousandths (`0.8` → 800); malformed → `None`.
fn parse_quality(text: &str) -> Option<u16> {
    let value: f32 = text.trim().parse().ok()?;
    (0.0..=1.0)
        .contains(&value)
        .then(|| (value * 1000.0).round() as u16)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(locale: &Locale) -> &'static str {
        LOCALES[locale.index()].code
    }

    #[test]
    fn negotiation_order() {
        // ui_locales wins, in the relying party's order, two- or three-letter.
        assert_eq!(
            code(negotiate(Some("xx khm fr"), Some("ar"), Some("hi"), "en")),
            "km"
        );
        assert_eq!(code(negotiate(Some("fr-CA"), None, None, "en")), "fr");
        // Then the cookie, then Accept-Language, then the default, then English.
        assert_eq!(
            code(negotiate(Some("de"), Some("ar"), Some("hi"), "en")),
            "ar"
        );
        assert_eq!(
            code(negotiate(
                None,
                Some("zz"),
                Some("de, ta;q=0.5, kn;q=0.9"),
                "en"
            )),
            "kn"
        );
        assert_eq!(code(negotiate(None, None, Some("de, *"), "hi")), "hi");
        assert_eq!(code(negotiate(None, None, None, "xx")), "en");
    }

    #[test]
    fn accept_language_quality_rules() {
        assert_eq!(
            from_accept_language("fr;q=0, ar;q=0.1").map(code),
            Some("ar")
        );
        assert_eq!(
            from_accept_language("ta;q=0.5, hi;q=0.5").map(code),
            Some("ta")
        );
        assert_eq!(from_accept_language("hi;q=bogus, fr").map(code), Some("fr"));
        assert_eq!(from_accept_language("").map(code), None);
    }

    #[test]
    fn json_subset_is_script_safe() {
        let json = LOCALES[0].json_subset(&["js.common."]);
        assert!(!json.contains('<'));
        let parsed: BTreeMap<String, String> = serde_json::from_str(&json).unwrap();
        assert!(!parsed.is_empty());
        assert!(parsed.keys().all(|k| k.starts_with("js.common.")));
    }

    #[test]
    fn only_arabic_is_right_to_left() {
        let rtl: Vec<_> = LOCALES.iter().filter(|l| l.rtl).map(|l| l.code).collect();
        assert_eq!(rtl, ["ar"]);
    }
}
