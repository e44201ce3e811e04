//! The same behaviours on both storage backends: sled in a temp dir and PostgreSQL (a
//! database per test on the local server, see `support/postgres.rs`). Each scenario is
//! one function run twice, `sled::name` and `postgres::name`; then the CLI on both,
//! and what only a shared database can do (two stores open on it at once).

use crate::support::postgres::TestDatabase;
use crate::support::{TestApp, TestData, sample_dirs, sportello, sportello_ok};
use chrono::Duration;
use sportello::accounts::{ApiToken, Operator, Role, Session};
use sportello::config::Config;
use sportello::domain::{ChannelKind, CustomerId, OutboundKind, TicketStatus};
use sportello::store::{Contact, Held, MailboxMark, Note, Store, StoreError, Turn};

/// `mod sled` and `mod postgres`, each with one test per scenario.
macro_rules! on_both_backends {
    ($($scenario:ident),* $(,)?) => {
        mod sled {
            $(#[test]
            fn $scenario() {
                let data = crate::support::TestData::Dir(tempfile::tempdir().unwrap());
                super::$scenario(super::app_on(data));
            })*
        }
        mod postgres {
            $(#[test]
            fn $scenario() {
                let data = crate::support::TestData::Database(
                    crate::support::postgres::TestDatabase::new(),
                );
                super::$scenario(super::app_on(data));
            })*
        }
    };
}

on_both_backends!(
    a_redelivered_message_is_stored_once,
    a_turn_on_a_stale_conversation_or_ticket_writes_nothing,
    the_queue_keeps_its_order_and_places,
    replies_wait_in_the_outbox_until_delivered_or_given_up,
    a_hold_released_before_its_template_stays_released,
    accounts_sessions_and_tokens_behave_alike,
    what_channels_keep_per_customer_round_trips,
    notes_and_the_transcript_after_a_line,
);

fn app_on(data: TestData) -> TestApp {
    TestApp::on(data, sample_dirs(), Config::default())
}

fn a_redelivered_message_is_stored_once(mut app: TestApp) {
    let inbound = app.inbound("terminal:dup", "come posso pagare?");
    let first = app.service.handle_inbound(&inbound).unwrap();
    assert!(!first.duplicate);
    let again = app.service.handle_inbound(&inbound).unwrap();
    assert!(again.duplicate, "a redelivery is recognised");
    let store = app.service.store();
    assert!(store.seen(&inbound.customer, &inbound.message_id).unwrap());
    let lines = store.transcript(&inbound.customer).unwrap();
    assert_eq!(
        lines.len(),
        2,
        "the question and its answer, once: {lines:?}"
    );
    assert!(
        lines[0].verdict.is_some(),
        "the message carries the bot's verdict"
    );
    // The same message committed directly is refused as a duplicate.
    let conv = store.conversation(&inbound.customer).unwrap().unwrap();
    let mut turn = Turn::new(conv);
    turn.inbound = Some(inbound.clone());
    match store.commit(&turn) {
        Err(StoreError::Duplicate(id)) => assert_eq!(id, inbound.message_id),
        other => panic!("a duplicate went through: {other:?}"),
    }
}

fn a_turn_on_a_stale_conversation_or_ticket_writes_nothing(mut app: TestApp) {
    app.say("terminal:v", "voglio parlare con una persona");
    let store = app.service.store().clone();
    let stale = app.queue()[0].clone();
    let customer = stale.customer.clone();
    let read_before = store.conversation(&customer).unwrap().unwrap();
    app.service.claim(stale.id, "anna", app.now()).unwrap();
    let fresh = store.ticket(stale.id).unwrap().unwrap();
    assert_eq!(fresh.version, stale.version + 1);
    let mut late = stale.clone();
    late.status = TicketStatus::Closed;
    let mut turn = Turn::new(store.conversation(&customer).unwrap().unwrap());
    turn.tickets.push(late);
    assert!(matches!(store.commit(&turn), Err(StoreError::Conflict)));
    assert!(matches!(
        store.commit(&Turn::new(read_before)),
        Err(StoreError::Conflict)
    ));
    assert_eq!(
        store.ticket(stale.id).unwrap().unwrap(),
        fresh,
        "nothing written"
    );
    let mut now = fresh.clone();
    now.status = TicketStatus::Closed;
    let mut turn = Turn::new(store.conversation(&customer).unwrap().unwrap());
    turn.tickets.push(now);
    assert_eq!(store.commit(&turn).unwrap(), 3, "conversation and ticket");
    assert!(
        store.queue().unwrap().is_empty(),
        "closed: out of the queue"
    );
}

fn the_queue_keeps_its_order_and_places(mut app: TestApp) {
    for (i, who) in ["terminal:q1", "terminal:q2", "terminal:q3"]
        .iter()
        .enumerate()
    {
        let out = app.say(who, "voglio parlare con un operatore");
        let place = format!("numero {}", i + 1);
        assert!(out[0].text.contains(&place), "{who}: {}", out[0].text);
    }
    let queue = app.queue();
    let order: Vec<&str> = queue.iter().map(|t| t.customer.as_str()).collect();
    assert_eq!(order, ["terminal:q1", "terminal:q2", "terminal:q3"]);
    let store = app.service.store().clone();
    assert_eq!(store.queue_position(&queue[2]).unwrap(), 3);
    app.service.claim(queue[0].id, "anna", app.now()).unwrap();
    assert_eq!(store.queue_position(&queue[2]).unwrap(), 2, "one claimed");
    let claims = store.recent_claims(&queue[0].department, 5).unwrap();
    assert_eq!(claims.len(), 1, "{claims:?}");
    assert_eq!(claims[0].0, queue[0].opened_at);
    assert_eq!(store.tickets_of(&queue[1].customer).unwrap().len(), 1);
    let next = store.next_ticket_id().unwrap();
    assert!(next.0 > queue[2].id.0, "ticket numbers only grow");
}

fn replies_wait_in_the_outbox_until_delivered_or_given_up(mut app: TestApp) {
    // Sent, not delivered (`say` would deliver them).
    app.send("terminal:o", "come posso pagare?");
    app.send("telegram:77", "quanto costa la spedizione?");
    let store = app.service.store().clone();
    let telegram = CustomerId::parse("telegram:77").unwrap();
    assert_eq!(
        store.outbox_customers(ChannelKind::Telegram).unwrap(),
        std::slice::from_ref(&telegram)
    );
    let pending = store.pending_outbox(&telegram).unwrap();
    assert_eq!(pending.len(), 1, "{pending:?}");
    let at = app.now();
    assert!(store.fail_outbox(&pending[0].0, "blocked", at).unwrap());
    assert!(
        !store.fail_outbox(&pending[0].0, "again", at).unwrap(),
        "gone"
    );
    let failed = store.failed_outbox(&telegram).unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].reason, "blocked");
    assert_eq!(failed[0].outbound, pending[0].1);
    assert!(store.pending_outbox(&telegram).unwrap().is_empty());
    app.send("telegram:77", "e i tempi di consegna?");
    let pending = store.pending_outbox(&telegram).unwrap();
    assert_eq!(pending.len(), 1);
    store.ack_outbox(&pending[0].0).unwrap();
    assert!(store.pending_outbox(&telegram).unwrap().is_empty());
    assert!(
        store
            .outbox_customers(ChannelKind::Telegram)
            .unwrap()
            .is_empty()
    );
}

fn a_hold_released_before_its_template_stays_released(app: TestApp) {
    let store = app.service.store().clone();
    let who = CustomerId::parse("whatsapp:393331112222").unwrap();
    let held = Held {
        reason: "outside the 24-hour window".into(),
        since: app.now(),
        template_sent: false,
    };
    store.hold(&who, &held).unwrap();
    assert!(store.template_sent(&who, "template ok").unwrap());
    let now_held = store.held(&who).unwrap().unwrap();
    assert!(now_held.template_sent);
    assert_eq!(now_held.reason, "template ok");
    store.release(&who).unwrap();
    assert!(
        !store.template_sent(&who, "late").unwrap(),
        "released stays so"
    );
    assert_eq!(store.held(&who).unwrap(), None);
}

fn accounts_sessions_and_tokens_behave_alike(app: TestApp) {
    let store = app.service.store().clone();
    let now = app.now();
    let anna = Operator {
        name: "anna".into(),
        role: Role::Admin,
        departments: vec!["assistenza".into()],
        password_hash: "not a real hash".into(),
        created_at: now,
        account: "account-anna".into(),
    };
    assert!(!store.has_admin().unwrap());
    assert!(store.add_operator(&anna).unwrap());
    assert!(!store.add_operator(&anna).unwrap(), "the name is taken");
    assert!(store.has_admin().unwrap());
    let session = Session {
        operator: "anna".into(),
        account: "account-anna".into(),
        csrf: "c".into(),
        expires_at: now + Duration::hours(1),
    };
    store.put_session("digest-1", &session).unwrap();
    assert!(store.session("digest-1", now).unwrap() == Some(session.clone()));
    assert!(
        store
            .session("digest-1", now + Duration::hours(2))
            .unwrap()
            .is_none(),
        "expired"
    );
    store.put_session("digest-2", &session).unwrap();
    let token = ApiToken {
        operator: "anna".into(),
        account: "account-anna".into(),
        label: "script".into(),
        created_at: now,
        last_used_at: None,
        expires_at: None,
    };
    let secret = store.issue_api_token(&token).unwrap();
    let digest = sportello::accounts::digest(&secret);
    assert_eq!(store.api_token(&digest).unwrap(), Some(token.clone()));
    store.touch_api_token(&digest, &token, now).unwrap();
    assert_eq!(
        store.api_token(&digest).unwrap().unwrap().last_used_at,
        Some(now)
    );
    let listed = store.api_tokens_of("account-anna").unwrap();
    assert_eq!(listed.len(), 1);
    // A stale edit of the account is refused; a current one goes, ending sessions.
    let mut renamed = anna.clone();
    renamed.departments = vec!["logistica".into()];
    assert!(store.replace_operator(&anna, &renamed, true).unwrap());
    assert!(
        !store.replace_operator(&anna, &renamed, true).unwrap(),
        "stale"
    );
    assert!(store.session("digest-2", now).unwrap().is_none(), "ended");
    assert!(
        store
            .revoke_api_token("account-anna", &listed[0].0)
            .unwrap()
    );
    assert_eq!(store.api_token(&digest).unwrap(), None);
    store.issue_api_token(&token).unwrap();
    store.put_session("digest-3", &session).unwrap();
    // The only admin stays; once there is another, she can go.
    let last = store.remove_operator("anna");
    assert!(matches!(last, Err(StoreError::LastAdmin(_))), "{last:?}");
    let boss = Operator {
        name: "boss".into(),
        account: "account-boss".into(),
        ..anna.clone()
    };
    assert!(store.add_operator(&boss).unwrap());
    assert!(store.remove_operator("anna").unwrap());
    assert!(store.operator("anna").unwrap().is_none());
    assert!(store.api_tokens_of("account-anna").unwrap().is_empty());
    assert!(store.session("digest-3", now).unwrap().is_none());
    let key = store.server_key().unwrap();
    assert!(key.len() >= 32, "{key}");
    assert_eq!(store.server_key().unwrap(), key, "made once");
    assert_eq!(store.canned().unwrap(), None);
}

fn what_channels_keep_per_customer_round_trips(app: TestApp) {
    let store = app.service.store().clone();
    let who = CustomerId::parse("web:abc").unwrap();
    store
        .update_contact(&who, &|_| {
            Some(Contact {
                email: "a@example.it".into(),
                since: app.now(),
                followed_up: None,
            })
        })
        .unwrap();
    assert_eq!(store.contact(&who).unwrap().unwrap().email, "a@example.it");
    store.update_contact(&who, &|_| None).unwrap();
    assert_eq!(store.contact(&who).unwrap(), None);
    let mail = CustomerId::parse("email:a@example.it").unwrap();
    store
        .update_email_thread(&mail, &|t| t.extend(["one@x".to_owned()]))
        .unwrap();
    store
        .update_email_thread(&mail, &|t| t.extend(["two@x".to_owned()]))
        .unwrap();
    assert_eq!(
        store.email_thread(&mail).unwrap().unwrap().references,
        ["one@x", "two@x"]
    );
    let mark = MailboxMark {
        uid_validity: 7,
        last_uid: 42,
    };
    store.set_mailbox_mark("INBOX", mark).unwrap();
    assert_eq!(store.mailbox_mark("INBOX").unwrap(), Some(mark));
    // A lower mark written late (another process read less) leaves it; a new
    // UIDVALIDITY (the folder was rebuilt) starts it again.
    let behind = MailboxMark {
        uid_validity: 7,
        last_uid: 40,
    };
    store.set_mailbox_mark("INBOX", behind).unwrap();
    assert_eq!(store.mailbox_mark("INBOX").unwrap(), Some(mark));
    let rebuilt = MailboxMark {
        uid_validity: 8,
        last_uid: 3,
    };
    store.set_mailbox_mark("INBOX", rebuilt).unwrap();
    assert_eq!(store.mailbox_mark("INBOX").unwrap(), Some(rebuilt));
    let meta = sportello::store::AttachmentMeta {
        id: "att1".into(),
        customer: who.clone(),
        filename: "foto.png".into(),
        content_type: "image/png".into(),
        size: 3,
        at: app.now(),
    };
    store.put_attachment(&meta, b"png").unwrap();
    assert_eq!(
        store.attachment("att1").unwrap(),
        Some((meta, b"png".to_vec()))
    );
    assert_eq!(store.attachment("nope").unwrap(), None);
}

fn notes_and_the_transcript_after_a_line(mut app: TestApp) {
    app.say("terminal:n", "come posso pagare?");
    let store = app.service.store().clone();
    let who = CustomerId::parse("terminal:n").unwrap();
    let all = store.transcript_after(&who, 0).unwrap();
    assert_eq!(all.len(), 2);
    app.say("terminal:n", "e la spedizione?");
    let after = store.transcript_after(&who, all[1].0).unwrap();
    assert_eq!(after.len(), 2, "only the new lines: {after:?}");
    assert!(after[0].0 > all[1].0);
    let note = Note {
        at: app.now(),
        operator: "anna".into(),
        text: "cliente abituale".into(),
    };
    store.add_note(&who, &note).unwrap();
    assert_eq!(store.notes(&who).unwrap(), [note]);
    assert_eq!(store.events_of(&who).unwrap().len(), 2, "two decisions");
}

/// A made-up fortnight, then the same commands on both: the same report, the same
/// queue, the same customer record, and a consistent store.
#[test]
fn the_cli_says_the_same_on_sled_and_on_postgresql() {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDatabase::new();
    let demo = ["demo", "--days", "14", "--until", "2026-03-31"];
    let period = [
        "report",
        "--from",
        "2026-03-20",
        "--to",
        "2026-03-31",
        "--json",
    ];
    let mut said = Vec::new();
    for data in [dir.path().to_owned(), db.data()] {
        sportello_ok(&data, &demo);
        let report = sportello_ok(&data, &period);
        let queue = sportello_ok(&data, &["queue", "list"]);
        // Without the waiting time: the two runs are not at the same minute.
        let queue: Vec<String> = queue
            .lines()
            .map(|l| {
                let mut words: Vec<&str> = l.split_whitespace().collect();
                words.remove(3);
                words.join(" ")
            })
            .collect();
        let first = queue
            .get(1)
            .and_then(|l| l.split_whitespace().nth(4))
            .expect("the demo leaves tickets open")
            .to_owned();
        let customer = sportello_ok(&data, &["customer", "show", &first, "--json"]);
        let check = sportello_ok(&data, &["check", "--store"]);
        assert!(check.contains("store: 0 problems"), "{check}");
        said.push((report, queue, customer));
    }
    assert_eq!(said[0].0, said[1].0, "the report");
    assert_eq!(said[0].1, said[1].1, "the queue");
    assert_eq!(said[0].2, said[1].2, "the customer record");
}

/// Two processes on one database: a customer written by one is read by the other,
/// and two operators claiming one ticket from both, at once, make one claim.
#[test]
fn two_stores_open_on_one_database_share_everything_and_claim_once() {
    let db = TestDatabase::new();
    for round in 0..5 {
        let mut a = app_on(TestData::Shared(db.data()));
        let b = app_on(TestData::Shared(db.data()));
        let who = format!("terminal:race{round}");
        a.say(&who, "voglio parlare con un operatore");
        let customer = CustomerId::parse(&who).unwrap();
        let seen_by_b = b.service.store().conversation(&customer).unwrap();
        assert!(seen_by_b.is_some(), "b reads what a wrote");
        let ticket = b
            .queue()
            .into_iter()
            .find(|t| t.customer == customer)
            .expect("b sees a's ticket");
        let now = a.now();
        let (sa, sb) = (&a.service, &b.service);
        let won: Vec<_> = std::thread::scope(|s| {
            let claims = [
                s.spawn(move || sa.claim(ticket.id, "anna", now)),
                s.spawn(move || sb.claim(ticket.id, "marco", now)),
            ];
            claims
                .into_iter()
                .map(|c| c.join().unwrap())
                .filter(Result::is_ok)
                .collect()
        });
        assert_eq!(won.len(), 1, "round {round}: exactly one claim wins");
    }
}

/// The server cutting every connection (a restart, a failover) costs no customer an
/// answer afterwards: the pool lets the dead connections go and opens new ones, also
/// the one it opened first (it was once not counted, and letting it go underflowed).
#[test]
fn connections_the_server_cut_are_replaced() {
    let db = TestDatabase::new();
    let mut app = app_on(TestData::Shared(db.data()));
    assert!(
        !app.say("terminal:cut", "quanto costa la spedizione?")
            .is_empty()
    );
    for round in 0..3 {
        assert!(
            db.cut_connections() > 0,
            "round {round}: connections to cut"
        );
        // The connections' driver notices each end as the server closes the socket.
        std::thread::sleep(std::time::Duration::from_secs(1));
        let who = format!("terminal:cut{round}");
        let said = app.say(&who, "quanto costa la spedizione?");
        assert_eq!(said.len(), 1, "round {round}: {said:?}");
        assert_eq!(said[0].kind, OutboundKind::Answer);
    }
    // A URL without a database would have written the shop into the server's own.
    let bare = format!("{}/", crate::support::postgres::server());
    match Store::open(std::path::Path::new(&bare)) {
        Err(e) => assert!(e.to_string().contains("names no database"), "{e}"),
        Ok(_) => panic!("{bare} opened"),
    }
}

/// The shop keeps an admin across processes: two instances demoting (or removing) the
/// last two admins at once leave one, the other refused as `LastAdmin`; one store alone
/// (sled) refuses the same.
#[test]
fn two_instances_taking_away_the_last_two_admins_at_once_leave_one() {
    let departments = vec!["assistenza".to_owned()];
    let now = chrono::Utc::now();
    let admin = |name: &str| {
        Operator::new(
            name,
            "una password lunga",
            Role::Admin,
            &departments,
            &departments,
            now,
        )
        .unwrap()
    };
    let (anna, bruno) = (admin("anna"), admin("bruno"));
    let demoted = |op: &Operator| Operator {
        role: Role::Operator,
        ..op.clone()
    };
    let admins = |store: &Store| {
        let ops = store.operators().unwrap();
        ops.into_iter().filter(|o| o.role == Role::Admin).count()
    };
    for round in 0..4 {
        let db = TestDatabase::new();
        let (a, b) = (
            Store::open(&db.data()).unwrap(),
            Store::open(&db.data()).unwrap(),
        );
        assert!(a.add_operator(&anna).unwrap() && a.add_operator(&bruno).unwrap());
        let results: Vec<Result<bool, StoreError>> = std::thread::scope(|s| {
            let first = s.spawn(|| a.replace_operator(&anna, &demoted(&anna), false));
            let second = s.spawn(|| match round % 2 {
                0 => b.replace_operator(&bruno, &demoted(&bruno), false),
                _ => b.remove_operator("bruno"),
            });
            [first.join().unwrap(), second.join().unwrap()].into()
        });
        let refused = results
            .iter()
            .filter(|r| matches!(r, Err(StoreError::LastAdmin(_))))
            .count();
        let done = results.iter().filter(|r| matches!(r, Ok(true))).count();
        assert_eq!((done, refused), (1, 1), "round {round}: {results:?}");
        assert_eq!(admins(&a), 1, "round {round}");
    }
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    assert!(store.add_operator(&anna).unwrap() && store.add_operator(&bruno).unwrap());
    assert!(
        store
            .replace_operator(&anna, &demoted(&anna), false)
            .unwrap()
    );
    let last = store.replace_operator(&bruno, &demoted(&bruno), false);
    assert!(
        matches!(last, Err(StoreError::LastAdmin(ref n)) if n == "bruno"),
        "{last:?}"
    );
    let last = store.remove_operator("bruno");
    assert!(matches!(last, Err(StoreError::LastAdmin(_))), "{last:?}");
    assert!(store.remove_operator("anna").unwrap(), "an operator goes");
    assert_eq!(admins(&store), 1);
}

/// A customer's outbox lease stays with a live holder; once the holder is gone (its
/// connections closed, as a killed process's are) another process takes it over at
/// once, long before the lease would have run out.
#[test]
fn a_gone_process_outbox_lease_is_taken_over_at_once() {
    let db = TestDatabase::new();
    let who = CustomerId::parse("whatsapp:393331112222").unwrap();
    let a = Store::open(&db.data()).unwrap();
    let b = Store::open(&db.data()).unwrap();
    assert!(a.lease_outbox(&who).unwrap());
    assert!(a.lease_outbox(&who).unwrap(), "its holder renews it");
    assert!(!b.lease_outbox(&who).unwrap(), "held by a live process");
    drop(a);
    let gone = std::time::Instant::now();
    while !b.lease_outbox(&who).unwrap() {
        assert!(
            gone.elapsed() < sportello::store::OUTBOX_LEASE / 3,
            "the lease waited for its time to run out"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let c = Store::open(&db.data()).unwrap();
    assert!(!c.lease_outbox(&who).unwrap(), "now the survivor's");
    b.end_outbox_lease(&who).unwrap();
    assert!(c.lease_outbox(&who).unwrap(), "given back, free");
}

/// A holder whose presence lock the server freed (its connection cut, the process
/// alive) stops renewing its leases, so that it stops delivering while another takes
/// them over; once it holds its lock again it takes leases again.
#[test]
fn a_holder_that_lost_its_presence_lock_renews_nothing() {
    use crate::support::postgres::{count, execute};
    let db = TestDatabase::new();
    let who = CustomerId::parse("whatsapp:393331113333").unwrap();
    let a = Store::open(&db.data()).unwrap();
    assert!(a.lease_outbox(&who).unwrap());
    let presence = "FROM pg_locks l JOIN pg_database d ON d.oid = l.database
                    WHERE l.locktype = 'advisory' AND l.granted AND d.datname = current_database()";
    assert_eq!(
        count(&db, &format!("SELECT count(*) {presence}")),
        1,
        "a's lock"
    );
    execute(&db, &format!("SELECT pg_terminate_backend(pid) {presence}"));
    while count(&db, &format!("SELECT count(*) {presence}")) > 0 {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(
        !a.lease_outbox(&who).unwrap(),
        "no renewal without the lock"
    );
    let b = Store::open(&db.data()).unwrap();
    assert!(b.lease_outbox(&who).unwrap(), "taken over at once");
    b.end_outbox_lease(&who).unwrap();
    let back = std::time::Instant::now();
    while !a.lease_outbox(&who).unwrap() {
        assert!(back.elapsed().as_secs() < 30, "a never held its lock again");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// The change listener's connection dropped (a database restart, a cut): it listens
/// again, the process's watchers are told to reload all (what was published meanwhile
/// was not heard), and the other processes' changes reach them again.
#[test]
fn a_listener_that_listens_again_tells_its_watchers_to_reload() {
    use crate::support::postgres::{count, execute};
    let db = TestDatabase::new();
    let a = app_on(TestData::Shared(db.data()));
    let (mut feed, missed) = (a.service.subscribe(), a.service.missed());
    let listeners = "FROM pg_stat_activity WHERE datname = current_database()
                     AND query = 'LISTEN sportello_changes'";
    let waited = std::time::Instant::now();
    while count(&db, &format!("SELECT count(*) {listeners}")) == 0 {
        assert!(
            waited.elapsed().as_secs() < 20,
            "the listener never listened"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(!missed.has_changed().unwrap(), "nothing missed yet");
    execute(
        &db,
        &format!("SELECT pg_terminate_backend(pid) {listeners}"),
    );
    let cut = std::time::Instant::now();
    while !missed.has_changed().unwrap() {
        assert!(cut.elapsed().as_secs() < 20, "the watchers were never told");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let mut b = app_on(TestData::Shared(db.data()));
    b.say("terminal:after-the-gap", "quanto costa la spedizione?");
    let heard = std::time::Instant::now();
    loop {
        match feed.try_recv() {
            Ok(change) if change.customer.as_str() == "terminal:after-the-gap" => break,
            Ok(_) => {}
            Err(_) => {
                assert!(heard.elapsed().as_secs() < 20, "b's change never arrived");
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
        }
    }
}

/// A URL that is not one, a server that is not there: clear errors, nothing created.
#[test]
fn a_bad_database_url_says_what_to_write() {
    let out = sportello(
        std::path::Path::new("postgres://nobody@127.0.0.1:1/shop"),
        &["queue", "list"],
        "",
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("hint:"), "{err}");
    let err = Store::open(std::path::Path::new("postgres://a@b:notaport/x"))
        .err()
        .expect("refused")
        .to_string();
    assert!(err.contains("postgres://USER@HOST:PORT/DATABASE"), "{err}");
}

/// A conversation stored before records had versions reads as version 0, which a
/// PostgreSQL turn takes for one not stored yet: copied there, the customer is still
/// answered (the copy stores it as version 1), never told "busy" again and again.
#[test]
fn a_conversation_from_before_versions_goes_on_after_a_copy_to_postgres() {
    let source = tempfile::tempdir().unwrap();
    let old = serde_json::json!({
        "customer": "telegram:77", "mode": "bot", "lang": "it", "name": "Giulia",
        "low_confidence_streak": 0, "pending_choices": [], "ticket": null,
        "order_numbers": [], "started_at": "2026-11-01T10:00:00Z",
        "updated_at": "2026-11-01T10:00:00Z"
    });
    {
        let db = ::sled::open(source.path()).unwrap();
        db.open_tree("conversations")
            .unwrap()
            .insert("telegram:77", serde_json::to_vec(&old).unwrap())
            .unwrap();
        // The v4 layout, whose records were JSON; opening migrates it.
        db.open_tree("meta")
            .unwrap()
            .insert("version", &4u64.to_be_bytes())
            .unwrap();
        db.flush().unwrap();
    }
    let db = TestDatabase::new();
    copy_ok(&source.path().to_string_lossy(), &db.url);
    let mut app = app_on(TestData::Shared(db.data()));
    let customer = CustomerId::parse("telegram:77").unwrap();
    let copied = app
        .service
        .store()
        .conversation(&customer)
        .unwrap()
        .unwrap();
    assert_eq!(copied.version, 1, "stored, so version 1");
    for text in ["quanto costa la spedizione?", "come posso pagare?"] {
        let got = app.say("telegram:77", text);
        assert_eq!(got.len(), 1, "{got:?}");
        assert_ne!(got[0].kind, OutboundKind::Fallback, "{got:?}");
    }
    let stored = app
        .service
        .store()
        .conversation(&customer)
        .unwrap()
        .unwrap();
    assert_eq!(stored.version, 3);
    assert_eq!(stored.name.as_deref(), Some("Giulia"));
}

/// `sportello ARGS`, again while a sled directory it opens is still locked by a store
/// this test dropped (sled's flusher thread holds the lock a moment after the drop).
fn when_free(args: &[&str]) -> std::process::Output {
    let nowhere = std::path::Path::new("unused");
    let mut out = sportello(nowhere, args, "");
    for _ in 0..100 {
        if !String::from_utf8_lossy(&out.stderr).contains("in use by another") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
        out = sportello(nowhere, args, "");
    }
    out
}

/// `sportello store copy --from FROM --to TO`, which must succeed; what it said.
fn copy_ok(from: &str, to: &str) -> String {
    let out = when_free(&["store", "copy", "--from", from, "--to", to]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Everything a store holds, read through the seam, for comparing two stores.
fn fingerprint(store: &Store) -> String {
    let mut out = String::new();
    let mut customers: Vec<CustomerId> =
        store.conversations().map(|c| c.unwrap().customer).collect();
    customers.sort();
    for who in &customers {
        out += &format!(
            "{who:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n",
            store.conversation(who).unwrap(),
            store.transcript(who).unwrap(),
            store.notes(who).unwrap(),
            store
                .pending_outbox(who)
                .unwrap()
                .into_iter()
                .map(|(_, out)| out)
                .collect::<Vec<_>>(),
            store.failed_outbox(who).unwrap(),
            store.held(who).unwrap(),
            store.unreachable(who).unwrap(),
            store.statuses(who).unwrap(),
            store.contact(who).unwrap(),
            store.email_thread(who).unwrap(),
            store.events_of(who).unwrap(),
        );
    }
    let tickets: Vec<_> = store.tickets().map(Result::unwrap).collect();
    let events: Vec<_> = store.events().map(Result::unwrap).collect();
    let operators: Vec<_> = store
        .operators()
        .unwrap()
        .into_iter()
        .map(|o| (o.name, o.departments, o.account))
        .collect();
    out += &format!(
        "{tickets:?}\n{events:?}\n{operators:?}\n{:?}\n{:?}\n{:?}\n{:?}\n",
        store.api_tokens_of("account-anna").unwrap(),
        store.server_key().unwrap(),
        store.attachment("att1").unwrap(),
        store.mailbox_mark("INBOX").unwrap(),
    );
    out
}

/// A shop with a bit of everything moves from sled to PostgreSQL and back whole, and
/// goes on where it was: the next ticket number and transcript lines follow the old ones.
#[test]
fn store_copy_moves_a_shop_between_backends_whole_and_it_goes_on() {
    let source = tempfile::tempdir().unwrap();
    let mut app = app_on(TestData::Shared(source.path().to_owned()));
    app.say("terminal:anna", "come posso pagare?");
    app.say("terminal:bruno", "voglio parlare con un operatore");
    app.send("telegram:5", "quanto costa la spedizione?");
    let ticket = app.queue()[0].id;
    app.service.claim(ticket, "anna", app.now()).unwrap();
    what_channels_keep_per_customer_round_trips(app);
    let app = app_on(TestData::Shared(source.path().to_owned()));
    a_hold_released_before_its_template_stays_released(app);
    let app = app_on(TestData::Shared(source.path().to_owned()));
    accounts_sessions_and_tokens_behave_alike(app);
    let app = app_on(TestData::Shared(source.path().to_owned()));
    let store = app.service.store().clone();
    let bruno = CustomerId::parse("terminal:bruno").unwrap();
    let note = Note {
        at: app.now(),
        operator: "anna".into(),
        text: "richiamare".into(),
    };
    store.add_note(&bruno, &note).unwrap();
    let before = fingerprint(&store);
    drop((app, store));

    let db = TestDatabase::new();
    let back = tempfile::tempdir().unwrap();
    let back_dir = back.path().join("copy");
    let moved = copy_ok(&source.path().to_string_lossy(), &db.url);
    assert!(moved.contains("check --store: 0 problems"), "{moved}");
    sportello_ok(
        source.path(),
        &[
            "store",
            "copy",
            "--from",
            &db.url,
            "--to",
            &back_dir.to_string_lossy(),
        ],
    );
    for data in [db.data(), back_dir.clone()] {
        let mut app = app_on(TestData::Shared(data.clone()));
        let store = app.service.store().clone();
        assert_eq!(fingerprint(&store), before, "{}", data.display());
        let lines = store.transcript_after(&bruno, 0).unwrap();
        app.say("terminal:carla", "voglio parlare con una persona");
        let newest = app.queue().into_iter().map(|t| t.id.0).max().unwrap();
        assert!(newest > ticket.0, "a new ticket number: {newest}");
        // (A new TestApp numbers its messages from m1 again: this one needs its own id.)
        let mut again = app.inbound("terminal:bruno", "ci siete?");
        again.message_id = "after-the-copy".into();
        app.service.handle_inbound(&again).unwrap();
        let after = store
            .transcript_after(&bruno, lines.last().unwrap().0)
            .unwrap();
        assert_eq!(after.len(), 1, "the new line follows the copied ones");
    }
    let back_arg = back_dir.to_string_lossy().into_owned();
    let refused = when_free(&["store", "copy", "--from", &db.url, "--to", &back_arg]);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("not empty"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    // A mistyped source is not a new empty store to copy: nothing is created.
    let (typo, elsewhere) = (back.path().join("typo"), back.path().join("elsewhere"));
    let (typo_arg, elsewhere_arg) = (typo.to_string_lossy(), elsewhere.to_string_lossy());
    let refused = when_free(&["store", "copy", "--from", &typo_arg, "--to", &elsewhere_arg]);
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success());
    assert!(said.contains(&format!("no store at {typo_arg}")), "{said}");
    assert!(!typo.exists() && !elsewhere.exists());
    // Nor is a folder that holds no store (here the copy's parent).
    let parent = back.path().to_string_lossy();
    let refused = when_free(&["store", "copy", "--from", &parent, "--to", &elsewhere_arg]);
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(said.contains("no store at"), "{said}");
    assert!(!back.path().join("db").exists() && !elsewhere.exists());
}

/// A copy that stops part way (here at a damaged record of the source, after thousands
/// were written) leaves a target every command refuses, on either backend, with what to
/// do; once the source is mended and the target deleted, the copy goes through.
#[test]
fn a_copy_that_stops_part_way_leaves_a_target_every_command_refuses() {
    let source = tempfile::tempdir().unwrap();
    let mut app = app_on(TestData::Shared(source.path().to_owned()));
    for n in 0..500 {
        app.say(&format!("terminal:c{n}"), "quanto costa la spedizione?");
    }
    drop(app);
    // Operators are read out after conversations, messages and events.
    let db = ::sled::open(source.path()).unwrap();
    let operators = db.open_tree("operators").unwrap();
    operators
        .insert("zz-damaged", b"not a record".as_slice())
        .unwrap();
    db.flush().unwrap();
    drop((operators, db));

    let from = source.path().to_string_lossy().into_owned();
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("copy");
    let pg = TestDatabase::new();
    for to in [dir.to_string_lossy().into_owned(), pg.url.clone()] {
        let failed = when_free(&["store", "copy", "--from", &from, "--to", &to]);
        let said = String::from_utf8_lossy(&failed.stderr);
        assert!(!failed.status.success(), "{said}");
        assert!(
            said.contains("corrupt record in operators") && said.contains("marked unfinished"),
            "{said}"
        );
        let target = Store::open_existing(std::path::Path::new(&to));
        assert!(matches!(target, Err(StoreError::Incomplete(_))), "{to}");

        for out in [
            sportello(std::path::Path::new(&to), &["report"], ""),
            sportello(std::path::Path::new(&to), &["queue", "list"], ""),
            when_free(&["store", "copy", "--from", &to, "--to", "elsewhere"]),
        ] {
            let said = String::from_utf8_lossy(&out.stderr);
            assert!(!out.status.success(), "{said}");
            assert!(
                said.contains("unfinished `store copy`") && said.contains("delete it"),
                "{said}"
            );
        }
        let again = when_free(&["store", "copy", "--from", &from, "--to", &to]);
        let said = String::from_utf8_lossy(&again.stderr);
        assert!(said.contains("unfinished `store copy`"), "{said}");
    }
    assert!(!crate::support::repo().join("elsewhere").exists());

    let db = ::sled::open(source.path()).unwrap();
    db.open_tree("operators")
        .unwrap()
        .remove("zz-damaged")
        .unwrap();
    db.flush().unwrap();
    drop(db);
    // Part of the shop was written (batches of 2,000 records) before the stop, and the
    // end of the copy (the indexes built from what was copied) never came.
    let raw = ::sled::open(&dir).unwrap();
    let (conversations, indexed) = (
        raw.open_tree("conversations").unwrap().len(),
        raw.open_tree("history").unwrap().len(),
    );
    assert!(
        conversations > 0 && indexed == 0,
        "{conversations} {indexed}"
    );
    drop(raw);
    std::fs::remove_dir_all(&dir).unwrap();
    let moved = copy_ok(&from, &dir.to_string_lossy());
    assert!(moved.contains("check --store: 0 problems"), "{moved}");
    let copied = Store::open_existing(&dir).unwrap();
    assert_eq!(copied.conversations().count(), 500);
}

/// What one process stores shows in the other's live feed (the consoles' and web
/// chats' updates) within a second, not only on their next reload.
#[test]
fn a_message_to_one_process_reaches_the_other_processes_live_feed() {
    let db = TestDatabase::new();
    let mut a = app_on(TestData::Shared(db.data()));
    let b = app_on(TestData::Shared(db.data()));
    let mut feed = b.service.subscribe();
    // The listener connects in the background: say things until one is heard.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let heard = loop {
        a.say("terminal:live", "voglio parlare con un operatore");
        let waited = std::time::Instant::now();
        let mut got = None;
        while got.is_none() && waited.elapsed() < std::time::Duration::from_secs(1) {
            match feed.try_recv() {
                Ok(change) => got = Some(change),
                Err(_) => std::thread::sleep(std::time::Duration::from_millis(10)),
            }
        }
        if got.is_some() || std::time::Instant::now() > deadline {
            break got;
        }
    };
    let change = heard.expect("b heard nothing of a's messages within 10 s");
    assert_eq!(change.customer.as_str(), "terminal:live");
    assert!(
        change.from_customer || change.ticket.is_some(),
        "{change:?}"
    );
}

/// The promise and SLA timers live in the tickets: two processes firing them at the
/// same moment tell a late customer once (the second one's turn conflicts, reads the
/// ticket again and finds the news told).
#[test]
fn two_processes_firing_their_timers_together_tell_a_late_customer_once() {
    use sportello::domain::EventKind;
    let db = TestDatabase::new();
    for round in 0..4 {
        let mut a = app_on(TestData::Shared(db.data()));
        let b = app_on(TestData::Shared(db.data()));
        let who = format!("terminal:late{round}");
        a.say(&who, "voglio parlare con un operatore");
        let customer = CustomerId::parse(&who).unwrap();
        let ticket = a
            .queue()
            .into_iter()
            .find(|t| t.customer == customer)
            .unwrap();
        let late = ticket.promise.expect("a promise was made").due + Duration::minutes(1);
        let (sa, sb) = (&a.service, &b.service);
        let told: usize = std::thread::scope(|s| {
            let fired = [
                s.spawn(move || sa.fire_due(late)),
                s.spawn(move || sb.fire_due(late)),
            ];
            fired
                .into_iter()
                .map(|f| {
                    let told = f.join().unwrap().unwrap();
                    told.iter().filter(|c| **c == customer).count()
                })
                .sum()
        });
        assert_eq!(told, 1, "round {round}: told once between the two");
        let broken = a
            .service
            .store()
            .events_of(&customer)
            .unwrap()
            .into_iter()
            .filter(|e| matches!(e.kind, EventKind::PromiseBroken { .. }))
            .count();
        assert_eq!(broken, 1, "round {round}");
        assert_eq!(a.delivered(&who).len(), 1, "one update for the customer");
    }
}

/// The shared limits keep the in-memory rules (`web/limits.rs`): a key at its limit
/// refuses everything asked with it until the window ends; a success gives an attempt
/// back; a rate refuses past its max within the window, whichever process asks.
#[test]
fn abuse_limits_shared_by_two_processes_keep_the_rules_of_one() {
    let db = TestDatabase::new();
    let (a, b) = (
        Store::open(&db.data()).unwrap(),
        Store::open(&db.data()).unwrap(),
    );
    let (la, lb) = (a.shared_limits().unwrap(), b.shared_limits().unwrap());
    let lockout = std::time::Duration::from_secs(900);
    let keys = [("pair:anna@1", 3), ("ip:1", 20)];
    assert_eq!(la.login_attempt(&keys, lockout).unwrap(), Ok(vec![0, 0]));
    assert_eq!(lb.login_attempt(&keys, lockout).unwrap(), Ok(vec![1, 1]));
    la.login_succeeded(&["pair:anna@1", "ip:1"]).unwrap();
    assert_eq!(lb.login_attempt(&keys, lockout).unwrap(), Ok(vec![1, 1]));
    assert_eq!(la.login_attempt(&keys, lockout).unwrap(), Ok(vec![2, 2]));
    let wait = lb.login_attempt(&keys, lockout).unwrap().unwrap_err();
    assert!((899..=901).contains(&wait), "{wait}");
    assert!(
        la.login_attempt(&[("ip:1", 20)], lockout).unwrap().is_ok(),
        "the address alone is not locked"
    );
    la.login_clear("pair:anna@1").unwrap();
    assert_eq!(lb.login_attempt(&keys, lockout).unwrap(), Ok(vec![0, 4]));
    let window = std::time::Duration::from_secs(60);
    for process in [la, lb, la] {
        assert_eq!(
            process.rate_allow(&[("chat:v1", 3)], window).unwrap(),
            Ok(())
        );
    }
    let wait = lb
        .rate_allow(&[("chat:v1", 3)], window)
        .unwrap()
        .unwrap_err();
    assert!((59..=61).contains(&wait), "{wait}");
    assert_eq!(
        la.rate_allow(&[("chat:v2", 3)], window).unwrap(),
        Ok(()),
        "per key"
    );
}

/// A customer flooding through two instances fills one bucket: past the burst the
/// messages are held (stored, not answered) whichever instance they reach.
#[test]
fn a_flood_through_two_processes_is_paced_as_through_one() {
    let db = TestDatabase::new();
    let mut a = app_on(TestData::Shared(db.data()));
    let b = app_on(TestData::Shared(db.data()));
    let at = a.now();
    let mut held = 0;
    for i in 0..16 {
        let mut message = a.inbound("telegram:4242", "ciao ciao ciao");
        (message.at, message.message_id) = (at, format!("flood-{i}"));
        let service = if i % 2 == 0 { &a.service } else { &b.service };
        let handled = service.handle_inbound(&message).unwrap();
        if handled.reason.starts_with("held") {
            held += 1;
        }
    }
    // A bucket of 12 shared: 4 held. Each process alone would have held none (8 each).
    assert_eq!(held, 4, "the burst is counted across both processes");
    let who = CustomerId::parse("telegram:4242").unwrap();
    assert_eq!(
        b.service
            .store()
            .transcript(&who)
            .unwrap()
            .iter()
            .filter(|l| l.text == "ciao ciao ciao")
            .count(),
        16,
        "every message stored"
    );
}

/// A database a newer Sportello migrated is refused with a hint, not written to.
#[test]
fn a_database_with_a_newer_schema_is_refused_with_a_hint() {
    let db = TestDatabase::new();
    let store = Store::open(&db.data()).unwrap();
    assert_eq!(
        store.layout_version().unwrap(),
        sportello::store::postgres::SCHEMA_VERSION
    );
    drop(store);
    crate::support::postgres::execute(&db, "UPDATE meta SET value = '99' WHERE key = 'version'");
    let err = Store::open(&db.data()).err().expect("refused").to_string();
    assert!(
        err.contains("schema v99") && err.contains("hint: upgrade"),
        "{err}"
    );
}
