//! Two-factor sign-in in a real headless Chromium against the real binary: a trader whose
//! role must use TOTP logs in, lands on the Account page with nothing else in reach, sets it
//! up from the secret the page shows, confirms with a code, gets the whole dashboard, logs
//! out and back in with a code; no console error on the way (the asked-for code's 401 aside).

use crate::browser::{Browser, DESKTOP, PHONE};
use crate::support::{add_user, ServerProcess};
use cryptolens::auth::totp::code::{code_at, DIGITS};

const PASSWORD: &str = "Tina-Trades-Carefully-9";

fn code_at_ms(secret: &[u8], at_ms: i64) -> String {
    code_at(
        secret,
        DIGITS,
        u64::try_from(at_ms / 1000).expect("after 1970"),
    )
}

async fn log_in(browser: &Browser) {
    browser.fill("#login-username", "tina").await;
    browser.fill("#login-password", PASSWORD).await;
    browser.click("#login-submit").await;
}

#[tokio::test]
async fn a_trader_sets_up_two_factor_sign_in_in_a_real_browser() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let server = ServerProcess::start("[auth]\ntotp_required_roles = [\"trader\"]\n");
    let base = server.base_url.clone();
    add_user(&base, "tina", "trader", PASSWORD).await;
    browser.goto(&format!("{base}/")).await;
    browser.wait_page("login").await;
    log_in(&browser).await;
    browser.wait_page("account").await;
    assert_eq!(browser.count("#totp-due").await, 1, "the page says why");
    assert_eq!(
        browser.count("#nav a").await,
        1,
        "only the account page is in reach"
    );
    browser.goto(&format!("{base}/#/matrix")).await;
    browser.wait_page("account").await;

    browser.click("#totp-start").await;
    let secret = browser
        .wait_for(
            "the new secret",
            "return document.getElementById('totp-secret')?.textContent",
        )
        .await;
    let secret = secret.as_str().expect("text").replace(' ', "");
    let secret = totp_rs::Secret::Encoded(secret).to_bytes().expect("base32");
    assert_eq!(browser.count("#totp-recovery li").await, 10);
    let uri = browser
        .wait_for(
            "the link",
            "return document.getElementById('totp-uri')?.href",
        )
        .await;
    assert!(
        uri.as_str()
            .is_some_and(|uri| uri.starts_with("otpauth://totp/")),
        "{uri}"
    );
    browser.resize(PHONE).await;
    browser.screenshot("account-enrol-phone").await;
    browser.resize(DESKTOP).await;
    browser.screenshot("account-enrol").await;

    let now_ms = chrono::Utc::now().timestamp_millis();
    browser
        .fill("#totp-confirm-code", &code_at_ms(&secret, now_ms))
        .await;
    browser.click("#totp-confirm-submit").await;
    browser
        .wait_for(
            "two-factor sign-in on",
            "return document.querySelector('#totp[data-state=\"enabled\"]') !== null",
        )
        .await;
    assert!(
        browser.count("#nav a").await >= 6,
        "the whole dashboard opens"
    );
    assert_eq!(browser.count("#totp-recovery-left").await, 1);
    let errors = browser.console_errors().await;
    assert!(errors.is_empty(), "console errors: {errors:#?}");

    browser.click("#logout").await;
    browser.wait_page("login").await;
    log_in(&browser).await;
    browser
        .wait_for(
            "the code field",
            "return !document.getElementById('login-totp-field').hidden",
        )
        .await;
    // The next step's code: the one that confirmed may still be current, and is spent.
    let next_ms = chrono::Utc::now().timestamp_millis() + 30_000;
    browser
        .fill("#login-totp", &code_at_ms(&secret, next_ms))
        .await;
    browser.click("#login-submit").await;
    browser.wait_page("matrix").await;
    let _ = browser.console_errors().await; // the 401 asking for the code is expected
    browser.goto(&format!("{base}/#/account")).await;
    browser.wait_page("account").await;
    browser.screenshot("account").await;
    let errors = browser.console_errors().await;
    assert!(errors.is_empty(), "console errors: {errors:#?}");
    browser.close().await;
}
