//! The thread pools proofs run on, safe after `fork`.
//!
//! rayon's global pool is created once per process; a child made by `fork` (Python's
//! `multiprocessing` on Linux) inherits the pool's bookkeeping but none of its threads, so work
//! sent to it would wait forever. The bindings never use the global pool: every call runs in a
//! pool of their own, remembered with the process id that built it and rebuilt in a child (the
//! parent's pool is leaked there, never dropped: its threads do not exist in the child).

use rayon::{ThreadPool, ThreadPoolBuilder};
use std::sync::{Arc, Mutex};

struct Cached {
    pid: u32,
    threads: usize,
    pool: Arc<ThreadPool>,
}

static POOL: Mutex<Option<Cached>> = Mutex::new(None);

/// The default number of threads: `RAYON_NUM_THREADS` when set to a positive number, else the
/// machine's available parallelism.
pub fn default_threads() -> usize {
    std::env::var("RAYON_NUM_THREADS")
        .ok()
        .and_then(|s| s.trim().parse::<usize>().ok())
        .filter(|&n| n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// The pool for `threads` threads, if this process already made it.
fn cached(pid: u32, threads: usize) -> Option<Arc<ThreadPool>> {
    let cached = POOL.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    cached.as_ref().filter(|c| c.pid == pid && c.threads == threads).map(|c| c.pool.clone())
}

/// A pool of `threads` threads (the default when `None`) for this process.
///
/// The lock on the cache is held only to read or replace it, never while threads start, so a
/// `fork` from another thread can hardly find it held.
///
/// # Errors
/// Zero threads, more than 1024, or a pool the OS would not start.
pub fn pool(threads: Option<i64>) -> Result<Arc<ThreadPool>, String> {
    let threads = match threads {
        None => default_threads(),
        Some(n) if (1..=1024).contains(&n) => n as usize,
        Some(n) => return Err(format!("threads must be between 1 and 1024, got {n}")),
    };
    let pid = std::process::id();
    if let Some(p) = cached(pid, threads) {
        return Ok(p);
    }
    let pool = ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("gkrnet-{i}"))
        .build()
        .map_err(|e| format!("cannot start {threads} threads: {e}"))?;
    let pool = Arc::new(pool);
    let old = POOL.lock().unwrap_or_else(std::sync::PoisonError::into_inner).replace(Cached {
        pid,
        threads,
        pool: pool.clone(),
    });
    if let Some(old) = old {
        if old.pid != pid {
            // a pool of the parent process: its threads are not ours to stop
            std::mem::forget(old);
        }
    }
    Ok(pool)
}

/// Runs `f` on the pool for `threads` with the interpreter lock released: every call into the
/// library goes through here, so none touches rayon's global pool (which a forked child
/// cannot use).
///
/// # Errors
/// A bad thread count, as `gkrnet.InputError`.
pub fn run<R: Send>(
    py: pyo3::Python<'_>,
    threads: Option<i64>,
    f: impl FnOnce() -> R + Send,
) -> pyo3::PyResult<R> {
    let pool = pool(threads).map_err(crate::errors::input)?;
    Ok(py.detach(|| pool.install(f)))
}
