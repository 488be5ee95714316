//! Just enough URL handling for the pages: lenient query parsing (a malformed query must still
//! render a page, never a 400) and query building for the language links.

/// Decodes one `application/x-www-form-urlencoded` component: `+` is a space, `%XX` a byte;
/// invalid escapes are kept literally and invalid UTF-8 is replaced.
pub(crate) fn decode_component(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(high), Some(low)) => {
                    out.push(high << 4 | low);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    }
}

/// Percent-encodes a query component (everything but RFC 3986 unreserved characters).
pub(crate) fn encode_component(text: &str) -> String {
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

/// The decoded `name=value` pairs of a query string, in order (a bare `name` has an empty
/// value; empty pieces are skipped).
pub(crate) fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|piece| !piece.is_empty())
        .map(|piece| {
            let (name, value) = piece.split_once('=').unwrap_or((piece, ""));
            (decode_component(name), decode_component(value))
        })
        .collect()
}

/// The first value of `name`.
pub(crate) fn query_value<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
}

/// `pairs` with `name` set to `value` (replacing every earlier occurrence), encoded as a query
/// string without the leading `?`.
pub(crate) fn with_param(pairs: &[(String, String)], name: &str, value: &str) -> String {
    pairs
        .iter()
        .filter(|(key, _)| key != name)
        .map(|(key, val)| (key.as_str(), val.as_str()))
        .chain(std::iter::once((name, value)))
        .map(|(key, val)| format!("{}={}", encode_component(key), encode_component(val)))
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoding_is_lenient() {
        assert_eq!(decode_component("a+b%20c"), "a b c");
        assert_eq!(decode_component("%E0%A4%B9"), "ह");
        assert_eq!(decode_component("100%"), "100%");
        assert_eq!(decode_component("%zz%4"), "%zz%4");
        assert_eq!(decode_component("%ff"), "\u{fffd}");
    }

    #[test]
    fn queries_round_trip() {
        let pairs = parse_query("client_id=abc&scope=openid+profile&&flag&ui_locales=fr");
        assert_eq!(query_value(&pairs, "scope"), Some("openid profile"));
        assert_eq!(query_value(&pairs, "flag"), Some(""));
        let rebuilt = with_param(&pairs, "ui_locales", "ar");
        assert_eq!(
            rebuilt,
            "client_id=abc&scope=openid%20profile&flag=&ui_locales=ar"
        );
        assert_eq!(parse_query(&rebuilt)[1].1, "openid profile");
    }
}
