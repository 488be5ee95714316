//! Key policies: which key family, how long keys live, when to rotate.

use esignet_jose::{Algorithm, PrivateKey};
use time::Duration;

use crate::KeyError;

/// The key family generated for an application (and for its `ROOT` issuer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyAlgorithm {
    /// RSA with a 2048-bit modulus.
    Rsa2048,
    /// ECDSA on NIST P-256.
    EcP256,
}

impl KeyAlgorithm {
    /// The name stored in [`esignet_spi::KeyRecord::algorithm`]: `RS256` or `ES256`, naming
    /// the family (a PS256 application's keys are also recorded as `RS256`).
    pub fn record_name(self) -> &'static str {
        match self {
            KeyAlgorithm::Rsa2048 => "RS256",
            KeyAlgorithm::EcP256 => "ES256",
        }
    }

    /// The family recorded under `name`, if known.
    pub fn from_record_name(name: &str) -> Option<Self> {
        match name {
            "RS256" | "PS256" => Some(KeyAlgorithm::Rsa2048),
            "ES256" => Some(KeyAlgorithm::EcP256),
            _ => None,
        }
    }

    /// The family that signs `alg`.
    pub fn for_jws(alg: Algorithm) -> Self {
        match alg {
            Algorithm::RS256 | Algorithm::PS256 => KeyAlgorithm::Rsa2048,
            Algorithm::ES256 => KeyAlgorithm::EcP256,
        }
    }

    /// The JWS algorithm a key of this family signs with when no policy says otherwise.
    pub(crate) fn default_jws(self) -> Algorithm {
        match self {
            KeyAlgorithm::Rsa2048 => Algorithm::RS256,
            KeyAlgorithm::EcP256 => Algorithm::ES256,
        }
    }

    /// The family of an existing key.
    pub(crate) fn of(key: &PrivateKey) -> Self {
        if key.public_jwk().kty() == "RSA" {
            KeyAlgorithm::Rsa2048
        } else {
            KeyAlgorithm::EcP256
        }
    }

    /// Generates a fresh key of this family. RSA takes tens of milliseconds: call it from a
    /// blocking context.
    pub(crate) fn generate(self) -> Result<PrivateKey, KeyError> {
        Ok(match self {
            KeyAlgorithm::Rsa2048 => PrivateKey::generate_rsa(2048)?,
            KeyAlgorithm::EcP256 => PrivateKey::generate_ec_p256()?,
        })
    }
}

/// How one application's signing keys are generated and rotated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyPolicy {
    /// The key family; must fit `jws_algorithm`.
    pub algorithm: KeyAlgorithm,
    /// The algorithm tokens are signed with.
    pub jws_algorithm: Algorithm,
    /// How long a signing key (and its certificate) is valid.
    pub validity: time::Duration,
    /// A key is replaced once it has less than this left (eSignet's `pre_expire_days`).
    pub rotate_before: time::Duration,
    /// Validity of a newly generated `ROOT` issuer key.
    pub root_validity: time::Duration,
    /// The subject common name of the signing certificates.
    pub subject_common_name: String,
    /// Whether the keys also issue certificates for other parties' keys (a wallet-binding
    /// CA): their own certificates then allow certificate signing (`CA:TRUE, pathlen:0`,
    /// `keyCertSign`) and [`crate::KeyManager::issue_certificate`] is available.
    pub issues_certificates: bool,
}

impl KeyPolicy {
    /// Validity of generated `ROOT` keys: ten years (eSignet's seed policy is 2920 days).
    pub const ROOT_VALIDITY: Duration = Duration::days(3652);

    /// The policy for signing with `alg` (RS256 / PS256: RSA-2048, ES256: EC P-256), with a
    /// ten-year `ROOT`.
    pub fn for_jws(
        alg: Algorithm,
        validity: time::Duration,
        rotate_before: time::Duration,
        subject_common_name: impl Into<String>,
    ) -> Self {
        Self {
            algorithm: KeyAlgorithm::for_jws(alg),
            jws_algorithm: alg,
            validity,
            rotate_before,
            root_validity: Self::ROOT_VALIDITY,
            subject_common_name: subject_common_name.into(),
            issues_certificates: false,
        }
    }

    /// This policy for keys that also certify other parties' keys (see
    /// [`KeyPolicy::issues_certificates`]).
    #[must_use]
    pub fn issuing_certificates(mut self) -> Self {
        self.issues_certificates = true;
        self
    }

    /// Checks the policy's internal consistency.
    pub fn validate(&self) -> Result<(), KeyError> {
        if KeyAlgorithm::for_jws(self.jws_algorithm) != self.algorithm {
            return Err(KeyError::InvalidPolicy(
                "the key family does not fit the JWS algorithm",
            ));
        }
        if self.validity < Duration::minutes(1) {
            return Err(KeyError::InvalidPolicy(
                "validity must be at least a minute",
            ));
        }
        if self.rotate_before.is_negative() || self.rotate_before >= self.validity {
            return Err(KeyError::InvalidPolicy(
                "rotate_before must be between zero and the validity",
            ));
        }
        if self.root_validity < self.validity {
            return Err(KeyError::InvalidPolicy(
                "root_validity must be at least the key validity",
            ));
        }
        if self.subject_common_name.trim().is_empty() || self.subject_common_name.len() > 64 {
            return Err(KeyError::InvalidPolicy(
                "subject_common_name must be 1 to 64 characters",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> KeyPolicy {
        KeyPolicy::for_jws(
            Algorithm::PS256,
            Duration::days(1095),
            Duration::days(60),
            "eSignet OIDC",
        )
    }

    #[test]
    fn for_jws_picks_the_family_and_a_ten_year_root() {
        let rsa = policy();
        assert_eq!(rsa.algorithm, KeyAlgorithm::Rsa2048);
        assert_eq!(rsa.root_validity, Duration::days(3652));
        assert!(rsa.validate().is_ok());
        let ec = KeyPolicy::for_jws(Algorithm::ES256, Duration::days(30), Duration::days(5), "x");
        assert_eq!(ec.algorithm, KeyAlgorithm::EcP256);
        assert!(ec.validate().is_ok());
    }

    #[test]
    fn inconsistent_policies_are_rejected() {
        let cases = [
            KeyPolicy {
                algorithm: KeyAlgorithm::EcP256,
                ..policy()
            },
            KeyPolicy {
                validity: Duration::seconds(30),
                rotate_before: Duration::ZERO,
                ..policy()
            },
            KeyPolicy {
                rotate_before: Duration::days(1095),
                ..policy()
            },
            KeyPolicy {
                rotate_before: Duration::days(-1),
                ..policy()
            },
            KeyPolicy {
                root_validity: Duration::days(100),
                ..policy()
            },
            KeyPolicy {
                subject_common_name: " ".into(),
                ..policy()
            },
        ];
        for case in cases {
            assert!(
                matches!(case.validate(), Err(KeyError::InvalidPolicy(_))),
                "{case:?}"
            );
        }
    }

    #[test]
    fn record_names_round_trip() {
        for family in [KeyAlgorithm::Rsa2048, KeyAlgorithm::EcP256] {
            assert_eq!(
                KeyAlgorithm::from_record_name(family.record_name()),
                Some(family)
            );
        }
        assert_eq!(KeyAlgorithm::from_record_name("HS256"), None);
    }
}
