//! A stand-in X-Ray daemon for the tracing tests: a UDP socket on 127.0.0.1
//! that captures every segment document sent to it.

use std::net::SocketAddr;
use std::time::Duration;

use serde_json::Value;
use tokio::net::UdpSocket;

/// A stand-in X-Ray daemon: every datagram, checked for the daemon's framing.
pub struct Daemon {
    socket: UdpSocket,
}

impl Daemon {
    pub async fn start() -> Self {
        Self {
            socket: UdpSocket::bind("127.0.0.1:0").await.expect("bind UDP"),
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.socket.local_addr().unwrap()
    }

    /// The documents received until none arrives for a while.
    pub async fn documents(&self) -> Vec<Value> {
        let mut docs = Vec::new();
        let mut buf = vec![0u8; 65_536];
        while let Ok(Ok(n)) =
            tokio::time::timeout(Duration::from_millis(500), self.socket.recv(&mut buf)).await
        {
            let text = std::str::from_utf8(&buf[..n]).expect("UTF-8");
            let (header, body) = text.split_once('\n').expect("header line");
            assert_eq!(header, r#"{"format": "json", "version": 1}"#);
            docs.push(serde_json::from_str(body).expect("a JSON document"));
        }
        docs
    }
}

/// The documents of subsegments named `service` (`RDSData`, `SSM`, `EC2`).
pub fn subsegments_of<'a>(docs: &'a [Value], service: &str) -> Vec<&'a Value> {
    docs.iter().filter(|d| d["name"] == service).collect()
}
