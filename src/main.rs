//! The `gkrnet` command line. Exit codes: 0 accepted, 1 proof rejected, 2 bad usage or input.

use anyhow::{bail, Context, Result};
use ark_ff::UniformRand;
use clap::{Parser, Subcommand};
use gkrnet::sumcheck::{self, prover::ProductSum};
use gkrnet::transcript::{labels, FiatShamirProver, FiatShamirVerifier};
use gkrnet::{field::Fp, poly::evaluate_padded};
use rand::SeedableRng;
use std::process::ExitCode;
use std::time::Instant;

#[derive(Parser, Debug)]
#[command(
    name = "gkrnet",
    version,
    about = "Sumcheck/GKR proofs for int8 neural networks (sound, not zero-knowledge)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Proves and verifies Σ_x f₁(x)···f_k(x) over random seeded tables (the protocol every later
    /// proof is built from) and prints the timings.
    Sumcheck {
        /// Variables n: each table has 2^n entries.
        #[arg(long, default_value_t = 20)]
        num_vars: usize,
        /// Number k of multiplied tables (1 to 3).
        #[arg(long, default_value_t = 2)]
        factors: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
}

/// How a run ended, for the exit code.
enum Outcome {
    Accepted,
    Rejected(String),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(Outcome::Accepted) => ExitCode::SUCCESS,
        Ok(Outcome::Rejected(reason)) => {
            eprintln!("proof rejected: {reason}");
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> Result<Outcome> {
    match cli.command {
        Command::Sumcheck {
            num_vars,
            factors,
            seed,
            json,
        } => sumcheck_demo(num_vars, factors, seed, json),
    }
}

fn sumcheck_demo(num_vars: usize, factors: usize, seed: u64, json: bool) -> Result<Outcome> {
    if !(1..=3).contains(&factors) {
        bail!("--factors must be 1, 2 or 3 (got {factors})");
    }
    if num_vars > 26 {
        bail!(
            "--num-vars {num_vars} needs {} GiB of tables; at most 26 is allowed",
            (factors << num_vars) >> 26
        );
    }
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
    let tables: Vec<Vec<Fp>> = (0..factors)
        .map(|_| {
            (0..1usize << num_vars)
                .map(|_| Fp::rand(&mut rng))
                .collect()
        })
        .collect();
    let poly = ProductSum::product(tables.clone()).context("building the polynomial")?;
    let claimed_sum = poly.sum();
    let claim = poly.claim(claimed_sum);
    let terms = poly.terms().to_vec();

    let start = Instant::now();
    let mut t = FiatShamirProver::new(labels::PROTOCOL);
    let out = sumcheck::prove(poly, claimed_sum, &mut t).context("proving")?;
    sumcheck::send_final_evals(&mut t, &out.final_evals);
    let proof = t.into_proof().encode();
    let prove_ms = start.elapsed().as_secs_f64() * 1e3;

    // the verifier's own O(2^n) evaluation of the tables is timed apart from the protocol
    let start = Instant::now();
    let verdict = (|| {
        let mut t = FiatShamirVerifier::new(labels::PROTOCOL, &proof)?;
        let eval = sumcheck::verify(&claim, &mut t)?;
        let claims = sumcheck::verify_final_evals(&terms, factors, &eval, &mut t)?;
        t.finish()?;
        Ok::<_, gkrnet::VerifyError>(claims)
    })();
    let verify_ms = start.elapsed().as_secs_f64() * 1e3;
    let start = Instant::now();
    let verdict = verdict.and_then(|claims| {
        claims.iter().zip(&tables).try_for_each(|(c, table)| {
            c.check(evaluate_padded(table, &c.point), "table evaluation")
        })
    });
    let oracle_ms = start.elapsed().as_secs_f64() * 1e3;
    let verified = verdict.is_ok();
    if json {
        println!(
            "{{\"num_vars\":{num_vars},\"factors\":{factors},\"verified\":{verified},\"prove_ms\":{prove_ms:.3},\"verify_ms\":{verify_ms:.3},\"oracle_ms\":{oracle_ms:.3},\"proof_bytes\":{},\"threads\":{}}}",
            proof.len(),
            rayon::current_num_threads()
        );
    } else {
        println!(
            "sumcheck of a product of {factors} tables of 2^{num_vars} entries ({} threads)",
            rayon::current_num_threads()
        );
        println!("  prove            {prove_ms:>10.3} ms");
        println!("  verify (rounds)  {verify_ms:>10.3} ms");
        println!("  verify (tables)  {oracle_ms:>10.3} ms   the verifier's own MLE evaluations");
        println!("  proof            {:>10} bytes", proof.len());
        println!("  verified         {verified:>10}");
    }
    Ok(match verdict {
        Ok(()) => Outcome::Accepted,
        Err(e) => Outcome::Rejected(e.to_string()),
    })
}
