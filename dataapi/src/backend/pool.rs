//! The backend connection pool. Unlike sqlx's pool it does not ping a connection each time it is
//! returned (a round trip per call), never waits long for a connection, and keeps room for calls
//! outside a transaction: transactions may hold at most [`ConnPool::transaction_slots`] connections.

use std::ops::{Deref, DerefMut};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sqlx::{ConnectOptions, Connection};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::errors::ApiError;

/// An unused connection is closed after this long.
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a call waits for a free connection when all are busy running statements.
pub(crate) const POOL_WAIT: Duration = Duration::from_secs(2);
/// How long opening a connection to the backend may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

struct Idle<C> {
    conn: C,
    since: Instant,
}

pub(crate) struct ConnPool<C: Connection> {
    options: <C as Connection>::Options,
    /// Most recently used last: calls reuse the warmest connection.
    idle: Mutex<Vec<Idle<C>>>,
    /// One permit per connection that may be open.
    connections: Arc<Semaphore>,
    /// One permit per connection a transaction may hold.
    transactions: Arc<Semaphore>,
    max_connections: usize,
}

/// Permission for a transaction to hold a connection; given back when dropped.
pub(crate) struct TransactionSlot(#[allow(dead_code)] OwnedSemaphorePermit);

/// The number of connections a pool of `max_connections` lets transactions hold: all but a tenth
/// (at least one), which stays for calls outside a transaction.
pub(crate) fn transaction_slots(max_connections: usize) -> usize {
    max_connections - (max_connections / 10).max(1)
}

impl<C: Connection> ConnPool<C> {
    pub(crate) fn new(options: <C as Connection>::Options, max_connections: usize) -> Arc<Self> {
        Arc::new(ConnPool {
            options,
            idle: Mutex::default(),
            connections: Arc::new(Semaphore::new(max_connections)),
            transactions: Arc::new(Semaphore::new(transaction_slots(max_connections))),
            max_connections,
        })
    }

    fn idle(&self) -> std::sync::MutexGuard<'_, Vec<Idle<C>>> {
        self.idle.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A connection: an idle one, or a new one while fewer than `max_connections` are open.
    pub(crate) async fn acquire(self: &Arc<Self>) -> Result<Pooled<C>, ApiError> {
        let permit = match self.connections.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => tokio::time::timeout(POOL_WAIT, self.connections.clone().acquire_owned())
                .await
                .map_err(|_| self.exhausted())?
                .map_err(|_| ApiError::Unavailable("The database is shutting down".into()))?,
        };
        let reused = {
            let mut idle = self.idle();
            // The oldest sit at the front: close those unused for too long.
            let stale = idle
                .iter()
                .take_while(|i| i.since.elapsed() > IDLE_TIMEOUT)
                .count();
            idle.drain(..stale);
            idle.pop()
        };
        let conn = match reused {
            Some(idle) => idle.conn,
            None => tokio::time::timeout(CONNECT_TIMEOUT, self.options.connect())
                .await
                .map_err(|_| {
                    ApiError::Unavailable("Timed out connecting to the database".into())
                })??,
        };
        Ok(Pooled {
            conn: Some(conn),
            pool: self.clone(),
            _permit: permit,
        })
    }

    /// A transaction slot, at once or not at all (as the engine refuses a connection over its limit).
    pub(crate) fn transaction_slot(&self) -> Result<TransactionSlot, ApiError> {
        self.transactions
            .clone()
            .try_acquire_owned()
            .map(TransactionSlot)
            .map_err(|_| {
                ApiError::Database(format!(
                    "Too many connections: {} transactions are open, the most this cluster's {} connections allow",
                    transaction_slots(self.max_connections),
                    self.max_connections
                ))
            })
    }

    fn exhausted(&self) -> ApiError {
        ApiError::Database(format!(
            "Too many connections: all {} connections are busy",
            self.max_connections
        ))
    }

    pub(crate) fn close(&self) {
        self.connections.close();
        self.transactions.close();
        self.idle().clear();
    }
}

/// A connection taken from a [`ConnPool`]; dropping it gives it back as it is.
pub(crate) struct Pooled<C: Connection> {
    conn: Option<C>,
    pool: Arc<ConnPool<C>>,
    _permit: OwnedSemaphorePermit,
}

impl<C: Connection> Pooled<C> {
    /// Closes the connection instead of giving it back.
    pub(crate) async fn close(mut self) {
        if let Some(conn) = self.conn.take() {
            let _ = conn.close().await;
        }
    }
}

impl<C: Connection> Deref for Pooled<C> {
    type Target = C;
    fn deref(&self) -> &C {
        self.conn
            .as_ref()
            .expect("connection present until dropped")
    }
}

impl<C: Connection> DerefMut for Pooled<C> {
    fn deref_mut(&mut self) -> &mut C {
        self.conn
            .as_mut()
            .expect("connection present until dropped")
    }
}

impl<C: Connection> Drop for Pooled<C> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            if !self.pool.connections.is_closed() {
                self.pool.idle().push(Idle {
                    conn,
                    since: Instant::now(),
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transactions_leave_room_for_other_calls() {
        assert_eq!(transaction_slots(2), 1);
        assert_eq!(transaction_slots(10), 9);
        assert_eq!(transaction_slots(90), 81);
    }
}
