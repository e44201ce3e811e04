//! Files customers send in the web chat (photos, PDFs): the bytes under the customer's
//! key, so that `forget` removes them with the rest, and a small record by id, so that
//! an operator's link finds them.

use super::{AttachmentMeta, Result, SledStore, customer_key, customer_prefix, decode, encode};
use crate::domain::CustomerId;

impl SledStore {
    pub fn put_attachment(&self, meta: &AttachmentMeta, bytes: &[u8]) -> Result<()> {
        self.attachment_data
            .insert(customer_key(&meta.customer, meta.id.as_bytes()), bytes)?;
        self.attachment_meta
            .insert(meta.id.as_bytes(), encode(meta))?;
        self.flush()
    }

    /// The file with this id and its bytes.
    pub fn attachment(&self, id: &str) -> Result<Option<(AttachmentMeta, Vec<u8>)>> {
        let Some(raw) = self.attachment_meta.get(id.as_bytes())? else {
            return Ok(None);
        };
        let meta: AttachmentMeta = decode("attachment_meta", &raw)?;
        let bytes = self
            .attachment_data
            .get(customer_key(&meta.customer, meta.id.as_bytes()))?;
        Ok(bytes.map(|b| (meta, b.to_vec())))
    }

    /// Remove every file of `customer`; how many.
    pub(super) fn remove_attachments(&self, customer: &CustomerId) -> Result<usize> {
        let prefix = customer_prefix(customer);
        let keys: Vec<sled::IVec> = self
            .attachment_data
            .scan_prefix(&prefix)
            .keys()
            .collect::<std::result::Result<_, _>>()?;
        for key in &keys {
            self.attachment_meta.remove(&key[prefix.len()..])?;
            self.attachment_data.remove(key)?;
        }
        Ok(keys.len())
    }
}
