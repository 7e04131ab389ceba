//! After the operator hangs up, the caller rates the call (好差评): a short prompt, then a key,
//! 1 满意, 2 基本满意, 3 不满意 (also during the prompt). A rating is thanked and the call
//! ends; no key within `[rating] wait_secs` is no rating; another key is ignored.

use std::time::Instant;

use super::ctx::{Ctx, Next};
use super::io::{Input, Output, RATED_PROMPT, RATE_PROMPT};
use crate::call::signal::EndCause;

/// The rating phase.
#[derive(Debug)]
pub struct Rating {
    /// Once the prompt has played: the end of the wait for a key.
    until: Option<Instant>,
    rated: bool,
}

impl Rating {
    /// Asks for a rating.
    pub fn enter(ctx: &mut Ctx) -> Rating {
        ctx.emit(Output::Hold(None));
        ctx.emit(Output::Play(vec![RATE_PROMPT.to_string()]));
        Rating {
            until: None,
            rated: false,
        }
    }

    pub fn handle(&mut self, ctx: &mut Ctx, input: Input, now: Instant) -> Next {
        match input {
            Input::PlayDone if self.rated => ctx.finish(EndCause::AgentHangup),
            Input::PlayDone => {
                self.until = Some(now + ctx.plan.rating.wait);
                Next::Stay
            }
            Input::Dtmf(key @ '1'..='3') if !self.rated => {
                self.rated = true;
                self.until = None;
                ctx.emit(Output::Rate(key as u8 - b'0'));
                ctx.emit(Output::Play(vec![RATED_PROMPT.to_string()]));
                Next::Stay
            }
            Input::CallerBye => ctx.finish(EndCause::CallerHangup),
            Input::MediaTimeout => ctx.finish(EndCause::MediaTimeout),
            _ => Next::Stay,
        }
    }

    pub fn deadline(&self) -> Option<Instant> {
        self.until
    }

    pub fn timeout(&mut self, ctx: &mut Ctx, now: Instant) -> Next {
        match self.until {
            Some(at) if now >= at => ctx.finish(EndCause::AgentHangup),
            _ => Next::Stay,
        }
    }
}
