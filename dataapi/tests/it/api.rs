//! The endpoint driven by the real `aws-sdk-rdsdata` client, on every available backend.

use crate::common;

use aws_sdk_rdsdata::primitives::Blob;
use aws_sdk_rdsdata::types::{
    ArrayValue, DecimalReturnType, Field, LongReturnType, RecordsFormatType, ResultSetOptions,
    TypeHint,
};
use common::*;
use data_api_local::{LOCAL_CLUSTER_ARN, LOCAL_SECRET_ARN};

const ALL_TYPES_SQLITE: &str = "CREATE TABLE t (id INTEGER PRIMARY KEY, b BOOLEAN, l INTEGER, d REAL, s TEXT, bl BLOB, ts TEXT, dt TEXT, tm TEXT, dec TEXT, j TEXT, u TEXT)";
const ALL_TYPES_PG: &str = "CREATE TABLE t (id BIGINT PRIMARY KEY, b BOOLEAN, l BIGINT, d DOUBLE PRECISION, s TEXT, bl BYTEA, ts TIMESTAMP, dt DATE, tm TIME, dec NUMERIC(10,2), j JSON, u UUID)";
const ALL_TYPES_MYSQL: &str = "CREATE TABLE t (id BIGINT PRIMARY KEY, b BOOLEAN, l BIGINT, d DOUBLE, s TEXT, bl BLOB, ts DATETIME(3), dt DATE, tm TIME, `dec` DECIMAL(10,2), j JSON, u CHAR(36))";
const INSERT_ALL: &str =
    "INSERT INTO t VALUES (:id, :b, :l, :d, :s, :bl, :ts, :dt, :tm, :dec, :j, :u)";

fn all_type_params(id: i64) -> Vec<aws_sdk_rdsdata::types::SqlParameter> {
    vec![
        long("id", id),
        param("b", Field::BooleanValue(true)),
        long("l", -9_007_199_254_740_993),
        param("d", Field::DoubleValue(2.5)),
        text("s", "héllo ' :not_a_param"),
        param("bl", Field::BlobValue(Blob::new(vec![0u8, 1, 254, 255]))),
        hinted("ts", "2024-01-02 03:04:05.123", TypeHint::Timestamp),
        hinted("dt", "2024-01-02", TypeHint::Date),
        hinted("tm", "03:04:05", TypeHint::Time),
        hinted("dec", "12.50", TypeHint::Decimal),
        hinted("j", r#"{"a":1}"#, TypeHint::Json),
        hinted("u", "6f1c2b9e-4a6d-4c1e-9a7b-0d2f3e4a5b6c", TypeHint::Uuid),
    ]
}

#[tokio::test]
async fn every_field_type_round_trips() {
    each_backend(async |h| {
        h.rows(h.sql(ALL_TYPES_SQLITE, ALL_TYPES_PG, ALL_TYPES_MYSQL))
            .await;
        let out = h
            .execute(INSERT_ALL)
            .set_parameters(Some(all_type_params(1)))
            .send()
            .await
            .expect("insert");
        assert_eq!(out.number_of_records_updated, 1, "{:?}", h.kind);
        let select = h.sql(
            "SELECT b, l, d, s, bl, ts, dt, tm, dec, j, u FROM t",
            "SELECT b, l, d, s, bl, ts, dt, tm, dec, j, u FROM t",
            "SELECT b, l, d, s, bl, ts, dt, tm, `dec`, j, u FROM t",
        );
        let rows = h.rows(select).await;
        let row = &rows[0];
        assert_eq!(row[0], Field::BooleanValue(true), "{:?}", h.kind);
        assert_eq!(row[1], Field::LongValue(-9_007_199_254_740_993));
        assert_eq!(row[2], Field::DoubleValue(2.5));
        assert_eq!(row[3], Field::StringValue("héllo ' :not_a_param".into()));
        assert_eq!(row[4], Field::BlobValue(Blob::new(vec![0u8, 1, 254, 255])));
        assert_eq!(row[5], Field::StringValue("2024-01-02 03:04:05.123".into()));
        assert_eq!(row[6], Field::StringValue("2024-01-02".into()));
        assert_eq!(row[7], Field::StringValue("03:04:05".into()));
        assert_eq!(row[8], Field::StringValue("12.50".into()));
        let Field::StringValue(json) = &row[9] else {
            panic!("json is not a string: {:?}", row[9]);
        };
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(json).unwrap(),
            serde_json::json!({"a": 1})
        );
        assert_eq!(
            row[10],
            Field::StringValue("6f1c2b9e-4a6d-4c1e-9a7b-0d2f3e4a5b6c".into())
        );
    })
    .await;
}

#[tokio::test]
async fn nulls_round_trip() {
    each_backend(async |h| {
        h.rows(h.sql(ALL_TYPES_SQLITE, ALL_TYPES_PG, ALL_TYPES_MYSQL))
            .await;
        let mut params = all_type_params(2);
        for p in params.iter_mut().skip(1) {
            *p = param(p.name().unwrap(), Field::IsNull(true));
        }
        h.execute(INSERT_ALL)
            .set_parameters(Some(params))
            .send()
            .await
            .expect("insert nulls");
        let rows = h.rows("SELECT * FROM t").await;
        assert_eq!(rows[0][0], Field::LongValue(2));
        assert!(
            rows[0][1..].iter().all(|f| *f == Field::IsNull(true)),
            "{:?}: {rows:?}",
            h.kind
        );
    })
    .await;
}

#[tokio::test]
async fn metadata_formatted_records_and_result_options() {
    each_backend(async |h| {
        h.rows("CREATE TABLE m (id BIGINT PRIMARY KEY, name VARCHAR(20), price DECIMAL(8,2))")
            .await;
        h.rows("INSERT INTO m VALUES (7, 'seven', 3.25), (8, NULL, 4.00)")
            .await;
        let out = h
            .execute("SELECT id, name, price FROM m ORDER BY id")
            .include_result_metadata(true)
            .send()
            .await
            .unwrap();
        let meta = out.column_metadata();
        let names: Vec<_> = meta.iter().map(|c| c.name().unwrap_or("")).collect();
        assert_eq!(names, ["id", "name", "price"], "{:?}", h.kind);
        assert!(meta[0].type_name().is_some_and(|t| !t.is_empty()));
        assert_eq!(out.number_of_records_updated, 0);
        assert_eq!(out.records().len(), 2);

        let empty = h
            .execute("SELECT id, name FROM m WHERE id < 0")
            .include_result_metadata(true)
            .send()
            .await
            .unwrap();
        assert_eq!(empty.records().len(), 0);
        assert_eq!(empty.column_metadata().len(), 2, "{:?}", h.kind);

        let json = h
            .execute("SELECT id, name FROM m ORDER BY id")
            .format_records_as(RecordsFormatType::Json)
            .send()
            .await
            .unwrap();
        let parsed: serde_json::Value =
            serde_json::from_str(json.formatted_records().expect("formattedRecords")).unwrap();
        assert_eq!(
            parsed,
            serde_json::json!([{"id": 7, "name": "seven"}, {"id": 8, "name": null}])
        );
        assert!(json.records.is_none());

        let options = ResultSetOptions::builder()
            .long_return_type(LongReturnType::String)
            .decimal_return_type(DecimalReturnType::DoubleOrLong)
            .build();
        let out = h
            .execute("SELECT id, price FROM m WHERE id = 7")
            .result_set_options(options)
            .send()
            .await
            .unwrap();
        let row = &out.records()[0];
        assert_eq!(row[0], Field::StringValue("7".into()));
        // SQLite has no decimal type: REAL storage comes back as a double anyway.
        assert_eq!(row[1], Field::DoubleValue(3.25), "{:?}", h.kind);
        let default = h.rows("SELECT price FROM m WHERE id = 8").await;
        // SQLite's NUMERIC affinity stores 4.00 as the integer 4.
        let expected = match h.kind {
            Kind::Sqlite => Field::LongValue(4),
            _ => Field::StringValue("4.00".into()),
        };
        assert_eq!(default[0][0], expected, "{:?}", h.kind);
    })
    .await;
}

#[tokio::test]
async fn missing_parameter_is_a_bad_request() {
    each_backend(async |h| {
        let err = h
            .execute("SELECT :a, :b")
            .parameters(long("a", 1))
            .send()
            .await
            .unwrap_err();
        assert_eq!(error_code(&err), "BadRequestException");
        assert!(
            error_message(&err).contains("parameter: b"),
            "{}",
            error_message(&err)
        );
    })
    .await;
}

#[tokio::test]
async fn batch_is_atomic_and_reports_generated_keys() {
    each_backend(async |h| {
        h.rows(h.sql(
            "CREATE TABLE b (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE)",
            "CREATE TABLE b (id BIGSERIAL PRIMARY KEY, name TEXT UNIQUE)",
            "CREATE TABLE b (id BIGINT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(20) UNIQUE)",
        ))
        .await;
        let sets = ["a", "b", "c"].map(|n| vec![text("name", n)]).to_vec();
        let out = h
            .batch("INSERT INTO b (name) VALUES (:name)")
            .set_parameter_sets(Some(sets))
            .send()
            .await
            .unwrap();
        assert_eq!(out.update_results().len(), 3);
        if h.kind != Kind::Postgres {
            let keys: Vec<_> = out
                .update_results()
                .iter()
                .map(|u| u.generated_fields().to_vec())
                .collect();
            assert_eq!(
                keys,
                vec![
                    vec![Field::LongValue(1)],
                    vec![Field::LongValue(2)],
                    vec![Field::LongValue(3)]
                ],
                "{:?}",
                h.kind
            );
        }
        // The third set collides: nothing of this batch may stay.
        let sets = ["d", "e", "a"].map(|n| vec![text("name", n)]).to_vec();
        let err = h
            .batch("INSERT INTO b (name) VALUES (:name)")
            .set_parameter_sets(Some(sets))
            .send()
            .await
            .unwrap_err();
        assert_eq!(error_code(&err), "DatabaseErrorException");
        assert_eq!(h.count("b").await, 3, "{:?}", h.kind);
    })
    .await;
}

#[tokio::test]
async fn commit_and_rollback() {
    each_backend(async |h| {
        h.rows("CREATE TABLE c (id BIGINT PRIMARY KEY)").await;
        let tx = h.begin().await;
        h.execute("INSERT INTO c VALUES (1)")
            .transaction_id(&tx)
            .send()
            .await
            .unwrap();
        let inside = h
            .execute("SELECT COUNT(*) FROM c")
            .transaction_id(&tx)
            .send()
            .await
            .unwrap();
        assert_eq!(inside.records()[0][0], Field::LongValue(1));
        assert_eq!(h.end(&tx, false).await.unwrap(), "Rollback Complete");
        assert_eq!(h.count("c").await, 0, "{:?}", h.kind);

        let tx = h.begin().await;
        h.execute("INSERT INTO c VALUES (2)")
            .transaction_id(&tx)
            .send()
            .await
            .unwrap();
        assert_eq!(h.end(&tx, true).await.unwrap(), "Transaction Committed");
        assert_eq!(h.count("c").await, 1);
        // A finished transaction is gone.
        let err = h
            .execute("SELECT 1")
            .transaction_id(&tx)
            .send()
            .await
            .unwrap_err();
        assert_eq!(error_code(&err), "TransactionNotFoundException");
    })
    .await;
}

#[tokio::test]
async fn idle_transaction_is_rolled_back_after_the_timeout() {
    for kind in kinds() {
        let h = Harness::start_with(kind, |c| {
            c.transaction_timeout = std::time::Duration::from_millis(300)
        })
        .await;
        h.rows("CREATE TABLE r (id BIGINT PRIMARY KEY)").await;
        let tx = h.begin().await;
        h.execute("INSERT INTO r VALUES (1)")
            .transaction_id(&tx)
            .send()
            .await
            .unwrap();
        sleep_ms(1500).await;
        assert_eq!(
            h.end(&tx, true).await.unwrap_err(),
            "TransactionNotFoundException"
        );
        assert_eq!(h.count("r").await, 0, "{kind:?}");
        // The connection went back to the pool in a usable state.
        h.rows("INSERT INTO r VALUES (2)").await;
        assert_eq!(h.count("r").await, 1);
        h.finish().await;
    }
}

#[tokio::test]
async fn concurrent_transactions_are_isolated() {
    each_backend(async |h| {
        h.rows("CREATE TABLE i (id BIGINT PRIMARY KEY)").await;
        let a = h.begin().await;
        h.execute("INSERT INTO i VALUES (1)")
            .transaction_id(&a)
            .send()
            .await
            .unwrap();
        // Outside the transaction its write is invisible.
        assert_eq!(h.count("i").await, 0, "{:?}", h.kind);
        // A second transaction runs alongside (on SQLite it waits for the write lock).
        let client = h.client.clone();
        let b = tokio::spawn(async move {
            let tx = client
                .begin_transaction()
                .resource_arn(LOCAL_CLUSTER_ARN)
                .secret_arn(LOCAL_SECRET_ARN)
                .send()
                .await
                .unwrap()
                .transaction_id
                .unwrap();
            let seen = client
                .execute_statement()
                .resource_arn(LOCAL_CLUSTER_ARN)
                .secret_arn(LOCAL_SECRET_ARN)
                .sql("INSERT INTO i VALUES (2)")
                .transaction_id(&tx)
                .send()
                .await
                .unwrap();
            assert_eq!(seen.number_of_records_updated, 1);
            client
                .commit_transaction()
                .resource_arn(LOCAL_CLUSTER_ARN)
                .secret_arn(LOCAL_SECRET_ARN)
                .transaction_id(&tx)
                .send()
                .await
                .unwrap();
        });
        sleep_ms(100).await;
        assert_eq!(h.end(&a, true).await.unwrap(), "Transaction Committed");
        b.await.unwrap();
        assert_eq!(h.count("i").await, 2);
    })
    .await;
}

#[tokio::test]
async fn duplicate_key_is_a_database_error_with_the_engine_message() {
    each_backend(async |h| {
        h.rows("CREATE TABLE d (id BIGINT PRIMARY KEY)").await;
        h.rows("INSERT INTO d VALUES (1)").await;
        let err = h
            .execute("INSERT INTO d VALUES (1)")
            .send()
            .await
            .unwrap_err();
        assert_eq!(error_code(&err), "DatabaseErrorException");
        let message = error_message(&err).to_lowercase();
        let expected = h.sql(
            "unique constraint failed",
            "duplicate key",
            "duplicate entry",
        );
        assert!(message.contains(expected), "{:?}: {message}", h.kind);
        assert!(err.into_service_error().is_database_error_exception());
    })
    .await;
}

#[tokio::test]
async fn unknown_transaction_and_unknown_cluster() {
    let h = Harness::start(Kind::Sqlite).await;
    let err = h
        .execute("SELECT 1")
        .transaction_id("no-such-tx")
        .send()
        .await
        .unwrap_err();
    assert!(err
        .into_service_error()
        .is_transaction_not_found_exception());
    assert_eq!(
        h.end("no-such-tx", false).await.unwrap_err(),
        "TransactionNotFoundException"
    );
    let other = "arn:aws:rds:us-east-1:123456789012:cluster:nope";
    let err = h
        .client
        .execute_statement()
        .resource_arn(other)
        .secret_arn(LOCAL_SECRET_ARN)
        .sql("SELECT 1")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "BadRequestException");
    assert!(error_message(&err).contains(other));
    let err = h
        .client
        .execute_statement()
        .resource_arn(LOCAL_CLUSTER_ARN)
        .secret_arn("arn:aws:secretsmanager:us-east-1:123456789012:secret:wrong")
        .sql("SELECT 1")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "SecretsErrorException");
    h.finish().await;
}

#[tokio::test]
async fn postgres_arrays_and_casts() {
    if !kinds().contains(&Kind::Postgres) {
        return;
    }
    let h = Harness::start(Kind::Postgres).await;
    let out = h
        .execute("SELECT cardinality(ARRAY[4, NULL, 6]), ARRAY['a', 'b'], ARRAY[1.5, 2.5]::float8[], ARRAY[true]::bool[], '{}'::text[], 'x'::text || :n::text")
        .parameters(long("n", 3))
        .send()
        .await
        .unwrap();
    let row = &out.records()[0];
    assert_eq!(row[0], Field::LongValue(3));
    assert_eq!(
        row[1],
        Field::ArrayValue(ArrayValue::StringValues(vec![
            Some("a".into()),
            Some("b".into())
        ]))
    );
    assert_eq!(
        row[2],
        Field::ArrayValue(ArrayValue::DoubleValues(vec![Some(1.5), Some(2.5)]))
    );
    assert_eq!(
        row[3],
        Field::ArrayValue(ArrayValue::BooleanValues(vec![Some(true)]))
    );
    assert_eq!(row[4], Field::ArrayValue(ArrayValue::StringValues(vec![])));
    assert_eq!(row[5], Field::StringValue("x3".into()));
    // A string is bound as text, as the hosted service does: a typed column needs a typeHint.
    h.rows("CREATE TABLE h (at TIMESTAMP)").await;
    let err = h
        .execute("INSERT INTO h VALUES (:at)")
        .parameters(text("at", "2024-01-01 00:00:00"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "DatabaseErrorException");
    h.execute("INSERT INTO h VALUES (:at)")
        .parameters(hinted("at", "2024-01-01 00:00:00", TypeHint::Timestamp))
        .send()
        .await
        .unwrap();
    h.finish().await;
}

#[tokio::test]
async fn array_parameters_are_refused_as_the_service_documents() {
    each_backend(async |h| {
        let err = h
            .execute("SELECT :a")
            .parameters(param(
                "a",
                Field::ArrayValue(ArrayValue::LongValues(vec![Some(1)])),
            ))
            .send()
            .await
            .unwrap_err();
        assert_eq!(error_code(&err), "BadRequestException", "{:?}", h.kind);
        assert_eq!(error_message(&err), "Array parameters are not supported.");
    })
    .await;
}

#[tokio::test]
async fn database_selects_where_statements_run_and_schema_is_refused() {
    for kind in kinds().into_iter().filter(|k| *k != Kind::Sqlite) {
        let h = Harness::start(kind).await;
        let other = format!("dataapi_other_{}", uuid::Uuid::new_v4().simple());
        let admin_url = std::env::var(if kind == Kind::Postgres {
            POSTGRES_VAR
        } else {
            MYSQL_VAR
        })
        .unwrap();
        let (create, drop) = match kind {
            Kind::Postgres => (
                format!("CREATE SCHEMA {other}; CREATE TABLE {other}.only_there (v INT); INSERT INTO {other}.only_there VALUES (42)"),
                format!("DROP SCHEMA {other} CASCADE"),
            ),
            _ => (
                format!("CREATE DATABASE {other}; CREATE TABLE {other}.only_there (v INT); INSERT INTO {other}.only_there VALUES (42)"),
                format!("DROP DATABASE {other}"),
            ),
        };
        admin(&admin_url, &create).await;
        if kind == Kind::Postgres {
            // `schema` picks no search path: the service refuses it (conformance.rs).
            let err = h
                .execute("SELECT v FROM only_there")
                .schema(&other)
                .send()
                .await
                .unwrap_err();
            assert_eq!(error_code(&err), "ValidationException");
        } else {
            let out = h
                .execute("SELECT v FROM only_there")
                .database(&other)
                .send()
                .await
                .unwrap();
            assert_eq!(out.records()[0][0], Field::LongValue(42), "{kind:?}");
        }
        // The setting does not leak into the next call on a pooled connection.
        for _ in 0..10 {
            let err = h
                .execute("SELECT v FROM only_there")
                .send()
                .await
                .unwrap_err();
            assert_eq!(error_code(&err), "DatabaseErrorException", "{kind:?}");
        }
        admin(&admin_url, &drop).await;
        h.finish().await;
    }
}

#[tokio::test]
#[allow(deprecated)] // ExecuteSql is deprecated by the service
async fn execute_sql_is_refused_as_on_serverless_v2() {
    each_backend(async |h| {
        let err = h
            .client
            .execute_sql()
            .db_cluster_or_instance_arn(LOCAL_CLUSTER_ARN)
            .aws_secret_store_arn(LOCAL_SECRET_ARN)
            .sql_statements("CREATE TABLE e (id INT); SELECT 1")
            .send()
            .await
            .unwrap_err();
        assert_eq!(error_code(&err), "BadRequestException", "{:?}", h.kind);
        // Nothing ran.
        assert!(h.execute("SELECT * FROM e").send().await.is_err());
    })
    .await;
}

#[tokio::test]
async fn in_memory_sqlite_is_shared_across_calls() {
    let server = data_api_local::Server::start(data_api_local::Config::single(
        LOCAL_CLUSTER_ARN,
        "sqlite::memory:",
    ))
    .await
    .unwrap();
    let client = sdk_client(&server.endpoint_url()).await;
    let run = |sql: &'static str| {
        client
            .execute_statement()
            .resource_arn(LOCAL_CLUSTER_ARN)
            .secret_arn(LOCAL_SECRET_ARN)
            .sql(sql)
            .send()
    };
    run("CREATE TABLE mem (id INT)").await.unwrap();
    let calls: Vec<_> = (0..8).map(|_| run("INSERT INTO mem VALUES (1)")).collect();
    for result in futures::future::join_all(calls).await {
        result.unwrap();
    }
    let out = run("SELECT COUNT(*) FROM mem").await.unwrap();
    assert_eq!(out.records()[0][0], Field::LongValue(8));
    server.shutdown().await;
}

#[tokio::test]
async fn update_counts_and_returning() {
    each_backend(async |h| {
        h.rows("CREATE TABLE u (id BIGINT PRIMARY KEY, n BIGINT)")
            .await;
        let out = h
            .execute("INSERT INTO u (id, n) VALUES (1, 0), (2, 0)")
            .send()
            .await
            .unwrap();
        assert_eq!(out.number_of_records_updated, 2, "{:?}", h.kind);
        assert!(out.records.is_none());
        let out = h.execute("UPDATE u SET n = n + 1").send().await.unwrap();
        assert_eq!(out.number_of_records_updated, 2);
        // A statement answering rows reports them, and no update count (as the hosted service).
        let out = h
            .execute("INSERT INTO u (id, n) VALUES (:id, 5) RETURNING id, n")
            .parameters(long("id", 3))
            .send()
            .await
            .unwrap();
        assert_eq!(
            out.records(),
            [vec![Field::LongValue(3), Field::LongValue(5)]],
            "{:?}",
            h.kind
        );
        assert_eq!(out.number_of_records_updated, 0);
    })
    .await;
}
