//! The static assets: embedded scripts and the stylesheet, served under content-hashed names
//! (`/ui/assets/login.3f9a0c2b7e.js`) so they can be cached forever.
//!
//! The scripts are ES modules that import each other by plain relative names
//! (`import { t } from "./common.js"`). When the table is built those specifiers are rewritten
//! to the hashed names, dependencies first, so a module's hash covers everything it loads: a
//! change anywhere gives every dependent a new name. That rewrite is the whole "build step".

use std::collections::HashMap;

use axum::body::Bytes;

/// URL prefix of the assets.
pub(crate) const PREFIX: &str = "/ui/assets/";

/// An embedded source file.
struct Source {
    name: &'static str,
    body: &'static str,
}

/// Every embedded asset except the stylesheet, which gets the theme prepended.
const SCRIPTS: &[Source] = &[
    Source {
        name: "common.js",
        body: include_str!("../assets/common.js"),
    },
    Source {
        name: "authorize.js",
        body: include_str!("../assets/authorize.js"),
    },
    Source {
        name: "login.js",
        body: include_str!("../assets/login.js"),
    },
    Source {
        name: "forms.js",
        body: include_str!("../assets/forms.js"),
    },
    Source {
        name: "bio.js",
        body: include_str!("../assets/bio.js"),
    },
    Source {
        name: "wallet.js",
        body: include_str!("../assets/wallet.js"),
    },
    Source {
        name: "qr.js",
        body: include_str!("../assets/qr.js"),
    },
    Source {
        name: "captcha.js",
        body: include_str!("../assets/captcha.js"),
    },
    // esignet-captcha's proof-of-work solver. It starts a module worker from its own URL, so
    // the worker is this same hashed, same-origin file (allowed by `script-src 'self'`).
    Source {
        name: "captcha-pow.js",
        body: esignet_captcha::POW_SOLVER_JS,
    },
    Source {
        name: "claims.js",
        body: include_str!("../assets/claims.js"),
    },
    Source {
        name: "consent.js",
        body: include_str!("../assets/consent.js"),
    },
    Source {
        name: "status.js",
        body: include_str!("../assets/status.js"),
    },
];

/// The stylesheet without the theme variables.
pub(crate) const STYLESHEET: &str = include_str!("../assets/app.css");

/// One servable asset.
#[derive(Debug, Clone)]
pub(crate) struct Asset {
    /// `text/javascript; charset=utf-8` or `text/css; charset=utf-8`.
    pub content_type: &'static str,
    /// The bytes served.
    pub body: Bytes,
}

/// The asset table: logical name (`login.js`) → hashed URL, hashed file name → asset.
#[derive(Debug, Default)]
pub(crate) struct Assets {
    urls: HashMap<&'static str, String>,
    files: HashMap<String, Asset>,
}

impl Assets {
    /// Builds the table; `theme_css` (custom properties from configuration) is prepended to
    /// the stylesheet so a page needs one stylesheet request.
    pub(crate) fn build(theme_css: &str) -> Self {
        let mut assets = Self::default();
        let css = format!("{theme_css}\n{STYLESHEET}");
        assets.insert("app.css", "text/css; charset=utf-8", css);
        let mut resolved: HashMap<&'static str, String> = HashMap::new();
        for source in SCRIPTS {
            assets.resolve_script(source, &mut resolved, &mut Vec::new());
        }
        assets
    }

    /// Rewrites `source`'s imports (after resolving the imported modules) and inserts it.
    /// A cycle (which the modules do not have; a test checks) leaves the inner reference
    /// unhashed rather than looping.
    fn resolve_script(
        &mut self,
        source: &Source,
        resolved: &mut HashMap<&'static str, String>,
        visiting: &mut Vec<&'static str>,
    ) {
        if resolved.contains_key(source.name) || visiting.contains(&source.name) {
            return;
        }
        visiting.push(source.name);
        let mut body = source.body.to_owned();
        for dependency in imports(source.body) {
            let Some(dep) = SCRIPTS.iter().find(|s| s.name == dependency) else {
                continue;
            };
            self.resolve_script(dep, resolved, visiting);
            if let Some(file) = resolved.get(dep.name) {
                body = body.replace(&format!("\"./{}\"", dep.name), &format!("\"./{file}\""));
            }
        }
        visiting.pop();
        let file = self.insert(source.name, "text/javascript; charset=utf-8", body);
        resolved.insert(source.name, file);
    }

    /// Inserts an asset under its hashed name; returns that file name.
    fn insert(&mut self, name: &'static str, content_type: &'static str, body: String) -> String {
        let (stem, extension) = name.rsplit_once('.').unwrap_or((name, ""));
        let file = format!("{stem}.{:010x}.{extension}", fnv1a(body.as_bytes()) >> 24);
        self.urls.insert(name, format!("{PREFIX}{file}"));
        self.files.insert(
            file.clone(),
            Asset {
                content_type,
                body: Bytes::from(body),
            },
        );
        file
    }

    /// The URL of logical asset `name` (`login.js`), or an empty string for an unknown name
    /// (a test renders every page and checks that every reference resolves).
    pub(crate) fn url(&self, name: &str) -> &str {
        self.urls.get(name).map_or("", String::as_str)
    }

    /// The asset with hashed file name `file`.
    pub(crate) fn get(&self, file: &str) -> Option<&Asset> {
        self.files.get(file)
    }

    /// The logical names of the modules `name` imports, directly or not (static and dynamic
    /// imports), for the translation tests.
    #[cfg(test)]
    pub(crate) fn module_closure(name: &str) -> Vec<&'static str> {
        let mut out: Vec<&'static str> = Vec::new();
        let mut stack = vec![name.to_owned()];
        while let Some(current) = stack.pop() {
            let Some(source) = SCRIPTS.iter().find(|s| s.name == current) else {
                continue;
            };
            for dependency in imports(source.body) {
                if let Some(dep) = SCRIPTS.iter().find(|s| s.name == dependency)
                    && !out.contains(&dep.name)
                    && dep.name != name
                {
                    out.push(dep.name);
                    stack.push(dep.name.to_owned());
                }
            }
        }
        out
    }

    /// The modules `name` imports statically (`import ... from`), directly or not: the ones
    /// worth a `modulepreload` hint.
    pub(crate) fn static_closure(name: &str) -> Vec<&'static str> {
        let mut out: Vec<&'static str> = Vec::new();
        let mut stack = vec![name.to_owned()];
        while let Some(current) = stack.pop() {
            let Some(source) = SCRIPTS.iter().find(|s| s.name == current) else {
                continue;
            };
            for dependency in static_imports(source.body) {
                if let Some(dep) = SCRIPTS.iter().find(|s| s.name == dependency)
                    && !out.contains(&dep.name)
                {
                    out.push(dep.name);
                    stack.push(dep.name.to_owned());
                }
            }
        }
        out
    }
}

/// The module names a script imports, statically or dynamically: every `"./name.js"` string
/// literal (the modules use no other relative specifiers).
fn imports(body: &str) -> Vec<&str> {
    body.split("\"./")
        .skip(1)
        .filter_map(|piece| piece.split_once('"').map(|(name, _)| name))
        .filter(|name| name.ends_with(".js") && !name.contains('/'))
        .collect()
}

/// The module names of `from "./name.js"` clauses only (static imports).
fn static_imports(body: &str) -> Vec<&str> {
    body.split("from \"./")
        .skip(1)
        .filter_map(|piece| piece.split_once('"').map(|(name, _)| name))
        .filter(|name| name.ends_with(".js"))
        .collect()
}

/// 64-bit FNV-1a: a cache-busting fingerprint, not a security boundary.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The theme as CSS custom properties. Colours arrive validated (`#rgb` / `#rrggbb`);
/// anything else falls back to the defaults rather than reaching the stylesheet.
pub fn theme_css(primary: &str, secondary: &str) -> String {
    let primary = Rgb::parse(primary).unwrap_or(Rgb(0x0b, 0x5c, 0xad));
    let secondary = Rgb::parse(secondary).unwrap_or(Rgb(0xee, 0xf3, 0xf9));
    let on_secondary = secondary.readable_text();
    format!(
        ":root{{--primary:{};--on-primary:{};--secondary:{};--on-secondary:{}}}",
        primary.hex(),
        primary.readable_text().hex(),
        secondary.hex(),
        on_secondary.hex()
    )
}

/// An sRGB colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rgb(u8, u8, u8);

impl Rgb {
    /// Parses `#rgb` or `#rrggbb`.
    pub(crate) fn parse(text: &str) -> Option<Self> {
        let hex = text.trim().strip_prefix('#')?;
        if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let channel = |s: &str| u8::from_str_radix(s, 16).ok();
        match hex.len() {
            3 => {
                let d: Vec<String> = hex.chars().map(|c| format!("{c}{c}")).collect();
                Some(Self(channel(&d[0])?, channel(&d[1])?, channel(&d[2])?))
            }
            6 => Some(Self(
                channel(&hex[0..2])?,
                channel(&hex[2..4])?,
                channel(&hex[4..6])?,
            )),
            _ => None,
        }
    }

    fn hex(self) -> String {
        format!("#{:02x}{:02x}{:02x}", self.0, self.1, self.2)
    }

    /// WCAG 2 relative luminance.
    pub(crate) fn luminance(self) -> f64 {
        let linear = |c: u8| {
            let c = f64::from(c) / 255.0;
            if c <= 0.039_28 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * linear(self.0) + 0.7152 * linear(self.1) + 0.0722 * linear(self.2)
    }

    /// WCAG 2 contrast ratio with `other` (1 to 21).
    pub(crate) fn contrast(self, other: Self) -> f64 {
        let (a, b) = (self.luminance(), other.luminance());
        (a.max(b) + 0.05) / (a.min(b) + 0.05)
    }

    /// Black or white, whichever contrasts more with this colour.
    fn readable_text(self) -> Self {
        let (black, white) = (Self(0x11, 0x18, 0x27), Self(0xff, 0xff, 0xff));
        if self.contrast(black) >= self.contrast(white) {
            black
        } else {
            white
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imports_are_rewritten_to_hashed_names() {
        let assets = Assets::build(&theme_css("#0b5cad", "#eef3f9"));
        let login_url = assets.url("login.js");
        let common_url = assets.url("common.js");
        assert!(login_url.starts_with("/ui/assets/login.") && login_url.ends_with(".js"));
        let login = assets.get(login_url.trim_start_matches(PREFIX)).unwrap();
        let text = std::str::from_utf8(&login.body).unwrap();
        let common_file = common_url.trim_start_matches(PREFIX);
        assert!(
            text.contains(&format!("\"./{common_file}\"")),
            "{text:.300}"
        );
        assert!(!text.contains("\"./common.js\""));
        // Every module reference in every script resolves to a served file.
        for source in SCRIPTS {
            let file = assets
                .url(source.name)
                .trim_start_matches(PREFIX)
                .to_owned();
            let body = std::str::from_utf8(&assets.get(&file).unwrap().body)
                .unwrap()
                .to_owned();
            for referenced in imports(&body) {
                assert!(
                    assets.get(referenced).is_some(),
                    "{} imports unknown {referenced}",
                    source.name
                );
            }
        }
    }

    #[test]
    fn module_graph_has_no_cycles() {
        for source in SCRIPTS {
            assert!(
                !Assets::module_closure(source.name).contains(&source.name),
                "{} imports itself",
                source.name
            );
        }
    }

    #[test]
    fn theme_colours_and_contrast() {
        assert_eq!(Rgb::parse("#abc"), Some(Rgb(0xaa, 0xbb, 0xcc)));
        assert_eq!(Rgb::parse("#0B5CAD"), Some(Rgb(0x0b, 0x5c, 0xad)));
        assert_eq!(Rgb::parse("0b5cad"), None);
        assert_eq!(Rgb::parse("#0b5cag"), None);
        let white = Rgb(255, 255, 255);
        assert!((Rgb(0, 0, 0).contrast(white) - 21.0).abs() < 0.01);
        // The default brand colour carries white text at WCAG AA.
        assert!(Rgb(0x0b, 0x5c, 0xad).contrast(white) >= 4.5);
        let css = theme_css("#0b5cad", "#eef3f9");
        assert!(css.contains("--on-primary:#ffffff") && css.contains("--on-secondary:#111827"));
        // Invalid values never reach the stylesheet.
        assert!(!theme_css("red;}", "x").contains("red"));
    }
}
