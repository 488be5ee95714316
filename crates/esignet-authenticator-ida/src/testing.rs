//! Key and certificate generation for tests and the test server (feature `test-server`).

use esignet_jose::PrivateKey;
use openssl::asn1::Asn1Time;
use openssl::bn::{BigNum, MsbOption};
use openssl::hash::MessageDigest;
use openssl::x509::{X509, X509NameBuilder};

/// A fresh RSA-2048 key and a self-signed certificate for it (common name `common_name`,
/// valid for a year from now).
///
/// # Panics
///
/// When OpenSSL cannot generate a key or a certificate (a broken installation).
pub fn self_signed(common_name: &str) -> (PrivateKey, X509) {
    let key = PrivateKey::generate_rsa(2048).expect("RSA key generation");
    let mut name = X509NameBuilder::new().expect("name builder");
    name.append_entry_by_text("CN", common_name).expect("CN");
    let name = name.build();
    let mut builder = X509::builder().expect("certificate builder");
    builder.set_version(2).expect("version");
    let mut serial = BigNum::new().expect("serial");
    serial
        .rand(127, MsbOption::MAYBE_ZERO, false)
        .expect("random serial");
    builder
        .set_serial_number(&serial.to_asn1_integer().expect("serial"))
        .expect("serial");
    builder.set_subject_name(&name).expect("subject");
    builder.set_issuer_name(&name).expect("issuer");
    builder
        .set_pubkey(key.openssl_pkey())
        .expect("certificate key");
    builder
        .set_not_before(&Asn1Time::days_from_now(0).expect("time"))
        .expect("not before");
    builder
        .set_not_after(&Asn1Time::days_from_now(365).expect("time"))
        .expect("not after");
    builder
        .sign(key.openssl_pkey(), MessageDigest::sha256())
        .expect("self-signature");
    (key, builder.build())
}

/// The PEM text of a certificate.
///
/// # Panics
///
/// When OpenSSL cannot encode it.
pub fn certificate_pem(certificate: &X509) -> String {
    String::from_utf8(certificate.to_pem().expect("PEM")).expect("PEM is ASCII")
}

/// The PKCS#8 PEM text of a private key.
///
/// # Panics
///
/// When OpenSSL cannot encode it.
pub fn private_key_pem(key: &PrivateKey) -> String {
    key.to_pem_pkcs8().expect("PEM").to_string()
}
