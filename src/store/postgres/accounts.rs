//! Operator accounts, browser sessions and API tokens, shared by every instance on the
//! database. Sessions and tokens are keyed by the digest of their secret.

use super::{PgStore, decode, json};
use crate::accounts::{ApiToken, Operator, Role, Session};
use crate::config::Canned;
use crate::store::{Accounts, Result, StoreError};
use chrono::{DateTime, Utc};

impl Accounts for PgStore {
    fn add_operator(&self, op: &Operator) -> Result<bool> {
        let added = self.execute(
            "INSERT INTO operators (name, body) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            &[&op.name, &json(op)],
        )?;
        Ok(added == 1)
    }

    fn operator(&self, name: &str) -> Result<Option<Operator>> {
        Ok(self
            .bodies(
                "operators",
                "SELECT body FROM operators WHERE name = $1",
                &[&name],
            )?
            .pop())
    }

    fn operators(&self) -> Result<Vec<Operator>> {
        self.bodies(
            "operators",
            "SELECT body FROM operators ORDER BY name COLLATE \"C\"",
            &[],
        )
    }

    /// The account goes with its sessions and tokens, in one transaction.
    fn remove_operator(&self, name: &str) -> Result<bool> {
        self.pool.run(async |c| {
            let tx = c.transaction().await?;
            if only_admin(&tx, name).await? {
                return Err(StoreError::LastAdmin(name.to_owned()));
            }
            let removed = tx
                .execute("DELETE FROM operators WHERE name = $1", &[&name])
                .await?;
            tx.execute("DELETE FROM sessions WHERE operator = $1", &[&name])
                .await?;
            tx.execute("DELETE FROM api_tokens WHERE operator = $1", &[&name])
                .await?;
            tx.commit().await?;
            Ok(removed == 1)
        })
    }

    /// Written only if the stored account is still `old` (compared decoded, under a
    /// row lock): a removed or changed account is not overwritten.
    fn replace_operator(&self, old: &Operator, new: &Operator, end_sessions: bool) -> Result<bool> {
        self.pool.run(async |c| {
            let tx = c.transaction().await?;
            let demoted = old.role == Role::Admin && new.role != Role::Admin;
            if demoted && only_admin(&tx, &old.name).await? {
                return Err(StoreError::LastAdmin(old.name.clone()));
            }
            let Some(row) = tx
                .query_opt(
                    "SELECT body FROM operators WHERE name = $1 FOR UPDATE",
                    &[&old.name],
                )
                .await?
            else {
                return Ok(false);
            };
            if decode::<Operator>("operators", row.get(0))? != *old {
                return Ok(false);
            }
            tx.execute(
                "UPDATE operators SET body = $2 WHERE name = $1",
                &[&old.name, &json(new)],
            )
            .await?;
            if end_sessions {
                tx.execute("DELETE FROM sessions WHERE operator = $1", &[&new.name])
                    .await?;
            }
            tx.commit().await?;
            Ok(true)
        })
    }

    fn has_admin(&self) -> Result<bool> {
        Ok(self
            .operators()?
            .iter()
            .any(|op| op.role == crate::accounts::Role::Admin))
    }

    fn canned(&self) -> Result<Option<Vec<Canned>>> {
        self.meta_value("canned")?
            .map(|v| {
                serde_json::from_str(&v).map_err(|e| crate::store::StoreError::corrupt("meta", e))
            })
            .transpose()
    }

    fn put_canned(&self, canned: &[Canned]) -> Result<()> {
        let value = serde_json::to_string(canned).expect("canned replies serialise");
        self.put_meta("canned", &value)
    }

    /// Made by the first instance that asks; every instance reads the same.
    fn server_key(&self) -> Result<String> {
        let fresh = crate::accounts::new_secret();
        self.execute(
            "INSERT INTO meta (key, value) VALUES ('server_key', $1) ON CONFLICT DO NOTHING",
            &[&fresh],
        )?;
        Ok(self.meta_value("server_key")?.unwrap_or_default())
    }

    fn put_session(&self, digest: &str, session: &Session) -> Result<()> {
        self.execute(
            "INSERT INTO sessions (digest, operator, expires_at, body) VALUES ($1, $2, $3, $4)
             ON CONFLICT (digest) DO UPDATE
             SET operator = excluded.operator, expires_at = excluded.expires_at,
                 body = excluded.body",
            &[
                &digest,
                &session.operator,
                &session.expires_at,
                &json(session),
            ],
        )?;
        Ok(())
    }

    fn session(&self, digest: &str, now: DateTime<Utc>) -> Result<Option<Session>> {
        self.execute(
            "DELETE FROM sessions WHERE digest = $1 AND expires_at <= $2",
            &[&digest, &now],
        )?;
        Ok(self
            .bodies(
                "sessions",
                "SELECT body FROM sessions WHERE digest = $1",
                &[&digest],
            )?
            .pop())
    }

    fn end_session(&self, digest: &str) -> Result<()> {
        self.execute("DELETE FROM sessions WHERE digest = $1", &[&digest])?;
        Ok(())
    }

    fn sweep_sessions(&self, now: DateTime<Utc>) -> Result<usize> {
        Ok(self.execute("DELETE FROM sessions WHERE expires_at <= $1", &[&now])? as usize)
    }

    fn issue_api_token(&self, record: &ApiToken) -> Result<String> {
        let token = crate::accounts::new_secret();
        let digest = crate::accounts::digest(&token);
        self.execute(
            "INSERT INTO api_tokens (digest, operator, body) VALUES ($1, $2, $3)",
            &[&digest, &record.operator, &json(record)],
        )?;
        Ok(token)
    }

    fn api_tokens_of(&self, account: &str) -> Result<Vec<(String, ApiToken)>> {
        let mut found = Vec::new();
        for (digest, token) in self.all_tokens()? {
            if crate::accounts::same_secret(&token.account, account) {
                found.push((crate::accounts::token_id(&digest).to_owned(), token));
            }
        }
        found.sort_by_key(|(_, t)| t.created_at);
        Ok(found)
    }

    fn revoke_api_token(&self, account: &str, id: &str) -> Result<bool> {
        let mut revoked = false;
        for (digest, token) in self.all_tokens()? {
            if crate::accounts::token_id(&digest) == id
                && crate::accounts::same_secret(&token.account, account)
            {
                self.execute("DELETE FROM api_tokens WHERE digest = $1", &[&digest])?;
                revoked = true;
            }
        }
        Ok(revoked)
    }

    /// At most once a minute; an update, so a token revoked meanwhile stays revoked.
    fn touch_api_token(&self, digest: &str, token: &ApiToken, now: DateTime<Utc>) -> Result<()> {
        if token
            .last_used_at
            .is_some_and(|at| now - at < chrono::Duration::minutes(1))
        {
            return Ok(());
        }
        let touched = ApiToken {
            last_used_at: Some(now),
            ..token.clone()
        };
        self.execute(
            "UPDATE api_tokens SET body = $2 WHERE digest = $1",
            &[&digest, &json(&touched)],
        )?;
        Ok(())
    }

    fn api_token(&self, digest: &str) -> Result<Option<ApiToken>> {
        Ok(self
            .bodies(
                "api_tokens",
                "SELECT body FROM api_tokens WHERE digest = $1",
                &[&digest],
            )?
            .pop())
    }

    fn setup_token(&self, fresh: &str) -> Result<String> {
        self.setup_token_stored(fresh)
    }

    fn take_setup_token(&self, offered: &str) -> Result<bool> {
        self.setup_token_taken(offered)
    }

    fn put_back_setup_token(&self, token: &str) -> Result<()> {
        self.setup_token_stored(token).map(drop)
    }
}

impl PgStore {
    fn setup_token_stored(&self, fresh: &str) -> Result<String> {
        self.execute(
            "INSERT INTO meta (key, value) VALUES ('setup_token', $1) ON CONFLICT DO NOTHING",
            &[&fresh],
        )?;
        Ok(self.meta_value("setup_token")?.unwrap_or_default())
    }

    fn setup_token_taken(&self, offered: &str) -> Result<bool> {
        let Some(stored) = self.meta_value("setup_token")? else {
            return Ok(false);
        };
        if !crate::accounts::same_secret(&stored, offered) {
            return Ok(false);
        }
        let taken = self.execute(
            "DELETE FROM meta WHERE key = 'setup_token' AND value = $1",
            &[&stored],
        )?;
        Ok(taken == 1)
    }

    fn all_tokens(&self) -> Result<Vec<(String, ApiToken)>> {
        self.pool.run(async |c| {
            c.query("SELECT digest, body FROM api_tokens", &[])
                .await?
                .into_iter()
                .map(|row| Ok((row.get(0), decode("api_tokens", row.get(1))?)))
                .collect()
        })
    }

    pub(super) fn meta_value(&self, key: &str) -> Result<Option<String>> {
        self.pool.run(async |c| {
            Ok(
                c.query_opt("SELECT value FROM meta WHERE key = $1", &[&key])
                    .await?
                    .map(|row| row.get(0)),
            )
        })
    }

    pub(super) fn put_meta(&self, key: &str, value: &str) -> Result<()> {
        self.execute(
            "INSERT INTO meta (key, value) VALUES ($1, $2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            &[&key, &value],
        )?;
        Ok(())
    }
}

/// Whether `name` is the only admin, read under a lock on every account (taken in name
/// order, held to the end of `tx`): two instances removing or demoting the last two
/// admins at once take turns, and the second finds one admin left.
async fn only_admin(tx: &tokio_postgres::Transaction<'_>, name: &str) -> Result<bool> {
    let rows = tx
        .query(
            "SELECT body FROM operators ORDER BY name COLLATE \"C\" FOR UPDATE",
            &[],
        )
        .await?;
    let mut admins = Vec::new();
    for row in rows {
        let op: Operator = decode("operators", row.get(0))?;
        if op.role == Role::Admin {
            admins.push(op.name);
        }
    }
    Ok(admins == [name])
}
