//! Building the auth request from eSignet's challenges, and checking IDA's KYC JWT.

use esignet_spi::{AuthChallenge, PluginError, SigningCertificate};
use openssl::asn1::{Asn1Time, Asn1TimeRef};
use openssl::x509::X509;
use serde_json::{Map, Value, json};
use time::OffsetDateTime;

use crate::codes;
use crate::envelope;
use crate::wire::AuthRequest;

/// The auth request of `challenges`, as the plugin's `buildAuthRequest`: `OTP` → `otp`,
/// `PIN` → `staticPin`, `PWD` → `password`, `BIO` → `biometrics` (the base64url JSON list the
/// SBI returned), `WLA` → `keyBindedTokens`. Any other factor, an empty list, a factor given
/// twice or an undecodable biometric capture is `auth_failed` before any call (the plugin
/// fails the same requests, after logging).
pub(crate) fn auth_request(
    challenges: &[AuthChallenge],
    timestamp: String,
) -> Result<AuthRequest, PluginError> {
    let failed = || PluginError::new(codes::AUTH_FAILED);
    if challenges.is_empty() {
        return Err(failed());
    }
    let mut request = AuthRequest {
        timestamp,
        ..AuthRequest::default()
    };
    for challenge in challenges {
        let factor = challenge.auth_factor_type.to_ascii_uppercase();
        let value = challenge.challenge.clone();
        let slot_taken = match factor.as_str() {
            "OTP" => request.otp.replace(value).is_some(),
            "PIN" => request.static_pin.replace(value).is_some(),
            "PWD" => request.password.replace(value).is_some(),
            "BIO" => {
                let decoded = esignet_jose::b64url_decode(&value).map_err(|_| failed())?;
                let captures: Value = serde_json::from_slice(&decoded).map_err(|_| failed())?;
                if !captures.is_array() {
                    return Err(failed());
                }
                request.biometrics.replace(captures).is_some()
            }
            "WLA" => {
                let token = json!([{
                    "type": challenge.auth_factor_type,
                    "token": value,
                    "format": challenge.format,
                }]);
                request.key_binded_tokens.replace(token).is_some()
            }
            _ => return Err(failed()),
        };
        if slot_taken {
            return Err(failed());
        }
    }
    Ok(request)
}

/// kyc-auth v2's `verifiedClaimsMetadata` (a JSON object in a string) as eSignet's claims
/// metadata: claim → list of verification details. As the plugin does, `"null"` strings are
/// null; a null or absent list means held but unverified (an empty list); anything that is not
/// a list is dropped, and an unreadable text is no metadata at all (the claims then show as
/// unverified rather than failing the login).
pub(crate) fn claims_metadata(text: Option<&str>) -> Map<String, Value> {
    let Some(text) = text.filter(|text| !text.trim().is_empty()) else {
        return Map::new();
    };
    let Ok(Value::Object(parsed)) = serde_json::from_str::<Value>(text) else {
        tracing::warn!("IDA claims metadata is not a JSON object");
        return Map::new();
    };
    parsed
        .into_iter()
        .filter_map(|(claim, details)| match details {
            Value::Array(list) => Some((claim, Value::Array(list))),
            Value::Null => Some((claim, Value::Array(Vec::new()))),
            Value::String(text) if text == "null" => Some((claim, Value::Array(Vec::new()))),
            _ => None,
        })
        .collect()
}

/// The verified exchange's `verifiedConsentedClaims` and `unVerifiedConsentedClaims` from
/// eSignet's accepted claim details (`verified_claims` is the list of `{verification, claims}`;
/// every other entry is an unverified claim), as the plugin's `setClaims`.
pub(crate) fn split_claim_details(
    details: &Map<String, Value>,
) -> (Option<Vec<Value>>, Option<Map<String, Value>>) {
    let verified = match details.get("verified_claims") {
        Some(Value::Array(list)) => Some(list.clone()),
        Some(Value::Object(single)) => Some(vec![Value::Object(single.clone())]),
        _ => None,
    };
    let unverified: Map<String, Value> = details
        .iter()
        .filter(|(claim, _)| *claim != "verified_claims")
        .map(|(claim, detail)| (claim.clone(), detail.clone()))
        .collect();
    (verified, (!unverified.is_empty()).then_some(unverified))
}

/// Two-letter locales as ISO 639-3 (`en` → `eng`), as the plugin's
/// `convertLangCodesToISO3LanguageCodes`; three-letter codes pass, unknown ones are dropped.
pub(crate) fn iso3_locales(locales: &[String]) -> Vec<String> {
    const TABLE: &[(&str, &str)] = &[
        ("ar", "ara"),
        ("de", "deu"),
        ("en", "eng"),
        ("es", "spa"),
        ("fr", "fra"),
        ("hi", "hin"),
        ("km", "khm"),
        ("kn", "kan"),
        ("pt", "por"),
        ("ta", "tam"),
        ("tl", "tgl"),
    ];
    locales
        .iter()
        .filter_map(|locale| {
            let language = locale.split(['-', '_']).next()?.to_ascii_lowercase();
            if language.len() == 3 {
                return Some(language);
            }
            TABLE
                .iter()
                .find(|(two, _)| *two == language)
                .map(|(_, three)| (*three).to_owned())
        })
        .collect()
}

/// Checks that the KYC JWT is a compact RS256 JWS by IDA's signing key.
pub(crate) fn verify_kyc_jwt(jwt: &str, certificate: &X509) -> Result<(), PluginError> {
    let failed = || PluginError::new(codes::DATA_EXCHANGE_FAILED);
    let mut parts = jwt.split('.');
    let (Some(head), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        tracing::warn!("IDA KYC is not a compact JWS");
        return Err(failed());
    };
    let payload = esignet_jose::b64url_decode(payload).map_err(|_| failed())?;
    envelope::verify_detached(&format!("{head}..{signature}"), &payload, certificate).map_err(
        |error| {
            tracing::warn!(%error, "IDA KYC signature refused");
            failed()
        },
    )
}

fn offset_time(time: &Asn1TimeRef) -> Option<OffsetDateTime> {
    let epoch = Asn1Time::from_unix(0).ok()?;
    let diff = epoch.diff(time).ok()?;
    let seconds = i64::from(diff.days) * 86_400 + i64::from(diff.secs);
    OffsetDateTime::from_unix_timestamp(seconds).ok()
}

/// IDA's signing certificate as eSignet publishes it; its key id is the certificate's
/// `x5t#S256` thumbprint (the `kid` IDA's KYC JWT carries).
pub(crate) fn signing_certificate(certificate: &X509) -> Result<SigningCertificate, PluginError> {
    published_certificate(certificate, codes::KYC_SIGNING_CERTIFICATE_FAILED)
}

/// `certificate` as eSignet publishes it (key id: its `x5t#S256`); failures are `failed`.
pub(crate) fn published_certificate(
    certificate: &X509,
    failed: &'static str,
) -> Result<SigningCertificate, PluginError> {
    let failed = || PluginError::new(failed);
    let pem = certificate.to_pem().map_err(|_| failed())?;
    Ok(SigningCertificate {
        key_id: envelope::certificate_thumbprint(certificate).map_err(|_| failed())?,
        certificate_pem: String::from_utf8(pem).map_err(|_| failed())?,
        issued_at: offset_time(certificate.not_before()).ok_or_else(failed)?,
        expires_at: offset_time(certificate.not_after()).ok_or_else(failed)?,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn challenge(factor: &str, value: &str) -> AuthChallenge {
        AuthChallenge {
            auth_factor_type: factor.to_owned(),
            challenge: value.to_owned(),
            format: "alpha-numeric".to_owned(),
        }
    }

    #[test]
    fn challenges_map_to_ida_members() {
        let request = auth_request(
            &[challenge("OTP", "111111"), challenge("pin", "1234")],
            String::new(),
        )
        .unwrap();
        assert_eq!(request.otp.as_deref(), Some("111111"));
        assert_eq!(request.static_pin.as_deref(), Some("1234"));
        let json = serde_json::to_value(&request).unwrap();
        assert_eq!(json["staticPin"], "1234");
        assert!(json.get("password").is_none());
        let wla = auth_request(&[challenge("WLA", "a.b.c")], String::new()).unwrap();
        assert_eq!(wla.key_binded_tokens.unwrap()[0]["token"], "a.b.c");
        let bio = esignet_jose::b64url_encode(br#"[{"data":"x"}]"#);
        assert!(
            auth_request(&[challenge("BIO", &bio)], String::new())
                .unwrap()
                .biometrics
                .is_some()
        );
        for bad in [
            vec![],
            vec![challenge("KBI", "x")],
            vec![challenge("OTP", "1"), challenge("OTP", "2")],
            vec![challenge("BIO", "not json")],
        ] {
            assert_eq!(
                auth_request(&bad, String::new()).unwrap_err().code,
                codes::AUTH_FAILED
            );
        }
    }

    #[test]
    fn claims_metadata_reads_ida_text_like_the_plugin() {
        let text = r#"{"name":[{"trust_framework":"NIRA"}],"email":[],"phone_number":"null","gender":null,"odd":5}"#;
        let metadata = claims_metadata(Some(text));
        assert_eq!(metadata["name"], json!([{"trust_framework": "NIRA"}]));
        assert_eq!(metadata["email"], json!([]));
        assert_eq!(metadata["phone_number"], json!([]));
        assert_eq!(metadata["gender"], json!([]));
        assert!(!metadata.contains_key("odd"));
        for nothing in [None, Some(""), Some("not json"), Some("[1]")] {
            assert!(claims_metadata(nothing).is_empty(), "{nothing:?}");
        }
    }

    #[test]
    fn claim_details_split_into_verified_and_unverified() {
        let verified = json!([{"verification": {"trust_framework": {"value": "NIRA"}}, "claims": {"name": null}}]);
        let details: Map<String, Value> = serde_json::from_value(json!({
            "verified_claims": verified,
            "email": {"essential": true},
        }))
        .unwrap();
        let (list, unverified) = split_claim_details(&details);
        assert_eq!(Value::Array(list.unwrap()), verified);
        assert_eq!(unverified.unwrap()["email"], json!({"essential": true}));
        let single: Map<String, Value> =
            serde_json::from_value(json!({"verified_claims": verified[0]})).unwrap();
        let (list, unverified) = split_claim_details(&single);
        assert_eq!(list.unwrap().len(), 1);
        assert!(unverified.is_none());
        assert_eq!(split_claim_details(&Map::new()), (None, None));
    }

    #[test]
    fn locales_become_iso_639_3() {
        let locales = ["en", "fr-FR", "eng", "xx", "ara"].map(str::to_owned);
        assert_eq!(iso3_locales(&locales), ["eng", "fra", "eng", "ara"]);
    }

    #[test]
    fn signing_certificate_carries_the_thumbprint_and_validity() {
        let (_, certificate) = crate::testing::self_signed("IDA SIGN");
        let published = signing_certificate(&certificate).unwrap();
        assert_eq!(
            published.key_id,
            envelope::certificate_thumbprint(&certificate).unwrap()
        );
        assert!(published.issued_at < published.expires_at);
        assert!(
            published
                .certificate_pem
                .starts_with("-----BEGIN CERTIFICATE-----")
        );
    }
}
