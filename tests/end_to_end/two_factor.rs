//! Two-factor sign-in (TOTP) on the real server: a role that must enrol reaches only
//! enrolment until it has; codes are checked against the server's clock (moved by the test),
//! each used once; recovery codes work once; wrong codes count towards the lockout; the
//! secret is sealed at rest and survives a restart of the real binary; operators can reset.

use crate::support::{
    add_user, bearer_client, login, send, start_in_process_with, test_start_options, ServerProcess,
    ADMIN_PASSWORD,
};
use cryptolens::auth::totp::code::{code_at, DIGITS, STEP_S};
use cryptolens::auth::{Clock, ManualClock};
use serde_json::{json, Value};
use std::sync::Arc;

const PASSWORD: &str = "Tina-Trades-Carefully-9";

fn secret_bytes(enrolment: &Value) -> Vec<u8> {
    let encoded = enrolment["secret"].as_str().expect("secret").to_owned();
    totp_rs::Secret::Encoded(encoded)
        .to_bytes()
        .expect("base32")
}

fn code_now(secret: &[u8], now_ms: i64) -> String {
    code_at(
        secret,
        DIGITS,
        u64::try_from(now_ms / 1000).expect("after 1970"),
    )
}

async fn log_in(base: &str, username: &str, extra: Value) -> (u16, Value) {
    let mut body = json!({"username": username, "password": PASSWORD});
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        body.extend(extra.clone());
    }
    let url = format!("{base}/api/auth/login");
    send(&reqwest::Client::new(), "POST", &url, Some(&body)).await
}

fn code_of(answer: &Value) -> &str {
    answer["error"]["code"].as_str().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_required_role_enrols_first_then_needs_a_fresh_code_or_a_recovery_code_each_login() {
    let clock = ManualClock::starting_at(1_800_000_000_000);
    let options = cryptolens::server::StartOptions {
        clock: Arc::new(clock.clone()),
        ..test_start_options()
    };
    let (dir, _server, base) = start_in_process_with(
        |settings| {
            settings.auth.totp_required_roles = vec![cryptolens::auth::Role::Trader];
            settings.rate_limits.login_per_minute = 1000;
        },
        options,
    )
    .await;
    add_user(&base, "tina", "trader", PASSWORD).await;
    let token = login(&base, "tina", PASSWORD).await;
    let tina = bearer_client(&token);
    let (status, me) = send(&tina, "GET", &format!("{base}/api/auth/me"), None).await;
    assert_eq!(status, 200);
    assert_eq!(
        (&me["totp"], &me["totp_required"], &me["totp_enrolment_due"]),
        (&json!("off"), &json!(true), &json!(true))
    );
    let (status, refused) = send(&tina, "GET", &format!("{base}/api/symbols"), None).await;
    assert_eq!(
        (status, code_of(&refused)),
        (403, "totp_enrolment_required")
    );

    let (status, enrolment) = send(&tina, "POST", &format!("{base}/api/auth/totp"), None).await;
    assert_eq!(status, 201, "{enrolment}");
    let uri = enrolment["otpauth_uri"].as_str().expect("uri");
    assert!(uri.starts_with("otpauth://totp/cryptolens:tina?"), "{uri}");
    let recovery: Vec<String> =
        serde_json::from_value(enrolment["recovery_codes"].clone()).expect("recovery codes");
    assert_eq!(recovery.len(), 10);
    let secret = secret_bytes(&enrolment);
    let confirm_url = format!("{base}/api/auth/totp/confirm");
    let (status, wrong) = send(
        &tina,
        "POST",
        &confirm_url,
        Some(&json!({"code": "000000"})),
    )
    .await;
    assert_eq!(
        (status, &wrong["error"]["field"]),
        (400, &json!("code")),
        "{wrong}"
    );
    let first_code = code_now(&secret, clock.now_ms());
    let (status, _) = send(
        &tina,
        "POST",
        &confirm_url,
        Some(&json!({"code": first_code})),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = send(&tina, "GET", &format!("{base}/api/symbols"), None).await;
    assert_eq!(
        status, 200,
        "enrolled: the session reaches everything its role may"
    );

    let (status, answer) = log_in(&base, "tina", json!({})).await;
    assert_eq!((status, code_of(&answer)), (401, "totp_required"));
    let (status, answer) = log_in(&base, "tina", json!({"totp_code": "123456"})).await;
    assert_eq!((status, code_of(&answer)), (401, "totp_invalid"));
    let (status, answer) = log_in(&base, "tina", json!({"totp_code": first_code})).await;
    assert_eq!(
        (status, code_of(&answer)),
        (401, "totp_invalid"),
        "a code works once"
    );
    clock.advance_ms(i64::try_from(STEP_S).expect("step") * 1000);
    let fresh = code_now(&secret, clock.now_ms());
    let (status, answer) = log_in(&base, "tina", json!({"totp_code": fresh})).await;
    assert_eq!(status, 200, "{answer}");

    let (status, _) = log_in(&base, "tina", json!({"recovery_code": recovery[4]})).await;
    assert_eq!(status, 200);
    let (status, answer) = log_in(&base, "tina", json!({"recovery_code": recovery[4]})).await;
    assert_eq!((status, code_of(&answer)), (401, "totp_invalid"));
    let (_, me) = send(&tina, "GET", &format!("{base}/api/auth/me"), None).await;
    assert_eq!(
        (&me["totp"], &me["recovery_codes_left"]),
        (&json!("enabled"), &json!(9))
    );

    let raw = store_bytes(dir.path());
    assert!(!raw.windows(secret.len()).any(|window| window == secret));
    let encoded = enrolment["secret"].as_str().expect("secret").as_bytes();
    assert!(!raw.windows(encoded.len()).any(|window| window == encoded));

    // Turning it off takes a code; then a password alone logs in again.
    let disable_url = format!("{base}/api/auth/totp/disable");
    let (status, unknown) = send(&tina, "POST", &disable_url, Some(&json!({"code": "1"}))).await;
    assert_eq!(
        status, 400,
        "an unknown field is refused by name: {unknown}"
    );
    assert!(unknown.to_string().contains("code"), "{unknown}");
    let (status, answer) = send(
        &tina,
        "POST",
        &disable_url,
        Some(&json!({"totp_code": "999999"})),
    )
    .await;
    assert_eq!((status, code_of(&answer)), (401, "totp_invalid"));
    clock.advance_ms(30_000);
    let code = code_now(&secret, clock.now_ms());
    let (status, _) = send(
        &tina,
        "POST",
        &disable_url,
        Some(&json!({"totp_code": code})),
    )
    .await;
    assert_eq!(status, 200);
    let (status, me) = send(&tina, "GET", &format!("{base}/api/auth/me"), None).await;
    assert_eq!((status, &me["totp"]), (200, &json!("off")));
}

/// Every byte of the store's files, to look for a secret in the clear.
fn store_bytes(data_dir: &std::path::Path) -> Vec<u8> {
    let mut bytes = Vec::new();
    let mut pending = vec![data_dir.to_owned()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).expect("dir").flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if !path.starts_with(data_dir.join("secrets")) {
                bytes.extend(std::fs::read(&path).unwrap_or_default());
            }
        }
    }
    bytes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_codes_lock_the_account_like_wrong_passwords() {
    let clock = ManualClock::starting_at(1_800_000_000_000);
    let options = cryptolens::server::StartOptions {
        clock: Arc::new(clock.clone()),
        ..test_start_options()
    };
    let (_dir, _server, base) = start_in_process_with(
        |settings| {
            settings.rate_limits.login_per_minute = 1000;
            settings.auth.lockout_failures = 3;
        },
        options,
    )
    .await;
    add_user(&base, "tina", "trader", PASSWORD).await;
    let tina = bearer_client(&login(&base, "tina", PASSWORD).await);
    let (_, enrolment) = send(&tina, "POST", &format!("{base}/api/auth/totp"), None).await;
    let secret = secret_bytes(&enrolment);
    let code = code_now(&secret, clock.now_ms());
    let confirm = json!({"code": code});
    let (status, _) = send(
        &tina,
        "POST",
        &format!("{base}/api/auth/totp/confirm"),
        Some(&confirm),
    )
    .await;
    assert_eq!(status, 200);
    for _ in 0..3 {
        let (status, answer) = log_in(&base, "tina", json!({"totp_code": "000000"})).await;
        assert_eq!((status, code_of(&answer)), (401, "totp_invalid"));
    }
    // The next step's code is right (within the skew), but this address must wait now.
    let right = code_now(&secret, clock.now_ms() + 30_000);
    let (status, answer) = log_in(&base, "tina", json!({"totp_code": right})).await;
    assert_eq!(
        (status, code_of(&answer)),
        (401, "account_locked"),
        "{answer}"
    );
    clock.advance_ms(60_000);
    let (status, answer) = log_in(&base, "tina", json!({"totp_code": right})).await;
    assert_eq!(
        status, 200,
        "after the delay the owner's code works: {answer}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_enrolment_survives_a_restart_of_the_binary_and_an_operator_can_reset_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let base_login = |base: &str, extra: Value| {
        let mut body = json!({"username": "admin", "password": ADMIN_PASSWORD});
        if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
            body.extend(extra.clone());
        }
        (format!("{base}/api/auth/login"), body)
    };
    let toml = "[auth]\ntotp_required_roles = [\"admin\"]\n";
    let secret = {
        let server = ServerProcess::start_in(dir.path(), toml);
        let token = login(&server.base_url, "admin", ADMIN_PASSWORD).await;
        let admin = bearer_client(&token);
        let base = &server.base_url;
        let (_, enrolment) = send(&admin, "POST", &format!("{base}/api/auth/totp"), None).await;
        let secret = secret_bytes(&enrolment);
        let code = code_now(&secret, chrono::Utc::now().timestamp_millis());
        let url = format!("{base}/api/auth/totp/confirm");
        let (status, _) = send(&admin, "POST", &url, Some(&json!({"code": code}))).await;
        assert_eq!(status, 200);
        secret
    };
    let key_mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(dir.path().join("secrets/totp_key"))
            .expect("key file")
            .permissions(),
    );
    assert_eq!(key_mode & 0o777, 0o600);

    {
        let server = ServerProcess::start_in(dir.path(), toml);
        let (url, body) = base_login(&server.base_url, json!({}));
        let (status, answer) = send(&reqwest::Client::new(), "POST", &url, Some(&body)).await;
        assert_eq!((status, code_of(&answer)), (401, "totp_required"));
        // The next step's code: the one used to confirm may still be current.
        let next_ms = chrono::Utc::now().timestamp_millis() + 30_000;
        let (url, body) = base_login(
            &server.base_url,
            json!({"totp_code": code_now(&secret, next_ms)}),
        );
        let (status, answer) = send(&reqwest::Client::new(), "POST", &url, Some(&body)).await;
        assert_eq!(status, 200, "{answer}");
    }

    let reset = std::process::Command::new(env!("CARGO_BIN_EXE_cryptolens"))
        .args(["user", "reset-totp", "--username", "admin", "--data-dir"])
        .arg(dir.path())
        .output()
        .expect("reset-totp");
    assert!(reset.status.success(), "{reset:?}");
    let printed: Value = serde_json::from_slice(&reset.stdout).expect("JSON");
    assert_eq!(printed["totp_removed"], true);
    let server = ServerProcess::start_in(dir.path(), toml);
    let token = login(&server.base_url, "admin", ADMIN_PASSWORD).await;
    let url = format!("{}/api/auth/me", server.base_url);
    let (_, me) = send(&bearer_client(&token), "GET", &url, None).await;
    assert_eq!(
        (&me["totp"], &me["totp_enrolment_due"]),
        (&json!("off"), &json!(true))
    );
}
