//! What the hosted service accepts and refuses, through the real SDK on every backend: numbered
//! parameters, one statement per call, malformed requests on a kept-alive connection,
//! transactions that hold connections, the `schema` parameter, results in JSON format, and the
//! result types the service refuses or returns as blobs.

use crate::common;

use std::time::Duration;

use aws_sdk_rdsdata::primitives::Blob;
use aws_sdk_rdsdata::types::{Field, RecordsFormatType};
use common::*;
use data_api_local::{LOCAL_CLUSTER_ARN, LOCAL_SECRET_ARN};

/// The answer to more than one statement in a call on Aurora Serverless v2 and provisioned
/// clusters ("Comparing Data API behaviors"): "An error occurred (ValidationException) when calling
/// the ExecuteStatement operation: Multistatements aren't supported." BatchExecuteStatement gets
/// the same answer (the page documents ExecuteStatement only).
const MULTISTATEMENTS: &str = "Multistatements aren't supported.";
/// The answer to `schema` on Aurora Serverless v2 and provisioned clusters ("Comparing Data API
/// behaviors"), with the error type `ValidationException`.
const SCHEMA_REFUSED: &str = "The schema parameter isn't supported";
/// The JSON-format guide's example: a BLOB holding `hello world`, base64-encoded.
const HELLO_WORLD_BASE64: &str = "aGVsbG8gd29ybGQ=";

/// Far below the old 30 s wait for a pooled connection: a call that waits for a connection held
/// by an abandoned transaction fails this bound.
const PROMPTLY: Duration = Duration::from_secs(5);

async fn promptly<T>(what: &str, call: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(PROMPTLY, call)
        .await
        .unwrap_or_else(|_| panic!("{what} waited for a connection"))
}

fn string(field: &Field) -> &str {
    field.as_string_value().expect("a stringValue")
}

#[tokio::test]
async fn numbered_parameters_bind_in_every_operation() {
    each_backend(async |h| {
        h.rows("CREATE TABLE np (id BIGINT PRIMARY KEY, name VARCHAR(20))")
            .await;
        let out = h
            .execute("INSERT INTO np (id, name) VALUES (:0, :1)")
            .parameters(long("0", 1))
            .parameters(text("1", "one"))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{:?}: {e:?}", h.kind));
        assert_eq!(out.number_of_records_updated, 1);

        let out = h
            .batch("INSERT INTO np (id, name) VALUES (:0, :1)")
            .parameter_sets(vec![long("0", 2), text("1", "two")])
            .parameter_sets(vec![long("0", 3), text("1", "three")])
            .send()
            .await
            .unwrap_or_else(|e| panic!("{:?}: {e:?}", h.kind));
        assert_eq!(out.update_results().len(), 2);

        let tx = h.begin().await;
        h.execute("UPDATE np SET name = :1 WHERE id = :0")
            .parameters(long("0", 3))
            .parameters(text("1", "drei"))
            .transaction_id(&tx)
            .send()
            .await
            .unwrap();
        h.batch("DELETE FROM np WHERE id = :0")
            .parameter_sets(vec![long("0", 2)])
            .transaction_id(&tx)
            .send()
            .await
            .unwrap();
        assert_eq!(h.end(&tx, true).await.unwrap(), "Transaction Committed");

        // A name used twice binds twice; the same text inside a literal stays text.
        let rows = h
            .execute("SELECT name, ':0' FROM np WHERE id = :0 OR id = :0 + 2 ORDER BY id")
            .parameters(long("0", 1))
            .send()
            .await
            .unwrap()
            .records
            .unwrap();
        let got: Vec<(&str, &str)> = rows
            .iter()
            .map(|r| (string(&r[0]), string(&r[1])))
            .collect();
        assert_eq!(got, vec![("one", ":0"), ("drei", ":0")], "{:?}", h.kind);

        // A numbered placeholder without its value is refused like a named one.
        let err = h
            .execute("SELECT :1")
            .parameters(long("0", 1))
            .send()
            .await
            .unwrap_err();
        assert_eq!(error_code(&err), "BadRequestException", "{:?}", h.kind);
        assert!(
            error_message(&err).contains(": 1"),
            "{}",
            error_message(&err)
        );
    })
    .await;
}

#[tokio::test]
async fn more_than_one_statement_is_refused_like_the_hosted_service() {
    each_backend(async |h| {
        h.rows("CREATE TABLE ms (id BIGINT PRIMARY KEY, note VARCHAR(40))")
            .await;
        for sql in [
            "SELECT 1; SELECT 2",
            "INSERT INTO ms (id) VALUES (1); INSERT INTO ms (id) VALUES (2)",
            "SELECT 1;\n-- a comment\nSELECT 2;",
            "INSERT INTO ms (id, note) VALUES (1, 'x;y');DELETE FROM ms",
        ] {
            let refusals = [
                h.execute(sql)
                    .send()
                    .await
                    .map(drop)
                    .map_err(|e| (error_code(&e), error_message(&e))),
                h.batch(sql)
                    .send()
                    .await
                    .map(drop)
                    .map_err(|e| (error_code(&e), error_message(&e))),
            ];
            for refusal in refusals {
                let expected = (
                    "ValidationException".to_string(),
                    MULTISTATEMENTS.to_string(),
                );
                assert_eq!(refusal, Err(expected), "{:?}: {sql}", h.kind);
            }
        }
        // The SDK sees a 400 it has no typed variant for: an unhandled error with that code,
        // not the model's BadRequestException.
        let err = h.execute("SELECT 1; SELECT 2").send().await.unwrap_err();
        assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(400));
        let err = err.into_service_error();
        assert!(!err.is_bad_request_exception(), "{:?}: {err:?}", h.kind);
        assert_eq!(
            aws_sdk_rdsdata::error::ProvideErrorMetadata::code(&err),
            Some("ValidationException")
        );
        // Nothing of the refused calls ran.
        assert_eq!(h.count("ms").await, 0, "{:?}", h.kind);

        // Semicolons in literals, comments, or trailing, are not statements.
        h.rows("INSERT INTO ms (id, note) VALUES (1, 'a;b');").await;
        h.rows("INSERT INTO ms (id, note) VALUES (2, 'c') -- trailing; comment\n")
            .await;
        h.rows("/* ; */ INSERT INTO ms (id, note) VALUES (3, ';') ; ;")
            .await;
        h.batch("INSERT INTO ms (id, note) VALUES (:id, 'batch;');")
            .parameter_sets(vec![long("id", 4)])
            .send()
            .await
            .unwrap();
        assert_eq!(h.count("ms").await, 4, "{:?}", h.kind);

        // A routine with a compound body is one statement, as the hosted service runs it.
        match h.kind {
            Kind::Postgres => {
                h.rows(
                    "CREATE FUNCTION ms_count() RETURNS bigint LANGUAGE plpgsql AS $body$
                     DECLARE n bigint;
                     BEGIN SELECT count(*) INTO n FROM ms; RETURN n; END
                     $body$;",
                )
                .await;
                let rows = h.rows("SELECT ms_count()").await;
                assert_eq!(rows[0][0], Field::LongValue(4));
            }
            Kind::MySql => {
                h.rows(
                    "CREATE DEFINER = CURRENT_USER PROCEDURE ms_add(IN k BIGINT)
                     BEGIN
                       DECLARE i INT DEFAULT 0;
                       WHILE i < 2 DO SET i = i + 1; END WHILE;
                       IF k > 0 THEN INSERT INTO ms (id, note) VALUES (k, 'proc;'); END IF;
                     END;",
                )
                .await;
                h.rows("CALL ms_add(5)").await;
                assert_eq!(h.count("ms").await, 5);
            }
            Kind::Sqlite => {
                h.rows(
                    "CREATE TRIGGER ms_note AFTER INSERT ON ms BEGIN
                       UPDATE ms SET note = 'trigger;' WHERE id = NEW.id;
                       UPDATE ms SET note = note || '!' WHERE id = NEW.id;
                     END",
                )
                .await;
                h.rows("INSERT INTO ms (id) VALUES (5)").await;
                let rows = h.rows("SELECT note FROM ms WHERE id = 5").await;
                assert_eq!(string(&rows[0][0]), "trigger;!");
            }
        }
    })
    .await;
}

/// `(path, body, status, error type)` for malformed or refused requests on every operation.
fn malformed_requests() -> Vec<(&'static str, String, u16, &'static str)> {
    use serde_json::json;
    let (arn, secret) = (LOCAL_CLUSTER_ARN, LOCAL_SECRET_ARN);
    let bad = "BadRequestException";
    let mut cases = Vec::new();
    for path in OPERATION_PATHS {
        for body in ["{not json", "", "[]", "{}", r#"{"resourceArn": 5}"#, "null"] {
            cases.push((path, body.to_string(), 400, bad));
        }
        let unknown_cluster = json!({"resourceArn": "arn:aws:rds:us-east-1:1:cluster:nope", "secretArn": secret,
            "dbClusterOrInstanceArn": "arn:aws:rds:us-east-1:1:cluster:nope", "awsSecretStoreArn": secret,
            "sql": "SELECT 1", "sqlStatements": "SELECT 1", "transactionId": "t"});
        cases.push((path, unknown_cluster.to_string(), 400, bad));
        let wrong_secret = json!({"resourceArn": arn, "secretArn": "arn:wrong",
            "dbClusterOrInstanceArn": arn, "awsSecretStoreArn": "arn:wrong",
            "sql": "SELECT 1", "sqlStatements": "SELECT 1", "transactionId": "t"});
        let secrets = if path == "/ExecuteSql" {
            bad
        } else {
            "SecretsErrorException"
        };
        cases.push((path, wrong_secret.to_string(), 400, secrets));
    }
    let execute = |extra: serde_json::Value| {
        let mut body = json!({"resourceArn": arn, "secretArn": secret, "sql": "SELECT :a"});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        body.to_string()
    };
    for (body, status, kind) in [
        (
            execute(json!({"parameters": [{"name": "a", "value": {"fooValue": 1}}]})),
            400,
            bad,
        ),
        (
            execute(json!({"parameters": [{"name": "a", "value": {"blobValue": "%%%"}}]})),
            400,
            bad,
        ),
        (
            execute(
                json!({"parameters": [{"name": "a", "value": {"stringValue": "x"}, "typeHint": "BLOB"}]}),
            ),
            400,
            bad,
        ),
        (
            execute(json!({"parameters": [{"value": {"longValue": 1}}]})),
            400,
            bad,
        ),
        (
            execute(json!({"parameters": [{"name": "b", "value": {"longValue": 1}}]})),
            400,
            bad,
        ),
        (execute(json!({"sql": ""})), 400, bad),
        (
            execute(json!({"sql": "SELECT 1; SELECT 2"})),
            400,
            "ValidationException",
        ),
        (
            execute(json!({"sql": "SELECT 1", "formatRecordsAs": "XML"})),
            400,
            bad,
        ),
        (
            execute(json!({"sql": "SELECT 1", "resultSetOptions": {"decimalReturnType": "NOPE"}})),
            400,
            bad,
        ),
        (
            execute(json!({"sql": "SELEC 1"})),
            400,
            "DatabaseErrorException",
        ),
        (
            execute(json!({"sql": "SELECT * FROM no_such_table"})),
            400,
            "DatabaseErrorException",
        ),
        (
            execute(json!({"sql": "SELECT 1", "transactionId": "nope"})),
            404,
            "TransactionNotFoundException",
        ),
    ] {
        cases.push(("/Execute", body, status, kind));
    }
    let batch = json!({"resourceArn": arn, "secretArn": secret, "sql": "SELECT :a",
        "parameterSets": [[{"name": "a", "value": {"longValue": 1}}], [{"name": "a", "value": {"nope": 1}}]]});
    cases.push(("/BatchExecute", batch.to_string(), 400, bad));
    for path in ["/CommitTransaction", "/RollbackTransaction"] {
        let end = json!({"resourceArn": arn, "secretArn": secret, "transactionId": "nope"});
        cases.push((path, end.to_string(), 404, "TransactionNotFoundException"));
        let missing = json!({"resourceArn": arn, "secretArn": secret});
        cases.push((path, missing.to_string(), 400, bad));
    }
    let unknown = json!({"resourceArn": arn, "sql": "SELECT 1"}).to_string();
    for _ in 0..100 {
        cases.push((
            "/NoSuchOperation",
            unknown.clone(),
            404,
            "UnknownOperationException",
        ));
    }
    cases
}

#[tokio::test]
async fn malformed_requests_are_4xx_and_keep_the_connection() {
    each_backend(async |h| {
        let mut conn = KeepAlive::connect(h.server().local_addr()).await;
        for (path, body, status, kind) in malformed_requests() {
            let answer = conn.send("POST", path, &body).await;
            assert_eq!(
                (answer.status, answer.error_type.as_deref()),
                (status, Some(kind)),
                "{:?} POST {path} {body}: {}",
                h.kind,
                answer.body
            );
            assert!(answer.body.contains("\"message\""), "{}", answer.body);
            let follow_up = conn.send("POST", "/Execute", &select_one_call()).await;
            assert_eq!(
                follow_up.status, 200,
                "{:?} after {path} {body}: {}",
                h.kind, follow_up.body
            );
        }
        for (method, path) in [("GET", "/Execute"), ("POST", "/metrics"), ("PUT", "/x")] {
            let answer = conn.send(method, path, "{\"a\": 1}").await;
            assert_eq!(answer.status, 404, "{method} {path}");
            assert_eq!(
                answer.error_type.as_deref(),
                Some("UnknownOperationException")
            );
        }
        assert_eq!(
            conn.send("POST", "/Execute", &select_one_call())
                .await
                .status,
            200
        );
    })
    .await;
}

#[tokio::test]
async fn abandoned_transactions_starve_nobody() {
    const ABANDONED: usize = 12; // more than the old pool of 8 connections
    each_backend(async |h| {
        h.rows("CREATE TABLE ab (id BIGINT PRIMARY KEY)").await;
        for _ in 0..ABANDONED {
            let tx = promptly("BeginTransaction", h.begin()).await;
            h.execute("SELECT COUNT(*) FROM ab")
                .transaction_id(&tx)
                .send()
                .await
                .unwrap();
        }
        promptly(
            "a write outside a transaction",
            h.rows("INSERT INTO ab VALUES (1)"),
        )
        .await;
        assert_eq!(promptly("a read", h.count("ab")).await, 1);
        let tx = promptly("a new BeginTransaction", h.begin()).await;
        promptly(
            "a write in a new transaction",
            h.execute("INSERT INTO ab VALUES (2)")
                .transaction_id(&tx)
                .send(),
        )
        .await
        .unwrap_or_else(|e| panic!("{:?}: {e:?}", h.kind));
        assert_eq!(h.end(&tx, true).await.unwrap(), "Transaction Committed");
        assert_eq!(h.count("ab").await, 2, "{:?}", h.kind);
    })
    .await;
}

#[tokio::test]
async fn the_transaction_limit_answers_at_once_and_spares_other_calls() {
    for kind in kinds() {
        // 4 connections: 3 for transactions, 1 kept for other calls.
        let h = Harness::start_with(kind, |c| c.max_connections = 4).await;
        let open: Vec<String> = {
            let mut open = Vec::new();
            for _ in 0..3 {
                open.push(promptly("BeginTransaction", h.begin()).await);
            }
            open
        };
        let err = promptly(
            "a BeginTransaction over the limit",
            h.client
                .begin_transaction()
                .resource_arn(LOCAL_CLUSTER_ARN)
                .secret_arn(LOCAL_SECRET_ARN)
                .send(),
        )
        .await
        .unwrap_err();
        assert_eq!(error_code(&err), "DatabaseErrorException", "{kind:?}");
        assert!(
            error_message(&err).contains("Too many connections"),
            "{}",
            error_message(&err)
        );
        assert_eq!(promptly("SELECT 1", h.rows("SELECT 1")).await.len(), 1);
        assert_eq!(h.end(&open[0], false).await.unwrap(), "Rollback Complete");
        let again = promptly("BeginTransaction after a rollback", h.begin()).await;
        h.end(&again, false).await.unwrap();
        h.finish().await;
    }
}

#[tokio::test]
async fn a_second_sqlite_writer_waits_a_bounded_time_then_fails_clearly() {
    let h = Harness::start(Kind::Sqlite).await;
    h.rows("CREATE TABLE w (id BIGINT PRIMARY KEY)").await;
    let holder = h.begin().await;
    h.execute("INSERT INTO w VALUES (1)")
        .transaction_id(&holder)
        .send()
        .await
        .unwrap();
    // Readers go on while the write lock is held.
    assert_eq!(h.count("w").await, 0);
    let err = h
        .execute("INSERT INTO w VALUES (2)")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "DatabaseErrorException");
    assert!(
        error_message(&err).contains("database is locked")
            && error_message(&err).contains("another transaction"),
        "{}",
        error_message(&err)
    );
    assert_eq!(h.end(&holder, false).await.unwrap(), "Rollback Complete");
    h.rows("INSERT INTO w VALUES (2)").await;
    assert_eq!(h.count("w").await, 1);
    h.finish().await;
}

#[tokio::test]
async fn a_call_on_a_busy_transaction_is_refused_not_queued() {
    for kind in kinds() {
        let sleep = match kind {
            Kind::Sqlite => continue, // no sleep function
            Kind::Postgres => "SELECT pg_sleep(1)",
            Kind::MySql => "SELECT SLEEP(1)",
        };
        let h = Harness::start(kind).await;
        let tx = h.begin().await;
        let slow = h.execute(sleep).transaction_id(&tx).send();
        let second = async {
            sleep_ms(200).await;
            h.execute("SELECT 1").transaction_id(&tx).send().await
        };
        let (slow, second) = tokio::join!(slow, second);
        slow.unwrap();
        let err = second.unwrap_err();
        assert_eq!(error_code(&err), "DatabaseErrorException", "{kind:?}");
        assert_eq!(error_message(&err), "Transaction is still running a query");
        assert_eq!(h.end(&tx, true).await.unwrap(), "Transaction Committed");
        h.finish().await;
    }
}

#[tokio::test]
async fn json_records_come_without_column_metadata() {
    each_backend(async |h| {
        h.rows("CREATE TABLE jm (id BIGINT PRIMARY KEY, name VARCHAR(20))")
            .await;
        h.rows("INSERT INTO jm VALUES (1, 'one')").await;
        for sql in [
            "SELECT id, name FROM jm",
            "SELECT id, name FROM jm WHERE id < 0",
        ] {
            let out = h
                .execute(sql)
                .format_records_as(RecordsFormatType::Json)
                .include_result_metadata(true)
                .send()
                .await
                .unwrap_or_else(|e| panic!("{:?}: {sql}: {e:?}", h.kind));
            // The model: columnMetadata "is blank if formatRecordsAs is JSON", like records.
            assert_eq!(out.column_metadata, None, "{:?}: {sql}", h.kind);
            assert_eq!(out.records, None, "{:?}: {sql}", h.kind);
            assert!(out.formatted_records.is_some(), "{:?}: {sql}", h.kind);
        }
        // Without JSON the metadata comes as asked.
        let out = h
            .execute("SELECT id, name FROM jm")
            .include_result_metadata(true)
            .send()
            .await
            .unwrap();
        assert_eq!(out.column_metadata().len(), 2, "{:?}", h.kind);
    })
    .await;
}

#[tokio::test]
async fn json_records_refuse_two_columns_of_one_name() {
    each_backend(async |h| {
        h.rows("CREATE TABLE jd (id BIGINT PRIMARY KEY)").await;
        let refused_as_json = async |sql: &str| {
            let call = h.execute(sql).format_records_as(RecordsFormatType::Json);
            let err = call.send().await.unwrap_err();
            (error_code(&err), error_message(&err))
        };
        // A self-join names two columns `id`, already in a result without rows.
        let self_join = "SELECT x.id, y.id FROM jd x JOIN jd y ON y.id = x.id";
        let (code, _) = refused_as_json(self_join).await;
        assert_eq!(code, "BadRequestException", "{:?}: no rows", h.kind);
        h.rows("INSERT INTO jd VALUES (7)").await;
        for sql in [self_join, "SELECT 1 AS a, 2 AS a"] {
            let (code, message) = refused_as_json(sql).await;
            assert_eq!(code, "BadRequestException", "{:?}: {sql}", h.kind);
            assert!(
                message.contains("more than one column") && message.contains("JSON"),
                "{:?}: {message}",
                h.kind
            );
            // The same result as records has both columns.
            assert_eq!(h.rows(sql).await[0].len(), 2, "{:?}: {sql}", h.kind);
        }
        // Labels that differ in case are different JSON keys.
        let out = h
            .execute(h.sql(
                r#"SELECT 1 AS a, 2 AS "A""#,
                r#"SELECT 1 AS a, 2 AS "A""#,
                "SELECT 1 AS a, 2 AS `A`",
            ))
            .format_records_as(RecordsFormatType::Json)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{:?}: {e:?}", h.kind));
        assert_eq!(out.formatted_records(), Some(r#"[{"a":1,"A":2}]"#));
    })
    .await;
}

/// `(error type, message)` of a failed call, for comparing refusals whole.
fn refusal<T, E: aws_sdk_rdsdata::error::ProvideErrorMetadata, R>(
    result: Result<T, aws_sdk_rdsdata::error::SdkError<E, R>>,
) -> Result<(), (String, String)> {
    result
        .map(drop)
        .map_err(|e| (error_code(&e), error_message(&e)))
}

#[tokio::test]
async fn the_schema_parameter_is_refused_as_on_serverless_v2() {
    each_backend(async |h| {
        h.rows("CREATE TABLE sp (id BIGINT PRIMARY KEY)").await;
        // Any schema, the engine's default one and an empty name included.
        for schema in [h.sql("main", "public", "test"), ""] {
            let begin = h
                .client
                .begin_transaction()
                .resource_arn(LOCAL_CLUSTER_ARN)
                .secret_arn(LOCAL_SECRET_ARN)
                .schema(schema);
            let refusals = [
                refusal(
                    h.execute("INSERT INTO sp VALUES (1)")
                        .schema(schema)
                        .send()
                        .await,
                ),
                refusal(
                    h.batch("INSERT INTO sp VALUES (:id)")
                        .schema(schema)
                        .parameter_sets(vec![long("id", 2)])
                        .send()
                        .await,
                ),
                refusal(begin.send().await),
            ];
            let expected = (
                "ValidationException".to_string(),
                SCHEMA_REFUSED.to_string(),
            );
            for refused in refusals {
                assert_eq!(
                    refused,
                    Err(expected.clone()),
                    "{:?} schema {schema:?}",
                    h.kind
                );
            }
        }
        let err = h.execute("SELECT 1").schema("x").send().await.unwrap_err();
        assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(400));
        // Nothing of the refused calls ran, and the same calls without `schema` run.
        assert_eq!(h.count("sp").await, 0, "{:?}", h.kind);
        h.rows("INSERT INTO sp VALUES (1)").await;
        assert_eq!(h.count("sp").await, 1);
    })
    .await;
}

#[tokio::test]
async fn postgres_money_and_geometric_results_are_unsupported() {
    if !kinds().contains(&Kind::Postgres) {
        return;
    }
    let h = Harness::start(Kind::Postgres).await;
    h.rows("CREATE TABLE shop (id BIGINT PRIMARY KEY, price MONEY, spot POINT)")
        .await;
    h.rows("INSERT INTO shop VALUES (1, 12.5, point(1, 2)), (2, NULL, NULL)")
        .await;
    for (sql, data_type) in [
        ("SELECT 12.5::money", "money"),
        ("SELECT id, price FROM shop WHERE id = 1", "money"),
        // A NULL of the type too: the type is what the service refuses.
        ("SELECT spot FROM shop WHERE id = 2", "point"),
        ("SELECT point(1, 2)", "point"),
        ("SELECT lseg(point(0, 0), point(1, 1))", "lseg"),
        ("SELECT line(point(0, 0), point(1, 1))", "line"),
        ("SELECT box(point(0, 0), point(1, 1))", "box"),
        ("SELECT path(polygon '((0,0),(1,1),(1,0))')", "path"),
        ("SELECT polygon '((0,0),(1,1),(1,0))'", "polygon"),
        ("SELECT circle(point(0, 0), 1)", "circle"),
        ("SELECT ARRAY[12.5::money]", "_money"),
        ("SELECT ARRAY[point(1, 2)]", "_point"),
    ] {
        for format in [RecordsFormatType::None, RecordsFormatType::Json] {
            let err = h
                .execute(sql)
                .format_records_as(format.clone())
                .send()
                .await
                .unwrap_err();
            assert_eq!(
                (error_code(&err), error_message(&err)),
                (
                    "UnsupportedResultException".to_string(),
                    format!("The result contains the unsupported data type {data_type}")
                ),
                "{sql} ({format:?})"
            );
            assert!(err.into_service_error().is_unsupported_result_exception());
        }
    }
    // A batch reading such a column back (RETURNING) is refused the same way, and, atomic
    // without a transaction, leaves nothing behind. (Ours: [DIFF] documents ExecuteStatement.)
    let err = h
        .batch("INSERT INTO shop (id, price) VALUES (:id, 3) RETURNING price")
        .parameter_sets(vec![long("id", 3)])
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        (error_code(&err), error_message(&err)),
        (
            "UnsupportedResultException".to_string(),
            "The result contains the unsupported data type money".to_string()
        )
    );
    assert_eq!(h.count("shop").await, 2);
    // ExecuteStatement outside a transaction is refused after the statement has run (ours too).
    let err = h
        .execute("INSERT INTO shop (id, price) VALUES (4, 3) RETURNING price")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "UnsupportedResultException");
    assert_eq!(h.count("shop").await, 3);
    // The documented way out: cast to text. A result without rows has no value to refuse.
    let rows = h
        .rows("SELECT price::text, spot::text FROM shop WHERE id = 1")
        .await;
    assert_eq!(
        rows[0],
        [
            Field::StringValue("$12.50".into()),
            Field::StringValue("(1,2)".into())
        ]
    );
    assert!(h
        .rows("SELECT price FROM shop WHERE id < 0")
        .await
        .is_empty());
    h.finish().await;
}

#[tokio::test]
async fn json_records_carry_blobs_in_base64() {
    each_backend(async |h| {
        h.rows(h.sql(
            "CREATE TABLE jb (id BIGINT PRIMARY KEY, blob_column BLOB)",
            "CREATE TABLE jb (id BIGINT PRIMARY KEY, blob_column BYTEA)",
            "CREATE TABLE jb (id BIGINT PRIMARY KEY, blob_column BLOB)",
        ))
        .await;
        // Bytes that are valid UTF-8 are still bytes.
        let hello = Blob::new(b"hello world".to_vec());
        h.execute("INSERT INTO jb VALUES (1, :b)")
            .parameters(param("b", Field::BlobValue(hello.clone())))
            .send()
            .await
            .unwrap();
        let out = h
            .execute("SELECT blob_column FROM jb")
            .format_records_as(RecordsFormatType::Json)
            .send()
            .await
            .unwrap();
        let expected = format!(r#"[{{"blob_column":"{HELLO_WORLD_BASE64}"}}]"#);
        assert_eq!(
            out.formatted_records(),
            Some(expected.as_str()),
            "{:?}",
            h.kind
        );
        let rows = h.rows("SELECT blob_column FROM jb").await;
        assert_eq!(rows[0][0], Field::BlobValue(hello), "{:?}", h.kind);
    })
    .await;
}

#[tokio::test]
async fn mariadb_binary_columns_are_blobs_by_charset_not_by_content() {
    if !kinds().contains(&Kind::MySql) {
        return;
    }
    let h = Harness::start(Kind::MySql).await;
    h.rows(
        "CREATE TABLE bin (id BIGINT PRIMARY KEY,
           bl BLOB, tb TINYBLOB, mb MEDIUMBLOB, lb LONGBLOB, vb VARBINARY(32), b BINARY(11),
           t TEXT, tbin TEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin,
           vbin VARCHAR(32) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin,
           a CHAR(11) CHARACTER SET ascii COLLATE ascii_bin,
           l VARCHAR(11) CHARACTER SET latin1 COLLATE latin1_bin, j JSON)",
    )
    .await;
    let hello = Blob::new(b"hello world".to_vec());
    let binary = ["bl", "tb", "mb", "lb", "vb", "b"];
    let text = ["t", "tbin", "vbin", "a", "l"];
    let mut insert = h.execute(
        "INSERT INTO bin VALUES (1, :bl, :tb, :mb, :lb, :vb, :b, :t, :tbin, :vbin, :a, :l, :j)",
    );
    for name in binary {
        insert = insert.parameters(param(name, Field::BlobValue(hello.clone())));
    }
    for name in text {
        insert = insert.parameters(common::text(name, "hello world"));
    }
    insert = insert.parameters(common::text("j", r#"{"a": "héllo"}"#));
    insert.send().await.unwrap();

    let out = h
        .execute("SELECT bl, tb, mb, lb, vb, b, t, tbin, vbin, a, l, j FROM bin")
        .include_result_metadata(true)
        .send()
        .await
        .unwrap();
    let row = &out.records()[0];
    for (i, name) in binary.iter().enumerate() {
        assert_eq!(row[i], Field::BlobValue(hello.clone()), "{name}");
    }
    for (i, name) in text.iter().enumerate() {
        let got = &row[binary.len() + i];
        assert_eq!(*got, Field::StringValue("hello world".into()), "{name}");
    }
    assert_eq!(
        row[11],
        Field::StringValue(r#"{"a": "héllo"}"#.into()),
        "json"
    );
    // Column metadata tells the two kinds apart the same way.
    let type_names: Vec<_> = out
        .column_metadata()
        .iter()
        .map(|c| c.type_name().unwrap_or(""))
        .collect();
    // MariaDB's JSON is an alias of LONGTEXT (utf8mb4_bin); MySQL's is a type of its own.
    let version = h.rows("SELECT VERSION()").await;
    let json_type = if string(&version[0][0]).contains("MariaDB") {
        "TEXT"
    } else {
        "JSON"
    };
    assert_eq!(
        type_names,
        // (The protocol sends every BLOB and TEXT size as BLOB.)
        [
            "BLOB",
            "BLOB",
            "BLOB",
            "BLOB",
            "VARBINARY",
            "BINARY",
            "TEXT",
            "TEXT",
            "VARCHAR",
            "CHAR",
            "VARCHAR",
            json_type
        ]
    );
    // And so do their JDBC codes: text is VARCHAR (12) or CHAR (1), not BINARY (-2).
    let codes: Vec<i32> = out.column_metadata().iter().map(|c| c.r#type()).collect();
    assert_eq!(codes, [-2, -2, -2, -2, -2, -2, 12, 12, 12, 1, 12, 12]);

    // Expressions: binary strings are blobs, text with a binary collation is text.
    let hello5 = Blob::new(b"hello".to_vec());
    let rows = h
        .rows(
            "SELECT UNHEX('68656C6C6F'), CAST('hello' AS BINARY), X'68656C6C6F',
                    'hello' COLLATE utf8mb4_bin, CONCAT('hel', 'lo'), JSON_OBJECT('a', 1)",
        )
        .await;
    assert_eq!(
        rows[0],
        [
            Field::BlobValue(hello5.clone()),
            Field::BlobValue(hello5.clone()),
            Field::BlobValue(hello5),
            Field::StringValue("hello".into()),
            Field::StringValue("hello".into()),
            Field::StringValue(r#"{"a": 1}"#.into()),
        ]
    );
    // In JSON format a binary value is its base64 text, a text value its text.
    let out = h
        .execute("SELECT bl AS blob_column, tbin FROM bin")
        .format_records_as(RecordsFormatType::Json)
        .send()
        .await
        .unwrap();
    let expected = format!(r#"[{{"blob_column":"{HELLO_WORLD_BASE64}","tbin":"hello world"}}]"#);
    assert_eq!(out.formatted_records(), Some(expected.as_str()));
    h.finish().await;
}
