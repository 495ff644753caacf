//! The [`Store`] contract, one rule per test, written once against `Arc<dyn Store>` and run on
//! every backend: [`contract_tests!`] instantiates each test in [`sqlite`] (a fresh file per
//! test) and in [`postgres`] (a fresh database per test; skipped with a message when no server
//! answers and `RSMEV_TEST_POSTGRES` is unset). [`model`] checks the queue state machine against
//! a trivial in-memory model on both. What only one backend has is tested in its own module:
//! SQLite's file, reopening and group commit; PostgreSQL's several nodes on one database.

use std::sync::Arc;

use rsmev_registry::{
    Grant, InfoType, InfoTypeKind, Mnemonic, Participant, ParticipantStatus, QName, Registry, Service,
};
use time::macros::{date, datetime};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::*;

/// A fresh, empty store of one backend, and what must live as long as it (a temporary folder,
/// a test database that is dropped afterwards).
struct Fixture {
    store: Arc<dyn Store>,
    _keep: Box<dyn Send>,
}

/// Instantiates every contract test below for one backend. `$fresh` is an
/// `async fn() -> Option<Fixture>`; `None` means the backend is not available here and the test
/// is skipped (the fixture says why).
macro_rules! contract_tests {
    ($fresh:path) => {
        contract_tests!(@test $fresh, tokio::test;
            calls_after_close_fail_with_closed,
            accept_stores_the_message_queues_it_and_records_history_and_usage,
            a_duplicate_message_id_is_accepted_once_and_changes_nothing,
            a_full_destination_queue_refuses_the_whole_message,
            an_accepted_response_is_recorded_on_the_request,
            a_rejection_is_history_only,
            times_keep_their_instant_and_absurd_eols_are_clamped_not_fatal,
            lease_hands_out_entries_in_fifo_order,
            lease_returns_the_message_and_records_the_attempt,
            attachments_are_stored_with_the_message_and_leased_with_it_every_time,
            a_refused_message_leaves_no_attachments_behind,
            a_live_lease_hides_the_entry_and_an_expired_one_redelivers_it,
            entries_past_their_eol_are_not_leased,
            a_selector_matches_only_its_entries_and_none_matches_all,
            lease_reads_only_the_owners_queue_of_that_kind,
            ack_removes_the_owners_entry_once_and_for_good,
            an_ack_with_accepted_false_still_removes_the_entry_and_says_so,
            due_expirations_lists_entries_past_eol_oldest_first,
            expire_removes_the_entry_and_queues_the_status_once,
            an_acked_entry_cannot_be_expired,
            queue_depths_count_pending_and_leased_entries,
            trace_shows_the_request_its_events_and_each_response_with_its_events,
            usage_counts_per_day_participant_infotype_and_kind,
            registry_writes_are_read_back_and_bump_the_version,
            xsd_sets_are_stored_whole_and_replace_registry_replaces_everything,
        );
        contract_tests!(@test $fresh, tokio::test(flavor = "multi_thread", worker_threads = 2);
            concurrent_leases_never_hand_out_the_same_entry,
            concurrent_expiries_of_one_entry_succeed_once,
        );
    };
    (@test $fresh:path, $runtime:meta; $($name:ident),* $(,)?) => {$(
        #[$runtime]
        async fn $name() {
            if let Some(fixture) = $fresh().await {
                crate::store::tests::$name(std::sync::Arc::clone(&fixture.store)).await;
            }
        }
    )*};
}

mod model;
mod postgres;
mod sqlite;

const T0: OffsetDateTime = datetime!(2025-03-01 10:00:00 UTC);
const LIMITS: AcceptLimits = AcceptLimits { queue_quota: 1000 };
const LEASE: Duration = Duration::seconds(60);

fn t(secs: i64) -> OffsetDateTime {
    T0 + Duration::seconds(secs)
}

fn m(s: &str) -> Mnemonic {
    Mnemonic::new(s).unwrap()
}

fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

fn qa() -> QName {
    QName::new("urn://x/a/1.0", "ARequest")
}

fn qb() -> QName {
    QName::new("urn://x/b/1.0", "BRequest")
}

fn request(n: u128, sender: &str, qname: Option<QName>) -> NewMessage {
    NewMessage {
        message_id: id(n),
        kind: MessageKind::Request,
        sender: Some(m(sender)),
        qname,
        original_message_id: None,
        reference_message_id: None,
        transaction_code: None,
        eol: None,
        content: format!("<SenderProvidedRequestData Id=\"m{n}\"/>"),
        sender_signature: Some("<ds:Signature/>".into()),
        reply_to: Some(format!("reply-{n}")),
        attachments: Vec::new(),
    }
}

fn response(n: u128, sender: &str, to: u128) -> NewMessage {
    NewMessage {
        kind: MessageKind::Response,
        original_message_id: Some(id(to)),
        reply_to: None,
        ..request(n, sender, Some(QName::new("urn://x/a/1.0", "AResponse")))
    }
}

fn to(owner: &str, queue: QueueKind, selector: Option<QName>) -> Delivery {
    Delivery {
        owner: m(owner),
        queue,
        selector,
    }
}

fn events(h: &[HistoryEvent]) -> Vec<&'static str> {
    h.iter().map(|e| e.event.as_str()).collect()
}

/// Accepts `msg` into `FNS`'s request queue at `now`, asserting it was accepted.
async fn send(store: &dyn Store, msg: &NewMessage, now: OffsetDateTime) {
    let outcome = store
        .accept(
            msg,
            &[to("FNS", QueueKind::Requests, msg.qname.clone())],
            LIMITS,
            now,
        )
        .await
        .unwrap();
    assert_eq!(outcome, AcceptOutcome::Accepted { received_at: now });
}

async fn lease_id(
    store: &dyn Store,
    owner: &str,
    selector: Option<&QName>,
    now: OffsetDateTime,
) -> Option<Uuid> {
    store
        .lease(&m(owner), QueueKind::Requests, selector, now, LEASE)
        .await
        .unwrap()
        .map(|l| l.message.message_id)
}

fn depth(owner: &str, queue: QueueKind, pending: u64, leased: u64) -> QueueDepth {
    QueueDepth {
        owner: m(owner),
        queue,
        pending,
        leased,
    }
}

// ---- closing -------------------------------------------------------------------------------------

async fn calls_after_close_fail_with_closed(store: Arc<dyn Store>) {
    store.close().await;
    let write = store.accept(&request(1, "MFC", None), &[], LIMITS, t(0)).await;
    assert!(matches!(write, Err(StoreError::Closed)), "{write:?}");
    assert!(matches!(store.message(id(1)).await, Err(StoreError::Closed)));
    assert!(matches!(store.ping().await, Err(StoreError::Closed)));
    // A second close is harmless.
    store.close().await;
}

// ---- intake --------------------------------------------------------------------------------------

async fn accept_stores_the_message_queues_it_and_records_history_and_usage(store: Arc<dyn Store>) {
    let mut msg = request(1, "MFC", Some(qa()));
    msg.reference_message_id = Some(id(77));
    msg.transaction_code = Some("TC-1".into());
    msg.eol = Some(t(3600));
    let deliveries = [
        to("FNS", QueueKind::Requests, Some(qa())),
        to("MVD", QueueKind::Requests, None),
    ];
    let outcome = store.accept(&msg, &deliveries, LIMITS, t(0)).await.unwrap();
    assert_eq!(outcome, AcceptOutcome::Accepted { received_at: t(0) });

    let stored = store.message(id(1)).await.unwrap().unwrap();
    assert_eq!(
        stored,
        StoredMessage {
            message_id: msg.message_id,
            kind: msg.kind,
            sender: msg.sender.clone(),
            qname: msg.qname.clone(),
            original_message_id: None,
            reference_message_id: Some(id(77)),
            transaction_code: Some("TC-1".into()),
            eol: Some(t(3600)),
            content: msg.content.clone(),
            sender_signature: msg.sender_signature.clone(),
            reply_to: msg.reply_to.clone(),
            received_at: t(0),
        }
    );

    let history = store.history(id(1)).await.unwrap();
    assert_eq!(events(&history), ["received", "accepted", "queued", "queued"]);
    assert!(
        history
            .iter()
            .all(|e| e.actor == "MFC" && e.at == t(0) && e.message_id == id(1))
    );
    assert_eq!(history[2].detail, "FNS/requests");
    assert_eq!(history[3].detail, "MVD/requests");

    assert_eq!(
        store.queue_depths(None, t(0)).await.unwrap(),
        [
            depth("FNS", QueueKind::Requests, 1, 0),
            depth("MVD", QueueKind::Requests, 1, 0)
        ]
    );
    assert_eq!(
        store
            .usage(date!(2025 - 03 - 01), date!(2025 - 03 - 01))
            .await
            .unwrap(),
        [UsageRow {
            day: date!(2025 - 03 - 01),
            participant: "MFC".into(),
            infotype: "{urn://x/a/1.0}ARequest".into(),
            kind: MessageKind::Request,
            count: 1,
        }]
    );
}

async fn a_duplicate_message_id_is_accepted_once_and_changes_nothing(store: Arc<dyn Store>) {
    let first = request(1, "MFC", Some(qa()));
    send(&*store, &first, t(0)).await;

    let mut again = request(1, "MFC", Some(qa()));
    again.content = "<different/>".into();
    let outcome = store
        .accept(&again, &[to("MVD", QueueKind::Requests, None)], LIMITS, t(5))
        .await
        .unwrap();
    assert_eq!(outcome, AcceptOutcome::Duplicate);

    assert_eq!(
        store.message(id(1)).await.unwrap().unwrap().content,
        first.content
    );
    assert_eq!(
        events(&store.history(id(1)).await.unwrap()),
        ["received", "accepted", "queued"]
    );
    assert_eq!(
        store.queue_depths(None, t(5)).await.unwrap(),
        [depth("FNS", QueueKind::Requests, 1, 0)]
    );
    let usage = store
        .usage(date!(2025 - 03 - 01), date!(2025 - 03 - 01))
        .await
        .unwrap();
    assert_eq!(usage.iter().map(|u| u.count).sum::<u64>(), 1);
}

async fn a_full_destination_queue_refuses_the_whole_message(store: Arc<dyn Store>) {
    let quota = AcceptLimits { queue_quota: 2 };
    for n in 1..=2 {
        let outcome = store
            .accept(
                &request(n, "MFC", None),
                &[to("FNS", QueueKind::Requests, None)],
                quota,
                t(0),
            )
            .await
            .unwrap();
        assert!(matches!(outcome, AcceptOutcome::Accepted { .. }));
    }
    // Leased entries still count against the quota.
    assert!(lease_id(&*store, "FNS", None, t(1)).await.is_some());

    let deliveries = [
        to("MVD", QueueKind::Requests, None),
        to("FNS", QueueKind::Requests, None),
    ];
    let outcome = store
        .accept(&request(3, "MFC", None), &deliveries, quota, t(2))
        .await
        .unwrap();
    assert_eq!(
        outcome,
        AcceptOutcome::Overflow {
            owner: m("FNS"),
            queue: QueueKind::Requests
        }
    );
    assert_eq!(store.message(id(3)).await.unwrap(), None);
    assert_eq!(store.history(id(3)).await.unwrap(), []);
    assert_eq!(
        store.queue_depths(None, t(2)).await.unwrap(),
        [depth("FNS", QueueKind::Requests, 2, 1)]
    );
    let usage = store
        .usage(date!(2025 - 03 - 01), date!(2025 - 03 - 01))
        .await
        .unwrap();
    assert_eq!(usage.iter().map(|u| u.count).sum::<u64>(), 2);

    // Another queue of the same owner has its own quota.
    let outcome = store
        .accept(
            &request(4, "MFC", None),
            &[to("FNS", QueueKind::Responses, None)],
            quota,
            t(3),
        )
        .await
        .unwrap();
    assert!(matches!(outcome, AcceptOutcome::Accepted { .. }));
}

async fn an_accepted_response_is_recorded_on_the_request(store: Arc<dyn Store>) {
    send(&*store, &request(1, "MFC", Some(qa())), t(0)).await;
    let outcome = store
        .accept(
            &response(2, "FNS", 1),
            &[to("MFC", QueueKind::Responses, Some(qa()))],
            LIMITS,
            t(10),
        )
        .await
        .unwrap();
    assert_eq!(outcome, AcceptOutcome::Accepted { received_at: t(10) });

    let history = store.history(id(1)).await.unwrap();
    assert_eq!(
        events(&history),
        ["received", "accepted", "queued", "response-accepted"]
    );
    let last = history.last().unwrap();
    assert_eq!(
        (last.actor.as_str(), last.detail.as_str(), last.at),
        ("FNS", id(2).to_string().as_str(), t(10))
    );
    assert_eq!(
        events(&store.history(id(2)).await.unwrap()),
        ["received", "accepted", "queued"]
    );
}

async fn a_rejection_is_history_only(store: Arc<dyn Store>) {
    let rejection = Rejection {
        message_id: id(1),
        at: t(0),
        actor: "MFC".into(),
        fault: "AccessDenied: MFC may not request {urn://x/a/1.0}ARequest".into(),
    };
    store.record_rejection(&rejection).await.unwrap();
    let history = store.history(id(1)).await.unwrap();
    assert_eq!(events(&history), ["received", "rejected"]);
    assert_eq!(history[1].detail, rejection.fault);
    assert_eq!(store.message(id(1)).await.unwrap(), None);
    // The MessageID was not used up: once fixed, the same message is accepted.
    send(&*store, &request(1, "MFC", None), t(5)).await;
}

async fn times_keep_their_instant_and_absurd_eols_are_clamped_not_fatal(store: Arc<dyn Store>) {
    let moscow = datetime!(2025-03-01 13:00:00.123456789 +03:00);
    let mut msg = request(1, "MFC", None);
    msg.eol = Some(datetime!(2025-03-01 13:30:00 +03:00));
    send(&*store, &msg, moscow).await;
    let stored = store.message(id(1)).await.unwrap().unwrap();
    assert_eq!(stored.received_at, datetime!(2025-03-01 10:00:00.123456789 UTC));
    assert_eq!(stored.eol, Some(datetime!(2025-03-01 10:30:00 UTC)));

    // Past year 9999 in UTC, and before year 0: stored as the nearest representable instant.
    let mut far = request(2, "MFC", None);
    far.eol = Some(datetime!(9999-12-31 23:00:00 -05:00));
    send(&*store, &far, t(0)).await;
    let mut ancient = request(3, "MFC", None);
    ancient.eol = Some(datetime!(-0001-06-01 00:00:00 UTC));
    send(&*store, &ancient, t(0)).await;
    assert_eq!(
        store.message(id(2)).await.unwrap().unwrap().eol,
        Some(datetime!(9999-12-31 23:59:59.999999999 UTC))
    );
    assert_eq!(
        store.message(id(3)).await.unwrap().unwrap().eol,
        Some(datetime!(0000-01-01 00:00:00 UTC))
    );
    let due: Vec<_> = store
        .due_expirations(t(0), 10)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.message.message_id)
        .collect();
    assert_eq!(due, [id(3)]);
}

// ---- delivery ------------------------------------------------------------------------------------

async fn lease_hands_out_entries_in_fifo_order(store: Arc<dyn Store>) {
    for n in [3, 1, 2] {
        send(&*store, &request(n, "MFC", None), t(0)).await;
    }
    let mut order = Vec::new();
    while let Some(leased) = lease_id(&*store, "FNS", None, t(1)).await {
        order.push(leased);
    }
    assert_eq!(order, [id(3), id(1), id(2)]);
}

async fn lease_returns_the_message_and_records_the_attempt(store: Arc<dyn Store>) {
    let msg = request(1, "MFC", Some(qa()));
    send(&*store, &msg, t(0)).await;
    let leased = store
        .lease(&m("FNS"), QueueKind::Requests, None, t(5), LEASE)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(leased.message, store.message(id(1)).await.unwrap().unwrap());
    assert_eq!(
        (leased.owner, leased.queue, leased.attempt),
        (m("FNS"), QueueKind::Requests, 1)
    );
    assert_eq!(leased.lease_until, t(65));
    let last = store.history(id(1)).await.unwrap().pop().unwrap();
    assert_eq!(
        (last.event, last.actor.as_str(), last.at),
        (EventKind::Leased, "FNS", t(5))
    );
    assert_eq!(last.detail, "FNS/requests attempt 1");
}

fn attachment(id: &str, content: &[u8]) -> StoredAttachment {
    StoredAttachment {
        id: id.into(),
        content: content.to_vec(),
    }
}

async fn attachments_are_stored_with_the_message_and_leased_with_it_every_time(store: Arc<dyn Store>) {
    // Every byte value, a large one, and an empty one; in an order that is not the ids' order.
    let every_byte: Vec<u8> = (0..=255).collect();
    let large: Vec<u8> = (0..3 * 1024 * 1024).map(|i: u32| (i % 251) as u8).collect();
    let mut msg = request(1, "MFC", Some(qa()));
    msg.attachments = vec![
        attachment("zeta", &every_byte),
        attachment("alpha", &large),
        attachment("empty", b""),
    ];
    send(&*store, &msg, t(0)).await;
    send(&*store, &request(2, "MFC", Some(qa())), t(0)).await;

    let first = store
        .lease(&m("FNS"), QueueKind::Requests, None, t(1), LEASE)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first.message.message_id, id(1));
    assert_eq!(first.attachments, msg.attachments);
    // A message without attachments has none.
    let other = store
        .lease(&m("FNS"), QueueKind::Requests, None, t(1), LEASE)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((other.message.message_id, other.attachments), (id(2), vec![]));

    // A redelivery carries them again, as does a lease by selector.
    let again = store
        .lease(&m("FNS"), QueueKind::Requests, Some(&qa()), t(61), LEASE)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((again.message.message_id, again.attempt), (id(1), 2));
    assert_eq!(again.attachments, msg.attachments);

    // A duplicate changes nothing, its attachments included.
    let mut duplicate = request(1, "MFC", Some(qa()));
    duplicate.attachments = vec![attachment("zeta", b"other")];
    let outcome = store
        .accept(&duplicate, &[to("MVD", QueueKind::Requests, None)], LIMITS, t(62))
        .await
        .unwrap();
    assert_eq!(outcome, AcceptOutcome::Duplicate);
    let third = store
        .lease(&m("FNS"), QueueKind::Requests, None, t(200), LEASE)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(third.attachments, msg.attachments);
}

async fn a_refused_message_leaves_no_attachments_behind(store: Arc<dyn Store>) {
    let quota = AcceptLimits { queue_quota: 1 };
    let fill = request(1, "MFC", None);
    let outcome = store
        .accept(&fill, &[to("FNS", QueueKind::Requests, None)], quota, t(0))
        .await
        .unwrap();
    assert!(matches!(outcome, AcceptOutcome::Accepted { .. }));

    let mut msg = request(2, "MFC", None);
    msg.attachments = vec![attachment("a", b"refused")];
    let outcome = store
        .accept(&msg, &[to("FNS", QueueKind::Requests, None)], quota, t(1))
        .await
        .unwrap();
    assert!(matches!(outcome, AcceptOutcome::Overflow { .. }));

    // Once there is room, the same MessageID is accepted with the attachments it has now.
    assert_eq!(lease_id(&*store, "FNS", None, t(2)).await, Some(id(1)));
    assert!(
        store
            .ack(
                &m("FNS"),
                AckTarget {
                    message_id: id(1),
                    accepted: true
                },
                t(3)
            )
            .await
            .unwrap()
    );
    msg.attachments = vec![attachment("b", b"accepted")];
    let outcome = store
        .accept(&msg, &[to("FNS", QueueKind::Requests, None)], quota, t(4))
        .await
        .unwrap();
    assert!(matches!(outcome, AcceptOutcome::Accepted { .. }));
    let leased = store
        .lease(&m("FNS"), QueueKind::Requests, None, t(5), LEASE)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(leased.attachments, msg.attachments);
}

async fn a_live_lease_hides_the_entry_and_an_expired_one_redelivers_it(store: Arc<dyn Store>) {
    send(&*store, &request(1, "MFC", None), t(0)).await;
    send(&*store, &request(2, "MFC", None), t(0)).await;

    assert_eq!(lease_id(&*store, "FNS", None, t(0)).await, Some(id(1)));
    assert_eq!(lease_id(&*store, "FNS", None, t(10)).await, Some(id(2)));
    assert_eq!(lease_id(&*store, "FNS", None, t(59)).await, None);

    // The lease of 1 runs until t(60): at that instant it is free again.
    let again = store
        .lease(&m("FNS"), QueueKind::Requests, None, t(60), LEASE)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (again.message.message_id, again.attempt, again.lease_until),
        (id(1), 2, t(120))
    );
    assert_eq!(
        events(&store.history(id(1)).await.unwrap()),
        ["received", "accepted", "queued", "leased", "redelivered"]
    );
    assert_eq!(lease_id(&*store, "FNS", None, t(69)).await, None);
    assert_eq!(lease_id(&*store, "FNS", None, t(70)).await, Some(id(2)));
}

async fn entries_past_their_eol_are_not_leased(store: Arc<dyn Store>) {
    let mut msg = request(1, "MFC", None);
    msg.eol = Some(t(30));
    send(&*store, &msg, t(0)).await;

    assert_eq!(lease_id(&*store, "FNS", None, t(31)).await, None);
    assert_eq!(store.due_expirations(t(30), 10).await.unwrap(), []);
    let due = store.due_expirations(t(31), 10).await.unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!((due[0].message.message_id, &due[0].owner), (id(1), &m("FNS")));
    // At the EOL instant itself the message is still alive.
    assert_eq!(lease_id(&*store, "FNS", None, t(30)).await, Some(id(1)));
}

async fn a_selector_matches_only_its_entries_and_none_matches_all(store: Arc<dyn Store>) {
    send(&*store, &request(1, "MFC", Some(qa())), t(0)).await;
    send(&*store, &request(2, "MFC", Some(qb())), t(0)).await;
    send(&*store, &request(3, "MFC", None), t(0)).await;
    send(&*store, &request(4, "MFC", Some(qb())), t(0)).await;

    assert_eq!(lease_id(&*store, "FNS", Some(&qb()), t(1)).await, Some(id(2)));
    assert_eq!(lease_id(&*store, "FNS", Some(&qa()), t(1)).await, Some(id(1)));
    assert_eq!(lease_id(&*store, "FNS", Some(&qa()), t(1)).await, None);
    assert_eq!(lease_id(&*store, "FNS", None, t(1)).await, Some(id(3)));
    assert_eq!(lease_id(&*store, "FNS", None, t(1)).await, Some(id(4)));
    assert_eq!(lease_id(&*store, "FNS", None, t(1)).await, None);
}

async fn lease_reads_only_the_owners_queue_of_that_kind(store: Arc<dyn Store>) {
    send(&*store, &request(1, "MFC", None), t(0)).await;
    assert_eq!(lease_id(&*store, "MVD", None, t(1)).await, None);
    let other_kind = store
        .lease(&m("FNS"), QueueKind::Responses, None, t(1), LEASE)
        .await
        .unwrap();
    assert_eq!(other_kind, None);
    assert_eq!(lease_id(&*store, "FNS", None, t(1)).await, Some(id(1)));
}

async fn ack_removes_the_owners_entry_once_and_for_good(store: Arc<dyn Store>) {
    send(&*store, &request(1, "MFC", None), t(0)).await;
    assert_eq!(lease_id(&*store, "FNS", None, t(1)).await, Some(id(1)));
    let target = AckTarget {
        message_id: id(1),
        accepted: true,
    };

    assert!(
        !store.ack(&m("MVD"), target, t(2)).await.unwrap(),
        "someone else's entry"
    );
    assert!(store.ack(&m("FNS"), target, t(3)).await.unwrap());
    assert!(
        !store.ack(&m("FNS"), target, t(4)).await.unwrap(),
        "already acked"
    );
    let unknown = AckTarget {
        message_id: id(99),
        accepted: true,
    };
    assert!(!store.ack(&m("FNS"), unknown, t(4)).await.unwrap());

    // Long after the lease would have run out, the entry does not come back.
    assert_eq!(lease_id(&*store, "FNS", None, t(1000)).await, None);
    assert_eq!(store.queue_depths(None, t(1000)).await.unwrap(), []);
    let history = store.history(id(1)).await.unwrap();
    assert_eq!(
        events(&history),
        ["received", "accepted", "queued", "leased", "acked"]
    );
    let acked = history.last().unwrap();
    assert_eq!(
        (acked.actor.as_str(), acked.detail.as_str(), acked.at),
        ("FNS", "FNS/requests", t(3))
    );
}

async fn an_ack_with_accepted_false_still_removes_the_entry_and_says_so(store: Arc<dyn Store>) {
    send(&*store, &request(1, "MFC", None), t(0)).await;
    let target = AckTarget {
        message_id: id(1),
        accepted: false,
    };
    assert!(store.ack(&m("FNS"), target, t(1)).await.unwrap());
    assert_eq!(lease_id(&*store, "FNS", None, t(1000)).await, None);
    let acked = store.history(id(1)).await.unwrap().pop().unwrap();
    assert_eq!(acked.event, EventKind::Acked);
    assert!(acked.detail.contains("not accepted"), "{}", acked.detail);
}

async fn concurrent_leases_never_hand_out_the_same_entry(store: Arc<dyn Store>) {
    for n in 1..=10 {
        send(&*store, &request(n, "MFC", None), t(0)).await;
    }
    let leases: Vec<_> = (0..20)
        .map(|_| {
            let store = Arc::clone(&store);
            tokio::spawn(async move { lease_id(&*store, "FNS", None, t(1)).await })
        })
        .collect();
    let mut got = Vec::new();
    for l in leases {
        got.extend(l.await.unwrap());
    }
    got.sort();
    assert_eq!(got, (1..=10).map(id).collect::<Vec<_>>());
}

// ---- expiry --------------------------------------------------------------------------------------

fn eol_status(n: u128, request: u128) -> NewMessage {
    NewMessage {
        message_id: id(n),
        kind: MessageKind::Response,
        sender: None,
        qname: None,
        original_message_id: Some(id(request)),
        reference_message_id: None,
        transaction_code: None,
        eol: None,
        content: "<AsyncProcessingStatus/>".into(),
        sender_signature: None,
        reply_to: None,
        attachments: Vec::new(),
    }
}

async fn due_expirations_lists_entries_past_eol_oldest_first(store: Arc<dyn Store>) {
    for (n, eol) in [(1, 50), (2, 20), (3, 500), (4, 30)] {
        let mut msg = request(n, "MFC", None);
        msg.eol = Some(t(eol));
        send(&*store, &msg, t(0)).await;
    }
    send(&*store, &request(5, "MFC", None), t(0)).await;

    let due = store.due_expirations(t(100), 10).await.unwrap();
    let ids: Vec<_> = due.iter().map(|e| e.message.message_id).collect();
    assert_eq!(ids, [id(2), id(4), id(1)]);
    let first = store.due_expirations(t(100), 2).await.unwrap();
    assert_eq!(first, due[..2]);
}

async fn expire_removes_the_entry_and_queues_the_status_once(store: Arc<dyn Store>) {
    let mut msg = request(1, "MFC", None);
    msg.eol = Some(t(30));
    send(&*store, &msg, t(0)).await;
    let due = store.due_expirations(t(31), 10).await.unwrap().pop().unwrap();
    let status_to = to("MFC", QueueKind::Responses, None);

    assert!(
        store
            .expire(&due, &eol_status(10, 1), &status_to, t(31))
            .await
            .unwrap()
    );
    assert_eq!(store.due_expirations(t(31), 10).await.unwrap(), []);
    assert_eq!(
        store.queue_depths(None, t(31)).await.unwrap(),
        [depth("MFC", QueueKind::Responses, 1, 0)]
    );
    let history = store.history(id(1)).await.unwrap();
    assert_eq!(
        events(&history),
        ["received", "accepted", "queued", "expired", "response-accepted"]
    );
    assert_eq!(history[3].actor, "node");
    let status = store
        .lease(&m("MFC"), QueueKind::Responses, None, t(32), LEASE)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status.message.message_id, id(10));
    assert_eq!(status.message.sender, None);

    // A second worker expiring the same entry finds it gone and writes nothing.
    assert!(
        !store
            .expire(&due, &eol_status(11, 1), &status_to, t(33))
            .await
            .unwrap()
    );
    assert_eq!(store.message(id(11)).await.unwrap(), None);
    assert_eq!(store.history(id(1)).await.unwrap(), history);
    let usage = store
        .usage(date!(2025 - 03 - 01), date!(2025 - 03 - 01))
        .await
        .unwrap();
    let node: Vec<_> = usage.iter().filter(|u| u.participant == "node").collect();
    assert_eq!(node.len(), 1);
    assert_eq!((node[0].kind, node[0].count), (MessageKind::Response, 1));
}

async fn an_acked_entry_cannot_be_expired(store: Arc<dyn Store>) {
    let mut msg = request(1, "MFC", None);
    msg.eol = Some(t(30));
    send(&*store, &msg, t(0)).await;
    let due = store.due_expirations(t(31), 10).await.unwrap().pop().unwrap();
    let target = AckTarget {
        message_id: id(1),
        accepted: true,
    };
    assert!(store.ack(&m("FNS"), target, t(31)).await.unwrap());
    let status_to = to("MFC", QueueKind::Responses, None);
    assert!(
        !store
            .expire(&due, &eol_status(10, 1), &status_to, t(32))
            .await
            .unwrap()
    );
    assert_eq!(store.message(id(10)).await.unwrap(), None);
}

async fn concurrent_expiries_of_one_entry_succeed_once(store: Arc<dyn Store>) {
    let mut msg = request(1, "MFC", None);
    msg.eol = Some(t(30));
    send(&*store, &msg, t(0)).await;
    let due = store.due_expirations(t(31), 10).await.unwrap().pop().unwrap();

    let workers: Vec<_> = (10..18)
        .map(|n| {
            let (store, due) = (Arc::clone(&store), due.clone());
            tokio::spawn(async move {
                let status_to = to("MFC", QueueKind::Responses, None);
                store
                    .expire(&due, &eol_status(n, 1), &status_to, t(31))
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut wins = 0;
    for w in workers {
        wins += usize::from(w.await.unwrap());
    }
    assert_eq!(wins, 1);
    assert_eq!(
        store.queue_depths(None, t(31)).await.unwrap(),
        [depth("MFC", QueueKind::Responses, 1, 0)]
    );
    let history = store.history(id(1)).await.unwrap();
    assert_eq!(
        history.iter().filter(|e| e.event == EventKind::Expired).count(),
        1
    );
}

// ---- operators -----------------------------------------------------------------------------------

async fn queue_depths_count_pending_and_leased_entries(store: Arc<dyn Store>) {
    for n in 1..=3 {
        send(&*store, &request(n, "MFC", None), t(0)).await;
    }
    store
        .accept(
            &response(4, "FNS", 1),
            &[to("MFC", QueueKind::Responses, None)],
            LIMITS,
            t(0),
        )
        .await
        .unwrap();
    assert!(lease_id(&*store, "FNS", None, t(0)).await.is_some());

    assert_eq!(
        store.queue_depths(None, t(10)).await.unwrap(),
        [
            depth("FNS", QueueKind::Requests, 3, 1),
            depth("MFC", QueueKind::Responses, 1, 0)
        ]
    );
    assert_eq!(
        store.queue_depths(Some(&m("FNS")), t(10)).await.unwrap(),
        [
            depth("FNS", QueueKind::Requests, 3, 1),
            depth("FNS", QueueKind::Responses, 0, 0),
            depth("FNS", QueueKind::Statuses, 0, 0),
        ]
    );
    // Once the lease has run out the entry is pending, not leased.
    assert_eq!(
        store.queue_depths(Some(&m("FNS")), t(60)).await.unwrap()[0],
        depth("FNS", QueueKind::Requests, 3, 0)
    );
    assert_eq!(
        store.queue_depths(Some(&m("NOBODY")), t(10)).await.unwrap(),
        [
            depth("NOBODY", QueueKind::Requests, 0, 0),
            depth("NOBODY", QueueKind::Responses, 0, 0),
            depth("NOBODY", QueueKind::Statuses, 0, 0),
        ]
    );
}

async fn trace_shows_the_request_its_events_and_each_response_with_its_events(store: Arc<dyn Store>) {
    send(&*store, &request(1, "MFC", Some(qa())), t(0)).await;
    send(&*store, &request(9, "MFC", Some(qa())), t(0)).await;
    assert_eq!(lease_id(&*store, "FNS", None, t(1)).await, Some(id(1)));
    let back = [to("MFC", QueueKind::Responses, None)];
    for (n, at) in [(2, 5), (3, 6)] {
        store
            .accept(&response(n, "FNS", 1), &back, LIMITS, t(at))
            .await
            .unwrap();
    }
    store
        .accept(&response(4, "FNS", 9), &back, LIMITS, t(7))
        .await
        .unwrap();

    let trace = store.trace(id(1)).await.unwrap();
    assert_eq!(trace.message, store.message(id(1)).await.unwrap());
    assert_eq!(trace.events, store.history(id(1)).await.unwrap());
    assert_eq!(
        events(&trace.events),
        [
            "received",
            "accepted",
            "queued",
            "leased",
            "response-accepted",
            "response-accepted"
        ]
    );
    let responses: Vec<_> = trace.responses.iter().map(|(r, _)| r.message_id).collect();
    assert_eq!(responses, [id(2), id(3)]);
    for (r, ev) in &trace.responses {
        assert_eq!(ev, &store.history(r.message_id).await.unwrap());
        assert_eq!(events(ev), ["received", "accepted", "queued"]);
    }

    let unknown = store.trace(id(404)).await.unwrap();
    assert_eq!(
        (unknown.message, unknown.events, unknown.responses),
        (None, vec![], vec![])
    );
}

async fn usage_counts_per_day_participant_infotype_and_kind(store: Arc<dyn Store>) {
    let day1 = datetime!(2025-03-01 23:59:59 UTC);
    let day2 = datetime!(2025-03-02 00:00:00 UTC);
    // Moscow time, but the accounting day is the UTC day: 2025-03-02 01:00 +03 is 03-01 22:00 UTC.
    let moscow = datetime!(2025-03-02 01:00:00 +03:00);
    send(&*store, &request(1, "MFC", Some(qa())), day1).await;
    send(&*store, &request(2, "MFC", Some(qa())), moscow).await;
    send(&*store, &request(3, "MFC", Some(qb())), day1).await;
    send(&*store, &request(4, "MFC", Some(qa())), day2).await;
    send(&*store, &request(5, "EPGU", None), day2).await;
    store
        .accept(
            &response(6, "FNS", 1),
            &[to("MFC", QueueKind::Responses, None)],
            LIMITS,
            day2,
        )
        .await
        .unwrap();
    let mut later = request(7, "MFC", Some(qa()));
    later.message_id = id(7);
    send(&*store, &later, datetime!(2025-03-03 12:00:00 UTC)).await;

    let row = |day, participant: &str, infotype: &str, kind, count| UsageRow {
        day,
        participant: participant.into(),
        infotype: infotype.into(),
        kind,
        count,
    };
    let a = "{urn://x/a/1.0}ARequest";
    let b = "{urn://x/b/1.0}BRequest";
    let a_response = "{urn://x/a/1.0}AResponse";
    assert_eq!(
        store
            .usage(date!(2025 - 03 - 01), date!(2025 - 03 - 02))
            .await
            .unwrap(),
        [
            row(date!(2025 - 03 - 01), "MFC", a, MessageKind::Request, 2),
            row(date!(2025 - 03 - 01), "MFC", b, MessageKind::Request, 1),
            row(date!(2025 - 03 - 02), "EPGU", "", MessageKind::Request, 1),
            row(date!(2025 - 03 - 02), "FNS", a_response, MessageKind::Response, 1),
            row(date!(2025 - 03 - 02), "MFC", a, MessageKind::Request, 1),
        ]
    );
    assert_eq!(
        store
            .usage(date!(2025 - 03 - 03), date!(2025 - 03 - 31))
            .await
            .unwrap(),
        [row(date!(2025 - 03 - 03), "MFC", a, MessageKind::Request, 1)]
    );
    assert_eq!(
        store
            .usage(date!(2025 - 04 - 01), date!(2025 - 04 - 30))
            .await
            .unwrap(),
        []
    );
}

// ---- registry ------------------------------------------------------------------------------------

fn participant(mnemonic: &str, certificates: &[&str]) -> Participant {
    Participant {
        mnemonic: m(mnemonic),
        name: format!("{mnemonic} system"),
        organisation: "Org".into(),
        status: ParticipantStatus::Active,
        certificates: certificates.iter().map(|c| (*c).to_owned()).collect(),
    }
}

fn infotype(q: QName, provider: &str) -> InfoType {
    InfoType {
        qname: q,
        version: "1.0".into(),
        kind: InfoTypeKind::Request,
        provider: m(provider),
        xsd: Some("a".into()),
        transaction_code_required: true,
        federal: false,
        max_size: Some(1 << 20),
        description: "A".into(),
    }
}

fn grant(consumer: &str, q: QName) -> Grant {
    Grant {
        consumer: m(consumer),
        infotype: q,
    }
}

async fn registry_writes_are_read_back_and_bump_the_version(store: Arc<dyn Store>) {
    assert_eq!(store.registry().await.unwrap(), Registry::default());
    let mut version = store.registry_version().await.unwrap();
    let mut bumped = async || {
        let now = store.registry_version().await.unwrap();
        let changed = now != version;
        version = now;
        changed
    };

    store
        .put_participant(&participant("MFC", &["cert-2", "cert-1"]))
        .await
        .unwrap();
    assert!(bumped().await);
    store.put_participant(&participant("FNS", &[])).await.unwrap();
    store.put_infotype(&infotype(qb(), "FNS")).await.unwrap();
    store.put_infotype(&infotype(qa(), "FNS")).await.unwrap();
    assert!(bumped().await);
    let service = Service {
        code: "fns".into(),
        provider: m("FNS"),
        description: "FNS".into(),
        infotypes: vec![qb(), qa()],
    };
    store.put_service(&service).await.unwrap();
    store.put_grant(&grant("MFC", qa())).await.unwrap();
    store.put_grant(&grant("MFC", qa())).await.unwrap();
    assert!(bumped().await);

    let registry = store.registry().await.unwrap();
    assert_eq!(
        registry,
        Registry {
            participants: vec![participant("FNS", &[]), participant("MFC", &["cert-2", "cert-1"])],
            infotypes: vec![infotype(qa(), "FNS"), infotype(qb(), "FNS")],
            services: vec![service.clone()],
            grants: vec![grant("MFC", qa())],
        }
    );

    // Replacing keeps one row per key, with the new content.
    let mut blocked = participant("MFC", &["cert-3"]);
    blocked.status = ParticipantStatus::Blocked;
    store.put_participant(&blocked).await.unwrap();
    let mut changed = infotype(qa(), "FNS");
    changed.xsd = None;
    changed.max_size = None;
    changed.kind = InfoTypeKind::Broadcast;
    store.put_infotype(&changed).await.unwrap();
    let registry = store.registry().await.unwrap();
    assert_eq!(registry.participants[1], blocked);
    assert_eq!(registry.infotypes[0], changed);
    assert_eq!(registry.infotypes.len(), 2);

    assert!(bumped().await);
    assert!(store.revoke_grant(&grant("MFC", qa())).await.unwrap());
    assert!(bumped().await);
    assert!(!store.revoke_grant(&grant("MFC", qa())).await.unwrap());
    assert!(
        !bumped().await,
        "revoking a grant that does not exist changes nothing"
    );
    assert_eq!(store.registry().await.unwrap().grants, []);
}

async fn xsd_sets_are_stored_whole_and_replace_registry_replaces_everything(store: Arc<dyn Store>) {
    let set = |name: &str, files: &[(&str, &[u8])]| XsdSet {
        name: name.into(),
        files: files.iter().map(|(p, c)| ((*p).to_owned(), c.to_vec())).collect(),
    };
    store.put_participant(&participant("OLD", &[])).await.unwrap();
    store
        .put_xsd_set(&set(
            "a",
            &[("main.xsd", b"<a/>"), ("inc/types.xsd", b"\x00\xffbinary")],
        ))
        .await
        .unwrap();
    store
        .put_xsd_set(&set("old", &[("x.xsd", b"<x/>")]))
        .await
        .unwrap();
    assert_eq!(
        store.xsd_set("a").await.unwrap(),
        Some(set(
            "a",
            &[("inc/types.xsd", b"\x00\xffbinary"), ("main.xsd", b"<a/>")]
        ))
    );
    // Putting a set again replaces its files.
    store
        .put_xsd_set(&set("a", &[("main.xsd", b"<a2/>")]))
        .await
        .unwrap();
    assert_eq!(
        store.xsd_set("a").await.unwrap(),
        Some(set("a", &[("main.xsd", b"<a2/>")]))
    );
    assert_eq!(store.xsd_set_names().await.unwrap(), ["a", "old"]);
    assert_eq!(store.xsd_set("missing").await.unwrap(), None);

    let before = store.registry_version().await.unwrap();
    let mut registry = Registry {
        participants: vec![participant("FNS", &["c"]), participant("MFC", &[])],
        infotypes: vec![infotype(qa(), "FNS")],
        services: vec![Service {
            code: "fns".into(),
            provider: m("FNS"),
            description: String::new(),
            infotypes: vec![qa()],
        }],
        grants: vec![grant("MFC", qa())],
    };
    registry.normalize();
    store
        .replace_registry(&registry, &[set("b", &[("b.xsd", b"<b/>")])])
        .await
        .unwrap();
    assert_eq!(store.registry().await.unwrap(), registry);
    assert_eq!(store.xsd_set_names().await.unwrap(), ["b"]);
    assert!(store.registry_version().await.unwrap() > before);
}

// ---- adapter state (store/adapter_state.rs), called per backend with the store's location ----

const FIRST: AdapterMigration = AdapterMigration {
    version: 1,
    description: "ledger",
    sql: "CREATE TABLE testadapter_ledger (id TEXT PRIMARY KEY, amount BIGINT NOT NULL); \
          CREATE INDEX testadapter_ledger_amount ON testadapter_ledger (amount)",
    postgres_sql: None,
};
const SECOND: AdapterMigration = AdapterMigration {
    version: 2,
    description: "a column",
    sql: "ALTER TABLE testadapter_ledger ADD COLUMN note TEXT",
    postgres_sql: None,
};

/// Several adapters (of one node or of several) migrating a fresh database at the same moment
/// all succeed: the migration history table is created under the migrations' lock (a bare
/// concurrent CREATE TABLE IF NOT EXISTS fails on PostgreSQL).
pub(super) async fn adapters_migrating_a_fresh_database_at_once_all_succeed(location: Location) {
    let mut handles = Vec::new();
    for i in 0..6 {
        let location = location.clone();
        handles.push(tokio::spawn(async move {
            let db = AdapterDatabase::open(&location).await.unwrap();
            let name = format!("concurrent{i}");
            let result = db.migrate(&name, &[]).await;
            db.close().await;
            result
        }));
    }
    for h in handles {
        h.await.unwrap().unwrap();
    }
}

/// An adapter's migrations apply once each (also when asked again, and from a second handle),
/// its tables take `$n` placeholders on both backends, and the history refuses a changed
/// migration, versions out of order, and a database migrated further than the build knows.
pub(super) async fn adapter_migrations_apply_once_and_refuse_changes(location: Location) {
    let db = AdapterDatabase::open(&location).await.unwrap();
    db.migrate("testadapter", &[FIRST]).await.unwrap();
    db.migrate("testadapter", &[FIRST]).await.unwrap();
    sqlx::query("INSERT INTO testadapter_ledger (id, amount) VALUES ($1, $2)")
        .bind("charge-1")
        .bind(12_345_i64)
        .execute(db.pool())
        .await
        .unwrap();

    // A second node's handle: version 2 applies on top, version 1 is not applied again (it
    // would fail: the table exists).
    let other = AdapterDatabase::open(&location).await.unwrap();
    other.migrate("testadapter", &[FIRST, SECOND]).await.unwrap();
    let (amount, note): (i64, Option<String>) =
        sqlx::query_as("SELECT amount, note FROM testadapter_ledger WHERE id = $1")
            .bind("charge-1")
            .fetch_one(other.pool())
            .await
            .unwrap();
    assert_eq!((amount, note), (12_345, None));

    // Another adapter's history is its own.
    db.migrate("otheradapter", &[]).await.unwrap();

    let changed = AdapterMigration {
        sql: "CREATE TABLE testadapter_ledger (id TEXT PRIMARY KEY)",
        ..FIRST
    };
    let e = db.migrate("testadapter", &[changed, SECOND]).await.unwrap_err();
    assert!(
        matches!(&e, StoreError::Corrupt(m) if m.contains("other text")),
        "{e}"
    );
    let e = db.migrate("testadapter", &[SECOND, FIRST]).await.unwrap_err();
    assert!(
        matches!(&e, StoreError::Corrupt(m) if m.contains("increase")),
        "{e}"
    );
    let e = db.migrate("testadapter", &[FIRST]).await.unwrap_err();
    assert!(matches!(&e, StoreError::Corrupt(m) if m.contains("newer")), "{e}");

    // A failing migration leaves nothing behind: neither its table nor its record.
    let broken = AdapterMigration {
        version: 3,
        description: "broken",
        sql: "CREATE TABLE testadapter_half (x TEXT); THIS IS NOT SQL",
        postgres_sql: None,
    };
    assert!(db.migrate("testadapter", &[FIRST, SECOND, broken]).await.is_err());
    let recorded: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM adapter_migrations WHERE adapter = $1")
        .bind("testadapter")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(recorded, 2);
    let half = sqlx::query("SELECT x FROM testadapter_half")
        .fetch_all(db.pool())
        .await;
    assert!(half.is_err(), "the failed migration's table was kept");
    db.close().await;
    other.close().await;
}
