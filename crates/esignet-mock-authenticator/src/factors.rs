//! Checks of the individual authentication factors, as pure functions over an [`Identity`].
//!
//! OTP is not here: it needs the pending-OTP record in the cache, so
//! [`crate::MockAuthenticator`] checks it.

use serde_json::{Map, Value};

#[cfg(test)]
use crate::crypto::hash_password;
use crate::crypto::{decode_base64_lenient, password_matches, secrets_match};
use crate::identity::{FieldValue, Identity};
use crate::settings::{KbiField, KbiFieldKind};

/// The authentication factor types eSignet knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuthFactor {
    /// One-time password (`OTP`).
    Otp,
    /// Static PIN (`PIN`).
    Pin,
    /// Password (`PWD`).
    Password,
    /// Knowledge-based identification (`KBI`).
    Kbi,
    /// Biometrics from an SBI device (`BIO`).
    Biometrics,
    /// Wallet-bound key (`WLA`): a token the service has verified; the mock checks its subject.
    Wallet,
    /// eSignet's own ID token (`IDT`, sign-up flow); not supported by the mock yet.
    IdToken,
}

impl AuthFactor {
    /// The factor for an `authFactorType` (upper case, exactly as eSignet sends it).
    pub fn from_type(auth_factor_type: &str) -> Option<Self> {
        Some(match auth_factor_type {
            "OTP" => Self::Otp,
            "PIN" => Self::Pin,
            "PWD" => Self::Password,
            "KBI" => Self::Kbi,
            "BIO" => Self::Biometrics,
            "WLA" => Self::Wallet,
            "IDT" => Self::IdToken,
            _ => return None,
        })
    }

    /// The challenge format eSignet's mock plugin requires for this factor.
    pub fn expected_format(self) -> &'static str {
        match self {
            Self::Otp | Self::Password => "alpha-numeric",
            Self::Pin => "number",
            Self::Biometrics => "encoded-json",
            Self::Wallet => "jwt",
            Self::Kbi | Self::IdToken => "base64url-encoded-json",
        }
    }

    /// Whether the mock can check this factor. ID-token (`IDT`) logins need eSignet's own
    /// tokens, which later work adds.
    pub fn is_supported(self) -> bool {
        !matches!(self, Self::IdToken)
    }
}

/// The PIN matches the identity's (constant-time). An identity without a PIN never matches.
pub fn verify_pin(identity: &Identity, supplied: &str) -> bool {
    identity
        .pin
        .as_deref()
        .is_some_and(|pin| secrets_match(supplied.as_bytes(), pin.as_bytes()))
}

/// `supplied` matches the stored password hash (constant-time): a salted slow hash (identities
/// registered through the built-in registry) or the Java mock's upper-case hex SHA-256. An
/// identity without a password never matches.
pub fn verify_password(identity: &Identity, supplied: &str) -> bool {
    let Some(stored) = identity.password.as_deref() else {
        return false;
    };
    password_matches(supplied, stored)
}

/// A knowledge-based challenge: base64 (either alphabet, padding optional) of a JSON object of
/// field → answer.
///
/// Passes only if the challenge contains at least one configured field and every configured
/// field it contains matches the identity: text fields exactly (multi-language fields in
/// `language`), date fields as dates (the answer in the field's pattern, the identity's value in
/// its `yyyy/MM/dd` storage form). Members that are not configured fields are ignored (the form
/// may carry others). Unlike the Java mock, a challenge with none of the configured fields fails.
pub fn verify_kbi(
    identity: &Identity,
    challenge: &str,
    fields: &[KbiField],
    language: &str,
) -> bool {
    let Some(answers) = decode_json(challenge).and_then(|value| match value {
        Value::Object(map) => Some(map),
        _ => None,
    }) else {
        return false;
    };
    let mut answered = 0;
    for field in fields {
        let Some(answer) = answers.get(&field.id) else {
            continue;
        };
        answered += 1;
        let Some(answer) = answer.as_str() else {
            return false;
        };
        let Some(held) = identity.field(&field.id) else {
            return false;
        };
        let matches = match &field.kind {
            KbiFieldKind::Text => held
                .text_in(language)
                .is_some_and(|value| secrets_match(answer.as_bytes(), value.as_bytes())),
            KbiFieldKind::Date(pattern) => {
                let held_date = match held {
                    FieldValue::Text(stored) => parse_stored_date(stored),
                    FieldValue::Languages(_) => None,
                };
                matches!((pattern.parse_date(answer), held_date), (Some(a), Some(b)) if a == b)
            }
        };
        if !matches {
            return false;
        }
    }
    answered > 0
}

/// A biometric challenge: SBI capture output, base64 of a JSON array of biometric records (an
/// object holding such records, a `biometrics` array, or plain JSON is accepted too), checked
/// for shape only, without a transaction. See [`verify_biometrics_for_transaction`], which
/// the authenticator uses.
pub fn verify_biometrics(challenge: &str) -> bool {
    check_capture(challenge, None)
}

/// A biometric challenge as the eSignet UI sends it: base64 of `JSON.stringify` of the SBI
/// capture's `biometrics` array (the UI drops the `error` members; an object with a
/// `biometrics` array, a single record, or plain JSON are accepted too).
///
/// **The mock does not match biometrics.** It passes a challenge when there is at least one
/// record and every record:
/// * has no `error`, or one whose `errorCode` is `"0"`;
/// * has a `data` member that is a compact JWS (three base64url parts, a JSON header with a
///   string `alg`). Signatures are not verified: the mock has no registry of device keys;
/// * whose payload is a JSON object with `bioType` `Face`, `Finger` or `Iris`, a non-empty
///   base64url `bioValue`, and a `transactionId` equal to `transaction_id`, the auth
///   transaction id of the kyc-auth request (so a capture made for another login is refused).
///
/// This is exactly what the mock SBI device (`esignet-mock-sbi`) produces; any capture of
/// anyone for this transaction passes.
pub fn verify_biometrics_for_transaction(challenge: &str, transaction_id: &str) -> bool {
    !transaction_id.trim().is_empty() && check_capture(challenge, Some(transaction_id))
}

/// The checks of [`verify_biometrics_for_transaction`]; the transaction binding only when
/// `transaction_id` is given.
fn check_capture(challenge: &str, transaction_id: Option<&str>) -> bool {
    let Some(decoded) = decode_json(challenge) else {
        return false;
    };
    let records = match &decoded {
        Value::Array(records) => records.as_slice(),
        Value::Object(object) => match object.get("biometrics") {
            Some(Value::Array(records)) => records.as_slice(),
            _ => std::slice::from_ref(&decoded),
        },
        _ => return false,
    };
    !records.is_empty()
        && records
            .iter()
            .all(|record| is_capture_record(record, transaction_id))
}

/// One SBI capture record (see [`verify_biometrics_for_transaction`]).
fn is_capture_record(record: &Value, transaction_id: Option<&str>) -> bool {
    if let Some(error) = record.get("error")
        && error.get("errorCode").and_then(Value::as_str) != Some("0")
    {
        return false;
    }
    let Some(data) = record.get("data").and_then(Value::as_str) else {
        return false;
    };
    let mut parts = data.trim().split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let header_is_jws = decode_base64_lenient(header)
        .and_then(|bytes| serde_json::from_slice::<Map<String, Value>>(&bytes).ok())
        .is_some_and(|header| header.get("alg").is_some_and(Value::is_string));
    if !header_is_jws || signature.is_empty() || decode_base64_lenient(signature).is_none() {
        return false;
    }
    let Some(payload) = decode_base64_lenient(payload)
        .and_then(|bytes| serde_json::from_slice::<Map<String, Value>>(&bytes).ok())
    else {
        return false;
    };
    let bio_type_ok = payload
        .get("bioType")
        .and_then(Value::as_str)
        .is_some_and(|bio_type| matches!(bio_type, "Face" | "Finger" | "Iris"));
    let bio_value_ok = payload
        .get("bioValue")
        .and_then(Value::as_str)
        .is_some_and(|value| !value.trim().is_empty() && decode_base64_lenient(value).is_some());
    let transaction_ok = transaction_id.is_none_or(|expected| {
        payload.get("transactionId").and_then(Value::as_str) == Some(expected)
    });
    bio_type_ok && bio_value_ok && transaction_ok
}

/// Decodes an encoded-JSON challenge: base64 in either alphabet, or (leniently) raw JSON.
fn decode_json(challenge: &str) -> Option<Value> {
    let trimmed = challenge.trim();
    if trimmed.starts_with(['{', '[']) {
        return serde_json::from_str(trimmed).ok();
    }
    let bytes = decode_base64_lenient(trimmed)?;
    serde_json::from_slice(&bytes).ok()
}

/// Parses an identity's stored `yyyy/MM/dd` date.
fn parse_stored_date(stored: &str) -> Option<time::Date> {
    time::Date::parse(
        stored,
        time::macros::format_description!("[year]/[month]/[day]"),
    )
    .ok()
}

/// Builds a KBI challenge the way the login UI does (base64url of the JSON form data); for tests
/// and tools.
pub fn encode_kbi_challenge(answers: &Map<String, Value>) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(Value::Object(answers.clone()).to_string())
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
    use serde_json::json;

    use super::*;
    use crate::settings::{DatePattern, MockSettings};

    fn identity() -> Identity {
        serde_json::from_value(json!({
            "individualId": "8267411571",
            "pin": "482916",
            "password": hash_password("Mansour1987").unwrap(),
            "fullName": [{"language": "eng", "value": "Sid M"}, {"language": "fra", "value": "Sid Mfr"}],
            "dateOfBirth": "1987/11/25",
            "email": "sid@example.com",
            "phone": "+212612345678"
        }))
        .unwrap()
    }

    fn kbi(answers: serde_json::Value) -> String {
        URL_SAFE_NO_PAD.encode(answers.to_string())
    }

    fn default_fields() -> Vec<KbiField> {
        MockSettings::new("iss").kbi_fields
    }

    #[test]
    fn factor_types_and_formats() {
        assert_eq!(AuthFactor::from_type("PWD"), Some(AuthFactor::Password));
        assert_eq!(AuthFactor::from_type("pin"), None, "types are upper case");
        assert_eq!(AuthFactor::from_type("FACE"), None);
        assert_eq!(AuthFactor::Pin.expected_format(), "number");
        assert_eq!(AuthFactor::Kbi.expected_format(), "base64url-encoded-json");
        assert!(AuthFactor::Biometrics.is_supported());
        assert!(AuthFactor::Wallet.is_supported());
        assert!(!AuthFactor::IdToken.is_supported());
    }

    #[test]
    fn pin_and_password() {
        let identity = identity();
        assert!(verify_pin(&identity, "482916"));
        assert!(!verify_pin(&identity, "482917"));
        assert!(!verify_pin(&identity, ""));
        assert!(verify_password(&identity, "Mansour1987"));
        assert!(!verify_password(&identity, "mansour1987"));
        assert!(!verify_password(&identity, "Mansour19870"));

        let bare: Identity = serde_json::from_value(json!({"individualId": "1"})).unwrap();
        assert!(!verify_pin(&bare, ""));
        assert!(!verify_password(&bare, ""));
    }

    #[test]
    fn kbi_matches_text_and_reformatted_dates() {
        let identity = identity();
        let fields = default_fields();
        let good = json!({"dateOfBirth": "1987-11-25", "phone": "+212612345678"});
        assert!(verify_kbi(&identity, &kbi(good), &fields, "eng"));
        // Unconfigured members (such as the individual id) are ignored.
        let extra = json!({"email": "sid@example.com", "individualId": "whatever"});
        assert!(verify_kbi(&identity, &kbi(extra), &fields, "eng"));
    }

    #[test]
    fn kbi_rejects_any_mismatch() {
        let identity = identity();
        let fields = default_fields();
        for answers in [
            json!({"dateOfBirth": "1987-11-26"}),
            json!({"dateOfBirth": "1987/11/25"}),
            json!({"dateOfBirth": "1987-11-25", "phone": "+212600000000"}),
            json!({"email": "SID@example.com"}),
            json!({"phone": 212612345678_u64}),
        ] {
            assert!(
                !verify_kbi(&identity, &kbi(answers.clone()), &fields, "eng"),
                "{answers}"
            );
        }
    }

    #[test]
    fn kbi_without_any_configured_field_fails() {
        let identity = identity();
        let fields = default_fields();
        assert!(!verify_kbi(&identity, &kbi(json!({})), &fields, "eng"));
        assert!(!verify_kbi(
            &identity,
            &kbi(json!({"fullName": "Sid M"})),
            &fields,
            "eng"
        ));
        assert!(!verify_kbi(
            &identity,
            &kbi(json!(["1987-11-25"])),
            &fields,
            "eng"
        ));
        assert!(!verify_kbi(&identity, "%%%not base64%%%", &fields, "eng"));
        assert!(!verify_kbi(
            &identity,
            &URL_SAFE_NO_PAD.encode("not json"),
            &fields,
            "eng"
        ));
    }

    #[test]
    fn kbi_accepts_every_base64_flavour() {
        let identity = identity();
        let fields = default_fields();
        // '?' and '>' in the JSON make the encodings differ between alphabets.
        let answers = json!({"dateOfBirth": "1987-11-25", "note": "??>>"}).to_string();
        assert_ne!(STANDARD.encode(&answers), URL_SAFE.encode(&answers));
        for encoded in [
            STANDARD.encode(&answers),
            URL_SAFE.encode(&answers),
            URL_SAFE_NO_PAD.encode(&answers),
            STANDARD.encode(&answers).trim_end_matches('=').to_owned(),
        ] {
            assert!(verify_kbi(&identity, &encoded, &fields, "eng"), "{encoded}");
        }
    }

    #[test]
    fn kbi_language_fields_compare_in_the_default_language() {
        let identity = identity();
        let fields = vec![KbiField::text("fullName")];
        let answer = kbi(json!({"fullName": "Sid M"}));
        assert!(verify_kbi(&identity, &answer, &fields, "eng"));
        assert!(!verify_kbi(&identity, &answer, &fields, "fra"));
        assert!(!verify_kbi(&identity, &answer, &fields, "khm"));
    }

    #[test]
    fn kbi_date_fields_use_their_configured_pattern() {
        let identity = identity();
        let fields = vec![KbiField::date(
            "dateOfBirth",
            DatePattern::parse("dd/MM/yyyy").unwrap(),
        )];
        assert!(verify_kbi(
            &identity,
            &kbi(json!({"dateOfBirth": "25/11/1987"})),
            &fields,
            "eng"
        ));
        assert!(!verify_kbi(
            &identity,
            &kbi(json!({"dateOfBirth": "1987-11-25"})),
            &fields,
            "eng"
        ));
    }

    const TXN: &str = "q7RkZ2x9Lm";

    /// A record shaped like the mock SBI device's output, with `payload` as the data's payload.
    fn capture_record(payload: serde_json::Value) -> serde_json::Value {
        let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"ES256","typ":"JWT","x5c":["MIIB"]}"#);
        let data = format!(
            "{header}.{}.{}",
            URL_SAFE_NO_PAD.encode(payload.to_string()),
            URL_SAFE_NO_PAD.encode([7u8; 64])
        );
        json!({"specVersion": "0.9.5", "data": data, "hash": "AB12", "sessionKey": "a2V5",
               "thumbprint": "CD34"})
    }

    fn finger(transaction_id: &str) -> serde_json::Value {
        capture_record(json!({"bioType": "Finger", "bioSubType": "UNKNOWN",
                              "bioValue": URL_SAFE_NO_PAD.encode([1u8; 32]),
                              "transactionId": transaction_id, "purpose": "Auth"}))
    }

    #[test]
    fn biometrics_accept_sbi_capture_output_for_the_transaction() {
        let capture = json!([finger(TXN), finger(TXN)]);
        for encoded in [
            STANDARD.encode(capture.to_string()),
            URL_SAFE_NO_PAD.encode(capture.to_string()),
            capture.to_string(),
            STANDARD.encode(json!({"biometrics": capture}).to_string()),
            STANDARD.encode(finger(TXN).to_string()),
        ] {
            assert!(
                verify_biometrics_for_transaction(&encoded, TXN),
                "{encoded}"
            );
            assert!(verify_biometrics(&encoded), "{encoded}");
        }
        let mut with_success = finger(TXN);
        with_success["error"] = json!({"errorCode": "0", "errorInfo": "Success"});
        assert!(verify_biometrics_for_transaction(
            &STANDARD.encode(json!([with_success]).to_string()),
            TXN
        ));
    }

    #[test]
    fn biometrics_of_another_transaction_are_rejected() {
        let capture = STANDARD.encode(json!([finger("Zx8wV7u6T5")]).to_string());
        assert!(!verify_biometrics_for_transaction(&capture, TXN));
        assert!(verify_biometrics(&capture), "well-formed, just not ours");
        let mixed = STANDARD.encode(json!([finger(TXN), finger("other")]).to_string());
        assert!(!verify_biometrics_for_transaction(&mixed, TXN));
        assert!(!verify_biometrics_for_transaction(
            &STANDARD.encode(json!([finger(TXN)]).to_string()),
            ""
        ));
    }

    #[test]
    fn biometric_garbage_is_rejected() {
        let mut failed = finger(TXN);
        failed["error"] = json!({"errorCode": "101", "errorInfo": "Unable to detect"});
        let no_bio_value = capture_record(json!({"bioType": "Face", "transactionId": TXN}));
        let bad_type = capture_record(json!({"bioType": "Palm", "bioValue": "AAAA",
                                             "transactionId": TXN}));
        let not_object = capture_record(json!(["Finger"]));
        for challenge in [
            String::new(),
            "garbage!".to_owned(),
            STANDARD.encode("not json"),
            STANDARD.encode("[]"),
            STANDARD.encode(r#"[{"data": ""}]"#),
            STANDARD.encode(r#"[{"data": "   "}]"#),
            STANDARD.encode(r#"[{"data": 42}]"#),
            STANDARD.encode(r#"[{"data": "x.y.z"}]"#),
            STANDARD.encode(r#"[{"data": "eyJhbGciOiJSUzI1NiJ9.e30.sig"}]"#),
            STANDARD.encode(r#"[{"hash": "abc"}]"#),
            STANDARD.encode(r#"{"biometrics": []}"#),
            STANDARD.encode(r#""a string""#),
            STANDARD.encode(json!([failed]).to_string()),
            STANDARD.encode(json!([no_bio_value]).to_string()),
            STANDARD.encode(json!([bad_type]).to_string()),
            STANDARD.encode(json!([not_object]).to_string()),
            STANDARD.encode(json!([finger(TXN), {"data": "a.b"}]).to_string()),
        ] {
            assert!(
                !verify_biometrics_for_transaction(&challenge, TXN),
                "{challenge}"
            );
        }
    }

    #[test]
    fn encode_kbi_challenge_round_trips() {
        let identity = identity();
        let mut answers = Map::new();
        answers.insert("email".into(), "sid@example.com".into());
        let challenge = encode_kbi_challenge(&answers);
        assert!(!challenge.contains('='));
        assert!(verify_kbi(&identity, &challenge, &default_fields(), "eng"));
    }
}
