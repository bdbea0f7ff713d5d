//! The listener's budgets and timeouts on the real binary over real sockets: a slowloris
//! attack from one address does not delay another client, connections over budget are
//! closed at once, trickled headers and idle keep-alive connections are closed on time.

use crate::support::{metric_value, ServerProcess};
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

const LIMITS: &str = "[connections]\nheader_read_timeout_ms = 2000\nidle_timeout_ms = 1500\nmax_open = 1000\nmax_per_address = 300\n";

fn server_address(server: &ServerProcess) -> SocketAddr {
    server
        .base_url
        .trim_start_matches("http://")
        .parse()
        .expect("address")
}

/// A connection from `source` (another loopback address is another client).
async fn connect_from(source: &str, server: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(format!("{source}:0").parse().expect("source"))?;
    socket.connect(server).await
}

/// True when the server has closed `stream` (EOF or reset) within `within`.
async fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
    let mut byte = [0_u8; 512];
    loop {
        match tokio::time::timeout(within, stream.read(&mut byte)).await {
            Err(_) => return false,
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue,
        }
    }
}

/// How many of `streams` the server closes within `within` (watched all at once).
async fn closed_count(streams: &mut [TcpStream], within: Duration) -> usize {
    let watching = streams
        .iter_mut()
        .map(|stream| closed_within(stream, within));
    futures_util::future::join_all(watching)
        .await
        .into_iter()
        .filter(|closed| *closed)
        .count()
}

/// One plain request on a fresh connection from 127.0.0.1; answers how long it took.
async fn timed_request(server: SocketAddr) -> Duration {
    let started = Instant::now();
    let mut stream = TcpStream::connect(server).await.expect("connect");
    stream
        .write_all(b"GET /api/health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .expect("write");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.expect("read");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    started.elapsed()
}

/// The slowloris test's header timeout: long enough that every step before the trickle
/// check finishes well inside it even on a loaded two-core CI machine.
const SLOWLORIS_LIMITS: &str = "[connections]\nheader_read_timeout_ms = 6000\nidle_timeout_ms = 1500\nmax_open = 1000\nmax_per_address = 300\n";

#[tokio::test]
async fn a_slowloris_from_500_sockets_neither_delays_other_clients_nor_holds_its_sockets() {
    let server = ServerProcess::start(SLOWLORIS_LIMITS);
    let address = server_address(&server);
    let mut attackers = Vec::new();
    let attack_started = Instant::now();
    for _ in 0..500 {
        let mut stream = connect_from("127.0.0.2", address).await.expect("connect");
        // Never finishes the header.
        let _ = stream
            .write_all(b"GET /api/health HTTP/1.1\r\nX-Slow: ")
            .await;
        attackers.push(stream);
    }
    let closed_at_once = closed_count(&mut attackers, Duration::from_millis(500)).await;
    let checked_after = attack_started.elapsed();
    assert!(
        checked_after < Duration::from_secs(5),
        "the at-accept check must run inside the header timeout, took {checked_after:?}"
    );
    assert_eq!(
        closed_at_once, 200,
        "the 200 over max_per_address are closed at accept, the 300 admitted stay open"
    );
    let refused = metric_value(
        &server.base_url,
        "cryptolens_http_connections_refused_total{reason=\"max_per_address\"}",
    )
    .await;
    assert_eq!(refused, Some(200.0));

    // Another client is answered while the 300 admitted ones hold their sockets: well
    // before they time out, so the server did not wait for them.
    let mut slowest = Duration::ZERO;
    for _ in 0..5 {
        slowest = slowest.max(timed_request(address).await);
        for attacker in attackers.iter_mut().step_by(7) {
            let _ = attacker.write_all(b"a").await;
        }
    }
    assert!(
        slowest < Duration::from_secs(2),
        "a normal request took {slowest:?}"
    );

    // The 300 admitted ones trickle bytes but never finish their header: all are closed
    // once header_read_timeout_ms (6 s) has passed, however they trickle.
    for attacker in attackers.iter_mut() {
        let _ = attacker.write_all(b"b").await;
    }
    let closed = closed_count(&mut attackers, Duration::from_secs(10)).await;
    assert_eq!(closed, 500, "trickled headers time out");
    assert!(attack_started.elapsed() >= Duration::from_secs(6));
    assert!(timed_request(address).await < Duration::from_secs(2));
}

#[tokio::test]
async fn an_idle_kept_alive_connection_is_closed_and_a_busy_one_is_not() {
    let server = ServerProcess::start(LIMITS);
    let address = server_address(&server);
    let mut idle = TcpStream::connect(address).await.expect("connect");
    idle.write_all(b"GET /api/health/live HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .expect("write");
    let mut answer = [0_u8; 4096];
    let read = idle.read(&mut answer).await.expect("answer");
    assert!(answer[..read].starts_with(b"HTTP/1.1 200"));
    let started = Instant::now();
    let mut busy = TcpStream::connect(address).await.expect("connect");
    // Requests every 500 ms keep this one busy past the idle timeout.
    for _ in 0..6 {
        busy.write_all(b"GET /api/health/live HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .expect("a busy connection stays open");
        let read = busy.read(&mut answer).await.expect("answer");
        assert!(answer[..read].starts_with(b"HTTP/1.1 200"));
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert!(
        closed_within(&mut idle, Duration::from_secs(1)).await,
        "the idle connection was closed by the server"
    );
    let closed_after = started.elapsed();
    assert!(
        closed_after >= Duration::from_millis(1400),
        "{closed_after:?}"
    );
}

#[tokio::test]
async fn connections_over_the_server_budget_are_closed_at_accept() {
    let server = ServerProcess::start(
        "[connections]\nmax_open = 40\nmax_per_address = 40\nheader_read_timeout_ms = 60000\n",
    );
    let address = server_address(&server);
    let mut held = Vec::new();
    for index in 0..40 {
        let source = format!("127.0.1.{}", index % 4 + 1);
        let mut stream = connect_from(&source, address).await.expect("connect");
        stream
            .write_all(b"GET / HTTP/1.1\r\n")
            .await
            .expect("write");
        held.push(stream);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut over = connect_from("127.0.2.1", address).await.expect("connect");
    assert!(closed_within(&mut over, Duration::from_secs(1)).await);
    drop(held);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        timed_request(address).await < Duration::from_secs(1),
        "room again"
    );
}
