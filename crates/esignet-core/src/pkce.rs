//! PKCE (RFC 7636), S256 only.

use crate::codes;
use crate::error::{Error, Result};

/// Validates a challenge at authorization time. Both parts or neither: a challenge without a
/// method would mean `plain` (RFC 7636 §4.3), which we do not support.
pub fn validate_challenge(
    challenge: Option<&str>,
    method: Option<&str>,
    required: bool,
) -> Result<Option<String>> {
    match (
        challenge.filter(|c| !c.is_empty()),
        method.filter(|m| !m.is_empty()),
    ) {
        (None, None) if required => Err(Error::code(codes::INVALID_PKCE_CHALLENGE)),
        (None, None) => Ok(None),
        (Some(_), None) | (None, Some(_)) => Err(Error::code(codes::INVALID_PKCE_CHALLENGE)),
        (Some(_), Some(method)) if method != "S256" => {
            Err(Error::code(codes::UNSUPPORTED_PKCE_CHALLENGE_METHOD))
        }
        (Some(challenge), Some(_)) => {
            // RFC 7636 §4.2: BASE64URL(SHA256(verifier)) is always 43 characters.
            if challenge.len() != 43 || esignet_jose::b64url_decode(challenge).is_err() {
                return Err(Error::code(codes::INVALID_PKCE_CHALLENGE));
            }
            Ok(Some(challenge.to_owned()))
        }
    }
}

/// Checks the verifier at the token endpoint against the stored challenge (if any).
pub fn verify(challenge: Option<&str>, verifier: Option<&str>) -> Result<()> {
    let Some(challenge) = challenge else {
        return Ok(());
    };
    let verifier = verifier
        .filter(|v| !v.is_empty())
        .ok_or_else(|| Error::invalid_grant(codes::INVALID_PKCE_CODE_VERIFIER))?;
    // RFC 7636 §4.1: 43..128 characters of [A-Za-z0-9-._~].
    let well_formed = (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
    if !well_formed {
        return Err(Error::invalid_grant(codes::INVALID_PKCE_CODE_VERIFIER));
    }
    let computed = esignet_jose::sha256_b64url(verifier.as_bytes());
    if esignet_jose::constant_time_eq(computed.as_bytes(), challenge.as_bytes()) {
        Ok(())
    } else {
        Err(Error::invalid_grant(codes::PKCE_FAILED))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 7636 Appendix B.
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    #[test]
    fn rfc_vector_verifies() {
        assert_eq!(
            validate_challenge(Some(CHALLENGE), Some("S256"), false).unwrap(),
            Some(CHALLENGE.to_owned())
        );
        verify(Some(CHALLENGE), Some(VERIFIER)).unwrap();
    }

    #[test]
    fn wrong_or_missing_verifier_is_rejected() {
        let wrong = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXx";
        assert_eq!(
            verify(Some(CHALLENGE), Some(wrong)),
            Err(Error::invalid_grant(codes::PKCE_FAILED))
        );
        assert_eq!(
            verify(Some(CHALLENGE), None),
            Err(Error::invalid_grant(codes::INVALID_PKCE_CODE_VERIFIER))
        );
        assert_eq!(
            verify(Some(CHALLENGE), Some("short")),
            Err(Error::invalid_grant(codes::INVALID_PKCE_CODE_VERIFIER))
        );
        verify(None, None).unwrap();
    }

    #[test]
    fn challenge_rules() {
        assert_eq!(
            validate_challenge(Some(CHALLENGE), Some("plain"), false),
            Err(Error::code(codes::UNSUPPORTED_PKCE_CHALLENGE_METHOD))
        );
        assert_eq!(
            validate_challenge(Some(CHALLENGE), None, false),
            Err(Error::code(codes::INVALID_PKCE_CHALLENGE))
        );
        assert_eq!(
            validate_challenge(None, None, true),
            Err(Error::code(codes::INVALID_PKCE_CHALLENGE))
        );
        assert_eq!(validate_challenge(None, None, false).unwrap(), None);
        assert_eq!(
            validate_challenge(Some("tooshort"), Some("S256"), false),
            Err(Error::code(codes::INVALID_PKCE_CHALLENGE))
        );
    }
}
