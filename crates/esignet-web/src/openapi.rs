//! The OpenAPI 3.1 document of every route the provider serves (`GET /openapi.json` and
//! `<base>/openapi.json`).
//!
//! One table, [`ENDPOINTS`], lists every route with its method, surface and summary; the
//! document is built from it with utoipa's model, and the wire shapes shared by many routes
//! (eSignet's request/response wrapper, OAuth errors, tokens) are derived from Rust types with
//! `ToSchema`. The test `every_route_is_documented` (crates/esignet-web/tests/openapi.rs)
//! reads the router declarations and fails on any route missing here, and on any documented
//! route the router does not declare, so the two cannot drift.

use serde_json::Value;
use utoipa::ToSchema;
use utoipa::openapi::path::{OperationBuilder, ParameterBuilder, ParameterIn};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::tag::TagBuilder;
use utoipa::openapi::{
    ComponentsBuilder, Content, HttpMethod, InfoBuilder, OpenApi, OpenApiBuilder, Paths, Ref,
    Required, ServerBuilder,
};

/// Where a route is mounted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mount {
    /// Under the API base path (`/v1/esignet`).
    Api,
    /// At the root (well-known documents, login pages, assets).
    Root,
    /// Under the Signup service's API path ([`SIGNUP_API_PATH`]), when signup is enabled.
    Signup,
    /// Under the signup pages' path ([`SIGNUP_PAGES_PATH`]), when signup is enabled.
    SignupPages,
}

/// Where the Signup service's API is mounted (eSignet's signup service context path).
pub const SIGNUP_API_PATH: &str = "/v1/signup";
/// Where the signup pages are mounted.
pub const SIGNUP_PAGES_PATH: &str = "/signup";

impl Endpoint {
    /// The path as served, with the provider's API under `base_path`.
    pub fn served_path(&self, base_path: &str) -> String {
        match self.mount {
            Mount::Api => format!("{base_path}{}", self.path),
            Mount::Root => self.path.to_owned(),
            Mount::Signup => format!("{SIGNUP_API_PATH}{}", self.path),
            // The pages' root is `/signup` itself (the nested router does not serve `/signup/`).
            Mount::SignupPages if self.path == "/" => SIGNUP_PAGES_PATH.to_owned(),
            Mount::SignupPages => format!("{SIGNUP_PAGES_PATH}{}", self.path),
        }
    }
}

/// What a route speaks, which decides its request body and responses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Surface {
    /// eSignet's wrapped JSON API for the login pages: CSRF header, and for a started
    /// transaction the `oauth-details-key` / `-hash` headers.
    Ui,
    /// The wrapped JSON API without CSRF (wallets, captcha).
    Wallet,
    /// Client management: wrapped JSON with an admin bearer token.
    Admin,
    /// An OAuth endpoint: form-encoded request, JSON answer, RFC 6749 errors.
    OAuthForm,
    /// A JSON document (metadata, key set, health, CSRF token).
    Document,
    /// Userinfo: a bearer or DPoP access token, `application/jwt` answer.
    Userinfo,
    /// An HTML page of the login UI.
    Page,
    /// A static script or stylesheet.
    Asset,
    /// A WebSocket upgrade (the signup service's STOMP 1.2 endpoint).
    WebSocket,
    /// A browser endpoint answering `303 See Other` (RP-initiated logout).
    Redirect,
}

/// One documented route.
#[derive(Debug, Clone, Copy)]
pub struct Endpoint {
    /// `GET`, `POST`, ...
    pub method: &'static str,
    /// The path as the router declares it (`{name}` for a path parameter).
    pub path: &'static str,
    /// Where it is mounted.
    pub mount: Mount,
    /// Its kind.
    pub surface: Surface,
    /// The tag grouping it.
    pub tag: &'static str,
    /// One line saying what it does.
    pub summary: &'static str,
}

const fn e(
    method: &'static str,
    path: &'static str,
    mount: Mount,
    surface: Surface,
    tag: &'static str,
    summary: &'static str,
) -> Endpoint {
    Endpoint {
        method,
        path,
        mount,
        surface,
        tag,
        summary,
    }
}

use Mount::{Api, Root, Signup, SignupPages};
use Surface::{Admin, Asset, Document, OAuthForm, Page, Redirect, Ui, Userinfo, Wallet, WebSocket};

const DISCOVERY: &str = "discovery";
const OAUTH: &str = "oauth";
const AUTHORIZATION: &str = "authorization";
const LINKED: &str = "linked-authorization";
const BINDING: &str = "binding";
const CLIENTS: &str = "client-management";
const PAGES: &str = "pages";
const SERVICE: &str = "service";
const SIGNUP: &str = "signup";

/// Every route the provider serves (one line each: the table is read as a table).
#[rustfmt::skip]
pub const ENDPOINTS: &[Endpoint] = &[
    e("GET", "/oidc/.well-known/openid-configuration", Api, Document, DISCOVERY, "OpenID Provider metadata"),
    e("GET", "/oauth/.well-known/oauth-authorization-server", Api, Document, DISCOVERY, "OAuth authorization server metadata (RFC 8414)"),
    e("GET", "/oauth/.well-known/jwks.json", Api, Document, DISCOVERY, "Signing keys (JWKS with x5c chains)"),
    e("GET", "/.well-known/openid-configuration", Root, Document, DISCOVERY, "OpenID Provider metadata (root alias)"),
    e("GET", "/.well-known/oauth-authorization-server", Root, Document, DISCOVERY, "OAuth authorization server metadata (root alias)"),
    e("GET", "/.well-known/jwks.json", Root, Document, DISCOVERY, "Signing keys (root alias)"),
    e("POST", "/oauth/par", Api, OAuthForm, OAUTH, "Pushed authorization request (RFC 9126): answers 201 with request_uri"),
    e("POST", "/oauth/v2/token", Api, OAuthForm, OAUTH, "Token endpoint: authorization code + PKCE, private_key_jwt, DPoP"),
    e("POST", "/oauth/token", Api, OAuthForm, OAUTH, "Token endpoint, deprecated v1 (no PKCE verifier, no DPoP)"),
    e("GET", "/oidc/userinfo", Api, Userinfo, OAUTH, "Userinfo: the consented claims as a signed (or encrypted) JWT"),
    e("POST", "/oidc/userinfo", Api, Userinfo, OAUTH, "Userinfo by POST (OIDC Core 5.3.1)"),
    e("POST", "/oauth/introspect", Api, OAuthForm, OAUTH, "Token introspection (RFC 7662): active, scope, sub, cnf.jkt for the calling client's tokens"),
    e("POST", "/oauth/revoke", Api, OAuthForm, OAUTH, "Token revocation (RFC 7009): 200 with an empty body"),
    e("GET", "/oidc/logout", Api, Redirect, OAUTH, "RP-initiated logout (end_session_endpoint): id_token_hint, post_logout_redirect_uri, state"),
    e("POST", "/oidc/logout", Api, Redirect, OAUTH, "RP-initiated logout by form POST"),
    e("GET", "/csrf/token", Api, Document, SERVICE, "CSRF token (sets the XSRF-TOKEN cookie)"),
    e("GET", "/actuator/health", Api, Document, SERVICE, "Liveness and readiness"),
    e("GET", "/openapi.json", Api, Document, SERVICE, "This document"),
    e("GET", "/openapi.json", Root, Document, SERVICE, "This document (root alias)"),
    e("GET", "/captcha/challenge", Api, Wallet, SERVICE, "A proof-of-work captcha challenge"),
    e("POST", "/authorization/oauth-details", Api, Ui, AUTHORIZATION, "Start a transaction (v1)"),
    e("POST", "/authorization/prepare-signup-redirect", Api, Ui, AUTHORIZATION, "Halt the transaction and get the signup detour's id_token_hint"),
    e("POST", "/authorization/complete-signup-redirect", Api, Ui, AUTHORIZATION, "Resume the halted transaction after signup or eKYC"),
    e("POST", "/authorization/v2/oauth-details", Api, Ui, AUTHORIZATION, "Start a transaction (v2: PKCE)"),
    e("POST", "/authorization/v3/oauth-details", Api, Ui, AUTHORIZATION, "Start a transaction (v3: id_token_hint)"),
    e("POST", "/authorization/par-oauth-details", Api, Ui, AUTHORIZATION, "Start a transaction from a pushed request"),
    e("POST", "/authorization/send-otp", Api, Ui, AUTHORIZATION, "Send an OTP to the resident"),
    e("POST", "/authorization/authenticate", Api, Ui, AUTHORIZATION, "Authenticate the resident (v1)"),
    e("POST", "/authorization/v2/authenticate", Api, Ui, AUTHORIZATION, "Authenticate the resident (v2: consent action)"),
    e("POST", "/authorization/v3/authenticate", Api, Ui, AUTHORIZATION, "Authenticate the resident (v3)"),
    e("GET", "/authorization/claim-details", Api, Ui, AUTHORIZATION, "Claims requested, available and verified"),
    e("POST", "/authorization/auth-code", Api, Ui, AUTHORIZATION, "Record consent and issue the authorization code"),
    e("POST", "/linked-authorization/link-code", Api, Ui, LINKED, "A QR-code link code for a wallet login"),
    e("POST", "/linked-authorization/link-status", Api, Ui, LINKED, "Wait until a wallet scanned the code (long poll)"),
    e("POST", "/linked-authorization/link-auth-code", Api, Ui, LINKED, "Wait for the wallet's consent and get the code (long poll)"),
    e("POST", "/linked-authorization/send-otp", Api, Ui, LINKED, "Send an OTP within a linked transaction"),
    e("POST", "/linked-authorization/link-transaction", Api, Wallet, LINKED, "Wallet: take over the transaction of a scanned code (v1)"),
    e("POST", "/linked-authorization/v2/link-transaction", Api, Wallet, LINKED, "Wallet: take over the transaction of a scanned code (v2)"),
    e("POST", "/linked-authorization/authenticate", Api, Wallet, LINKED, "Wallet: authenticate with a WLA token (v1)"),
    e("POST", "/linked-authorization/v2/authenticate", Api, Wallet, LINKED, "Wallet: authenticate with a WLA token (v2)"),
    e("POST", "/linked-authorization/consent", Api, Wallet, LINKED, "Wallet: consent (v1)"),
    e("POST", "/linked-authorization/v2/consent", Api, Wallet, LINKED, "Wallet: signed consent (v2)"),
    e("POST", "/binding/binding-otp", Api, Wallet, BINDING, "Wallet: OTP for key binding (v1)"),
    e("POST", "/binding/v2/binding-otp", Api, Wallet, BINDING, "Wallet: OTP for key binding (v2, captcha)"),
    e("POST", "/binding/wallet-binding", Api, Wallet, BINDING, "Wallet: bind a public key and get its certificate"),
    e("GET", "/binding/certificates", Api, Document, BINDING, "The binding CA's certificates (JWK Set with x5c) to verify a binding certificate"),
    e("POST", "/client-mgmt/oidc-client", Api, Admin, CLIENTS, "Register a client (deprecated v1)"),
    e("PUT", "/client-mgmt/oidc-client/{client_id}", Api, Admin, CLIENTS, "Update a client (deprecated v1)"),
    e("POST", "/client-mgmt/oauth-client", Api, Admin, CLIENTS, "Register a client (v2)"),
    e("PUT", "/client-mgmt/oauth-client/{client_id}", Api, Admin, CLIENTS, "Update a client (v2)"),
    e("POST", "/client-mgmt/client", Api, Admin, CLIENTS, "Register a client (v3, additionalConfig)"),
    e("PUT", "/client-mgmt/client/{client_id}", Api, Admin, CLIENTS, "Update a client (v3)"),
    e("PATCH", "/client-mgmt/client/{client_id}", Api, Admin, CLIENTS, "Partly update a client (1.8)"),
    e("GET", "/authorize", Root, Page, PAGES, "The authorization endpoint: the login UI's entry"),
    e("GET", "/login", Root, Page, PAGES, "Login page: sign-in options"),
    e("GET", "/claim-details", Root, Page, PAGES, "Claims availability page"),
    e("GET", "/consent", Root, Page, PAGES, "Consent page"),
    e("GET", "/error", Root, Page, PAGES, "Error page"),
    e("GET", "/something-went-wrong", Root, Page, PAGES, "Error page (server error)"),
    e("GET", "/network-error", Root, Page, PAGES, "Error page (network)"),
    e("GET", "/page-not-found", Root, Page, PAGES, "Error page (not found)"),
    e("GET", "/signed-out", Root, Page, PAGES, "Signed-out page (after RP-initiated logout without a redirect)"),
    e("GET", "/ui/assets/{file}", Root, Asset, PAGES, "Content-hashed scripts and stylesheet"),
    e("GET", "/sdk/sign-in-button.js", Root, Asset, PAGES, "The relying parties' sign-in button module"),
];

/// The Signup service's routes and pages, documented when signup is enabled.
#[rustfmt::skip]
pub const SIGNUP_ENDPOINTS: &[Endpoint] = &[
    e("GET", "/settings", Signup, Ui, SIGNUP, "Signup settings for the pages (configs map)"),
    e("GET", "/csrf/token", Signup, Document, SIGNUP, "CSRF token of the signup API (sets XSRF-TOKEN)"),
    e("POST", "/registration/generate-challenge", Signup, Ui, SIGNUP, "Send an OTP to the identifier (captcha when required)"),
    e("POST", "/registration/verify-challenge", Signup, Ui, SIGNUP, "Verify the OTP: sets the verified-transaction cookie"),
    e("POST", "/registration/register", Signup, Ui, SIGNUP, "Create the identity from the account-setup form"),
    e("GET", "/registration/status", Signup, Ui, SIGNUP, "Registration or reset status (PENDING, COMPLETED, FAILED)"),
    e("GET", "/registration/ui-spec", Signup, Ui, SIGNUP, "The account-setup form's JSON-schema UI spec"),
    e("POST", "/reset-password", Signup, Ui, SIGNUP, "Reset the password after the OTP challenge"),
    e("POST", "/identity-verification/initiate", Signup, Ui, SIGNUP, "Start identity verification from the signup client's authorization code (when enabled)"),
    e("GET", "/identity-verification/identity-verifier/{id}", Signup, Ui, SIGNUP, "A verifier's steps, terms and previews (when enabled)"),
    e("POST", "/identity-verification/slot", Signup, Ui, SIGNUP, "Take a verification slot: sets the slot cookie (when enabled)"),
    e("GET", "/identity-verification/status", Signup, Ui, SIGNUP, "Verification status; writes the verified claims when the result is in (when enabled)"),
    e("GET", "/ws", Signup, WebSocket, SIGNUP, "STOMP 1.2 over WebSocket: the live verification steps of a slot (when enabled)"),
    e("GET", "/", SignupPages, Page, SIGNUP, "Signup landing page"),
    e("GET", "/register", SignupPages, Page, SIGNUP, "Registration page: phone, OTP, account setup, status"),
    e("GET", "/reset-password", SignupPages, Page, SIGNUP, "Forgot-password page: phone, OTP, KBI, new password"),
    e("GET", "/identity-verification", SignupPages, Page, SIGNUP, "Identity verification (video eKYC) page"),
    e("GET", "/something-went-wrong", SignupPages, Page, SIGNUP, "Signup error page"),
    e("GET", "/assets/{version}/{file}", SignupPages, Asset, SIGNUP, "Signup pages' versioned scripts and stylesheet"),
];

/// eSignet's request wrapper.
#[derive(ToSchema)]
#[allow(dead_code)]
#[schema(as = WrappedRequest)]
struct WrappedRequest {
    /// UTC, `yyyy-MM-dd'T'HH:mm:ss.SSS'Z'`, within the configured leeway of the server's clock.
    request_time: String,
    /// The endpoint's request object.
    #[schema(value_type = Object)]
    request: Value,
}

/// One error of a wrapped response.
#[derive(ToSchema)]
#[allow(dead_code)]
struct ErrorItem {
    /// eSignet's error code (`invalid_transaction`, `auth_failed`, ...).
    error_code: String,
    /// A readable message.
    error_message: String,
}

/// eSignet's response wrapper: HTTP 200 with `errors` for business errors.
#[derive(ToSchema)]
#[allow(dead_code)]
struct WrappedResponse {
    response_time: String,
    /// The endpoint's answer, `null` on error.
    #[schema(value_type = Option<Object>)]
    response: Option<Value>,
    /// Empty on success.
    errors: Vec<ErrorItem>,
}

/// An RFC 6749 §5.2 error.
#[derive(ToSchema)]
#[allow(dead_code)]
struct OAuthError {
    /// `invalid_request`, `invalid_client`, `invalid_grant`, `invalid_dpop_proof`, ...
    error: String,
    /// Details; eSignet's own code where one applies.
    error_description: Option<String>,
}

fn schema_ref(name: &str) -> Ref {
    Ref::from_schema_name(name)
}

fn json(name: &str) -> Content {
    Content::new(Some(schema_ref(name)))
}

fn header(name: &str, description: &str, required: bool) -> utoipa::openapi::path::Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Header)
        .required(if required {
            Required::True
        } else {
            Required::False
        })
        .description(Some(description))
        .build()
}

fn operation(endpoint: &Endpoint) -> utoipa::openapi::path::Operation {
    let mut op = OperationBuilder::new()
        .tag(endpoint.tag)
        .summary(Some(endpoint.summary))
        .operation_id(Some(format!(
            "{}_{}_{}",
            endpoint.method.to_ascii_lowercase(),
            match endpoint.mount {
                Mount::Api => "api",
                Mount::Root => "root",
                Mount::Signup => "signup",
                Mount::SignupPages => "signup_pages",
            },
            endpoint
                .path
                .trim_matches('/')
                .replace(['/', '.', '-', '{', '}'], "_")
        )));
    for parameter in endpoint
        .path
        .split('/')
        .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
    {
        op = op.parameter(
            ParameterBuilder::new()
                .name(parameter)
                .parameter_in(ParameterIn::Path)
                .required(Required::True)
                .build(),
        );
    }
    let has_body = endpoint.method != "GET";
    match endpoint.surface {
        Surface::Ui | Surface::Wallet | Surface::Admin => {
            if endpoint.surface == Surface::Ui {
                op = op
                    .parameter(header("X-XSRF-TOKEN", "The CSRF token from /csrf/token (cookie XSRF-TOKEN)", true))
                    .parameter(header("oauth-details-key", "The transaction id (after oauth-details)", false))
                    .parameter(header("oauth-details-hash", "base64url(SHA-256) of the exact oauth-details response (after oauth-details)", false));
            }
            if endpoint.surface == Surface::Admin {
                op = op.security(SecurityRequirement::new("admin", Vec::<String>::new()));
            }
            if has_body {
                op = op.request_body(Some(
                    RequestBodyBuilder::new()
                        .required(Some(Required::True))
                        .content("application/json", json("WrappedRequest"))
                        .build(),
                ));
            }
            op = op
                .response(
                    "200",
                    ResponseBuilder::new()
                        .description("The answer, or eSignet error codes in `errors`")
                        .content("application/json", json("WrappedResponse"))
                        .build(),
                )
                .response(
                    "503",
                    ResponseBuilder::new()
                        .description("A dependency is unavailable")
                        .build(),
                );
        }
        Surface::OAuthForm => {
            op = op
                .parameter(header(
                    "DPoP",
                    "A DPoP proof (RFC 9449), when the client binds its tokens",
                    false,
                ))
                .request_body(Some(
                    RequestBodyBuilder::new()
                        .required(Some(Required::True))
                        .content(
                            "application/x-www-form-urlencoded",
                            Content::new(None::<Ref>),
                        )
                        .build(),
                ))
                .response(
                    "200",
                    ResponseBuilder::new()
                        .description("Success (201 for PAR)")
                        .content("application/json", Content::new(None::<Ref>))
                        .build(),
                )
                .response(
                    "400",
                    ResponseBuilder::new()
                        .description("RFC 6749 error")
                        .content("application/json", json("OAuthError"))
                        .build(),
                )
                .response(
                    "401",
                    ResponseBuilder::new()
                        .description("Client authentication failed (invalid_client)")
                        .content("application/json", json("OAuthError"))
                        .build(),
                );
        }
        Surface::Userinfo => {
            op = op
                .parameter(header(
                    "Authorization",
                    "`Bearer <access token>` or `DPoP <access token>`",
                    true,
                ))
                .parameter(header(
                    "DPoP",
                    "A DPoP proof with `ath`, for DPoP-bound tokens",
                    false,
                ))
                .response(
                    "200",
                    ResponseBuilder::new()
                        .description("The claims as a JWS (or a JWE around it)")
                        .content("application/jwt", Content::new(None::<Ref>))
                        .build(),
                )
                .response(
                    "401",
                    ResponseBuilder::new()
                        .description("invalid_token (WWW-Authenticate)")
                        .build(),
                );
        }
        Surface::Document => {
            op = op.response(
                "200",
                ResponseBuilder::new()
                    .description("The document")
                    .content("application/json", Content::new(None::<Ref>))
                    .build(),
            );
        }
        Surface::Page => {
            op = op.response(
                "200",
                ResponseBuilder::new()
                    .description("The page")
                    .content("text/html", Content::new(None::<Ref>))
                    .build(),
            );
        }
        Surface::WebSocket => {
            op = op
                .parameter(
                    ParameterBuilder::new()
                        .name("slotId")
                        .parameter_in(ParameterIn::Query)
                        .required(Required::True)
                        .description(Some("The slot from /identity-verification/slot (its cookie must match)"))
                        .build(),
                )
                .response(
                    "101",
                    ResponseBuilder::new()
                        .description("Switching Protocols: STOMP 1.2 frames (CONNECT, SUBSCRIBE to /topic/<slotId>, SEND to /v1/signup/ws/process-frame, DISCONNECT)")
                        .build(),
                )
                .response(
                    "400",
                    ResponseBuilder::new()
                        .description("Not a WebSocket upgrade, or no valid slot")
                        .build(),
                );
        }
        Surface::Redirect => {
            op = op.response(
                "303",
                ResponseBuilder::new()
                    .description("To the registered post_logout_redirect_uri (with state), to /signed-out, or to /error?error=<code>")
                    .build(),
            );
        }
        Surface::Asset => {
            op = op
                .response(
                    "200",
                    ResponseBuilder::new().description("The file").build(),
                )
                .response(
                    "404",
                    ResponseBuilder::new().description("No such asset").build(),
                );
        }
    }
    op.build()
}

fn method(name: &str) -> HttpMethod {
    match name {
        "POST" => HttpMethod::Post,
        "PUT" => HttpMethod::Put,
        "PATCH" => HttpMethod::Patch,
        "DELETE" => HttpMethod::Delete,
        _ => HttpMethod::Get,
    }
}

/// The document for a provider at `issuer` with the API under `base_path`; `extra` are the
/// routes of optional modules mounted in this deployment (their own tables).
pub fn document(issuer: &str, base_path: &str, extra: &[Endpoint]) -> OpenApi {
    let mut paths = Paths::new();
    for endpoint in ENDPOINTS.iter().chain(extra) {
        let path = endpoint.served_path(base_path);
        paths.add_path_operation(path, vec![method(endpoint.method)], operation(endpoint));
    }
    let components = ComponentsBuilder::new()
        .schema_from::<WrappedRequest>()
        .schema_from::<WrappedResponse>()
        .schema_from::<ErrorItem>()
        .schema_from::<OAuthError>()
        .security_scheme(
            "admin",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        )
        .build();
    let tags = [
        (DISCOVERY, "Provider metadata and keys"),
        (
            OAUTH,
            "OAuth 2.0 / OpenID Connect endpoints for relying parties",
        ),
        (AUTHORIZATION, "The login UI's API (eSignet wire format)"),
        (LINKED, "QR-code login with a wallet"),
        (BINDING, "Wallet key binding"),
        (CLIENTS, "Client registration (admin)"),
        (PAGES, "Login pages and assets"),
        (SERVICE, "Service endpoints"),
        (
            SIGNUP,
            "Signup service: registration, password reset, identity verification",
        ),
    ]
    .into_iter()
    .map(|(name, description)| {
        TagBuilder::new()
            .name(name)
            .description(Some(description))
            .build()
    });
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("eSignet-rs")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "OpenID Connect provider, wire-compatible with MOSIP eSignet 1.7/1.8 \
                     (docs/compatibility.md lists every divergence).",
                ))
                .build(),
        )
        .servers(Some([ServerBuilder::new().url(issuer).build()]))
        .paths(paths)
        .components(Some(components))
        .tags(Some(tags))
        .build()
}

/// [`document`] as JSON text.
pub fn document_json(issuer: &str, base_path: &str, extra: &[Endpoint]) -> String {
    serde_json::to_string(&document(issuer, base_path, extra)).unwrap_or_else(|_| "{}".to_owned())
}
