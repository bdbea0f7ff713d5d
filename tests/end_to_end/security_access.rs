//! Deny by default, against the real binary: the authorisation table covers every route in
//! the source and nothing else; without credentials every non-public route is 401; each role
//! below a route's least role is 403; another user's portfolio is 404; the OpenAPI document
//! validates against the official OAS 3.0 schema and lists exactly the table's routes.

use crate::support::{
    add_user, anonymous_client, bearer_client, client, fixtures, login, send, ServerProcess,
};
use cryptolens::api::access::{Access, RouteSpec, ROUTES};
use cryptolens::auth::Role;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

const TRADER_PASSWORD: &str = "Trader-Password-42";
const VIEWER_PASSWORD: &str = "Viewer-Password-42";

/// A concrete path for a route template.
fn concrete(route: &RouteSpec) -> String {
    route
        .path
        .replace("{symbol}", "EURUSD")
        .replace("{timeframe}", "1h")
        .replace("{id}", "1")
        .replace("{trade}", "1")
        .replace("{username}", "nobody")
}

/// The answer of warp's router (and the gate) when no route matches.
fn is_no_such_route(status: u16, answer: &Value) -> bool {
    status == 404 && answer["error"]["message"] == "no such route"
}

/// `(method, template)` of every `warp::path!` route in `src/api`, with parameters as `{}`.
fn routes_in_source() -> BTreeSet<(String, String)> {
    let mut files = Vec::new();
    collect_rust_files(
        &PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src/api"),
        &mut files,
    );
    let mut routes = BTreeSet::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("source");
        for (start, _) in text.match_indices("warp::path!(") {
            let arguments_start = start + "warp::path!(".len();
            let arguments_end = arguments_start + text[arguments_start..].find(')').expect(")");
            let path: Vec<String> = text[arguments_start..arguments_end]
                .split('/')
                .map(|segment| match segment.trim() {
                    "String" | "u64" => "{}".to_owned(),
                    literal => literal.trim_matches('"').to_owned(),
                })
                .collect();
            let after = &text[arguments_end..(arguments_end + 200).min(text.len())];
            let method = [
                ("warp::get()", "GET"),
                ("warp::post()", "POST"),
                ("warp::patch()", "PATCH"),
                ("warp::delete()", "DELETE"),
                ("warp::put()", "PUT"),
                ("warp::ws()", "GET"),
            ]
            .iter()
            .filter_map(|(call, method)| after.find(call).map(|at| (at, *method)))
            .min()
            .map(|(_, method)| method)
            .unwrap_or_else(|| panic!("no method after warp::path!({path:?}) in {file:?}"));
            routes.insert((method.to_owned(), format!("/{}", path.join("/"))));
        }
        // The root (the dashboard's page) cannot be a `warp::path!`.
        if text.contains("warp::path::end()\n        .and(warp::get())") {
            routes.insert(("GET".to_owned(), "/".to_owned()));
        }
    }
    routes
}

fn collect_rust_files(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            collect_rust_files(&path, files);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            files.push(path);
        }
    }
}

/// Whether a source template (`{}` for any segment) covers a table route.
fn source_covers(source: &(String, String), route: &RouteSpec) -> bool {
    let (method, path) = source;
    let (source_segments, table_segments): (Vec<&str>, Vec<&str>) =
        (path.split('/').collect(), route.path.split('/').collect());
    method == route.method
        && source_segments.len() == table_segments.len()
        && source_segments
            .iter()
            .zip(&table_segments)
            .all(|(source, table)| *source == "{}" || source == table)
}

#[test]
fn the_authorisation_table_lists_every_route_in_the_source_and_no_other() {
    let source = routes_in_source();
    assert!(source.len() >= 25, "found only {source:?}");
    for route in &source {
        assert!(
            ROUTES.iter().any(|spec| source_covers(route, spec)),
            "{route:?} is served but missing from the authorisation table"
        );
    }
    for spec in ROUTES {
        assert!(
            source.iter().any(|route| source_covers(route, spec)),
            "{} {} is in the table but no handler serves it",
            spec.method,
            spec.path
        );
    }
}

#[tokio::test]
async fn without_credentials_every_non_public_route_is_401_and_undeclared_ones_too() {
    let server = ServerProcess::start("");
    let anonymous = anonymous_client();
    for route in ROUTES {
        let url = server.url(&concrete(route));
        let (status, answer) = send(&anonymous, route.method, &url, None).await;
        if route.access == Access::Public {
            assert_ne!(status, 401, "{} {} is public", route.method, route.path);
        } else {
            assert_eq!(status, 401, "{} {}: {answer}", route.method, route.path);
            assert_eq!(answer["error"]["code"], "unauthorized");
        }
    }
    for (method, path) in [
        ("DELETE", "/api/patterns"),
        ("GET", "/api/secrets"),
        ("PUT", "/metrics"),
    ] {
        let (status, _) = send(&anonymous, method, &server.url(path), None).await;
        assert_eq!(status, 401, "{method} {path} is not declared: denied");
        let (status, answer) = send(&client(), method, &server.url(path), None).await;
        assert!(
            is_no_such_route(status, &answer),
            "{method} {path}: {status} {answer}"
        );
    }
    for bad in ["Bearer cls_0000", "Basic YWRtaW46eA==", "Bearer "] {
        let answer = anonymous
            .get(server.url("/api/patterns"))
            .header("authorization", bad)
            .send()
            .await
            .expect("GET");
        assert_eq!(answer.status(), 401, "{bad}");
    }
    let answer = anonymous
        .get(server.url("/api/patterns"))
        .header("x-api-key", "clk_a1b2c3d4e5f60718_0000")
        .send()
        .await
        .expect("GET");
    assert_eq!(
        answer.status(),
        401,
        "a key with the right id and a wrong secret"
    );
}

#[tokio::test]
async fn every_declared_route_reaches_its_handler_for_the_admin() {
    let server = ServerProcess::start("[rate_limits]\nscan_per_minute = 100\n");
    for route in ROUTES {
        let (status, answer) =
            send(&client(), route.method, &server.url(&concrete(route)), None).await;
        assert!(
            !is_no_such_route(status, &answer) && ![401, 403].contains(&status),
            "{} {}: {status} {answer}",
            route.method,
            route.path
        );
    }
}

#[tokio::test]
async fn each_role_below_a_routes_least_role_gets_403() {
    let server = ServerProcess::start("");
    add_user(&server.base_url, "tina", "trader", TRADER_PASSWORD).await;
    add_user(&server.base_url, "vic", "viewer", VIEWER_PASSWORD).await;
    let trader = bearer_client(&login(&server.base_url, "tina", TRADER_PASSWORD).await);
    let viewer = bearer_client(&login(&server.base_url, "vic", VIEWER_PASSWORD).await);
    let mut checked = 0;
    for route in ROUTES {
        if route.path == "/api/auth/logout" {
            continue; // would end the session the rest of the test uses
        }
        let least = match route.access {
            Access::Public => continue,
            Access::Role(role) => role,
            Access::AdminOrMetricsToken => Role::Admin,
        };
        for (role, http) in [(Role::Viewer, &viewer), (Role::Trader, &trader)] {
            let (status, answer) =
                send(http, route.method, &server.url(&concrete(route)), None).await;
            if role < least {
                assert_eq!(
                    status, 403,
                    "{role} on {} {}: {answer}",
                    route.method, route.path
                );
                assert_eq!(answer["error"]["code"], "forbidden");
                checked += 1;
            } else {
                assert!(
                    ![401, 403].contains(&status),
                    "{role} on {} {}: {status} {answer}",
                    route.method,
                    route.path
                );
            }
        }
    }
    assert!(checked >= 20, "only {checked} refusals checked");
    // A viewer mutates nothing: every POST, PATCH and DELETE is refused.
    for route in ROUTES.iter().filter(|route| route.method != "GET") {
        if route.access == Access::Public || route.path.starts_with("/api/auth/") {
            continue;
        }
        let (status, _) = send(&viewer, route.method, &server.url(&concrete(route)), None).await;
        assert_eq!(status, 403, "viewer on {} {}", route.method, route.path);
    }
}

#[tokio::test]
async fn another_users_portfolio_is_404_and_admins_see_all() {
    let server = ServerProcess::start("");
    let base = &server.base_url;
    add_user(base, "tina", "trader", TRADER_PASSWORD).await;
    add_user(base, "tom", "trader", "Tom-Trader-Password-9").await;
    let tina = bearer_client(&login(base, "tina", TRADER_PASSWORD).await);
    let tom = bearer_client(&login(base, "tom", "Tom-Trader-Password-9").await);
    let body = json!({"name": "tina's", "initial_balance": "1000"});
    let (status, created) = send(&tina, "POST", &server.url("/api/portfolios"), Some(&body)).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["owner"], "tina");
    let id = created["id"].as_u64().expect("id");
    let (status, unknown) = send(&tom, "GET", &server.url("/api/portfolios/999"), None).await;
    assert_eq!(status, 404);
    for (method, path, body) in [
        ("GET", format!("/api/portfolios/{id}"), None),
        ("GET", format!("/api/portfolios/{id}/trades"), None),
        ("GET", format!("/api/portfolios/{id}/stats"), None),
        ("GET", format!("/api/portfolios/{id}/ledger"), None),
        (
            "POST",
            format!("/api/portfolios/{id}/trades"),
            Some(json!({"symbol": "EURUSD", "side": "long", "quantity": "1", "price": "1"})),
        ),
        ("POST", format!("/api/portfolios/{id}/trades/1/close"), None),
    ] {
        let (status, answer) = send(&tom, method, &server.url(&path), body.as_ref()).await;
        assert_eq!(status, 404, "tom on {method} {path}: {answer}");
        assert_eq!(
            answer["error"]["code"], unknown["error"]["code"],
            "same as a missing one"
        );
    }
    let (_, listed) = send(&tom, "GET", &server.url("/api/portfolios"), None).await;
    assert_eq!(listed["count"], 0, "{listed}");
    let (status, shown) = send(
        &tina,
        "GET",
        &server.url(&format!("/api/portfolios/{id}")),
        None,
    )
    .await;
    assert_eq!((status, shown["name"].clone()), (200, json!("tina's")));
    let (status, _) = send(
        &client(),
        "GET",
        &server.url(&format!("/api/portfolios/{id}")),
        None,
    )
    .await;
    assert_eq!(status, 200, "the admin sees every portfolio");
    let (_, listed) = send(&client(), "GET", &server.url("/api/portfolios"), None).await;
    assert_eq!(listed["count"], 1);
}

/// `cryptolens_credential_checks_total` as `/metrics` shows it to the admin; the scrape's own
/// check is counted in the figure it returns.
async fn credential_checks(server: &ServerProcess) -> u64 {
    let response = client()
        .get(server.url("/metrics"))
        .send()
        .await
        .expect("GET /metrics");
    let text = response.text().await.expect("metrics text");
    text.lines()
        .find_map(|line| line.strip_prefix("cryptolens_credential_checks_total "))
        .and_then(|figure| figure.trim().parse().ok())
        .unwrap_or_else(|| panic!("no credential check counter in {text}"))
}

/// Creates a portfolio as the admin; its id.
async fn admin_portfolio(server: &ServerProcess) -> u64 {
    let body = json!({"name": "admin's", "initial_balance": "1000"});
    let (status, created) = send(
        &client(),
        "POST",
        &server.url("/api/portfolios"),
        Some(&body),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    created["id"].as_u64().expect("id")
}

/// Issue 12 pins: the gate hands the handler the caller it identified, so a handler acting
/// for the caller never looks the credentials up a second time (it used to: once in the
/// gate, once more in the handler's `principal` filter).
#[tokio::test]
async fn credentials_are_identified_once_per_request_even_where_the_handler_needs_the_caller() {
    let server = ServerProcess::start("");
    let id = admin_portfolio(&server).await;
    // The market the limit order fills against.
    let market = crate::support::batch(
        "EURUSD",
        "1m",
        vec![json!({"t": 60_000, "o": "1", "h": "1", "l": "1", "c": "1", "v": "1"})],
    );
    let (status, _) = send(
        &client(),
        "POST",
        &server.url("/api/candles"),
        Some(&market),
    )
    .await;
    assert_eq!(status, 200);
    let open = json!({"symbol": "EURUSD", "side": "long", "quantity": "1", "price": "1"});
    for (method, path, body, expected) in [
        ("GET", "/api/keys".to_owned(), None, 200),
        (
            "POST",
            "/api/keys".to_owned(),
            Some(json!({"name": "bot"})),
            201,
        ),
        ("GET", "/api/auth/me".to_owned(), None, 200),
        ("GET", "/api/portfolios".to_owned(), None, 200),
        ("GET", format!("/api/portfolios/{id}"), None, 200),
        (
            "POST",
            format!("/api/portfolios/{id}/trades"),
            Some(open.clone()),
            201,
        ),
        (
            "GET",
            format!("/api/portfolios/{id}/trades/1/journal"),
            None,
            200,
        ),
        ("GET", "/api/portfolios/999".to_owned(), None, 404),
        ("GET", "/api/patterns".to_owned(), None, 200),
    ] {
        let before = credential_checks(&server).await;
        let (status, answer) = send(&client(), method, &server.url(&path), body.as_ref()).await;
        assert_eq!(status, expected, "{method} {path}: {answer}");
        let after = credential_checks(&server).await;
        assert_eq!(
            after - before,
            2,
            "{method} {path}: one check for the request, one for the second scrape"
        );
    }
}

#[tokio::test]
async fn anonymous_viewers_read_market_data_but_no_portfolio() {
    let server = ServerProcess::start("[auth]\nanonymous_viewer = true\n");
    admin_portfolio(&server).await;
    let anonymous = anonymous_client();
    assert_eq!(
        send(&anonymous, "GET", &server.url("/api/patterns"), None)
            .await
            .0,
        200
    );
    for path in [
        "/api/portfolios",
        "/api/portfolios/1",
        "/api/portfolios/1/ledger",
        "/api/portfolios/1/trades",
    ] {
        let (status, answer) = send(&anonymous, "GET", &server.url(path), None).await;
        assert_eq!(status, 401, "{path}: {answer}");
    }
    assert_eq!(
        send(&anonymous, "POST", &server.url("/api/scan"), None)
            .await
            .0,
        401
    );
    // Viewer routes that act for the caller refuse an anonymous request before reading its
    // body: 401, where reading it first would answer 413 (or wait for the body).
    for path in ["/api/auth/password", "/api/auth/logout", "/api/portfolios"] {
        let method = if path == "/api/portfolios" {
            "GET"
        } else {
            "POST"
        };
        let status = anonymous_status_for_declared_length(&server.base_url, method, path).await;
        assert_eq!(status, 401, "{method} {path}");
    }
}

/// The status an anonymous request declaring a 5 MiB body gets before sending any of it.
async fn anonymous_status_for_declared_length(base: &str, method: &str, path: &str) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address)
        .await
        .expect("connect");
    let head = format!(
        "{method} {path} HTTP/1.1\r\nhost: {address}\r\ncontent-length: {}\r\n\r\n",
        5 << 20
    );
    stream.write_all(head.as_bytes()).await.expect("write");
    let mut status_line = [0u8; 12];
    stream
        .read_exact(&mut status_line)
        .await
        .expect("status line");
    String::from_utf8_lossy(&status_line[9..12])
        .parse()
        .expect("status")
}

#[tokio::test]
async fn the_openapi_document_validates_and_lists_exactly_the_routes() {
    let server = ServerProcess::start("");
    let (status, document) = send(
        &anonymous_client(),
        "GET",
        &server.url("/api/openapi.json"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let schema_text =
        std::fs::read_to_string(fixtures().join("openapi/oas-3.0-schema.json")).expect("schema");
    let schema: Value = serde_json::from_str(&schema_text).expect("schema JSON");
    let validator = jsonschema::draft4::new(&schema).expect("the OAS 3.0 schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&document)
        .map(|error| format!("{} at {}", error, error.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let mut listed = BTreeSet::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("path item").keys() {
            listed.insert((method.to_uppercase(), path.clone()));
        }
    }
    let table: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|route| (route.method.to_owned(), route.path.to_owned()))
        .collect();
    assert_eq!(listed, table);
    for route in ROUTES {
        let operation = &document["paths"][route.path][route.method.to_lowercase()];
        let served: BTreeSet<u16> = operation["responses"]
            .as_object()
            .expect("responses")
            .keys()
            .map(|status| status.parse().expect("a status"))
            .collect();
        let documented: BTreeSet<u16> = cryptolens::api::openapi::documented_statuses(route)
            .into_iter()
            .collect();
        assert_eq!(served, documented, "{} {}", route.method, route.path);
    }
    let statuses = |method: &str, path: &str| -> Vec<String> {
        let responses = &document["paths"][path][method]["responses"];
        responses
            .as_object()
            .expect("responses")
            .keys()
            .cloned()
            .collect()
    };
    for status in ["409", "411", "413", "422", "503", "504"] {
        assert!(
            statuses("post", "/api/candles").contains(&status.to_owned()),
            "{status}"
        );
    }
    for status in ["409", "422", "503"] {
        let trades = statuses("post", "/api/portfolios/{id}/trades");
        assert!(trades.contains(&status.to_owned()), "{status}");
    }
    let stream = statuses("get", "/api/stream");
    assert!(["101", "426", "429", "503"]
        .iter()
        .all(|s| stream.contains(&s.to_string())));
    let open_trade = &document["paths"]["/api/portfolios/{id}/trades"]["post"]["parameters"];
    assert!(
        open_trade
            .as_array()
            .expect("parameters")
            .iter()
            .any(|p| p["name"] == "Idempotency-Key" && p["in"] == "header"),
        "{open_trade}"
    );
    let mut broken = document.clone();
    broken["paths"]["/api/patterns"]["get"]["responses"] = json!("none");
    assert!(
        !validator.is_valid(&broken),
        "the validator catches a broken document"
    );
}
