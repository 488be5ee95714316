//! The client's own credentials and proofs: `private_key_jwt` assertions (RFC 7523), DPoP
//! proofs (RFC 9449) and PKCE pairs (RFC 7636).

use std::path::Path;

use anyhow::Context as _;
use esignet_jose::{Algorithm, PrivateKey, random_id, sha256_b64url, sign_compact};
use serde_json::{Map, Value, json};
use time::OffsetDateTime;

use crate::error::LoginError;

/// How long a client assertion is valid. Short: it is used at once, and the provider keeps
/// its `jti` in a replay cache for at least this long.
const ASSERTION_LIFETIME_SECS: i64 = 60;

/// The client's keys, loaded once at start.
pub(crate) struct ClientKeys {
    client_id: String,
    signing: PrivateKey,
    alg: Algorithm,
    kid: Option<String>,
    decryption: PrivateKey,
}

impl ClientKeys {
    /// Reads the signing key (a private JWK, as the provider writes `demo-client-key.json`)
    /// and the optional separate decryption key. The JWK's `alg` is honoured when present;
    /// otherwise RSA keys sign with RS256 and EC keys with ES256. Without a decryption key,
    /// JWE userinfo is decrypted with the signing key, which is what the provider encrypts
    /// to when a client registered no encryption key.
    pub fn load(
        client_id: &str,
        private_key_file: &Path,
        encryption_key_file: Option<&Path>,
    ) -> anyhow::Result<Self> {
        let (signing, jwk) = read_private_jwk(private_key_file)?;
        let alg = match jwk.get("alg").and_then(Value::as_str) {
            Some(name) => Algorithm::parse(name).with_context(|| {
                format!(
                    "{}: alg {name} is not one of RS256, PS256, ES256",
                    private_key_file.display()
                )
            })?,
            None if signing.public_jwk().kty() == "RSA" => Algorithm::RS256,
            None => Algorithm::ES256,
        };
        anyhow::ensure!(
            signing.public_jwk().supports(alg),
            "{}: a {} key cannot sign {alg}",
            private_key_file.display(),
            signing.public_jwk().kty()
        );
        let kid = jwk.get("kid").and_then(Value::as_str).map(str::to_owned);
        let decryption = match encryption_key_file {
            Some(path) => read_private_jwk(path)?.0,
            None => signing.clone(),
        };
        Ok(Self {
            client_id: client_id.to_owned(),
            signing,
            alg,
            kid,
            decryption,
        })
    }

    /// The client id.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The key JWE userinfo is encrypted to.
    pub fn decryption_key(&self) -> &PrivateKey {
        &self.decryption
    }

    /// A fresh client assertion for `audience` (the provider's issuer identifier): `iss` = `sub` =
    /// the client id, a random `jti`, valid for [`ASSERTION_LIFETIME_SECS`]. Signing runs on
    /// the blocking pool because RSA signing costs about a millisecond.
    pub async fn assertion(
        &self,
        audience: &str,
        now: OffsetDateTime,
    ) -> Result<String, LoginError> {
        let issued_at = now.unix_timestamp();
        let claims = json!({
            "iss": self.client_id,
            "sub": self.client_id,
            "aud": audience,
            "iat": issued_at,
            "exp": issued_at + ASSERTION_LIFETIME_SECS,
            "jti": random_id(),
        });
        let mut header = Map::new();
        header.insert("typ".into(), Value::from("JWT"));
        if let Some(kid) = &self.kid {
            header.insert("kid".into(), Value::from(kid.clone()));
        }
        let key = self.signing.clone();
        let alg = self.alg;
        tokio::task::spawn_blocking(move || {
            sign_compact(&key, alg, &header, claims.to_string().as_bytes())
        })
        .await
        .map_err(|_| signing_failed())?
        .map_err(|_| signing_failed())
    }
}

fn signing_failed() -> LoginError {
    LoginError::local(
        axum::http::StatusCode::INTERNAL_SERVER_ERROR,
        "The portal could not sign its request to the identity provider.",
        "client_key_error",
        "The client key could not sign a client assertion; check the key file.",
    )
}

/// Reads a private JWK file; the error names the file but never its contents.
fn read_private_jwk(path: &Path) -> anyhow::Result<(PrivateKey, Map<String, Value>)> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the key file {}", path.display()))?;
    let value: Value = serde_json::from_str(&text)
        .map_err(|_| anyhow::anyhow!("{} is not a JSON document", path.display()))?;
    let key = PrivateKey::from_private_jwk_json(&value)
        .with_context(|| format!("{} is not a usable private JWK", path.display()))?;
    match value {
        Value::Object(object) => Ok((key, object)),
        _ => anyhow::bail!("{} is not a JSON object", path.display()),
    }
}

/// A DPoP proof (RFC 9449 §4.2) for `htm` `htu`, signed ES256 with the per-login key, with
/// the server `nonce` when one was demanded and `ath` when presenting `access_token`.
pub(crate) fn dpop_proof(
    key: &PrivateKey,
    htm: &str,
    htu: &str,
    now: OffsetDateTime,
    nonce: Option<&str>,
    access_token: Option<&str>,
) -> Result<String, LoginError> {
    let mut header = Map::new();
    header.insert("typ".into(), Value::from("dpop+jwt"));
    header.insert("jwk".into(), key.public_jwk().to_json());
    let mut claims = Map::new();
    claims.insert("jti".into(), Value::from(random_id()));
    claims.insert("htm".into(), Value::from(htm));
    claims.insert("htu".into(), Value::from(strip_query(htu)));
    claims.insert("iat".into(), Value::from(now.unix_timestamp()));
    if let Some(nonce) = nonce {
        claims.insert("nonce".into(), Value::from(nonce));
    }
    if let Some(token) = access_token {
        claims.insert("ath".into(), Value::from(sha256_b64url(token.as_bytes())));
    }
    sign_compact(
        key,
        Algorithm::ES256,
        &header,
        Value::Object(claims).to_string().as_bytes(),
    )
    .map_err(|_| signing_failed())
}

/// `htu` is the request URI without query and fragment (RFC 9449 §4.2).
fn strip_query(uri: &str) -> &str {
    uri.split(['?', '#']).next().unwrap_or(uri)
}

/// A fresh PKCE pair: a 43-character verifier (256 random bits in the RFC 7636 §4.1 alphabet)
/// and its S256 challenge.
pub(crate) fn pkce_pair() -> (String, String) {
    let verifier = random_id();
    let challenge = sha256_b64url(verifier.as_bytes());
    (verifier, challenge)
}

#[cfg(test)]
mod tests {
    use super::*;
    use esignet_jose::decode_compact;

    #[test]
    fn dpop_proofs_carry_the_public_key_nonce_and_ath() {
        let key = PrivateKey::generate_ec_p256().unwrap();
        let now = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
        let proof = dpop_proof(
            &key,
            "GET",
            "https://op.example/userinfo?x=1#f",
            now,
            Some("n-1"),
            Some("token"),
        )
        .unwrap();
        let decoded = decode_compact(&proof).unwrap();
        assert_eq!(decoded.typ(), Some("dpop+jwt"));
        assert!(decoded.verify(&key.public_jwk()));
        assert_eq!(decoded.header["jwk"], key.public_jwk().to_json());
        let claims = decoded.claims().unwrap();
        assert_eq!(claims["htu"], "https://op.example/userinfo");
        assert_eq!(claims["htm"], "GET");
        assert_eq!(claims["iat"], 1_800_000_000);
        assert_eq!(claims["nonce"], "n-1");
        assert_eq!(claims["ath"], sha256_b64url(b"token"));
    }

    #[test]
    fn pkce_verifiers_are_long_enough_and_match_their_challenge() {
        let (verifier, challenge) = pkce_pair();
        assert_eq!(verifier.len(), 43);
        assert!(
            verifier
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        assert_eq!(challenge, sha256_b64url(verifier.as_bytes()));
        assert_ne!(pkce_pair().0, verifier);
    }
}
