//! What `bench` compares the pipeline on PostgreSQL with: the same number of rows of
//! the same size written the plain way, one transaction per message, committed with
//! `synchronous_commit = on` (the server's default), in a table of the benchmark's
//! scratch database. And dropping that database after.

use super::PgStore;
use crate::store::Result;

impl PgStore {
    /// The floor's table, empty.
    pub fn floor_table(&self) -> Result<()> {
        self.pool.run(async |c| {
            c.batch_execute(
                "DROP TABLE IF EXISTS bench_floor;
                 CREATE TABLE bench_floor (message bigint, record integer, value text,
                                           PRIMARY KEY (message, record))",
            )
            .await?;
            Ok(())
        })
    }

    /// One message's rows: `records` inserts of `value`, committed.
    pub fn floor_commit(&self, message: i64, records: usize, value: &str) -> Result<()> {
        self.pool.run(async |c| {
            let tx = c.transaction().await?;
            let insert = tx
                .prepare("INSERT INTO bench_floor (message, record, value) VALUES ($1, $2, $3)")
                .await?;
            for record in 0..records as i32 {
                tx.execute(&insert, &[&message, &record, &value]).await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }
}

/// Drop the database `url` names (the benchmark's scratch one), from the server's
/// `postgres` database.
pub fn drop_database(url: &str) -> Result<()> {
    let config: tokio_postgres::Config = url.parse()?;
    let name = config.get_dbname().unwrap_or_default().replace('"', "\"\"");
    let mut admin = config.clone();
    admin.dbname("postgres");
    let pool = super::pool::Pool::new(admin)?;
    pool.run(async |c| {
        c.batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
            .await?;
        Ok(())
    })
}
