//! Others joining a call in virtual time: another hotline (three-party and blind), a colleague
//! consulted, a supervisor listening, whispering and barging in.

use super::*;

fn operator() -> Actor {
    actor(Role::Operator, "1001")
}

fn police() -> Hotline {
    Hotline {
        number: "110".into(),
        name: "公安报警".into(),
        dial: "110".into(),
    }
}

fn hand_over(three_party: bool, also_ours: bool) -> Input {
    Input::Action(Action::HandOver {
        hotline: police(),
        three_party,
        also_ours,
        by: operator(),
    })
}

fn member(party: Party, heard_by: Hearers) -> Member {
    Member {
        party,
        heard_by,
        hears: true,
    }
}

fn leg(n: u32) -> Party {
    Party::Leg(LegId(n))
}

fn audit(action: &'static str, detail: &str) -> Output {
    Output::Audit {
        by: operator(),
        action,
        detail: detail.into(),
    }
}

#[test]
fn a_three_party_call_with_110_lets_each_hear_the_others_and_the_operator_leave() {
    let (mut call, clock) = bridged();
    call.handle(hand_over(true, false), clock.at(20.0));
    assert_eq!(
        drain(&mut call),
        vec![
            Output::Dial {
                leg: LegId(2),
                to: Dest::Number("110".into())
            },
            audit("hand-over", "110 公安报警 (three-party): dialling"),
            Output::ReplyAction(Ok("dialling")),
        ]
    );
    // Leaving before 110 answered is refused: the caller would be alone.
    call.handle(
        Input::Action(Action::Leave { by: operator() }),
        clock.at(21.0),
    );
    assert_eq!(
        drain(&mut call),
        vec![Output::ReplyAction(Err(
            "no other hotline has answered in this call".into()
        ))]
    );
    call.handle(seat(2, SeatEvent::Answered), clock.at(25.0));
    assert_eq!(
        drain(&mut call),
        vec![
            Output::HandedOver {
                hotline: police(),
                also_ours: false,
                by: operator()
            },
            audit("hand-over", "110 公安报警 answered (three-party)"),
            Output::Room(vec![
                everyone(Party::Caller),
                everyone(leg(1)),
                everyone(leg(2))
            ]),
        ]
    );
    let parties = call.parties();
    assert_eq!(parties[1].role, "hotline");
    assert_eq!(parties[1].state, "up");
    // The operator leaves: the caller stays with 110, recorded as a call of its own.
    call.handle(
        Input::Action(Action::Leave { by: operator() }),
        clock.at(60.0),
    );
    assert_eq!(
        drain(&mut call),
        vec![
            Output::ReplyAction(Ok("left")),
            Output::HangUpLeg(LegId(1)),
            audit("hand-over-operator-left", "110"),
            Output::Unbridge,
            released(1, "handed-over"),
            Output::Acd(AcdEvent::Transferred {
                call: ID.into(),
                to: "110".into()
            }),
            Output::Bridge(LegId(2)),
        ]
    );
    assert_eq!(call.phase(), "other-hotline");
    // 110 hangs up: the call ends, the caller is hung up.
    call.handle(seat(2, SeatEvent::Bye), clock.at(120.0));
    assert_eq!(
        drain(&mut call),
        vec![
            reply(2, LegReply::Ok),
            Output::Unbridge,
            released(2, "completed"),
            Output::HangUpCaller,
            Output::End(EndCause::AgentHangup),
        ]
    );
}

#[test]
fn the_operator_hanging_up_in_a_three_party_call_leaves_the_caller_with_110() {
    let (mut call, clock) = bridged();
    call.handle(hand_over(true, true), clock.at(20.0));
    call.handle(seat(2, SeatEvent::Answered), clock.at(25.0));
    drain(&mut call);
    call.handle(seat(1, SeatEvent::Bye), clock.at(40.0));
    let out = drain(&mut call);
    assert_eq!(out[0], reply(1, LegReply::Ok));
    assert!(!out.contains(&Output::HangUpLeg(LegId(1))), "{out:?}");
    assert!(out.contains(&Output::Bridge(LegId(2))), "{out:?}");
    assert_eq!(call.phase(), "other-hotline");
    // The caller hangs up: 110's leg is hung up too.
    call.handle(Input::CallerBye, clock.at(50.0));
    assert_eq!(
        drain(&mut call),
        vec![
            Output::HangUpLeg(LegId(2)),
            Output::Unbridge,
            released(2, "completed"),
            Output::End(EndCause::CallerHangup),
        ]
    );
}

#[test]
fn a_three_party_call_110_does_not_answer_goes_on_with_the_operator() {
    let (mut call, clock) = bridged();
    call.handle(hand_over(true, false), clock.at(20.0));
    drain(&mut call);
    // 110 is busy: the operator and the caller simply talk on.
    call.handle(seat(2, SeatEvent::Declined(486)), clock.at(22.0));
    assert_eq!(
        drain(&mut call),
        vec![
            released(2, "declined 486"),
            audit("hand-over-failed", "110: declined 486"),
            Output::Room(vec![everyone(Party::Caller), everyone(leg(1))]),
        ]
    );
    // A second try rings out: given up after the caller's ring time (40 s).
    call.handle(hand_over(true, false), clock.at(30.0));
    drain(&mut call);
    assert_eq!(call.poll_timeout(), Some(clock.at(70.0)));
    call.handle_timeout(clock.at(70.0));
    let out = drain(&mut call);
    assert_eq!(
        out[..2],
        [Output::CancelLeg(LegId(3)), released(3, "no-answer")]
    );
    assert_eq!(call.phase(), "bridged");
}

#[test]
fn a_blind_hand_over_waits_for_110_and_returns_the_caller_to_the_queue_if_it_fails() {
    let (mut call, clock) = bridged();
    call.handle(hand_over(false, false), clock.at(20.0));
    assert_eq!(
        drain(&mut call),
        vec![
            Output::ReplyAction(Ok("handing over")),
            audit("hand-over", "110 公安报警 (blind)"),
            Output::HangUpLeg(LegId(1)),
            Output::Unbridge,
            released(1, "handed-over"),
            Output::Acd(AcdEvent::Transferred {
                call: ID.into(),
                to: "110".into()
            }),
            play(&[TRANSFER_PROMPT]),
            Output::Hold(Some(HOLD_PROMPT.into())),
            Output::Dial {
                leg: LegId(2),
                to: Dest::Number("110".into())
            },
        ]
    );
    // No answer: the caller is never dropped.
    call.handle(seat(2, SeatEvent::NoResponse), clock.at(52.0));
    let out = drain(&mut call);
    assert_eq!(
        out[..3],
        [
            released(2, "no-answer"),
            audit("hand-over-failed", "110: no-answer"),
            Output::JoinQueue(KUNMING.into()),
        ]
    );
    assert_eq!(call.phase(), "waiting");
}

#[test]
fn a_blind_hand_over_that_110_answers_bridges_and_records_the_case() {
    let (mut call, clock) = bridged();
    call.handle(hand_over(false, false), clock.at(20.0));
    drain(&mut call);
    call.handle(seat(2, SeatEvent::Answered), clock.at(24.0));
    assert_eq!(
        drain(&mut call),
        vec![
            Output::HandedOver {
                hotline: police(),
                also_ours: false,
                by: operator()
            },
            audit("hand-over", "110 公安报警 answered"),
            Output::Bridge(LegId(2)),
        ]
    );
    // The API may ask nothing more of this call.
    call.handle(
        Input::Action(Action::Leave { by: operator() }),
        clock.at(30.0),
    );
    assert_eq!(
        drain(&mut call),
        vec![Output::ReplyAction(Err(
            "the caller was handed to another hotline".into()
        ))]
    );
}

fn consult(agent: &str) -> Input {
    Input::Action(Action::Consult {
        agent: agent.into(),
        reservation: "call-1#consult-1".into(),
        by: operator(),
    })
}

fn released_reservation() -> Output {
    Output::Acd(AcdEvent::Released {
        call: "call-1#consult-1".into(),
    })
}

#[test]
fn a_consultation_holds_the_caller_then_hands_them_to_the_colleague() {
    let (mut call, clock) = bridged();
    call.handle(consult("1002"), clock.at(20.0));
    assert_eq!(
        drain(&mut call),
        vec![
            Output::Hold(Some(HOLD_PROMPT.into())),
            Output::Dial {
                leg: LegId(2),
                to: Dest::Seat("1002".into())
            },
            audit("consult", "1002"),
            Output::Room(vec![everyone(leg(1))]),
            Output::ReplyAction(Ok("dialling")),
        ]
    );
    // Completing before the colleague answers is refused; holding is the consultation's.
    call.handle(
        Input::Action(Action::CompleteConsult { by: operator() }),
        clock.at(21.0),
    );
    assert_eq!(
        drain(&mut call),
        vec![Output::ReplyAction(Err(
            "the colleague has not answered yet".into()
        ))]
    );
    call.handle(Input::Hold(false), clock.at(21.5));
    assert_eq!(
        drain(&mut call),
        vec![Output::ReplyHold(Err(
            "the caller is on hold for a consultation"
        ))]
    );
    // The colleague answers: the two operators talk, the caller hears hold music.
    call.handle(seat(2, SeatEvent::Answered), clock.at(24.0));
    assert_eq!(
        drain(&mut call),
        vec![Output::Room(vec![everyone(leg(1)), everyone(leg(2))])]
    );
    call.handle(
        Input::Action(Action::CompleteConsult { by: operator() }),
        clock.at(40.0),
    );
    assert_eq!(
        drain(&mut call),
        vec![
            Output::ReplyAction(Ok("transferred")),
            Output::HangUpLeg(LegId(1)),
            released(1, "transferred"),
            Output::Unbridge,
            Output::Acd(AcdEvent::Handed {
                call: ID.into(),
                reservation: "call-1#consult-1".into()
            }),
            audit("consult-transferred", "1001 → 1002"),
            Output::Bridge(LegId(2)),
            Output::Room(vec![everyone(Party::Caller), everyone(leg(2))]),
        ]
    );
    // The colleague is the operator now: their hang-up ends the call (with a rating).
    call.handle(seat(2, SeatEvent::Bye), clock.at(90.0));
    let out = drain(&mut call);
    assert!(out.contains(&released(2, "completed")), "{out:?}");
    assert_eq!(call.phase(), "rating");
}

#[test]
fn a_consultation_the_colleague_does_not_answer_returns_the_caller() {
    let (mut call, clock) = bridged();
    call.handle(consult("1002"), clock.at(20.0));
    drain(&mut call);
    // The seat rings for 15 s at most.
    assert_eq!(call.poll_timeout(), Some(clock.at(35.0)));
    call.handle_timeout(clock.at(35.0));
    assert_eq!(
        drain(&mut call),
        vec![
            Output::CancelLeg(LegId(2)),
            released(2, "no-answer"),
            released_reservation(),
            audit("consult-ended", "1002: no-answer"),
            Output::Room(vec![everyone(Party::Caller), everyone(leg(1))]),
        ]
    );
    // A consultation cancelled by the operator does the same.
    let (mut call, clock) = bridged();
    call.handle(consult("1002"), clock.at(20.0));
    call.handle(seat(2, SeatEvent::Answered), clock.at(22.0));
    drain(&mut call);
    call.handle(
        Input::Action(Action::CancelConsult { by: operator() }),
        clock.at(30.0),
    );
    assert_eq!(
        drain(&mut call),
        vec![
            Output::Room(vec![everyone(Party::Caller), everyone(leg(1))]),
            Output::HangUpLeg(LegId(2)),
            released(2, "consultation-cancelled"),
            released_reservation(),
            audit("consult-cancelled", "1002"),
            Output::ReplyAction(Ok("cancelled")),
        ]
    );
}

#[test]
fn an_operator_who_hangs_up_during_a_consultation_hands_the_caller_over() {
    let (mut call, clock) = bridged();
    call.handle(consult("1002"), clock.at(20.0));
    drain(&mut call);
    call.handle(seat(1, SeatEvent::Bye), clock.at(21.0));
    assert_eq!(
        drain(&mut call),
        vec![reply(1, LegReply::Ok), released(1, "transferred")]
    );
    // The colleague answers: they take the caller.
    call.handle(seat(2, SeatEvent::Answered), clock.at(23.0));
    let out = drain(&mut call);
    assert!(out.contains(&Output::Bridge(LegId(2))), "{out:?}");
    assert_eq!(call.parties()[0].who, "1002");
    // Had the colleague declined, the caller would have gone back to the queue.
    let (mut call, clock) = bridged();
    call.handle(consult("1002"), clock.at(20.0));
    call.handle(seat(1, SeatEvent::Bye), clock.at(21.0));
    drain(&mut call);
    call.handle(seat(2, SeatEvent::Declined(603)), clock.at(23.0));
    let out = drain(&mut call);
    assert!(out.contains(&Output::JoinQueue(KUNMING.into())), "{out:?}");
    assert_eq!(call.phase(), "waiting");
}

fn monitor(mode: MonitorMode) -> Input {
    Input::Action(Action::Monitor {
        seat: "1901".into(),
        mode,
        by: actor(Role::Supervisor, "sup-kunming"),
    })
}

#[test]
fn a_supervisor_listens_whispers_and_barges_in() {
    let sup = || actor(Role::Supervisor, "sup-kunming");
    let (mut call, clock) = bridged();
    call.handle(monitor(MonitorMode::Listen), clock.at(20.0));
    assert_eq!(
        drain(&mut call),
        vec![
            Output::Dial {
                leg: LegId(2),
                to: Dest::Seat("1901".into())
            },
            Output::ReplyAction(Ok("dialling")),
        ]
    );
    call.handle(seat(2, SeatEvent::Answered), clock.at(22.0));
    // Listening: hears both, heard by nobody.
    assert_eq!(
        drain(&mut call),
        vec![
            Output::Audit {
                by: sup(),
                action: "monitor-listen",
                detail: "1901".into()
            },
            Output::Room(vec![
                everyone(Party::Caller),
                everyone(leg(1)),
                member(leg(2), Hearers::Nobody),
            ]),
        ]
    );
    // Whispering: heard by the operator only.
    call.handle(monitor(MonitorMode::Whisper), clock.at(30.0));
    assert_eq!(
        drain(&mut call),
        vec![
            Output::Room(vec![
                everyone(Party::Caller),
                everyone(leg(1)),
                member(leg(2), Hearers::Only(vec![leg(1)])),
            ]),
            Output::Audit {
                by: sup(),
                action: "monitor-whisper",
                detail: "1901".into()
            },
            Output::ReplyAction(Ok("mode changed")),
        ]
    );
    // Barging in: heard by both.
    call.handle(monitor(MonitorMode::Barge), clock.at(40.0));
    let out = drain(&mut call);
    assert_eq!(
        out[0],
        Output::Room(vec![
            everyone(Party::Caller),
            everyone(leg(1)),
            everyone(leg(2)),
        ])
    );
    assert_eq!(call.parties()[1].mode, Some(MonitorMode::Barge));
    // Another supervisor may not take over the call.
    call.handle(
        Input::Action(Action::Monitor {
            seat: "1902".into(),
            mode: MonitorMode::Listen,
            by: actor(Role::Supervisor, "sup-province"),
        }),
        clock.at(41.0),
    );
    assert_eq!(
        drain(&mut call),
        vec![Output::ReplyAction(Err(
            "another supervisor is in this call".into()
        ))]
    );
    // The supervisor leaves through the API; the room is the two again.
    call.handle(
        Input::Action(Action::StopMonitor { by: sup() }),
        clock.at(50.0),
    );
    assert_eq!(
        drain(&mut call),
        vec![
            Output::Room(vec![everyone(Party::Caller), everyone(leg(1))]),
            Output::HangUpLeg(LegId(2)),
            released(2, "stopped"),
            Output::Audit {
                by: sup(),
                action: "monitor-stop",
                detail: "1901".into()
            },
            Output::ReplyAction(Ok("stopped")),
        ]
    );
}

#[test]
fn a_supervisor_who_hangs_up_leaves_and_the_call_end_lets_them_go() {
    let (mut call, clock) = bridged();
    call.handle(monitor(MonitorMode::Listen), clock.at(20.0));
    call.handle(seat(2, SeatEvent::Answered), clock.at(22.0));
    drain(&mut call);
    call.handle(seat(2, SeatEvent::Bye), clock.at(30.0));
    let out = drain(&mut call);
    assert_eq!(out[..2], [reply(2, LegReply::Ok), released(2, "hung-up")]);
    assert!(call.parties().iter().all(|p| p.role != "supervisor"));
    // A supervisor still in the call when the caller hangs up is hung up with the operator.
    call.handle(monitor(MonitorMode::Barge), clock.at(40.0));
    call.handle(seat(3, SeatEvent::Answered), clock.at(41.0));
    drain(&mut call);
    call.handle(Input::CallerBye, clock.at(60.0));
    let out = drain(&mut call);
    assert_eq!(
        out[..2],
        [Output::HangUpLeg(LegId(3)), released(3, "call-ended")]
    );
    assert!(out.contains(&Output::HangUpLeg(LegId(1))));
    assert_eq!(out.last(), Some(&Output::End(EndCause::CallerHangup)));
}

#[test]
fn nothing_is_added_before_the_greeting_ends_and_a_refused_consultation_frees_its_seat() {
    let (mut call, clock) = waiting_with_greeting();
    call.handle(ring("1001"), clock.at(1.0));
    call.handle(seat(1, SeatEvent::Answered), clock.at(2.0));
    call.handle(connect("1001"), clock.at(2.0));
    drain(&mut call);
    call.handle(consult("1002"), clock.at(2.5));
    assert_eq!(
        drain(&mut call),
        vec![
            released_reservation(),
            Output::ReplyAction(Err("the caller is not talking with the operator yet".into())),
        ]
    );
}

#[test]
fn a_refer_with_replaces_hands_the_caller_to_the_consulted_colleague() {
    let (mut call, clock) = bridged();
    call.handle(
        seat(
            1,
            SeatEvent::Replaces {
                agent: "1002".into(),
                reservation: "internal:b1".into(),
            },
        ),
        clock.at(30.0),
    );
    assert_eq!(
        drain(&mut call),
        vec![
            reply(1, LegReply::Accepted),
            Output::Adopt(LegId(2)),
            Output::NotifyTransferred(LegId(1)),
            Output::Unbridge,
            Output::Acd(AcdEvent::Handed {
                call: ID.into(),
                reservation: "internal:b1".into()
            }),
            audit("attended-transfer", "1001 → 1002"),
            Output::Bridge(LegId(2)),
        ]
    );
    assert_eq!(call.parties()[0].who, "1002");
    // The operator hangs up as told; their leg is let go, the call goes on.
    call.handle(seat(1, SeatEvent::Bye), clock.at(30.5));
    assert_eq!(
        drain(&mut call),
        vec![reply(1, LegReply::Ok), released(1, "transferred")]
    );
    assert_eq!(call.phase(), "bridged");
    // Another operator who stays on is hung up after the hand-over time (2 s).
    let (mut call, clock) = bridged();
    call.handle(
        seat(
            1,
            SeatEvent::Replaces {
                agent: "1002".into(),
                reservation: "internal:b2".into(),
            },
        ),
        clock.at(30.0),
    );
    drain(&mut call);
    assert_eq!(call.poll_timeout(), Some(clock.at(32.0)));
    call.handle_timeout(clock.at(32.0));
    assert_eq!(
        drain(&mut call),
        vec![Output::HangUpLeg(LegId(1)), released(1, "transferred")]
    );
}
