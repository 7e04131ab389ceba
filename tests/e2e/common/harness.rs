//! Runs one scenario against a fresh server on SQLite or PostgreSQL, and always cleans up
//! (the PostgreSQL database is dropped even when the scenario fails).

use std::future::Future;
use std::sync::Arc;

use super::server::{Backend, ServerOptions, TestDatabase, TestServer};

/// Starts a server on `backend`, runs `scenario` against it, stops it, drops its database.
pub async fn run_on<F, Fut>(backend: Backend, options: ServerOptions, scenario: F)
where
    F: FnOnce(Arc<TestServer>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let data = tempfile::tempdir().unwrap();
    let Some(db) = TestDatabase::create(backend, data.path()).await else {
        return;
    };
    let server = Arc::new(TestServer::start(&db.url, data, &options));
    let outcome = tokio::spawn(scenario(server.clone())).await;
    let log = server.log();
    drop(server);
    db.drop_db().await;
    if let Err(e) = outcome {
        eprintln!("--- server log ---\n{log}\n--- end of server log ---");
        std::panic::resume_unwind(e.into_panic());
    }
}

/// Declares a scenario as two tests, `<name>::sqlite` and `<name>::postgres`.
#[macro_export]
macro_rules! on_both_backends {
    ($name:ident, $scenario:expr) => {
        mod $name {
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                common::harness::run_on(
                    common::server::Backend::Sqlite,
                    Default::default(),
                    $scenario,
                )
                .await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                common::harness::run_on(
                    common::server::Backend::Postgres,
                    Default::default(),
                    $scenario,
                )
                .await;
            }
        }
    };
}
