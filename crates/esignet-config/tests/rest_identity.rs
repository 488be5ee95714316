//! `[rest_identity]`: a valid REST identity system, and every mistake named with its key.

use esignet_config::{AuthenticatorKind, ConfigErrors, Settings, load};
use serde_json::json;

fn load_env(pairs: &[(&str, &str)]) -> Result<Settings, ConfigErrors> {
    load(
        None,
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect::<Vec<_>>(),
    )
}

fn problems(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    match load_env(pairs) {
        Ok(_) => panic!("expected problems"),
        Err(errors) => errors
            .problems()
            .iter()
            .map(|p| (p.key.clone(), p.message.clone()))
            .collect::<Vec<_>>(),
    }
}

fn has(problems: &[(String, String)], key: &str, text: &str) -> bool {
    problems
        .iter()
        .any(|(k, message)| k == key && message.contains(text))
}

const VALID: &[(&str, &str)] = &[
    ("ESIGNET_AUTHENTICATOR__KIND", "rest"),
    (
        "ESIGNET_REST_IDENTITY__AUTHENTICATE_URL",
        "https://id.example.org/api/authenticate",
    ),
    (
        "ESIGNET_REST_IDENTITY__USER_INFO_URL",
        "https://id.example.org/api/people/{individual_id}?rp={relying_party_id}",
    ),
    (
        "ESIGNET_REST_IDENTITY__SEND_OTP_URL",
        "https://id.example.org/api/otp",
    ),
    (
        "ESIGNET_REST_IDENTITY__SEND_OTP_MASKED_EMAIL_POINTER",
        "/masked/email",
    ),
    (
        "ESIGNET_REST_IDENTITY__AUTHENTICATE_SUCCESS_POINTER",
        "/result/ok",
    ),
    ("ESIGNET_REST_IDENTITY__AUTHENTICATE_SUCCESS_VALUE", "OK"),
    ("ESIGNET_REST_IDENTITY__AUTH_FACTORS", "[\"otp\", \"PIN\"]"),
    (
        "ESIGNET_REST_IDENTITY__CLAIMS",
        "{ name = \"/fullName\", email = \"/contact/email\" }",
    ),
    ("ESIGNET_REST_IDENTITY__REQUIRED_CLAIMS", "[\"name\"]"),
    ("ESIGNET_REST_IDENTITY__API_KEY", "very-secret-key"),
];

#[test]
fn a_valid_rest_identity_system() {
    let settings = load_env(VALID).unwrap();
    assert_eq!(settings.authenticator.kind, AuthenticatorKind::Rest);
    let rest = &settings.rest_identity;
    assert_eq!(rest.auth_factors, ["OTP", "PIN"]);
    assert_eq!(
        rest.authenticate_success,
        Some(("/result/ok".to_owned(), json!("OK")))
    );
    let send_otp = rest.send_otp.as_ref().unwrap();
    assert_eq!(
        send_otp.masked_email_pointer.as_deref(),
        Some("/masked/email")
    );
    assert_eq!(send_otp.masked_mobile_pointer, None);
    let mut claims = rest.claims.clone();
    claims.sort();
    assert_eq!(
        claims,
        [
            ("email".to_owned(), "/contact/email".to_owned()),
            ("name".to_owned(), "/fullName".to_owned()),
        ]
    );
    let (header, key) = rest.api_key.as_ref().unwrap();
    assert_eq!(header, "X-API-Key");
    assert_eq!(key.expose(), "very-secret-key");
    assert!(!format!("{settings:?}").contains("very-secret-key"));
    assert!(!rest.user_info_post);
}

#[test]
fn other_kinds_need_no_rest_identity_system() {
    let settings = load_env(&[]).unwrap();
    assert!(settings.rest_identity.send_otp.is_none());
    assert!(settings.rest_identity.authenticate_url.is_empty());
}

#[test]
fn missing_operations_are_named() {
    let found = problems(&[("ESIGNET_AUTHENTICATOR__KIND", "rest")]);
    for key in [
        "rest_identity.authenticate_url",
        "rest_identity.user_info_url",
    ] {
        assert!(has(&found, key, "is required"), "{key}: {found:?}");
    }
}

#[test]
fn every_mistake_is_explained() {
    let mut pairs: Vec<(&str, &str)> = VALID.to_vec();
    pairs.retain(|(key, _)| {
        !key.ends_with("__AUTHENTICATE_URL")
            && !key.ends_with("__USER_INFO_URL")
            && !key.ends_with("__SEND_OTP_MASKED_EMAIL_POINTER")
            && !key.ends_with("__CLAIMS")
            && !key.ends_with("__AUTH_FACTORS")
    });
    pairs.extend([
        (
            "ESIGNET_REST_IDENTITY__AUTHENTICATE_URL",
            "id.example.org/auth",
        ),
        (
            "ESIGNET_REST_IDENTITY__AUTHENTICATE_BODY",
            "{\"id\": \"{individual_id}\", \"otp\": \"{otp}\"}",
        ),
        (
            "ESIGNET_REST_IDENTITY__USER_INFO_URL",
            "https://{individual_id}.example.org/people",
        ),
        (
            "ESIGNET_REST_IDENTITY__SEND_OTP_BODY",
            "{\"id\": {individual_id}}",
        ),
        (
            "ESIGNET_REST_IDENTITY__SEND_OTP_MASKED_EMAIL_POINTER",
            "masked.email",
        ),
        ("ESIGNET_REST_IDENTITY__AUTH_FACTORS", "[\"OTP\", \"SMS\"]"),
        (
            "ESIGNET_REST_IDENTITY__CLAIMS",
            "{ email = \"/contact/email\", locality = \"/a~2\" }",
        ),
        ("ESIGNET_REST_IDENTITY__USER_INFO_METHOD", "POST"),
        (
            "ESIGNET_REST_IDENTITY__HEADERS",
            "{ \"bad header\" = \"x\" }",
        ),
    ]);
    let found = problems(&pairs);
    for (key, text) in [
        ("rest_identity.authenticate_url", "is not a URL"),
        (
            "rest_identity.authenticate_body",
            "unknown placeholder `{otp}`",
        ),
        ("rest_identity.user_info_url", "not the host"),
        ("rest_identity.send_otp_body", "not a JSON template"),
        (
            "rest_identity.send_otp_masked_email_pointer",
            "starts with `/`",
        ),
        (
            "rest_identity.auth_factors",
            "\"SMS\" is not an auth factor type",
        ),
        ("rest_identity.claims", "`locality` = \"/a~2\""),
        ("rest_identity.required_claims", "\"name\" is not mapped"),
        ("rest_identity.user_info_body", "is required"),
        ("rest_identity.headers", "`bad header`"),
    ] {
        assert!(has(&found, key, text), "{key} / {text}: {found:?}");
    }
    assert!(
        !found
            .iter()
            .any(|(_, message)| message.contains("very-secret-key"))
    );
}

#[test]
fn a_placeholder_of_another_operation_is_refused() {
    let mut pairs: Vec<(&str, &str)> = VALID.to_vec();
    pairs.push((
        "ESIGNET_REST_IDENTITY__USER_INFO_URL",
        "https://id.example.org/people/{challenge}",
    ));
    pairs.retain(|(key, value)| {
        !(key.ends_with("__USER_INFO_URL") && value.contains("relying_party_id"))
    });
    let found = problems(&pairs);
    assert!(
        has(
            &found,
            "rest_identity.user_info_url",
            "unknown placeholder `{challenge}`"
        ),
        "{found:?}"
    );
}
