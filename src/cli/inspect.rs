//! `gkrnet inspect MODEL|PROOF`: a model's layers (shapes, quantization parameters, and for an
//! ONNX file whether gkrnet lowers each node, and why not, from the importer's op registry), or
//! a proof file's version, model digest and sizes by part.

use super::compile::hex;
use super::{Global, Outcome};
use anyhow::{Context, Result};
use gkrnet::circuit::{InputPart, InputQuant, IoQuant, Model, OutputPart, OutputQuant};
use gkrnet::gkr::ProofFile;
use gkrnet::onnx::{self, ImportOptions};
use gkrnet::proof::{Proof, HEADER_BYTES};
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// An ONNX model, a compiled .gkrm, or a proof file.
    file: PathBuf,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

fn model_json(model: &Model) -> serde_json::Value {
    let layers: Vec<serde_json::Value> = model
        .layers
        .iter()
        .enumerate()
        .map(|(i, l)| {
            serde_json::json!({
                "index": i,
                "kind": l.kind(),
                "inputs": l.inputs(),
                "output": i + 1,
                "dims": l.output_dims(),
                "committed": l.output_committed(),
                "parameters": l.spec().summary(),
            })
        })
        .collect();
    let io = model.io().map(|io| {
        let out = io.single_output();
        let mut v = serde_json::json!({
            "input_scale": io.first_input().scale, "input_zero_point": io.first_input().zero,
            "output_scale": out.map(|q| q.scale), "output_zero_point": out.map(|q| q.zero),
            "softmax_outside_proof": io.softmax(),
        });
        if let OutputQuant::Parts(parts) = &io.output {
            v["outputs"] = parts.iter().map(part_json).collect();
        }
        if let InputQuant::Parts(parts) = &io.input {
            v["inputs"] = parts.iter().map(input_part_json).collect();
        }
        v
    });
    serde_json::json!({
        "name": model.name,
        "digest": hex(&model.digest()),
        "input_dims": model.input_dims,
        "io": io,
        "layers": layers,
    })
}

/// One output of a model with several: where it sits in the proven tensor and how it reads.
fn part_json(p: &OutputPart) -> serde_json::Value {
    serde_json::json!({
        "name": p.name, "shape": p.dims, "offset": p.offset, "scale": p.q.scale,
        "zero_point": p.q.zero, "index": p.index, "softmax_outside_proof": p.softmax,
    })
}

/// One input of a model with several: where it sits in the input tensor and its quantization.
fn input_part_json(p: &InputPart) -> serde_json::Value {
    serde_json::json!({
        "name": p.name, "shape": p.dims, "offset": p.offset, "scale": p.q.scale,
        "zero_point": p.q.zero,
    })
}

fn print_model(model: &Model) {
    println!("model {} (digest {})", model.name, hex(&model.digest()));
    println!("input {:?}", model.input_dims);
    if let Some(InputQuant::Parts(parts)) = model.io().map(|io| &io.input) {
        println!("inputs: {} parts of the {:?} input tensor", parts.len(), model.input_dims);
        for p in parts {
            println!(
                "  {:?} {:?} at {}: scale {} zero {}",
                p.name, p.dims, p.offset, p.q.scale, p.q.zero
            );
        }
    }
    // the input's parameters, unless the input parts above list them
    let input = |io: &IoQuant| match &io.input {
        InputQuant::Single(q) => format!("input scale {} zero {}", q.scale, q.zero),
        InputQuant::Parts(_) => "inputs as listed".into(),
        InputQuant::Embedding(e) => format!(
            "token ids {:?} {:?} → rows of a {} × {} int8 embedding (scale {} zero {}){}",
            e.name,
            e.ids_dims,
            e.vocab,
            e.width,
            e.q.scale,
            e.q.zero,
            e.masks
                .iter()
                .map(|m| format!(", 0/1 mask {:?} {:?}", m.name, m.dims))
                .collect::<String>()
        ),
    };
    match model.io().map(|io| (input(io), &io.output)) {
        Some((input, OutputQuant::Single { q, softmax })) => println!(
            "quantization: {input}, output scale {} zero {}{}",
            q.scale,
            q.zero,
            if *softmax { ", softmax applied outside the proof" } else { "" }
        ),
        Some((input, OutputQuant::Parts(parts))) => {
            println!("quantization: {input}");
            println!(
                "outputs: {} parts of the proven {:?} tensor",
                parts.len(),
                model.output_dims()
            );
            for p in parts {
                let how = if p.index {
                    "indices".to_string()
                } else {
                    format!("scale {} zero {}", p.q.scale, p.q.zero)
                };
                println!(
                    "  {:?} {:?} at {}: {how}{}",
                    p.name,
                    p.dims,
                    p.offset,
                    if p.softmax { ", softmax applied outside the proof" } else { "" }
                );
            }
        }
        None => {}
    }
    for (i, l) in model.layers.iter().enumerate() {
        println!(
            "  #{i:<3} {:<10} {:?} → t{} {:?}{}  {}",
            l.kind(),
            l.inputs(),
            i + 1,
            l.output_dims(),
            if l.output_committed() { " committed" } else { "" },
            l.spec().summary()
        );
    }
}

pub fn run(args: Args, _g: &Global) -> Result<Outcome> {
    let bytes = std::fs::read(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    if bytes.starts_with(&gkrnet::gkr::file::MAGIC) {
        let file = ProofFile::decode(&bytes)?;
        let proof = Proof::decode(&file.proof)
            .map_err(|e| anyhow::anyhow!("{}: the proof stream: {e}", args.file.display()))?;
        let mut parts: Vec<(String, usize, usize)> = Vec::new();
        for m in &proof.messages {
            let size = Proof { messages: vec![m.clone()] }.encoded_len() - HEADER_BYTES;
            let label = m.label().to_string();
            match parts.iter_mut().find(|p| p.0 == label) {
                Some(p) => {
                    p.1 += size;
                    p.2 += 1;
                }
                None => parts.push((label, size, 1)),
            }
        }
        parts.sort_by_key(|p| std::cmp::Reverse(p.1));
        if args.json {
            let p: Vec<_> = parts
                .iter()
                .map(|(l, s, n)| serde_json::json!({"label": l, "bytes": s, "messages": n}))
                .collect();
            println!(
                "{}",
                serde_json::json!({
                    "kind": "proof", "verified": false, "version": gkrnet::gkr::file::VERSION,
                    "stream_version": gkrnet::proof::VERSION,
                    "digest": hex(&file.digest), "output_dims": file.output_dims,
                    "advice": file.advice.name(),
                    "weights_root": file.weights_root.map(|r| hex(&r)),
                    "bytes": bytes.len(), "messages": proof.messages.len(), "parts": p,
                })
            );
        } else {
            println!(
                "proof file v{} (stream v{}): UNVERIFIED, as the file states it (`gkrnet \
                 verify` checks it)",
                gkrnet::gkr::file::VERSION,
                gkrnet::proof::VERSION
            );
            println!("model digest {} (unverified label)", hex(&file.digest));
            println!("advice       {}", file.advice.name());
            if let Some(root) = &file.weights_root {
                println!("weights      from the model commitment with root {}", hex(root));
            }
            println!("output dims  {:?}", file.output_dims);
            println!("size         {} bytes, {} messages", bytes.len(), proof.messages.len());
            for (label, size, n) in parts {
                println!("  {label:<28} {size:>10} bytes  ({n} messages)");
            }
        }
        return Ok(Outcome::Accepted);
    }
    if bytes.starts_with(&gkrnet::gkr::file::COMMITMENT_MAGIC) {
        let file = gkrnet::gkr::file::CommitmentFile::decode(&bytes)?;
        let pcs = gkrnet::gkr::AdviceMode::Committed(file.commitment.params).name();
        let digest = hex(&gkrnet::gkr::committed_digest(&file.model.digest(), &file.commitment));
        let committed: Vec<usize> = (0..file.model.layers.len())
            .filter(|&i| file.model.layers[i].weights_committed())
            .collect();
        if args.json {
            println!(
                "{}",
                serde_json::json!({
                    "kind": "commitment", "digest": digest,
                    "root": hex(&file.commitment.root), "pcs": pcs,
                    "committed_layers": committed, "model": model_json(&file.model),
                })
            );
        } else {
            println!("model commitment v{}", gkrnet::gkr::file::COMMITMENT_VERSION);
            println!("digest       {digest} (what `verify --expect-digest` compares)");
            println!("root         {} ({pcs})", hex(&file.commitment.root));
            println!("committed    the weights of layers {committed:?}");
            print_model(&file.model);
        }
        return Ok(Outcome::Accepted);
    }
    if bytes.starts_with(b"GKRM") {
        let model = Model::decode(&bytes)?;
        if args.json {
            println!("{}", serde_json::json!({"kind": "model", "model": model_json(&model)}));
        } else {
            print_model(&model);
        }
        return Ok(Outcome::Accepted);
    }
    // an ONNX file: its ops, then the integer model if it imports
    let proto = onnx::read_proto(&args.file)?;
    let graph = onnx::Graph::from_proto(&proto)?;
    let ops = onnx::support(&graph)?;
    let imported = onnx::import(&args.file, &ImportOptions::default());
    if args.json {
        let nodes: Vec<_> = ops
            .iter()
            .map(|s| {
                serde_json::json!({
                    "node": s.node, "op": s.op, "supported": s.verdict.is_ok(),
                    "reason": s.verdict.as_ref().err(),
                })
            })
            .collect();
        let (model, error) = match &imported {
            Ok(i) => (Some(model_json(&i.model)), None),
            Err(e) => (None, Some(e.to_string())),
        };
        println!(
            "{}",
            serde_json::json!({"kind": "onnx", "nodes": nodes, "model": model, "error": error})
        );
    } else {
        let inputs = match &graph.inputs[..] {
            [one] => format!("input {:?} {:?}", one.name, one.dims),
            several => format!(
                "inputs {}",
                several
                    .iter()
                    .map(|i| format!("{:?} {:?}", i.name, i.dims))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        match &graph.outputs[..] {
            [one] => println!("ONNX graph: {inputs}, output {one:?}"),
            several => println!("ONNX graph: {inputs}, outputs {several:?}"),
        }
        for s in &ops {
            let verdict = match &s.verdict {
                Ok(()) => "supported".to_string(),
                Err(reason) => format!("NOT SUPPORTED: {reason}"),
            };
            println!("  {:<20} {:<32} {verdict}", s.op, s.node);
        }
        match &imported {
            Ok(i) => {
                println!("imports as ({:?}, {} parameters):", i.kind, i.parameters);
                print_model(&i.model);
            }
            Err(e) => println!("does not import: {e}"),
        }
    }
    Ok(Outcome::Accepted)
}
