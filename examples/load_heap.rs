//! Loads a site as `tidings serve` does before it listens (library, then the first index)
//! and prints the bytes its allocations ask for, live and at their peak, beside the
//! process's RSS: `bench/heap_load.sh` sets them against what `tidings serve` holds.
//!
//! Usage: load_heap CONTENT_DIR FEEDS_DIR

use tidings::heap_stats::{Counting, live_bytes, peak_bytes};

#[global_allocator]
static ALLOCATOR: Counting<std::alloc::System> = Counting(std::alloc::System);

fn main() -> std::process::ExitCode {
    let mut args = std::env::args().skip(1);
    let (Some(content), Some(feeds)) = (args.next(), args.next()) else {
        eprintln!("usage: load_heap CONTENT_DIR FEEDS_DIR");
        return std::process::ExitCode::from(2);
    };
    let sources = tidings::content::Sources::new(content, feeds);
    let library = match tidings::content::Library::load(&sources) {
        Ok(library) => library,
        Err(e) => {
            eprintln!("{}", e.0);
            return std::process::ExitCode::FAILURE;
        }
    };
    let app = tidings::app::App::new(library, chrono::Utc::now());
    let mib = |bytes: usize| bytes as f64 / (1024.0 * 1024.0);
    println!("asked for: live {:.1} MiB, peak {:.1} MiB", mib(live_bytes()), mib(peak_bytes()));
    drop(app);
    std::process::ExitCode::SUCCESS
}
