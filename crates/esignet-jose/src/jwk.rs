//! Public JSON Web Keys (RFC 7517): RSA and EC P-256 only.

use openssl::bn::{BigNum, BigNumContext};
use openssl::ec::{EcGroup, EcKey, EcPoint};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{HasPublic, Id, PKey, PKeyRef, Public};
use openssl::rsa::{Padding, Rsa};
use openssl::sign::{RsaPssSaltlen, Verifier};
use serde_json::{Map, Value};

use crate::ecdsa::{self, P256_SCALAR_LEN};
use crate::{Algorithm, JoseError, b64url_decode, b64url_encode, sha256_b64url};

/// The smallest RSA modulus we accept, in bits (NIST SP 800-131A).
pub(crate) const RSA_MIN_BITS: usize = 2048;
/// The largest RSA modulus we accept, in bits: bounds the cost an attacker-supplied key can
/// impose on a verification.
pub(crate) const RSA_MAX_BITS: usize = 8192;
/// The largest RSA public exponent we accept, in bytes.
const RSA_MAX_EXPONENT_LEN: usize = 8;

/// Members that only a private (or symmetric) JWK has; a public JWK carrying any of them is
/// rejected rather than silently stripped, because it means someone is leaking a secret.
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// The key's public material, in canonical (minimal, for RSA) big-endian form.
#[derive(Clone, PartialEq, Eq)]
enum Material {
    Rsa { n: Vec<u8>, e: Vec<u8> },
    Ec { x: Vec<u8>, y: Vec<u8> },
}

/// A validated public key: RSA with a modulus of 2048 to 8192 bits, or EC P-256.
///
/// Built from a JWK ([`PublicJwk::from_json`]) or from an OpenSSL key; the OpenSSL key object is
/// prepared once so that verification does no parsing. The optional `kid`, `alg` and `use`
/// members are kept and honoured: a key whose `use` is `enc` never verifies a signature, and a
/// key that names an `alg` only verifies that algorithm (RFC 8725 §3.1).
#[derive(Clone)]
pub struct PublicJwk {
    material: Material,
    kid: Option<String>,
    alg: Option<String>,
    key_use: Option<String>,
    pkey: PKey<Public>,
}

impl PublicJwk {
    /// Parses and validates a public JWK.
    ///
    /// Rejects: non-objects, any private member (`d`, `p`, `q`, `dp`, `dq`, `qi`, `oth`, `k`),
    /// a `kty` other than `RSA` or `EC`, a `crv` other than `P-256`, malformed base64url, RSA
    /// moduli under 2048 (or over 8192) bits, even or oversized RSA exponents, EC coordinates
    /// that are not exactly 32 bytes or not on the curve, and non-string `kid` / `alg` / `use`.
    /// Leading zero octets of RSA `n` and `e` are dropped, so the thumbprint and identity hash
    /// are those of the canonical encoding.
    pub fn from_json(value: &Value) -> Result<Self, JoseError> {
        let object = value
            .as_object()
            .ok_or(JoseError::InvalidJwk("not a JSON object"))?;
        if PRIVATE_MEMBERS
            .iter()
            .any(|member| object.contains_key(*member))
        {
            return Err(JoseError::InvalidJwk("contains private key members"));
        }
        let kty = required_string(object, "kty", "missing or non-string kty")?;
        let material = match kty {
            "RSA" => {
                let n = required_bytes(object, "n", "missing or non-string n")?;
                let e = required_bytes(object, "e", "missing or non-string e")?;
                Material::Rsa {
                    n: strip_leading_zeros(&n).to_vec(),
                    e: strip_leading_zeros(&e).to_vec(),
                }
            }
            "EC" => {
                let crv = required_string(object, "crv", "missing or non-string crv")?;
                if crv != "P-256" {
                    return Err(JoseError::UnsupportedKey(
                        "only the P-256 curve is supported",
                    ));
                }
                Material::Ec {
                    x: required_bytes(object, "x", "missing or non-string x")?,
                    y: required_bytes(object, "y", "missing or non-string y")?,
                }
            }
            _ => return Err(JoseError::UnsupportedKey("kty must be RSA or EC")),
        };
        let pkey = build_pkey(&material)?;
        Ok(Self {
            material,
            kid: optional_string(object, "kid", "non-string kid")?,
            alg: optional_string(object, "alg", "non-string alg")?,
            key_use: optional_string(object, "use", "non-string use")?,
            pkey,
        })
    }

    /// The public half of an OpenSSL key (RSA or EC P-256, with the same size rules as
    /// [`PublicJwk::from_json`]), without `kid`, `alg` or `use`.
    pub fn from_openssl<T: HasPublic>(key: &PKeyRef<T>) -> Result<Self, JoseError> {
        let material = match key.id() {
            Id::RSA => {
                let rsa = key.rsa()?;
                Material::Rsa {
                    n: rsa.n().to_vec(),
                    e: rsa.e().to_vec(),
                }
            }
            Id::EC => {
                let ec = key.ec_key()?;
                if ec.group().curve_name() != Some(Nid::X9_62_PRIME256V1) {
                    return Err(JoseError::UnsupportedKey(
                        "only the P-256 curve is supported",
                    ));
                }
                let mut context = openssl::bn::BigNumContext::new()?;
                let mut x = BigNum::new()?;
                let mut y = BigNum::new()?;
                ec.public_key()
                    .affine_coordinates(ec.group(), &mut x, &mut y, &mut context)?;
                let width = P256_SCALAR_LEN as i32;
                Material::Ec {
                    x: x.to_vec_padded(width)?,
                    y: y.to_vec_padded(width)?,
                }
            }
            _ => return Err(JoseError::UnsupportedKey("kty must be RSA or EC")),
        };
        let pkey = build_pkey(&material)?;
        Ok(Self {
            material,
            kid: None,
            alg: None,
            key_use: None,
            pkey,
        })
    }

    /// This key with `kid` set (replacing any previous one).
    #[must_use]
    pub fn with_kid(mut self, kid: impl Into<String>) -> Self {
        self.kid = Some(kid.into());
        self
    }

    /// The JWK: `kty`, then `n`, `e` (RSA) or `crv`, `x`, `y` (EC), then `kid`, `alg` and `use`
    /// when present. Always in this order, so serializations of equal keys are equal.
    pub fn to_json(&self) -> Value {
        let mut object = Map::new();
        object.insert("kty".into(), Value::from(self.kty()));
        match &self.material {
            Material::Rsa { n, e } => {
                object.insert("n".into(), Value::from(b64url_encode(n)));
                object.insert("e".into(), Value::from(b64url_encode(e)));
            }
            Material::Ec { x, y } => {
                object.insert("crv".into(), Value::from("P-256"));
                object.insert("x".into(), Value::from(b64url_encode(x)));
                object.insert("y".into(), Value::from(b64url_encode(y)));
            }
        }
        for (name, member) in [
            ("kid", &self.kid),
            ("alg", &self.alg),
            ("use", &self.key_use),
        ] {
            if let Some(member) = member {
                object.insert(name.into(), Value::from(member.as_str()));
            }
        }
        Value::Object(object)
    }

    /// The RFC 7638 thumbprint: base64url(SHA-256) of the required members in lexicographic
    /// order without whitespace (`{"e","kty","n"}` or `{"crv","kty","x","y"}`).
    pub fn thumbprint(&self) -> String {
        // base64url output never needs JSON escaping, so formatting is exact.
        let canonical = match &self.material {
            Material::Rsa { n, e } => format!(
                r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#,
                b64url_encode(e),
                b64url_encode(n)
            ),
            Material::Ec { x, y } => format!(
                r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
                b64url_encode(x),
                b64url_encode(y)
            ),
        };
        sha256_b64url(canonical.as_bytes())
    }

    /// base64url(SHA-256) of the identifying bytes: RSA `n`, or EC `x || y`. Two registrations
    /// of the same key (with different `kid`, `e` spelling or extra members) hash equally.
    pub fn identity_hash(&self) -> String {
        match &self.material {
            Material::Rsa { n, .. } => sha256_b64url(n),
            Material::Ec { x, y } => sha256_b64url(&[x.as_slice(), y.as_slice()].concat()),
        }
    }

    /// `RSA` or `EC`.
    pub fn kty(&self) -> &str {
        match self.material {
            Material::Rsa { .. } => "RSA",
            Material::Ec { .. } => "EC",
        }
    }

    /// The `kid` member, if any.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The `alg` member, if any (a JWS or JWE algorithm name, as registered).
    pub fn alg(&self) -> Option<&str> {
        self.alg.as_deref()
    }

    /// The `use` member (`sig` or `enc`), if any.
    pub fn key_use(&self) -> Option<&str> {
        self.key_use.as_deref()
    }

    /// Whether this key may verify `alg` signatures: the key family must match (RSA: RS256 and
    /// PS256; EC P-256: ES256), `use` must not be `enc`, and a declared `alg` must equal `alg`.
    pub fn supports(&self, alg: Algorithm) -> bool {
        let family_matches = match self.material {
            Material::Rsa { .. } => alg.is_rsa(),
            Material::Ec { .. } => alg == Algorithm::ES256,
        };
        family_matches
            && self.key_use.as_deref() != Some("enc")
            && self
                .alg
                .as_deref()
                .is_none_or(|declared| declared == alg.as_str())
    }

    /// Verifies `signature` over `signing_input` with `alg`. `false` on any failure: a key that
    /// does not support `alg`, a malformed signature (ES256 must be the 64-byte `r || s` form),
    /// or a backend error.
    pub fn verify(&self, alg: Algorithm, signing_input: &[u8], signature: &[u8]) -> bool {
        self.supports(alg)
            && self
                .try_verify(alg, signing_input, signature)
                .unwrap_or(false)
    }

    fn try_verify(
        &self,
        alg: Algorithm,
        signing_input: &[u8],
        signature: &[u8],
    ) -> Result<bool, JoseError> {
        let mut verifier = Verifier::new(MessageDigest::sha256(), &self.pkey)?;
        match alg {
            Algorithm::RS256 => {
                verifier.set_rsa_padding(Padding::PKCS1)?;
                Ok(verifier.verify_oneshot(signature, signing_input)?)
            }
            Algorithm::PS256 => {
                verifier.configure_pss()?;
                Ok(verifier.verify_oneshot(signature, signing_input)?)
            }
            Algorithm::ES256 => match ecdsa::raw_to_der(signature) {
                Some(der) => Ok(verifier.verify_oneshot(&der, signing_input)?),
                None => Ok(false),
            },
        }
    }

    /// The prepared OpenSSL key.
    pub fn openssl_pkey(&self) -> &PKey<Public> {
        &self.pkey
    }

    /// Whether this is an RSA key.
    pub(crate) fn is_rsa(&self) -> bool {
        matches!(self.material, Material::Rsa { .. })
    }
}

impl PartialEq for PublicJwk {
    /// Equal when the key material and the `kid`, `alg` and `use` members are equal.
    fn eq(&self, other: &Self) -> bool {
        self.material == other.material
            && self.kid == other.kid
            && self.alg == other.alg
            && self.key_use == other.key_use
    }
}

impl Eq for PublicJwk {}

impl std::fmt::Debug for PublicJwk {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("PublicJwk")
            .field("kty", &self.kty())
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("use", &self.key_use)
            .field("thumbprint", &self.thumbprint())
            .finish()
    }
}

/// Sets the RSASSA-PSS parameters of PS256 (RFC 7518 §3.5): MGF1 with SHA-256, 32-byte salt.
///
/// [`openssl::sign::Signer`] and [`Verifier`] have the same setters but no common trait; this
/// one keeps the parameters in a single place for both.
pub(crate) trait PssConfigurable {
    fn configure_pss(&mut self) -> Result<(), JoseError>;
}

impl PssConfigurable for Verifier<'_> {
    fn configure_pss(&mut self) -> Result<(), JoseError> {
        self.set_rsa_padding(Padding::PKCS1_PSS)?;
        self.set_rsa_mgf1_md(MessageDigest::sha256())?;
        self.set_rsa_pss_saltlen(RsaPssSaltlen::custom(32))?;
        Ok(())
    }
}

impl PssConfigurable for openssl::sign::Signer<'_> {
    fn configure_pss(&mut self) -> Result<(), JoseError> {
        self.set_rsa_padding(Padding::PKCS1_PSS)?;
        self.set_rsa_mgf1_md(MessageDigest::sha256())?;
        self.set_rsa_pss_saltlen(RsaPssSaltlen::custom(32))?;
        Ok(())
    }
}

/// Validates the material and builds the OpenSSL public key.
fn build_pkey(material: &Material) -> Result<PKey<Public>, JoseError> {
    match material {
        Material::Rsa { n, e } => {
            let bits = bit_length(n);
            if bits < RSA_MIN_BITS {
                return Err(JoseError::InvalidJwk("RSA modulus shorter than 2048 bits"));
            }
            if bits > RSA_MAX_BITS {
                return Err(JoseError::InvalidJwk("RSA modulus longer than 8192 bits"));
            }
            let exponent_valid = !e.is_empty()
                && e.len() <= RSA_MAX_EXPONENT_LEN
                && e.last().is_some_and(|last| last & 1 == 1)
                && bit_length(e) > 1;
            if !exponent_valid {
                return Err(JoseError::InvalidJwk("invalid RSA public exponent"));
            }
            let rsa = Rsa::from_public_components(BigNum::from_slice(n)?, BigNum::from_slice(e)?)?;
            Ok(PKey::from_rsa(rsa)?)
        }
        Material::Ec { x, y } => {
            if x.len() != P256_SCALAR_LEN || y.len() != P256_SCALAR_LEN {
                return Err(JoseError::InvalidJwk("EC coordinates must be 32 bytes"));
            }
            let group = p256_group()?;
            // Decoding the uncompressed point (0x04 || x || y) checks it lies on the curve. P-256
            // has prime order (cofactor 1), so that is the whole public-key validation: the
            // extra order check of `EC_KEY_check_key` (a full scalar multiplication, paid on
            // every DPoP proof and client assertion) adds nothing.
            let mut encoded = Vec::with_capacity(1 + 2 * P256_SCALAR_LEN);
            encoded.push(0x04);
            encoded.extend_from_slice(x);
            encoded.extend_from_slice(y);
            let mut context = BigNumContext::new()?;
            let point = EcPoint::from_bytes(group, &encoded, &mut context)
                .map_err(|_| JoseError::InvalidJwk("EC point is not on the P-256 curve"))?;
            let key = EcKey::from_public_key(group, &point)
                .map_err(|_| JoseError::InvalidJwk("EC point is not on the P-256 curve"))?;
            Ok(PKey::from_ec_key(key)?)
        }
    }
}

/// Number of significant bits in a big-endian unsigned integer.
fn bit_length(bytes: &[u8]) -> usize {
    let bytes = strip_leading_zeros(bytes);
    match bytes.first() {
        Some(first) => bytes.len() * 8 - first.leading_zeros() as usize,
        None => 0,
    }
}

fn strip_leading_zeros(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|&byte| byte != 0)
        .unwrap_or(bytes.len());
    &bytes[start..]
}

fn required_string<'a>(
    object: &'a Map<String, Value>,
    name: &str,
    problem: &'static str,
) -> Result<&'a str, JoseError> {
    object
        .get(name)
        .and_then(Value::as_str)
        .ok_or(JoseError::InvalidJwk(problem))
}

pub(crate) fn required_bytes(
    object: &Map<String, Value>,
    name: &str,
    problem: &'static str,
) -> Result<Vec<u8>, JoseError> {
    b64url_decode(required_string(object, name, problem)?)
}

fn optional_string(
    object: &Map<String, Value>,
    name: &str,
    problem: &'static str,
) -> Result<Option<String>, JoseError> {
    match object.get(name) {
        None => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.clone())),
        Some(_) => Err(JoseError::InvalidJwk(problem)),
    }
}

/// The P-256 group, built once (constructing it costs more than verifying a signature).
fn p256_group() -> Result<&'static EcGroup, JoseError> {
    static GROUP: std::sync::OnceLock<EcGroup> = std::sync::OnceLock::new();
    if let Some(group) = GROUP.get() {
        return Ok(group);
    }
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1)?;
    Ok(GROUP.get_or_init(|| group))
}
