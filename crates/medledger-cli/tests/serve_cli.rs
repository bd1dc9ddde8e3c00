//! `medledger serve` as a real process: users and tokens made by the CLI
//! work against the server's database, the access log holds no secrets,
//! and SIGTERM lets an in-flight request finish before exiting 0.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{json, medledger};

const PASSWORD: &str = "correct horse battery";

fn start(data: &Path, extra: &[&str]) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_medledger"))
        .arg("--data-dir")
        .arg(data)
        .args(["--json", "serve", "--addr", "127.0.0.1:0", "--workers", "2"])
        .args(extra)
        .env("MEDLEDGER_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start medledger serve");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("read the listening line");
    let v: serde_json::Value = serde_json::from_str(&line)
        .unwrap_or_else(|e| panic!("not the listening line ({e}): {line:?}"));
    (child, v["listening"].as_str().expect("address").to_owned())
}

/// One HTTP/1.1 request on a fresh connection; (status, body).
fn request(addr: &str, method: &str, path: &str, token: Option<&str>, body: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    read_response(s)
}

fn read_response(mut s: TcpStream) -> (u16, String) {
    let mut out = String::new();
    s.read_to_string(&mut out).expect("read the response");
    let status = out
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no status line: {out:?}"));
    let body = out
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

fn wait_exit(child: &mut Child, within: Duration) -> std::process::ExitStatus {
    let t = Instant::now();
    loop {
        if let Some(st) = child.try_wait().expect("wait") {
            return st;
        }
        if t.elapsed() > within {
            let _ = child.kill();
            panic!("the server did not exit within {within:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn add_user(data: &Path, name: &str, role: &str) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_medledger"))
        .arg("--data-dir")
        .arg(data)
        .args([
            "--json",
            "user",
            "add",
            name,
            "--role",
            role,
            "--credential",
            "CPC",
            "--password-stdin",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("user add");
    writeln!(child.stdin.take().unwrap(), "{PASSWORD}").unwrap();
    let out = child.wait_with_output().unwrap();
    let u = json(&out);
    assert_eq!(u["username"], name, "{u}");
}

#[test]
fn token_create_works_against_the_server_and_sigterm_finishes_in_flight_requests() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path();
    add_user(data, "cora", "coder");
    let t = json(&medledger(
        data,
        &["--json", "token", "create", "cora", "--label", "ci"],
    ));
    assert_eq!(t["username"], "cora");
    assert_eq!(t["label"], "ci");
    let token = t["token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("mlt_"));
    // the existing `user token` still works
    let t2 = json(&medledger(data, &["--json", "user", "token", "cora"]));
    assert!(t2["token"].as_str().unwrap().starts_with("mlt_"));

    let (mut child, addr) = start(data, &[]);
    let (st, body) = request(&addr, "GET", "/health", None, "");
    assert_eq!((st, body.as_str()), (200, r#"{"status":"ok"}"#));
    let (st, body) = request(&addr, "GET", "/api/v1/me", Some(&token), "");
    assert_eq!(st, 200, "{body}");
    let me: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(me["username"], "cora");
    assert_eq!(me["roles"], serde_json::json!(["coder"]));
    // no code sets in this data directory: not ready, a problem
    let (st, body) = request(&addr, "GET", "/ready", None, "");
    assert_eq!(st, 503, "{body}");
    assert!(body.contains("\"status\":503"), "{body}");
    let (st, _) = request(&addr, "GET", "/api/v1/me", Some("mlt_wrong"), "");
    assert_eq!(st, 401);

    // a login whose body arrives after SIGTERM still completes
    let login = format!(r#"{{"username":"cora","password":"{PASSWORD}"}}"#);
    let mut s = TcpStream::connect(&addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        s,
        "POST /api/v1/login HTTP/1.1\r\nHost: test\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{}",
        login.len(),
        &login[..10]
    )
    .unwrap();
    s.flush().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        child.try_wait().unwrap().is_none(),
        "exited with a request in flight"
    );
    s.write_all(&login.as_bytes()[10..]).unwrap();
    let (st, body) = read_response(s);
    assert_eq!(st, 200, "{body}");
    let session: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(session["token"].as_str().unwrap().starts_with("mlt_"));
    let status = wait_exit(&mut child, Duration::from_secs(15));
    assert!(status.success(), "exit status {status:?}");
    // stopped accepting
    assert!(TcpStream::connect(&addr).is_err());

    // the access log: route templates and statuses, never tokens or passwords
    let mut log = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut log)
        .unwrap();
    assert!(
        log.contains("/api/v1/me") && log.contains("/api/v1/login"),
        "{log}"
    );
    assert!(
        log.contains("\"status\":200") || log.contains("status=200"),
        "{log}"
    );
    assert!(!log.contains(&token), "{log}");
    assert!(!log.contains(session["token"].as_str().unwrap()));
    assert!(!log.contains(PASSWORD));
}
