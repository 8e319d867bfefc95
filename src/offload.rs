//! The few threads documents are rendered and compressed on, off the async workers; and the
//! low-priority threads that set-up work runs on, out of their way.
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

/// How much less the scheduler favours a [`low_priority`] thread: nice 10 gets about a tenth
/// of a core that normal threads also want, and all of an idle one.
const BACKGROUND_NICE: libc::c_int = 10;

/// Runs `make` on a new thread at low priority (nice 10) and waits for it, blocking. Threads
/// that `make` starts inherit that priority: so do all their work, for good.
pub fn low_priority<T: Send + 'static>(name: &str, make: impl FnOnce() -> T + Send + 'static) -> std::io::Result<T> {
    spawn_low_priority(name, make)?.join().map_err(|_| std::io::Error::other(format!("{name} panicked")))
}

/// Runs `job` on a new thread at low priority (nice 10), for set-up work in the background
/// that must not slow the answers being made meanwhile: it takes what the cores leave. `None`
/// if the job panicked. The job runs within the caller's runtime, as on its blocking pool.
pub async fn background<T: Send + 'static>(name: &str, job: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    let (done, result) = tokio::sync::oneshot::channel();
    let runtime = tokio::runtime::Handle::current();
    let started = spawn_low_priority(name, move || {
        let _runtime = runtime.enter();
        let _ = done.send(catch_unwind(AssertUnwindSafe(job)).ok());
    });
    match started {
        Ok(_) => result.await.ok().flatten(),
        Err(e) => {
            tracing::warn!("cannot start a thread for {name}: {e}");
            None
        }
    }
}

/// Starts a thread named `name` that lowers its priority, then runs `job`.
fn spawn_low_priority<T: Send + 'static>(
    name: &str,
    job: impl FnOnce() -> T + Send + 'static,
) -> std::io::Result<std::thread::JoinHandle<T>> {
    std::thread::Builder::new().name(name.to_owned()).spawn(move || {
        lower_this_thread();
        job()
    })
}

/// Lowers the calling thread's priority to [`BACKGROUND_NICE`]: Linux keeps a nice value per
/// thread. Best effort: a thread that cannot be lowered runs at the usual priority.
fn lower_this_thread() {
    // SAFETY: `gettid` has no preconditions and `setpriority` takes no pointers.
    unsafe {
        let thread = libc::gettid();
        libc::setpriority(libc::PRIO_PROCESS, thread as libc::id_t, BACKGROUND_NICE);
    }
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

    /// The calling thread's nice value.
    fn nice() -> libc::c_int {
        // SAFETY: as in `lower_this_thread`.
        unsafe { libc::getpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t) }
    }

    #[tokio::test]
    async fn background_work_runs_at_low_priority_and_so_do_its_threads() {
        let before = nice();
        let job = background("tidings-test", || (nice(), std::thread::spawn(nice).join().unwrap())).await;
        assert_eq!(job, Some((BACKGROUND_NICE, BACKGROUND_NICE)));
        let spawned = background("tidings-test", || tokio::spawn(async { 7 })).await.unwrap();
        assert_eq!(spawned.await.unwrap(), 7, "tasks can be spawned from the job");
        assert_eq!(background("tidings-test", || -> u8 { panic!("a job that fails") }).await, None);
        let made = low_priority("tidings-test", || std::thread::spawn(nice).join().unwrap()).unwrap();
        assert_eq!(made, BACKGROUND_NICE);
        assert_eq!(nice(), before, "the caller's priority is left alone");
    }
}
