//! How long starting an emulator takes (target: under 50 ms). `cargo bench -p auth-testkit`.

use std::time::{Duration, Instant};

use auth_testkit::{Emulator, Setup};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn measure(rt: &tokio::runtime::Runtime, tls: bool, runs: usize) -> Duration {
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let start = Instant::now();
        let emulator = rt.block_on(async {
            if tls {
                Emulator::start_tls(Setup::sample()).await
            } else {
                Emulator::start(Setup::sample()).await
            }
        });
        let elapsed = start.elapsed();
        let emulator = emulator.expect("emulator starts");
        rt.block_on(async { drop(emulator) });
        times.push(elapsed);
    }
    median(times)
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let runs = 50;
    let http = measure(&rt, false, runs);
    let https = measure(&rt, true, runs);
    println!(
        "emulator start (HTTP):  median {:.3} ms over {runs} starts",
        http.as_secs_f64() * 1e3
    );
    println!(
        "emulator start (HTTPS): median {:.3} ms over {runs} starts",
        https.as_secs_f64() * 1e3
    );
    println!(
        "target: under 50 ms — {}",
        if http < Duration::from_millis(50) {
            "met"
        } else {
            "MISSED"
        }
    );
}
