//! Email channels on the real binary against mock SMTP servers (`mock_smtp.rs`, real servers
//! on loopback speaking STARTTLS with a certificate made for the test): signals from the
//! registry's EURUSD candles reach the mailbox once each by delivery id, over TLS, signed in;
//! a 451 is retried under the same Message-ID, a 550 fails at once; a server without STARTTLS
//! or with a certificate nobody trusts gets nothing, not even the credentials; internal hosts
//! are refused unless allowed; passwords are never shown.

use crate::mock_smtp::{MockSmtp, SmtpAnswer};
use crate::notifications::{create_channel, deliveries};
use crate::support::{client, send, ServerProcess};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

fn config(trusted_pem: &Path) -> String {
    format!(
        "[notify]
allow_private_destinations = true
max_signal_age_ms = 9000000000000
request_timeout_ms = 2000
tick_ms = 20
smtp_root_certificate = {:?}
[notify.retry]
base_ms = 100
max_ms = 300
max_attempts = 1000
[notify.breaker]
failures_to_open = 3
cool_down_ms = 300
",
        trusted_pem.display().to_string()
    )
}

async fn email_channel(server: &ServerProcess, name: &str, port: u16) -> u64 {
    let body = json!({"name": name, "kind": "email", "smtp_host": "localhost", "smtp_port": port,
        "username": "bot", "password": "s3cret-pass", "from": "Cryptolens <bot@example.com>",
        "to": "ana@example.com"});
    create_channel(server, body).await["id"]
        .as_u64()
        .expect("id")
}

/// Waits until `check` holds of channel `channel`'s deliveries; answers them.
async fn deliveries_until(
    server: &ServerProcess,
    channel: u64,
    what: &str,
    check: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let started = Instant::now();
    loop {
        let listed = deliveries(server, channel).await;
        if check(&listed) {
            return listed;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{what}: {listed:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signals_reach_the_mailbox_once_over_starttls_and_faults_are_judged_as_smtp_says() {
    let mailbox = MockSmtp::start().await;
    let trusted = mailbox.certificate_pem.clone().expect("a TLS mock");
    let refusing = MockSmtp::start().await;
    refusing.script(&[SmtpAnswer::Permanent]);
    let untrusted = MockSmtp::start().await;
    let plain = MockSmtp::start_without_tls().await;
    // The server trusts the first mock's certificate only; the refusing mock needs it too.
    let both = tempfile::NamedTempFile::new().expect("temp file");
    let pems = [&trusted, refusing.certificate_pem.as_ref().unwrap()]
        .map(|path| std::fs::read_to_string(path).unwrap())
        .join("");
    std::fs::write(both.path(), pems).unwrap();
    let server = ServerProcess::start(&config(both.path()));
    mailbox.script(&[SmtpAnswer::Transient]);
    let inbox = email_channel(&server, "inbox", mailbox.port).await;
    let refused = email_channel(&server, "refused", refusing.port).await;
    let forged = email_channel(&server, "forged", untrusted.port).await;
    let cleartext = email_channel(&server, "cleartext", plain.port).await;
    let (_, listed) = send(&client(), "GET", &server.url("/api/notify/channels"), None).await;
    assert!(!listed.to_string().contains("s3cret-pass"), "{listed}");
    assert_eq!(listed["channels"][0]["destination"]["username"], "bot");

    let dir = tempfile::tempdir().expect("temp dir");
    crate::support::import_eurusd_rows(&server, dir.path(), 0, 700);
    let delivered = deliveries_until(&server, inbox, "every signal delivered", |listed| {
        !listed.is_empty() && listed.iter().all(|d| d["status"] == "delivered")
    })
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let delivered = if deliveries(&server, inbox).await.len() == delivered.len() {
        delivered
    } else {
        deliveries_until(&server, inbox, "settled", |l| {
            l.iter().all(|d| d["status"] == "delivered")
        })
        .await
    };
    assert!(
        delivered.len() >= 3,
        "EURUSD gives signals: {}",
        delivered.len()
    );
    let mails = mailbox.mails();
    let mut accepted: BTreeMap<String, usize> = BTreeMap::new();
    for mail in mails.iter().filter(|m| m.answered == Some(250)) {
        *accepted
            .entry(mail.header("X-Cryptolens-Delivery").expect("delivery id"))
            .or_default() += 1;
        assert!(mail.over_tls, "never in the clear");
        assert_eq!(mail.auth, Some(("bot".into(), "s3cret-pass".into())));
        assert_eq!(
            (mail.from.as_str(), mail.to.as_slice()),
            ("bot@example.com", &["ana@example.com".to_owned()][..])
        );
        let id = mail.header("X-Cryptolens-Delivery").unwrap();
        assert_eq!(
            mail.header("Message-ID"),
            Some(format!("<{id}@cryptolens>"))
        );
        assert!(mail.body().contains("#/symbol/EURUSD/"), "{}", mail.body());
    }
    let ids: Vec<String> = delivered
        .iter()
        .map(|d| d["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(accepted.keys().cloned().collect::<Vec<_>>(), {
        let mut sorted = ids.clone();
        sorted.sort();
        sorted
    });
    assert!(accepted.values().all(|count| *count == 1), "{accepted:?}");
    let retried: Vec<_> = mails.iter().filter(|m| m.answered == Some(451)).collect();
    assert_eq!(retried.len(), 1, "the 451");
    let again = retried[0].header("Message-ID");
    assert_eq!(
        mails
            .iter()
            .filter(|m| m.header("Message-ID") == again)
            .count(),
        2,
        "retried under the same Message-ID"
    );

    let failed = deliveries_until(&server, refused, "the 550 failed", |l| {
        !l.is_empty() && l.iter().any(|d| d["status"] == "failed")
    })
    .await;
    let first = failed.iter().find(|d| d["status"] == "failed").unwrap();
    assert_eq!(first["attempts"], 1, "{first}");
    assert!(
        first["last_error"].as_str().unwrap().contains("550"),
        "{first}"
    );

    for (channel, mock, what) in [
        (forged, &untrusted, "an untrusted certificate"),
        (cleartext, &plain, "no STARTTLS"),
    ] {
        let tried = deliveries_until(&server, channel, what, |l| {
            l.iter().any(|d| d["attempts"].as_u64().unwrap_or(0) >= 2)
        })
        .await;
        assert!(
            tried.iter().all(|d| d["status"] != "delivered"),
            "{what}: {tried:?}"
        );
        let commands = mock.commands();
        assert!(
            !commands
                .iter()
                .any(|c| c == "AUTH" || c == "MAIL" || c == "DATA"),
            "{what}: nothing but the handshake was sent: {commands:?}"
        );
        assert!(mock.mails().is_empty());
    }
}

#[tokio::test]
async fn internal_smtp_hosts_and_bad_addresses_are_refused_by_field() {
    let server = ServerProcess::start("");
    let url = server.url("/api/notify/channels");
    // A public address literal: checked without DNS (there is none here).
    let base = json!({"name": "mail", "kind": "email", "smtp_host": "1.1.1.1",
        "from": "bot@example.com", "to": "ana@example.com"});
    let with = |key: &str, value: Value| {
        let mut body = base.clone();
        body[key] = value;
        body
    };
    let refused = [
        (with("smtp_host", json!("127.0.0.1")), "smtp_host"),
        (with("smtp_host", json!("localhost")), "smtp_host"),
        (with("smtp_host", json!("[::1]")), "smtp_host"),
        (with("smtp_host", json!("10.1.2.3")), "smtp_host"),
        (
            with("smtp_host", json!("smtp://mail.example.com")),
            "smtp_host",
        ),
        (with("smtp_port", json!(0)), "smtp_port"),
        (with("to", json!("not an address")), "to"),
        (with("from", json!("")), "from"),
        (with("username", json!("bot")), "password"),
    ];
    for (body, field) in refused {
        let (status, answer) = send(&client(), "POST", &url, Some(&body)).await;
        assert_eq!(status, 400, "{body} -> {answer}");
        assert_eq!(answer["error"]["field"], field, "{body} -> {answer}");
    }
}
