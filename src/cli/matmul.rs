//! `gkrnet matmul prove | verify | bench`: outsourced int8 matrix products with a proof.

use super::npy::{self, Matrix};
use super::{ms, Global, Outcome};
use anyhow::{bail, Context, Result};
use gkrnet::matmul::{self, freivalds, gemm, Shape};
use rand::{Rng, SeedableRng};
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Computes C = A·B (exact int8 GEMM) and a proof that C is right.
    Prove {
        /// A, an m×n int8 matrix (.npy).
        #[arg(long)]
        a: PathBuf,
        /// B, an n×k int8 matrix (.npy).
        #[arg(long)]
        b: PathBuf,
        /// Where to write C, an m×k int32 matrix (.npy).
        #[arg(long = "c-out")]
        c_out: PathBuf,
        /// Where to write the proof.
        #[arg(long)]
        proof: PathBuf,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Checks a proof that C = A·B; never multiplies the matrices (O(mn + nk + mk) work).
    Verify {
        #[arg(long)]
        a: PathBuf,
        #[arg(long)]
        b: PathBuf,
        /// C, the m×k int32 result to check (.npy).
        #[arg(long)]
        c: PathBuf,
        #[arg(long)]
        proof: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Random seeded m×n and n×k matrices: times the GEMM, the proof, the verifier and Freivalds'
    /// check, and prints one row (`--json`: one object with gemm_ms, prove_ms, verify_ms,
    /// freivalds_ms, proof_bytes).
    Bench {
        #[arg(long)]
        m: usize,
        #[arg(long)]
        n: usize,
        #[arg(long)]
        k: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Runs per figure after one warm-up; the medians are printed.
        #[arg(long, default_value_t = 1)]
        runs: usize,
        #[arg(long)]
        json: bool,
    },
    /// Serves outsourced products interactively: clients send A and B, get C with a proof
    /// answered round by round to their own challenges.
    Serve(super::net::MatmulServeArgs),
    /// Sends A and B to a `matmul serve` server and verifies C interactively.
    Connect(super::net::MatmulConnectArgs),
}

pub fn run(cmd: Command, g: &Global) -> Result<Outcome> {
    match cmd {
        Command::Serve(args) => super::net::matmul_serve(args, g),
        Command::Connect(args) => super::net::matmul_connect(args, g),
        Command::Prove { a, b, c_out, proof, json } => prove(&a, &b, &c_out, &proof, json),
        Command::Verify { a, b, c, proof, json } => verify(&a, &b, &c, &proof, json),
        Command::Bench { m, n, k, seed, runs, json } => bench(Shape { m, n, k }, seed, runs, json),
    }
}

/// Reads A and B and the shape of A·B, or an error naming both files and shapes.
fn read_factors(a_path: &Path, b_path: &Path) -> Result<(Matrix<i8>, Matrix<i8>, Shape)> {
    let (a, b) = (npy::read_i8(a_path)?, npy::read_i8(b_path)?);
    if a.cols != b.rows {
        bail!(
            "inner dimensions differ: A ({}) is {}×{}, B ({}) is {}×{}",
            a_path.display(),
            a.rows,
            a.cols,
            b_path.display(),
            b.rows,
            b.cols
        );
    }
    let shape = Shape { m: a.rows, n: a.cols, k: b.cols };
    if shape.m == 0 || shape.n == 0 || shape.k == 0 {
        bail!("empty matrix product {}×{} · {}×{}", a.rows, a.cols, b.rows, b.cols);
    }
    if shape.n > matmul::MAX_INNER {
        bail!("inner dimension {} is above 2^17 − 1: int32 results could overflow", shape.n);
    }
    Ok((a, b, shape))
}

fn prove(
    a_path: &Path,
    b_path: &Path,
    c_path: &Path,
    proof_path: &Path,
    json: bool,
) -> Result<Outcome> {
    let (a, b, shape) = read_factors(a_path, b_path)?;
    let start = Instant::now();
    let c = gemm::gemm_i8(&a.data, &b.data, shape.m, shape.n, shape.k).context("computing A·B")?;
    let gemm_ms = ms(start);
    let start = Instant::now();
    let proof = matmul::prove_bytes(&shape, &a.data, &b.data, &c).context("proving")?;
    let prove_ms = ms(start);
    npy::write(c_path, &Matrix { data: c, rows: shape.m, cols: shape.k })?;
    std::fs::write(proof_path, &proof)
        .with_context(|| format!("cannot write {}", proof_path.display()))?;
    if json {
        println!(
            "{}",
            serde_json::json!({"m": shape.m, "n": shape.n, "k": shape.k, "gemm_ms": gemm_ms, "prove_ms": prove_ms, "proof_bytes": proof.len()})
        );
    } else {
        println!("C = A·B: {}×{} · {}×{}", shape.m, shape.n, shape.n, shape.k);
        println!("  gemm    {gemm_ms:>10.3} ms   → {}", c_path.display());
        println!(
            "  prove   {prove_ms:>10.3} ms   → {} ({} bytes)",
            proof_path.display(),
            proof.len()
        );
    }
    Ok(Outcome::Accepted)
}

fn verify(
    a_path: &Path,
    b_path: &Path,
    c_path: &Path,
    proof_path: &Path,
    json: bool,
) -> Result<Outcome> {
    let (a, b, shape) = read_factors(a_path, b_path)?;
    let c = npy::read_i32(c_path)?;
    if (c.rows, c.cols) != (shape.m, shape.k) {
        bail!(
            "C ({}) is {}×{}, but A·B is {}×{}",
            c_path.display(),
            c.rows,
            c.cols,
            shape.m,
            shape.k
        );
    }
    let proof = std::fs::read(proof_path)
        .with_context(|| format!("cannot read {}", proof_path.display()))?;
    let start = Instant::now();
    let verdict = matmul::verify_bytes(&shape, &a.data, &b.data, &c.data, &proof);
    let verify_ms = ms(start);
    if json {
        println!(
            "{}",
            serde_json::json!({"verified": verdict.is_ok(), "verify_ms": verify_ms, "reason": verdict.as_ref().err().map(|e| e.to_string())})
        );
    } else if verdict.is_ok() {
        println!(
            "accepted: C = A·B ({}×{} · {}×{}), verified in {verify_ms:.3} ms",
            shape.m, shape.n, shape.n, shape.k
        );
    }
    Ok(match verdict {
        Ok(()) => Outcome::Accepted,
        Err(e) => Outcome::Rejected(e.to_string()),
    })
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn bench(shape: Shape, seed: u64, runs: usize, json: bool) -> Result<Outcome> {
    let Shape { m, n, k } = shape;
    if m == 0 || n == 0 || k == 0 || n > matmul::MAX_INNER {
        bail!("--m, --n, --k must be ≥ 1 and --n ≤ 2^17 − 1");
    }
    if runs == 0 {
        bail!("--runs must be at least 1");
    }
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
    let a: Vec<i8> = (0..m * n).map(|_| rng.gen()).collect();
    let b: Vec<i8> = (0..n * k).map(|_| rng.gen()).collect();
    let mut times = [vec![], vec![], vec![], vec![]];
    let mut proof_bytes = 0;
    let mut verdict = Ok(());
    for run in 0..=runs {
        let start = Instant::now();
        let c = gemm::gemm_i8(&a, &b, m, n, k).context("computing A·B")?;
        let gemm_ms = ms(start);
        let start = Instant::now();
        let proof = matmul::prove_bytes(&shape, &a, &b, &c).context("proving")?;
        let prove_ms = ms(start);
        let start = Instant::now();
        verdict = matmul::verify_bytes(&shape, &a, &b, &c, &proof);
        let verify_ms = ms(start);
        let start = Instant::now();
        let freivalds_ok = freivalds::check(&a, &b, &c, m, n, k, &mut rng);
        let freivalds_ms = ms(start);
        if !freivalds_ok {
            bail!("Freivalds' check rejected the GEMM's result: the GEMM is wrong");
        }
        proof_bytes = proof.len();
        if run > 0 {
            for (t, v) in times.iter_mut().zip([gemm_ms, prove_ms, verify_ms, freivalds_ms]) {
                t.push(v);
            }
        }
    }
    let [gemm_ms, prove_ms, verify_ms, freivalds_ms] = times.map(median);
    if json {
        println!(
            "{}",
            serde_json::json!({"gemm_ms": gemm_ms, "prove_ms": prove_ms, "verify_ms": verify_ms, "freivalds_ms": freivalds_ms, "proof_bytes": proof_bytes})
        );
    } else {
        println!(
            "| m | n | k | gemm_ms | prove_ms | verify_ms | freivalds_ms | proof_bytes | prove/gemm | verify/freivalds |"
        );
        println!("|---|---|---|---|---|---|---|---|---|---|");
        println!(
            "| {m} | {n} | {k} | {gemm_ms:.2} | {prove_ms:.2} | {verify_ms:.2} | {freivalds_ms:.2} | {proof_bytes} | {:.2} | {:.2} |",
            prove_ms / gemm_ms,
            verify_ms / freivalds_ms
        );
        println!(
            "(median of {runs} run(s) after one warm-up, {} threads)",
            rayon::current_num_threads()
        );
    }
    Ok(match verdict {
        Ok(()) => Outcome::Accepted,
        Err(e) => Outcome::Rejected(e.to_string()),
    })
}
