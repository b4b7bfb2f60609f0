//! The calls to the deployed stage: HTTP over the stack the AWS SDK already builds on (hyper 1,
//! rustls), SigV4-signed with the SDK's own signer where the caller has credentials.

use std::time::{Duration, SystemTime};

use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::Bytes;
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use crate::provider::IdentityCredentials;

/// The most of a body read: the gateway's and a function's messages are short.
const MAX_BODY: usize = 64 * 1024;

/// The header API Gateway sets on its own error answers (not on a function's).
const ERROR_TYPE: &str = "x-amzn-errortype";

/// What the stage answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// `x-amzn-ErrorType`, on the gateway's own errors.
    pub error_type: Option<String>,
    /// Where a redirect goes (`Location`).
    pub location: Option<String>,
    /// The body, as text.
    pub body: String,
}

/// An HTTP client for http and https URLs, each call bounded by a timeout.
pub(crate) struct Http {
    client: Client<HttpsConnector<HttpConnector>, Empty<Bytes>>,
    timeout: Duration,
}

impl Http {
    /// A client with the machine's root certificates; each call may take `timeout`.
    pub(crate) fn new(timeout: Duration) -> std::io::Result<Self> {
        let connector = HttpsConnectorBuilder::new().with_native_roots()?.https_or_http().enable_http1().build();
        Ok(Self { client: Client::builder(TokioExecutor::new()).build(connector), timeout })
    }

    /// Sends `method url` with `headers` and an empty body.
    pub(crate) async fn send(&self, method: &str, url: &str, headers: &[(String, String)]) -> Result<Answer, String> {
        let mut request = hyper::Request::builder().method(method).uri(url);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        let request = request.body(Empty::new()).map_err(|e| format!("cannot build the request: {e}"))?;
        let exchange = async {
            let response = self.client.request(request).await.map_err(|e| format!("no answer: {e}"))?;
            let status = response.status().as_u16();
            let error_type = response
                .headers()
                .get(ERROR_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.split(':').next().unwrap_or(v).to_string());
            let location = response.headers().get(hyper::header::LOCATION).and_then(|v| v.to_str().ok());
            let location = location.map(str::to_string);
            let body = Limited::new(response.into_body(), MAX_BODY)
                .collect()
                .await
                .map_err(|e| format!("cannot read the answer: {e}"))?
                .to_bytes();
            Ok(Answer { status, error_type, location, body: String::from_utf8_lossy(&body).into_owned() })
        };
        tokio::time::timeout(self.timeout, exchange)
            .await
            .unwrap_or_else(|_| Err(format!("no answer within {} s", self.timeout.as_secs())))
    }
}

/// The SigV4 headers (service `execute-api`) of `method url` with `headers`, signed with
/// `credentials` for `region`.
pub(crate) fn signature(
    method: &str,
    url: &str,
    headers: &[(String, String)],
    credentials: &IdentityCredentials,
    region: &str,
) -> Result<Vec<(String, String)>, String> {
    let identity = aws_sdk_cognitoidentity::config::Credentials::new(
        &credentials.access_key_id,
        credentials.secret_key.expose(),
        Some(credentials.session_token.expose().to_string()),
        None,
        "identity pool",
    )
    .into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("execute-api")
        .time(SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| format!("cannot sign: {e}"))?
        .into();
    let headers = headers.iter().map(|(n, v)| (n.as_str(), v.as_str()));
    let signable = SignableRequest::new(method, url, headers, SignableBody::Bytes(b""))
        .map_err(|e| format!("cannot sign: {e}"))?;
    let (instructions, _) = sign(signable, &params).map_err(|e| format!("cannot sign: {e}"))?.into_parts();
    Ok(instructions.headers().map(|(name, value)| (name.to_string(), value.to_string())).collect())
}

/// Where `verify` calls, and how long a call that disagrees is made again.
#[derive(Clone, Copy)]
pub(crate) struct Endpoint<'a> {
    /// The HTTP client.
    pub(crate) http: &'a Http,
    /// The stage's invoke URL.
    pub(crate) url: &'a str,
    /// How long a call that disagrees is made again.
    pub(crate) settle: Duration,
}
