//! Group commit: one task owns every write. It takes all the writes queued at that moment (up to
//! [`MAX_BATCH`]), runs each inside its own savepoint of one transaction, commits once, and only
//! then answers each caller. Under load a hundred calls starting together cost one fsync, not a
//! hundred; a write that fails rolls back to its savepoint without failing the others.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};
use tracing::{error, warn};

use super::db::{query, Backend, BoxFuture, Conn};
use super::error::StoreError;

/// Most writes in one commit.
pub const MAX_BATCH: usize = 256;

/// What a job reports after running: whether its SQL succeeded, and how to answer its caller
/// once the commit's outcome is known.
pub(crate) struct Ran {
    ok: bool,
    answer: Box<dyn FnOnce(Result<(), String>) + Send>,
}

/// A write waiting for the writer.
pub(crate) type Job = Box<dyn for<'c> FnOnce(&'c mut Conn) -> BoxFuture<'c, Ran> + Send>;

/// Wraps a write as a job; the returned receiver gets its result after the commit.
pub(crate) fn job<T, F>(write: F) -> (Job, oneshot::Receiver<Result<T, StoreError>>)
where
    T: Send + 'static,
    F: for<'c> FnOnce(&'c mut Conn) -> BoxFuture<'c, Result<T, StoreError>> + Send + 'static,
{
    let (tx, rx) = oneshot::channel();
    let job: Job = Box::new(move |conn| {
        Box::pin(async move {
            let result = write(conn).await;
            Ran {
                ok: result.is_ok(),
                answer: Box::new(move |commit| {
                    let _ = tx.send(match commit {
                        Ok(()) => result,
                        Err(e) => Err(StoreError::Database(sqlx::Error::Protocol(format!(
                            "commit failed: {e}"
                        )))),
                    });
                }),
            }
        })
    });
    (job, rx)
}

/// Runs the writer until every sender is gone.
pub(crate) async fn run(db: Backend, mut jobs: mpsc::Receiver<Job>, commits: Arc<AtomicU64>) {
    while let Some(first) = jobs.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(j) => batch.push(j),
                Err(_) => break,
            }
        }
        let started = std::time::Instant::now();
        let mut tx = match db.begin().await {
            Ok(tx) => tx,
            Err(e) => {
                // Dropping the jobs answers their callers with an error.
                error!(error = %e, writes = batch.len(), "cannot begin a transaction: writes refused");
                continue;
            }
        };
        let mut answers = Vec::with_capacity(batch.len());
        let mut broken = None;
        for job in batch {
            if let Err(e) = query("SAVEPOINT w").execute(&mut tx).await {
                broken = Some(e.to_string());
                break;
            }
            let ran = job(&mut tx).await;
            let end = if ran.ok {
                "RELEASE SAVEPOINT w"
            } else {
                "ROLLBACK TO SAVEPOINT w"
            };
            if let Err(e) = query(end).execute(&mut tx).await {
                broken = Some(e.to_string());
            }
            answers.push(ran.answer);
            if broken.is_some() {
                break;
            }
        }
        let outcome = match broken {
            Some(e) => {
                let _ = tx.rollback().await;
                Err(e)
            }
            None => tx.commit().await.map_err(|e| e.to_string()),
        };
        match &outcome {
            Ok(()) => {
                commits.fetch_add(1, Ordering::Relaxed);
                metrics::histogram!("hotline_store_commit_seconds")
                    .record(started.elapsed().as_secs_f64());
            }
            Err(e) => warn!(error = %e, writes = answers.len(), "batch not committed"),
        }
        for answer in answers {
            answer(outcome.clone());
        }
    }
}
