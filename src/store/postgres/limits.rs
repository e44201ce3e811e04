//! The web side's abuse limits shared by every instance on the database: failed
//! logins per key with a lockout window, and sliding-window rates. On one process
//! they live in memory (`web/limits.rs`); here each is one transaction on the
//! server's clock, so a client spreading attempts over instances gets no more.

use super::PgStore;
use crate::domain::CustomerId;
use crate::store::{FloodBucket, Result, SharedLimits};
use std::time::Duration;

impl SharedLimits for PgStore {
    fn login_attempt(
        &self,
        keys: &[(&str, u32)],
        lockout: Duration,
    ) -> Result<std::result::Result<Vec<u32>, u64>> {
        let names: Vec<&str> = keys.iter().map(|(k, _)| *k).collect();
        let lockout = lockout.as_secs_f64();
        self.pool.run(async |c| {
            let tx = c.transaction().await?;
            tx.execute(
                "INSERT INTO login_failures (key, count, since)
                 SELECT k, 0, now() FROM unnest($1::text[]) AS k ON CONFLICT DO NOTHING",
                &[&names],
            )
            .await?;
            // Locked in key order (no deadlock between two logins); an expired window
            // starts again.
            let rows = tx
                .query(
                    "SELECT key, count,
                            now() >= since + make_interval(secs => $2::float8) AS expired,
                            ceil(extract(epoch FROM since + make_interval(secs => $2::float8) - now()))::bigint
                     FROM login_failures WHERE key = ANY($1) ORDER BY key FOR UPDATE",
                    &[&names, &lockout],
                )
                .await?;
            let state = |key: &str| rows.iter().find(|r| r.get::<_, &str>(0) == key);
            let mut wait = None;
            for (key, max) in keys {
                if let Some(row) = state(key) {
                    let (count, expired, left) =
                        (row.get::<_, i32>(1) as u32, row.get::<_, bool>(2), row.get::<_, i64>(3));
                    if count >= *max && !expired {
                        wait = wait.max(Some(left.max(0) as u64 + 1));
                    }
                }
            }
            if let Some(wait) = wait {
                return Ok(Err(wait));
            }
            let mut before = Vec::with_capacity(keys.len());
            for (key, max) in keys {
                let (count, expired) = state(key)
                    .map_or((0, true), |r| (r.get::<_, i32>(1) as u32, r.get::<_, bool>(2)));
                let count = if expired { 0 } else { count };
                before.push(count);
                // The lockout runs from the attempt that reached the limit.
                tx.execute(
                    "UPDATE login_failures SET count = $2::integer,
                            since = CASE WHEN $3::boolean OR $2::integer = $4::integer
                                         THEN now() ELSE since END
                     WHERE key = $1",
                    &[key, &((count + 1).min(i32::MAX as u32) as i32), &expired, &(*max.min(&(i32::MAX as u32)) as i32)],
                )
                .await?;
            }
            tx.commit().await?;
            Ok(Ok(before))
        })
    }

    fn login_succeeded(&self, keys: &[&str]) -> Result<()> {
        let names: Vec<&str> = keys.to_vec();
        self.execute(
            "UPDATE login_failures SET count = greatest(count - 1, 0) WHERE key = ANY($1)",
            &[&names],
        )?;
        Ok(())
    }

    fn login_clear(&self, key: &str) -> Result<()> {
        self.execute("DELETE FROM login_failures WHERE key = $1", &[&key])?;
        Ok(())
    }

    fn rate_allow(
        &self,
        keys: &[(&str, usize)],
        window: Duration,
    ) -> Result<std::result::Result<(), u64>> {
        let mut names: Vec<&str> = keys.iter().map(|(k, _)| *k).collect();
        names.sort_unstable();
        let window = window.as_secs_f64();
        self.pool.run(async |c| {
            let tx = c.transaction().await?;
            for name in &names {
                tx.execute(
                    "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
                    &[name],
                )
                .await?;
            }
            tx.execute(
                "DELETE FROM rate_events
                 WHERE key = ANY($1) AND at <= now() - make_interval(secs => $2::float8)",
                &[&names, &window],
            )
            .await?;
            // Now and then, every key's old events (keys never asked again stay
            // otherwise); no window is longer than a day.
            if rand_percent() == 0 {
                tx.batch_execute(
                    "DELETE FROM rate_events WHERE at < now() - interval '1 day';
                     DELETE FROM login_failures WHERE since < now() - interval '1 day'",
                )
                .await?;
            }
            let mut wait = None;
            for (key, max) in keys {
                // The event that frees a place: the max-th newest one.
                let row = tx
                    .query_opt(
                        "SELECT ceil(extract(epoch FROM at + make_interval(secs => $3::float8) - now()))::bigint
                         FROM rate_events WHERE key = $1 ORDER BY at DESC OFFSET $2::bigint - 1 LIMIT 1",
                        &[key, &(*max as i64), &window],
                    )
                    .await?;
                if let Some(row) = row {
                    wait = wait.max(Some(row.get::<_, i64>(0).max(0) as u64 + 1));
                }
            }
            if let Some(wait) = wait {
                return Ok(Err(wait));
            }
            tx.execute(
                "INSERT INTO rate_events (key, at) SELECT k, now() FROM unnest($1::text[]) AS k",
                &[&names],
            )
            .await?;
            tx.commit().await?;
            Ok(Ok(()))
        })
    }

    fn flood_step(
        &self,
        customer: &CustomerId,
        step: &mut dyn FnMut(Option<FloodBucket>) -> FloodBucket,
    ) -> Result<()> {
        self.pool.run(async |c| {
            let tx = c.transaction().await?;
            tx.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
                &[&format!("flood:{}", customer.as_str())],
            )
            .await?;
            let before = tx
                .query_opt(
                    "SELECT tokens, at, told FROM flood_buckets WHERE customer = $1",
                    &[&customer.as_str()],
                )
                .await?
                .map(|row| FloodBucket {
                    tokens: row.get(0),
                    at: row.get(1),
                    told: row.get(2),
                });
            let next = step(before);
            tx.execute(
                "INSERT INTO flood_buckets (customer, tokens, at, told) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (customer) DO UPDATE
                 SET tokens = excluded.tokens, at = excluded.at, told = excluded.told",
                &[&customer.as_str(), &next.tokens, &next.at, &next.told],
            )
            .await?;
            tx.commit().await?;
            Ok(())
        })
    }
}

/// 0 to 99, cheaply random (the sweep's one-in-a-hundred).
fn rand_percent() -> u32 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    (hasher.finish() % 100) as u32
}
