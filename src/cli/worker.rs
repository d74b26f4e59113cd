//! `windlass worker`: run submitted sessions and recover orphans until stopped.

use super::{execute, store_access, Context};
use crate::error::Error;
use crate::exit_code::ExitCode;
use crate::host::metrics::Metrics;
use crate::host::worker::{self, WorkerEvent, WorkerOptions};
use crate::host::Host;
use clap::Args;
use std::net::SocketAddr;
use std::num::NonZeroUsize;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// How long requests in flight may take once the worker loop has stopped.
const SERVER_DRAIN: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, Args)]
pub struct WorkerArgs {
    /// How many sessions to run at once
    #[arg(long, value_name = "N", default_value = "4")]
    pub concurrency: NonZeroUsize,

    /// Serve /health, /ready, /metrics, the HTTP API and the page on this address, e.g.
    /// 127.0.0.1:9100; anything but loopback needs WINDLASS_API_TOKEN
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,

    /// Run what is queued and the orphans found now, then exit
    #[arg(long)]
    pub once: bool,
}

impl WorkerArgs {
    pub fn run(self, ctx: &Context) -> Result<ExitCode, Error> {
        let client = execute::client(ctx);
        let rt = store_access::runtime()?;
        let quiet = ctx.global.quiet;
        rt.block_on(async {
            let metrics = Arc::new(Metrics::default());
            let store = crate::store::open(&ctx.settings).await?;
            let store = crate::store::Timed::wrap(store, metrics.store_ops.clone());
            let mut host = execute::host(ctx, None, store.clone(), client).await?;
            host.flushes_at_exit = true;
            // The server outlives the worker loop (`/ready` says 503 while it drains) and
            // stops after it.
            let (server_stop, server_stopped) = watch::channel(false);
            let mut server = None;
            if let Some(addr) = self.listen {
                let opts = super::serve::options(ctx, None, crate::serve::poller::POLL);
                let listener = super::serve::bind(addr, &opts).await?;
                let bound = listener.local_addr().unwrap_or(addr);
                eprintln!("windlass worker: serving /health, /ready, /metrics, the API and the page on http://{bound}");
                let mut stopped = server_stopped.clone();
                let until = async move {
                    let _ = stopped.wait_for(|s| *s).await;
                };
                server = Some(tokio::spawn(crate::serve::serve(listener, store.clone(), metrics.clone(), opts, until)));
            }
            let (stop, stopped) = watch::channel(false);
            tokio::spawn(async move {
                execute::shutdown_signal().await;
                eprintln!("windlass worker: stopping; running sessions keep their last checkpoint and are released");
                let _ = stop.send(true);
            });
            let opts = WorkerOptions { concurrency: self.concurrency.get(), once: self.once, orphans_only: false };
            let ran = run(host, opts, metrics, stopped, quiet).await;
            let _ = server_stop.send(true);
            if let Some(server) = server {
                let _ = tokio::time::timeout(SERVER_DRAIN, server).await;
            }
            ran?;
            Ok(ExitCode::Success)
        })
    }
}

/// The worker loop with its events printed on stderr (unless quiet).
pub async fn run(
    host: Host,
    opts: WorkerOptions,
    metrics: Arc<Metrics>,
    stopped: watch::Receiver<bool>,
    quiet: bool,
) -> Result<(), Error> {
    let report: Arc<dyn Fn(WorkerEvent) + Send + Sync> = Arc::new(move |e| {
        if !quiet {
            eprintln!("windlass worker: {}", describe(&e));
        }
    });
    worker::run(host, opts, metrics, stopped, report).await.map_err(Error::from)
}

pub fn describe(e: &WorkerEvent) -> String {
    match e {
        WorkerEvent::Claimed { session, epoch, orphan } => {
            let what = if *orphan { "orphan" } else { "queued session" };
            format!("claimed {what} {session} (epoch {epoch})")
        }
        WorkerEvent::Lost { session, reason } => format!("skipped {session}: {reason}"),
        WorkerEvent::Ended { session, status, seconds, error } => match error {
            Some(e) => format!("{session} {status} after {seconds:.1}s: {e}"),
            None => format!("{session} {status} after {seconds:.1}s"),
        },
        WorkerEvent::Failed { session, error } => format!("{session} could not be run: {error}"),
    }
}
