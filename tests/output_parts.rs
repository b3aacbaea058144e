//! The part table of a model with several outputs (io flag 2 of `.gkrm`): it round-trips, it is
//! in the digest, and a hostile table is refused with an error naming the problem, never a panic.
//!
//! Invariant: a decoded table has 2 to `MAX_OUTPUT_PARTS` parts, bounded names and dimensions,
//! valid parameters, and parts that tile the 1-D output exactly (offsets contiguous from 0,
//! sizes the products of their dimensions, the total the output's length).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly on broken fixtures"
)]

use gkrnet::circuit::io::MAX_OUTPUT_PARTS;
use gkrnet::circuit::zoo::Builder;
use gkrnet::circuit::{
    Concat, InputQuant, IoQuant, Model, ModelError, OutputPart, OutputQuant, QParams, Tensor,
    Wiring,
};

/// Scores [2, 5] → "scores" (the scores, flattened) and "label" (their argmax along axis 1,
/// [2]), concatenated into a [12] output.
fn layers() -> Model {
    let mut b = Builder::new(vec![2, 5]);
    let idx = b.argmax(0, 1, 8).unwrap();
    let flat_scores = b.push(Wiring::reshape(0, &[2, 5], vec![10]).unwrap());
    let flat_idx = b.push(Wiring::reshape(idx, &[2, 1], vec![2]).unwrap());
    b.push(Concat::new(vec![flat_scores, flat_idx], vec![vec![10], vec![2]], 0).unwrap());
    b.finish("two_outputs").unwrap()
}

fn part(name: &str, dims: &[usize], q: QParams, index: bool, offset: usize) -> OutputPart {
    OutputPart { name: name.into(), dims: dims.to_vec(), q, index, softmax: false, offset }
}

fn table() -> Vec<OutputPart> {
    vec![
        part("scores", &[2, 5], QParams { scale: 0.25, zero: -3 }, false, 0),
        part("label", &[2], QParams::IDENTITY, true, 10),
    ]
}

fn io(parts: Vec<OutputPart>) -> IoQuant {
    IoQuant {
        input: InputQuant::Single(QParams { scale: 0.5, zero: 1 }),
        output: OutputQuant::Parts(parts),
    }
}

fn model() -> Model {
    layers().with_io(io(table())).unwrap()
}

/// The bytes of the model's encoding before its io field.
fn prefix() -> Vec<u8> {
    let mut b = layers().encode();
    assert_eq!(b.pop(), Some(0), "a model without io ends with flag 0");
    b
}

/// Writes the io field by hand, so a test can say anything a file can.
#[derive(Default)]
struct Io(Vec<u8>);

impl Io {
    fn u8(mut self, v: u8) -> Self {
        self.0.push(v);
        self
    }
    fn u64(mut self, v: u64) -> Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }
    fn q(self, scale: f64, zero: i64) -> Self {
        self.u64(scale.to_bits()).u64(zero as u64)
    }
    fn bytes(self, b: &[u8]) -> Self {
        let mut s = self.u64(b.len() as u64);
        s.0.extend_from_slice(b);
        s
    }
    fn dims(self, d: &[u64]) -> Self {
        d.iter().fold(self.u64(d.len() as u64), |s, &x| s.u64(x))
    }
    /// Flag 2, the input parameters and the part count.
    fn header(count: u64) -> Self {
        Io::default().u8(2).q(0.5, 1).u64(count)
    }
    fn part(self, name: &str, dims: &[u64], q: (f64, i64), flags: (u8, u8), offset: u64) -> Self {
        self.bytes(name.as_bytes()).dims(dims).q(q.0, q.1).u8(flags.0).u8(flags.1).u64(offset)
    }
    /// The two honest parts.
    fn honest(self) -> Self {
        self.part("scores", &[2, 5], (0.25, -3), (0, 0), 0).part(
            "label",
            &[2],
            (1.0, 0),
            (1, 0),
            10,
        )
    }
    fn decode(&self) -> Result<Model, ModelError> {
        let mut b = prefix();
        b.extend_from_slice(&self.0);
        Model::decode(&b)
    }
}

/// Decoding fails, and the error names `needle`.
fn refused(io: Io, needle: &str) {
    let e = io.decode().expect_err("a hostile part table decodes").to_string();
    assert!(e.contains(needle), "expected {needle:?} in: {e}");
}

#[test]
fn the_part_table_round_trips_and_is_in_the_digest() {
    let m = model();
    let bytes = m.encode();
    let back = Model::decode(&bytes).unwrap();
    assert_eq!(back.io(), m.io());
    assert_eq!(back.digest(), m.digest());
    assert_eq!(back.output_parts(), table());
    // the hand-written field is the encoder's
    assert_eq!(Io::header(2).honest().decode().unwrap().encode(), bytes);
    // every field of the table changes the digest
    let mut digests = vec![m.digest(), layers().digest()];
    for edit in 0..5 {
        let mut t = table();
        match edit {
            0 => t[0].name = "logits".into(),
            1 => t[0].q.scale = 0.5,
            2 => t[0].q.zero = 0,
            3 => t[0].softmax = true,
            _ => t[0].dims = vec![10],
        }
        digests.push(layers().with_io(io(t)).unwrap().digest());
    }
    let unique: std::collections::HashSet<_> = digests.iter().collect();
    assert_eq!(unique.len(), digests.len());
    // the dequantized output reads each part on its own
    let x = Tensor::new(vec![2, 5], vec![3, 9, 9, -4, 0, 7, 7, 1, 8, 8]).unwrap();
    let out = m.forward(&x).unwrap().output().clone();
    assert_eq!(&out.data[10..], [1, 3]);
}

#[test]
fn a_single_output_model_keeps_the_flag_1_encoding() {
    let single =
        layers().with_io(IoQuant::single(QParams::IDENTITY, QParams::IDENTITY, true)).unwrap();
    let b = single.encode();
    let tail = &b[prefix().len()..];
    assert_eq!(tail.len(), 1 + 16 + 16 + 1);
    assert_eq!((tail[0], tail[33]), (1, 1));
    assert_eq!(Model::decode(&b).unwrap().io(), single.io());
}

#[test]
fn counts_that_the_bytes_or_the_bound_do_not_allow_are_refused() {
    refused(Io::header(u64::MAX), "a length that fits the remaining bytes");
    refused(Io::header(3).honest(), "a length that fits the remaining bytes");
    let mut many = Io::header(MAX_OUTPUT_PARTS as u64 + 1);
    for k in 0..=MAX_OUTPUT_PARTS {
        many = many.part(&format!("p{k}"), &[1], (1.0, 0), (0, 0), k as u64);
    }
    refused(many, &format!("at most {MAX_OUTPUT_PARTS} output parts"));
    refused(Io::header(1).part("only", &[12], (1.0, 0), (0, 0), 0), "1 output parts");
    refused(Io::header(0), "0 output parts");
}

#[test]
fn parts_that_do_not_tile_the_output_are_refused() {
    let q = (0.25, 0);
    // a gap, an overlap, an offset past the end
    refused(
        Io::header(2).part("a", &[10], q, (0, 0), 0).part("b", &[2], q, (0, 0), 11),
        "output part 1: offset 11, the part before ends at 10",
    );
    refused(
        Io::header(2).part("a", &[10], q, (0, 0), 0).part("b", &[2], q, (0, 0), 9),
        "output part 1: offset 9, the part before ends at 10",
    );
    refused(
        Io::header(2).part("a", &[10], q, (0, 0), 1).part("b", &[2], q, (0, 0), 11),
        "output part 0: offset 1, the part before ends at 0",
    );
    // sizes that fall short of the output, or run past it
    refused(
        Io::header(2).part("a", &[9], q, (0, 0), 0).part("b", &[2], q, (0, 0), 9),
        "the output parts cover 11 of the output's 12 entries",
    );
    refused(
        Io::header(2).part("a", &[2, 5], q, (0, 0), 0).part("b", &[3], q, (0, 0), 10),
        "output part 1 (\"b\") ends past the output's 12 entries",
    );
    // dimensions whose product overflows, or is empty
    refused(
        Io::header(2).part("a", &[1 << 40, 1 << 40], q, (0, 0), 0).part("b", &[2], q, (0, 0), 10),
        "output dimensions of at most 2^28 entries",
    );
    refused(
        Io::header(2).part("a", &[0], q, (0, 0), 0).part("b", &[12], q, (0, 0), 0),
        "output part 0: empty dimensions [0]",
    );
}

#[test]
fn bad_names_parameters_and_flags_are_refused() {
    let label = |io: Io| io.part("label", &[2], (1.0, 0), (1, 0), 10);
    let scores = |name: &[u8]| {
        let io = Io::header(2).bytes(name).dims(&[2, 5]).q(0.25, -3).u8(0).u8(0).u64(0);
        label(io)
    };
    refused(scores(&[0xff, 0xfe]), "a UTF-8 output name");
    refused(scores(b""), "output part 0: a name of 0 bytes");
    refused(scores(&vec![b'a'; 5000]), "an output name of at most 1024 bytes");
    refused(
        Io::header(2).part("label", &[10], (0.25, 0), (0, 0), 0).part(
            "label",
            &[2],
            (1.0, 0),
            (1, 0),
            10,
        ),
        "the name \"label\" is repeated",
    );
    let scored =
        |q: (f64, i64), flags: (u8, u8)| label(Io::header(2).part("s", &[2, 5], q, flags, 0));
    refused(scored((f64::NAN, 0), (0, 0)), "output part 0: quantization");
    refused(scored((-1.0, 0), (0, 0)), "output part 0: quantization");
    refused(scored((0.25, 128), (0, 0)), "a zero point in [-128, 127]");
    refused(scored((0.25, 0), (2, 0)), "an index flag 0 or 1");
    refused(scored((0.25, 0), (0, 7)), "a softmax flag 0 or 1");
    refused(scored((0.25, 0), (1, 0)), "an index part with a scale, a zero point or a softmax");
    refused(scored((1.0, 0), (1, 1)), "an index part with a scale, a zero point or a softmax");
    // the input's parameters, an unknown flag, a truncated part, trailing bytes
    refused(Io::default().u8(2).q(0.0, 0).u64(2).honest(), "input quantization");
    refused(Io::default().u8(7), "an input/output quantization flag 0 to 6");
    let whole = Io::header(2).honest().0;
    for cut in [1, 9, 17, whole.len() - 40, whole.len() - 1] {
        let e = Io(whole[..whole.len() - cut].to_vec()).decode();
        assert!(e.is_err(), "cut {cut}");
    }
    refused(Io::header(2).honest().u8(0), "malformed model at byte");
}

#[test]
fn a_part_table_must_fit_the_model_it_is_given_to() {
    // a 2-D output cannot be tiled by 1-D parts, and a model's own table must tile its output
    let mut b = Builder::new(vec![2, 6]);
    b.push(Wiring::reshape(0, &[2, 6], vec![2, 6]).unwrap());
    let two_d = b.finish("2d").unwrap();
    let t = vec![
        part("a", &[6], QParams::IDENTITY, false, 0),
        part("b", &[6], QParams::IDENTITY, false, 6),
    ];
    let e = two_d.with_io(io(t)).unwrap_err().to_string();
    assert!(e.contains("output parts of a [2, 6] output"), "{e}");
    let e = layers().with_io(io(vec![table()[0].clone()])).unwrap_err().to_string();
    assert!(e.contains("1 output parts"), "{e}");
}
