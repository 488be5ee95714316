//! The embedded scripts and the stylesheet, served under
//! `<mount>/assets/<version>/<name>`. The version is a fingerprint of every asset together, so
//! the modules import each other by plain relative names (`./signup.js`) and any change gives
//! every file a new URL: immutable caching without rewriting imports.

use std::collections::HashMap;

use axum::body::Bytes;

/// The scripts, by logical name.
const SCRIPTS: &[(&str, &str)] = &[
    ("signup.js", include_str!("../assets/signup.js")),
    ("landing.js", include_str!("../assets/landing.js")),
    ("otp.js", include_str!("../assets/otp.js")),
    ("form.js", include_str!("../assets/form.js")),
    ("register.js", include_str!("../assets/register.js")),
    ("reset.js", include_str!("../assets/reset.js")),
    ("stomp.js", include_str!("../assets/stomp.js")),
    ("verify.js", include_str!("../assets/verify.js")),
];

/// The signup pages' additions to the login pages' stylesheet.
const SIGNUP_CSS: &str = include_str!("../assets/signup.css");

/// One servable asset.
#[derive(Debug, Clone)]
pub(crate) struct Asset {
    pub content_type: &'static str,
    pub body: Bytes,
}

/// The asset table of one configuration (the theme is part of the stylesheet).
#[derive(Debug)]
pub(crate) struct Assets {
    /// The fingerprint directory.
    pub version: String,
    files: HashMap<&'static str, Asset>,
}

impl Assets {
    /// Builds the table: the stylesheet is the theme, the login pages' stylesheet and ours.
    pub(crate) fn build(primary: &str, secondary: &str) -> Self {
        let css = format!(
            "{}\n{}\n{SIGNUP_CSS}",
            esignet_ui::shared::theme_css(primary, secondary),
            esignet_ui::shared::STYLESHEET
        );
        let mut hash = fnv1a(0xcbf2_9ce4_8422_2325, css.as_bytes());
        let mut files = HashMap::new();
        for (name, body) in SCRIPTS {
            hash = fnv1a(hash, name.as_bytes());
            hash = fnv1a(hash, body.as_bytes());
            files.insert(
                *name,
                Asset {
                    content_type: "text/javascript; charset=utf-8",
                    body: Bytes::from_static(body.as_bytes()),
                },
            );
        }
        files.insert(
            "signup.css",
            Asset {
                content_type: "text/css; charset=utf-8",
                body: Bytes::from(css),
            },
        );
        Self {
            version: format!("{:010x}", hash >> 24),
            files,
        }
    }

    /// The asset `name` (`register.js`).
    pub(crate) fn get(&self, name: &str) -> Option<&Asset> {
        self.files.get(name)
    }

    /// The relative module names `name` imports (`"./x.js"` literals), directly or not.
    pub(crate) fn closure(name: &str) -> Vec<&'static str> {
        let mut out: Vec<&'static str> = Vec::new();
        let mut stack = vec![name.to_owned()];
        while let Some(current) = stack.pop() {
            let Some((_, body)) = SCRIPTS.iter().find(|(n, _)| *n == current) else {
                continue;
            };
            for piece in body.split("\"./").skip(1) {
                let Some((dep, _)) = piece.split_once('"') else {
                    continue;
                };
                if let Some((known, _)) = SCRIPTS.iter().find(|(n, _)| *n == dep)
                    && !out.contains(known)
                    && *known != name
                {
                    out.push(known);
                    stack.push((*known).to_owned());
                }
            }
        }
        out
    }

    /// Every logical script name, for the tests.
    #[cfg(test)]
    pub(crate) fn script_names() -> impl Iterator<Item = &'static str> {
        SCRIPTS.iter().map(|(name, _)| *name)
    }

    /// The source of script `name`, for the translation tests.
    #[cfg(test)]
    pub(crate) fn script_source(name: &str) -> &'static str {
        SCRIPTS
            .iter()
            .find(|(n, _)| *n == name)
            .map_or("", |(_, body)| body)
    }
}

/// 64-bit FNV-1a, continued from `hash`: a cache-busting fingerprint, not a security boundary.
fn fnv1a(hash: u64, bytes: &[u8]) -> u64 {
    bytes.iter().fold(hash, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_import_is_served_and_the_version_follows_the_theme() {
        let assets = Assets::build("#0b5cad", "#eef3f9");
        for name in Assets::script_names() {
            for dep in Assets::closure(name) {
                assert!(assets.get(dep).is_some(), "{name} imports unknown {dep}");
            }
        }
        assert!(Assets::closure("register.js").contains(&"signup.js"));
        assert_ne!(
            assets.version,
            Assets::build("#123456", "#eef3f9").version,
            "a theme change must change the asset URLs"
        );
    }
}
