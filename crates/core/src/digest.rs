//! Digests as text: lowercase hex, HMAC-SHA256, and random tokens. One place for what S3's
//! signatures, WebSub's `X-Hub-Signature`, the hub's challenges and the poller hashes share.

use hmac::{KeyInit, Mac};

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// HMAC-SHA256 of `message` under `key` (any length).
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(key).expect("HMAC accepts any key length");
    mac.update(message);
    mac.finalize().into_bytes().into()
}

/// The operating system's random generator failed: no token can be made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoRandomness(String);

impl std::fmt::Display for NoRandomness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the system's random number generator failed: {}", self.0)
    }
}

impl std::error::Error for NoRandomness {}

/// `bytes` random bytes from the operating system's generator (`getrandom`), as hex: for
/// challenges and salts, which must not be guessed, so there is no fallback: when the system
/// gives none, there is no token.
pub fn random_hex(bytes: usize) -> Result<String, NoRandomness> {
    let mut buffer = vec![0u8; bytes];
    getrandom::fill(&mut buffer).map_err(|e| NoRandomness(e.to_string()))?;
    Ok(hex(&buffer))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231_case_2() {
        assert_eq!(
            hex(&hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn random_tokens_are_hex_of_the_length_asked_and_differ() {
        let tokens: std::collections::BTreeSet<String> = (0..1000).map(|_| random_hex(16).unwrap()).collect();
        assert_eq!(tokens.len(), 1000, "no token repeats");
        for token in &tokens {
            assert_eq!(token.len(), 32);
            assert!(token.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)), "{token}");
        }
        assert_eq!(random_hex(0), Ok(String::new()));
        assert_eq!(random_hex(32).unwrap().len(), 64);
    }

    #[test]
    fn a_failed_generator_is_an_error_not_a_weaker_token() {
        // The one way to a token is the system's generator: its failure is the caller's to
        // handle (the hub refuses to verify, the recorder counts no poller), never a token
        // made from the clock.
        let token: fn(usize) -> Result<String, NoRandomness> = random_hex;
        assert!(token(8).is_ok());
        let failed = NoRandomness("unsupported".into());
        assert_eq!(failed.to_string(), "the system's random number generator failed: unsupported");
    }
}
