//! One key pair in the token: generation, finding it again by label, signing, deletion.

use std::sync::{Arc, Mutex, PoisonError};

use cryptoki::error::{Error, RvError};
use cryptoki::mechanism::rsa::{PkcsMgfType, PkcsPssParams};
use cryptoki::mechanism::{Mechanism, MechanismType};
use cryptoki::object::{Attribute, AttributeType, ObjectClass, ObjectHandle};
use cryptoki::session::Session;
use esignet_jose::{Algorithm, PublicJwk};
use esignet_keys::{KeyAlgorithm, KeyError, VaultKey};
use openssl::bn::{BigNum, BigNumContext};
use openssl::ec::{EcGroup, EcKey, EcPoint};
use openssl::nid::Nid;
use openssl::pkey::PKey;
use openssl::rsa::Rsa;

use crate::key_type;
use crate::pool::SessionPool;

/// DER of the P-256 curve's OID (1.2.840.10045.3.1.7), the `CKA_EC_PARAMS` of our EC keys.
const P256_PARAMS: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];

/// The public half as the token reports it.
enum PublicParts {
    Rsa { modulus: Vec<u8>, exponent: Vec<u8> },
    Ec { point: Vec<u8> },
}

/// A key pair in the token, named by its label (also its `CKA_ID`).
pub(crate) struct TokenKey {
    pool: Arc<SessionPool>,
    label: String,
    /// Handles stay valid across the application's sessions; re-found by label if the token
    /// invalidates them.
    private: Mutex<ObjectHandle>,
    public: PublicJwk,
}

impl TokenKey {
    /// Generates a sensitive, non-extractable key pair labelled `label`.
    pub(crate) fn generate(
        pool: Arc<SessionPool>,
        label: String,
        family: KeyAlgorithm,
    ) -> Result<TokenKey, KeyError> {
        let name = label.clone().into_bytes();
        let (private, parts) = pool.with_session("generate a key pair", |session| {
            let mut public_template = vec![
                Attribute::Token(true),
                Attribute::Private(false),
                Attribute::Verify(true),
                Attribute::Label(name.clone()),
                Attribute::Id(name.clone()),
            ];
            let mechanism = match family {
                KeyAlgorithm::Rsa2048 => {
                    public_template.push(Attribute::ModulusBits(2048.into()));
                    public_template.push(Attribute::PublicExponent(vec![0x01, 0x00, 0x01]));
                    Mechanism::RsaPkcsKeyPairGen
                }
                KeyAlgorithm::EcP256 => {
                    public_template.push(Attribute::EcParams(P256_PARAMS.to_vec()));
                    Mechanism::EccKeyPairGen
                }
            };
            let private_template = [
                Attribute::Token(true),
                Attribute::Private(true),
                Attribute::Sensitive(true),
                Attribute::Extractable(false),
                Attribute::Sign(true),
                Attribute::KeyType(key_type(family)),
                Attribute::Label(name.clone()),
                Attribute::Id(name.clone()),
            ];
            let (public, private) =
                session.generate_key_pair(&mechanism, &public_template, &private_template)?;
            Ok((private, read_public(session, public, family)?))
        })?;
        Ok(TokenKey {
            pool,
            label,
            private: Mutex::new(private),
            public: public_jwk(parts)?,
        })
    }

    /// Stores an existing private key (and its public half) in the token as a sensitive,
    /// non-extractable pair labelled `label`, as if generated there. The token never hands the
    /// private half back; the caller's copy is wiped when it drops.
    pub(crate) fn import(
        pool: Arc<SessionPool>,
        label: String,
        key: &esignet_jose::PrivateKey,
    ) -> Result<TokenKey, KeyError> {
        let name = label.clone().into_bytes();
        let pkey = key.openssl_pkey();
        let family = KeyAlgorithm::for_jws(if pkey.id() == openssl::pkey::Id::RSA {
            Algorithm::RS256
        } else {
            Algorithm::ES256
        });
        let common = |class: ObjectClass| {
            vec![
                Attribute::Class(class),
                Attribute::KeyType(key_type(family)),
                Attribute::Token(true),
                Attribute::Label(name.clone()),
                Attribute::Id(name.clone()),
            ]
        };
        let mut private_template = common(ObjectClass::PRIVATE_KEY);
        private_template.extend([
            Attribute::Private(true),
            Attribute::Sensitive(true),
            Attribute::Extractable(false),
            Attribute::Sign(true),
        ]);
        let mut public_template = common(ObjectClass::PUBLIC_KEY);
        public_template.extend([Attribute::Private(false), Attribute::Verify(true)]);
        match family {
            KeyAlgorithm::Rsa2048 => {
                let rsa = pkey.rsa()?;
                let missing = || KeyError::Vault("the RSA key lacks its CRT parameters".into());
                let n = rsa.n().to_vec();
                let e = rsa.e().to_vec();
                private_template.extend([
                    Attribute::Modulus(n.clone()),
                    Attribute::PublicExponent(e.clone()),
                    Attribute::PrivateExponent(rsa.d().to_vec()),
                    Attribute::Prime1(rsa.p().ok_or_else(missing)?.to_vec()),
                    Attribute::Prime2(rsa.q().ok_or_else(missing)?.to_vec()),
                    Attribute::Exponent1(rsa.dmp1().ok_or_else(missing)?.to_vec()),
                    Attribute::Exponent2(rsa.dmq1().ok_or_else(missing)?.to_vec()),
                    Attribute::Coefficient(rsa.iqmp().ok_or_else(missing)?.to_vec()),
                ]);
                public_template.extend([Attribute::Modulus(n), Attribute::PublicExponent(e)]);
            }
            KeyAlgorithm::EcP256 => {
                let ec = pkey.ec_key()?;
                let mut context = BigNumContext::new()?;
                let point = ec.public_key().to_bytes(
                    ec.group(),
                    openssl::ec::PointConversionForm::UNCOMPRESSED,
                    &mut context,
                )?;
                // CKA_EC_POINT is the DER OCTET STRING of the uncompressed point.
                let mut octet_string = vec![0x04, u8::try_from(point.len()).unwrap_or(0x41)];
                octet_string.extend_from_slice(&point);
                private_template.extend([
                    Attribute::EcParams(P256_PARAMS.to_vec()),
                    Attribute::Value(ec.private_key().to_vec_padded(32)?),
                ]);
                public_template.extend([
                    Attribute::EcParams(P256_PARAMS.to_vec()),
                    Attribute::EcPoint(octet_string),
                ]);
            }
        }
        let private = pool.with_session("import a key pair", |session| {
            let private = session.create_object(&private_template)?;
            if let Err(error) = session.create_object(&public_template) {
                let _ = session.destroy_object(private);
                return Err(error);
            }
            Ok(private)
        })?;
        // Zeroize the template copies of the private components.
        for attribute in &mut private_template {
            if let Attribute::PrivateExponent(bytes)
            | Attribute::Prime1(bytes)
            | Attribute::Prime2(bytes)
            | Attribute::Exponent1(bytes)
            | Attribute::Exponent2(bytes)
            | Attribute::Coefficient(bytes)
            | Attribute::Value(bytes) = attribute
            {
                zeroize::Zeroize::zeroize(bytes);
            }
        }
        Ok(TokenKey {
            pool,
            label,
            private: Mutex::new(private),
            public: key.public_jwk(),
        })
    }

    /// Finds the key pair labelled `label`.
    pub(crate) fn find(
        pool: Arc<SessionPool>,
        label: String,
        token: &str,
    ) -> Result<TokenKey, KeyError> {
        let found = pool.with_session("find a key", |session| {
            let Some(private) = find_one(session, ObjectClass::PRIVATE_KEY, &label)? else {
                return Ok(None);
            };
            let Some(public) = find_one(session, ObjectClass::PUBLIC_KEY, &label)? else {
                return Ok(None);
            };
            let key_type = session
                .get_attributes(private, &[AttributeType::KeyType])?
                .into_iter()
                .find_map(|attribute| match attribute {
                    Attribute::KeyType(key_type) => Some(key_type),
                    _ => None,
                });
            let family = if key_type == Some(cryptoki::object::KeyType::EC) {
                KeyAlgorithm::EcP256
            } else {
                KeyAlgorithm::Rsa2048
            };
            Ok(Some((private, read_public(session, public, family)?)))
        })?;
        let Some((private, parts)) = found else {
            return Err(KeyError::Vault(format!(
                "token {token:?} holds no key pair labelled {label:?} (another token, or the key was deleted)"
            )));
        };
        Ok(TokenKey {
            pool,
            label,
            private: Mutex::new(private),
            public: public_jwk(parts)?,
        })
    }

    fn handle(&self) -> ObjectHandle {
        *self.private.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl VaultKey for TokenKey {
    fn reference(&self) -> &str {
        &self.label
    }

    fn public_key(&self) -> &PublicJwk {
        &self.public
    }

    fn sign(&self, alg: Algorithm, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        let pss = PkcsPssParams {
            hash_alg: MechanismType::SHA256,
            mgf: PkcsMgfType::MGF1_SHA256,
            s_len: 32.into(),
        };
        // ECDSA: the token signs the digest (CKM_ECDSA is universally supported, the
        // hash-and-sign variants are not).
        let digest;
        let (mechanism, input) = match alg {
            Algorithm::RS256 => (Mechanism::Sha256RsaPkcs, message),
            Algorithm::PS256 => (Mechanism::Sha256RsaPkcsPss(pss), message),
            Algorithm::ES256 => {
                digest = openssl::sha::sha256(message);
                (Mechanism::Ecdsa, &digest[..])
            }
        };
        let signature = self.pool.with_session("sign", |session| {
            match session.sign(&mechanism, self.handle(), input) {
                Err(Error::Pkcs11(RvError::KeyHandleInvalid | RvError::ObjectHandleInvalid, _)) => {
                    let Some(handle) = find_one(session, ObjectClass::PRIVATE_KEY, &self.label)?
                    else {
                        return Err(Error::Pkcs11(
                            RvError::KeyHandleInvalid,
                            cryptoki::context::Function::Sign,
                        ));
                    };
                    *self.private.lock().unwrap_or_else(PoisonError::into_inner) = handle;
                    session.sign(&mechanism, handle, input)
                }
                other => other,
            }
        })?;
        if alg == Algorithm::ES256 && signature.len() != 64 {
            // CKM_ECDSA answers r || s, each the size of the curve order: what JWS wants.
            return Err(KeyError::Vault(format!(
                "the token's ECDSA signature is {} bytes, not 64",
                signature.len()
            )));
        }
        Ok(signature)
    }

    fn destroy(&self) -> Result<(), KeyError> {
        self.pool.with_session("delete a key", |session| {
            for class in [ObjectClass::PRIVATE_KEY, ObjectClass::PUBLIC_KEY] {
                for handle in session.find_objects(&[
                    Attribute::Class(class),
                    Attribute::Label(self.label.as_bytes().to_vec()),
                ])? {
                    session.destroy_object(handle)?;
                }
            }
            Ok(())
        })?;
        Ok(())
    }
}

/// The one object of `class` labelled `label`; `None` if there is none. Two objects with one
/// label would make the key ambiguous: treated as an error by the caller's `find` (first wins
/// would silently pick either).
fn find_one(
    session: &Session,
    class: ObjectClass,
    label: &str,
) -> Result<Option<ObjectHandle>, Error> {
    let handles = session.find_objects(&[
        Attribute::Class(class),
        Attribute::Label(label.as_bytes().to_vec()),
    ])?;
    match handles.as_slice() {
        [handle] => Ok(Some(*handle)),
        [] => Ok(None),
        _ => Err(Error::Pkcs11(
            RvError::TemplateInconsistent,
            cryptoki::context::Function::FindObjects,
        )),
    }
}

fn read_public(
    session: &Session,
    public: ObjectHandle,
    family: KeyAlgorithm,
) -> Result<PublicParts, Error> {
    let wanted: &[AttributeType] = match family {
        KeyAlgorithm::Rsa2048 => &[AttributeType::Modulus, AttributeType::PublicExponent],
        KeyAlgorithm::EcP256 => &[AttributeType::EcPoint],
    };
    let mut modulus = Vec::new();
    let mut exponent = Vec::new();
    let mut point = Vec::new();
    for attribute in session.get_attributes(public, wanted)? {
        match attribute {
            Attribute::Modulus(value) => modulus = value,
            Attribute::PublicExponent(value) => exponent = value,
            Attribute::EcPoint(value) => point = value,
            _ => {}
        }
    }
    Ok(match family {
        KeyAlgorithm::Rsa2048 => PublicParts::Rsa { modulus, exponent },
        KeyAlgorithm::EcP256 => PublicParts::Ec { point },
    })
}

fn public_jwk(parts: PublicParts) -> Result<PublicJwk, KeyError> {
    let bad = |what: &str| KeyError::Vault(format!("the token returned an unusable {what}"));
    let pkey = match parts {
        PublicParts::Rsa { modulus, exponent } => {
            let n = BigNum::from_slice(&modulus).map_err(|_| bad("RSA modulus"))?;
            let e = BigNum::from_slice(&exponent).map_err(|_| bad("RSA exponent"))?;
            let rsa = Rsa::from_public_components(n, e).map_err(|_| bad("RSA public key"))?;
            PKey::from_rsa(rsa).map_err(|_| bad("RSA public key"))?
        }
        PublicParts::Ec { point } => {
            // CKA_EC_POINT is a DER OCTET STRING around the uncompressed point; some modules
            // return the bare point.
            let bare = match point.as_slice() {
                [0x04, 0x41, rest @ ..] if rest.len() == 65 => rest,
                other => other,
            };
            let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1)?;
            let mut context = BigNumContext::new()?;
            let point =
                EcPoint::from_bytes(&group, bare, &mut context).map_err(|_| bad("EC point"))?;
            let key = EcKey::from_public_key(&group, &point).map_err(|_| bad("EC public key"))?;
            PKey::from_ec_key(key).map_err(|_| bad("EC public key"))?
        }
    };
    Ok(PublicJwk::from_openssl(&pkey)?)
}
