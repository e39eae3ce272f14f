//! Settings read from the environment, shared by the Lambda handlers and the CLI.
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `INVENTORY_CLUSTER_ARN` | Aurora cluster ARN (Data API `resourceArn`) | required |
//! | `INVENTORY_SECRET_ARN` | Secrets Manager ARN of the database credentials (`secretArn`) | required |
//! | `INVENTORY_DATABASE` | database name (`database`) | `inventory` |
//! | `INVENTORY_DIALECT` | `postgres`, `mysql` or `sqlite` | `postgres` |
//! | `INVENTORY_SYNC_MAX_AGE_HOURS` | scheduled sync re-reads inventories older than this | `24` |
//! | `INVENTORY_SYNC_BATCH` | instances the scheduled sync handles per run | `50` |
//!
//! `AWS_ENDPOINT_URL_RDS_DATA` (honoured by the SDK itself) points the Data API
//! client at the local endpoint.

pub const ENV_CLUSTER_ARN: &str = "INVENTORY_CLUSTER_ARN";
pub const ENV_SECRET_ARN: &str = "INVENTORY_SECRET_ARN";
pub const ENV_DATABASE: &str = "INVENTORY_DATABASE";
pub const ENV_DIALECT: &str = "INVENTORY_DIALECT";
pub const ENV_SYNC_MAX_AGE_HOURS: &str = "INVENTORY_SYNC_MAX_AGE_HOURS";
pub const ENV_SYNC_BATCH: &str = "INVENTORY_SYNC_BATCH";
