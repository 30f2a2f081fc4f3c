//! The `territorio` command: parses arguments, sets up logging, runs the library.

use clap::Parser;
use tracing_subscriber::EnvFilter;

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_env("TERRITORIO_LOG").unwrap_or_else(|_| EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = territorio::cli::Cli::parse();
    match territorio::cli::run(cli) {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("territorio: {e:#}");
            std::process::exit(2);
        }
    }
}
