//! Bounds on what one user can make the server hold, on the real binary: portfolios per
//! user, API keys per user under concurrent creation, each with its usage and its bound in
//! the metrics.

use crate::support::{client, metric_value, send, ServerProcess};
use serde_json::json;

#[tokio::test]
async fn a_user_past_the_portfolio_bound_gets_409_and_nothing_is_written() {
    let server = ServerProcess::start("[engine]\nportfolios_per_user_max = 2\n");
    let http = client();
    let create = |name: &str| json!({"name": name, "initial_balance": "1000"});
    for name in ["first", "second"] {
        let (status, answer) = send(
            &http,
            "POST",
            &server.url("/api/portfolios"),
            Some(&create(name)),
        )
        .await;
        assert_eq!(status, 201, "{answer}");
    }
    let (status, answer) = send(
        &http,
        "POST",
        &server.url("/api/portfolios"),
        Some(&create("third")),
    )
    .await;
    assert_eq!(status, 409, "{answer}");
    assert_eq!(answer["error"]["code"], "portfolio_limit", "{answer}");
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("at most 2"),
        "{answer}"
    );
    let (_, listed) = send(&http, "GET", &server.url("/api/portfolios"), None).await;
    assert_eq!(
        listed["count"], 2,
        "nothing was written by the refusal: {listed}"
    );
    assert_eq!(
        metric_value(&server.base_url, "cryptolens_portfolios").await,
        Some(2.0)
    );
    assert_eq!(
        metric_value(
            &server.base_url,
            "cryptolens_bound{name=\"engine.portfolios_per_user_max\"}"
        )
        .await,
        Some(2.0)
    );
}

#[tokio::test]
async fn concurrent_key_creations_cannot_pass_the_per_user_cap_together() {
    // The operator's key counts as one of the admin's three.
    let server = ServerProcess::start("[auth]\napi_keys_per_user_max = 3\n");
    let http = client();
    let url = server.url("/api/keys");
    let creations = (0..12).map(|n| {
        let (http, url) = (http.clone(), url.clone());
        async move {
            let body = json!({"name": format!("race-{n}"), "role": "viewer"});
            send(&http, "POST", &url, Some(&body)).await.0
        }
    });
    let statuses = futures_util::future::join_all(creations).await;
    let created = statuses.iter().filter(|status| **status == 201).count();
    assert_eq!(
        created, 2,
        "exactly the two free slots are taken: {statuses:?}"
    );
    assert!(
        statuses
            .iter()
            .all(|status| *status == 201 || *status == 400),
        "{statuses:?}"
    );
    assert_eq!(
        metric_value(&server.base_url, "cryptolens_api_keys_active").await,
        Some(3.0)
    );
    assert_eq!(
        metric_value(
            &server.base_url,
            "cryptolens_bound{name=\"auth.api_keys_per_user_max\"}"
        )
        .await,
        Some(3.0)
    );
}

#[tokio::test]
async fn a_revoked_key_stays_listed_for_the_retention_and_is_then_deleted() {
    let clock = cryptolens::auth::ManualClock::starting_at(chrono::Utc::now().timestamp_millis());
    let options = cryptolens::server::StartOptions {
        clock: std::sync::Arc::new(clock.clone()),
        ..crate::support::test_start_options()
    };
    let (_dir, _server, base) = crate::support::start_in_process_with(
        |settings| {
            settings.auth.maintenance_interval_s = 1;
            settings.auth.revoked_keys_retention_s = 3600;
        },
        options,
    )
    .await;
    let http = client();
    let keys = format!("{base}/api/keys");
    let body = json!({"name": "short-lived", "role": "viewer"});
    let (status, created) = send(&http, "POST", &keys, Some(&body)).await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().expect("id").to_owned();
    let (status, _) = send(&http, "DELETE", &format!("{keys}/{id}"), None).await;
    assert_eq!(status, 200);
    let listed = |http: reqwest::Client, keys: String, id: String| async move {
        let (_, listed) = send(&http, "GET", &keys, None).await;
        listed["keys"]
            .as_array()
            .is_some_and(|all| all.iter().any(|key| key["id"] == id))
    };
    clock.advance_ms(3_600_000 - 60_000);
    tokio::time::sleep(std::time::Duration::from_millis(2_500)).await;
    assert!(
        listed(http.clone(), keys.clone(), id.clone()).await,
        "kept within the retention"
    );
    clock.advance_ms(120_000);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while listed(http.clone(), keys.clone(), id.clone()).await {
        assert!(std::time::Instant::now() < deadline, "never deleted");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert_eq!(
        metric_value(&base, "cryptolens_api_keys_pruned_total").await,
        Some(1.0)
    );
    assert_eq!(
        metric_value(&base, "cryptolens_api_keys_inactive").await,
        Some(0.0)
    );
}
