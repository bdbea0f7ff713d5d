use super::super::sample_signal::sample_signal;
use super::*;

/// 2026-01-15 12:00 UTC (winter: Berlin is UTC+1) and 2026-07-15 12:00 UTC (summer: +2).
const WINTER_NOON_UTC_MS: i64 = 1_768_478_400_000;
const SUMMER_NOON_UTC_MS: i64 = 1_784_116_800_000;

#[test]
fn an_empty_filter_admits_every_signal() {
    assert_eq!(ChannelFilter::default().miss(&sample_signal(0), 0), None);
}

#[test]
fn each_rule_names_itself_when_it_refuses() {
    let signal = sample_signal(0);
    let cases = [
        (
            ChannelFilter {
                symbols: vec![Symbol::parse("ETHUSDT").unwrap()],
                ..ChannelFilter::default()
            },
            FilterMiss::Symbol,
        ),
        (
            ChannelFilter {
                directions: vec![Direction::Bearish],
                ..ChannelFilter::default()
            },
            FilterMiss::Direction,
        ),
        (
            ChannelFilter {
                timeframes: vec![Timeframe::H1],
                ..ChannelFilter::default()
            },
            FilterMiss::Timeframe,
        ),
        (
            ChannelFilter {
                kinds: vec![PatternKind::FairValueGap],
                ..ChannelFilter::default()
            },
            FilterMiss::Kind,
        ),
        (
            ChannelFilter {
                min_confluence: 4,
                ..ChannelFilter::default()
            },
            FilterMiss::Confluence,
        ),
        (
            ChannelFilter {
                min_score: 0.7,
                ..ChannelFilter::default()
            },
            FilterMiss::Score,
        ),
        (
            ChannelFilter {
                min_risk_reward: Some("3".parse().unwrap()),
                ..ChannelFilter::default()
            },
            FilterMiss::RiskReward,
        ),
    ];
    for (filter, miss) in cases {
        assert_eq!(filter.miss(&signal, 0), Some(miss), "{filter:?}");
    }
}

#[test]
fn matching_lists_and_met_minimums_admit() {
    let filter = ChannelFilter {
        symbols: vec![Symbol::parse("BTCUSDT").unwrap()],
        directions: vec![Direction::Bullish],
        timeframes: vec![Timeframe::M15],
        kinds: vec![PatternKind::OrderBlock, PatternKind::FairValueGap],
        min_confluence: 3,
        min_score: 0.6,
        min_risk_reward: Some("2.5".parse().unwrap()),
        quiet_hours: None,
        cooldown_minutes: 30,
    };
    assert_eq!(filter.miss(&sample_signal(0), 0), None);
    assert_eq!(filter.cooldown_ms(), 1_800_000);
}

#[test]
fn a_signal_without_levels_fails_a_risk_reward_minimum() {
    let mut signal = sample_signal(0);
    signal.levels = None;
    let filter = ChannelFilter {
        min_risk_reward: Some(Decimal::ONE),
        ..ChannelFilter::default()
    };
    assert_eq!(filter.miss(&signal, 0), Some(FilterMiss::RiskReward));
}

#[test]
fn quiet_hours_follow_the_time_zone_and_its_daylight_saving() {
    // 13:00 to 14:00 Berlin time: 12:00 UTC is 13:00 in winter, 14:00 in summer.
    let quiet = QuietHours::new(13 * 60, 14 * 60, "Europe/Berlin").unwrap();
    assert!(quiet.contains(WINTER_NOON_UTC_MS));
    assert!(!quiet.contains(SUMMER_NOON_UTC_MS));
    let filter = ChannelFilter {
        quiet_hours: Some(quiet),
        ..ChannelFilter::default()
    };
    let signal = sample_signal(0);
    assert_eq!(
        filter.miss(&signal, WINTER_NOON_UTC_MS),
        Some(FilterMiss::QuietHours)
    );
    assert_eq!(filter.miss(&signal, SUMMER_NOON_UTC_MS), None);
}

#[test]
fn quiet_hours_may_wrap_midnight() {
    let night = QuietHours::new(22 * 60, 7 * 60, "UTC").unwrap();
    let hour_ms = 3_600_000;
    let midnight_ms = WINTER_NOON_UTC_MS + 12 * hour_ms;
    assert!(night.contains(midnight_ms - 2 * hour_ms));
    assert!(night.contains(midnight_ms + 6 * hour_ms));
    assert!(!night.contains(midnight_ms + 7 * hour_ms));
    assert!(!night.contains(WINTER_NOON_UTC_MS));
    let none = QuietHours::new(600, 600, "UTC").unwrap();
    assert!(!none.contains(WINTER_NOON_UTC_MS));
}

#[test]
fn bad_times_and_zones_are_refused() {
    assert_eq!(QuietHours::parse_time("07:30"), Ok(450));
    for bad in ["7:30", "24:00", "12:60", "1230", "ab:cd", ""] {
        assert_eq!(
            QuietHours::parse_time(bad),
            Err(QuietHoursError::Time),
            "{bad}"
        );
    }
    assert_eq!(QuietHours::format_time(450), "07:30");
    assert_eq!(
        QuietHours::new(0, 60, "Mars/Olympus"),
        Err(QuietHoursError::TimeZone)
    );
    assert_eq!(QuietHours::new(1440, 60, "UTC"), Err(QuietHoursError::Time));
}
