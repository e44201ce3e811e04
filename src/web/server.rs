//! The HTTP listener of `sportello serve`: hyper's HTTP/1 with a deadline for every
//! request head (also between requests on a kept-alive connection) and caps on open
//! connections, per client address and in all, so that a few thousand slow or idle
//! connections cannot take the server down. A refused connection gets a one-line 503
//! and is closed at once. On stop it accepts nothing more and lets requests in flight
//! finish (live streams end by themselves when [`super::App::stop`] flips).

use crate::config::WebSettings;
use axum::Extension;
use axum::Router;
use axum::extract::ConnectInfo;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;

/// How long a stop waits for requests in flight.
const DRAIN: Duration = Duration::from_secs(10);

/// Connections refused by the caps since start (`/metrics`).
static REFUSED_COUNT: AtomicU64 = AtomicU64::new(0);

pub fn refused_connections() -> u64 {
    REFUSED_COUNT.load(Ordering::Relaxed)
}

const REFUSED: &[u8] =
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

/// Connections the kernel may hold for us before `accept` (std's default is 128: a
/// burst of a few hundred clients overflowed it and some were reset).
const BACKLOG: u32 = 4096;

/// Listen on `addr` (`host:port`; port 0 picks a free one) with a deep accept queue.
pub async fn listen(addr: &str) -> std::io::Result<TcpListener> {
    let mut last = std::io::Error::new(std::io::ErrorKind::NotFound, "no address");
    for candidate in tokio::net::lookup_host(addr).await? {
        let socket = match candidate {
            SocketAddr::V4(_) => tokio::net::TcpSocket::new_v4()?,
            SocketAddr::V6(_) => tokio::net::TcpSocket::new_v6()?,
        };
        socket.set_reuseaddr(true)?;
        match socket.bind(candidate).and_then(|()| socket.listen(BACKLOG)) {
            Ok(listener) => return Ok(listener),
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// Serve `router` on `listener` until `stop` completes.
pub async fn run(
    listener: TcpListener,
    router: Router,
    limits: &WebSettings,
    stop: impl Future<Output = ()>,
) {
    let open = Arc::new(Open::default());
    let graceful = GracefulShutdown::new();
    let header_timeout = limits
        .header_timeout
        .to_std()
        .unwrap_or(Duration::from_secs(10));
    tokio::pin!(stop);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors, most often: wait for some to close.
                    tracing::warn!("accepting a connection: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        let Some(slot) = Slot::take(&open, peer.ip(), limits) else {
            REFUSED_COUNT.fetch_add(1, Ordering::Relaxed);
            let _ = stream.try_write(REFUSED);
            continue;
        };
        let service = TowerToHyperService::new(router.clone().layer(Extension(ConnectInfo(peer))));
        let conn = http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(header_timeout)
            .serve_connection(TokioIo::new(stream), service);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            let _slot = slot;
            if let Err(e) = conn.await {
                tracing::debug!("connection from {peer}: {e}");
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(DRAIN, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("some requests were still running after {DRAIN:?}; stopping anyway");
    }
}

/// Open connections, per address and in all.
#[derive(Default)]
struct Open(Mutex<(HashMap<IpAddr, usize>, usize)>);

/// One open connection, counted until it is dropped.
struct Slot {
    open: Arc<Open>,
    address: IpAddr,
}

impl Slot {
    fn take(open: &Arc<Open>, address: IpAddr, limits: &WebSettings) -> Option<Slot> {
        let mut guard = open.0.lock().unwrap_or_else(|e| e.into_inner());
        let (per_address, total) = &mut *guard;
        let mine = per_address.entry(address).or_insert(0);
        if *mine >= limits.max_connections_per_address || *total >= limits.max_connections {
            if *mine == 0 {
                per_address.remove(&address);
            }
            return None;
        }
        *mine += 1;
        *total += 1;
        Some(Slot {
            open: open.clone(),
            address,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut guard = self.open.0.lock().unwrap_or_else(|e| e.into_inner());
        let (per_address, total) = &mut *guard;
        *total -= 1;
        if let Some(n) = per_address.get_mut(&self.address) {
            *n -= 1;
            if *n == 0 {
                per_address.remove(&self.address);
            }
        }
    }
}

/// The client's address, as [`client_address`] finds it.
pub struct ClientIp(pub IpAddr);

impl axum::extract::FromRequestParts<Arc<super::App>> for ClientIp {
    type Rejection = super::ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        app: &Arc<super::App>,
    ) -> Result<Self, super::ApiError> {
        let Some(ConnectInfo(peer)) = parts.extensions.get::<ConnectInfo<SocketAddr>>() else {
            return Err(super::ApiError::internal(&"no peer address on the request"));
        };
        let trusted = &app.service.config().web.trusted_proxies;
        Ok(ClientIp(client_address(*peer, &parts.headers, trusted)))
    }
}

/// The address a request counts against: the peer's, or behind a trusted proxy the
/// last address in `X-Forwarded-For` that is not itself a trusted proxy.
pub fn client_address(
    peer: SocketAddr,
    headers: &axum::http::HeaderMap,
    trusted: &[IpAddr],
) -> IpAddr {
    if !trusted.contains(&peer.ip()) {
        return peer.ip();
    }
    let forwarded: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|a| a.trim().parse().ok())
        .collect();
    forwarded
        .into_iter()
        .rev()
        .find(|a| !trusted.contains(a))
        .unwrap_or(peer.ip())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderMap;

    #[test]
    fn only_a_trusted_proxy_says_who_the_client_is() {
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        let peer = SocketAddr::new(proxy, 4000);
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            "1.2.3.4, 5.6.7.8, 10.0.0.1".parse().unwrap(),
        );
        // Untrusted: the header is the client's own word, ignored.
        assert_eq!(client_address(peer, &headers, &[]), proxy);
        // Trusted: the rightmost address the proxy did not add itself.
        let trusted = [proxy];
        assert_eq!(
            client_address(peer, &headers, &trusted),
            "5.6.7.8".parse::<IpAddr>().unwrap()
        );
        assert_eq!(client_address(peer, &HeaderMap::new(), &trusted), proxy);
    }

    #[test]
    fn slots_are_capped_per_address_and_given_back() {
        let open = Arc::new(Open::default());
        let limits = WebSettings {
            max_connections_per_address: 2,
            max_connections: 3,
            ..WebSettings::default()
        };
        let (a, b): (IpAddr, IpAddr) = ("127.0.0.1".parse().unwrap(), "127.0.0.2".parse().unwrap());
        let first = Slot::take(&open, a, &limits).unwrap();
        let _second = Slot::take(&open, a, &limits).unwrap();
        assert!(Slot::take(&open, a, &limits).is_none());
        let _third = Slot::take(&open, b, &limits).unwrap();
        assert!(Slot::take(&open, b, &limits).is_none(), "total cap");
        drop(first);
        assert!(Slot::take(&open, a, &limits).is_some());
    }
}
