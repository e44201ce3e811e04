//! Operator accounts, browser sessions and API tokens. Sessions and tokens are keyed
//! by the digest of their secret ([`crate::accounts::digest`]), never the secret.

use super::{Result, SledStore, StoreError, decode, encode};
use crate::accounts::{ApiToken, Operator, Role, Session};
use chrono::{DateTime, Utc};

/// `meta` key of the ready replies.
const CANNED: &str = "canned";
/// `meta` key of the one-time setup token (while no admin exists).
const SETUP_TOKEN: &str = "setup_token";

impl SledStore {
    /// Add an account; false if the name is taken (checked and written atomically).
    pub fn add_operator(&self, op: &Operator) -> Result<bool> {
        let swapped = self.operators.compare_and_swap(
            op.name.as_bytes(),
            None as Option<&[u8]>,
            Some(encode(op)),
        )?;
        self.flush()?;
        Ok(swapped.is_ok())
    }

    pub fn operator(&self, name: &str) -> Result<Option<Operator>> {
        self.operators
            .get(name.as_bytes())?
            .map(|v| decode("operators", &v))
            .transpose()
    }

    /// All accounts, by name.
    pub fn operators(&self) -> Result<Vec<Operator>> {
        self.operators
            .iter()
            .values()
            .map(|v| decode("operators", &v?))
            .collect()
    }

    /// Remove an account and delete its sessions and API tokens (they are also bound to
    /// the account's id, so one opened meanwhile dies with it: a reused name opens none).
    pub fn remove_operator(&self, name: &str) -> Result<bool> {
        if self.only_admin(name)? {
            return Err(StoreError::LastAdmin(name.to_owned()));
        }
        let removed = self.operators.remove(name.as_bytes())?.is_some();
        self.remove_where::<Session>(&self.sessions, "sessions", |s| s.operator == name)?;
        self.remove_where::<ApiToken>(&self.api_tokens, "api_tokens", |t| t.operator == name)?;
        self.flush()?;
        Ok(removed)
    }

    /// Whether `name` is the only admin (one process holds a sled store: the console
    /// makes such changes one at a time).
    fn only_admin(&self, name: &str) -> Result<bool> {
        let mut admins = Vec::new();
        for value in self.operators.iter().values() {
            let op: Operator = decode("operators", &value?)?;
            if op.role == Role::Admin {
                admins.push(op.name);
            }
        }
        Ok(admins == [name])
    }

    fn remove_where<T: serde::de::DeserializeOwned>(
        &self,
        tree: &sled::Tree,
        what: &'static str,
        doomed: impl Fn(&T) -> bool,
    ) -> Result<usize> {
        let mut gone = 0;
        for kv in tree.iter() {
            let (k, v) = kv?;
            if doomed(&decode::<T>(what, &v)?) {
                tree.remove(k)?;
                gone += 1;
            }
        }
        Ok(gone)
    }

    /// The console's ready replies as admins last saved them (None: never saved, the
    /// config's list serves).
    pub fn canned(&self) -> Result<Option<Vec<crate::config::Canned>>> {
        self.meta
            .get(CANNED)?
            .map(|v| decode("meta", &v))
            .transpose()
    }

    pub fn put_canned(&self, canned: &[crate::config::Canned]) -> Result<()> {
        self.meta.insert(CANNED, encode(&canned))?;
        self.flush()
    }

    /// The server's secret for signing web chat visitor tokens, made on first use.
    pub fn server_key(&self) -> Result<String> {
        let fresh = crate::accounts::new_secret();
        let _ = self.meta.compare_and_swap(
            "server_key",
            None as Option<&[u8]>,
            Some(fresh.as_bytes()),
        )?;
        let key = self.meta.get("server_key")?.unwrap_or_default();
        self.flush()?;
        Ok(String::from_utf8_lossy(&key).into_owned())
    }

    /// Whether an admin account exists (operators made by `demo` or `replay` are not
    /// admins, and nobody knows their passwords: until an admin exists, `serve`'s setup
    /// link and the first `operator add` make one).
    pub fn has_admin(&self) -> Result<bool> {
        Ok(self
            .operators()?
            .iter()
            .any(|op| op.role == crate::accounts::Role::Admin))
    }

    pub fn put_session(&self, digest: &str, session: &Session) -> Result<()> {
        self.sessions.insert(digest.as_bytes(), encode(session))?;
        self.flush()
    }

    /// The session behind a cookie, if it exists and has not expired.
    pub fn session(&self, digest: &str, now: DateTime<Utc>) -> Result<Option<Session>> {
        let Some(v) = self.sessions.get(digest.as_bytes())? else {
            return Ok(None);
        };
        let session: Session = decode("sessions", &v)?;
        if session.expires_at <= now {
            self.sessions.remove(digest.as_bytes())?;
            return Ok(None);
        }
        Ok(Some(session))
    }

    pub fn end_session(&self, digest: &str) -> Result<()> {
        self.sessions.remove(digest.as_bytes())?;
        self.flush()
    }

    /// Forget sessions that have expired (run now and then).
    pub fn sweep_sessions(&self, now: DateTime<Utc>) -> Result<usize> {
        self.remove_where::<Session>(&self.sessions, "sessions", |s| s.expires_at <= now)
    }

    /// Store a new API token for `record` and return its secret (shown once; only
    /// its digest is kept).
    pub fn issue_api_token(&self, record: &ApiToken) -> Result<String> {
        let token = crate::accounts::new_secret();
        let digest = crate::accounts::digest(&token);
        self.api_tokens.insert(digest.as_bytes(), encode(record))?;
        self.flush()?;
        Ok(token)
    }

    /// Replace the account `old` by `new` (same name) if it is still as it was read;
    /// false if it was removed or changed meanwhile (a removed account never comes
    /// back). With `end_sessions` (a new password) its browser sessions end.
    pub fn replace_operator(
        &self,
        old: &Operator,
        new: &Operator,
        end_sessions: bool,
    ) -> Result<bool> {
        if old.role == Role::Admin && new.role != Role::Admin && self.only_admin(&old.name)? {
            return Err(StoreError::LastAdmin(old.name.clone()));
        }
        let key = old.name.as_bytes();
        let Some(current) = self.operators.get(key)? else {
            return Ok(false);
        };
        if decode::<Operator>("operators", &current)? != *old {
            return Ok(false);
        }
        let swapped = self
            .operators
            .compare_and_swap(key, Some(current), Some(encode(new)))?
            .is_ok();
        if swapped && end_sessions {
            self.remove_where::<Session>(&self.sessions, "sessions", |s| s.operator == new.name)?;
        }
        self.flush()?;
        Ok(swapped)
    }

    /// The API tokens issued to `account`, with their ids, oldest first.
    pub fn api_tokens_of(&self, account: &str) -> Result<Vec<(String, ApiToken)>> {
        let mut found = Vec::new();
        for kv in self.api_tokens.iter() {
            let (k, v) = kv?;
            let token: ApiToken = decode("api_tokens", &v)?;
            if crate::accounts::same_secret(&token.account, account) {
                let digest = String::from_utf8_lossy(&k).into_owned();
                found.push((crate::accounts::token_id(&digest).to_owned(), token));
            }
        }
        found.sort_by_key(|(_, t)| t.created_at);
        Ok(found)
    }

    /// Revoke `account`'s token `id` at once; false if it has none by that id.
    pub fn revoke_api_token(&self, account: &str, id: &str) -> Result<bool> {
        let mut revoked = false;
        for kv in self.api_tokens.iter() {
            let (k, v) = kv?;
            let token: ApiToken = decode("api_tokens", &v)?;
            let digest = String::from_utf8_lossy(&k).into_owned();
            if crate::accounts::token_id(&digest) == id
                && crate::accounts::same_secret(&token.account, account)
            {
                self.api_tokens.remove(k)?;
                revoked = true;
            }
        }
        self.flush()?;
        Ok(revoked)
    }

    /// Note that the token was used at `now` (written at most once a minute).
    /// Record that `token`, as just read under `digest`, was used at `now` (at most
    /// once a minute). Atomic: a token revoked meanwhile stays revoked.
    pub fn touch_api_token(
        &self,
        digest: &str,
        token: &ApiToken,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let recent = |t: &ApiToken| {
            t.last_used_at
                .is_some_and(|at| now - at < chrono::Duration::minutes(1))
        };
        if recent(token) {
            return Ok(());
        }
        self.api_tokens.update_and_fetch(digest.as_bytes(), |old| {
            let old = old?;
            match decode::<ApiToken>("api_tokens", old) {
                Ok(mut t) if !recent(&t) => {
                    t.last_used_at = Some(now);
                    Some(encode(&t))
                }
                _ => Some(old.to_vec()),
            }
        })?;
        Ok(())
    }

    /// The setup token (`meta` key `setup_token`): `fresh` unless one is stored.
    pub fn setup_token(&self, fresh: &str) -> Result<String> {
        let _ = self.meta.compare_and_swap(
            SETUP_TOKEN,
            None as Option<&[u8]>,
            Some(fresh.as_bytes()),
        )?;
        let token = self.meta.get(SETUP_TOKEN)?.unwrap_or_default();
        Ok(String::from_utf8_lossy(&token).into_owned())
    }

    /// Take the setup token if `offered` is it (atomically: removed only if unchanged).
    pub fn take_setup_token(&self, offered: &str) -> Result<bool> {
        let Some(stored) = self.meta.get(SETUP_TOKEN)? else {
            return Ok(false);
        };
        if !crate::accounts::same_secret(&String::from_utf8_lossy(&stored), offered) {
            return Ok(false);
        }
        Ok(self
            .meta
            .compare_and_swap(SETUP_TOKEN, Some(stored), None as Option<&[u8]>)?
            .is_ok())
    }

    pub fn put_back_setup_token(&self, token: &str) -> Result<()> {
        self.setup_token(token).map(drop)
    }

    pub fn api_token(&self, digest: &str) -> Result<Option<ApiToken>> {
        self.api_tokens
            .get(digest.as_bytes())?
            .map(|v| decode("api_tokens", &v))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use crate::accounts::{ApiToken, Operator, Role};
    use chrono::{Duration, Utc};

    #[test]
    fn a_token_used_as_it_is_revoked_stays_revoked() {
        let dir = tempfile::tempdir().unwrap();
        let store = super::SledStore::open(dir.path()).unwrap();
        let departments = ["assistenza".to_owned()];
        let now = Utc::now();
        let op = Operator::new(
            "anna",
            "una password lunga",
            Role::Admin,
            &departments,
            &departments,
            now,
        )
        .unwrap();
        let token = store
            .issue_api_token(&ApiToken::new(&op, "script", now))
            .unwrap();
        let digest = crate::accounts::digest(&token);
        let read = store.api_token(&digest).unwrap().unwrap();
        // The request read the token; the admin revokes it; the request records its use.
        let (id, _) = store.api_tokens_of(&op.account).unwrap().remove(0);
        assert!(store.revoke_api_token(&op.account, &id).unwrap());
        store.touch_api_token(&digest, &read, now).unwrap();
        assert!(
            store.api_token(&digest).unwrap().is_none(),
            "not brought back"
        );
        // A live token records its use, at most once a minute.
        let token = store
            .issue_api_token(&ApiToken::new(&op, "other", now))
            .unwrap();
        let digest = crate::accounts::digest(&token);
        let read = store.api_token(&digest).unwrap().unwrap();
        store.touch_api_token(&digest, &read, now).unwrap();
        let used = store.api_token(&digest).unwrap().unwrap();
        assert_eq!(used.last_used_at, Some(now));
        store
            .touch_api_token(&digest, &read, now + Duration::seconds(30))
            .unwrap();
        let again = store.api_token(&digest).unwrap().unwrap();
        assert_eq!(again.last_used_at, Some(now), "within a minute: unchanged");
    }
}
