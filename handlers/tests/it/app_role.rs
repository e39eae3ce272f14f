//! The functions' database role, created by the schema custom resource on real
//! PostgreSQL and MariaDB servers through the local Data API, then used: the
//! role reads and writes the inventory tables and runs routines, tables and
//! routines created later included, and can do nothing else. Runs when
//! INVENTORY_TEST_POSTGRES_URL / INVENTORY_TEST_MYSQL_URL are set.

use crate::local_support;
use crate::optional;

use data_api_local::{Config, Server, LOCAL_SECRET_ARN};
use inventory_handlers::custom_resource::{handle, Request, SecretSource, Status};
use serde_json::json;

const ADMIN_ARN: &str = "arn:aws:rds:us-east-1:123456789012:cluster:admin";
const MASTER_ARN: &str = "arn:aws:rds:us-east-1:123456789012:cluster:inventory";
const APP_ARN: &str = "arn:aws:rds:us-east-1:123456789012:cluster:as-app";
const APP_SECRET_ARN: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:app";

/// `url` with its user and password replaced (whatever the test URL had:
/// `root@`, `root:secret@`).
fn with_login(url: &str, user: &str, password: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("a database URL");
    let host = rest.split_once('@').map_or(rest, |(_, host)| host);
    format!("{scheme}://{user}:{password}@{host}")
}

/// The application secret, as the template generates it.
#[derive(Clone)]
struct AppSecret(String);

impl SecretSource for AppSecret {
    async fn secret_string(&self, arn: &str) -> Result<String, String> {
        assert_eq!(arn, APP_SECRET_ARN);
        Ok(self.0.clone())
    }
}

fn app_secret(username: &str, password: &str) -> AppSecret {
    AppSecret(json!({ "username": username, "password": password }).to_string())
}

fn suffix() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..8].to_string()
}

/// One local Data API endpoint serving `url` as `arn`.
async fn endpoint(arn: &str, url: &str) -> (Server, aws_sdk_rdsdata::Client) {
    let server = Server::start(Config::single(arn, url))
        .await
        .expect("local Data API");
    let client = local_support::local_rds(server.endpoint_url()).await;
    (server, client)
}

async fn sql(client: &aws_sdk_rdsdata::Client, arn: &str, statement: &str) -> Result<(), String> {
    client
        .execute_statement()
        .resource_arn(arn)
        .secret_arn(LOCAL_SECRET_ARN)
        .sql(statement)
        .send()
        .await
        .map(drop)
        .map_err(|e| aws_smithy_types::error::display::DisplayErrorContext(e).to_string())
}

/// Whether a Data API endpoint over `url` can run a statement (the login works).
async fn can_log_in(url: &str) -> bool {
    if Server::start(Config::single(APP_ARN, url)).await.is_err() {
        return false;
    }
    let (_server, client) = endpoint(APP_ARN, url).await;
    sql(&client, APP_ARN, "SELECT 1").await.is_ok()
}

fn request(kind: &str, dialect: &str) -> Request {
    serde_json::from_value(json!({
        "RequestType": kind,
        "ResponseURL": "http://127.0.0.1:9/",
        "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/inv/1",
        "RequestId": "req-1",
        "LogicalResourceId": "DatabaseSchema",
        "PhysicalResourceId": "DatabaseSchema-schema",
        "ResourceProperties": {
            "ClusterArn": MASTER_ARN,
            "MasterSecretArn": LOCAL_SECRET_ARN,
            "AppSecretArn": APP_SECRET_ARN,
            "Dialect": dialect
        }
    }))
    .expect("a CloudFormation request")
}

/// The resource (Create, then an Update with a rotated password) as the
/// master user on `master_url`, answering SUCCESS both times; `between` runs
/// as the master between the two, like a later migration.
async fn apply_role(
    master_url: &str,
    dialect: &str,
    role: &str,
    passwords: [&str; 2],
    between: &[&str],
) {
    let (_server, master) = endpoint(MASTER_ARN, master_url).await;
    for (kind, password) in ["Create", "Update"].into_iter().zip(passwords) {
        if kind == "Update" {
            for statement in between {
                sql(&master, MASTER_ARN, statement).await.unwrap();
            }
        }
        let resp = handle(
            &master,
            &app_secret(role, password),
            &request(kind, dialect),
        )
        .await;
        assert_eq!(resp.status, Status::Success, "{kind}: {resp:?}");
        assert_eq!(resp.data.as_ref().unwrap()["AppRole"], role);
        let reason = format!("{resp:?}");
        assert!(!reason.contains(password), "the answer shows the password");
    }
}

/// What every engine must allow and refuse the application role.
/// `added_later` is a table created after the grants (on MySQL, before the
/// Update that grants it, as a migration would).
async fn check_app_rights(app: &aws_sdk_rdsdata::Client, call_routine: &str) {
    let allowed = [
        "INSERT INTO package (name, version, scheme) VALUES ('zlib', '1.3', 'natural')",
        "UPDATE package SET architecture = 'x86_64' WHERE name = 'zlib'",
        "SELECT count(*) FROM ec2_package",
        "DELETE FROM package WHERE name = 'zlib'",
        // Created by the master after the grants: covered all the same.
        "INSERT INTO added_later (a) VALUES (1)",
        call_routine,
    ];
    for statement in allowed {
        sql(app, APP_ARN, statement)
            .await
            .unwrap_or_else(|e| panic!("the role cannot {statement}: {e}"));
    }
    for refused in [
        "CREATE TABLE intruder (a int)",
        "DROP TABLE ec2_package",
        "ALTER TABLE ec2 ADD COLUMN intruder int",
        "DELETE FROM schema_version",
    ] {
        assert!(
            sql(app, APP_ARN, refused).await.is_err(),
            "the role may {refused}"
        );
    }
}

#[tokio::test]
async fn postgres_role_has_dml_and_execute_only() {
    let Some(base) = optional::POSTGRES.url() else {
        return;
    };
    let id = suffix();
    let (schema, role) = (format!("t_role_{id}"), format!("inv_app_{id}"));
    let (_admin_server, admin) = endpoint(ADMIN_ARN, &base).await;
    sql(&admin, ADMIN_ARN, &format!("CREATE SCHEMA {schema}"))
        .await
        .unwrap();
    let sep = if base.contains('?') { '&' } else { '?' };
    let in_schema = format!("{sep}options=-c%20search_path%3D{schema}");
    let master_url = format!("{base}{in_schema}");

    apply_role(
        &master_url,
        "postgres",
        &role,
        ["Aa0123456789bcdefGHIJ", "Zz9876543210yxwvuTSRQ"],
        &[],
    )
    .await;
    // Later migrations, run by the master.
    let (_master_server, master) = endpoint(MASTER_ARN, &master_url).await;
    for later in [
        "CREATE TABLE added_later (a int)",
        "CREATE FUNCTION added_later_fn() RETURNS int LANGUAGE sql AS 'SELECT 1'",
        // Only the grant to the role lets it run the function.
        "REVOKE EXECUTE ON FUNCTION added_later_fn() FROM PUBLIC",
    ] {
        sql(&master, MASTER_ARN, later).await.unwrap();
    }
    // The role logs in itself, with the Update's password.
    let app_url = with_login(&master_url, &role, "Zz9876543210yxwvuTSRQ");
    let (_app_server, app) = endpoint(APP_ARN, &app_url).await;
    check_app_rights(&app, "SELECT added_later_fn()").await;

    for cleanup in [
        format!("DROP SCHEMA {schema} CASCADE"),
        format!("DROP OWNED BY {role}"),
        format!("DROP ROLE {role}"),
    ] {
        sql(&admin, ADMIN_ARN, &cleanup).await.unwrap();
    }
}

#[tokio::test]
async fn mysql_role_has_dml_and_execute_only() {
    let Some(base) = optional::MYSQL.url() else {
        return;
    };
    let id = suffix();
    let (database, user) = (format!("inv_role_{id}"), format!("inv_app_{id}"));
    let (_admin_server, admin) = endpoint(ADMIN_ARN, &base).await;
    sql(
        &admin,
        ADMIN_ARN,
        &format!("CREATE DATABASE {database} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"),
    )
    .await
    .unwrap();
    let server_url = base.rsplit_once('/').map(|(s, _)| s).unwrap();
    let master_url = format!("{server_url}/{database}");
    let (old_password, password) = ("Aa0123456789bcdefGHIJ", "Zz9876543210yxwvuTSRQ");
    // Created by the master between the Create and the Update, as a later
    // migration would be: the Update that follows it grants its tables.
    let later = [
        "CREATE TABLE added_later (a int)",
        "CREATE PROCEDURE added_later_proc() SELECT 1",
    ];
    apply_role(
        &master_url,
        "mysql",
        &user,
        [old_password, password],
        &later,
    )
    .await;
    // MariaDB checks the password: the Update's, not the Create's.
    let login = |pw: &str| with_login(&master_url, &user, pw);
    assert!(
        !can_log_in(&login(old_password)).await,
        "the replaced password still logs in"
    );
    let (_app_server, app) = endpoint(APP_ARN, &login(password)).await;
    check_app_rights(&app, "CALL added_later_proc()").await;

    for cleanup in [
        format!("DROP DATABASE {database}"),
        format!("DROP USER '{user}'@'%'"),
    ] {
        sql(&admin, ADMIN_ARN, &cleanup).await.unwrap();
    }
}
