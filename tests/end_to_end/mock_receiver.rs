//! A mock notification receiver on 127.0.0.1, one server for any of the three services:
//! NTFY (`POST /{topic}`, the message as body, 200 with a JSON message), a webhook
//! (`POST /any/path`, 200) and Telegram's Bot API (`POST /bot{token}/sendMessage`, 200 with
//! `{"ok":true,"result":{...}}`; refusals as `{"ok":false,"error_code":..,"description":..}`,
//! throttling as 429 with `parameters.retry_after`, as core.telegram.org/bots/api documents).
//! Every request is recorded with its headers and body; the test scripts faults: the next
//! answers one by one, or a standing mode (a black hole that never answers, a slow answer).
#![allow(dead_code)] // a receiver for several notification tests.

use super::mock_exchange::stream_hub::serve;
use bytes::Bytes;
use parking_lot::Mutex;
use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;
use warp::http::{HeaderMap, StatusCode};
use warp::reply::Response;
use warp::{Filter, Reply};

#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    Ok,
    Status(u16),
    /// 429 with `Retry-After` (and Telegram's `parameters.retry_after`) in seconds.
    Throttle {
        retry_after_s: u64,
    },
    /// Never answers: the client times out.
    BlackHole,
    /// Answers OK after this long.
    Slow {
        delay_ms: u64,
    },
    Redirect {
        location: String,
    },
}

#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    pub headers: BTreeMap<String, String>,
    pub body: Bytes,
    /// The status the mock answered (None: it never answered).
    pub answered: Option<u16>,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }

    pub fn delivery_id(&self) -> String {
        self.header("x-cryptolens-delivery")
            .unwrap_or_default()
            .to_owned()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

#[derive(Default)]
struct State {
    received: Vec<Received>,
    script: VecDeque<Answer>,
    standing: Option<Answer>,
}

#[derive(Clone)]
pub struct MockReceiver {
    pub base_url: String,
    state: Arc<Mutex<State>>,
}

impl MockReceiver {
    pub async fn start() -> MockReceiver {
        let state = Arc::new(Mutex::new(State::default()));
        let shared = Arc::clone(&state);
        let routes = warp::post()
            .and(warp::path::full())
            .and(warp::header::headers_cloned())
            .and(warp::body::bytes())
            .then(
                move |path: warp::path::FullPath, headers: HeaderMap, body: Bytes| {
                    let state = Arc::clone(&shared);
                    async move { answer(&state, path.as_str(), &headers, body).await }
                },
            );
        let (address, _task) = serve(routes).await;
        MockReceiver {
            base_url: format!("http://{address}"),
            state,
        }
    }

    /// The next answers, in order, before the standing mode applies again.
    pub fn script(&self, answers: &[Answer]) {
        self.state.lock().script.extend(answers.iter().cloned());
    }

    /// How every unscripted request is answered (None: OK).
    pub fn stand(&self, answer: Option<Answer>) {
        self.state.lock().standing = answer;
    }

    pub fn received(&self) -> Vec<Received> {
        self.state.lock().received.clone()
    }

    /// Requests answered 2xx, by delivery id, with how many times each came.
    pub fn delivered(&self) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for request in self
            .received()
            .iter()
            .filter(|r| r.answered.is_some_and(|s| (200..300).contains(&s)))
        {
            *counts.entry(request.delivery_id()).or_insert(0) += 1;
        }
        counts
    }
}

async fn answer(state: &Mutex<State>, path: &str, headers: &HeaderMap, body: Bytes) -> Response {
    let answer = {
        let mut state = state.lock();
        state
            .script
            .pop_front()
            .or_else(|| state.standing.clone())
            .unwrap_or(Answer::Ok)
    };
    let telegram = path.ends_with("/sendMessage");
    let index = {
        let mut state = state.lock();
        state.received.push(Received {
            path: path.to_owned(),
            headers: headers
                .iter()
                .map(|(name, value)| {
                    (
                        name.as_str().to_owned(),
                        value.to_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect(),
            body,
            answered: None,
        });
        state.received.len() - 1
    };
    let (status, reply) = match answer {
        Answer::BlackHole => {
            tokio::time::sleep(Duration::from_secs(3_600)).await;
            (StatusCode::OK, ok_reply(telegram))
        }
        Answer::Slow { delay_ms } => {
            tokio::time::sleep(Duration::from_millis(delay_ms)).await;
            (StatusCode::OK, ok_reply(telegram))
        }
        Answer::Ok => (StatusCode::OK, ok_reply(telegram)),
        Answer::Status(code) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            (status, refusal(code, telegram, None).into_response())
        }
        Answer::Throttle { retry_after_s } => {
            let mut reply = refusal(429, telegram, Some(retry_after_s)).into_response();
            reply
                .headers_mut()
                .insert("retry-after", retry_after_s.into());
            (StatusCode::TOO_MANY_REQUESTS, reply)
        }
        Answer::Redirect { location } => {
            let mut reply = warp::reply().into_response();
            reply
                .headers_mut()
                .insert("location", location.parse().unwrap());
            (StatusCode::FOUND, reply)
        }
    };
    state.lock().received[index].answered = Some(status.as_u16());
    let mut reply = reply;
    *reply.status_mut() = status;
    reply
}

fn ok_reply(telegram: bool) -> Response {
    if telegram {
        warp::reply::json(&serde_json::json!({"ok": true, "result": {"message_id": 1}}))
            .into_response()
    } else {
        warp::reply::json(&serde_json::json!({"id": "mock", "event": "message"})).into_response()
    }
}

fn refusal(code: u16, telegram: bool, retry_after_s: Option<u64>) -> warp::reply::Json {
    if telegram {
        let mut body =
            serde_json::json!({"ok": false, "error_code": code, "description": "scripted failure"});
        if let Some(seconds) = retry_after_s {
            body["parameters"] = serde_json::json!({"retry_after": seconds});
            body["description"] = format!("Too Many Requests: retry after {seconds}").into();
        }
        warp::reply::json(&body)
    } else {
        warp::reply::json(&serde_json::json!({"code": code, "error": "scripted failure"}))
    }
}
