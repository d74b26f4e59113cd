//! `windlass serve`: the HTTP API and the web page over the store (`crate::serve`), until
//! SIGINT or SIGTERM.

use super::{store_access, Context};
use crate::error::Error;
use crate::exit_code::ExitCode;
use crate::host::metrics::Metrics;
use crate::serve::{self, listen, ServeOptions};
use crate::settings::HumanDuration;
use clap::Args;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on; anything but loopback needs WINDLASS_API_TOKEN
    #[arg(long, value_name = "ADDR", default_value = listen::DEFAULT_ADDR)]
    pub listen: SocketAddr,

    /// The folder cascades may be submitted from by name [default: the working directory]
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,

    /// How often the store is read for the sessions that browsers and clients watch
    #[arg(long, value_name = "DURATION", default_value = "300ms")]
    pub poll: HumanDuration,
}

/// The server's options from the settings (shared with `worker --listen`).
pub fn options(ctx: &Context, root: Option<PathBuf>, poll: std::time::Duration) -> ServeOptions {
    let wd = &ctx.settings.working_dir;
    ServeOptions {
        root: root.map(|r| wd.join(r)).unwrap_or_else(|| wd.clone()),
        token: ctx.settings.api_token.clone(),
        poll,
        lease: ctx.settings.heartbeat_lease,
        tool_path: ctx.settings.tool_path.clone(),
    }
}

/// Refuse an exposed address without a token, then bind it.
pub async fn bind(addr: SocketAddr, opts: &ServeOptions) -> Result<tokio::net::TcpListener, Error> {
    listen::check(addr, opts.token.as_ref())?;
    tokio::net::TcpListener::bind(addr).await.map_err(|source| Error::Listen { addr, source })
}

impl ServeArgs {
    pub fn run(self, ctx: &Context) -> Result<ExitCode, Error> {
        let opts = options(ctx, self.root.clone(), self.poll.get());
        let rt = store_access::runtime()?;
        rt.block_on(async {
            let listener = bind(self.listen, &opts).await?;
            let store = crate::store::open(&ctx.settings).await?;
            let bound = listener.local_addr().unwrap_or(self.listen);
            eprintln!("windlass serve: the API and the page on http://{bound}");
            let metrics = Arc::new(Metrics::default());
            metrics.ready.store(true, std::sync::atomic::Ordering::Relaxed);
            let quiet = ctx.global.quiet;
            let stop = async move {
                super::execute::shutdown_signal().await;
                if !quiet {
                    eprintln!("windlass serve: stopping");
                }
            };
            serve::serve(listener, store, metrics, opts, stop)
                .await
                .map_err(|source| Error::Listen { addr: bound, source })?;
            Ok(ExitCode::Success)
        })
    }
}
