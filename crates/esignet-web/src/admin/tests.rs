use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use axum::Router;
use axum::routing::get;
use esignet_jose::{Algorithm, PrivateKey, b64url_encode, sign_compact};
use esignet_spi::ManualClock;
use serde_json::json;
use time::macros::datetime;

use super::*;

const ISSUER: &str = "https://iam.example.org/auth/realms/mosip";
const AUDIENCE: &str = "esignet-admin";
const STATIC: &str = "s3cr3t-admin-token-0123456789abcdef";
const START: OffsetDateTime = datetime!(2025-03-01 10:00:00 UTC);
const ADD: &str = SCOPE_ADD_CLIENT;

/// A JWKS endpoint on 127.0.0.1 whose answer can be changed and whose hits are counted.
struct TestIam {
    url: String,
    answer: Arc<Mutex<(StatusCode, String)>>,
    fetches: Arc<AtomicUsize>,
}

impl TestIam {
    async fn serving(keys: &[(&PrivateKey, &str)]) -> Self {
        let answer = Arc::new(Mutex::new((StatusCode::OK, jwks(keys))));
        let fetches = Arc::new(AtomicUsize::new(0));
        let (served, counter) = (answer.clone(), fetches.clone());
        let app = Router::new().route(
            "/certs",
            get(move || {
                counter.fetch_add(1, Ordering::SeqCst);
                let answer = served.lock().unwrap().clone();
                async move { answer }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/certs", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self {
            url,
            answer,
            fetches,
        }
    }

    fn serve(&self, status: StatusCode, body: String) {
        *self.answer.lock().unwrap() = (status, body);
    }

    fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }
}

/// A JWKS with the given signing keys, plus an encryption key that must be skipped.
fn jwks(keys: &[(&PrivateKey, &str)]) -> String {
    let mut listed: Vec<Value> = keys
        .iter()
        .map(|(key, kid)| key.public_jwk().with_kid(*kid).to_json())
        .collect();
    let mut enc = PrivateKey::generate_ec_p256()
        .unwrap()
        .public_jwk()
        .with_kid("enc")
        .to_json();
    enc["use"] = json!("enc");
    listed.push(enc);
    json!({ "keys": listed }).to_string()
}

fn iam_config(url: &str, audience: Option<&str>) -> AdminConfig {
    let iam = IamConfig {
        jwks_url: url.to_owned(),
        issuer: ISSUER.to_owned(),
        audience: audience.map(str::to_owned),
    };
    AdminConfig {
        static_token: None,
        iam: Some(iam),
    }
}

fn guard(config: AdminConfig) -> (AdminAuth, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(START));
    (AdminAuth::new(config, clock.clone()), clock)
}

fn claims() -> Value {
    let now = START.unix_timestamp();
    json!({
        "iss": ISSUER, "aud": ["account", AUDIENCE], "iat": now, "exp": now + 300,
        "scope": "profile add_oidc_client update_oidc_client",
    })
}

fn with_claim(name: &str, value: Value) -> Value {
    let mut claims = claims();
    claims[name] = value;
    claims
}

/// `Bearer <JWT>` signed with `key`.
fn jwt(key: &PrivateKey, alg: Algorithm, kid: Option<&str>, claims: &Value) -> String {
    let mut header = Map::new();
    header.insert("typ".into(), json!("JWT"));
    if let Some(kid) = kid {
        header.insert("kid".into(), json!(kid));
    }
    let token = sign_compact(key, alg, &header, claims.to_string().as_bytes()).unwrap();
    format!("Bearer {token}")
}

fn es256(key: &PrivateKey, kid: &str, claims: &Value) -> String {
    jwt(key, Algorithm::ES256, Some(kid), claims)
}

fn headers(authorization: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(
        header::AUTHORIZATION,
        HeaderValue::from_str(authorization).unwrap(),
    );
    headers
}

async fn check(auth: &AdminAuth, authorization: &str, scope: &str) -> Result<(), AdminRejection> {
    auth.authorize(&headers(authorization), scope).await
}

fn is_invalid(result: Result<(), AdminRejection>) -> bool {
    matches!(result, Err(AdminRejection::InvalidToken(_)))
}

#[tokio::test]
async fn static_token_grants_every_scope_and_nothing_else_passes() {
    let (auth, _) = guard(AdminConfig {
        static_token: Some(STATIC.to_owned()),
        iam: None,
    });
    for scope in [SCOPE_ADD_CLIENT, SCOPE_UPDATE_CLIENT] {
        assert_eq!(
            check(&auth, &format!("Bearer {STATIC}"), scope).await,
            Ok(())
        );
    }
    assert_eq!(check(&auth, &format!("bearer {STATIC}"), ADD).await, Ok(()));
    for authorization in [
        "Bearer wrong-token".to_owned(),
        format!("Bearer {STATIC}x"),
        format!("Bearer {}", &STATIC[1..]),
        format!("Basic {STATIC}"),
        STATIC.to_owned(),
        "Bearer ".to_owned(),
        format!("Bearer {STATIC} extra"),
    ] {
        assert!(
            is_invalid(check(&auth, &authorization, ADD).await),
            "{authorization}"
        );
    }
    assert!(is_invalid(auth.authorize(&HeaderMap::new(), ADD).await));
    let mut twice = headers(&format!("Bearer {STATIC}"));
    twice.append(
        header::AUTHORIZATION,
        HeaderValue::from_static("Bearer other"),
    );
    assert!(is_invalid(auth.authorize(&twice, ADD).await));
    assert!(!format!("{auth:?}").contains(STATIC));
}

#[tokio::test]
async fn without_configuration_everything_is_rejected() {
    for static_token in [None, Some(String::new()), Some("   ".to_owned())] {
        let (auth, _) = guard(AdminConfig {
            static_token,
            iam: None,
        });
        assert!(is_invalid(auth.authorize(&HeaderMap::new(), ADD).await));
        for authorization in ["Bearer ", "Bearer anything", &format!("Bearer {STATIC}")] {
            assert!(is_invalid(check(&auth, authorization, ADD).await));
        }
    }
}

#[tokio::test]
async fn iam_tokens_of_every_accepted_algorithm_pass() {
    let rsa = PrivateKey::generate_rsa(2048).unwrap();
    let ec = PrivateKey::generate_ec_p256().unwrap();
    let iam = TestIam::serving(&[(&rsa, "rsa-1"), (&ec, "ec-1")]).await;
    let (auth, _) = guard(iam_config(&iam.url, Some(AUDIENCE)));
    for (key, alg, kid) in [
        (&rsa, Algorithm::RS256, Some("rsa-1")),
        (&rsa, Algorithm::PS256, Some("rsa-1")),
        (&ec, Algorithm::ES256, Some("ec-1")),
        (&ec, Algorithm::ES256, None),
    ] {
        let token = jwt(key, alg, kid, &claims());
        assert_eq!(
            check(&auth, &token, SCOPE_UPDATE_CLIENT).await,
            Ok(()),
            "{alg}"
        );
    }
    // Scopes as an array, or in `scp`; a single audience string.
    let mut scp = claims();
    scp.as_object_mut().unwrap().remove("scope");
    scp["scp"] = json!(ADD);
    for claims in [
        with_claim("scope", json!(["openid", ADD])),
        with_claim("aud", json!(AUDIENCE)),
        scp,
    ] {
        assert_eq!(
            check(&auth, &es256(&ec, "ec-1", &claims), ADD).await,
            Ok(()),
            "{claims}"
        );
    }
    assert_eq!(iam.fetches(), 1, "keys are cached");
}

#[tokio::test]
async fn iam_tokens_are_checked_for_issuer_audience_time_and_signature() {
    let key = PrivateKey::generate_ec_p256().unwrap();
    let iam = TestIam::serving(&[(&key, "k1")]).await;
    let (auth, clock) = guard(iam_config(&iam.url, Some(AUDIENCE)));
    let now = START.unix_timestamp();
    let mut without_exp = claims();
    without_exp.as_object_mut().unwrap().remove("exp");
    for claims in [
        with_claim("iss", json!("https://evil.example.org/auth/realms/mosip")),
        with_claim("iss", Value::Null),
        with_claim("aud", json!("account")),
        with_claim("aud", json!(["account"])),
        with_claim("aud", Value::Null),
        with_claim("exp", json!(now)),
        with_claim("exp", json!("tomorrow")),
        without_exp,
        with_claim("nbf", json!(now + 61)),
        with_claim("nbf", json!("now")),
    ] {
        assert!(
            is_invalid(check(&auth, &es256(&key, "k1", &claims), ADD).await),
            "{claims}"
        );
    }
    // A key claiming the known kid; the signature cut off; HMAC; not a JWT at all.
    let forged = es256(&PrivateKey::generate_ec_p256().unwrap(), "k1", &claims());
    let good = es256(&key, "k1", &claims());
    let (unsigned, _) = good.rsplit_once('.').unwrap();
    let hmac = format!(
        "Bearer {}.{}.AAAA",
        b64url_encode(br#"{"alg":"HS256","kid":"k1"}"#),
        b64url_encode(claims().to_string().as_bytes())
    );
    for token in [
        forged,
        format!("{unsigned}."),
        hmac,
        "Bearer not-a-jwt".to_owned(),
    ] {
        assert!(is_invalid(check(&auth, &token, ADD).await), "{token}");
    }

    // Expiry follows the injected clock.
    assert_eq!(check(&auth, &good, ADD).await, Ok(()));
    clock.advance(time::Duration::seconds(300));
    assert_eq!(
        check(&auth, &good, ADD).await,
        Err(AdminRejection::InvalidToken("token expired"))
    );

    // Without a configured audience any `aud` passes.
    let (any_audience, _) = guard(iam_config(&iam.url, None));
    let token = es256(&key, "k1", &with_claim("aud", json!("account")));
    assert_eq!(check(&any_audience, &token, ADD).await, Ok(()));
}

#[tokio::test]
async fn a_valid_token_without_the_scope_is_forbidden() {
    let key = PrivateKey::generate_ec_p256().unwrap();
    let iam = TestIam::serving(&[(&key, "k1")]).await;
    let (auth, _) = guard(iam_config(&iam.url, None));
    for scope in [
        json!("profile add_oidc_client_x"),
        json!([]),
        json!(42),
        Value::Null,
    ] {
        let token = es256(&key, "k1", &with_claim("scope", scope.clone()));
        let forbidden = Err(AdminRejection::InsufficientScope(ADD.to_owned()));
        assert_eq!(check(&auth, &token, ADD).await, forbidden, "{scope}");
    }
}

#[tokio::test]
async fn an_unknown_kid_refetches_the_keys_at_most_every_30_seconds() {
    let old = PrivateKey::generate_ec_p256().unwrap();
    let new = PrivateKey::generate_ec_p256().unwrap();
    let iam = TestIam::serving(&[(&old, "old")]).await;
    let (auth, clock) = guard(iam_config(&iam.url, None));
    let (old_token, new_token) = (es256(&old, "old", &claims()), es256(&new, "new", &claims()));
    assert_eq!(check(&auth, &old_token, ADD).await, Ok(()));
    assert_eq!(iam.fetches(), 1);

    // The IAM rotates. Right after the first fetch the throttle holds.
    iam.serve(StatusCode::OK, jwks(&[(&new, "new")]));
    assert!(is_invalid(check(&auth, &new_token, ADD).await));
    assert_eq!(iam.fetches(), 1);

    clock.advance(time::Duration::seconds(30));
    assert_eq!(check(&auth, &new_token, ADD).await, Ok(()));
    assert_eq!(iam.fetches(), 2);
    // The retired key is now unknown, and asking again so soon fetches nothing.
    let unknown = Err(AdminRejection::InvalidToken("unknown signing key"));
    assert_eq!(check(&auth, &old_token, ADD).await, unknown);
    assert_eq!(iam.fetches(), 2);
}

#[tokio::test]
async fn keys_are_refreshed_every_10_minutes_and_kept_when_the_iam_fails() {
    let key = PrivateKey::generate_ec_p256().unwrap();
    let iam = TestIam::serving(&[(&key, "k1")]).await;
    let (auth, clock) = guard(iam_config(&iam.url, None));
    // A token minted at the clock's current time, so that it is unexpired.
    let fresh = || {
        let exp = clock.now().unix_timestamp() + 60;
        es256(
            &key,
            "k1",
            &json!({"iss": ISSUER, "exp": exp, "scope": ADD}),
        )
    };
    assert_eq!(check(&auth, &fresh(), ADD).await, Ok(()));
    clock.advance(time::Duration::minutes(9));
    assert_eq!(check(&auth, &fresh(), ADD).await, Ok(()));
    assert_eq!(iam.fetches(), 1);
    clock.advance(time::Duration::minutes(1));
    assert_eq!(check(&auth, &fresh(), ADD).await, Ok(()));
    assert_eq!(iam.fetches(), 2);

    // The IAM breaks: each refresh fails and the known keys stay in use.
    for (status, body) in [
        (StatusCode::INTERNAL_SERVER_ERROR, "oops".to_owned()),
        (StatusCode::OK, "not json".to_owned()),
        (StatusCode::OK, json!({"no": "keys"}).to_string()),
        (StatusCode::OK, "x".repeat(JWKS_MAX_BYTES + 1)),
    ] {
        iam.serve(status, body);
        clock.advance(time::Duration::minutes(10));
        let before = iam.fetches();
        assert_eq!(check(&auth, &fresh(), ADD).await, Ok(()));
        assert_eq!(iam.fetches(), before + 1);
    }
}

#[tokio::test]
async fn an_unreachable_iam_means_401_without_hanging() {
    let token = es256(&PrivateKey::generate_ec_p256().unwrap(), "k1", &claims());

    // Nothing listens on the port.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/certs", closed.local_addr().unwrap());
    drop(closed);
    let (auth, _) = guard(iam_config(&url, None));
    let unknown = Err(AdminRejection::InvalidToken("unknown signing key"));
    assert_eq!(check(&auth, &token, ADD).await, unknown);

    // Something accepts the connection and never answers: the fetch timeout ends it.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/certs", silent.local_addr().unwrap());
    let clock = Arc::new(ManualClock::new(START));
    let auth =
        AdminAuth::with_fetch_timeout(iam_config(&url, None), clock, Duration::from_millis(300));
    let started = Instant::now();
    assert!(is_invalid(check(&auth, &token, ADD).await));
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    drop(silent);
}

#[tokio::test]
async fn rejections_render_as_rfc_6750_errors() {
    let response = AdminRejection::InvalidToken("token expired").into_response();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        response.headers()[header::WWW_AUTHENTICATE],
        "Bearer error=\"invalid_token\""
    );
    assert_eq!(response.headers()[header::CACHE_CONTROL], "no-store");
    let body = axum::body::to_bytes(response.into_body(), 1024)
        .await
        .unwrap();
    let expected = json!({"error": "invalid_token", "error_description": "token expired"});
    assert_eq!(serde_json::from_slice::<Value>(&body).unwrap(), expected);

    let response =
        AdminRejection::InsufficientScope(SCOPE_UPDATE_CLIENT.to_owned()).into_response();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let challenge = "Bearer error=\"insufficient_scope\", scope=\"update_oidc_client\"";
    assert_eq!(response.headers()[header::WWW_AUTHENTICATE], challenge);
    let body = axum::body::to_bytes(response.into_body(), 1024)
        .await
        .unwrap();
    assert_eq!(
        serde_json::from_slice::<Value>(&body).unwrap()["error"],
        "insufficient_scope"
    );
}
