//! A stand-in for the advisory feeds' servers (OSV's bucket, Amazon Linux's
//! CDN) on 127.0.0.1: serves the files a test puts, with an ETag (a hash of
//! the content) and a Last-Modified (the time the file was put), answers a
//! conditional GET whose validators match with 304, and records every
//! request's validators. A test can make a path answer an HTTP error, or a
//! body cut short of its Content-Length.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::{CONTENT_LENGTH, ETAG, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;

/// How a path answers.
#[derive(Clone)]
pub enum Served {
    /// 200 with validators, or 304 when the request's match.
    File {
        body: Vec<u8>,
        etag: String,
        last_modified: String,
    },
    /// This status and no body.
    Error(StatusCode),
    /// A Content-Length of the whole, then only `sent` bytes and a closed connection.
    CutShort { body: Vec<u8>, sent: usize },
}

/// One request as the stand-in saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    pub path: String,
    pub if_none_match: Option<String>,
    pub if_modified_since: Option<String>,
    pub status: u16,
}

#[derive(Clone, Default)]
pub struct FeedServer {
    files: Arc<Mutex<HashMap<String, Served>>>,
    seen: Arc<Mutex<Vec<Seen>>>,
    /// Bumped on each put: each version gets a later Last-Modified.
    version: Arc<Mutex<u32>>,
}

impl FeedServer {
    /// Starts serving on 127.0.0.1; returns the server and its base URL
    /// (`http://127.0.0.1:<port>`, no trailing slash).
    pub async fn start() -> (FeedServer, String) {
        let server = FeedServer::default();
        let app = Router::new().fallback(answer).with_state(server.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        (server, format!("http://{addr}"))
    }

    /// Serves `body` at `path` as a new version of the file.
    pub fn put(&self, path: &str, body: Vec<u8>) {
        let version = {
            let mut v = self.version.lock().unwrap();
            *v += 1;
            *v
        };
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        body.hash(&mut hasher);
        let served = Served::File {
            etag: format!("\"{:016x}\"", hasher.finish()),
            // One day per version, in HTTP's date format.
            last_modified: format!("Mon, {:02} Nov 2026 10:00:00 GMT", 1 + version % 28),
            body,
        };
        self.set(path, served);
    }

    pub fn set(&self, path: &str, served: Served) {
        self.files.lock().unwrap().insert(path.to_owned(), served);
    }

    /// The requests so far, and forgets them.
    pub fn take_seen(&self) -> Vec<Seen> {
        std::mem::take(&mut *self.seen.lock().unwrap())
    }
}

async fn answer(State(server): State<FeedServer>, request: Request) -> Response {
    let path = request.uri().path().to_owned();
    let header = |name| {
        request
            .headers()
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
            .map(str::to_owned)
    };
    let (if_none_match, if_modified_since) = (header(IF_NONE_MATCH), header(IF_MODIFIED_SINCE));
    let served = server.files.lock().unwrap().get(&path).cloned();
    let response = match served {
        None => StatusCode::NOT_FOUND.into_response(),
        Some(Served::Error(status)) => status.into_response(),
        Some(Served::File {
            body,
            etag,
            last_modified,
        }) => {
            // RFC 9110: If-None-Match decides when sent; else If-Modified-Since
            // (an exact match of the date we sent is enough here).
            let unchanged = match (&if_none_match, &if_modified_since) {
                (Some(tags), _) => tags.split(',').any(|t| t.trim() == etag),
                (None, Some(since)) => *since == last_modified,
                (None, None) => false,
            };
            let status = if unchanged {
                StatusCode::NOT_MODIFIED
            } else {
                StatusCode::OK
            };
            let body = if unchanged { Vec::new() } else { body };
            (status, [(ETAG, etag), (LAST_MODIFIED, last_modified)], body).into_response()
        }
        Some(Served::CutShort { body, sent }) => {
            let total = body.len();
            let head = body[..sent].to_vec();
            // The body ends (an error) before the announced length.
            let stream = futures::stream::iter([
                Ok::<_, std::io::Error>(axum::body::Bytes::from(head)),
                Err(std::io::Error::other("connection lost")),
            ]);
            let mut response = Response::new(Body::from_stream(stream));
            response
                .headers_mut()
                .insert(CONTENT_LENGTH, HeaderValue::from(total));
            response
        }
    };
    server.seen.lock().unwrap().push(Seen {
        path,
        if_none_match,
        if_modified_since,
        status: response.status().as_u16(),
    });
    response
}
