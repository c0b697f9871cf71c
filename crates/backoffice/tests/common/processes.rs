//! Real server processes for the tests that run the back office as an operator would: the
//! `guichet-backoffice serve` binary as a child process, over HTTP or HTTPS (signalled, or
//! killed with SIGKILL, where a test says so), and nginx from the system's packages as the load
//! balancer in front of several.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use guichet_fixtures::DEMO_PASSWORD;
use guichet_workstation::sync;
use guichet_workstation::{SystemClock, Workstation};
use tempfile::TempDir;

/// How long a process may take to answer its first request.
const READY_WITHIN: Duration = Duration::from_secs(30);

/// A free port on 127.0.0.1 (the system's choice; free when this returns).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// How long a health check waits for its answer.
const HEALTH_TIMEOUT: Duration = Duration::from_secs(2);

/// A client that trusts the certificates signed by the CA in `ca_pem` alone, and gives up on a
/// request after `timeout`.
pub fn client_trusting(ca_pem: &str, timeout: Duration) -> reqwest::Client {
    let ca = reqwest::Certificate::from_pem_bundle(ca_pem.as_bytes()).expect("a PEM CA");
    reqwest::Client::builder()
        .tls_certs_only(ca)
        .timeout(timeout)
        .build()
        .expect("client")
}

/// Waits until `BASE/health` answers 200 to `http`, or panics with `log`'s text.
pub async fn wait_healthy(http: &reqwest::Client, base: &str, what: &str, log: &Path) {
    let started = Instant::now();
    loop {
        let answer = http.get(format!("{base}/health")).send();
        if answer.await.is_ok_and(|a| a.status().is_success()) {
            return;
        }
        assert!(
            started.elapsed() < READY_WITHIN,
            "{what} did not answer at {base} within {READY_WITHIN:?}; its log:\n{}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A client for the health checks of plain HTTP.
fn plain_client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(HEALTH_TIMEOUT)
        .build()
        .expect("client")
}

/// One `guichet-backoffice serve` process on 127.0.0.1, its log in a file; killed on drop.
pub struct Replica {
    pub port: u16,
    database: String,
    /// The arguments of `serve` beyond its database, address and trusted proxy.
    more: Vec<OsString>,
    /// `http` or `https`, and the client that checks the server answers.
    scheme: &'static str,
    health: reqwest::Client,
    child: Option<Child>,
    log: PathBuf,
    _dir: TempDir,
}

impl Replica {
    /// Starts a server on `database` and waits until it answers. Requests from 127.0.0.1 come
    /// through a trusted proxy (see `--trusted-proxy`).
    pub async fn start(database: &str) -> Replica {
        Self::start_with(database, Vec::new(), "http", plain_client()).await
    }

    /// Starts a server on `database` that speaks HTTPS with the certificate and key in the
    /// files `cert` and `key`, and waits until it answers a client that trusts `ca_pem` alone.
    pub async fn start_https(database: &str, cert: &Path, key: &Path, ca_pem: &str) -> Replica {
        let more = vec![
            "--tls-cert".into(),
            cert.into(),
            "--tls-key".into(),
            key.into(),
        ];
        let health = client_trusting(ca_pem, HEALTH_TIMEOUT);
        Self::start_with(database, more, "https", health).await
    }

    async fn start_with(
        database: &str,
        more: Vec<OsString>,
        scheme: &'static str,
        health: reqwest::Client,
    ) -> Replica {
        let dir = TempDir::new().expect("temp dir");
        let mut replica = Replica {
            port: free_port(),
            database: database.to_owned(),
            more,
            scheme,
            health,
            child: None,
            log: dir.path().join("serve.log"),
            _dir: dir,
        };
        replica.spawn().await;
        replica
    }

    async fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("log file");
        let child = Command::new(env!("CARGO_BIN_EXE_guichet-backoffice"))
            .args(["--database", &self.database, "serve", "--listen"])
            .arg(format!("127.0.0.1:{}", self.port))
            .args(["--trusted-proxy", "127.0.0.1"])
            .args(&self.more)
            .env_remove("GUICHET_ADMIN_TOKEN")
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start guichet-backoffice serve");
        self.child = Some(child);
        let what = "guichet-backoffice serve";
        wait_healthy(&self.health, &self.url(), what, &self.log).await;
    }

    /// Sends the process the signal `name` (`HUP`, `TERM`), as an operator's `kill` would.
    pub fn signal(&self, name: &str) {
        let child = self.child.as_ref().expect("the server runs");
        let sent = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(child.id().to_string())
            .status()
            .expect("run kill");
        assert!(sent.success(), "kill -{name} failed");
    }

    /// Waits until the server's log holds `needle`, or panics with the log.
    pub async fn wait_logged(&self, needle: &str) {
        let started = Instant::now();
        loop {
            let log = std::fs::read_to_string(&self.log).unwrap_or_default();
            if log.contains(needle) {
                return;
            }
            assert!(
                started.elapsed() < READY_WITHIN,
                "no {needle:?} in the server's log within {READY_WITHIN:?}; its log:\n{log}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Stops the server with SIGTERM, as an operator would, and checks that it exits cleanly.
    pub fn terminate(mut self) {
        self.signal("TERM");
        let mut child = self.child.take().expect("the server runs");
        let exit = child.wait().expect("reap the server");
        assert!(
            exit.success(),
            "serve ended with {exit} after SIGTERM; its log:\n{}",
            std::fs::read_to_string(&self.log).unwrap_or_default()
        );
    }

    /// SIGKILL, as a crash or an operator's `kill -9` would: nothing in flight is finished.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().expect("kill the server");
            child.wait().expect("reap the server");
        }
    }

    /// Starts the server again on the same port and database, as a restarted process.
    pub async fn restart(&mut self) {
        self.kill();
        self.spawn().await;
    }

    pub fn url(&self) -> String {
        format!("{}://127.0.0.1:{}", self.scheme, self.port)
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        self.kill();
    }
}

/// nginx (from the system's packages) balancing round-robin over servers on 127.0.0.1, as an
/// operator would put it in front of several replicas; stopped on drop.
pub struct Balancer {
    pub port: u16,
    child: Child,
    dir: TempDir,
}

impl Balancer {
    /// Starts nginx in front of `upstreams` (ports on 127.0.0.1) and waits until it answers.
    pub async fn start(upstreams: &[u16]) -> Balancer {
        let dir = TempDir::new().expect("temp dir");
        let port = free_port();
        let root = dir.path().display();
        let servers: String = upstreams
            .iter()
            .map(|p| format!("    server 127.0.0.1:{p};\n"))
            .collect();
        // One process in the foreground (no master, no switch of user), every file in the
        // temporary directory. The body limit is above the back office's 8 MiB, so that the
        // back office itself refuses what is too large, with its own error.
        let config = format!(
            "daemon off;
master_process off;
worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 512; }}
http {{
  client_body_temp_path {root}/body;
  proxy_temp_path {root}/proxy;
  fastcgi_temp_path {root}/fastcgi;
  uwsgi_temp_path {root}/uwsgi;
  scgi_temp_path {root}/scgi;
  log_format upstreams '$request_method $uri $status $upstream_addr';
  access_log {root}/access.log upstreams;
  upstream backoffice {{
{servers}    keepalive 16;
  }}
  server {{
    listen 127.0.0.1:{port};
    client_max_body_size 9m;
    location / {{
      proxy_pass http://backoffice;
      proxy_http_version 1.1;
      proxy_set_header Connection \"\";
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_read_timeout 60s;
    }}
  }}
}}
"
        );
        let path = dir.path().join("nginx.conf");
        std::fs::write(&path, config).expect("nginx.conf");
        let child = Command::new(nginx())
            .arg("-p")
            .arg(dir.path())
            .arg("-c")
            .arg(&path)
            .arg("-e")
            .arg(dir.path().join("error.log"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start nginx");
        let balancer = Balancer { port, child, dir };
        let log = balancer.dir.path().join("error.log");
        wait_healthy(&plain_client(), &balancer.url(), "nginx", &log).await;
        balancer
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// For the requests to `uri` so far: how many each upstream answered with each status
    /// (`upstream -> status -> count`); a request nginx tried on two upstreams counts for both.
    pub fn answered(&self, uri: &str) -> BTreeMap<String, BTreeMap<String, usize>> {
        let log = std::fs::read_to_string(self.dir.path().join("access.log")).unwrap_or_default();
        let mut answered: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
        for line in log.lines() {
            let fields: Vec<&str> = line.splitn(4, ' ').collect();
            if let [_, path, status, upstreams] = fields[..]
                && path == uri
            {
                for upstream in upstreams.split(", ") {
                    *answered
                        .entry(upstream.to_owned())
                        .or_default()
                        .entry(status.to_owned())
                        .or_default() += 1;
                }
            }
        }
        answered
    }
}

impl Drop for Balancer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The nginx binary: on PATH, or where Debian puts it (/usr/sbin, not on a user's PATH).
fn nginx() -> PathBuf {
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("nginx"))
            .find(|p| p.is_file())
    });
    on_path
        .or_else(|| Some(PathBuf::from("/usr/sbin/nginx")).filter(|p| p.is_file()))
        .expect(
            "nginx is not installed, and this test runs the back office behind it: \
             `apt-get install nginx` (or run `bash .ci/test` as root). This test never skips.",
        )
}

/// A device of ATH-01 enrolled over HTTP, [`super::CLERK`] logged in.
pub struct Bus {
    pub ws: Workstation,
    pub client: sync::BackOffice,
    pub token: String,
    _dir: TempDir,
}

impl Bus {
    /// Enrols a device through the server (or balancer) at `url`, with a code `office` issues.
    pub async fn enrol(office: &guichet_backoffice::BackOffice, url: &str, label: &str) -> Bus {
        let code = office
            .issue_enrolment_code("ATH-01", chrono::Duration::hours(1))
            .await
            .unwrap();
        let timeout = Duration::from_secs(20);
        let anonymous = sync::BackOffice::new(url, None, timeout).unwrap();
        let (enrolled, recovery) = sync::enroll(&anonymous, &code.code, Some(label))
            .await
            .unwrap();
        let dir = TempDir::new().unwrap();
        let mut ws =
            Workstation::open(&dir.path().join("guichet.sqlite3"), Arc::new(SystemClock)).unwrap();
        ws.enroll(&enrolled, url, &[], &recovery).unwrap();
        sync::login(&mut ws, super::CLERK, DEMO_PASSWORD)
            .await
            .unwrap();
        let client = sync::BackOffice::new(url, Some(enrolled.token.clone()), timeout).unwrap();
        Bus {
            ws,
            client,
            token: enrolled.token,
            _dir: dir,
        }
    }
}
