//! Real candles for benchmarks: a `../shared/data/candles` file repeated forward in time (by
//! whole days, so every timeframe stays aligned) to `count` candles, or a seeded synthetic
//! walk when ../shared is absent.

use cryptolens_actors::domain::market::{
    Candle, CandleDraft, CandleField, Price, Timeframe, Volume,
};
use std::path::PathBuf;

/// `../shared/data/candles` beside the repository, from either crate of the workspace.
fn shared_candles_dir() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    ["../shared/data/candles", "../../shared/data/candles"]
        .iter()
        .map(|relative| manifest.join(relative))
        .find(|dir| dir.is_dir())
        .unwrap_or_else(|| manifest.join("../shared/data/candles"))
}

pub fn load_repeated(name: &str, timeframe: Timeframe, count: usize) -> Vec<Candle> {
    let path = shared_candles_dir().join(name);
    let base: Vec<Candle> = match std::fs::read_to_string(&path) {
        Ok(text) => text
            .lines()
            .skip(1)
            .filter_map(|line| parse_line(line, timeframe))
            .collect(),
        Err(_) => {
            eprintln!("note: {} absent, using a synthetic walk", path.display());
            synthetic(timeframe)
        }
    };
    let first = base.first().map_or(0, |candle| candle.open_time_ms);
    let last = base.last().map_or(0, |candle| candle.open_time_ms);
    let day = Timeframe::D1.duration_ms();
    let span = ((last - first) / day + 1) * day;
    (0..count)
        .map(|index| {
            let candle = base[index % base.len()];
            Candle {
                open_time_ms: candle.open_time_ms + span * (index / base.len()) as i64,
                ..candle
            }
        })
        .collect()
}

fn parse_line(line: &str, timeframe: Timeframe) -> Option<Candle> {
    let cells: Vec<&str> = line.split(',').collect();
    let number =
        |index: usize| CandleDraft::parse_number(CandleField::ALL[index], cells.get(index)?).ok();
    let draft = CandleDraft {
        open_time_ms: cells.first()?.parse().ok()?,
        open: number(1)?,
        high: number(2)?,
        low: number(3)?,
        close: number(4)?,
        volume: number(5)?,
    };
    Candle::new_checked(timeframe, &draft).ok()
}

fn synthetic(timeframe: Timeframe) -> Vec<Candle> {
    (0..10_000_i64)
        .map(|step| {
            let price = 100_000 + (step * 7919) % 5_000;
            Candle {
                open_time_ms: step * timeframe.duration_ms(),
                open: Price::from_raw(price),
                high: Price::from_raw(price + 300),
                low: Price::from_raw(price - 300),
                close: Price::from_raw(price + (step % 7) * 40 - 120),
                volume: Volume::from_raw(1_000_000),
            }
        })
        .collect()
}
