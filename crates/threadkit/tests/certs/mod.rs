//! A self-signed end-entity certificate for `localhost` and 127.0.0.1 (what
//! rustls clients accept: `CA:FALSE`, with subject alternative names),
//! written as PEM files to a temporary directory removed on drop. Shared by
//! the TLS tests of the library and of the program.

#![allow(dead_code)] // each test file uses a part

use std::path::PathBuf;

pub struct PemFiles {
    pub dir: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
    /// The certificate, DER, for a client to trust.
    pub der: Vec<u8>,
}

impl PemFiles {
    /// A new certificate and key in a directory named after `tag`.
    pub fn new(tag: &str) -> PemFiles {
        let names = vec!["localhost".to_string(), "127.0.0.1".to_string()];
        let mut params = rcgen::CertificateParams::new(names).unwrap();
        params.is_ca = rcgen::IsCa::ExplicitNoCa;
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        let dir = std::env::temp_dir().join(format!("threadkit-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let (cert_path, key_path) = (dir.join("cert.pem"), dir.join("key.pem"));
        std::fs::write(&cert_path, cert.pem()).unwrap();
        std::fs::write(&key_path, key.serialize_pem()).unwrap();
        PemFiles {
            dir,
            cert: cert_path,
            key: key_path,
            der: cert.der().to_vec(),
        }
    }

    /// Writes `text` to `name` in the directory.
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }
}

impl Drop for PemFiles {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
