//! The IMAP connection: TLS from the first byte (`imaps://`), or STARTTLS when the
//! server offers it (`imap://`), plain text only to a loopback host. Certificates are
//! checked against the Web PKI roots.

use crate::config::{MailServer, Security};
use anyhow::{Context, bail};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls;

/// A connection to the mail server, plain or TLS.
#[derive(Debug)]
pub enum Conn {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

pub type Session = async_imap::Session<Conn>;

/// Connect and log in; `tls` is the client's TLS setup ([`tls_config`]).
pub async fn login(
    server: &MailServer,
    password: &str,
    tls: &Arc<rustls::ClientConfig>,
) -> anyhow::Result<Session> {
    let addr = (server.host.as_str(), server.port);
    let tcp = tokio::time::timeout(std::time::Duration::from_secs(20), TcpStream::connect(addr))
        .await
        .with_context(|| format!("{}:{}: no answer in 20 s", server.host, server.port))?
        .with_context(|| format!("cannot connect to {}:{}", server.host, server.port))?;
    let client = match server.security {
        Security::Tls => {
            let stream = start_tls(tls, &server.host, tcp).await?;
            let mut client = async_imap::Client::new(Conn::Tls(Box::new(stream)));
            greeting(&mut client).await?;
            client
        }
        Security::StartTls => {
            let mut client = async_imap::Client::new(Conn::Plain(tcp));
            greeting(&mut client).await?;
            match client.run_command_and_check_ok("STARTTLS", None).await {
                Ok(()) => {
                    let Conn::Plain(tcp) = client.into_inner() else {
                        unreachable!("STARTTLS starts from plain text")
                    };
                    let stream = start_tls(tls, &server.host, tcp).await?;
                    async_imap::Client::new(Conn::Tls(Box::new(stream)))
                }
                Err(_) if server.loopback() => client,
                Err(e) => bail!(
                    "{} does not offer STARTTLS ({e}): the password would travel in clear\n  hint: use imaps:// (port 993)",
                    server.host
                ),
            }
        }
    };
    client
        .login(&server.user, password)
        .await
        .map_err(|(e, _)| e)
        .with_context(|| {
            format!(
                "IMAP login as {} refused\n  hint: check SPORTELLO_EMAIL_PASSWORD (Gmail and Office 365 want an app password)",
                server.user
            )
        })
}

async fn greeting(client: &mut async_imap::Client<Conn>) -> anyhow::Result<()> {
    client
        .read_response()
        .await
        .context("reading the IMAP greeting")?
        .context("the IMAP server closed the connection at once")?;
    Ok(())
}

/// The TLS client setup: the Web PKI roots, plus the PEM certificates of
/// `SPORTELLO_EMAIL_CA_FILE` if set.
pub fn tls_config(extra_pem: Option<&[u8]>) -> anyhow::Result<Arc<rustls::ClientConfig>> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let mut roots =
        rustls::RootCertStore::from_iter(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(pem) = extra_pem {
        let mut added = 0;
        for cert in CertificateDer::pem_slice_iter(pem) {
            roots
                .add(cert.context("SPORTELLO_EMAIL_CA_FILE: not a PEM certificate")?)
                .context("SPORTELLO_EMAIL_CA_FILE: a certificate rustls cannot use")?;
            added += 1;
        }
        if added == 0 {
            anyhow::bail!(
                "SPORTELLO_EMAIL_CA_FILE holds no certificate\n  hint: a PEM file (-----BEGIN CERTIFICATE-----)"
            );
        }
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_root_certificates(roots)
    .with_no_client_auth();
    Ok(Arc::new(config))
}

async fn start_tls(
    config: &Arc<rustls::ClientConfig>,
    host: &str,
    tcp: TcpStream,
) -> anyhow::Result<TlsStream<TcpStream>> {
    let name = rustls::pki_types::ServerName::try_from(host.to_owned())
        .with_context(|| format!("`{host}` is not a host name for TLS"))?;
    TlsConnector::from(config.clone())
        .connect(name, tcp)
        .await
        .with_context(|| format!("TLS with {host} failed"))
}

impl AsyncRead for Conn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_flush(cx),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}
