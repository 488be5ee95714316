//! Redirect URI registration patterns, matched the way eSignet matches them (Spring's
//! AntPathMatcher over the whole URL with `/` as separator): `?` is one character, `*` any
//! characters within one segment, `**` any number of whole segments.

/// Whether `uri` is a syntactically valid absolute URL (any scheme, local hosts allowed).
pub fn is_valid_uri(uri: &str) -> bool {
    !uri.trim().is_empty() && uri.len() <= 2048 && url::Url::parse(uri).is_ok()
}

/// Whether `requested` matches one of the `registered` patterns.
pub fn matches_any(registered: &[String], requested: &str) -> bool {
    is_valid_uri(requested)
        && registered
            .iter()
            .any(|pattern| matches_pattern(pattern, requested))
}

/// Whether `uri` matches one registered `pattern`.
pub fn matches_pattern(pattern: &str, uri: &str) -> bool {
    if !pattern.contains(['*', '?']) {
        return pattern == uri;
    }
    let pattern_segments: Vec<&str> = pattern.split('/').collect();
    let uri_segments: Vec<&str> = uri.split('/').collect();
    match_segments(&pattern_segments, &uri_segments)
}

fn match_segments(pattern: &[&str], uri: &[&str]) -> bool {
    match pattern.split_first() {
        None => uri.is_empty(),
        Some((&"**", rest)) => (0..=uri.len()).any(|skip| match_segments(rest, &uri[skip..])),
        Some((first, rest)) => match uri.split_first() {
            Some((segment, uri_rest)) => {
                match_within_segment(first.as_bytes(), segment.as_bytes())
                    && match_segments(rest, uri_rest)
            }
            None => false,
        },
    }
}

/// Glob match of one segment: `*` any run of characters, `?` exactly one.
fn match_within_segment(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut backtrack: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == b'?' || pattern[p] == text[t]) {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == b'*' {
            backtrack = Some((p, t));
            p += 1;
        } else if let Some((star, matched)) = backtrack {
            p = star + 1;
            t = matched + 1;
            backtrack = Some((star, matched + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_registration_matches_only_itself() {
        let registered = vec!["https://rp.example/callback".to_owned()];
        assert!(matches_any(&registered, "https://rp.example/callback"));
        assert!(!matches_any(&registered, "https://rp.example/callback/"));
        assert!(!matches_any(&registered, "https://rp.example/callbackx"));
        assert!(!matches_any(&registered, "https://evil.example/callback"));
    }

    #[test]
    fn double_star_spans_segments() {
        let registered = vec!["http://localhost:5000/**".to_owned()];
        assert!(matches_any(
            &registered,
            "http://localhost:5000/userprofile"
        ));
        assert!(matches_any(&registered, "http://localhost:5000/a/b/c"));
        assert!(matches_any(&registered, "http://localhost:5000"));
        assert!(!matches_any(&registered, "http://localhost:5001/a"));
        assert!(!matches_any(
            &registered,
            "http://localhost:5000.evil.example/a"
        ));
    }

    #[test]
    fn single_star_stays_in_one_segment() {
        let registered = vec!["http://localhost:3000/registration/*".to_owned()];
        assert!(matches_any(
            &registered,
            "http://localhost:3000/registration/done"
        ));
        assert!(!matches_any(
            &registered,
            "http://localhost:3000/registration/a/b"
        ));
        assert!(matches_pattern(
            "https://rp.example/cb?",
            "https://rp.example/cb1"
        ));
        assert!(!matches_pattern(
            "https://rp.example/cb?",
            "https://rp.example/cb12"
        ));
        assert!(matches_pattern(
            "https://*.example/cb",
            "https://rp.example/cb"
        ));
    }

    #[test]
    fn invalid_requested_uri_never_matches() {
        let registered = vec!["**".to_owned()];
        assert!(!matches_any(&registered, "not a url"));
        assert!(!matches_any(&registered, ""));
    }
}
