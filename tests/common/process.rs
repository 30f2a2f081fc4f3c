//! The real `territorio serve` process, and a minimal blocking HTTP/1.1 client over
//! `TcpStream` to talk to it (one request per connection): for tests that kill the server,
//! restart it, or run it in a mount namespace of its own.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

/// The demo catalogue.
pub fn demo_catalog_file() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/cremona/catalog.toml")
}

/// `territorio accounts --file FILE add-user NAME --edit ... --password-stdin`.
pub fn add_user(file: &Path, name: &str, password: &str, edit: &[&str]) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_territorio"));
    cmd.arg("accounts")
        .arg("--file")
        .arg(file)
        .args(["add-user", name, "--password-stdin"]);
    for layer in edit {
        cmd.args(["--edit", layer]);
    }
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the territorio binary runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{password}\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "add-user {name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The arguments of `territorio serve` on the demo with edits on, on a free port.
pub fn serve_args(data_dir: &Path, accounts: &Path) -> Vec<String> {
    [
        "serve".to_string(),
        "--catalog".into(),
        demo_catalog_file().display().to_string(),
        "--addr".into(),
        "127.0.0.1:0".into(),
        "--data-dir".into(),
        data_dir.display().to_string(),
        "--accounts".into(),
        accounts.display().to_string(),
    ]
    .into()
}

/// `territorio serve` on the demo with edits on, on a free port.
pub fn serve_command(data_dir: &Path, accounts: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_territorio"));
    cmd.args(serve_args(data_dir, accounts));
    cmd
}

/// The path of the territorio binary, for commands run through a wrapper.
pub fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_territorio")
}

/// A running server process; killed (SIGKILL) when dropped.
pub struct Server {
    child: Child,
    /// `127.0.0.1:PORT`
    pub addr: String,
    log: Arc<Mutex<Vec<String>>>,
}

/// How a server process ended before it served: its exit status and what it wrote.
#[derive(Debug)]
pub struct Exited {
    pub code: Option<i32>,
    pub stderr: String,
}

impl Server {
    /// Starts `cmd` (a `territorio serve` on port 0, maybe behind a wrapper) and waits until it
    /// says where it serves.
    pub fn start(mut cmd: Command) -> Result<Server, Exited> {
        // Warnings only, unless the test asks for more: the request log would be a lot of
        // text to drain.
        if !cmd.get_envs().any(|(k, _)| k == "TERRITORIO_LOG") {
            cmd.env("TERRITORIO_LOG", "warn");
        }
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("the server command runs");
        let stderr = child.stderr.take().unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::channel::<String>();
        let kept = log.clone();
        // Drains standard error for as long as the process lives (a full pipe would block it).
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                kept.lock().unwrap().push(line.clone());
                let _ = tx.send(line);
            }
        });
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    if let Some(rest) = line.split("is serving at http://").nth(1) {
                        let addr = rest.split('/').next().unwrap().to_string();
                        return Ok(Server { child, addr, log });
                    }
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    let code = child.wait().ok().and_then(|s| s.code());
                    let stderr = log.lock().unwrap().join("\n");
                    return Err(Exited { code, stderr });
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!(
                        "the server did not start within 60 s:\n{}",
                        log.lock().unwrap().join("\n")
                    );
                }
            }
        }
    }

    /// The process id (of the wrapper's process when it `exec`s the server).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `kill -9`: the process ends at once, without any chance to clean up.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// What the server wrote on standard error so far.
    pub fn log(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> std::io::Result<Reply> {
        request(&self.addr, method, path, headers, body)
    }

    /// A request that must get an answer (no connection error).
    pub fn call(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Reply {
        self.request(method, path, headers, body)
            .unwrap_or_else(|e| panic!("{method} {path}: {e}\nserver log:\n{}", self.log()))
    }

    /// `GET path` answered 200 with JSON.
    pub fn get_json(&self, path: &str) -> serde_json::Value {
        let r = self.call("GET", path, &[("accept", "application/json")], None);
        assert_eq!(r.status, 200, "GET {path}: {}", r.text());
        r.json()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// An answer: status, headers (names in lower case) and body.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }
}

/// One HTTP/1.1 request on a new connection (`Connection: close`), its answer read whole.
/// An error means no complete answer arrived: the request may or may not have been done.
pub fn request(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> std::io::Result<Reply> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    stream.set_write_timeout(Some(Duration::from_secs(30)))?;
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    let body = body.unwrap_or_default();
    if !body.is_empty() || matches!(method, "POST" | "PUT" | "PATCH") {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    let mut message = head.into_bytes();
    message.extend_from_slice(body);
    stream.write_all(&message)?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    parse(&raw)
}

fn broken(why: &str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::UnexpectedEof, why.to_string())
}

/// Parses a whole answer; an answer cut short is an error.
fn parse(raw: &[u8]) -> std::io::Result<Reply> {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| broken("no complete header"))?;
    let head = String::from_utf8_lossy(&raw[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| broken("no status line"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let rest = &raw[end + 4..];
    let find = |name: &str| headers.iter().find(|(k, _)| k == name).map(|(_, v)| v);
    let body = if find("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        dechunk(rest)?
    } else if let Some(n) = find("content-length").and_then(|v| v.parse::<usize>().ok()) {
        if rest.len() < n {
            return Err(broken("body cut short"));
        }
        rest[..n].to_vec()
    } else {
        rest.to_vec()
    };
    Ok(Reply {
        status,
        headers,
        body,
    })
}

fn dechunk(mut data: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = data
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or_else(|| broken("chunk cut short"))?;
        let size_text = String::from_utf8_lossy(&data[..line_end]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap().trim(), 16)
            .map_err(|_| broken("bad chunk size"))?;
        data = &data[line_end + 2..];
        if size == 0 {
            return Ok(out);
        }
        if data.len() < size + 2 {
            return Err(broken("chunk cut short"));
        }
        out.extend_from_slice(&data[..size]);
        data = &data[size + 2..];
    }
}

/// `Authorization: Basic ...` for these credentials.
pub fn basic(user: &str, password: &str) -> String {
    use base64::Engine;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}
