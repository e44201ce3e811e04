//! Files in the web chat: a customer sends a photo or a PDF (`POST /chat/attachments`,
//! multipart field `file`, at most 10 MB); it is stored with a typed reference message
//! in the transcript, and operators open it (`GET /attachments/{id}`, signed in only).
//! The type comes from the file's first bytes, from an allow-list, never from its name
//! or the browser's say-so.

use super::auth::Authed;
use super::server::ClientIp;
use super::{ApiError, App, blocking};
use crate::domain::{Attachment, AttachmentKind, Inbound};
use crate::store::AttachmentMeta;
use axum::Json;
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The largest file a customer may send.
pub const MAX_ATTACHMENT: usize = 10 * 1024 * 1024;
/// Files one visitor may send per [`WINDOW`].
const PER_VISITOR: usize = 5;
/// Files per client address in [`WINDOW`], whatever the visitors.
const PER_ADDRESS: usize = 20;
const WINDOW: Duration = Duration::from_secs(60);

/// The file's type by its first bytes: images (JPEG, PNG, GIF, WebP) and PDF.
pub fn sniff(bytes: &[u8]) -> Option<(&'static str, AttachmentKind)> {
    let image = |t| Some((t, AttachmentKind::Photo));
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        image("image/png")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        image("image/jpeg")
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        image("image/gif")
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        image("image/webp")
    } else if bytes.starts_with(b"%PDF-") {
        Some(("application/pdf", AttachmentKind::Document))
    } else {
        None
    }
}

/// A file name safe to show and to put in a header: letters, digits, `._- `, at most
/// 80 characters.
fn clean_name(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or(raw);
    let clean: String = base
        .chars()
        .filter(|c| c.is_alphanumeric() || "._- ".contains(*c))
        .take(80)
        .collect();
    if clean.trim().is_empty() {
        "file".into()
    } else {
        clean.trim().to_owned()
    }
}

/// `POST /chat/attachments`: `{"id"}` once the file and its message are stored.
pub async fn upload(
    State(app): State<Arc<App>>,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    mut multipart: Multipart,
) -> Result<Json<Value>, ApiError> {
    let customer = super::chat::visitor(&app, &headers)?;
    // Per address too: a visitor token costs nothing, so new ones would upload anew.
    let (mine, address) = (format!("file:{customer}"), format!("file-ip:{client}"));
    app.minute_limits
        .allow(
            &[(&mine, PER_VISITOR), (&address, PER_ADDRESS)],
            WINDOW,
            Instant::now(),
        )
        .map_err(|wait| {
            ApiError::too_many(
                wait,
                format!("too many files at once: wait {}", ApiError::seconds(wait)),
            )
        })?;
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "the file is larger than 10 MB: send a smaller one",
        )
        .with_code("file_too_large")
    };
    let mut file = None;
    while let Some(mut field) = multipart.next_field().await.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            too_large()
        } else {
            ApiError::bad_request(format!("not a multipart upload: {e}"))
        }
    })? {
        if field.name() != Some("file") {
            continue;
        }
        let name = clean_name(field.file_name().unwrap_or("file"));
        let mut bytes = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(|_| too_large())? {
            bytes.extend_from_slice(&chunk);
            if bytes.len() > MAX_ATTACHMENT {
                return Err(too_large());
            }
        }
        file = Some((name, bytes));
    }
    let (filename, bytes) =
        file.ok_or_else(|| ApiError::bad_request("send the file in a form field named `file`"))?;
    let (content_type, kind) = sniff(&bytes).ok_or_else(|| {
        ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "only photos (JPEG, PNG, GIF, WebP) and PDF files can be sent",
        )
        .with_code("file_type")
    })?;
    let id = crate::accounts::new_secret()[..32].to_owned();
    let meta = AttachmentMeta {
        id: id.clone(),
        customer: customer.clone(),
        filename: filename.clone(),
        content_type: content_type.to_owned(),
        size: bytes.len(),
        at: Utc::now(),
    };
    let attachment = Attachment {
        kind,
        reference: id.clone(),
        caption: Some(filename),
    };
    let inbound = Inbound {
        customer,
        message_id: format!("att-{id}"),
        text: attachment.reference_text(),
        at: meta.at,
        sent_at: None,
        locale: None,
        name: None,
        attachment: Some(attachment),
        original: None,
    };
    let service = app.service.clone();
    blocking(move || {
        service.store().put_attachment(&meta, &bytes)?;
        service.handle_inbound(&inbound)?;
        Ok(())
    })
    .await?;
    Ok(Json(json!({"id": id})))
}

/// `GET /attachments/{id}`: the file, for signed-in operators. Images open in the
/// browser, PDFs download; a sandbox policy keeps anything in them inert.
pub async fn fetch(
    State(app): State<Arc<App>>,
    _authed: Authed,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let store = app.service.store().clone();
    let found = blocking(move || Ok(store.attachment(&id)?)).await?;
    let (meta, bytes) = found.ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "no such file (erased, or never sent)",
        )
        .with_code("not_found")
    })?;
    // Re-checked on the way out: only an allow-listed type is ever served.
    let content_type = sniff(&bytes).map_or("application/octet-stream", |(t, _)| t);
    let disposition = if content_type.starts_with("image/") {
        "inline"
    } else {
        "attachment"
    };
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    let value = |v: String| HeaderValue::from_str(&v).unwrap_or(HeaderValue::from_static("file"));
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CONTENT_DISPOSITION,
        value(format!("{disposition}; filename=\"{}\"", meta.filename)),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox; default-src 'none'"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    Ok(response)
}
