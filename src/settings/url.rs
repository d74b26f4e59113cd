//! [`HttpUrl`]: an `http://` or `https://` URL, checked once when settings are read.

use std::fmt;
use std::str::FromStr;

/// An absolute `http` or `https` URL without a trailing slash, so callers can append
/// `/chat/completions` without doubling it.
///
/// `Display` and `Debug` hide any `user:password@` part: error messages name URLs, and the
/// credentials in them must not travel along.
#[derive(Clone, PartialEq, Eq)]
pub struct HttpUrl(String);

impl HttpUrl {
    /// The full URL, credentials included, for the HTTP client.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `https` or `http`.
    pub fn scheme(&self) -> &str {
        self.0.split_once("://").map_or("", |(scheme, _)| scheme)
    }
}

/// `text` with the `user:password@` part of a URL replaced by `***@`. Works on text that did not
/// parse as a URL too, so an error message about a bad URL does not leak the password in it.
pub fn redact_credentials(text: &str) -> String {
    let Some((scheme, rest)) = text.split_once("://") else {
        return text.to_owned();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://***{}", &rest[at..]),
        None => text.to_owned(),
    }
}

impl FromStr for HttpUrl {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let Some((scheme, rest)) = text.split_once("://") else {
            return Err(format!(
                "`{}` is not a URL: it needs to start with http:// or https://",
                redact_credentials(text)
            ));
        };
        let scheme = scheme.to_ascii_lowercase();
        if scheme != "http" && scheme != "https" {
            return Err(format!("`{}` is not an http or https URL (scheme `{scheme}`)", redact_credentials(text)));
        }
        let host = rest.split(['/', '?', '#']).next().unwrap_or("");
        let host = host.rsplit('@').next().unwrap_or("");
        if host.is_empty() || host.starts_with(':') {
            return Err(format!("`{}` has no host name after {scheme}://", redact_credentials(text)));
        }
        if text.contains(char::is_whitespace) {
            return Err(format!("`{}` contains a space: a URL cannot", redact_credentials(text)));
        }
        Ok(HttpUrl(format!("{scheme}://{}", rest.trim_end_matches('/'))))
    }
}

impl fmt::Display for HttpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redact_credentials(&self.0))
    }
}

impl fmt::Debug for HttpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HttpUrl({self})")
    }
}

/// Ollama's reading of `OLLAMA_HOST`: `host`, `host:port` or a full URL. Without a scheme it is
/// `http` on port 11434, the way the `ollama` command itself reads the variable, so a value that
/// works for `ollama` works here.
pub fn parse_ollama_host(text: &str) -> Result<HttpUrl, String> {
    let text = text.trim();
    if text.contains("://") {
        return text.parse();
    }
    let (authority, path) = text.split_once('/').unwrap_or((text, ""));
    let has_port = match authority.rsplit_once(':') {
        // `[::1]:11434` has a port, `[::1]` and `::1` do not.
        Some((host, port)) => port.chars().all(|c| c.is_ascii_digit()) && (!host.contains(':') || host.ends_with(']')),
        None => false,
    };
    let authority = if has_port { authority.to_owned() } else { format!("{authority}:11434") };
    format!("http://{authority}/{path}").parse()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_http_and_https_and_trims_the_trailing_slash() {
        let url: HttpUrl = "https://openrouter.ai/api/v1/".parse().unwrap();
        assert_eq!(url.as_str(), "https://openrouter.ai/api/v1");
        assert_eq!(url.scheme(), "https");
        assert!("HTTP://localhost:8080".parse::<HttpUrl>().is_ok());
    }

    #[test]
    fn rejects_what_is_not_an_http_url() {
        assert!("openrouter.ai".parse::<HttpUrl>().unwrap_err().contains("http://"));
        assert!("ftp://x".parse::<HttpUrl>().unwrap_err().contains("ftp"));
        assert!("https://".parse::<HttpUrl>().unwrap_err().contains("no host"));
        assert!("https://a b".parse::<HttpUrl>().is_err());
    }

    #[test]
    fn hides_credentials_when_shown() {
        let url: HttpUrl = "https://me:hunter2@example.com/v1".parse().unwrap();
        assert_eq!(url.to_string(), "https://***@example.com/v1");
        assert!(!format!("{url:?}").contains("hunter2"));
        assert_eq!(url.as_str(), "https://me:hunter2@example.com/v1");
        let err = "ftp://me:hunter2@example.com".parse::<HttpUrl>().unwrap_err();
        assert!(!err.contains("hunter2"), "{err}");
    }

    #[test]
    fn reads_ollama_host_like_ollama() {
        let host = |text| parse_ollama_host(text).unwrap().as_str().to_owned();
        assert_eq!(host("localhost"), "http://localhost:11434");
        assert_eq!(host("gpu-box:8080"), "http://gpu-box:8080");
        assert_eq!(host("[::1]"), "http://[::1]:11434");
        assert_eq!(host("https://ollama.example.com"), "https://ollama.example.com");
    }
}
