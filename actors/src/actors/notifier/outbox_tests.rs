use super::*;
use crate::domain::analysis::{Direction, Signal};
use crate::domain::notify::{ChannelFilter, Destination, SecretText};

fn channel(id: u64, filter: ChannelFilter) -> Channel {
    Channel {
        id,
        owner: "ana".into(),
        name: format!("c{id}"),
        destination: Destination::Webhook {
            url: format!("http://hooks.example/{id}"),
            secret: SecretText("0123456789abcdef".into()),
        },
        filter,
        enabled: true,
        created_at_ms: 0,
    }
}

fn signal(created_at_ms: i64, direction: Direction) -> Signal {
    let mut signal = crate::domain::notify::sample_signal::sample_signal(created_at_ms);
    signal.direction = direction;
    signal
}

fn settings() -> NotifierSettings {
    NotifierSettings {
        outbox_capacity: 3,
        history_per_channel: 2,
        ..NotifierSettings::default()
    }
}

fn ok() -> ReceiverAnswer {
    ReceiverAnswer {
        status: Some(200),
        retry_after_ms: None,
        detail: String::new(),
    }
}

fn failed() -> ReceiverAnswer {
    ReceiverAnswer {
        status: Some(503),
        retry_after_ms: None,
        detail: "down".into(),
    }
}

#[test]
fn a_signal_goes_to_each_wanting_channel_once_and_a_repeat_is_counted_not_queued() {
    let bearish_only = ChannelFilter {
        directions: vec![Direction::Bearish],
        ..ChannelFilter::default()
    };
    let mut outbox = Outbox::restore(
        vec![
            channel(1, ChannelFilter::default()),
            channel(2, bearish_only),
        ],
        Vec::new(),
    );
    let stats = NotifierStats::default();
    let accepted = outbox.accept_signal(&signal(10, Direction::Bullish), 100, &settings(), &stats);
    assert_eq!(accepted.len(), 1);
    assert_eq!(accepted[0].id, "c1-BTCUSDT-bullish-10");
    assert!(outbox
        .accept_signal(&signal(10, Direction::Bullish), 200, &settings(), &stats)
        .is_empty());
    let view = stats.view();
    assert_eq!((view.accepted, view.deduped, view.filtered), (1, 1, 2));
}

#[test]
fn a_full_outbox_drops_and_counts() {
    let mut outbox = Outbox::restore(vec![channel(1, ChannelFilter::default())], Vec::new());
    let stats = NotifierStats::default();
    for minute in 0..5 {
        outbox.accept_signal(
            &signal(minute * 60_000, Direction::Bullish),
            0,
            &settings(),
            &stats,
        );
    }
    assert_eq!(outbox.pending.len(), 3);
    assert_eq!(stats.view().dropped, 2);
}

#[test]
fn the_cooldown_holds_a_symbols_next_signals_and_survives_a_restore() {
    let cooling = ChannelFilter {
        cooldown_minutes: 10,
        ..ChannelFilter::default()
    };
    let mut outbox = Outbox::restore(vec![channel(1, cooling.clone())], Vec::new());
    let stats = NotifierStats::default();
    let first = outbox.accept_signal(&signal(0, Direction::Bullish), 0, &settings(), &stats);
    assert_eq!(first.len(), 1);
    assert!(outbox
        .accept_signal(
            &signal(60_000, Direction::Bearish),
            300_000,
            &settings(),
            &stats
        )
        .is_empty());
    let mut restored = Outbox::restore(vec![channel(1, cooling)], first);
    assert!(restored
        .accept_signal(
            &signal(120_000, Direction::Bearish),
            599_999,
            &settings(),
            &stats
        )
        .is_empty());
    assert_eq!(
        restored
            .accept_signal(
                &signal(180_000, Direction::Bearish),
                600_000,
                &settings(),
                &stats
            )
            .len(),
        1
    );
}

#[test]
fn one_delivery_per_channel_is_in_flight_and_the_oldest_goes_first() {
    let mut outbox = Outbox::restore(
        vec![
            channel(1, ChannelFilter::default()),
            channel(2, ChannelFilter::default()),
        ],
        Vec::new(),
    );
    let stats = NotifierStats::default();
    outbox.accept_signal(&signal(60_000, Direction::Bullish), 5, &settings(), &stats);
    outbox.accept_signal(&signal(0, Direction::Bearish), 6, &settings(), &stats);
    let starts = outbox.starts(10, 64);
    let ids: Vec<&str> = starts
        .iter()
        .map(|start| start.delivery_id.as_str())
        .collect();
    assert_eq!(
        ids,
        ["c1-BTCUSDT-bullish-60000", "c2-BTCUSDT-bullish-60000"]
    );
    assert!(outbox.starts(10, 64).is_empty(), "both channels are busy");
    let Outgoing::Http(request) = &starts[0].request else {
        panic!("a webhook goes over HTTP")
    };
    assert_eq!(request.url, "http://hooks.example/1");
    let (outcome, finished) = outbox
        .finish("c1-BTCUSDT-bullish-60000", &ok(), 20, &settings(), 0.0)
        .unwrap();
    assert_eq!(outcome, AttemptOutcome::Delivered);
    assert_eq!(finished.delivery.status, DeliveryStatus::Delivered);
    let next = outbox.starts(20, 64);
    assert_eq!(next.len(), 1);
    assert_eq!(next[0].delivery_id, "c1-BTCUSDT-bearish-0");
}

#[test]
fn failures_back_off_open_the_breaker_and_the_global_limit_holds() {
    let mut outbox = Outbox::restore(
        vec![
            channel(1, ChannelFilter::default()),
            channel(2, ChannelFilter::default()),
        ],
        Vec::new(),
    );
    let stats = NotifierStats::default();
    outbox.accept_signal(&signal(0, Direction::Bullish), 0, &settings(), &stats);
    assert_eq!(
        outbox.starts(0, 1).len(),
        1,
        "one in flight at most, over all channels"
    );
    let settings = settings();
    let (_, finished) = outbox
        .finish("c1-BTCUSDT-bullish-0", &failed(), 0, &settings, 0.0)
        .unwrap();
    assert_eq!(finished.delivery.status, DeliveryStatus::Pending);
    assert_eq!(finished.delivery.next_attempt_at_ms, 500);
    let mut now_ms = 0;
    for _ in 0..4 {
        now_ms += 1_000_000;
        for start in outbox.starts(now_ms, 64) {
            outbox.finish(&start.delivery_id, &failed(), now_ms, &settings, 0.0);
        }
    }
    let breaker = &outbox.runtime[&1].breaker;
    assert_eq!(
        breaker.state(now_ms),
        crate::domain::notify::BreakerState::Open
    );
    assert!(outbox
        .starts(now_ms + 1, 64)
        .iter()
        .all(|start| !start.delivery_id.starts_with("c1-")));
}

#[test]
fn finished_history_is_pruned_per_channel_and_a_removed_channel_takes_everything() {
    let mut outbox = Outbox::restore(vec![channel(1, ChannelFilter::default())], Vec::new());
    let stats = NotifierStats::default();
    let mut pruned = Vec::new();
    for minute in 0..3 {
        outbox.accept_signal(
            &signal(minute * 60_000, Direction::Bullish),
            minute,
            &settings(),
            &stats,
        );
        for start in outbox.starts(minute, 64) {
            let (_, finished) = outbox
                .finish(&start.delivery_id, &ok(), minute, &settings(), 0.0)
                .unwrap();
            pruned.extend(finished.pruned);
        }
    }
    assert_eq!(pruned, ["c1-BTCUSDT-bullish-0"]);
    assert_eq!(outbox.finished.len(), 2);
    outbox.accept_signal(&signal(999_999, Direction::Bullish), 5, &settings(), &stats);
    let removed = outbox.remove_channel(1);
    assert_eq!(removed.len(), 3);
    assert!(outbox.pending.is_empty() && outbox.finished.is_empty() && outbox.channels.is_empty());
}
