//! Property test: whatever customers and operators do, in any order, the conversation's
//! mode and its tickets agree, and the bot never talks while a person owns the chat
//! (beyond saying, now and then, that the message is with the request).

use crate::support::TestApp;
use proptest::prelude::*;
use sportello::domain::{CustomerId, Mode, OutboundKind, TicketStatus};

#[derive(Debug, Clone)]
enum Step {
    Customer(&'static str),
    Claim(&'static str),
    Reply(&'static str),
    Release(&'static str),
    Close(&'static str),
}

const MESSAGES: &[&str] = &[
    "quanto costa la spedizione?",
    "voglio parlare con un operatore",
    "è una vergogna",
    "annulla",
    "reso",
    "1",
    "trattore agricolo",
    "grazie",
];
const OPERATORS: &[&str] = &["anna", "marco"];

fn step() -> impl Strategy<Value = Step> {
    let msg = proptest::sample::select(MESSAGES);
    let op = proptest::sample::select(OPERATORS);
    prop_oneof![
        3 => msg.prop_map(Step::Customer),
        1 => op.clone().prop_map(Step::Claim),
        1 => op.clone().prop_map(Step::Reply),
        1 => op.clone().prop_map(Step::Release),
        1 => op.prop_map(Step::Close),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, .. ProptestConfig::default() })]

    #[test]
    fn mode_and_tickets_always_agree(steps in proptest::collection::vec(step(), 1..24)) {
        let mut app = TestApp::new();
        let who = "telegram:99";
        let customer = CustomerId::parse(who).unwrap();
        for step in steps {
            let before = app.service.store().conversation(&customer).unwrap().map(|c| c.mode);
            let ticket = app.queue().first().map(|t| t.id);
            let now = app.now();
            match (&step, ticket) {
                (Step::Customer(text), _) => {
                    let out = app.say(who, text);
                    let bot_spoke = out.iter().any(|m| !matches!(m.kind, OutboundKind::Operator | OutboundKind::Cancelled | OutboundKind::Waiting));
                    // While queued, an FAQ answer is allowed (the place is kept); with an
                    // operator on the conversation the bot never speaks.
                    // (An operator's reply or a queue notice, "back in the queue", still
                    // waiting in the outbox is delivered with it: it is not the bot's.)
                    let answered_in_queue = before == Some(Mode::Queued)
                        && out
                            .iter()
                            .filter(|m| !matches!(m.kind, OutboundKind::Operator | OutboundKind::Waiting))
                            .all(|m| m.kind == OutboundKind::Answer);
                    if before == Some(Mode::Queued) {
                        prop_assert!(!out.is_empty(), "a queued customer heard nothing");
                    }
                    if before.is_some_and(Mode::human_owned) && !answered_in_queue {
                        prop_assert!(!bot_spoke, "the bot talked over a person: {out:?}");
                    } else {
                        prop_assert!(!out.is_empty(), "a message got no reply");
                    }
                }
                (Step::Claim(op), Some(id)) => { let _ = app.service.claim(id, op, now); }
                (Step::Reply(op), Some(id)) => { let _ = app.service.reply(id, op, "ok", now); }
                (Step::Release(op), Some(id)) => { let _ = app.service.release(id, op, now); }
                (Step::Close(op), Some(id)) => { let _ = app.service.close(id, op, now); app.delivered(who); }
                (_, None) => {}
            }
            let conv = app.service.store().conversation(&customer).unwrap();
            let open: Vec<_> = app.service.store().tickets().map(Result::unwrap).filter(|t| t.is_open()).collect();
            prop_assert!(open.len() <= 1, "two open tickets: {open:?}");
            let mode = conv.as_ref().map_or(Mode::Bot, |c| c.mode);
            match (mode, open.first()) {
                (Mode::Queued, Some(t)) => prop_assert_eq!(t.status, TicketStatus::Queued),
                (Mode::WithOperator, Some(t)) => prop_assert_eq!(t.status, TicketStatus::Claimed),
                (Mode::Bot | Mode::Closed, None) => {}
                (mode, t) => prop_assert!(false, "mode {:?} with open ticket {:?}", mode, t),
            }
            prop_assert_eq!(conv.and_then(|c| c.ticket), open.first().map(|t| t.id));
        }
    }
}
