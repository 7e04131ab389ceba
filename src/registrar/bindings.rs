//! The location service: which contacts each agent's address-of-record is registered at, until
//! when (RFC 3261 §10.3). Several contacts per agent are kept (a desk phone and a softphone);
//! a REGISTER with `Contact: *` and `Expires: 0` removes them all; a retransmitted or
//! out-of-order REGISTER (same Call-ID, lower CSeq) is refused. A contact with a
//! `+sip.instance` (and `reg-id`) replaces the binding of the same instance (RFC 5626 §6): a
//! softphone that restarts on another port leaves no stale contact behind to be rung.

use std::collections::HashMap;
use std::net::SocketAddr;

/// One registered contact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    /// The contact URI, e.g. `sip:op1001@192.0.2.7:5062;transport=tcp`.
    pub contact: String,
    /// When it expires (Unix seconds).
    pub expires_at: i64,
    /// The registering Call-ID and CSeq (ordering).
    pub call_id: String,
    pub cseq: u32,
    /// Where the REGISTER came from (the address to reach a phone behind NAT).
    pub source: SocketAddr,
    /// The device's `+sip.instance` and `reg-id` (RFC 5626), when it sent them.
    pub instance: Option<String>,
    pub reg_id: Option<u32>,
}

/// One Contact of a REGISTER.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContactUpdate {
    /// Add or refresh this contact for `expires` seconds (0 removes it), of the device
    /// `instance` (its `+sip.instance`, with `reg_id`) when given.
    Contact {
        uri: String,
        expires: u32,
        instance: Option<String>,
        reg_id: Option<u32>,
    },
    /// `Contact: *` (with `Expires: 0`): remove every contact.
    All,
}

/// A REGISTER that cannot be applied; nothing changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BindingError {
    /// 423 Interval Too Brief, with the minimum.
    #[error("expiry {got} s is shorter than the minimum {min} s")]
    IntervalTooBrief { got: u32, min: u32 },
    /// 400: `*` with other contacts or a non-zero expiry.
    #[error("Contact: * must be alone and have Expires: 0")]
    BadWildcard,
    /// 500: an older REGISTER of the same Call-ID.
    #[error("REGISTER out of order for Call-ID {0}")]
    OutOfOrder(String),
}

/// The bindings of every agent.
#[derive(Debug, Clone)]
pub struct Bindings {
    by_aor: HashMap<String, Vec<Binding>>,
    /// Shortest expiry accepted (other than 0).
    pub min_expires: u32,
    /// Longest expiry granted; longer requests are cut down.
    pub max_expires: u32,
}

impl Bindings {
    /// Bindings with the given expiry limits.
    pub fn new(min_expires: u32, max_expires: u32) -> Bindings {
        Bindings {
            by_aor: HashMap::new(),
            min_expires,
            max_expires,
        }
    }

    /// Applies a REGISTER for `aor` at `now`; returns the bindings now in force (for the 200 OK).
    pub fn register(
        &mut self,
        aor: &str,
        updates: &[ContactUpdate],
        call_id: &str,
        cseq: u32,
        source: SocketAddr,
        now: i64,
    ) -> Result<Vec<Binding>, BindingError> {
        self.expire(aor, now);
        let current = self.by_aor.get(aor).cloned().unwrap_or_default();
        if current
            .iter()
            .any(|b| b.call_id == call_id && b.cseq >= cseq)
        {
            return Err(BindingError::OutOfOrder(call_id.to_string()));
        }
        if updates.contains(&ContactUpdate::All) {
            if updates.len() != 1 {
                return Err(BindingError::BadWildcard);
            }
            self.by_aor.remove(aor);
            return Ok(Vec::new());
        }
        for u in updates {
            if let ContactUpdate::Contact { expires, .. } = u {
                if *expires != 0 && *expires < self.min_expires {
                    return Err(BindingError::IntervalTooBrief {
                        got: *expires,
                        min: self.min_expires,
                    });
                }
            }
        }
        let mut next = current;
        for u in updates {
            let ContactUpdate::Contact {
                uri,
                expires,
                instance,
                reg_id,
            } = u
            else {
                continue;
            };
            next.retain(|b| {
                let same_device =
                    instance.is_some() && b.instance == *instance && b.reg_id == *reg_id;
                &b.contact != uri && !same_device
            });
            if *expires > 0 {
                next.push(Binding {
                    contact: uri.clone(),
                    expires_at: now + (*expires).min(self.max_expires) as i64,
                    call_id: call_id.to_string(),
                    cseq,
                    source,
                    instance: instance.clone(),
                    reg_id: *reg_id,
                });
            }
        }
        if next.is_empty() {
            self.by_aor.remove(aor);
        } else {
            self.by_aor.insert(aor.to_string(), next.clone());
        }
        Ok(next)
    }

    /// Puts back a binding kept in the store (at start-up).
    pub fn restore(&mut self, aor: &str, binding: Binding) {
        let v = self.by_aor.entry(aor.to_string()).or_default();
        v.retain(|b| b.contact != binding.contact);
        v.push(binding);
    }

    /// The live contacts of `aor`, most recently registered last.
    pub fn lookup(&self, aor: &str, now: i64) -> Vec<Binding> {
        self.by_aor
            .get(aor)
            .map(|v| v.iter().filter(|b| b.expires_at > now).cloned().collect())
            .unwrap_or_default()
    }

    /// True when a live binding was registered from `ip` (a seat's phone is there).
    pub fn has_source(&self, ip: std::net::IpAddr, now: i64) -> bool {
        self.by_aor
            .values()
            .flatten()
            .any(|b| b.expires_at > now && b.source.ip() == ip)
    }

    /// Removes expired bindings everywhere; returns the AORs that lost their last contact.
    pub fn expire_all(&mut self, now: i64) -> Vec<String> {
        let mut gone = Vec::new();
        self.by_aor.retain(|aor, v| {
            v.retain(|b| b.expires_at > now);
            if v.is_empty() {
                gone.push(aor.clone());
            }
            !v.is_empty()
        });
        gone
    }

    fn expire(&mut self, aor: &str, now: i64) {
        if let Some(v) = self.by_aor.get_mut(aor) {
            v.retain(|b| b.expires_at > now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src() -> SocketAddr {
        "127.0.0.1:5070".parse().unwrap()
    }

    fn contact(uri: &str, expires: u32) -> ContactUpdate {
        ContactUpdate::Contact {
            uri: uri.into(),
            expires,
            instance: None,
            reg_id: None,
        }
    }

    #[test]
    fn a_restarted_device_replaces_its_own_binding_only() {
        let mut b = Bindings::new(60, 3600);
        let device = |uri: &str, inst: &str| ContactUpdate::Contact {
            uri: uri.into(),
            expires: 600,
            instance: Some(inst.into()),
            reg_id: Some(1),
        };
        b.register(
            "op1",
            &[device("sip:op1@a:5060", "<urn:uuid:1>")],
            "c1",
            1,
            src(),
            0,
        )
        .unwrap();
        b.register(
            "op1",
            &[device("sip:op1@b:5060", "<urn:uuid:2>")],
            "c2",
            1,
            src(),
            0,
        )
        .unwrap();
        // Device 1 restarts on another port with a new Call-ID.
        let now = b
            .register(
                "op1",
                &[device("sip:op1@a:6000", "<urn:uuid:1>")],
                "c3",
                1,
                src(),
                5,
            )
            .unwrap();
        let contacts: Vec<&str> = now.iter().map(|x| x.contact.as_str()).collect();
        assert_eq!(contacts, vec!["sip:op1@b:5060", "sip:op1@a:6000"]);
    }

    #[test]
    fn register_refresh_expire_and_unregister() {
        let mut b = Bindings::new(60, 3600);
        let got = b
            .register("op1", &[contact("sip:op1@a", 120)], "cid", 1, src(), 0)
            .unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].expires_at, 120);
        // A second device.
        b.register("op1", &[contact("sip:op1@b", 7200)], "cid2", 1, src(), 10)
            .unwrap();
        let live = b.lookup("op1", 10);
        assert_eq!(live.len(), 2);
        assert_eq!(live[1].expires_at, 10 + 3600, "cut to the maximum");
        // Refresh the first.
        b.register("op1", &[contact("sip:op1@a", 120)], "cid", 2, src(), 100)
            .unwrap();
        assert_eq!(b.lookup("op1", 200).len(), 2);
        assert_eq!(b.lookup("op1", 221).len(), 1, "the first expired at 220");
        // Unregister one by Expires 0, then everything with *.
        b.register("op1", &[contact("sip:op1@b", 0)], "cid2", 2, src(), 222)
            .unwrap();
        assert!(b.lookup("op1", 222).is_empty());
        b.register("op1", &[contact("sip:op1@c", 600)], "cid3", 1, src(), 230)
            .unwrap();
        b.register("op1", &[ContactUpdate::All], "cid3", 2, src(), 231)
            .unwrap();
        assert!(b.lookup("op1", 231).is_empty());
    }

    #[test]
    fn too_brief_out_of_order_and_bad_wildcard() {
        let mut b = Bindings::new(60, 3600);
        assert_eq!(
            b.register("op1", &[contact("sip:op1@a", 30)], "c", 1, src(), 0),
            Err(BindingError::IntervalTooBrief { got: 30, min: 60 })
        );
        b.register("op1", &[contact("sip:op1@a", 120)], "c", 5, src(), 0)
            .unwrap();
        assert_eq!(
            b.register("op1", &[contact("sip:op1@a", 120)], "c", 5, src(), 1),
            Err(BindingError::OutOfOrder("c".into()))
        );
        assert_eq!(
            b.register(
                "op1",
                &[ContactUpdate::All, contact("sip:x", 60)],
                "d",
                1,
                src(),
                1
            ),
            Err(BindingError::BadWildcard)
        );
        assert_eq!(
            b.lookup("op1", 1).len(),
            1,
            "refused REGISTERs changed nothing"
        );
        assert_eq!(b.expire_all(121), vec!["op1".to_string()]);
    }
}
