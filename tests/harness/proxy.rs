//! A fault-injecting TCP proxy on loopback, between a workstation and its back office: latency,
//! a bandwidth limit, a cut after N bytes, a stall and refused connections, each per direction
//! where that makes sense, changeable while connections are open.
//!
//! Written here rather than taken from `noxious`, whose server crashes at low rates and drops
//! what it had buffered when the upstream closes: this one paces with a token bucket that never
//! divides by zero, and flushes everything it read before passing a close on.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::Instant;

/// Which way bytes travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Client to server: requests.
    Up,
    /// Server to client: responses.
    Down,
}

/// The faults of one direction.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Link {
    /// Every chunk read at `t` is written at `t + latency`; chunks do not wait for each other.
    pub latency: Duration,
    /// Bytes per second; `None` is unlimited. Rates under 1 B/s count as 1 B/s.
    pub bandwidth: Option<u64>,
    /// Forward exactly this many bytes, counted from when the faults were last set (or from
    /// the connection's start if later), then close both sides of the connection.
    pub cut_after: Option<u64>,
}

/// Everything the proxy does to the traffic. The default forwards faithfully.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Faults {
    pub up: Link,
    pub down: Link,
    /// Read everything, forward nothing: the client waits until its own timeout. A connection
    /// that swallowed bytes is closed once the stall is lifted, as its stream is now corrupt.
    pub stall: bool,
    /// Close new connections at once, and open ones at their next chunk: the link is down.
    pub refuse: bool,
}

impl Faults {
    pub fn none() -> Faults {
        Faults::default()
    }

    /// The same latency each way.
    pub fn latency(each_way: Duration) -> Faults {
        let link = Link {
            latency: each_way,
            ..Link::default()
        };
        Faults {
            up: link,
            down: link,
            ..Faults::default()
        }
    }

    /// The same bandwidth limit each way, in bytes per second.
    pub fn bandwidth(bytes_per_second: u64) -> Faults {
        let link = Link {
            bandwidth: Some(bytes_per_second),
            ..Link::default()
        };
        Faults {
            up: link,
            down: link,
            ..Faults::default()
        }
    }

    /// Cut every connection after `bytes` forwarded in `direction`.
    pub fn cut(direction: Direction, bytes: u64) -> Faults {
        let mut faults = Faults::default();
        faults.link_mut(direction).cut_after = Some(bytes);
        faults
    }

    pub fn stall() -> Faults {
        Faults {
            stall: true,
            ..Faults::default()
        }
    }

    pub fn refuse() -> Faults {
        Faults {
            refuse: true,
            ..Faults::default()
        }
    }

    pub fn link(&self, direction: Direction) -> &Link {
        match direction {
            Direction::Up => &self.up,
            Direction::Down => &self.down,
        }
    }

    pub fn link_mut(&mut self, direction: Direction) -> &mut Link {
        match direction {
            Direction::Up => &mut self.up,
            Direction::Down => &mut self.down,
        }
    }
}

/// What went through the proxy since it started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Bytes forwarded client to server.
    pub up: u64,
    /// Bytes forwarded server to client.
    pub down: u64,
    /// Connections accepted and forwarded.
    pub connections: u64,
    /// Connections closed at once because the proxy was refusing.
    pub refused: u64,
}

impl Stats {
    pub fn bytes(&self, direction: Direction) -> u64 {
        match direction {
            Direction::Up => self.up,
            Direction::Down => self.down,
        }
    }
}

/// What the accept loop and every connection share.
#[derive(Debug)]
struct Shared {
    upstream: SocketAddr,
    faults: watch::Sender<Faults>,
    stats: watch::Sender<Stats>,
    /// Bumped to close every open connection at once.
    kill: watch::Sender<u64>,
}

/// A proxy listening on 127.0.0.1 (a port the system chose) and forwarding to `upstream`.
/// Dropping it closes the listener and every connection.
#[derive(Debug)]
pub struct Proxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: JoinHandle<()>,
}

impl Proxy {
    pub async fn start(upstream: SocketAddr) -> io::Result<Proxy> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            upstream,
            faults: watch::Sender::new(Faults::default()),
            stats: watch::Sender::new(Stats::default()),
            kill: watch::Sender::new(0),
        });
        let accept = tokio::spawn(accept_loop(listener, Arc::clone(&shared)));
        Ok(Proxy {
            addr,
            shared,
            accept,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The proxy's address as a back-office URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Replaces the faults; open connections apply them from their next chunk.
    pub fn set(&self, faults: Faults) {
        self.shared.faults.send_replace(faults);
    }

    /// Forwards faithfully again.
    pub fn clear(&self) {
        self.set(Faults::none());
    }

    pub fn faults(&self) -> Faults {
        *self.shared.faults.borrow()
    }

    pub fn stats(&self) -> Stats {
        *self.shared.stats.borrow()
    }

    /// Waits until the counters satisfy `done`: how tests learn that traffic is in flight
    /// without sleeping.
    pub async fn wait_for(&self, done: impl Fn(&Stats) -> bool) {
        let mut stats = self.shared.stats.subscribe();
        // The sender lives as long as `self`, so this cannot fail while we wait.
        let _ = stats.wait_for(|s| done(s)).await;
    }

    /// Closes every open connection at once, without flushing.
    pub fn drop_connections(&self) {
        self.shared.kill.send_modify(|k| *k += 1);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        // The accept task owns the connections' join set: aborting it ends them all.
        self.accept.abort();
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((client, _)) = accepted else { continue };
                if shared.faults.borrow().refuse {
                    shared.stats.send_modify(|s| s.refused += 1);
                    drop(client);
                    continue;
                }
                shared.stats.send_modify(|s| s.connections += 1);
                connections.spawn(connection(client, Arc::clone(&shared)));
            }
            // Reaps finished connections so the set does not grow for the proxy's lifetime.
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

/// How one direction ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    /// The source closed and everything read was written, then the write side was shut down.
    Closed,
    /// A socket failed; the other direction may still have data to deliver.
    Broken,
    /// A fault cut the connection: both sides close now.
    Cut,
}

async fn connection(client: TcpStream, shared: Arc<Shared>) {
    let mut kill = shared.kill.subscribe();
    let Ok(server) = TcpStream::connect(shared.upstream).await else {
        return;
    };
    // Small writes must leave at once, or Nagle's algorithm adds latency nobody asked for.
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();
    let up = pump(
        client_read,
        server_write,
        Direction::Up,
        Arc::clone(&shared),
    );
    let down = pump(
        server_read,
        client_write,
        Direction::Down,
        Arc::clone(&shared),
    );
    tokio::pin!(up, down);
    let (mut up_done, mut down_done) = (false, false);
    while !(up_done && down_done) {
        tokio::select! {
            end = &mut up, if !up_done => {
                if end == End::Cut {
                    return;
                }
                up_done = true;
            }
            end = &mut down, if !down_done => {
                if end == End::Cut {
                    return;
                }
                down_done = true;
            }
            _ = kill.changed() => return,
        }
    }
}

/// Moves bytes one way: a reader that stamps each chunk with the time it was read, and a
/// writer that delivers it at that time plus the latency, paced by the bandwidth limit.
async fn pump(
    mut from: OwnedReadHalf,
    to: OwnedWriteHalf,
    direction: Direction,
    shared: Arc<Shared>,
) -> End {
    // Bounded, so a slow link pushes back on the sender instead of buffering without limit.
    let (tx, rx) = mpsc::channel::<(Instant, Vec<u8>)>(64);
    let reader = async move {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            match from.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if tx.send((Instant::now(), buf[..n].to_vec())).await.is_err() {
                        break;
                    }
                }
            }
        }
    };
    let writer = deliver(rx, to, direction, &shared);
    tokio::pin!(reader, writer);
    let mut reading = true;
    loop {
        tokio::select! {
            () = &mut reader, if reading => reading = false,
            end = &mut writer => return end,
        }
    }
}

async fn deliver(
    mut chunks: mpsc::Receiver<(Instant, Vec<u8>)>,
    mut to: OwnedWriteHalf,
    direction: Direction,
    shared: &Shared,
) -> End {
    let mut faults = shared.faults.subscribe();
    let mut budget = faults.borrow_and_update().link(direction).cut_after;
    let mut swallowed = false;
    // The earliest time the bandwidth limit lets the next slice go.
    let mut next_slot = Instant::now();
    while let Some((read_at, chunk)) = chunks.recv().await {
        if faults.has_changed().unwrap_or(false) {
            budget = faults.borrow_and_update().link(direction).cut_after;
        }
        let now = *faults.borrow();
        if now.refuse {
            return End::Cut;
        }
        if now.stall {
            swallowed = true;
            continue;
        }
        if swallowed {
            return End::Cut;
        }
        tokio::time::sleep_until(read_at + now.link(direction).latency).await;
        let mut data = &chunk[..];
        while !data.is_empty() {
            let allowed = budget.map_or(data.len(), |b| usize::try_from(b).unwrap_or(usize::MAX));
            let mut len = data.len().min(allowed);
            // Re-read for every slice so a new limit applies to data already queued.
            let bandwidth = faults.borrow().link(direction).bandwidth;
            if let Some(rate) = bandwidth {
                let rate = rate.max(1);
                // Slices of 1/20 s keep the pacing smooth at any rate, down to one byte. A
                // slice goes out once the link has had the time to carry it, the first of a
                // burst too: every byte is charged.
                len = len.min(usize::try_from(rate / 20).unwrap_or(usize::MAX).max(1));
                let start = next_slot.max(Instant::now());
                next_slot = start + Duration::from_secs_f64(len as f64 / rate as f64);
                tokio::time::sleep_until(next_slot).await;
            }
            if len > 0 {
                if to.write_all(&data[..len]).await.is_err() {
                    return End::Broken;
                }
                shared.stats.send_modify(|s| match direction {
                    Direction::Up => s.up += len as u64,
                    Direction::Down => s.down += len as u64,
                });
                data = &data[len..];
            }
            if let Some(left) = budget.as_mut() {
                *left -= len as u64;
                if *left == 0 {
                    let _ = to.shutdown().await;
                    return End::Cut;
                }
            }
        }
    }
    if swallowed {
        return End::Cut;
    }
    let _ = to.shutdown().await;
    End::Closed
}
