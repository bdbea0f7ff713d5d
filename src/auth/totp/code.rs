//! RFC 6238 time-based one-time codes (HMAC-SHA1, 30 s steps, 6 digits: what every
//! authenticator app reads from an otpauth:// URI), computed by the `totp-rs` crate. A code
//! is accepted one step either side of the server's clock, and each step at most once.

use subtle::ConstantTimeEq;
use totp_rs::{Algorithm, TOTP};

pub const DIGITS: usize = 6;
pub const STEP_S: u64 = 30;
/// Steps accepted either side of the server's: a phone's clock a little off still works.
const SKEW_STEPS: u64 = 1;
/// 160 bits, the HMAC-SHA1 block the RFC's own examples use.
pub const SECRET_BYTES: usize = 20;

fn generator(secret: &[u8], digits: usize) -> TOTP {
    TOTP::new_unchecked(
        Algorithm::SHA1,
        digits,
        0,
        STEP_S,
        secret.to_vec(),
        None,
        String::new(),
    )
}

/// The `digits`-digit code for `secret` at `unix_s` (seconds since the epoch).
pub fn code_at(secret: &[u8], digits: usize, unix_s: u64) -> String {
    generator(secret, digits).generate(unix_s)
}

/// The time step of `unix_s` that `presented` is the code of, within the accepted skew;
/// None if it matches none. Every candidate is compared in constant time.
pub fn matching_step(secret: &[u8], presented: &str, unix_s: u64) -> Option<u64> {
    let now_step = unix_s / STEP_S;
    let generator = generator(secret, DIGITS);
    let mut matched = None;
    for step in now_step.saturating_sub(SKEW_STEPS)..=now_step.saturating_add(SKEW_STEPS) {
        let code = generator.generate(step * STEP_S);
        if bool::from(code.as_bytes().ct_eq(presented.as_bytes())) {
            matched = Some(step);
        }
    }
    matched
}

/// The otpauth:// URI an authenticator app enrols from (as a QR code or pasted).
pub fn otpauth_uri(secret: &[u8], issuer: &str, account: &str) -> String {
    TOTP::new_unchecked(
        Algorithm::SHA1,
        DIGITS,
        0,
        STEP_S,
        secret.to_vec(),
        Some(issuer.to_owned()),
        account.to_owned(),
    )
    .get_url()
}

/// The secret as the RFC 4648 base32 text apps accept when typed in.
pub fn base32(secret: &[u8]) -> String {
    totp_rs::Secret::Raw(secret.to_vec())
        .to_encoded()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1 rows: the 20-byte ASCII secret "12345678901234567890".
    #[test]
    fn the_rfc_6238_sha1_test_vectors_hold() {
        let secret = b"12345678901234567890";
        for (unix_s, code) in [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ] {
            assert_eq!(code_at(secret, 8, unix_s), code, "T = {unix_s}");
        }
    }

    #[test]
    fn a_code_matches_its_own_step_and_one_either_side_only() {
        let secret = [7u8; SECRET_BYTES];
        let t = 1_700_000_000;
        let code = code_at(&secret, DIGITS, t);
        assert_eq!(matching_step(&secret, &code, t), Some(t / STEP_S));
        assert_eq!(matching_step(&secret, &code, t + STEP_S), Some(t / STEP_S));
        assert_eq!(matching_step(&secret, &code, t - STEP_S), Some(t / STEP_S));
        assert_eq!(matching_step(&secret, &code, t + 2 * STEP_S), None);
        assert_eq!(matching_step(&secret, "12345", t), None);
        assert_eq!(matching_step(&secret, "", t), None);
    }

    #[test]
    fn the_uri_names_issuer_account_and_the_base32_secret() {
        let secret = b"12345678901234567890";
        assert_eq!(base32(secret), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        let uri = otpauth_uri(secret, "cryptolens", "alice");
        assert!(uri.starts_with("otpauth://totp/cryptolens:alice?"), "{uri}");
        assert!(
            uri.contains("secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"),
            "{uri}"
        );
        assert!(uri.contains("issuer=cryptolens"), "{uri}");
    }

    /// Codes and URIs from pyotp, an independent implementation
    /// (`fixtures/generate_totp_golden.py`).
    #[test]
    fn codes_and_uris_agree_with_pyotp() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/golden/totp/pyotp.csv"
        );
        let text = std::fs::read_to_string(path).expect("golden file");
        let mut rows = 0;
        for line in text.lines().skip(1) {
            let fields: Vec<&str> = line.splitn(4, ',').collect();
            let [encoded, unix_s, code, uri] = fields[..] else {
                panic!("bad row {line}");
            };
            let secret = totp_rs::Secret::Encoded(encoded.to_owned())
                .to_bytes()
                .expect("base32");
            let unix_s: u64 = unix_s.parse().expect("time");
            assert_eq!(code_at(&secret, DIGITS, unix_s), code, "{line}");
            assert_eq!(matching_step(&secret, code, unix_s), Some(unix_s / STEP_S));
            assert_eq!(base32(&secret), encoded);
            let ours = otpauth_uri(&secret, "cryptolens", "alice");
            assert_eq!(uri_parts(&ours), uri_parts(uri), "{ours} vs {uri}");
            rows += 1;
        }
        assert!(rows >= 200, "only {rows} rows");
    }

    /// The label and the secret and issuer parameters, whatever their order.
    fn uri_parts(uri: &str) -> (String, Vec<String>) {
        let (label, query) = uri.split_once('?').expect("query");
        let mut wanted: Vec<String> = query
            .split('&')
            .filter(|pair| pair.starts_with("secret=") || pair.starts_with("issuer="))
            .map(str::to_owned)
            .collect();
        wanted.sort();
        (label.to_owned(), wanted)
    }
}
