//! Signatures made with wallet-bound keys: WLA tokens (wallet login, reference §8.8, §9) and
//! the detached signature of a wallet's consent (§8.11). Both name the bound certificate by its
//! `x5t#S256` thumbprint; the key is taken from the registered certificate (never from the
//! token), after [`Core::bound_key`] has checked the binding and the certificate.
//!
//! A WLA token is a compact JWS (`RS256`, `PS256` or `ES256`, matching the bound key) with
//! header `x5t#S256` and claims:
//! * `sub`: the individual id being logged in (compared in constant time);
//! * `aud`: the binding audience (`wallet.binding_audience`), a string or an array holding it;
//! * `iat`: at most `wla_max_age` old and not more than `wla_clock_skew` in the future;
//! * `exp`: not passed (with `wla_clock_skew`);
//! * `jti`: unique; a token is accepted once (the replay cache keeps it until it expires);
//! * `iss`: optional (eSignet requires it, but never checks its value).

use std::time::Duration;

use esignet_jose::decode_compact;
use serde_json::{Map, Value, json};

use crate::codes;
use crate::error::{Error, Result};
use crate::service::Core;
use crate::transaction::stage;
use crate::wallet::{WLA, WalletSupport};

impl Core {
    /// Verifies every `WLA` challenge of a login (browser or wallet) with [`Core::verify_wla`],
    /// so no identity system ever sees an unverified WLA token. `not_implemented` when the
    /// wallet is not enabled and a WLA challenge is present.
    pub(crate) async fn verify_wla_challenges(
        &self,
        challenges: &[esignet_spi::AuthChallenge],
        individual_id: &str,
        id_hash: &str,
    ) -> Result<()> {
        // Collected first: an iterator adapter held across an await makes the future
        // lifetime-generic, which axum handlers cannot be.
        let mut tokens: Vec<&str> = Vec::new();
        for challenge in challenges {
            if challenge.auth_factor_type == WLA {
                tokens.push(challenge.challenge.as_str());
            }
        }
        if tokens.is_empty() {
            return Ok(());
        }
        let wallet = self.wallet()?;
        for token in tokens {
            self.verify_wla(wallet, token, individual_id, id_hash)
                .await?;
        }
        Ok(())
    }

    /// Verifies the WLA token `token` of `individual_id` (whose hash is `id_hash`) and spends
    /// its `jti`. Errors: `sha256_thumbprint_header_missing`, `binding_not_found`,
    /// `binding_auth_failed`, `unbound_auth_factor`, `invalid_certificate`, `invalid_wla_token` (malformed, bad
    /// signature, wrong `aud` or `sub`, stale, expired, replayed).
    pub(crate) async fn verify_wla(
        &self,
        wallet: &WalletSupport,
        token: &str,
        individual_id: &str,
        id_hash: &str,
    ) -> Result<()> {
        let decoded = decode_compact(token).map_err(|_| invalid_wla("malformed"))?;
        let thumbprint = decoded
            .header
            .get("x5t#S256")
            .and_then(Value::as_str)
            .filter(|thumbprint| !thumbprint.is_empty())
            .ok_or(Error::code(codes::SHA256_THUMBPRINT_HEADER_MISSING))?;
        let key = self
            .bound_key(wallet, id_hash, thumbprint, Some(WLA))
            .await?;
        if !decoded.verify(&key) {
            return Err(invalid_wla("signature"));
        }
        let claims = decoded.claims().map_err(|_| invalid_wla("claims"))?;
        let config = &wallet.config;
        if !audience_matches(&claims, &config.binding_audience) {
            return Err(invalid_wla("aud"));
        }
        let subject = claims
            .get("sub")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if !esignet_jose::constant_time_eq(subject.as_bytes(), individual_id.as_bytes()) {
            return Err(invalid_wla("sub"));
        }
        let now = self.now_unix();
        let skew = secs(config.wla_clock_skew);
        let (Some(issued_at), Some(expires_at)) = (
            claims.get("iat").and_then(Value::as_i64),
            claims.get("exp").and_then(Value::as_i64),
        ) else {
            return Err(invalid_wla("iat/exp"));
        };
        if issued_at > now.saturating_add(skew)
            || now.saturating_sub(issued_at) > secs(config.wla_max_age)
            || expires_at.saturating_add(skew) <= now
        {
            return Err(invalid_wla("stale or expired"));
        }
        let jti = claims
            .get("jti")
            .and_then(Value::as_str)
            .filter(|jti| !jti.is_empty())
            .ok_or_else(|| invalid_wla("jti"))?;
        // Kept until the token could no longer be accepted anyway.
        let keep = expires_at
            .saturating_add(skew)
            .min(issued_at.saturating_add(secs(config.wla_max_age)))
            .saturating_sub(now)
            .max(1);
        let replay_key = esignet_jose::sha256_b64url(format!("{id_hash}\0{jti}").as_bytes());
        if !self
            .flow
            .first_use(
                stage::WLA_JTI,
                &replay_key,
                Duration::from_secs(u64::try_from(keep).unwrap_or(1)),
            )
            .await?
        {
            return Err(invalid_wla("replayed jti"));
        }
        Ok(())
    }

    /// Verifies a wallet's detached consent signature `<header>.<signature>` over
    /// [`consent_payload`] with the key bound to the resident `id_hash`.
    /// Errors: `invalid_signature_format` (not two non-empty parts), `invalid_token` (unreadable
    /// header, no thumbprint, or a signature that does not verify), and those of
    /// [`Core::bound_key`].
    pub(crate) async fn verify_consent_signature(
        &self,
        wallet: &WalletSupport,
        id_hash: &str,
        signature: &str,
        accepted_claims: &[String],
        permitted_scopes: &[String],
    ) -> Result<()> {
        let mut parts = signature.split('.');
        let (Some(header), Some(signature), None) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(Error::code(codes::INVALID_SIGNATURE_FORMAT));
        };
        if header.is_empty() || signature.is_empty() {
            return Err(Error::code(codes::INVALID_SIGNATURE_FORMAT));
        }
        let payload = consent_payload(accepted_claims, permitted_scopes);
        let compact = format!(
            "{header}.{}.{signature}",
            esignet_jose::b64url_encode(payload.as_bytes())
        );
        let decoded = decode_compact(&compact).map_err(|_| Error::code(codes::INVALID_TOKEN))?;
        let thumbprint = decoded
            .header
            .get("x5t#S256")
            .and_then(Value::as_str)
            .ok_or(Error::code(codes::INVALID_TOKEN))?;
        let key = self.bound_key(wallet, id_hash, thumbprint, None).await?;
        if decoded.verify(&key) {
            Ok(())
        } else {
            tracing::info!("wallet consent signature does not verify");
            Err(Error::code(codes::INVALID_TOKEN))
        }
    }
}

/// The JSON a wallet signs to consent: `{"accepted_claims":[...],"permitted_authorized_scopes":
/// [...]}` with both lists sorted, compact, keys in that (sorted) order (eSignet §8.11).
pub fn consent_payload(accepted_claims: &[String], permitted_scopes: &[String]) -> String {
    let mut claims = accepted_claims.to_vec();
    claims.sort();
    let mut scopes = permitted_scopes.to_vec();
    scopes.sort();
    json!({"accepted_claims": claims, "permitted_authorized_scopes": scopes}).to_string()
}

fn audience_matches(claims: &Map<String, Value>, audience: &str) -> bool {
    match claims.get("aud") {
        Some(Value::String(aud)) => aud == audience,
        Some(Value::Array(auds)) => auds.iter().any(|aud| aud.as_str() == Some(audience)),
        _ => false,
    }
}

fn secs(duration: Duration) -> i64 {
    i64::try_from(duration.as_secs()).unwrap_or(i64::MAX)
}

fn invalid_wla(reason: &'static str) -> Error {
    tracing::info!(reason, "WLA token refused");
    Error::code(codes::INVALID_WLA_TOKEN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_consent_payload_is_sorted_and_compact() {
        let payload = consent_payload(
            &["name".into(), "email".into()],
            &["Manage-VID".into(), "Manage-Credentials".into()],
        );
        assert_eq!(
            payload,
            r#"{"accepted_claims":["email","name"],"permitted_authorized_scopes":["Manage-Credentials","Manage-VID"]}"#
        );
        assert_eq!(
            consent_payload(&[], &[]),
            r#"{"accepted_claims":[],"permitted_authorized_scopes":[]}"#
        );
    }

    #[test]
    fn audience_may_be_a_string_or_an_array() {
        let claims = |aud: Value| {
            json!({ "aud": aud })
                .as_object()
                .cloned()
                .unwrap_or_default()
        };
        assert!(audience_matches(
            &claims(json!("esignet-binding")),
            "esignet-binding"
        ));
        assert!(audience_matches(
            &claims(json!(["x", "esignet-binding"])),
            "esignet-binding"
        ));
        assert!(!audience_matches(
            &claims(json!("other")),
            "esignet-binding"
        ));
        assert!(!audience_matches(&Map::new(), "esignet-binding"));
    }
}
