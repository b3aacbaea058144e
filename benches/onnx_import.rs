//! Import + quantization of a 4.2M-parameter float MLP (1024→2048→1024→10, MatMul + Add + Relu)
//! from an ONNX file: protobuf decoding, tract's float model (calibration on 16 seeded inputs
//! and the reference plan), per-channel weight quantization and the integer model with its
//! digest. Target (issue 7): ≤ 2 s.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests and benches fail loudly on broken fixtures"
)]

use criterion::{criterion_group, criterion_main, Criterion};
use gkrnet::onnx::{self, ImportOptions};
use std::time::Duration;

#[path = "../tests/support/onnx_gen.rs"]
mod onnx_gen;

fn import(c: &mut Criterion) {
    let dir = std::env::temp_dir().join(format!("gkrnet-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("mlp4m.onnx");
    std::fs::write(&path, onnx_gen::encode(&onnx_gen::mlp(&[1024, 2048, 1024, 10], 1))).unwrap();
    let mut g = c.benchmark_group("onnx_import");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    g.bench_function("mlp4m_float", |b| {
        b.iter(|| onnx::import(&path, &ImportOptions::default()).unwrap())
    });
    g.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, import);
criterion_main!(benches);
