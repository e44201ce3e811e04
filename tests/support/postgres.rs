//! PostgreSQL for the tests: the local server (`SPORTELLO_TEST_POSTGRES`, default
//! `postgres://postgres@127.0.0.1:5432`, what `.ci/run` starts), a fresh database per
//! test, dropped after it.

use std::sync::atomic::{AtomicU64, Ordering};

/// The server the tests use.
pub fn server() -> String {
    std::env::var("SPORTELLO_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_owned())
        .trim_end_matches('/')
        .to_owned()
}

/// Whether `TestApp` runs on PostgreSQL (`SPORTELLO_TEST_STORE=postgres`; `.ci/run`
/// runs the suites that use it a second time so).
pub fn selected() -> bool {
    std::env::var("SPORTELLO_TEST_STORE").is_ok_and(|s| s == "postgres")
}

/// A database of its own (created by sportello when it first opens it), dropped with
/// this value.
pub struct TestDatabase {
    pub url: String,
    name: String,
}

impl TestDatabase {
    pub fn new() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let name = format!(
            "sportello_test_{}_{}_{nanos}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        TestDatabase {
            url: format!("{}/{name}", server()),
            name,
        }
    }

    /// The database `name` on the test server, dropped now if it exists (a README
    /// example's) and again with this value.
    pub fn named(name: &str) -> Self {
        let db = TestDatabase {
            url: format!("{}/{name}", server()),
            name: name.to_owned(),
        };
        drop_database(name);
        db
    }

    /// `--data` for this database.
    pub fn data(&self) -> std::path::PathBuf {
        std::path::PathBuf::from(&self.url)
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        drop_database(&self.name);
    }
}

/// Run `work` with a connection to `url`, on a thread and runtime of its own (the
/// caller may be inside a runtime); its result, or the connection's error.
fn with_client<T: Send + 'static>(
    url: String,
    work: impl for<'c> FnOnce(
        &'c tokio_postgres::Client,
    ) -> std::pin::Pin<Box<dyn Future<Output = T> + Send + 'c>>
    + Send
    + 'static,
) -> Result<T, tokio_postgres::Error> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    std::thread::spawn(move || {
        runtime.block_on(async {
            let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await?;
            tokio::spawn(connection);
            Ok(work(&client).await)
        })
    })
    .join()
    .unwrap()
}

/// Drop the database `name` on the test server if it exists (its connections too).
fn drop_database(name: &str) {
    let sql = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
    let dropped = with_client(format!("{}/postgres", server()), move |c| {
        Box::pin(async move { c.batch_execute(&sql).await })
    });
    if let Err(e) | Ok(Err(e)) = dropped {
        eprintln!("could not drop the test database {name}: {e}");
    }
}

/// Which of `needles` some row of the database's tables contains (as `needle in
/// table`), every column read as text.
pub fn rows_saying(db: &TestDatabase, needles: &[&str]) -> Vec<String> {
    let needles: Vec<String> = needles.iter().map(|n| n.to_string()).collect();
    with_client(db.url.clone(), move |client| {
        Box::pin(async move {
            let tables: Vec<String> = client
                .query(
                    "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()",
                    &[],
                )
                .await
                .unwrap()
                .iter()
                .map(|r| r.get(0))
                .collect();
            let mut found = Vec::new();
            for needle in &needles {
                for table in &tables {
                    let sql =
                        format!("SELECT count(*) FROM {table} t WHERE strpos(t::text, $1) > 0");
                    let n: i64 = client.query_one(&sql, &[needle]).await.unwrap().get(0);
                    if n > 0 {
                        found.push(format!("{needle} in {table}"));
                    }
                }
            }
            found
        })
    })
    .unwrap()
}

/// Run `sql` on the test database (what an operator or a newer version would do).
pub fn execute(db: &TestDatabase, sql: &str) {
    let sql = sql.to_owned();
    with_client(db.url.clone(), move |c| {
        Box::pin(async move { c.batch_execute(&sql).await.unwrap() })
    })
    .unwrap();
}

/// The first column of the first row of `sql` on the test database, as a count.
pub fn count(db: &TestDatabase, sql: &str) -> i64 {
    let sql = sql.to_owned();
    with_client(db.url.clone(), move |c| {
        Box::pin(async move { c.query_one(&sql, &[]).await.unwrap().get(0) })
    })
    .unwrap()
}

impl TestDatabase {
    /// End every connection to this database from the server's side (what a restart or
    /// a failover does to its clients); how many were ended.
    pub fn cut_connections(&self) -> i64 {
        let name = self.name.clone();
        with_client(format!("{}/postgres", server()), move |c| {
            Box::pin(async move {
                c.query_one(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
                     WHERE datname = $1 AND pid <> pg_backend_pid()",
                    &[&name],
                )
                .await
                .map(|row| row.get::<_, i64>(0))
            })
        })
        .and_then(|r| r)
        .expect("the test server answers")
    }
}
