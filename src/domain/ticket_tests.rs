//! `Ticket::apply`'s cases: who may do what to a ticket, and that a ticket and its
//! conversation's mode never drift.

use super::*;
use crate::domain::Mode;
use proptest::prelude::*;

/// The mode a conversation must be in while its ticket has `status`.
fn mode_of(status: TicketStatus) -> Mode {
    match status {
        TicketStatus::Queued => Mode::Queued,
        TicketStatus::Claimed => Mode::WithOperator,
        TicketStatus::Closed => Mode::Closed,
        TicketStatus::Cancelled => Mode::Bot,
    }
}

fn event() -> impl Strategy<Value = TicketEvent> {
    let who = prop_oneof![Just("anna".to_owned()), Just("luca".to_owned())];
    let dept = prop_oneof![Just("assistenza".to_owned()), Just("vendite".to_owned())];
    prop_oneof![
        who.clone().prop_map(|by| TicketEvent::Claim { by }),
        who.clone().prop_map(|by| TicketEvent::Reply { by }),
        who.clone().prop_map(|by| TicketEvent::Release { by }),
        (who.clone(), who.clone()).prop_map(|(by, from)| TicketEvent::TakeBack { by, from }),
        (who.clone(), dept)
            .prop_map(|(by, department)| TicketEvent::ToDepartment { by, department }),
        (who.clone(), who.clone())
            .prop_map(|(by, operator)| TicketEvent::ToOperator { by, operator }),
        who.prop_map(|by| TicketEvent::Close { by }),
        Just(TicketEvent::Cancel),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    /// Whatever operators and the customer do, in any order, the ticket and its
    /// conversation's mode stay in step, a refused event changes nothing, and an
    /// ended ticket refuses everything.
    #[test]
    fn ticket_and_mode_never_drift(events in proptest::collection::vec(event(), 0..24)) {
        let mut ticket = Ticket::sample();
        let mut mode = Mode::Queued;
        for (n, event) in events.iter().enumerate() {
            let before = ticket.clone();
            let at = DateTime::UNIX_EPOCH + chrono::Duration::minutes(n as i64 + 1);
            match ticket.apply(event, at) {
                Ok(change) => {
                    prop_assert!(before.is_open(), "{event:?} accepted by an ended ticket");
                    if let Some(change) = change {
                        mode = mode.apply(change).map_err(|e| {
                            TestCaseError::fail(format!("{event:?}: {e}"))
                        })?;
                    }
                }
                Err(_) => prop_assert_eq!(&ticket, &before),
            }
            prop_assert_eq!(mode, mode_of(ticket.status), "after {:?}", event);
            prop_assert_eq!(
                ticket.operator.is_some(),
                matches!(ticket.status, TicketStatus::Claimed | TicketStatus::Closed)
            );
            prop_assert_eq!(ticket.claimed_at.is_some(), before.claimed_at.is_some()
                || ticket.status == TicketStatus::Claimed);
        }
    }
}

#[test]
fn only_the_owner_releases_and_a_claimed_ticket_names_its_owner() {
    let now = DateTime::UNIX_EPOCH;
    let mut t = Ticket::sample();
    let claim = |by: &str| TicketEvent::Claim { by: by.into() };
    assert_eq!(t.apply(&claim("anna"), now), Ok(Some(ModeEvent::Claim)));
    assert_eq!(
        t.apply(&claim("luca"), now),
        Err(TicketError::AlreadyClaimed("anna".into()))
    );
    let release = TicketEvent::Release { by: "luca".into() };
    assert_eq!(
        t.apply(&release, now),
        Err(TicketError::NotYours(Some("anna".into())))
    );
    let same = TicketEvent::ToDepartment {
        by: "anna".into(),
        department: "assistenza".into(),
    };
    assert_eq!(
        t.apply(&same, now),
        Err(TicketError::SameDepartment("assistenza".into()))
    );
    let hand = TicketEvent::ToOperator {
        by: "anna".into(),
        operator: "luca".into(),
    };
    assert_eq!(t.apply(&hand, now), Ok(None), "still with a person");
    assert_eq!(t.operator.as_deref(), Some("luca"));
    assert_eq!(
        t.apply(&TicketEvent::Cancel, now),
        Err(TicketError::AlreadyClaimed("luca".into()))
    );
}

#[test]
fn an_admin_takes_back_a_ticket_someone_else_holds() {
    let now = DateTime::UNIX_EPOCH;
    let mut t = Ticket::sample();
    let take_back = |from: &str| TicketEvent::TakeBack {
        by: "chiara".into(),
        from: from.into(),
    };
    assert_eq!(
        t.apply(&take_back("anna"), now),
        Err(TicketError::NotYours(None)),
        "a queued ticket has nothing to take back"
    );
    t.apply(&TicketEvent::Claim { by: "anna".into() }, now)
        .unwrap();
    assert_eq!(
        t.apply(&take_back("luca"), now),
        Err(TicketError::NotYours(Some("anna".into()))),
        "taken back only from whom the admin saw holding it"
    );
    assert_eq!(
        t.apply(&take_back("anna"), now),
        Ok(Some(ModeEvent::Release))
    );
    assert_eq!(
        (t.status, t.operator.as_deref()),
        (TicketStatus::Queued, None)
    );
    t.apply(&TicketEvent::Claim { by: "luca".into() }, now)
        .unwrap();
    t.apply(&TicketEvent::Close { by: "luca".into() }, now)
        .unwrap();
    assert_eq!(
        t.apply(&take_back("luca"), now),
        Err(TicketError::NotOpen(TicketStatus::Closed))
    );
}
