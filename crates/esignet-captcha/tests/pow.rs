//! The proof-of-work captcha: issue, solve, verify, and every way a token can be wrong.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use esignet_cache_memory::MemoryCache;
use esignet_captcha::{PowCaptcha, PowChallenge, PowConfig, REPLAY_NAMESPACE, solve};
use esignet_spi::{
    Cache, CacheError, CaptchaError, CaptchaVerifier, Clock, ManualClock, Subscription,
};
use time::macros::datetime;

const KEY: [u8; 32] = [7; 32];

struct Setup {
    clock: Arc<ManualClock>,
    cache: Arc<MemoryCache>,
    captcha: PowCaptcha,
}

fn setup(difficulty_bits: u8) -> Setup {
    let clock = Arc::new(ManualClock::new(datetime!(2026-01-01 08:00 UTC)));
    let cache = MemoryCache::new(clock.clone());
    let captcha = PowCaptcha::new(
        KEY,
        PowConfig {
            difficulty_bits,
            challenge_ttl: Duration::from_secs(120),
        },
        cache.clone(),
        clock.clone(),
    );
    Setup {
        clock,
        cache,
        captcha,
    }
}

fn zero_bits(token: &str) -> u32 {
    let hash = esignet_jose::sha256(token.as_bytes());
    let mut bits = 0;
    for byte in hash {
        if byte == 0 {
            bits += 8;
        } else {
            return bits + byte.leading_zeros();
        }
    }
    bits
}

fn issue(captcha: &PowCaptcha, action: &str) -> PowChallenge {
    captcha.issue(action).expect("a known action")
}

#[tokio::test]
async fn a_valid_solution_is_accepted_exactly_once() {
    let s = setup(8);
    let challenge = issue(&s.captcha, "send-otp");
    let token = solve(&challenge).unwrap();
    assert!(token.starts_with(&format!("{}.", challenge.challenge)));
    assert!(zero_bits(&token) >= 8);
    assert_eq!(s.captcha.verify(&token, "send-otp").await, Ok(true));
    assert_eq!(
        s.captcha.verify(&token, "send-otp").await,
        Ok(false),
        "replay"
    );
    // Another nonce for the same challenge is a replay too: single use is per challenge.
    let other = (1..)
        .map(|n: u64| format!("{}.{}", challenge.challenge, n * 7919))
        .find(|t| *t != token && zero_bits(t) >= 8)
        .unwrap();
    assert_eq!(s.captcha.verify(&other, "send-otp").await, Ok(false));
}

#[tokio::test]
async fn the_challenge_json_is_what_the_page_expects() {
    let s = setup(14);
    let value = s.captcha.challenge("pwd").unwrap().unwrap();
    assert_eq!(value["kind"], "pow");
    assert_eq!(value["algorithm"], "SHA-256");
    assert_eq!(value["difficulty"], 14);
    assert_eq!(value["action"], "pwd");
    assert_eq!(value["expiresIn"], 120);
    assert_eq!(
        value["expiresAt"],
        s.clock.now().unix_timestamp() + 120,
        "unix seconds"
    );
    let challenge = value["challenge"].as_str().unwrap();
    assert_eq!(challenge.split('.').count(), 2);
    assert!(
        challenge
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    );
    // Fresh salt every time.
    assert_ne!(
        s.captcha.challenge("pwd").unwrap().unwrap()["challenge"],
        value["challenge"]
    );
    assert_eq!(s.captcha.challenge("login").unwrap(), None);
    assert_eq!(s.captcha.kind(), "pow");
}

#[tokio::test]
async fn a_wrong_nonce_is_rejected() {
    let s = setup(12);
    let challenge = issue(&s.captcha, "pwd");
    let token = solve(&challenge).unwrap();
    let (prefix, nonce) = token.rsplit_once('.').unwrap();
    let wrong = (0..)
        .map(|n: u64| format!("{prefix}.{}", nonce.parse::<u64>().unwrap() + 1 + n))
        .find(|t| zero_bits(t) < 12)
        .unwrap();
    assert_eq!(s.captcha.verify(&wrong, "pwd").await, Ok(false));
    // A failed attempt does not consume the challenge.
    assert_eq!(s.captcha.verify(&token, "pwd").await, Ok(true));
}

#[tokio::test]
async fn insufficient_work_is_rejected() {
    let s = setup(12);
    let challenge = issue(&s.captcha, "pin");
    // Real work, just not enough of it: at least 8 zero bits but fewer than 12.
    let weak = (0..)
        .map(|n: u64| format!("{}.{n}", challenge.challenge))
        .find(|t| (8..12).contains(&zero_bits(t)))
        .unwrap();
    assert_eq!(s.captcha.verify(&weak, "pin").await, Ok(false));
}

#[tokio::test]
async fn an_expired_challenge_is_rejected() {
    let s = setup(8);
    let challenge = issue(&s.captcha, "kbi");
    let token = solve(&challenge).unwrap();
    s.clock.advance(time::Duration::seconds(119));
    let early = solve(&issue(&s.captcha, "kbi")).unwrap();
    assert_eq!(s.captcha.verify(&early, "kbi").await, Ok(true));
    s.clock.advance(time::Duration::seconds(1));
    assert_eq!(s.captcha.verify(&token, "kbi").await, Ok(false));
}

#[tokio::test]
async fn a_tampered_challenge_is_rejected() {
    let s = setup(8);
    let challenge = issue(&s.captcha, "bio");
    let (payload, mac) = challenge.challenge.split_once('.').unwrap();

    // A flipped signature character.
    let mut bad_mac = mac.to_owned();
    let last = bad_mac.pop().unwrap();
    bad_mac.push(if last == 'A' { 'B' } else { 'A' });
    let forged = PowChallenge {
        challenge: format!("{payload}.{bad_mac}"),
        ..challenge.clone()
    };
    assert_eq!(
        s.captcha.verify(&solve(&forged).unwrap(), "bio").await,
        Ok(false)
    );

    // An easier payload under the old signature.
    let mut claims: serde_json::Value =
        serde_json::from_slice(&esignet_jose::b64url_decode(payload).unwrap()).unwrap();
    claims["d"] = 1.into();
    let easier = esignet_jose::b64url_encode(claims.to_string().as_bytes());
    let forged = PowChallenge {
        challenge: format!("{easier}.{mac}"),
        difficulty: 1,
        ..challenge.clone()
    };
    assert_eq!(
        s.captcha.verify(&solve(&forged).unwrap(), "bio").await,
        Ok(false)
    );

    // A challenge signed with another key.
    let other = PowCaptcha::new(
        [8; 32],
        PowConfig::default(),
        s.cache.clone(),
        s.clock.clone(),
    );
    let foreign = solve(&other.issue("bio").unwrap()).unwrap();
    assert_eq!(s.captcha.verify(&foreign, "bio").await, Ok(false));

    // The untouched challenge still works.
    assert_eq!(
        s.captcha.verify(&solve(&challenge).unwrap(), "bio").await,
        Ok(true)
    );
}

#[tokio::test]
async fn a_solution_for_another_action_is_rejected() {
    let s = setup(8);
    let token = solve(&issue(&s.captcha, "send-otp")).unwrap();
    assert_eq!(s.captcha.verify(&token, "pwd").await, Ok(false));
    assert_eq!(s.captcha.verify(&token, "send-otp").await, Ok(true));
}

#[tokio::test]
async fn malformed_tokens_are_rejected_not_errors() {
    let s = setup(8);
    let token = solve(&issue(&s.captcha, "pwd")).unwrap();
    let (prefix, nonce) = token.rsplit_once('.').unwrap();
    for bad in [
        String::new(),
        "   ".to_owned(),
        prefix.to_owned(),
        format!("{token}.1"),
        format!("{prefix}.-{nonce}"),
        format!("{prefix}.{nonce}x"),
        format!("{prefix}.{}", "1".repeat(17)),
        format!("{prefix}.{nonce}{}", "0".repeat(600)),
        "a.b.c".to_owned(),
        "%%%.%%%.1".to_owned(),
    ] {
        assert_eq!(s.captcha.verify(&bad, "pwd").await, Ok(false), "{bad}");
    }
    assert_eq!(s.captcha.verify(&token, "pwd").await, Ok(true));
}

#[tokio::test]
async fn instances_sharing_key_and_cache_verify_each_others_challenges_once() {
    let s = setup(8);
    let second = PowCaptcha::new(
        KEY,
        PowConfig {
            difficulty_bits: 8,
            challenge_ttl: Duration::from_secs(120),
        },
        s.cache.clone(),
        s.clock.clone(),
    );
    let token = solve(&issue(&s.captcha, "pwd")).unwrap();
    assert_eq!(second.verify(&token, "pwd").await, Ok(true));
    assert_eq!(s.captcha.verify(&token, "pwd").await, Ok(false));
    let key = esignet_jose::sha256_b64url(token.split('.').next().unwrap().as_bytes());
    assert!(s.cache.get(REPLAY_NAMESPACE, &key).await.unwrap().is_some());
}

#[tokio::test]
async fn difficulty_is_clamped_to_the_supported_range() {
    assert_eq!(setup(1).captcha.config().difficulty_bits, 8);
    assert_eq!(setup(200).captcha.config().difficulty_bits, 32);
}

/// A cache that is down.
struct DownCache;

#[async_trait::async_trait]
impl Cache for DownCache {
    async fn put(&self, _: &str, _: &str, _: Vec<u8>, _: Duration) -> Result<(), CacheError> {
        Err(CacheError::Unavailable("down".into()))
    }
    async fn get(&self, _: &str, _: &str) -> Result<Option<Vec<u8>>, CacheError> {
        Err(CacheError::Unavailable("down".into()))
    }
    async fn take(&self, _: &str, _: &str) -> Result<Option<Vec<u8>>, CacheError> {
        Err(CacheError::Unavailable("down".into()))
    }
    async fn delete(&self, _: &str, _: &str) -> Result<(), CacheError> {
        Err(CacheError::Unavailable("down".into()))
    }
    async fn put_if_absent(
        &self,
        _: &str,
        _: &str,
        _: Vec<u8>,
        _: Duration,
    ) -> Result<bool, CacheError> {
        Err(CacheError::Unavailable("down".into()))
    }
    async fn increment(&self, _: &str, _: &str, _: Duration) -> Result<u64, CacheError> {
        Err(CacheError::Unavailable("down".into()))
    }
    async fn publish(&self, _: &str, _: &str) -> Result<(), CacheError> {
        Err(CacheError::Unavailable("down".into()))
    }
    async fn subscribe(&self, _: &str) -> Result<Subscription, CacheError> {
        Err(CacheError::Unavailable("down".into()))
    }
}

#[tokio::test]
async fn an_unreachable_replay_cache_is_an_error_but_garbage_is_still_just_rejected() {
    let clock = Arc::new(ManualClock::new(datetime!(2026-01-01 08:00 UTC)));
    let captcha = PowCaptcha::new(
        KEY,
        PowConfig {
            difficulty_bits: 8,
            challenge_ttl: Duration::from_secs(60),
        },
        Arc::new(DownCache),
        clock,
    );
    let token = solve(&captcha.issue("pwd").unwrap()).unwrap();
    assert!(matches!(
        captcha.verify(&token, "pwd").await,
        Err(CaptchaError::Unavailable(_))
    ));
    assert_eq!(captcha.verify("garbage", "pwd").await, Ok(false));
}
