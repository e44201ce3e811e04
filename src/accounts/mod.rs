//! Operator accounts: names, roles, departments, passwords (argon2id, in [`secrets`]),
//! sessions and API tokens. Secrets are stored only as BLAKE2b digests, so a copy of
//! the store opens no session.

mod secrets;

pub use secrets::{digest, new_secret, new_visitor, same_secret, valid_visitor, verify_nothing};

use chrono::{DateTime, Utc};
use secrets::{hash_password, verify_hash};
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
}
