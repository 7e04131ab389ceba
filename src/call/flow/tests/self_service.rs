//! What the caller does by key beyond the queue: rating the call after the operator hangs up,
//! and looking up a case's progress from the greeting, in virtual time.

use super::*;
use crate::call::flow::io::{
    DAY_PROMPT, LOOKUP_DUE_PROMPT, LOOKUP_ENTER_PROMPT, LOOKUP_NONE_PROMPT, LOOKUP_STATE_PROMPT,
    LOOKUP_STAY_PROMPT, MONTH_PROMPT,
};

/// A bridged call whose operator hung up: the caller hears the rating prompt.
fn rating() -> (Call, Clock) {
    let (mut call, clock) = bridged();
    call.handle(seat(1, SeatEvent::Bye), clock.at(60.0));
    let out = drain(&mut call);
    assert_eq!(
        out[out.len() - 2..],
        [Output::Hold(None), play(&[RATE_PROMPT])]
    );
    assert_eq!(call.phase(), "rating");
    (call, clock)
}

#[test]
fn the_caller_rates_the_call_with_a_key_and_is_thanked() {
    let (mut call, clock) = rating();
    // A key other than 1-3 is no rating.
    call.handle(Input::Dtmf('7'), clock.at(61.0));
    assert!(drain(&mut call).is_empty());
    call.handle(Input::Dtmf('2'), clock.at(61.5));
    assert_eq!(
        drain(&mut call),
        vec![Output::Rate(2), play(&[RATED_PROMPT])]
    );
    // Rated once: a second key changes nothing.
    call.handle(Input::Dtmf('3'), clock.at(61.8));
    assert!(drain(&mut call).is_empty());
    call.handle(Input::PlayDone, clock.at(63.0));
    assert_eq!(
        drain(&mut call),
        vec![Output::HangUpCaller, Output::End(EndCause::AgentHangup)]
    );
}

#[test]
fn no_key_is_no_rating_and_a_caller_may_hang_up_instead() {
    let (mut call, clock) = rating();
    call.handle(Input::PlayDone, clock.at(62.0));
    assert!(drain(&mut call).is_empty());
    // The bundled [rating] waits 5 s for a key.
    assert_eq!(call.poll_timeout(), Some(clock.at(67.0)));
    call.handle_timeout(clock.at(67.0));
    assert_eq!(
        drain(&mut call),
        vec![Output::HangUpCaller, Output::End(EndCause::AgentHangup)]
    );
    let (mut call, clock) = rating();
    call.handle(Input::CallerBye, clock.at(61.0));
    assert_eq!(drain(&mut call), vec![Output::End(EndCause::CallerHangup)]);
}

#[test]
fn without_ratings_the_operators_hang_up_ends_the_call() {
    let mut plan = plan();
    plan.rating.enabled = false;
    let (mut call, clock) = start_with(plan);
    call.handle(Input::Ack { open: true }, clock.at(0.0));
    call.handle(Input::PlayDone, clock.at(3.0));
    call.handle(ring("1001"), clock.at(3.0));
    call.handle(seat(1, SeatEvent::Answered), clock.at(4.0));
    call.handle(connect("1001"), clock.at(4.0));
    drain(&mut call);
    call.handle(seat(1, SeatEvent::Bye), clock.at(30.0));
    let out = drain(&mut call);
    assert_eq!(
        out[out.len() - 2..],
        [Output::HangUpCaller, Output::End(EndCause::AgentHangup)]
    );
}

/// A caller who pressed the lookup key (0) during the greeting, a seat ringing meanwhile.
fn looking_up() -> (Call, Clock) {
    let (mut call, clock) = waiting_with_greeting();
    call.handle(ring("1001"), clock.at(0.5));
    drain(&mut call);
    call.handle(Input::Dtmf('0'), clock.at(1.0));
    assert_eq!(
        drain(&mut call),
        vec![
            Output::SelfService,
            Output::CancelLeg(LegId(1)),
            released(1, "no-answer"),
            Output::Hold(None),
            play(&[LOOKUP_ENTER_PROMPT]),
        ]
    );
    assert_eq!(call.phase(), "lookup");
    (call, clock)
}

fn keys(call: &mut Call, clock: &Clock, at: f64, keys: &str) {
    for (i, k) in keys.chars().enumerate() {
        call.handle(Input::Dtmf(k), clock.at(at + i as f64 * 0.3));
    }
}

#[test]
fn a_lookup_reads_the_state_and_due_date_back_then_the_caller_waits_again() {
    let (mut call, clock) = looking_up();
    call.handle(Input::PlayDone, clock.at(4.0));
    keys(&mut call, &clock, 5.0, "12*53010020261206000042#");
    assert_eq!(
        drain(&mut call),
        vec![Output::LookUp("53010020261206000042".into())]
    );
    call.handle(
        Input::LookedUp(Some(LookedUp {
            state: "dispatched".into(),
            due: Some((12, 21)),
        })),
        clock.at(13.0),
    );
    assert_eq!(
        drain(&mut call),
        vec![play(&[
            LOOKUP_STATE_PROMPT,
            "state-dispatched.wav",
            LOOKUP_DUE_PROMPT,
            "digit-10.wav",
            "digit-2.wav",
            MONTH_PROMPT,
            "digit-2.wav",
            "digit-10.wav",
            "digit-1.wav",
            DAY_PROMPT,
            LOOKUP_STAY_PROMPT,
        ])]
    );
    // Then the caller goes on to an operator, greeted already.
    call.handle(Input::PlayDone, clock.at(20.0));
    assert_eq!(
        drain(&mut call),
        vec![
            Output::JoinQueue(KUNMING.into()),
            Output::Hold(Some(HOLD_PROMPT.into())),
        ]
    );
}

#[test]
fn a_number_not_found_may_be_entered_again_then_the_caller_goes_on() {
    let (mut call, clock) = looking_up();
    call.handle(Input::PlayDone, clock.at(4.0));
    for (i, attempt) in ["999#", "888#", "777#"].iter().enumerate() {
        keys(&mut call, &clock, 5.0 + i as f64 * 10.0, attempt);
        let digits = attempt.trim_end_matches('#');
        assert_eq!(drain(&mut call), vec![Output::LookUp(digits.into())]);
        call.handle(Input::LookedUp(None), clock.at(7.0 + i as f64 * 10.0));
        let prompts = drain(&mut call);
        if i < 2 {
            assert_eq!(
                prompts,
                vec![play(&[LOOKUP_NONE_PROMPT, LOOKUP_ENTER_PROMPT])]
            );
            call.handle(Input::PlayDone, clock.at(9.0 + i as f64 * 10.0));
        } else {
            // The bundled [lookup] allows three tries.
            assert_eq!(
                prompts,
                vec![play(&[LOOKUP_NONE_PROMPT, LOOKUP_STAY_PROMPT])]
            );
        }
    }
    call.handle(Input::PlayDone, clock.at(40.0));
    assert_eq!(drain(&mut call)[0], Output::JoinQueue(KUNMING.into()));
}

#[test]
fn a_silent_caller_goes_on_and_digits_without_hash_count() {
    let (mut call, clock) = looking_up();
    call.handle(Input::PlayDone, clock.at(4.0));
    assert_eq!(call.poll_timeout(), Some(clock.at(14.0)));
    call.handle_timeout(clock.at(14.0));
    assert_eq!(drain(&mut call), vec![play(&[LOOKUP_STAY_PROMPT])]);
    let (mut call, clock) = looking_up();
    call.handle(Input::PlayDone, clock.at(4.0));
    keys(&mut call, &clock, 5.0, "20261206000042");
    call.handle_timeout(clock.at(20.0));
    assert_eq!(
        drain(&mut call),
        vec![Output::LookUp("20261206000042".into())]
    );
}

#[test]
fn the_lookup_key_counts_only_during_the_greeting_and_before_a_seat_answers() {
    // After the greeting: a key is just a key.
    let (mut call, clock) = waiting();
    call.handle(Input::Dtmf('0'), clock.at(5.0));
    assert!(drain(&mut call).is_empty());
    assert_eq!(call.phase(), "waiting");
    // A seat answered during the greeting: the caller is about to be bridged.
    let (mut call, clock) = waiting_with_greeting();
    call.handle(ring("1001"), clock.at(0.5));
    call.handle(seat(1, SeatEvent::Answered), clock.at(0.8));
    drain(&mut call);
    call.handle(Input::Dtmf('0'), clock.at(1.0));
    assert!(drain(&mut call).is_empty());
    // Another key is no lookup.
    let (mut call, clock) = waiting_with_greeting();
    call.handle(Input::Dtmf('5'), clock.at(1.0));
    assert!(drain(&mut call).is_empty());
    assert_eq!(call.phase(), "waiting");
}
