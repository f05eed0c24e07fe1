//! Where the kernel starts to slow down as a process holds more ports.
//!
//! `cargo bench --bench port_scaling` holds an ever larger number of `#[isolated(port)]`-style
//! listeners (each test's `enter` plus a held `Port`), and prints the median cost of one more
//! bind at each level, beside a raw `TcpListener::bind("127.0.0.1:0")` measured at the same
//! level. The run stops below the process's open-file limit.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use isolate::{Port, Resource, Spec};

static SPEC: Spec = Spec::new("bench::port_scaling").bind(Resource::Port, &["port"]);

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// Median time of `sample` over 200 runs, each result dropped right away.
fn measure<T>(mut sample: impl FnMut() -> T) -> Duration {
    let samples = (0..200)
        .map(|_| {
            let start = Instant::now();
            let value = sample();
            let elapsed = start.elapsed();
            drop(value);
            elapsed
        })
        .collect();
    median(samples)
}

fn main() {
    let limit = std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|l| l.starts_with("Max open files"))?
                .split_whitespace()
                .nth(3)?
                .parse::<usize>()
                .ok()
        })
        .unwrap_or(1024);
    println!("held ports | raw bind (µs) | isolate enter + port (µs) | ratio");
    println!("---: | ---: | ---: | ---:");
    let mut held = Vec::new();
    for level in [0usize, 100, 1_000, 4_000, 8_000, 12_000, 16_000] {
        if level + 500 > limit {
            println!(
                "(stopping at {} held: the open-file limit is {limit})",
                held.len()
            );
            break;
        }
        while held.len() < level {
            let mut guard = isolate::enter(&SPEC);
            let port: Port = guard.take("port").expect("bound");
            held.push((port, guard));
        }
        let raw = measure(|| TcpListener::bind("127.0.0.1:0").expect("bind"));
        let isolated = measure(|| {
            let mut guard = isolate::enter(&SPEC);
            let port: Port = guard.take("port").expect("bound");
            (port, guard)
        });
        println!(
            "{level} | {:.1} | {:.1} | {:.2}",
            raw.as_secs_f64() * 1e6,
            isolated.as_secs_f64() * 1e6,
            isolated.as_secs_f64() / raw.as_secs_f64()
        );
    }
}
