//! [`TlsConfig`]: a server's certificate chain and private key.

use std::fmt;
use std::io;
use std::path::Path;
use std::sync::Arc;

use rustls_pki_types::pem::{self, PemObject};
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

/// What a TLS server presents: its certificate chain and private key, as a
/// shared rustls `ServerConfig`.
///
/// Cheap to clone (an `Arc`); two are equal when they share one rustls
/// configuration.
///
/// # Examples
///
/// ```no_run
/// use threadkit::tls::TlsConfig;
///
/// # fn main() -> std::io::Result<()> {
/// let tls = TlsConfig::from_pem_files("cert.pem", "key.pem")?;
/// assert!(tls.rustls_config().alpn_protocols.is_empty());
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct TlsConfig {
    config: Arc<rustls::ServerConfig>,
}

impl TlsConfig {
    /// Reads a PEM certificate chain (the server's certificate first) from
    /// `cert` and a PEM private key (PKCS#8, PKCS#1 or SEC1) from `key`.
    ///
    /// The certificate must be an end-entity one for the name clients use:
    /// rustls clients refuse a CA certificate served as the server's own
    /// (`CaUsedAsEndEntity`). The README shows an `openssl` command that makes
    /// a self-signed one they accept.
    ///
    /// # Errors
    ///
    /// Every error names the file and what is wrong with it: it does not
    /// exist (`NotFound`), cannot be read (`PermissionDenied` or the system's
    /// error), holds no PEM certificate or no PEM private key, is not valid
    /// PEM (`InvalidData`); or the key does not fit the certificate
    /// (`InvalidInput`, naming both).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::ErrorKind;
    /// use threadkit::tls::TlsConfig;
    ///
    /// let err = TlsConfig::from_pem_files("/nonexistent/cert.pem", "/nonexistent/key.pem")
    ///     .unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::NotFound);
    /// assert!(err.to_string().contains("/nonexistent/cert.pem"));
    /// ```
    pub fn from_pem_files(cert: impl AsRef<Path>, key: impl AsRef<Path>) -> io::Result<TlsConfig> {
        let (cert, key) = (cert.as_ref(), key.as_ref());
        let chain = read_certificates(cert)?;
        let key_der = read_key(key)?;
        let config = rustls::ServerConfig::builder_with_provider(super::session::provider())
            .with_safe_default_protocol_versions()
            .map_err(io::Error::other)?
            .with_no_client_auth()
            .with_single_cert(chain, key_der)
            .map_err(|e| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!(
                        "the key in {} does not fit the certificate in {}: {e}",
                        key.display(),
                        cert.display()
                    ),
                )
            })?;
        Ok(TlsConfig::from_rustls(Arc::new(config)))
    }

    /// Uses a rustls configuration of your own (client certificates, ALPN,
    /// another crypto provider, session resumption settings).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use threadkit::tls::TlsConfig;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()])?;
    /// # let (cert_der, key_der) = (cert.cert.der().clone(),
    /// #     rustls::pki_types::PrivateKeyDer::Pkcs8(cert.key_pair.serialize_der().into()));
    /// let provider = Arc::new(rustls::crypto::ring::default_provider());
    /// let config = rustls::ServerConfig::builder_with_provider(provider)
    ///     .with_safe_default_protocol_versions()?
    ///     .with_no_client_auth()
    ///     .with_single_cert(vec![cert_der], key_der)?;
    /// let tls = TlsConfig::from_rustls(Arc::new(config));
    /// assert_eq!(tls.clone(), tls);
    /// # Ok(())
    /// # }
    /// ```
    pub fn from_rustls(config: Arc<rustls::ServerConfig>) -> TlsConfig {
        TlsConfig { config }
    }

    /// The rustls configuration in use.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use threadkit::tls::TlsConfig;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let tls = TlsConfig::from_pem_files("cert.pem", "key.pem")?;
    /// println!("{:?}", tls.rustls_config().alpn_protocols);
    /// # Ok(())
    /// # }
    /// ```
    pub fn rustls_config(&self) -> &Arc<rustls::ServerConfig> {
        &self.config
    }
}

impl PartialEq for TlsConfig {
    fn eq(&self, other: &TlsConfig) -> bool {
        Arc::ptr_eq(&self.config, &other.config)
    }
}

impl Eq for TlsConfig {}

impl fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsConfig")
            .field("alpn_protocols", &self.config.alpn_protocols)
            .finish_non_exhaustive()
    }
}

/// The certificates of a PEM file, in order; at least one.
pub(crate) fn read_certificates(path: &Path) -> io::Result<Vec<CertificateDer<'static>>> {
    let what = "certificate file";
    let chain = CertificateDer::pem_file_iter(path)
        .map_err(|e| pem_error(e, what, path))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| pem_error(e, what, path))?;
    if chain.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{what} {}: no PEM certificate in it", path.display()),
        ));
    }
    Ok(chain)
}

/// The first private key of a PEM file.
fn read_key(path: &Path) -> io::Result<PrivateKeyDer<'static>> {
    PrivateKeyDer::from_pem_file(path).map_err(|e| match e {
        pem::Error::NoItemsFound => io::Error::new(
            io::ErrorKind::InvalidData,
            format!("key file {}: no PEM private key in it", path.display()),
        ),
        e => pem_error(e, "key file", path),
    })
}

/// A PEM reading error, naming the file: its I/O error kind, or
/// `InvalidData`.
fn pem_error(e: pem::Error, what: &str, path: &Path) -> io::Error {
    let path = path.display();
    match e {
        pem::Error::Io(e) => {
            let problem = match e.kind() {
                io::ErrorKind::NotFound => "no such file".to_string(),
                io::ErrorKind::PermissionDenied => "permission denied".to_string(),
                _ => format!("cannot read it: {e}"),
            };
            io::Error::new(e.kind(), format!("{what} {path}: {problem}"))
        }
        e => io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{what} {path}: not valid PEM: {e}"),
        ),
    }
}
