//! How a model's integer input and output map to real values ([`IoQuant`]), and its encoding at
//! the end of a `.gkrm` (so the model digest binds it).
//!
//! A source model with one output has one output quantization (io flag 1). A model with several
//! outputs proves them as one tensor: each output reshaped to 1-D, concatenated in graph order
//! ([`OutputQuant::Parts`], io flag 2); the part table says where each output sits in it and how
//! to read it. The table only interprets the proven tensor: the proof binds the whole
//! concatenated output, and the table is bound by the digest like every other field.
//!
//! Several inputs mirror several outputs: the circuit's one input tensor is 1-D, every input
//! flattened and concatenated in graph order, each quantized at its own parameters
//! ([`InputQuant::Parts`], io flag 3, followed by the output field as flags 1 and 2 write it,
//! without their input parameters). The proof binds the whole concatenated int8 input.
//!
//! ```text
//! io      = 0                                             (no quantization: built-in models)
//!         | 1 ‖ input q ‖ output q ‖ softmax u8           (one input, one output)
//!         | 2 ‖ input q ‖ count u64 ‖ part*               (one input, several outputs)
//!         | 3 ‖ count u64 ‖ in part* ‖ outputs            (several inputs)
//!         | 4 ‖ embedding ‖ outputs                        (token ids: their embedding rows)
//!         | 5 ‖ embedding ‖ count u64 ‖ mask* ‖ ids at u64 ‖ outputs   (ids and 0/1 masks)
//!         | 6 ‖ embedding ‖ count u64 ‖ side* ‖ ids at u64 ‖ outputs   (ids, masks, more ids)
//! outputs = 1 ‖ output q ‖ softmax u8 | 2 ‖ count u64 ‖ part*
//! q       = scale (f64 bits, u64) ‖ zero point i64
//! part    = name (bytes) ‖ dims (u64*) ‖ q ‖ index u8 ‖ softmax u8 ‖ offset u64
//! in part = name (bytes) ‖ dims (u64*) ‖ q ‖ offset u64
//! embedding = name (bytes) ‖ ids dims (u64*) ‖ vocab u64 ‖ width u64 ‖ q ‖ table (i8*)
//! mask    = name (bytes) ‖ dims (u64*)
//! side    = 0 ‖ mask | 1 ‖ mask ‖ vocab u64 ‖ width u64 ‖ q ‖ table (i8*)
//! ```
//!
//! A model whose input is token ids ([`InputQuant::Embedding`], flag 4) proves on the int8 rows
//! of its embedding table that the ids select: the circuit's input tensor is [ids dims…, width],
//! and whoever holds the model (prover and verifier alike) computes it from the ids with
//! [`Embedding::rows`], refusing an id outside the vocabulary. The table is in the model, so the
//! digest binds it.
//!
//! Token ids may come with 0/1 inputs beside them (attention masks, flag 5, [`Embedding::masks`]):
//! the circuit's input tensor is then 1-D, the rows flattened, each mask's values (graph order)
//! and the constants 0 and 1, all public, so the circuit gathers its softmax gates from them
//! (`circuit::gate`); [`Embedding::rows`] takes the ids and the masks concatenated in graph
//! order (the ids at [`Embedding::ids_at`] among them) and refuses a mask value other than 0
//! or 1. A side input with a table of its own (BERT's token type ids, flag 6) puts its ids'
//! rows in the input tensor instead of its values.

use super::{checked_entries, ModelError, QParams};
use crate::codec::{ByteReader, ByteWriter, Sink};
use std::collections::HashSet;

/// The most outputs a model may have (a bound for decoding hostile files).
pub const MAX_OUTPUT_PARTS: usize = 1 << 10;
/// The longest output name, in bytes.
pub const MAX_OUTPUT_NAME: usize = 1 << 10;
/// The smallest encoding of a part (an empty name and no dimensions), to bound the count.
const MIN_PART_BYTES: usize = 8 + 8 + 16 + 2 + 8;
/// The most inputs a model may have (a bound for decoding hostile files).
pub const MAX_INPUT_PARTS: usize = 1 << 10;
/// The smallest encoding of an input part.
const MIN_INPUT_PART_BYTES: usize = 8 + 8 + 16 + 8;
/// The smallest encoding of a mask beside token ids (an empty name and no dimensions).
const MIN_MASK_BYTES: usize = 8 + 8;

/// How a model's int8 input and its output map to real values (an imported model has them; the
/// built-in seeded models do not).
#[derive(Clone, Debug, PartialEq)]
pub struct IoQuant {
    pub input: InputQuant,
    pub output: OutputQuant,
}

/// How the circuit's input tensor maps to the source model's inputs.
#[derive(Clone, Debug, PartialEq)]
pub enum InputQuant {
    /// One input: the whole tensor at these parameters.
    Single(QParams),
    /// Several inputs (at least 2), each a 1-D slice of the (1-D) input tensor, in graph order.
    Parts(Vec<InputPart>),
    /// One input of token ids: the input tensor is their rows of the int8 embedding table.
    Embedding(Embedding),
}

#[path = "io_tokens.rs"]
mod tokens;
pub use tokens::{Embedding, IdsTable, MaskInput, MAX_EMBEDDING_ENTRIES};

/// One input of a model with several: where it sits in the input tensor and its quantization.
#[derive(Clone, Debug, PartialEq)]
pub struct InputPart {
    /// The ONNX input's name.
    pub name: String,
    /// The input's dimensions (its entries are row-major in the slice).
    pub dims: Vec<usize>,
    pub q: QParams,
    /// The part's first entry in the input tensor.
    pub offset: usize,
}

impl InputPart {
    /// The part's entries (its dimensions are checked when the model takes its io).
    pub fn len(&self) -> usize {
        self.dims.iter().product()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// How the circuit's output tensor maps to the source model's outputs.
#[derive(Clone, Debug, PartialEq)]
pub enum OutputQuant {
    /// One output: the whole tensor at `q`. `softmax`: the source model ends with a softmax
    /// that is applied to the dequantized output, outside the proof.
    Single { q: QParams, softmax: bool },
    /// Several outputs (at least 2), each a 1-D slice of the tensor, in graph order.
    Parts(Vec<OutputPart>),
}

/// One output of a model with several: where it sits in the proven tensor and how to read it.
#[derive(Clone, Debug, PartialEq)]
pub struct OutputPart {
    /// The ONNX output's name.
    pub name: String,
    /// The output's dimensions (its entries are row-major in the slice).
    pub dims: Vec<usize>,
    pub q: QParams,
    /// Integer indices (ArgMax), not int8 values: they read as themselves (q is (1, 0)).
    pub index: bool,
    /// A softmax over the last axis applied to the dequantized part, outside the proof.
    pub softmax: bool,
    /// The part's first entry in the proven tensor.
    pub offset: usize,
}

impl OutputPart {
    /// The part's entries (its dimensions are checked when the model takes its io).
    pub fn len(&self) -> usize {
        self.dims.iter().product()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The part of a model with one output: the whole tensor of `dims`, named `output`.
    fn single(dims: &[usize], q: QParams, softmax: bool) -> Self {
        Self { name: "output".into(), dims: dims.to_vec(), q, index: false, softmax, offset: 0 }
    }
}

impl IoQuant {
    /// The quantization of a model with one output.
    pub fn single(input: QParams, output: QParams, softmax: bool) -> Self {
        Self {
            input: InputQuant::Single(input),
            output: OutputQuant::Single { q: output, softmax },
        }
    }

    /// The inputs of an input tensor of dimensions `input_dims`: the one part of a single
    /// input (named `input`, at offset 0), or the part table.
    pub fn input_parts(&self, input_dims: &[usize]) -> Vec<InputPart> {
        match &self.input {
            InputQuant::Single(q) => {
                vec![InputPart {
                    name: "input".into(),
                    dims: input_dims.to_vec(),
                    q: *q,
                    offset: 0,
                }]
            }
            InputQuant::Parts(parts) => parts.clone(),
            InputQuant::Embedding(e) if e.masks.is_empty() => {
                vec![InputPart {
                    name: e.name.clone(),
                    dims: input_dims.to_vec(),
                    q: e.q,
                    offset: 0,
                }]
            }
            InputQuant::Embedding(e) => {
                // the source inputs in graph order, at their offsets among the values
                // [`Embedding::rows`] takes
                let mut parts: Vec<InputPart> = e
                    .masks
                    .iter()
                    .map(|m| InputPart {
                        name: m.name.clone(),
                        dims: m.dims.clone(),
                        q: QParams::IDENTITY,
                        offset: 0,
                    })
                    .collect();
                let ids =
                    InputPart { name: e.name.clone(), dims: e.ids_dims.clone(), q: e.q, offset: 0 };
                parts.insert(e.ids_at.min(parts.len()), ids);
                let mut offset = 0;
                for p in &mut parts {
                    p.offset = offset;
                    offset += p.len();
                }
                parts
            }
        }
    }

    /// The embedding of a model whose input is token ids.
    pub fn embedding(&self) -> Option<&Embedding> {
        match &self.input {
            InputQuant::Embedding(e) => Some(e),
            _ => None,
        }
    }

    /// The input parameters of a model with one input; the first input's with several.
    pub fn first_input(&self) -> QParams {
        match &self.input {
            InputQuant::Single(q) => *q,
            InputQuant::Parts(parts) => parts.first().map_or(QParams::IDENTITY, |p| p.q),
            InputQuant::Embedding(e) => e.q,
        }
    }

    /// The parts of an output of dimensions `output_dims`: the one part of a single output
    /// (named `output`), or the part table.
    pub fn parts(&self, output_dims: &[usize]) -> Vec<OutputPart> {
        match &self.output {
            OutputQuant::Single { q, softmax } => {
                vec![OutputPart::single(output_dims, *q, *softmax)]
            }
            OutputQuant::Parts(parts) => parts.clone(),
        }
    }

    /// Whether a softmax is applied (to any part) outside the proof.
    pub fn softmax(&self) -> bool {
        match &self.output {
            OutputQuant::Single { softmax, .. } => *softmax,
            OutputQuant::Parts(parts) => parts.iter().any(|p| p.softmax),
        }
    }

    /// The output parameters of a model with one output; `None` with several.
    pub fn single_output(&self) -> Option<QParams> {
        match &self.output {
            OutputQuant::Single { q, .. } => Some(*q),
            OutputQuant::Parts(_) => None,
        }
    }

    /// Checks the parameters, that the input parts tile an input of `input_dims` and the
    /// output parts an output of `output_dims` exactly.
    ///
    /// # Errors
    /// [`ModelError::Parameter`] naming the field: a scale that is not finite and positive, a
    /// zero point outside int8, fewer than 2 or more than [`MAX_OUTPUT_PARTS`] parts (or
    /// [`MAX_INPUT_PARTS`]), an empty, too long or repeated name, an index part with other
    /// parameters than (1, 0) or a softmax, an offset that does not follow the part before, or
    /// parts whose sizes do not add up to the tensor's (which must be 1-D).
    pub fn check(&self, input_dims: &[usize], output_dims: &[usize]) -> Result<(), ModelError> {
        let bad = |what: String| Err(ModelError::Parameter(what));
        match &self.input {
            InputQuant::Single(q) if !valid(*q) => {
                return bad(format!("input quantization {q:?}"));
            }
            InputQuant::Single(_) => {}
            InputQuant::Parts(parts) => check_inputs(parts, input_dims)?,
            InputQuant::Embedding(e) => {
                let entries = e.vocab.checked_mul(e.width);
                let source = e.ids_dims.iter().chain(e.masks.iter().flat_map(|m| &m.dims));
                let names: HashSet<&str> =
                    e.masks.iter().map(|m| m.name.as_str()).chain([e.name.as_str()]).collect();
                if !valid(e.q)
                    || e.input_dims() != input_dims
                    || checked_entries(&source.copied().collect::<Vec<_>>()).is_err()
                    || e.masks.len() > MAX_INPUT_PARTS
                    || e.ids_at > e.masks.len()
                    || e.masks.iter().filter_map(|m| m.table.as_ref()).any(|t| {
                        !valid(t.q)
                            || t.vocab == 0
                            || t.width == 0
                            || t.vocab.checked_mul(t.width) != Some(t.table.len())
                            || t.table.len() > MAX_EMBEDDING_ENTRIES
                    })
                    || names.len() != e.masks.len() + 1
                    || e.vocab == 0
                    || entries != Some(e.table.len())
                    || e.table.len() > MAX_EMBEDDING_ENTRIES
                {
                    return bad(format!(
                        "an embedding of {} × {} ({} entries, {:?}) for ids {:?} and an input {input_dims:?}",
                        e.vocab,
                        e.width,
                        e.table.len(),
                        e.q,
                        e.ids_dims
                    ));
                }
            }
        }
        let parts = match &self.output {
            OutputQuant::Single { q, .. } if valid(*q) => return Ok(()),
            OutputQuant::Single { q, .. } => return bad(format!("output quantization {q:?}")),
            OutputQuant::Parts(parts) => parts,
        };
        if !(2..=MAX_OUTPUT_PARTS).contains(&parts.len()) {
            return bad(format!(
                "{} output parts (a table has 2 to {MAX_OUTPUT_PARTS})",
                parts.len()
            ));
        }
        let total = checked_entries(output_dims)?;
        if output_dims.len() != 1 {
            return bad(format!("output parts of a {output_dims:?} output (they tile a 1-D one)"));
        }
        let mut next = 0usize;
        for (k, p) in parts.iter().enumerate() {
            check_part(k, p, next)?;
            if parts.iter().take(k).any(|o| o.name == p.name) {
                return bad(format!("output part {k}: the name {:?} is repeated", p.name));
            }
            let len = checked_entries(&p.dims)?;
            next = next.checked_add(len).filter(|&n| n <= total).ok_or_else(|| {
                ModelError::Parameter(format!(
                    "output part {k} ({:?}) ends past the output's {total} entries",
                    p.name
                ))
            })?;
        }
        if next != total {
            return bad(format!("the output parts cover {next} of the output's {total} entries"));
        }
        Ok(())
    }
}

/// The input part table: 2 to [`MAX_INPUT_PARTS`] parts, each named (uniquely, within
/// [`MAX_OUTPUT_NAME`] bytes), with valid parameters and non-empty dimensions, tiling the 1-D
/// input of `input_dims` contiguously from 0.
fn check_inputs(parts: &[InputPart], input_dims: &[usize]) -> Result<(), ModelError> {
    let bad = |what: String| Err(ModelError::Parameter(what));
    if !(2..=MAX_INPUT_PARTS).contains(&parts.len()) {
        return bad(format!("{} input parts (a table has 2 to {MAX_INPUT_PARTS})", parts.len()));
    }
    let total = checked_entries(input_dims)?;
    if input_dims.len() != 1 {
        return bad(format!("input parts of a {input_dims:?} input (they tile a 1-D one)"));
    }
    let mut next = 0usize;
    for (k, p) in parts.iter().enumerate() {
        let part = |what: String| Err(ModelError::Parameter(format!("input part {k}: {what}")));
        if p.name.is_empty() || p.name.len() > MAX_OUTPUT_NAME {
            return part(format!("a name of {} bytes (1 to {MAX_OUTPUT_NAME})", p.name.len()));
        }
        if parts.iter().take(k).any(|o| o.name == p.name) {
            return part(format!("the name {:?} is repeated", p.name));
        }
        if !valid(p.q) {
            return part(format!("quantization {:?}", p.q));
        }
        let len = checked_entries(&p.dims)?;
        if len == 0 {
            return part(format!("empty dimensions {:?}", p.dims));
        }
        if p.offset != next {
            return part(format!("offset {}, the part before ends at {next}", p.offset));
        }
        next = next.checked_add(len).filter(|&n| n <= total).ok_or_else(|| {
            ModelError::Parameter(format!(
                "input part {k} ({:?}) ends past the input's {total} entries",
                p.name
            ))
        })?;
    }
    if next != total {
        return bad(format!("the input parts cover {next} of the input's {total} entries"));
    }
    Ok(())
}

/// A scale finite and positive, a zero point in int8.
fn valid(q: QParams) -> bool {
    q.scale.is_finite() && q.scale > 0.0 && (-128..=127).contains(&q.zero)
}

/// One part on its own: name, parameters, and its offset `next` (where the part before ends).
fn check_part(k: usize, p: &OutputPart, next: usize) -> Result<(), ModelError> {
    let bad = |what: String| Err(ModelError::Parameter(format!("output part {k}: {what}")));
    if p.name.is_empty() || p.name.len() > MAX_OUTPUT_NAME {
        return bad(format!("a name of {} bytes (1 to {MAX_OUTPUT_NAME})", p.name.len()));
    }
    if !valid(p.q) {
        return bad(format!("quantization {:?}", p.q));
    }
    if p.index && (p.q != QParams { scale: 1.0, zero: 0 } || p.softmax) {
        return bad("an index part with a scale, a zero point or a softmax".into());
    }
    if checked_entries(&p.dims)? == 0 {
        return bad(format!("empty dimensions {:?}", p.dims));
    }
    if p.offset != next {
        return bad(format!("offset {}, the part before ends at {next}", p.offset));
    }
    Ok(())
}

fn write_q<S: Sink>(w: &mut ByteWriter<S>, q: QParams) {
    w.u64(q.scale.to_bits());
    w.i64(q.zero as i64);
}

/// Encodes the io field (see the module documentation).
pub(crate) fn encode_io<S: Sink>(w: &mut ByteWriter<S>, io: Option<&IoQuant>) {
    let Some(io) = io else { return w.u8(0) };
    match &io.input {
        // flags 1 and 2: the output flag, then the input parameters, then the output
        InputQuant::Single(input) => encode_output(w, &io.output, Some(*input)),
        InputQuant::Parts(parts) => {
            w.u8(3);
            w.usize(parts.len());
            for p in parts {
                w.bytes(p.name.as_bytes());
                w.usizes(&p.dims);
                write_q(w, p.q);
                w.usize(p.offset);
            }
            encode_output(w, &io.output, None);
        }
        InputQuant::Embedding(e) => {
            let tables = e.masks.iter().any(|m| m.table.is_some());
            w.u8(match (e.masks.is_empty(), tables) {
                (true, _) => 4,
                (false, false) => 5,
                (false, true) => 6,
            });
            w.bytes(e.name.as_bytes());
            w.usizes(&e.ids_dims);
            w.usize(e.vocab);
            w.usize(e.width);
            write_q(w, e.q);
            w.i8s(&e.table);
            if !e.masks.is_empty() {
                w.usize(e.masks.len());
                for m in &e.masks {
                    if tables {
                        w.u8(u8::from(m.table.is_some()));
                    }
                    w.bytes(m.name.as_bytes());
                    w.usizes(&m.dims);
                    if let Some(t) = &m.table {
                        w.usize(t.vocab);
                        w.usize(t.width);
                        write_q(w, t.q);
                        w.i8s(&t.table);
                    }
                }
                w.usize(e.ids_at);
            }
            encode_output(w, &io.output, None);
        }
    }
}

/// The output's flag (1 or 2), the input parameters of a single input, and the output.
fn encode_output<S: Sink>(w: &mut ByteWriter<S>, output: &OutputQuant, input: Option<QParams>) {
    match output {
        OutputQuant::Single { q, softmax } => {
            w.u8(1);
            if let Some(input) = input {
                write_q(w, input);
            }
            write_q(w, *q);
            w.u8(*softmax as u8);
        }
        OutputQuant::Parts(parts) => {
            w.u8(2);
            if let Some(input) = input {
                write_q(w, input);
            }
            w.usize(parts.len());
            for p in parts {
                w.bytes(p.name.as_bytes());
                w.usizes(&p.dims);
                write_q(w, p.q);
                w.u8(p.index as u8);
                w.u8(p.softmax as u8);
                w.usize(p.offset);
            }
        }
    }
}

/// Decodes the io field. The parts are read with bounded counts and checked arithmetic; their
/// tiling of the output is checked by [`IoQuant::check`] when the model takes them.
///
/// # Errors
/// A malformed field, naming the byte offset and what was expected there.
pub(crate) fn decode_io(r: &mut ByteReader<'_>) -> Result<Option<IoQuant>, ModelError> {
    Ok(match r.u8()? {
        0 => None,
        1 => {
            // a zero point outside int8 is refused by `check` (the clamp keeps it so)
            let input = read_q(r, false)?;
            let output = read_single_output(r, false)?;
            Some(IoQuant { input: InputQuant::Single(input), output })
        }
        2 => {
            let input = read_q(r, true)?;
            let output = read_output_parts(r)?;
            Some(IoQuant { input: InputQuant::Single(input), output })
        }
        3 => {
            let at = r.offset();
            let count = r.count(MIN_INPUT_PART_BYTES)?;
            if count > MAX_INPUT_PARTS {
                return Err(error_at(at, &format!("at most {MAX_INPUT_PARTS} input parts")));
            }
            let parts = (0..count).map(|_| read_input_part(r)).collect::<Result<_, _>>()?;
            let output = read_outputs(r)?;
            Some(IoQuant { input: InputQuant::Parts(parts), output })
        }
        flag @ (4..=6) => {
            let (name, ids_dims) = read_name_dims(r, "input")?;
            let (vocab, width) = (r.usize()?, r.usize()?);
            let q = read_q(r, true)?;
            let at = r.offset();
            let table = r.i8s()?;
            if table.len() > MAX_EMBEDDING_ENTRIES || Some(table.len()) != vocab.checked_mul(width)
            {
                return Err(error_at(at, "an embedding table of vocab × width entries"));
            }
            let (mut masks, mut ids_at) = (Vec::new(), 0);
            if flag >= 5 {
                let at = r.offset();
                let count = r.count(MIN_MASK_BYTES)?;
                if count == 0 || count > MAX_INPUT_PARTS {
                    return Err(error_at(at, &format!("1 to {MAX_INPUT_PARTS} masks")));
                }
                for _ in 0..count {
                    let kind =
                        if flag == 6 { read_flag(r, "a side input kind 0 or 1")? } else { false };
                    let (name, dims) = read_name_dims(r, "input")?;
                    let table = if kind {
                        let (vocab, width) = (r.usize()?, r.usize()?);
                        let q = read_q(r, true)?;
                        let at = r.offset();
                        let table = r.i8s()?;
                        if table.len() > MAX_EMBEDDING_ENTRIES
                            || Some(table.len()) != vocab.checked_mul(width)
                        {
                            return Err(error_at(at, "a side table of vocab × width entries"));
                        }
                        Some(IdsTable { vocab, width, q, table })
                    } else {
                        None
                    };
                    masks.push(MaskInput { name, dims, table });
                }
                ids_at = r.usize()?;
            }
            let output = read_outputs(r)?;
            let e = Embedding { name, ids_dims, vocab, width, q, table, masks, ids_at };
            Some(IoQuant { input: InputQuant::Embedding(e), output })
        }
        _ => return Err(r.error("an input/output quantization flag 0 to 6").into()),
    })
}

/// The output field after an input table (flags 3 and 4): its own flag 1 or 2, then the strict
/// output parameters or the part table.
fn read_outputs(r: &mut ByteReader<'_>) -> Result<OutputQuant, ModelError> {
    match r.u8()? {
        1 => read_single_output(r, true),
        2 => read_output_parts(r),
        _ => {
            let at = r.offset().saturating_sub(1);
            Err(error_at(at, "an output quantization flag 1 or 2"))
        }
    }
}

/// The output parameters and softmax flag of a single output.
fn read_single_output(r: &mut ByteReader<'_>, strict: bool) -> Result<OutputQuant, ModelError> {
    let q = read_q(r, strict)?;
    let softmax = read_flag(r, "a softmax flag 0 or 1")?;
    Ok(OutputQuant::Single { q, softmax })
}

/// The output part table (a bounded count, then the parts).
fn read_output_parts(r: &mut ByteReader<'_>) -> Result<OutputQuant, ModelError> {
    let at = r.offset();
    let count = r.count(MIN_PART_BYTES)?;
    if count > MAX_OUTPUT_PARTS {
        return Err(error_at(at, &format!("at most {MAX_OUTPUT_PARTS} output parts")));
    }
    let parts = (0..count).map(|_| read_part(r)).collect::<Result<_, _>>()?;
    Ok(OutputQuant::Parts(parts))
}

fn read_input_part(r: &mut ByteReader<'_>) -> Result<InputPart, ModelError> {
    let (name, dims) = read_name_dims(r, "input")?;
    let q = read_q(r, true)?;
    let offset = r.usize()?;
    Ok(InputPart { name, dims, q, offset })
}

/// A part's name (bounded, UTF-8) and dimensions (within the entry bounds).
fn read_name_dims(r: &mut ByteReader<'_>, what: &str) -> Result<(String, Vec<usize>), ModelError> {
    let at = r.offset();
    let name = r.bytes()?;
    if name.len() > MAX_OUTPUT_NAME {
        return Err(error_at(at, &format!("an {what} name of at most {MAX_OUTPUT_NAME} bytes")));
    }
    let name = String::from_utf8(name.to_vec())
        .map_err(|_| error_at(at, &format!("a UTF-8 {what} name")))?;
    let at = r.offset();
    let dims = r.usizes()?;
    checked_entries(&dims).map_err(|_| {
        error_at(at, &format!("{what} dimensions of at most 2^28 entries and 16 axes"))
    })?;
    Ok((name, dims))
}

fn error_at(offset: usize, what: &str) -> ModelError {
    crate::codec::CodecError { offset, what: what.into() }.into()
}

/// A scale and a zero point. `strict`: a zero point outside int8 is an error here (the part
/// table's); else it is clamped to ±2^20, which `check` refuses (the single form's, as before).
fn read_q(r: &mut ByteReader<'_>, strict: bool) -> Result<QParams, ModelError> {
    let scale = f64::from_bits(r.u64()?);
    let at = r.offset();
    let zero = r.i64()?;
    if strict && !(-128..=127).contains(&zero) {
        return Err(error_at(at, "a zero point in [-128, 127]"));
    }
    Ok(QParams { scale, zero: zero.clamp(-1 << 20, 1 << 20) as i32 })
}

fn read_flag(r: &mut ByteReader<'_>, what: &str) -> Result<bool, ModelError> {
    match r.u8()? {
        0 => Ok(false),
        1 => Ok(true),
        _ => Err(error_at(r.offset().saturating_sub(1), what)),
    }
}

fn read_part(r: &mut ByteReader<'_>) -> Result<OutputPart, ModelError> {
    let (name, dims) = read_name_dims(r, "output")?;
    let q = read_q(r, true)?;
    let index = read_flag(r, "an index flag 0 or 1")?;
    let softmax = read_flag(r, "a softmax flag 0 or 1")?;
    let offset = r.usize()?;
    Ok(OutputPart { name, dims, q, index, softmax, offset })
}

#[cfg(test)]
#[path = "io_tests.rs"]
mod tests;
