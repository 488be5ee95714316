//! HMAC-SHA256 (RFC 2104) over the infallible SHA-256 of `esignet-jose`, so that signing a
//! challenge cannot fail.

/// SHA-256's block size in bytes.
const BLOCK: usize = 64;

/// HMAC-SHA256 of `message` under a 32-byte `key` (shorter than a block, so used as is).
pub(crate) fn hmac_sha256(key: &[u8; 32], message: &[u8]) -> [u8; 32] {
    let mut padded = [0u8; BLOCK];
    padded[..key.len()].copy_from_slice(key);
    let mut inner = Vec::with_capacity(BLOCK + message.len());
    inner.extend(padded.iter().map(|byte| byte ^ 0x36));
    inner.extend_from_slice(message);
    let inner_hash = esignet_jose::sha256(&inner);
    let mut outer = Vec::with_capacity(BLOCK + inner_hash.len());
    outer.extend(padded.iter().map(|byte| byte ^ 0x5c));
    outer.extend_from_slice(&inner_hash);
    let mac = esignet_jose::sha256(&outer);
    // The padded key copies are key material: wipe them before returning.
    zeroize::Zeroize::zeroize(&mut padded);
    zeroize::Zeroize::zeroize(&mut inner);
    zeroize::Zeroize::zeroize(&mut outer);
    mac
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4231 test case 2 uses a 4-byte key; test case 1 a 20-byte key. Both are shorter than
    /// a block, like ours, so zero-padding the key to 32 bytes must not change the result.
    #[test]
    fn matches_rfc_4231_test_case_1() {
        let mut key = [0u8; 32];
        key[..20].copy_from_slice(&[0x0b; 20]);
        let mac = hmac_sha256(&key, b"Hi There");
        let expected = "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7";
        let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, expected);
    }
}
