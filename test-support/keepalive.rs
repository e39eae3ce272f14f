//! A keep-alive sweep: requests of every method to every route shape, with
//! and without bodies, sent one after another on ONE HTTP/1.1 connection, as
//! a pooling client (Python's `requests.Session`, the AWS SDK's hyper pool,
//! Node's agent) does. After each answer a check request on the same
//! connection must succeed, unless the answer said `Connection: close`. A
//! server that answers a request without reading its body and then silently
//! closes the connection fails here: the client's next request on it gets a
//! broken pipe, a reset or no answer.
//!
//! The client is written on raw TCP so that the body really is still in
//! flight when the server answers (the head goes first, the body after, by a
//! task of its own while the answer is read), and so that it can send what
//! clients send and HTTP libraries tidy away: a body on `GET` and `HEAD`, a
//! chunked body, `Expect: 100-continue`.
//!
//! Shared by the crates' tests through `#[path]`.

#![allow(dead_code)]

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;

/// How long one answer, or the rest of a body the server still reads, may
/// take before the sweep calls the connection hung.
const TIMEOUT: Duration = Duration::from_secs(30);

/// The methods a sweep sends (CONNECT, which asks for a tunnel, aside).
pub const METHODS: [&str; 8] = [
    "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE",
];

/// How a body travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// `content-length`, the body right after the head.
    Length,
    /// `transfer-encoding: chunked`, in chunks of 16 KiB.
    Chunked,
    /// `content-length` and `expect: 100-continue`: the body only after the
    /// server's `100 Continue`; a final answer instead means "not wanted".
    ExpectContinue,
}

/// A request body.
#[derive(Clone)]
pub struct Payload {
    pub content_type: Option<&'static str>,
    pub bytes: Arc<Vec<u8>>,
    pub framing: Framing,
}

/// One request of the sweep.
#[derive(Clone)]
pub struct Probe {
    pub method: &'static str,
    pub path: String,
    /// `None`: no body and no framing header, as a plain `GET` goes.
    pub payload: Option<Payload>,
}

impl Probe {
    pub fn new(method: &'static str, path: &str, payload: Option<Payload>) -> Self {
        Self {
            method,
            path: path.to_owned(),
            payload,
        }
    }

    /// A request with a body of `content_type`, sent with `content-length`.
    pub fn with_body(
        method: &'static str,
        path: &str,
        content_type: &'static str,
        body: &str,
    ) -> Self {
        let payload = Payload {
            content_type: Some(content_type),
            bytes: Arc::new(body.as_bytes().to_vec()),
            framing: Framing::Length,
        };
        Self::new(method, path, Some(payload))
    }
}

impl fmt::Display for Probe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.path)?;
        match &self.payload {
            None => write!(f, " without a body"),
            Some(p) => write!(
                f,
                " with {} bytes of {} ({:?})",
                p.bytes.len(),
                p.content_type.unwrap_or("no content-type"),
                p.framing
            ),
        }
    }
}

/// What came back.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    /// Header names in lower case, in the order sent.
    pub headers: Vec<(String, String)>,
    /// The answer said `Connection: close`: the client must reconnect.
    pub close: bool,
    /// An `Expect: 100-continue` request was answered without the server
    /// asking for its body, which the client then did not send.
    pub body_withheld: bool,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// An HTTP/1.1 connection that sends requests one after another.
pub struct Connection {
    reader: BufReader<OwnedReadHalf>,
    writer: Option<OwnedWriteHalf>,
}

impl Connection {
    pub async fn open(addr: SocketAddr) -> std::io::Result<Self> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let (read, write) = stream.into_split();
        Ok(Self {
            reader: BufReader::new(read),
            writer: Some(write),
        })
    }

    /// Sends `probe` and reads its answer. An `Err` says what broke; the
    /// connection is then unusable.
    pub async fn send(&mut self, probe: &Probe) -> Result<Reply, String> {
        let mut writer = self.writer.take().ok_or("the connection already failed")?;
        let head = request_head(probe);
        let head_only = probe.method == "HEAD";
        let answer = async {
            writer
                .write_all(head.as_bytes())
                .await
                .map_err(|e| format!("writing the request head: {e}"))?;
            let payload = probe.payload.clone();
            let expects = payload
                .as_ref()
                .is_some_and(|p| p.framing == Framing::ExpectContinue);
            if !expects {
                let writing = tokio::spawn(write_body(writer, payload));
                let reply = self.read_reply(head_only).await?;
                return Ok((reply, Some(writing)));
            }
            // The body waits for the server's go-ahead (other 1xx aside).
            let (mut status, mut headers) = self.read_head().await?;
            while (101..200).contains(&status) {
                (status, headers) = self.read_head().await?;
            }
            if status == 100 {
                let writing = tokio::spawn(write_body(writer, payload));
                let reply = self.read_reply(head_only).await?;
                return Ok((reply, Some(writing)));
            }
            let mut reply = self.read_rest(status, headers, head_only).await?;
            reply.body_withheld = true;
            self.writer = Some(writer);
            Ok::<_, String>((reply, None))
        };
        let (reply, writing) = tokio::time::timeout(TIMEOUT, answer)
            .await
            .map_err(|_| "no answer in time".to_owned())??;
        if reply.close {
            // The server closes after this answer; what is left of the body
            // may fail to go out, which is its right.
            return Ok(reply);
        }
        if let Some(writing) = writing {
            let writer = tokio::time::timeout(TIMEOUT, writing)
                .await
                .map_err(|_| "the server answered, then stopped reading the body".to_owned())?
                .map_err(|e| e.to_string())?
                .map_err(|e| format!("writing the rest of the body after the answer: {e}"))?;
            self.writer = Some(writer);
        }
        Ok(reply)
    }

    /// The final answer, after any interim (1xx) ones.
    async fn read_reply(&mut self, head_only: bool) -> Result<Reply, String> {
        loop {
            let (status, headers) = self.read_head().await?;
            if !(100..200).contains(&status) {
                return self.read_rest(status, headers, head_only).await;
            }
        }
    }

    async fn read_head(&mut self) -> Result<(u16, Vec<(String, String)>), String> {
        let mut status_line = String::new();
        self.read_line(&mut status_line).await?;
        if status_line.is_empty() {
            return Err("the server closed the connection without an answer".into());
        }
        let status = status_line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("bad status line {status_line:?}"))?;
        let mut headers = Vec::new();
        loop {
            let mut line = String::new();
            self.read_line(&mut line).await?;
            let line = line.trim_end();
            if line.is_empty() {
                return Ok((status, headers));
            }
            let (name, value) = line
                .split_once(':')
                .ok_or_else(|| format!("bad header line {line:?}"))?;
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
    }

    async fn read_rest(
        &mut self,
        status: u16,
        headers: Vec<(String, String)>,
        head_only: bool,
    ) -> Result<Reply, String> {
        let has = |name: &str, token: &str| {
            headers
                .iter()
                .filter(|(n, _)| n == name)
                .flat_map(|(_, v)| v.split(','))
                .any(|t| t.trim().eq_ignore_ascii_case(token))
        };
        let mut close = has("connection", "close");
        let length = headers
            .iter()
            .find(|(n, _)| n == "content-length")
            .map(|(_, v)| v.parse::<usize>())
            .transpose()
            .map_err(|e| format!("bad content-length: {e}"))?;
        let mut body = Vec::new();
        if head_only || status == 204 || status == 304 {
            // No body, whatever the headers say.
        } else if has("transfer-encoding", "chunked") {
            body = self.read_chunked().await?;
        } else if let Some(length) = length {
            body.resize(length, 0);
            self.reader
                .read_exact(&mut body)
                .await
                .map_err(|e| format!("reading the answer's body: {e}"))?;
        } else {
            // Delimited by the end of the connection.
            self.reader
                .read_to_end(&mut body)
                .await
                .map_err(|e| format!("reading the answer's body: {e}"))?;
            close = true;
        }
        Ok(Reply {
            status,
            headers,
            close,
            body_withheld: false,
            body,
        })
    }

    async fn read_chunked(&mut self) -> Result<Vec<u8>, String> {
        let mut body = Vec::new();
        loop {
            let mut size_line = String::new();
            self.read_line(&mut size_line).await?;
            let size = size_line.split(';').next().unwrap_or("").trim();
            let size = usize::from_str_radix(size, 16)
                .map_err(|_| format!("bad chunk size line {size_line:?}"))?;
            if size == 0 {
                // Trailers, up to the empty line.
                loop {
                    let mut line = String::new();
                    self.read_line(&mut line).await?;
                    if line.trim_end().is_empty() {
                        return Ok(body);
                    }
                }
            }
            let start = body.len();
            body.resize(start + size + 2, 0);
            self.reader
                .read_exact(&mut body[start..])
                .await
                .map_err(|e| format!("reading a chunk: {e}"))?;
            body.truncate(start + size);
        }
    }

    async fn read_line(&mut self, line: &mut String) -> Result<(), String> {
        self.reader
            .read_line(line)
            .await
            .map(drop)
            .map_err(|e| format!("reading the answer: {e}"))
    }
}

fn request_head(probe: &Probe) -> String {
    let mut head = format!(
        "{} {} HTTP/1.1\r\nhost: 127.0.0.1\r\n",
        probe.method, probe.path
    );
    if let Some(payload) = &probe.payload {
        if let Some(content_type) = payload.content_type {
            head.push_str(&format!("content-type: {content_type}\r\n"));
        }
        match payload.framing {
            Framing::Length => {
                head.push_str(&format!("content-length: {}\r\n", payload.bytes.len()));
            }
            Framing::Chunked => head.push_str("transfer-encoding: chunked\r\n"),
            Framing::ExpectContinue => head.push_str(&format!(
                "content-length: {}\r\nexpect: 100-continue\r\n",
                payload.bytes.len()
            )),
        }
    }
    head.push_str("\r\n");
    head
}

async fn write_body(
    mut writer: OwnedWriteHalf,
    payload: Option<Payload>,
) -> std::io::Result<OwnedWriteHalf> {
    let Some(payload) = payload else {
        return Ok(writer);
    };
    const CHUNK: usize = 16 * 1024;
    for chunk in payload.bytes.chunks(CHUNK) {
        if payload.framing == Framing::Chunked {
            let size = format!("{:x}\r\n", chunk.len());
            writer.write_all(size.as_bytes()).await?;
            writer.write_all(chunk).await?;
            writer.write_all(b"\r\n").await?;
        } else {
            writer.write_all(chunk).await?;
        }
    }
    if payload.framing == Framing::Chunked {
        writer.write_all(b"0\r\n\r\n").await?;
    }
    writer.flush().await?;
    Ok(writer)
}

/// Bodies of several sizes, content types and framings: `sample` (a small
/// body the routes may accept), 64 KiB, 1 MiB, and just over `max_body`.
pub fn payloads(sample: &[u8], max_body: usize) -> Vec<Payload> {
    let payload = |content_type, bytes: Vec<u8>, framing| Payload {
        content_type,
        bytes: Arc::new(bytes),
        framing,
    };
    let json = Some("application/json");
    let mut payloads = vec![payload(json, vec![], Framing::Length)];
    for content_type in [
        json,
        Some("text/plain"),
        Some("application/x-amz-json-1.1"),
        None,
    ] {
        payloads.push(payload(content_type, sample.to_vec(), Framing::Length));
    }
    payloads.push(payload(json, sample.to_vec(), Framing::Chunked));
    payloads.push(payload(json, sample.to_vec(), Framing::ExpectContinue));
    let form = Some("application/x-www-form-urlencoded");
    payloads.push(payload(form, vec![b'x'; 64 * 1024], Framing::Length));
    payloads.push(payload(json, vec![b' '; 64 * 1024], Framing::Chunked));
    let octets = Some("application/octet-stream");
    payloads.push(payload(octets, vec![0; 1024 * 1024], Framing::Length));
    payloads.push(payload(
        json,
        vec![b' '; 1024 * 1024],
        Framing::ExpectContinue,
    ));
    let over = vec![b' '; max_body + 1];
    for framing in [Framing::Length, Framing::Chunked, Framing::ExpectContinue] {
        payloads.push(payload(json, over.clone(), framing));
    }
    payloads
}

/// Every method on every path, without a body and with each payload.
pub fn probes(methods: &[&'static str], paths: &[&str], payloads: &[Payload]) -> Vec<Probe> {
    let mut probes = Vec::new();
    for method in methods {
        for path in paths {
            probes.push(Probe::new(method, path, None));
            for payload in payloads {
                probes.push(Probe::new(method, path, Some(payload.clone())));
            }
        }
    }
    probes
}

/// What a sweep found.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Requests sent, checks included.
    pub sent: usize,
    /// Answers that said `Connection: close`.
    pub closed: usize,
    /// Connections left unusable without a word: one line each.
    pub broken: Vec<String>,
    /// Answers `inspect` found wrong: one line each.
    pub wrong: Vec<String>,
}

impl Outcome {
    /// One line of figures.
    pub fn summary(&self) -> String {
        format!(
            "{} requests, {} answers said `Connection: close`, {} connections broken \
             without a word, {} wrong answers",
            self.sent,
            self.closed,
            self.broken.len(),
            self.wrong.len()
        )
    }

    /// Panics listing the failures, if any.
    pub fn assert_clean(&self, what: &str) {
        if self.broken.is_empty() && self.wrong.is_empty() {
            return;
        }
        let list = |lines: &[String]| {
            let mut shown = lines
                .iter()
                .take(25)
                .cloned()
                .collect::<Vec<_>>()
                .join("\n");
            if lines.len() > 25 {
                shown.push_str("\n…");
            }
            shown
        };
        panic!(
            "{what}: {}\nbroken:\n{}\nwrong:\n{}",
            self.summary(),
            list(&self.broken),
            list(&self.wrong)
        );
    }
}

/// Sends the probes on one connection, each followed by `check` on the same
/// connection, which must answer `check_status`; reconnects only after an
/// answer that said `Connection: close` (or after a failure, counted).
/// `inspect` names what is wrong with an answer, e.g. a missing header.
pub async fn sweep(
    addr: SocketAddr,
    probes: &[Probe],
    check: &Probe,
    check_status: u16,
    inspect: impl Fn(&Probe, &Reply) -> Option<String>,
) -> Outcome {
    let mut outcome = Outcome::default();
    let mut conn = Connection::open(addr).await.expect("connecting");
    for probe in probes {
        outcome.sent += 1;
        let reply = match conn.send(probe).await {
            Ok(reply) => reply,
            Err(e) => {
                outcome.broken.push(format!("{probe}: {e}"));
                conn = Connection::open(addr).await.expect("reconnecting");
                continue;
            }
        };
        if let Some(complaint) = inspect(probe, &reply) {
            outcome
                .wrong
                .push(format!("{probe}: answered {}: {complaint}", reply.status));
        }
        if reply.close {
            outcome.closed += 1;
            conn = Connection::open(addr).await.expect("reconnecting");
            continue;
        }
        if reply.body_withheld {
            // The server did not read the body, nor say whether it will: a
            // client can only close (RFC 9110, section 10.1.1).
            outcome.broken.push(format!(
                "{probe}: answered {} without asking for the body and without \
                 `Connection: close`",
                reply.status
            ));
            conn = Connection::open(addr).await.expect("reconnecting");
            continue;
        }
        outcome.sent += 1;
        match conn.send(check).await {
            Ok(next) if next.status == check_status && !next.close => {}
            Ok(next) => outcome.wrong.push(format!(
                "after {probe} ({}): {check} answered {}{}",
                reply.status,
                next.status,
                if next.close { " and closed" } else { "" }
            )),
            Err(e) => {
                outcome.broken.push(format!(
                    "after {probe} ({}, no `Connection: close`): {check} on the same \
                     connection failed: {e}",
                    reply.status
                ));
                conn = Connection::open(addr).await.expect("reconnecting");
            }
        }
    }
    outcome
}
