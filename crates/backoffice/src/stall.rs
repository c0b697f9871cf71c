//! A connection whose writes may not stall. hyper bounds how long a client may take to send a
//! request's headers, not how long it may leave an answer unread: a device that asks for a
//! package and stops reading would keep its connection slot, and the piece of the package in
//! memory, for as long as it liked, and a server being stopped would wait for it. Wrapped in
//! [`WriteStall`], a connection on which nothing could be written for the limit fails with
//! `TimedOut`, and hyper closes it.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// `io`, whose writes and flushes fail once they have waited `limit` without progress.
#[derive(Debug)]
pub struct WriteStall<I> {
    io: I,
    limit: Duration,
    /// Set while a write or flush waits; cleared by any progress.
    waiting: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl<I> WriteStall<I> {
    pub fn new(io: I, limit: Duration) -> Self {
        Self {
            io,
            limit,
            waiting: None,
        }
    }

    /// What a write or flush that returned `outcome` gives: its result, or `TimedOut` once
    /// the connection has taken nothing for `limit`.
    fn bounded<T>(
        &mut self,
        cx: &mut Context<'_>,
        outcome: Poll<io::Result<T>>,
    ) -> Poll<io::Result<T>> {
        if outcome.is_ready() {
            self.waiting = None;
            return outcome;
        }
        let limit = self.limit;
        let timer = self
            .waiting
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
        if timer.as_mut().poll(cx).is_ready() {
            self.waiting = None;
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!(
                    "the client read nothing of the answer for {} s",
                    limit.as_secs()
                ),
            )));
        }
        Poll::Pending
    }
}

impl<I: AsyncRead + Unpin> AsyncRead for WriteStall<I> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_read(cx, buf)
    }
}

impl<I: AsyncWrite + Unpin> AsyncWrite for WriteStall<I> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let outcome = Pin::new(&mut this.io).poll_write(cx, buf);
        this.bounded(cx, outcome)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let outcome = Pin::new(&mut this.io).poll_write_vectored(cx, bufs);
        this.bounded(cx, outcome)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let outcome = Pin::new(&mut this.io).poll_flush(cx);
        this.bounded(cx, outcome)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let outcome = Pin::new(&mut this.io).poll_shutdown(cx);
        this.bounded(cx, outcome)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    const LIMIT: Duration = Duration::from_millis(300);

    /// A peer that stops reading: the write fails after the limit, not before.
    #[tokio::test]
    async fn a_write_the_peer_does_not_read_fails_after_the_limit() {
        let (near, _far) = tokio::io::duplex(1024);
        let mut near = WriteStall::new(near, LIMIT);
        let started = std::time::Instant::now();
        let error = near
            .write_all(&[7u8; 64 * 1024])
            .await
            .expect_err("a write nobody reads must fail");
        assert_eq!(error.kind(), io::ErrorKind::TimedOut);
        let waited = started.elapsed();
        assert!(
            waited >= LIMIT && waited < LIMIT * 10,
            "gave up after {waited:?}"
        );
    }

    /// A peer that reads slowly, but within the limit each time, gets everything.
    #[tokio::test]
    async fn a_slow_reader_is_not_cut_off() {
        let (near, mut far) = tokio::io::duplex(1024);
        let mut near = WriteStall::new(near, LIMIT);
        let reader = tokio::spawn(async move {
            let mut got = 0;
            let mut piece = [0u8; 512];
            loop {
                tokio::time::sleep(LIMIT / 3).await;
                match far.read(&mut piece).await.unwrap() {
                    0 => return got,
                    n => got += n,
                }
            }
        });
        near.write_all(&[7u8; 8 * 1024]).await.unwrap();
        near.shutdown().await.unwrap();
        drop(near);
        assert_eq!(reader.await.unwrap(), 8 * 1024);
    }
}
