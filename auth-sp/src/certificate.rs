//! Certificates with their private key: PEM (certificate plus key, the key possibly encrypted
//! PKCS#8) and PKCS#12, read into an RSA key pair and the DER chain, leaf first.

use std::fmt;
use std::path::Path;

use auth_core::{Error, Secret};
use aws_lc_rs::digest;
use aws_lc_rs::signature::{KeyPair, RsaKeyPair};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use zeroize::Zeroizing;

use crate::shared::{ShownPath, at_path, decode_text, read_secret_file};

/// A certificate and its RSA private key, ready to sign client assertions.
///
/// `Debug` shows the SHA-1 thumbprint and the chain length, never the key.
pub struct ClientCertificate {
    key: RsaKeyPair,
    /// DER certificates, leaf first.
    chain: Vec<Vec<u8>>,
    x5t: String,
    x5t_s256: String,
    thumbprint: String,
}

impl fmt::Debug for ClientCertificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCertificate")
            .field("thumbprint", &self.thumbprint)
            .field("chain_len", &self.chain.len())
            .finish_non_exhaustive()
    }
}

fn config(message: impl Into<String>) -> Error {
    Error::configuration(message.into())
}

impl ClientCertificate {
    /// Reads a PEM file or a PKCS#12 (`.pfx`, `.p12`) file; which one is found from the content.
    /// `password` decrypts an encrypted PKCS#8 key or the PKCS#12 file.
    pub fn from_file(path: impl AsRef<Path>, password: Option<&Secret>) -> Result<Self, Error> {
        let path = path.as_ref();
        let bytes = read_secret_file(path).map_err(|e| {
            config(format!(
                "could not read the certificate file {}: {e}",
                ShownPath(path)
            ))
            .with_hint("check AZURE_CLIENT_CERTIFICATE_PATH or the path given to the credential")
        })?;
        Self::from_bytes(&bytes, password).map_err(|e| at_path(e, path))
    }

    /// Reads PEM or PKCS#12 bytes, telling them apart by content.
    pub fn from_bytes(bytes: &[u8], password: Option<&Secret>) -> Result<Self, Error> {
        let looks_like_pem = bytes.windows(11).any(|w| w == b"-----BEGIN ")
            || decode_text(bytes).is_some_and(|t| Zeroizing::new(t).contains("-----BEGIN "));
        if looks_like_pem {
            Self::from_pem(bytes, password)
        } else {
            Self::from_pkcs12(bytes, password)
        }
    }

    /// Reads PEM text holding the certificate (and optionally its chain) and the private key:
    /// `PRIVATE KEY` (PKCS#8), `ENCRYPTED PRIVATE KEY` (PKCS#8 with `password`) or
    /// `RSA PRIVATE KEY` (PKCS#1). The leaf is the certificate that matches the key; the other
    /// certificates follow in file order.
    pub fn from_pem(pem: &[u8], password: Option<&Secret>) -> Result<Self, Error> {
        let text = Zeroizing::new(
            decode_text(pem)
                .ok_or_else(|| config("the certificate file is not PEM text (UTF-8 or UTF-16)"))?,
        );
        let blocks = pem_blocks(text.trim_start_matches('\u{feff}'))?;
        let mut certs = Vec::new();
        let mut key = None;
        for block in blocks {
            match block.label.as_str() {
                "CERTIFICATE" => certs.push(block.der.to_vec()),
                "PRIVATE KEY" | "ENCRYPTED PRIVATE KEY" | "RSA PRIVATE KEY" if key.is_some() => {
                    return Err(config("the PEM file holds more than one private key"));
                }
                "PRIVATE KEY" => key = Some(rsa_from_pkcs8(&block.der)?),
                "RSA PRIVATE KEY" => {
                    if block.encrypted {
                        return Err(config(
                            "the PEM file holds a legacy OpenSSL-encrypted RSA key, which is not supported",
                        )
                        .with_hint("convert it to encrypted PKCS#8: openssl pkcs8 -topk8 -v2 aes-256-cbc -in key.pem"));
                    }
                    key =
                        Some(RsaKeyPair::from_der(&block.der).map_err(|e| {
                            config(format!("the RSA private key is not usable: {e}"))
                        })?);
                }
                "ENCRYPTED PRIVATE KEY" => {
                    let Some(password) = password.filter(|p| !p.is_empty()) else {
                        return Err(config("the private key is encrypted and no password was given")
                            .with_hint("set AZURE_CLIENT_CERTIFICATE_PASSWORD or pass the password to the credential"));
                    };
                    let info = pkcs8::EncryptedPrivateKeyInfoRef::try_from(&block.der[..])
                        .map_err(|_| config("the encrypted private key is not valid PKCS#8"))?;
                    check_key_derivation(&info.encryption_algorithm)?;
                    let doc = info.decrypt(password.expose_secret().as_bytes()).map_err(|_| {
                        config("could not decrypt the private key: wrong password, or an unsupported encryption scheme")
                            .with_hint("check the certificate password; supported: PBES2 with PBKDF2 or scrypt and AES or 3DES")
                    })?;
                    key = Some(rsa_from_pkcs8(doc.as_bytes())?);
                }
                "EC PRIVATE KEY" => {
                    return Err(config(
                        "the private key is an EC key; Microsoft Entra ID needs an RSA key",
                    ));
                }
                _ => {}
            }
        }
        let key = key.ok_or_else(|| {
            config("the PEM file has no private key")
                .with_hint("put the certificate and its private key in one PEM file")
        })?;
        Self::assemble(key, certs)
    }

    /// Reads a PKCS#12 (PFX) file protected by `password` (none: the empty password). The
    /// modern (PBES2, AES) and the legacy (3DES, RC2) encryptions are read.
    pub fn from_pkcs12(der: &[u8], password: Option<&Secret>) -> Result<Self, Error> {
        let pass = password.map_or("", |p| p.expose_secret());
        let store = p12_keystore::KeyStore::from_pkcs12(
            der,
            pass,
            p12_keystore::Pkcs12ImportPolicy::Relaxed,
        )
        .map_err(|e| {
            let hint = if password.is_none() {
                "the file is neither PEM nor a PKCS#12 file readable without a password: give the password (AZURE_CLIENT_CERTIFICATE_PASSWORD)"
            } else {
                "check the password, and that the file is PEM or PKCS#12"
            };
            config(format!("could not read the PKCS#12 file: {}", p12_error(&e))).with_hint(hint)
        })?;
        let (_, chain) = store
            .private_key_chain()
            .ok_or_else(|| config("the PKCS#12 file has no private key"))?;
        let key_der = Zeroizing::new(chain.key().as_der().to_vec());
        let key = rsa_from_pkcs8(&key_der)?;
        let mut certs: Vec<Vec<u8>> = chain.certs().iter().map(|c| c.as_der().to_vec()).collect();
        for entry in store.entries() {
            if let (_, p12_keystore::KeyStoreEntry::Certificate(c)) = entry
                && !certs.iter().any(|d| d == c.as_der())
            {
                certs.push(c.as_der().to_vec());
            }
        }
        Self::assemble(key, certs)
    }

    fn assemble(key: RsaKeyPair, mut certs: Vec<Vec<u8>>) -> Result<Self, Error> {
        if certs.is_empty() {
            return Err(config("no certificate was found beside the private key")
                .with_hint("the file must hold the certificate as well as its private key"));
        }
        // The leaf is the certificate whose public key is this key's: its SubjectPublicKeyInfo
        // holds the PKCS#1 RSAPublicKey bytes verbatim.
        let public = key.public_key().as_ref().to_vec();
        let leaf = certs
            .iter()
            .position(|c| c.windows(public.len()).any(|w| w == public.as_slice()))
            .ok_or_else(|| {
                config("none of the certificates matches the private key")
                    .with_hint("check that the certificate and key belong together")
            })?;
        let leaf_der = certs.remove(leaf);
        certs.insert(0, leaf_der);
        let sha1 = digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, &certs[0]);
        let sha256 = digest::digest(&digest::SHA256, &certs[0]);
        Ok(Self {
            key,
            x5t: URL_SAFE_NO_PAD.encode(sha1.as_ref()),
            x5t_s256: URL_SAFE_NO_PAD.encode(sha256.as_ref()),
            thumbprint: sha1.as_ref().iter().map(|b| format!("{b:02X}")).collect(),
            chain: certs,
        })
    }

    /// The SHA-1 thumbprint in upper-case hex, as the Azure portal shows it.
    pub fn thumbprint(&self) -> &str {
        &self.thumbprint
    }

    /// `x5t`: base64url (unpadded) of the SHA-1 digest of the leaf certificate.
    pub fn x5t(&self) -> &str {
        &self.x5t
    }

    /// `x5t#S256`: base64url (unpadded) of the SHA-256 digest of the leaf certificate.
    pub fn x5t_s256(&self) -> &str {
        &self.x5t_s256
    }

    /// The DER certificates, leaf first.
    pub fn chain(&self) -> &[Vec<u8>] {
        &self.chain
    }

    /// `x5c`: standard base64 of each DER certificate, leaf first.
    pub(crate) fn x5c(&self) -> Vec<String> {
        self.chain.iter().map(|c| STANDARD.encode(c)).collect()
    }

    pub(crate) fn key(&self) -> &RsaKeyPair {
        &self.key
    }
}

fn p12_error(e: &p12_keystore::error::Error) -> &'static str {
    use p12_keystore::error::Error as E;
    match e {
        E::DerError(_) => "it is not valid DER, or the password is wrong",
        E::InvalidVersion => "unsupported PFX version",
        E::UnsupportedContentType => "unsupported content type",
        E::UnsupportedCertificateType => "unsupported certificate type",
        E::X509Error(_) => "a certificate in it is not valid",
        _ => "the password is wrong, or the file is damaged or uses an unsupported encryption",
    }
}

/// The most PBKDF2 iterations an encrypted key may ask for (OpenSSL uses 2,048, .NET and
/// Windows 2,000 to 600,000); the same bound as the PKCS#12 reader's.
const MAX_PBKDF2_ITERATIONS: u32 = 1_000_000;
/// The most memory (128 · N · r bytes) scrypt may ask for: OpenSSL's default is 32 MiB.
const MAX_SCRYPT_MEMORY: u64 = 128 << 20;
/// The most scrypt parallelization (p) an encrypted key may ask for.
const MAX_SCRYPT_PARALLELISM: u16 = 16;

/// Refuses key-derivation parameters that would take minutes or gigabytes before the password
/// is even checked: a key file is input, and a crafted one must not stall or exhaust the process.
fn check_key_derivation(scheme: &pkcs8::pkcs5::EncryptionScheme) -> Result<(), Error> {
    use pkcs8::pkcs5::{EncryptionScheme, pbes2::Kdf};
    let EncryptionScheme::Pbes2(params) = scheme else {
        return Ok(());
    };
    match &params.kdf {
        Kdf::Pbkdf2(p) if p.iteration_count > MAX_PBKDF2_ITERATIONS => Err(config(format!(
            "the encrypted private key asks for {} PBKDF2 iterations, more than the {MAX_PBKDF2_ITERATIONS} allowed",
            p.iteration_count
        ))
        .with_hint("re-encrypt the key: openssl pkcs8 -topk8 -v2 aes-256-cbc -in key.pem")),
        Kdf::Scrypt(p) => {
            let memory = 128u64
                .checked_mul(p.cost_parameter)
                .and_then(|m| m.checked_mul(u64::from(p.block_size)));
            if memory.is_none_or(|m| m > MAX_SCRYPT_MEMORY)
                || p.parallelization > MAX_SCRYPT_PARALLELISM
            {
                return Err(config(format!(
                    "the encrypted private key asks for scrypt with N={}, r={}, p={}, beyond the allowed {} MiB of memory and parallelism {MAX_SCRYPT_PARALLELISM}",
                    p.cost_parameter, p.block_size, p.parallelization, MAX_SCRYPT_MEMORY >> 20
                ))
                .with_hint("re-encrypt the key: openssl pkcs8 -topk8 -v2 aes-256-cbc -in key.pem"));
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

fn rsa_from_pkcs8(der: &[u8]) -> Result<RsaKeyPair, Error> {
    RsaKeyPair::from_pkcs8(der).map_err(|e| {
        config(format!(
            "the private key is not a usable RSA key ({e}); Microsoft Entra ID needs an RSA key of 2048 bits or more"
        ))
    })
}

/// One PEM block.
struct PemBlock {
    label: String,
    der: Zeroizing<Vec<u8>>,
    /// Whether it had a legacy `Proc-Type: 4,ENCRYPTED` header.
    encrypted: bool,
}

/// The blocks of PEM text, in order. Text outside blocks (such as OpenSSL's `Bag Attributes`)
/// is ignored.
fn pem_blocks(text: &str) -> Result<Vec<PemBlock>, Error> {
    let mut out = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let line = line.trim();
        let Some(label) = line
            .strip_prefix("-----BEGIN ")
            .and_then(|l| l.strip_suffix("-----"))
        else {
            continue;
        };
        let end = format!("-----END {label}-----");
        // Sized up front: growing would leave unzeroed copies of key text behind.
        let mut body = Zeroizing::new(String::with_capacity(text.len()));
        let mut encrypted = false;
        let mut closed = false;
        for l in lines.by_ref() {
            let l = l.trim();
            if l == end {
                closed = true;
                break;
            }
            if l.contains(':') {
                encrypted |= l.starts_with("Proc-Type:") && l.contains("ENCRYPTED");
                continue;
            }
            body.push_str(l);
        }
        if !closed {
            return Err(config(format!("the PEM block {label} has no END line")));
        }
        let der = STANDARD
            .decode(body.as_bytes())
            .map_err(|_| config(format!("the PEM block {label} is not valid base64")))?;
        out.push(PemBlock {
            label: label.to_owned(),
            der: Zeroizing::new(der),
            encrypted,
        });
    }
    Ok(out)
}

#[cfg(test)]
pub(crate) mod tests {
    use auth_core::ErrorKind;

    use super::*;

    pub(crate) const THUMBPRINT: &str = "4836FA6D9E0D1A7078DE009B55E24BA04BBE31FB";
    pub(crate) const PASSWORD: &str = "fixture-password";

    pub(crate) fn fixture(name: &str) -> Vec<u8> {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name);
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    fn concat(names: &[&str]) -> Vec<u8> {
        names.iter().flat_map(|n| fixture(n)).collect()
    }

    /// Loads `bytes` with `password`; `expected` is `Ok(chain length)` (the leaf always being
    /// the fixture certificate) or `Err(text in the error)`.
    fn check(bytes: &[u8], password: Option<&str>, expected: Result<usize, &str>) {
        let password = password.map(Secret::new);
        let got = ClientCertificate::from_bytes(bytes, password.as_ref());
        match (got, expected) {
            (Ok(c), Ok(n)) => {
                assert_eq!(c.thumbprint(), THUMBPRINT);
                assert_eq!(c.chain().len(), n);
                assert_eq!(
                    c.chain()[0],
                    pem_blocks(std::str::from_utf8(&fixture("cert.pem")).unwrap()).unwrap()[0]
                        .der
                        .to_vec()
                );
            }
            (Err(e), Err(text)) => {
                assert_eq!(e.kind(), ErrorKind::Configuration);
                let shown = e.to_string();
                assert!(shown.contains(text), "{shown:?} lacks {text:?}");
                assert!(!shown.contains(PASSWORD), "{shown}");
            }
            (got, expected) => panic!("got {got:?}, expected {expected:?}"),
        }
    }

    #[test]
    fn loading() {
        let pw = Some(PASSWORD);
        check(&fixture("combined.pem"), None, Ok(1));
        check(&fixture("combined.pem"), pw, Ok(1));
        let mut bom = vec![0xEF, 0xBB, 0xBF];
        bom.extend(fixture("combined.pem"));
        check(&bom, None, Ok(1));
        let text = String::from_utf8(fixture("combined.pem"))
            .unwrap()
            .replace('\n', "\r\n");
        let mut utf16 = vec![0xFF, 0xFE];
        utf16.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        check(&utf16, None, Ok(1));
        check(&concat(&["key-pkcs1.pem", "cert.pem"]), None, Ok(1));
        check(&fixture("combined-encrypted.pem"), pw, Ok(1));
        check(
            &concat(&["key-encrypted-scrypt.pem", "cert.pem"]),
            pw,
            Ok(1),
        );
        check(
            &concat(&["key-encrypted-iter2m.pem", "cert.pem"]),
            pw,
            Err("asks for 2000000 PBKDF2 iterations, more than the 1000000 allowed"),
        );
        check(
            &fixture("cert-iter2m.p12"),
            pw,
            Err("could not read the PKCS#12 file"),
        );
        check(&fixture("chain-ca-first.pem"), None, Ok(2));
        check(&fixture("cert.p12"), pw, Ok(2));
        check(&fixture("cert-legacy.p12"), pw, Ok(1));
        check(&fixture("cert-nopass.p12"), None, Ok(1));
        check(
            &fixture("combined-encrypted.pem"),
            None,
            Err("encrypted and no password"),
        );
        check(
            &fixture("combined-encrypted.pem"),
            Some(""),
            Err("encrypted and no password"),
        );
        check(
            &fixture("combined-encrypted.pem"),
            Some("wrong"),
            Err("could not decrypt the private key"),
        );
        check(
            &fixture("cert.p12"),
            Some("wrong"),
            Err("could not read the PKCS#12 file"),
        );
        check(&fixture("cert.p12"), None, Err("give the password"));
        check(&fixture("ec-key.pem"), None, Err("not a usable RSA key"));
        check(
            &fixture("combined-legacy-encrypted.pem"),
            pw,
            Err("legacy OpenSSL-encrypted"),
        );
        check(&fixture("cert.pem"), None, Err("no private key"));
        check(&fixture("key.pem"), None, Err("no certificate was found"));
        check(
            &concat(&["key.pem", "ca.pem"]),
            None,
            Err("none of the certificates matches"),
        );
        check(
            &concat(&["key.pem", "key.pem", "cert.pem"]),
            None,
            Err("more than one private key"),
        );
        check(
            b"-----BEGIN CERTIFICATE-----\nAAAA",
            None,
            Err("no END line"),
        );
        check(
            b"-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n",
            None,
            Err("not valid base64"),
        );
        check(
            b"not a certificate at all",
            None,
            Err("could not read the PKCS#12 file"),
        );
        check(b"", None, Err("could not read the PKCS#12 file"));
    }

    /// The scrypt fixture with its block size (r) raised from 8 to 127: 254 MiB of memory.
    fn scrypt_with_block_size(r: u8) -> Vec<u8> {
        let pem = String::from_utf8(fixture("key-encrypted-scrypt.pem")).unwrap();
        let mut der = pem_blocks(&pem).unwrap().remove(0).der.to_vec();
        // costParameter 0x4000, then blockSize 8, in the scrypt parameters.
        let at = der
            .windows(7)
            .position(|w| w == [0x02, 0x02, 0x40, 0x00, 0x02, 0x01, 0x08])
            .unwrap();
        der[at + 6] = r;
        let body = STANDARD.encode(&der);
        let mut out = String::from("-----BEGIN ENCRYPTED PRIVATE KEY-----\n");
        for line in body.as_bytes().chunks(64) {
            out.push_str(std::str::from_utf8(line).unwrap());
            out.push('\n');
        }
        out.push_str("-----END ENCRYPTED PRIVATE KEY-----\n");
        let mut bytes = out.into_bytes();
        bytes.extend(fixture("cert.pem"));
        bytes
    }

    #[test]
    fn key_derivation_parameters_are_bounded() {
        check(
            &scrypt_with_block_size(127),
            Some(PASSWORD),
            Err("scrypt with N=16384, r=127, p=1, beyond the allowed 128 MiB"),
        );
        // The patch itself is sound: r=8 patched back in reads as before.
        check(&scrypt_with_block_size(8), Some(PASSWORD), Ok(1));
    }

    #[test]
    fn from_file_names_the_path() {
        let e = ClientCertificate::from_file("/nonexistent/cert.pem", None).unwrap_err();
        assert!(e.to_string().contains("/nonexistent/cert.pem"), "{e}");
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        let e = ClientCertificate::from_file(dir.join("cert.pem"), None).unwrap_err();
        assert!(e.to_string().contains("cert.pem"), "{e}");
        let c = ClientCertificate::from_file(dir.join("cert.p12"), Some(&Secret::new(PASSWORD)))
            .unwrap();
        assert_eq!(c.thumbprint(), THUMBPRINT);
    }

    #[test]
    fn thumbprints_and_debug() {
        let c = ClientCertificate::from_bytes(&fixture("combined.pem"), None).unwrap();
        let sha1: Vec<u8> = (0..20)
            .map(|i| u8::from_str_radix(&THUMBPRINT[2 * i..2 * i + 2], 16).unwrap())
            .collect();
        assert_eq!(c.x5t(), URL_SAFE_NO_PAD.encode(&sha1));
        assert_eq!(c.x5t().len(), 27);
        assert_eq!(c.x5t_s256().len(), 43);
        assert_eq!(
            format!("{c:?}"),
            format!("ClientCertificate {{ thumbprint: \"{THUMBPRINT}\", chain_len: 1, .. }}")
        );
        assert_eq!(c.x5c()[0], STANDARD.encode(&c.chain()[0]));
    }
}
