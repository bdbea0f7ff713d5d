//! What a receiver's answer means for a delivery. 2xx delivers (for Telegram only with
//! `"ok": true`). 429 throttles: try again after `Retry-After` (Telegram puts it in
//! `parameters.retry_after`), which is no sign of a dead receiver. 408, 5xx, timeouts and
//! connection failures are transient: retry with backoff, and they count towards the
//! breaker. Other 4xx are the channel's own mistake (a wrong token, a missing topic): the
//! delivery fails at once, since retrying cannot help. So does a redirect: the notifier
//! never follows one (it is how an allowed URL would lead to a forbidden address).
//!
//! Email answers are SMTP replies (RFC 5321 §4.2.1): 2yz delivers, 4yz is transient (a full
//! mailbox, greylisting, a server busy) and retried, 5yz is permanent (no such mailbox,
//! refused credentials); a connection or TLS failure is transient like HTTP's.

use serde::Deserialize;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiverAnswer {
    /// None: no HTTP answer (timeout, refused, reset, refused destination).
    pub status: Option<u16>,
    pub retry_after_ms: Option<u64>,
    /// The start of the answer's body, or the transport's error.
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptOutcome {
    Delivered,
    Throttled {
        retry_after_ms: Option<u64>,
        error: String,
    },
    Transient {
        retry_after_ms: Option<u64>,
        error: String,
    },
    Permanent {
        error: String,
    },
}

#[derive(Deserialize)]
struct TelegramAnswer {
    ok: bool,
    #[serde(default)]
    parameters: Option<TelegramParameters>,
}

#[derive(Deserialize)]
struct TelegramParameters {
    retry_after: Option<u64>,
}

fn judge_smtp_reply(code: u16, detail: &str) -> AttemptOutcome {
    let error = format!("SMTP {code}: {detail}");
    match code {
        200..=299 => AttemptOutcome::Delivered,
        400..=499 => AttemptOutcome::Transient {
            retry_after_ms: None,
            error,
        },
        _ => AttemptOutcome::Permanent { error },
    }
}

pub fn judge_answer(destination_kind: &str, answer: &ReceiverAnswer) -> AttemptOutcome {
    let Some(status) = answer.status else {
        return AttemptOutcome::Transient {
            retry_after_ms: None,
            error: answer.detail.clone(),
        };
    };
    if destination_kind == "email" {
        return judge_smtp_reply(status, &answer.detail);
    }
    let telegram = (destination_kind == "telegram")
        .then(|| serde_json::from_str::<TelegramAnswer>(&answer.detail).ok())
        .flatten();
    let error = format!("HTTP {status}: {}", answer.detail);
    match status {
        200..=299 if telegram.as_ref().is_none_or(|reply| reply.ok) => AttemptOutcome::Delivered,
        429 => AttemptOutcome::Throttled {
            retry_after_ms: answer.retry_after_ms.or_else(|| {
                telegram
                    .and_then(|reply| reply.parameters)
                    .and_then(|parameters| parameters.retry_after)
                    .map(|seconds| seconds.saturating_mul(1_000))
            }),
            error,
        },
        300..=399 => AttemptOutcome::Permanent {
            error: format!("HTTP {status}: the receiver redirects; redirects are not followed"),
        },
        408 | 500..=599 => AttemptOutcome::Transient {
            retry_after_ms: answer.retry_after_ms,
            error,
        },
        _ => AttemptOutcome::Permanent { error },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: Option<u16>, retry_after_ms: Option<u64>, detail: &str) -> ReceiverAnswer {
        ReceiverAnswer {
            status,
            retry_after_ms,
            detail: detail.into(),
        }
    }

    #[test]
    fn statuses_map_to_delivered_throttled_transient_or_permanent() {
        assert_eq!(
            judge_answer("ntfy", &answer(Some(200), None, "{}")),
            AttemptOutcome::Delivered
        );
        assert_eq!(
            judge_answer("webhook", &answer(Some(204), None, "")),
            AttemptOutcome::Delivered
        );
        assert!(matches!(
            judge_answer("ntfy", &answer(Some(429), Some(3_000), "slow down")),
            AttemptOutcome::Throttled {
                retry_after_ms: Some(3_000),
                ..
            }
        ));
        for status in [408, 500, 502, 503] {
            assert!(matches!(
                judge_answer("webhook", &answer(Some(status), None, "")),
                AttemptOutcome::Transient { .. }
            ));
        }
        assert!(matches!(
            judge_answer("webhook", &answer(None, None, "timed out")),
            AttemptOutcome::Transient { error, .. } if error == "timed out"
        ));
        assert_eq!(
            judge_answer("ntfy", &answer(Some(403), None, "forbidden")),
            AttemptOutcome::Permanent {
                error: "HTTP 403: forbidden".into()
            }
        );
    }

    #[test]
    fn telegram_needs_ok_true_and_gives_its_retry_after_in_the_body() {
        let refused =
            r#"{"ok":false,"error_code":400,"description":"Bad Request: chat not found"}"#;
        assert!(matches!(
            judge_answer("telegram", &answer(Some(200), None, refused)),
            AttemptOutcome::Permanent { .. }
        ));
        assert_eq!(
            judge_answer(
                "telegram",
                &answer(Some(200), None, r#"{"ok":true,"result":{}}"#)
            ),
            AttemptOutcome::Delivered
        );
        let throttled = r#"{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 7","parameters":{"retry_after":7}}"#;
        assert!(matches!(
            judge_answer("telegram", &answer(Some(429), None, throttled)),
            AttemptOutcome::Throttled {
                retry_after_ms: Some(7_000),
                ..
            }
        ));
    }

    #[test]
    fn smtp_replies_deliver_retry_or_fail() {
        let judge = |code, detail| judge_answer("email", &answer(Some(code), None, detail));
        assert_eq!(judge(250, "2.0.0 queued"), AttemptOutcome::Delivered);
        for transient in [421, 450, 451, 452] {
            assert!(
                matches!(
                    judge(transient, "try later"),
                    AttemptOutcome::Transient { .. }
                ),
                "{transient}"
            );
        }
        let refused = judge(550, "5.1.1 no such user");
        assert_eq!(
            refused,
            AttemptOutcome::Permanent {
                error: "SMTP 550: 5.1.1 no such user".into()
            }
        );
        assert!(matches!(
            judge(535, "bad credentials"),
            AttemptOutcome::Permanent { .. }
        ));
        assert!(matches!(
            judge_answer("email", &answer(None, None, "connection refused")),
            AttemptOutcome::Transient { .. }
        ));
    }
}
