//! Store: transient Data API errors are retried.

use crate::common;

use std::time::Duration;

#[tokio::test]
async fn a_resuming_database_is_retried_through() {
    common::on_each_backend_with(common::auto_pause(Duration::from_millis(300)), async |db| {
        let ctx = db.name;
        let i = common::instance("i-resume", common::packages(3));
        // Let the database "pause": the next call gets DatabaseResumingException.
        tokio::time::sleep(Duration::from_millis(600)).await;
        let before = db.store.data_api_calls();
        db.store
            .put_instance(&i)
            .await
            .unwrap_or_else(|e| panic!("{ctx}: not retried: {e:?}"));
        let calls = db.store.data_api_calls() - before;
        assert!(
            calls > 2,
            "{ctx}: expected failed attempts before success, made {calls} calls"
        );
        assert_eq!(
            db.record(&i.id).await.instance.packages,
            i.packages,
            "{ctx}"
        );
    })
    .await;
}

#[tokio::test]
async fn retries_give_up_with_a_transient_error() {
    common::on_each_backend_with(common::auto_pause(Duration::from_millis(100)), async |db| {
        let ctx = db.name;
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
        assert!(err.is_retryable(), "{ctx}: {err:?}");
        assert_eq!(store.data_api_calls(), 2, "{ctx}");
    })
    .await;
}
