//! Cases: the work item of the hotline, pure. Every rule of the province's hotline plan that
//! governs a case after the call lives here, one idea per file:
//!
//! - [`category`]: what a request is, its handling limit (5 or 15 working days), and the
//!   requests the hotline does not accept with the channel the caller is sent to;
//! - [`order`]: the work order's details (the caller's name and address, the place, the
//!   summary, the knowledge-base entry used, confidentiality);
//! - [`workflow`]: the states, the transitions and their checks, the deadlines computed on each
//!   transition, and the append-only history;
//! - [`supervision`]: which deadlines are due soon or overdue at a given moment.
//!
//! Time comes in as an argument (the injected clock); nothing here reads a clock or a file.

pub mod category;
pub mod order;
pub mod publish;
pub mod statistics;
pub mod supervision;
pub mod workflow;

pub use category::{Category, OutOfScope};
pub use order::WorkOrder;
pub use supervision::{DeadlineKind, Mark, MarkLevel};
pub use workflow::{
    Actor, Case, CaseEvent, CaseState, Deadlines, HistoryEntry, Role, WorkflowError,
};
