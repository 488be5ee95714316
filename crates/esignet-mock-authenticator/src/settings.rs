//! Settings of the mock identity system.

use std::time::Duration;

use time::Date;

/// The fixed development OTP of the Java mock.
pub const DEFAULT_OTP: &str = "111111";

/// How the partner-specific user token (the `sub` relying parties see) is derived.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PsutMode {
    /// Base64url SHA3-256 of `individualId + relyingPartyId`: a different, stable subject per
    /// relying party (the Java mock's `psut` setting).
    #[default]
    Pairwise,
    /// The individual id itself (any other value of the Java mock's setting). Leaks the national
    /// identifier to every relying party; for compatibility tests only.
    IndividualId,
}

/// Settings of [`crate::MockAuthenticator`]. [`MockSettings::new`] gives the Java mock's defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MockSettings {
    /// `iss` of the KYC JWT (the eSignet issuer the mock signs on behalf of).
    pub issuer: String,
    /// The one OTP every resident receives. Nothing is ever sent.
    pub otp: String,
    /// OTP channels accepted by `send_otp`, lower case.
    pub otp_channels: Vec<String>,
    /// How long a KYC token stays exchangeable after `kyc_auth`.
    pub kyc_token_ttl: Duration,
    /// How long an OTP stays usable after `send_otp`.
    pub otp_ttl: Duration,
    /// How `sub` is derived.
    pub psut_mode: PsutMode,
    /// Fields a knowledge-based (KBI) challenge may contain.
    pub kbi_fields: Vec<KbiField>,
    /// ISO 639-3 language used when no claims locale is requested (or none matches) and for KBI
    /// comparisons of multi-language fields.
    pub default_language: String,
}

impl MockSettings {
    /// The Java mock's defaults: OTP `111111` on `email` and `phone`, KYC tokens valid 180 s,
    /// OTPs 600 s, pairwise subjects, KBI fields `phone`, `email` (text) and `dateOfBirth`
    /// (date, `yyyy-MM-dd`), default language `eng`.
    pub fn new(issuer: impl Into<String>) -> Self {
        Self {
            issuer: issuer.into(),
            otp: DEFAULT_OTP.to_owned(),
            otp_channels: vec!["email".to_owned(), "phone".to_owned()],
            kyc_token_ttl: Duration::from_secs(180),
            otp_ttl: Duration::from_secs(600),
            psut_mode: PsutMode::Pairwise,
            kbi_fields: vec![
                KbiField::text("phone"),
                KbiField::text("email"),
                KbiField::date("dateOfBirth", DatePattern::default()),
            ],
            default_language: "eng".to_owned(),
        }
    }
}

/// One field of the knowledge-based identification form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KbiField {
    /// Identity field name (`phone`, `email`, `dateOfBirth`, `fullName` ...), also the key in the
    /// challenge JSON.
    pub id: String,
    /// How the resident's answer is compared.
    pub kind: KbiFieldKind,
}

impl KbiField {
    /// A field compared as text (multi-language fields in the default language).
    pub fn text(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            kind: KbiFieldKind::Text,
        }
    }

    /// A date field: the answer is parsed with `pattern` and compared as a date with the
    /// identity's `yyyy/MM/dd` value.
    pub fn date(id: impl Into<String>, pattern: DatePattern) -> Self {
        Self {
            id: id.into(),
            kind: KbiFieldKind::Date(pattern),
        }
    }
}

/// How a KBI answer is compared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KbiFieldKind {
    /// Exact text comparison.
    Text,
    /// Date comparison; the answer is written in this pattern.
    Date(DatePattern),
}

/// A date pattern in the Java `DateTimeFormatter` notation eSignet's KBI configuration uses,
/// restricted to `yyyy`, `MM`, `dd` and literal separators (e.g. `yyyy-MM-dd`, `dd/MM/yyyy`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatePattern {
    pattern: String,
    tokens: Vec<DateToken>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DateToken {
    Year,
    Month,
    Day,
    Literal(char),
}

/// A date pattern outside the supported subset.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unsupported date pattern {pattern:?}: use yyyy, MM, dd and separators, each once")]
pub struct DatePatternError {
    /// The rejected pattern (configuration, not personal data).
    pub pattern: String,
}

impl DatePattern {
    /// `yyyy-MM-dd`, eSignet's default KBI date format.
    pub const ISO: &'static str = "yyyy-MM-dd";

    /// Parses `pattern`. Fails unless it contains each of `yyyy`, `MM` and `dd` exactly once and
    /// otherwise only non-letter separators.
    pub fn parse(pattern: &str) -> Result<Self, DatePatternError> {
        let error = || DatePatternError {
            pattern: pattern.to_owned(),
        };
        let mut tokens = Vec::new();
        let mut rest = pattern;
        while let Some(next) = rest.chars().next() {
            let (token, width) = if rest.starts_with("yyyy") {
                (DateToken::Year, 4)
            } else if rest.starts_with("MM") {
                (DateToken::Month, 2)
            } else if rest.starts_with("dd") {
                (DateToken::Day, 2)
            } else if next.is_alphabetic() {
                return Err(error());
            } else {
                (DateToken::Literal(next), next.len_utf8())
            };
            tokens.push(token);
            rest = &rest[width..];
        }
        let count = |wanted: DateToken| tokens.iter().filter(|token| **token == wanted).count();
        if [DateToken::Year, DateToken::Month, DateToken::Day]
            .into_iter()
            .any(|token| count(token) != 1)
        {
            return Err(error());
        }
        Ok(Self {
            pattern: pattern.to_owned(),
            tokens,
        })
    }

    /// The pattern as configured.
    pub fn as_str(&self) -> &str {
        &self.pattern
    }

    /// Parses `input` written in this pattern; `None` unless it matches exactly and names a real
    /// calendar date.
    pub fn parse_date(&self, input: &str) -> Option<Date> {
        let mut rest = input;
        let (mut year, mut month, mut day) = (None, None, None);
        for token in &self.tokens {
            match token {
                DateToken::Literal(expected) => {
                    rest = rest.strip_prefix(*expected)?;
                }
                DateToken::Year => year = Some(take_digits(&mut rest, 4)?),
                DateToken::Month => month = Some(take_digits(&mut rest, 2)?),
                DateToken::Day => day = Some(take_digits(&mut rest, 2)?),
            }
        }
        if !rest.is_empty() {
            return None;
        }
        let month = time::Month::try_from(u8::try_from(month?).ok()?).ok()?;
        let year = i32::try_from(year?).ok()?;
        Date::from_calendar_date(year, month, u8::try_from(day?).ok()?).ok()
    }
}

/// `yyyy-MM-dd`.
impl Default for DatePattern {
    fn default() -> Self {
        Self {
            pattern: Self::ISO.to_owned(),
            tokens: vec![
                DateToken::Year,
                DateToken::Literal('-'),
                DateToken::Month,
                DateToken::Literal('-'),
                DateToken::Day,
            ],
        }
    }
}

/// Reads exactly `width` ASCII digits from the front of `rest`.
fn take_digits(rest: &mut &str, width: usize) -> Option<u32> {
    let digits = rest.get(..width)?;
    if !digits.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    *rest = &rest[width..];
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;

    #[test]
    fn defaults_match_the_java_mock() {
        let settings = MockSettings::new("https://esignet.example/v1/esignet");
        assert_eq!(settings.otp, "111111");
        assert_eq!(settings.otp_channels, ["email", "phone"]);
        assert_eq!(settings.kyc_token_ttl, Duration::from_secs(180));
        assert_eq!(settings.otp_ttl, Duration::from_secs(600));
        assert_eq!(settings.psut_mode, PsutMode::Pairwise);
        assert_eq!(settings.default_language, "eng");
        let ids: Vec<&str> = settings.kbi_fields.iter().map(|f| f.id.as_str()).collect();
        assert_eq!(ids, ["phone", "email", "dateOfBirth"]);
        assert_eq!(
            settings.kbi_fields[2].kind,
            KbiFieldKind::Date(DatePattern::default())
        );
    }

    #[test]
    fn date_patterns_parse_matching_input_only() {
        let iso = DatePattern::parse("yyyy-MM-dd").unwrap();
        assert_eq!(iso.parse_date("1987-11-25"), Some(date!(1987 - 11 - 25)));
        assert_eq!(iso.parse_date("1987/11/25"), None);
        assert_eq!(iso.parse_date("1987-11-25x"), None);
        assert_eq!(iso.parse_date("1987-02-30"), None, "not a calendar date");
        assert_eq!(iso.parse_date("87-11-25"), None);

        let european = DatePattern::parse("dd/MM/yyyy").unwrap();
        assert_eq!(
            european.parse_date("25/11/1987"),
            Some(date!(1987 - 11 - 25))
        );
        assert_eq!(european.as_str(), "dd/MM/yyyy");
    }

    #[test]
    fn unsupported_patterns_are_rejected() {
        for pattern in [
            "yyyy-MM",
            "yyyy-MMM-dd",
            "yy-MM-dd",
            "yyyy-MM-dd-dd",
            "EEE yyyy-MM-dd",
            "",
        ] {
            assert!(DatePattern::parse(pattern).is_err(), "{pattern}");
        }
    }
}
