//! Open transactions: each id owns one backend connection; calls on it are serialised, and a
//! transaction idle for longer than the timeout is rolled back and its connection returned.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::OwnedMutexGuard;

use crate::backend::Conn;
use crate::errors::ApiError;

/// The connection of a transaction, and whether its session `search_path` must be reset.
pub(crate) struct TxConn {
    pub conn: Conn,
    pub schema_set: bool,
}

impl TxConn {
    /// Returns the connection to its pool, or closes it when its session state cannot be reset.
    pub(crate) async fn release(mut self) {
        if self.schema_set && self.conn.reset_schema().await.is_err() {
            self.conn.discard().await;
        }
    }

    /// Rolls back and releases; a connection that cannot roll back is closed.
    pub(crate) async fn abandon(mut self) {
        match self.conn.rollback().await {
            Ok(()) => self.release().await,
            Err(_) => self.conn.discard().await,
        }
    }
}

struct Transaction {
    cluster: String,
    conn: Arc<tokio::sync::Mutex<Option<TxConn>>>,
    last_used: Mutex<Instant>,
}

impl Transaction {
    fn touch(&self) {
        *self.last_used.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
    }

    fn idle(&self, now: Instant) -> Duration {
        now.saturating_duration_since(*self.last_used.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// Exclusive use of a transaction's connection for one call.
pub(crate) struct TxGuard {
    tx: Arc<Transaction>,
    guard: OwnedMutexGuard<Option<TxConn>>,
    id: String,
}

impl TxGuard {
    pub(crate) fn conn(&mut self) -> Result<&mut TxConn, ApiError> {
        let id = &self.id;
        self.guard
            .as_mut()
            .ok_or_else(|| ApiError::transaction_not_found(id))
    }
}

impl Drop for TxGuard {
    fn drop(&mut self) {
        self.tx.touch();
    }
}

pub(crate) struct Transactions {
    open: Mutex<HashMap<String, Arc<Transaction>>>,
    timeout: Duration,
}

impl Transactions {
    pub(crate) fn new(timeout: Duration) -> Transactions {
        Transactions {
            open: Mutex::default(),
            timeout,
        }
    }

    fn open(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Transaction>>> {
        self.open.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn insert(&self, cluster: &str, conn: TxConn) -> String {
        let id = uuid::Uuid::new_v4().to_string();
        let tx = Transaction {
            cluster: cluster.to_string(),
            conn: Arc::new(tokio::sync::Mutex::new(Some(conn))),
            last_used: Mutex::new(Instant::now()),
        };
        self.open().insert(id.clone(), Arc::new(tx));
        id
    }

    fn find(&self, id: &str, cluster: &str, remove: bool) -> Result<Arc<Transaction>, ApiError> {
        let mut open = self.open();
        match open.get(id) {
            Some(tx) if tx.cluster == cluster => {}
            _ => return Err(ApiError::transaction_not_found(id)),
        }
        let found = if remove {
            open.remove(id)
        } else {
            open.get(id).cloned()
        };
        found.ok_or_else(|| ApiError::transaction_not_found(id))
    }

    /// Waits for the transaction's connection (calls on one transaction run one at a time).
    pub(crate) async fn lock(&self, id: &str, cluster: &str) -> Result<TxGuard, ApiError> {
        let tx = self.find(id, cluster, false)?;
        tx.touch();
        let guard = tx.conn.clone().lock_owned().await;
        let mut guard = TxGuard {
            tx,
            guard,
            id: id.to_string(),
        };
        guard.conn()?;
        Ok(guard)
    }

    /// Ends the transaction: removes it and hands over its connection.
    pub(crate) async fn finish(&self, id: &str, cluster: &str) -> Result<TxConn, ApiError> {
        let tx = self.find(id, cluster, true)?;
        let mut guard = tx.conn.clone().lock_owned().await;
        guard
            .take()
            .ok_or_else(|| ApiError::transaction_not_found(id))
    }

    /// Rolls back the transactions idle for longer than the timeout; returns how many.
    pub(crate) async fn reap(&self) -> usize {
        let now = Instant::now();
        let expired: Vec<Arc<Transaction>> = {
            let mut open = self.open();
            let ids: Vec<String> = open
                .iter()
                .filter(|(_, tx)| tx.idle(now) > self.timeout && tx.conn.try_lock().is_ok())
                .map(|(id, _)| id.clone())
                .collect();
            ids.iter().filter_map(|id| open.remove(id)).collect()
        };
        Self::abandon_all(expired).await
    }

    /// Rolls back every open transaction (shutdown).
    pub(crate) async fn drain(&self) -> usize {
        let all: Vec<Arc<Transaction>> = self.open().drain().map(|(_, tx)| tx).collect();
        Self::abandon_all(all).await
    }

    async fn abandon_all(list: Vec<Arc<Transaction>>) -> usize {
        let count = list.len();
        for tx in list {
            let taken = tx.conn.lock().await.take();
            if let Some(conn) = taken {
                conn.abandon().await;
            }
        }
        count
    }

    /// How often the reaper should look.
    pub(crate) fn reap_interval(&self) -> Duration {
        (self.timeout / 4).clamp(Duration::from_millis(20), Duration::from_secs(1))
    }
}
