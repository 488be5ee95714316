//! The mock SBI device over real HTTP: discovery, device info, capture per modality, refusals,
//! CORS, and a capture authenticating with the built-in mock identity system.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use esignet_jose::{PublicJwk, decode_compact};
use esignet_mock_sbi::{MockSbiConfig, Modality, serve_on};
use esignet_spi::ManualClock;
use reqwest::{Method, StatusCode};
use serde_json::{Map, Value, json};
use time::macros::datetime;
use tokio::sync::oneshot;

const TXN: &str = "q7RkZ2x9Lm";

struct Device {
    base: String,
    client: reqwest::Client,
    _stop: oneshot::Sender<()>,
}

async fn start(config: MockSbiConfig) -> Device {
    let clock = Arc::new(ManualClock::new(datetime!(2026-01-01 08:00 UTC)));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address: SocketAddr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(async move {
        serve_on(listener, config, clock, async {
            let _ = stopped.await;
        })
        .await
        .unwrap();
    });
    Device {
        base: format!("http://{address}"),
        client: reqwest::Client::new(),
        _stop: stop,
    }
}

impl Device {
    async fn call(&self, method: &[u8], path: &str, body: Option<Value>) -> reqwest::Response {
        let mut request = self.client.request(
            Method::from_bytes(method).unwrap(),
            format!("{}{path}", self.base),
        );
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.unwrap()
    }

    async fn json(&self, method: &[u8], path: &str, body: Option<Value>) -> Value {
        let response = self.call(method, path, body).await;
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.unwrap()
    }

    async fn capture(&self, body: Value) -> Vec<Value> {
        let response = self.json(b"CAPTURE", "/capture", Some(body)).await;
        response["biometrics"].as_array().unwrap().clone()
    }
}

/// The payload of a JWS, after checking its signature against its own `x5c` certificate.
fn verified_payload(jws: &str) -> Map<String, Value> {
    let decoded = decode_compact(jws).unwrap();
    assert_eq!(decoded.alg().unwrap().as_str(), "ES256");
    let x5c = decoded.header["x5c"][0].as_str().unwrap();
    let certificate = openssl::x509::X509::from_der(&STANDARD.decode(x5c).unwrap()).unwrap();
    let key = PublicJwk::from_openssl(&certificate.public_key().unwrap()).unwrap();
    assert!(decoded.verify(&key), "signed by the device key");
    decoded.claims().unwrap()
}

fn capture_request(bio: Value) -> Value {
    json!({"env": "Developer", "purpose": "Auth", "specVersion": "0.9.5", "timeout": 30000,
           "captureTime": "2026-01-01T08:00:00.000Z", "domainUri": "http://127.0.0.1:8088",
           "transactionId": TXN, "bio": [bio], "customOpts": null})
}

#[tokio::test]
async fn discovery_lists_one_ready_l1_auth_device_per_modality() {
    let device = start(MockSbiConfig::default()).await;
    let found = device
        .json(
            b"MOSIPDISC",
            "/device",
            Some(json!({"type": "Biometric Device"})),
        )
        .await;
    let found = found.as_array().unwrap();
    assert_eq!(found.len(), 3);
    let types: Vec<String> = found
        .iter()
        .map(|d| {
            verified_payload(d["digitalId"].as_str().unwrap())["type"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(types, ["Face", "Finger", "Iris"]);
    for descriptor in found {
        assert_eq!(descriptor["deviceStatus"], "Ready");
        assert_eq!(descriptor["certification"], "L1");
        assert_eq!(descriptor["purpose"], "Auth");
        assert_eq!(descriptor["specVersion"], json!(["0.9.5"]));
        assert_eq!(descriptor["callbackId"], format!("{}/", device.base));
        assert_eq!(
            descriptor["error"],
            json!({"errorCode": "0", "errorInfo": "Success"})
        );
        for member in ["deviceId", "serviceVersion", "deviceCode"] {
            assert!(
                descriptor[member].as_str().is_some_and(|v| !v.is_empty()),
                "{member}"
            );
        }
        assert!(!descriptor["deviceSubId"].as_array().unwrap().is_empty());
    }
    let finger = device
        .json(b"MOSIPDISC", "/device", Some(json!({"type": "finger"})))
        .await;
    assert_eq!(finger.as_array().unwrap().len(), 1);
    let none = device
        .json(b"MOSIPDISC", "/device", Some(json!({"type": "Palm"})))
        .await;
    assert_eq!(none, json!([]));
    let empty_body = device.json(b"MOSIPDISC", "/device", None).await;
    assert_eq!(empty_body.as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn device_info_is_a_signed_descriptor_with_a_signed_digital_id() {
    let device = start(MockSbiConfig {
        modalities: vec![Modality::Iris, Modality::Face],
        ..MockSbiConfig::default()
    })
    .await;
    let infos = device.json(b"MOSIPDINFO", "/info", None).await;
    let infos = infos.as_array().unwrap();
    assert_eq!(infos.len(), 2);
    let first = verified_payload(infos[0]["deviceInfo"].as_str().unwrap());
    assert_eq!(infos[0]["error"]["errorCode"], "0");
    for member in [
        "specVersion",
        "env",
        "digitalId",
        "deviceId",
        "purpose",
        "serviceVersion",
        "deviceStatus",
        "firmware",
        "certification",
        "deviceSubId",
        "callbackId",
        "deviceCode",
    ] {
        assert!(first.contains_key(member), "{member}");
    }
    assert_eq!(first["certification"], "L1");
    assert_eq!(first["purpose"], "Auth");
    assert_eq!(first["deviceStatus"], "Ready");
    let digital_id = verified_payload(first["digitalId"].as_str().unwrap());
    assert_eq!(digital_id["type"], "Iris");
    assert_eq!(digital_id["deviceSubType"], "Double");
    assert_eq!(digital_id["dateTime"], "2026-01-01T08:00:00.000Z");
    assert!(digital_id["serialNo"].as_str().unwrap().len() >= 12);
    for member in ["make", "model", "deviceProvider", "deviceProviderId"] {
        assert!(
            digital_id[member].as_str().is_some_and(|v| !v.is_empty()),
            "{member}"
        );
    }
}

#[tokio::test]
async fn capture_returns_one_signed_entry_per_requested_biometric() {
    let device = start(MockSbiConfig::default()).await;
    let cases = [
        (
            json!({"type": "Face", "count": 1, "bioSubType": null, "requestedScore": 70,
                "deviceId": "1", "deviceSubId": "0", "previousHash": ""}),
            vec![""],
        ),
        (
            json!({"type": "Finger", "count": "2", "bioSubType": ["Left IndexFinger", "Right Thumb"],
                "requestedScore": 60, "deviceId": "2", "deviceSubId": "0", "previousHash": ""}),
            vec!["Left IndexFinger", "Right Thumb"],
        ),
        (
            json!({"type": "Iris", "count": 2, "bioSubType": ["UNKNOWN"], "requestedScore": 70,
                "deviceId": "3", "deviceSubId": "0", "previousHash": ""}),
            vec!["UNKNOWN", "UNKNOWN"],
        ),
    ];
    for (bio, sub_types) in cases {
        let entries = device.capture(capture_request(bio.clone())).await;
        assert_eq!(entries.len(), sub_types.len(), "{bio}");
        let mut previous = String::new();
        for (entry, sub_type) in entries.iter().zip(sub_types) {
            assert_eq!(
                entry["error"],
                json!({"errorCode": "0", "errorInfo": "Success"})
            );
            assert_eq!(entry["specVersion"], "0.9.5");
            assert!(entry["sessionKey"].as_str().is_some_and(|v| !v.is_empty()));
            assert_eq!(entry["thumbprint"].as_str().unwrap().len(), 64);
            let payload = verified_payload(entry["data"].as_str().unwrap());
            assert_eq!(payload["bioType"], bio["type"]);
            assert_eq!(payload["bioSubType"], sub_type);
            assert_eq!(payload["transactionId"], TXN);
            assert_eq!(payload["purpose"], "Auth");
            assert_eq!(payload["env"], "Developer");
            assert_eq!(payload["domainUri"], "http://127.0.0.1:8088");
            assert_eq!(payload["qualityScore"], 80);
            assert_eq!(payload["requestedScore"], bio["requestedScore"]);
            assert_eq!(payload["timestamp"], "2026-01-01T08:00:00.000Z");
            let template =
                esignet_jose::b64url_decode(payload["bioValue"].as_str().unwrap()).unwrap();
            assert!(template.len() >= 128);
            let digital_id = verified_payload(payload["digitalId"].as_str().unwrap());
            assert_eq!(digital_id["type"], bio["type"]);
            // The hash chains from the request's previousHash.
            let template_hash = hex(&esignet_jose::sha256(&template));
            let expected = hex(&esignet_jose::sha256(
                format!("{previous}{template_hash}").as_bytes(),
            ));
            assert_eq!(entry["hash"], expected.as_str());
            previous = expected;
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

async fn refusal(device: &Device, body: reqwest::Body) -> String {
    let response = device
        .client
        .request(
            Method::from_bytes(b"CAPTURE").unwrap(),
            format!("{}/capture", device.base),
        )
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "devices answer errors in the body"
    );
    let value: Value = response.json().await.unwrap();
    let entries = value["biometrics"].as_array().unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["data"], "");
    assert!(
        entries[0]["error"]["errorInfo"]
            .as_str()
            .is_some_and(|i| !i.is_empty())
    );
    entries[0]["error"]["errorCode"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn refused_captures_carry_sbi_error_codes() {
    let device = start(MockSbiConfig {
        modalities: vec![Modality::Finger],
        ..MockSbiConfig::default()
    })
    .await;
    let finger = json!({"type": "Finger", "count": 1, "bioSubType": ["UNKNOWN"], "deviceId": "2"});
    let with = |edit: &dyn Fn(&mut Value)| {
        let mut body = capture_request(finger.clone());
        edit(&mut body);
        reqwest::Body::from(body.to_string())
    };
    let cases: Vec<(reqwest::Body, &str)> = vec![
        (
            with(&|b| {
                b.as_object_mut().unwrap().remove("transactionId");
            }),
            "503",
        ),
        (with(&|b| b["transactionId"] = json!("  ")), "503"),
        (with(&|b| b["purpose"] = json!("Registration")), "502"),
        (
            with(&|b| {
                b.as_object_mut().unwrap().remove("purpose");
            }),
            "502",
        ),
        (with(&|b| b["bio"][0]["count"] = json!(11)), "109"),
        (with(&|b| b["bio"][0]["count"] = json!(0)), "109"),
        (with(&|b| b["bio"][0]["type"] = json!("Face")), "106"),
        (with(&|b| b["bio"][0]["deviceId"] = json!("9")), "106"),
        (with(&|b| b["bio"] = json!([])), "501"),
        (reqwest::Body::from("{not json"), "501"),
    ];
    for (body, code) in cases {
        assert_eq!(refusal(&device, body).await, code);
    }
}

#[tokio::test]
async fn a_capture_slower_than_its_timeout_fails() {
    let device = start(MockSbiConfig {
        capture_delay: Duration::from_millis(400),
        ..MockSbiConfig::default()
    })
    .await;
    let mut body = capture_request(json!({"type": "Face", "count": 1}));
    body["timeout"] = json!(50);
    assert_eq!(
        refusal(&device, reqwest::Body::from(body.to_string())).await,
        "504"
    );
    body["timeout"] = json!("2000");
    assert_eq!(device.capture(body).await[0]["error"]["errorCode"], "0");
}

#[tokio::test]
async fn wrong_methods_and_paths_are_refused() {
    let device = start(MockSbiConfig::default()).await;
    let response = device.call(b"GET", "/device", None).await;
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(response.headers()["allow"], "MOSIPDISC");
    assert_eq!(
        device.call(b"CAPTURE", "/info", None).await.status(),
        StatusCode::METHOD_NOT_ALLOWED
    );
    assert_eq!(
        device.call(b"MOSIPDISC", "/nothing", None).await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn cors_preflight_and_responses_allow_the_calling_page() {
    let device = start(MockSbiConfig::default()).await;
    let origin = "https://esignet.example";
    let preflight = device
        .client
        .request(Method::OPTIONS, format!("{}/capture", device.base))
        .header("origin", origin)
        .header("access-control-request-method", "CAPTURE")
        .header("access-control-request-headers", "content-type")
        .header("access-control-request-private-network", "true")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), StatusCode::NO_CONTENT);
    let headers = preflight.headers();
    assert_eq!(headers["access-control-allow-origin"], origin);
    let methods = headers["access-control-allow-methods"].to_str().unwrap();
    for method in ["MOSIPDISC", "MOSIPDINFO", "CAPTURE"] {
        assert!(methods.contains(method), "{methods}");
    }
    assert_eq!(headers["access-control-allow-headers"], "content-type");
    assert_eq!(headers["access-control-allow-private-network"], "true");
    assert_eq!(headers["vary"], "Origin");

    let discovery = device
        .client
        .request(
            Method::from_bytes(b"MOSIPDISC").unwrap(),
            format!("{}/device", device.base),
        )
        .header("origin", origin)
        .json(&json!({"type": "Biometric Device"}))
        .send()
        .await
        .unwrap();
    assert_eq!(discovery.headers()["access-control-allow-origin"], origin);
    let without_origin = device.call(b"MOSIPDINFO", "/info", None).await;
    assert_eq!(without_origin.headers()["access-control-allow-origin"], "*");
}

#[tokio::test]
async fn an_unusable_configuration_is_refused() {
    let clock = Arc::new(ManualClock::new(datetime!(2026-01-01 08:00 UTC)));
    let address: SocketAddr = "127.0.0.1:4501".parse().unwrap();
    for config in [
        MockSbiConfig {
            modalities: vec![],
            ..MockSbiConfig::default()
        },
        MockSbiConfig {
            modalities: vec![Modality::Face, Modality::Face],
            ..MockSbiConfig::default()
        },
        MockSbiConfig {
            quality_score: 101,
            ..MockSbiConfig::default()
        },
    ] {
        assert!(esignet_mock_sbi::MockSbi::new(config, clock.clone(), address).is_err());
    }
}

mod with_the_mock_identity_system {
    use super::*;
    use esignet_cache_memory::MemoryCache;
    use esignet_mock_authenticator::{Directory, MockAuthenticator, MockSettings};
    use esignet_spi::{
        AuthChallenge, Authenticator, KycAuthRequest, SignerError, SigningCertificate, TokenSigner,
    };

    /// kyc-auth signs nothing; a signer that refuses is enough.
    struct NoSigner;

    impl TokenSigner for NoSigner {
        fn sign_jws(&self, _: Option<&str>, _: &[u8]) -> Result<String, SignerError> {
            Err(SignerError::NoActiveKey)
        }
        fn algorithm(&self) -> &'static str {
            "RS256"
        }
        fn certificates(&self) -> Vec<SigningCertificate> {
            Vec::new()
        }
        fn public_jwks(&self) -> Vec<Value> {
            Vec::new()
        }
        fn verify_jws(&self, _: &str) -> Option<Vec<u8>> {
            None
        }
    }

    /// What the eSignet UI sends: base64(JSON.stringify(biometrics without `error`)).
    fn bio_challenge(entries: &[Value]) -> String {
        let stripped: Vec<Value> = entries
            .iter()
            .map(|entry| {
                let mut entry = entry.clone();
                entry.as_object_mut().unwrap().remove("error");
                entry
            })
            .collect();
        STANDARD.encode(Value::Array(stripped).to_string())
    }

    async fn kyc_auth(challenge: String, transaction_id: &str) -> Result<(), String> {
        let clock = Arc::new(ManualClock::new(datetime!(2026-01-01 08:00 UTC)));
        let authenticator = MockAuthenticator::new(
            Directory::demo().unwrap(),
            Arc::new(NoSigner),
            MemoryCache::new(clock.clone()),
            clock,
            MockSettings::new("https://esignet.test"),
        );
        authenticator
            .kyc_auth(
                "rp",
                "client",
                false,
                KycAuthRequest {
                    transaction_id: transaction_id.to_owned(),
                    individual_id: "5860142938".to_owned(),
                    challenges: vec![AuthChallenge {
                        auth_factor_type: "BIO".to_owned(),
                        challenge,
                        format: "encoded-json".to_owned(),
                    }],
                },
            )
            .await
            .map(|_| ())
            .map_err(|error| error.code)
    }

    #[tokio::test]
    async fn a_real_capture_authenticates_for_its_transaction_only() {
        let device = start(MockSbiConfig::default()).await;
        for bio in [
            json!({"type": "Face", "count": 1, "bioSubType": null, "requestedScore": 70,
                   "deviceId": "1", "deviceSubId": "0", "previousHash": ""}),
            json!({"type": "Finger", "count": 2, "bioSubType": ["UNKNOWN"], "requestedScore": 70,
                   "deviceId": "2", "deviceSubId": "0", "previousHash": ""}),
        ] {
            let entries = device.capture(capture_request(bio)).await;
            assert_eq!(kyc_auth(bio_challenge(&entries), TXN).await, Ok(()));
            assert_eq!(
                kyc_auth(bio_challenge(&entries), "Zx8wV7u6T5").await,
                Err("auth_failed".to_owned()),
                "a capture for another transaction"
            );
        }
        let mut tampered = device
            .capture(capture_request(json!({"type": "Iris", "count": 1})))
            .await;
        tampered[0]["data"] = json!("not-a-jws");
        assert_eq!(
            kyc_auth(bio_challenge(&tampered), TXN).await,
            Err("auth_failed".to_owned())
        );
    }
}
