//! The JWS algorithms this crate signs and verifies.

/// A JWS signature algorithm (RFC 7518 §3).
///
/// Deliberately closed: `none`, the HMAC family and everything else have no variant, so a token
/// naming them can never be verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    RS256,
    /// RSASSA-PSS with SHA-256, MGF1 with SHA-256 and a 32-byte salt.
    PS256,
    /// ECDSA on P-256 with SHA-256; signatures are the 64-byte `r || s` form.
    ES256,
}

impl Algorithm {
    /// The registered `alg` name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Algorithm::RS256 => "RS256",
            Algorithm::PS256 => "PS256",
            Algorithm::ES256 => "ES256",
        }
    }

    /// The algorithm with this exact (case-sensitive) `alg` name, or `None` for any other name.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "RS256" => Some(Algorithm::RS256),
            "PS256" => Some(Algorithm::PS256),
            "ES256" => Some(Algorithm::ES256),
            _ => None,
        }
    }

    /// Whether this is an RSA algorithm (RS256, PS256).
    pub(crate) fn is_rsa(self) -> bool {
        matches!(self, Algorithm::RS256 | Algorithm::PS256)
    }
}

impl std::fmt::Display for Algorithm {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for alg in [Algorithm::RS256, Algorithm::PS256, Algorithm::ES256] {
            assert_eq!(Algorithm::parse(alg.as_str()), Some(alg));
            assert_eq!(alg.to_string(), alg.as_str());
        }
    }

    #[test]
    fn unsupported_names_are_rejected() {
        for name in [
            "none", "None", "HS256", "rs256", "RS384", "ES256K", "EdDSA", "",
        ] {
            assert_eq!(Algorithm::parse(name), None, "{name}");
        }
    }
}
