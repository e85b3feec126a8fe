//! Compile-time benchmarks (criterion): `examples/hotel/app.py` to the IR and to the local
//! target tree, and synthetic apps of 50, 200 and 500 entities × 10 methods (see
//! `support/synth.rs`) to show how the cost grows with the size of the app.
//!
//! `cargo bench --bench compile` runs everything and ends with a scaling table (time per
//! entity and the ratio to the 50-entity app) and the goals: hotel under 5 ms, the
//! 500-entity app under 500 ms (compile + generate). `cargo bench --bench compile -- hotel`
//! runs only the hotel benches; `SFGEN_BENCH_NO_SUMMARY=1` skips the table.

#[path = "support/synth.rs"]
mod synth;

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput};
use sfgen::emit::Target;

const SIZES: &[usize] = &[50, 200, 500];
const METHODS: usize = 10;
const SEED: u64 = 42;

fn hotel() -> Vec<u8> {
    let p = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/hotel/app.py");
    std::fs::read(p).expect("examples/hotel/app.py")
}

fn bench_hotel(c: &mut Criterion) {
    let src = hotel();
    let ir = sfgen::compile(&src, "app.py").ir.expect("hotel compiles");
    let mut g = c.benchmark_group("hotel");
    g.bench_function("compile (to IR)", |b| {
        b.iter(|| sfgen::compile(black_box(&src), "app.py"))
    });
    g.bench_function("generate (IR to local tree)", |b| {
        b.iter(|| sfgen::generate(black_box(&ir), Target::Local))
    });
    g.bench_function("compile + generate", |b| {
        b.iter(|| {
            let c = sfgen::compile(black_box(&src), "app.py");
            sfgen::generate(c.ir.as_ref().unwrap(), Target::Local)
        })
    });
    g.finish();
}

fn bench_synth(c: &mut Criterion) {
    let mut g = c.benchmark_group("synth");
    g.sample_size(10);
    g.warm_up_time(Duration::from_secs(1));
    g.measurement_time(Duration::from_secs(5));
    for &n in SIZES {
        let src = synth::synth_app(n, METHODS, SEED);
        let ir = sfgen::compile(src.as_bytes(), "app.py")
            .ir
            .expect("the synthetic app compiles");
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::new("compile", n), &src, |b, src| {
            b.iter(|| sfgen::compile(black_box(src.as_bytes()), "app.py"))
        });
        g.bench_with_input(BenchmarkId::new("generate", n), &ir, |b, ir| {
            b.iter(|| sfgen::generate(black_box(ir), Target::Local))
        });
    }
    g.finish();
}

/// Median of `runs` timings of `f`.
fn median(runs: usize, mut f: impl FnMut()) -> Duration {
    let mut ts: Vec<Duration> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    ts.sort();
    ts[ts.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn summary() {
    println!("\n== scaling summary (median of 5 runs) ==");
    let src = hotel();
    let hc = median(21, || {
        black_box(sfgen::compile(&src, "app.py"));
    });
    let hir = sfgen::compile(&src, "app.py").ir.unwrap();
    let hg = median(21, || {
        black_box(sfgen::generate(&hir, Target::Local));
    });
    println!(
        "hotel ({} lines): compile {:.3} ms, generate {:.3} ms, total {:.3} ms (goal < 5 ms: {})",
        String::from_utf8_lossy(&src).lines().count(),
        ms(hc),
        ms(hg),
        ms(hc + hg),
        if hc + hg < Duration::from_millis(5) { "met" } else { "MISSED" }
    );
    println!(
        "{:>9} {:>7} {:>12} {:>12} {:>12} {:>14} {:>16}",
        "entities", "lines", "compile ms", "generate ms", "total ms", "µs / entity", "total / total@50"
    );
    let mut base = None;
    let mut sizes = vec![50, 100, 200, 500];
    if std::env::var_os("SFGEN_BENCH_1000").is_some() {
        sizes.push(1000);
    }
    for n in sizes {
        let src = synth::synth_app(n, METHODS, SEED);
        let c = median(5, || {
            black_box(sfgen::compile(src.as_bytes(), "app.py"));
        });
        let ir = sfgen::compile(src.as_bytes(), "app.py").ir.unwrap();
        let g = median(5, || {
            black_box(sfgen::generate(&ir, Target::Local));
        });
        let total = c + g;
        let b = *base.get_or_insert(total);
        println!(
            "{:>9} {:>7} {:>12.2} {:>12.2} {:>12.2} {:>14.1} {:>9.1}x ({:.0}x size)",
            n,
            src.lines().count(),
            ms(c),
            ms(g),
            ms(total),
            total.as_secs_f64() * 1e6 / n as f64,
            total.as_secs_f64() / b.as_secs_f64(),
            n as f64 / 50.0
        );
        if n == 500 {
            println!(
                "goal: 500 entities under 500 ms: {}",
                if total < Duration::from_millis(500) { "met" } else { "MISSED" }
            );
        }
    }
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    bench_hotel(&mut c);
    bench_synth(&mut c);
    c.final_summary();
    // `cargo test --benches` runs the benches once in test mode: no summary then.
    let bench_mode = std::env::args().any(|a| a == "--bench");
    if bench_mode && std::env::var_os("SFGEN_BENCH_NO_SUMMARY").is_none() {
        summary();
    }
}
