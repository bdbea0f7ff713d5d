//! Notifications from the real binary to mock NTFY, webhook and Telegram receivers (real
//! HTTP servers on loopback with scripted faults), fed the registry's EURUSD hourly candles,
//! whose signals are the notifications: each qualifying signal reaches each channel exactly
//! once by delivery id, through 500s and a 429, while a black-holed channel's breaker opens
//! without holding up the others, and resumes when its receiver returns; `kill -9` during
//! delivery loses nothing and never re-sends a signal under another id; destinations on
//! internal addresses are refused; bad input is refused by field.

use crate::mock_receiver::{Answer, MockReceiver};
use crate::support::{add_user, bearer_client, client, login, metric_value, send, ServerProcess};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

/// Private destinations allowed (the mocks are on loopback); EURUSD's signals are years
/// old, so the age limit is lifted; short timeouts, backoff and breaker cool-down.
const CONFIG: &str = "[notify]
allow_private_destinations = true
max_signal_age_ms = 9000000000000
request_timeout_ms = 400
tick_ms = 20
[notify.retry]
base_ms = 100
max_ms = 400
max_attempts = 1000
[notify.breaker]
failures_to_open = 2
cool_down_ms = 700
";
const CANDLES: usize = 1_500;

/// Creates a channel as the admin; asserts 201 and answers it.
pub(crate) async fn create_channel(server: &ServerProcess, body: Value) -> Value {
    let (status, answer) = send(
        &client(),
        "POST",
        &server.url("/api/notify/channels"),
        Some(&body),
    )
    .await;
    assert_eq!(status, 201, "{answer}");
    answer
}

/// Channel `channel`'s deliveries (up to 500), newest first.
pub(crate) async fn deliveries(server: &ServerProcess, channel: u64) -> Vec<Value> {
    let url = server.url(&format!(
        "/api/notify/deliveries?channel={channel}&limit=500"
    ));
    let (status, answer) = send(&client(), "GET", &url, None).await;
    assert_eq!(status, 200, "{answer}");
    answer["deliveries"].as_array().cloned().unwrap_or_default()
}

async fn channel(server: &ServerProcess, id: u64) -> Value {
    let (_, answer) = send(&client(), "GET", &server.url("/api/notify/channels"), None).await;
    answer["channels"]
        .as_array()
        .and_then(|all| all.iter().find(|c| c["id"] == id).cloned())
        .unwrap_or(Value::Null)
}

async fn until<F, Fut>(what: &str, timeout: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    while !check().await {
        assert!(started.elapsed() < timeout, "timed out waiting: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until channel `id` has accepted its deliveries (the count holds for a second) and
/// delivered every one; answers their subjects (signal ids).
async fn all_delivered(server: &ServerProcess, id: u64) -> BTreeSet<String> {
    let started = Instant::now();
    let mut last = (usize::MAX, Instant::now());
    loop {
        let listed = deliveries(server, id).await;
        let done = listed.iter().all(|d| d["status"] == "delivered");
        if listed.len() != last.0 {
            last = (listed.len(), Instant::now());
        }
        if done && !listed.is_empty() && last.1.elapsed() > Duration::from_secs(1) {
            return listed
                .iter()
                .map(|d| d["subject"].as_str().unwrap().to_owned())
                .collect();
        }
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "channel {id} never delivered all: {listed:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The subjects a receiver took, from delivery ids `c{channel}-{subject}`; asserts each
/// arrived exactly once.
fn subjects_once(receiver: &MockReceiver, channel: u64) -> BTreeSet<String> {
    let prefix = format!("c{channel}-");
    let delivered = receiver.delivered();
    let mine: BTreeMap<&String, &usize> = delivered
        .iter()
        .filter(|(id, _)| id.starts_with(&prefix))
        .collect();
    for (id, count) in &mine {
        assert_eq!(**count, 1, "{id} delivered {count} times");
    }
    mine.keys()
        .map(|id| id[prefix.len()..].to_owned())
        .collect()
}

/// HMAC-SHA256 written out from RFC 2104, independent of the server's.
fn hmac_sha256_hex(key: &[u8], message: &[u8]) -> String {
    let mut block = [0u8; 64];
    block[..key.len()].copy_from_slice(key);
    let pad = |byte: u8| block.iter().map(|k| k ^ byte).collect::<Vec<u8>>();
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(message)
        .finalize();
    let outer = Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize();
    outer.iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_signal_reaches_every_channel_once_through_faults_and_a_dead_receiver() {
    let (ntfy, webhook, telegram) = (
        MockReceiver::start().await,
        MockReceiver::start().await,
        MockReceiver::start().await,
    );
    ntfy.script(&[
        Answer::Status(500),
        Answer::Status(503),
        Answer::Throttle { retry_after_s: 1 },
    ]);
    telegram.stand(Some(Answer::BlackHole));
    let dir = tempfile::tempdir().expect("temp dir");
    let server = ServerProcess::start(CONFIG);
    let ntfy_channel = create_channel(&server, json!({"name": "phone", "kind": "ntfy", "server_url": ntfy.base_url, "topic": "eurusd", "access_token": "tk_secret_1"})).await;
    let webhook_channel = create_channel(
        &server,
        json!({"name": "bot", "kind": "webhook", "url": format!("{}/hooks/in", webhook.base_url)}),
    )
    .await;
    let bearish_channel = create_channel(&server, json!({"name": "shorts", "kind": "webhook", "url": format!("{}/hooks/bearish", webhook.base_url), "filter": {"directions": ["bearish"]}})).await;
    let telegram_channel = create_channel(&server, json!({"name": "chat", "kind": "telegram", "base_url": telegram.base_url, "bot_token": "123:ABC", "chat_id": "-1001"})).await;
    let secret = webhook_channel["secret"]
        .as_str()
        .expect("the secret, once")
        .to_owned();
    let ids: Vec<u64> = [
        &ntfy_channel,
        &webhook_channel,
        &bearish_channel,
        &telegram_channel,
    ]
    .iter()
    .map(|c| c["id"].as_u64().unwrap())
    .collect();
    let (ntfy_id, webhook_id, bearish_id, telegram_id) = (ids[0], ids[1], ids[2], ids[3]);

    crate::support::import_eurusd_rows(&server, dir.path(), 0, CANDLES);
    let signals = all_delivered(&server, webhook_id).await;
    assert!(
        signals.len() >= 10,
        "EURUSD gives signals: {}",
        signals.len()
    );
    assert_eq!(subjects_once(&webhook, webhook_id), signals);
    for request in webhook.received().iter().filter(|r| r.path == "/hooks/in") {
        let signature = request.header("x-cryptolens-signature").expect("signed");
        assert_eq!(
            signature,
            format!(
                "sha256={}",
                hmac_sha256_hex(secret.as_bytes(), &request.body)
            )
        );
        assert_eq!(
            request.json()["signal"]["id"].as_str(),
            Some(&request.delivery_id()[format!("c{webhook_id}-").len()..])
        );
    }
    let bearish: BTreeSet<String> = signals
        .iter()
        .filter(|s| s.contains("-bearish-"))
        .cloned()
        .collect();
    assert!(!bearish.is_empty() && bearish.len() < signals.len());
    assert_eq!(
        all_delivered(&server, bearish_id).await,
        bearish,
        "the filter keeps bearish only"
    );
    assert_eq!(subjects_once(&webhook, bearish_id), bearish);

    // NTFY: through two 5xx and a 429 to all of them, with its documented headers.
    assert_eq!(all_delivered(&server, ntfy_id).await, signals);
    assert_eq!(subjects_once(&ntfy, ntfy_id), signals);
    let received = ntfy.received();
    let first = &received[0];
    assert_eq!(
        received.len(),
        signals.len() + 3,
        "each signal once, plus the three refused tries"
    );
    let listed = deliveries(&server, ntfy_id).await;
    let attempts: u64 = listed.iter().map(|d| d["attempts"].as_u64().unwrap()).sum();
    assert_eq!(attempts, signals.len() as u64 + 3);
    let retried = listed
        .iter()
        .find(|d| d["id"] == first.delivery_id())
        .unwrap();
    assert!(retried["attempts"].as_u64().unwrap() >= 2, "{retried}");
    assert_eq!(first.path, "/eurusd");
    assert_eq!(first.header("authorization"), Some("Bearer tk_secret_1"));
    assert!(first.header("title").unwrap().starts_with("EURUSD "));
    assert!(first.header("click").unwrap().contains("/#/symbol/EURUSD/"));
    assert!(["3", "4"].contains(&first.header("priority").unwrap()));

    // The black hole: its breaker opened, nothing reached it, everything waits for it.
    let dead = channel(&server, telegram_id).await;
    assert!(
        ["open", "half_open"].contains(&dead["breaker"]["state"].as_str().unwrap()),
        "{dead}"
    );
    assert_eq!(
        dead["pending"].as_u64(),
        Some(signals.len() as u64),
        "{dead}"
    );
    assert!(telegram.delivered().is_empty());
    let breaker_metric = format!("cryptolens_notify_breaker_state{{channel=\"{telegram_id}\"}}");
    assert!(
        metric_value(&server.base_url, &breaker_metric)
            .await
            .unwrap()
            >= 1.0
    );

    let (_, health) = send(&client(), "GET", &server.url("/api/health"), None).await;
    let failing = &health["notify"]["failing_channels"];
    assert_eq!(
        failing[0]["channel"], telegram_id,
        "health names the dead channel: {health}"
    );
    assert_eq!(health["notify"]["running"], true);
    telegram.stand(None);
    assert_eq!(all_delivered(&server, telegram_id).await, signals);
    assert_eq!(subjects_once(&telegram, telegram_id), signals);
    assert_eq!(
        channel(&server, telegram_id).await["breaker"]["state"],
        "closed"
    );
    let message = telegram.received().last().unwrap().json();
    assert_eq!(message["chat_id"], "-1001");
    assert!(message["text"].as_str().unwrap().starts_with("EURUSD "));
    let sent = metric_value(
        &server.base_url,
        "cryptolens_notify_total{outcome=\"sent\"}",
    )
    .await
    .unwrap();
    assert_eq!(sent as usize, 3 * signals.len() + bearish.len());
    let missed = metric_value(
        &server.base_url,
        "cryptolens_notify_total{outcome=\"missed_event\"}",
    )
    .await;
    assert_eq!(missed, Some(0.0), "the notifier lost signal events");
    let listed = send(&client(), "GET", &server.url("/api/notify/channels"), None)
        .await
        .1
        .to_string();
    for secret_text in [secret.as_str(), "tk_secret_1", "123:ABC"] {
        assert!(!listed.contains(secret_text), "a secret is shown: {listed}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_during_delivery_loses_nothing_and_never_resends_under_another_id() {
    let receiver = MockReceiver::start().await;
    receiver.stand(Some(Answer::Slow { delay_ms: 150 }));
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let mut server = ServerProcess::start_in(&data, CONFIG);
    let created = create_channel(
        &server,
        json!({"name": "bot", "kind": "webhook", "url": receiver.base_url}),
    )
    .await;
    let id = created["id"].as_u64().unwrap();
    crate::support::import_eurusd_rows(&server, dir.path(), 0, CANDLES);
    let started = Instant::now();
    let accepted = loop {
        let accepted = deliveries(&server, id).await.len();
        if receiver.delivered().len() >= 3 {
            break accepted;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "nothing delivered"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    server.child.kill().expect("kill -9");
    let _ = server.child.wait();
    let before = receiver.delivered().len();
    assert!(
        before < accepted,
        "the kill came during delivery: {before} of {accepted}"
    );

    receiver.stand(None);
    let server = ServerProcess::start_in(&data, CONFIG);
    let subjects = all_delivered(&server, id).await;
    assert!(
        subjects.len() >= accepted,
        "{} of {accepted} after the restart",
        subjects.len()
    );
    let mut ids_per_subject: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for request in receiver.received() {
        let subject = request.json()["subject"].as_str().unwrap().to_owned();
        ids_per_subject
            .entry(subject)
            .or_default()
            .insert(request.delivery_id());
    }
    assert_eq!(
        ids_per_subject.keys().cloned().collect::<BTreeSet<_>>(),
        subjects
    );
    for (subject, ids) in ids_per_subject {
        assert_eq!(ids.len(), 1, "{subject} came under {ids:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn internal_destinations_are_refused_unless_the_operator_allows_them() {
    let server = ServerProcess::start("");
    let refused = [
        json!({"name": "a", "kind": "webhook", "url": "http://127.0.0.1:9/in"}),
        json!({"name": "a", "kind": "webhook", "url": "http://10.0.0.5/in"}),
        json!({"name": "a", "kind": "webhook", "url": "http://169.254.169.254/latest/meta-data/"}),
        json!({"name": "a", "kind": "webhook", "url": "http://[::1]:8080/in"}),
        json!({"name": "a", "kind": "ntfy", "server_url": "http://localhost:2586", "topic": "t"}),
        json!({"name": "a", "kind": "telegram", "base_url": "http://192.168.1.1", "bot_token": "1:A", "chat_id": "1"}),
    ];
    for body in refused {
        let (status, answer) = send(
            &client(),
            "POST",
            &server.url("/api/notify/channels"),
            Some(&body),
        )
        .await;
        assert_eq!(status, 400, "{body}: {answer}");
        let field = answer["error"]["field"].as_str().unwrap();
        assert!(
            ["url", "server_url", "base_url"].contains(&field),
            "{answer}"
        );
        assert!(
            answer["error"]["message"]
                .as_str()
                .unwrap()
                .contains("private"),
            "{answer}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirects_are_not_followed_and_bad_input_is_refused_by_field() {
    let (redirecting, target) = (MockReceiver::start().await, MockReceiver::start().await);
    redirecting.stand(Some(Answer::Redirect {
        location: format!("{}/stolen", target.base_url),
    }));
    let server = ServerProcess::start(CONFIG);
    let created = create_channel(
        &server,
        json!({"name": "r", "kind": "webhook", "url": redirecting.base_url}),
    )
    .await;
    let id = created["id"].as_u64().unwrap();
    let (status, test) = send(
        &client(),
        "POST",
        &server.url(&format!("/api/notify/channels/{id}/test")),
        None,
    )
    .await;
    assert_eq!(status, 202, "{test}");
    until(
        "the test delivery failed",
        Duration::from_secs(20),
        || async {
            deliveries(&server, id)
                .await
                .first()
                .is_some_and(|d| d["status"] == "failed")
        },
    )
    .await;
    let failed = deliveries(&server, id).await.remove(0);
    assert!(
        failed["last_error"].as_str().unwrap().contains("redirect"),
        "{failed}"
    );
    assert_eq!(redirecting.received().len(), 1);
    assert!(target.received().is_empty(), "the redirect was followed");

    let url = server.url("/api/notify/channels");
    let cases = [
        (json!({"name": "x", "kind": "sms"}), "kind"),
        (
            json!({"name": "", "kind": "webhook", "url": redirecting.base_url}),
            "name",
        ),
        (json!({"name": "x", "kind": "webhook"}), "url"),
        (
            json!({"name": "x", "kind": "webhook", "url": "ftp://a/b"}),
            "url",
        ),
        (
            json!({"name": "x", "kind": "webhook", "url": redirecting.base_url, "secret": "short"}),
            "secret",
        ),
        (
            json!({"name": "x", "kind": "ntfy", "server_url": redirecting.base_url, "topic": "a/b"}),
            "topic",
        ),
        (
            json!({"name": "x", "kind": "telegram", "base_url": redirecting.base_url, "chat_id": "1"}),
            "bot_token",
        ),
        (
            json!({"name": "x", "kind": "webhook", "url": redirecting.base_url, "filter": {"min_score": 2}}),
            "filter.min_score",
        ),
        (
            json!({"name": "x", "kind": "webhook", "url": redirecting.base_url, "filter": {"timeframes": ["7m"]}}),
            "filter.timeframes[0]",
        ),
        (
            json!({"name": "x", "kind": "webhook", "url": redirecting.base_url, "filter": {"quiet_hours": {"from": "22:00", "to": "25:00", "time_zone": "UTC"}}}),
            "filter.quiet_hours.to",
        ),
        (
            json!({"name": "x", "kind": "webhook", "url": redirecting.base_url, "filter": {"quiet_hours": {"from": "22:00", "to": "07:00", "time_zone": "Mars/Base"}}}),
            "filter.quiet_hours.time_zone",
        ),
        (
            json!({"name": "x", "kind": "webhook", "url": redirecting.base_url, "colour": "red"}),
            "colour",
        ),
    ];
    for (body, field) in cases {
        let (status, answer) = send(&client(), "POST", &url, Some(&body)).await;
        assert!(status == 400 || status == 422, "{body}: {status} {answer}");
        assert_eq!(answer["error"]["field"], field, "{body}: {answer}");
    }
    let (status, _) = send(
        &client(),
        "GET",
        &server.url("/api/notify/deliveries?limit=0"),
        None,
    )
    .await;
    assert_eq!(status, 400);

    // Another user neither sees nor changes this channel.
    add_user(&server.base_url, "bob", "trader", "Bob-Password-123").await;
    let bob = bearer_client(&login(&server.base_url, "bob", "Bob-Password-123").await);
    let (_, listed) = send(&bob, "GET", &url, None).await;
    assert_eq!(listed["count"], 0);
    let (status, _) = send(
        &bob,
        "PATCH",
        &format!("{url}/{id}"),
        Some(&json!({"enabled": false})),
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = send(&bob, "DELETE", &format!("{url}/{id}"), None).await;
    assert_eq!(status, 404);
    let (status, changed) = send(&client(), "PATCH", &format!("{url}/{id}"), Some(&json!({"enabled": false, "filter": {"quiet_hours": {"from": "22:00", "to": "07:00", "time_zone": "Europe/Berlin"}}}))).await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["enabled"], false);
    assert_eq!(
        changed["filter"]["quiet_hours"]["time_zone"],
        "Europe/Berlin"
    );
    let (status, _) = send(&client(), "POST", &format!("{url}/{id}/test"), None).await;
    assert_eq!(status, 409, "a disabled channel is not tested");
    let (status, _) = send(&client(), "DELETE", &format!("{url}/{id}"), None).await;
    assert_eq!(status, 200);
    assert!(deliveries(&server, id).await.is_empty());
}
