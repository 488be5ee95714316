//! Private keys: generation, import and export, raw JWS signing.

use openssl::bn::{BigNum, BigNumContext, BigNumRef};
use openssl::ec::{EcGroup, EcKey, EcPoint};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{Id, PKey, Private};
use openssl::rsa::{Padding, Rsa};
use openssl::sign::Signer;
use serde_json::{Map, Value};
use zeroize::Zeroizing;

use crate::ecdsa::{self, P256_SCALAR_LEN};
use crate::jwk::{PssConfigurable as _, RSA_MAX_BITS, RSA_MIN_BITS, required_bytes};
use crate::{Algorithm, JoseError, PublicJwk, b64url_encode};

/// A private RSA (2048 to 8192 bits) or EC P-256 key.
///
/// Cloning is cheap (OpenSSL reference counting). `Debug` shows only the public thumbprint.
/// OpenSSL wipes private key memory when the last reference is freed; exports are returned in
/// [`Zeroizing`] buffers so callers' copies are wiped too.
#[derive(Clone)]
pub struct PrivateKey {
    pkey: PKey<Private>,
    public: PublicJwk,
}

impl PrivateKey {
    /// Generates an RSA key with a modulus of `bits` bits (2048 to 8192) and exponent 65537.
    /// Takes tens of milliseconds (more for larger keys): keep it off async executor threads.
    pub fn generate_rsa(bits: u32) -> Result<Self, JoseError> {
        let size = usize::try_from(bits).unwrap_or(usize::MAX);
        if !(RSA_MIN_BITS..=RSA_MAX_BITS).contains(&size) {
            return Err(JoseError::UnsupportedKey(
                "RSA key size must be 2048 to 8192 bits",
            ));
        }
        Self::from_pkey(PKey::from_rsa(Rsa::generate(bits)?)?)
    }

    /// Generates an EC P-256 key.
    pub fn generate_ec_p256() -> Result<Self, JoseError> {
        let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1)?;
        Self::from_pkey(PKey::from_ec_key(EcKey::generate(&group)?)?)
    }

    /// The EC P-256 key whose scalar is `1 + seed mod (n - 1)`: the same seed always gives the
    /// same key, so every instance of a deployment derives a shared key from a shared secret
    /// (for example a key derived from the key-encryption key) without storing it.
    pub fn ec_p256_from_seed(seed: &[u8; 32]) -> Result<Self, JoseError> {
        let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1)?;
        let mut context = BigNumContext::new()?;
        let mut order = BigNum::new()?;
        group.order(&mut order, &mut context)?;
        let one = BigNum::from_u32(1)?;
        let seed_number = BigNum::from_slice(seed)?;
        let mut order_minus_one = BigNum::new()?;
        order_minus_one.checked_sub(&order, &one)?;
        let mut scalar = BigNum::new()?;
        scalar.nnmod(&seed_number, &order_minus_one, &mut context)?;
        let mut d = BigNum::new()?;
        d.checked_add(&scalar, &one)?;
        let mut point = EcPoint::new(&group)?;
        point.mul_generator2(&group, &d, &mut context)?;
        let key = EcKey::from_private_components(&group, &d, &point)?;
        key.check_key()?;
        Self::from_pkey(PKey::from_ec_key(key)?)
    }

    /// Reads an unencrypted PKCS#8 `PrivateKeyInfo` (DER).
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, JoseError> {
        let pkey = PKey::private_key_from_pkcs8(der)
            .map_err(|_| JoseError::UnsupportedKey("not an unencrypted PKCS#8 private key"))?;
        Self::from_pkey(pkey)
    }

    /// The key as unencrypted PKCS#8 DER.
    pub fn to_pkcs8_der(&self) -> Result<Zeroizing<Vec<u8>>, JoseError> {
        Ok(Zeroizing::new(self.pkey.private_key_to_pkcs8()?))
    }

    /// Reads an unencrypted PEM private key (`PRIVATE KEY`, `RSA PRIVATE KEY` or
    /// `EC PRIVATE KEY`).
    pub fn from_pem(pem: &[u8]) -> Result<Self, JoseError> {
        let pkey = PKey::private_key_from_pem(pem)
            .map_err(|_| JoseError::UnsupportedKey("not an unencrypted PEM private key"))?;
        Self::from_pkey(pkey)
    }

    /// The key as unencrypted PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`).
    pub fn to_pem_pkcs8(&self) -> Result<Zeroizing<String>, JoseError> {
        let pem = Zeroizing::new(self.pkey.private_key_to_pem_pkcs8()?);
        // PEM is ASCII; the copy below is wiped by the returned Zeroizing.
        match std::str::from_utf8(&pem) {
            Ok(text) => Ok(Zeroizing::new(text.to_owned())),
            Err(_) => Err(JoseError::Crypto("PEM output is not UTF-8".into())),
        }
    }

    /// The full private JWK: `kty`, the public members, then `d`, `p`, `q`, `dp`, `dq`, `qi`
    /// (RSA) or `d` (EC). No `kid`, `alg` or `use`: callers add those they want.
    ///
    /// The result holds the secret in clear and cannot be wiped; use it only to write a key
    /// file (for example the demo relying party's) and drop it promptly.
    pub fn private_jwk_json(&self) -> Result<Value, JoseError> {
        let Value::Object(mut object) = self.public.to_json() else {
            return Err(JoseError::Crypto("public JWK is not an object".into()));
        };
        match self.pkey.id() {
            Id::RSA => {
                let rsa = self.pkey.rsa()?;
                let missing = || JoseError::UnsupportedKey("RSA key without CRT parameters");
                let members: [(&str, Option<&BigNumRef>); 6] = [
                    ("d", Some(rsa.d())),
                    ("p", rsa.p()),
                    ("q", rsa.q()),
                    ("dp", rsa.dmp1()),
                    ("dq", rsa.dmq1()),
                    ("qi", rsa.iqmp()),
                ];
                for (name, value) in members {
                    let bytes = Zeroizing::new(value.ok_or_else(missing)?.to_vec());
                    object.insert(name.into(), Value::from(b64url_encode(&bytes)));
                }
            }
            Id::EC => {
                let ec = self.pkey.ec_key()?;
                let d = Zeroizing::new(ec.private_key().to_vec_padded(P256_SCALAR_LEN as i32)?);
                object.insert("d".into(), Value::from(b64url_encode(&d)));
            }
            _ => return Err(JoseError::UnsupportedKey("kty must be RSA or EC")),
        }
        Ok(Value::Object(object))
    }

    /// Reads a private JWK as written by [`PrivateKey::private_jwk_json`]. RSA keys need all of
    /// `n`, `e`, `d`, `p`, `q`, `dp`, `dq`, `qi`; EC keys `crv` (`P-256`), `x`, `y`, `d`. The
    /// key is checked for consistency (the public members must belong to the private key).
    /// `kid`, `alg` and `use` are ignored.
    pub fn from_private_jwk_json(value: &Value) -> Result<Self, JoseError> {
        let object = value
            .as_object()
            .ok_or(JoseError::InvalidJwk("not a JSON object"))?;
        let kty = object.get("kty").and_then(Value::as_str);
        let pkey = match kty {
            Some("RSA") => {
                let number = |name: &'static str| secret_number(object, name);
                let rsa = Rsa::from_private_components(
                    number("n")?,
                    number("e")?,
                    number("d")?,
                    number("p")?,
                    number("q")?,
                    number("dp")?,
                    number("dq")?,
                    number("qi")?,
                )?;
                if !rsa.check_key().unwrap_or(false) {
                    return Err(JoseError::InvalidJwk("inconsistent RSA private key"));
                }
                PKey::from_rsa(rsa)?
            }
            Some("EC") => {
                if object.get("crv").and_then(Value::as_str) != Some("P-256") {
                    return Err(JoseError::UnsupportedKey(
                        "only the P-256 curve is supported",
                    ));
                }
                let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1)?;
                let d = secret_number(object, "d")?;
                // Derive the public point from d, then require the stated x and y to match it.
                let mut context = BigNumContext::new()?;
                let mut point = EcPoint::new(&group)?;
                point.mul_generator2(&group, &d, &mut context)?;
                let stated = EcPoint::from_bytes(
                    &group,
                    &[
                        &[0x04u8][..],
                        &required_bytes(object, "x", "missing or non-string x")?,
                        &required_bytes(object, "y", "missing or non-string y")?,
                    ]
                    .concat(),
                    &mut context,
                )
                .map_err(|_| JoseError::InvalidJwk("EC point is not on the P-256 curve"))?;
                if !point.eq(&group, &stated, &mut context)? {
                    return Err(JoseError::InvalidJwk("inconsistent EC private key"));
                }
                let key = EcKey::from_private_components(&group, &d, &point)?;
                key.check_key()
                    .map_err(|_| JoseError::InvalidJwk("inconsistent EC private key"))?;
                PKey::from_ec_key(key)?
            }
            _ => return Err(JoseError::UnsupportedKey("kty must be RSA or EC")),
        };
        Self::from_pkey(pkey)
    }

    /// The public key (without `kid`, `alg` or `use`).
    pub fn public_jwk(&self) -> PublicJwk {
        self.public.clone()
    }

    /// Signs `signing_input` with `alg` and returns the JWS signature bytes (64-byte `r || s`
    /// for ES256). Fails with [`JoseError::KeyMismatch`] if the key family does not fit `alg`.
    pub fn sign(&self, alg: Algorithm, signing_input: &[u8]) -> Result<Vec<u8>, JoseError> {
        let family_matches = match alg {
            Algorithm::RS256 | Algorithm::PS256 => self.public.is_rsa(),
            Algorithm::ES256 => !self.public.is_rsa(),
        };
        if !family_matches {
            return Err(JoseError::KeyMismatch(alg.as_str()));
        }
        let mut signer = Signer::new(MessageDigest::sha256(), &self.pkey)?;
        match alg {
            Algorithm::RS256 => {
                signer.set_rsa_padding(Padding::PKCS1)?;
                Ok(signer.sign_oneshot_to_vec(signing_input)?)
            }
            Algorithm::PS256 => {
                signer.configure_pss()?;
                Ok(signer.sign_oneshot_to_vec(signing_input)?)
            }
            Algorithm::ES256 => ecdsa::der_to_raw(&signer.sign_oneshot_to_vec(signing_input)?),
        }
    }

    /// The underlying OpenSSL key (for building certificates and the like).
    pub fn openssl_pkey(&self) -> &PKey<Private> {
        &self.pkey
    }

    /// Validates the key type and size and caches the public JWK.
    fn from_pkey(pkey: PKey<Private>) -> Result<Self, JoseError> {
        if pkey.id() == Id::RSA {
            let rsa = pkey.rsa()?;
            // The CRT parameters make signing fast and are needed for the private JWK.
            if rsa.p().is_none() || rsa.q().is_none() {
                return Err(JoseError::UnsupportedKey("RSA key without CRT parameters"));
            }
        }
        let public = PublicJwk::from_openssl(&pkey)?;
        Ok(Self { pkey, public })
    }
}

impl std::fmt::Debug for PrivateKey {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("PrivateKey")
            .field("kty", &self.public.kty())
            .field("thumbprint", &self.public.thumbprint())
            .finish_non_exhaustive()
    }
}

/// A big-endian integer member of a private JWK. The decoded bytes are wiped after conversion
/// (and OpenSSL clears `BigNum`s on free).
fn secret_number(object: &Map<String, Value>, name: &'static str) -> Result<BigNum, JoseError> {
    let bytes = Zeroizing::new(required_bytes(
        object,
        name,
        "missing or non-string private JWK member",
    )?);
    if bytes.is_empty() {
        return Err(JoseError::InvalidJwk("empty private JWK member"));
    }
    Ok(BigNum::from_slice(&bytes)?)
}
