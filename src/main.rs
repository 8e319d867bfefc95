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

// No allocator options are set here. tidings used to set mimalloc's `purge_delay` to 0 through
// a hand-declared `mi_option_set` and the option's number copied from `mimalloc.h`; the
// `mimalloc` crate has no API for options, and libmimalloc-sys's `extended` feature declares
// `mi_option_set` but not this option, so the magic number would stay. The call is dropped:
// mimalloc's default delay applies, and an operator who wants freed memory back at once can
// set `MIMALLOC_PURGE_DELAY=0` in the environment, which mimalloc reads when it starts.

fn main() -> std::process::ExitCode {
    tidings::cli::main()
}
