//! A full mailbox is backpressure: 503 with Retry-After, nothing queued without bound,
//! nothing lost. Runs the real server in-process so a test-only fault can stall one actor.

use crate::support::{
    client, get_json, post_minute, start_in_process, wait_for_actor_field, MINUTE_MS,
};
use cryptolens_actors::actors::Fault;
use cryptolens_actors::domain::market::Symbol;
use serde_json::Value;
use tokio::sync::oneshot;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_mailbox_answers_503_with_retry_after_and_loses_nothing() {
    let (_dir, server, base) =
        start_in_process(|settings| settings.engine.mailbox_capacity = 2).await;
    let http = client();
    let post = |minute: i64| {
        let (http, base) = (http.clone(), base.clone());
        async move { post_minute(&http, &base, "FULLUSDT", minute).await }
    };
    assert_eq!(post(0).await.status(), 200);

    let (release, released) = oneshot::channel();
    let symbol = Symbol::parse("FULLUSDT").unwrap();
    server
        .engine()
        .inject_fault(&symbol, Fault::Stall { release: released })
        .await
        .unwrap();
    // Enqueue one at a time: a later minute overtaking an earlier one would be rejected
    // as out of order, which is correct but not what this test is about.
    let mut waiting = Vec::new();
    for minute in 1..=2 {
        waiting.push(tokio::spawn(post(minute)));
        let queued =
            wait_for_actor_field(&http, &base, "FULLUSDT", "mailbox_len", minute as u64).await;
        assert_eq!(queued, minute as u64, "batches wait in the stalled mailbox");
    }

    let refused = post(3).await;
    assert_eq!(refused.status(), 503);
    assert_eq!(
        refused
            .headers()
            .get("retry-after")
            .and_then(|value| value.to_str().ok()),
        Some("1")
    );
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], "mailbox_full");

    release.send(()).unwrap();
    for request in waiting {
        assert_eq!(
            request.await.unwrap().status(),
            200,
            "queued batches are applied once the actor resumes"
        );
    }
    assert_eq!(post(3).await.status(), 200, "the retry succeeds");
    let page = get_json(&http, &format!("{base}/api/candles/FULLUSDT/1m")).await;
    let times: Vec<i64> = page["candles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|candle| candle["t"].as_i64().unwrap())
        .collect();
    assert_eq!(times, [0, MINUTE_MS, 2 * MINUTE_MS, 3 * MINUTE_MS]);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_actor_makes_health_unhealthy_until_it_beats_again() {
    let (_dir, server, base) =
        start_in_process(|settings| settings.engine.heartbeat_interval_ms = 50).await;
    let http = client();
    assert_eq!(post_minute(&http, &base, "SLOWUSDT", 0).await.status(), 200);
    let health = get_json(&http, &format!("{base}/api/health")).await;
    assert_eq!(health["status"], "healthy", "{health}");
    let (release, released) = oneshot::channel();
    let symbol = Symbol::parse("SLOWUSDT").unwrap();
    server
        .engine()
        .inject_fault(&symbol, Fault::Stall { release: released })
        .await
        .unwrap();
    // Ten missed heartbeats of 50 ms mark the actor stuck.
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    let health = get_json(&http, &format!("{base}/api/health")).await;
    assert_eq!(health["status"], "unhealthy", "{health}");
    assert_eq!(health["actors"]["stuck"], serde_json::json!(["SLOWUSDT"]));
    release.send(()).unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let health = get_json(&http, &format!("{base}/api/health")).await;
    assert_eq!(health["status"], "healthy", "beating again: {health}");
    server.shutdown().await;
}
