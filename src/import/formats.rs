//! The import formats: CSV with a `timestamp,open,high,low,close,volume` header (ms or
//! ISO-8601 times), and JSON arrays `[[t,o,h,l,c,v,...],...]` as Binance and freqtrade write
//! them (numbers or strings; extra trailing columns such as Binance's close time are ignored).

use super::error::{ImportError, RowError};
use super::timestamp::parse_open_time_ms;
use cryptolens_actors::domain::market::{Candle, CandleDraft, CandleField, Timeframe};
use cryptolens_actors::domain::DomainError;
use std::io::Read;
use std::path::{Path, PathBuf};

/// How many refused rows an import lists before it stops collecting them.
const LISTED_ERRORS_MAX: usize = 20;
const COLUMNS: [&str; 6] = ["timestamp", "open", "high", "low", "close", "volume"];

/// Reads and checks every row of `path`; any refused row refuses the file.
pub fn read_candle_file(path: &Path, timeframe: Timeframe) -> Result<Vec<Candle>, ImportError> {
    let mut text = String::new();
    std::fs::File::open(path)
        .and_then(|mut file| file.read_to_string(&mut text))
        .map_err(|source| ImportError::Read {
            path: path.to_owned(),
            source,
        })?;
    let mut rows = RowCollector::new(path);
    let looks_like_json = text.trim_start().starts_with('[');
    if looks_like_json {
        read_json(&text, timeframe, &mut rows)?;
    } else {
        read_csv(&text, timeframe, &mut rows)?;
    }
    rows.finish()
}

/// Keeps the good candles and the first refused rows.
struct RowCollector {
    file: PathBuf,
    candles: Vec<Candle>,
    refused: Vec<RowError>,
    refused_count: usize,
}

impl RowCollector {
    fn new(path: &Path) -> RowCollector {
        RowCollector {
            file: path.to_owned(),
            candles: Vec::new(),
            refused: Vec::new(),
            refused_count: 0,
        }
    }

    /// `row` names the row; it is only built for a refused one.
    fn push(
        &mut self,
        row: impl FnOnce() -> String,
        draft: Result<CandleDraft, DomainError>,
        timeframe: Timeframe,
    ) {
        match draft.and_then(|draft| Candle::new_checked(timeframe, &draft)) {
            Ok(candle) => self.candles.push(candle),
            Err(error) => self.refuse(row(), error),
        }
    }

    fn refuse(&mut self, row: String, error: DomainError) {
        self.refused_count += 1;
        if self.refused.len() < LISTED_ERRORS_MAX {
            let (field, message) = match error {
                DomainError::InvalidCandle { field, message } => (column_name(field), message),
                other => ("row", other.to_string()),
            };
            self.refused.push(RowError {
                file: self.file.clone(),
                row,
                field,
                message,
            });
        }
    }

    fn finish(self) -> Result<Vec<Candle>, ImportError> {
        if self.refused_count == 0 {
            return Ok(self.candles);
        }
        Err(ImportError::InvalidRows {
            invalid: self.refused_count,
            rows: self.refused,
        })
    }
}

fn column_name(field: CandleField) -> &'static str {
    match field {
        CandleField::OpenTime => "timestamp",
        CandleField::Open => "open",
        CandleField::High => "high",
        CandleField::Low => "low",
        CandleField::Close => "close",
        CandleField::Volume => "volume",
    }
}

fn format_error(rows: &RowCollector, message: String) -> ImportError {
    ImportError::Format {
        path: rows.file.clone(),
        message,
    }
}

fn read_csv(text: &str, timeframe: Timeframe, rows: &mut RowCollector) -> Result<(), ImportError> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let header = reader
        .headers()
        .map_err(|error| format_error(rows, error.to_string()))?
        .clone();
    let mut positions = [0_usize; 6];
    for (slot, column) in positions.iter_mut().zip(COLUMNS) {
        *slot = header
            .iter()
            .position(|name| name.eq_ignore_ascii_case(column))
            .ok_or_else(|| {
                format_error(
                    rows,
                    format!(
                        "the CSV header must name the columns {}; column {column:?} is missing",
                        COLUMNS.join(",")
                    ),
                )
            })?;
    }
    // One record reused for every row: no allocation per row.
    let mut record = csv::StringRecord::new();
    while reader
        .read_record(&mut record)
        .map_err(|error| format_error(rows, error.to_string()))?
    {
        let line = record.position().map_or(0, csv::Position::line);
        let cell = |index: usize| record.get(positions[index]).unwrap_or("");
        let draft = draft_from_cells([cell(0), cell(1), cell(2), cell(3), cell(4), cell(5)]);
        rows.push(|| format!("line {line}"), draft, timeframe);
    }
    Ok(())
}

fn draft_from_cells(cells: [&str; 6]) -> Result<CandleDraft, DomainError> {
    let open_time_ms =
        parse_open_time_ms(cells[0]).map_err(|message| DomainError::InvalidCandle {
            field: CandleField::OpenTime,
            message,
        })?;
    let number = |index: usize| CandleDraft::parse_number(CandleField::ALL[index], cells[index]);
    Ok(CandleDraft {
        open_time_ms,
        open: number(1)?,
        high: number(2)?,
        low: number(3)?,
        close: number(4)?,
        volume: number(5)?,
    })
}

fn read_json(text: &str, timeframe: Timeframe, rows: &mut RowCollector) -> Result<(), ImportError> {
    let table: Vec<Vec<serde_json::Value>> = serde_json::from_str(text).map_err(|error| {
        format_error(
            rows,
            format!("expected a JSON array of [t,o,h,l,c,v] arrays: {error}"),
        )
    })?;
    for (index, row) in table.iter().enumerate() {
        let draft = draft_from_json_row(row);
        rows.push(|| format!("row [{index}]"), draft, timeframe);
    }
    Ok(())
}

fn draft_from_json_row(row: &[serde_json::Value]) -> Result<CandleDraft, DomainError> {
    if row.len() < 6 {
        let message = format!(
            "a row needs at least 6 values [t,o,h,l,c,v], this one has {}",
            row.len()
        );
        return Err(DomainError::InvalidCandle {
            field: CandleField::ALL[row.len().min(5)],
            message,
        });
    }
    let mut cells: [String; 6] = Default::default();
    for (index, value) in row.iter().take(6).enumerate() {
        cells[index] = match value {
            // With serde_json's arbitrary_precision a number keeps its exact source text.
            serde_json::Value::Number(number) => number.to_string(),
            serde_json::Value::String(text) => text.clone(),
            other => {
                let field = CandleField::ALL[index];
                return Err(DomainError::InvalidCandle {
                    field,
                    message: format!("must be a number or a numeric string, got {other}"),
                });
            }
        };
    }
    let cell_refs = [
        cells[0].as_str(),
        &cells[1],
        &cells[2],
        &cells[3],
        &cells[4],
        &cells[5],
    ];
    draft_from_cells(cell_refs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn file_with(contents: &str, extension: &str) -> tempfile::NamedTempFile {
        let mut file = tempfile::Builder::new()
            .suffix(extension)
            .tempfile()
            .unwrap();
        file.write_all(contents.as_bytes()).unwrap();
        file
    }

    #[test]
    fn csv_with_ms_or_iso_times_reads_exactly() {
        let file = file_with(
            "timestamp,open,high,low,close,volume\n1509836520000,0.00162008,0.00162008,0.00162008,0.00162008,108.14853839\n2017-11-04T23:03:00Z,0.00161,0.00161,0.00161,0.00161,82.399\n",
            ".csv",
        );
        let candles = read_candle_file(file.path(), Timeframe::M1).unwrap();
        assert_eq!(candles.len(), 2);
        assert_eq!(candles[1].open_time_ms, 1_509_836_580_000);
        assert_eq!(candles[0].volume.to_string(), "108.14853839");
    }

    #[test]
    fn csv_columns_are_found_by_header_name() {
        let file = file_with(
            "volume,close,low,high,open,timestamp\n5,2,1,3,2,60000\n",
            ".csv",
        );
        let candles = read_candle_file(file.path(), Timeframe::M1).unwrap();
        assert_eq!(candles[0].high.to_string(), "3");
        let missing = file_with("time,open,high,low,close,volume\n", ".csv");
        let error = read_candle_file(missing.path(), Timeframe::M1).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("column \"timestamp\" is missing"),
            "{error}"
        );
    }

    #[test]
    fn every_refused_csv_row_names_its_line_and_field() {
        let file = file_with(
            "timestamp,open,high,low,close,volume\n60000,1,1,1,1,1\n120000,1,0.5,1,1,1\n180000,abc,1,1,1,1\n240001,1,1,1,1,1\n",
            ".csv",
        );
        match read_candle_file(file.path(), Timeframe::M1).unwrap_err() {
            ImportError::InvalidRows { invalid, rows } => {
                assert_eq!(invalid, 3);
                let located: Vec<(String, &str)> = rows
                    .iter()
                    .map(|row| (row.row.clone(), row.field))
                    .collect();
                assert_eq!(
                    located,
                    [
                        ("line 3".to_owned(), "high"),
                        ("line 4".to_owned(), "open"),
                        ("line 5".to_owned(), "timestamp")
                    ]
                );
            }
            other => panic!("expected invalid rows, got {other:?}"),
        }
    }

    #[test]
    fn binance_and_freqtrade_json_rows_read_exactly() {
        let binance = r#"[[1509836520000,"0.00162008","0.00162008","0.00162008","0.00162008","108.14853839",1509836579999,"0.17",3,"1","1","0"]]"#;
        let freqtrade =
            r#"[[1509836520000,0.00162008,0.00162008,0.00162008,0.00162008,108.14853839]]"#;
        for contents in [binance, freqtrade] {
            let file = file_with(contents, ".json");
            let candles = read_candle_file(file.path(), Timeframe::M1).unwrap();
            assert_eq!(candles[0].open.to_string(), "0.00162008");
            assert_eq!(candles[0].volume.to_string(), "108.14853839");
        }
    }

    #[test]
    fn short_or_mistyped_json_rows_are_named() {
        let file = file_with(r#"[[60000,1,1,1,1],[120000,1,1,1,true,1]]"#, ".json");
        match read_candle_file(file.path(), Timeframe::M1).unwrap_err() {
            ImportError::InvalidRows { rows, .. } => {
                assert_eq!((rows[0].row.as_str(), rows[0].field), ("row [0]", "volume"));
                assert_eq!((rows[1].row.as_str(), rows[1].field), ("row [1]", "close"));
            }
            other => panic!("expected invalid rows, got {other:?}"),
        }
        let broken = file_with("[[1,2", ".json");
        assert!(matches!(
            read_candle_file(broken.path(), Timeframe::M1),
            Err(ImportError::Format { .. })
        ));
    }
}
