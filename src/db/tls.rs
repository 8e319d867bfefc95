//! PostgreSQL over TLS (rustls, as the rest of tidings), with `sslmode` as libpq reads it:
//!
//! - `disable`: plain TCP.
//! - `prefer` (the default): TLS if the server offers it, else plain; the certificate is not
//!   checked (an eavesdropper is kept out, not an impostor).
//! - `require`: TLS or nothing; the certificate is not checked, unless `sslrootcert` names
//!   an authority, when it must be signed by it (libpq's rule for a root file).
//! - `verify-ca`: TLS, the certificate signed by a known authority (Mozilla's roots, and the
//!   one in `sslrootcert=FILE` if given), whatever name it shows.
//! - `verify-full`: that, and the name must be the host's the URL names.
//!
//! tokio-postgres knows the first three only, so `sslmode` and `sslrootcert` are taken out of
//! the URL here and the rest is left to it. No channel binding is offered (SCRAM without
//! `-PLUS`, as libpq with `channel_binding=prefer` does when it has none).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use percent_encoding::percent_decode_str;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_postgres::config::SslMode;
use tokio_postgres::tls::{ChannelBinding, MakeTlsConnect, TlsConnect, TlsStream};
use tokio_rustls::rustls;
use tokio_rustls::rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use tokio_rustls::rustls::crypto::CryptoProvider;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use tokio_rustls::rustls::{CertificateError, DigitallySignedStruct, SignatureScheme};

use super::error::DbError;

/// What `sslmode` asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum SslPolicy {
    /// Plain TCP.
    Disable,
    /// TLS if offered, unchecked.
    Prefer,
    /// TLS, unchecked (or checked against `sslrootcert` when given).
    Require,
    /// TLS, signed by a known authority.
    VerifyCa,
    /// TLS, signed by a known authority, for the host's name.
    VerifyFull,
}

impl SslPolicy {
    fn parse(value: &str, description: &str) -> Result<SslPolicy, DbError> {
        Ok(match value {
            "disable" => SslPolicy::Disable,
            "prefer" => SslPolicy::Prefer,
            "require" => SslPolicy::Require,
            "verify-ca" => SslPolicy::VerifyCa,
            "verify-full" => SslPolicy::VerifyFull,
            other => {
                return Err(DbError::Tls(format!(
                    "{description}: sslmode={other} is not one tidings knows: use disable, prefer, require, \
                     verify-ca or verify-full"
                )));
            }
        })
    }
}

/// Where to connect and how: tokio-postgres's configuration and the TLS to use.
pub(super) struct Target {
    /// The URL without `sslmode` and `sslrootcert`, and the `sslmode` tokio-postgres acts on.
    pub(super) config: tokio_postgres::Config,
    /// The TLS connector `sslmode` and `sslrootcert` ask for.
    pub(super) tls: MakeRustls,
}

impl Target {
    /// Reads a `postgres://` URL.
    pub(super) fn parse(spec: &str, description: &str) -> Result<Target, DbError> {
        let (base, query) = spec.split_once('?').unwrap_or((spec, ""));
        let (mut policy, mut root_file) = (SslPolicy::Prefer, None);
        let mut kept = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let value = percent_decode_str(value).decode_utf8_lossy();
            match key {
                "sslmode" => policy = SslPolicy::parse(&value, description)?,
                "sslrootcert" => root_file = Some(std::path::PathBuf::from(value.as_ref())),
                _ => kept.push(pair),
            }
        }
        let rest = if kept.is_empty() { base.to_owned() } else { format!("{base}?{}", kept.join("&")) };
        let mut config: tokio_postgres::Config =
            rest.parse().map_err(|e| DbError::Other(format!("{description}: not a PostgreSQL URL: {e}")))?;
        config.ssl_mode(match policy {
            SslPolicy::Disable => SslMode::Disable,
            SslPolicy::Prefer => SslMode::Prefer,
            SslPolicy::Require | SslPolicy::VerifyCa | SslPolicy::VerifyFull => SslMode::Require,
        });
        let extra = match &root_file {
            Some(path) => Some(read_roots(path, description)?),
            None => None,
        };
        let tls = MakeRustls::new(policy, extra, description)?;
        Ok(Target { config, tls })
    }
}

/// The certificates in a PEM file.
fn read_roots(path: &std::path::Path, description: &str) -> Result<Vec<CertificateDer<'static>>, DbError> {
    let unreadable = |e: &dyn std::fmt::Display| {
        DbError::Tls(format!("{description}: sslrootcert={}: cannot read a PEM certificate there: {e}", path.display()))
    };
    let certificates = CertificateDer::pem_file_iter(path)
        .map_err(|e| unreadable(&e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| unreadable(&e))?;
    if certificates.is_empty() {
        return Err(unreadable(&"the file has no certificate"));
    }
    Ok(certificates)
}

/// tokio-postgres's TLS connector over rustls.
#[derive(Clone)]
pub(super) struct MakeRustls {
    config: Arc<rustls::ClientConfig>,
    /// Whether the host's name is checked (then it must be a valid one).
    checks_name: bool,
}

impl MakeRustls {
    fn new(
        policy: SslPolicy,
        extra: Option<Vec<CertificateDer<'static>>>,
        description: &str,
    ) -> Result<MakeRustls, DbError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let checked = matches!(
            (policy, &extra),
            (SslPolicy::VerifyCa | SslPolicy::VerifyFull, _) | (SslPolicy::Require, Some(_))
        );
        let verifier: Arc<dyn ServerCertVerifier> = if checked {
            let mut roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
            for certificate in extra.unwrap_or_default() {
                roots.add(certificate).map_err(|e| {
                    DbError::Tls(format!("{description}: sslrootcert: the certificate cannot be a root: {e}"))
                })?;
            }
            let webpki = rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                .build()
                .map_err(|e| DbError::Tls(format!("{description}: TLS: {e}")))?;
            if policy == SslPolicy::VerifyFull { webpki } else { Arc::new(AnyName(webpki)) }
        } else {
            Arc::new(Unchecked(provider.clone()))
        };
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| DbError::Tls(format!("{description}: TLS: {e}")))?
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth();
        Ok(MakeRustls { config: Arc::new(config), checks_name: policy == SslPolicy::VerifyFull })
    }
}

impl<S> MakeTlsConnect<S> for MakeRustls
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = RustlsStream<S>;
    type TlsConnect = RustlsConnect;
    type Error = io::Error;

    fn make_tls_connect(&mut self, domain: &str) -> Result<RustlsConnect, io::Error> {
        let name = match ServerName::try_from(domain.to_owned()) {
            Ok(name) => name,
            Err(e) if self.checks_name => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("sslmode=verify-full: {domain} is not a name a certificate can show ({e})"),
                ));
            }
            // Not checked: any name will do for the handshake (rustls sends no IP as SNI).
            Err(_) => ServerName::IpAddress(std::net::Ipv4Addr::LOCALHOST.into()),
        };
        Ok(RustlsConnect { connector: tokio_rustls::TlsConnector::from(self.config.clone()), name })
    }
}

/// One handshake, to the host `name`.
pub(super) struct RustlsConnect {
    connector: tokio_rustls::TlsConnector,
    name: ServerName<'static>,
}

impl<S> TlsConnect<S> for RustlsConnect
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = RustlsStream<S>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<RustlsStream<S>>> + Send>>;

    fn connect(self, stream: S) -> Self::Future {
        Box::pin(async move { self.connector.connect(self.name, stream).await.map(RustlsStream) })
    }
}

/// A TLS session to PostgreSQL.
pub(super) struct RustlsStream<S>(tokio_rustls::client::TlsStream<S>);

impl<S: AsyncRead + AsyncWrite + Unpin> TlsStream for RustlsStream<S> {
    fn channel_binding(&self) -> ChannelBinding {
        ChannelBinding::none()
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for RustlsStream<S> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for RustlsStream<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

/// `prefer` and `require` without a root file: any certificate, but the handshake's
/// signatures are still checked against it (so the session is with whoever holds its key).
#[derive(Debug)]
struct Unchecked(Arc<CryptoProvider>);

impl ServerCertVerifier for Unchecked {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// `verify-ca`: the chain to a known authority is checked, the name it shows is not (rustls
/// checks the chain first, so a name mismatch means the chain was good).
#[derive(Debug)]
struct AnyName(Arc<rustls::client::WebPkiServerVerifier>);

impl ServerCertVerifier for AnyName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self.0.verify_server_cert(end_entity, intermediates, server_name, ocsp, now) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sslmode_and_sslrootcert_are_read_here_and_the_rest_left_to_tokio_postgres() {
        let target = Target::parse("postgres://u@h:5433/db?sslmode=verify-full&application_name=t", "d").unwrap();
        assert!(target.tls.checks_name);
        assert_eq!(target.config.get_ssl_mode(), SslMode::Require);
        assert_eq!(target.config.get_application_name(), Some("t"));
        let plain = Target::parse("postgres://u@h/db?sslmode=disable", "d").unwrap();
        assert_eq!(plain.config.get_ssl_mode(), SslMode::Disable);
        let default = Target::parse("postgres://u@h/db", "d").unwrap();
        assert_eq!(default.config.get_ssl_mode(), SslMode::Prefer);
        assert!(!default.tls.checks_name);
        let Err(DbError::Tls(message)) = Target::parse("postgres://u@h/db?sslmode=allow", "d") else { panic!() };
        assert!(message.contains("sslmode=allow"), "{message}");
        let Err(DbError::Tls(message)) = Target::parse("postgres://u@h/db?sslmode=verify-ca&sslrootcert=%2Fnone", "d")
        else {
            panic!()
        };
        assert!(message.contains("sslrootcert=/none"), "{message}");
    }
}
