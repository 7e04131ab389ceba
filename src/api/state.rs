//! What every handler can reach: the API's shared state. A leaf of `api/`: the handlers and
//! the router import it, it imports none of them.

use std::path::PathBuf;
use std::sync::Arc;

use crate::dialplan::LiveDialplan;
use crate::store::Store;

/// Reloads the dialplan; Ok(platforms) or the problems found (the running dialplan stays).
pub type Reloader = Arc<dyn Fn() -> Result<usize, String> + Send + Sync>;

/// The hot topics' segmenter and the names it was built from (rebuilt when they change).
pub type SegmenterCache =
    Arc<std::sync::Mutex<Option<(Vec<String>, Arc<crate::topics::Segmenter>)>>>;

/// What every handler can reach.
#[derive(Clone)]
pub struct ApiState {
    /// Cases, calls, voice messages.
    pub store: Store,
    /// The data folder (voice message files).
    pub data_dir: PathBuf,
    /// The dialplan in force (users, units, calendar).
    pub dialplan: Arc<LiveDialplan>,
    /// Registrations of the operator seats.
    pub registrar: Arc<crate::call::register::Registrar>,
    /// The ACD.
    pub queue: crate::call::queue::QueueHandle,
    /// The calls in progress (for transfers).
    pub calls: crate::call::directory::CallDirectory,
    /// Reloads the dialplan.
    pub reload: Reloader,
    /// The console's signed-in seats.
    pub sessions: std::sync::Arc<super::sessions::Sessions>,
    /// The knowledge base's search index (the store keeps the entries).
    pub knowledge: Arc<crate::knowledge::KnowledgeIndex>,
    /// The consoles' phone sockets and the calls ringing in them.
    pub phones: Arc<crate::phone::Phones>,
    /// The Prometheus recorder's handle, when this process installed it.
    pub metrics: Option<metrics_exporter_prometheus::PrometheusHandle>,
    /// The wallboards being watched, one task per platform (or the province).
    pub wallboards: Arc<super::boards::Boards>,
    /// The hot topics' segmenter, built at first use from the dialplan's names.
    pub segmenter: SegmenterCache,
    /// Today's queue log as `/metrics` last read it (each scrape reads only its last minute).
    pub metrics_log: Arc<tokio::sync::Mutex<crate::store::board::LogWindow>>,
    /// What the calls share, for the calls the API places (callbacks, reminders).
    pub call_services: Arc<crate::call::services::CallServices>,
    /// Written requests: the public form, apps, the official account, operators' messages.
    pub intake: Arc<crate::requests::Intake>,
}

impl ApiState {
    /// Today's midnight in the dialplan's time zone (China Standard Time), as UTC: where
    /// "today" begins for the lists and figures.
    pub fn start_of_today(&self) -> chrono::DateTime<chrono::Utc> {
        let tz = self.dialplan.current().time_zone;
        let now = chrono::Utc::now().with_timezone(&tz);
        now.date_naive()
            .and_hms_opt(0, 0, 0)
            .and_then(|m| m.and_local_timezone(tz).earliest())
            .map_or(now.with_timezone(&chrono::Utc), |t| {
                t.with_timezone(&chrono::Utc)
            })
    }
}
