//! A platform's menu, only where `queues.toml` gives it one (the national service standard
//! wants callers to reach a person without menus). The greeting, then the menu prompt that says
//! the choices; a listed key leads to its queue, and no key within the menu's timeout, or a key
//! not listed, to the platform's own queue. A key pressed during the greeting counts too.

use std::time::Instant;

use super::ctx::{Ctx, Entry, Next};
use super::io::{Input, Output};
use crate::call::signal::EndCause;

/// The queue a key leads to: its choice, or the platform's own queue.
pub fn queue_for_key(menu: &crate::dialplan::Menu, key: Option<char>) -> String {
    key.and_then(|k| menu.choices.get(&k).cloned())
        .unwrap_or_else(|| menu.platform.clone())
}

/// The menu phase.
#[derive(Debug)]
pub struct Menu {
    menu: crate::dialplan::Menu,
    /// When the prompts have played: the end of the wait for a key.
    key_until: Option<Instant>,
}

impl Menu {
    /// Plays the greeting and the menu.
    pub fn enter(ctx: &mut Ctx, menu: crate::dialplan::Menu) -> Menu {
        let prompts = ctx
            .welcome(&menu.platform)
            .into_iter()
            .chain(std::iter::once(menu.prompt.clone()))
            .collect();
        ctx.emit(Output::Hold(None));
        ctx.emit(Output::Play(prompts));
        Menu {
            menu,
            key_until: None,
        }
    }

    pub fn handle(&mut self, ctx: &mut Ctx, input: Input, now: Instant) -> Next {
        match input {
            Input::PlayDone => {
                self.key_until = Some(now + self.menu.timeout);
                Next::Stay
            }
            Input::Dtmf(key) => self.choose(Some(key)),
            Input::CallerBye => {
                // Gone before reaching an operator: owed a callback like any caller who gave
                // up waiting.
                ctx.emit(Output::RequestCallback);
                ctx.finish(EndCause::CallerHangup)
            }
            Input::MediaTimeout => ctx.finish(EndCause::MediaTimeout),
            _ => Next::Stay,
        }
    }

    pub fn deadline(&self) -> Option<Instant> {
        self.key_until
    }

    pub fn timeout(&mut self, _ctx: &mut Ctx, now: Instant) -> Next {
        match self.key_until {
            Some(at) if now >= at => self.choose(None),
            _ => Next::Stay,
        }
    }

    fn choose(&self, key: Option<char>) -> Next {
        Next::Wait(Entry::Platform {
            queue: queue_for_key(&self.menu, key),
            greeted: true,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_listed_key_leads_to_its_queue_and_anything_else_to_the_platform() {
        let menu = crate::dialplan::Menu {
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
