//! The ACD driven by events and an injected clock, one rule per test.

use std::collections::HashMap;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};

use super::*;

fn t0() -> DateTime<Utc> {
    "2026-11-25T02:00:00Z".parse().unwrap()
}

fn secs(s: i64) -> DateTime<Utc> {
    t0() + Duration::seconds(s)
}

fn queue(strategy: Strategy) -> QueueConfig {
    let mut q = QueueConfig::new("530100", "530100");
    q.strategy = strategy;
    q.ring_timeout = StdDuration::from_secs(15);
    q.wrap_up = StdDuration::from_secs(10);
    q.max_wait = Some(StdDuration::from_secs(120));
    q.announce_every = StdDuration::from_secs(30);
    q
}

/// An ACD with one queue and ready agents who became available in the order given, a second
/// apart (so the first is the longest idle).
fn acd_with(strategy: Strategy, agents: &[&str]) -> Acd {
    let mut acd = Acd::new();
    acd.add_queue(queue(strategy));
    for (i, id) in agents.iter().enumerate() {
        acd.add_agent(Agent::new(id, "530100", HashMap::new(), t0()));
        acd.handle(
            AcdEvent::Login {
                agent: id.to_string(),
            },
            t0(),
        )
        .unwrap();
        acd.handle(
            AcdEvent::Ready {
                agent: id.to_string(),
            },
            t0() - Duration::seconds(100 - i as i64),
        )
        .unwrap();
    }
    drain(&mut acd);
    acd
}

fn drain(acd: &mut Acd) -> (Vec<AcdCommand>, Vec<QueueLogKind>) {
    let mut commands = Vec::new();
    while let Some(c) = acd.poll_command() {
        commands.push(c);
    }
    let mut log = Vec::new();
    while let Some(e) = acd.poll_log() {
        log.push(e.kind);
    }
    (commands, log)
}

fn arrive(acd: &mut Acd, call: &str, at: DateTime<Utc>) {
    acd.handle(
        AcdEvent::CallArrived {
            call: call.into(),
            queue: "530100".into(),
        },
        at,
    )
    .unwrap();
}

fn ring(call: &str, agent: &str) -> AcdCommand {
    AcdCommand::Ring {
        call: call.into(),
        agent: agent.into(),
    }
}

#[test]
fn longest_idle_agent_gets_the_call() {
    let mut acd = acd_with(Strategy::LongestIdle, &["a1", "a2", "a3"]);
    arrive(&mut acd, "c1", secs(0));
    let (cmds, log) = drain(&mut acd);
    assert_eq!(cmds, vec![ring("c1", "a1")]);
    assert_eq!(log, vec![QueueLogKind::EnterQueue]);
    assert_eq!(acd.agent("a1").unwrap().state, AgentState::Ringing);
    acd.handle(
        AcdEvent::Answered {
            call: "c1".into(),
            agent: "a1".into(),
        },
        secs(4),
    )
    .unwrap();
    let (cmds, log) = drain(&mut acd);
    assert_eq!(
        cmds,
        vec![AcdCommand::Connect {
            call: "c1".into(),
            agent: "a1".into()
        }]
    );
    assert_eq!(log, vec![QueueLogKind::Connect { wait_ms: 4000 }]);
    // The next caller goes to a2, now the longest idle.
    arrive(&mut acd, "c2", secs(5));
    assert_eq!(drain(&mut acd).0, vec![ring("c2", "a2")]);
}

#[test]
fn ring_no_answer_moves_on_and_three_misses_make_not_ready() {
    let mut acd = acd_with(Strategy::LongestIdle, &["a1", "a2"]);
    arrive(&mut acd, "c1", secs(0));
    drain(&mut acd);
    assert_eq!(acd.next_deadline(), Some(secs(15)));
    acd.tick(secs(14));
    assert!(drain(&mut acd).0.is_empty(), "still ringing at 14 s");
    acd.tick(secs(15));
    let (cmds, log) = drain(&mut acd);
    assert_eq!(
        cmds,
        vec![
            AcdCommand::StopRinging {
                call: "c1".into(),
                agent: "a1".into()
            },
            ring("c1", "a2"),
        ]
    );
    assert_eq!(log, vec![QueueLogKind::RingNoAnswer { rang_ms: 15000 }]);

    // An agent alone who misses three offers in a row goes not-ready.
    let mut acd = acd_with(Strategy::LongestIdle, &["solo"]);
    arrive(&mut acd, "c1", secs(0));
    for n in 1..=3 {
        acd.tick(secs(15 * n));
    }
    assert_eq!(
        acd.agent("solo").unwrap().state,
        AgentState::NotReady("missed 3 calls in a row".into())
    );
    let (cmds, _) = drain(&mut acd);
    assert_eq!(
        cmds.iter()
            .filter(|c| matches!(c, AcdCommand::Ring { .. }))
            .count(),
        3
    );
}

#[test]
fn wrap_up_is_respected() {
    let mut acd = acd_with(Strategy::LongestIdle, &["a1"]);
    arrive(&mut acd, "c1", secs(0));
    acd.handle(
        AcdEvent::Answered {
            call: "c1".into(),
            agent: "a1".into(),
        },
        secs(2),
    )
    .unwrap();
    acd.handle(
        AcdEvent::CallEnded {
            call: "c1".into(),
            by_agent: false,
        },
        secs(62),
    )
    .unwrap();
    let (_, log) = drain(&mut acd);
    assert_eq!(
        log.last(),
        Some(&QueueLogKind::Complete {
            by_agent: false,
            talk_ms: 60000
        })
    );
    assert_eq!(acd.agent("a1").unwrap().state, AgentState::WrapUp);
    arrive(&mut acd, "c2", secs(63));
    acd.tick(secs(71));
    assert!(
        !drain(&mut acd)
            .0
            .iter()
            .any(|c| matches!(c, AcdCommand::Ring { .. })),
        "in wrap-up until 72 s"
    );
    assert_eq!(acd.next_deadline(), Some(secs(72)));
    acd.tick(secs(72));
    assert_eq!(drain(&mut acd).0, vec![ring("c2", "a1")]);
}

#[test]
fn abandon_is_logged_with_position_and_wait() {
    let mut acd = acd_with(Strategy::LongestIdle, &[]);
    arrive(&mut acd, "c1", secs(0));
    arrive(&mut acd, "c2", secs(1));
    drain(&mut acd);
    acd.handle(AcdEvent::CallAbandoned { call: "c2".into() }, secs(41))
        .unwrap();
    let (_, log) = drain(&mut acd);
    assert_eq!(
        log,
        vec![QueueLogKind::Abandon {
            position: 2,
            wait_ms: 40000
        }]
    );
    assert_eq!(acd.waiting(secs(41)).len(), 1);
}

#[test]
fn overflow_at_max_wait_to_voicemail_or_another_queue() {
    let mut acd = acd_with(Strategy::LongestIdle, &[]);
    arrive(&mut acd, "c1", secs(0));
    drain(&mut acd);
    acd.tick(secs(119));
    assert!(!drain(&mut acd)
        .0
        .iter()
        .any(|c| matches!(c, AcdCommand::Overflow { .. })));
    acd.tick(secs(120));
    let (cmds, log) = drain(&mut acd);
    assert!(cmds.contains(&AcdCommand::Overflow {
        call: "c1".into(),
        to: Overflow::Voicemail
    }));
    assert_eq!(
        log,
        vec![QueueLogKind::Overflow {
            to: "voicemail".into()
        }]
    );

    // Into the provincial queue, where an agent is free.
    let mut acd = acd_with(Strategy::LongestIdle, &[]);
    let mut q = queue(Strategy::LongestIdle);
    q.overflow = Overflow::Queue("530000".into());
    acd.add_queue(q);
    acd.add_queue(QueueConfig::new("530000", "530000"));
    acd.add_agent(Agent::new("p1", "530000", HashMap::new(), t0()));
    acd.handle(AcdEvent::Login { agent: "p1".into() }, t0())
        .unwrap();
    acd.handle(AcdEvent::Ready { agent: "p1".into() }, t0())
        .unwrap();
    arrive(&mut acd, "c1", secs(0));
    drain(&mut acd);
    acd.tick(secs(120));
    let (cmds, log) = drain(&mut acd);
    assert_eq!(cmds, vec![ring("c1", "p1")]);
    assert_eq!(
        log,
        vec![
            QueueLogKind::Overflow {
                to: "530000".into()
            },
            QueueLogKind::EnterQueue
        ]
    );
}

#[test]
fn position_and_wait_are_announced_every_period() {
    let mut acd = acd_with(Strategy::LongestIdle, &[]);
    arrive(&mut acd, "c1", secs(0));
    arrive(&mut acd, "c2", secs(10));
    drain(&mut acd);
    acd.tick(secs(30));
    let (cmds, _) = drain(&mut acd);
    assert_eq!(
        cmds,
        vec![AcdCommand::Announce {
            call: "c1".into(),
            position: 1,
            estimated_wait: StdDuration::from_secs(180)
        }]
    );
    acd.tick(secs(40));
    let (cmds, _) = drain(&mut acd);
    assert_eq!(
        cmds,
        vec![AcdCommand::Announce {
            call: "c2".into(),
            position: 2,
            estimated_wait: StdDuration::from_secs(360)
        }]
    );
}

#[test]
fn ring_all_rings_everyone_and_the_first_answer_wins() {
    let mut acd = acd_with(Strategy::RingAll, &["a1", "a2", "a3"]);
    arrive(&mut acd, "c1", secs(0));
    assert_eq!(
        drain(&mut acd).0,
        vec![ring("c1", "a1"), ring("c1", "a2"), ring("c1", "a3")]
    );
    acd.handle(
        AcdEvent::Answered {
            call: "c1".into(),
            agent: "a2".into(),
        },
        secs(3),
    )
    .unwrap();
    let (cmds, _) = drain(&mut acd);
    assert_eq!(
        cmds,
        vec![
            AcdCommand::StopRinging {
                call: "c1".into(),
                agent: "a1".into()
            },
            AcdCommand::StopRinging {
                call: "c1".into(),
                agent: "a3".into()
            },
            AcdCommand::Connect {
                call: "c1".into(),
                agent: "a2".into()
            },
        ]
    );
    assert_eq!(acd.agent("a1").unwrap().state, AgentState::Available);
    assert_eq!(acd.agent("a2").unwrap().state, AgentState::OnCall);
}

#[test]
fn round_robin_goes_around_the_seats() {
    let mut acd = acd_with(Strategy::RoundRobin, &["a1", "a2", "a3"]);
    let mut rung = Vec::new();
    for n in 0..4 {
        let call = format!("c{n}");
        arrive(&mut acd, &call, secs(n));
        let (cmds, _) = drain(&mut acd);
        let AcdCommand::Ring { agent, .. } = &cmds[0] else {
            panic!("{cmds:?}")
        };
        rung.push(agent.clone());
        acd.handle(
            AcdEvent::Answered {
                call: call.clone(),
                agent: agent.clone(),
            },
            secs(n),
        )
        .unwrap();
        acd.handle(
            AcdEvent::CallEnded {
                call,
                by_agent: true,
            },
            secs(n),
        )
        .unwrap();
        acd.handle(
            AcdEvent::Ready {
                agent: agent.clone(),
            },
            secs(n),
        )
        .unwrap();
        drain(&mut acd);
    }
    assert_eq!(rung, ["a1", "a2", "a3", "a1"]);
}

#[test]
fn fewest_calls_and_skill_based() {
    let mut acd = acd_with(Strategy::FewestCalls, &["a1", "a2"]);
    // a1 takes a call; the next goes to a2 although a1 became available before a2 again.
    arrive(&mut acd, "c1", secs(0));
    acd.handle(
        AcdEvent::Answered {
            call: "c1".into(),
            agent: "a1".into(),
        },
        secs(1),
    )
    .unwrap();
    acd.handle(
        AcdEvent::CallEnded {
            call: "c1".into(),
            by_agent: true,
        },
        secs(2),
    )
    .unwrap();
    acd.handle(AcdEvent::Ready { agent: "a1".into() }, secs(2))
        .unwrap();
    acd.handle(
        AcdEvent::NotReady {
            agent: "a2".into(),
            reason: "break".into(),
        },
        secs(2),
    )
    .unwrap();
    acd.handle(AcdEvent::Ready { agent: "a2".into() }, secs(3))
        .unwrap();
    drain(&mut acd);
    arrive(&mut acd, "c2", secs(4));
    assert_eq!(drain(&mut acd).0, vec![ring("c2", "a2")]);

    // Skill-based: only qualified agents, the most skilled first.
    let mut acd = Acd::new();
    let mut q = queue(Strategy::SkillBased);
    q.skills = HashMap::from([("yi-language".to_string(), 3)]);
    acd.add_queue(q);
    for (id, level) in [("basic", 2u8), ("good", 5), ("expert", 9)] {
        acd.add_agent(Agent::new(
            id,
            "530100",
            HashMap::from([("yi-language".to_string(), level)]),
            t0(),
        ));
        acd.handle(AcdEvent::Login { agent: id.into() }, t0())
            .unwrap();
        acd.handle(AcdEvent::Ready { agent: id.into() }, t0())
            .unwrap();
    }
    drain(&mut acd);
    arrive(&mut acd, "c1", secs(0));
    assert_eq!(drain(&mut acd).0, vec![ring("c1", "expert")]);
    arrive(&mut acd, "c2", secs(0));
    assert_eq!(drain(&mut acd).0, vec![ring("c2", "good")]);
    arrive(&mut acd, "c3", secs(0));
    assert!(drain(&mut acd).0.is_empty(), "basic lacks the level");
}

#[test]
fn every_state_change_is_reported_with_its_time() {
    let mut acd2 = Acd::new();
    acd2.add_queue(queue(Strategy::LongestIdle));
    acd2.add_agent(Agent::new("a1", "530100", HashMap::new(), t0()));
    let mut seen = Vec::new();
    let step = |acd: &mut Acd, seen: &mut Vec<String>| {
        while let Some(c) = acd.poll_state_change() {
            seen.push(c.state.as_str().to_string());
        }
    };
    acd2.handle(AcdEvent::Login { agent: "a1".into() }, secs(1))
        .unwrap();
    step(&mut acd2, &mut seen);
    acd2.handle(AcdEvent::Ready { agent: "a1".into() }, secs(2))
        .unwrap();
    step(&mut acd2, &mut seen);
    arrive(&mut acd2, "c1", secs(3));
    step(&mut acd2, &mut seen);
    acd2.handle(
        AcdEvent::Answered {
            call: "c1".into(),
            agent: "a1".into(),
        },
        secs(4),
    )
    .unwrap();
    step(&mut acd2, &mut seen);
    acd2.handle(
        AcdEvent::CallEnded {
            call: "c1".into(),
            by_agent: true,
        },
        secs(64),
    )
    .unwrap();
    step(&mut acd2, &mut seen);
    acd2.tick(secs(74));
    step(&mut acd2, &mut seen);
    assert_eq!(
        seen,
        [
            "not-ready",
            "available",
            "ringing",
            "on-call",
            "wrap-up",
            "available"
        ]
    );
}

#[test]
fn wrong_events_change_nothing() {
    let mut acd = acd_with(Strategy::LongestIdle, &["a1"]);
    assert_eq!(
        acd.handle(
            AcdEvent::Ready {
                agent: "nobody".into()
            },
            secs(0)
        ),
        Err(AcdError::UnknownAgent("nobody".into()))
    );
    arrive(&mut acd, "c1", secs(0));
    assert_eq!(
        acd.handle(
            AcdEvent::CallArrived {
                call: "c1".into(),
                queue: "530100".into()
            },
            secs(0)
        ),
        Err(AcdError::DuplicateCall("c1".into()))
    );
    assert!(matches!(
        acd.handle(
            AcdEvent::Answered {
                call: "c1".into(),
                agent: "a2".into()
            },
            secs(1)
        ),
        Err(AcdError::NotOffered { .. })
    ));
    assert_eq!(acd.agent("a1").unwrap().state, AgentState::Ringing);
}

fn answer(acd: &mut Acd, call: &str, agent: &str, at: DateTime<Utc>) {
    acd.handle(
        AcdEvent::Answered {
            call: call.into(),
            agent: agent.into(),
        },
        at,
    )
    .unwrap();
    let connect = AcdCommand::Connect {
        call: call.into(),
        agent: agent.into(),
    };
    assert!(drain(acd).0.contains(&connect));
}

fn end(acd: &mut Acd, call: &str, at: DateTime<Utc>) {
    acd.handle(
        AcdEvent::CallEnded {
            call: call.into(),
            by_agent: false,
        },
        at,
    )
    .unwrap();
}

#[test]
fn a_seat_taking_two_calls_gets_a_second_only_when_no_idle_seat_qualifies() {
    let mut acd = Acd::new();
    acd.add_queue(queue(Strategy::LongestIdle));
    // "double" has been idle longest and takes two calls; "single" takes one.
    acd.add_agent(Agent::new("double", "530100", HashMap::new(), t0()).with_max_calls(2));
    acd.add_agent(Agent::new("single", "530100", HashMap::new(), t0()));
    for (i, id) in ["double", "single"].iter().enumerate() {
        let agent = id.to_string();
        acd.handle(
            AcdEvent::Login {
                agent: agent.clone(),
            },
            t0(),
        )
        .unwrap();
        acd.handle(
            AcdEvent::Ready { agent },
            t0() + Duration::seconds(i as i64),
        )
        .unwrap();
    }
    drain(&mut acd);
    arrive(&mut acd, "c1", secs(10));
    assert_eq!(drain(&mut acd).0, vec![ring("c1", "double")]);
    answer(&mut acd, "c1", "double", secs(12));
    // The idle seat comes before a second call for the busy one.
    arrive(&mut acd, "c2", secs(13));
    assert_eq!(drain(&mut acd).0, vec![ring("c2", "single")]);
    answer(&mut acd, "c2", "single", secs(14));
    // Nobody idle: the seat with room takes a second call, "single" (at its one) does not.
    arrive(&mut acd, "c3", secs(15));
    assert_eq!(drain(&mut acd).0, vec![ring("c3", "double")]);
    answer(&mut acd, "c3", "double", secs(16));
    let double = acd.agent("double").unwrap();
    assert_eq!(
        (double.state.clone(), double.on_calls),
        (AgentState::OnCall, 2)
    );
    // Full: a fourth caller waits.
    arrive(&mut acd, "c4", secs(17));
    assert!(drain(&mut acd).0.is_empty(), "both seats are full");
    // One of the two calls ends: still on the other, no wrap-up yet, and room again.
    end(&mut acd, "c1", secs(30));
    assert_eq!(drain(&mut acd).0, vec![ring("c4", "double")]);
    answer(&mut acd, "c4", "double", secs(31));
    end(&mut acd, "c3", secs(40));
    assert_eq!(acd.agent("double").unwrap().state, AgentState::OnCall);
    // The last call ends: now wrap-up.
    end(&mut acd, "c4", secs(50));
    let double = acd.agent("double").unwrap();
    assert_eq!(
        (double.state.clone(), double.on_calls),
        (AgentState::WrapUp, 0)
    );
}

#[test]
fn a_missed_second_offer_does_not_count_towards_not_ready() {
    let mut acd = Acd::new();
    let mut q = queue(Strategy::LongestIdle);
    q.max_missed = 1;
    acd.add_queue(q);
    acd.add_agent(Agent::new("double", "530100", HashMap::new(), t0()).with_max_calls(2));
    acd.handle(
        AcdEvent::Login {
            agent: "double".into(),
        },
        t0(),
    )
    .unwrap();
    acd.handle(
        AcdEvent::Ready {
            agent: "double".into(),
        },
        t0(),
    )
    .unwrap();
    arrive(&mut acd, "c1", secs(0));
    drain(&mut acd);
    answer(&mut acd, "c1", "double", secs(1));
    arrive(&mut acd, "c2", secs(2));
    assert_eq!(acd.agent("double").unwrap().state, AgentState::Ringing);
    // The second offer rings out while the seat talks on the first call: no miss counted
    // (max_missed is 1 here), and the only seat with room is offered the call again.
    acd.tick(secs(17));
    let a = acd.agent("double").unwrap();
    assert_eq!((a.state.clone(), a.missed_in_row), (AgentState::Ringing, 0));
    let (cmds, log) = drain(&mut acd);
    assert!(log.contains(&QueueLogKind::RingNoAnswer { rang_ms: 15000 }));
    assert!(
        cmds.contains(&ring("c2", "double")),
        "offered again: {cmds:?}"
    );
    // The caller who hangs up while it rings leaves the seat on its first call.
    acd.handle(AcdEvent::CallAbandoned { call: "c2".into() }, secs(18))
        .unwrap();
    assert_eq!(acd.agent("double").unwrap().state, AgentState::OnCall);
}

#[test]
fn a_reloaded_seat_keeps_its_state_and_takes_new_skills() {
    let mut acd = acd_with(Strategy::LongestIdle, &["a1"]);
    assert!(acd.update_agent("a1", HashMap::from([("bai-language".into(), 7)]), 2));
    let a = acd.agent("a1").unwrap();
    assert_eq!(a.state, AgentState::Available);
    assert_eq!((a.level("bai-language"), a.max_calls), (7, 2));
    assert!(!acd.update_agent("nobody", HashMap::new(), 1));
}

#[test]
fn changes_within_one_tick_are_each_reported() {
    let mut acd = acd_with(Strategy::LongestIdle, &["a1"]);
    while acd.poll_state_change().is_some() {}
    arrive(&mut acd, "c1", secs(0));
    answer(&mut acd, "c1", "a1", secs(1));
    end(&mut acd, "c1", secs(5));
    // A caller arrives during wrap-up; when it ends (15 s) the seat is free and rung at once.
    arrive(&mut acd, "c2", secs(6));
    acd.tick(secs(15));
    let mut seen = Vec::new();
    while let Some(c) = acd.poll_state_change() {
        seen.push(format!(
            "{} {}",
            c.state.as_str(),
            (c.at - t0()).num_seconds()
        ));
    }
    assert_eq!(
        seen,
        [
            "ringing 0",
            "on-call 1",
            "wrap-up 5",
            "available 15",
            "ringing 15"
        ]
    );
}

#[test]
fn a_seat_whose_phone_goes_mid_call_signs_out_when_the_call_ends() {
    let mut acd = acd_with(Strategy::LongestIdle, &["a1"]);
    arrive(&mut acd, "c1", secs(0));
    // Its phone goes while it rings: the offer stands; the seat is not signed out yet.
    acd.handle(AcdEvent::Logout { agent: "a1".into() }, secs(1))
        .unwrap();
    assert_eq!(acd.agent("a1").unwrap().state, AgentState::Ringing);
    acd.handle(
        AcdEvent::Answered {
            call: "c1".into(),
            agent: "a1".into(),
        },
        secs(2),
    )
    .unwrap();
    assert_eq!(acd.agent("a1").unwrap().state, AgentState::OnCall);
    acd.handle(
        AcdEvent::CallEnded {
            call: "c1".into(),
            by_agent: false,
        },
        secs(30),
    )
    .unwrap();
    // No wrap-up and no next call: the seat has no phone.
    assert_eq!(acd.agent("a1").unwrap().state, AgentState::LoggedOut);
    arrive(&mut acd, "c2", secs(31));
    let (commands, _) = drain(&mut acd);
    assert!(
        !commands.contains(&ring("c2", "a1")),
        "a seat without a phone is not rung: {commands:?}"
    );
    // Signing in again clears it: the waiting call rings the seat.
    acd.handle(AcdEvent::Login { agent: "a1".into() }, secs(40))
        .unwrap();
    acd.handle(AcdEvent::Ready { agent: "a1".into() }, secs(40))
        .unwrap();
    let (commands, _) = drain(&mut acd);
    assert!(commands.contains(&ring("c2", "a1")), "{commands:?}");
}

#[test]
fn a_seat_whose_phone_goes_while_ringing_unanswered_signs_out() {
    let mut acd = acd_with(Strategy::LongestIdle, &["a1"]);
    arrive(&mut acd, "c1", secs(0));
    acd.handle(AcdEvent::Logout { agent: "a1".into() }, secs(1))
        .unwrap();
    acd.handle(
        AcdEvent::Declined {
            call: "c1".into(),
            agent: "a1".into(),
        },
        secs(2),
    )
    .unwrap();
    assert_eq!(acd.agent("a1").unwrap().state, AgentState::LoggedOut);
}

#[test]
fn a_seat_reserved_for_a_callback_is_offered_nothing_else_until_released() {
    let mut acd = acd_with(Strategy::LongestIdle, &["a1", "a2"]);
    // The longest idle free seat is picked, and it is on a call from now on.
    assert_eq!(
        acd.pick_for("cb-1", "530100", secs(0)).as_deref(),
        Some("a1")
    );
    assert_eq!(acd.agent("a1").unwrap().state, AgentState::OnCall);
    assert_eq!(acd.reserved_agent("cb-1"), Some("a1"));
    // A caller now rings a2, never a1.
    arrive(&mut acd, "c1", secs(1));
    assert_eq!(drain(&mut acd).0, vec![ring("c1", "a2")]);
    // While someone waits, no seat is taken for a callback.
    assert_eq!(acd.pick_for("cb-2", "530100", secs(2)), None);
    acd.handle(
        AcdEvent::Answered {
            call: "c1".into(),
            agent: "a2".into(),
        },
        secs(3),
    )
    .unwrap();
    // Released: after-call work, then available.
    acd.handle(
        AcdEvent::Released {
            call: "cb-1".into(),
        },
        secs(60),
    )
    .unwrap();
    assert_eq!(acd.agent("a1").unwrap().state, AgentState::WrapUp);
    acd.tick(secs(70));
    assert_eq!(acd.agent("a1").unwrap().state, AgentState::Available);
    assert!(acd
        .handle(
            AcdEvent::Released {
                call: "cb-1".into()
            },
            secs(71)
        )
        .is_err());
}

#[test]
fn a_not_ready_seat_reserved_by_its_operator_goes_back_to_not_ready() {
    let mut acd = acd_with(Strategy::LongestIdle, &["a1"]);
    acd.handle(
        AcdEvent::NotReady {
            agent: "a1".into(),
            reason: "callbacks".into(),
        },
        secs(0),
    )
    .unwrap();
    acd.reserve("cb-1", "a1", secs(1)).unwrap();
    assert!(
        acd.reserve("cb-2", "a1", secs(2)).is_err(),
        "a seat on a call is not reserved twice"
    );
    acd.handle(
        AcdEvent::Released {
            call: "cb-1".into(),
        },
        secs(30),
    )
    .unwrap();
    assert_eq!(
        acd.agent("a1").unwrap().state,
        AgentState::NotReady("callbacks".into())
    );
    assert!(acd.pick_for("cb-3", "530100", secs(31)).is_none());
}

#[test]
fn a_consultation_completed_hands_the_call_to_the_colleague() {
    let mut acd = acd_with(Strategy::LongestIdle, &["a1", "a2"]);
    arrive(&mut acd, "c1", secs(0));
    drain(&mut acd);
    acd.handle(
        AcdEvent::Answered {
            call: "c1".into(),
            agent: "a1".into(),
        },
        secs(3),
    )
    .unwrap();
    drain(&mut acd);
    acd.reserve("c1#consult", "a2", secs(20)).unwrap();
    acd.handle(
        AcdEvent::Handed {
            call: "c1".into(),
            reservation: "c1#consult".into(),
        },
        secs(40),
    )
    .unwrap();
    let (_, log) = drain(&mut acd);
    assert_eq!(
        log,
        vec![
            QueueLogKind::Handed { to: "a2".into() },
            QueueLogKind::Complete {
                by_agent: true,
                talk_ms: 37_000
            }
        ]
    );
    assert_eq!(acd.agent("a1").unwrap().state, AgentState::WrapUp);
    assert_eq!(acd.agent("a2").unwrap().state, AgentState::OnCall);
    let connected = acd.connected(secs(41));
    assert_eq!(connected[0].agent, "a2");
    acd.handle(
        AcdEvent::CallEnded {
            call: "c1".into(),
            by_agent: false,
        },
        secs(100),
    )
    .unwrap();
    let (_, log) = drain(&mut acd);
    assert_eq!(
        log,
        vec![QueueLogKind::Complete {
            by_agent: false,
            talk_ms: 60_000
        }]
    );
}

#[test]
fn a_caller_who_leaves_for_self_service_is_no_longer_offered() {
    let mut acd = acd_with(Strategy::LongestIdle, &["a1"]);
    arrive(&mut acd, "c1", secs(0));
    assert_eq!(drain(&mut acd).0, vec![ring("c1", "a1")]);
    acd.self_service("c1", secs(2)).unwrap();
    let (cmds, log) = drain(&mut acd);
    assert_eq!(
        cmds,
        vec![AcdCommand::StopRinging {
            call: "c1".into(),
            agent: "a1".into()
        }]
    );
    assert_eq!(log, vec![QueueLogKind::SelfService]);
    assert_eq!(acd.agent("a1").unwrap().state, AgentState::Available);
    assert!(acd.waiting(secs(3)).is_empty());
}
