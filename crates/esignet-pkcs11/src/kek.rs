//! The key-encryption key held in the token: an AES-256 secret key object (sensitive,
//! non-extractable) that seals software private keys with `CKM_AES_GCM` through `C_Encrypt` /
//! `C_Decrypt`, so the KEK never exists in the process.
//!
//! Why AES-GCM: SoftHSM2 and the usual HSMs offer it for `C_Encrypt` on arbitrary data, and it
//! authenticates the key id as associated data (a sealed key cannot be moved to another
//! record). `CKM_AES_KEY_WRAP_PAD` would need each software key to be a token object first
//! (`C_WrapKey` wraps objects, not bytes), and binds no associated data.
//!
//! The service also derives keys from the KEK (flow-cache sealing, captcha): those derive from
//! a random 32-byte derivation secret, stored in the token as a data object sealed by the AES
//! key, so every instance reaching the token derives the same keys and nothing else needs
//! distributing.

use std::sync::Arc;

use cryptoki::mechanism::Mechanism;
use cryptoki::mechanism::aead::GcmParams;
use cryptoki::object::{Attribute, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::Session;
use esignet_keys::{KEK_LEN, KeyEncryptionKey, KeyError, KeyWrapper};
use zeroize::Zeroizing;

use crate::Pkcs11Error;
use crate::pool::SessionPool;

/// GCM nonce length (the 96 bits GCM is defined for without extra hashing).
const NONCE_LEN: usize = 12;
/// GCM tag length in bits.
const TAG_BITS: u64 = 128;
/// Associated data of the sealed derivation secret (a sealed private key uses its kid).
const DERIVATION_AAD: &[u8] = b"esignet-pkcs11/kek-derivation-secret/v1";

/// The token's AES key as a [`KeyWrapper`].
pub(crate) struct TokenKek {
    pool: Arc<SessionPool>,
    label: String,
}

/// Finds (or on first use generates) the KEK labelled `<prefix>:kek` and the derivation secret
/// labelled `<prefix>:kek-derivation-secret`, and returns the KEK. Blocking.
pub(crate) fn open(pool: Arc<SessionPool>, prefix: &str) -> Result<KeyEncryptionKey, Pkcs11Error> {
    let label = format!("{prefix}:kek");
    let secret_label = format!("{prefix}:kek-derivation-secret");
    pool.with_session("find or generate the key-encryption key", |session| {
        if find(session, ObjectClass::SECRET_KEY, &label)?.is_none() {
            generate(session, &label)?;
            tracing::warn!(
                label = %label,
                "generated the key-encryption key in the HSM; back up the token: without it the \
                 stored private keys cannot be decrypted"
            );
        }
        Ok(())
    })?;
    let kek = TokenKek {
        pool: pool.clone(),
        label,
    };
    let stored = pool.with_session("read the derivation secret", |session| {
        let Some(handle) = find(session, ObjectClass::DATA, &secret_label)? else {
            return Ok(None);
        };
        let value = session
            .get_attributes(handle, &[cryptoki::object::AttributeType::Value])?
            .into_iter()
            .find_map(|attribute| match attribute {
                Attribute::Value(value) => Some(value),
                _ => None,
            });
        Ok(value)
    })?;
    let sealed = match stored {
        Some(sealed) => sealed,
        None => {
            let secret = Zeroizing::new(esignet_jose::random_bytes(KEK_LEN));
            let sealed = kek
                .wrap(&secret, DERIVATION_AAD)
                .map_err(|error| vault_error("seal the derivation secret", error))?;
            pool.with_session("store the derivation secret", |session| {
                session.create_object(&[
                    Attribute::Class(ObjectClass::DATA),
                    Attribute::Token(true),
                    Attribute::Private(true),
                    Attribute::Label(secret_label.clone().into_bytes()),
                    Attribute::Application(b"esignet".to_vec()),
                    Attribute::Value(sealed.clone()),
                ])
            })?;
            sealed
        }
    };
    let secret = kek
        .unwrap(&sealed, DERIVATION_AAD)
        .map_err(|error| vault_error("open the derivation secret", error))?;
    if secret.len() != KEK_LEN {
        return Err(Pkcs11Error::Config(
            "the token's sealed derivation secret has the wrong length",
        ));
    }
    let mut bytes = Zeroizing::new([0u8; KEK_LEN]);
    bytes.copy_from_slice(&secret);
    Ok(KeyEncryptionKey::held_in_vault(Arc::new(kek), bytes))
}

fn vault_error(operation: &'static str, error: KeyError) -> Pkcs11Error {
    Pkcs11Error::Token {
        operation,
        reason: error.to_string(),
    }
}

/// A permanent AES-256 key that only encrypts and decrypts inside the token.
fn generate(session: &Session, label: &str) -> Result<ObjectHandle, cryptoki::error::Error> {
    session.generate_key(
        &Mechanism::AesKeyGen,
        &[
            Attribute::Class(ObjectClass::SECRET_KEY),
            Attribute::KeyType(KeyType::AES),
            Attribute::ValueLen(32.into()),
            Attribute::Token(true),
            Attribute::Private(true),
            Attribute::Sensitive(true),
            Attribute::Extractable(false),
            Attribute::Encrypt(true),
            Attribute::Decrypt(true),
            Attribute::Label(label.as_bytes().to_vec()),
            Attribute::Id(label.as_bytes().to_vec()),
        ],
    )
}

/// The one object of `class` labelled `label`; two would make the KEK ambiguous.
fn find(
    session: &Session,
    class: ObjectClass,
    label: &str,
) -> Result<Option<ObjectHandle>, cryptoki::error::Error> {
    let handles = session.find_objects(&[
        Attribute::Class(class),
        Attribute::Label(label.as_bytes().to_vec()),
    ])?;
    match handles.as_slice() {
        [handle] => Ok(Some(*handle)),
        [] => Ok(None),
        _ => Err(cryptoki::error::Error::Pkcs11(
            cryptoki::error::RvError::TemplateInconsistent,
            cryptoki::context::Function::FindObjects,
        )),
    }
}

impl TokenKek {
    fn handle(&self, session: &Session) -> Result<ObjectHandle, cryptoki::error::Error> {
        find(session, ObjectClass::SECRET_KEY, &self.label)?.ok_or(cryptoki::error::Error::Pkcs11(
            cryptoki::error::RvError::KeyHandleInvalid,
            cryptoki::context::Function::FindObjects,
        ))
    }
}

impl KeyWrapper for TokenKek {
    /// `nonce || ciphertext || tag`, the nonce random per call.
    fn wrap(&self, plaintext: &[u8], aad: &[u8]) -> Result<Vec<u8>, KeyError> {
        let nonce = esignet_jose::random_bytes(NONCE_LEN);
        let ciphertext = self.pool.with_session("seal with the KEK", |session| {
            let mut iv = nonce.clone();
            let params = GcmParams::new(&mut iv, aad, TAG_BITS.into())?;
            session.encrypt(&Mechanism::AesGcm(params), self.handle(session)?, plaintext)
        })?;
        let mut sealed = nonce;
        sealed.extend_from_slice(&ciphertext);
        Ok(sealed)
    }

    fn unwrap(&self, wrapped: &[u8], aad: &[u8]) -> Result<Zeroizing<Vec<u8>>, KeyError> {
        if wrapped.len() < NONCE_LEN {
            return Err(KeyError::Vault("a sealed value is truncated".into()));
        }
        let (nonce, ciphertext) = wrapped.split_at(NONCE_LEN);
        let plaintext = self
            .pool
            .with_session("open with the KEK", |session| {
                let mut iv = nonce.to_vec();
                let params = GcmParams::new(&mut iv, aad, TAG_BITS.into())?;
                session.decrypt(
                    &Mechanism::AesGcm(params),
                    self.handle(session)?,
                    ciphertext,
                )
            })
            .map_err(|error| {
                KeyError::Vault(format!(
                    "the HSM's key-encryption key cannot open a sealed value (another token's \
                     KEK, or a damaged record): {error}"
                ))
            })?;
        Ok(Zeroizing::new(plaintext))
    }
}
