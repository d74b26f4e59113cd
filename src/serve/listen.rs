//! Whether an address may be served: loopback always; anything else only with
//! `WINDLASS_API_TOKEN` set, because the API can start runs and steer every session.

use crate::settings::Secret;
use std::net::SocketAddr;

/// Where `windlass serve` listens unless told otherwise.
pub const DEFAULT_ADDR: &str = "127.0.0.1:7070";

/// Why an address may not be served.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "listen on {addr}: it is not a loopback address and WINDLASS_API_TOKEN is not set, so anyone who \
     reaches it could run and steer sessions; set WINDLASS_API_TOKEN (every request then needs it), \
     or listen on 127.0.0.1"
)]
pub struct Exposed {
    pub addr: SocketAddr,
}

/// Loopback is always allowed; any other address needs a token.
pub fn check(addr: SocketAddr, token: Option<&Secret>) -> Result<(), Exposed> {
    if addr.ip().is_loopback() || token.is_some() {
        Ok(())
    } else {
        Err(Exposed { addr })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_goes_without_a_token() {
        let token = Secret::new("0123456789abcdef");
        for ok in ["127.0.0.1:7070", "[::1]:1", "127.1.2.3:0"] {
            assert!(check(ok.parse().unwrap(), None).is_ok(), "{ok}");
        }
        for exposed in ["0.0.0.0:7070", "[::]:7070", "192.168.1.5:80"] {
            let addr: SocketAddr = exposed.parse().unwrap();
            assert_eq!(check(addr, None), Err(Exposed { addr }));
            assert!(check(addr, Some(&token)).is_ok(), "{exposed}");
        }
    }
}
