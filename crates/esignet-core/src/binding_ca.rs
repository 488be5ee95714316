//! The binding CA's published certificates (`GET /binding/certificates`): what a wallet needs to
//! verify the certificate `wallet-binding` issued to its key, up to a key the server publishes.
//!
//! eSignet hands the wallet a certificate but publishes nothing to verify it with; a wallet
//! then has to trust it blindly. We publish the binder's CA certificates as a JWK Set, each key
//! with its `x5c` chain (the CA certificate first, then whatever certified it), so a wallet can
//! check the signature of its certificate with the CA key and the chain up to its root.

use openssl::x509::X509;
use serde_json::{Value, json};

use crate::error::{Error, Result};
use crate::service::Core;

impl Core {
    /// The binding CA keys as `{"keys": [JWK with kid, x5c, x5t#S256, exp, key_ops]}`, newest
    /// first. Errors: `not_implemented` (no wallet support), the binder's codes.
    pub async fn binding_certificates(&self) -> Result<Value> {
        let wallet = self.wallet()?;
        let certificates = wallet
            .binder
            .binding_ca_certificates()
            .await
            .map_err(Error::from)?;
        let keys: Vec<Value> = certificates.iter().filter_map(ca_jwk).collect();
        Ok(json!({ "keys": keys }))
    }
}

/// A CA certificate (a PEM chain, CA first) as a JWK of its public key with the chain in `x5c`.
fn ca_jwk(certificate: &esignet_spi::SigningCertificate) -> Option<Value> {
    let chain = X509::stack_from_pem(certificate.certificate_pem.as_bytes()).ok()?;
    let leaf = chain.first()?;
    let leaf_der = leaf.to_der().ok()?;
    let public_key = leaf.public_key().ok()?;
    let mut jwk = esignet_jose::PublicJwk::from_openssl(&public_key)
        .ok()?
        .to_json();
    let x5c: Vec<String> = chain
        .iter()
        .filter_map(|certificate| certificate.to_der().ok())
        .map(|der| openssl::base64::encode_block(&der))
        .collect();
    let object = jwk.as_object_mut()?;
    object.insert("kid".into(), Value::String(certificate.key_id.clone()));
    // Verifies certificates, never tokens: not `use: sig`, so no JWT library picks it up.
    object.insert("key_ops".into(), json!(["verify"]));
    object.insert("exp".into(), json!(certificate.expires_at.unix_timestamp()));
    object.insert("x5c".into(), json!(x5c));
    object.insert(
        "x5t#S256".into(),
        Value::String(esignet_jose::sha256_b64url(&leaf_der)),
    );
    Some(jwk)
}
