//! Writes the seed corpora of the fuzz targets: honest encodings (every zoo model, the fixed
//! models' commitments and proofs, HELLO frames, challenge streams, input files) and hostile
//! variants (truncations, maximal dimensions, products that wrap).
//!
//! `cargo run --release -- <corpus dir>` writes `<corpus dir>/<target>/<name>`.

#[path = "../../src/fixtures.rs"]
mod fixtures;

use gkrnet::circuit::{zoo, Model};
use gkrnet::gkr::file::CommitmentFile;
use gkrnet::gkr::{self, AdviceMode, ModelCommitment, ProofFile};
use gkrnet::net::{kind, write_frame, Hello};
use gkrnet::proof::{Proof, HEADER_BYTES};
use gkrnet::transcript::labels::MESSAGES;
use std::path::{Path, PathBuf};

struct Out(PathBuf);

impl Out {
    fn put(&self, target: &str, name: &str, bytes: &[u8]) {
        let dir = self.0.join(target);
        std::fs::create_dir_all(&dir).expect("create the corpus directory");
        std::fs::write(dir.join(name), bytes).expect("write a seed");
    }

    /// The bytes, a few truncations and a flipped byte in the middle.
    fn put_damaged(&self, target: &str, name: &str, bytes: &[u8]) {
        self.put(target, name, bytes);
        for cut in [bytes.len() / 2, bytes.len().saturating_sub(1)] {
            self.put(target, &format!("{name}.cut{cut}"), &bytes[..cut]);
        }
        if !bytes.is_empty() {
            let mut flipped = bytes.to_vec();
            flipped[bytes.len() / 2] ^= 0x80;
            self.put(target, &format!("{name}.flip"), &flipped);
        }
    }
}

fn frame(kind: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    write_frame(&mut out, kind, payload).expect("writing to a Vec");
    out
}

fn with_prefix(prefix: u8, bytes: &[u8]) -> Vec<u8> {
    let mut out = vec![prefix];
    out.extend_from_slice(bytes);
    out
}

/// A `.gkrm` encoding with its input dimensions replaced (offsets from `Model::encode`).
fn with_input_dims(encoded: &[u8], name_len: usize, dims: &[u64]) -> Vec<u8> {
    let at = 4 + 2 + 8 + name_len;
    let count = u64::from_le_bytes(encoded[at..at + 8].try_into().expect("8 bytes")) as usize;
    let mut out = encoded[..at].to_vec();
    out.extend_from_slice(&(dims.len() as u64).to_le_bytes());
    dims.iter().for_each(|d| out.extend_from_slice(&d.to_le_bytes()));
    out.extend_from_slice(&encoded[at + 8 + 8 * count..]);
    out
}

fn models(out: &Out) -> Vec<Model> {
    let mut models = vec![
        fixtures::clear_model(),
        fixtures::committed_full_model(),
        zoo::mlp_act(),
        zoo::lenet5(),
        zoo::cnn_cifar(),
    ];
    models.extend((0..8).filter_map(|seed| zoo::random_model(seed).ok()));
    for m in &models {
        let bytes = m.encode();
        out.put_damaged("model", &m.name, &bytes);
    }
    let m = fixtures::clear_model();
    let bytes = m.encode();
    let hostile: [&[u64]; 5] = [
        &[u64::MAX, u64::MAX],
        &[1 << 32, 1 << 32],
        &[u32::MAX as u64, u32::MAX as u64],
        &[1, 1 << 62, 4],
        &[],
    ];
    for (i, dims) in hostile.iter().enumerate() {
        out.put("model", &format!("dims{i}"), &with_input_dims(&bytes, m.name.len(), dims));
    }
    models
}

fn commitments(out: &Out, prover: &(Model, gkr::WeightsProver)) {
    let stripped = ModelCommitment::stripped(&prover.0).expect("strips");
    out.put("model", "stripped", &stripped.encode());
    let file = CommitmentFile { commitment: prover.1.commitment(), model: stripped };
    let bytes = file.encode();
    out.put_damaged("commitment", "fzc.gkrc", &bytes);
    let mut long = bytes.clone();
    long[43..51].copy_from_slice(&u64::MAX.to_le_bytes());
    out.put("commitment", "length-max", &long);
}

fn proofs(out: &Out, prover: &(Model, gkr::WeightsProver)) {
    let model = fixtures::clear_model();
    let input = fixtures::input_for(&model);
    for (i, &mode) in fixtures::MODES.iter().enumerate() {
        let p = gkr::prove_bytes(&model, &input, &gkr::ProveOptions::advice(mode))
            .expect("honest proof");
        out.put("proof_stream", &format!("mode{i}"), &with_prefix(i as u8, &p.proof));
        let mut file = ProofFile::new(model.digest(), &p.output, p.proof.clone());
        file.advice = mode;
        let bytes = file.encode();
        out.put_damaged("proof_file", &format!("clear-mode{i}.gkr"), &bytes);
        if i == 0 {
            client_messages(out, &p.proof, &model);
            // hostile headers: rank 255 of maximal dimensions, a proof length of u64::MAX
            let mut wide = ProofFile::new(model.digest(), &p.output, vec![]);
            wide.output_dims = vec![u32::MAX as usize; 255];
            out.put("proof_file", "rank255", &wide.encode());
            let mut long = bytes.clone();
            let at = long.len() - p.proof.len() - 8;
            long[at..at + 8].copy_from_slice(&u64::MAX.to_le_bytes());
            out.put("proof_file", "length-max", &long);
        }
    }
    let (full, wp) = (&prover.0, &prover.1);
    let input = fixtures::input_for(full);
    let key_digest = fixtures::committed_key(full, wp).digest();
    let p = gkr::prove_bytes(
        full,
        &input,
        &gkr::ProveOptions::advice(AdviceMode::Clear).with_weights(wp),
    )
    .expect("honest proof");
    let mut file = ProofFile::new(key_digest, &p.output, p.proof);
    file.weights_root = Some(wp.commitment().root);
    out.put_damaged("proof_file", "committed.gkr", &file.encode());
}

/// The client's view of an honest session: ACCEPT, then (ask, MESSAGE) pairs.
fn client_messages(out: &Out, proof: &[u8], model: &Model) {
    let mut accept = gkrnet::net::VERSION.to_le_bytes().to_vec();
    accept.push(gkrnet::net::task::MODEL);
    accept.extend_from_slice(&model.digest());
    let mut session = frame(kind::ACCEPT, &accept);
    let decoded = Proof::decode(proof).expect("an honest proof decodes");
    for m in decoded.messages {
        let label = MESSAGES.iter().position(|&l| l == m.label()).unwrap_or(0) as u8;
        let which = match (&m.ints, &m.bytes) {
            (Some(_), _) => 1,
            (None, Some(_)) => 2,
            (None, None) => 0,
        };
        session.push(label);
        session.push(which);
        session.extend_from_slice(&(m.len().min(u16::MAX as usize) as u16).to_le_bytes());
        let mut body = Proof { messages: vec![m] }.encode();
        body.drain(..HEADER_BYTES);
        session.extend_from_slice(&frame(kind::MESSAGE, &body));
    }
    out.put_damaged("net_client", "session", &session);
    out.put("net_client", "refuse", &frame(kind::REFUSE, b"no such model"));
}

fn network(out: &Out, model: &Model) {
    let input = fixtures::input_for(model);
    let hello = Hello::Model {
        digest: model.digest(),
        advice: AdviceMode::Clear,
        input: input.to_i8().expect("int8 input"),
    };
    out.put_damaged(
        "net_server",
        "hello-model",
        &with_prefix(0, &frame(kind::HELLO, &hello.encode())),
    );
    let (m, n, k) = (3, 5, 2);
    let mm = Hello::Matmul { m, n, k, a: vec![1; m * n], b: vec![-1; n * k] };
    out.put("net_server", "hello-matmul", &with_prefix(0, &frame(kind::HELLO, &mm.encode())));
    // dimensions whose products wrap or overflow the frame
    for (i, dims) in [[u32::MAX; 3], [1 << 16, 1 << 16, 1], [0, u32::MAX, 0]].iter().enumerate() {
        let mut p = gkrnet::net::VERSION.to_le_bytes().to_vec();
        p.push(gkrnet::net::task::MATMUL);
        dims.iter().for_each(|d| p.extend_from_slice(&d.to_le_bytes()));
        out.put("net_server", &format!("hello-wrap{i}"), &with_prefix(0, &frame(kind::HELLO, &p)));
    }
    // challenge streams: canonical small elements, then one not canonical
    for which in [1u8, 2] {
        let mut s = vec![which];
        for i in 0..400u32 {
            let mut c = [0u8; 16];
            c[..4].copy_from_slice(&(i.wrapping_mul(2654435761)).to_le_bytes());
            s.extend_from_slice(&frame(kind::CHALLENGE, &c));
        }
        out.put("net_server", &format!("challenges{which}"), &s);
        s.extend_from_slice(&frame(kind::CHALLENGE, &[0xff; 16]));
        out.put("net_server", &format!("challenges{which}-bad"), &s);
    }
}

/// A version-1.0 `.npy` file.
fn npy(descr: &str, shape: &str, data: &[u8]) -> Vec<u8> {
    let dict = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
    let mut header = dict.into_bytes();
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(b' ');
    }
    header.push(b'\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(&header);
    out.extend_from_slice(data);
    out
}

/// The same file in Fortran order (the flag's text has the same length once padded).
fn fortran(mut bytes: Vec<u8>) -> Vec<u8> {
    if let Some(at) = bytes.windows(5).position(|w| w == b"False") {
        bytes[at..at + 5].copy_from_slice(b"True ");
    }
    bytes
}

fn inputs(out: &Out) {
    let i8s: Vec<u8> = (0..16u8).map(|v| v.wrapping_mul(13)).collect();
    let f32s: Vec<u8> = (0..16).flat_map(|v| (v as f32 * 0.1).to_le_bytes()).collect();
    let files = [
        ("i8", npy("|i1", "(1, 16)", &i8s)),
        ("i8flat", npy("|i1", "(16,)", &i8s)),
        ("f4", npy("<f4", "(1, 16)", &f32s)),
        ("i8-wrap", npy("|i1", "(4294967296, 4294967296)", &[])),
        ("i8-max", npy("|i1", "(18446744073709551615,)", &[])),
        ("u1-big", npy("|u1", "(1, 1, 1, 65536, 65536)", &i8s)),
        ("fortran", fortran(npy("|i1", "(4, 4)", &i8s))),
    ];
    for (name, bytes) in files {
        out.put("input", name, &with_prefix(0, &bytes));
    }
    let row: Vec<String> = (0..16).map(|v| (v * 7 - 50).to_string()).collect();
    let json = format!("{{\"input_data\": [[{}]]}}", row.join(", "));
    out.put("input", "json", &with_prefix(1, json.as_bytes()));
    out.put("input", "json-nested", &with_prefix(1, b"{\"input_data\": [[[1e400, -0.0, 3]]]}"));
}

fn main() {
    let dir = std::env::args().nth(1).unwrap_or_else(|| "corpus".into());
    let out = Out(Path::new(&dir).to_path_buf());
    let all = models(&out);
    let prover = fixtures::committed_prover();
    commitments(&out, &prover);
    proofs(&out, &prover);
    network(&out, &all[0]);
    inputs(&out);
}
