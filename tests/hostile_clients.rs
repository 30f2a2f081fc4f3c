//! Slow and hostile clients against a real server on loopback: each is cut off after its
//! configured time (short ones here), and the server keeps answering the others meanwhile.
//! Every wait in these tests is bounded.

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::http::{demo_catalog, start_server_with};
use territorio::api::ServerConfig;

fn config() -> ServerConfig {
    ServerConfig {
        header_timeout: Duration::from_secs(1),
        idle_timeout: Duration::from_secs(2),
        write_timeout: Duration::from_secs(1),
        request_timeout: Duration::from_secs(1),
        ..ServerConfig::default()
    }
}

fn address(base: &str) -> String {
    base.trim_start_matches("http://").to_string()
}

/// Whether the server closes `stream` (end of stream or reset) within `limit`, reading and
/// discarding whatever it sends before.
fn closed_within(stream: &mut TcpStream, limit: Duration) -> bool {
    stream
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let started = Instant::now();
    let mut buf = [0u8; 65536];
    while started.elapsed() < limit {
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => return true,
        }
    }
    false
}

/// `GET /health` on a new connection answers 200.
fn healthy(addr: &str) -> bool {
    let Ok(mut s) = TcpStream::connect(addr) else {
        return false;
    };
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    if s.write_all(b"GET /health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut answer = String::new();
    let _ = s.read_to_string(&mut answer);
    answer.starts_with("HTTP/1.1 200")
}

#[test]
fn headers_sent_byte_by_byte_are_cut_off_and_others_are_served() {
    let addr = address(&start_server_with(demo_catalog(), config()));
    let mut slow = TcpStream::connect(&addr).unwrap();
    let request = b"GET /health HTTP/1.1\r\nHost: t\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
    let started = Instant::now();
    let mut cut = false;
    for &b in request.iter() {
        if slow.write_all(&[b]).is_err() {
            cut = true;
            break;
        }
        // Others are served while the slow one dribbles.
        if started.elapsed() < Duration::from_millis(300) {
            assert!(healthy(&addr), "the server answers others");
        }
        std::thread::sleep(Duration::from_millis(100));
        if started.elapsed() > Duration::from_secs(4) {
            break;
        }
    }
    // Either a write already failed, or the connection is closed without an answer.
    cut = cut || closed_within(&mut slow, Duration::from_secs(3));
    assert!(
        cut,
        "a request whose headers take longer than the limit is cut off"
    );
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "cut off in {:?}",
        started.elapsed()
    );
    assert!(healthy(&addr));
}

#[test]
fn an_idle_connection_is_closed_and_others_are_served() {
    let addr = address(&start_server_with(demo_catalog(), config()));
    let mut idle = TcpStream::connect(&addr).unwrap();
    assert!(healthy(&addr));
    assert!(
        closed_within(&mut idle, Duration::from_secs(6)),
        "a connection that sends nothing is closed after the header time limit"
    );
    // A keep-alive connection that served a request and then goes quiet is closed too: the
    // wait for its next request's headers is bounded the same way.
    let mut quiet = TcpStream::connect(&addr).unwrap();
    quiet
        .write_all(b"GET /health HTTP/1.1\r\nHost: t\r\n\r\n")
        .unwrap();
    assert!(closed_within(&mut quiet, Duration::from_secs(6)));
    assert!(healthy(&addr));
}

#[test]
fn a_client_that_never_reads_its_answers_is_cut_off() {
    let addr = address(&start_server_with(demo_catalog(), config()));
    let mut greedy = TcpStream::connect(&addr).unwrap();
    // Many pipelined requests for pages of features, never read: the answers fill the
    // socket buffers, the server's writes wait, and the write limit ends the connection.
    let request = b"GET /collections/projects/items?limit=150 HTTP/1.1\r\nHost: t\r\n\r\n";
    let mut sent = 0;
    greedy
        .set_write_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    for _ in 0..4000 {
        if greedy.write_all(request).is_err() {
            break;
        }
        sent += 1;
    }
    assert!(sent > 100, "only {sent} requests could be sent");
    // While it is stuck, others are served.
    assert!(healthy(&addr));
    std::thread::sleep(Duration::from_secs(3));
    // Now read: the answers stop well before the last request (the connection was closed).
    // Were it still open, the server would write on as this reads, and all would arrive.
    greedy
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    let mut received = Vec::new();
    let mut buf = [0u8; 65536];
    let started = Instant::now();
    loop {
        match greedy.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => received.extend_from_slice(&buf[..n]),
            Err(_) => break,
        }
        assert!(started.elapsed() < Duration::from_secs(30));
    }
    let answers = count(&received, b"HTTP/1.1 200");
    assert!(
        answers < sent,
        "{answers} of {sent} answers arrived: the connection was not cut off"
    );
    assert!(healthy(&addr));
}

fn count(haystack: &[u8], needle: &[u8]) -> usize {
    haystack
        .windows(needle.len())
        .filter(|w| *w == needle)
        .count()
}

#[test]
fn connections_beyond_the_limit_are_closed_at_once() {
    let addr = address(&start_server_with(
        demo_catalog(),
        ServerConfig {
            max_connections: 3,
            ..config()
        },
    ));
    let held: Vec<TcpStream> = (0..3).map(|_| TcpStream::connect(&addr).unwrap()).collect();
    // Give the server time to accept the three.
    std::thread::sleep(Duration::from_millis(300));
    let mut extra = TcpStream::connect(&addr).unwrap();
    let _ = extra.write_all(b"GET /health HTTP/1.1\r\nHost: t\r\n\r\n");
    assert!(
        closed_within(&mut extra, Duration::from_secs(1)),
        "a fourth connection is closed at once"
    );
    // Once the held connections are gone, new clients are served again.
    drop(held);
    let started = Instant::now();
    while !healthy(&addr) {
        assert!(
            started.elapsed() < Duration::from_secs(6),
            "served again once slots are free"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_body_that_stops_coming_is_cut_by_the_request_time_limit() {
    let addr = address(&start_server_with(demo_catalog(), config()));
    let mut stuck = TcpStream::connect(&addr).unwrap();
    // A POST announcing 10,000 bytes of GeoJSON that sends 20 and then nothing.
    stuck
        .write_all(
            b"POST /analysis/nearest?layer=hospitals&k=3 HTTP/1.1\r\nHost: t\r\n\
              Content-Type: application/geo+json\r\nContent-Length: 10000\r\n\r\n\
              {\"type\":\"Point\",\"co",
        )
        .unwrap();
    assert!(healthy(&addr), "others are served while the body waits");
    stuck
        .set_read_timeout(Some(Duration::from_secs(6)))
        .unwrap();
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(6) {
        match stuck.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                answer.extend_from_slice(&buf[..n]);
                if answer.windows(4).any(|w| w == b"\r\n\r\n") {
                    break;
                }
            }
        }
    }
    // The request time limit (1 s here) answers 503, a problem document.
    let text = String::from_utf8_lossy(&answer);
    assert!(
        text.starts_with("HTTP/1.1 503") && text.contains("application/problem+json"),
        "answer to a stalled body: {text}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "answered in {:?}",
        started.elapsed()
    );
    assert!(healthy(&addr));
}

/// A filter built to exhaust the stack of the thread that parses it (a chain of thousands of
/// operators; the first found by fuzzing, `tests/fuzz_regressions.rs`) is refused with a 400
/// that names the bound, on the async worker (up to 4 KB) and on the blocking pool (longer),
/// and the process (the real binary, with its own threads' stacks) goes on answering.
#[test]
fn filters_built_to_exhaust_the_stack_are_refused_and_the_server_lives_on() {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_territorio"));
    cmd.args(["serve", "--catalog"])
        .arg(common::process::demo_catalog_file())
        .args(["--addr", "127.0.0.1:0"]);
    let server = common::process::Server::start(cmd).unwrap_or_else(|e| panic!("{e:?}"));
    let items = |filter: &str| {
        let query: String = form_urlencoded::Serializer::new(String::new())
            .append_pair("filter", filter)
            .finish();
        let path = format!("/collections/productive_areas/items?{query}");
        server.call("GET", &path, &[("accept", "application/geo+json")], None)
    };
    let d = |n: usize| "-".repeat(n);
    let found = format!(
        "kind{}oie<cmeit{}'{}<={}'{}5.2",
        d(3104),
        d(1),
        d(1),
        d(3),
        d(119)
    );
    let long = format!("{}kind = 'x'", "NOT ".repeat(2000));
    let deep = format!("{}kind = 'x'{}", "(".repeat(200), ")".repeat(200));
    for (filter, needle) in [
        (&found, "too many operators"),
        (&long, "too many operators"),
        (&deep, "nested too deeply"),
    ] {
        assert!(filter.len() < 4096 || filter == &long, "{}", filter.len());
        let r = items(filter);
        assert_eq!(r.status, 400, "{}\nlog:\n{}", r.text(), server.log());
        let detail = r.json()["detail"].as_str().unwrap_or("").to_string();
        assert!(detail.contains(needle), "{detail}");
    }
    // The process is alive and answers filters as before.
    let r = items("NOT (kind = 'no such kind')");
    assert_eq!(r.status, 200, "{}", r.text());
    let all = server.get_json("/collections/productive_areas/items?limit=10000");
    assert_eq!(r.json()["numberMatched"], all["numberMatched"]);
    assert!(all["numberMatched"].as_u64().unwrap() > 0);
}
