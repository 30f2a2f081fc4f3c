//! The accept loop of [`super::serve`]: HTTP/1 connections with time limits and a bound on
//! their number, and a graceful shutdown that lets the requests in flight finish.
//!
//! Each connection is its own task. What a slow or hostile client can hold is one task and
//! one socket, for at most the configured times:
//! - hyper's header read timeout bounds the wait for a request's headers, from the moment the
//!   server starts reading them (a new connection, or a keep-alive one after its last answer)
//!   to their last byte: a client sending its headers one byte at a time, and an idle
//!   keep-alive connection, are both closed after it;
//! - [`Watched`] closes a connection on which no byte comes for the idle limit while the
//!   server waits to read (a request body that stops coming), and one whose answer waits
//!   longer than the write limit for the client to read it;
//! - a semaphore bounds the connections; the one over the bound is closed at once, so that
//!   thousands of idle sockets cannot starve the server of file descriptors.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};
use tower::ServiceExt;

use super::http::request::ClientAddr;
use super::http::ServerConfig;
use super::App;

/// The connection limits of [`ServerConfig`].
#[derive(Debug, Clone, Copy)]
pub(super) struct Limits {
    header: Duration,
    idle: Duration,
    write: Duration,
    connections: usize,
}

impl Limits {
    pub(super) fn of(config: &ServerConfig) -> Limits {
        Limits {
            header: config.header_timeout,
            // A request being answered moves no byte: the idle limit must outlast it.
            idle: config
                .idle_timeout
                .max(config.request_timeout + Duration::from_secs(1)),
            write: config.write_timeout,
            connections: config.max_connections.max(1),
        }
    }
}

/// Accepts connections until `shutdown` completes, then waits for the open ones to finish
/// their requests in flight.
pub(super) async fn accept_loop(
    listener: tokio::net::TcpListener,
    app: App,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) {
    let slots = Arc::new(tokio::sync::Semaphore::new(limits.connections));
    let (closing, closed) = tokio::sync::watch::channel(false);
    let mut connections = tokio::task::JoinSet::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            _ = &mut shutdown => break,
            // Finished connection tasks are collected as they end.
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors or a connection reset before it was accepted:
                    // pause briefly rather than spin.
                    tracing::warn!("accepting a connection: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            tracing::warn!(
                "{} connections open: closing a new one at once",
                limits.connections
            );
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(app.clone().map_request(
            move |r: axum::http::Request<Incoming>| {
                // The client's address, for the throttling of failed sign-ins.
                let mut r = r.map(Body::new);
                r.extensions_mut().insert(ClientAddr(peer.ip()));
                r
            },
        ));
        let mut closed = closed.clone();
        connections.spawn(async move {
            let _slot = slot;
            let io = TokioIo::new(Watched::new(stream, limits.idle, limits.write));
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(limits.header)
                .keep_alive(true);
            let connection = builder.serve_connection(io, service);
            let mut connection = std::pin::pin!(connection);
            tokio::select! {
                result = connection.as_mut() => {
                    if let Err(e) = result {
                        tracing::debug!("connection ended: {e}");
                    }
                }
                _ = closed.changed() => {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.await;
                }
            }
        });
    }
    let _ = closing.send(true);
    while connections.join_next().await.is_some() {}
}

/// A socket that fails with `TimedOut` when a write has waited longer than `write` for the
/// client to read, or when a read has waited `idle` since the last byte came or went.
struct Watched<T> {
    inner: T,
    idle: Duration,
    write: Duration,
    /// When the connection last moved a byte.
    last_activity: Instant,
    /// Armed while reads wait (at the last activity + `idle`).
    read_deadline: Pin<Box<Sleep>>,
    /// Armed while a write is pending (from its start + `write`).
    write_deadline: Pin<Box<Sleep>>,
    write_pending_since: Option<Instant>,
}

impl<T> Watched<T> {
    fn new(inner: T, idle: Duration, write: Duration) -> Watched<T> {
        let now = Instant::now();
        Watched {
            inner,
            idle,
            write,
            last_activity: now,
            read_deadline: Box::pin(tokio::time::sleep_until(now + idle)),
            write_deadline: Box::pin(tokio::time::sleep_until(now + write)),
            write_pending_since: None,
        }
    }

    /// A write's outcome, or `TimedOut` once it has been pending for the write limit.
    fn watch_write(
        &mut self,
        polled: Poll<io::Result<usize>>,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<usize>> {
        match polled {
            Poll::Ready(result) => {
                self.write_pending_since = None;
                self.last_activity = Instant::now();
                Poll::Ready(result)
            }
            Poll::Pending => {
                let since = *self.write_pending_since.get_or_insert_with(Instant::now);
                let at = since + self.write;
                let what = "the client does not read its answer";
                match check(&mut self.write_deadline, at, what, cx) {
                    Ok(()) => Poll::Pending,
                    Err(e) => Poll::Ready(Err(e)),
                }
            }
        }
    }
}

/// Polls `deadline`, moved to `at` first; an error naming `what` when it has passed.
fn check(
    deadline: &mut Pin<Box<Sleep>>,
    at: Instant,
    what: &str,
    cx: &mut Context<'_>,
) -> io::Result<()> {
    if deadline.deadline() != at {
        deadline.as_mut().reset(at);
    }
    match deadline.as_mut().poll(cx) {
        Poll::Ready(()) => Err(io::Error::new(io::ErrorKind::TimedOut, what.to_string())),
        Poll::Pending => Ok(()),
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Watched<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        match Pin::new(&mut self.inner).poll_read(cx, buf) {
            Poll::Ready(result) => {
                if buf.filled().len() > before {
                    self.last_activity = Instant::now();
                }
                Poll::Ready(result)
            }
            Poll::Pending => {
                let at = self.last_activity + self.idle;
                match check(
                    &mut self.read_deadline,
                    at,
                    "connection idle for too long",
                    cx,
                ) {
                    Ok(()) => Poll::Pending,
                    Err(e) => Poll::Ready(Err(e)),
                }
            }
        }
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Watched<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, data);
        self.watch_write(polled, cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.watch_write(polled, cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
