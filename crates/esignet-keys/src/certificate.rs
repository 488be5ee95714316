//! X.509 certificates for signing keys: a self-signed `ROOT` CA and leaf certificates it issues.
//!
//! Relying parties and tooling that expect MOSIP keymanager behaviour read keys from
//! certificates (`x5c`), so every signing key gets one, chained to a shared root.

use esignet_jose::PrivateKey;
use openssl::asn1::Asn1Time;
use openssl::bn::{BigNum, MsbOption};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{HasPublic, PKeyRef, Public};
use openssl::x509::extension::{
    AuthorityKeyIdentifier, BasicConstraints, KeyUsage, SubjectKeyIdentifier,
};
use openssl::x509::{X509, X509Builder, X509Name, X509NameBuilder};
use time::OffsetDateTime;

use crate::KeyError;

/// Subject common name of generated `ROOT` certificates (shared by every application).
pub(crate) const ROOT_COMMON_NAME: &str = "eSignet-rs ROOT";

/// A self-signed CA certificate for `key`, valid from `not_before` to `not_after`.
pub(crate) fn self_signed_root(
    key: &PrivateKey,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
) -> Result<X509, KeyError> {
    let name = common_name(ROOT_COMMON_NAME)?;
    let mut builder = base_builder(key.openssl_pkey(), &name, not_before, not_after)?;
    builder.set_issuer_name(&name)?;
    // pathlen 1: the root may certify one level of issuing keys (the wallet-binding key, which
    // certifies wallet keys), and nothing deeper.
    builder.append_extension(BasicConstraints::new().critical().ca().pathlen(1).build()?)?;
    builder.append_extension(
        KeyUsage::new()
            .critical()
            .key_cert_sign()
            .crl_sign()
            .build()?,
    )?;
    let subject_key_id = SubjectKeyIdentifier::new().build(&builder.x509v3_context(None, None))?;
    builder.append_extension(subject_key_id)?;
    builder.sign(key.openssl_pkey(), MessageDigest::sha256())?;
    Ok(builder.build())
}

/// A signing certificate for `key`, issued by `root_key` / `root_certificate`: an end-entity
/// certificate, or with `certificate_authority` an issuing CA (`pathlen:0`) that may also sign
/// certificates for other parties' keys.
pub(crate) fn issue_leaf(
    key: &PrivateKey,
    subject_common_name: &str,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
    root_key: &PrivateKey,
    root_certificate: &X509,
    certificate_authority: bool,
) -> Result<X509, KeyError> {
    let name = common_name(subject_common_name)?;
    let mut builder = base_builder(key.openssl_pkey(), &name, not_before, not_after)?;
    builder.set_issuer_name(root_certificate.subject_name())?;
    if certificate_authority {
        builder.append_extension(BasicConstraints::new().critical().ca().pathlen(0).build()?)?;
        builder.append_extension(
            KeyUsage::new()
                .critical()
                .digital_signature()
                .key_cert_sign()
                .build()?,
        )?;
    } else {
        builder.append_extension(BasicConstraints::new().critical().build()?)?;
        builder.append_extension(KeyUsage::new().critical().digital_signature().build()?)?;
    }
    let subject_key_id =
        SubjectKeyIdentifier::new().build(&builder.x509v3_context(Some(root_certificate), None))?;
    builder.append_extension(subject_key_id)?;
    let authority_key_id = AuthorityKeyIdentifier::new()
        .keyid(true)
        .build(&builder.x509v3_context(Some(root_certificate), None))?;
    builder.append_extension(authority_key_id)?;
    builder.sign(root_key.openssl_pkey(), MessageDigest::sha256())?;
    Ok(builder.build())
}

/// An end-entity certificate for another party's public key (a wallet's), issued by
/// `issuer_key` / `issuer_certificate`: digital signature only, never a CA.
pub(crate) fn issue_for_public_key(
    subject_key: &PKeyRef<Public>,
    subject_common_name: &str,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
    issuer_key: &PrivateKey,
    issuer_certificate: &X509,
) -> Result<X509, KeyError> {
    let name = common_name(subject_common_name)?;
    let mut builder = base_builder(subject_key, &name, not_before, not_after)?;
    builder.set_issuer_name(issuer_certificate.subject_name())?;
    builder.append_extension(BasicConstraints::new().critical().build()?)?;
    builder.append_extension(KeyUsage::new().critical().digital_signature().build()?)?;
    let subject_key_id = SubjectKeyIdentifier::new()
        .build(&builder.x509v3_context(Some(issuer_certificate), None))?;
    builder.append_extension(subject_key_id)?;
    let authority_key_id = AuthorityKeyIdentifier::new()
        .keyid(true)
        .build(&builder.x509v3_context(Some(issuer_certificate), None))?;
    builder.append_extension(authority_key_id)?;
    builder.sign(issuer_key.openssl_pkey(), MessageDigest::sha256())?;
    Ok(builder.build())
}

/// Version, random serial, subject, public key and validity: what every certificate shares.
fn base_builder<T: HasPublic>(
    key: &PKeyRef<T>,
    subject: &X509Name,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
) -> Result<X509Builder, KeyError> {
    let mut builder = X509Builder::new()?;
    builder.set_version(2)?; // X.509 v3
    // A positive 159-bit random serial: unique without coordination (RFC 5280 allows 20 octets).
    let mut serial = BigNum::new()?;
    serial.rand(159, MsbOption::MAYBE_ZERO, false)?;
    let serial = serial.to_asn1_integer()?;
    builder.set_serial_number(&serial)?;
    builder.set_subject_name(subject)?;
    builder.set_pubkey(key)?;
    let not_before = Asn1Time::from_unix(not_before.unix_timestamp())?;
    let not_after = Asn1Time::from_unix(not_after.unix_timestamp())?;
    builder.set_not_before(&not_before)?;
    builder.set_not_after(&not_after)?;
    Ok(builder)
}

fn common_name(value: &str) -> Result<X509Name, KeyError> {
    let mut name = X509NameBuilder::new()?;
    name.append_entry_by_nid(Nid::COMMONNAME, value)?;
    Ok(name.build())
}
