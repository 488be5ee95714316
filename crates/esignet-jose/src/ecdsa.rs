//! Conversion between OpenSSL's DER ECDSA signatures and JOSE's fixed-size `r || s` form.

use openssl::bn::BigNum;
use openssl::ecdsa::EcdsaSig;

use crate::JoseError;

/// Byte length of one P-256 scalar.
pub(crate) const P256_SCALAR_LEN: usize = 32;

/// DER `ECDSA-Sig-Value` to the 64-byte JOSE form (RFC 7518 §3.4).
pub(crate) fn der_to_raw(der: &[u8]) -> Result<Vec<u8>, JoseError> {
    let signature = EcdsaSig::from_der(der)?;
    // P256_SCALAR_LEN is a small constant, so the cast cannot truncate.
    let width = P256_SCALAR_LEN as i32;
    let mut raw = signature.r().to_vec_padded(width)?;
    raw.extend_from_slice(&signature.s().to_vec_padded(width)?);
    Ok(raw)
}

/// The 64-byte JOSE form to DER, or `None` when the length is wrong.
pub(crate) fn raw_to_der(raw: &[u8]) -> Option<Vec<u8>> {
    if raw.len() != 2 * P256_SCALAR_LEN {
        return None;
    }
    let (r, s) = raw.split_at(P256_SCALAR_LEN);
    let r = BigNum::from_slice(r).ok()?;
    let s = BigNum::from_slice(s).ok()?;
    EcdsaSig::from_private_components(r, s).ok()?.to_der().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_and_der_round_trip_with_leading_zero_scalars() {
        let mut raw = vec![0u8; 64];
        raw[31] = 7; // r = 7 (31 leading zero bytes)
        raw[32] = 0x80; // s has its high bit set (DER needs a sign byte)
        raw[63] = 1;
        let der = raw_to_der(&raw).unwrap();
        assert_eq!(der_to_raw(&der).unwrap(), raw);
    }

    #[test]
    fn wrong_lengths_are_rejected() {
        assert!(raw_to_der(&[1u8; 63]).is_none());
        assert!(raw_to_der(&[1u8; 65]).is_none());
        assert!(raw_to_der(&[]).is_none());
        assert!(der_to_raw(b"not der").is_err());
    }
}
