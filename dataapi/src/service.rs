//! The Data API operations, independent of HTTP: parse a request body, run it, serialise the answer.

use std::collections::HashMap;

use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::backend::{Cluster, Conn, Outcome};
use crate::config::Config;
use crate::errors::{ApiError, Error};
use crate::limits::{check_response, check_sql};
use crate::params::{bind, Bound, Param};
use crate::pause::Pause;
use crate::protocol::*;
use crate::statements;
use crate::transactions::{Transactions, TxConn, TxGuard};
use crate::values::{formatted_records, ResultOptions};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Operation {
    ExecuteStatement,
    BatchExecuteStatement,
    BeginTransaction,
    CommitTransaction,
    RollbackTransaction,
    ExecuteSql,
}

impl Operation {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Operation::ExecuteStatement => "ExecuteStatement",
            Operation::BatchExecuteStatement => "BatchExecuteStatement",
            Operation::BeginTransaction => "BeginTransaction",
            Operation::CommitTransaction => "CommitTransaction",
            Operation::RollbackTransaction => "RollbackTransaction",
            Operation::ExecuteSql => "ExecuteSql",
        }
    }
}

struct ClusterState {
    cluster: Cluster,
    pause: Pause,
}

pub(crate) struct Service {
    clusters: HashMap<String, ClusterState>,
    pub(crate) transactions: Transactions,
}

/// A pooled connection for one call.
struct Lease(TxConn);

impl Lease {
    /// A connection of a cluster that is not auto-paused.
    async fn awake(state: &ClusterState, database: Option<&str>) -> Result<Lease, ApiError> {
        state.pause.check(&state.cluster.arn)?;
        let conn = state.cluster.acquire(database).await?;
        Ok(Lease(TxConn { conn, slot: None }))
    }
}

/// Where a call runs: on its transaction's connection, or on one leased for the call.
enum Target {
    Transaction(TxGuard),
    Pooled(Lease),
}

impl Target {
    fn conn(&mut self) -> Result<&mut Conn, ApiError> {
        match self {
            Target::Transaction(guard) => Ok(&mut guard.conn()?.conn),
            Target::Pooled(lease) => Ok(&mut lease.0.conn),
        }
    }

    /// Gives a leased connection back; `rollback` first when the call may have left a transaction open.
    async fn done(self, rollback: bool) {
        match self {
            Target::Transaction(_) => {}
            Target::Pooled(lease) if rollback => lease.0.abandon().await,
            Target::Pooled(lease) => drop(lease),
        }
    }
}

fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::BadRequest(format!("Invalid request body: {e}")))
}

fn to_body<T: Serialize>(value: &T) -> Result<Vec<u8>, ApiError> {
    serde_json::to_vec(value)
        .map_err(|e| ApiError::Internal(format!("cannot encode response: {e}")))
}

fn execute_response(
    outcome: Outcome,
    include_metadata: bool,
    as_json: bool,
) -> Result<ExecuteStatementResponse, ApiError> {
    let mut response = ExecuteStatementResponse {
        number_of_records_updated: i64::try_from(outcome.updated).unwrap_or(i64::MAX),
        ..ExecuteStatementResponse::default()
    };
    if !outcome.returns_rows {
        response.generated_fields = Some(outcome.generated);
        return Ok(response);
    }
    if as_json {
        // The model: `records` and `columnMetadata` are blank when formatRecordsAs is JSON.
        response.formatted_records = Some(formatted_records(&outcome.columns, &outcome.rows)?);
        return Ok(response);
    }
    response.records = Some(outcome.rows);
    if include_metadata {
        response.column_metadata = Some(outcome.columns);
    }
    Ok(response)
}

async fn run_sets(conn: &mut Conn, bounds: &[Bound]) -> Result<Vec<UpdateResult>, ApiError> {
    let mut results = Vec::with_capacity(bounds.len());
    for bound in bounds {
        let outcome = conn.run(bound, &ResultOptions::default(), false).await?;
        results.push(UpdateResult {
            generated_fields: outcome.generated,
        });
    }
    Ok(results)
}

impl Service {
    pub(crate) async fn connect(config: &Config) -> Result<Service, Error> {
        let mut clusters = HashMap::new();
        for c in &config.clusters {
            let cluster = Cluster::connect(c, config.max_connections).await?;
            let pause = Pause::new(config.auto_pause);
            clusters.insert(c.resource_arn.clone(), ClusterState { cluster, pause });
        }
        Ok(Service {
            clusters,
            transactions: Transactions::new(config.transaction_timeout),
        })
    }

    pub(crate) async fn close(&self) {
        self.transactions.drain().await;
        for state in self.clusters.values() {
            state.cluster.close();
        }
    }

    pub(crate) async fn call(
        &self,
        operation: Operation,
        body: Bytes,
    ) -> Result<Vec<u8>, ApiError> {
        match operation {
            Operation::ExecuteStatement => {
                let response = to_body(&self.execute_statement(parse(&body)?).await?)?;
                check_response(response.len())?;
                Ok(response)
            }
            Operation::BatchExecuteStatement => to_body(&self.batch_execute(parse(&body)?).await?),
            Operation::BeginTransaction => to_body(&self.begin(parse(&body)?).await?),
            Operation::CommitTransaction => to_body(&self.end(parse(&body)?, true).await?),
            Operation::RollbackTransaction => to_body(&self.end(parse(&body)?, false).await?),
            // Deprecated, and served by Aurora Serverless v1 only, which is end-of-life.
            Operation::ExecuteSql => Err(ApiError::BadRequest(
                "ExecuteSql isn't supported for Aurora Serverless v2 and provisioned DB clusters; use ExecuteStatement".into(),
            )),
        }
    }

    /// The cluster of an ExecuteStatement, BatchExecuteStatement or BeginTransaction call, the
    /// operations whose input has `schema`: Aurora Serverless v2 and provisioned clusters refuse
    /// it, whatever its value ("Comparing Data API behaviors").
    fn scoped(&self, scope: &CallScope) -> Result<&ClusterState, ApiError> {
        if scope.schema.is_some() {
            return Err(ApiError::Validation(
                "The schema parameter isn't supported".into(),
            ));
        }
        self.cluster(&scope.resource_arn, scope.secret_arn.as_deref())
    }

    fn cluster(&self, arn: &str, secret_arn: Option<&str>) -> Result<&ClusterState, ApiError> {
        let state = self.clusters.get(arn).ok_or_else(|| {
            ApiError::BadRequest(format!(
                "Database cluster not found: no cluster with resourceArn {arn}"
            ))
        })?;
        if let Some(expected) = &state.cluster.secret_arn {
            if secret_arn != Some(expected.as_str()) {
                return Err(ApiError::Secrets(format!(
                    "Secrets Manager can't find the specified secret: {}",
                    secret_arn.unwrap_or("(none given)")
                )));
            }
        }
        Ok(state)
    }

    async fn execute_statement(
        &self,
        req: ExecuteStatementRequest,
    ) -> Result<ExecuteStatementResponse, ApiError> {
        check_sql(&req.sql)?;
        let state = self.scoped(&req.scope)?;
        let options = ResultOptions::from_wire(req.result_set_options.as_ref())?;
        let as_json = match req.format_records_as.as_deref() {
            None | Some("NONE") => false,
            Some("JSON") => true,
            Some(other) => {
                return Err(ApiError::BadRequest(format!(
                    "Invalid formatRecordsAs {other}: expected NONE or JSON"
                )))
            }
        };
        let params = Param::from_wire_list(&req.parameters)?;
        let sql = statements::single(&req.sql, state.cluster.dialect())?;
        let bound = bind(sql, state.cluster.dialect(), &params)?;
        let want_columns = req.include_result_metadata || as_json;
        let mut target = self.target(state, &req.scope).await?;
        let outcome = match target.conn() {
            Ok(conn) => conn.run(&bound, &options, want_columns).await,
            Err(e) => Err(e),
        };
        target.done(false).await;
        let outcome = outcome?;
        state.pause.touch();
        execute_response(outcome, req.include_result_metadata, as_json)
    }

    async fn batch_execute(
        &self,
        req: BatchExecuteStatementRequest,
    ) -> Result<BatchExecuteStatementResponse, ApiError> {
        check_sql(&req.sql)?;
        let state = self.scoped(&req.scope)?;
        let dialect = state.cluster.dialect();
        let sql = statements::single(&req.sql, dialect)?;
        // Without parameter sets the statement runs once and reports no update results.
        let bounds = if req.parameter_sets.is_empty() {
            vec![bind(sql, dialect, &[])?]
        } else {
            req.parameter_sets
                .iter()
                .map(|set| bind(sql, dialect, &Param::from_wire_list(set)?))
                .collect::<Result<Vec<_>, _>>()?
        };
        let mut target = self.target(state, &req.scope).await?;
        let results = match &mut target {
            Target::Transaction(guard) => match guard.conn() {
                Ok(tx) => run_sets(&mut tx.conn, &bounds).await,
                Err(e) => Err(e),
            },
            Target::Pooled(lease) => Self::atomically(&mut lease.0.conn, &bounds).await,
        };
        target.done(results.is_err()).await;
        let mut results = results?;
        if req.parameter_sets.is_empty() {
            results.clear();
        }
        state.pause.touch();
        Ok(BatchExecuteStatementResponse {
            update_results: results,
        })
    }

    /// The connection a call runs on: its transaction's, or a pooled one (which must be awake).
    async fn target(&self, state: &ClusterState, scope: &CallScope) -> Result<Target, ApiError> {
        let Some(id) = &scope.transaction_id else {
            let lease = Lease::awake(state, scope.database.as_deref()).await?;
            return Ok(Target::Pooled(lease));
        };
        let guard = self.transactions.lock(id, &state.cluster.arn).await?;
        Ok(Target::Transaction(guard))
    }

    /// All sets or none: BEGIN, the sets, COMMIT (the caller rolls back on error).
    async fn atomically(conn: &mut Conn, bounds: &[Bound]) -> Result<Vec<UpdateResult>, ApiError> {
        conn.begin_write().await?;
        let results = run_sets(conn, bounds).await?;
        conn.commit().await?;
        Ok(results)
    }

    async fn begin(&self, req: CallScope) -> Result<BeginTransactionResponse, ApiError> {
        let state = self.scoped(&req)?;
        // Refused at once when transactions hold all the connections they may, leaving the rest
        // to calls outside a transaction.
        let slot = state.cluster.transaction_slot(req.database.as_deref())?;
        let mut lease = Lease::awake(state, req.database.as_deref()).await?;
        lease.0.slot = Some(slot);
        if let Err(e) = lease.0.conn.begin().await {
            lease.0.abandon().await;
            return Err(e);
        }
        state.pause.touch();
        Ok(BeginTransactionResponse {
            transaction_id: self.transactions.insert(&state.cluster.arn, lease.0),
        })
    }

    async fn end(
        &self,
        req: EndTransactionRequest,
        commit: bool,
    ) -> Result<EndTransactionResponse, ApiError> {
        let state = self.cluster(&req.resource_arn, req.secret_arn.as_deref())?;
        let mut tx = self
            .transactions
            .finish(&req.transaction_id, &state.cluster.arn)
            .await?;
        state.pause.touch();
        if !commit {
            tx.abandon().await;
            return Ok(EndTransactionResponse {
                transaction_status: "Rollback Complete",
            });
        }
        match tx.conn.commit().await {
            Ok(()) => {
                drop(tx);
                Ok(EndTransactionResponse {
                    transaction_status: "Transaction Committed",
                })
            }
            Err(e) => {
                tx.abandon().await;
                Err(e)
            }
        }
    }
}
