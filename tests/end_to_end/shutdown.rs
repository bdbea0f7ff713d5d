//! Graceful shutdown: SIGTERM and SIGINT stop the real binary with exit code 0, and batches
//! already queued when shutdown begins are applied and answered, not dropped.

use crate::support::{batch, candle_json, client, post_minute, start_in_process, ServerProcess};
use cryptolens_actors::actors::Fault;
use cryptolens_actors::domain::market::Symbol;
use std::time::Duration;
use tokio::sync::oneshot;

#[tokio::test]
async fn sigterm_and_sigint_exit_zero() {
    for signal in ["TERM", "INT"] {
        let mut server = ServerProcess::start("");
        let body = batch("SIGUSDT", "1m", vec![candle_json(0, 1)]);
        let response = client()
            .post(server.url("/api/candles"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let status = server.signal_and_wait(signal);
        assert!(status.success(), "SIG{signal} gave {status}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_drains_queued_batches_before_exiting() {
    let (_dir, server, base) = start_in_process(|_| {}).await;
    let http = client();
    assert_eq!(
        post_minute(&http, &base, "DRAINUSDT", 0).await.status(),
        200
    );
    let (release, released) = oneshot::channel();
    let symbol = Symbol::parse("DRAINUSDT").unwrap();
    server
        .engine()
        .inject_fault(&symbol, Fault::Stall { release: released })
        .await
        .unwrap();
    let queued: Vec<_> = (1..=3)
        .map(|minute| {
            let (http, base) = (http.clone(), base.clone());
            tokio::spawn(async move {
                post_minute(&http, &base, "DRAINUSDT", minute)
                    .await
                    .status()
                    .as_u16()
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let engine = server.engine().clone();
    let shutting_down = tokio::spawn(server.shutdown());
    tokio::time::sleep(Duration::from_millis(100)).await;
    release.send(()).unwrap();
    for request in queued {
        assert_eq!(
            request.await.unwrap(),
            200,
            "a queued batch is applied and answered"
        );
    }
    tokio::time::timeout(Duration::from_secs(10), shutting_down)
        .await
        .expect("shutdown finishes")
        .unwrap();
    let late = engine
        .ingest(
            &symbol,
            cryptolens_actors::domain::market::Timeframe::M1,
            Vec::new(),
        )
        .await;
    assert!(late.is_err(), "after shutdown nothing more is accepted");
}
