//! A deliberately tiny template language, enough for page shells and escaping by default:
//!
//! * `{{t:key}}`: the translation of `key` in the page's language, HTML-escaped;
//! * `{{name}}`: the variable `name`, HTML-escaped;
//! * `{{{name}}}`: the variable `name` as is (HTML the server built itself).
//!
//! Unknown variables render empty and are logged; tests render every page in every language
//! and check that nothing is left unresolved.

/// Escapes text for HTML element content and double-quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

/// Renders `template`: `translate` resolves `{{t:key}}`, `vars` the other placeholders.
pub fn render(template: &str, translate: &dyn Fn(&str) -> String, vars: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() + 1024);
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start..];
        let (raw, open, close) = if after.starts_with("{{{") {
            (true, 3, "}}}")
        } else {
            (false, 2, "}}")
        };
        let Some(end) = after[open..].find(close) else {
            // An unterminated placeholder is literal text.
            out.push_str(after);
            return out;
        };
        let token = after[open..open + end].trim();
        if let Some(key) = token.strip_prefix("t:").filter(|_| !raw) {
            out.push_str(&escape(&translate(key)));
        } else if let Some((_, value)) = vars.iter().find(|(name, _)| *name == token) {
            if raw {
                out.push_str(value);
            } else {
                out.push_str(&escape(value));
            }
        } else {
            tracing::warn!(placeholder = token, "unknown template placeholder");
        }
        rest = &after[open + end + close.len()..];
    }
    out.push_str(rest);
    out
}

/// The translation keys a template uses (`{{t:key}}`), for the completeness tests.
#[cfg(test)]
pub(crate) fn translation_keys(template: &str) -> Vec<String> {
    template
        .split("{{t:")
        .skip(1)
        .filter_map(|piece| piece.split_once("}}").map(|(key, _)| key.trim().to_owned()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_escaped_unless_raw() {
        let translate = |key: &str| format!("<{key}>");
        let html = render(
            "<p title=\"{{name}}\">{{t:greeting}} {{{html}}} {{missing}}</p>{{ unterminated",
            &translate,
            &[("name", "a\"b'c"), ("html", "<b>x</b>")],
        );
        assert_eq!(
            html,
            "<p title=\"a&quot;b&#39;c\">&lt;greeting&gt; <b>x</b> </p>{{ unterminated"
        );
    }

    #[test]
    fn finds_translation_keys() {
        assert_eq!(
            translation_keys("{{t:a.b}} x {{t: c }} {{d}}"),
            vec!["a.b".to_owned(), "c".to_owned()]
        );
    }
}
