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
        // A trusted proxy carries many clients on its connections: only the total caps
        // it (its clients' live streams are capped one by one, [`Slot`] per request).
        // (Counted under its own address, not its /64: its neighbours keep their cap.)
        let (address, per_address) = if trusts(&limits.trusted_proxies, peer.ip()) {
            (peer.ip().to_canonical(), usize::MAX)
        } else {
            (network(peer.ip()), limits.max_connections_per_address)
        };
        let Some(slot) = Slot::take(&open, address, per_address, limits.max_connections) else {
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

/// Open connections (or live streams), per address and in all.
#[derive(Default)]
pub struct Open(Mutex<(HashMap<IpAddr, usize>, usize)>);

/// One open connection (or live stream), counted until it is dropped.
pub struct Slot {
    open: Arc<Open>,
    address: IpAddr,
}

impl Slot {
    /// A slot for `address` if it holds fewer than `per_address` and all fewer than
    /// `total`.
    pub fn take(
        open: &Arc<Open>,
        address: IpAddr,
        per_address: usize,
        total: usize,
    ) -> Option<Slot> {
        let mut guard = open.0.lock().unwrap_or_else(|e| e.into_inner());
        let (counts, all) = &mut *guard;
        let mine = counts.entry(address).or_insert(0);
        if *mine >= per_address || *all >= total {
            if *mine == 0 {
                counts.remove(&address);
            }
            return None;
        }
        *mine += 1;
        *all += 1;
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

/// The client's address, as [`client_address`] finds it, an IPv6 one as its /64
/// network ([`network`]): what the limits per address count.
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
        Ok(ClientIp(network(client_address(
            *peer,
            &parts.headers,
            trusted,
        ))))
    }
}

/// The address a request counts against: the peer's, or behind a trusted proxy the
/// last address in `X-Forwarded-For` that is not itself a trusted proxy. An IPv4
/// address arriving on an IPv6 socket (`::ffff:a.b.c.d`) is the IPv4 one.
pub fn client_address(
    peer: SocketAddr,
    headers: &axum::http::HeaderMap,
    trusted: &[IpAddr],
) -> IpAddr {
    let peer = peer.ip().to_canonical();
    if !trusts(trusted, peer) {
        return peer;
    }
    let forwarded: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|a| a.trim().parse::<IpAddr>().ok())
        .map(|a| a.to_canonical())
        .collect();
    forwarded
        .into_iter()
        .rev()
        .find(|a| !trusts(trusted, *a))
        .unwrap_or(peer)
}

/// Whether `address` is one of the `trusted` proxies (IPv4-mapped forms compared as
/// IPv4: a proxy listed as `127.0.0.1` reaching a server bound to `[::]`).
fn trusts(trusted: &[IpAddr], address: IpAddr) -> bool {
    let address = address.to_canonical();
    trusted.iter().any(|t| t.to_canonical() == address)
}

/// What one client holds: an IPv4 address, or an IPv6 address's /64 network (a home
/// or a server is given a whole /64, so counting single IPv6 addresses would give one
/// client endless fresh ones).
pub fn network(address: IpAddr) -> IpAddr {
    match address.to_canonical() {
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(std::net::Ipv6Addr::from(bits))
        }
        v4 => v4,
    }
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
    fn a_proxy_on_an_ipv6_socket_is_still_trusted_and_its_clients_counted_as_ipv4() {
        let mapped: IpAddr = "::ffff:127.0.0.1".parse().unwrap();
        let peer = SocketAddr::new(mapped, 4000);
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", "::ffff:1.2.3.4".parse().unwrap());
        let trusted = ["127.0.0.1".parse().unwrap()];
        assert_eq!(
            client_address(peer, &headers, &trusted),
            "1.2.3.4".parse::<IpAddr>().unwrap()
        );
        // Untrusted, the mapped peer is its IPv4 address too.
        assert_eq!(
            client_address(peer, &headers, &[]),
            "127.0.0.1".parse::<IpAddr>().unwrap()
        );
    }

    #[test]
    fn ipv6_clients_are_counted_by_their_64_network() {
        let one: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let other: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        let elsewhere: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(network(one), network(other));
        assert_eq!(network(one), "2001:db8:1:2::".parse::<IpAddr>().unwrap());
        assert_ne!(network(one), network(elsewhere));
        let v4: IpAddr = "192.0.2.7".parse().unwrap();
        assert_eq!(network(v4), v4);
    }

    #[test]
    fn slots_are_capped_per_address_and_given_back() {
        let open = Arc::new(Open::default());
        let (a, b): (IpAddr, IpAddr) = ("127.0.0.1".parse().unwrap(), "127.0.0.2".parse().unwrap());
        let first = Slot::take(&open, a, 2, 3).unwrap();
        let _second = Slot::take(&open, a, 2, 3).unwrap();
        assert!(Slot::take(&open, a, 2, 3).is_none());
        let _third = Slot::take(&open, b, 2, 3).unwrap();
        assert!(Slot::take(&open, b, 2, 3).is_none(), "total cap");
        drop(first);
        assert!(Slot::take(&open, a, 2, 3).is_some());
    }
}
