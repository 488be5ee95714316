//! Scope validation and the claims each OpenID scope implies (eSignet §8.2, with 1.8's
//! `address` scope).

use crate::codes;
use crate::error::{Error, Result};

/// A validated `scope` parameter, split by kind. Unknown scopes are dropped (eSignet ignores
/// them, as RFC 6749 §3.3 allows).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ScopeSet {
    /// OpenID Connect scopes (`openid`, `profile`, ...), in request order.
    pub openid: Vec<String>,
    /// Authorize scopes the resident will be asked to permit (`Manage-VID`, ...).
    pub authorize: Vec<String>,
}

impl ScopeSet {
    /// Whether `openid` was requested.
    pub fn has_openid(&self) -> bool {
        self.openid.iter().any(|scope| scope == "openid")
    }
}

/// Parses and validates a space-separated scope string against the configured scope lists.
///
/// Valid iff at least one known scope is present and any OpenID-family scope comes with `openid`.
pub fn parse(
    scope: &str,
    openid_scopes: &[String],
    authorize_scopes: &[String],
) -> Result<ScopeSet> {
    let mut set = ScopeSet::default();
    for scope in scope.split(' ').filter(|s| !s.is_empty()) {
        if openid_scopes.iter().any(|known| known == scope) {
            if !set.openid.iter().any(|s| s == scope) {
                set.openid.push(scope.to_owned());
            }
        } else if authorize_scopes.iter().any(|known| known == scope)
            && !set.authorize.iter().any(|s| s == scope)
        {
            set.authorize.push(scope.to_owned());
        }
    }
    if set.openid.is_empty() && set.authorize.is_empty() {
        return Err(Error::code(codes::INVALID_SCOPE));
    }
    if !set.openid.is_empty() && !set.has_openid() {
        return Err(Error::code(codes::INVALID_SCOPE));
    }
    Ok(set)
}

/// The claims an OpenID scope implies (only those the client registered are used).
pub fn implied_claims(scope: &str) -> &'static [&'static str] {
    match scope {
        "profile" => &[
            "name",
            "given_name",
            "family_name",
            "middle_name",
            "nickname",
            "preferred_username",
            "address",
            "gender",
            "birthdate",
            "picture",
            "email",
            "phone_number",
            "phone_number_verified",
            "locale",
            "zoneinfo",
            "registration_type",
            "updated_at",
        ],
        "email" => &["email", "email_verified"],
        "phone" => &["phone_number", "phone_number_verified"],
        "address" => &["address"],
        _ => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lists() -> (Vec<String>, Vec<String>) {
        (
            ["openid", "profile", "email", "phone", "address"]
                .map(String::from)
                .to_vec(),
            ["Manage-VID"].map(String::from).to_vec(),
        )
    }

    #[test]
    fn splits_and_ignores_unknown() {
        let (o, a) = lists();
        let set = parse("openid profile unknown Manage-VID profile", &o, &a).unwrap();
        assert_eq!(set.openid, vec!["openid", "profile"]);
        assert_eq!(set.authorize, vec!["Manage-VID"]);
    }

    #[test]
    fn rejects_empty_and_openid_family_without_openid() {
        let (o, a) = lists();
        assert_eq!(
            parse("unknown", &o, &a),
            Err(Error::code(codes::INVALID_SCOPE))
        );
        assert_eq!(parse("", &o, &a), Err(Error::code(codes::INVALID_SCOPE)));
        assert_eq!(
            parse("profile", &o, &a),
            Err(Error::code(codes::INVALID_SCOPE))
        );
        assert!(parse("Manage-VID", &o, &a).is_ok());
    }
}
