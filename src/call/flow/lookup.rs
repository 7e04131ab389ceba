//! A caller looks up the progress of a case of theirs (国办发〔2020〕53号) by pressing the
//! lookup key during the greeting: they leave the queue (no menu delays other callers), enter
//! the case number's digits ended by `#` (`*` starts again), and hear its state and due date
//! in Mandarin. The edge looks only among the calling number's own cases, so nobody hears
//! another's. A number not found may be entered again (`[lookup] tries`); then, or after the
//! answer, the caller goes back to the queue to reach an operator.

use std::time::Instant;

use super::ctx::{Ctx, Entry, Next};
use super::io::{
    Input, LookedUp, Output, DAY_PROMPT, LOOKUP_DUE_PROMPT, LOOKUP_ENTER_PROMPT,
    LOOKUP_NONE_PROMPT, LOOKUP_STATE_PROMPT, LOOKUP_STAY_PROMPT, MONTH_PROMPT,
};
use crate::call::announce::number_prompts;
use crate::call::signal::EndCause;

/// Digits of a case number at most (a full one has 20).
const MAX_DIGITS: usize = 24;

/// The lookup phase.
#[derive(Debug)]
pub struct Lookup {
    digits: String,
    /// When the caller has keyed nothing for too long.
    until: Option<Instant>,
    tries: u32,
    /// The answer is being looked up.
    asking: bool,
    /// The last prompts play: then back to the queue.
    leaving: bool,
}

/// The prompts that say what a lookup found.
pub fn answer_prompts(found: &LookedUp) -> Vec<String> {
    let mut out = vec![
        LOOKUP_STATE_PROMPT.to_string(),
        format!("state-{}.wav", found.state),
    ];
    if let Some((month, day)) = found.due {
        out.push(LOOKUP_DUE_PROMPT.into());
        out.extend(number_prompts(month as usize));
        out.push(MONTH_PROMPT.into());
        out.extend(number_prompts(day as usize));
        out.push(DAY_PROMPT.into());
    }
    out
}

impl Lookup {
    /// Asks for the case number.
    pub fn enter(ctx: &mut Ctx) -> Lookup {
        ctx.emit(Output::Hold(None));
        ctx.emit(Output::Play(vec![LOOKUP_ENTER_PROMPT.to_string()]));
        Lookup {
            digits: String::new(),
            until: None,
            tries: 0,
            asking: false,
            leaving: false,
        }
    }

    pub fn handle(&mut self, ctx: &mut Ctx, input: Input, now: Instant) -> Next {
        match input {
            Input::PlayDone if self.leaving => self.back_to_queue(ctx),
            Input::PlayDone if !self.asking => {
                self.until = Some(now + ctx.plan.lookup.digit_wait);
                Next::Stay
            }
            Input::Dtmf(d) if self.asking || self.leaving => {
                let _ = d;
                Next::Stay
            }
            Input::Dtmf('#') => {
                self.ask(ctx);
                Next::Stay
            }
            Input::Dtmf('*') => {
                self.digits.clear();
                self.until = Some(now + ctx.plan.lookup.digit_wait);
                Next::Stay
            }
            Input::Dtmf(d) if d.is_ascii_digit() => {
                if self.digits.len() < MAX_DIGITS {
                    self.digits.push(d);
                }
                self.until = Some(now + ctx.plan.lookup.digit_wait);
                Next::Stay
            }
            Input::LookedUp(found) if self.asking => {
                self.asking = false;
                match found {
                    Some(found) => {
                        let mut prompts = answer_prompts(&found);
                        prompts.push(LOOKUP_STAY_PROMPT.into());
                        self.leave(ctx, prompts);
                    }
                    None => {
                        self.tries += 1;
                        self.digits.clear();
                        if self.tries >= ctx.plan.lookup.tries {
                            self.leave(
                                ctx,
                                vec![LOOKUP_NONE_PROMPT.into(), LOOKUP_STAY_PROMPT.into()],
                            );
                        } else {
                            ctx.emit(Output::Play(vec![
                                LOOKUP_NONE_PROMPT.into(),
                                LOOKUP_ENTER_PROMPT.into(),
                            ]));
                        }
                    }
                }
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
            Some(at) if now >= at => {
                if self.digits.is_empty() {
                    self.leave(ctx, vec![LOOKUP_STAY_PROMPT.into()]);
                } else {
                    // Digits without the #: taken as they are.
                    self.ask(ctx);
                }
                Next::Stay
            }
            _ => Next::Stay,
        }
    }

    fn ask(&mut self, ctx: &mut Ctx) {
        self.until = None;
        if self.digits.is_empty() {
            return;
        }
        self.asking = true;
        ctx.emit(Output::LookUp(std::mem::take(&mut self.digits)));
    }

    fn leave(&mut self, ctx: &mut Ctx, prompts: Vec<String>) {
        self.until = None;
        self.leaving = true;
        ctx.emit(Output::Play(prompts));
    }

    fn back_to_queue(&mut self, ctx: &mut Ctx) -> Next {
        Next::Wait(Entry::Platform {
            queue: ctx.platform.clone(),
            greeted: true,
        })
    }
}
