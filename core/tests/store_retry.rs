//! Store: transient Data API errors are retried.

mod common;

use std::time::Duration;

#[tokio::test]
async fn a_resuming_database_is_retried_through() {
    let dbs = common::backends_with(|c| c.auto_pause = Some(Duration::from_millis(300))).await;
    for db in dbs {
        let i = common::instance("i-resume", common::packages(3));
        // Let the database "pause": the next call gets DatabaseResumingException.
        tokio::time::sleep(Duration::from_millis(600)).await;
        let before = db.store.data_api_calls();
        db.store
            .put_instance(&i)
            .await
            .unwrap_or_else(|e| panic!("{}: not retried: {e:?}", db.name));
        let calls = db.store.data_api_calls() - before;
        assert!(
            calls > 2,
            "{}: expected failed attempts before success, made {calls} calls",
            db.name
        );
        assert_eq!(
            db.store
                .get_instance(&i.id)
                .await
                .unwrap()
                .unwrap()
                .instance
                .packages,
            i.packages,
            "{}",
            db.name
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn retries_give_up_with_a_transient_error() {
    let dbs = common::backends_with(|c| c.auto_pause = Some(Duration::from_millis(100))).await;
    for db in dbs {
        let store = db
            .fresh_store()
            .with_retry_policy(inventory_core::store::RetryPolicy {
                max_attempts: 2,
                base_delay: Duration::from_millis(10),
                max_delay: Duration::from_millis(10),
            });
        tokio::time::sleep(Duration::from_millis(300)).await;
        let err = store
            .get_instance(&inventory_core::model::InstanceId::parse("i-x").unwrap())
            .await
            .unwrap_err();
        assert!(err.is_transient(), "{}: {err:?}", db.name);
        assert_eq!(store.data_api_calls(), 2, "{}", db.name);
        db.finish().await;
    }
}
