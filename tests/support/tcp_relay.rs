//! A TCP relay on loopback that forwards to a real server and can be stopped and started
//! again on the same port: a server that goes away and comes back, without touching the
//! server. Stopping closes the listener and every relayed connection, so clients see
//! "connection refused" and pooled connections die.

use std::net::SocketAddr;

use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

pub struct TcpRelay {
    port: u16,
    target: SocketAddr,
    running: Option<JoinHandle<()>>,
}

impl TcpRelay {
    /// Listen on a free loopback port and forward to `target`.
    pub async fn start(target: SocketAddr) -> TcpRelay {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind the relay");
        let port = listener.local_addr().unwrap().port();
        let mut relay = TcpRelay { port, target, running: None };
        relay.running = Some(tokio::spawn(serve(listener, target)));
        relay
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Close the port and every connection through it.
    pub async fn stop(&mut self) {
        if let Some(task) = self.running.take() {
            task.abort();
            let _ = task.await;
        }
    }

    /// Listen on the same port again.
    pub async fn restart(&mut self) {
        self.stop().await;
        let listener = TcpListener::bind(("127.0.0.1", self.port)).await.expect("bind the relay again");
        self.running = Some(tokio::spawn(serve(listener, self.target)));
    }
}

impl Drop for TcpRelay {
    fn drop(&mut self) {
        if let Some(task) = self.running.take() {
            task.abort();
        }
    }
}

/// Accept and forward until aborted; aborting drops the JoinSet, which aborts the connections.
async fn serve(listener: TcpListener, target: SocketAddr) {
    let mut connections = JoinSet::new();
    loop {
        let Ok((mut inbound, _)) = listener.accept().await else { continue };
        while connections.try_join_next().is_some() {}
        connections.spawn(async move {
            if let Ok(mut outbound) = TcpStream::connect(target).await {
                let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
            }
        });
    }
}
