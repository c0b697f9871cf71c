//! Releases of the app, on every storage backend, through a real server: publication over the
//! admin API refused without a release key, with another key's signature, for a version the
//! signature does not name, for a bad version or an unknown centre, for a package changed
//! since it was signed, and twice for one version, changing nothing; then devices of two
//! centres asking for updates (versions compared as numbers, releases kept to their centres)
//! and downloading exactly the bytes published, a piece at a time, with their credentials
//! checked as the exchange checks them.

mod common;

use std::path::Path;
use std::sync::Arc;

use guichet_backoffice::{AppState, BackOffice, Downloads, Storage};
use guichet_domain::sha256_hex;
use reqwest::StatusCode;

const ADMIN: &str = "admin-secret";

fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/release")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A package of 9 MiB that begins as `package` does (a Debian package's first member).
fn large(package: &[u8]) -> Vec<u8> {
    let mut large = package[..72].to_vec();
    large.resize(9 * 1024 * 1024, 7);
    large
}

fn fixture_text(name: &str) -> String {
    String::from_utf8(fixture(name)).unwrap()
}

/// `url` with `pairs` as its query, encoded.
fn with_query(url: &str, pairs: &[(&str, String)]) -> reqwest::Url {
    let mut url = reqwest::Url::parse(url).unwrap();
    url.query_pairs_mut().extend_pairs(pairs);
    url
}

/// An answer's status and JSON body (`Null` when empty).
async fn answer(response: reqwest::Response) -> (StatusCode, serde_json::Value) {
    let status = response.status();
    let bytes = response.bytes().await.unwrap();
    let body = if bytes.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap()
    };
    (status, body)
}

/// Asserts a refusal: its status, stable code and words.
fn refused(got: &(StatusCode, serde_json::Value), status: StatusCode, code: &str, words: &str) {
    let (got_status, body) = got;
    assert_eq!(*got_status, status, "{body}");
    assert_eq!(body["error"]["code"], code, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains(words), "{message:?} should say {words:?}");
}

struct Admin<'a> {
    http: &'a reqwest::Client,
    base: &'a str,
}

impl Admin<'_> {
    async fn set_key(&self, public_key: &str) -> (StatusCode, serde_json::Value) {
        let response = self
            .http
            .post(format!("{}/admin/v1/release-key", self.base))
            .bearer_auth(ADMIN)
            .json(&serde_json::json!({ "public_key": public_key }))
            .send()
            .await
            .unwrap();
        answer(response).await
    }

    async fn publish(
        &self,
        version: &str,
        package: Vec<u8>,
        signature: &str,
        centres: Option<&str>,
    ) -> (StatusCode, serde_json::Value) {
        let mut query = vec![
            ("file_name", format!("guichet_{version}_amd64.deb")),
            ("signature", signature.to_owned()),
            ("notes", format!("What {version} brings")),
        ];
        if let Some(centres) = centres {
            query.push(("centres", centres.to_owned()));
        }
        let response = self
            .http
            .post(with_query(
                &format!("{}/admin/v1/releases/{version}", self.base),
                &query,
            ))
            .bearer_auth(ADMIN)
            .body(package)
            .send()
            .await
            .unwrap();
        answer(response).await
    }

    async fn releases(&self) -> serde_json::Value {
        let response = self
            .http
            .get(format!("{}/admin/v1/releases", self.base))
            .bearer_auth(ADMIN)
            .send()
            .await
            .unwrap();
        let (status, body) = answer(response).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }
}

/// A device's calls to the update routes, with its credential (or none).
struct Device<'a> {
    http: &'a reqwest::Client,
    base: &'a str,
    token: Option<String>,
}

impl Device<'_> {
    fn get(&self, path: &str) -> reqwest::RequestBuilder {
        let request = self.http.get(format!("{}{path}", self.base));
        match &self.token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }

    async fn check(&self, current: &str) -> (StatusCode, serde_json::Value) {
        let response = self
            .get(&format!("/sync/v1/update?current_version={current}"))
            .send()
            .await
            .unwrap();
        answer(response).await
    }

    /// The update offered to a device on `current`: its version.
    async fn offered(&self, current: &str) -> Option<String> {
        match self.check(current).await {
            (StatusCode::NO_CONTENT, serde_json::Value::Null) => None,
            (StatusCode::OK, offer) => Some(offer["version"].as_str().unwrap().to_owned()),
            other => panic!("{current}: {other:?}"),
        }
    }
}

async fn story(storage: Arc<dyn Storage>) {
    let office = BackOffice::new(storage);
    common::add_center(&office, "ATH-01", "ATH-01").await;
    common::add_center(&office, "THE-01", "THE-01").await;
    let mut state = AppState::new(office.clone(), Some(ADMIN.into()));
    // Pieces much smaller than the packages: a download takes several.
    state.package_chunk = 1000;
    let served = common::Served::start(state).await;
    let http = reqwest::Client::new();
    let admin = Admin {
        http: &http,
        base: &served.base,
    };

    let old = fixture("guichet_0.9.0_amd64.deb");
    let old_sig = fixture_text("guichet_0.9.0_amd64.deb.sig");
    let new = fixture("guichet_0.10.0_amd64.deb");
    let new_sig = fixture_text("guichet_0.10.0_amd64.deb.sig");

    // Refused: no key yet; signed with another key than the one set.
    refused(
        &admin.publish("0.9.0", old.clone(), &old_sig, None).await,
        StatusCode::CONFLICT,
        "conflict",
        "no release key: set it first with `guichet-backoffice release key KEY.pub`",
    );
    let (status, set) = admin.set_key(&fixture_text("other.pub")).await;
    assert_eq!(status, StatusCode::OK, "{set}");
    assert!(set["replaced_key_id"].is_null(), "{set}");
    refused(
        &admin.publish("0.9.0", old.clone(), &old_sig, None).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "malformed",
        "the package is not signed with this back office's release key (it was signed with \
         key D02F4EADC9A02CC7",
    );
    refused(
        &admin.set_key("not a key").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "malformed",
        "tauri signer generate",
    );
    let (status, set) = admin.set_key(&fixture_text("good.pub")).await;
    assert_eq!(status, StatusCode::OK, "{set}");
    assert_eq!(set["key_id"], "D02F4EADC9A02CC7");
    assert_eq!(set["replaced_key_id"], "CB3E061FC30D128C");

    // Refused: what is given is wrong.
    let mut changed = old.clone();
    changed[100] ^= 1;
    let refusals = [
        (
            admin.publish("0.9", old.clone(), &old_sig, None).await,
            "'0.9' is not a version",
        ),
        (
            admin.publish("v0.9.0", old.clone(), &old_sig, None).await,
            "write MAJOR.MINOR.PATCH",
        ),
        (
            admin.publish("0.9.1", old.clone(), &old_sig, None).await,
            "the signature was made for version 0.9.0, not 0.9.1",
        ),
        (
            admin.publish("0.9.0", changed, &old_sig, None).await,
            "the signature does not match the package",
        ),
        (
            admin.publish("0.9.0", old.clone(), "c2lnbmVk", None).await,
            "the signature does not parse",
        ),
        (
            admin.publish("0.9.0", Vec::new(), &old_sig, None).await,
            "the package is empty",
        ),
        (
            admin
                .publish("0.9.0", b"#!/bin/sh\n".to_vec(), &old_sig, None)
                .await,
            "this is not a Debian package, which is all the devices install: give the .deb \
             that `bash package-app` built",
        ),
        // Past the 8 MiB of the other routes' bodies, a package still reaches the check.
        (
            admin.publish("0.9.0", large(&old), &old_sig, None).await,
            "the signature does not match the package",
        ),
    ];
    for (got, words) in &refusals {
        refused(got, StatusCode::UNPROCESSABLE_ENTITY, "malformed", words);
    }
    refused(
        &admin
            .publish("0.9.0", old.clone(), &old_sig, Some("ATH-01,NOPE-01"))
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
        "no centre 'NOPE-01'",
    );
    assert_eq!(admin.releases().await, serde_json::json!([]));

    // Published: 0.9.0 for every centre, 0.10.0 for Athens only; never twice.
    let (status, published) = admin.publish("0.9.0", old.clone(), &old_sig, None).await;
    assert_eq!(status, StatusCode::CREATED, "{published}");
    assert!(published["centres"].is_null(), "{published}");
    let (status, published) = admin
        .publish("0.10.0", new.clone(), &new_sig, Some("ATH-01"))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{published}");
    assert_eq!(published["size"], new.len());
    assert_eq!(published["sha256"], sha256_hex(&new));
    assert_eq!(published["signature"], new_sig.trim());
    refused(
        &admin.publish("0.9.0", old.clone(), &old_sig, None).await,
        StatusCode::CONFLICT,
        "conflict",
        "version 0.9.0 is published already: publish a new version",
    );
    // Below what every centre it names is offered already: it would reach no device.
    for (version, centres) in [("0.8.0", None), ("0.9.5", Some("ATH-01"))] {
        refused(
            &admin.publish(version, old.clone(), &old_sig, centres).await,
            StatusCode::CONFLICT,
            "conflict",
            &format!(
                "version {version} would never be offered: each centre it is for ({}) is \
                 offered a newer release already, and a device takes the newest for its \
                 centre; publish a version above 0.10.0",
                centres.unwrap_or("every centre")
            ),
        );
    }
    // Refused before the package is read: an upload announced at 300 MiB, of which nothing
    // is sent, is answered at once.
    let url = with_query(
        &format!("{}/admin/v1/releases/0.9.0", served.base),
        &[
            ("file_name", "guichet_0.9.0_amd64.deb".into()),
            ("signature", old_sig.clone()),
        ],
    );
    let early = common::raw_request(
        served.base.trim_start_matches("http://"),
        &format!(
            "POST {}?{} HTTP/1.1\r\nHost: guichet\r\nAuthorization: Bearer {ADMIN}\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n",
            url.path(),
            url.query().unwrap(),
            300 * 1024 * 1024
        ),
    )
    .await;
    assert!(early.starts_with("HTTP/1.1 409"), "{early}");
    assert!(early.contains("is published already"), "{early}");
    let listed = admin.releases().await;
    let versions: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["version"].as_str().unwrap())
        .collect();
    assert_eq!(versions, ["0.10.0", "0.9.0"], "newest first, as numbers");
    assert_eq!(listed[0]["centres"], serde_json::json!(["ATH-01"]));
    assert!(listed[0].get("package").is_none(), "{listed}");

    // A device of Athens is offered the newest release above its version, as numbers.
    let athens = common::enrol(&office, "ATH-01").await;
    let athens = Device {
        http: &http,
        base: &served.base,
        token: Some(athens.token),
    };
    let (status, offer) = athens.check("0.9.0").await;
    assert_eq!(status, StatusCode::OK, "{offer}");
    let url = format!("{}/sync/v1/releases/0.10.0/package", served.base);
    assert_eq!(offer["version"], "0.10.0");
    assert_eq!(offer["url"], url);
    assert_eq!(offer["signature"], new_sig.trim());
    assert_eq!(offer["notes"], "What 0.10.0 brings");
    let pub_date = offer["pub_date"].as_str().unwrap();
    assert!(
        chrono::DateTime::parse_from_rfc3339(pub_date).is_ok(),
        "{pub_date}"
    );
    assert_eq!(
        offer.as_object().unwrap().len(),
        5,
        "Tauri's dynamic update answer: {offer}"
    );
    assert_eq!(athens.offered("0.1.0").await.as_deref(), Some("0.10.0"));
    assert_eq!(athens.offered("0.9.99").await.as_deref(), Some("0.10.0"));
    assert_eq!(
        athens.offered("0.10.0").await,
        None,
        "already on the newest"
    );
    assert_eq!(athens.offered("1.0.0").await, None);

    // It downloads exactly the bytes published.
    let response = athens.get("/sync/v1/releases/0.10.0/package").send().await;
    let response = response.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-type"],
        "application/vnd.debian.binary-package"
    );
    assert_eq!(response.content_length(), Some(new.len() as u64));
    let downloaded = response.bytes().await.unwrap();
    assert_eq!(sha256_hex(&downloaded), sha256_hex(&new));
    assert_eq!(downloaded.as_ref(), new.as_slice());

    // Behind a TLS proxy that says so, the package's address is https.
    let (status, offer) = answer(
        athens
            .get("/sync/v1/update?current_version=0.9.0")
            .header("x-forwarded-proto", "https")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{offer}");
    assert_eq!(offer["url"], url.replacen("http://", "https://", 1));

    // A device of Thessaloniki is offered only what is for every centre.
    let thessaloniki = common::enrol(&office, "THE-01").await;
    let the_code = thessaloniki.device_code.clone();
    let thessaloniki = Device {
        http: &http,
        base: &served.base,
        token: Some(thessaloniki.token),
    };
    assert_eq!(thessaloniki.offered("0.9.0").await, None);
    assert_eq!(
        thessaloniki.offered("0.1.0").await.as_deref(),
        Some("0.9.0")
    );
    for version in ["0.10.0", "0.11.0", "not-a-version"] {
        let (status, body) = answer(
            thessaloniki
                .get(&format!("/sync/v1/releases/{version}/package"))
                .send()
                .await
                .unwrap(),
        )
        .await;
        refused(
            &(status, body),
            StatusCode::NOT_FOUND,
            "not_found",
            "no release",
        );
    }
    let response = thessaloniki
        .get("/sync/v1/releases/0.9.0/package")
        .send()
        .await
        .unwrap();
    assert_eq!(response.bytes().await.unwrap().as_ref(), old.as_slice());

    // A version the device cannot say is 400, as other malformed calls.
    refused(
        &athens.check("0.9").await,
        StatusCode::BAD_REQUEST,
        "malformed",
        "'0.9' is not a version",
    );
    let (status, body) = answer(athens.get("/sync/v1/update").send().await.unwrap()).await;
    refused(
        &(status, body),
        StatusCode::BAD_REQUEST,
        "malformed",
        "current_version",
    );

    // Credentials as for the exchange: none or unknown is 401, a revoked device 403.
    for token in [None, Some("forged".to_owned())] {
        let stranger = Device {
            http: &http,
            base: &served.base,
            token,
        };
        refused(
            &stranger.check("0.1.0").await,
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "credential",
        );
        let (status, body) = answer(
            stranger
                .get("/sync/v1/releases/0.9.0/package")
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    }
    // Revoked outright, or with a wipe it has not done yet: no update either way.
    let spare = common::enrol(&office, "ATH-01").await;
    office
        .revoke_device(&spare.device_code, false)
        .await
        .unwrap();
    let spare = Device {
        http: &http,
        base: &served.base,
        token: Some(spare.token),
    };
    office.revoke_device(&the_code, true).await.unwrap();
    for revoked in [&spare, &thessaloniki] {
        refused(
            &revoked.check("0.1.0").await,
            StatusCode::FORBIDDEN,
            "revoked",
            "revoked",
        );
    }
    let (status, _) = answer(
        thessaloniki
            .get("/sync/v1/releases/0.9.0/package")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // The admin API's own credential is needed to publish.
    let response = http
        .post(with_query(
            &format!("{}/admin/v1/releases/0.11.0", served.base),
            &[("file_name", "x.deb".into()), ("signature", "x".into())],
        ))
        .bearer_auth("wrong")
        .body(new.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    served.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn releases_on_sqlite() {
    let (storage, _dir) = common::sqlite();
    story(storage).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn releases_on_postgres() {
    let db = common::PgDatabase::create().await;
    story(db.storage().await).await;
}

/// A back office that serves HTTPS itself hands out https addresses.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_update_from_a_back_office_serving_https_points_to_https() {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};

    let (storage, _db) = common::sqlite();
    let office = BackOffice::new(storage);
    common::add_center(&office, "ATH-01", "ATH-01").await;
    office
        .set_release_key(&fixture_text("good.pub"))
        .await
        .unwrap();
    office
        .publish_release(guichet_backoffice::service::NewRelease {
            version: "0.9.0".into(),
            file_name: "guichet_0.9.0_amd64.deb".into(),
            package: fixture("guichet_0.9.0_amd64.deb"),
            signature: fixture_text("guichet_0.9.0_amd64.deb.sig"),
            centres: None,
            notes: String::new(),
        })
        .await
        .unwrap();
    let device = common::enrol(&office, "ATH-01").await;

    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_key = KeyPair::generate().unwrap();
    let ca_pem = ca.self_signed(&ca_key).unwrap().pem();
    let issuer = Issuer::new(ca, ca_key);
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["localhost".to_owned()])
        .unwrap()
        .signed_by(&key, &issuer)
        .unwrap();
    let dir = tempfile::TempDir::new().unwrap();
    let files = guichet_backoffice::tls::TlsFiles {
        cert: dir.path().join("server.crt"),
        key: dir.path().join("server.key"),
    };
    std::fs::write(&files.cert, cert.pem()).unwrap();
    std::fs::write(&files.key, key.serialize_pem()).unwrap();
    let tls = guichet_backoffice::tls::Tls::load(files).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(guichet_backoffice::serve_tls(
        listener,
        tls,
        AppState::new(office, None),
        async move {
            let _ = stopped.await;
        },
    ));

    let http = reqwest::Client::builder()
        .tls_certs_merge(reqwest::Certificate::from_pem_bundle(ca_pem.as_bytes()).unwrap())
        .build()
        .unwrap();
    let (status, offer) = answer(
        http.get(format!(
            "https://localhost:{port}/sync/v1/update?current_version=0.1.0"
        ))
        .bearer_auth(&device.token)
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{offer}");
    assert_eq!(
        offer["url"],
        format!("https://localhost:{port}/sync/v1/releases/0.9.0/package")
    );
    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
}

/// A download is bounded in time: a device that stops reading loses its connection after the
/// write stall, and one that takes longer than the deadline is cut; either way the device gets
/// less than the package, which its updater refuses.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_download_left_unread_or_too_slow_is_cut() {
    use std::time::{Duration, Instant};
    use tokio::io::AsyncReadExt;

    let (office, package, _db) = large_release().await;
    let device = common::enrol(&office, "ATH-01").await;

    // Left unread: the connection is closed once nothing could be written for the stall.
    let mut state = AppState::new(office.clone(), None);
    state.write_stall = Duration::from_secs(1);
    let served = common::Served::start(state).await;
    let mut stream = ask_and_read_nothing(&served.base, &device.token).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mut received = 0usize;
    let mut buffer = vec![0u8; 64 * 1024];
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.read(&mut buffer)).await {
            Err(_) => panic!("the connection stayed open after {received} bytes"),
            Ok(Ok(0) | Err(_)) => break,
            Ok(Ok(n)) => received += n,
        }
    }
    assert!(
        received > 0 && received < package.len(),
        "{received} bytes of {} arrived: the stalled download was not cut",
        package.len()
    );
    served.stop().await;

    // Past its deadline: cut before the package is whole (here before its first piece, so
    // the answer itself is cut short).
    let mut state = AppState::new(office.clone(), None);
    state.package_deadline = Duration::ZERO;
    let served = common::Served::start(state).await;
    let http = reqwest::Client::new();
    let whole = match http
        .get(format!("{}/sync/v1/releases/0.9.0/package", served.base))
        .bearer_auth(&device.token)
        .send()
        .await
    {
        Ok(response) => response
            .bytes()
            .await
            .is_ok_and(|b| b.len() == package.len()),
        Err(_) => false,
    };
    assert!(!whole, "a download past its deadline came whole");
    served.stop().await;
}

/// Downloads are bounded in number: one at a time for a device, and over all devices no more
/// than the server allows at once; a download's place is given back when it ends, here when
/// the device that stopped reading goes away.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn downloads_at_once_are_bounded_and_their_places_given_back() {
    use std::time::{Duration, Instant};

    let (office, package, _db) = large_release().await;
    let (first, second) = (
        common::enrol(&office, "ATH-01").await,
        common::enrol(&office, "ATH-01").await,
    );
    let mut state = AppState::new(office.clone(), None);
    state.downloads = Arc::new(Downloads::new(1));
    let served = common::Served::start(state).await;
    let url = format!("{}/sync/v1/releases/0.9.0/package", served.base);
    let http = reqwest::Client::new();
    // A device's download asked for until its answer has `status`, for ten seconds at most:
    // the server takes a moment to see a download start, or its connection go.
    let deadline = Instant::now() + Duration::from_secs(10);
    let download = |token: String, status: StatusCode| {
        let (http, url) = (http.clone(), url.clone());
        async move {
            loop {
                let got = http.get(&url).bearer_auth(&token).send().await.unwrap();
                if got.status() == status || Instant::now() > deadline {
                    assert_eq!(got.status(), status);
                    return got;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    };

    // The first device asks and reads nothing past its answer's first line: from then on the
    // server holds its download (before, a second ask of the device could take the place
    // first, on a busy machine, and the one that reads nothing be the one refused).
    let mut stream = ask_and_read_nothing(&served.base, &first.token).await;
    let mut head = [0u8; 12];
    tokio::io::AsyncReadExt::read_exact(&mut stream, &mut head)
        .await
        .unwrap();
    assert_eq!(&head, b"HTTP/1.1 200");
    let said = download(first.token.clone(), StatusCode::CONFLICT)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        said.contains("this device is downloading the package already"),
        "{said}"
    );
    let other = http
        .get(&url)
        .bearer_auth(&second.token)
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), StatusCode::SERVICE_UNAVAILABLE);
    let said = other.text().await.unwrap();
    assert!(
        said.contains("too many devices are downloading an update at once"),
        "{said}"
    );

    // Gone: its place is free for the other device, which gets the whole package.
    drop(stream);
    let got = download(second.token.clone(), StatusCode::OK).await;
    assert_eq!(got.bytes().await.unwrap().len(), package.len());
    served.stop().await;
}

/// A back office on SQLite with the centre ATH-01 and release 0.9.0, whose package of 24 MiB is
/// larger than any socket's buffers: a client that reads nothing holds its download. Returns
/// the back office, the package and the directory of its database.
async fn large_release() -> (BackOffice, Vec<u8>, tempfile::TempDir) {
    let (storage, db) = common::sqlite();
    let office = BackOffice::new(storage.clone());
    common::add_center(&office, "ATH-01", "ATH-01").await;
    let package = vec![7u8; 24 * 1024 * 1024];
    let release = guichet_backoffice::model::Release {
        version: "0.9.0".into(),
        file_name: "guichet_0.9.0_amd64.deb".into(),
        size: package.len() as u64,
        sha256: sha256_hex(&package),
        signature: fixture_text("guichet_0.9.0_amd64.deb.sig"),
        notes: String::new(),
        centres: None,
        published_at: "2026-12-06T10:00:00Z".into(),
    };
    storage
        .publish_release(&release, package.clone())
        .await
        .unwrap();
    (office, package, db)
}

/// Asks the server at `base` for release 0.9.0's package with `token`, on a connection of its
/// own that reads nothing yet.
async fn ask_and_read_nothing(base: &str, token: &str) -> tokio::net::TcpStream {
    use tokio::io::AsyncWriteExt;
    let address = base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    stream
        .write_all(
            format!(
                "GET /sync/v1/releases/0.9.0/package HTTP/1.1\r\nHost: guichet\r\n\
                 Authorization: Bearer {token}\r\n\r\n"
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    stream
}
