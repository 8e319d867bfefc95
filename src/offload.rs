//! The few threads documents are rendered and compressed on, off the async workers.
//!
//! One thread per core, always the same ones. The runtime's blocking pool would start a thread
//! for every job that finds none idle (16–19 threads in all during a cold start, 11–12 with this
//! pool), each keeping in its allocator heap what its last render or Brotli encoder left
//! behind; a fixed few also bound how many renders are in flight, and so the memory they hold,
//! whatever the clients do (BENCHMARKS.md, "Re-measured at 8de3a15").

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::OnceLock;

/// The pool, started the first time a job is run.
fn pool() -> &'static rayon::ThreadPool {
    static POOL: OnceLock<rayon::ThreadPool> = OnceLock::new();
    POOL.get_or_init(|| {
        rayon::ThreadPoolBuilder::new()
            .thread_name(|i| format!("tidings-work-{i}"))
            .build()
            .expect("a thread pool for rendering documents")
    })
}

/// Runs `job` on one of the pool's threads and waits for it without holding up an async
/// worker. `None` if the job panicked (the panic is reported where it happened; the pool lives
/// on).
pub async fn run<T: Send + 'static>(job: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    let (done, result) = tokio::sync::oneshot::channel();
    pool().spawn(move || {
        // The waiter may have gone (its client hung up): the job's work is kept regardless.
        let _ = done.send(catch_unwind(AssertUnwindSafe(job)).ok());
    });
    result.await.ok().flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_job_runs_on_a_pool_thread_and_a_panic_leaves_the_pool_working() {
        let name = run(|| std::thread::current().name().map(str::to_owned)).await.flatten();
        assert!(name.is_some_and(|n| n.starts_with("tidings-work-")));
        assert_eq!(run(|| -> u8 { panic!("a job that fails") }).await, None);
        let threads = pool().current_num_threads();
        // More jobs than threads at once: each waits its turn and none is lost.
        let jobs: Vec<_> = (0..threads * 4).map(|i| tokio::spawn(run(move || i * 2))).collect();
        for (i, job) in jobs.into_iter().enumerate() {
            assert_eq!(job.await.unwrap(), Some(i * 2));
        }
    }
}
