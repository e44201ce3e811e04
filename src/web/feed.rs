//! Live updates as Server-Sent Events: each stream follows the service's change feed,
//! keeps what concerns its watcher and sends `event: changed` (the page then fetches
//! what is new) or `event: typing` (someone is typing: shown, never stored). A watcher
//! that falls behind, or whose instance's listener missed other instances' changes,
//! gets one bare `changed` (reload all). The stream ends when the server stops, so that a graceful stop does not wait on it.

use super::App;
use super::server::Slot;
use crate::service::Change;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use serde_json::Value;
use std::convert::Infallible;
use tokio::sync::broadcast::error::RecvError;

/// What a stream does with a change.
pub enum Keep {
    /// Sends it, as this data.
    Send(Value),
    /// Not the watcher's.
    Skip,
    /// The watcher may watch no more (its account removed, its session ended): the
    /// stream ends, and a new one is refused.
    End,
}

/// The live stream of the changes `keep` picks; `slot` counts it against its client
/// until it ends.
pub fn stream<F>(
    app: &App,
    slot: Slot,
    keep: F,
) -> Sse<impl Stream<Item = Result<Event, Infallible>> + use<F>>
where
    F: Fn(&Change) -> Keep + Send + 'static,
{
    let feeds = (app.service.subscribe(), app.service.missed());
    let state = ((feeds, slot), app.stop.clone(), keep, true);
    let events = futures_util::stream::unfold(
        state,
        |(((mut feed, mut missed), slot), mut stop, keep, first)| async move {
            if first {
                // Tell the page the stream is live, so it fetches what it missed.
                let hello = Event::default().event("changed").data("{}");
                return Some((Ok(hello), (((feed, missed), slot), stop, keep, false)));
            }
            loop {
                if *stop.borrow() {
                    return None;
                }
                let data = tokio::select! {
                    received = feed.recv() => match received {
                        Ok(change) => match keep(&change) {
                            Keep::Send(data) => data,
                            Keep::Skip => continue,
                            Keep::End => return None,
                        },
                        Err(RecvError::Lagged(_)) => Value::Object(Default::default()),
                        Err(RecvError::Closed) => return None,
                    },
                    gap = missed.changed() => match gap {
                        Ok(()) => Value::Object(Default::default()),
                        Err(_) => return None,
                    },
                    changed = stop.changed() => {
                        if changed.is_err() {
                            return None;
                        }
                        continue;
                    }
                };
                let name = if data.get("typing").is_some() {
                    "typing"
                } else {
                    "changed"
                };
                let event = Event::default().event(name).data(data.to_string());
                return Some((Ok(event), (((feed, missed), slot), stop, keep, false)));
            }
        },
    );
    Sse::new(events).keep_alive(KeepAlive::default())
}
