//! Model-based test of the queue state machine: random sequences of accept / lease / ack /
//! expire / clock moves run against a store and against [`Model`], a plain `Vec` of entries
//! with the rules written the obvious way; every observable result must agree. Run on both
//! backends (fewer cases on PostgreSQL, where each case creates a database).

use proptest::prelude::*;

use super::*;

const OWNERS: [&str; 2] = ["alpha", "beta"];
const QUEUES: [QueueKind; 3] = [QueueKind::Requests, QueueKind::Responses, QueueKind::Statuses];
const QUOTA: u32 = 3;

fn selector(i: u8) -> Option<QName> {
    match i % 3 {
        0 => None,
        1 => Some(qa()),
        _ => Some(qb()),
    }
}

#[derive(Debug, Clone)]
enum Op {
    /// A new message (or, with `reuse`, a duplicate of an earlier id) to one or two queues.
    Accept {
        reuse: Option<prop::sample::Index>,
        deliveries: Vec<(u8, u8, u8)>,
        eol_in: Option<u8>,
    },
    Lease {
        owner: u8,
        queue: u8,
        selector: u8,
        lease_for: u8,
    },
    /// Ack by `owner` of an earlier id (or of an id never sent when `target` is `None`).
    Ack {
        owner: u8,
        target: Option<prop::sample::Index>,
        accepted: bool,
    },
    /// Expire what is due (at most `limit`), then try the first of them again.
    Expire {
        limit: u8,
    },
    Depths {
        owner: Option<u8>,
    },
    Advance {
        secs: u8,
    },
}

fn op() -> impl Strategy<Value = Op> {
    // Messages go to requests and responses queues; statuses queues fill with EOL statuses.
    let delivery = (0..2u8, 0..2u8, 0..3u8);
    prop_oneof![
        4 => (
            prop::option::weighted(0.15, any::<prop::sample::Index>()),
            prop::collection::vec(delivery, 1..=2),
            prop::option::of(0..40u8),
        )
            .prop_map(|(reuse, deliveries, eol_in)| Op::Accept { reuse, deliveries, eol_in }),
        6 => (0..2u8, prop_oneof![3 => Just(0u8), 3 => Just(1u8), 1 => Just(2u8)], 0..4u8, 1..20u8).prop_map(|(owner, queue, selector, lease_for)| Op::Lease {
            owner,
            queue,
            selector,
            lease_for
        }),
        2 => (0..2u8, prop::option::weighted(0.9, any::<prop::sample::Index>()), any::<bool>())
            .prop_map(|(owner, target, accepted)| Op::Ack { owner, target, accepted }),
        1 => (1..4u8).prop_map(|limit| Op::Expire { limit }),
        1 => prop::option::of(0..2u8).prop_map(|owner| Op::Depths { owner }),
        2 => (0..25u8).prop_map(|secs| Op::Advance { secs }),
    ]
}

#[derive(Debug, Clone)]
struct Entry {
    owner: Mnemonic,
    queue: QueueKind,
    id: Uuid,
    selector: Option<QName>,
    eol: Option<OffsetDateTime>,
    lease_until: Option<OffsetDateTime>,
    attempts: u32,
}

/// The queues as the contract describes them. Entries are kept in enqueue order, so FIFO is
/// "the first in the Vec".
#[derive(Debug, Default)]
struct Model {
    entries: Vec<Entry>,
    /// Every accepted MessageID, in order.
    accepted: Vec<Uuid>,
}

impl Model {
    fn accept(&mut self, msg: &NewMessage, deliveries: &[Delivery], quota: Option<u32>) -> AcceptOutcome {
        if self.accepted.contains(&msg.message_id) {
            return AcceptOutcome::Duplicate;
        }
        let mut targets: Vec<&Delivery> = Vec::new();
        for d in deliveries {
            if !targets.iter().any(|t| t.owner == d.owner && t.queue == d.queue) {
                targets.push(d);
            }
        }
        for d in &targets {
            let held = self
                .entries
                .iter()
                .filter(|e| e.owner == d.owner && e.queue == d.queue)
                .count();
            if quota.is_some_and(|q| held >= q as usize) {
                return AcceptOutcome::Overflow {
                    owner: d.owner.clone(),
                    queue: d.queue,
                };
            }
        }
        for d in targets {
            self.entries.push(Entry {
                owner: d.owner.clone(),
                queue: d.queue,
                id: msg.message_id,
                selector: d.selector.clone(),
                eol: msg.eol,
                lease_until: None,
                attempts: 0,
            });
        }
        self.accepted.push(msg.message_id);
        AcceptOutcome::Accepted { received_at: T0 }
    }

    fn lease(
        &mut self,
        owner: &Mnemonic,
        queue: QueueKind,
        selector: Option<&QName>,
        now: OffsetDateTime,
        lease_for: Duration,
    ) -> Option<(Uuid, u32, OffsetDateTime)> {
        let entry = self.entries.iter_mut().find(|e| {
            &e.owner == owner
                && e.queue == queue
                && e.lease_until.is_none_or(|until| until <= now)
                && e.eol.is_none_or(|eol| eol >= now)
                && selector.is_none_or(|s| e.selector.as_ref() == Some(s))
        })?;
        entry.attempts += 1;
        entry.lease_until = Some(now + lease_for);
        Some((entry.id, entry.attempts, now + lease_for))
    }

    fn ack(&mut self, owner: &Mnemonic, id: Uuid) -> bool {
        let before = self.entries.len();
        self.entries.retain(|e| !(&e.owner == owner && e.id == id));
        self.entries.len() != before
    }

    fn due(&self, now: OffsetDateTime, limit: usize) -> Vec<(Mnemonic, QueueKind, Uuid)> {
        let mut due: Vec<(usize, &Entry)> = self
            .entries
            .iter()
            .enumerate()
            .filter(|(_, e)| e.eol.is_some_and(|eol| eol < now))
            .collect();
        due.sort_by_key(|(seq, e)| (e.eol, *seq));
        due.into_iter()
            .take(limit)
            .map(|(_, e)| (e.owner.clone(), e.queue, e.id))
            .collect()
    }

    fn expire(
        &mut self,
        owner: &Mnemonic,
        queue: QueueKind,
        id: Uuid,
        status: &NewMessage,
        to: &Delivery,
    ) -> bool {
        let Some(at) = self
            .entries
            .iter()
            .position(|e| &e.owner == owner && e.queue == queue && e.id == id)
        else {
            return false;
        };
        self.entries.remove(at);
        self.accept(status, std::slice::from_ref(to), None);
        true
    }

    fn depths(&self, owner: Option<&Mnemonic>, now: OffsetDateTime) -> Vec<QueueDepth> {
        let mut depths: Vec<QueueDepth> = Vec::new();
        let mut keys: Vec<(Mnemonic, QueueKind)> = match owner {
            Some(o) => QUEUES.iter().map(|q| (o.clone(), *q)).collect(),
            None => self.entries.iter().map(|e| (e.owner.clone(), e.queue)).collect(),
        };
        keys.sort();
        keys.dedup();
        for (o, q) in keys {
            let of_queue = || self.entries.iter().filter(|e| e.owner == o && e.queue == q);
            depths.push(QueueDepth {
                pending: of_queue().count() as u64,
                leased: of_queue()
                    .filter(|e| e.lease_until.is_some_and(|u| u > now))
                    .count() as u64,
                owner: o,
                queue: q,
            });
        }
        depths
    }
}

/// Runs `ops` against `store` (fresh) and the model, failing at the first disagreement.
async fn check(store: Arc<dyn Store>, ops: Vec<Op>) -> Result<(), TestCaseError> {
    let mut model = Model::default();
    let mut now = T0;
    let mut next_id = 1u128;
    let mut fresh_id = || {
        next_id += 1;
        id(next_id)
    };
    let limits = AcceptLimits { queue_quota: QUOTA };

    for op in ops {
        match op {
            Op::Accept {
                reuse,
                deliveries,
                eol_in,
            } => {
                let message_id = match reuse {
                    Some(i) if !model.accepted.is_empty() => *i.get(&model.accepted),
                    _ => fresh_id(),
                };
                let mut msg = request(message_id.as_u128(), "alpha", None);
                msg.eol = eol_in.map(|s| now + Duration::seconds(i64::from(s)));
                let deliveries: Vec<Delivery> = deliveries
                    .iter()
                    .map(|&(o, q, s)| to(OWNERS[usize::from(o)], QUEUES[usize::from(q)], selector(s)))
                    .collect();
                let got = store.accept(&msg, &deliveries, limits, now).await.unwrap();
                let want = match model.accept(&msg, &deliveries, Some(QUOTA)) {
                    AcceptOutcome::Accepted { .. } => AcceptOutcome::Accepted { received_at: now },
                    other => other,
                };
                prop_assert_eq!(got, want);
            }
            Op::Lease {
                owner,
                queue,
                selector: s,
                lease_for,
            } => {
                let (owner, queue) = (m(OWNERS[usize::from(owner)]), QUEUES[usize::from(queue)]);
                let lease_for = Duration::seconds(i64::from(lease_for));
                // Half the leases name a selector.
                let sel = match s {
                    0 | 1 => None,
                    2 => Some(qa()),
                    _ => Some(qb()),
                };
                let got = store
                    .lease(&owner, queue, sel.as_ref(), now, lease_for)
                    .await
                    .unwrap()
                    .map(|l| {
                        assert_eq!((&l.owner, l.queue), (&owner, queue));
                        (l.message.message_id, l.attempt, l.lease_until)
                    });
                let want = model.lease(&owner, queue, sel.as_ref(), now, lease_for);
                prop_assert_eq!(got, want);
            }
            Op::Ack {
                owner,
                target,
                accepted,
            } => {
                let owner = m(OWNERS[usize::from(owner)]);
                let message_id = match target {
                    Some(i) if !model.accepted.is_empty() => *i.get(&model.accepted),
                    _ => id(u128::MAX),
                };
                let got = store
                    .ack(&owner, AckTarget { message_id, accepted }, now)
                    .await
                    .unwrap();
                prop_assert_eq!(got, model.ack(&owner, message_id));
            }
            Op::Expire { limit } => {
                let due = store.due_expirations(now, u32::from(limit)).await.unwrap();
                let got: Vec<_> = due
                    .iter()
                    .map(|e| (e.owner.clone(), e.queue, e.message.message_id))
                    .collect();
                prop_assert_eq!(&got, &model.due(now, usize::from(limit)));
                let status_to = to(OWNERS[0], QueueKind::Statuses, None);
                for e in due.iter().chain(due.first()) {
                    let status = eol_status(fresh_id().as_u128(), e.message.message_id.as_u128());
                    let got = store.expire(e, &status, &status_to, now).await.unwrap();
                    let want = model.expire(&e.owner, e.queue, e.message.message_id, &status, &status_to);
                    prop_assert_eq!(got, want);
                }
            }
            Op::Depths { owner } => {
                let owner = owner.map(|o| m(OWNERS[usize::from(o)]));
                let got = store.queue_depths(owner.as_ref(), now).await.unwrap();
                prop_assert_eq!(got, model.depths(owner.as_ref(), now));
            }
            Op::Advance { secs } => now += Duration::seconds(i64::from(secs)),
        }
    }
    // Whatever happened, the final state agrees too.
    prop_assert_eq!(
        store.queue_depths(None, now).await.unwrap(),
        model.depths(None, now)
    );
    store.close().await;
    Ok(())
}

/// Runs one case on a fresh store from `fresh` (skipped when the backend is not available).
fn run(fresh: impl AsyncFnOnce() -> Option<Fixture>, ops: Vec<Op>) -> Result<(), TestCaseError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        match fresh().await {
            Some(fixture) => check(Arc::clone(&fixture.store), ops).await,
            None => Ok(()),
        }
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn sqlite_queues_behave_like_the_model(ops in prop::collection::vec(op(), 1..50)) {
        run(super::sqlite::fresh, ops)?;
    }
}

proptest! {
    // Each case creates and drops a database: fewer cases, the same operations.
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    #[test]
    fn postgres_queues_behave_like_the_model(ops in prop::collection::vec(op(), 1..50)) {
        run(super::postgres::fresh, ops)?;
    }
}
