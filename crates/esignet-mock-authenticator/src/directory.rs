//! The set of identities the mock knows, and the embedded demo personas.

use std::collections::BTreeMap;

use crate::identity::{FieldValue, Identity, claim_for_field};

/// The demo personas, embedded so the service runs with nothing else installed.
const DEMO_IDENTITIES: &str = include_str!("demo_identities.json");

/// Why a list of identities was rejected. Messages name positions and field names only, never
/// values, because the values are personal data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DirectoryError {
    /// Not a JSON array of identity objects (unknown member, wrong type, syntax error ...). The
    /// serde message is left out because it can quote values.
    #[error("identity list is not valid ({category}) at line {line}, column {column}")]
    Json {
        /// `syntax`, `data` (shape or type) or `eof`.
        category: &'static str,
        /// 1-based line of the problem.
        line: usize,
        /// 1-based column of the problem.
        column: usize,
    },
    /// Two identities share an individual id.
    #[error("identity #{index} repeats the individual id of an earlier identity")]
    DuplicateIndividualId {
        /// 0-based position in the list.
        index: usize,
    },
    /// An identity breaks a rule of the model.
    #[error("identity #{index}: {problem}")]
    Invalid {
        /// 0-based position in the list.
        index: usize,
        /// What is wrong, naming the field.
        problem: String,
    },
}

/// Identities keyed by individual id; iteration is in individual-id order. Only
/// [`SharedDirectory`](crate::SharedDirectory) changes one after it is built, with the same
/// checks.
#[derive(Debug, Clone, Default)]
pub struct Directory {
    identities: BTreeMap<String, Identity>,
}

impl Directory {
    /// The embedded demo personas (see [`crate::demo_credentials`]). Fails only if the embedded
    /// file is broken, which this crate's tests rule out.
    pub fn demo() -> Result<Self, DirectoryError> {
        Self::from_json(DEMO_IDENTITIES)
    }

    /// Parses a JSON array of identities and validates each: non-blank unique `individualId`,
    /// `password` (when present) as 64 upper-case hex characters, `dateOfBirth` as a real
    /// `yyyy/MM/dd` date, `email` with a local part and a domain, `encodedPhoto` as an image data
    /// URL, non-blank language codes, and verified claims that name fields the identity has and
    /// carry a non-blank string `trust_framework`.
    pub fn from_json(json: &str) -> Result<Self, DirectoryError> {
        let identities: Vec<Identity> =
            serde_json::from_str(json).map_err(|error| DirectoryError::Json {
                category: match error.classify() {
                    serde_json::error::Category::Io => "io",
                    serde_json::error::Category::Syntax => "syntax",
                    serde_json::error::Category::Data => "data",
                    serde_json::error::Category::Eof => "eof",
                },
                line: error.line(),
                column: error.column(),
            })?;
        Self::from_identities(identities)
    }

    /// Builds a directory from identities already in memory, with the checks of
    /// [`Directory::from_json`].
    pub fn from_identities(
        identities: impl IntoIterator<Item = Identity>,
    ) -> Result<Self, DirectoryError> {
        let mut by_id = BTreeMap::new();
        for (index, identity) in identities.into_iter().enumerate() {
            validate(&identity).map_err(|problem| DirectoryError::Invalid { index, problem })?;
            if by_id.contains_key(&identity.individual_id) {
                return Err(DirectoryError::DuplicateIndividualId { index });
            }
            by_id.insert(identity.individual_id.clone(), identity);
        }
        Ok(Self { identities: by_id })
    }

    /// Adds `identity`, or replaces the one with its individual id, after the checks of
    /// [`Directory::from_json`]. Returns whether an identity was replaced.
    pub(crate) fn put(&mut self, identity: Identity) -> Result<bool, DirectoryError> {
        validate(&identity).map_err(|problem| DirectoryError::Invalid { index: 0, problem })?;
        Ok(self
            .identities
            .insert(identity.individual_id.clone(), identity)
            .is_some())
    }

    /// The identity with this individual id, if any.
    pub fn get(&self, individual_id: &str) -> Option<&Identity> {
        self.identities.get(individual_id)
    }

    /// Every identity, in individual-id order.
    pub fn iter(&self) -> impl Iterator<Item = &Identity> {
        self.identities.values()
    }

    /// How many identities there are.
    pub fn len(&self) -> usize {
        self.identities.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.identities.is_empty()
    }
}

impl<'a> IntoIterator for &'a Directory {
    type Item = &'a Identity;
    type IntoIter = std::collections::btree_map::Values<'a, String, Identity>;

    fn into_iter(self) -> Self::IntoIter {
        self.identities.values()
    }
}

/// Checks one identity; the error names the offending field.
fn validate(identity: &Identity) -> Result<(), String> {
    if identity.individual_id.trim().is_empty() {
        return Err("individualId is blank".to_owned());
    }
    if let Some(password) = &identity.password {
        let is_upper_hex = password.len() == 64
            && password
                .bytes()
                .all(|byte| byte.is_ascii_digit() || (b'A'..=b'F').contains(&byte));
        if !is_upper_hex && !crate::crypto::is_salted_hash(password) {
            return Err(
                "password must be the upper-case hex SHA-256 or a salted hash of the password"
                    .to_owned(),
            );
        }
    }
    if identity.date_of_birth.is_some() && identity.birth_date().is_none() {
        return Err("dateOfBirth must be a yyyy/MM/dd date".to_owned());
    }
    if let Some(email) = &identity.email {
        let well_formed = email
            .split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'));
        if !well_formed {
            return Err("email is not an e-mail address".to_owned());
        }
    }
    if let Some(photo) = &identity.encoded_photo
        && !photo.starts_with("data:image/")
    {
        return Err("encodedPhoto must be an image data URL".to_owned());
    }
    for (field, _) in crate::identity::IDENTITY_CLAIM_MAPPING {
        if let Some(FieldValue::Languages(values)) = identity.field(field)
            && values.iter().any(|entry| entry.language.trim().is_empty())
        {
            return Err(format!("{field} has an entry without a language"));
        }
    }
    for (position, verified) in identity.verified_claims.iter().enumerate() {
        if verified.fields.is_empty() {
            return Err(format!("verifiedClaims[{position}] names no field"));
        }
        for field in &verified.fields {
            if claim_for_field(field).is_none() {
                return Err(format!(
                    "verifiedClaims[{position}] names {field:?}, which is not a claim field"
                ));
            }
            if identity.field(field).is_none() {
                return Err(format!(
                    "verifiedClaims[{position}] verifies {field}, which has no value"
                ));
            }
        }
        if verified
            .trust_framework()
            .is_none_or(|framework| framework.trim().is_empty())
        {
            return Err(format!(
                "verifiedClaims[{position}] needs a non-blank trust_framework"
            ));
        }
    }
    Ok(())
}

/// The login credentials of one demo persona. These are published demo credentials, not
/// secrets: they exist so anyone can try a login.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoCredential {
    /// The individual id to log in with.
    pub individual_id: &'static str,
    /// Display name (English).
    pub name: &'static str,
    /// PIN for the static-code login.
    pub pin: &'static str,
    /// Plaintext password for the password login.
    pub password: &'static str,
    /// What makes this persona interesting to test with.
    pub notes: &'static str,
}

/// The credentials of every persona of [`Directory::demo`], for the CLI to print. The OTP is
/// always the development OTP ([`crate::DEFAULT_OTP`] unless configured otherwise).
pub fn demo_credentials() -> Vec<DemoCredential> {
    vec![
        DemoCredential {
            individual_id: "8267411571",
            name: "Siddharth Kumar Mansour",
            pin: "482916",
            password: "Mansour1987",
            notes: "eng/fra/ara; name, birthdate and address verified (eidas), name also (de_aml)",
        },
        DemoCredential {
            individual_id: "5860142938",
            name: "Chan Sreymom",
            pin: "739201",
            password: "Sreymom1992",
            notes: "eng/khm; no e-mail (OTP by phone only); name, birthdate, gender, phone verified (nist_800_63A)",
        },
        DemoCredential {
            individual_id: "3519847260",
            name: "Priya Lakshmi Ramaswamy",
            pin: "260395",
            password: "Priya1995Chennai",
            notes: "eng/hin/tam; nothing verified",
        },
        DemoCredential {
            individual_id: "7704215589",
            name: "Manjunath Gowda",
            pin: "905718",
            password: "Gowda1978Mysuru",
            notes: "eng/kan; name and address verified (uk_tfida), an inactive birthdate verification",
        },
        DemoCredential {
            individual_id: "6102938475",
            name: "Alex Martin",
            pin: "613048",
            password: "AlexMartin2001",
            notes: "eng/fra; no phone, no street address; nothing verified",
        },
    ]
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use base64::Engine as _;

    use super::*;
    use crate::crypto::hash_password;

    #[test]
    fn demo_directory_loads_with_five_varied_personas() {
        let directory = Directory::demo().unwrap();
        assert!(directory.len() >= 5);
        let mut languages = BTreeSet::new();
        let mut genders = BTreeSet::new();
        let mut birth_dates = BTreeSet::new();
        for identity in &directory {
            assert!(identity.individual_id.bytes().all(|b| b.is_ascii_digit()));
            for entry in &identity.full_name {
                languages.insert(entry.language.clone());
            }
            assert!(
                identity.full_name.len() >= 2,
                "names in two or more languages"
            );
            assert!(!identity.given_name.is_empty() && !identity.family_name.is_empty());
            genders.insert(identity.field("gender").and_then(|g| g.text_in("eng")));
            birth_dates.insert(identity.birth_date().unwrap());
            assert!(identity.pin.is_some() && identity.password.is_some());
            assert!(identity.has_claim("address"));
        }
        for language in ["eng", "fra", "ara", "khm", "hin", "kan", "tam"] {
            assert!(languages.contains(language), "{language}");
        }
        assert!(genders.len() >= 3);
        assert_eq!(birth_dates.len(), directory.len());
        assert!(directory.iter().any(|identity| identity.email.is_none()));
        assert!(directory.iter().any(|identity| identity.phone.is_none()));
        let with_verified = directory
            .iter()
            .filter(|identity| identity.active_verifications().next().is_some())
            .count();
        assert!(with_verified >= 2);
    }

    #[test]
    fn demo_photos_are_small_real_png_images() {
        for identity in &Directory::demo().unwrap() {
            let photo = identity.encoded_photo.as_deref().unwrap();
            assert!(photo.len() < 2048);
            let encoded = photo.strip_prefix("data:image/png;base64,").unwrap();
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(encoded)
                .unwrap();
            assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
            assert_eq!(&bytes[12..16], b"IHDR");
            assert_eq!(&bytes[bytes.len() - 8..bytes.len() - 4], b"IEND");
        }
    }

    #[test]
    fn demo_credentials_match_the_embedded_identities() {
        let directory = Directory::demo().unwrap();
        let credentials = demo_credentials();
        assert_eq!(credentials.len(), directory.len());
        for credential in credentials {
            let identity = directory.get(credential.individual_id).unwrap();
            assert_eq!(identity.pin.as_deref(), Some(credential.pin));
            assert_eq!(
                identity.password.as_deref(),
                Some(hash_password(credential.password).unwrap().as_str())
            );
            assert_eq!(
                identity.field("fullName").and_then(|n| n.text_in("eng")),
                Some(credential.name)
            );
            // The UI only accepts 6-digit PINs and 8-30 alphanumeric passwords.
            assert!(
                credential.pin.len() == 6 && credential.pin.bytes().all(|b| b.is_ascii_digit())
            );
            assert!((8..=30).contains(&credential.password.len()));
            assert!(
                credential
                    .password
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric())
            );
        }
    }

    #[test]
    fn crate_docs_list_every_demo_credential() {
        let docs = include_str!("lib.rs");
        for credential in demo_credentials() {
            let row = format!(
                "| {} | {} | {} | `{}` |",
                credential.individual_id, credential.name, credential.pin, credential.password
            );
            assert!(docs.contains(&row), "missing docs row: {row}");
        }
    }

    fn one(json: &str) -> Result<Directory, DirectoryError> {
        Directory::from_json(&format!("[{json}]"))
    }

    #[test]
    fn malformed_identities_are_rejected_without_quoting_values() {
        let cases = [
            (r#"{"individualId": " "}"#, "individualId"),
            (r#"{"individualId": "1", "password": "secret"}"#, "password"),
            (
                r#"{"individualId": "1", "dateOfBirth": "1987-11-25"}"#,
                "dateOfBirth",
            ),
            (r#"{"individualId": "1", "email": "nobody"}"#, "email"),
            (
                r#"{"individualId": "1", "encodedPhoto": "http://x/y.png"}"#,
                "encodedPhoto",
            ),
            (
                r#"{"individualId": "1", "gender": [{"language": "", "value": "x"}]}"#,
                "gender",
            ),
            (
                r#"{"individualId": "1", "verifiedClaims": [{"fields": ["fullName"], "verification": {"trust_framework": "eidas"}}]}"#,
                "fullName",
            ),
            (
                r#"{"individualId": "1", "email": "a@b.c", "verifiedClaims": [{"fields": ["email"], "verification": {"trust_framework": " "}}]}"#,
                "trust_framework",
            ),
            (
                r#"{"individualId": "1", "email": "a@b.c", "verifiedClaims": [{"fields": ["pin"], "verification": {"trust_framework": "x"}}]}"#,
                "pin",
            ),
        ];
        for (json, field) in cases {
            let error = one(json).unwrap_err();
            let message = error.to_string();
            assert!(
                matches!(error, DirectoryError::Invalid { index: 0, .. }),
                "{json}"
            );
            assert!(message.contains(field), "{message}");
            assert!(!message.contains("secret") && !message.contains("nobody"));
        }
    }

    #[test]
    fn json_and_duplicate_errors_are_reported_by_position() {
        let error =
            Directory::from_json(r#"[{"individualId": "1", "ssn": "123-45-6789"}]"#).unwrap_err();
        assert!(matches!(
            error,
            DirectoryError::Json {
                category: "data",
                line: 1,
                ..
            }
        ));
        assert!(!error.to_string().contains("6789"));
        assert!(matches!(
            Directory::from_json("[{"),
            Err(DirectoryError::Json {
                category: "eof",
                ..
            })
        ));
        assert_eq!(
            Directory::from_json(r#"[{"individualId": "1"}, {"individualId": "1"}]"#).unwrap_err(),
            DirectoryError::DuplicateIndividualId { index: 1 }
        );
    }

    #[test]
    fn lookups_and_iteration() {
        let directory =
            Directory::from_json(r#"[{"individualId": "20"}, {"individualId": "10"}]"#).unwrap();
        assert_eq!(directory.len(), 2);
        assert!(!directory.is_empty());
        assert!(directory.get("10").is_some());
        assert!(directory.get("30").is_none());
        let ids: Vec<&str> = directory.iter().map(|i| i.individual_id.as_str()).collect();
        assert_eq!(ids, ["10", "20"]);
        assert!(Directory::default().is_empty());
    }
}
