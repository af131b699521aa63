//! TLS to the SMSC (rustls): server name, CA file, optional client certificate.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio_rustls::TlsConnector;

use crate::error::{Error, ErrorKind};

/// TLS settings for one SMSC account.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TlsConfig {
    /// Name checked against the SMSC's certificate; defaults to the host.
    pub server_name: Option<String>,
    /// PEM file with the CA certificates to trust (the carrier's private CA, usually).
    pub ca_file: Option<PathBuf>,
    /// PEM client certificate chain, for SMSCs that require mutual TLS.
    pub client_cert: Option<PathBuf>,
    /// PEM private key of the client certificate.
    pub client_key: Option<PathBuf>,
}

fn read_certs(path: &Path, what: &str) -> Result<Vec<CertificateDer<'static>>, Error> {
    let pem = std::fs::read(path)
        .map_err(|e| Error::config(format!("{what} {}: {e}", path.display())))?;
    let certs: Result<Vec<_>, _> = rustls_pemfile::certs(&mut &pem[..]).collect();
    let certs = certs.map_err(|e| Error::config(format!("{what} {}: {e}", path.display())))?;
    if certs.is_empty() {
        return Err(Error::config(format!("{what} {}: no PEM certificate in it", path.display())));
    }
    Ok(certs)
}

fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>, Error> {
    let pem = std::fs::read(path)
        .map_err(|e| Error::config(format!("tls.client_key {}: {e}", path.display())))?;
    rustls_pemfile::private_key(&mut &pem[..])
        .map_err(|e| Error::config(format!("tls.client_key {}: {e}", path.display())))?
        .ok_or_else(|| {
            Error::config(format!("tls.client_key {}: no PEM private key", path.display()))
        })
}

impl TlsConfig {
    /// Builds the connector and the name to verify for `host`.
    pub(crate) fn connector(
        &self,
        host: &str,
    ) -> Result<(TlsConnector, ServerName<'static>), Error> {
        let mut roots = rustls::RootCertStore::empty();
        let Some(ca) = &self.ca_file else {
            return Err(Error::config("tls.ca_file is required: carriers use private CAs"));
        };
        for cert in read_certs(ca, "tls.ca_file")? {
            roots
                .add(cert)
                .map_err(|e| Error::config(format!("tls.ca_file {}: {e}", ca.display())))?;
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::new(ErrorKind::Tls, e.to_string()))?
            .with_root_certificates(roots);
        let config = match (&self.client_cert, &self.client_key) {
            (Some(cert), Some(key)) => builder
                .with_client_auth_cert(read_certs(cert, "tls.client_cert")?, read_key(key)?)
                .map_err(|e| Error::config(format!("tls.client_cert: {e}")))?,
            (None, None) => builder.with_no_client_auth(),
            _ => return Err(Error::config("tls.client_cert and tls.client_key go together")),
        };
        let name = self.server_name.clone().unwrap_or_else(|| host.to_string());
        let name = ServerName::try_from(name.clone())
            .map_err(|_| Error::config(format!("tls.server_name {name:?} is not a valid name")))?;
        Ok((TlsConnector::from(Arc::new(config)), name))
    }
}
