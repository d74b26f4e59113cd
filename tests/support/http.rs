//! A small HTTP/1.1 client over a plain TCP socket for talking to `windlass serve` as any
//! client would: requests with headers and bodies, and Server-Sent Event streams read as
//! they arrive (chunked bodies decoded here).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::mpsc;
use std::time::Duration;

/// An answer: status, headers (lower-cased names) and body.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Answer {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {} {}", self.status, self.body))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

fn read_head(reader: &mut impl BufRead) -> (u16, Vec<(String, String)>) {
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    let status = line.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    let mut headers = Vec::new();
    loop {
        line.clear();
        reader.read_line(&mut line).unwrap();
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    (status, headers)
}

/// One request; `headers` are extra header lines (`Name: value`).
pub fn request(addr: &str, method: &str, path: &str, headers: &[&str], body: Option<&str>) -> Answer {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for h in headers {
        req.push_str(h);
        req.push_str("\r\n");
    }
    if let Some(b) = body {
        if !headers.iter().any(|h| h.to_ascii_lowercase().starts_with("content-type")) {
            req.push_str("Content-Type: application/json\r\n");
        }
        req.push_str(&format!("Content-Length: {}\r\n", b.len()));
    }
    req.push_str("\r\n");
    req.push_str(body.unwrap_or(""));
    s.write_all(req.as_bytes()).unwrap();
    let mut reader = BufReader::new(s);
    let (status, headers) = read_head(&mut reader);
    let chunked = headers.iter().any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"));
    let length = headers.iter().find(|(k, _)| k == "content-length").and_then(|(_, v)| v.parse::<usize>().ok());
    // Some servers keep the connection open whatever the request said: read what was sent.
    let body = match (length, chunked) {
        (Some(n), _) => {
            let mut raw = vec![0; n];
            reader.read_exact(&mut raw).unwrap();
            raw
        }
        (None, true) => read_chunks(&mut reader),
        (None, false) => {
            let mut raw = Vec::new();
            reader.read_to_end(&mut raw).unwrap();
            raw
        }
    };
    Answer { status, headers, body: String::from_utf8_lossy(&body).into_owned() }
}

pub fn get(addr: &str, path: &str) -> Answer {
    request(addr, "GET", path, &[], None)
}

pub fn post(addr: &str, path: &str, body: &str) -> Answer {
    request(addr, "POST", path, &[], Some(body))
}

fn read_chunks(reader: &mut impl BufRead) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let mut size = String::new();
        if reader.read_line(&mut size).unwrap_or(0) == 0 {
            return out;
        }
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 {
            return out;
        }
        let mut chunk = vec![0; n + 2];
        reader.read_exact(&mut chunk).unwrap();
        out.extend_from_slice(&chunk[..n]);
    }
}

/// One Server-Sent Event.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub event: String,
    pub id: Option<String>,
    pub data: String,
}

impl Event {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.data).unwrap()
    }
}

/// An open event stream; events arrive on a channel fed by a reader thread. Dropping it
/// closes the connection.
pub struct Sse {
    pub status: u16,
    pub events: mpsc::Receiver<Event>,
    stream: TcpStream,
}

impl Sse {
    pub fn connect(addr: &str, path: &str, headers: &[&str]) -> Sse {
        let mut s = TcpStream::connect(addr).unwrap();
        let mut req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nAccept: text/event-stream\r\n");
        for h in headers {
            req.push_str(h);
            req.push_str("\r\n");
        }
        req.push_str("\r\n");
        s.write_all(req.as_bytes()).unwrap();
        let stream = s.try_clone().unwrap();
        let mut reader = BufReader::new(s);
        let (status, _) = read_head(&mut reader);
        let (tx, events) = mpsc::channel();
        std::thread::spawn(move || {
            // Chunked: a size line, that many bytes, CRLF; events are split by blank lines.
            let mut text = String::new();
            loop {
                let mut size = String::new();
                if reader.read_line(&mut size).unwrap_or(0) == 0 {
                    return;
                }
                let Ok(n) = usize::from_str_radix(size.trim(), 16) else { return };
                if n == 0 {
                    return;
                }
                let mut chunk = vec![0; n + 2];
                if reader.read_exact(&mut chunk).is_err() {
                    return;
                }
                text.push_str(&String::from_utf8_lossy(&chunk[..n]));
                while let Some(end) = text.find("\n\n") {
                    let block: String = text.drain(..end + 2).collect();
                    let mut e = Event { event: "message".into(), id: None, data: String::new() };
                    let mut any = false;
                    for line in block.lines() {
                        if let Some(v) = line.strip_prefix("event:") {
                            e.event = v.trim().to_string();
                            any = true;
                        } else if let Some(v) = line.strip_prefix("id:") {
                            e.id = Some(v.trim().to_string());
                        } else if let Some(v) = line.strip_prefix("data:") {
                            if !e.data.is_empty() {
                                e.data.push('\n');
                            }
                            e.data.push_str(v.strip_prefix(' ').unwrap_or(v));
                            any = true;
                        }
                    }
                    // Comment-only blocks are keep-alives.
                    if any && tx.send(e).is_err() {
                        return;
                    }
                }
            }
        });
        Sse { status, events, stream }
    }

    /// The next event within `limit`, or `None` when the stream ended or nothing came.
    pub fn next(&self, limit: Duration) -> Option<Event> {
        self.events.recv_timeout(limit).ok()
    }

    /// Whether the server closed the stream within `limit` (events still in flight are
    /// skipped).
    pub fn closed_within(&self, limit: Duration) -> bool {
        let t = std::time::Instant::now();
        while let Some(left) = limit.checked_sub(t.elapsed()) {
            match self.events.recv_timeout(left) {
                Ok(_) => continue,
                Err(mpsc::RecvTimeoutError::Disconnected) => return true,
                Err(mpsc::RecvTimeoutError::Timeout) => return false,
            }
        }
        false
    }

    /// Events until one named `name` (included), within `limit` in all.
    pub fn until(&self, name: &str, limit: Duration) -> Vec<Event> {
        let t = std::time::Instant::now();
        let mut out = Vec::new();
        while let Some(left) = limit.checked_sub(t.elapsed()) {
            match self.next(left) {
                Some(e) => {
                    let done = e.event == name;
                    out.push(e);
                    if done {
                        return out;
                    }
                }
                None => break,
            }
        }
        panic!("no `{name}` event within {limit:?}; got {:?}", out.iter().map(|e| &e.event).collect::<Vec<_>>());
    }
}

impl Drop for Sse {
    fn drop(&mut self) {
        let _ = self.stream.shutdown(std::net::Shutdown::Both);
    }
}
