//! The API's HTTP/1.1 server: an accept loop that defends itself against slow and idle
//! clients, in place of `axum::serve` (which has no timeouts and no connection cap).
//!
//! - **Request heads.** hyper's `header_read_timeout` starts when the server is ready for a
//!   request — as a connection opens and again after each response is sent — so one limit,
//!   [`ServeConfig::header_timeout`], closes both a client that sends its headers slowly and
//!   a keep-alive connection left idle. A request being handled (a long poll such as
//!   `GET /v1/transactions/{hash}?wait_ms=`) is not under it.
//! - **Request bodies.** Each body must arrive in full within [`ServeConfig::body_timeout`]
//!   of its request's head; a later read fails with [`BodyTimeout`], which the handler
//!   answers with 408 (then the connection closes).
//! - **Connections.** At most [`ServeConfig::max_connections`] in total and
//!   [`ServeConfig::max_connections_per_ip`] from one remote address; a connection beyond
//!   either is sent a 503 (if its socket takes it at once) and closed, never queued.
//! - **Shutdown.** When asked, the listener closes, open connections finish the request in
//!   hand (for at most [`SHUTDOWN_GRACE`]) and are then dropped.

use axum::body::{Body, Bytes, HttpBody};
use axum::http::Request;
use axum::Router;
use hyper::body::{Frame, Incoming, SizeHint};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;
use tokio::time::{Instant, Sleep};
use tower::ServiceExt;

/// How long open connections may take to finish the request in hand once the server is
/// asked to stop; then they are dropped (a long poll is cut short).
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// The body of the answer to a connection over a cap.
const REFUSAL_BODY: &str =
    r#"{"error":{"code":"too_many_connections","message":"connection limit reached"}}"#;

/// The server's limits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServeConfig {
    /// Longest wait for a complete request head, from when the server is ready for it (the
    /// connection's start or the end of the previous response): also the keep-alive idle
    /// limit.
    pub header_timeout: Duration,
    /// Longest time a request body may take to arrive in full, from its request's head.
    pub body_timeout: Duration,
    /// Most connections open at once.
    pub max_connections: usize,
    /// Most connections open at once from one remote IP address.
    pub max_connections_per_ip: usize,
}

impl ServeConfig {
    /// Default [`ServeConfig::header_timeout`].
    pub const DEFAULT_HEADER_TIMEOUT_MS: u64 = 15_000;
    /// Default [`ServeConfig::body_timeout`].
    pub const DEFAULT_BODY_TIMEOUT_MS: u64 = 30_000;
    /// Default [`ServeConfig::max_connections`].
    pub const DEFAULT_MAX_CONNECTIONS: usize = 4_096;
    /// Default [`ServeConfig::max_connections_per_ip`]: room for `custody bench
    /// --concurrency 1000` (a long poll per transaction in flight) from one address.
    pub const DEFAULT_MAX_CONNECTIONS_PER_IP: usize = 2_048;
}

impl Default for ServeConfig {
    fn default() -> Self {
        ServeConfig {
            header_timeout: Duration::from_millis(Self::DEFAULT_HEADER_TIMEOUT_MS),
            body_timeout: Duration::from_millis(Self::DEFAULT_BODY_TIMEOUT_MS),
            max_connections: Self::DEFAULT_MAX_CONNECTIONS,
            max_connections_per_ip: Self::DEFAULT_MAX_CONNECTIONS_PER_IP,
        }
    }
}

/// Reading a request body took longer than [`ServeConfig::body_timeout`].
#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive within {0:?}")]
pub struct BodyTimeout(pub Duration);

/// Whether `e` or an error under it is a [`BodyTimeout`].
pub fn is_body_timeout(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur = Some(e);
    while let Some(e) = cur {
        if e.is::<BodyTimeout>() {
            return true;
        }
        cur = e.source();
    }
    false
}

/// Serves `app` on `listener` under `config` until `shutdown` completes, then stops
/// accepting, lets open connections finish for at most [`SHUTDOWN_GRACE`] and returns.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    config: ServeConfig,
    shutdown: impl Future<Output = ()>,
) {
    let limits = Arc::new(Limits {
        total: Arc::new(Semaphore::new(config.max_connections)),
        per_ip: Mutex::new(HashMap::new()),
        max_per_ip: config.max_connections_per_ip,
    });
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut conns = JoinSet::new();
    let mut refused = RefusalLog::default();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            biased;
            _ = &mut shutdown => break,
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => match Limits::admit(&limits, peer.ip()) {
                    Some(permit) => {
                        conns.spawn(connection(
                            stream,
                            peer,
                            app.clone(),
                            config.clone(),
                            permit,
                            stop_rx.clone(),
                        ));
                    }
                    None => {
                        refuse(stream, peer);
                        refused.note();
                    }
                },
                Err(e) if is_connection_error(&e) => {}
                Err(e) => {
                    // Out of file descriptors, most likely: wait for some to close rather
                    // than spin.
                    tracing::warn!(error = %e, "API accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
        }
    }
    drop(listener);
    let _ = stop_tx.send(true);
    let drained = tokio::time::timeout(SHUTDOWN_GRACE, async {
        while conns.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::info!(
            open = conns.len(),
            "API connections still busy after the grace period: dropping them"
        );
    }
    conns.abort_all();
}

/// Errors of one incoming connection, not of the listener.
fn is_connection_error(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        e.kind(),
        ConnectionRefused | ConnectionAborted | ConnectionReset | Interrupted | WouldBlock
    )
}

/// Tells a connection over a cap so, if its socket takes the few bytes at once, and closes
/// it.
fn refuse(stream: TcpStream, peer: SocketAddr) {
    tracing::debug!(%peer, "API connection refused: connection limit reached");
    let answer = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n\
         connection: close\r\ncontent-length: {}\r\n\r\n{REFUSAL_BODY}",
        REFUSAL_BODY.len()
    );
    let _ = stream.try_write(answer.as_bytes());
}

/// Counts refused connections and says so in the log at most every [`Self::EVERY`], so
/// that a flood does not flood the log too.
#[derive(Default)]
struct RefusalLog {
    since_last: u64,
    last: Option<Instant>,
}

impl RefusalLog {
    const EVERY: Duration = Duration::from_secs(10);

    fn note(&mut self) {
        self.since_last += 1;
        let now = Instant::now();
        if self
            .last
            .is_none_or(|t| now.duration_since(t) >= Self::EVERY)
        {
            tracing::warn!(
                refused = self.since_last,
                "API connection limit reached: refusing connections"
            );
            self.since_last = 0;
            self.last = Some(now);
        }
    }
}

/// Serves one connection until it closes, its timeouts end it, or the server stops.
async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    app: Router,
    config: ServeConfig,
    _permit: ConnectionPermit,
    mut stop: watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    let body_timeout = config.body_timeout;
    let service = service_fn(move |req: Request<Incoming>| {
        let req = req.map(|b| Body::new(DeadlineBody::new(b, body_timeout)));
        app.clone().oneshot(req)
    });
    let conn = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(config.header_timeout)
        .serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    let result = tokio::select! {
        r = conn.as_mut() => Some(r),
        _ = stop.wait_for(|s| *s) => None,
    };
    let result = match result {
        Some(r) => r,
        None => {
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    if let Err(e) = result {
        tracing::debug!(%peer, error = %e, "API connection ended");
    }
}

/// The connection caps: a semaphore for the total, a count per remote address.
struct Limits {
    total: Arc<Semaphore>,
    per_ip: Mutex<HashMap<IpAddr, usize>>,
    max_per_ip: usize,
}

impl Limits {
    /// A permit for one more connection from `ip`, or `None` over either cap.
    fn admit(limits: &Arc<Limits>, ip: IpAddr) -> Option<ConnectionPermit> {
        let total = Arc::clone(&limits.total).try_acquire_owned().ok()?;
        let mut per_ip = limits.per_ip.lock().unwrap_or_else(|p| p.into_inner());
        let n = per_ip.entry(ip).or_insert(0);
        if *n >= limits.max_per_ip {
            return None;
        }
        *n += 1;
        Some(ConnectionPermit {
            _total: total,
            ip,
            limits: Arc::clone(limits),
        })
    }
}

/// One admitted connection; gives its place back when dropped.
struct ConnectionPermit {
    _total: OwnedSemaphorePermit,
    ip: IpAddr,
    limits: Arc<Limits>,
}

impl Drop for ConnectionPermit {
    fn drop(&mut self) {
        let mut per_ip = self.limits.per_ip.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = per_ip.get_mut(&self.ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                per_ip.remove(&self.ip);
            }
        }
    }
}

/// A request body that fails with [`BodyTimeout`] if it has not ended by a deadline.
struct DeadlineBody {
    inner: Incoming,
    limit: Duration,
    deadline: Instant,
    /// Armed the first time the body is not ready, so bodiless requests need no timer.
    sleep: Option<Pin<Box<Sleep>>>,
}

impl DeadlineBody {
    fn new(inner: Incoming, limit: Duration) -> Self {
        DeadlineBody {
            inner,
            limit,
            deadline: Instant::now() + limit,
            sleep: None,
        }
    }
}

impl HttpBody for DeadlineBody {
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        if let Poll::Ready(frame) = Pin::new(&mut this.inner).poll_frame(cx) {
            return Poll::Ready(frame.map(|r| r.map_err(Into::into)));
        }
        let deadline = this.deadline;
        let sleep = this
            .sleep
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        match sleep.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Some(Err(Box::new(BodyTimeout(this.limit))))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_timeout_is_found_under_other_errors() {
        let boxed: Box<dyn std::error::Error + Send + Sync> =
            Box::new(BodyTimeout(Duration::from_secs(1)));
        let wrapped = axum::Error::new(boxed);
        assert!(is_body_timeout(&wrapped));
        let other = axum::Error::new(std::io::Error::other("reset"));
        assert!(!is_body_timeout(&other));
    }

    #[test]
    fn caps_count_per_address_and_in_total() {
        let limits = Arc::new(Limits {
            total: Arc::new(Semaphore::new(3)),
            per_ip: Mutex::new(HashMap::new()),
            max_per_ip: 2,
        });
        let a: IpAddr = [127, 0, 0, 2].into();
        let b: IpAddr = [127, 0, 0, 3].into();
        let a1 = Limits::admit(&limits, a).expect("first from a");
        let _a2 = Limits::admit(&limits, a).expect("second from a");
        assert!(
            Limits::admit(&limits, a).is_none(),
            "third from a is over its cap"
        );
        let _b1 = Limits::admit(&limits, b).expect("first from b");
        assert!(Limits::admit(&limits, b).is_none(), "over the total");
        drop(a1);
        assert!(Limits::admit(&limits, a).is_some(), "a's place came back");
    }
}
