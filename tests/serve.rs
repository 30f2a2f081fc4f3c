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

/// The nice value of each thread of process `pid`, by thread name, in the order of their ids
/// (the main thread first).
fn thread_nices(pid: u32) -> Vec<(String, i32)> {
    let mut out = Vec::new();
    let mut tasks: Vec<u32> = std::fs::read_dir(format!("/proc/{pid}/task"))
        .unwrap()
        .map(|t| t.unwrap().file_name().to_str().unwrap().parse().unwrap())
        .collect();
    tasks.sort();
    for tid in tasks {
        let dir = std::path::PathBuf::from(format!("/proc/{pid}/task/{tid}"));
        let name = std::fs::read_to_string(dir.join("comm")).unwrap();
        let stat = std::fs::read_to_string(dir.join("stat")).unwrap();
        // After the name in parentheses: field 3 (state) onwards; the nice value is field 19.
        let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..].split(' ').collect();
        out.push((name.trim().to_string(), fields[16].parse().unwrap()));
    }
    out
}

#[test]
fn the_parallel_threads_of_geometry_work_run_at_the_workers_priority() {
    // The threads that run the parallel part of a request (here the indicators, computed over
    // the projects in parallel) are made at the start: they must run at the geometry workers'
    // lower priority, not at the async workers' (a point lookup would wait behind them).
    let catalog = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/cremona/catalog.toml");
    let own: i32 = {
        let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap();
        let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..].split(' ').collect();
        fields[16].parse().unwrap()
    };
    // A thread cannot be given a higher priority than it has (the tests may run niced).
    let expected = own.max(7);
    let mut child = Command::new(env!("CARGO_BIN_EXE_territorio"))
        .args(["serve", "--catalog", catalog, "--addr", "127.0.0.1:0"])
        .args(["--worker-nice", "7"])
        .env("TERRITORIO_LOG", "warn")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut addr = None;
    let mut line = String::new();
    while stderr.read_line(&mut line).unwrap() > 0 {
        if let Some(rest) = line.trim().strip_prefix("territorio is serving at http://") {
            addr = rest.split('/').next().map(str::to_string);
            break;
        }
        line.clear();
    }
    let addr = addr.expect("the server prints its URL");
    let mut stream = TcpStream::connect(&addr).unwrap();
    write!(
        stream,
        "GET /indicators HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer:.200}");
    let threads = thread_nices(child.id());
    let _ = child.kill();
    let _ = child.wait();
    let parallel: Vec<_> = threads
        .iter()
        .filter(|(name, _)| name.starts_with("parallel-"))
        .collect();
    assert!(!parallel.is_empty(), "no parallel thread among {threads:?}");
    for (name, nice) in &parallel {
        assert_eq!(*nice, expected, "{name} in {threads:?}");
    }
    // The process itself keeps its priority (the main thread: the first in the list).
    assert_eq!(threads[0].1, own, "{threads:?}");
}
