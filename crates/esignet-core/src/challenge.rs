//! Shape checks of authentication challenges (eSignet §8.8), before anything reaches the
//! identity system.

use esignet_spi::AuthChallenge;

use crate::codes;
use crate::error::{Error, Result};

/// The required format and length bounds of each factor type.
fn rule(factor_type: &str) -> Option<(&'static str, usize, usize)> {
    Some(match factor_type {
        "OTP" => ("alpha-numeric", 6, 6),
        "PWD" => ("alpha-numeric", 8, 30),
        "PIN" => ("number", 6, 6),
        "BIO" => ("encoded-json", 500, 500_000),
        // eSignet's 500..1000 only fits RS256 with a 2048-bit key; an ES256 token is shorter
        // and a larger RSA key's longer, and both are valid wallet keys (compatibility D16).
        "WLA" => ("jwt", 100, 4096),
        "KBI" => ("base64url-encoded-json", 50, 500),
        "IDT" => ("base64url-encoded-json", 20, 2000),
        _ => return None,
    })
}

/// Validates the challenge list of an authenticate request: 1 to 5 challenges, each of a known
/// upper-case type, in its required format and length.
pub fn validate(challenges: &[AuthChallenge]) -> Result<()> {
    if challenges.is_empty() || challenges.len() > 5 {
        return Err(Error::code(codes::INVALID_NO_OF_CHALLENGES));
    }
    for challenge in challenges {
        let (format, min, max) = rule(&challenge.auth_factor_type)
            .ok_or(Error::code(codes::INVALID_AUTH_FACTOR_TYPE))?;
        if challenge.format != format {
            return Err(Error::code(codes::INVALID_CHALLENGE_FORMAT));
        }
        let length = challenge.challenge.chars().count();
        if challenge.challenge.trim().is_empty() || length < min || length > max {
            return Err(Error::code(codes::INVALID_CHALLENGE));
        }
        if challenge.auth_factor_type == "PIN"
            && !challenge.challenge.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(Error::code(codes::INVALID_CHALLENGE));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn challenge(t: &str, c: &str, f: &str) -> AuthChallenge {
        AuthChallenge {
            auth_factor_type: t.into(),
            challenge: c.into(),
            format: f.into(),
        }
    }

    #[test]
    fn rules() {
        validate(&[challenge("OTP", "111111", "alpha-numeric")]).unwrap();
        validate(&[challenge("PIN", "545411", "number")]).unwrap();
        assert_eq!(
            validate(&[]),
            Err(Error::code(codes::INVALID_NO_OF_CHALLENGES))
        );
        assert_eq!(
            validate(&vec![challenge("OTP", "111111", "alpha-numeric"); 6]),
            Err(Error::code(codes::INVALID_NO_OF_CHALLENGES))
        );
        assert_eq!(
            validate(&[challenge("otp", "111111", "alpha-numeric")]),
            Err(Error::code(codes::INVALID_AUTH_FACTOR_TYPE))
        );
        assert_eq!(
            validate(&[challenge("OTP", "111111", "number")]),
            Err(Error::code(codes::INVALID_CHALLENGE_FORMAT))
        );
        assert_eq!(
            validate(&[challenge("OTP", "11111", "alpha-numeric")]),
            Err(Error::code(codes::INVALID_CHALLENGE))
        );
        assert_eq!(
            validate(&[challenge("PIN", "12a456", "number")]),
            Err(Error::code(codes::INVALID_CHALLENGE))
        );
    }
}
