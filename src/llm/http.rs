//! The one pooled HTTP client every endpoint shares, and what to do when TLS cannot be set up.

use super::RetryPolicy;
use std::time::Duration;

/// The longest wait for a TCP (and TLS) connection; a host that takes longer is unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A pooled client (cheap to clone: handles to one pool), or why there is none.
#[derive(Clone)]
pub(crate) struct Http {
    pub client: Option<reqwest::Client>,
    /// Why HTTPS cannot work (no CA certificates on this machine, say). Plain HTTP endpoints,
    /// such as a local Ollama, still work; HTTPS ones fail with this as the reason.
    pub tls_problem: Option<String>,
}

impl Http {
    pub fn new(policy: &RetryPolicy) -> Http {
        super::init_tls();
        match builder(policy).build() {
            Ok(client) => Http { client: Some(client), tls_problem: None },
            Err(err) => {
                let problem = format!("cannot set up TLS: {err}; install the system CA certificates (ca-certificates)");
                // Without system roots, trust nothing: plain HTTP still works.
                let client = builder(policy).tls_certs_only(Vec::new()).build().ok();
                Http { client, tls_problem: Some(problem) }
            }
        }
    }
}

fn builder(policy: &RetryPolicy) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .user_agent(concat!("windlass/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(CONNECT_TIMEOUT.min(policy.timeout))
        // A POST followed through a redirect turns into a GET; better to say where it points.
        .redirect(reqwest::redirect::Policy::none())
}
