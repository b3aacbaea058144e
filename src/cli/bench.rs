//! `gkrnet bench`: every ONNX model of a directory — parameters, prove and verify medians, proof
//! size, peak memory, accuracy against tract's float run — with the machine it ran on, as a
//! markdown table or JSON.

use super::compile::read_inputs;
use super::load::{peak_rss_bytes, reset_peak_rss, spinner};
use super::{ms, Global, Outcome};
use anyhow::{Context, Result};
use gkrnet::gkr;
use gkrnet::onnx::{self, ImportOptions};
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Directory of ONNX models (with their `<name>_inputs.npy` or `<prefix>_test_inputs.npy`,
    /// and `<prefix>_calibration.npy` when present).
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/models"))]
    models: PathBuf,
    /// Timed runs per model (after one warm-up); the medians are reported.
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// How the advice travels: clear (in the proof), provable or conjectured (committed with
    /// Basefold, one opening).
    #[arg(long, default_value = "clear", value_parser = super::parse_advice)]
    advice: gkrnet::gkr::AdviceMode,
    /// Print one JSON object instead of a markdown table.
    #[arg(long)]
    json: bool,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// The files that go with model `stem`: inputs, calibration, labels.
fn companions(dir: &Path, stem: &str) -> (Option<PathBuf>, Option<PathBuf>, Option<PathBuf>) {
    let prefix = stem.split('_').next().unwrap_or(stem);
    let exists = |name: String| Some(dir.join(name)).filter(|p| p.exists());
    // `<model>_inputs.npy`, or `<model>_input.npy` as `models/make_zoo.py` writes it
    let own = exists(format!("{stem}_inputs.npy")).or_else(|| exists(format!("{stem}_input.npy")));
    let shared = exists(format!("{prefix}_test_inputs.npy"));
    let labels = if own.is_none() { exists(format!("{prefix}_test_labels.npy")) } else { None };
    let inputs = own.or(shared);
    let calibration = exists(format!("{prefix}_calibration.npy")).or_else(|| inputs.clone());
    (inputs, calibration, labels)
}

/// The proof's phases, grouped: each top-level phase by its name, and every layer's sumcheck
/// summed into "layer sumchecks" (a model has one per layer).
fn grouped_phases(log: Vec<(String, std::time::Duration)>) -> Vec<(String, f64)> {
    let mut out: Vec<(String, f64)> = Vec::new();
    for (name, d) in log {
        let name = if name.starts_with("layer ") { "layer sumchecks".to_string() } else { name };
        let ms = d.as_secs_f64() * 1e3;
        match out.iter_mut().find(|(n, _)| *n == name) {
            Some((_, t)) => *t += ms,
            None => out.push((name, ms)),
        }
    }
    out
}

/// UTC date from the system clock (days-from-civil inverse, proleptic Gregorian).
fn today() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let z = secs.div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

fn machine() -> serde_json::Value {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into());
    let git = std::process::Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map_or_else(
            || "unknown".into(),
            |o| String::from_utf8_lossy(&o.stdout).trim().to_string(),
        );
    serde_json::json!({
        "cpu": cpu,
        "cores": std::thread::available_parallelism().map_or(0, |n| n.get()),
        "threads": rayon::current_num_threads(),
        "date": today(),
        "gkrnet": env!("CARGO_PKG_VERSION"),
        "git": git,
    })
}

pub fn run(args: Args, g: &Global) -> Result<Outcome> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(&args.models)
        .with_context(|| format!("cannot list {}", args.models.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "onnx"))
        .collect();
    files.sort();
    let runs = args.runs.max(1);
    let mut rows = Vec::new();
    let mut skipped = Vec::new();
    for path in &files {
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("model").to_string();
        let (inputs_file, calibration_file, labels_file) = companions(&args.models, &stem);
        let bar = spinner(g.quiet || args.json, &format!("{stem}: compiling"));
        reset_peak_rss();
        let mut options = ImportOptions::default();
        let proto = onnx::read_proto(path)?;
        let len: usize = onnx::Graph::from_proto(&proto)?.default_input().iter().product();
        if let Some(c) = &calibration_file {
            options.calibration = Some(read_inputs(c, len)?);
        }
        let imported = match onnx::import(path, &options) {
            Ok(i) => i,
            Err(e) => {
                bar.finish_and_clear();
                skipped.push(serde_json::json!({"model": stem, "error": e.to_string()}));
                continue;
            }
        };
        let inputs = match &inputs_file {
            Some(f) => read_inputs(f, len)?,
            None => onnx::sample_inputs(&imported.model, 4, (0.0, 1.0), 1),
        };
        let labels: Option<Vec<i64>> = match &labels_file {
            Some(f) => Some(onnx::read_npy(f)?.1.iter().map(|&v| v as i64).collect()),
            None => None,
        };
        let accuracy = onnx::accuracy(&imported, &inputs, labels.as_deref())?;
        let model = &imported.model;
        let input = imported.quantize_input(&inputs[0])?;
        let (mut prove_ms, mut verify_ms) = (Vec::new(), Vec::new());
        let mut phases: Vec<(String, Vec<f64>)> = Vec::new();
        let mut proof_bytes = 0;
        for run in 0..=runs {
            bar.set_message(format!("{stem}: run {run}/{runs}"));
            let log = gkr::PhaseLog::default();
            let hook = |name: &str, d| log.record(name, d);
            let opts = gkr::ProveOptions::advice(args.advice).with_phase_hook(&hook);
            let start = Instant::now();
            let proof = gkr::prove_bytes(model, &input, &opts)?;
            let p = ms(start);
            let start = Instant::now();
            let out = gkr::verify_bytes(
                model,
                &input,
                &gkr::VerifyOptions::advice(args.advice),
                &proof.proof,
            );
            let v = ms(start);
            if out.as_ref().ok() != Some(&proof.output) {
                return Ok(Outcome::Rejected(format!("{stem}: an honest proof was rejected")));
            }
            proof_bytes = proof.proof.len();
            if run > 0 {
                prove_ms.push(p);
                verify_ms.push(v);
                for (name, t) in grouped_phases(log.take()) {
                    match phases.iter_mut().find(|(n, _)| *n == name) {
                        Some((_, ts)) => ts.push(t),
                        None => phases.push((name, vec![t])),
                    }
                }
            }
        }
        bar.finish_and_clear();
        rows.push(serde_json::json!({
            "model": stem,
            "kind": format!("{:?}", imported.kind),
            "parameters": imported.parameters,
            "layers": model.layers.len(),
            "prove_ms": median(prove_ms),
            "verify_ms": median(verify_ms),
            "proof_bytes": proof_bytes,
            "advice": args.advice.name(),
            "peak_rss_bytes": peak_rss_bytes().unwrap_or(0),
            "accuracy": super::compile::report_json(&accuracy),
            // the median of each phase over the runs, in the order the prover ran them
            "phases_ms": phases
                .into_iter()
                .map(|(n, ts)| serde_json::json!({"phase": n, "ms": median(ts)}))
                .collect::<Vec<_>>(),
        }));
    }
    let machine = machine();
    if args.json {
        println!(
            "{}",
            serde_json::json!({"machine": machine, "runs": runs, "advice": args.advice.name(), "models": rows, "skipped": skipped})
        );
        return Ok(Outcome::Accepted);
    }
    println!(
        "Machine: {}, {} cores, {} threads; {}; gkrnet {} ({}). Medians of {runs} runs after one warm-up; advice {}.\n",
        machine["cpu"].as_str().unwrap_or("?"),
        machine["cores"],
        machine["threads"],
        machine["date"].as_str().unwrap_or("?"),
        machine["gkrnet"].as_str().unwrap_or("?"),
        machine["git"].as_str().unwrap_or("?"),
        args.advice.name(),
    );
    println!("| model | kind | parameters | prove ms | verify ms | proof bytes | peak RSS MiB | argmax agreement vs float | max abs error |");
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|");
    for r in &rows {
        let acc = &r["accuracy"];
        println!(
            "| {} | {} | {} | {:.1} | {:.2} | {} | {:.1} | {:.1} % ({} inputs) | {:.4} |",
            r["model"].as_str().unwrap_or(""),
            r["kind"].as_str().unwrap_or(""),
            r["parameters"],
            r["prove_ms"].as_f64().unwrap_or(f64::NAN),
            r["verify_ms"].as_f64().unwrap_or(f64::NAN),
            r["proof_bytes"],
            r["peak_rss_bytes"].as_f64().unwrap_or(0.0) / (1 << 20) as f64,
            acc["argmax_agreement"].as_f64().unwrap_or(0.0) * 100.0,
            acc["samples"],
            acc["max_abs_error"].as_f64().unwrap_or(f64::NAN),
        );
    }
    println!("\nPhases of the proof (medians, ms):\n");
    for r in &rows {
        let phases: Vec<String> = r["phases_ms"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|p| {
                        let ms = p["ms"].as_f64().unwrap_or(f64::NAN);
                        format!("{} {ms:.1}", p["phase"].as_str().unwrap_or("?"))
                    })
                    .collect()
            })
            .unwrap_or_default();
        println!("- {}: {}", r["model"].as_str().unwrap_or(""), phases.join(", "));
    }
    for s in &skipped {
        println!(
            "\nskipped {}: {}",
            s["model"].as_str().unwrap_or(""),
            s["error"].as_str().unwrap_or("")
        );
    }
    Ok(Outcome::Accepted)
}
