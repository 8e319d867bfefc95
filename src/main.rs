//! The `tidings` binary: everything is in the library; this only hands over.

/// mimalloc instead of glibc's malloc: start-up makes and frees a few small strings per post
/// on every core, and glibc's arenas spent much of it in locking and consolidation
/// (BENCHMARKS.md, "Size is free"). Built without transparent huge pages (`no_thp`), which
/// count whole 2 MiB pages as resident for memory that is barely touched.
#[cfg(not(feature = "heap-stats"))]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The same allocator, counted for `/metrics` (benchmarks only: see `tidings::heap_stats`).
#[cfg(feature = "heap-stats")]
#[global_allocator]
static ALLOCATOR: tidings::heap_stats::Counting<mimalloc::MiMalloc> = tidings::heap_stats::Counting(mimalloc::MiMalloc);

// The one mimalloc setting tidings changes, from the C library linked in by `mimalloc`.
unsafe extern "C" {
    fn mi_option_set(option: std::ffi::c_int, value: std::ffi::c_long);
}

/// `mi_option_purge_delay` in `mimalloc.h` of the C library that libmimalloc-sys 0.1.49 (the
/// version in Cargo.lock) builds: check it when that crate is upgraded.
const MI_OPTION_PURGE_DELAY: std::ffi::c_int = 15;

fn main() -> std::process::ExitCode {
    // Memory freed after a render goes back to the system at once instead of 10 ms later:
    // renders on several threads at once otherwise keep each other's freed pages resident,
    // and the peak, not the average, is what a budget has to hold.
    // SAFETY: sets a tunable of the allocator; takes no pointers.
    unsafe { mi_option_set(MI_OPTION_PURGE_DELAY, 0) };
    tidings::cli::main()
}
