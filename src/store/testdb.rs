//! Databases for tests: a fresh PostgreSQL database per test (created on the server named by
//! a base URL, dropped afterwards), or a SQLite file in a folder.

use std::path::Path;

use sqlx::{Connection, Executor, PgConnection};

use super::StoreError;

/// A database made for one test.
pub struct TestDb {
    url: String,
    /// (server base URL, database name) for PostgreSQL.
    postgres: Option<(String, String)>,
}

impl TestDb {
    /// A new, empty PostgreSQL database on the server at `base_url`.
    pub async fn postgres(base_url: &str) -> Result<TestDb, StoreError> {
        let name = format!("hotline_test_{:016x}", rand::random::<u64>());
        let mut conn = PgConnection::connect(base_url).await?;
        conn.execute(format!("CREATE DATABASE {name}").as_str())
            .await?;
        conn.close().await?;
        Ok(TestDb {
            url: with_database(base_url, &name),
            postgres: Some((base_url.to_string(), name)),
        })
    }

    /// A SQLite file in `dir`.
    pub fn sqlite(dir: &Path) -> TestDb {
        TestDb {
            url: format!("sqlite://{}", dir.join("hotline.db").display()),
            postgres: None,
        }
    }

    /// The URL to give the store.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Drops a PostgreSQL database (connections still open are ended).
    pub async fn cleanup(self) {
        if let Some((base, name)) = self.postgres {
            if let Ok(mut conn) = PgConnection::connect(&base).await {
                let _ = conn
                    .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
                    .await;
                let _ = conn.close().await;
            }
        }
    }
}

/// The URL of database `name` on the server of `base`.
fn with_database(base: &str, name: &str) -> String {
    let (head, query) = match base.split_once('?') {
        Some((h, q)) => (h, Some(q)),
        None => (base, None),
    };
    let after_scheme = head.find("://").map_or(0, |i| i + 3);
    let root = match head[after_scheme..].find('/') {
        Some(i) => &head[..after_scheme + i],
        None => head,
    };
    match query {
        Some(q) => format!("{root}/{name}?{q}"),
        None => format!("{root}/{name}"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn database_in_url() {
        assert_eq!(
            super::with_database("postgres://postgres@127.0.0.1:5432/postgres", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            super::with_database("postgres://u@h?sslmode=disable", "x"),
            "postgres://u@h/x?sslmode=disable"
        );
    }
}
