//! What the dashboard stands on, over real HTTP: the page and its files (security and cache
//! headers, content hashes), browser sessions in an HttpOnly cookie with CSRF protection on
//! every change, and the sizing preview that changes nothing.

use crate::portfolios::{create_portfolio, post};
use crate::support::{anonymous_client, client, get_json, start_in_process, ADMIN_PASSWORD};
use serde_json::{json, Value};

/// Logs the admin in as a browser does: the cookie's `name=value` and the CSRF token.
async fn browser_login(base: &str) -> (String, String) {
    let response = anonymous_client()
        .post(format!("{base}/api/auth/login"))
        .json(&json!({"username": "admin", "password": ADMIN_PASSWORD, "cookie": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let set_cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age="] {
        assert!(set_cookie.contains(attribute), "{set_cookie}");
    }
    assert!(!set_cookie.contains("Secure"), "no TLS here: {set_cookie}");
    let answer: Value = response.json().await.unwrap();
    assert!(
        answer.get("token").is_none(),
        "the token stays in the cookie: {answer}"
    );
    assert_eq!(answer["role"], "admin");
    let cookie = set_cookie.split(';').next().unwrap().to_owned();
    (cookie, answer["csrf_token"].as_str().unwrap().to_owned())
}

async fn with_cookie(
    method: reqwest::Method,
    url: &str,
    cookie: &str,
    csrf: Option<&str>,
) -> reqwest::Response {
    let mut request = anonymous_client()
        .request(method, url)
        .header("cookie", cookie)
        .json(&json!({}));
    if let Some(csrf) = csrf {
        request = request.header("x-csrf-token", csrf);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn the_page_and_its_files_are_served_with_strict_headers_and_content_hashed_urls() {
    let (_dir, _server, base) = start_in_process(|_| {}).await;
    let http = anonymous_client();
    let page = http.get(format!("{base}/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let headers = page.headers().clone();
    assert_eq!(headers["content-type"], "text/html; charset=utf-8");
    assert_eq!(headers["cache-control"], "no-cache");
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert_eq!(headers["x-frame-options"], "DENY");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    let html = page.text().await.unwrap();
    let build = cryptolens::web::BUILD_HASH;
    assert!(html.contains(&format!("/assets/{build}/app.js")), "{html}");
    assert!(
        !html.contains("<script>") && !html.contains("{{BUILD}}"),
        "{html}"
    );

    for (file, content_type) in [
        ("app.js", "text/javascript; charset=utf-8"),
        ("app.css", "text/css; charset=utf-8"),
        ("lightweight-charts.mjs", "text/javascript; charset=utf-8"),
    ] {
        let asset = http
            .get(format!("{base}/assets/{build}/{file}"))
            .send()
            .await
            .unwrap();
        assert_eq!(asset.status(), 200, "{file}");
        assert_eq!(asset.headers()["content-type"], content_type, "{file}");
        assert_eq!(
            asset.headers()["cache-control"],
            "public, max-age=31536000, immutable"
        );
        assert!(asset.headers().contains_key("content-security-policy"));
    }
    // A page from an older build asks for its files under its own hash: fresh, never cached.
    let stale = http
        .get(format!("{base}/assets/0000000000000000/app.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), 200);
    assert_eq!(stale.headers()["cache-control"], "no-cache");
    for missing in ["nothing.js", "..%2FCargo.toml", ".hidden"] {
        let answer = http
            .get(format!("{base}/assets/{build}/{missing}"))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 404, "{missing}");
        let body: Value = answer.json().await.unwrap();
        assert_eq!(body["error"]["code"], "not_found");
    }
}

#[tokio::test]
async fn a_browser_session_rides_in_its_cookie_and_every_change_needs_its_csrf_token() {
    let (_dir, _server, base) = start_in_process(|_| {}).await;
    let (cookie, csrf) = browser_login(&base).await;
    let me: Value = with_cookie(
        reqwest::Method::GET,
        &format!("{base}/api/auth/me"),
        &cookie,
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(
        me,
        json!({"username": "admin", "role": "admin", "csrf_token": csrf, "totp": "off",
               "totp_required": false, "totp_enrolment_due": false, "recovery_codes_left": null})
    );

    let portfolios = format!("{base}/api/portfolios");
    for presented in [None, Some("0".repeat(64)), Some(csrf.to_uppercase())] {
        let refused = anonymous_client()
            .post(&portfolios)
            .header("cookie", &cookie)
            .header("x-csrf-token", presented.clone().unwrap_or_default())
            .json(&json!({"name": "p", "initial_balance": "1000"}))
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), 403, "{presented:?}");
        let body: Value = refused.json().await.unwrap();
        assert_eq!(body["error"]["code"], "csrf");
    }
    let listed: Value = get_json(&client(), &portfolios).await;
    assert_eq!(
        listed["portfolios"],
        json!([]),
        "nothing was created by the refused requests"
    );
    let created = anonymous_client()
        .post(&portfolios)
        .header("cookie", &cookie)
        .header("x-csrf-token", &csrf)
        .json(&json!({"name": "p", "initial_balance": "1000"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);

    // Credentials in headers are never sent by a browser on its own: no token needed.
    let (status, _) = post(
        &client(),
        &portfolios,
        None,
        json!({"name": "q", "initial_balance": "5"}),
    )
    .await;
    assert_eq!(status, 201);

    let logout = with_cookie(
        reqwest::Method::POST,
        &format!("{base}/api/auth/logout"),
        &cookie,
        Some(&csrf),
    )
    .await;
    assert_eq!(logout.status(), 200);
    assert!(logout.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
    let after = with_cookie(
        reqwest::Method::GET,
        &format!("{base}/api/auth/me"),
        &cookie,
        None,
    )
    .await;
    assert_eq!(after.status(), 401, "the session ended");
    // An ended session's cookie is no credential, so the page itself still loads.
    let page = with_cookie(reqwest::Method::GET, &format!("{base}/"), &cookie, None).await;
    assert_eq!(page.status(), 200);
}

/// One flat TESTUSD minute at `price`, so the market has a price.
async fn flat_candle(base: &str, price: &str) {
    let candle = json!({"t": 28_000_000 * 60_000_i64, "o": price, "h": price, "l": price, "c": price, "v": "1"});
    let batch = json!({"symbol": "TESTUSD", "timeframe": "1m", "candles": [candle]});
    let (status, answer) = post(&client(), &format!("{base}/api/candles"), None, batch).await;
    assert_eq!(status, 200, "{answer}");
}

#[tokio::test]
async fn the_sizing_preview_answers_as_the_open_would_and_changes_nothing() {
    let (_dir, _server, base) = start_in_process(|_| {}).await;
    let http = client();
    flat_candle(&base, "100").await;
    let id = create_portfolio(&http, &base, "10000").await;
    let order =
        json!({"symbol": "TESTUSD", "side": "long", "risk_percent": "1", "stop_loss": "95"});
    let trades = format!("{base}/api/portfolios/{id}/trades");
    let (status, preview) = post(&http, &format!("{trades}/preview"), None, order.clone()).await;
    assert_eq!(
        (status, &preview["would_open"]),
        (200, &json!(true)),
        "{preview}"
    );
    let before: Value = get_json(&http, &format!("{base}/api/portfolios/{id}/ledger")).await;
    assert_eq!(before["entries"], json!([]), "the preview wrote nothing");
    assert_eq!(get_json(&http, &trades).await["trades"], json!([]));

    let (status, opened) = post(&http, &trades, None, order).await;
    assert_eq!(status, 201, "{opened}");
    assert_eq!(preview["sizing"], opened["sizing"]);
    assert_eq!(preview["trade"]["quantity"], opened["trade"]["quantity"]);
    assert_eq!(
        preview["ledger_entries"][0]["amount"],
        opened["ledger_entries"][0]["amount"]
    );

    let (status, refused) = post(
        &http,
        &format!("{trades}/preview"),
        None,
        json!({"symbol": "TESTUSD", "side": "long", "quantity": "1000000"}),
    )
    .await;
    assert_eq!(
        (status, &refused["would_open"]),
        (200, &json!(false)),
        "{refused}"
    );
    assert_eq!(refused["error"]["code"], "insufficient_cash", "{refused}");
    let (status, refused) = post(
        &http,
        &format!("{trades}/preview"),
        None,
        json!({"side": "up"}),
    )
    .await;
    assert_eq!(
        (status, refused["error"]["field"].as_str()),
        (200, Some("symbol")),
        "an order the open would refuse is the preview's answer: {refused}"
    );
    assert_eq!(refused["would_open"], false);
    // A body that is no order at all is the caller's mistake, as for the open.
    let (status, refused) = post(
        &http,
        &format!("{trades}/preview"),
        None,
        json!({"sidе": 1}),
    )
    .await;
    assert_eq!(status, 400, "{refused}");
}

#[tokio::test]
async fn the_operations_page_reads_each_job_s_last_run_and_the_store_size() {
    let (_dir, _server, base) = start_in_process(|s| s.engine.snapshot_interval_ms = 100).await;
    let http = client();
    flat_candle(&base, "1").await;
    let mut job = Value::Null;
    for _ in 0..100 {
        let jobs: Value = get_json(&http, &format!("{base}/api/jobs")).await;
        job = jobs["jobs"][0].clone();
        if job["runs"].as_u64() > Some(0) && job["last_written"] == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(job["name"], "snapshot_rounds");
    assert_eq!(job["interval_ms"], 100);
    assert_eq!(job["last_outcome"], "ok", "{job}");
    assert_eq!(
        job["last_written"], 1,
        "the round wrote the changed symbol: {job}"
    );
    assert!(
        job["last_run_at"].as_i64() > Some(0) && job["last_duration_ms"].is_u64(),
        "{job}"
    );
    let health: Value = get_json(&http, &format!("{base}/api/health")).await;
    assert!(health["store"]["size_bytes"].as_u64() > Some(0), "{health}");
}
