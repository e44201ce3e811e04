//! Operator accounts: names, roles, departments, argon2id password hashes, and the
//! random secrets (session cookies, API tokens, web chat visitors) the server hands
//! out. Secrets are stored only as BLAKE2b digests, so a copy of the store opens no
//! session.

use argon2::password_hash::{PasswordHash, PasswordHasher, SaltString};
use blake2::{Blake2b512, Digest};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Claims and answers tickets.
    Operator,
    /// Also manages accounts.
    Admin,
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Role::Operator => "operator",
            Role::Admin => "admin",
        })
    }
}

/// (`Debug` leaves the password hash out.)
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct Operator {
    pub name: String,
    pub role: Role,
    pub departments: Vec<String>,
    /// PHC string (`$argon2id$v=19$...`).
    pub password_hash: String,
    pub created_at: DateTime<Utc>,
    /// This account's random id. Sessions and API tokens are bound to it, so a name
    /// reused after `operator remove` opens none of the old account's. (Accounts made
    /// before it existed have "", as do their sessions and tokens.)
    #[serde(default)]
    pub account: String,
}

/// A logged-in browser: the cookie's digest maps to this. (`Debug` leaves the CSRF
/// token out.)
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    pub operator: String,
    /// The [`Operator::account`] it was opened for.
    #[serde(default)]
    pub account: String,
    /// Sent back in `X-CSRF-Token` on every state-changing request.
    pub csrf: String,
    pub expires_at: DateTime<Utc>,
}

/// A script's bearer token: the digest maps to this.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiToken {
    pub operator: String,
    /// The [`Operator::account`] it was issued to.
    #[serde(default)]
    pub account: String,
    pub label: String,
    pub created_at: DateTime<Utc>,
    /// When it was last used (at most a minute late: not every call writes).
    #[serde(default)]
    pub last_used_at: Option<DateTime<Utc>>,
    /// After this it is refused; None: until revoked.
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
}

impl ApiToken {
    pub fn new(op: &Operator, label: &str, now: DateTime<Utc>) -> Self {
        Self {
            operator: op.name.clone(),
            account: op.account.clone(),
            label: label.chars().take(100).collect(),
            created_at: now,
            last_used_at: None,
            expires_at: None,
        }
    }

    /// Whether it is still valid at `now`.
    pub fn valid(&self, now: DateTime<Utc>) -> bool {
        self.expires_at.is_none_or(|t| now < t)
    }
}

/// A token's public id: the start of its digest (the digest keys it in the store; the
/// secret is never kept).
pub fn token_id(digest: &str) -> &str {
    &digest[..digest.len().min(16)]
}

impl fmt::Debug for Operator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Operator")
            .field("name", &self.name)
            .field("role", &self.role)
            .field("departments", &self.departments)
            .field("password_hash", &"<redacted>")
            .field("created_at", &self.created_at)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("operator", &self.operator)
            .field("csrf", &"<redacted>")
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum AccountError {
    #[error(
        "operator name `{0}` is not valid\n  hint: use 2-32 lowercase letters, digits, `.`, `_` or `-`, e.g. `anna`"
    )]
    Name(String),
    #[error("the password is too short\n  hint: use at least 8 characters")]
    ShortPassword,
    #[error("department `{0}` is not configured\n  hint: configured departments: {1}")]
    Department(String, String),
    #[error("an operator needs at least one department\n  hint: pass --department NAME")]
    NoDepartment,
    #[error("operator `{0}` already exists")]
    Exists(String),
    #[error("operator `{0}` does not exist\n  hint: `sportello operator list` shows them")]
    Unknown(String),
}

pub const MIN_PASSWORD: usize = 8;

impl Operator {
    /// A new account, its name, password and departments checked.
    pub fn new(
        name: &str,
        password: &str,
        role: Role,
        departments: &[String],
        known_departments: &[String],
        now: DateTime<Utc>,
    ) -> Result<Operator, AccountError> {
        let name = valid_name(name)?;
        if password.chars().count() < MIN_PASSWORD {
            return Err(AccountError::ShortPassword);
        }
        check_departments(departments, known_departments)?;
        Ok(Operator {
            name,
            role,
            departments: departments.to_vec(),
            password_hash: hash_password(password),
            created_at: now,
            account: new_secret()[..32].to_owned(),
        })
    }

    /// Whether a session or token bound to `account` was made for this account (and
    /// not for an earlier one of the same name).
    pub fn owns(&self, account: &str) -> bool {
        same_secret(&self.account, account)
    }

    pub fn verify(&self, password: &str) -> bool {
        verify_hash(&self.password_hash, password)
    }

    /// The same account with a new password (checked and hashed).
    pub fn with_password(&self, password: &str) -> Result<Operator, AccountError> {
        if password.chars().count() < MIN_PASSWORD {
            return Err(AccountError::ShortPassword);
        }
        Ok(Operator {
            password_hash: hash_password(password),
            ..self.clone()
        })
    }
}

/// An operator's departments: at least one, each configured.
pub fn check_departments(departments: &[String], known: &[String]) -> Result<(), AccountError> {
    if departments.is_empty() {
        return Err(AccountError::NoDepartment);
    }
    match departments.iter().find(|d| !known.contains(d)) {
        Some(d) => Err(AccountError::Department(d.clone(), known.join(", "))),
        None => Ok(()),
    }
}

/// A name as typed, trimmed and lowercased, or why it is not valid.
pub fn valid_name(raw: &str) -> Result<String, AccountError> {
    let name = raw.trim().to_lowercase();
    let ok = (2..=32).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c));
    if ok {
        Ok(name)
    } else {
        Err(AccountError::Name(raw.to_owned()))
    }
}

/// argon2id with the crate's defaults (19 MiB, 2 passes) and a random salt.
fn hash_password(password: &str) -> String {
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
fn verify_hash(phc: &str, password: &str) -> bool {
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

    fn departments() -> Vec<String> {
        vec!["logistica".into(), "vendite".into()]
    }

    #[test]
    fn a_password_verifies_only_itself() {
        let now = Utc::now();
        let op = Operator::new(
            "Anna",
            "correct horse",
            Role::Operator,
            &["logistica".into()],
            &departments(),
            now,
        )
        .unwrap();
        assert_eq!(op.name, "anna");
        assert!(op.password_hash.starts_with("$argon2id$"));
        assert!(op.verify("correct horse"));
        assert!(!op.verify("correct horsE"));
    }

    #[test]
    fn bad_accounts_are_refused_with_a_hint() {
        let now = Utc::now();
        let new = |name: &str, pw: &str, deps: &[String]| {
            Operator::new(name, pw, Role::Admin, deps, &departments(), now).map(|_| ())
        };
        let ok = ["logistica".to_owned()];
        assert!(matches!(
            new("a b", "long enough", &ok),
            Err(AccountError::Name(_))
        ));
        assert_eq!(new("anna", "short", &ok), Err(AccountError::ShortPassword));
        assert_eq!(
            new("anna", "long enough", &[]),
            Err(AccountError::NoDepartment)
        );
        let err = new("anna", "long enough", &["magazzino".into()]).unwrap_err();
        assert!(err.to_string().contains("logistica, vendite"), "{err}");
    }

    #[test]
    fn debug_output_shows_no_secret() {
        let op = Operator::new(
            "anna",
            "correct horse",
            Role::Operator,
            &["logistica".into()],
            &departments(),
            Utc::now(),
        )
        .unwrap();
        let session = Session {
            operator: op.name.clone(),
            account: op.account.clone(),
            csrf: new_secret(),
            expires_at: Utc::now(),
        };
        let shown = format!("{op:?} {session:?}");
        assert!(shown.contains("anna"), "{shown}");
        for secret in [&op.password_hash, &op.account, &session.csrf] {
            assert!(!shown.contains(secret.as_str()), "{shown}");
        }
    }

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
