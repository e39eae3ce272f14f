//! Open transactions: each id owns one backend connection; calls on it are serialised, and a
//! transaction idle for longer than the timeout, or older than [`MAX_TRANSACTION_AGE`], is rolled
//! back and its connection returned.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::OwnedMutexGuard;

use crate::backend::{Conn, TransactionSlot};
use crate::errors::ApiError;

/// The longest a transaction may live, however busy (BeginTransaction: 24 hours).
pub(crate) const MAX_TRANSACTION_AGE: Duration = Duration::from_secs(24 * 60 * 60);

/// A connection leased for a call or held by a transaction.
pub(crate) struct TxConn {
    pub conn: Conn,
    /// Held by an open transaction: counts it against the pool's limit until the connection returns.
    pub slot: Option<TransactionSlot>,
}

impl TxConn {
    /// Rolls back and returns the connection to its pool; one that cannot roll back is closed.
    pub(crate) async fn abandon(mut self) {
        if self.conn.rollback().await.is_err() {
            self.conn.discard().await;
        }
    }
}

struct Transaction {
    cluster: String,
    conn: Arc<tokio::sync::Mutex<Option<TxConn>>>,
    last_used: Mutex<Instant>,
    started: Instant,
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

fn busy() -> ApiError {
    ApiError::Database("Transaction is still running a query".into())
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
            started: Instant::now(),
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

    /// The transaction's connection for one call. As on the hosted service, a call arriving while
    /// another runs on the same transaction is refused, not queued.
    pub(crate) async fn lock(&self, id: &str, cluster: &str) -> Result<TxGuard, ApiError> {
        let tx = self.find(id, cluster, false)?;
        tx.touch();
        let guard = tx.conn.clone().try_lock_owned().map_err(|_| busy())?;
        let mut guard = TxGuard {
            tx,
            guard,
            id: id.to_string(),
        };
        guard.conn()?;
        Ok(guard)
    }

    /// Ends the transaction: removes it and hands over its connection (refused while a call runs on it).
    pub(crate) async fn finish(&self, id: &str, cluster: &str) -> Result<TxConn, ApiError> {
        let mut guard = self
            .find(id, cluster, false)?
            .conn
            .clone()
            .try_lock_owned()
            .map_err(|_| busy())?;
        self.find(id, cluster, true)?;
        guard
            .take()
            .ok_or_else(|| ApiError::transaction_not_found(id))
    }

    /// Rolls back the transactions idle for longer than the timeout, or open for longer than
    /// [`MAX_TRANSACTION_AGE`] (and not running a call); returns how many.
    pub(crate) async fn reap(&self) -> usize {
        let now = Instant::now();
        let expired: Vec<Arc<Transaction>> = {
            let mut open = self.open();
            let ids: Vec<String> = open
                .iter()
                .filter(|(_, tx)| {
                    let expired = tx.idle(now) > self.timeout
                        || now.saturating_duration_since(tx.started) > MAX_TRANSACTION_AGE;
                    expired && tx.conn.try_lock().is_ok()
                })
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
