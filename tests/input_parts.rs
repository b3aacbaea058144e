//! The input part table of a model with several inputs (io flag 3 of `.gkrm`): it round-trips,
//! it is in the digest, it composes with both output forms, and a hostile table is refused with
//! an error naming the problem, never a panic.
//!
//! Invariant: a decoded table has 2 to `MAX_INPUT_PARTS` parts, bounded unique names, bounded
//! dimensions, valid parameters, and parts that tile the 1-D input exactly (offsets contiguous
//! from 0, sizes the products of their dimensions, the total the input's length). Flags 1 and 2
//! keep their bytes.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly on broken fixtures"
)]

use gkrnet::circuit::io::MAX_INPUT_PARTS;
use gkrnet::circuit::take::Take;
use gkrnet::circuit::zoo::Builder;
use gkrnet::circuit::{
    InputPart, InputQuant, IoQuant, Model, ModelError, OutputQuant, QParams, Tensor, Wiring,
};

/// A [10] input: "a" ([2, 3], entries 0..6) and "b" ([4], entries 6..10); the output is "b"
/// followed by "a" flattened (a [10] tensor), so every entry is read.
fn layers() -> Model {
    let mut b = Builder::new(vec![10]);
    let a = b.push(Take::flat(0, &[10], &[2, 3], (0..6).collect()).unwrap());
    let bb = b.push(Take::flat(0, &[10], &[4], (6..10).collect()).unwrap());
    let flat_a = b.push(Wiring::reshape(a, &[2, 3], vec![6]).unwrap());
    b.push(gkrnet::circuit::Concat::new(vec![bb, flat_a], vec![vec![4], vec![6]], 0).unwrap());
    b.finish("two_inputs").unwrap()
}

fn part(name: &str, dims: &[usize], q: QParams, offset: usize) -> InputPart {
    InputPart { name: name.into(), dims: dims.to_vec(), q, offset }
}

fn table() -> Vec<InputPart> {
    vec![
        part("a", &[2, 3], QParams { scale: 0.25, zero: -3 }, 0),
        part("b", &[4], QParams { scale: 8.0, zero: 5 }, 6),
    ]
}

fn io(parts: Vec<InputPart>) -> IoQuant {
    IoQuant {
        input: InputQuant::Parts(parts),
        output: OutputQuant::Single { q: QParams { scale: 0.5, zero: 1 }, softmax: false },
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
    /// Flag 3 and the part count.
    fn header(count: u64) -> Self {
        Io::default().u8(3).u64(count)
    }
    fn part(self, name: &str, dims: &[u64], q: (f64, i64), offset: u64) -> Self {
        self.bytes(name.as_bytes()).dims(dims).q(q.0, q.1).u64(offset)
    }
    /// The two honest parts.
    fn honest(self) -> Self {
        self.part("a", &[2, 3], (0.25, -3), 0).part("b", &[4], (8.0, 5), 6)
    }
    /// The single output that follows the table.
    fn output(self) -> Self {
        self.u8(1).q(0.5, 1).u8(0)
    }
    fn decode(&self) -> Result<Model, ModelError> {
        let mut b = prefix();
        b.extend_from_slice(&self.0);
        Model::decode(&b)
    }
}

/// Decoding fails, and the error names `needle`.
fn refused(io: Io, needle: &str) {
    let e = io.decode().expect_err("a hostile input table decodes").to_string();
    assert!(e.contains(needle), "expected {needle:?} in: {e}");
}

#[test]
fn the_input_table_round_trips_and_is_in_the_digest() {
    let m = model();
    let bytes = m.encode();
    let back = Model::decode(&bytes).unwrap();
    assert_eq!(back.io(), m.io());
    assert_eq!(back.digest(), m.digest());
    assert_eq!(back.input_parts(), table());
    // the hand-written field is the encoder's
    assert_eq!(Io::header(2).honest().output().decode().unwrap().encode(), bytes);
    // every field of the table changes the digest
    let mut digests = vec![m.digest(), layers().digest()];
    for edit in 0..5 {
        let mut t = table();
        match edit {
            0 => t[0].name = "x".into(),
            1 => t[0].q.scale = 0.5,
            2 => t[0].q.zero = 0,
            3 => t[1].q.scale = 4.0,
            _ => t[0].dims = vec![6],
        }
        digests.push(layers().with_io(io(t)).unwrap().digest());
    }
    let unique: std::collections::HashSet<_> = digests.iter().collect();
    assert_eq!(unique.len(), digests.len());
    // each input is quantized at its own parameters
    let x: Vec<f32> = vec![0.25, 0.5, -0.75, 0.0, 1.0, 2.0, 8.0, 16.0, -8.0, 0.0];
    let q = gkrnet::onnx::quantize_input(&m, &x).unwrap();
    assert_eq!(q.data, [-2, -1, -6, -3, 1, 5, 6, 7, 4, 5]);
    let out = m.forward(&Tensor::new(vec![10], q.data.clone()).unwrap()).unwrap();
    assert_eq!(out.output().data, [6, 7, 4, 5, -2, -1, -6, -3, 1, 5]);
}

#[test]
fn the_input_table_composes_with_several_outputs() {
    let outputs = vec![
        gkrnet::circuit::OutputPart {
            name: "first".into(),
            dims: vec![4],
            q: QParams { scale: 0.5, zero: 1 },
            index: false,
            softmax: false,
            offset: 0,
        },
        gkrnet::circuit::OutputPart {
            name: "second".into(),
            dims: vec![2, 3],
            q: QParams { scale: 2.0, zero: 0 },
            index: false,
            softmax: true,
            offset: 4,
        },
    ];
    let io = IoQuant { input: InputQuant::Parts(table()), output: OutputQuant::Parts(outputs) };
    let m = layers().with_io(io).unwrap();
    let back = Model::decode(&m.encode()).unwrap();
    assert_eq!(back.io(), m.io());
    assert_eq!(back.digest(), m.digest());
}

#[test]
fn a_single_input_keeps_flags_1_and_2() {
    let single = IoQuant::single(QParams { scale: 0.5, zero: 1 }, QParams::IDENTITY, false);
    let m = layers().with_io(single).unwrap();
    let bytes = m.encode();
    let mut want = prefix();
    want.extend_from_slice(&Io::default().u8(1).q(0.5, 1).q(1.0, 0).u8(0).0);
    assert_eq!(bytes, want);
    assert_eq!(m.input_parts()[0].dims, vec![10]);
}

#[test]
fn hostile_input_tables_are_refused() {
    // counts: too few, too many, more than the bytes left
    refused(
        Io::header(1).part("a", &[10], (0.5, 0), 0).output(),
        "1 input parts (a table has 2 to",
    );
    let mut many = Io::header(MAX_INPUT_PARTS as u64 + 1);
    many.0.extend(vec![0u8; 40 * (MAX_INPUT_PARTS + 1)]);
    refused(many, "at most 1024 input parts");
    refused(Io::header(u64::MAX), "");
    // names: empty, repeated, not UTF-8, too long
    refused(
        Io::header(2).part("", &[2, 3], (0.25, -3), 0).part("b", &[4], (8.0, 5), 6).output(),
        "input part 0: a name of 0 bytes",
    );
    refused(
        Io::header(2).part("a", &[2, 3], (0.25, -3), 0).part("a", &[4], (8.0, 5), 6).output(),
        "input part 1: the name \"a\" is repeated",
    );
    refused(Io::header(2).bytes(&[0xff, 0xfe]).honest(), "a UTF-8 input name");
    refused(Io::header(2).bytes(&vec![b'a'; 5000]), "an input name of at most 1024 bytes");
    // parameters: zero scale, NaN scale, zero point outside int8
    refused(
        Io::header(2).part("a", &[2, 3], (0.0, -3), 0).part("b", &[4], (8.0, 5), 6).output(),
        "input part 0: quantization",
    );
    refused(
        Io::header(2).part("a", &[2, 3], (f64::NAN, -3), 0).part("b", &[4], (8.0, 5), 6).output(),
        "input part 0: quantization",
    );
    refused(
        Io::header(2).part("a", &[2, 3], (0.25, 300), 0).part("b", &[4], (8.0, 5), 6).output(),
        "a zero point in [-128, 127]",
    );
    // dimensions: huge, empty
    refused(
        Io::header(2).part("a", &[1 << 40], (0.25, 0), 0).honest(),
        "input dimensions of at most",
    );
    refused(
        Io::header(2).part("a", &[0], (0.25, 0), 0).part("b", &[10], (8.0, 5), 0).output(),
        "input part 0: empty dimensions [0]",
    );
    // tiling: a gap, an overlap, past the end, short of the end
    refused(
        Io::header(2).part("a", &[2, 3], (0.25, -3), 0).part("b", &[4], (8.0, 5), 7).output(),
        "input part 1: offset 7, the part before ends at 6",
    );
    refused(
        Io::header(2).part("a", &[2, 3], (0.25, -3), 1).part("b", &[4], (8.0, 5), 7).output(),
        "input part 0: offset 1, the part before ends at 0",
    );
    refused(
        Io::header(2).part("a", &[2, 3], (0.25, -3), 0).part("b", &[5], (8.0, 5), 6).output(),
        "input part 1 (\"b\") ends past the input's 10 entries",
    );
    refused(
        Io::header(2).part("a", &[2, 3], (0.25, -3), 0).part("b", &[3], (8.0, 5), 6).output(),
        "the input parts cover 9 of the input's 10 entries",
    );
    // the output field after the table: another flag, or a flag 3 again
    refused(Io::header(2).honest().u8(3), "an output quantization flag 1 or 2");
    refused(Io::header(2).honest().u8(0), "an output quantization flag 1 or 2");
    // the strict output parameters after a table
    refused(Io::header(2).honest().u8(1).q(0.5, 1000).u8(0), "a zero point in [-128, 127]");
    // an unknown io flag
    refused(Io::default().u8(7), "an input/output quantization flag 0 to 6");
    // truncated anywhere: an error, never a panic
    let full = Io::header(2).honest().output().0;
    for cut in 0..full.len() {
        assert!(Io(full[..cut].to_vec()).decode().is_err(), "truncated at {cut}");
    }
}

#[test]
fn a_table_over_a_multidimensional_input_is_refused() {
    let mut b = Builder::new(vec![2, 5]);
    b.push(Wiring::reshape(0, &[2, 5], vec![10]).unwrap());
    let m = b.finish("two_d").unwrap();
    let e = m.with_io(io(table())).unwrap_err().to_string();
    assert!(e.contains("input parts of a [2, 5] input (they tile a 1-D one)"), "{e}");
}
