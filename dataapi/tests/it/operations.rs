//! Limits, auto-pause, metrics and protocol errors of the endpoint.

use crate::common;

use std::time::Duration;

use aws_sdk_rdsdata::types::Field;
use common::*;
use data_api_local::{
    LOCAL_CLUSTER_ARN, LOCAL_SECRET_ARN, MAX_REQUEST_BYTES, MAX_ROW_BYTES, MAX_SQL_CHARS,
    RESUME_DURATION,
};

#[tokio::test]
async fn limits_answer_bad_request() {
    each_backend(async |h| {
        let long_sql = format!("SELECT 1 {}", " ".repeat(MAX_SQL_CHARS));
        let err = h.execute(&long_sql).send().await.unwrap_err();
        assert_eq!(error_code(&err), "BadRequestException");
        assert!(error_message(&err).contains("65536"), "{}", error_message(&err));

        // One row over 64 KB.
        let big = "x".repeat(MAX_ROW_BYTES + 1);
        let err = h.execute("SELECT :big").parameters(text("big", &big)).send().await.unwrap_err();
        assert_eq!(error_code(&err), "BadRequestException", "{:?}", h.kind);

        // Rows under 64 KB each, over 1 MiB together.
        let chunk = "y".repeat(60_000);
        let sql = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20) SELECT :chunk FROM n";
        let err = h.execute(sql).parameters(text("chunk", &chunk)).send().await.unwrap_err();
        assert_eq!(error_code(&err), "BadRequestException", "{:?}", h.kind);
        assert!(error_message(&err).contains("response size"), "{}", error_message(&err));
        // Under the limit the same query answers.
        let out = h.execute(sql.replace("< 20", "< 5").as_str()).parameters(text("chunk", &chunk)).send().await.unwrap();
        assert_eq!(out.records().len(), 5);
    })
    .await;
}

#[tokio::test]
async fn oversized_request_body_is_refused_with_a_response() {
    let h = Harness::start(Kind::Sqlite).await;
    let huge = "z".repeat(MAX_REQUEST_BYTES + 10);
    let err = h
        .execute("SELECT :a")
        .parameters(text("a", &huge))
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "BadRequestException");
    assert!(
        error_message(&err).contains("maximum size"),
        "{}",
        error_message(&err)
    );
    // The endpoint still serves.
    assert_eq!(h.rows("SELECT 1").await[0][0], Field::LongValue(1));
    h.finish().await;
}

#[tokio::test]
async fn malformed_requests_are_client_errors() {
    let h = Harness::start(Kind::Sqlite).await;
    let addr = h.server().local_addr();
    let (status, kind, body) = http(addr, "POST", "/Execute", "{not json").await;
    assert_eq!(status, 400);
    assert_eq!(kind.as_deref(), Some("BadRequestException"));
    assert!(body.contains("\"message\""), "{body}");
    let (status, kind, _) = http(addr, "POST", "/Execute", r#"{"sql": "select 1"}"#).await;
    assert_eq!(
        (status, kind.as_deref()),
        (400, Some("BadRequestException"))
    );
    let body = format!(
        r#"{{"resourceArn": "{LOCAL_CLUSTER_ARN}", "secretArn": "{LOCAL_SECRET_ARN}", "sql": "select 1", "parameters": [{{"name": "a", "value": {{"blobValue": "%%%"}}}}]}}"#
    );
    let (status, _, _) = http(addr, "POST", "/Execute", &body).await;
    assert_eq!(status, 400);
    let (status, kind, _) = http(addr, "GET", "/Execute", "").await;
    assert_eq!(
        (status, kind.as_deref()),
        (404, Some("UnknownOperationException"))
    );
    let (status, kind, _) = http(addr, "POST", "/Nope", "{}").await;
    assert_eq!(
        (status, kind.as_deref()),
        (404, Some("UnknownOperationException"))
    );
    h.finish().await;
}

#[tokio::test]
async fn auto_pause_answers_resuming_then_serves() {
    let h = Harness::start_with(Kind::Sqlite, |c| {
        c.auto_pause = Some(Duration::from_millis(200))
    })
    .await;
    // Start-up on a loaded machine may itself outlast the 200 ms idle period;
    // then the first calls rightly answer resuming. Wait until one is served.
    let deadline = std::time::Instant::now() + RESUME_DURATION * 3;
    loop {
        match h.execute("SELECT 1").send().await {
            Ok(_) => break,
            Err(e) if std::time::Instant::now() < deadline => {
                assert_eq!(error_code(&e), "DatabaseResumingException");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("never served after resuming: {e:?}"),
        }
    }
    sleep_ms(400).await;
    let err = h.execute("SELECT 1").send().await.unwrap_err();
    assert!(err.into_service_error().is_database_resuming_exception());
    let err = h.execute("SELECT 1").send().await.unwrap_err();
    assert_eq!(error_code(&err), "DatabaseResumingException");
    tokio::time::sleep(RESUME_DURATION + Duration::from_millis(100)).await;
    assert_eq!(h.rows("SELECT 1").await.len(), 1);
    h.finish().await;
}

#[tokio::test]
async fn metrics_count_calls_by_operation_and_outcome() {
    let h = Harness::start_with(Kind::Sqlite, |c| c.latency = Duration::from_millis(5)).await;
    for _ in 0..3 {
        h.rows("SELECT 1").await;
    }
    let _ = h
        .execute("SELECT * FROM missing_table")
        .send()
        .await
        .unwrap_err();
    let tx = h.begin().await;
    assert!(!tx.is_empty());
    let (status, _, text) = http(h.server().local_addr(), "GET", "/metrics", "").await;
    assert_eq!(status, 200);
    assert!(
        text.contains("data_api_requests_total{operation=\"ExecuteStatement\",outcome=\"ok\"} 3\n"),
        "{text}"
    );
    assert!(text.contains("data_api_requests_total{operation=\"ExecuteStatement\",outcome=\"DatabaseErrorException\"} 1\n"), "{text}");
    assert!(
        text.contains("data_api_requests_total{operation=\"BeginTransaction\",outcome=\"ok\"} 1\n"),
        "{text}"
    );
    assert!(
        text.contains(
            "data_api_request_duration_seconds_count{operation=\"ExecuteStatement\"} 4\n"
        ),
        "{text}"
    );
    // The configured latency is part of every call.
    assert!(text.contains("data_api_request_duration_seconds_bucket{operation=\"ExecuteStatement\",le=\"0.001\"} 0\n"), "{text}");
    h.finish().await;
}
