//! [`TlsConnector`]: what a TLS client trusts.

use std::fmt;
use std::io;
use std::path::Path;
use std::sync::Arc;

/// A TLS client's trust: which certificate authorities may vouch for a
/// server, as a shared rustls `ClientConfig`. The client checks the server's
/// certificate against them and against the host name it connected to.
///
/// The system's roots come from
/// [`rustls-native-certs`](https://docs.rs/rustls-native-certs) (the
/// platform's store: on Linux the files OpenSSL reads, such as
/// `/etc/ssl/certs`), not a bundle compiled in: a program then trusts what
/// the machine's administrator trusts (a company CA included) and follows the
/// system's updates, as `curl` and Python's `ssl.create_default_context()` do.
///
/// # Examples
///
/// ```no_run
/// use threadkit::tls::TlsConnector;
///
/// # fn main() -> std::io::Result<()> {
/// let public = TlsConnector::with_native_roots()?;
/// let private = TlsConnector::from_ca_file("ca.pem")?;
/// println!("{public:?} {private:?}");
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct TlsConnector {
    config: Arc<rustls::ClientConfig>,
}

impl TlsConnector {
    /// Trusts the certificates in the PEM file `ca` (a CA, or a self-signed
    /// server certificate itself) and nothing else.
    ///
    /// # Errors
    ///
    /// The file does not exist (`NotFound`), cannot be read, is not PEM or
    /// holds no certificate (`InvalidData`), or a certificate in it is not
    /// usable as a trust anchor (`InvalidData`); every message names the file.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::ErrorKind;
    /// use threadkit::tls::TlsConnector;
    ///
    /// let err = TlsConnector::from_ca_file("/nonexistent/ca.pem").unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::NotFound);
    /// assert!(err.to_string().contains("/nonexistent/ca.pem"));
    /// ```
    pub fn from_ca_file(ca: impl AsRef<Path>) -> io::Result<TlsConnector> {
        let ca = ca.as_ref();
        let mut roots = rustls::RootCertStore::empty();
        for cert in super::config::read_certificates(ca)? {
            roots.add(cert).map_err(|e| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("certificate file {}: not a usable CA: {e}", ca.display()),
                )
            })?;
        }
        TlsConnector::with_roots(roots)
    }

    /// Trusts the system's certificate store.
    ///
    /// # Errors
    ///
    /// `NotFound` when the store holds no certificate that can be used (the
    /// errors met while reading it are in the message).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use threadkit::tls::TlsConnector;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let connector = TlsConnector::with_native_roots()?;
    /// println!("{connector:?}");
    /// # Ok(())
    /// # }
    /// ```
    pub fn with_native_roots() -> io::Result<TlsConnector> {
        let found = rustls_native_certs::load_native_certs();
        let mut roots = rustls::RootCertStore::empty();
        let (added, _ignored) = roots.add_parsable_certificates(found.certs);
        if added == 0 {
            let errors: Vec<String> = found.errors.iter().map(ToString::to_string).collect();
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!(
                    "no usable certificate in the system's store{}",
                    if errors.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", errors.join("; "))
                    }
                ),
            ));
        }
        TlsConnector::with_roots(roots)
    }

    /// Uses a rustls configuration of your own (client certificates, ALPN,
    /// another crypto provider).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use threadkit::tls::{rustls, TlsConnector};
    ///
    /// # fn main() -> Result<(), rustls::Error> {
    /// let provider = Arc::new(rustls::crypto::ring::default_provider());
    /// let config = rustls::ClientConfig::builder_with_provider(provider)
    ///     .with_safe_default_protocol_versions()?
    ///     .with_root_certificates(rustls::RootCertStore::empty())
    ///     .with_no_client_auth();
    /// let connector = TlsConnector::from_rustls(Arc::new(config));
    /// assert!(connector.rustls_config().alpn_protocols.is_empty());
    /// # Ok(())
    /// # }
    /// ```
    pub fn from_rustls(config: Arc<rustls::ClientConfig>) -> TlsConnector {
        TlsConnector { config }
    }

    /// The rustls configuration in use.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use threadkit::tls::TlsConnector;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let connector = TlsConnector::from_ca_file("ca.pem")?;
    /// println!("{:?}", connector.rustls_config().alpn_protocols);
    /// # Ok(())
    /// # }
    /// ```
    pub fn rustls_config(&self) -> &Arc<rustls::ClientConfig> {
        &self.config
    }

    fn with_roots(roots: rustls::RootCertStore) -> io::Result<TlsConnector> {
        let config = rustls::ClientConfig::builder_with_provider(super::session::provider())
            .with_safe_default_protocol_versions()
            .map_err(io::Error::other)?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(TlsConnector::from_rustls(Arc::new(config)))
    }
}

impl fmt::Debug for TlsConnector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsConnector")
            .field("alpn_protocols", &self.config.alpn_protocols)
            .finish_non_exhaustive()
    }
}
