use std::sync::Arc;

use aws_sdk_sqs::error::SdkError;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;

use super::*;

/// SHA-256 fingerprints of Amazon Root CA 1, 2, 3, 4 and Starfield Services Root Certificate Authority - G2, as
/// Amazon Trust Services publishes them.
const FINGERPRINTS: [&str; 5] = [
    "8ecde6884f3d87b1125ba31ac3fcb13d7016de7f57cc904fe1cb97c6ae98196e",
    "1ba5b2aa8c65401a82960118f80bec4f62304d83cec4713a19c39c011ea46db4",
    "18ce6cfe7bf14e60b2e347b8dfe868cb31d02ebb3ada271569f50343b46db3a4",
    "e35d28419ed02025cfa69038cd623962458da5c695fbdea3c22b0bfb25897092",
    "568d6905a2c88708a4b3025190edcfedb1974a606a13c6e5290fcb2ae63edab5",
];

#[test]
fn the_trust_store_is_amazons_five_roots_and_nothing_else() {
    let fingerprints: Vec<String> = CertificateDer::pem_slice_iter(AMAZON_ROOTS.as_bytes())
        .map(|der| hex::encode(Sha256::digest(der.expect("a PEM certificate"))))
        .collect();
    assert_eq!(fingerprints, FINGERPRINTS);
}

/// A TLS server on localhost with a certificate of its own, answering every request with an empty 200; returns
/// its port and its certificate (PEM).
async fn server_with_its_own_certificate() -> (u16, String) {
    let issued = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let pem = issued.cert.pem();
    let key =
        rustls_pki_types::PrivateKeyDer::try_from(issued.signing_key.serialize_der()).unwrap();
    let config = ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(vec![issued.cert.der().clone()], key)
        .unwrap();
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                // A client that does not trust the certificate aborts the handshake: nothing to answer.
                if let Ok(mut tls) = acceptor.accept(stream).await {
                    let reply = b"HTTP/1.1 200 OK\r\ncontent-type: application/x-amz-json-1.0\r\ncontent-length: 2\r\n\r\n{}";
                    let _ = tls.write_all(reply).await;
                    let _ = tls.shutdown().await;
                }
            });
        }
    });
    (port, pem)
}

async fn list_queues(
    port: u16,
    roots: &str,
) -> Result<(), SdkError<aws_sdk_sqs::operation::list_queues::ListQueuesError>> {
    let config = aws_sdk_sqs::Config::builder()
        .behavior_version(aws_sdk_sqs::config::BehaviorVersion::latest())
        .region(aws_sdk_sqs::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_sqs::config::Credentials::for_tests())
        .endpoint_url(format!("https://localhost:{port}"))
        .http_client(https_client(roots))
        .retry_config(aws_sdk_sqs::config::retry::RetryConfig::disabled())
        .build();
    aws_sdk_sqs::Client::from_conf(config)
        .list_queues()
        .send()
        .await
        .map(|_| ())
}

#[tokio::test]
async fn an_endpoint_whose_certificate_does_not_chain_to_amazon_is_refused() {
    let (port, its_own) = server_with_its_own_certificate().await;
    let refused = list_queues(port, AMAZON_ROOTS).await;
    assert!(
        matches!(refused, Err(SdkError::DispatchFailure(_))),
        "the handshake must fail: {refused:?}"
    );
    // The same server, trusted: the call gets through TLS, so the refusal above was the certificate's.
    let trusted = list_queues(port, &its_own).await;
    assert!(
        !matches!(trusted, Err(SdkError::DispatchFailure(_))),
        "{trusted:?}"
    );
}
