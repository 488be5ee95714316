//! Why a sign-in failed, in a form the error page can show to a person.

use axum::http::StatusCode;

/// A failed step of a sign-in.
///
/// `code` is an OAuth / eSignet error code, either the provider's own (`access_denied`,
/// `invalid_grant`, ...) or one of ours (`invalid_state`, `invalid_issuer`, `invalid_id_token`,
/// ...); `description` is the provider's `error_description` or our explanation. Both may come
/// from outside: they are HTML-escaped when shown and only a sanitised `code` is ever logged.
/// Nothing in here carries a token, a key or a claim value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LoginError {
    /// The HTTP status of the error page.
    pub status: StatusCode,
    /// One sentence, written by us, saying which step failed.
    pub summary: &'static str,
    /// The error code.
    pub code: String,
    /// More detail, when there is any.
    pub description: Option<String>,
}

/// The longest provider-supplied string we keep (codes and descriptions are short in practice;
/// the bound stops a hostile provider from making us echo megabytes into a page).
const MAX_TEXT_LEN: usize = 500;

impl LoginError {
    /// An error with our own code and explanation.
    pub fn local(status: StatusCode, summary: &'static str, code: &str, description: &str) -> Self {
        Self {
            status,
            summary,
            code: code.to_owned(),
            description: Some(description.to_owned()),
        }
    }

    /// An error reported by the provider (its `error` and `error_description`), shown as given.
    pub fn from_provider(
        status: StatusCode,
        summary: &'static str,
        code: &str,
        description: Option<&str>,
    ) -> Self {
        Self {
            status,
            summary,
            code: truncate(code),
            description: description.filter(|text| !text.is_empty()).map(truncate),
        }
    }

    /// The provider could not be reached, or answered something that is not OAuth.
    pub fn unreachable(what: &str) -> Self {
        Self::local(
            StatusCode::BAD_GATEWAY,
            "The identity provider could not be reached.",
            "provider_unavailable",
            what,
        )
    }

    /// The code in a form safe to put in a log line: OAuth codes are short ASCII words, anything
    /// else is replaced rather than logged.
    pub fn loggable_code(&self) -> &str {
        let safe = !self.code.is_empty()
            && self.code.len() <= 64
            && self
                .code
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'-' | b'.'));
        if safe { &self.code } else { "(unprintable)" }
    }
}

/// At most [`MAX_TEXT_LEN`] bytes of `text`, cut at a character boundary.
fn truncate(text: &str) -> String {
    if text.len() <= MAX_TEXT_LEN {
        return text.to_owned();
    }
    let mut end = MAX_TEXT_LEN;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_text_is_bounded_and_codes_are_sanitised_for_logs() {
        let long = "é".repeat(400);
        let error = LoginError::from_provider(StatusCode::BAD_REQUEST, "x", "a b", Some(&long));
        let description = error.description.clone().unwrap();
        assert!(description.len() <= MAX_TEXT_LEN + '…'.len_utf8());
        assert!(description.ends_with('…'));
        assert_eq!(error.loggable_code(), "(unprintable)");
        let error = LoginError::from_provider(StatusCode::BAD_REQUEST, "x", "access_denied", None);
        assert_eq!(error.loggable_code(), "access_denied");
        assert_eq!(error.description, None);
    }
}
