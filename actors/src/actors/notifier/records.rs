//! Channels and deliveries in the store: one enveloped record each, flushed before the
//! notifier acts on it (a delivery is "accepted" once it is on disk).

use crate::domain::notify::{Alert, Channel, Delivery};
use crate::store::{decode, encode, RecordTree, Store, StoreError};

/// A channel's or an alert's key: its id, zero-padded so keys sort as ids.
fn record_key(id: u64) -> String {
    format!("{id:020}")
}

fn encoded<T: serde::Serialize + serde::de::DeserializeOwned + PartialEq>(
    key: &str,
    value: &T,
) -> Result<Vec<u8>, StoreError> {
    encode(value).map_err(|source| StoreError::Encode {
        key: key.to_owned(),
        source,
    })
}

/// Every channel and delivery that decodes; a damaged record is skipped with a warning
/// (`cryptolens store check` names it).
pub(super) fn load(store: &Store) -> Result<Stored, StoreError> {
    Ok(Stored {
        channels: decoded(store, RecordTree::NotifyChannels)?,
        deliveries: decoded(store, RecordTree::NotifyDeliveries)?,
        alerts: decoded(store, RecordTree::NotifyAlerts)?,
    })
}

/// Everything the notifier keeps in the store.
pub(super) struct Stored {
    pub channels: Vec<Channel>,
    pub deliveries: Vec<Delivery>,
    pub alerts: Vec<Alert>,
}

fn decoded<T: serde::de::DeserializeOwned>(
    store: &Store,
    tree: RecordTree,
) -> Result<Vec<T>, StoreError> {
    Ok(store
        .records(tree)?
        .into_iter()
        .filter_map(|(key, bytes)| match decode(&bytes) {
            Ok(value) => Some(value),
            Err(error) => {
                tracing::warn!(?tree, %key, %error, "a notification record does not decode; skipped");
                None
            }
        })
        .collect())
}

pub(super) fn save_channel(store: &Store, channel: &Channel) -> Result<(), StoreError> {
    let key = record_key(channel.id);
    store.put_record(RecordTree::NotifyChannels, &key, encoded(&key, channel)?)
}

pub(super) fn remove_channel(
    store: &Store,
    id: u64,
    deliveries: &[String],
) -> Result<(), StoreError> {
    store.remove_records(RecordTree::NotifyDeliveries, deliveries)?;
    store.remove_records(RecordTree::NotifyChannels, &[record_key(id)])
}

pub(super) fn save_alert(store: &Store, alert: &Alert) -> Result<(), StoreError> {
    let key = record_key(alert.id);
    store.put_record(RecordTree::NotifyAlerts, &key, encoded(&key, alert)?)
}

pub(super) fn remove_alert(store: &Store, id: u64) -> Result<(), StoreError> {
    store.remove_records(RecordTree::NotifyAlerts, &[record_key(id)])
}

pub(super) fn save_deliveries(store: &Store, deliveries: &[Delivery]) -> Result<(), StoreError> {
    let records = deliveries
        .iter()
        .map(|delivery| Ok((delivery.id.clone(), encoded(&delivery.id, delivery)?)))
        .collect::<Result<Vec<_>, StoreError>>()?;
    store.put_records(RecordTree::NotifyDeliveries, records)
}

pub(super) fn remove_deliveries(store: &Store, ids: &[String]) -> Result<(), StoreError> {
    if ids.is_empty() {
        return Ok(());
    }
    store.remove_records(RecordTree::NotifyDeliveries, ids)
}
