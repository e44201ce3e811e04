//! Migrations that rewrite records (the index-building one lives with the indexes).

use super::{Result, SledStore, decode, encode};
use crate::domain::triage::Cause;
use crate::domain::{Event, EventKind};

impl SledStore {
    /// v2 -> v3: every `decided` event gets its typed cause, read from its words once;
    /// from then on reports count causes. Returns how many events were rewritten.
    pub(super) fn fill_causes(&self) -> Result<u64> {
        let mut batch = sled::Batch::default();
        let mut filled = 0;
        for kv in self.events.iter() {
            let (key, value) = kv?;
            let mut event: Event = decode("events", &value)?;
            if let EventKind::Decided { cause, reason, .. } = &mut event.kind
                && *cause == Cause::Unknown
            {
                *cause = Cause::from_words(reason);
                batch.insert(key, encode(&event));
                filled += 1;
            }
        }
        self.events.apply_batch(batch)?;
        Ok(filled)
    }
}
