//! Compresses each file given with Brotli as tidings does (quality and size hint of
//! `representation::brotli`) at several windows, and prints per window the bytes the encoder asked for
//! at its peak and the time it took, for the files that fit a 64 KiB window and for the rest:
//! `bench/brotli_window.sh` runs it over a site's feeds.
//!
//! Usage: brotli_window FILE...

use std::time::Instant;

use tidings::heap_stats::{Counting, peak_bytes};

#[global_allocator]
static ALLOCATOR: Counting<std::alloc::System> = Counting(std::alloc::System);

/// One compression at `window`: (bytes out, peak bytes asked for beyond the input, seconds).
fn compress(bytes: &[u8], window: i32) -> (usize, usize, f64) {
    let params = brotli::enc::BrotliEncoderParams {
        quality: tidings::representation::BROTLI_QUALITY as i32,
        lgwin: window,
        size_hint: bytes.len(),
        ..Default::default()
    };
    let base = tidings::heap_stats::reset_peak();
    let started = Instant::now();
    let mut out = Vec::with_capacity(bytes.len() / 3);
    brotli::BrotliCompress(&mut &bytes[..], &mut out, &params).expect("brotli to memory");
    let took = started.elapsed().as_secs_f64();
    (out.len(), peak_bytes() - base, took)
}

fn main() {
    let files: Vec<Vec<u8>> = std::env::args().skip(1).map(|f| std::fs::read(&f).expect("a readable file")).collect();
    let mib = |bytes: usize| bytes as f64 / (1024.0 * 1024.0);
    for (label, fits) in [("files of at most 64 KiB", true), ("larger files", false)] {
        let group: Vec<&Vec<u8>> = files.iter().filter(|f| (f.len() <= 1 << 16) == fits).collect();
        if group.is_empty() {
            continue;
        }
        println!(
            "{} {label}, {:.0} KB in all:",
            group.len(),
            group.iter().map(|f| f.len()).sum::<usize>() as f64 / 1e3
        );
        for window in [16, 17, 18, 22] {
            let (mut out, mut peak, mut seconds) = (0, 0, 0.0);
            for file in &group {
                // Three runs; the fastest is the time, as every run asks for the same bytes.
                let runs: Vec<_> = (0..3).map(|_| compress(file, window)).collect();
                out += runs[0].0;
                peak = peak.max(runs[0].1);
                seconds += runs.iter().map(|r| r.2).fold(f64::INFINITY, f64::min);
            }
            println!(
                "  window {window}: {:.2} ms per file, at most {:.1} MiB asked for by one compression, {:.0} KB out",
                seconds * 1e3 / group.len() as f64,
                mib(peak),
                out as f64 / 1e3
            );
        }
    }
}
