//! The HTTPS client of every SDK client: TLS verification fully on, trusting only the roots AWS endpoints chain to
//! (Amazon Root CA 1–4, and the Starfield Services root that cross-signs them), compiled in.
//!
//! The SDK's default client loads the whole system trust store when a client is built (the bundle, then each of
//! the ~150 files in /etc/ssl/certs): that made our init 3–4× a hello-world binary's. Five certificates cost
//! almost nothing, and an endpoint whose chain ends anywhere else is refused. The roots are those of Amazon Trust
//! Services (the system store's copies; fingerprints in the tests); they are valid until 2037–2040.

use aws_smithy_http_client::tls::rustls_provider::CryptoMode;
use aws_smithy_http_client::tls::{Provider, TlsContext, TrustStore};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

/// The five roots, PEM.
pub const AMAZON_ROOTS: &str = include_str!("amazon-roots.pem");

/// An HTTPS client trusting `roots` (PEM) only, with aws-lc as the SDK's default client uses.
pub fn https_client(roots: &str) -> SharedHttpClient {
    let trust = TrustStore::empty()
        .with_native_roots(false)
        .with_pem_certificate(roots.as_bytes());
    let context = TlsContext::builder()
        .with_trust_store(trust)
        .build()
        .expect("a TLS context with a trust store always builds");
    let client = aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::AwsLc))
        .tls_context(context)
        .build_https();
    SharedHttpClient::new(NoConnectorAtStart(client))
}

/// The SDK's HTTPS client, minus the TLS connector it builds and drops when an SDK client is built: that one is
/// there to read a system trust store at start rather than on the first request. Our roots are compiled in, so it
/// was a TLS set-up thrown away at every start; the first request builds (and keeps) the connector it uses, as
/// before.
#[derive(Debug)]
struct NoConnectorAtStart(SharedHttpClient);

impl HttpClient for NoConnectorAtStart {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        self.0.http_connector(settings, components)
    }

    fn validate_final_config(
        &self,
        components: &RuntimeComponents,
        cfg: &ConfigBag,
    ) -> Result<(), BoxError> {
        self.0.validate_final_config(components, cfg)
    }

    fn connector_metadata(&self) -> Option<ConnectorMetadata> {
        self.0.connector_metadata()
    }
}

#[cfg(test)]
mod tests;
