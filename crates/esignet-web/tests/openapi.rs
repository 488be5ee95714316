//! The OpenAPI document lists exactly the routes the routers declare.
//!
//! axum cannot enumerate a router's routes, so this reads the router declarations
//! (`.route("<path>", get(..).post(..))`) in the source of every crate whose router the
//! provider serves, and compares them with `esignet_web::openapi::ENDPOINTS` both ways. A new
//! route without its line in the table fails here, naming it.

// Helpers outside #[test] functions unwrap too: a failure there is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use esignet_web::openapi::{ENDPOINTS, Endpoint, SIGNUP_ENDPOINTS, document};

/// Routers served on other listeners, not part of the public API.
const NOT_PUBLIC: &[(&str, &str)] = &[("GET", "/metrics")];

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The Rust files whose routers the provider's public listener serves.
fn router_sources() -> Vec<PathBuf> {
    let mut files = vec![
        repo().join("crates/esignet-web/src/lib.rs"),
        repo().join("crates/esignet-ui/src/pages.rs"),
    ];
    let routes = repo().join("crates/esignet-web/src/routes");
    for entry in std::fs::read_dir(routes).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|ext| ext == "rs") {
            files.push(path);
        }
    }
    files
}

/// Every `(METHOD, path)` declared with `.route(...)` in `source`.
fn declared_routes(source: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut rest = source;
    while let Some(start) = rest.find(".route(") {
        rest = &rest[start + ".route(".len()..];
        let trimmed = rest.trim_start();
        let Some(literal) = trimmed.strip_prefix('"') else {
            panic!(
                "a route path that is not a string literal: {}",
                &trimmed[..40.min(trimmed.len())]
            );
        };
        let end = literal.find('"').unwrap();
        let path = literal[..end].to_owned();
        // The method router: up to the `)` closing `.route(`.
        let after = &literal[end + 1..];
        let mut depth = 1usize;
        let mut close = after.len();
        for (index, character) in after.char_indices() {
            match character {
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        close = index;
                        break;
                    }
                }
                _ => {}
            }
        }
        let method_router = &after[..close];
        for method in ["get", "post", "put", "patch", "delete"] {
            let mut search = method_router;
            while let Some(at) = search.find(&format!("{method}(")) {
                let before = search[..at].chars().last();
                if before.is_none_or(|c| !(c.is_alphanumeric() || c == '_')) {
                    found.push((method.to_ascii_uppercase(), path.clone()));
                    break;
                }
                search = &search[at + method.len()..];
            }
        }
        rest = &after[close..];
    }
    found
}

/// The `(METHOD, path)` routes declared in `files`.
fn declared_in(files: &[PathBuf]) -> BTreeSet<(String, String)> {
    let mut declared = BTreeSet::new();
    for file in files {
        let source = std::fs::read_to_string(file).unwrap();
        declared.extend(declared_routes(&source));
    }
    declared
}

/// Fails naming every route of `declared` missing from `table`, and every row of `table` no
/// router declares.
fn assert_same_routes(what: &str, declared: &BTreeSet<(String, String)>, table: &[Endpoint]) {
    let documented: BTreeSet<(String, String)> = table
        .iter()
        .map(|endpoint| (endpoint.method.to_owned(), endpoint.path.to_owned()))
        .collect();
    let missing: Vec<_> = declared.difference(&documented).collect();
    assert!(
        missing.is_empty(),
        "{what}: routes missing from the OpenAPI table (openapi.rs): {missing:?}"
    );
    let stale: Vec<_> = documented.difference(declared).collect();
    assert!(
        stale.is_empty(),
        "{what}: documented routes no router declares: {stale:?}"
    );
}

#[test]
fn every_route_is_documented_and_every_documented_route_exists() {
    let mut declared = declared_in(&router_sources());
    for (method, path) in NOT_PUBLIC {
        declared.remove(&((*method).to_owned(), (*path).to_owned()));
    }
    assert!(
        declared.len() > 40,
        "the scan found the routers: {declared:?}"
    );
    assert_same_routes("provider", &declared, ENDPOINTS);
}

#[test]
fn every_signup_route_is_documented_and_every_documented_one_exists() {
    // The Signup API and its pages are nested under their own paths; their tables hold the
    // paths relative to those mounts, as the routers declare them.
    let declared = declared_in(&[
        repo().join("crates/esignet-signup/src/lib.rs"),
        repo().join("crates/esignet-signup-ui/src/pages.rs"),
    ]);
    assert!(
        declared.len() > 10,
        "the scan found the routers: {declared:?}"
    );
    assert_same_routes("signup", &declared, SIGNUP_ENDPOINTS);
}

#[test]
fn signup_routes_are_served_under_their_mounts_only_when_given() {
    let without =
        serde_json::to_value(document("https://id.example.org", "/v1/esignet", &[])).unwrap();
    assert!(without["paths"]["/v1/signup/registration/register"].is_null());
    let with = serde_json::to_value(document(
        "https://id.example.org",
        "/v1/esignet",
        SIGNUP_ENDPOINTS,
    ))
    .unwrap();
    let paths = with["paths"].as_object().unwrap();
    assert!(paths["/v1/signup/registration/register"]["post"].is_object());
    assert!(paths["/signup/reset-password"]["get"].is_object());
    assert!(paths["/v1/signup/reset-password"]["post"].is_object());
    let served: BTreeSet<String> = ENDPOINTS
        .iter()
        .chain(SIGNUP_ENDPOINTS)
        .map(|endpoint| endpoint.served_path("/v1/esignet"))
        .collect();
    assert_eq!(paths.len(), served.len());
}

#[test]
fn the_document_is_openapi_3_1_with_every_operation() {
    let doc = serde_json::to_value(document("https://id.example.org", "/v1/esignet", &[])).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["servers"][0]["url"], "https://id.example.org");
    let paths = doc["paths"].as_object().unwrap();
    let mut operations = 0;
    let mut ids = BTreeSet::new();
    for endpoint in ENDPOINTS {
        let path = endpoint.served_path("/v1/esignet");
        let operation = &paths[&path][endpoint.method.to_ascii_lowercase()];
        assert!(operation.is_object(), "{} {path} missing", endpoint.method);
        assert_eq!(operation["summary"], endpoint.summary);
        assert!(
            ids.insert(operation["operationId"].as_str().unwrap().to_owned()),
            "duplicate operationId for {path}"
        );
        operations += 1;
    }
    assert_eq!(operations, ENDPOINTS.len());
    let token = &paths["/v1/esignet/oauth/v2/token"]["post"];
    assert_eq!(
        token["responses"]["400"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/OAuthError"
    );
    let client = &paths["/v1/esignet/client-mgmt/client/{client_id}"]["put"];
    assert_eq!(client["security"][0]["admin"], serde_json::json!([]));
    assert_eq!(client["parameters"][0]["in"], "path");
    for schema in [
        "WrappedRequest",
        "WrappedResponse",
        "ErrorItem",
        "OAuthError",
    ] {
        assert!(doc["components"]["schemas"][schema].is_object(), "{schema}");
    }
}
