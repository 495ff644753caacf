use time::macros::datetime;

use super::*;
use crate::test_db::{Database, on_both_backends};

async fn the_first_answer_stands(database: Database) {
    let db = database.open().await;
    let now = datetime!(2021-07-01 12:00 UTC);
    assert_eq!(find(&db, "req-1").await.unwrap(), None);
    let response = Answer::Response(El::new("urn:x", "R").with("a", "1 & 2"));
    let kept = keep(&db, "req-1", "resp-1", &response, now).await.unwrap();
    assert_eq!(
        kept,
        Kept {
            response_id: "resp-1".into(),
            answer: response.clone()
        }
    );
    // A second evaluation of the same request does not replace the first answer.
    let other = Answer::Status {
        code: 7,
        description: "нет".into(),
    };
    assert_eq!(keep(&db, "req-1", "resp-2", &other, now).await.unwrap(), kept);
    // Every kind reads back.
    assert_eq!(
        keep(&db, "req-2", "resp-3", &other, now).await.unwrap().answer,
        other
    );
    let rejected = Answer::Rejected("not a request".into());
    assert_eq!(
        keep(&db, "req-3", "resp-4", &rejected, now).await.unwrap().answer,
        rejected
    );
    db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_keeps_its_first_answer() {
    on_both_backends!(the_first_answer_stands);
}
