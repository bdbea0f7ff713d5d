//! Recovery codes: ten one-time codes shown once at enrolment, for a lost phone. Each holds
//! 50 random bits (ten base32 letters and digits, written `xxxxx-xxxxx`), so a SHA-256 is a
//! sound way to keep them (the lockout bounds guessing); one used is gone.

use super::super::secret;
use rand::Rng;

pub const CODES: usize = 10;
const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz234567";
const HALF: usize = 5;

/// Fresh codes, as the user is shown them.
pub fn generate() -> Vec<String> {
    let mut random = rand::rng();
    (0..CODES)
        .map(|_| {
            let letters: String = (0..2 * HALF)
                .map(|_| char::from(ALPHABET[random.random_range(0..ALPHABET.len())]))
                .collect();
            format!("{}-{}", &letters[..HALF], &letters[HALF..])
        })
        .collect()
}

/// What is stored of a code: the digest of its letters, case and dashes ignored.
pub fn digest(code: &str) -> String {
    let letters: String = code
        .chars()
        .filter(|c| *c != '-' && !c.is_whitespace())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    secret::sha256_hex(&letters)
}

/// Where `presented` is among `digests`, compared in constant time.
pub fn position(digests: &[String], presented: &str) -> Option<usize> {
    let wanted = digest(presented);
    let mut found = None;
    for (index, stored) in digests.iter().enumerate() {
        if secret::digests_equal(stored.as_bytes(), wanted.as_bytes()) {
            found = Some(index);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct_well_formed_and_found_however_typed() {
        let codes = generate();
        assert_eq!(codes.len(), CODES);
        let distinct: std::collections::BTreeSet<&String> = codes.iter().collect();
        assert_eq!(distinct.len(), CODES);
        for code in &codes {
            assert_eq!(code.len(), 11);
            assert_eq!(&code[5..6], "-");
        }
        let digests: Vec<String> = codes.iter().map(|code| digest(code)).collect();
        assert_eq!(position(&digests, &codes[3]), Some(3));
        let typed = codes[7].to_uppercase().replace('-', " ");
        assert_eq!(position(&digests, &typed), Some(7));
        assert_eq!(position(&digests, "aaaaa-aaaaa"), None);
    }
}
