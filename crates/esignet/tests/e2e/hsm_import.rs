//! `esignet keys import --pkcs12`: keystores generated here with OpenSSL (a CA and a leaf
//! certificate), imported into a SoftHSM2 token or as a software key, listed, published with
//! their chain, and signing ID tokens that verify with the imported public key alone; and every
//! refusal.

use openssl::asn1::Asn1Time;
use openssl::bn::BigNum;
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkcs12::Pkcs12;
use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;
use openssl::stack::Stack;
use openssl::x509::{X509, X509NameBuilder};

use base64::Engine as _;

use crate::harness::{Server, run_cli};
use crate::hsm::{borrowed, hsm_env, kid, login_id_token, softhsm_token, with};
use crate::verify::jwks;

const PASSWORD: &str = "p12-e2e-password";
// Not ESIGNET_*: those must name configuration keys.
const PASSWORD_VAR: &str = "E2E_P12_PASSWORD";

fn rsa() -> PKey<Private> {
    PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap()
}

fn ec(curve: Nid) -> PKey<Private> {
    PKey::from_ec_key(EcKey::generate(&EcGroup::from_curve_name(curve).unwrap()).unwrap()).unwrap()
}

/// A certificate for `subject` named `name`, signed by `issuer` (self-signed without one),
/// valid from `from` to `until` days from now.
fn certificate(
    name: &str,
    subject: &PKey<Private>,
    issuer: Option<(&X509, &PKey<Private>)>,
    from: i64,
    until: i64,
) -> X509 {
    let mut builder = X509::builder().unwrap();
    builder.set_version(2).unwrap();
    let serial = BigNum::from_u32(rand_serial())
        .unwrap()
        .to_asn1_integer()
        .unwrap();
    builder.set_serial_number(&serial).unwrap();
    let mut subject_name = X509NameBuilder::new().unwrap();
    subject_name.append_entry_by_text("CN", name).unwrap();
    let subject_name = subject_name.build();
    builder.set_subject_name(&subject_name).unwrap();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    builder
        .set_not_before(&Asn1Time::from_unix(now + from * 86_400).unwrap())
        .unwrap();
    builder
        .set_not_after(&Asn1Time::from_unix(now + until * 86_400).unwrap())
        .unwrap();
    builder.set_pubkey(subject).unwrap();
    match issuer {
        Some((certificate, key)) => {
            builder.set_issuer_name(certificate.subject_name()).unwrap();
            builder.sign(key, MessageDigest::sha256()).unwrap();
        }
        None => {
            builder.set_issuer_name(&subject_name).unwrap();
            builder.sign(subject, MessageDigest::sha256()).unwrap();
        }
    }
    builder.build()
}

fn rand_serial() -> u32 {
    u32::from_be_bytes(uuid::Uuid::new_v4().as_bytes()[..4].try_into().unwrap()) >> 1
}

/// A keystore: `key` (if any), `cert` (if any) and `ca`.
fn keystore(key: Option<&PKey<Private>>, cert: Option<&X509>, ca: &[&X509]) -> Vec<u8> {
    let mut builder = Pkcs12::builder();
    builder.name("imported");
    if let Some(key) = key {
        builder.pkey(key);
    }
    if let Some(cert) = cert {
        builder.cert(cert);
    }
    if !ca.is_empty() {
        let mut stack = Stack::new().unwrap();
        for certificate in ca {
            stack.push((*certificate).clone()).unwrap();
        }
        builder.ca(stack);
    }
    builder.build2(PASSWORD).unwrap().to_der().unwrap()
}

/// A CA and a leaf for `key`, as a keystore; returns it and the chain (leaf, CA).
fn issued(key: &PKey<Private>) -> (Vec<u8>, Vec<X509>) {
    let ca_key = rsa();
    let ca = certificate("Imported CA", &ca_key, None, -1, 3650);
    let leaf = certificate("Imported signer", key, Some((&ca, &ca_key)), -1, 365);
    (keystore(Some(key), Some(&leaf), &[&ca]), vec![leaf, ca])
}

fn import(
    data: &std::path::Path,
    env: &[(&'static str, String)],
    p12: &[u8],
    password: &str,
) -> (i32, String, String) {
    let file = data.join("import.p12");
    std::fs::write(&file, p12).unwrap();
    let env = with(env, PASSWORD_VAR, password);
    let file = file.display().to_string();
    run_cli(
        &[
            "keys",
            "import",
            "--pkcs12",
            &file,
            "--password-env",
            PASSWORD_VAR,
        ],
        data,
        &borrowed(&env),
    )
}

/// Imports `key`'s keystore, then checks the listing, the JWKS chain and an ID token verified
/// with the imported public key by jsonwebtoken.
async fn imported_key_signs(env: Vec<(&'static str, String)>, key: PKey<Private>) {
    let data = tempfile::tempdir().unwrap();
    let (p12, chain) = issued(&key);
    let (status, stdout, stderr) = import(data.path(), &env, &p12, PASSWORD);
    assert_eq!(status, 0, "{stdout}{stderr}");
    let imported = stdout
        .lines()
        .find_map(|line| line.strip_prefix("imported: new current key "))
        .unwrap_or_else(|| panic!("{stdout}"))
        .trim()
        .to_owned();
    let (status, listing, stderr) = run_cli(&["keys", "list"], data.path(), &borrowed(&env));
    assert_eq!(status, 0, "{stderr}");
    let row = listing
        .lines()
        .find(|line| line.starts_with(&imported))
        .unwrap_or_else(|| panic!("{listing}"));
    assert!(row.trim_end().ends_with("yes"), "current: {row}");

    let server = Server::start_in(data, &borrowed(&env)).await;
    let set = jwks(&server).await;
    let jwk = set.find(&imported).expect("the imported key is published");
    let x5c = jwk.common.x509_chain.clone().unwrap();
    let expected: Vec<String> = chain
        .iter()
        .map(|certificate| {
            base64::engine::general_purpose::STANDARD.encode(certificate.to_der().unwrap())
        })
        .collect();
    assert_eq!(x5c, expected, "leaf, then the keystore's CA");

    let token = login_id_token(&server).await;
    assert_eq!(kid(&token), imported);
    let public_pem = key.public_key_to_pem().unwrap();
    let (decoding, algorithm) = if key.id() == openssl::pkey::Id::RSA {
        (
            jsonwebtoken::DecodingKey::from_rsa_pem(&public_pem).unwrap(),
            jsonwebtoken::Algorithm::RS256,
        )
    } else {
        (
            jsonwebtoken::DecodingKey::from_ec_pem(&public_pem).unwrap(),
            jsonwebtoken::Algorithm::ES256,
        )
    };
    let mut validation = jsonwebtoken::Validation::new(algorithm);
    validation.set_audience(&["health-services-demo"]);
    jsonwebtoken::decode::<serde_json::Value>(&token, &decoding, &validation)
        .expect("the ID token verifies with the imported public key");
}

#[tokio::test]
async fn hsm_import_of_an_ec_p256_keystore_signs_from_the_token() {
    let (_token, conf) = softhsm_token();
    let env = with(&hsm_env(&conf), "ESIGNET_KEYS__ALGORITHM", "ES256");
    imported_key_signs(env, ec(Nid::X9_62_PRIME256V1)).await;
}

#[tokio::test]
async fn hsm_import_of_an_rsa_keystore_signs_from_the_token() {
    let (_token, conf) = softhsm_token();
    imported_key_signs(hsm_env(&conf), rsa()).await;
}

#[tokio::test]
async fn hsm_import_as_a_software_key_signs() {
    imported_key_signs(Vec::new(), rsa()).await;
}

#[test]
fn hsm_import_refuses_bad_keystores_clearly() {
    let data = tempfile::tempdir().unwrap();
    let env = Vec::new();
    let key = rsa();
    let (good, chain) = issued(&key);
    let ca_key = rsa();
    let ca = certificate("Imported CA", &ca_key, None, -10, 3650);
    let expired = certificate("Expired", &key, Some((&ca, &ca_key)), -10, -1);
    let other = certificate("Other", &rsa(), Some((&ca, &ca_key)), -1, 365);
    let p384 = ec(Nid::SECP384R1);
    let p384_leaf = certificate("P-384", &p384, Some((&ca, &ca_key)), -1, 365);
    let ec_key = ec(Nid::X9_62_PRIME256V1);
    let cases: Vec<(Vec<u8>, &str, &str)> = vec![
        (good.clone(), "not-the-password", "wrong password"),
        (
            keystore(None, Some(&chain[0]), &[&chain[1]]),
            PASSWORD,
            "holds no private key",
        ),
        (
            keystore(Some(&p384), Some(&p384_leaf), &[&ca]),
            PASSWORD,
            "unsupported key type: EC secp384r1",
        ),
        (
            keystore(Some(&key), Some(&expired), &[&ca]),
            PASSWORD,
            "the certificate expired on",
        ),
        (
            keystore(Some(&key), None, &[&other]),
            PASSWORD,
            "the private key does not match its certificate",
        ),
        (
            issued(&ec_key).0,
            PASSWORD,
            "this deployment signs with RSA keys",
        ),
        (
            b"not a keystore".to_vec(),
            PASSWORD,
            "not a PKCS#12 keystore",
        ),
    ];
    for (p12, password, expected) in cases {
        let (status, stdout, stderr) = import(data.path(), &env, &p12, password);
        assert_eq!(status, 1, "{expected}: {stdout}{stderr}");
        assert!(
            stderr.contains(expected),
            "{expected} missing from:\n{stderr}"
        );
        assert!(!stderr.contains(PASSWORD), "{stderr}");
    }
    // Nothing was imported: one generated key, current.
    let (status, listing, _) = run_cli(&["keys", "list"], data.path(), &[]);
    assert_eq!(status, 0);
    assert_eq!(listing.lines().count(), 2, "{listing}");
    let (status, _, stderr) = run_cli(
        &["keys", "import", "--pkcs12", "/nonexistent.p12"],
        data.path(),
        &[],
    );
    assert_eq!(status, 1);
    assert!(stderr.contains("cannot read"), "{stderr}");
}
