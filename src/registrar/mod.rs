//! Agent registration, pure: digest authentication of REGISTER (RFC 3261 §22, RFC 7616, with
//! MD5 and SHA-256 as RFC 8760 allows), limiters that slow down guessing per source and user (with a higher ceiling per source),
//! and the location service (bindings of each agent's address-of-record to its contacts, with
//! expiry). The SIP edge parses headers and calls into these; nothing here does I/O or reads a
//! clock.

pub mod bindings;
pub mod contact;
pub mod digest;
pub mod limiter;

pub use bindings::{Binding, BindingError, Bindings, ContactUpdate};
pub use digest::{
    Algorithm, Challenge, Credentials, DigestError, NonceCounts, NonceKeeper, Secret,
};
pub use limiter::{FailureLimiter, LoginLimiter};
