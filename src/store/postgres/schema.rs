//! The schema, as numbered migrations run at open (in one transaction, under an
//! advisory lock, so that two instances starting together migrate once). A database
//! written by a newer Sportello is refused.

use crate::store::{Result, StoreError};
use tokio_postgres::Client;

/// The schema version this build writes: one per migration.
pub const SCHEMA_VERSION: u64 = MIGRATIONS.len() as u64;

/// The advisory lock key migrations hold ("SPORTELL" in ASCII).
const MIGRATION_LOCK: i64 = 0x5350_4f52_5445_4c4c;

/// The tables of the store (what `footprint` counts, what `store copy` moves).
pub(super) const TABLES: [&str; 23] = [
    "meta",
    "conversations",
    "messages",
    "dedupe",
    "tickets",
    "outbox",
    "failed",
    "events",
    "unreachable",
    "held",
    "statuses",
    "operators",
    "sessions",
    "api_tokens",
    "notes",
    "attachments",
    "email_threads",
    "contacts",
    "mailbox_marks",
    "outbox_leases",
    "login_failures",
    "rate_events",
    "flood_buckets",
];

/// Migration `i` takes the schema from version `i` to `i + 1`.
const MIGRATIONS: [&str; 4] = [
    r#"
CREATE TABLE meta (key text PRIMARY KEY, value text NOT NULL);
CREATE SEQUENCE seqs;
CREATE SEQUENCE ticket_ids;
CREATE TABLE conversations (
    customer text PRIMARY KEY, version bigint NOT NULL, body json NOT NULL);
CREATE TABLE messages (
    customer text NOT NULL, seq bigint NOT NULL, body json NOT NULL,
    PRIMARY KEY (customer, seq));
CREATE TABLE dedupe (
    customer text NOT NULL, message_id text NOT NULL, seq bigint NOT NULL,
    PRIMARY KEY (customer, message_id));
CREATE TABLE tickets (
    id bigint PRIMARY KEY, customer text NOT NULL, version bigint NOT NULL,
    department text NOT NULL, open boolean NOT NULL, queued boolean NOT NULL,
    rank smallint NOT NULL, opened_at timestamptz NOT NULL, claimed_at timestamptz,
    body json NOT NULL);
CREATE INDEX tickets_by_customer ON tickets (customer, id);
CREATE INDEX tickets_open ON tickets (id) WHERE open;
CREATE INDEX tickets_waiting ON tickets (department, rank, opened_at, id) WHERE queued;
CREATE INDEX tickets_claims ON tickets (department, claimed_at) WHERE claimed_at IS NOT NULL;
CREATE TABLE outbox (
    seq bigint PRIMARY KEY, customer text NOT NULL, channel text NOT NULL,
    body json NOT NULL);
CREATE INDEX outbox_by_customer ON outbox (customer, seq);
CREATE INDEX outbox_by_channel ON outbox (channel, customer);
CREATE TABLE failed (seq bigint PRIMARY KEY, customer text NOT NULL, body json NOT NULL);
CREATE INDEX failed_by_customer ON failed (customer, seq);
CREATE TABLE events (
    seq bigint PRIMARY KEY, at timestamptz NOT NULL, customer text NOT NULL,
    ticket bigint, writer boolean NOT NULL, body json NOT NULL);
CREATE INDEX events_by_time ON events (at, seq);
CREATE INDEX events_by_customer ON events (customer, at, seq);
CREATE INDEX events_by_ticket ON events (ticket, seq) WHERE ticket IS NOT NULL;
CREATE TABLE unreachable (customer text PRIMARY KEY, body json NOT NULL);
CREATE TABLE held (customer text PRIMARY KEY, body json NOT NULL);
CREATE TABLE statuses (seq bigint PRIMARY KEY, customer text NOT NULL, body json NOT NULL);
CREATE INDEX statuses_by_customer ON statuses (customer, seq);
CREATE TABLE operators (name text PRIMARY KEY, body json NOT NULL);
CREATE TABLE sessions (
    digest text PRIMARY KEY, operator text NOT NULL, expires_at timestamptz NOT NULL,
    body json NOT NULL);
CREATE TABLE api_tokens (digest text PRIMARY KEY, operator text NOT NULL, body json NOT NULL);
CREATE TABLE notes (seq bigint PRIMARY KEY, customer text NOT NULL, body json NOT NULL);
CREATE INDEX notes_by_customer ON notes (customer, seq);
CREATE TABLE attachments (
    id text PRIMARY KEY, customer text NOT NULL, meta json NOT NULL, bytes bytea NOT NULL);
CREATE INDEX attachments_by_customer ON attachments (customer);
CREATE TABLE email_threads (customer text PRIMARY KEY, body json NOT NULL);
CREATE TABLE contacts (customer text PRIMARY KEY, body json NOT NULL);
CREATE TABLE mailbox_marks (mailbox text PRIMARY KEY, body json NOT NULL);
"#,
    r#"
-- v2: which instance delivers a customer's outbox, until when (see Outbox::lease_outbox).
CREATE TABLE outbox_leases (
    customer text PRIMARY KEY, holder text NOT NULL, until timestamptz NOT NULL);
"#,
    r#"
-- v3: the web side's abuse limits, shared by the instances (see SharedLimits).
CREATE TABLE login_failures (
    key text PRIMARY KEY, count integer NOT NULL, since timestamptz NOT NULL);
CREATE TABLE rate_events (key text NOT NULL, at timestamptz NOT NULL);
CREATE INDEX rate_events_by_key ON rate_events (key, at);
"#,
    r#"
-- v4: customers' flood-pacing buckets, shared by the instances (service/flood.rs).
CREATE TABLE flood_buckets (
    customer text PRIMARY KEY, tokens double precision NOT NULL, at timestamptz NOT NULL,
    told boolean NOT NULL);
"#,
];

/// Bring the schema up to [`SCHEMA_VERSION`]; refuse a newer one.
pub(super) async fn migrate(client: &mut Client) -> Result<()> {
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await?;
    let found = stored_version(&tx).await?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::NewerSchema { found });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        tracing::info!("database schema v{i} -> v{}", i + 1);
        tx.batch_execute(sql).await?;
    }
    if found < SCHEMA_VERSION {
        tx.execute(
            "INSERT INTO meta (key, value) VALUES ('version', $1)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            &[&SCHEMA_VERSION.to_string()],
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The stored schema version: 0 for an empty database.
pub(super) async fn stored_version(c: &impl tokio_postgres::GenericClient) -> Result<u64> {
    let exists: bool = c
        .query_one("SELECT to_regclass('meta') IS NOT NULL", &[])
        .await?
        .get(0);
    if !exists {
        return Ok(0);
    }
    let row = c
        .query_opt("SELECT value FROM meta WHERE key = 'version'", &[])
        .await?;
    Ok(row
        .and_then(|r| r.get::<_, String>(0).parse().ok())
        .unwrap_or(0))
}
