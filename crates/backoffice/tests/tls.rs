//! HTTPS served by the back office itself (rustls): a real workstation enrols and syncs over
//! it, trusting a CA given at enrolment; the certificate is replaced while the server runs;
//! unusable files are refused at start with the reason; and the workstation refuses plain
//! http:// to another machine unless told.

mod common;

use guichet_domain::keyslot::RecoveryKey;
use std::path::Path;
use std::time::Duration;

use guichet_backoffice::tls::{Tls, TlsError, TlsFiles};
use guichet_backoffice::{AppState, serve_tls};
use guichet_workstation::sync::{self, Link, SyncError};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use tempfile::TempDir;
use tokio::sync::oneshot;

const TIMEOUT: Duration = Duration::from_secs(10);

/// A certificate authority made for one test.
struct TestCa {
    issuer: Issuer<'static, KeyPair>,
    pem: String,
}

impl TestCa {
    fn new(name: &str) -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        let key = KeyPair::generate().unwrap();
        let pem = params.self_signed(&key).unwrap().pem();
        TestCa {
            issuer: Issuer::new(params, key),
            pem,
        }
    }

    /// A server certificate for this machine, and its key, as PEM.
    fn server(&self) -> (String, String) {
        let key = KeyPair::generate().unwrap();
        let params =
            CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        (cert.pem(), key.serialize_pem())
    }
}

fn write_pair(dir: &Path, (cert, key): &(String, String)) -> TlsFiles {
    let files = TlsFiles {
        cert: dir.join("server.crt"),
        key: dir.join("server.key"),
    };
    std::fs::write(&files.cert, cert).unwrap();
    std::fs::write(&files.key, key).unwrap();
    files
}

fn trusting(ca: &TestCa) -> Link {
    Link {
        allow_insecure_http: false,
        ca_cert: Some(ca.pem.clone()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_workstation_enrols_and_syncs_over_https_and_the_certificate_is_replaced_live() {
    let (storage, _db) = common::sqlite();
    let office = common::athens(storage).await;

    let files_dir = TempDir::new().unwrap();
    let first = TestCa::new("Guichet test CA 1");
    let files = write_pair(files_dir.path(), &first.server());
    let tls = Tls::load(files.clone()).unwrap();
    let mut seen = tls.stamps();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "https://127.0.0.1:{}",
        listener.local_addr().unwrap().port()
    );
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(serve_tls(
        listener,
        tls.clone(),
        AppState::new(office.clone(), None),
        async move {
            let _ = stopped.await;
        },
    ));

    // Without the CA the certificate is not trusted: a clear refusal, not "offline".
    let code = office
        .issue_enrolment_code("ATH-01", chrono::Duration::hours(1))
        .await
        .unwrap();
    let untrusting = sync::BackOffice::new(&url, None, TIMEOUT).unwrap();
    let refused = untrusting
        .enroll(&code.code, None, &RecoveryKey::from_bytes([7; 20]))
        .await;
    assert!(matches!(refused, Err(SyncError::Tls(_))), "{refused:?}");
    assert!(!refused.unwrap_err().is_transient());

    // With it, enrolment and a whole sync go over HTTPS.
    let anonymous = sync::BackOffice::with_link(&url, None, TIMEOUT, &trusting(&first)).unwrap();
    assert!(!anonymous.is_insecure());
    let enrolled = anonymous
        .enroll(&code.code, Some("bus 3"), &RecoveryKey::from_bytes([7; 20]))
        .await
        .unwrap();
    let ws_dir = TempDir::new().unwrap();
    let mut ws = common::workstation(&ws_dir, &enrolled);
    let credential = sync::Credential {
        server_url: url.clone(),
        device_code: enrolled.device_code.clone(),
        token: enrolled.token.clone(),
        link: trusting(&first),
    };
    let client = credential.back_office(TIMEOUT).unwrap();
    let report = sync::sync_once(&mut ws, &client, &|_| {}).await.unwrap();
    assert!(report.pulled > 0, "{report:?}");
    assert!(report.applied > 0, "the login event went out: {report:?}");
    assert_eq!(sync::pending(&ws).unwrap(), 0);
    assert!(ws.sync_point().unwrap().unwrap().cursor > 0);

    // A renewal under another CA, noticed and read again while serving (as the server's
    // watch does): new connections get it.
    assert!(!tls.reload_if_changed(&mut seen).unwrap());
    let second = TestCa::new("Guichet test CA 2");
    write_pair(files_dir.path(), &second.server());
    assert!(tls.reload_if_changed(&mut seen).unwrap());
    assert!(!tls.reload_if_changed(&mut seen).unwrap());
    let renewed = credential_with(&credential, &second)
        .back_office(TIMEOUT)
        .unwrap();
    sync::sync_once(&mut ws, &renewed, &|_| {}).await.unwrap();
    let stale = sync::BackOffice::with_link(
        &url,
        Some(enrolled.token.clone()),
        TIMEOUT,
        &trusting(&first),
    )
    .unwrap();
    assert!(matches!(
        sync::sync_once(&mut ws, &stale, &|_| {}).await,
        Err(SyncError::Tls(_))
    ));

    // A reload of broken files is refused, once, and the certificate in use stays.
    std::fs::write(&files.cert, "not a certificate").unwrap();
    assert!(matches!(
        tls.reload_if_changed(&mut seen),
        Err(TlsError::NoCertificate { .. })
    ));
    assert!(!tls.reload_if_changed(&mut seen).unwrap());
    assert!(matches!(tls.reload(), Err(TlsError::NoCertificate { .. })));
    sync::sync_once(&mut ws, &renewed, &|_| {}).await.unwrap();

    let _ = stop.send(());
    server.await.unwrap().unwrap();
}

fn credential_with(credential: &sync::Credential, ca: &TestCa) -> sync::Credential {
    sync::Credential {
        link: trusting(ca),
        ..credential.clone()
    }
}

#[test]
fn unusable_files_are_refused_at_start_with_the_reason() {
    let dir = TempDir::new().unwrap();
    let ca = TestCa::new("Guichet test CA");
    let files = write_pair(dir.path(), &ca.server());
    assert!(Tls::load(files.clone()).is_ok());

    let missing = TlsFiles {
        cert: dir.path().join("absent.crt"),
        key: files.key.clone(),
    };
    let error = Tls::load(missing).unwrap_err();
    assert!(matches!(
        error,
        TlsError::Read {
            what: "certificate",
            ..
        }
    ));
    assert!(error.to_string().contains("absent.crt"), "{error}");

    // The key where the certificate should be.
    let swapped = TlsFiles {
        cert: files.key.clone(),
        key: files.key.clone(),
    };
    assert!(matches!(
        Tls::load(swapped),
        Err(TlsError::NoCertificate { .. })
    ));

    // Another server's key.
    let other = dir.path().join("other.key");
    std::fs::write(&other, ca.server().1).unwrap();
    let mismatched = TlsFiles {
        cert: files.cert.clone(),
        key: other,
    };
    let error = Tls::load(mismatched).unwrap_err();
    assert!(matches!(error, TlsError::Refused { .. }), "{error}");
    assert!(
        error.to_string().contains("the key that goes with"),
        "{error}"
    );
}

#[test]
fn plain_http_is_refused_to_another_machine_unless_allowed() {
    for url in [
        "http://192.0.2.10:8080",
        "http://backoffice.example.org",
        "http://[2001:db8::1]:8080",
    ] {
        assert!(sync::plain_to_another_machine(url), "{url}");
        let refused = sync::BackOffice::new(url, None, TIMEOUT);
        assert!(matches!(refused, Err(SyncError::InsecureHttp(_))), "{url}");
        let message = refused.unwrap_err().to_string();
        assert!(message.contains("--allow-insecure-http"), "{message}");
        let allowed = sync::BackOffice::with_link(
            url,
            None,
            TIMEOUT,
            &Link {
                allow_insecure_http: true,
                ca_cert: None,
            },
        )
        .unwrap();
        assert!(allowed.is_insecure(), "{url}");
    }
    for url in [
        "http://127.0.0.1:8080",
        "http://127.8.9.10",
        "http://localhost:8080",
        "http://[::1]:8080",
        "https://backoffice.example.org",
    ] {
        assert!(!sync::plain_to_another_machine(url), "{url}");
        let client = sync::BackOffice::new(url, None, TIMEOUT).unwrap();
        assert!(!client.is_insecure(), "{url}");
    }
    assert!(matches!(
        sync::BackOffice::with_link(
            "https://backoffice.example.org",
            None,
            TIMEOUT,
            &Link {
                allow_insecure_http: false,
                ca_cert: Some("no PEM here".into()),
            },
        ),
        Err(SyncError::CaCertificate(_))
    ));
}

/// The `serve` command itself: HTTPS from the files given, and a renewal taken on SIGHUP
/// without a restart.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_speaks_https_and_reloads_its_certificate_on_sighup() {
    use common::processes::{Replica, client_trusting};

    let dir = TempDir::new().unwrap();
    let first = TestCa::new("Guichet test CA 1");
    let files = write_pair(dir.path(), &first.server());
    let database = format!("sqlite://{}", dir.path().join("bo.sqlite3").display());
    // Answering means the server took SIGHUP over: it does so before it serves.
    let server = Replica::start_https(&database, &files.cert, &files.key, &first.pem).await;
    let health = format!("{}/health", server.url());
    let trusting = |ca: &TestCa| client_trusting(&ca.pem, TIMEOUT);
    let answer = trusting(&first).get(&health).send().await.unwrap();
    assert_eq!(answer.status(), reqwest::StatusCode::OK);

    let second = TestCa::new("Guichet test CA 2");
    write_pair(dir.path(), &second.server());
    server.signal("HUP");
    server.wait_logged("TLS certificate reloaded").await;
    let answer = trusting(&second).get(&health).send().await.unwrap();
    assert_eq!(answer.status(), reqwest::StatusCode::OK);
    assert!(trusting(&first).get(&health).send().await.is_err());

    server.terminate();
}
