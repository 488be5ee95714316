//! The discovery documents: OpenID Provider metadata and RFC 8414 authorization-server metadata.

use serde_json::{Value, json};

use crate::service::Core;

impl Core {
    /// `/.well-known/openid-configuration`.
    pub fn openid_configuration(&self) -> Value {
        let c = &self.config;
        let signing_algs = json!([self.signer.algorithm()]);
        let auth_algs: Vec<&str> = c.client_assertion_algs.iter().map(|a| a.as_str()).collect();
        let dpop_algs: Vec<&str> = c.dpop_algs.iter().map(|a| a.as_str()).collect();
        let mut scopes = c.openid_scopes.clone();
        scopes.extend(c.authorize_scopes.iter().cloned());
        json!({
            "issuer": c.issuer,
            "authorization_endpoint": c.authorization_endpoint,
            "token_endpoint": c.token_endpoint,
            "userinfo_endpoint": c.userinfo_endpoint,
            "jwks_uri": c.jwks_uri,
            "introspection_endpoint": c.introspection_endpoint,
            "introspection_endpoint_auth_methods_supported": ["private_key_jwt"],
            "introspection_endpoint_auth_signing_alg_values_supported": auth_algs,
            "revocation_endpoint": c.revocation_endpoint,
            "revocation_endpoint_auth_methods_supported": ["private_key_jwt"],
            "revocation_endpoint_auth_signing_alg_values_supported": auth_algs,
            "end_session_endpoint": c.end_session_endpoint,
            "pushed_authorization_request_endpoint": c.par_endpoint,
            "require_pushed_authorization_requests": c.fapi2_profile,
            "scopes_supported": scopes,
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code"],
            "acr_values_supported": c.acr_values_supported,
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": signing_algs,
            "userinfo_signing_alg_values_supported": signing_algs,
            "userinfo_encryption_alg_values_supported": ["RSA-OAEP-256"],
            "userinfo_encryption_enc_values_supported": ["A256GCM"],
            "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            "token_endpoint_auth_signing_alg_values_supported": auth_algs,
            "claim_types_supported": ["normal"],
            "claims_parameter_supported": true,
            "claims_supported": c.claims_supported,
            "claims_locales_supported": c.claims_locales_supported,
            "ui_locales_supported": c.ui_locales_supported,
            "display_values_supported": ["page", "popup", "touch", "wap"],
            "prompt_values_supported": ["none", "login", "consent", "select_account"],
            "request_parameter_supported": false,
            "request_uri_parameter_supported": false,
            "verified_claims_supported": true,
            "claims_in_verified_claims_supported": c.verified_claims_supported,
            "trust_frameworks_supported": c.trust_frameworks_supported,
            "dpop_signing_alg_values_supported": dpop_algs,
            "code_challenge_methods_supported": ["S256"],
            "authorization_response_iss_parameter_supported": true,
        })
    }

    /// `/.well-known/oauth-authorization-server` (RFC 8414).
    pub fn authorization_server_metadata(&self) -> Value {
        let c = &self.config;
        let auth_algs: Vec<&str> = c.client_assertion_algs.iter().map(|a| a.as_str()).collect();
        let dpop_algs: Vec<&str> = c.dpop_algs.iter().map(|a| a.as_str()).collect();
        let mut scopes = c.openid_scopes.clone();
        scopes.extend(c.authorize_scopes.iter().cloned());
        json!({
            "issuer": c.issuer,
            "authorization_endpoint": c.authorization_endpoint,
            "token_endpoint": c.token_endpoint,
            "jwks_uri": c.jwks_uri,
            "introspection_endpoint": c.introspection_endpoint,
            "introspection_endpoint_auth_methods_supported": ["private_key_jwt"],
            "introspection_endpoint_auth_signing_alg_values_supported": auth_algs,
            "revocation_endpoint": c.revocation_endpoint,
            "revocation_endpoint_auth_methods_supported": ["private_key_jwt"],
            "revocation_endpoint_auth_signing_alg_values_supported": auth_algs,
            "pushed_authorization_request_endpoint": c.par_endpoint,
            "require_pushed_authorization_requests": c.fapi2_profile,
            "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            "token_endpoint_auth_signing_alg_values_supported": auth_algs,
            "scopes_supported": scopes,
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code"],
            "code_challenge_methods_supported": ["S256"],
            "dpop_signing_alg_values_supported": dpop_algs,
            "authorization_response_iss_parameter_supported": true,
        })
    }

    /// `/.well-known/jwks.json`: our signing keys (current and previous, until they expire) plus
    /// the identity system's KYC signing certificates, so relying parties can verify userinfo.
    pub async fn jwks(&self) -> Value {
        let mut keys = self.signer.public_jwks();
        match self.authenticator.kyc_signing_certificates().await {
            Ok(certificates) => {
                for certificate in certificates {
                    if let Some(jwk) = certificate_jwk(&certificate)
                        && !keys.iter().any(|k| k.get("kid") == jwk.get("kid"))
                    {
                        keys.push(jwk);
                    }
                }
            }
            Err(error) => {
                tracing::warn!(code = %error.code, "identity system certificates unavailable")
            }
        }
        json!({ "keys": keys })
    }
}

/// A JWKS entry for an identity-system certificate (leaf of the PEM chain).
fn certificate_jwk(certificate: &esignet_spi::SigningCertificate) -> Option<Value> {
    let x509 = openssl::x509::X509::from_pem(certificate.certificate_pem.as_bytes()).ok()?;
    let der = x509.to_der().ok()?;
    let public_key = x509.public_key().ok()?;
    let mut jwk = esignet_jose::PublicJwk::from_openssl(&public_key)
        .ok()?
        .to_json();
    let object = jwk.as_object_mut()?;
    object.insert("kid".into(), Value::String(certificate.key_id.clone()));
    object.insert("use".into(), Value::String("sig".into()));
    object.insert("exp".into(), json!(certificate.expires_at.unix_timestamp()));
    object.insert("x5c".into(), json!([openssl::base64::encode_block(&der)]));
    object.insert(
        "x5t#S256".into(),
        Value::String(esignet_jose::sha256_b64url(&der)),
    );
    Some(jwk)
}
