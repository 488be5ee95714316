//! Field rules of the client-management API, each failing with eSignet's code for that field
//! (eSignet §3.10). Every function checks a value that is present; [`required`] turns a missing
//! one into its code first.

use std::collections::HashSet;

use esignet_jose::{Algorithm, PublicJwk};
use esignet_spi::ClientStatus;
use serde_json::{Map, Value};

use crate::codes;
use crate::error::{Error, Result};
use crate::redirect;

/// The key under which the default (language-less) display name is stored.
pub(super) const DEFAULT_NAME_KEY: &str = "@none";

const MAX_ID_CHARS: usize = 100;
const MAX_CLIENT_NAME_CHARS: usize = 256;
const MAX_LANGUAGE_NAME_CHARS: usize = 50;
const MAX_CLAIMS: usize = 30;
const MAX_ACRS: usize = 30;
const MAX_REDIRECT_URIS: usize = 5;
const MAX_GRANT_TYPES: usize = 3;
const MAX_AUTH_METHODS: usize = 3;
const MIN_CONSENT_EXPIRY_MINUTES: u64 = 10;

const GRANT_TYPE: &str = "authorization_code";
const AUTH_METHOD: &str = "private_key_jwt";
/// The only JWE key management algorithm userinfo is encrypted with.
const ENCRYPTION_ALG: &str = "RSA-OAEP-256";

/// ISO 639-3 codes accepted as `clientNameLangMap` keys: the three-letter (639-2/T, equal to
/// 639-3 for individual languages) code of every ISO 639-1 language, which is the set a JVM
/// knows (`Locale.getISOLanguages()` → `getISO3Language()`), plus Filipino (`fil`), which has
/// no two-letter code but is an official language where MOSIP is deployed.
///
/// Sorted, for binary search (a test checks the order).
pub(super) const ISO_639_3_CODES: [&str; 185] = [
    "aar", "abk", "afr", "aka", "amh", "ara", "arg", "asm", "ava", "ave", "aym", "aze", "bak",
    "bam", "bel", "ben", "bih", "bis", "bod", "bos", "bre", "bul", "cat", "ces", "cha", "che",
    "chu", "chv", "cor", "cos", "cre", "cym", "dan", "deu", "div", "dzo", "ell", "eng", "epo",
    "est", "eus", "ewe", "fao", "fas", "fij", "fil", "fin", "fra", "fry", "ful", "gla", "gle",
    "glg", "glv", "grn", "guj", "hat", "hau", "heb", "her", "hin", "hmo", "hrv", "hun", "hye",
    "ibo", "ido", "iii", "iku", "ile", "ina", "ind", "ipk", "isl", "ita", "jav", "jpn", "kal",
    "kan", "kas", "kat", "kau", "kaz", "khm", "kik", "kin", "kir", "kom", "kon", "kor", "kua",
    "kur", "lao", "lat", "lav", "lim", "lin", "lit", "ltz", "lub", "lug", "mah", "mal", "mar",
    "mkd", "mlg", "mlt", "mon", "mri", "msa", "mya", "nau", "nav", "nbl", "nde", "ndo", "nep",
    "nld", "nno", "nob", "nor", "nya", "oci", "oji", "ori", "orm", "oss", "pan", "pli", "pol",
    "por", "pus", "que", "roh", "ron", "run", "rus", "sag", "san", "sin", "slk", "slv", "sme",
    "smo", "sna", "snd", "som", "sot", "spa", "sqi", "srd", "srp", "ssw", "sun", "swa", "swe",
    "tah", "tam", "tat", "tel", "tgk", "tgl", "tha", "tir", "ton", "tsn", "tso", "tuk", "tur",
    "twi", "uig", "ukr", "urd", "uzb", "ven", "vie", "vol", "wln", "wol", "xho", "yid", "yor",
    "zha", "zho", "zul",
];

/// Whether `code` is one of the accepted ISO 639-3 language codes (lower case, as the JVM
/// spells them).
pub(super) fn is_language_code(code: &str) -> bool {
    ISO_639_3_CODES.binary_search(&code).is_ok()
}

fn fail<T>(code: &'static str) -> Result<T> {
    Err(Error::code(code))
}

/// The value, or `code` when the field is missing or `null`.
pub(super) fn required<T>(value: Option<T>, code: &'static str) -> Result<T> {
    value.ok_or_else(|| Error::code(code))
}

/// Whether `value` is a well-formed identifier: non-blank, no whitespace, at most 100
/// characters (eSignet's `\S*` id regex plus `@NotBlank` and `@Size(max = 100)`).
pub(super) fn is_identifier(value: &str) -> bool {
    !value.is_empty()
        && !value.chars().any(char::is_whitespace)
        && value.chars().count() <= MAX_ID_CHARS
}

/// A client id or relying party id (see [`is_identifier`]), else `code`.
pub(super) fn identifier(value: String, code: &'static str) -> Result<String> {
    if is_identifier(&value) {
        Ok(value)
    } else {
        fail(code)
    }
}

/// The default display name: non-blank, at most 256 characters → `invalid_client_name`.
pub(super) fn client_name(name: String) -> Result<String> {
    if name.trim().is_empty() || name.chars().count() > MAX_CLIENT_NAME_CHARS {
        return fail(codes::INVALID_CLIENT_NAME);
    }
    Ok(name)
}

/// Display names by language. Keys must be ISO 639-3 codes (`invalid_language_code`); values
/// non-blank strings (`invalid_client_name_value`) of at most 50 characters
/// (`invalid_client_name_length`). An empty map is `invalid_client_name` unless `allow_empty`
/// (only PATCH allows it, to remove every language variant).
pub(super) fn language_names(
    names: Map<String, Value>,
    allow_empty: bool,
) -> Result<Map<String, Value>> {
    if names.is_empty() && !allow_empty {
        return fail(codes::INVALID_CLIENT_NAME);
    }
    for (language, name) in &names {
        if !is_language_code(language) {
            return fail(codes::INVALID_LANGUAGE_CODE);
        }
        let Some(name) = name.as_str().filter(|name| !name.trim().is_empty()) else {
            return fail(codes::INVALID_CLIENT_NAME_VALUE);
        };
        if name.chars().count() > MAX_LANGUAGE_NAME_CHARS {
            return fail(codes::INVALID_CLIENT_NAME_LENGTH);
        }
    }
    Ok(names)
}

/// The stored name object: `@none` first, then the language variants.
pub(super) fn name_object(
    default_name: Option<String>,
    languages: Map<String, Value>,
) -> Map<String, Value> {
    let mut name = Map::with_capacity(languages.len() + 1);
    if let Some(default_name) = default_name {
        name.insert(DEFAULT_NAME_KEY.to_owned(), Value::String(default_name));
    }
    name.extend(
        languages
            .into_iter()
            .filter(|(language, _)| language != DEFAULT_NAME_KEY),
    );
    name
}

/// The signature-verification key: a public RSA (2048 bits or more) or EC P-256 JWK that can
/// verify at least one accepted assertion algorithm (so not `use: enc`, and a declared `alg`
/// must be RS256, PS256 or ES256), else `invalid_public_key`. Returns the canonical JWK and its
/// identity hash (the uniqueness key).
pub(super) fn public_key(key: Value) -> Result<(Value, String)> {
    let jwk = parse_jwk(&key)?;
    let verifies = [Algorithm::RS256, Algorithm::PS256, Algorithm::ES256]
        .into_iter()
        .any(|alg| jwk.supports(alg));
    if !verifies {
        return fail(codes::INVALID_PUBLIC_KEY);
    }
    Ok((jwk.to_json(), jwk.identity_hash()))
}

/// The userinfo encryption key: a public RSA JWK (userinfo is encrypted with `RSA-OAEP-256`
/// only, so an EC key is useless), else `invalid_public_key`. Rejecting here, not when the first
/// userinfo is encrypted, tells the administrator at registration time.
///
/// eSignet stores this key as given and encrypts to it whatever its members say. Key generators
/// often label an RSA key with a signature `alg` (`RS256`) or `use: sig`; such labels describe
/// another use of the key and are dropped, so the stored key is the one encryption uses. A
/// different key management algorithm (`RSA-OAEP`, `RSA1_5`) or an unknown `use` is a real
/// mismatch and is rejected. Returns the canonical JWK.
pub(super) fn enc_public_key(key: Value) -> Result<Value> {
    let jwk = parse_jwk(&key)?;
    if jwk.kty() != "RSA" {
        return fail(codes::INVALID_PUBLIC_KEY);
    }
    let keep_alg = match jwk.alg() {
        None => false,
        Some(ENCRYPTION_ALG) => true,
        Some(alg) if Algorithm::parse(alg).is_some() => false,
        Some(_) => return fail(codes::INVALID_PUBLIC_KEY),
    };
    let keep_use = match jwk.key_use() {
        None | Some("sig") => false,
        Some("enc") => true,
        Some(_) => return fail(codes::INVALID_PUBLIC_KEY),
    };
    let mut canonical = jwk.to_json();
    if let Some(members) = canonical.as_object_mut() {
        if !keep_alg {
            members.remove("alg");
        }
        if !keep_use {
            members.remove("use");
        }
    }
    Ok(canonical)
}

fn parse_jwk(key: &Value) -> Result<PublicJwk> {
    // An empty object is eSignet's `@NotEmpty` failure; the JOSE parser would reject it too, but
    // saying so keeps the rule visible.
    if key.as_object().is_none_or(Map::is_empty) {
        return fail(codes::INVALID_PUBLIC_KEY);
    }
    PublicJwk::from_json(key).map_err(|_| Error::code(codes::INVALID_PUBLIC_KEY))
}

/// A list of `min..=max` entries, each satisfying `is_valid`, else `code`.
fn list(
    values: Vec<String>,
    min: usize,
    max: usize,
    code: &'static str,
    is_valid: impl Fn(&str) -> bool,
) -> Result<Vec<String>> {
    if values.len() < min || values.len() > max || !values.iter().all(|value| is_valid(value)) {
        return fail(code);
    }
    Ok(values)
}

/// Claims: `min..=30` entries (0 allowed on create, 1 on update), each a supported claim, else
/// `invalid_claim`.
pub(super) fn claims(
    values: Vec<String>,
    min: usize,
    supported: &HashSet<String>,
) -> Result<Vec<String>> {
    list(values, min, MAX_CLAIMS, codes::INVALID_CLAIM, |claim| {
        supported.contains(claim)
    })
}

/// ACRs: 1 to 30 entries, every space-separated value of each a known ACR, else `invalid_acr`.
pub(super) fn acrs(values: Vec<String>, known: &HashSet<String>) -> Result<Vec<String>> {
    list(values, 1, MAX_ACRS, codes::INVALID_ACR, |entry| {
        let mut parts = entry.split(' ').peekable();
        parts.peek().is_some() && parts.all(|acr| known.contains(acr))
    })
}

/// The logo: an absolute `http` or `https` URL, else `invalid_uri`. eSignet's `@URL` (Java's
/// `java.net.URL`) rejects `javascript:` and `data:` URLs as unknown protocols; accepting only
/// the web schemes keeps that, and nothing else can be an image source on the login page anyway.
pub(super) fn logo_uri(uri: String) -> Result<String> {
    let is_web_url = redirect::is_valid_uri(&uri)
        && url::Url::parse(&uri).is_ok_and(|url| matches!(url.scheme(), "http" | "https"));
    if is_web_url {
        Ok(uri)
    } else {
        fail(codes::INVALID_URI)
    }
}

/// Redirect URI patterns: 1 to 5, each a valid absolute URL once its wildcards are replaced
/// (any scheme: mobile apps register custom ones), else `invalid_redirect_uri`.
///
/// The matcher ([`redirect::matches_pattern`]) treats `*` and `?` as wildcards anywhere in the
/// pattern, host included (`https://*.example.org/cb`), so both are replaced everywhere by a
/// plain letter before parsing: the pattern is valid when the URLs it can match are.
pub(super) fn redirect_uris(values: Vec<String>) -> Result<Vec<String>> {
    list(
        values,
        1,
        MAX_REDIRECT_URIS,
        codes::INVALID_REDIRECT_URI,
        |pattern| {
            let sample = pattern.replace(['*', '?'], "x");
            redirect::is_valid_uri(&sample)
        },
    )
}

/// Grant types: 1 to 3, each `authorization_code`, else `unsupported_grant_type`.
pub(super) fn grant_types(values: Vec<String>) -> Result<Vec<String>> {
    list(
        values,
        1,
        MAX_GRANT_TYPES,
        codes::UNSUPPORTED_GRANT_TYPE,
        |grant| grant == GRANT_TYPE,
    )
}

/// Client authentication methods: 1 to 3, each `private_key_jwt`, else `invalid_client_auth`.
pub(super) fn auth_methods(values: Vec<String>) -> Result<Vec<String>> {
    list(
        values,
        1,
        MAX_AUTH_METHODS,
        codes::INVALID_CLIENT_AUTH,
        |method| method == AUTH_METHOD,
    )
}

/// `ACTIVE` or `INACTIVE` (exact spelling), else `invalid_status`.
pub(super) fn status(value: String) -> Result<ClientStatus> {
    match ClientStatus::parse(&value) {
        Some(status) => Ok(status),
        None => fail(codes::INVALID_STATUS),
    }
}

/// eSignet's `additional_config` JSON schema (§7.1.1, `additionalProperties: false`), else
/// `invalid_additional_config`:
///
/// | key | accepted |
/// |---|---|
/// | `userinfo_response_type` | `"JWS"` or `"JWE"` |
/// | `purpose` | `null`, or `{type: none/verify/link/login, title?, subTitle?}` where `title` and `subTitle` are `null` or string maps with an `@none` entry |
/// | `signup_banner_required`, `forgot_pwd_link_required`, `require_pushed_authorization_requests`, `dpop_bound_access_tokens`, `require_pkce` | booleans |
/// | `consent_expire_in_mins` | an integer ≥ 10 |
/// | `post_logout_redirect_uris` | up to 10 absolute http(s) URLs without wildcards or fragments (our extension, RP-Initiated Logout) |
///
/// Every key is optional (absent flags are off, the response type defaults to JWS); any other
/// key is rejected. The object is returned unchanged.
pub(super) fn additional_config(config: Value) -> Result<Value> {
    let Value::Object(members) = &config else {
        return fail(codes::INVALID_ADDITIONAL_CONFIG);
    };
    let all_valid = members.iter().all(|(key, value)| match key.as_str() {
        "userinfo_response_type" => matches!(value.as_str(), Some("JWS" | "JWE")),
        "purpose" => is_purpose(value),
        "signup_banner_required"
        | "forgot_pwd_link_required"
        | "require_pushed_authorization_requests"
        | "dpop_bound_access_tokens"
        | "require_pkce" => value.is_boolean(),
        crate::logout::POST_LOGOUT_REDIRECT_URIS => is_post_logout_redirect_uris(value),
        "consent_expire_in_mins" => value
            .as_u64()
            .is_some_and(|minutes| minutes >= MIN_CONSENT_EXPIRY_MINUTES),
        _ => false,
    });
    if all_valid {
        Ok(config)
    } else {
        fail(codes::INVALID_ADDITIONAL_CONFIG)
    }
}

/// At most [`MAX_POST_LOGOUT_REDIRECT_URIS`] absolute URLs, compared exactly at logout (no
/// wildcard; RP-Initiated Logout 1.0 §3.1) and without a fragment.
fn is_post_logout_redirect_uris(value: &Value) -> bool {
    value.as_array().is_some_and(|uris| {
        uris.len() <= MAX_POST_LOGOUT_REDIRECT_URIS
            && uris.iter().all(|uri| {
                uri.as_str().is_some_and(|uri| {
                    crate::redirect::is_valid_uri(uri)
                        && !uri.contains(['*', '#'])
                        && (uri.starts_with("https://") || uri.starts_with("http://"))
                })
            })
    })
}

/// How many post-logout redirect URIs one client may register.
const MAX_POST_LOGOUT_REDIRECT_URIS: usize = 10;

fn is_purpose(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Object(purpose) => {
            purpose.contains_key("type")
                && purpose.iter().all(|(key, member)| match key.as_str() {
                    "type" => matches!(member.as_str(), Some("none" | "verify" | "link" | "login")),
                    "title" | "subTitle" => is_localized_text(member),
                    _ => false,
                })
        }
        _ => false,
    }
}

/// `null`, or an object of strings that has the `@none` entry.
fn is_localized_text(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Object(texts) => {
            texts.get(DEFAULT_NAME_KEY).is_some_and(Value::is_string)
                && texts.values().all(Value::is_string)
        }
        _ => false,
    }
}
