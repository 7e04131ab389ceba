//! The supervisors' wallboard: `GET /api/wallboard?platform=` (the board now, JSON) and
//! `GET /api/wallboard/events?platform=` (Server-Sent Events: a `board` event whenever the
//! board changes). A prefecture's supervisor sees its platform; the province's sees every
//! platform, or one.
//!
//! One task per board watched (a platform, or the province) builds it and hands it to every
//! page watching through a watch channel, however many pages watch; the task ends when the
//! last page goes. The moment's part (callers waiting, seats) is read from the ACD each
//! second; the figures of the day, the cases due and the callbacks every few seconds, and at
//! once when a caller or a seat changed.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use super::auth::Caller;
use super::error::ApiError;
use super::state::ApiState;
use super::workflow::Marked;
use crate::cases::supervision::marks;
use crate::cases::Role;
use crate::dialplan::queues::platform_of_queue;
use crate::kpi::live::{live, meets, KpiTargets, LiveFigures};
use crate::kpi::Kpi;
use crate::store::board::{LogWindow, RecentStep};
use crate::store::queue::CallbackView;

/// How often the moment's part is read.
const TICK: Duration = Duration::from_secs(1);
/// How often the rest is read when nothing moved, in ticks.
const SLOW_EVERY: u32 = 5;
/// The fewest ticks between two readings of the rest, however much moves.
const SLOW_AT_MOST: u32 = 2;
/// The latest case steps shown.
const RECENT: u32 = 12;
/// The callbacks listed (all are counted).
const CALLBACKS_LISTED: usize = 20;

/// A caller waiting.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WaitingRow {
    pub call: String,
    pub queue: String,
    pub platform: String,
    pub position: usize,
    /// Whole seconds waited.
    pub wait_s: i64,
    /// Seats being rung for this caller.
    pub ringing: Vec<String>,
}

/// A seat, with its call.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeatRow {
    pub id: String,
    pub platform: String,
    /// `available`, `ringing`, `on-call`, `wrap-up`, `not-ready`, `logged-out`.
    pub state: &'static str,
    /// Why not ready.
    pub reason: Option<String>,
    pub since: DateTime<Utc>,
    pub calls_taken: u32,
    /// The call it talks on, and for how long (whole seconds).
    pub call: Option<String>,
    pub talking_s: Option<i64>,
}

/// Everything the wallboard shows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Board {
    /// The platform shown (None: the province).
    pub platform: Option<String>,
    /// Its name.
    pub name: String,
    /// Every platform's code and name (the province's supervisors choose among them).
    pub platforms: Vec<(String, String)>,
    pub waiting: Vec<WaitingRow>,
    pub seats: Vec<SeatRow>,
    pub live: LiveFigures,
    /// Since midnight (China Standard Time).
    pub today: Kpi,
    pub last_hour: Kpi,
    /// The standard's figure: over the 24 hours before now.
    pub connection_rate_24h: Option<f64>,
    /// Seats' occupancy since midnight.
    pub occupancy_today: Option<f64>,
    pub targets: KpiTargets,
    /// A caller who hangs up within this many seconds is a short abandon.
    pub short_abandon_s: u64,
    /// The figures that miss their target now (`service_level_today`, …).
    pub missed: Vec<&'static str>,
    /// Cases due soon or overdue, overdue first, soonest first.
    pub cases: Vec<Marked>,
    /// Callers owed a callback (voice messages, abandoned waits), oldest first.
    pub callbacks: Vec<CallbackView>,
    pub callbacks_total: usize,
    /// The latest steps of the cases, newest first.
    pub recent: Vec<RecentStep>,
}

/// The slow part of a board.
#[derive(Debug, Clone, Default)]
struct Figures {
    today: Kpi,
    last_hour: Kpi,
    connection_rate_24h: Option<f64>,
    occupancy_today: Option<f64>,
    cases: Vec<Marked>,
    callbacks: Vec<CallbackView>,
    callbacks_total: usize,
    recent: Vec<RecentStep>,
}

/// What changes the slow part at once: who waits and what each seat does.
fn shape(board_live: &[WaitingRow], seats: &[SeatRow]) -> Vec<String> {
    board_live
        .iter()
        .map(|w| w.call.clone())
        .chain(seats.iter().map(|s| format!("{}:{}", s.id, s.state)))
        .collect()
}

async fn run(state: ApiState, key: String, platform: Option<String>, tx: watch::Sender<Arc<str>>) {
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut figures = Figures::default();
    let mut log = LogWindow::default();
    let mut last_shape = None;
    let mut since_slow = SLOW_EVERY;
    loop {
        tick.tick().await;
        if state.wallboards.unwatched(&key, &tx) {
            return;
        }
        let Some((waiting, seats)) = moment(&state, platform.as_deref()).await else {
            continue;
        };
        let now_shape = shape(&waiting, &seats);
        since_slow += 1;
        let moved = last_shape.as_ref() != Some(&now_shape);
        if since_slow >= SLOW_EVERY || (moved && since_slow >= SLOW_AT_MOST) {
            match slow(&state, platform.as_deref(), &mut log).await {
                Ok(f) => figures = f,
                Err(e) => tracing::warn!(error = ?e, "wallboard figures not read"),
            }
            since_slow = 0;
            last_shape = Some(now_shape);
        }
        let board = assemble(&state, platform.clone(), waiting, seats, &figures);
        let Ok(json) = serde_json::to_string(&board) else {
            continue;
        };
        tx.send_if_modified(|current| {
            if **current == *json {
                false
            } else {
                *current = Arc::from(json);
                true
            }
        });
    }
}

/// The callers waiting and the seats of `platform` now; None when the ACD does not answer.
async fn moment(
    state: &ApiState,
    platform: Option<&str>,
) -> Option<(Vec<WaitingRow>, Vec<SeatRow>)> {
    let snap = state.queue.snapshot().await?;
    let mine = |p: &str| platform.is_none_or(|want| want == p);
    let waiting = snap
        .waiting
        .iter()
        .filter(|w| mine(&w.platform))
        .map(|w| WaitingRow {
            call: w.call.clone(),
            queue: w.queue.clone(),
            platform: w.platform.clone(),
            position: w.position,
            wait_s: w.waiting_ms / 1000,
            ringing: w.ringing.clone(),
        })
        .collect();
    let seats = snap
        .agents
        .iter()
        .filter(|a| mine(&a.platform))
        .map(|a| {
            let call = snap.connected.iter().find(|c| c.agent == a.id);
            SeatRow {
                id: a.id.clone(),
                platform: a.platform.clone(),
                state: a.state.as_str(),
                reason: match &a.state {
                    crate::acd::agent::AgentState::NotReady(r) => Some(r.clone()),
                    _ => None,
                },
                since: a.since,
                calls_taken: a.calls_taken,
                call: call.map(|c| c.call.clone()),
                talking_s: call.map(|c| c.talking_ms / 1000),
            }
        })
        .collect();
    Some((waiting, seats))
}

/// The figures of the day, the cases due, the callbacks and the latest steps.
async fn slow(
    state: &ApiState,
    platform: Option<&str>,
    log: &mut LogWindow,
) -> Result<Figures, ApiError> {
    let plan = state.dialplan.current();
    let rules = plan.kpi.rules;
    let now = Utc::now();
    let midnight = state.start_of_today();
    let day_ago = now - chrono::Duration::hours(24);
    let mine = log
        .read(
            &state.store,
            |e| platform.is_none_or(|p| platform_of_queue(&e.queue) == p),
            day_ago.min(midnight),
            now,
        )
        .await
        .map_err(ApiError::internal)?;
    let province = |from, to| crate::kpi::report(mine, from, to, &rules, |_| None).province;
    let occupancy = super::queues::seat_occupancy(state, midnight, now, platform).await?;
    // The longest warning window is a day (handling): a case due later is not marked.
    let mut cases: Vec<Marked> = state
        .store
        .open_cases_due(platform, now + chrono::Duration::hours(24))
        .await
        .map_err(ApiError::internal)?
        .into_iter()
        .map(|s| super::workflow::with_dispatch_deadline(state, s))
        .filter_map(|s| {
            let mark = marks(&s.case, now)?;
            Some(Marked {
                case_number: s.case.case_number,
                platform: s.case.platform,
                unit: s.case.unit,
                state: s.case.state.as_str(),
                mark,
                // The board reads; the supervision scheduler records when a mark began.
                marked_at: None,
            })
        })
        .collect();
    cases.sort_by(|a, b| {
        b.mark
            .level
            .cmp(&a.mark.level)
            .then(a.mark.due.cmp(&b.mark.due))
    });
    let mut callbacks = state
        .store
        .callbacks(platform, "awaiting")
        .await
        .map_err(ApiError::internal)?;
    let callbacks_total = callbacks.len();
    callbacks.truncate(CALLBACKS_LISTED);
    Ok(Figures {
        today: province(midnight, now),
        last_hour: province(now - chrono::Duration::hours(1), now),
        connection_rate_24h: province(day_ago, now).connection_rate,
        occupancy_today: occupancy,
        cases,
        callbacks,
        callbacks_total,
        recent: state
            .store
            .recent_steps(platform, RECENT)
            .await
            .map_err(ApiError::internal)?,
    })
}

fn assemble(
    state: &ApiState,
    platform: Option<String>,
    waiting: Vec<WaitingRow>,
    seats: Vec<SeatRow>,
    f: &Figures,
) -> Board {
    let plan = state.dialplan.current();
    let targets = plan.kpi.targets;
    let name = match &platform {
        Some(code) => plan.platform_name(code),
        None => "全省".to_string(),
    };
    let live = live(
        waiting.iter().map(|w| w.wait_s * 1000),
        seats.iter().map(|s| s.state),
    );
    let mut missed = Vec::new();
    for (name, rate, target) in [
        (
            "service_level_today",
            f.today.service_level,
            targets.service_level,
        ),
        (
            "service_level_last_hour",
            f.last_hour.service_level,
            targets.service_level,
        ),
        (
            "connection_rate_24h",
            f.connection_rate_24h,
            targets.connection_rate,
        ),
    ] {
        if !meets(rate, target) {
            missed.push(name);
        }
    }
    Board {
        platform,
        name,
        platforms: plan
            .router
            .platforms()
            .iter()
            .map(|p| (p.code.clone(), p.name_zh.clone()))
            .collect(),
        waiting,
        seats,
        live,
        today: f.today.clone(),
        last_hour: f.last_hour.clone(),
        connection_rate_24h: f.connection_rate_24h,
        occupancy_today: f.occupancy_today,
        targets,
        short_abandon_s: plan.kpi.rules.short_abandon.as_secs(),
        missed,
        cases: f.cases.clone(),
        callbacks: f.callbacks.clone(),
        callbacks_total: f.callbacks_total,
        recent: f.recent.clone(),
    }
}

/// The platform of the board.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BoardQuery {
    pub platform: Option<String>,
}

fn scope(user: &Caller, q: BoardQuery) -> Result<Option<String>, ApiError> {
    if user.user.role != Role::Supervisor {
        return Err(ApiError::forbidden("the wallboard is for supervisors"));
    }
    user.narrow_platform(q.platform.filter(|p| !p.is_empty()))
}

/// `GET /api/wallboard`: the board now.
pub async fn now(
    State(state): State<ApiState>,
    user: Caller,
    Query(q): Query<BoardQuery>,
) -> Result<Json<Board>, ApiError> {
    let platform = scope(&user, q)?;
    let (waiting, seats) = moment(&state, platform.as_deref())
        .await
        .ok_or_else(|| ApiError::internal("the ACD is not running"))?;
    let figures = slow(&state, platform.as_deref(), &mut LogWindow::default()).await?;
    Ok(Json(assemble(&state, platform, waiting, seats, &figures)))
}

/// `GET /api/wallboard/events`: the board as Server-Sent Events, one `board` event each time
/// it changes (the first at once).
pub async fn events(
    State(state): State<ApiState>,
    user: Caller,
    headers: axum::http::HeaderMap,
    Query(q): Query<BoardQuery>,
) -> Result<Sse<impl futures_util::Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let platform = scope(&user, q)?;
    let credential = Credential::of(&headers);
    let key = platform.clone().unwrap_or_default();
    let task = state.clone();
    let mut rx = state.wallboards.watch(&key, |tx| {
        tokio::spawn(run(task, key.clone(), platform, tx));
    });
    rx.mark_changed();
    let watcher = (rx, state, credential);
    let stream = futures_util::stream::unfold(watcher, |(mut rx, state, credential)| async move {
        loop {
            let changed = tokio::time::timeout(RECHECK, rx.changed()).await;
            // The stream ends with the session (signed out, expired) or the token's right.
            if !credential.still_valid(&state) {
                return None;
            }
            match changed {
                Ok(Ok(())) => {}
                Ok(Err(_)) => return None,
                Err(_) => continue,
            }
            let board = rx.borrow_and_update().clone();
            if !board.is_empty() {
                let event = Event::default().event("board").data(&*board);
                return Some((Ok(event), (rx, state, credential)));
            }
        }
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

/// How often a quiet stream checks that its watcher may still watch.
const RECHECK: Duration = Duration::from_secs(5);

/// What a board's watcher signed in with, checked again while the stream lasts.
enum Credential {
    /// A page's session cookie.
    Session(String),
    /// A bearer token.
    Token(String),
}

impl Credential {
    fn of(headers: &axum::http::HeaderMap) -> Credential {
        let bearer = headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(|t| t.trim().to_string());
        match (bearer, super::session::cookie(headers)) {
            (Some(token), _) => Credential::Token(token),
            (None, Some(cookie)) => Credential::Session(cookie),
            (None, None) => Credential::Token(String::new()),
        }
    }

    /// The session still open, or the token still valid, and either still a supervisor's in
    /// the dialplan in force.
    fn still_valid(&self, state: &ApiState) -> bool {
        let plan = state.dialplan.current();
        let supervisor = |u: &crate::dialplan::User| u.role == Role::Supervisor;
        match self {
            Credential::Session(cookie) => {
                match state.sessions.session(cookie, Utc::now().timestamp()) {
                    Some((super::sessions::SignedIn::User { id }, _)) => {
                        plan.users.iter().any(|u| u.id == id && supervisor(u))
                    }
                    _ => false,
                }
            }
            Credential::Token(token) => plan.user_by_token(token).is_some_and(supervisor),
        }
    }
}
