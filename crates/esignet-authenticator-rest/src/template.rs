//! Request templates: URL and JSON body templates with `{placeholder}`s, and JSON pointers.
//!
//! A value is substituted where it cannot change the request's structure: percent-encoded in a
//! URL (so it stays inside its path segment or query value), and as JSON string content in a
//! body (the body template is parsed as JSON first and only its strings are filled, so quotes
//! or braces in a challenge stay data). `{{` and `}}` are literal braces.

use serde_json::{Map, Value};
use url::Url;

/// A value a template can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placeholder {
    /// `{individual_id}`: the resident's identifier.
    IndividualId,
    /// `{transaction_id}`: the auth transaction id.
    TransactionId,
    /// `{factor}`: the auth factor type (`OTP`, `PIN` ...).
    Factor,
    /// `{challenge}`: the secret (OTP, PIN, password ...).
    Challenge,
    /// `{channels}`: the OTP channels; a JSON array when it is a whole body string, else
    /// comma-separated.
    Channels,
    /// `{relying_party_id}`.
    RelyingPartyId,
    /// `{client_id}`.
    ClientId,
}

impl Placeholder {
    /// Every placeholder.
    pub const ALL: &'static [Placeholder] = &[
        Self::IndividualId,
        Self::TransactionId,
        Self::Factor,
        Self::Challenge,
        Self::Channels,
        Self::RelyingPartyId,
        Self::ClientId,
    ];

    /// Those of the `authenticate` operation.
    pub const AUTHENTICATE: &'static [Placeholder] = &[
        Self::IndividualId,
        Self::TransactionId,
        Self::Factor,
        Self::Challenge,
        Self::RelyingPartyId,
        Self::ClientId,
    ];

    /// Those of the `send_otp` operation.
    pub const SEND_OTP: &'static [Placeholder] = &[
        Self::IndividualId,
        Self::TransactionId,
        Self::Channels,
        Self::RelyingPartyId,
        Self::ClientId,
    ];

    /// Those of the `user_info` operation.
    pub const USER_INFO: &'static [Placeholder] = &[
        Self::IndividualId,
        Self::TransactionId,
        Self::RelyingPartyId,
        Self::ClientId,
    ];

    /// The name between the braces.
    pub fn name(self) -> &'static str {
        match self {
            Self::IndividualId => "individual_id",
            Self::TransactionId => "transaction_id",
            Self::Factor => "factor",
            Self::Challenge => "challenge",
            Self::Channels => "channels",
            Self::RelyingPartyId => "relying_party_id",
            Self::ClientId => "client_id",
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|known| known.name() == name)
    }
}

/// The values of one call.
#[derive(Debug, Default, Clone)]
pub(crate) struct Values<'a> {
    pub individual_id: &'a str,
    pub transaction_id: &'a str,
    pub factor: &'a str,
    pub challenge: &'a str,
    pub channels: &'a [String],
    pub relying_party_id: &'a str,
    pub client_id: &'a str,
}

impl Values<'_> {
    fn text(&self, placeholder: Placeholder) -> String {
        match placeholder {
            Placeholder::IndividualId => self.individual_id.to_owned(),
            Placeholder::TransactionId => self.transaction_id.to_owned(),
            Placeholder::Factor => self.factor.to_owned(),
            Placeholder::Challenge => self.challenge.to_owned(),
            Placeholder::Channels => self.channels.join(","),
            Placeholder::RelyingPartyId => self.relying_party_id.to_owned(),
            Placeholder::ClientId => self.client_id.to_owned(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    Value(Placeholder),
}

/// Splits `text` into literal text and placeholders, each allowed by `allowed`.
fn pieces(text: &str, allowed: &[Placeholder]) -> Result<Vec<Piece>, String> {
    let mut out = Vec::new();
    let mut literal = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                literal.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                literal.push('}');
            }
            '{' => {
                let mut name = String::new();
                loop {
                    match chars.next() {
                        Some('}') => break,
                        Some(c) => name.push(c),
                        None => return Err("a `{` is not closed (write `{{` for a brace)".into()),
                    }
                }
                let placeholder = Placeholder::from_name(&name)
                    .ok_or_else(|| format!("unknown placeholder `{{{name}}}`"))?;
                if !allowed.contains(&placeholder) {
                    return Err(format!("placeholder `{{{name}}}` is not available here"));
                }
                if !literal.is_empty() {
                    out.push(Piece::Text(std::mem::take(&mut literal)));
                }
                out.push(Piece::Value(placeholder));
            }
            c => literal.push(c),
        }
    }
    if !literal.is_empty() {
        out.push(Piece::Text(literal));
    }
    Ok(out)
}

fn fill(pieces: &[Piece], values: &Values<'_>, encode: fn(&str) -> String) -> String {
    let mut out = String::new();
    for piece in pieces {
        match piece {
            Piece::Text(text) => out.push_str(text),
            Piece::Value(placeholder) => out.push_str(&encode(&values.text(*placeholder))),
        }
    }
    out
}

/// Percent-encodes everything but RFC 3986 unreserved characters, so a value can neither end
/// its path segment nor its query parameter.
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// A URL with placeholders in its path or query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlTemplate {
    pieces: Vec<Piece>,
}

impl UrlTemplate {
    /// Parses and checks `text`: known placeholders, an absolute `http(s)` URL with a host, and
    /// placeholders only where they cannot change the scheme, host or port.
    ///
    /// # Errors
    ///
    /// What is wrong with the template.
    pub fn parse(text: &str, allowed: &[Placeholder]) -> Result<Self, String> {
        let template = Self {
            pieces: pieces(text.trim(), allowed)?,
        };
        let sample = |value: &str| {
            let channels = [value.to_owned()];
            template.render_with(&Values {
                individual_id: value,
                transaction_id: value,
                factor: value,
                challenge: value,
                channels: &channels,
                relying_party_id: value,
                client_id: value,
            })
        };
        let first = sample("a")?;
        let second = sample("b.c")?;
        if first.origin() != second.origin() {
            return Err("placeholders may only appear in the path or query".into());
        }
        Ok(template)
    }

    fn render_with(&self, values: &Values<'_>) -> Result<Url, String> {
        let text = fill(&self.pieces, values, percent_encode);
        let url = Url::parse(&text).map_err(|_| "not an absolute URL".to_owned())?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err("the scheme must be http or https".into());
        }
        if url.host().is_none() {
            return Err("no host".into());
        }
        Ok(url)
    }

    /// The URL of one call.
    pub(crate) fn render(&self, values: &Values<'_>) -> Option<Url> {
        self.render_with(values).ok()
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Node {
    Literal(Value),
    Text(Vec<Piece>),
    Array(Vec<Node>),
    Object(Vec<(Vec<Piece>, Node)>),
}

/// A JSON body whose strings (member names included) may hold placeholders.
#[derive(Debug, Clone, PartialEq)]
pub struct BodyTemplate {
    root: Node,
}

impl BodyTemplate {
    /// Parses `text` as JSON and checks the placeholders of its strings.
    ///
    /// # Errors
    ///
    /// Not JSON, or an unknown or unavailable placeholder.
    pub fn parse(text: &str, allowed: &[Placeholder]) -> Result<Self, String> {
        let value: Value =
            serde_json::from_str(text).map_err(|error| format!("not a JSON template: {error}"))?;
        Ok(Self {
            root: node(value, allowed)?,
        })
    }

    /// The body of one call.
    pub(crate) fn render(&self, values: &Values<'_>) -> Value {
        render_node(&self.root, values)
    }
}

fn node(value: Value, allowed: &[Placeholder]) -> Result<Node, String> {
    Ok(match value {
        Value::String(text) => Node::Text(pieces(&text, allowed)?),
        Value::Array(items) => Node::Array(
            items
                .into_iter()
                .map(|item| node(item, allowed))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(members) => Node::Object(
            members
                .into_iter()
                .map(|(name, item)| Ok((pieces(&name, allowed)?, node(item, allowed)?)))
                .collect::<Result<_, String>>()?,
        ),
        literal => Node::Literal(literal),
    })
}

fn render_node(node: &Node, values: &Values<'_>) -> Value {
    match node {
        Node::Literal(value) => value.clone(),
        // A string that is only `{channels}` becomes the list itself.
        Node::Text(pieces) if pieces.as_slice() == [Piece::Value(Placeholder::Channels)] => {
            Value::from(values.channels.to_vec())
        }
        // The filled string is serialised by serde_json: quotes and backslashes are escaped.
        Node::Text(pieces) => Value::String(fill(pieces, values, str::to_owned)),
        Node::Array(items) => {
            Value::Array(items.iter().map(|item| render_node(item, values)).collect())
        }
        Node::Object(members) => Value::Object(
            members
                .iter()
                .map(|(name, item)| (fill(name, values, str::to_owned), render_node(item, values)))
                .collect::<Map<String, Value>>(),
        ),
    }
}

/// Checks a JSON pointer (RFC 6901): empty (the whole document) or `/`-separated tokens whose
/// `~` is followed by `0` or `1`.
///
/// # Errors
///
/// What is wrong with it.
pub fn check_pointer(pointer: &str) -> Result<(), String> {
    if !pointer.is_empty() && !pointer.starts_with('/') {
        return Err("a JSON pointer starts with `/` (e.g. `/contact/email`)".into());
    }
    if pointer
        .split('~')
        .skip(1)
        .any(|rest| !rest.starts_with('0') && !rest.starts_with('1'))
    {
        return Err("not a JSON pointer (`~` must be followed by 0 or 1)".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn values<'a>(challenge: &'a str, channels: &'a [String]) -> Values<'a> {
        Values {
            individual_id: "4711 / ?x=1&y",
            transaction_id: "t-1",
            factor: "OTP",
            challenge,
            channels,
            relying_party_id: "rp",
            client_id: "c",
        }
    }

    #[test]
    fn url_values_are_percent_encoded_inside_their_segment() {
        let template = UrlTemplate::parse(
            "http://id.example/people/{individual_id}?rp={relying_party_id}",
            Placeholder::USER_INFO,
        )
        .unwrap();
        let url = template.render(&values("", &[])).unwrap();
        assert_eq!(
            url.as_str(),
            "http://id.example/people/4711%20%2F%20%3Fx%3D1%26y?rp=rp"
        );
        assert_eq!(url.path_segments().unwrap().count(), 2);
    }

    #[test]
    fn bad_url_templates_are_explained() {
        for (text, expected) in [
            ("id.example/{individual_id}", "not an absolute URL"),
            ("ftp://id.example/x", "http or https"),
            ("http://id.example/{nope}", "unknown placeholder `{nope}`"),
            ("http://id.example/{challenge}", "not available here"),
            ("http://{individual_id}.example/", "path or query"),
            ("http://id.example/{individual_id", "not closed"),
        ] {
            let error = UrlTemplate::parse(text, Placeholder::USER_INFO).unwrap_err();
            assert!(error.contains(expected), "{text}: {error}");
        }
    }

    #[test]
    fn body_strings_are_filled_as_json_data() {
        let template = BodyTemplate::parse(
            r#"{"id": "{individual_id}", "otp": "{challenge}", "kind": "{factor}-{{x}}", "n": 1, "via": "{channels}", "{factor}": true}"#,
            Placeholder::ALL,
        )
        .unwrap();
        let channels = ["email".to_owned(), "phone".to_owned()];
        let body = template.render(&values(r#"1"},"admin":true,"x":"\"#, &channels));
        assert_eq!(
            body,
            json!({"id": "4711 / ?x=1&y", "otp": r#"1"},"admin":true,"x":"\"#,
                   "kind": "OTP-{x}", "n": 1, "via": ["email", "phone"], "OTP": true})
        );
        assert!(body.get("admin").is_none());
    }

    #[test]
    fn bad_body_templates_and_pointers_are_explained() {
        let error = BodyTemplate::parse("{\"id\": {individual_id}}", Placeholder::ALL).unwrap_err();
        assert!(error.contains("not a JSON template"), "{error}");
        let error =
            BodyTemplate::parse(r#"{"id": "{channels}"}"#, Placeholder::AUTHENTICATE).unwrap_err();
        assert!(error.contains("not available here"), "{error}");
        assert!(check_pointer("/contact/email").is_ok());
        assert!(check_pointer("/a~1b/~0").is_ok());
        assert!(
            check_pointer("contact.email")
                .unwrap_err()
                .contains("starts with")
        );
        assert!(check_pointer("/a~2").unwrap_err().contains("~"));
    }
}
