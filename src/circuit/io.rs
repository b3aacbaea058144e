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

/// The most entries of an embedding table (a bound for decoding hostile files).
pub const MAX_EMBEDDING_ENTRIES: usize = 1 << 28;

/// Token ids and the int8 embedding table that turns them into the circuit's input.
#[derive(Clone, Debug, PartialEq)]
pub struct Embedding {
    /// The ONNX input's name.
    pub name: String,
    /// The ids' dimensions (the input tensor is these with the width appended).
    pub ids_dims: Vec<usize>,
    pub vocab: usize,
    pub width: usize,
    /// The rows' quantization (real = (q − z)·s).
    pub q: QParams,
    /// [vocab, width], row-major.
    pub table: Vec<i8>,
    /// 0/1 inputs beside the ids (attention masks), in graph order; empty: the ids alone.
    pub masks: Vec<MaskInput>,
    /// The ids' place among the model's inputs in graph order (0 to the masks' count).
    pub ids_at: usize,
}

/// An input beside the token ids: a 0/1 attention mask, or (with a table) more ids whose rows
/// of that table enter the circuit's input (token type ids): its name and dimensions.
#[derive(Clone, Debug, PartialEq)]
pub struct MaskInput {
    pub name: String,
    pub dims: Vec<usize>,
    /// The table of a side input of ids; `None`: a 0/1 mask.
    pub table: Option<IdsTable>,
}

/// An int8 embedding table [vocab, width] and its quantization.
#[derive(Clone, Debug, PartialEq)]
pub struct IdsTable {
    pub vocab: usize,
    pub width: usize,
    pub q: QParams,
    pub table: Vec<i8>,
}

impl MaskInput {
    /// Its values' count.
    pub fn len(&self) -> usize {
        self.dims.iter().product()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Its entries in the circuit's input: its values, or its ids' rows.
    pub fn entries(&self) -> usize {
        self.len().saturating_mul(self.table.as_ref().map_or(1, |t| t.width))
    }
}

/// The rows of `table` for `ids`, refusing an id outside it (named after input `name`).
fn table_rows(t: &IdsTable, ids: &[f64], name: &str, out: &mut Vec<i64>) -> Result<(), ModelError> {
    for (i, &id) in ids.iter().enumerate() {
        let ok = id.fract() == 0.0 && id >= 0.0 && id < t.vocab as f64;
        let row = ok
            .then(|| t.table.get(id as usize * t.width..(id as usize + 1) * t.width))
            .flatten()
            .ok_or_else(|| {
                ModelError::Parameter(format!(
                    "token id {id} of {name:?} at index {i} is not in the vocabulary [0, {})",
                    t.vocab
                ))
            })?;
        out.extend(row.iter().map(|&v| i64::from(v)));
    }
    Ok(())
}

impl Embedding {
    /// The circuit's input dimensions: [ids dims…, width], or with masks 1-D [ids·width +
    /// Σ mask entries + 2].
    pub fn input_dims(&self) -> Vec<usize> {
        if self.masks.is_empty() {
            let mut dims = self.ids_dims.clone();
            dims.push(self.width);
            return dims;
        }
        let masks: usize = self.masks.iter().map(MaskInput::entries).sum();
        vec![self.rows_len().saturating_add(masks).saturating_add(2)]
    }

    /// The entries of the rows in the input tensor (its first ones).
    pub fn rows_len(&self) -> usize {
        self.ids_dims.iter().product::<usize>().saturating_mul(self.width)
    }

    /// Where mask `k`'s first value sits in the input tensor (with masks).
    pub fn mask_offset(&self, k: usize) -> usize {
        self.rows_len() + self.masks.iter().take(k).map(MaskInput::entries).sum::<usize>()
    }

    /// The input tensor's entries that hold the constants 0 and 1 (with masks: its last two).
    pub fn constant_slots(&self) -> (usize, usize) {
        let end = self.mask_offset(self.masks.len());
        (end, end + 1)
    }

    /// The ids' and the masks' count of values.
    pub fn source_len(&self) -> usize {
        self.ids_dims.iter().product::<usize>()
            + self.masks.iter().map(MaskInput::len).sum::<usize>()
    }

    /// The input tensor's entries for the model's inputs, `values` holding the ids and the
    /// masks concatenated in graph order (the ids at [`Embedding::ids_at`]): each id's table row
    /// (row-major), then with masks their values (graph order) and 0, 1.
    ///
    /// # Errors
    /// [`ModelError::Parameter`] naming the first id that is not an integer in [0, vocab), or
    /// the first mask value other than 0 and 1; a count other than the ids' and masks'
    /// dimensions give.
    pub fn rows(&self, values: &[f64]) -> Result<Vec<i64>, ModelError> {
        let want: usize = self.ids_dims.iter().product();
        if values.len() != self.source_len() {
            let masks: Vec<String> =
                self.masks.iter().map(|m| format!(" and {:?} of {:?}", m.name, m.dims)).collect();
            return Err(ModelError::Shape(format!(
                "{} values for the token ids {:?} of dimensions {:?}{}",
                values.len(),
                self.name,
                self.ids_dims,
                masks.concat()
            )));
        }
        let before: usize = self.masks.iter().take(self.ids_at).map(MaskInput::len).sum();
        let (head, tail) = values.split_at(before);
        let (ids, tail) = tail.split_at(want);
        let masks = [head, tail].concat();
        let mut rest = &masks[..];
        let mut out = Vec::with_capacity(want * self.width);
        let main = IdsTable { vocab: self.vocab, width: self.width, q: self.q, table: Vec::new() };
        for (i, &id) in ids.iter().enumerate() {
            let ok = id.fract() == 0.0 && id >= 0.0 && id < self.vocab as f64;
            let row = ok
                .then(|| self.table.get(id as usize * self.width..(id as usize + 1) * self.width))
                .flatten()
                .ok_or_else(|| {
                    ModelError::Parameter(format!(
                        "token id {id} at index {i} is not in the vocabulary [0, {})",
                        main.vocab
                    ))
                })?;
            out.extend(row.iter().map(|&v| i64::from(v)));
        }
        for m in &self.masks {
            let (values, tail) = rest.split_at(m.len().min(rest.len()));
            rest = tail;
            if let Some(t) = &m.table {
                table_rows(t, values, &m.name, &mut out)?;
                continue;
            }
            if let Some((i, v)) = values.iter().enumerate().find(|(_, &v)| v != 0.0 && v != 1.0) {
                return Err(ModelError::Parameter(format!(
                    "the mask {:?} holds {v} at index {i} (0 or 1 only)",
                    m.name
                )));
            }
            out.extend(values.iter().map(|&v| v as i64));
        }
        if !self.masks.is_empty() {
            out.extend([0, 1]);
        }
        Ok(out)
    }
}

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
mod tests {
    use super::*;

    fn embedding() -> Embedding {
        Embedding {
            name: "input_ids".into(),
            ids_dims: vec![1, 3],
            vocab: 4,
            width: 2,
            q: QParams { scale: 0.01, zero: -3 },
            table: vec![1, 2, 3, 4, 5, 6, 7, 8],
            masks: Vec::new(),
            ids_at: 0,
        }
    }

    fn io() -> IoQuant {
        IoQuant {
            input: InputQuant::Embedding(embedding()),
            output: OutputQuant::Single { q: QParams { scale: 0.5, zero: 1 }, softmax: false },
        }
    }

    fn encode(io: &IoQuant) -> Vec<u8> {
        let mut w = ByteWriter(Vec::new());
        encode_io(&mut w, Some(io));
        w.0
    }

    #[test]
    fn an_embedding_round_trips_and_selects_rows() {
        let bytes = encode(&io());
        let mut r = ByteReader::new(&bytes);
        assert_eq!(decode_io(&mut r).unwrap(), Some(io()));
        r.finish().unwrap();
        io().check(&[1, 3, 2], &[5]).unwrap();
        assert!(io().check(&[1, 3, 3], &[5]).is_err(), "the width");
        assert!(io().check(&[3, 2], &[5]).is_err(), "the ids' dimensions");
        let e = embedding();
        assert_eq!(e.rows(&[3.0, 0.0, 1.0]).unwrap(), vec![7, 8, 1, 2, 3, 4]);
        for (bad, what) in [(4.0, "4"), (-1.0, "-1"), (1.5, "1.5"), (f64::NAN, "NaN")] {
            let err = e.rows(&[0.0, bad, 1.0]).unwrap_err().to_string();
            assert!(err.contains(what) && err.contains("index 1"), "{err}");
        }
        assert!(e.rows(&[0.0, 1.0]).is_err(), "a count other than the ids' dimensions");
        let mut short = io();
        if let InputQuant::Embedding(e) = &mut short.input {
            e.table.pop();
        }
        assert!(short.check(&[1, 3, 2], &[5]).is_err(), "a table of another size");
    }

    /// Ids with two masks (flag 5): a 1-D input of rows ‖ masks ‖ 0, 1, the masks' values
    /// checked to be 0 or 1; the field round trips, and truncations and a zero or huge mask
    /// count are errors.
    #[test]
    fn masks_beside_the_ids_round_trip_and_are_checked() {
        let mut e = embedding();
        e.masks = vec![
            MaskInput { name: "attention_mask".into(), dims: vec![1, 3], table: None },
            MaskInput { name: "other".into(), dims: vec![2], table: None },
        ];
        let io = IoQuant { input: InputQuant::Embedding(e.clone()), ..io() };
        let bytes = encode(&io);
        assert_eq!(bytes[0], 5);
        let mut r = ByteReader::new(&bytes);
        assert_eq!(decode_io(&mut r).unwrap(), Some(io.clone()));
        r.finish().unwrap();
        assert_eq!(e.input_dims(), vec![6 + 3 + 2 + 2]);
        assert_eq!((e.mask_offset(0), e.mask_offset(1), e.constant_slots()), (6, 9, (11, 12)));
        io.check(&[13], &[5]).unwrap();
        assert!(io.check(&[1, 3, 2], &[5]).is_err(), "the input is 1-D with masks");
        let values = [3.0, 0.0, 1.0, 1.0, 1.0, 0.0, 0.0, 1.0];
        assert_eq!(e.rows(&values).unwrap(), vec![7, 8, 1, 2, 3, 4, 1, 1, 0, 0, 1, 0, 1]);
        let mut bad = values;
        bad[6] = 2.0;
        let err = e.rows(&bad).unwrap_err().to_string();
        assert!(err.contains("\"other\" holds 2 at index 0"), "{err}");
        let err = e.rows(&values[..7]).unwrap_err().to_string();
        assert!(err.contains("attention_mask"), "{err}");
        // the ids after the first mask: the same entries from the values in that order
        let mut later = e.clone();
        later.ids_at = 1;
        let order = [1.0, 1.0, 0.0, 3.0, 0.0, 1.0, 0.0, 1.0];
        assert_eq!(later.rows(&order).unwrap(), e.rows(&values).unwrap());
        later.ids_at = 3;
        let io3 = IoQuant { input: InputQuant::Embedding(later), ..io.clone() };
        assert!(io3.check(&[13], &[5]).is_err(), "the ids beyond the inputs");
        let mut twice = e.clone();
        twice.masks[1].name = "attention_mask".into();
        let io2 = IoQuant { input: InputQuant::Embedding(twice), ..io.clone() };
        assert!(io2.check(&[13], &[5]).is_err(), "a repeated name");
        for cut in 0..bytes.len() {
            let mut r = ByteReader::new(&bytes[..cut]);
            assert!(decode_io(&mut r).is_err(), "cut {cut}");
        }
        // the mask count sits after the flag, the name, the ids' dimensions, vocab, width, q
        // and the table
        let at = 1 + (8 + 9) + (8 + 2 * 8) + 8 + 8 + 16 + (8 + 8);
        assert_eq!(bytes[at..at + 8], 2u64.to_le_bytes());
        for count in [0u64, u64::MAX] {
            let mut bad = bytes.clone();
            bad[at..at + 8].copy_from_slice(&count.to_le_bytes());
            assert!(decode_io(&mut ByteReader::new(&bad)).is_err(), "count {count}");
        }
    }

    /// A side input of ids with a table of its own (token type ids, flag 6): its rows enter the
    /// input after the main rows, an id outside its table is refused naming it, the field
    /// round trips and truncations are errors.
    #[test]
    fn side_ids_with_their_own_table_round_trip_and_select_rows() {
        let mut e = embedding();
        let tt = IdsTable {
            vocab: 2,
            width: 2,
            q: QParams { scale: 0.02, zero: 1 },
            table: vec![-1, -2, 9, 8],
        };
        e.masks = vec![
            MaskInput { name: "attention_mask".into(), dims: vec![1, 3], table: None },
            MaskInput { name: "token_type_ids".into(), dims: vec![1, 3], table: Some(tt) },
        ];
        let io = IoQuant { input: InputQuant::Embedding(e.clone()), ..io() };
        let bytes = encode(&io);
        assert_eq!(bytes[0], 6);
        let mut r = ByteReader::new(&bytes);
        assert_eq!(decode_io(&mut r).unwrap(), Some(io.clone()));
        r.finish().unwrap();
        assert_eq!(e.input_dims(), vec![6 + 3 + 6 + 2]);
        assert_eq!((e.mask_offset(1), e.constant_slots()), (9, (15, 16)));
        io.check(&[17], &[5]).unwrap();
        let values = [3.0, 0.0, 1.0, 1.0, 1.0, 0.0, 0.0, 1.0, 1.0];
        let want = vec![7, 8, 1, 2, 3, 4, 1, 1, 0, -1, -2, 9, 8, 9, 8, 0, 1];
        assert_eq!(e.rows(&values).unwrap(), want);
        let mut bad = values;
        bad[7] = 2.0;
        let err = e.rows(&bad).unwrap_err().to_string();
        assert!(err.contains("token_type_ids") && err.contains("index 1"), "{err}");
        for cut in 0..bytes.len() {
            assert!(decode_io(&mut ByteReader::new(&bytes[..cut])).is_err(), "cut {cut}");
        }
    }

    #[test]
    fn hostile_embedding_fields_are_errors() {
        let bytes = encode(&io());
        // every truncation is an error, never a panic
        for cut in 0..bytes.len() {
            let mut r = ByteReader::new(&bytes[..cut]);
            assert!(decode_io(&mut r).is_err(), "cut {cut}");
        }
        let mut bad = bytes.clone();
        // the vocabulary field sits after the flag, the name and the ids' dimensions
        let vocab_at = 1 + (8 + "input_ids".len()) + (8 + 2 * 8);
        bad[vocab_at..vocab_at + 8].copy_from_slice(&5u64.to_le_bytes());
        let mut r = ByteReader::new(&bad);
        assert!(decode_io(&mut r).is_err(), "vocab × width ≠ the table's entries");
        bad[vocab_at..vocab_at + 8].copy_from_slice(&u64::MAX.to_le_bytes());
        let mut r = ByteReader::new(&bad);
        assert!(decode_io(&mut r).is_err(), "an overflowing vocabulary");
    }
}
