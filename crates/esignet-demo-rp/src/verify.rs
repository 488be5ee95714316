//! Checks on what the provider returns: the ID token (OpenID Connect Core §3.1.3.7) and the
//! userinfo answer (§5.3.2, §5.3.4). Signatures are checked by the caller against the JWKS;
//! these functions check the claims.

use axum::http::StatusCode;
use esignet_jose::{constant_time_eq, half_sha256_b64url};
use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::error::LoginError;

/// Tolerated clock difference with the provider, in seconds.
const CLOCK_SKEW_SECS: i64 = 60;

/// What the ID token must say.
pub(crate) struct IdTokenExpectations<'a> {
    /// The discovery issuer.
    pub issuer: &'a str,
    /// Our client id.
    pub client_id: &'a str,
    /// The nonce sent at authorization.
    pub nonce: &'a str,
    /// The access token issued with it (for `at_hash`).
    pub access_token: &'a str,
    /// Now, by the injected clock.
    pub now: OffsetDateTime,
}

fn invalid(code: &str, description: &str) -> LoginError {
    LoginError::local(
        StatusCode::BAD_GATEWAY,
        "The identity provider's answer did not pass the portal's checks.",
        code,
        description,
    )
}

/// Checks a signature-verified ID token's claims: `iss` is the issuer, `aud` contains the
/// client id (and `azp` names it when there are several audiences), `exp` is in the future and
/// `iat` not in the future (both within [`CLOCK_SKEW_SECS`]), `nonce` is ours, `sub` is set,
/// and `at_hash`, when present, matches the access token.
pub(crate) fn check_id_token(
    claims: &Map<String, Value>,
    expected: &IdTokenExpectations<'_>,
) -> Result<(), LoginError> {
    const CODE: &str = "invalid_id_token";
    if claims.get("iss").and_then(Value::as_str) != Some(expected.issuer) {
        return Err(invalid(CODE, "The ID token was issued by another issuer."));
    }
    if !audience_contains(claims.get("aud"), expected.client_id) {
        return Err(invalid(CODE, "The ID token was issued to another client."));
    }
    if claims
        .get("aud")
        .and_then(Value::as_array)
        .is_some_and(|aud| aud.len() > 1)
        && claims.get("azp").and_then(Value::as_str) != Some(expected.client_id)
    {
        return Err(invalid(
            CODE,
            "The ID token's authorized party is not this client.",
        ));
    }
    let now = expected.now.unix_timestamp();
    match claims.get("exp").and_then(Value::as_i64) {
        Some(exp) if now < exp.saturating_add(CLOCK_SKEW_SECS) => {}
        Some(_) => return Err(invalid(CODE, "The ID token has expired.")),
        None => return Err(invalid(CODE, "The ID token has no expiry.")),
    }
    if claims
        .get("iat")
        .and_then(Value::as_i64)
        .is_some_and(|iat| iat > now.saturating_add(CLOCK_SKEW_SECS))
    {
        return Err(invalid(CODE, "The ID token was issued in the future."));
    }
    let nonce = claims.get("nonce").and_then(Value::as_str).unwrap_or("");
    if !constant_time_eq(nonce.as_bytes(), expected.nonce.as_bytes()) {
        return Err(invalid(
            CODE,
            "The ID token's nonce is not the one this login sent.",
        ));
    }
    if claims
        .get("sub")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        return Err(invalid(CODE, "The ID token has no subject."));
    }
    // Every algorithm we accept (RS256, PS256, ES256) hashes with SHA-256.
    if let Some(at_hash) = claims.get("at_hash") {
        let expected_hash = half_sha256_b64url(expected.access_token.as_bytes());
        if at_hash.as_str() != Some(expected_hash.as_str()) {
            return Err(invalid(
                CODE,
                "The ID token's at_hash does not match the access token.",
            ));
        }
    }
    Ok(())
}

/// Checks signature-verified userinfo claims: `sub` must equal the ID token's (§5.3.4, so the
/// claims of another person cannot be substituted) and `aud`, when present, must contain the
/// client id. `iss` is not compared: eSignet passes through the identity system's KYC token,
/// whose issuer is configured in the identity system, not in eSignet.
pub(crate) fn check_userinfo(
    claims: &Map<String, Value>,
    client_id: &str,
    id_token_sub: &str,
) -> Result<(), LoginError> {
    const CODE: &str = "invalid_userinfo";
    if claims.get("sub").and_then(Value::as_str) != Some(id_token_sub) {
        return Err(invalid(
            CODE,
            "The claims are about another subject than the ID token.",
        ));
    }
    if claims.get("aud").is_some() && !audience_contains(claims.get("aud"), client_id) {
        return Err(invalid(CODE, "The claims were issued to another client."));
    }
    Ok(())
}

fn audience_contains(aud: Option<&Value>, client_id: &str) -> bool {
    match aud {
        Some(Value::String(aud)) => aud == client_id,
        Some(Value::Array(values)) => values.iter().any(|value| value == client_id),
        _ => false,
    }
}

/// The number of `.`-separated parts of a compact serialization: 3 for a JWS, 5 for a JWE.
pub(crate) fn compact_parts(token: &str) -> usize {
    token.split('.').count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claims(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap()
    }

    fn expectations(now: i64) -> IdTokenExpectations<'static> {
        IdTokenExpectations {
            issuer: "https://op.example",
            client_id: "rp",
            nonce: "n",
            access_token: "at",
            now: OffsetDateTime::from_unix_timestamp(now).unwrap(),
        }
    }

    fn good() -> Value {
        json!({"iss": "https://op.example", "aud": "rp", "sub": "s", "nonce": "n",
               "iat": 1000, "exp": 1300, "at_hash": half_sha256_b64url(b"at")})
    }

    #[test]
    fn a_good_id_token_passes_and_each_broken_claim_fails() {
        assert_eq!(check_id_token(&claims(good()), &expectations(1100)), Ok(()));
        // Within the skew either side.
        assert!(check_id_token(&claims(good()), &expectations(1350)).is_ok());
        assert!(check_id_token(&claims(good()), &expectations(950)).is_ok());
        for (member, value) in [
            ("iss", json!("https://evil.example")),
            ("aud", json!("other")),
            ("aud", json!(["rp", "other"])),
            ("exp", json!(1000)),
            ("exp", Value::Null),
            ("iat", json!(1200)),
            ("nonce", json!("m")),
            ("nonce", Value::Null),
            ("sub", json!("")),
            ("at_hash", json!("x")),
        ] {
            let mut token = good();
            token[member] = value.clone();
            assert!(
                check_id_token(&claims(token), &expectations(1100)).is_err(),
                "{member}={value}"
            );
        }
        let mut several = good();
        several["aud"] = json!(["rp", "other"]);
        several["azp"] = json!("rp");
        assert!(check_id_token(&claims(several), &expectations(1100)).is_ok());
    }

    #[test]
    fn userinfo_must_be_about_the_same_subject_and_for_us() {
        let ok = claims(json!({"sub": "s", "aud": "rp", "name": "A"}));
        assert!(check_userinfo(&ok, "rp", "s").is_ok());
        assert!(check_userinfo(&claims(json!({"sub": "s"})), "rp", "s").is_ok());
        assert!(check_userinfo(&ok, "rp", "t").is_err());
        assert!(check_userinfo(&claims(json!({"sub": "s", "aud": "x"})), "rp", "s").is_err());
        assert_eq!(compact_parts("a.b.c"), 3);
        assert_eq!(compact_parts("a.b.c.d.e"), 5);
    }
}
