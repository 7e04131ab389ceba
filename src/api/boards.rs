//! The boards being watched: one task per board (a platform's wallboard, or the province's)
//! publishes it on a watch channel that every page watching it reads. A leaf of `api/`: the
//! state holds the registry, the wallboard starts the tasks.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::watch;

/// The boards watched now, by key, each as the receiving side of its task's channel.
#[derive(Default)]
pub struct Boards {
    boards: Mutex<HashMap<String, watch::Receiver<Arc<str>>>>,
}

impl Boards {
    /// A receiver of the board `key`; when nobody watched it, `start` is given the sending
    /// side of a new channel (to hand to the task that builds the board).
    pub fn watch(
        &self,
        key: &str,
        start: impl FnOnce(watch::Sender<Arc<str>>),
    ) -> watch::Receiver<Arc<str>> {
        let mut boards = self.boards.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(rx) = boards.get(key) {
            if rx.has_changed().is_ok() {
                return rx.clone();
            }
        }
        let (tx, rx) = watch::channel(Arc::<str>::from(""));
        boards.insert(key.to_string(), rx.clone());
        start(tx);
        rx
    }

    /// Whether the task of `key` should stop: only the registry's own receiver is left. Its
    /// entry goes in the same lock, so a page arriving now starts a new task.
    pub fn unwatched(&self, key: &str, tx: &watch::Sender<Arc<str>>) -> bool {
        let mut boards = self.boards.lock().unwrap_or_else(|e| e.into_inner());
        if tx.receiver_count() <= 1 {
            boards.remove(key);
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_task_per_board_while_someone_watches() {
        let boards = Boards::default();
        let mut started = Vec::new();
        let first = boards.watch("530100", |tx| started.push(tx));
        let second = boards.watch("530100", |_| panic!("a second task for the same board"));
        assert_eq!(started.len(), 1);
        let tx = started.pop().unwrap();
        tx.send_replace(Arc::from("board"));
        assert_eq!(&**second.borrow(), "board");
        assert!(!boards.unwatched("530100", &tx), "two pages watch");
        drop((first, second));
        assert!(boards.unwatched("530100", &tx), "nobody watches");
        // A page arriving after the task stopped starts a new one.
        drop(tx);
        let mut again = Vec::new();
        let _third = boards.watch("530100", |tx| again.push(tx));
        assert_eq!(again.len(), 1);
    }
}
