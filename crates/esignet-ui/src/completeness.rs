//! Translation completeness: every locale has exactly English's keys (with the same
//! placeholders), every key a template, a script or the server uses exists, every error code
//! the API can return is translated, and no key is left unused.

use std::collections::{BTreeMap, BTreeSet};

use crate::assets::Assets;
use crate::i18n::{LOCALES, catalogues};
use crate::pages::Page;
use crate::template::translation_keys;

/// The scripts, by logical name.
const SCRIPTS: &[(&str, &str)] = &[
    ("common.js", include_str!("../assets/common.js")),
    ("authorize.js", include_str!("../assets/authorize.js")),
    ("login.js", include_str!("../assets/login.js")),
    ("forms.js", include_str!("../assets/forms.js")),
    ("bio.js", include_str!("../assets/bio.js")),
    ("wallet.js", include_str!("../assets/wallet.js")),
    ("qr.js", include_str!("../assets/qr.js")),
    ("captcha.js", include_str!("../assets/captcha.js")),
    ("captcha-pow.js", esignet_captcha::POW_SOLVER_JS),
    ("claims.js", include_str!("../assets/claims.js")),
    ("consent.js", include_str!("../assets/consent.js")),
    ("status.js", include_str!("../assets/status.js")),
];

const LAYOUT: &str = include_str!("../templates/layout.html");

/// Keys the server uses from Rust code.
const SERVER_KEYS: &[&str] = &[
    "common.language",
    "errors.invalid_query",
    "errors.unknown_error",
    "status.error_heading",
    "status.generic",
    "status.404",
];

/// Error codes the UI raises itself (returned to the relying party or shown in place).
const UI_CODES: &[&str] = &[
    "parsing_error_msg",
    "unauthorized_access",
    "transaction_timeout",
    "access_denied",
    "consent_details_rejected",
    "biometric_capture_failed",
    "invalid_query",
    // What the identity-verification service reports back at /consent?key=..&error=..
    "consent_rejected",
    "ekyc_failed",
    "no_ekyc_provider",
    "incompatible_browser",
];

/// Codes raised with a literal in the domain rather than a `codes.rs` constant.
const LITERAL_CODES: &[&str] = &[
    "invalid_id_token_hint",
    // The signup detour's own codes (esignet-core signup.rs).
    "verification_incomplete",
    "invalid_path_fragment",
];

/// The claims and authorize scopes of the default configuration, plus the other OpenID
/// standard claims.
const CLAIMS: &[&str] = &[
    "name",
    "given_name",
    "family_name",
    "middle_name",
    "nickname",
    "preferred_username",
    "profile",
    "picture",
    "website",
    "email",
    "email_verified",
    "gender",
    "birthdate",
    "zoneinfo",
    "locale",
    "phone_number",
    "phone_number_verified",
    "address",
    "updated_at",
    "individual_id",
    "registration_type",
];
const SCOPES: &[&str] = &[
    "Manage-Identity-Data",
    "Manage-VID",
    "Manage-Authentication",
    "Manage-Service-Requests",
    "Manage-Credentials",
    "resident-service",
];

/// Key prefixes looked up dynamically (by code, claim or scope name, HTTP status).
const DYNAMIC_PREFIXES: &[&str] = &["errors.", "claims.", "scopes.", "status."];

fn english() -> &'static BTreeMap<String, String> {
    &catalogues()[0]
}

/// Every string literal in `script` that names a translation key (`"js.…"`, plus the literal
/// first argument of `t(…)`).
fn script_keys(script: &str) -> BTreeSet<String> {
    let mut keys = BTreeSet::new();
    for piece in script.split('"').skip(1).step_by(2) {
        if piece.starts_with("js.")
            && piece
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_')
        {
            keys.insert(piece.to_owned());
        }
    }
    // Calls of `t("…")` (not `split("…")` and the like: `t` must start an identifier).
    for (at, _) in script.match_indices("t(\"") {
        let before = script[..at].chars().next_back();
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '$') {
            continue;
        }
        if let Some((key, _)) = script[at + 3..].split_once('"') {
            keys.insert(key.to_owned());
        }
    }
    keys
}

/// The `{name}` placeholders of a message.
fn placeholders(text: &str) -> BTreeSet<String> {
    text.split('{')
        .skip(1)
        .filter_map(|piece| piece.split_once('}').map(|(name, _)| name.to_owned()))
        .collect()
}

/// The error codes declared in a `codes.rs` file (`pub const X: &str = "code";`, possibly
/// wrapped over several lines by rustfmt).
fn declared_codes(source: &str) -> Vec<String> {
    source
        .split("pub const ")
        .skip(1)
        .filter_map(|declaration| declaration.split_once(';').map(|(d, _)| d))
        .filter(|declaration| declaration.contains("&str"))
        .filter_map(|declaration| declaration.split('"').nth(1).map(str::to_owned))
        .collect()
}

#[test]
fn every_locale_has_exactly_the_english_keys_and_placeholders() {
    let english = english();
    assert!(english.len() > 100, "English catalogue looks truncated");
    for (locale, map) in LOCALES.iter().zip(catalogues()) {
        let missing: Vec<_> = english.keys().filter(|k| !map.contains_key(*k)).collect();
        let extra: Vec<_> = map.keys().filter(|k| !english.contains_key(*k)).collect();
        assert!(
            missing.is_empty(),
            "{}: missing keys {missing:?}",
            locale.code
        );
        assert!(extra.is_empty(), "{}: unknown keys {extra:?}", locale.code);
        for (key, text) in map {
            assert!(!text.trim().is_empty(), "{}: {key} is empty", locale.code);
            assert_eq!(
                placeholders(text),
                placeholders(&english[key]),
                "{}: {key} has other placeholders than English",
                locale.code
            );
        }
    }
}

#[test]
fn catalogues_are_valid_json_without_duplicate_keys() {
    for locale in LOCALES {
        let source = crate::i18n::source_of(locale);
        let value: serde_json::Value = serde_json::from_str(source).unwrap();
        let parsed = value.as_object().unwrap().len();
        let declared = source
            .lines()
            .filter(|l| l.trim_start().starts_with('"'))
            .count();
        assert_eq!(parsed, declared, "{}: a key is declared twice", locale.code);
    }
}

#[test]
fn every_key_used_by_templates_scripts_and_server_exists() {
    let english = english();
    let mut templates: Vec<&str> = vec![LAYOUT];
    templates.extend(Page::ALL.iter().map(|page| page.template()));
    for template in templates {
        for key in translation_keys(template) {
            assert!(english.contains_key(&key), "template key {key} is missing");
        }
    }
    for (name, script) in SCRIPTS {
        for key in script_keys(script) {
            assert!(english.contains_key(&key), "{name} uses missing key {key}");
        }
    }
    for key in SERVER_KEYS {
        assert!(english.contains_key(*key), "server key {key} is missing");
    }
    for page in Page::ALL {
        assert!(english.contains_key(page.title_key()), "{page:?} title");
    }
}

#[test]
fn scripts_only_use_keys_their_pages_ship() {
    for page in Page::ALL {
        let mut modules = vec![page.script()];
        modules.extend(Assets::module_closure(page.script()));
        for module in modules {
            let (_, script) = SCRIPTS
                .iter()
                .find(|(name, _)| *name == module)
                .unwrap_or_else(|| panic!("unknown module {module}"));
            for key in script_keys(script) {
                assert!(
                    page.script_prefixes().iter().any(|p| key.starts_with(p)),
                    "{module} (on {page:?}) uses {key}, which that page does not ship"
                );
            }
        }
    }
}

#[test]
fn every_error_code_is_translated() {
    let english = english();
    let mut codes = declared_codes(include_str!("../../esignet-core/src/codes.rs"));
    codes.extend(declared_codes(include_str!(
        "../../esignet-mock-authenticator/src/codes.rs"
    )));
    assert!(codes.len() > 50, "codes.rs parsing found too few codes");
    codes.extend(
        UI_CODES
            .iter()
            .chain(LITERAL_CODES)
            .map(|c| (*c).to_owned()),
    );
    for code in codes {
        assert!(
            english.contains_key(&format!("errors.{code}")),
            "error code {code} has no translation"
        );
    }
    for claim in CLAIMS {
        assert!(english.contains_key(&format!("claims.{claim}")), "{claim}");
    }
    for scope in SCOPES {
        assert!(english.contains_key(&format!("scopes.{scope}")), "{scope}");
    }
}

#[test]
fn no_key_is_unused() {
    let mut used: BTreeSet<String> = SERVER_KEYS.iter().map(|k| (*k).to_owned()).collect();
    used.extend(translation_keys(LAYOUT));
    for page in Page::ALL {
        used.extend(translation_keys(page.template()));
        used.insert(page.title_key().to_owned());
    }
    for (_, script) in SCRIPTS {
        used.extend(script_keys(script));
    }
    let unused: Vec<_> = english()
        .keys()
        .filter(|key| !used.contains(*key) && !DYNAMIC_PREFIXES.iter().any(|p| key.starts_with(p)))
        .collect();
    assert!(unused.is_empty(), "unused keys: {unused:?}");
}
