//! A platform's menu, only where `queues.toml` gives it one (the national service standard
//! wants callers to reach a person without menus). After the greeting the menu prompt says the
//! choices; a listed key leads to its queue, and no key within the menu's timeout, or a key not
//! listed, to the platform's own queue. A key pressed during the greeting counts too.

use chrono::Utc;
use tokio::sync::mpsc;
use tracing::{error, info};

use super::context::InboundCall;
use super::signal::{CallSignal, EndCause};
use crate::dialplan::Menu;
use crate::media::session::{MediaEvent, MediaSession};

/// Where the menu led.
pub(super) enum Chosen {
    /// Into this queue (the greeting and menu have been played).
    Queue(String),
    /// The call ended in the menu.
    Ended(EndCause),
}

/// The queue a key leads to: its choice, or the platform's own queue.
pub fn queue_for_key(menu: &Menu, key: Option<char>) -> String {
    key.and_then(|k| menu.choices.get(&k).cloned())
        .unwrap_or_else(|| menu.platform.clone())
}

impl InboundCall<'_> {
    /// Plays the greeting and the menu, and waits for a key.
    pub(super) async fn choose_queue(
        &self,
        signals: &mut mpsc::UnboundedReceiver<CallSignal>,
        media: &MediaSession,
        media_events: &mut mpsc::UnboundedReceiver<MediaEvent>,
        menu: &Menu,
    ) -> Chosen {
        let prompts = &self.services.prompts;
        let welcome = self
            .dialplan
            .router
            .platform(&menu.platform)
            .and_then(|p| prompts.get(&p.welcome_prompt));
        let menu_prompt = prompts.get(&menu.prompt);
        let playback = async {
            if let Some(welcome) = welcome {
                media.play(welcome).await;
            }
            if let Some(menu_prompt) = menu_prompt {
                media.play(menu_prompt).await;
            }
            tokio::time::sleep(menu.timeout).await;
        };
        tokio::pin!(playback);
        let key = loop {
            tokio::select! {
                _ = &mut playback => break None,
                event = media_events.recv() => match event {
                    Some(MediaEvent::Dtmf { digit }) => break Some(digit),
                    Some(MediaEvent::Timeout) => return Chosen::Ended(EndCause::MediaTimeout),
                    Some(_) => {}
                    None => std::future::pending::<()>().await,
                },
                signal = signals.recv() => match signal {
                    Some(CallSignal::Bye { key, request }) => {
                        self.answer_bye(&key, &request);
                        // Gone before reaching an operator: owed a callback like any caller
                        // who gave up waiting.
                        if let Err(e) = self.services.store.request_callback(self.call_id, "abandoned", Utc::now()).await {
                            error!(call_id = self.call_id, error = %e, "callback not requested");
                        }
                        return Chosen::Ended(EndCause::CallerHangup);
                    }
                    None => return Chosen::Ended(EndCause::CallerHangup),
                    Some(_) => {}
                },
            }
        };
        let queue = queue_for_key(menu, key);
        info!(call_id = self.call_id, ?key, %queue, "menu choice");
        Chosen::Queue(queue)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_listed_key_leads_to_its_queue_and_anything_else_to_the_platform() {
        let menu = Menu {
            platform: "532900".into(),
            prompt: "menu-532900.wav".into(),
            timeout: Duration::from_secs(5),
            choices: BTreeMap::from([('1', "532900-bai".to_string())]),
        };
        assert_eq!(queue_for_key(&menu, Some('1')), "532900-bai");
        assert_eq!(queue_for_key(&menu, Some('2')), "532900");
        assert_eq!(queue_for_key(&menu, None), "532900");
    }
}
