//! The `tidings` binary: everything is in the library; this only hands over.

fn main() -> std::process::ExitCode {
    limit_malloc_arenas();
    tidings::cli::main()
}

/// glibc gives every thread that allocates its own arena, up to eight per core, and keeps
/// freed memory in each: with render threads, blocking threads and the runtime's workers,
/// memory freed by a render stays with the thread that made it. One arena per core keeps the
/// peak under a crawl closer to the cache budget (BENCHMARKS.md, "Size is free").
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        // SAFETY: mallopt only sets a tunable; called before any other thread exists.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, cores.clamp(1, 64) as libc::c_int);
        }
    }
}
