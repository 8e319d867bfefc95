//! The `tidings` binary: everything is in the library; this only hands over.

/// mimalloc instead of glibc's malloc: start-up makes and frees a few small strings per post
/// on every core, and glibc's arenas spent much of it in locking and consolidation while
/// keeping more memory (BENCHMARKS.md, "Size is free").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    tidings::cli::main()
}
