//! `private_key_jwt` client authentication (RFC 7523 §2.2, OIDC Core §9), the only method
//! eSignet accepts.

use esignet_jose::PublicJwk;
use esignet_spi::ClientRecord;
use serde_json::Value;

use crate::codes;
use crate::error::{Error, Result};
use crate::service::Core;
use crate::transaction::stage;

/// The only accepted `client_assertion_type`.
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

impl Core {
    /// Verifies a client assertion for `client`: type, algorithm, signature with the registered
    /// key, `iss` = `sub` = client id, an accepted audience, `exp`/`nbf`/`iat`, and a `jti` never
    /// seen before. Every failure is `invalid_client`; the `jti` is recorded only after the
    /// signature verified, so forged assertions cannot burn a legitimate `jti`.
    pub(crate) async fn authenticate_client(
        &self,
        assertion_type: Option<&str>,
        assertion: Option<&str>,
        client: &ClientRecord,
        audiences: &[&str],
    ) -> Result<()> {
        let invalid = || Error::code(codes::INVALID_CLIENT);
        if assertion_type != Some(JWT_BEARER) {
            return Err(invalid());
        }
        let assertion = assertion.filter(|a| !a.is_empty()).ok_or_else(invalid)?;
        let jws = esignet_jose::decode_compact(assertion).map_err(|_| invalid())?;
        let alg = jws.alg().ok_or_else(invalid)?;
        if !self.config.client_assertion_algs.contains(&alg) {
            return Err(invalid());
        }
        let key = PublicJwk::from_json(&client.public_key).map_err(|_| invalid())?;
        if !jws.verify(&key) {
            return Err(invalid());
        }
        let claims = jws.claims().map_err(|_| invalid())?;
        let text = |name: &str| claims.get(name).and_then(Value::as_str);
        if text("iss") != Some(client.client_id.as_str())
            || text("sub") != Some(client.client_id.as_str())
        {
            return Err(invalid());
        }
        let audience_ok = match claims.get("aud") {
            // FAPI 2.0 Security Profile §5.3.2.1: only the issuer identifier, as a string (an
            // endpoint URL or an array is refused), under the server's fapi2.0 profile. Other
            // deployments keep eSignet's endpoint audiences for its existing relying parties.
            _ if self.config.fapi2_profile => claims
                .get("aud")
                .and_then(Value::as_str)
                .is_some_and(|aud| aud == self.config.issuer),
            Some(Value::String(aud)) => audiences.contains(&aud.as_str()),
            Some(Value::Array(auds)) => auds
                .iter()
                .filter_map(Value::as_str)
                .any(|aud| audiences.contains(&aud)),
            _ => false,
        };
        if !audience_ok {
            return Err(invalid());
        }
        let now = self.now_unix();
        let leeway = self.config.client_assertion_leeway.as_secs() as i64;
        let exp = claims
            .get("exp")
            .and_then(Value::as_i64)
            .ok_or_else(invalid)?;
        if exp + leeway < now {
            return Err(invalid());
        }
        if claims.get("iat").and_then(Value::as_i64).is_none() {
            return Err(invalid());
        }
        if let Some(nbf) = claims.get("nbf").and_then(Value::as_i64)
            && nbf - leeway > now
        {
            return Err(invalid());
        }
        let jti = text("jti").filter(|j| !j.is_empty()).ok_or_else(invalid)?;
        let replay_key =
            esignet_jose::sha256_b64url(format!("ca\0{}\0{jti}", client.client_id).as_bytes());
        if !self
            .flow
            .first_use(stage::JTI, &replay_key, self.config.jti_ttl)
            .await?
        {
            return Err(invalid());
        }
        Ok(())
    }
}
