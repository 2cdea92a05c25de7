//! Password hashes: PBKDF2-HMAC-SHA256 (RFC 8018), stored as
//! `pbkdf2-sha256$<iterations>$<salt, base64>$<hash, base64>`.
//!
//! PBKDF2 needs nothing but HMAC-SHA256, which the workspace already has (`hmac`, `sha2`): its
//! twenty lines cost less than another dependency, and the RFC 7914 vectors below hold them to
//! the standard. 600,000 iterations is OWASP's figure for PBKDF2-HMAC-SHA256; the iteration count
//! travels with each hash, so it can rise without invalidating stored ones.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD_NO_PAD as B64;
use hmac::{Hmac, KeyInit, Mac};
use rand::RngExt as _;
use sha2::Sha256;

/// Iterations of a hash made for a deployment.
pub const ITERATIONS: u32 = 600_000;
const SCHEME: &str = "pbkdf2-sha256";
const HASH_LEN: usize = 32;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a password hash of the form pbkdf2-sha256$<iterations>$<salt>$<hash> (base64): {0}")]
pub struct MalformedHash(pub &'static str);

/// A parsed password hash.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash {
    iterations: u32,
    salt: Vec<u8>,
    hash: Vec<u8>,
}

impl std::fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PasswordHash({SCHEME}, {} iterations)", self.iterations)
    }
}

impl PasswordHash {
    /// Hashes `password` with a fresh random salt.
    pub fn new(password: &str, iterations: u32) -> Self {
        let salt: [u8; 16] = rand::rng().random();
        let hash = pbkdf2_sha256(password.as_bytes(), &salt, iterations.max(1));
        Self {
            iterations: iterations.max(1),
            salt: salt.to_vec(),
            hash: hash.to_vec(),
        }
    }

    /// A hash no password matches (all zeros), that costs `iterations` to check: verified in
    /// place of an unknown user's, so a wrong name takes as long as a wrong password.
    pub fn decoy(iterations: u32) -> Self {
        Self {
            iterations: iterations.max(1),
            salt: rand::rng().random::<[u8; 16]>().to_vec(),
            hash: vec![0; HASH_LEN],
        }
    }

    pub fn parse(raw: &str) -> Result<Self, MalformedHash> {
        let mut parts = raw.trim().split('$');
        if parts.next() != Some(SCHEME) {
            return Err(MalformedHash("unknown scheme"));
        }
        let iterations: u32 = parts
            .next()
            .and_then(|n| n.parse().ok())
            .filter(|n| *n > 0)
            .ok_or(MalformedHash("iterations"))?;
        let salt = parts
            .next()
            .and_then(|s| B64.decode(s).ok())
            .filter(|s| s.len() >= 8)
            .ok_or(MalformedHash("salt"))?;
        let hash = parts
            .next()
            .and_then(|s| B64.decode(s).ok())
            .filter(|h| h.len() == HASH_LEN)
            .ok_or(MalformedHash("hash"))?;
        if parts.next().is_some() {
            return Err(MalformedHash("trailing fields"));
        }
        Ok(Self {
            iterations,
            salt,
            hash,
        })
    }

    /// Whether `password` is the one hashed; the comparison takes the same time wherever the
    /// first difference is (`Mac::verify_slice`).
    pub fn verify(&self, password: &str) -> bool {
        let candidate = pbkdf2_sha256(password.as_bytes(), &self.salt, self.iterations);
        // Compare MACs of both values under a fresh key: constant time, whatever the lengths.
        let key: [u8; 32] = rand::rng().random();
        let tag = |bytes: &[u8]| {
            let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&key).ok()?;
            mac.update(bytes);
            Some(mac)
        };
        match (tag(&self.hash), tag(&candidate)) {
            (Some(expected), Some(got)) => got.verify(&expected.finalize().into_bytes()).is_ok(),
            _ => false,
        }
    }

    pub fn iterations(&self) -> u32 {
        self.iterations
    }

    /// The stored form.
    pub fn encode(&self) -> String {
        format!(
            "{SCHEME}${}${}${}",
            self.iterations,
            B64.encode(&self.salt),
            B64.encode(&self.hash)
        )
    }
}

/// PBKDF2 (RFC 8018 §5.2) with HMAC-SHA256, for one 32-byte block: the only length stored.
fn pbkdf2_sha256(password: &[u8], salt: &[u8], iterations: u32) -> [u8; HASH_LEN] {
    let Ok(prf) = <Hmac<Sha256> as KeyInit>::new_from_slice(password) else {
        return [0; HASH_LEN]; // HMAC takes keys of any length: not reached
    };
    let mut first = prf.clone();
    first.update(salt);
    first.update(&1u32.to_be_bytes());
    let mut u: [u8; HASH_LEN] = first.finalize().into_bytes().into();
    let mut out = u;
    for _ in 1..iterations {
        let mut next = prf.clone();
        next.update(&u);
        u = next.finalize().into_bytes().into();
        for (o, x) in out.iter_mut().zip(u.iter()) {
            *o ^= x;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// RFC 7914 §11's first PBKDF2-HMAC-SHA256 vector (its first 32 bytes), and the widely
    /// published "password"/"salt" ones at 2 and 4,096 iterations (RFC 7914's other vector takes
    /// 80,000 iterations: too slow for an unoptimised test).
    #[test]
    fn pbkdf2_matches_published_vectors() {
        assert_eq!(
            hex(&pbkdf2_sha256(b"passwd", b"salt", 1)),
            "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"
        );
        assert_eq!(
            hex(&pbkdf2_sha256(b"password", b"salt", 2)),
            "ae4d0c95af6b46d32d0adff928f06dd02a303f8ef3c251dfd6e2d85a95474c43"
        );
        assert_eq!(
            hex(&pbkdf2_sha256(b"password", b"salt", 4096)),
            "c5e478d59288c841aa530db6845c4c8d962893a001ce4e11a4963873aa98134a"
        );
    }

    #[test]
    fn hashes_round_trip_and_verify_only_their_password() {
        let hash = PasswordHash::new("correct horse", 1_000);
        let parsed = PasswordHash::parse(&hash.encode()).unwrap();
        assert_eq!(parsed, hash);
        assert!(parsed.verify("correct horse"));
        assert!(!parsed.verify("correct horsf"));
        assert!(!parsed.verify(""));
        assert!(!format!("{parsed:?}").contains(&B64.encode(&parsed.hash)));
        for bad in [
            "",
            "md5$1$c2FsdHNhbHQ$aGFzaA",
            "pbkdf2-sha256$0$c2FsdHNhbHQ$aGFzaA",
            "pbkdf2-sha256$10$c2FsdHNhbHQ$aGFzaA",
        ] {
            assert!(PasswordHash::parse(bad).is_err(), "{bad}");
        }
    }
}
