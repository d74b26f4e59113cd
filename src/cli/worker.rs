//! `windlass worker`: run submitted sessions and recover orphans until stopped.

use super::{execute, store_access, Context};
use crate::error::Error;
use crate::exit_code::ExitCode;
use crate::host::metrics::Metrics;
use crate::host::worker::{self, WorkerEvent, WorkerOptions};
use crate::host::{http, Host};
use clap::Args;
use std::net::SocketAddr;
use std::num::NonZeroUsize;
use std::sync::Arc;
use tokio::sync::watch;

#[derive(Debug, Clone, Args)]
pub struct WorkerArgs {
    /// How many sessions to run at once
    #[arg(long, value_name = "N", default_value = "4")]
    pub concurrency: NonZeroUsize,

    /// Serve /health, /ready and /metrics over HTTP on this address, e.g. 127.0.0.1:9100
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
            let store = crate::store::open(&ctx.settings).await?;
            let mut host = execute::host(ctx, None, store.clone(), client).await?;
            host.flushes_at_exit = true;
            let metrics = Arc::new(Metrics::default());
            if let Some(addr) = self.listen {
                let listener = http::bind(addr).await.map_err(|source| Error::Listen { addr, source })?;
                let bound = listener.local_addr().unwrap_or(addr);
                eprintln!("windlass worker: serving /health, /ready and /metrics on http://{bound}");
                tokio::spawn(http::serve(listener, store.clone(), metrics.clone()));
            }
            let (stop, stopped) = watch::channel(false);
            tokio::spawn(async move {
                execute::shutdown_signal().await;
                eprintln!("windlass worker: stopping; running sessions keep their last checkpoint and are released");
                let _ = stop.send(true);
            });
            let opts = WorkerOptions { concurrency: self.concurrency.get(), once: self.once, orphans_only: false };
            run(host, opts, metrics, stopped, quiet).await?;
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
