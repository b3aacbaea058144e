//! `gkrnet commit`: a model commitment (`.gkrc`) — the model with its large dense weight matrices
//! replaced by one Basefold root, for verifiers that should not hold the weights.

use super::compile::hex;
use super::load::{load_model, spinner, CompileOptions};
use super::{ms, Global, Outcome};
use anyhow::{Context, Result};
use gkrnet::gkr::file::CommitmentFile;
use gkrnet::gkr::{self, weights, AdviceMode, ModelCommitment};
use std::path::PathBuf;
use std::time::Instant;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The model: an ONNX file (compiled on the fly) or a compiled .gkrm.
    #[arg(long)]
    model: PathBuf,
    /// Where to write the commitment (.gkrc).
    #[arg(short, long)]
    output: PathBuf,
    /// PCS parameters: "provable" (unique decoding, the default) or "conjectured".
    #[arg(long, default_value = "provable", value_parser = parse_pcs)]
    pcs: AdviceMode,
    #[command(flatten)]
    compile: CompileOptions,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

fn parse_pcs(s: &str) -> Result<AdviceMode, String> {
    match AdviceMode::from_name(s) {
        Some(m @ AdviceMode::Committed(_)) => Ok(m),
        _ => Err(format!("unknown PCS parameters {s:?}: provable or conjectured")),
    }
}

pub fn run(args: Args, g: &Global) -> Result<Outcome> {
    let quiet = g.quiet || args.json;
    let loaded = load_model(&args.model, &args.compile, None, quiet)?;
    let model = loaded.model();
    let AdviceMode::Committed(params) = args.pcs else { unreachable!("parse_pcs") };
    let bar = spinner(quiet, "committing the weights");
    let start = Instant::now();
    let (prover_model, wp) = gkr::commit_model(model, params)?;
    let commit_ms = ms(start);
    bar.finish_and_clear();
    let stripped = ModelCommitment::stripped(&prover_model)?;
    let layers = weights::committed_layers(&prover_model);
    let committed: usize = layers
        .iter()
        .filter_map(|&i| prover_model.layers[i].weight_layout())
        .map(|l| l.len())
        .sum();
    let file = CommitmentFile { commitment: wp.commitment(), model: stripped };
    let bytes = file.encode();
    std::fs::write(&args.output, &bytes)
        .with_context(|| format!("cannot write {}", args.output.display()))?;
    let root = hex(&wp.commitment().root);
    // what verifiers of the commitment compare: the stripped model, the parameters and the root
    let digest = hex(&gkr::committed_digest(&file.model.digest(), &file.commitment));
    if args.json {
        let obj = serde_json::json!({
            "model": model.name,
            "digest": digest,
            "model_digest": hex(&model.digest()),
            "root": root,
            "pcs": args.pcs.name(),
            "committed_layers": layers,
            "committed_weights": committed,
            "commit_ms": commit_ms,
            "commitment_bytes": bytes.len(),
        });
        println!("{obj}");
    } else if !g.quiet {
        println!("model       {} (digest {})", model.name, hex(&model.digest()));
        println!("digest      {digest} (the commitment's: verify --expect-digest)");
        println!("committed   {committed} weights of layers {layers:?} ({})", args.pcs.name());
        println!("root        {root}");
        println!("commit      {commit_ms:.2} ms");
        println!("commitment  {} bytes → {}", bytes.len(), args.output.display());
    }
    Ok(Outcome::Accepted)
}
