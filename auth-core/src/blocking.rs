//! Blocking work (reading a file, waiting on a lock) off the async runtime, with no runtime of
//! its own: the work runs on a fresh thread and the future resolves with its result.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

struct Shared<T> {
    result: Option<T>,
    waker: Option<Waker>,
    done: bool,
}

/// Runs `f` on a new thread; the returned future resolves with its result. If the thread cannot
/// be started, `f` runs on the caller's thread when the future is first polled (still correct,
/// only blocking). If `f` panics, polling the future panics too.
pub fn run<T, F>(f: F) -> impl Future<Output = T>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let shared = Arc::new(Mutex::new(Shared {
        result: None,
        waker: None,
        done: false,
    }));
    let theirs = shared.clone();
    let job: Arc<Mutex<Option<F>>> = Arc::new(Mutex::new(Some(f)));
    let on_thread = job.clone();
    let spawned = std::thread::Builder::new()
        .name("auth-core-blocking".into())
        .spawn(move || {
            let Some(f) = on_thread.lock().unwrap_or_else(|p| p.into_inner()).take() else {
                return;
            };
            // Mark done even if `f` panics, so the future never waits forever.
            struct Done<T>(Arc<Mutex<Shared<T>>>);
            impl<T> Drop for Done<T> {
                fn drop(&mut self) {
                    let waker = {
                        let mut s = self.0.lock().unwrap_or_else(|p| p.into_inner());
                        s.done = true;
                        s.waker.take()
                    };
                    if let Some(w) = waker {
                        w.wake();
                    }
                }
            }
            let done = Done(theirs);
            let value = f();
            done.0.lock().unwrap_or_else(|p| p.into_inner()).result = Some(value);
        })
        .is_ok();
    Blocking {
        shared,
        job: if spawned { None } else { Some(job) },
    }
}

struct Blocking<T, F> {
    shared: Arc<Mutex<Shared<T>>>,
    /// The job to run inline when no thread could be started.
    job: Option<Arc<Mutex<Option<F>>>>,
}

impl<T, F: FnOnce() -> T> Future for Blocking<T, F> {
    type Output = T;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        // Neither field is structurally pinned.
        let this = Pin::into_inner(self);
        if let Some(job) = this.job.take()
            && let Some(f) = job.lock().unwrap_or_else(|p| p.into_inner()).take()
        {
            return Poll::Ready(f());
        }
        let mut s = this.shared.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(v) = s.result.take() {
            return Poll::Ready(v);
        }
        if s.done {
            drop(s);
            #[allow(clippy::panic, reason = "passes on the panic of the blocking closure")]
            {
                panic!("the blocking task panicked");
            }
        }
        s.waker = Some(cx.waker().clone());
        Poll::Pending
    }
}

impl<T, F> Unpin for Blocking<T, F> {}

#[cfg(test)]
mod tests {
    use super::*;

    fn block_on<F: Future>(f: F) -> F::Output {
        struct Unpark(std::thread::Thread);
        impl std::task::Wake for Unpark {
            fn wake(self: Arc<Self>) {
                self.0.unpark();
            }
        }
        let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
        let mut cx = Context::from_waker(&waker);
        let mut f = std::pin::pin!(f);
        loop {
            if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
                return v;
            }
            std::thread::park();
        }
    }

    #[test]
    fn runs_on_another_thread_and_returns_the_result() {
        let caller = std::thread::current().id();
        let (value, thread) = block_on(run(|| (6 * 7, std::thread::current().id())));
        assert_eq!(value, 42);
        assert_ne!(thread, caller);
    }
}
