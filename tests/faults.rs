//! Sync through a fault-injecting proxy on loopback: latency, a bandwidth limit, connections cut
//! mid-request and mid-response, a stall, refused connections, and a back office that crashes
//! and restarts mid-sync. Under each, the faulty attempt fails as offline (never a false
//! success), the retry after the fault clears converges, and every request and every agency
//! decision exists exactly once on each side. The proxy's own behaviour is tested first.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use guichet_domain::request::{Action, RequestStatus};
use guichet_tests::proxy::{Direction, Faults, Proxy};
use guichet_tests::{Device, Server};
use guichet_workstation::clock::SystemClock;
use guichet_workstation::store::OutboxState;
use guichet_workstation::sync::{SyncError, SyncReport};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::{Instant, timeout};

const CENTER: &str = "ATH-01";

/// Requests taken offline in each scenario: about a hundred outbox entries, one push batch.
const REQUESTS: u32 = 24;

/// The sync client's timeout: short, so a stall costs seconds, not minutes.
const CALL_TIMEOUT: Duration = Duration::from_secs(3);

/// Every test is bounded: a hang is a failure, not a stuck CI run.
async fn bounded<F: Future<Output = ()>>(limit: Duration, test: F) {
    timeout(limit, test)
        .await
        .expect("the test did not finish in time");
}

// ---------------------------------------------------------------------------------------------
// The proxy itself, against plain TCP peers.

/// An upstream that echoes everything back.
async fn echo_server() -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let (mut r, mut w) = socket.split();
                let _ = tokio::io::copy(&mut r, &mut w).await;
            });
        }
    });
    addr
}

/// An upstream that writes `payload` to its first connection, then closes it.
async fn talker(payload: Vec<u8>) -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        socket.write_all(&payload).await.unwrap();
        socket.shutdown().await.unwrap();
    });
    addr
}

/// An upstream that counts what its first connection sends until it closes.
async fn counter() -> (std::net::SocketAddr, tokio::sync::oneshot::Receiver<usize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut all = Vec::new();
        let _ = socket.read_to_end(&mut all).await;
        let _ = tx.send(all.len());
    });
    (addr, rx)
}

/// Reads until the peer closes (or resets), returning what arrived.
async fn read_all(socket: &mut TcpStream) -> Vec<u8> {
    let mut all = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match socket.read(&mut buf).await {
            Ok(0) | Err(_) => return all,
            Ok(n) => all.extend_from_slice(&buf[..n]),
        }
    }
}

#[tokio::test]
async fn proxy_forwards_everything_and_counts_it() {
    bounded(Duration::from_secs(10), async {
        let proxy = Proxy::start(echo_server().await).await.unwrap();
        let mut socket = TcpStream::connect(proxy.addr()).await.unwrap();
        let sent: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let (mut r, mut w) = socket.split();
        let write = async {
            w.write_all(&sent).await.unwrap();
            w.shutdown().await.unwrap();
        };
        let read = async {
            let mut back = Vec::new();
            r.read_to_end(&mut back).await.unwrap();
            back
        };
        let ((), back) = tokio::join!(write, read);
        assert_eq!(back, sent);
        let stats = proxy.stats();
        assert_eq!(stats.up, 200_000);
        assert_eq!(stats.down, 200_000);
        assert_eq!(stats.connections, 1);
        assert_eq!(stats.refused, 0);
    })
    .await;
}

#[tokio::test]
async fn proxy_latency_delays_each_chunk_without_queueing_the_delays() {
    bounded(Duration::from_secs(10), async {
        let proxy = Proxy::start(echo_server().await).await.unwrap();
        proxy.set(Faults::latency(Duration::from_millis(150)));
        let mut socket = TcpStream::connect(proxy.addr()).await.unwrap();
        socket.set_nodelay(true).unwrap();

        // One byte there and back: two crossings of 150 ms.
        let start = Instant::now();
        socket.write_all(b"x").await.unwrap();
        let mut one = [0u8; 1];
        socket.read_exact(&mut one).await.unwrap();
        let round_trip = start.elapsed();
        assert!(round_trip >= Duration::from_millis(300), "{round_trip:?}");
        assert!(round_trip < Duration::from_millis(800), "{round_trip:?}");

        // Ten chunks 20 ms apart: if the delays queued behind each other this would take
        // three seconds; delivered at read time + latency it takes about 180 + 300 ms.
        let start = Instant::now();
        for _ in 0..10 {
            socket.write_all(b"y").await.unwrap();
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let mut ten = [0u8; 10];
        socket.read_exact(&mut ten).await.unwrap();
        let all = start.elapsed();
        assert!(all >= Duration::from_millis(480), "{all:?}");
        assert!(all < Duration::from_millis(1000), "{all:?}");
    })
    .await;
}

#[tokio::test]
async fn proxy_cuts_a_request_after_exactly_n_bytes() {
    bounded(Duration::from_secs(10), async {
        let (upstream, counted) = counter().await;
        let proxy = Proxy::start(upstream).await.unwrap();
        proxy.set(Faults::cut(Direction::Up, 1234));
        let mut socket = TcpStream::connect(proxy.addr()).await.unwrap();
        // The write may fail once the proxy closes: what matters is what got through.
        let _ = socket.write_all(&[7u8; 10_000]).await;
        assert_eq!(counted.await.unwrap(), 1234);
        // The client's side is closed too.
        assert!(read_all(&mut socket).await.is_empty());
        assert_eq!(proxy.stats().up, 1234);
    })
    .await;
}

#[tokio::test]
async fn proxy_cuts_a_response_after_exactly_n_bytes() {
    bounded(Duration::from_secs(10), async {
        let proxy = Proxy::start(talker(vec![9u8; 10_000]).await).await.unwrap();
        proxy.set(Faults::cut(Direction::Down, 777));
        let mut socket = TcpStream::connect(proxy.addr()).await.unwrap();
        assert_eq!(read_all(&mut socket).await.len(), 777);
        assert_eq!(proxy.stats().down, 777);
    })
    .await;
}

#[tokio::test]
async fn proxy_paces_bandwidth_and_flushes_after_the_upstream_closes() {
    bounded(Duration::from_secs(10), async {
        // 30 kB at 20 kB/s: about 1.5 s. The upstream closes at once; nothing may be lost.
        let payload: Vec<u8> = (0..30_000u32).map(|i| (i % 253) as u8).collect();
        let proxy = Proxy::start(talker(payload.clone()).await).await.unwrap();
        proxy.set(Faults::bandwidth(20_000));
        let start = Instant::now();
        let mut socket = TcpStream::connect(proxy.addr()).await.unwrap();
        let got = read_all(&mut socket).await;
        let took = start.elapsed();
        assert_eq!(got, payload);
        assert!(took >= Duration::from_millis(1300), "{took:?}");
        assert!(took < Duration::from_millis(2200), "{took:?}");
    })
    .await;
}

#[tokio::test]
async fn proxy_survives_a_rate_of_a_few_bytes_per_second() {
    bounded(Duration::from_secs(10), async {
        // 10 B/s: one byte per 100 ms, the first at once; zero and sub-unit rates count as 1.
        let proxy = Proxy::start(talker(b"hello".to_vec()).await).await.unwrap();
        proxy.set(Faults::bandwidth(10));
        let start = Instant::now();
        let mut socket = TcpStream::connect(proxy.addr()).await.unwrap();
        assert_eq!(read_all(&mut socket).await, b"hello");
        let took = start.elapsed();
        assert!(took >= Duration::from_millis(400), "{took:?}");
        assert!(took < Duration::from_millis(1500), "{took:?}");

        let proxy = Proxy::start(talker(b"ab".to_vec()).await).await.unwrap();
        proxy.set(Faults::bandwidth(0));
        let mut socket = TcpStream::connect(proxy.addr()).await.unwrap();
        assert_eq!(read_all(&mut socket).await, b"ab");
    })
    .await;
}

#[tokio::test]
async fn proxy_stalls_then_refuses() {
    bounded(Duration::from_secs(10), async {
        let proxy = Proxy::start(echo_server().await).await.unwrap();
        proxy.set(Faults::stall());
        let mut socket = TcpStream::connect(proxy.addr()).await.unwrap();
        socket.write_all(b"anyone?").await.unwrap();
        let mut buf = [0u8; 7];
        let waited = timeout(Duration::from_millis(300), socket.read(&mut buf)).await;
        assert!(waited.is_err(), "a stalled link answered: {waited:?}");
        assert_eq!(proxy.stats().up, 0);

        // Lifting the stall closes the connection that swallowed bytes at its next chunk.
        proxy.clear();
        socket.write_all(b"again").await.unwrap();
        assert!(read_all(&mut socket).await.is_empty());

        proxy.set(Faults::refuse());
        let mut refused = TcpStream::connect(proxy.addr()).await.unwrap();
        let _ = refused.write_all(b"hello").await;
        assert!(read_all(&mut refused).await.is_empty());
        assert_eq!(proxy.stats().refused, 1);
        assert_eq!(proxy.stats().connections, 1);

        proxy.clear();
        let mut fine = TcpStream::connect(proxy.addr()).await.unwrap();
        fine.write_all(b"ok").await.unwrap();
        let mut two = [0u8; 2];
        fine.read_exact(&mut two).await.unwrap();
        assert_eq!(&two, b"ok");
    })
    .await;
}

// ---------------------------------------------------------------------------------------------
// A workstation and a back office through the proxy.

/// The back office's storage keys receipts by their canonical form.
fn canonical(receipt: &str) -> String {
    guichet_domain::receipt::ReceiptNumber::parse(receipt)
        .unwrap()
        .as_str()
        .to_owned()
}

fn outbox_count(device: &Device, state: OutboxState) -> u64 {
    device.ws.outbox_count(state).unwrap()
}

/// A server, a proxy in front of it and a device enrolled through the proxy, with the
/// catalogue already pulled.
async fn setup() -> (Server, Proxy, Device) {
    let server = Server::start(CENTER).await;
    let proxy = Proxy::start(server.addr).await.unwrap();
    let mut device = Device::enroll_through(
        &server,
        &proxy.url(),
        CENTER,
        Arc::new(SystemClock),
        CALL_TIMEOUT,
    )
    .await;
    let first = device.sync().await.unwrap();
    assert!(first.pulled >= 1, "{first:?}");
    (server, proxy, device)
}

/// Syncs until a run succeeds; every failure on the way must be offline. Returns the
/// successful run and how many attempts failed before it.
async fn sync_until_ok(device: &mut Device) -> (SyncReport, u32) {
    for failed in 0..3 {
        match device.sync().await {
            Ok(report) => return (report, failed),
            Err(e) => assert!(matches!(e, SyncError::Offline(_)), "{e}"),
        }
    }
    panic!("sync still failing with the link healthy");
}

/// How a fault is expected to show in the attempt made under it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// Slower, but the call succeeds.
    Succeeds,
    /// The call fails as offline; the back office never saw the whole request.
    FailsUnapplied,
    /// The call fails as offline after the back office applied it: the retry sees duplicates.
    FailsApplied,
}

/// One sync attempt under `faults`, then retries with the link healthy. Returns the
/// successful report that carried the work.
async fn attempt(proxy: &Proxy, device: &mut Device, faults: Faults, expect: Expect) -> SyncReport {
    let before = proxy.stats();
    proxy.set(faults);
    let under_fault = device.sync().await;
    let moved = proxy.stats();
    proxy.clear();
    match (expect, under_fault) {
        (Expect::Succeeds, Ok(report)) => report,
        (Expect::Succeeds, Err(e)) => panic!("{faults:?}: {e}"),
        (_, Ok(report)) => panic!("{faults:?}: a false success {report:?}"),
        (_, Err(e)) => {
            assert!(matches!(e, SyncError::Offline(_)), "{faults:?}: {e}");
            assert!(e.is_transient());
            // A cut forwards exactly its bytes in its direction.
            for direction in [Direction::Up, Direction::Down] {
                if let Some(n) = faults.link(direction).cut_after {
                    assert_eq!(
                        moved.bytes(direction) - before.bytes(direction),
                        n,
                        "{direction:?}"
                    );
                }
            }
            if faults.stall {
                assert_eq!(moved.up, before.up, "a stalled link forwarded bytes");
            }
            let (report, failed) = sync_until_ok(device).await;
            // The broken connection must not be pooled and reused: the first sync after the
            // link heals succeeds.
            assert_eq!(failed, 0, "retries failed after {faults:?} was lifted");
            report
        }
    }
}

/// Every request taken offline is on the back office exactly once, as the workstation has it.
async fn assert_on_server_once(server: &Server, device: &Device, receipts: &[String]) {
    let storage = server.office.storage();
    let mut agencies = BTreeSet::new();
    for receipt in receipts {
        let on_server = storage
            .request_by_receipt(&canonical(receipt))
            .await
            .unwrap();
        let here = device.ws.request(receipt).unwrap();
        assert_eq!(on_server.id, here.summary.id, "{receipt}");
        assert_eq!(on_server.receipt, canonical(receipt));
        assert_eq!(on_server.center, CENTER);
        assert_eq!(on_server.device, here.device_code);
        assert_eq!(on_server.service, here.summary.service_code);
        assert_eq!(on_server.agency, here.agency);
        assert_eq!(on_server.status, RequestStatus::Dispatched);
        assert_eq!(on_server.status, here.summary.status);
        assert_eq!(on_server.form, here.form, "{receipt}");
        assert_eq!(on_server.paid_minor, here.summary.paid_minor, "{receipt}");
        assert_eq!(on_server.fee, here.summary.fee, "{receipt}");
        let documents: BTreeMap<String, bool> = here
            .documents
            .iter()
            .map(|d| (d.code.clone(), d.received))
            .collect();
        assert_eq!(on_server.documents, documents, "{receipt}");
        agencies.insert(on_server.agency);
    }
    // Every open request of the agencies involved: each receipt once, and nothing else.
    let mut seen: BTreeMap<String, u32> = BTreeMap::new();
    for agency in &agencies {
        for request in server.office.agency_requests(agency).await.unwrap() {
            *seen.entry(request.receipt).or_default() += 1;
        }
    }
    assert_eq!(seen.len(), receipts.len(), "{seen:?}");
    assert!(seen.values().all(|&n| n == 1), "{seen:?}");
    for receipt in receipts {
        assert!(seen.contains_key(&canonical(receipt)), "{receipt}");
    }
}

/// Offline work pushed under `push_fault`, agency decisions pulled under `pull_fault`:
/// converged, exactly once, each way.
async fn converge_through(push_fault: Faults, push: Expect, pull_fault: Faults, pull: Expect) {
    let (server, proxy, mut device) = setup().await;
    let receipts = device.offline_work(REQUESTS);
    let entries = outbox_count(&device, OutboxState::Pending);
    let sent_before = outbox_count(&device, OutboxState::Sent);
    assert!(entries >= u64::from(REQUESTS) * 3, "{entries}");

    let pushed = attempt(&proxy, &mut device, push_fault, push).await;
    assert_eq!(pushed.refused + pushed.conflicts, 0, "{pushed:?}");
    assert_eq!(
        u64::from(pushed.applied + pushed.duplicates),
        entries,
        "{pushed:?}"
    );
    if push == Expect::FailsApplied {
        assert_eq!(u64::from(pushed.duplicates), entries, "{pushed:?}");
    } else {
        assert_eq!(u64::from(pushed.applied), entries, "{pushed:?}");
    }
    assert_eq!(outbox_count(&device, OutboxState::Pending), 0);
    assert_eq!(
        outbox_count(&device, OutboxState::Sent),
        sent_before + entries
    );
    assert_on_server_once(&server, &device, &receipts).await;

    // The agency decides: every request taken in processing, every other one made ready.
    for (i, receipt) in receipts.iter().enumerate() {
        server
            .office
            .agency_decide(receipt, Action::TakeInProcessing, None, "agency:anna")
            .await
            .unwrap();
        if i % 2 == 0 {
            server
                .office
                .agency_decide(receipt, Action::MarkReady, None, "agency:anna")
                .await
                .unwrap();
        }
    }
    let decisions = REQUESTS + REQUESTS.div_ceil(2);
    let pulled = attempt(&proxy, &mut device, pull_fault, pull).await;
    assert_eq!(pulled.pulled, decisions, "{pulled:?}");
    for (i, receipt) in receipts.iter().enumerate() {
        let here = device.ws.request(receipt).unwrap();
        let (status, lines) = if i % 2 == 0 {
            (RequestStatus::Ready, 2)
        } else {
            (RequestStatus::InProcessing, 1)
        };
        assert_eq!(here.summary.status, status, "{receipt}");
        let agency_lines = here
            .timeline
            .iter()
            .filter(|e| e.actor == "agency:anna")
            .count();
        assert_eq!(agency_lines, lines, "{receipt}");
        let on_server = server
            .office
            .storage()
            .request_by_receipt(&canonical(receipt))
            .await
            .unwrap();
        assert_eq!(on_server.status, status, "{receipt}");
    }

    // Converged: nothing left either way.
    let idle = device.sync().await.unwrap();
    assert_eq!(idle.exchanges, 1, "{idle:?}");
    assert_eq!(idle.pushed + idle.pulled, 0, "{idle:?}");
    assert_eq!(outbox_count(&device, OutboxState::Pending), 0);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn converges_through_300_ms_each_way() {
    let latency = Faults::latency(Duration::from_millis(300));
    bounded(
        Duration::from_secs(60),
        converge_through(latency, Expect::Succeeds, latency, Expect::Succeeds),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn converges_through_32_kb_per_second() {
    let slow = Faults::bandwidth(32_000);
    bounded(
        Duration::from_secs(60),
        converge_through(slow, Expect::Succeeds, slow, Expect::Succeeds),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn converges_through_a_satellite_link() {
    let mut satellite = Faults::latency(Duration::from_millis(300));
    satellite.up.bandwidth = Some(32_000);
    satellite.down.bandwidth = Some(32_000);
    bounded(
        Duration::from_secs(60),
        converge_through(satellite, Expect::Succeeds, satellite, Expect::Succeeds),
    )
    .await;
}

/// The push request is about 5.5 kB and the pull request about 300 bytes: both cuts fall
/// inside the request, so the back office never sees a whole one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn converges_after_a_cut_mid_request() {
    bounded(
        Duration::from_secs(60),
        converge_through(
            Faults::cut(Direction::Up, 2_000),
            Expect::FailsUnapplied,
            Faults::cut(Direction::Up, 150),
            Expect::FailsUnapplied,
        ),
    )
    .await;
}

/// Both answers are well over 600 bytes: the back office applied the push, the answer is lost,
/// and the retry must be acknowledged as duplicates; the lost page of decisions is pulled again
/// and applied once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn converges_after_a_cut_mid_response() {
    let cut = Faults::cut(Direction::Down, 600);
    bounded(
        Duration::from_secs(60),
        converge_through(cut, Expect::FailsApplied, cut, Expect::FailsApplied),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn converges_after_a_stall() {
    bounded(
        Duration::from_secs(60),
        converge_through(
            Faults::stall(),
            Expect::FailsUnapplied,
            Faults::stall(),
            Expect::FailsUnapplied,
        ),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn converges_after_refused_connections() {
    bounded(
        Duration::from_secs(60),
        converge_through(
            Faults::refuse(),
            Expect::FailsUnapplied,
            Faults::refuse(),
            Expect::FailsUnapplied,
        ),
    )
    .await;
}

/// The back office dies while a slow push is on the wire, and comes back on the same storage
/// and port: the push that was cut is sent again and applied once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn converges_after_the_server_restarts_mid_sync() {
    bounded(Duration::from_secs(60), async {
        let server = Server::start(CENTER).await;
        let proxy = Proxy::start(server.addr).await.unwrap();
        // The push takes several seconds at 1 kB/s: the timeout must not end it first.
        let mut device = Device::enroll_through(
            &server,
            &proxy.url(),
            CENTER,
            Arc::new(SystemClock),
            Duration::from_secs(20),
        )
        .await;
        device.sync().await.unwrap();
        let receipts = device.offline_work(REQUESTS);
        let entries = outbox_count(&device, OutboxState::Pending);

        proxy.set(Faults::bandwidth(1_000));
        let start = proxy.stats().up;
        let mut server = server;
        let crash = async {
            // A third of the push on the wire, then the back office dies and comes back.
            proxy.wait_for(|s| s.up >= start + 1_500).await;
            server.crash().await;
            server.restart().await;
        };
        let (during, ()) = tokio::join!(device.sync(), crash);
        let err = during.expect_err("a sync cut by a crash reported success");
        assert!(matches!(err, SyncError::Offline(_)), "{err}");
        assert_eq!(outbox_count(&device, OutboxState::Pending), entries);

        proxy.clear();
        let (report, _) = sync_until_ok(&mut device).await;
        assert_eq!(u64::from(report.applied), entries, "{report:?}");
        assert_eq!(report.duplicates + report.refused + report.conflicts, 0);
        assert_eq!(outbox_count(&device, OutboxState::Pending), 0);
        assert_on_server_once(&server, &device, &receipts).await;

        // Decisions made on the restarted back office reach the device once.
        for receipt in &receipts {
            server
                .office
                .agency_decide(receipt, Action::TakeInProcessing, None, "agency:anna")
                .await
                .unwrap();
        }
        let pulled = device.sync().await.unwrap();
        assert_eq!(pulled.pulled, REQUESTS);
        for receipt in &receipts {
            let here = device.ws.request(receipt).unwrap();
            assert_eq!(here.summary.status, RequestStatus::InProcessing);
            assert_eq!(
                here.timeline
                    .iter()
                    .filter(|e| e.actor == "agency:anna")
                    .count(),
                1
            );
        }
        server.shutdown().await;
    })
    .await;
}

/// A back office that answers every exchange with `answer` (as JSON), counting the calls.
async fn parrot(answer: Vec<u8>) -> (String, Arc<std::sync::atomic::AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = calls.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let answer = answer.clone();
            let counted = counted.clone();
            tokio::spawn(async move {
                // The request's head, then its body by its length, read and dropped.
                let mut seen = Vec::new();
                let mut buf = [0u8; 4096];
                let head_end = loop {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => seen.extend_from_slice(&buf[..n]),
                    }
                    if let Some(at) = seen.windows(4).position(|w| w == b"\r\n\r\n") {
                        break at + 4;
                    }
                };
                let head = String::from_utf8_lossy(&seen[..head_end]).to_lowercase();
                let length: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse().ok())
                    .unwrap_or(0);
                while seen.len() < head_end + length {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => seen.extend_from_slice(&buf[..n]),
                    }
                }
                counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    answer.len()
                );
                let _ = socket.write_all(head.as_bytes()).await;
                let _ = socket.write_all(&answer).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    (url, calls)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_that_promises_more_and_sends_nothing_stops_the_sync() {
    bounded(Duration::from_secs(60), async {
        let (_server, _proxy, mut device) = setup().await;
        let cursor = device.ws.sync_point().unwrap().unwrap().cursor;
        let answer = serde_json::to_vec(&guichet_protocol::ExchangeResponse {
            audit_anchor: None,
            wipe: false,
            center: None,
            results: vec![],
            changes: vec![],
            cursor,
            more: true,
            server_hlc: "000000000000001-000000-server".parse().unwrap(),
        })
        .unwrap();
        let (url, calls) = parrot(answer).await;
        device.office = guichet_workstation::sync::BackOffice::new(
            &url,
            Some(device.token.clone()),
            CALL_TIMEOUT,
        )
        .unwrap();
        let e = device.sync().await.unwrap_err();
        assert!(matches!(e, SyncError::Protocol(_)), "{e}");
        assert!(e.to_string().contains("sent none"), "{e}");
        assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 1);
        let point = device.ws.sync_point().unwrap().unwrap();
        assert_eq!(point.cursor, cursor);
        assert!(point.last_error.unwrap().contains("sent none"));
    })
    .await;
}
