//! Cookies and the double-submit CSRF check of the signup API.

use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;

use crate::crypto::constant_time_eq;

/// The CSRF cookie (shared with the login pages' API: one origin, one token).
pub const CSRF_COOKIE: &str = "XSRF-TOKEN";
/// The CSRF header.
pub const CSRF_HEADER: &str = "X-XSRF-TOKEN";
/// Challenge transaction cookie.
pub const TRANSACTION_ID: &str = "TRANSACTION_ID";
/// Verified transaction cookie.
pub const VERIFIED_TRANSACTION_ID: &str = "VERIFIED_TRANSACTION_ID";

/// The value of cookie `name` in the request.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
        .filter(|value| !value.is_empty())
}

/// Whether the request echoes its CSRF cookie in the header.
pub fn csrf_ok(headers: &HeaderMap) -> bool {
    let sent = headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
    match (cookie(headers, CSRF_COOKIE), sent) {
        (Some(cookie), Some(sent)) => constant_time_eq(cookie, sent),
        _ => false,
    }
}

/// Adds `Set-Cookie: name=value` (HttpOnly, Path=/, SameSite=Lax, Secure on https) with
/// `max_age` seconds; a `max_age` of 0 deletes the cookie.
pub fn set_cookie(response: &mut Response, name: &str, value: &str, max_age: u64, secure: bool) {
    let secure = if secure { "; Secure" } else { "" };
    let text = format!("{name}={value}; Max-Age={max_age}; Path=/; HttpOnly; SameSite=Lax{secure}");
    if let Ok(value) = HeaderValue::from_str(&text) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}
