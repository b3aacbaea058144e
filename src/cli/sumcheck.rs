//! `gkrnet sumcheck`: prove and verify one sumcheck on random seeded tables.

use super::{ms, Outcome};
use anyhow::{bail, Context, Result};
use ark_ff::UniformRand;
use gkrnet::field::Fp;
use gkrnet::poly::evaluate_padded;
use gkrnet::sumcheck::{self, prover::ProductSum};
use gkrnet::transcript::{labels, FiatShamirProver, FiatShamirVerifier};
use rand::SeedableRng;
use std::time::Instant;

#[derive(clap::Args, Debug)]
pub struct Args {
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
}

pub fn run(args: Args) -> Result<Outcome> {
    let Args { num_vars, factors, seed, json } = args;
    if !(1..=3).contains(&factors) {
        bail!("--factors must be 1, 2 or 3 (got {factors})");
    }
    if num_vars > 26 {
        bail!("--num-vars {num_vars} is too large: at most 26 (2^26 entries per table)");
    }
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
    let tables: Vec<Vec<Fp>> = (0..factors)
        .map(|_| (0..1usize << num_vars).map(|_| Fp::rand(&mut rng)).collect())
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
    let prove_ms = ms(start);

    // the protocol, then the verifier's own O(2^n) evaluation of the tables, timed apart
    let start = Instant::now();
    let verdict = (|| {
        let mut t = FiatShamirVerifier::new(labels::PROTOCOL, &proof)?;
        let eval = sumcheck::verify(&claim, &mut t)?;
        let claims = sumcheck::verify_final_evals(&terms, factors, &eval, &mut t)?;
        t.finish()?;
        Ok::<_, gkrnet::VerifyError>(claims)
    })();
    let verify_ms = ms(start);
    let start = Instant::now();
    let verdict = verdict.and_then(|claims| {
        claims.iter().zip(&tables).try_for_each(|(c, table)| {
            c.check(evaluate_padded(table, &c.point), "table evaluation")
        })
    });
    let oracle_ms = ms(start);
    let verified = verdict.is_ok();
    let threads = rayon::current_num_threads();
    if json {
        println!(
            "{}",
            serde_json::json!({
                "num_vars": num_vars, "factors": factors, "verified": verified,
                "prove_ms": prove_ms, "verify_ms": verify_ms, "oracle_ms": oracle_ms,
                "proof_bytes": proof.len(), "threads": threads,
            })
        );
    } else {
        println!(
            "sumcheck of a product of {factors} tables of 2^{num_vars} entries ({threads} threads)"
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
