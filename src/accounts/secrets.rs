//! The secrets the server hands out and checks: argon2id password hashes, random
//! secrets (session cookies, API tokens), their BLAKE2b digests (what is stored, so a
//! copy of the store opens no session), signed web chat visitor tokens, and comparisons
//! in time that does not depend on the secret.

use argon2::password_hash::{PasswordHash, PasswordHasher, SaltString};
use blake2::{Blake2b512, Digest};

/// argon2id with the crate's defaults (19 MiB, 2 passes) and a random salt.
pub(super) fn hash_password(password: &str) -> String {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).expect("the OS random source works");
    let salt = SaltString::encode_b64(&salt).expect("16 bytes make a valid salt");
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 accepts any password with default parameters")
        .to_string()
}

/// Spend the same time as a real check, so that unknown names are not told apart
/// from wrong passwords by timing.
pub fn verify_nothing(password: &str) {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let hash = DUMMY.get_or_init(|| hash_password("not a password of anyone"));
    let _ = verify_hash(hash, password);
}

thread_local! {
    /// argon2's work area (19 MiB with the defaults), one per thread that checks
    /// passwords and reused: a fresh one per check leaves the allocator holding on to
    /// hundreds of MB after a burst of logins.
    static WORK: std::cell::RefCell<Vec<argon2::Block>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Whether `password` matches the PHC string `phc` (argon2 parameters read from it).
pub(super) fn verify_hash(phc: &str, password: &str) -> bool {
    let Ok(hash) = PasswordHash::new(phc) else {
        return false;
    };
    let (Ok(algorithm), Ok(params)) = (
        argon2::Algorithm::try_from(hash.algorithm),
        argon2::Params::try_from(&hash),
    ) else {
        return false;
    };
    let version = match hash.version.map(argon2::Version::try_from) {
        Some(Ok(v)) => v,
        Some(Err(_)) => return false,
        None => argon2::Version::default(),
    };
    let (Some(salt), Some(expected)) = (hash.salt, hash.hash) else {
        return false;
    };
    let mut salt_bytes = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let mut computed = vec![0u8; expected.len()];
    let hasher = argon2::Argon2::new(algorithm, version, params.clone());
    let done = WORK.with_borrow_mut(|blocks| {
        blocks.resize(params.block_count(), argon2::Block::default());
        hasher
            .hash_password_into_with_memory(
                password.as_bytes(),
                salt,
                &mut computed,
                &mut blocks[..],
            )
            .is_ok()
    });
    done && same_bytes(&computed, expected.as_bytes())
}

/// A fresh random secret: 32 bytes as hex.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the OS random source works");
    hex::encode(bytes)
}

/// The digest under which a secret is stored or from which an id is derived.
pub fn digest(secret: &str) -> String {
    hex::encode(Blake2b512::digest(secret.as_bytes()))
}

/// A web chat visitor token: a random half and its signature with the server's key
/// (64 hex digits in all), so that tokens cannot be made up to dodge the limits.
pub fn new_visitor(key: &str) -> String {
    let nonce = &new_secret()[..32];
    format!("{nonce}{}", visitor_signature(key, nonce))
}

/// Whether `token` was made by [`new_visitor`] with `key`.
pub fn valid_visitor(key: &str, token: &str) -> bool {
    token.len() == 64
        && token.is_char_boundary(32)
        && same_secret(&token[32..], &visitor_signature(key, &token[..32]))
}

fn visitor_signature(key: &str, nonce: &str) -> String {
    // BLAKE2 has no length-extension weakness: key || message is a sound MAC.
    digest(&format!("{key}:visitor:{nonce}"))[..32].to_owned()
}

/// Compare two secrets in time that does not depend on where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    same_bytes(a.as_bytes(), b.as_bytes())
}

fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_random_and_compared_whole() {
        let (a, b) = (new_secret(), new_secret());
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
        assert!(same_secret(&a, &a.clone()));
        assert!(!same_secret(&a, &b));
        assert!(!same_secret(&a, &a[..63]));
        assert_eq!(digest(&a), digest(&a));
        assert_ne!(digest(&a), digest(&b));
    }

    #[test]
    fn a_visitor_token_is_valid_only_with_its_key_and_unaltered() {
        let (key, other) = (new_secret(), new_secret());
        let token = new_visitor(&key);
        assert!(valid_visitor(&key, &token));
        assert!(!valid_visitor(&other, &token));
        let made_up = new_secret();
        assert!(!valid_visitor(&key, &made_up));
        let mut altered = token.clone();
        altered.replace_range(0..1, if token.starts_with('a') { "b" } else { "a" });
        assert!(!valid_visitor(&key, &altered));
        assert!(!valid_visitor(&key, "é"));
    }
}
