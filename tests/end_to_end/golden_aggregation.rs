//! Aggregation of real Binance candles (with real gaps) equals pandas' resample over exact
//! Decimals (fixtures/generate_aggregation_golden.py wrote the expected files).

use crate::support::shared_candles;
use cryptolens::import::read_candle_file;
use cryptolens_actors::domain::market::{Candle, Timeframe, TimeframeAggregator};
use std::path::{Path, PathBuf};

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/golden/aggregation")
}

/// Every candle of `timeframe` the aggregator holds: closed ones, then the one still forming.
fn all_candles(aggregator: &TimeframeAggregator, timeframe: Timeframe) -> Vec<Candle> {
    let ring = aggregator.closed(timeframe).expect("timeframe present");
    ring.tail(usize::MAX)
        .copied()
        .chain(aggregator.forming(timeframe))
        .collect()
}

fn check_against_pandas(source: &Path, base: Timeframe) {
    let candles = read_candle_file(source, base).expect("real data is valid");
    let mut aggregator = TimeframeAggregator::new(base, 100_000);
    let mut closed = Vec::new();
    for candle in &candles {
        aggregator.on_candle(*candle, &mut closed);
    }
    let gaps = candles
        .windows(2)
        .filter(|pair| pair[1].open_time_ms - pair[0].open_time_ms > base.duration_ms())
        .count();
    assert!(gaps > 0, "the real data set is expected to contain gaps");
    let stem = source
        .file_stem()
        .and_then(|stem| stem.to_str())
        .expect("stem");
    for timeframe in base.higher() {
        let golden = golden_dir().join(format!("{stem}.{timeframe}.csv"));
        let expected = read_candle_file(&golden, timeframe).expect("golden file");
        let actual = all_candles(&aggregator, timeframe);
        assert_eq!(
            actual.len(),
            expected.len(),
            "{stem} {timeframe}: bucket count"
        );
        for (index, (actual, expected)) in actual.iter().zip(&expected).enumerate() {
            assert_eq!(
                actual, expected,
                "{stem} {timeframe}: bucket {index} differs from pandas"
            );
        }
    }
}

#[test]
fn one_minute_real_data_aggregates_like_pandas_on_every_higher_timeframe() {
    let Some(dir) = shared_candles() else { return };
    check_against_pandas(&dir.join("UNITTEST_BTC-1m.csv"), Timeframe::M1);
}

#[test]
fn five_minute_real_data_aggregates_like_pandas_from_fifteen_minutes_up() {
    let Some(dir) = shared_candles() else { return };
    check_against_pandas(&dir.join("TRX_BTC-5m.csv"), Timeframe::M5);
}
