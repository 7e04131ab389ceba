//! Mail: the platforms' mailboxes. [`listener`] takes mail over SMTP (the province's relay or
//! Postfix delivers to `--smtp-listen`) and answers 250 only once the request is a stored
//! case; [`read`] reads the MIME message; [`sender`] sends what the outbox holds (the
//! acknowledgement, answers, the reply, voice-message notices) through the configured relay.

pub mod listener;
pub mod read;
pub mod sender;
