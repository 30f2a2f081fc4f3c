//! A query string, sent through the router of `territorio serve` (the fuzz layer as its one
//! collection) as a GET: the first line of the input names the route (items, item, queryables,
//! nearest, within, overlay, locate, join; items when it names none), each further line is one
//! parameter `name=value`. This reaches every parameter parser as the handlers combine them
//! (`sortby` with its signs, `properties`, `bbox` with `bbox-crs`, `filter` with `filter-lang`
//! and `filter-crs`, `datetime`, the subjects with `subject-crs`, `f` and content negotiation).
//!
//! Invariants: never a 500; errors are problem documents with a status and a detail; JSON
//! answers parse as JSON.
#![no_main]

use libfuzzer_sys::fuzz_target;
use territorio_fuzz::{check_answer, get, request_uri};

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    let uri = request_uri(input);
    let (status, content_type, body) = get(&uri);
    check_answer(&uri, status, &content_type, &body);
});
