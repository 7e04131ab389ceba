//! Outside staffed hours (or at overflow, or closing time with nobody signed in): the caller
//! leaves a voice message, which becomes a callback case.
//!
//! 1. The platform's after-hours greeting (it says when operators are back); `*` replays it,
//!    `#` skips to the beep.
//! 2. A beep, then recording until `#`, a hang-up, the configured silence or the maximum
//!    length; each keeps the message. `*` while recording throws the message away and starts
//!    again after a new beep.
//! 3. A message with no voice in it is not kept (the call keeps its case). A caller still on
//!    the line hears that the message is saved, and the server hangs up.

use std::time::Instant;

use super::ctx::{Ctx, Next};
use super::io::{Input, Output, BEEP_PROMPT, SAVED_PROMPT};
use crate::call::signal::EndCause;

#[derive(Debug)]
enum Step {
    Greeting(String),
    Beep,
    Recording {
        started: Instant,
        last_voice: Instant,
        voiced: bool,
    },
    Saved,
}

/// The voicemail phase.
#[derive(Debug)]
pub struct Voicemail {
    /// The platform the message is left for (its after-hours greeting, its callback rule).
    platform: String,
    step: Step,
}

impl Voicemail {
    /// Plays the platform's after-hours greeting (or the beep, when it has none).
    pub fn enter(ctx: &mut Ctx, platform: &str) -> Voicemail {
        ctx.emit(Output::Hold(None));
        let mut vm = Voicemail {
            platform: platform.to_string(),
            step: Step::Beep,
        };
        match ctx.after_hours(platform) {
            Some(greeting) => {
                ctx.emit(Output::Play(vec![greeting.clone()]));
                vm.step = Step::Greeting(greeting);
            }
            None => vm.beep(ctx),
        }
        vm
    }

    fn beep(&mut self, ctx: &mut Ctx) {
        ctx.emit(Output::Play(vec![BEEP_PROMPT.to_string()]));
        self.step = Step::Beep;
    }

    pub fn handle(&mut self, ctx: &mut Ctx, input: Input, now: Instant) -> Next {
        match (&mut self.step, input) {
            (Step::Greeting(greeting), Input::Dtmf('*')) => {
                ctx.emit(Output::Play(vec![greeting.clone()]));
            }
            (Step::Greeting(_), Input::Dtmf('#') | Input::PlayDone) => self.beep(ctx),
            (Step::Beep, Input::PlayDone) => {
                // Audio before the beep's end is not part of the message.
                ctx.emit(Output::StartMessage {
                    platform: self.platform.clone(),
                });
                self.step = Step::Recording {
                    started: now,
                    last_voice: now,
                    voiced: false,
                };
            }
            (
                Step::Recording {
                    last_voice, voiced, ..
                },
                Input::Voice,
            ) => {
                *last_voice = now;
                *voiced = true;
            }
            (Step::Recording { voiced, .. }, Input::Dtmf('#')) => {
                let voiced = *voiced;
                return self.stop(ctx, voiced);
            }
            (Step::Recording { .. }, Input::Dtmf('*')) => {
                ctx.emit(Output::DiscardMessage);
                self.beep(ctx);
            }
            (Step::Recording { .. }, Input::MessageFailed) => {
                return ctx.finish(EndCause::VoicemailDone);
            }
            (Step::Saved, Input::PlayDone) => return ctx.finish(EndCause::VoicemailDone),
            (_, Input::CallerBye) => return self.abort(ctx, EndCause::CallerHangup),
            (_, Input::MediaTimeout) => return self.abort(ctx, EndCause::MediaTimeout),
            _ => {}
        }
        Next::Stay
    }

    /// When the recording ends by itself: silence, or the maximum length.
    pub fn deadline(&self, ctx: &Ctx) -> Option<Instant> {
        match self.step {
            Step::Recording {
                started,
                last_voice,
                ..
            } => {
                let settings = &ctx.plan.voicemail;
                Some((last_voice + settings.silence).min(started + settings.max))
            }
            _ => None,
        }
    }

    pub fn timeout(&mut self, ctx: &mut Ctx, now: Instant) -> Next {
        match (self.deadline(ctx), &self.step) {
            (Some(at), Step::Recording { voiced, .. }) if now >= at => {
                let voiced = *voiced;
                self.stop(ctx, voiced)
            }
            _ => Next::Stay,
        }
    }

    /// Ends the call in voicemail; a message being recorded is kept (if it has voice).
    pub fn abort(&mut self, ctx: &mut Ctx, cause: EndCause) -> Next {
        if let Step::Recording { voiced, .. } = self.step {
            ctx.emit(Output::FinishMessage { voiced });
        }
        ctx.finish(cause)
    }

    fn stop(&mut self, ctx: &mut Ctx, voiced: bool) -> Next {
        ctx.emit(Output::FinishMessage { voiced });
        if voiced {
            ctx.emit(Output::Play(vec![SAVED_PROMPT.to_string()]));
            self.step = Step::Saved;
            Next::Stay
        } else {
            ctx.finish(EndCause::VoicemailDone)
        }
    }
}
