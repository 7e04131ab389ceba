//! Routing by area: which platform takes a call to 12345. Pure: no files, no sockets.
//!
//! The hotline rule, in the order it is applied (see [`router`]):
//! 1. an area code in the called number (`087212345` goes to Dali);
//! 2. the area code of a fixed-line caller (From or P-Asserted-Identity, `+86`/`0086` or not);
//! 3. the caller's mobile prefix (5 to 7 digits, longest match wins);
//! 4. otherwise the provincial platform.
//!
//! [`transfer`] says where an operator may transfer a caller (up to the province; across
//! prefectures only through it).
//!
//! [`number`] turns any written form of a Chinese number into one national form, so that the
//! rules (and the case API) see `+86 871 6360 1234`, `0086871…` and `0871…` as one number.

pub mod number;
pub mod platform;
pub mod router;
pub mod transfer;

pub use number::{normalize_number, NumberKind};
pub use platform::{Platform, PlatformLevel};
pub use router::{MobilePrefix, NotServed, RouteDecision, RouteReason, Router, RouterError};
pub use transfer::{check_transfer, TransferRefused};
