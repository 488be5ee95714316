//! Fixture builders: records with every field filled, and ids that never repeat.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};

use esignet_spi::{ClientRecord, ClientStatus, Clock, ConsentRecord, KeyRecord, SystemClock};
use serde_json::{Map, Value, json};
use time::macros::datetime;

/// A fresh identifier starting with `prefix`, unique across calls, threads, processes and runs.
///
/// Contract suites run against shared databases (a PostgreSQL schema that outlives the test run)
/// and against each other concurrently, so ids combine the wall-clock time, the process id, a
/// per-process counter and a per-process random seed (from the standard library's randomly
/// keyed hasher, so no extra dependency is needed).
pub fn unique_id(prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let sequence = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemClock.now().unix_timestamp_nanos();
    let seed = RandomState::new().hash_one(sequence);
    format!(
        "{prefix}-{nanos:x}-{pid:x}-{sequence:x}-{seed:016x}",
        pid = std::process::id()
    )
}

/// A client with every field set, including both optional ones, a multi-language name with
/// non-ASCII text and a nested `additional_config`.
///
/// The public key and its hash are derived from `id`, so two samples with different ids never
/// collide on `public_key_hash`. Timestamps have microsecond precision, the finest every backend
/// keeps (PostgreSQL `timestamp` stores microseconds).
pub fn sample_client(id: &str) -> ClientRecord {
    ClientRecord {
        client_id: id.to_owned(),
        name: lang_map(&[
            ("@none", &format!("Health portal {id}")),
            ("fra", "Portail santé"),
            ("ara", "بوابة الصحة"),
        ]),
        relying_party_id: format!("rp-{id}"),
        logo_uri: "https://rp.example.org/assets/logo.png".to_owned(),
        redirect_uris: vec![
            "https://rp.example.org/callback".to_owned(),
            "https://rp.example.org/app/*".to_owned(),
        ],
        claims: vec![
            "name".to_owned(),
            "email".to_owned(),
            "phone_number".to_owned(),
        ],
        acr_values: vec![
            "mosip:idp:acr:generated-code".to_owned(),
            "mosip:idp:acr:password".to_owned(),
        ],
        public_key: json!({
            "kty": "RSA",
            "e": "AQAB",
            "n": format!("modulus-{id}"),
            "kid": format!("sig-{id}"),
            "use": "sig",
            "alg": "RS256",
        }),
        public_key_hash: format!("pkh-{id}"),
        enc_public_key: Some(json!({
            "kty": "RSA",
            "e": "AQAB",
            "n": format!("enc-modulus-{id}"),
            "kid": format!("enc-{id}"),
            "use": "enc",
            "alg": "RSA-OAEP-256",
        })),
        grant_types: vec!["authorization_code".to_owned()],
        auth_methods: vec!["private_key_jwt".to_owned()],
        status: ClientStatus::Active,
        additional_config: Some(json!({
            "userinfo_response_type": "JWE",
            "purpose": {
                "type": "verify",
                "title": {"@none": "Verify yourself", "fra": "Vérifiez-vous"},
                "subTitle": null,
            },
            "signup_banner_required": true,
            "forgot_pwd_link_required": false,
            "consent_expire_in_mins": 20,
            "require_pushed_authorization_requests": false,
            "dpop_bound_access_tokens": true,
        })),
        created_at: datetime!(2025-01-02 03:04:05.123456 UTC),
        updated_at: Some(datetime!(2025-02-03 04:05:06.654321 UTC)),
    }
}

/// A consent of `psu_token` for `client_id` with every field set and a fresh `id`.
pub fn sample_consent(client_id: &str, psu_token: &str) -> ConsentRecord {
    ConsentRecord {
        id: unique_id("consent"),
        client_id: client_id.to_owned(),
        psu_token: psu_token.to_owned(),
        claims: json!({
            "userinfo": {
                "name": [{"essential": true}],
                "email": [{"essential": false}],
            },
            "id_token": {},
        }),
        authorization_scopes: json!({"resident-service": false}),
        created_at: datetime!(2025-03-04 05:06:07.250000 UTC),
        expires_at: Some(datetime!(2025-03-04 06:06:07.250000 UTC)),
        signature: Some("eyJhbGciOiJSUzI1NiJ9..c2lnbmF0dXJl".to_owned()),
        hash: format!("request-hash-{client_id}-{psu_token}"),
        accepted_claims: vec!["name".to_owned(), "email".to_owned()],
        permitted_scopes: vec!["resident-service".to_owned()],
    }
}

/// A key of `application` named `kid`, with every field set. The encrypted private key holds
/// bytes that are not valid UTF-8 (including 0x00 and 0xFF), so a backend that stores it as text
/// fails the round trip.
pub fn sample_key(application: &str, kid: &str) -> KeyRecord {
    let mut encrypted_private_key = vec![0x00, 0xFF, 0xFE, 0x80, 0x0A, 0x00];
    encrypted_private_key.extend_from_slice(kid.as_bytes());
    KeyRecord {
        kid: kid.to_owned(),
        application: application.to_owned(),
        algorithm: "RS256".to_owned(),
        encrypted_private_key,
        certificate_pem: format!(
            "-----BEGIN CERTIFICATE-----\nTUlJQ{kid}\n-----END CERTIFICATE-----\n"
        ),
        not_before: datetime!(2025-01-01 00:00:00 UTC),
        not_after: datetime!(2028-01-01 00:00:00.000001 UTC),
        created_at: datetime!(2025-01-01 00:00:00.500000 UTC),
    }
}

/// A language map (`{"@none": .., "fra": ..}`) from pairs.
fn lang_map(pairs: &[(&str, &str)]) -> Map<String, Value> {
    pairs
        .iter()
        .map(|(lang, text)| ((*lang).to_owned(), Value::String((*text).to_owned())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_ids_do_not_repeat_and_keep_the_prefix() {
        let ids: std::collections::HashSet<String> =
            (0..1000).map(|_| unique_id("client")).collect();
        assert_eq!(ids.len(), 1000);
        assert!(ids.iter().all(|id| id.starts_with("client-")));
    }

    #[test]
    fn samples_with_different_ids_have_different_key_hashes() {
        assert_ne!(
            sample_client("a").public_key_hash,
            sample_client("b").public_key_hash
        );
        assert_ne!(sample_consent("c", "p").id, sample_consent("c", "p").id);
    }
}
