//! What the unit tests of `tls` share: a self-signed end-entity certificate
//! for `localhost` and 127.0.0.1, as a server config and a client that
//! trusts it.

use std::sync::Arc;

use rustls::pki_types::PrivateKeyDer;

use super::session::provider;
use super::{TlsConfig, TlsConnector};

/// A server config and a connector that trusts its certificate.
pub(crate) fn pair() -> (TlsConfig, TlsConnector) {
    let names = vec!["localhost".to_string(), "127.0.0.1".to_string()];
    let made = rcgen::generate_simple_self_signed(names).expect("a certificate");
    let cert = made.cert.der().clone();
    let key = PrivateKeyDer::Pkcs8(made.key_pair.serialize_der().into());
    let server = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.clone()], key)
        .unwrap();
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert).unwrap();
    let client = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    (
        TlsConfig::from_rustls(Arc::new(server)),
        TlsConnector::from_rustls(Arc::new(client)),
    )
}
