//! X.509 certificates for signing keys: a self-signed `ROOT` CA and leaf certificates it issues.
//!
//! Relying parties and tooling that expect MOSIP keymanager behaviour read keys from
//! certificates (`x5c`), so every signing key gets one, chained to a shared root.

use esignet_jose::Algorithm;
use openssl::asn1::Asn1Time;
use openssl::bn::{BigNum, MsbOption};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{HasPublic, PKey, PKeyRef, Public};
use openssl::x509::extension::{
    AuthorityKeyIdentifier, BasicConstraints, KeyUsage, SubjectKeyIdentifier,
};
use openssl::x509::{X509, X509Builder, X509Name, X509NameBuilder};
use time::OffsetDateTime;

use crate::record::KeySigner;
use crate::{KeyAlgorithm, KeyError};

/// Subject common name of generated `ROOT` certificates (shared by every application).
pub(crate) const ROOT_COMMON_NAME: &str = "eSignet-rs ROOT";

/// A self-signed CA certificate for `key`, valid from `not_before` to `not_after`.
pub(crate) fn self_signed_root(
    key: &KeySigner,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
) -> Result<X509, KeyError> {
    let name = common_name(ROOT_COMMON_NAME)?;
    let public = key.public_jwk();
    let mut builder = base_builder(public.openssl_pkey(), &name, not_before, not_after)?;
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
    sign(builder, key)
}

/// A signing certificate for `key`, issued by `root_key` / `root_certificate`: an end-entity
/// certificate, or with `certificate_authority` an issuing CA (`pathlen:0`) that may also sign
/// certificates for other parties' keys.
pub(crate) fn issue_leaf(
    key: &KeySigner,
    subject_common_name: &str,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
    root_key: &KeySigner,
    root_certificate: &X509,
    certificate_authority: bool,
) -> Result<X509, KeyError> {
    let name = common_name(subject_common_name)?;
    let public = key.public_jwk();
    let mut builder = base_builder(public.openssl_pkey(), &name, not_before, not_after)?;
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
    sign(builder, root_key)
}

/// An end-entity certificate for another party's public key (a wallet's), issued by
/// `issuer_key` / `issuer_certificate`: digital signature only, never a CA.
pub(crate) fn issue_for_public_key(
    subject_key: &PKeyRef<Public>,
    subject_common_name: &str,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
    issuer_key: &KeySigner,
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
    sign(builder, issuer_key)
}

/// Signs the certificate with SHA-256 (`sha256WithRSAEncryption` / `ecdsa-with-SHA256`).
///
/// A software key signs through OpenSSL directly. OpenSSL can only sign with a key it holds, so
/// for a vault key the certificate is first signed with a throwaway key of the same family (which
/// fixes the signature algorithm inside the to-be-signed part), then the `TBSCertificate` bytes
/// are signed by the vault and the throwaway signature is replaced. The result is parsed back and
/// verified against the issuer's public key, so a vault that signs wrongly cannot produce a
/// certificate.
fn sign(mut builder: X509Builder, issuer: &KeySigner) -> Result<X509, KeyError> {
    let vault_key = match issuer {
        KeySigner::Software(key) => {
            builder.sign(key.openssl_pkey(), MessageDigest::sha256())?;
            return Ok(builder.build());
        }
        KeySigner::Vault(key) => key,
    };
    let family = issuer.family();
    let placeholder = match family {
        // The placeholder's size does not show in the certificate (the RSA algorithm
        // identifier has no parameters); a small one is quick to generate.
        KeyAlgorithm::Rsa2048 => PKey::from_rsa(openssl::rsa::Rsa::generate(1024)?)?,
        KeyAlgorithm::EcP256 => {
            let group = openssl::ec::EcGroup::from_curve_name(Nid::X9_62_PRIME256V1)?;
            PKey::from_ec_key(openssl::ec::EcKey::generate(&group)?)?
        }
    };
    builder.sign(&placeholder, MessageDigest::sha256())?;
    let draft = builder.build().to_der()?;
    let (tbs, algorithm) = der::certificate_parts(&draft)
        .ok_or_else(|| KeyError::Crypto("cannot split the certificate being signed".into()))?;
    let signature = match family {
        KeyAlgorithm::Rsa2048 => vault_key.sign(Algorithm::RS256, tbs)?,
        KeyAlgorithm::EcP256 => {
            // The vault answers JOSE's `r || s`; X.509 wants the DER ECDSA-Sig-Value.
            let raw = vault_key.sign(Algorithm::ES256, tbs)?;
            if raw.len() != 64 {
                return Err(KeyError::Vault(
                    "the ECDSA signature is not 64 bytes long".into(),
                ));
            }
            let r = BigNum::from_slice(&raw[..32])?;
            let s = BigNum::from_slice(&raw[32..])?;
            openssl::ecdsa::EcdsaSig::from_private_components(r, s)?.to_der()?
        }
    };
    let certificate = X509::from_der(&der::certificate(tbs, algorithm, &signature))?;
    let issuer_public = vault_key.public_key().openssl_pkey().clone();
    if !certificate.verify(&issuer_public)? {
        return Err(KeyError::Vault(
            "the HSM's certificate signature does not verify".into(),
        ));
    }
    Ok(certificate)
}

/// Just enough DER to take a certificate apart and put it back together with a new signature.
mod der {
    /// The `tbsCertificate` and `signatureAlgorithm` elements (each with tag and length) of a
    /// DER `Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue }`.
    pub(super) fn certificate_parts(der: &[u8]) -> Option<(&[u8], &[u8])> {
        let (tag, body, _) = element(der)?;
        if tag != 0x30 {
            return None;
        }
        let (_, _, tbs_len) = element(body)?;
        let (tbs, rest) = body.split_at(tbs_len);
        let (_, _, algorithm_len) = element(rest)?;
        Some((tbs, &rest[..algorithm_len]))
    }

    /// `SEQUENCE { tbs, algorithm, BIT STRING signature }`.
    pub(super) fn certificate(tbs: &[u8], algorithm: &[u8], signature: &[u8]) -> Vec<u8> {
        let mut bit_string = vec![0u8]; // no unused bits
        bit_string.extend_from_slice(signature);
        let mut body = tbs.to_vec();
        body.extend_from_slice(algorithm);
        body.extend(encode(0x03, &bit_string));
        encode(0x30, &body)
    }

    /// One element at the start of `input`: its tag, its contents and its total length.
    fn element(input: &[u8]) -> Option<(u8, &[u8], usize)> {
        let tag = *input.first()?;
        let first = *input.get(1)?;
        let (length, header) = if first < 0x80 {
            (usize::from(first), 2)
        } else {
            let count = usize::from(first & 0x7f);
            if count == 0 || count > 4 {
                return None;
            }
            let bytes = input.get(2..2 + count)?;
            let length = bytes
                .iter()
                .fold(0usize, |length, byte| (length << 8) | usize::from(*byte));
            (length, 2 + count)
        };
        let end = header.checked_add(length)?;
        Some((tag, input.get(header..end)?, end))
    }

    fn encode(tag: u8, contents: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        match u8::try_from(contents.len()) {
            Ok(short) if short < 0x80 => out.push(short),
            _ => {
                let bytes: Vec<u8> = contents
                    .len()
                    .to_be_bytes()
                    .into_iter()
                    .skip_while(|byte| *byte == 0)
                    .collect();
                // At most size_of::<usize>() bytes: the count fits the low 7 bits.
                out.push(0x80 | u8::try_from(bytes.len()).unwrap_or(0x7f));
                out.extend(bytes);
            }
        }
        out.extend_from_slice(contents);
        out
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn a_certificate_splits_and_reassembles_to_the_same_bytes() {
            let key = esignet_jose::PrivateKey::generate_ec_p256().unwrap();
            let signer = crate::record::KeySigner::Software(key);
            let now = time::OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
            let root = super::super::self_signed_root(&signer, now, now + time::Duration::days(1))
                .unwrap();
            let der = root.to_der().unwrap();
            let (tbs, algorithm) = certificate_parts(&der).unwrap();
            let signature = root.signature().as_slice();
            assert_eq!(certificate(tbs, algorithm, signature), der);
            assert!(certificate_parts(&der[..der.len() - 1]).is_none());
            assert!(certificate_parts(b"").is_none());
        }
    }
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
