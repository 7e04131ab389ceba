//! The channels in use on each carrier trunk, against its limit: a call over a trunk, in or
//! out, holds a [`ChannelGuard`] for its life and gives the channel back however it ends; and
//! which trunks have a registration task running ([`Registrations`]). A leaf of `call/`.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use crate::dialplan::trunks::Trunk;

/// Calls up on each trunk.
#[derive(Debug, Default)]
pub struct TrunkChannels {
    used: Mutex<HashMap<String, u32>>,
}

/// One channel of a trunk, given back when dropped.
#[derive(Debug)]
pub struct ChannelGuard {
    channels: Arc<TrunkChannels>,
    trunk: String,
}

impl TrunkChannels {
    /// Takes a channel of `trunk`, or None when all of its channels are in use.
    pub fn take(self: &Arc<Self>, trunk: &Trunk) -> Option<ChannelGuard> {
        let mut used = self.used.lock().unwrap_or_else(|e| e.into_inner());
        let n = used.entry(trunk.name.clone()).or_default();
        if *n >= trunk.channels {
            return None;
        }
        *n += 1;
        metrics::gauge!("hotline_trunk_channels_in_use", "trunk" => trunk.name.clone())
            .set(f64::from(*n));
        Some(ChannelGuard {
            channels: self.clone(),
            trunk: trunk.name.clone(),
        })
    }

    /// Channels of `trunk` in use now.
    pub fn in_use(&self, trunk: &str) -> u32 {
        self.used
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(trunk)
            .copied()
            .unwrap_or(0)
    }
}

impl Drop for ChannelGuard {
    fn drop(&mut self) {
        let mut used = self.channels.used.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = used.get_mut(&self.trunk) {
            *n = n.saturating_sub(1);
            metrics::gauge!("hotline_trunk_channels_in_use", "trunk" => self.trunk.clone())
                .set(f64::from(*n));
        }
    }
}

/// The trunks' registration tasks running, by trunk name, and the bell a dialplan reload rings
/// to wake them (see `call::trunk::start_registrations`).
#[derive(Debug, Default)]
pub struct Registrations {
    running: Mutex<HashSet<String>>,
    /// Rung after a reload: each task looks at its trunk again.
    pub reloaded: tokio::sync::Notify,
}

impl Registrations {
    /// The names of the trunks with a task, locked: starting a task and a task stopping
    /// decide under this lock.
    pub fn running(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        self.running.lock().unwrap_or_else(|e| e.into_inner())
    }
}
