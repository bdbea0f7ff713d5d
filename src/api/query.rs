//! Query-string parameters, checked one by one with a field-level error for each: unknown
//! names are refused, so a typo never silently widens a filter.

use super::error::ApiError;
use cryptolens_actors::domain::market::{Symbol, Timeframe};
use cryptolens_actors::domain::DomainError;
use serde::de::DeserializeOwned;
use std::collections::HashMap;

pub struct QueryParams<'a> {
    params: &'a HashMap<String, String>,
}

impl<'a> QueryParams<'a> {
    /// Refuses any parameter not in `allowed`.
    pub fn new(
        params: &'a HashMap<String, String>,
        allowed: &[&str],
    ) -> Result<QueryParams<'a>, ApiError> {
        if let Some(unknown) = params.keys().find(|key| !allowed.contains(&key.as_str())) {
            return Err(ApiError::invalid_field(
                unknown.clone(),
                format!(
                    "unknown query parameter {unknown:?}; accepted: {}",
                    allowed.join(", ")
                ),
            ));
        }
        Ok(QueryParams { params })
    }

    pub fn symbol(&self) -> Result<Option<Symbol>, ApiError> {
        self.params
            .get("symbol")
            .map(|text| Symbol::parse(text))
            .transpose()
            .map_err(|error| ApiError::invalid_field("symbol", error.to_string()))
    }

    pub fn timeframe(&self) -> Result<Option<Timeframe>, ApiError> {
        self.params
            .get("timeframe")
            .map(|text| text.parse())
            .transpose()
            .map_err(|error: DomainError| ApiError::invalid_field("timeframe", error.to_string()))
    }

    /// A value named as the API prints it (`fair_value_gap`, `active`, ...): `T`'s serde names.
    pub fn named<T: DeserializeOwned>(
        &self,
        name: &str,
        choices: &str,
    ) -> Result<Option<T>, ApiError> {
        let Some(text) = self.params.get(name) else {
            return Ok(None);
        };
        serde_json::from_value(serde_json::Value::String(text.clone()))
            .map(Some)
            .map_err(|_| {
                ApiError::invalid_field(
                    name,
                    format!("{name} must be one of {choices}, got {text:?}"),
                )
            })
    }

    /// An integer in `range`, or `default` when absent.
    pub fn integer(
        &self,
        name: &str,
        range: std::ops::RangeInclusive<usize>,
        default: usize,
    ) -> Result<usize, ApiError> {
        match self.params.get(name) {
            None => Ok(default),
            Some(text) => match text.parse::<usize>() {
                Ok(value) if range.contains(&value) => Ok(value),
                _ => Err(ApiError::invalid_field(
                    name,
                    format!(
                        "{name} must be an integer from {} to {}, got {text:?}",
                        range.start(),
                        range.end()
                    ),
                )),
            },
        }
    }
}
