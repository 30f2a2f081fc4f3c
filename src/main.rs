//! The `territorio` command: parses arguments, sets up logging, runs the library.

use clap::Parser;
use tracing_subscriber::EnvFilter;

/// mimalloc rather than glibc's malloc. A server taking edits and answering pages from many
/// threads at once frees most of what it allocates within a request; glibc keeps such memory
/// in per-thread arenas and gave little of it back: in a ten-minute soak the demo server's
/// heap in use fell from 101 to 39 MB while what glibc held from the system grew from 133 to
/// 221 MB. mimalloc returns freed pages to the system (README, "Soak"). Only the command sets
/// it: a program using the library chooses its own.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Gives back to the system what mimalloc keeps of the memory a catalogue's load freed. Each
/// thread's heap keeps freed pages for a moment before returning them, and returns them on a
/// later call from the same thread; the load's parallel work runs on rayon's threads, which then
/// sleep. Collected on each of them and on the loading thread: 50 to 100 MB less resident
/// memory after loading a million zones (README, "Memory and start time at a million zones").
fn give_back_freed_memory() {
    // SAFETY: mi_collect takes no pointer and may be called from any thread at any time.
    rayon::broadcast(|_| unsafe { libmimalloc_sys::mi_collect(true) });
    unsafe { libmimalloc_sys::mi_collect(true) };
}

/// Gives back to the system what mimalloc keeps of the memory the calling thread's heap has
/// freed, and takes back what other threads freed of it: run on a thread of geometry work that
/// is about to sleep (README, "The allocator: mimalloc").
fn give_back_this_threads_memory() {
    // SAFETY: as above.
    unsafe { libmimalloc_sys::mi_collect(false) };
}

fn main() {
    territorio::store::set_after_load(give_back_freed_memory);
    territorio::api::http::workers::set_worker_idle(give_back_this_threads_memory);
    let cli = territorio::cli::Cli::parse();
    // The server logs its requests by default; the other commands only warnings.
    let default_filter = match cli.command {
        territorio::cli::Command::Serve(_) => "warn,tower_http=info,territorio::api=info",
        _ => "warn",
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_env("TERRITORIO_LOG")
                .unwrap_or_else(|_| EnvFilter::new(default_filter)),
        )
        .with_writer(std::io::stderr)
        .init();
    // GDAL's warnings and errors go to the log instead of bare lines on stderr; the ones that
    // matter also come back as errors naming the file.
    gdal::config::set_error_handler(|class, code, message| {
        tracing::debug!(target: "gdal", ?class, code, "{message}");
    });
    match territorio::cli::run(cli) {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            // Library errors already include their cause in their message; print each cause
            // of the chain once.
            let mut message = String::new();
            for cause in e.chain() {
                let text = cause.to_string();
                if !message.contains(&text) {
                    if !message.is_empty() {
                        message.push_str(": ");
                    }
                    message.push_str(&text);
                }
            }
            eprintln!("territorio: {message}");
            std::process::exit(2);
        }
    }
}
