//! `territorio serve` as a process: it prints its URL, answers, and stops cleanly on SIGTERM.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};

#[test]
fn serve_answers_then_stops_cleanly_on_sigterm() {
    let catalog = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/cremona/catalog.toml");
    let mut child = Command::new(env!("CARGO_BIN_EXE_territorio"))
        .args(["serve", "--catalog", catalog, "--addr", "127.0.0.1:0"])
        .env("TERRITORIO_LOG", "warn")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut url = None;
    let mut line = String::new();
    while stderr.read_line(&mut line).unwrap() > 0 {
        if let Some(rest) = line.trim().strip_prefix("territorio is serving at ") {
            url = rest.split_whitespace().next().map(str::to_string);
            break;
        }
        line.clear();
    }
    let url = url.expect("the server prints its URL");
    let addr = url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string();
    let mut stream = TcpStream::connect(&addr).unwrap();
    write!(
        stream,
        "GET /collections HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("\"productive_areas\""));

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = child.wait().unwrap();
    assert!(exit.success(), "exit status {exit:?}");
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).unwrap();
    assert!(rest.contains("territorio stopped"), "{rest}");
}
