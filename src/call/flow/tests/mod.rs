//! Every call flow in virtual time: inputs with made-up instants, outputs checked in order.
//! Each test runs in well under a millisecond of machine time.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::io::{
    BEEP_PROMPT, HOLD_PROMPT, RATED_PROMPT, RATE_PROMPT, SAVED_PROMPT, TRANSFER_PROMPT,
};
use super::*;
use crate::acd::AcdEvent;
use crate::call::signal::{QueueNotice, TransferTarget};
use crate::cases::workflow::{Actor, Role};
use crate::dialplan::Dialplan;

const KUNMING: &str = "530100";
const ID: &str = "call-1";

fn plan() -> Dialplan {
    crate::dialplan::load(&std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("dialplan"))
        .unwrap()
}

/// A clock that only moves when told.
struct Clock(Instant);

impl Clock {
    fn at(&self, secs: f64) -> Instant {
        self.0 + Duration::from_secs_f64(secs)
    }
}

fn start_with(plan: Dialplan) -> (Call, Clock) {
    let t0 = Instant::now();
    let call = Call::new(ID, Arc::new(plan), KUNMING, t0 + Duration::from_secs(3600));
    (call, Clock(t0))
}

fn drain(call: &mut Call) -> Vec<Output> {
    std::iter::from_fn(|| call.poll_output()).collect()
}

fn play(names: &[&str]) -> Output {
    Output::Play(names.iter().map(|s| s.to_string()).collect())
}

fn ring(agent: &str) -> Input {
    Input::Queue(QueueNotice::Ring {
        agent: agent.into(),
    })
}

fn connect(agent: &str) -> Input {
    Input::Queue(QueueNotice::Connect {
        agent: agent.into(),
    })
}

fn stop_ringing(agent: &str) -> Input {
    Input::Queue(QueueNotice::StopRinging {
        agent: agent.into(),
    })
}

fn actor(role: Role, id: &str) -> Actor {
    Actor {
        role,
        id: id.into(),
        unit: None,
    }
}

fn seat(leg: u32, event: SeatEvent) -> Input {
    Input::Seat {
        leg: LegId(leg),
        event,
    }
}

fn acd(event: fn(String) -> AcdEvent) -> Output {
    Output::Acd(event(ID.into()))
}

fn everyone(party: Party) -> Member {
    Member {
        party,
        heard_by: Hearers::Everyone,
        hears: true,
    }
}

fn released(leg: u32, outcome: &str) -> Output {
    Output::ReleaseLeg {
        leg: LegId(leg),
        outcome: outcome.into(),
    }
}

fn answered(agent: &str) -> Output {
    Output::Acd(AcdEvent::Answered {
        call: ID.into(),
        agent: agent.into(),
    })
}

fn reply(leg: u32, reply: LegReply) -> Output {
    Output::AnswerLeg {
        leg: LegId(leg),
        reply,
    }
}

/// A staffed call in Kunming's queue, its greeting played out.
fn waiting() -> (Call, Clock) {
    let (mut call, clock) = start_with(plan());
    call.handle(Input::Ack { open: true }, clock.at(0.0));
    assert_eq!(
        drain(&mut call),
        vec![
            Output::JoinQueue(KUNMING.into()),
            play(&["welcome-530100.wav"]),
            Output::Hold(Some(HOLD_PROMPT.into())),
        ]
    );
    call.handle(Input::PlayDone, clock.at(3.0));
    assert!(drain(&mut call).is_empty());
    (call, clock)
}

/// A staffed call in Kunming's queue while its greeting still plays.
fn waiting_with_greeting() -> (Call, Clock) {
    let (mut call, clock) = start_with(plan());
    call.handle(Input::Ack { open: true }, clock.at(0.0));
    drain(&mut call);
    (call, clock)
}

/// A call bridged with seat 1001 on leg 1.
fn bridged() -> (Call, Clock) {
    let (mut call, clock) = waiting();
    call.handle(ring("1001"), clock.at(3.0));
    call.handle(seat(1, SeatEvent::Answered), clock.at(5.0));
    call.handle(connect("1001"), clock.at(5.0));
    assert_eq!(
        drain(&mut call),
        vec![
            Output::Dial {
                leg: LegId(1),
                to: Dest::Seat("1001".into())
            },
            answered("1001"),
            Output::Bridge(LegId(1)),
        ]
    );
    assert_eq!(call.phase(), "bridged");
    (call, clock)
}

fn target(queue: &str) -> TransferTarget {
    TransferTarget {
        queue: queue.into(),
        platform: queue.into(),
    }
}

#[test]
fn ring_timeout_then_the_next_seat_then_bridge_then_bye() {
    let (mut call, clock) = waiting();
    call.handle(ring("1001"), clock.at(3.0));
    // 1001 does not answer within the ring timeout: cancelled, and 1002 is rung.
    call.handle(stop_ringing("1001"), clock.at(18.0));
    call.handle(seat(1, SeatEvent::Declined(487)), clock.at(18.1));
    call.handle(ring("1002"), clock.at(18.0));
    call.handle(seat(2, SeatEvent::Answered), clock.at(20.0));
    call.handle(connect("1002"), clock.at(20.0));
    call.handle(Input::CallerBye, clock.at(80.0));
    assert_eq!(
        drain(&mut call),
        vec![
            Output::Dial {
                leg: LegId(1),
                to: Dest::Seat("1001".into())
            },
            Output::CancelLeg(LegId(1)),
            released(1, "no-answer"),
            Output::Dial {
                leg: LegId(2),
                to: Dest::Seat("1002".into())
            },
            answered("1002"),
            Output::Bridge(LegId(2)),
            Output::HangUpLeg(LegId(2)),
            Output::Unbridge,
            released(2, "completed"),
            acd(|call| AcdEvent::CallEnded {
                call,
                by_agent: false
            }),
            Output::End(EndCause::CallerHangup),
        ]
    );
    assert!(call.is_over());
    assert_eq!(call.poll_timeout(), None);
}

/// A call whose seat 1001 rang and answered while the greeting still plays; the outputs.
fn answered_during_the_greeting() -> (Call, Clock, Vec<Output>) {
    let (mut call, clock) = start_with(plan());
    call.handle(Input::Ack { open: true }, clock.at(0.0));
    drain(&mut call);
    call.handle(ring("1001"), clock.at(0.0));
    call.handle(seat(1, SeatEvent::Answered), clock.at(0.5));
    call.handle(connect("1001"), clock.at(0.5));
    let outputs = drain(&mut call);
    (call, clock, outputs)
}

#[test]
fn the_greeting_is_played_out_before_the_bridge() {
    let (mut call, clock, outputs) = answered_during_the_greeting();
    assert!(!outputs.contains(&Output::Bridge(LegId(1))), "{outputs:?}");
    assert_eq!(call.phase(), "bridged");
    call.handle(Input::PlayDone, clock.at(3.0));
    assert_eq!(drain(&mut call), vec![Output::Bridge(LegId(1))]);
}

#[test]
fn a_caller_who_abandons_is_owed_a_callback_and_ringing_seats_are_cancelled() {
    let (mut call, clock) = waiting();
    call.handle(ring("1001"), clock.at(3.0));
    call.handle(Input::CallerBye, clock.at(6.0));
    assert_eq!(
        drain(&mut call)[1..],
        [
            acd(|call| AcdEvent::CallAbandoned { call }),
            Output::RequestCallback,
            Output::CancelLeg(LegId(1)),
            released(1, "no-answer"),
            Output::End(EndCause::CallerHangup),
        ]
    );
}

#[test]
fn overflow_leads_to_voicemail() {
    let (mut call, clock) = waiting();
    call.handle(ring("1001"), clock.at(3.0));
    call.handle(Input::Queue(QueueNotice::Overflow), clock.at(300.0));
    assert_eq!(
        drain(&mut call)[1..],
        [
            Output::CancelLeg(LegId(1)),
            released(1, "no-answer"),
            Output::Hold(None),
            play(&["after-hours.wav"]),
        ]
    );
    assert_eq!(call.phase(), "voicemail");
}

#[test]
fn announcements_follow_the_prompt_that_plays() {
    let (mut call, clock) = waiting();
    call.handle(
        Input::Queue(QueueNotice::Announce {
            position: 3,
            estimated_wait: Duration::from_secs(90),
        }),
        clock.at(30.0),
    );
    let outputs = drain(&mut call);
    let [Output::Enqueue(prompts)] = &outputs[..] else {
        panic!("{outputs:?}")
    };
    assert_eq!(prompts[0], "queue-position.wav");
    assert!(prompts.contains(&"digit-2.wav".to_string()), "{prompts:?}");
}

#[test]
fn an_answer_at_the_ring_timeout_is_hung_up_and_the_caller_keeps_waiting() {
    // Flow bug (a): the answer crosses the ACD's StopRinging.
    let (mut call, clock) = waiting();
    call.handle(ring("1001"), clock.at(3.0));
    call.handle(seat(1, SeatEvent::Answered), clock.at(17.999));
    call.handle(stop_ringing("1001"), clock.at(18.0));
    assert_eq!(
        drain(&mut call)[1..],
        [
            answered("1001"),
            Output::HangUpLeg(LegId(1)),
            released(1, "answered-too-late"),
        ]
    );
    assert_eq!(call.phase(), "waiting");
    // Rung again for the same caller: a new leg, bridged when it answers.
    call.handle(ring("1001"), clock.at(20.0));
    call.handle(seat(2, SeatEvent::Answered), clock.at(21.0));
    call.handle(connect("1001"), clock.at(21.0));
    // A late request on the first leg is still answered.
    call.handle(seat(1, SeatEvent::Bye), clock.at(21.5));
    assert_eq!(
        drain(&mut call),
        vec![
            Output::Dial {
                leg: LegId(2),
                to: Dest::Seat("1001".into())
            },
            answered("1001"),
            Output::Bridge(LegId(2)),
            reply(1, LegReply::Ok),
        ]
    );
}

#[test]
fn a_ring_all_loser_that_answered_is_hung_up() {
    let (mut call, clock) = waiting();
    call.handle(ring("1001"), clock.at(3.0));
    call.handle(ring("1002"), clock.at(3.0));
    call.handle(seat(2, SeatEvent::Answered), clock.at(4.0));
    call.handle(seat(1, SeatEvent::Answered), clock.at(4.0));
    call.handle(connect("1002"), clock.at(4.0));
    let outputs = drain(&mut call);
    assert_eq!(
        outputs[4..],
        [
            Output::HangUpLeg(LegId(1)),
            released(1, "caller-gone"),
            Output::Bridge(LegId(2)),
        ]
    );
}

#[test]
fn a_seat_that_hangs_up_before_the_bridge_ends_the_call_when_connected() {
    let (mut call, clock) = waiting();
    call.handle(ring("1001"), clock.at(3.0));
    call.handle(seat(1, SeatEvent::Answered), clock.at(4.0));
    call.handle(seat(1, SeatEvent::Bye), clock.at(4.1));
    call.handle(connect("1001"), clock.at(4.2));
    assert_eq!(
        drain(&mut call)[2..],
        [
            Output::Bridge(LegId(1)),
            reply(1, LegReply::Ok),
            Output::Unbridge,
            released(1, "completed"),
            acd(|call| AcdEvent::CallEnded {
                call,
                by_agent: true
            }),
            // The caller is asked to rate the call.
            Output::Hold(None),
            play(&[RATE_PROMPT]),
        ]
    );
    assert_eq!(call.phase(), "rating");
}

#[test]
fn a_seat_that_declines_or_hangs_up_while_ringing_is_passed_over() {
    let (mut call, clock) = waiting();
    call.handle(ring("1001"), clock.at(3.0));
    call.handle(seat(1, SeatEvent::Declined(486)), clock.at(4.0));
    call.handle(ring("1002"), clock.at(4.0));
    call.handle(seat(2, SeatEvent::DialFailed), clock.at(4.0));
    call.handle(ring("1003"), clock.at(4.0));
    call.handle(seat(3, SeatEvent::Unusable), clock.at(5.0));
    let declined = |agent: &str| {
        Output::Acd(AcdEvent::Declined {
            call: ID.into(),
            agent: agent.into(),
        })
    };
    let outputs = drain(&mut call);
    assert_eq!(
        outputs,
        vec![
            Output::Dial {
                leg: LegId(1),
                to: Dest::Seat("1001".into())
            },
            released(1, "declined 486"),
            declined("1001"),
            Output::Dial {
                leg: LegId(2),
                to: Dest::Seat("1002".into())
            },
            declined("1002"),
            Output::Dial {
                leg: LegId(3),
                to: Dest::Seat("1003".into())
            },
            Output::HangUpLeg(LegId(3)),
            released(3, "unusable answer"),
            declined("1003"),
        ]
    );
    assert_eq!(call.phase(), "waiting");
}

#[test]
fn a_seats_transfer_hands_the_caller_over_to_the_province() {
    let (mut call, clock) = bridged();
    call.handle(
        seat(1, SeatEvent::Refer(Ok(target("530000")))),
        clock.at(30.0),
    );
    assert_eq!(
        drain(&mut call),
        vec![
            reply(1, LegReply::Accepted),
            Output::Unbridge,
            Output::NotifyTransferred(LegId(1)),
        ]
    );
    assert_eq!(call.poll_timeout(), Some(clock.at(32.0)));
    call.handle(seat(1, SeatEvent::Bye), clock.at(30.5));
    assert_eq!(
        drain(&mut call),
        vec![
            reply(1, LegReply::Ok),
            released(1, "transferred"),
            Output::Acd(AcdEvent::Transferred {
                call: ID.into(),
                to: "530000".into()
            }),
            Output::Escalate {
                to: target("530000"),
                by: actor(Role::Operator, "1001")
            },
            Output::JoinQueue("530000".into()),
            play(&[TRANSFER_PROMPT]),
            Output::Hold(Some(HOLD_PROMPT.into())),
        ]
    );
    assert_eq!(call.waiting_on(), Some("530000"));
}

#[test]
fn a_seat_that_does_not_hang_up_after_its_transfer_is_hung_up() {
    let (mut call, clock) = bridged();
    call.handle(
        seat(1, SeatEvent::Refer(Ok(target("530000")))),
        clock.at(30.0),
    );
    drain(&mut call);
    call.handle_timeout(clock.at(31.9));
    assert!(drain(&mut call).is_empty());
    call.handle_timeout(clock.at(32.0));
    assert_eq!(
        drain(&mut call)[..2],
        [Output::HangUpLeg(LegId(1)), released(1, "transferred")]
    );
    assert_eq!(call.phase(), "waiting");
}

#[test]
fn the_operator_holds_the_caller_and_takes_them_back() {
    let (mut call, clock) = bridged();
    call.handle(Input::Hold(true), clock.at(10.0));
    assert_eq!(
        drain(&mut call),
        vec![
            Output::Hold(Some(HOLD_PROMPT.into())),
            Output::Room(vec![everyone(Party::Leg(LegId(1)))]),
            Output::ReplyHold(Ok(true)),
        ]
    );
    // Asked twice: nothing more happens, and the answer says so.
    call.handle(Input::Hold(true), clock.at(11.0));
    assert_eq!(drain(&mut call), vec![Output::ReplyHold(Ok(true))]);
    call.handle(Input::Hold(false), clock.at(40.0));
    assert_eq!(
        drain(&mut call),
        vec![
            Output::Room(vec![
                everyone(Party::Caller),
                everyone(Party::Leg(LegId(1)))
            ]),
            Output::ReplyHold(Ok(false))
        ]
    );
    assert_eq!(call.phase(), "bridged");
    // A caller who hangs up on hold ends the call as ever.
    call.handle(Input::Hold(true), clock.at(50.0));
    drain(&mut call);
    call.handle(Input::CallerBye, clock.at(51.0));
    let outputs = drain(&mut call);
    assert_eq!(
        outputs[..3],
        [
            Output::HangUpLeg(LegId(1)),
            Output::Unbridge,
            released(1, "completed")
        ]
    );
}

#[test]
fn no_hold_while_the_greeting_plays_nor_for_a_waiting_caller() {
    let (mut call, clock, _) = answered_during_the_greeting();
    call.handle(Input::Hold(true), clock.at(1.0));
    assert_eq!(
        drain(&mut call),
        vec![Output::ReplyHold(Err(
            "the caller still hears the greeting"
        ))]
    );
    let (mut waiting, clock) = waiting();
    waiting.handle(Input::Hold(true), clock.at(4.0));
    assert!(
        drain(&mut waiting).is_empty(),
        "unanswered: the API says so"
    );
}

#[test]
fn a_refused_transfer_leaves_the_call_as_it_was() {
    let (mut call, clock) = bridged();
    let refusal = ReferRefusal {
        status: 403,
        warning: "across prefectures".into(),
    };
    call.handle(
        seat(1, SeatEvent::Refer(Err(refusal.clone()))),
        clock.at(30.0),
    );
    let refused = crate::routing::TransferRefused::UnknownTarget("9".into());
    let by = actor(Role::Operator, "1001");
    call.handle(
        Input::Transfer {
            to: Err(refused.clone()),
            by,
        },
        clock.at(31.0),
    );
    assert_eq!(
        drain(&mut call),
        vec![
            reply(1, LegReply::Refused(refusal)),
            Output::ReplyTransfer(Err(refused)),
        ]
    );
    assert_eq!(call.phase(), "bridged");
}

#[test]
fn the_apis_transfer_hangs_up_the_seat_and_requeues_the_caller() {
    let (mut call, clock) = bridged();
    let by = actor(Role::Supervisor, "lead");
    call.handle(
        Input::Transfer {
            to: Ok(target("530000")),
            by: by.clone(),
        },
        clock.at(30.0),
    );
    let outputs = drain(&mut call);
    assert_eq!(
        outputs[..6],
        [
            Output::ReplyTransfer(Ok(target("530000"))),
            Output::HangUpLeg(LegId(1)),
            Output::Unbridge,
            released(1, "transferred"),
            Output::Acd(AcdEvent::Transferred {
                call: ID.into(),
                to: "530000".into()
            }),
            Output::Escalate {
                to: target("530000"),
                by
            },
        ]
    );
    assert_eq!(call.phase(), "waiting");
}

#[test]
fn a_transfer_asked_of_a_waiting_call_goes_unanswered() {
    let (mut call, clock) = waiting();
    call.handle(
        Input::Transfer {
            to: Ok(target("530000")),
            by: actor(Role::Supervisor, "lead"),
        },
        clock.at(10.0),
    );
    assert!(drain(&mut call).is_empty());
}

/// An after-hours call, its greeting played and the beep started.
fn at_the_beep() -> (Call, Clock) {
    let (mut call, clock) = start_with(plan());
    call.handle(Input::Ack { open: false }, clock.at(0.0));
    assert_eq!(
        drain(&mut call),
        vec![Output::Hold(None), play(&["after-hours.wav"])]
    );
    // `*` replays the greeting, `#` skips to the beep.
    call.handle(Input::Dtmf('*'), clock.at(1.0));
    assert_eq!(drain(&mut call), vec![play(&["after-hours.wav"])]);
    call.handle(Input::Dtmf('#'), clock.at(2.0));
    assert_eq!(drain(&mut call), vec![play(&[BEEP_PROMPT])]);
    call.handle(Input::PlayDone, clock.at(3.0));
    assert_eq!(
        drain(&mut call),
        vec![Output::StartMessage {
            platform: KUNMING.into()
        }]
    );
    (call, clock)
}

#[test]
fn after_hours_a_message_ends_with_hash_and_is_saved() {
    let (mut call, clock) = at_the_beep();
    call.handle(Input::Voice, clock.at(4.0));
    call.handle(Input::Dtmf('#'), clock.at(6.0));
    assert_eq!(
        drain(&mut call),
        vec![
            Output::FinishMessage { voiced: true },
            play(&[SAVED_PROMPT]),
        ]
    );
    call.handle(Input::PlayDone, clock.at(8.0));
    assert_eq!(
        drain(&mut call),
        vec![Output::HangUpCaller, Output::End(EndCause::VoicemailDone)]
    );
}

#[test]
fn silence_ends_a_message() {
    let (mut call, clock) = at_the_beep();
    call.handle(Input::Voice, clock.at(4.0));
    // The bundled dialplan ends a message after 5 s of silence.
    assert_eq!(call.poll_timeout(), Some(clock.at(9.0)));
    call.handle_timeout(clock.at(8.9));
    assert!(drain(&mut call).is_empty());
    call.handle_timeout(clock.at(9.0));
    assert_eq!(drain(&mut call)[0], Output::FinishMessage { voiced: true });
}

#[test]
fn a_message_without_voice_is_not_kept() {
    let (mut call, clock) = at_the_beep();
    call.handle_timeout(clock.at(8.0));
    assert_eq!(
        drain(&mut call),
        vec![
            Output::FinishMessage { voiced: false },
            Output::HangUpCaller,
            Output::End(EndCause::VoicemailDone),
        ]
    );
}

#[test]
fn a_message_stops_at_its_maximum_length() {
    let (mut call, clock) = at_the_beep();
    // Talking without a pause: voice every second, 120 s at most.
    let mut t = 4.0;
    while call.poll_timeout() > Some(clock.at(t)) {
        call.handle(Input::Voice, clock.at(t));
        t += 1.0;
    }
    assert_eq!(call.poll_timeout(), Some(clock.at(123.0)));
    call.handle_timeout(clock.at(123.0));
    assert_eq!(drain(&mut call)[0], Output::FinishMessage { voiced: true });
}

#[test]
fn star_while_recording_starts_the_message_again() {
    let (mut call, clock) = at_the_beep();
    call.handle(Input::Voice, clock.at(4.0));
    call.handle(Input::Dtmf('*'), clock.at(5.0));
    assert_eq!(
        drain(&mut call),
        vec![Output::DiscardMessage, play(&[BEEP_PROMPT])]
    );
    call.handle(Input::PlayDone, clock.at(6.0));
    assert_eq!(
        drain(&mut call),
        vec![Output::StartMessage {
            platform: KUNMING.into()
        }]
    );
    // The new message has no voice yet.
    call.handle(Input::CallerBye, clock.at(7.0));
    assert_eq!(
        drain(&mut call),
        vec![
            Output::FinishMessage { voiced: false },
            Output::End(EndCause::CallerHangup)
        ]
    );
}

#[test]
fn closing_time_while_waiting_leads_to_voicemail_unless_seats_are_signed_in() {
    let (mut call, clock) = waiting();
    assert_eq!(call.waiting_on(), Some(KUNMING));
    call.handle(
        Input::Staffing {
            open: false,
            seats_signed_in: true,
        },
        clock.at(10.0),
    );
    assert!(drain(&mut call).is_empty());
    call.handle(
        Input::Staffing {
            open: false,
            seats_signed_in: false,
        },
        clock.at(11.0),
    );
    assert_eq!(
        drain(&mut call),
        vec![
            acd(|call| AcdEvent::CallAbandoned { call }),
            Output::Hold(None),
            play(&["after-hours.wav"]),
        ]
    );
    assert_eq!(call.phase(), "voicemail");
}

#[test]
fn the_maximum_duration_ends_every_phase() {
    let (mut call, clock) = bridged();
    assert_eq!(call.poll_timeout(), Some(clock.at(3600.0)));
    call.handle_timeout(clock.at(3600.0));
    assert_eq!(
        drain(&mut call),
        vec![
            Output::HangUpLeg(LegId(1)),
            Output::Unbridge,
            released(1, "completed"),
            acd(|call| AcdEvent::CallEnded {
                call,
                by_agent: false
            }),
            Output::HangUpCaller,
            Output::End(EndCause::MaxDuration),
        ]
    );
    let (mut call, clock) = waiting();
    call.handle_timeout(clock.at(3600.0));
    assert_eq!(
        drain(&mut call),
        vec![
            acd(|call| AcdEvent::CallAbandoned { call }),
            Output::HangUpCaller,
            Output::End(EndCause::MaxDuration),
        ]
    );
    let (mut call, clock) = at_the_beep();
    call.handle(Input::Voice, clock.at(4.0));
    call.handle_timeout(clock.at(3600.0));
    assert_eq!(drain(&mut call)[0], Output::FinishMessage { voiced: true });
    assert!(call.is_over());
}

#[test]
fn lost_media_or_a_missing_ack_ends_the_call_with_a_bye() {
    let (mut call, clock) = start_with(plan());
    call.handle(Input::AckTimeout, clock.at(32.0));
    assert_eq!(
        drain(&mut call),
        vec![Output::HangUpCaller, Output::End(EndCause::AckTimeout)]
    );
    let (mut call, clock) = waiting();
    call.handle(Input::MediaTimeout, clock.at(40.0));
    assert_eq!(
        drain(&mut call),
        vec![
            acd(|call| AcdEvent::CallAbandoned { call }),
            Output::HangUpCaller,
            Output::End(EndCause::MediaTimeout),
        ]
    );
    let (mut call, clock) = bridged();
    call.handle(seat(1, SeatEvent::MediaTimeout), clock.at(40.0));
    assert_eq!(
        drain(&mut call)[..2],
        [Output::HangUpLeg(LegId(1)), Output::Unbridge]
    );
    assert_eq!(drain(&mut call), vec![]);
    assert!(call.is_over());
}

fn with_menu() -> Dialplan {
    let mut plan = plan();
    plan.queues.menus.insert(
        KUNMING.into(),
        crate::dialplan::Menu {
            platform: KUNMING.into(),
            prompt: "menu.wav".into(),
            timeout: Duration::from_secs(5),
            choices: [('1', "530100-x".to_string())].into(),
        },
    );
    plan
}

#[test]
fn a_menu_key_during_the_greeting_chooses_the_queue() {
    let (mut call, clock) = start_with(with_menu());
    call.handle(Input::Ack { open: true }, clock.at(0.0));
    assert_eq!(
        drain(&mut call),
        vec![
            Output::Hold(None),
            play(&["welcome-530100.wav", "menu.wav"])
        ]
    );
    call.handle(Input::Dtmf('1'), clock.at(1.0));
    assert_eq!(
        drain(&mut call),
        vec![
            Output::JoinQueue("530100-x".into()),
            Output::Hold(Some(HOLD_PROMPT.into())),
        ]
    );
}

#[test]
fn no_key_after_the_menu_leads_to_the_platforms_queue() {
    let (mut call, clock) = start_with(with_menu());
    call.handle(Input::Ack { open: true }, clock.at(0.0));
    call.handle(Input::PlayDone, clock.at(4.0));
    drain(&mut call);
    assert_eq!(call.poll_timeout(), Some(clock.at(9.0)));
    call.handle_timeout(clock.at(9.0));
    assert_eq!(drain(&mut call)[0], Output::JoinQueue(KUNMING.into()));
    // A caller who hangs up in the menu is owed a callback.
    let (mut call, clock) = start_with(with_menu());
    call.handle(Input::Ack { open: true }, clock.at(0.0));
    drain(&mut call);
    call.handle(Input::CallerBye, clock.at(2.0));
    assert_eq!(
        drain(&mut call),
        vec![Output::RequestCallback, Output::End(EndCause::CallerHangup)]
    );
}

#[test]
fn a_call_ignores_inputs_after_its_end() {
    let (mut call, clock) = waiting();
    call.handle(Input::CallerBye, clock.at(5.0));
    drain(&mut call);
    call.handle(Input::CallerBye, clock.at(6.0));
    call.handle(ring("1001"), clock.at(6.0));
    call.handle_timeout(clock.at(7200.0));
    assert!(drain(&mut call).is_empty());
}

#[test]
fn after_a_crash_a_message_is_due_as_when_it_was_left_and_an_empty_one_is_dropped() {
    use super::recovery::{interrupted_message, MessageRecovery};
    let plan = plan();
    let at = |s: &str| s.parse::<chrono::DateTime<chrono::Utc>>().unwrap();
    // Left at 02:00 on a Saturday (China Standard Time), found by a restart on Monday: due
    // before 10:00 that Saturday, the first staffed opening after it, not after the restart.
    let left = at("2026-11-27T18:00:00Z");
    assert_eq!(
        interrupted_message(&plan, KUNMING, left, 8000),
        MessageRecovery::Keep {
            callback_due: at("2026-11-28T02:00:00Z")
        }
    );
    assert_eq!(
        interrupted_message(&plan, KUNMING, left, 0),
        MessageRecovery::Discard
    );
}

mod parties;
mod self_service;
