//! Service Fabric's TLS (§2.6): the token service presents a cluster-issued certificate that no
//! CA vouches for; MSAL pins it instead: the SHA-1 of the server's DER certificate must equal
//! `IDENTITY_SERVER_THUMBPRINT`. This transport does the same, and never uses a proxy.

use std::sync::Arc;

use auth_core::Error;
use auth_core::http::ReqwestClient;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

/// Accepts exactly the server certificate whose SHA-1 is the pinned thumbprint (signatures of
/// the handshake are still verified with that certificate's key).
#[derive(Debug)]
struct Pinned {
    sha1: Vec<u8>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for Pinned {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let digest = aws_lc_rs::digest::digest(
            &aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY,
            end_entity.as_ref(),
        );
        let same = digest.as_ref().len() == self.sha1.len()
            && digest
                .as_ref()
                .iter()
                .zip(&self.sha1)
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0;
        if same {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General(
                "the Service Fabric server certificate does not match IDENTITY_SERVER_THUMBPRINT"
                    .into(),
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// A transport that trusts only the certificate with SHA-1 `thumbprint` (40 hex digits).
pub(crate) fn transport(thumbprint: &str) -> Result<ReqwestClient, Error> {
    let sha1 = (0..thumbprint.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(thumbprint.get(i..i + 2).unwrap_or("zz"), 16))
        .collect::<Result<Vec<u8>, _>>()
        .map_err(|_| Error::configuration("IDENTITY_SERVER_THUMBPRINT is not hexadecimal"))?;
    let provider: Arc<CryptoProvider> = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let verifier = Arc::new(Pinned {
        sha1,
        algorithms: provider.signature_verification_algorithms,
    });
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::configuration(format!("cannot set up TLS for Service Fabric: {e}")))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    ReqwestClient::from_builder(|| {
        reqwest::Client::builder()
            .no_proxy()
            .use_preconfigured_tls(config.clone())
    })
    .map_err(|e| Error::configuration(format!("cannot build the Service Fabric transport: {e}")))
}
