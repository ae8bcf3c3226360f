//! The API server defends itself (`api::serve`): clients that send their headers slowly,
//! sit idle, or declare a body they never send are cut off by the timeouts; connections
//! over the per-address and total caps are refused at once; and meanwhile an honest
//! caller from another address is answered, long polls included.
//!
//! The attackers connect from 127.0.0.2 and 127.0.0.3 (all of 127/8 is this machine on
//! Linux), the honest caller from 127.0.0.1, so the per-address cap tells them apart.

// Test helpers may unwrap: a panic here is a failed test with its location.
#![allow(clippy::unwrap_used)]

mod common;

use common::{cluster_genesis, commission_payload, supply_chain_members};
use custody_ledger::transaction::{Transaction, TX_FORMAT_VERSION};
use custody_node::api::{self, ServeConfig};
use custody_node::node::Node;
use custody_node::storage::Store;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::time::{sleep, timeout, Instant};

const HONEST: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 1);
const ATTACKER: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 2);
const OTHER_ATTACKER: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 3);

/// Generous bound on anything the test waits for, so that a broken server fails the test
/// rather than hanging it.
const HANG: Duration = Duration::from_secs(20);

/// A server over a node with one pending transaction (no consensus: it stays pending, so
/// a long poll on it waits its full time). Returns its address, the transaction's hash
/// and the sender that stops it.
async fn start(config: ServeConfig) -> (SocketAddr, String, tokio::sync::oneshot::Sender<()>) {
    let mut members = supply_chain_members();
    let (manufacturer, key) = members.remove(0);
    let members = std::iter::once(manufacturer.clone())
        .chain(members.into_iter().map(|(m, _)| m))
        .collect();
    let genesis = Arc::new(cluster_genesis("http-defense", members));
    let store = Arc::new(Store::in_memory(&genesis));
    let node = Arc::new(Node::new("validator-0".into(), Arc::clone(&genesis), store, 100).unwrap());
    let tx = Transaction {
        version: TX_FORMAT_VERSION,
        chain_id: genesis.chain_id.clone(),
        signer: manufacturer.name.clone(),
        sequence: 1,
        event_time_ms: custody_node::node::now_ms(),
        payload: commission_payload(&["1".into()], None),
    }
    .sign(&key);
    let hash = node.submit(tx).unwrap().to_hex();
    let listener = TcpListener::bind((HONEST, 0)).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(api::serve(
        listener,
        api::router(node),
        config,
        async move {
            let _ = stopped.await;
        },
    ));
    (addr, hash, stop)
}

/// A connection to `addr` from the local address `from`.
async fn connect_from(from: Ipv4Addr, addr: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::from((from, 0))).unwrap();
    timeout(HANG, socket.connect(addr)).await.unwrap().unwrap()
}

/// Reads until the server closes the connection; `None` if it is still open after
/// `limit`. A reset counts as closed.
async fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> Option<String> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Err(_) => return None,
            Ok(Ok(0)) | Ok(Err(_)) => return Some(String::from_utf8_lossy(&got).into_owned()),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
        }
    }
}

/// Status code and body of a raw HTTP/1.1 answer.
fn parse(answer: &str) -> (u16, String) {
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((answer, ""));
    let code = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (code, body.to_string())
}

/// One request from the honest address on a fresh connection, `Connection: close`.
async fn honest(addr: SocketAddr, path: &str) -> (u16, String) {
    let mut s = connect_from(HONEST, addr).await;
    let req = format!("GET {path} HTTP/1.1\r\nHost: custody\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    parse(
        &read_until_closed(&mut s, HANG)
            .await
            .expect("an answer, then close"),
    )
}

/// Reads one response (head and `Content-Length` body) from a kept-alive connection.
async fn read_response(s: &mut TcpStream) -> (u16, String) {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = timeout(HANG, s.read(&mut buf)).await.unwrap().unwrap();
        assert!(n > 0, "closed before a whole response");
        got.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&got).into_owned();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length: usize = head
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse().ok())?
                })
                .unwrap();
            if body.len() >= length {
                return parse(&text);
            }
        }
    }
}

/// A connection that sends a request head a header line at a time, forever; returns
/// whether the server closed it within `limit`, and what it answered.
async fn slow_headers(from: Ipv4Addr, addr: SocketAddr, limit: Duration) -> Option<String> {
    let s = connect_from(from, addr).await;
    let (mut read, mut write) = s.into_split();
    let dribble = tokio::spawn(async move {
        if write
            .write_all(b"GET /v1/status HTTP/1.1\r\nHost: custody\r\n")
            .await
            .is_err()
        {
            return;
        }
        for i in 0u64.. {
            sleep(Duration::from_millis(100)).await;
            let line = format!("X-Slow-{i}: 1\r\n");
            if write.write_all(line.as_bytes()).await.is_err() {
                return;
            }
        }
    });
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    let deadline = Instant::now() + limit;
    let closed = loop {
        match tokio::time::timeout_at(deadline, read.read(&mut buf)).await {
            Err(_) => break false,
            Ok(Ok(0)) | Ok(Err(_)) => break true,
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
        }
    };
    dribble.abort();
    closed.then(|| String::from_utf8_lossy(&got).into_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_idle_and_slow_body_connections_are_closed_while_honest_callers_are_served() {
    let config = ServeConfig {
        header_timeout: Duration::from_millis(1_500),
        body_timeout: Duration::from_millis(1_500),
        max_connections: 200,
        max_connections_per_ip: 60,
    };
    let (addr, hash, _stop) = start(config.clone()).await;

    // 20 slow-header, 20 idle and 20 slow-body connections from one address: its cap.
    let slow_headers: Vec<_> = (0..20)
        .map(|_| tokio::spawn(slow_headers(ATTACKER, addr, HANG)))
        .collect();
    let mut idle = Vec::new();
    for _ in 0..20 {
        idle.push(connect_from(ATTACKER, addr).await);
    }
    let mut slow_bodies = Vec::new();
    for _ in 0..20 {
        let mut s = connect_from(ATTACKER, addr).await;
        s.write_all(
            b"POST /v1/transactions HTTP/1.1\r\nHost: custody\r\n\
              Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"",
        )
        .await
        .unwrap();
        slow_bodies.push(s);
    }

    // Meanwhile the honest caller is answered: a plain request, a long poll that outlasts
    // the header timeout (it is not cut), and a kept-alive connection.
    let (code, body) = honest(addr, "/v1/status").await;
    assert_eq!(code, 200, "{body}");
    assert!(body.contains("http-defense"), "{body}");
    let wait_ms = 2 * config.header_timeout.as_millis();
    let long_poll = tokio::spawn(async move {
        honest(addr, &format!("/v1/transactions/{hash}?wait_ms={wait_ms}")).await
    });
    let mut kept = connect_from(HONEST, addr).await;
    kept.write_all(b"GET /v1/genesis HTTP/1.1\r\nHost: custody\r\n\r\n")
        .await
        .unwrap();
    let (code, body) = read_response(&mut kept).await;
    assert_eq!(code, 200, "{body}");

    // Every slow-body connection is answered 408 and closed; the 2 bytes never become 100.
    for mut s in slow_bodies {
        let answer = read_until_closed(&mut s, HANG).await.expect("closed");
        let (code, body) = parse(&answer);
        assert_eq!(code, 408, "{answer}");
        assert!(body.contains("body_timeout"), "{answer}");
    }
    // Every idle one is closed, without an answer.
    for mut s in idle {
        let answer = read_until_closed(&mut s, HANG).await.expect("idle closed");
        assert_eq!(answer, "", "an idle connection gets no answer");
    }
    // Every slow-header one is closed although it keeps sending.
    for t in slow_headers {
        let answer = t.await.unwrap().expect("slow headers closed");
        assert!(!answer.contains("200 OK"), "{answer}");
    }
    // The honest kept-alive connection, left idle, is closed too.
    assert_eq!(
        read_until_closed(&mut kept, HANG).await.as_deref(),
        Some(""),
        "idle keep-alive closed"
    );
    // The long poll waited its time and was answered.
    let (code, body) = long_poll.await.unwrap();
    assert_eq!(code, 200, "{body}");
    assert!(body.contains("\"pending\""), "{body}");

    // The attacker's places came back: it is served again.
    let mut s = connect_from(ATTACKER, addr).await;
    s.write_all(b"GET /v1/status HTTP/1.1\r\nHost: custody\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let (code, _) = parse(&read_until_closed(&mut s, HANG).await.unwrap());
    assert_eq!(code, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_over_the_caps_are_refused_at_once() {
    // Timeouts far beyond the test's bound: anything closed here was refused by a cap.
    let config = ServeConfig {
        header_timeout: Duration::from_secs(600),
        body_timeout: Duration::from_secs(600),
        max_connections: 8,
        max_connections_per_ip: 5,
    };
    let (addr, _, _stop) = start(config).await;
    let refused = |answer: Option<String>| {
        let answer = answer.expect("refused connections are closed at once");
        let (code, body) = parse(&answer);
        assert_eq!(code, 503, "{answer}");
        assert!(body.contains("too_many_connections"), "{answer}");
    };

    // One address: five held open, the sixth refused.
    let mut held = Vec::new();
    for _ in 0..5 {
        held.push(connect_from(ATTACKER, addr).await);
    }
    let mut sixth = connect_from(ATTACKER, addr).await;
    refused(read_until_closed(&mut sixth, HANG).await);
    // Another address: three more fill the total, the fourth is refused.
    for _ in 0..3 {
        held.push(connect_from(OTHER_ATTACKER, addr).await);
    }
    let mut over = connect_from(OTHER_ATTACKER, addr).await;
    refused(read_until_closed(&mut over, HANG).await);
    // The held ones (of either address) are still open, and they are served.
    for i in [0, 7] {
        let s = &mut held[i];
        s.write_all(b"GET /v1/status HTTP/1.1\r\nHost: custody\r\n\r\n")
            .await
            .unwrap();
        assert_eq!(read_response(s).await.0, 200);
    }
    // Closing some frees their places.
    held.truncate(5);
    let mut s = connect_from(HONEST, addr).await;
    s.write_all(b"GET /v1/status HTTP/1.1\r\nHost: custody\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = None;
    // The server sees the closes asynchronously: retry a refused attempt a few times.
    for _ in 0..50 {
        let a = read_until_closed(&mut s, HANG).await.unwrap();
        if parse(&a).0 == 200 {
            answer = Some(a);
            break;
        }
        sleep(Duration::from_millis(50)).await;
        s = connect_from(HONEST, addr).await;
        s.write_all(b"GET /v1/status HTTP/1.1\r\nHost: custody\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
    }
    assert!(
        answer.is_some(),
        "a freed place is given to a new connection"
    );
}
