//! Open times in import files: integer milliseconds or ISO-8601, always UTC.

use chrono::{DateTime, NaiveDateTime};

const NAIVE_FORMATS: [&str; 4] = [
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M",
];

/// Milliseconds since the epoch; ISO-8601 without an offset is read as UTC.
pub fn parse_open_time_ms(text: &str) -> Result<i64, String> {
    let text = text.trim();
    if let Ok(ms) = text.parse::<i64>() {
        return Ok(ms);
    }
    if let Ok(moment) = DateTime::parse_from_rfc3339(text) {
        return Ok(moment.timestamp_millis());
    }
    NAIVE_FORMATS
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
        .map(|moment| moment.and_utc().timestamp_millis())
        .ok_or_else(|| format!("{text:?} is neither integer milliseconds nor an ISO-8601 time"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn milliseconds_and_iso_forms_agree() {
        let expected = 1_509_836_520_000;
        for text in [
            "1509836520000",
            "2017-11-04T23:02:00Z",
            "2017-11-04T23:02:00.000+00:00",
            "2017-11-05T01:02:00+02:00",
            "2017-11-04 23:02:00",
            "2017-11-04T23:02",
        ] {
            assert_eq!(parse_open_time_ms(text), Ok(expected), "{text}");
        }
        assert!(parse_open_time_ms("yesterday").is_err());
        assert!(parse_open_time_ms("1509836520000.5").is_err());
    }
}
