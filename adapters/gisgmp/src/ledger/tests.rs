use time::macros::datetime;

use super::*;

#[test]
fn every_operation_reads_back_as_stored() {
    for op in [
        Operation::Payment("10471020010005230107202100000001".into()),
        Operation::Force(ForcedReconcileOp::WithPayments(vec![
            "10471020010005230107202100000001".into(),
            "10471020010005230107202100000002".into(),
        ])),
        Operation::Force(ForcedReconcileOp::WithoutPayment),
        Operation::Force(ForcedReconcileOp::ForAmount {
            amount: 12_345,
            reconcile_id: "3eb5fa01072021000000001".into(),
        }),
        Operation::Annul(AnnulmentOp::Payments(vec![
            "10471020010005230107202100000001".into(),
        ])),
        Operation::Annul(AnnulmentOp::WithoutPayment),
        Operation::Annul(AnnulmentOp::ForAmount("3eb5fa01072021000000001".into())),
    ] {
        assert_eq!(
            Operation::decode(&op.encode()),
            Some(op.clone()),
            "{}",
            op.encode()
        );
    }
    for bad in ["", "refund 1", "force-amount x y", "force-amount 12"] {
        assert_eq!(Operation::decode(bad), None, "{bad}");
    }
}

#[test]
fn moment_keys_sort_as_the_moments_and_read_back() {
    let moments = [
        datetime!(2021-07-01 23:59:59.999 +03:00),
        datetime!(2021-07-01 21:00:00 UTC),
        datetime!(2021-07-02 00:00:00.001 +03:00),
        datetime!(2021-07-02 12:00:00 -05:00),
    ];
    let keys: Vec<String> = moments.iter().map(|m| moment_key(*m)).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    for (m, k) in moments.iter().zip(&keys) {
        assert_eq!(moment_of_key(k), Some(*m), "{k}");
    }
    assert_eq!(moment_of_key("yesterday"), None);
}

#[test]
fn meanings_are_the_codes_of_change_status() {
    for m in [
        Meaning::New,
        Meaning::Clarified,
        Meaning::Annulled,
        Meaning::Restored,
    ] {
        assert_eq!(Meaning::from_code(i64::from(m.code())), Some(m));
    }
    assert_eq!(Meaning::from_code(0), None);
    assert_eq!(Meaning::from_code(5), None);
}

/// Lists over a ledger on both backends: each filter, each sort key both ways, pages.
mod lists {
    use time::macros::{date, datetime};

    use super::*;
    use crate::entity::{charge_facts, payment_facts};
    use crate::issue::{Acceptor, KbkChapter, UinPrefix};
    use crate::test_db::{Database, on_both_backends};

    const NAMESPACES: &str = r#"xmlns:com="http://roskazna.ru/gisgmp/xsd/Common/2.4.0" xmlns:org="http://roskazna.ru/gisgmp/xsd/Organization/2.4.0" xmlns:chg="http://roskazna.ru/gisgmp/xsd/Charge/2.4.0" xmlns:pmnt="http://roskazna.ru/gisgmp/xsd/Payment/2.4.0""#;
    const PAYEE: &str = r#"<org:Payee name="ФГБУ «ФКП Росреестра» по г Москва" inn="7705401341" kpp="770542151"><com:OrgAccount accountNumber="03100643000000019500"><com:Bank bik="024501901" correspondentBankAccount="40102810045370000002"/></com:OrgAccount></org:Payee>"#;
    const PERSON: &str = "1220000000007712579832";
    const OTHER_PERSON: &str = "1010000000003751379232";
    const NOW: OffsetDateTime = datetime!(2021-07-01 12:00 UTC);

    /// One charge of the fixture.
    struct Fixture {
        administrator: &'static str,
        /// `billDate`, as written.
        bill_date: &'static str,
        amount: i64,
        payer: &'static str,
    }

    /// The charges, in the order their UINs are issued (so ascending UINs): dates and amounts
    /// deliberately in another order. The bill date of the third is 00:30 Moscow on 1 July,
    /// 21:30 UTC on 30 June.
    const CHARGES: [Fixture; 4] = [
        Fixture {
            administrator: "3eb5fa",
            bill_date: "2021-06-15T10:00:00.000+03:00",
            amount: 30_000,
            payer: PERSON,
        },
        Fixture {
            administrator: "3eb5fa",
            bill_date: "2021-06-30T23:59:59.999+03:00",
            amount: 10_000,
            payer: OTHER_PERSON,
        },
        Fixture {
            administrator: "3eb5fb",
            bill_date: "2021-07-01T00:30:00.000+03:00",
            amount: 40_000,
            payer: PERSON,
        },
        Fixture {
            administrator: "3eb5fa",
            bill_date: "2021-06-01T09:00:00.000+03:00",
            amount: 20_000,
            payer: PERSON,
        },
    ];

    fn charge_document(uin: &str, f: &Fixture) -> El {
        El::parse(&format!(
            r#"<chg:Charge {NAMESPACES} supplierBillID="{uin}" billDate="{}" totalAmount="{}" purpose="Плата" kbk="32111301031016000130" oktmo="45348000">{PAYEE}<chg:Payer payerIdentifier="{}" payerName="Плательщик"/><chg:BudgetIndex status="01" paytReason="0" taxPeriod="0" taxDocNumber="0" taxDocDate="0"/></chg:Charge>"#,
            f.bill_date, f.amount, f.payer
        ))
        .unwrap()
    }

    fn payment_document(payment_id: &str, uin: &str, amount: i64, date: &str) -> El {
        El::parse(&format!(
            r#"<pmnt:Payment {NAMESPACES} paymentId="{payment_id}" purpose="Плата" kbk="32111301031016000130" oktmo="45348000" supplierBillID="{uin}" amount="{amount}" paymentDate="{date}" transKind="01"><pmnt:PaymentOrg><org:Bank bik="047252006"/></pmnt:PaymentOrg><pmnt:Payer payerName="Плательщик" payerIdentifier="{PERSON}"/>{PAYEE}<pmnt:BudgetIndex status="01" paytReason="0" taxPeriod="0" taxDocNumber="0" taxDocDate="0"/></pmnt:Payment>"#
        ))
        .unwrap()
    }

    /// A ledger with [`CHARGES`] (their UINs returned in that order, and a fifth UIN never
    /// charged); the second is paid in full, the fourth in part, the third is annulled; three
    /// payments, the last naming the fifth UIN.
    struct Filled {
        ledger: Ledger,
        uins: Vec<String>,
        payment_ids: Vec<String>,
    }

    async fn filled(database: &Database) -> Filled {
        let ledger = Ledger::new(database.open().await);
        let chapter = UinPrefix::KbkChapter(KbkChapter::parse("321").unwrap());
        let uins: Vec<String> = crate::sequence::next_uins(ledger.database(), &chapter, 5)
            .await
            .unwrap()
            .into_iter()
            .map(|u| u.as_str().to_owned())
            .collect();
        for (uin, f) in uins.iter().zip(&CHARGES) {
            let document = charge_document(uin, f);
            let facts = charge_facts(&document).unwrap();
            assert!(
                ledger
                    .insert_charge(&document, &facts, f.administrator, "m-charge", NOW)
                    .await
                    .unwrap()
            );
        }
        // The third is annulled.
        let document = charge_document(&uins[2], &CHARGES[2]);
        let change = ChargeChange {
            meaning: Meaning::Annulled,
            reason: "ошибка".into(),
            change_date: "2021-07-01T10:00:00.000+03:00".into(),
        };
        ledger
            .change_charge(
                &document,
                &charge_facts(&document).unwrap(),
                &change,
                "m-annul",
                NOW,
            )
            .await
            .unwrap();

        let acceptor = Acceptor::credit_institution(crate::Bik::parse("047102001").unwrap(), 523).unwrap();
        let payment_ids: Vec<String> =
            crate::sequence::next_payment_ids(ledger.database(), &acceptor, date!(2021 - 07 - 01), 3)
                .await
                .unwrap()
                .into_iter()
                .map(|p| p.as_str().to_owned())
                .collect();
        // (payment, the charge it names, amount, date, acceptor)
        let payments = [
            (
                &payment_ids[0],
                &uins[1],
                10_000,
                "2021-07-01T14:00:00.000+03:00",
                "3eb646",
            ),
            (
                &payment_ids[1],
                &uins[3],
                5_000,
                "2021-07-01T09:00:00.000+03:00",
                "3eb647",
            ),
            // The fifth UIN was issued but never charged.
            (
                &payment_ids[2],
                &uins[4],
                7_000,
                "2021-07-01T11:00:00.000+03:00",
                "3eb646",
            ),
        ];
        for (id, uin, amount, date, acceptor) in payments {
            let document = payment_document(id, uin, amount, date);
            let facts = payment_facts(&document).unwrap();
            assert!(
                ledger
                    .insert_payment(&document, &facts, acceptor, "m-payment", NOW)
                    .await
                    .unwrap()
            );
        }
        Filled {
            ledger,
            uins,
            payment_ids,
        }
    }

    fn all() -> Page {
        Page {
            number: 1,
            length: 100,
        }
    }

    async fn charge_uins(ledger: &Ledger, query: &ChargeQuery, page: Page) -> (Vec<String>, bool) {
        let (records, more) = ledger.charges(query, page).await.unwrap();
        (records.into_iter().map(|r| r.uin).collect(), more)
    }

    /// The moment key of a Moscow day's first (`false`) or last (`true`) microsecond.
    fn day_edge(day: time::Date, last: bool) -> String {
        let time = if last {
            time::Time::from_hms_micro(23, 59, 59, 999_999).unwrap()
        } else {
            time::Time::MIDNIGHT
        };
        moment_key(time::PrimitiveDateTime::new(day, time).assume_offset(crate::entity::moscow()))
    }

    async fn charges_are_filtered_by_each_condition(database: Database) {
        let Filled { ledger, uins, .. } = filled(&database).await;
        let u = |i: usize| uins[i].clone();
        let check = async |query: ChargeQuery, expected: Vec<String>, what: &str| {
            let (mut got, more) = charge_uins(&ledger, &query, all()).await;
            got.sort();
            let mut expected = expected;
            expected.sort();
            assert_eq!(got, expected, "{what}");
            assert!(!more, "{what}");
        };
        check(
            ChargeQuery::default(),
            vec![u(0), u(1), u(3)],
            "annulled left out",
        )
        .await;
        check(
            ChargeQuery {
                include_annulled: true,
                ..ChargeQuery::default()
            },
            vec![u(0), u(1), u(2), u(3)],
            "annulled included",
        )
        .await;
        check(
            ChargeQuery {
                uins: vec![u(1), u(2), u(4)],
                ..ChargeQuery::default()
            },
            vec![u(1)],
            "by UIN",
        )
        .await;
        check(
            ChargeQuery {
                payer_identifiers: vec![PERSON.into()],
                ..ChargeQuery::default()
            },
            vec![u(0), u(3)],
            "by payer",
        )
        .await;
        check(
            ChargeQuery {
                administrator: Some("3EB5FB".into()),
                include_annulled: true,
                ..ChargeQuery::default()
            },
            vec![u(2)],
            "by administrator, in any case",
        )
        .await;
        // 30 June, Moscow: the second (23:59:59.999) but not the third (00:30 on 1 July,
        // though 30 June in UTC).
        check(
            ChargeQuery {
                from: Some(day_edge(date!(2021 - 06 - 30), false)),
                to: Some(day_edge(date!(2021 - 06 - 30), true)),
                include_annulled: true,
                ..ChargeQuery::default()
            },
            vec![u(1)],
            "one Moscow day",
        )
        .await;
        check(
            ChargeQuery {
                from: Some(day_edge(date!(2021 - 06 - 15), false)),
                ..ChargeQuery::default()
            },
            vec![u(0), u(1)],
            "from a day on",
        )
        .await;
        check(
            ChargeQuery {
                to: Some(day_edge(date!(2021 - 06 - 15), true)),
                ..ChargeQuery::default()
            },
            vec![u(0), u(3)],
            "up to a day",
        )
        .await;
        check(
            ChargeQuery {
                min_amount: Some(20_000),
                max_amount: Some(30_000),
                ..ChargeQuery::default()
            },
            vec![u(0), u(3)],
            "amounts between, inclusive",
        )
        .await;
        // Paid in full by someone else (the payer differs): 2; paid in part: 1 with something
        // left to pay; no payment: 3.
        let mut statuses: Vec<(String, u8, i64)> = ledger
            .charges(&ChargeQuery::default(), all())
            .await
            .unwrap()
            .0
            .into_iter()
            .map(|r| (r.uin, r.status, r.amount_to_pay))
            .collect();
        statuses.sort();
        assert_eq!(statuses, [(u(0), 3, 30_000), (u(1), 2, 0), (u(3), 1, 15_000)]);
        check(
            ChargeQuery {
                statuses: vec![3],
                ..ChargeQuery::default()
            },
            vec![u(0)],
            "by status",
        )
        .await;
        check(
            ChargeQuery {
                statuses: vec![1, 2],
                ..ChargeQuery::default()
            },
            vec![u(1), u(3)],
            "several statuses",
        )
        .await;
    }

    #[tokio::test]
    async fn charges_are_filtered_by_each_condition_on_both_backends() {
        on_both_backends!(charges_are_filtered_by_each_condition);
    }

    async fn charges_sort_by_each_key_both_ways_and_page(database: Database) {
        let Filled { ledger, uins, .. } = filled(&database).await;
        let u = |i: usize| uins[i].clone();
        let sorted = async |by: ChargeSort, direction: Direction| {
            let query = ChargeQuery {
                include_annulled: true,
                order: Order { by, direction },
                ..ChargeQuery::default()
            };
            charge_uins(&ledger, &query, all()).await.0
        };
        let cases = [
            (ChargeSort::BillDate, vec![u(3), u(0), u(1), u(2)]),
            (ChargeSort::Amount, vec![u(1), u(3), u(0), u(2)]),
            (ChargeSort::Uin, vec![u(0), u(1), u(2), u(3)]),
        ];
        for (by, ascending) in cases {
            assert_eq!(sorted(by, Direction::Ascending).await, ascending, "{by:?}");
            let mut descending = ascending.clone();
            descending.reverse();
            assert_eq!(sorted(by, Direction::Descending).await, descending, "{by:?}");
        }
        // Ties (status 3 twice) are broken by the UIN, ascending, whichever way the status runs.
        let by_status = sorted(ChargeSort::Status, Direction::Descending).await;
        assert_eq!(by_status[..2], [u(0), u(2)], "{by_status:?}");
        let by_status = sorted(ChargeSort::Status, Direction::Ascending).await;
        assert_eq!(by_status[2..], [u(0), u(2)], "{by_status:?}");
        let to_pay = sorted(ChargeSort::AmountToPay, Direction::Ascending).await;
        assert_eq!(to_pay[0], u(1), "paid in full first: {to_pay:?}");

        // The default: the newest bill first.
        assert_eq!(
            charge_uins(&ledger, &ChargeQuery::default(), all()).await.0,
            [u(1), u(0), u(3)]
        );

        // Pages of 3 then 1 of the four, in order, saying whether more follow.
        let query = ChargeQuery {
            include_annulled: true,
            order: Order {
                by: ChargeSort::Amount,
                direction: Direction::Ascending,
            },
            ..ChargeQuery::default()
        };
        let page = |number| Page { number, length: 3 };
        assert_eq!(
            charge_uins(&ledger, &query, page(1)).await,
            (vec![u(1), u(3), u(0)], true)
        );
        assert_eq!(charge_uins(&ledger, &query, page(2)).await, (vec![u(2)], false));
        assert_eq!(charge_uins(&ledger, &query, page(3)).await, (vec![], false));
        let exact = Page { number: 1, length: 4 };
        assert!(!charge_uins(&ledger, &query, exact).await.1, "exactly one page");
    }

    #[tokio::test]
    async fn charges_sort_by_each_key_both_ways_and_page_on_both_backends() {
        on_both_backends!(charges_sort_by_each_key_both_ways_and_page);
    }

    async fn payments_are_filtered_sorted_and_paged(database: Database) {
        let Filled {
            ledger,
            uins,
            payment_ids: p,
        } = filled(&database).await;
        let ids = async |query: PaymentQuery, page: Page| -> (Vec<String>, bool) {
            let (records, more) = ledger.payments(&query, page).await.unwrap();
            (records.into_iter().map(|r| r.payment_id).collect(), more)
        };
        // The default: the newest payment first.
        assert_eq!(
            ids(PaymentQuery::default(), all()).await,
            (vec![p[0].clone(), p[2].clone(), p[1].clone()], false)
        );
        let filtered = |query: PaymentQuery| async { ids(query, all()).await.0 };
        assert_eq!(
            filtered(PaymentQuery {
                acceptor: Some("3EB646".into()),
                order: Order {
                    by: PaymentSort::PaymentId,
                    direction: Direction::Ascending
                },
                ..PaymentQuery::default()
            })
            .await,
            [p[0].clone(), p[2].clone()],
            "by acceptor"
        );
        assert_eq!(
            filtered(PaymentQuery {
                uins: vec![uins[3].clone()],
                ..PaymentQuery::default()
            })
            .await,
            [p[1].clone()],
            "by UIN"
        );
        assert_eq!(
            filtered(PaymentQuery {
                payment_ids: vec![p[2].clone()],
                ..PaymentQuery::default()
            })
            .await,
            [p[2].clone()],
            "by УПНО"
        );
        assert_eq!(
            filtered(PaymentQuery {
                unmatched: true,
                ..PaymentQuery::default()
            })
            .await,
            [p[2].clone()],
            "unmatched: its charge is not there"
        );
        assert_eq!(
            filtered(PaymentQuery {
                payer_identifiers: vec![OTHER_PERSON.into()],
                ..PaymentQuery::default()
            })
            .await,
            Vec::<String>::new(),
            "by payer"
        );
        // 10:00 to 14:00 Moscow on 1 July: the 11:00 and the 14:00 payments.
        assert_eq!(
            filtered(PaymentQuery {
                from: Some(moment_key(datetime!(2021-07-01 10:00 +03:00))),
                to: Some(moment_key(datetime!(2021-07-01 14:00 +03:00))),
                ..PaymentQuery::default()
            })
            .await,
            [p[0].clone(), p[2].clone()],
            "by payment date"
        );
        for (by, ascending) in [
            (PaymentSort::Amount, [&p[1], &p[2], &p[0]]),
            (PaymentSort::PaymentDate, [&p[1], &p[2], &p[0]]),
            (PaymentSort::PaymentId, [&p[0], &p[1], &p[2]]),
            // By the UIN they name: the fifth, second, fourth issued, as the UINs sort.
            (PaymentSort::Uin, {
                let mut named = [(&uins[1], &p[0]), (&uins[3], &p[1]), (&uins[4], &p[2])];
                named.sort();
                named.map(|(_, id)| id)
            }),
        ] {
            let ascending: Vec<String> = ascending.into_iter().cloned().collect();
            for direction in [Direction::Ascending, Direction::Descending] {
                let mut expected = ascending.clone();
                if direction == Direction::Descending {
                    expected.reverse();
                }
                let query = PaymentQuery {
                    order: Order { by, direction },
                    ..PaymentQuery::default()
                };
                assert_eq!(filtered(query).await, expected, "{by:?} {direction:?}");
            }
        }
        let query = PaymentQuery {
            order: Order {
                by: PaymentSort::Amount,
                direction: Direction::Descending,
            },
            ..PaymentQuery::default()
        };
        assert_eq!(
            ids(query.clone(), Page { number: 1, length: 2 }).await,
            (vec![p[0].clone(), p[2].clone()], true)
        );
        assert_eq!(
            ids(query, Page { number: 2, length: 2 }).await,
            (vec![p[1].clone()], false)
        );
    }

    #[tokio::test]
    async fn payments_are_filtered_sorted_and_paged_on_both_backends() {
        on_both_backends!(payments_are_filtered_sorted_and_paged);
    }

    async fn quittances_of_the_selected_charges_are_sorted_and_paged(database: Database) {
        let Filled {
            ledger,
            uins,
            payment_ids: p,
        } = filled(&database).await;
        let list = async |charges: ChargeQuery, by: QuittanceSort, direction: Direction, page: Page| {
            let (records, more) = ledger
                .quittance_list(&charges, Order { by, direction }, page)
                .await
                .unwrap();
            (
                records
                    .into_iter()
                    .map(|q| (q.uin, q.settlement, q.amount_payment))
                    .collect::<Vec<_>>(),
                more,
            )
        };
        let paid_in_full = (uins[1].clone(), p[0].clone(), Some(10_000));
        let paid_in_part = (uins[3].clone(), p[1].clone(), Some(5_000));
        let (got, more) = list(
            ChargeQuery::default(),
            QuittanceSort::Amount,
            Direction::Ascending,
            all(),
        )
        .await;
        assert_eq!(got, [paid_in_part.clone(), paid_in_full.clone()]);
        assert!(!more);
        let (got, _) = list(
            ChargeQuery::default(),
            QuittanceSort::Amount,
            Direction::Descending,
            all(),
        )
        .await;
        assert_eq!(got, [paid_in_full.clone(), paid_in_part.clone()]);
        // The charge filters choose whose quittances.
        let (got, _) = list(
            ChargeQuery {
                uins: vec![uins[3].clone()],
                ..ChargeQuery::default()
            },
            QuittanceSort::Created,
            Direction::Descending,
            all(),
        )
        .await;
        assert_eq!(got, std::slice::from_ref(&paid_in_part));
        let (got, _) = list(
            ChargeQuery {
                payer_identifiers: vec![OTHER_PERSON.into()],
                ..ChargeQuery::default()
            },
            QuittanceSort::Uin,
            Direction::Ascending,
            all(),
        )
        .await;
        assert_eq!(got, std::slice::from_ref(&paid_in_full));
        // Paged: one a page.
        let first = list(
            ChargeQuery::default(),
            QuittanceSort::Uin,
            Direction::Ascending,
            Page { number: 1, length: 1 },
        )
        .await;
        let second = list(
            ChargeQuery::default(),
            QuittanceSort::Uin,
            Direction::Ascending,
            Page { number: 2, length: 1 },
        )
        .await;
        assert_eq!(first, (vec![paid_in_full], true));
        assert_eq!(second, (vec![paid_in_part], false));
    }

    #[tokio::test]
    async fn quittances_of_the_selected_charges_are_sorted_and_paged_on_both_backends() {
        on_both_backends!(quittances_of_the_selected_charges_are_sorted_and_paged);
    }

    #[test]
    fn every_sort_key_names_a_column_of_its_table() {
        // The columns are constants, never a caller's text: each is one of the table's own.
        for key in [
            ChargeSort::BillDate,
            ChargeSort::Amount,
            ChargeSort::AmountToPay,
            ChargeSort::Uin,
            ChargeSort::Status,
        ] {
            assert!(MIGRATION.sql.contains(&format!("{} ", key.column())), "{key:?}");
        }
        assert_eq!(
            Order {
                by: PaymentSort::Uin,
                direction: Direction::Ascending
            }
            .sql(),
            " ORDER BY COALESCE(uin, '') ASC, payment_id"
        );
        assert_eq!(
            Order::<QuittanceSort>::default().sql(),
            " ORDER BY created_at DESC, uin, settlement"
        );
    }
}
