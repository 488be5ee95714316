//! The profile page: the resident's claims, every value escaped.
//!
//! Claims may come in locale variants (`name#en`, `name#ar`, OpenID Connect Core §5.2), at the
//! top level or inside `verified_claims` (OpenID Connect for Identity Assurance; eSignet moves
//! verified claims there and does not repeat them at the top level). Each variant is shown with
//! its language, in an element carrying `lang` and, for right-to-left scripts, `dir="rtl"`.

use std::fmt::Write as _;

use serde_json::{Map, Value};

use crate::html::{escape, page};
use crate::session::Profile;

/// Strings longer than this are shortened in the raw-claims view (a photo is tens of KiB).
const RAW_STRING_LIMIT: usize = 120;

/// The profile page for a signed-in resident.
pub(crate) fn profile_page(profile: &Profile) -> String {
    let claims = &profile.claims;
    let mut body = String::from("<h1>Your profile</h1>\n");

    body.push_str("<section aria-labelledby=\"identity\"><h2 id=\"identity\">Identity</h2>\n");
    if let Some(picture) = claims.get("picture").and_then(Value::as_str)
        && is_inline_image(picture)
    {
        let _ = writeln!(
            body,
            "<img class=\"photo\" src=\"{}\" alt=\"Photo of the resident\">",
            escape(picture)
        );
    }
    body.push_str("<dl>\n");
    for (claim, label) in [
        ("name", "Name"),
        ("given_name", "Given name"),
        ("middle_name", "Middle name"),
        ("family_name", "Family name"),
        ("gender", "Gender"),
        ("birthdate", "Date of birth"),
    ] {
        field(&mut body, claims, claim, label);
    }
    body.push_str("</dl></section>\n");

    body.push_str("<section aria-labelledby=\"contact\"><h2 id=\"contact\">Contact</h2>\n<dl>\n");
    field(&mut body, claims, "email", "E-mail");
    field(&mut body, claims, "phone_number", "Phone");
    field(&mut body, claims, "address", "Address");
    body.push_str("</dl></section>\n");

    verified_section(&mut body, claims);

    let _ = write!(
        body,
        "<section aria-labelledby=\"how\"><h2 id=\"how\">How you signed in</h2>\n<dl>\n\
<dt>Protocol</dt><dd>{}</dd>\n<dt>Token type</dt><dd>{}</dd>\n",
        escape(profile.mode.label()),
        escape(&profile.token_type)
    );
    if let Some(acr) = &profile.acr {
        let _ = writeln!(
            body,
            "<dt>Authentication (acr)</dt><dd><code>{}</code></dd>",
            escape(acr)
        );
    }
    body.push_str("</dl></section>\n");

    let raw =
        serde_json::to_string_pretty(&shorten(&Value::Object(claims.clone()))).unwrap_or_default();
    let _ = write!(
        body,
        "<section><details><summary>Raw claims</summary>\n\
<p>Long values are shortened.</p><pre>{}</pre></details></section>\n\
<p><a class=\"button secondary\" href=\"/logout\">Sign out</a></p>",
        escape(&raw)
    );
    page("Your profile", &body)
}

/// The name to greet the resident with: `name` (or its first locale variant), else a verified
/// name, else `given_name`. Not escaped: callers escape it.
pub(crate) fn display_name(claims: &Map<String, Value>) -> Option<String> {
    let first_string = |claims: &Map<String, Value>, claim: &str| {
        variants(claims, claim)
            .into_iter()
            .find_map(|(_, value)| value.as_str().map(str::to_owned))
    };
    first_string(claims, "name")
        .or_else(|| {
            verified_entries(claims)
                .filter_map(|entry| entry.get("claims").and_then(Value::as_object))
                .find_map(|inner| first_string(inner, "name"))
        })
        .or_else(|| first_string(claims, "given_name"))
}

/// Appends `<dt>label</dt>` and one `<dd>` per locale variant of `claim`, looking at the top
/// level first and then inside the verified claims. Nothing when the claim is absent.
fn field(body: &mut String, claims: &Map<String, Value>, claim: &str, label: &str) {
    let mut found = variants(claims, claim);
    let mut verified = false;
    if found.is_empty() {
        found = verified_entries(claims)
            .filter_map(|entry| entry.get("claims").and_then(Value::as_object))
            .flat_map(|inner| variants(inner, claim))
            .collect();
        verified = !found.is_empty();
    }
    if found.is_empty() {
        return;
    }
    let _ = write!(body, "<dt>{}", escape(label));
    if verified {
        body.push_str(" <span class=\"badge\">verified</span>");
    }
    body.push_str("</dt>\n");
    let found = found
        .into_iter()
        .flat_map(|(tag, value)| match (&tag, &value) {
            (None, Value::Object(address)) if is_address(address) => localized_addresses(address),
            _ => vec![(tag, value)],
        });
    for (tag, value) in found {
        body.push_str("<dd>");
        match tag.as_deref() {
            Some(tag) => {
                let (language, rtl) = language(tag);
                let _ = write!(body, "<span class=\"lang\">{}</span> ", escape(&language));
                let lang_attr = lang_attribute(tag)
                    .map(|lang| format!(" lang=\"{}\"", escape(&lang)))
                    .unwrap_or_default();
                let dir = if rtl { " dir=\"rtl\"" } else { "" };
                let _ = write!(body, "<span{lang_attr}{dir}>{}</span>", display(&value));
            }
            None => body.push_str(&display(&value)),
        }
        body.push_str("</dd>\n");
    }
}

/// `claim` and its `claim#tag` variants, in the order the provider sent them, untagged first.
fn variants(claims: &Map<String, Value>, claim: &str) -> Vec<(Option<String>, Value)> {
    let mut found: Vec<(Option<String>, Value)> = claims
        .iter()
        .filter_map(|(key, value)| {
            if key == claim {
                Some((None, value.clone()))
            } else {
                key.strip_prefix(claim)
                    .and_then(|rest| rest.strip_prefix('#'))
                    .map(|tag| (Some(tag.to_owned()), value.clone()))
            }
        })
        .collect();
    found.sort_by_key(|(tag, _)| tag.is_some());
    found
}

/// A claim value as safe HTML: strings as they are (escaped), an address as its formatted
/// form or its parts, anything else as compact JSON (escaped).
fn display(value: &Value) -> String {
    match value {
        Value::String(text) => escape(text),
        Value::Object(address) if is_address(address) => {
            if let Some(formatted) = address.get("formatted").and_then(Value::as_str) {
                return escape(formatted);
            }
            let parts: Vec<String> = [
                "street_address",
                "locality",
                "region",
                "postal_code",
                "country",
            ]
            .iter()
            .filter_map(|part| address.get(*part))
            .map(|part| match part {
                Value::String(text) => escape(text),
                other => escape(&other.to_string()),
            })
            .collect();
            parts.join(", ")
        }
        other => escape(&other.to_string()),
    }
}

/// An address whose members come in locale variants (`locality#en`, `locality#ar`; eSignet
/// localizes inside the address object) as one address per locale, each with the untagged
/// members (such as `postal_code`) too. An address without variants is returned as it is.
fn localized_addresses(address: &Map<String, Value>) -> Vec<(Option<String>, Value)> {
    let mut tags: Vec<&str> = Vec::new();
    for key in address.keys() {
        if let Some((_, tag)) = key.split_once('#')
            && !tags.contains(&tag)
        {
            tags.push(tag);
        }
    }
    if tags.is_empty() {
        return vec![(None, Value::Object(address.clone()))];
    }
    tags.into_iter()
        .map(|tag| {
            let localized: Map<String, Value> = address
                .iter()
                .filter_map(|(key, value)| match key.split_once('#') {
                    Some((member, member_tag)) if member_tag == tag => {
                        Some((member.to_owned(), value.clone()))
                    }
                    Some(_) => None,
                    None => Some((key.clone(), value.clone())),
                })
                .collect();
            (Some(tag.to_owned()), Value::Object(localized))
        })
        .collect()
}

fn is_address(object: &Map<String, Value>) -> bool {
    [
        "formatted",
        "street_address",
        "locality",
        "region",
        "postal_code",
        "country",
    ]
    .iter()
    .any(|part| object.contains_key(*part))
}

/// The entries of `verified_claims` (an array, or a single object).
fn verified_entries(claims: &Map<String, Value>) -> impl Iterator<Item = &Map<String, Value>> {
    let entries: Vec<&Map<String, Value>> = match claims.get("verified_claims") {
        Some(Value::Array(entries)) => entries.iter().filter_map(Value::as_object).collect(),
        Some(Value::Object(entry)) => vec![entry],
        _ => Vec::new(),
    };
    entries.into_iter()
}

/// The verified-claims section: per entry, the trust framework, assurance level, time,
/// an evidence summary and the verified claims themselves.
fn verified_section(body: &mut String, claims: &Map<String, Value>) {
    let entries: Vec<_> = verified_entries(claims).collect();
    if entries.is_empty() {
        return;
    }
    body.push_str(
        "<section aria-labelledby=\"verified\"><h2 id=\"verified\">Verified claims</h2>\n",
    );
    for entry in entries {
        let verification = entry.get("verification").and_then(Value::as_object);
        let member = |name: &str| verification.and_then(|v| v.get(name));
        body.push_str("<div class=\"card\"><dl>\n");
        for (name, label) in [
            ("trust_framework", "Trust framework"),
            ("assurance_level", "Assurance level"),
            ("time", "Verified at"),
            ("verification_process", "Verification process"),
        ] {
            if let Some(value) = member(name) {
                let _ = writeln!(body, "<dt>{label}</dt><dd>{}</dd>", plain(value));
            }
        }
        if let Some(evidence) = member("evidence").and_then(Value::as_array) {
            let summary: Vec<String> = evidence.iter().map(evidence_summary).collect();
            if !summary.is_empty() {
                let _ = writeln!(body, "<dt>Evidence</dt><dd>{}</dd>", summary.join("<br>"));
            }
        }
        if let Some(inner) = entry.get("claims").and_then(Value::as_object) {
            let names: Vec<String> = inner.keys().map(|name| escape(name)).collect();
            let _ = writeln!(body, "<dt>Claims</dt><dd>{}</dd>", names.join(", "));
        }
        body.push_str("</dl></div>\n");
    }
    body.push_str("</section>\n");
}

/// A verification member as escaped text; an object such as `{"value": "eidas"}` shows its
/// `value`.
fn plain(value: &Value) -> String {
    match value {
        Value::String(text) => escape(text),
        Value::Object(object) => match object.get("value") {
            Some(inner) => plain(inner),
            None => escape(&value.to_string()),
        },
        other => escape(&other.to_string()),
    }
}

/// One evidence item in a line: its type, method (or check methods), document type and time.
fn evidence_summary(evidence: &Value) -> String {
    let mut parts = Vec::new();
    let text = |value: Option<&Value>| value.and_then(Value::as_str).map(escape);
    if let Some(kind) = text(evidence.get("type")) {
        parts.push(kind);
    }
    if let Some(method) = text(evidence.get("method")) {
        parts.push(format!("method {method}"));
    }
    if let Some(checks) = evidence.get("check_details").and_then(Value::as_array) {
        let methods: Vec<String> = checks
            .iter()
            .filter_map(|check| text(check.get("check_method")))
            .collect();
        if !methods.is_empty() {
            parts.push(format!("checks {}", methods.join(", ")));
        }
    }
    let document = evidence
        .get("document_details")
        .or_else(|| evidence.get("document"));
    if let Some(kind) = text(document.and_then(|document| document.get("type"))) {
        parts.push(format!("document {kind}"));
    }
    if let Some(time) = text(evidence.get("time")) {
        parts.push(format!("at {time}"));
    }
    if parts.is_empty() {
        escape(&evidence.to_string())
    } else {
        parts.join("; ")
    }
}

/// Whether `picture` is a base64 data URL of a raster image, the only form shown inline (a
/// remote URL would load an outside resource, which this page never does).
fn is_inline_image(picture: &str) -> bool {
    ["png", "jpeg", "jpg", "gif", "webp"].iter().any(|kind| {
        picture
            .strip_prefix("data:image/")
            .and_then(|rest| rest.strip_prefix(kind))
            .is_some_and(|rest| rest.starts_with(";base64,"))
    })
}

/// A BCP 47-looking tag (letters, digits, hyphens), safe and meaningful in a `lang` attribute.
fn is_language_tag(tag: &str) -> bool {
    (1..=35).contains(&tag.len()) && tag.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// The `lang` attribute for a claims locale: BCP 47 uses the two-letter code where one exists,
/// so eSignet's three-letter codes (`eng`, `ara`) are shortened (`en`, `ar`); assistive
/// technologies and validators reject `eng`. `None` for anything that does not look like a tag.
fn lang_attribute(tag: &str) -> Option<String> {
    if !is_language_tag(tag) {
        return None;
    }
    let (primary, subtags) = tag.split_once('-').unwrap_or((tag, ""));
    let short = match primary.to_ascii_lowercase().as_str() {
        "eng" => "en",
        "fra" | "fre" => "fr",
        "ara" => "ar",
        "khm" => "km",
        "hin" => "hi",
        "tam" => "ta",
        "kan" => "kn",
        "heb" => "he",
        "fas" | "per" => "fa",
        "urd" => "ur",
        _ => return Some(tag.to_owned()),
    };
    Some(if subtags.is_empty() {
        short.to_owned()
    } else {
        format!("{short}-{subtags}")
    })
}

/// A human name for a claims locale and whether its script is right-to-left. eSignet sends
/// two-letter (`en`) or three-letter (`eng`) codes.
fn language(tag: &str) -> (String, bool) {
    let primary = tag.split('-').next().unwrap_or(tag).to_ascii_lowercase();
    let (name, rtl) = match primary.as_str() {
        "en" | "eng" => ("English", false),
        "fr" | "fra" | "fre" => ("Français", false),
        "ar" | "ara" => ("العربية", true),
        "km" | "khm" => ("ខ្មែរ", false),
        "hi" | "hin" => ("हिन्दी", false),
        "ta" | "tam" => ("தமிழ்", false),
        "kn" | "kan" => ("ಕನ್ನಡ", false),
        "he" | "heb" => ("עברית", true),
        "fa" | "fas" | "per" => ("فارسی", true),
        "ur" | "urd" => ("اردو", true),
        _ => return (tag.to_owned(), false),
    };
    (format!("{name} ({tag})"), rtl)
}

/// The claims with long strings shortened, for the raw view.
fn shorten(value: &Value) -> Value {
    match value {
        Value::String(text) if text.chars().count() > RAW_STRING_LIMIT => {
            let head: String = text.chars().take(RAW_STRING_LIMIT).collect();
            Value::String(format!("{head}… ({} characters)", text.chars().count()))
        }
        Value::Array(items) => Value::Array(items.iter().map(shorten).collect()),
        Value::Object(object) => Value::Object(
            object
                .iter()
                .map(|(key, value)| (key.clone(), shorten(value)))
                .collect(),
        ),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::LoginMode;
    use serde_json::json;

    fn render(claims: Value) -> String {
        profile_page(&Profile {
            claims: claims.as_object().cloned().unwrap(),
            acr: Some("mosip:idp:acr:static-code".into()),
            mode: LoginMode::Plain,
            token_type: "Bearer".into(),
        })
    }

    #[test]
    fn locale_variants_are_labelled_and_arabic_is_right_to_left() {
        let html = render(json!({
            "sub": "s", "name#en": "Siddharth", "name#ar": "سيدهارث <b>", "name#x y": "odd"
        }));
        assert!(html.contains(
            "<span class=\"lang\">English (en)</span> <span lang=\"en\">Siddharth</span>"
        ));
        assert!(html.contains("<span lang=\"ar\" dir=\"rtl\">سيدهارث &lt;b&gt;</span>"));
        assert!(
            html.contains("<span>odd</span>"),
            "no lang attribute for a bad tag"
        );
    }

    #[test]
    fn three_letter_locales_get_two_letter_lang_attributes() {
        let html =
            render(json!({"sub": "s", "name#eng": "Sid", "name#ara": "سيد", "name#fra-CA": "Sid"}));
        assert!(
            html.contains("<span class=\"lang\">English (eng)</span> <span lang=\"en\">Sid</span>")
        );
        assert!(html.contains("<span lang=\"ar\" dir=\"rtl\">سيد</span>"));
        assert!(html.contains("<span lang=\"fr-CA\">Sid</span>"));
        assert_eq!(lang_attribute("tam"), Some("ta".to_owned()));
        assert_eq!(lang_attribute("sw"), Some("sw".to_owned()));
        assert_eq!(lang_attribute("x y"), None);
    }

    #[test]
    fn photos_addresses_and_verified_claims_are_shown_safely() {
        let html = render(json!({
            "sub": "s",
            "picture": "data:image/jpeg;base64,AAAA",
            "address": {"street_address": "1 <Main> St", "locality": "Town", "country": "IN"},
            "verified_claims": [{
                "verification": {"trust_framework": "eidas", "assurance_level": "substantial",
                                 "time": "2024-01-01T00:00:00Z",
                                 "evidence": [{"type": "document", "method": "pipp",
                                               "document_details": {"type": "passport"}}]},
                "claims": {"name": "Verified Name", "birthdate": "1987-11-25"}
            }]
        }));
        assert!(html.contains("<img class=\"photo\" src=\"data:image/jpeg;base64,AAAA\""));
        assert!(html.contains("1 &lt;Main&gt; St, Town, IN"));
        assert!(html.contains("<dt>Trust framework</dt><dd>eidas</dd>"));
        assert!(html.contains("document; method pipp; document passport"));
        assert!(html.contains("Name <span class=\"badge\">verified</span>"));
        assert!(html.contains("<dd>Verified Name</dd>"));
        assert!(html.contains("<summary>Raw claims</summary>"));
    }

    #[test]
    fn addresses_localized_member_by_member_are_shown_per_language() {
        let html = render(json!({"sub": "s", "address": {
            "locality#en": "Rabat", "locality#ar": "الرباط",
            "country#en": "Morocco", "country#ar": "المغرب", "postal_code": "45009"
        }}));
        assert!(
            html.contains("<span lang=\"en\">Rabat, 45009, Morocco</span>"),
            "{html}"
        );
        assert!(html.contains("<span lang=\"ar\" dir=\"rtl\">الرباط, 45009, المغرب</span>"));
    }

    #[test]
    fn only_raster_data_urls_become_images() {
        assert!(is_inline_image("data:image/png;base64,AA"));
        assert!(!is_inline_image("data:image/svg+xml;base64,AA"));
        assert!(!is_inline_image("https://example.com/a.png"));
        assert!(!is_inline_image("data:image/png,AA"));
        let html = render(json!({"sub": "s", "picture": "javascript:alert(1)"}));
        assert!(!html.contains("<img class=\"photo\""));
    }

    #[test]
    fn raw_claims_shorten_long_values() {
        let long = "A".repeat(5000);
        let html = render(json!({"sub": "s", "picture": format!("data:image/png;base64,{long}")}));
        assert!(html.contains("(5022 characters)"));
    }
}
