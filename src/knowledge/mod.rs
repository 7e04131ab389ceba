//! The knowledge base operators answer from: entries with a title, question, answer, category,
//! platform (or every platform), source department and days of validity, each change kept as a
//! version with who made it ([`entry`]); search in Chinese over them ([`search`]); import and
//! export as JSON or CSV ([`table`]); a few generic sample entries for development
//! ([`samples`], marked 【样例】, loaded with `serve --sample-knowledge`).
//!
//! Pure: the store keeps the entries and their history, the API checks who may change them;
//! this module holds the rules and the index.

pub mod entry;
pub mod samples;
pub mod search;
pub mod table;

pub use entry::{Draft, Entry, FieldError, Version};
pub use search::{Hit, IndexError, KnowledgeIndex};
