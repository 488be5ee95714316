//! The test server's identity key binding, as IDA's `KeyBindingController` does: the checks of
//! kyc-auth (path credentials, signature, envelope, factors; wallet-bound tokens are not a
//! binding factor), then `identityKeyBinding` (missing `IDA-MLC-006`, a JWK that is no public
//! key `IDA-IKB-002`, a key already bound to another resident `IDA-IKB-003`, a resident without
//! a name `IDA-IKB-004`), and an X.509 certificate for the key (subject: the resident's name)
//! signed by the binding CA key. kyc-auth later checks the WLA tokens of the keys bound here.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use esignet_jose::{PrivateKey, PublicJwk};
use esignet_spi::{Clock, SystemClock};
use openssl::asn1::Asn1Time;
use openssl::bn::{BigNum, MsbOption};
use openssl::error::ErrorStack;
use openssl::hash::MessageDigest;
use openssl::x509::{X509, X509NameBuilder};
use serde_json::{Value, json};

use super::{
    Fault, PathCredentials, Refusal, ServerState, TestIdentity, admit, answer, authenticate, psut,
    text,
};
use crate::{envelope, wire};

/// How far (seconds) a WLA token's `iat` may be from now, either way.
const TOKEN_IAT_RANGE_SECS: i64 = 180;
/// How long binding certificates are valid.
const CERTIFICATE_DAYS: u32 = 180;

/// A wallet key the server bound.
pub(super) struct BoundKey {
    uin: String,
    auth_factor_type: String,
    /// `x5t#S256` of the certificate issued.
    thumbprint: String,
    key: PublicJwk,
}

/// An X.509 certificate for `key`, subject `CN=name`, issued by the binding CA.
fn issue(ca: &(PrivateKey, X509), key: &PublicJwk, name: &str) -> Result<X509, ErrorStack> {
    let mut subject = X509NameBuilder::new()?;
    subject.append_entry_by_text("CN", name)?;
    let subject = subject.build();
    let mut builder = X509::builder()?;
    builder.set_version(2)?;
    let mut serial = BigNum::new()?;
    serial.rand(127, MsbOption::MAYBE_ZERO, false)?;
    let serial = serial.to_asn1_integer()?;
    builder.set_serial_number(&serial)?;
    builder.set_subject_name(&subject)?;
    builder.set_issuer_name(ca.1.subject_name())?;
    builder.set_pubkey(key.openssl_pkey())?;
    let (not_before, not_after) = (
        Asn1Time::days_from_now(0)?,
        Asn1Time::days_from_now(CERTIFICATE_DAYS)?,
    );
    builder.set_not_before(&not_before)?;
    builder.set_not_after(&not_after)?;
    builder.sign(ca.0.openssl_pkey(), MessageDigest::sha256())?;
    Ok(builder.build())
}

pub(super) async fn key_binding(
    State(state): State<Arc<ServerState>>,
    Path(credentials): PathCredentials,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let body = match admit(&state, &credentials, &headers, &body, wire::KEY_BINDING_ID).await {
        Ok(body) => body,
        Err(response) => return response,
    };
    let transaction_id = text(&body, "transactionID").to_owned();
    if *state.fault.lock().expect("fault lock") == Fault::DenyBinding {
        return answer(
            &state,
            &transaction_id,
            Ok(json!({ "bindingAuthStatus": false })),
        );
    }
    let outcome = (|| {
        let resident = authenticate(&state, &body, &transaction_id, false)?;
        let missing = (
            "IDA-MLC-006",
            "Missing Input Parameter - identityKeyBinding",
        );
        let binding = body
            .get("identityKeyBinding")
            .and_then(Value::as_object)
            .ok_or(missing)?;
        let factor = binding
            .get("authFactorType")
            .and_then(Value::as_str)
            .filter(|factor| !factor.is_empty())
            .ok_or(missing)?;
        let key = PublicJwk::from_json(binding.get("publicKeyJWK").ok_or(missing)?)
            .map_err(|_| ("IDA-IKB-002", "Error creating Public Key object."))?;
        let mut bindings = state.bindings.lock().expect("binding lock");
        let thumbprint = key.thumbprint();
        if bindings
            .iter()
            .any(|bound| bound.uin != resident.uin && bound.key.thumbprint() == thumbprint)
        {
            return Err(("IDA-IKB-003", "Publick Key already Binded to another Id."));
        }
        let name = resident
            .claims
            .iter()
            .find(|(claim, _)| *claim == "name")
            .map(|(_, value)| *value)
            .ok_or(("IDA-IKB-004", "Identity Name not found."))?;
        let certificate = issue(&state.settings.binding_ca, &key, name)
            .map_err(|_| ("IDA-IKB-005", "Error creating Certificate object."))?;
        let pem = certificate
            .to_pem()
            .map_err(|_| ("IDA-IKB-005", "Error creating Certificate object."))?;
        bindings.push(BoundKey {
            uin: resident.uin.to_owned(),
            auth_factor_type: factor.to_owned(),
            thumbprint: envelope::certificate_thumbprint(&certificate).expect("thumbprint"),
            key,
        });
        Ok(json!({
            "identityCertificate": String::from_utf8_lossy(&pem),
            "authToken": psut(resident.uin, &credentials),
            "bindingAuthStatus": true,
        }))
    })();
    answer(&state, &transaction_id, outcome)
}

/// Checks kyc-auth's `keyBindedTokens` (`[{type, token, format}]`) of `resident`: each token's
/// `x5t#S256` names a certificate bound to the resident for its type, its signature verifies
/// under the bound key and its `iat` is within [`TOKEN_IAT_RANGE_SECS`] of now.
pub(super) fn verify_tokens(
    state: &ServerState,
    resident: &TestIdentity,
    tokens: &Value,
) -> Result<(), Refusal> {
    let not_found = (
        "IDA-KBT-001",
        "Certificate not found for the input x5t#S256 and authtype",
    );
    let unverified = ("IDA-KBT-003", "Error verifying key binded token.");
    let tokens = tokens
        .as_array()
        .filter(|tokens| !tokens.is_empty())
        .ok_or(not_found)?;
    let bindings = state.bindings.lock().expect("binding lock");
    for entry in tokens {
        let factor = entry
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let token = entry
            .get("token")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let decoded = esignet_jose::decode_compact(token).map_err(|_| unverified)?;
        let thumbprint = decoded
            .header
            .get("x5t#S256")
            .and_then(Value::as_str)
            .ok_or(not_found)?;
        let bound = bindings
            .iter()
            .find(|bound| {
                bound.uin == resident.uin
                    && bound.thumbprint == thumbprint
                    && bound.auth_factor_type.eq_ignore_ascii_case(factor)
            })
            .ok_or(not_found)?;
        if !decoded.verify(&bound.key) {
            return Err(unverified);
        }
        let iat = decoded
            .claims()
            .ok()
            .and_then(|claims| claims.get("iat").and_then(Value::as_i64))
            .ok_or(unverified)?;
        if (SystemClock.now().unix_timestamp() - iat).abs() > TOKEN_IAT_RANGE_SECS {
            return Err((
                "IDA-KBT-002",
                "Signed token issued at (iat) is not in allowed time range.",
            ));
        }
    }
    Ok(())
}
