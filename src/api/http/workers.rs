//! The threads of geometry work: a fixed set of them, made with the server's state, and their
//! priority.
//!
//! [`super::state::AppState::run_blocking`] decides when a job may run (one per worker at a
//! time, a bounded queue, 503 beyond it); [`Threads`] is where it runs. The jobs ran on the
//! async runtime's blocking threads before. That pool makes a thread whenever a job arrives
//! and none is idle, and ends a thread idle for 10 s. With as many jobs at once as workers, a
//! job's thread is still finishing (its answer sent, not yet back among the idle ones, often
//! preempted there at its lower priority) when the next job comes: the demo server under the
//! soak's mixed load kept 19 to 25 such threads for 2 workers. Each thread has its own heap
//! in the allocator, which keeps some of what was freed in it: 20 heaps keep more than 2, and
//! a heap is abandoned when its thread ends. Here there are exactly as many threads as workers,
//! for the server's life, lowered once.
//!
//! The threads are made at the first job (a state that never runs one has none). A job that
//! panics is caught on its thread, which goes on; the caller gets the panic as an error. The
//! threads end when the [`Threads`] is dropped (with the server's state), after the job they
//! run.
//!
//! Cost: a job is one boxed closure sent on a channel and one answer on a oneshot channel, a
//! few microseconds, against the milliseconds of the jobs that come here.

use std::panic::AssertUnwindSafe;
use std::sync::{mpsc, Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

/// A job, wrapped to send its answer.
type Job = Box<dyn FnOnce() + Send>;

/// A fixed set of threads running jobs in the order they come, made at the first job.
pub struct Threads {
    count: usize,
    nice: i32,
    jobs: OnceLock<Result<mpsc::Sender<Job>, String>>,
}

/// Why a job gave no answer.
#[derive(Debug, PartialEq)]
pub enum Failed {
    /// The job panicked: the panic's message, when it had one.
    Panicked(String),
    /// The threads could not be made (the system refused a thread), or are gone.
    Unavailable(String),
}

impl Threads {
    /// `count` threads (at least one), named `geometry-N`, running at `nice`
    /// ([`lower_priority`]), made when the first job comes.
    pub fn new(count: usize, nice: i32) -> Threads {
        Threads {
            count: count.max(1),
            nice,
            jobs: OnceLock::new(),
        }
    }

    fn start(&self) -> Result<mpsc::Sender<Job>, String> {
        let (jobs, waiting) = mpsc::channel::<Job>();
        let waiting = Arc::new(Mutex::new(waiting));
        for i in 0..self.count {
            let waiting = waiting.clone();
            let nice = self.nice;
            std::thread::Builder::new()
                .name(format!("geometry-{i}"))
                .spawn(move || {
                    lower_priority(nice);
                    loop {
                        // One thread waits on the channel at a time, the others on the lock;
                        // the lock is let go at the end of this statement, before the job
                        // runs (in a `match` on the lock's value it would be held through the
                        // job, one job at a time: a test checks).
                        let next = waiting
                            .lock()
                            .unwrap_or_else(PoisonError::into_inner)
                            .recv();
                        match next {
                            Ok(job) => job(),
                            Err(mpsc::RecvError) => return,
                        }
                    }
                })
                .map_err(|e| format!("no thread for geometry work: {e}"))?;
        }
        Ok(jobs)
    }

    /// Runs `job` on one of the threads and answers what it returns, once a thread is free.
    pub async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, Failed> {
        let jobs = self
            .jobs
            .get_or_init(|| self.start())
            .as_ref()
            .map_err(|e| Failed::Unavailable(e.clone()))?;
        let (answer, answered) = tokio::sync::oneshot::channel();
        let wrapped: Job = Box::new(move || {
            let out = std::panic::catch_unwind(AssertUnwindSafe(job)).map_err(|panic| {
                let text = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "a panic without a message".into());
                Failed::Panicked(text)
            });
            // The caller may be gone (its request cut off by its time limit): nothing to do.
            let _ = answer.send(out);
        });
        let gone = || Failed::Unavailable("the threads of geometry work are gone".into());
        jobs.send(wrapped).map_err(|_| gone())?;
        answered.await.map_err(|_| gone())?
    }
}

/// What runs on a thread of geometry work when it finishes a job and none is waiting (see
/// [`set_worker_idle`]).
static WORKER_IDLE: OnceLock<fn()> = OnceLock::new();

/// Sets, once per process, a function run on a thread of geometry work
/// ([`super::state::AppState::run_blocking`]) when it has finished a job and no other is
/// waiting, at most once every 100 ms on each thread. Such a thread may then sleep for long:
/// an allocator that keeps what a thread freed until that thread allocates again holds it all
/// that time (after a pass over a layer's tiles, 115 MB for the 100k zones with mimalloc).
/// The library chooses no allocator: the `territorio` command, which does, sets this to give
/// that memory back. Later calls are ignored.
pub fn set_worker_idle(idle: fn()) {
    let _ = WORKER_IDLE.set(idle);
}

/// Runs the [`set_worker_idle`] function, if there is one and it has not run on this thread
/// in the last 100 ms.
pub(super) fn worker_may_idle() {
    use std::cell::Cell;
    use std::time::Instant;
    thread_local! {
        static LAST: Cell<Option<Instant>> = const { Cell::new(None) };
    }
    let Some(idle) = WORKER_IDLE.get() else {
        return;
    };
    let now = Instant::now();
    let due = LAST.with(|last| match last.get() {
        Some(t) if now.duration_since(t) < Duration::from_millis(100) => false,
        _ => {
            last.set(Some(now));
            true
        }
    });
    if due {
        idle();
    }
}

/// Makes rayon's global threads (named `parallel-N`) run at `nice`, as the threads of geometry
/// work do ([`lower_priority`]), and answers whether it could: rayon's pool is made once per
/// process, so this must come before anything uses it.
///
/// The parallel parts of geometry work (indicators, joins, catchments, indexing a reloaded
/// layer) run on rayon's threads, not on the worker that started them, which waits. Made by
/// the first thread to use them (the loading of the catalogue, at the server's own priority),
/// those threads took the cores from the async workers as equals while a worker's job ran
/// at a lower priority.
pub fn lower_parallel_priority(nice: i32) -> bool {
    rayon::ThreadPoolBuilder::new()
        .thread_name(|i| format!("parallel-{i}"))
        .start_handler(move |_| lower_priority(nice))
        .build_global()
        .is_ok()
}

/// Lowers the calling thread's priority to `nice` (once per thread; a thread never gets its
/// priority back, which takes a privilege).
///
/// The jobs of [`super::state::AppState::run_blocking`] are the long ones: pages of a thousand
/// features, selections, analyses, reports. A point lookup or a small page is answered on the
/// async workers, in some tens of microseconds. On a loaded machine, with as many long jobs
/// running as there are cores, the short answers waited for a core behind them: the scheduler
/// shares the cores among threads of equal priority, a few milliseconds each in turn. At a
/// lower priority (nice 10: a tenth of a nice-0 thread's share, and no claim on a core a nice-0
/// thread wakes up for) the long jobs take the cores the short ones leave, and the short ones
/// are answered when they arrive. The long jobs do not get slower on a machine with cores to
/// spare. Where the kernel refuses (a sandbox), the thread keeps its priority.
pub(super) fn lower_priority(nice: i32) {
    use std::cell::Cell;
    thread_local! {
        static SET: Cell<Option<i32>> = const { Cell::new(None) };
    }
    let nice = nice.clamp(0, 19);
    if nice == 0 || SET.get().is_some_and(|set| set >= nice) {
        return;
    }
    let tid = rustix::thread::gettid();
    if rustix::process::setpriority_process(Some(tid), nice).is_ok() {
        SET.set(Some(nice));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The nice value of the calling thread, as the kernel has it.
    fn own_nice() -> i32 {
        rustix::process::getpriority_process(Some(rustix::thread::gettid())).expect("getpriority")
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn jobs_run_on_the_same_few_threads_at_their_priority() {
        let base = own_nice();
        let threads = Threads::new(2, 12);
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..200 {
            let (name, nice) = threads
                .run(|| {
                    let t = std::thread::current();
                    (t.name().unwrap_or_default().to_string(), own_nice())
                })
                .await
                .expect("answered");
            assert_eq!(nice, base.max(12), "{name}");
            seen.insert(name);
        }
        // Two hundred jobs, one after the other, on the two threads and no other.
        assert!(!seen.is_empty() && seen.len() <= 2, "{seen:?}");
        assert!(seen.iter().all(|n| n.starts_with("geometry-")), "{seen:?}");
        assert_eq!(own_nice(), base, "the caller keeps its priority");
    }

    /// Three threads run three jobs at once: each job waits at a barrier that opens only when
    /// all three have reached it, so a set that ran fewer at a time would never finish them.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_threads_run_their_jobs_at_the_same_time() {
        let threads = Arc::new(Threads::new(3, 0));
        let barrier = Arc::new(std::sync::Barrier::new(3));
        let jobs: Vec<_> = (0..3)
            .map(|i| {
                let (threads, barrier) = (threads.clone(), barrier.clone());
                tokio::spawn(async move {
                    threads
                        .run(move || {
                            barrier.wait();
                            (i, std::thread::current().name().map(str::to_string))
                        })
                        .await
                })
            })
            .collect();
        let all = tokio::time::timeout(Duration::from_secs(20), async {
            let mut names = std::collections::BTreeSet::new();
            for job in jobs {
                let (_, name) = job.await.expect("joined").expect("answered");
                names.insert(name.expect("named"));
            }
            names
        })
        .await
        .expect("the three jobs ran at the same time");
        assert_eq!(all.len(), 3, "{all:?}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_panicking_job_is_an_error_and_its_thread_goes_on() {
        let threads = Threads::new(1, 0);
        let panicked = threads.run(|| -> i32 { panic!("a job that fails") }).await;
        assert_eq!(panicked, Err(Failed::Panicked("a job that fails".into())));
        // The only thread is still there.
        assert_eq!(threads.run(|| 6 * 7).await, Ok(42));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_threads_end_with_their_set() {
        // A value kept on the thread by a job, whose destructor says when the thread ends.
        struct SaysWhenDropped(mpsc::Sender<()>);
        impl Drop for SaysWhenDropped {
            fn drop(&mut self) {
                let _ = self.0.send(());
            }
        }
        thread_local! {
            static KEPT: std::cell::RefCell<Option<SaysWhenDropped>> =
                const { std::cell::RefCell::new(None) };
        }
        let threads = Threads::new(1, 0);
        let (ended, thread_ended) = mpsc::channel();
        threads
            .run(move || KEPT.with(|k| *k.borrow_mut() = Some(SaysWhenDropped(ended))))
            .await
            .expect("answered");
        assert!(
            thread_ended.try_recv().is_err(),
            "the thread waits for jobs"
        );
        drop(threads);
        thread_ended
            .recv_timeout(Duration::from_secs(10))
            .expect("the thread ended once its set was dropped");
    }
}
