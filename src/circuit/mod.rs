//! Quantized networks as circuits: tensors, layers, the integer reference and a mock prover.
//!
//! A model is a list of layers; tensor 0 is the model input and tensor i + 1 the output of layer
//! i. Every layer says how the GKR driver (`crate::gkr`) proves it, through the narrow [`Layer`]
//! trait and its roles:
//! * its output is **committed** (sent as advice and opened where claims land) or **virtual**
//!   (a claim on it is reduced to claims on its inputs by its [`Reduction`], e.g. a matrix
//!   product through the matmul protocol, returned as [`ClaimTarget`]s);
//! * committed advice columns (quotients, limbs, bits, …) on the output layout ([`Constraints`]);
//! * elementwise relations ([`Poly`] over columns, inputs and public coefficient tables) that must
//!   vanish on every valid slot, proved by one eq-weighted sumcheck per layer;
//! * 16-bit range checks (homogeneous [`Lin`]s of columns) and at most one 256-entry table lookup
//!   (x, f(x)) tagged with the layer, both batched into one LogUp per proof.
//!
//! A new layer kind is a new file implementing [`Layer`] (and the roles it has) and
//! [`OpRecord`] for its canonical record, plus one line in [`OPS`]; neither the driver nor the
//! encoding changes (`mul.rs` and `reduce.rs` were added so; the built-in layers' records are
//! registered the same way). [`Model::forward`] is the integer
//! reference: the prover's witness is its output, bit
//! for bit. [`Model::check`] validates a witness against every relation without cryptography.
#![allow(
    clippy::indexing_slicing,
    reason = "verifier-reachable, not yet audited (issue 17): indices follow layouts that Model::new and the decoders bound; to be replaced by checked access"
)]

pub mod activation;
pub mod along;
pub mod argmax;
pub mod axisdot;
pub mod broadcast;
pub mod concat;
pub mod constant;
pub mod conv;
pub mod dense;
pub mod encode;
pub mod expr;
pub mod gate;
pub mod io;
pub mod layernorm;
pub mod layout;
pub mod matprod;
pub mod mul;
pub mod pool;
pub mod prefix;
mod ranges;
pub mod reduce;
pub mod requant;
pub mod softmax;
pub mod take;
pub mod threshold;
pub mod wiring;
pub mod zoo;

pub use activation::{ActivationLayer, ActivationSpec};
pub use concat::{Concat, ConcatSpec};
pub use conv::{Conv, ConvGeometry, ConvSpec};
pub use dense::{Dense, DenseSpec, DenseStrippedSpec};
pub use encode::{LayerSpec, OpEntry, OpRecord, OpRecordAny};
pub use expr::{Lin, Poly, Var};
pub use io::{InputPart, InputQuant, IoQuant, OutputPart, OutputQuant};
pub use layout::Layout;
pub use mul::{Mul, MulSpec};
pub use pool::{MaxPool, MaxPoolSpec};
pub use requant::{channel_of, Multiplier, Requant, RequantKind, RequantSpec, Scaled};
pub use threshold::{Threshold, ThresholdSpec};
pub use wiring::{Wiring, WiringSpec};

use crate::error::{ProveError, VerifyError};
use crate::field::{from_i64, to_u128, Fp};
use crate::sumcheck::EvalClaim;
use crate::transcript::{ProverTranscript, VerifierTranscript};
use thiserror::Error;

/// Every layer kind's canonical record ([`OpRecord`], in the layer's own file) by its tag in the
/// encoding: the built-in layers keep the tags they always had (0–9; 8 is a retired record,
/// refused), operators added later take the next free ones, 255 is a custom layer's
/// ([`LayerSpec::Custom`]). A tag is never reused. Adding an operator is its file, its `mod` line
/// above, and one line here.
pub static OPS: &[OpEntry] = &[
    dense::OP,
    conv::OP,
    requant::OP,
    threshold::OP,
    activation::OP,
    wiring::OP,
    pool::OP,
    concat::OP,
    dense::STORED_SUMS,
    dense::STRIPPED,
    mul::OP,
    reduce::OP,
    prefix::OP,
    broadcast::OP,
    axisdot::OP,
    argmax::SELECT,
    argmax::CHECK,
    argmax::INDEX,
    take::OP,
    take::FLAT,
    matprod::OP,
    softmax::EXP,
    softmax::DIV,
    layernorm::STATS,
    layernorm::APPLY,
    gate::OP,
    softmax::EXP_GATED,
    layernorm::RMS_STATS,
    layernorm::RMS_APPLY,
    constant::OP,
];

/// Index of a tensor: 0 is the model input, i + 1 the output of layer i.
pub type TensorId = usize;

/// Bits of a range-check limb; the range table has 2^16 entries.
pub const LIMB_BITS: u32 = 16;

/// An integer tensor (int8 activations, int32 accumulators, advice), row-major.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tensor {
    pub dims: Vec<usize>,
    pub data: Vec<i64>,
}

impl Tensor {
    /// # Errors
    /// Dimensions beyond [`checked_entries`], or data of another length.
    pub fn new(dims: Vec<usize>, data: Vec<i64>) -> Result<Self, ModelError> {
        let len = checked_entries(&dims)?;
        if len != data.len() {
            return Err(ModelError::Shape(format!(
                "a tensor of dimensions {dims:?} needs {len} entries, got {}",
                data.len()
            )));
        }
        Ok(Self { dims, data })
    }

    pub fn from_i8(dims: Vec<usize>, data: &[i8]) -> Result<Self, ModelError> {
        Self::new(dims, data.iter().map(|&v| v as i64).collect())
    }

    /// A uint8 tensor with zero point `zero` (0..=255) as the int8 tensor q − 128 with zero point
    /// zero − 128: (q − z)·s is unchanged, and every layer works on int8 only.
    pub fn from_u8(dims: Vec<usize>, data: &[u8], zero: i32) -> Result<(Self, i32), ModelError> {
        if !(0..=255).contains(&zero) {
            return Err(ModelError::Parameter(format!("uint8 zero point {zero}")));
        }
        Ok((Self::new(dims, data.iter().map(|&v| v as i64 - 128).collect())?, zero - 128))
    }

    pub fn layout(&self) -> Layout {
        Layout::new(&self.dims)
    }

    /// The entries as int8, if they all fit.
    pub fn to_i8(&self) -> Option<Vec<i8>> {
        self.data.iter().map(|&v| i8::try_from(v).ok()).collect()
    }

    /// The MLE of the tensor at `point` (padded layout).
    pub fn evaluate(&self, point: &[Fp]) -> Fp {
        crate::poly::evaluate_padded(&self.layout().pad_fp(&self.data), point)
    }
}

/// Errors in building or running a model.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ModelError {
    #[error("shape: {0}")]
    Shape(String),
    #[error("layer {layer} ({kind}): {reason}")]
    Layer { layer: usize, kind: &'static str, reason: String },
    #[error("invalid parameter: {0}")]
    Parameter(String),
    /// A lookup table above the shared table's rows ([`MAX_TABLE_ROWS`]), found before its rows
    /// are built (a builder falls back to a gadget without a table).
    #[error("a lookup table of at least {rows} rows, above the shared table's {max}")]
    TableRows { rows: usize, max: usize },
}

/// Entries of one tensor, and of all of a model's tensors together: a model cannot ask for
/// more memory than a real network needs (2^28 int64 entries are 2 GiB of witness).
pub const MAX_ENTRIES: usize = 1 << 28;
/// Axes of a tensor.
pub const MAX_RANK: usize = 16;
/// Variables of a tensor's padded layout (every axis padded on its own: 2^28 entries need at
/// most 36), far below the 64 a `usize` index holds.
pub const MAX_NUM_VARS: usize = 40;

/// The entries of a tensor of dimensions `dims`, in checked arithmetic.
///
/// # Errors
/// More than [`MAX_RANK`] axes, an axis or a product above [`MAX_ENTRIES`], or a padded layout
/// of more than [`MAX_NUM_VARS`] variables. An axis of length 0 gives 0 entries.
pub fn checked_entries(dims: &[usize]) -> Result<usize, ModelError> {
    let too_big = || {
        ModelError::Shape(format!(
            "dimensions {:?}{}: more than {MAX_RANK} axes, 2^28 entries or {MAX_NUM_VARS} \
             layout variables",
            &dims[..dims.len().min(MAX_RANK + 1)],
            if dims.len() > MAX_RANK + 1 { " …" } else { "" }
        ))
    };
    if dims.len() > MAX_RANK {
        return Err(too_big());
    }
    let (mut len, mut num_vars) = (1usize, 0usize);
    for &d in dims {
        if d > MAX_ENTRIES {
            return Err(too_big());
        }
        len = len.checked_mul(d).filter(|&l| l <= MAX_ENTRIES).ok_or_else(too_big)?;
        num_vars += crate::poly::num_vars_for(d);
    }
    if num_vars > MAX_NUM_VARS {
        return Err(too_big());
    }
    Ok(len)
}

impl From<crate::codec::CodecError> for ModelError {
    fn from(e: crate::codec::CodecError) -> Self {
        ModelError::Parameter(format!("malformed model at byte {}: expected {}", e.offset, e.what))
    }
}

/// What a layer computes and commits for one input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LayerWitness {
    pub output: Tensor,
    /// Advice columns on the output dimensions (without the output itself).
    pub advice: Vec<Vec<i64>>,
}

/// A table lookup of a layer: on every slot of the output layout the tuple `columns` must be a
/// row of `rows`. The proof folds each tuple with the layer's tag into one shared table, so a
/// layer's rows never satisfy another layer's lookup.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableLookup {
    /// The tuple each slot looks up (1 to [`MAX_TUPLE`] components).
    pub columns: Vec<Var>,
    /// The rows, each as wide as the tuple; padded slots look up row 0. Shared: a layer builds
    /// its rows once (a per-channel threshold table has hundreds of thousands).
    pub rows: std::sync::Arc<Vec<Vec<i64>>>,
}

/// Where a claim that [`Reduction::prove_output`] / [`Reduction::verify_output`] return lands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClaimTarget {
    /// The layer's input of this index (its tensor is `inputs()[index]`).
    Input(usize),
    /// The layer's own weight matrix, held by a model commitment (`gkr::weights`).
    Weights,
}

/// Widest looked-up tuple.
pub const MAX_TUPLE: usize = 4;
/// Rows of the shared table, over all layers: per-channel threshold tables of ImageNet-scale
/// networks (ResNet-50 has some 26 000 output channels, about 260 rows each) fit; a verifier's
/// cost for a hostile model stays bounded (a few hundred ms to build and evaluate the table).
pub const MAX_TABLE_ROWS: usize = 1 << 23;

/// One layer of a model: which tensors it reads, the dimensions it writes, its canonical record
/// and its integer reference. What the proof needs of it comes through three small roles, each
/// optional, so that a layer implements only what it has:
/// * [`Constraints`]: committed columns (its output first, then advice) and the relations,
///   range checks and table lookup that hold on them;
/// * [`Reduction`]: a virtual output, whose claims the layer reduces to claims on its inputs (or
///   its committed weights), returned as [`ClaimTarget`]s;
/// * [`WeightCommitment`]: a weight matrix a model commitment can hold.
///
/// A layer with a reduction has a virtual output; any other commits its output as column 0.
/// The driver reads the roles through the accessors on `dyn Layer` ([`Layer::relations`]-style
/// calls such as `layer.relations()`), which give the empty answer for a role a layer lacks.
pub trait Layer: std::fmt::Debug + Send + Sync {
    /// A short name ("dense", "requant", "sigmoid", …) used in errors and logs.
    fn kind(&self) -> &'static str;

    fn inputs(&self) -> &[TensorId];

    fn output_dims(&self) -> &[usize];

    /// The layer's construction parameters: what a compiled model stores (`circuit::encode`)
    /// and what the model digest hashes.
    fn spec(&self) -> LayerSpec;

    /// The integer reference for this layer.
    fn forward(&self, inputs: &[&Tensor]) -> Result<LayerWitness, ModelError>;

    fn constraints(&self) -> Option<&dyn Constraints> {
        None
    }

    fn reduction(&self) -> Option<&dyn Reduction> {
        None
    }

    fn weights(&self) -> Option<&dyn WeightCommitment> {
        None
    }
}

/// What holds on a layer's committed columns, slot by slot of its output layout.
pub trait Constraints {
    /// Names of the committed columns; column 0 is the output when it is committed.
    fn columns(&self) -> Vec<&'static str> {
        vec!["y"]
    }

    /// Relations that vanish on every valid slot of the output layout.
    fn relations(&self) -> Vec<Poly> {
        Vec::new()
    }

    /// The public coefficient tables named by `Var::Coef`, on the output dimensions.
    fn coefficients(&self) -> Vec<Vec<i64>> {
        Vec::new()
    }

    /// Combinations of columns, inputs (of the output's dimensions) and coefficients that must
    /// lie in [0, 2^range_bits) (the model's range table, [`Model::range_bits`]) on every valid
    /// slot; the constant counts on valid slots only, so padded slots hold 0.
    fn range_checks(&self) -> Vec<Lin> {
        Vec::new()
    }

    /// The bits the values of [`Constraints::range_checks`] may need (16-bit limbs by default).
    fn range_bits(&self) -> u32 {
        LIMB_BITS
    }

    /// The same layer with range checks that fit `bits` bits, if it can be rebuilt so (a
    /// threshold requantization with narrower pieces); `None` keeps the layer as it is.
    fn with_range_bits(&self, _bits: u32) -> Option<Box<dyn Layer>> {
        None
    }

    fn table_lookup(&self) -> Option<TableLookup> {
        None
    }
}

/// How a claim on a layer's virtual output becomes claims on its inputs (or its weights).
pub trait Reduction {
    /// Reduces a claim on the output to claims on inputs or on the layer's committed weights.
    fn prove_output(
        &self,
        claim: &EvalClaim,
        inputs: &[&Tensor],
        t: &mut dyn ProverTranscript,
    ) -> Result<Vec<(ClaimTarget, EvalClaim)>, ProveError>;

    /// The verifier's side of [`Reduction::prove_output`]; it checks claims on weights it holds.
    fn verify_output(
        &self,
        claim: &EvalClaim,
        t: &mut dyn VerifierTranscript,
    ) -> Result<Vec<(ClaimTarget, EvalClaim)>, VerifyError>;
}

/// A weight matrix that a model commitment can hold (dense layers).
pub trait WeightCommitment {
    /// The matrix's layout.
    fn weight_layout(&self) -> Layout;

    /// Its entries, row-major (`None` in a verifier's copy without them).
    fn weight_entries(&self) -> Option<&[i8]>;

    /// Whether claims on the weights go to a model commitment.
    fn committed(&self) -> bool;

    /// This layer with its weight claims returned as [`ClaimTarget::Weights`] claims (the
    /// prover's copy).
    fn commit_weights(&self) -> Box<dyn Layer>;

    /// The verifier's copy of [`WeightCommitment::commit_weights`], without the weights.
    ///
    /// # Errors
    /// A layer its constructor refuses without the weights.
    fn strip_weights(&self) -> Result<Box<dyn Layer>, ModelError>;
}

/// The roles of a layer as the driver reads them: the empty answer for a role it lacks.
impl<'a> dyn Layer + 'a {
    /// Whether the output is committed advice (else it is virtual).
    pub fn output_committed(&self) -> bool {
        self.reduction().is_none()
    }

    /// Names of the committed columns; column 0 is the output when it is committed.
    pub fn columns(&self) -> Vec<&'static str> {
        match self.constraints() {
            Some(c) => c.columns(),
            None if self.output_committed() => vec!["y"],
            None => Vec::new(),
        }
    }

    pub fn relations(&self) -> Vec<Poly> {
        self.constraints().map(Constraints::relations).unwrap_or_default()
    }

    pub fn coefficients(&self) -> Vec<Vec<i64>> {
        self.constraints().map(Constraints::coefficients).unwrap_or_default()
    }

    pub fn range_checks(&self) -> Vec<Lin> {
        self.constraints().map(Constraints::range_checks).unwrap_or_default()
    }

    pub fn range_bits(&self) -> u32 {
        self.constraints().map_or(LIMB_BITS, Constraints::range_bits)
    }

    pub fn with_range_bits(&self, bits: u32) -> Option<Box<dyn Layer>> {
        self.constraints().and_then(|c| c.with_range_bits(bits))
    }

    pub fn table_lookup(&self) -> Option<TableLookup> {
        self.constraints().and_then(Constraints::table_lookup)
    }

    pub fn weight_layout(&self) -> Option<Layout> {
        self.weights().map(WeightCommitment::weight_layout)
    }

    pub fn weight_entries(&self) -> Option<&[i8]> {
        self.weights().and_then(WeightCommitment::weight_entries)
    }

    pub fn weights_committed(&self) -> bool {
        self.weights().is_some_and(WeightCommitment::committed)
    }

    /// # Errors
    /// A committed output (no reduction), or the layer's own.
    pub fn prove_output(
        &self,
        claim: &EvalClaim,
        inputs: &[&Tensor],
        t: &mut dyn ProverTranscript,
    ) -> Result<Vec<(ClaimTarget, EvalClaim)>, ProveError> {
        match self.reduction() {
            Some(r) => r.prove_output(claim, inputs, t),
            None => Err(ProveError::InvalidShape {
                reason: format!("{}: the output is committed", self.kind()),
            }),
        }
    }

    /// # Errors
    /// A committed output (no reduction), or the layer's own.
    pub fn verify_output(
        &self,
        claim: &EvalClaim,
        t: &mut dyn VerifierTranscript,
    ) -> Result<Vec<(ClaimTarget, EvalClaim)>, VerifyError> {
        match self.reduction() {
            Some(r) => r.verify_output(claim, t),
            None => Err(VerifyError::InvalidStatement { reason: "claim on a committed output" }),
        }
    }
}

/// The real value of an int8 tensor: scale·(q − zero).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct QParams {
    pub scale: f64,
    pub zero: i32,
}

impl QParams {
    /// Scale 1, zero point 0: integers read as themselves.
    pub const IDENTITY: QParams = QParams { scale: 1.0, zero: 0 };

    /// ONNX QuantizeLinear to int8: clamp(round_half_even(x / scale) + zero, −128, 127).
    pub fn quantize(&self, x: f64) -> i64 {
        ((x / self.scale).round_ties_even() + self.zero as f64).clamp(-128.0, 127.0) as i64
    }

    pub fn dequantize(&self, q: i64) -> f64 {
        self.scale * (q - self.zero as i64) as f64
    }
}

/// A quantized model: an input shape and a list of layers.
#[derive(Debug)]
pub struct Model {
    pub name: String,
    pub input_dims: Vec<usize>,
    pub layers: Vec<Box<dyn Layer>>,
    io: Option<IoQuant>,
    /// The range table is [0, 2^range_bits) ([`Model::range_bits`]).
    range_bits: u32,
    digest: [u8; 32],
}

/// Every tensor and advice column of one inference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Witness {
    /// tensors[0] is the input, tensors[i + 1] the output of layer i.
    pub tensors: Vec<Tensor>,
    /// advice[i] are the advice columns of layer i (after its output, if committed).
    pub advice: Vec<Vec<Vec<i64>>>,
}

impl Witness {
    pub fn output(&self) -> &Tensor {
        self.tensors.last().unwrap_or(&self.tensors[0])
    }

    /// The committed columns of layer `i`: its output (if committed) then its advice.
    pub fn columns<'a>(&'a self, model: &Model, i: usize) -> Vec<&'a [i64]> {
        let mut cols: Vec<&[i64]> = Vec::new();
        if model.layers[i].output_committed() {
            cols.push(&self.tensors[i + 1].data);
        }
        cols.extend(self.advice[i].iter().map(Vec::as_slice));
        cols
    }
}

/// Where one failed check of [`Model::check`] is.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("layer {layer} ({kind}): {what} fails at entry {index}")]
pub struct CheckError {
    pub layer: usize,
    pub kind: &'static str,
    pub what: String,
    pub index: usize,
}

impl Model {
    /// Checks the wiring (inputs precede their layer, elementwise inputs match the output).
    pub fn new(
        name: impl Into<String>,
        input_dims: Vec<usize>,
        layers: Vec<Box<dyn Layer>>,
    ) -> Result<Self, ModelError> {
        let mut entries = checked_entries(&input_dims)?;
        if entries == 0 {
            return Err(ModelError::Shape(format!("empty input {input_dims:?}")));
        }
        let mut dims: Vec<Vec<usize>> = vec![input_dims.clone()];
        for (i, l) in layers.iter().enumerate() {
            let err = |reason: String| ModelError::Layer { layer: i, kind: l.kind(), reason };
            if let Some(&bad) = l.inputs().iter().find(|&&t| t > i) {
                return Err(err(format!("input tensor {bad} is not computed before this layer")));
            }
            // the dimensions each layer was built for are its inputs' (a decoded model could
            // claim others)
            for (t, want) in l.spec().declared_inputs() {
                if dims.get(t) != Some(&want) {
                    return Err(err(format!(
                        "built for an input tensor {t} of dimensions {want:?}, which has {:?}",
                        dims.get(t)
                    )));
                }
            }
            let relations = l.relations();
            let ranges: Vec<Var> =
                l.range_checks().iter().flat_map(|r| r.vars().collect::<Vec<_>>()).collect();
            let elementwise = relations
                .iter()
                .flat_map(Poly::vars)
                .chain(l.table_lookup().into_iter().flat_map(|t| t.columns))
                .chain(ranges);
            for v in elementwise {
                if let Var::In(j) = v {
                    let Some(&t) = l.inputs().get(j) else {
                        return Err(err(format!("relation names missing input {j}")));
                    };
                    if dims[t] != l.output_dims() {
                        return Err(err(format!(
                            "elementwise input {t} has dimensions {:?}, the output {:?}",
                            dims[t],
                            l.output_dims()
                        )));
                    }
                }
            }
            let len = checked_entries(l.output_dims()).map_err(|e| err(e.to_string()))?;
            if len == 0 {
                return Err(err("empty output".into()));
            }
            entries = entries.saturating_add(len);
            if entries > MAX_ENTRIES {
                return Err(err(format!(
                    "the model's tensors exceed {MAX_ENTRIES} entries in all"
                )));
            }
            dims.push(l.output_dims().to_vec());
        }
        let (layers, range_bits) = ranges::narrowest_ranges(layers);
        let mut rows = 0;
        for (i, l) in layers.iter().enumerate() {
            if let Some(t) = l.table_lookup() {
                let w = t.columns.len();
                if w == 0
                    || w > MAX_TUPLE
                    || t.rows.is_empty()
                    || t.rows.iter().any(|r| r.len() != w)
                {
                    return Err(ModelError::Layer {
                        layer: i,
                        kind: l.kind(),
                        reason: format!("a lookup of {w}-tuples needs rows of that width"),
                    });
                }
                rows += t.rows.len();
            }
        }
        if rows > MAX_TABLE_ROWS {
            return Err(ModelError::TableRows { rows, max: MAX_TABLE_ROWS });
        }
        let mut model =
            Self { name: name.into(), input_dims, layers, io: None, range_bits, digest: [0; 32] };
        model.digest = model.compute_digest();
        Ok(model)
    }

    /// The model with input and output quantization parameters (part of the digest).
    ///
    /// # Errors
    /// Parameters or an output part table that [`IoQuant::check`] refuses for this model's
    /// output.
    pub fn with_io(mut self, io: IoQuant) -> Result<Self, ModelError> {
        io.check(&self.input_dims, self.output_dims())?;
        self.io = Some(io);
        self.digest = self.compute_digest();
        Ok(self)
    }

    pub fn io(&self) -> Option<&IoQuant> {
        self.io.as_ref()
    }

    /// The model's outputs as slices of the proven tensor: the part table of a model with
    /// several outputs, else one part (named `output`) at the output quantization, or at
    /// (1, 0) for a model without one.
    pub fn output_parts(&self) -> Vec<OutputPart> {
        match &self.io {
            Some(io) => io.parts(self.output_dims()),
            None => IoQuant::single(QParams::IDENTITY, QParams::IDENTITY, false)
                .parts(self.output_dims()),
        }
    }

    /// The model's inputs as slices of the input tensor: the part table of a model with
    /// several inputs, else one part (named `input`) at the input quantization, or at (1, 0)
    /// for a model without one.
    pub fn input_parts(&self) -> Vec<InputPart> {
        match &self.io {
            Some(io) => io.input_parts(&self.input_dims),
            None => IoQuant::single(QParams::IDENTITY, QParams::IDENTITY, false)
                .input_parts(&self.input_dims),
        }
    }

    /// The range table's bits: every range check of the model lies in [0, 2^range_bits).
    pub fn range_bits(&self) -> u32 {
        self.range_bits
    }

    /// The model digest: blake3 of the model's canonical encoding ([`Model::encode`]) without
    /// its name, so every field that changes what the model computes is covered by construction
    /// (shapes, every weight, bias, multiplier, shift, zero point, clamp bound, table row, the
    /// input/output quantization), and equal digests mean equal encodings. A model commitment's
    /// copy encodes its committed layers without weights; its digest is combined with the root
    /// by [`crate::gkr::VerifierKey::digest`].
    pub fn digest(&self) -> [u8; 32] {
        self.digest
    }

    fn compute_digest(&self) -> [u8; 32] {
        let mut w = crate::codec::ByteWriter(blake3::Hasher::new());
        w.0.update(DIGEST_DOMAIN);
        w.0.update(&self.range_bits.to_le_bytes());
        self.encode_body(&mut w);
        *w.0.finalize().as_bytes()
    }

    pub fn output_dims(&self) -> &[usize] {
        self.layers.last().map_or(&self.input_dims, |l| l.output_dims())
    }

    pub fn dims(&self, t: TensorId) -> &[usize] {
        if t == 0 {
            &self.input_dims
        } else {
            self.layers[t - 1].output_dims()
        }
    }

    /// The integer reference inference: every tensor and advice column.
    pub fn forward(&self, input: &Tensor) -> Result<Witness, ModelError> {
        if input.dims != self.input_dims {
            return Err(ModelError::Shape(format!(
                "the model takes an input of dimensions {:?}, got {:?}",
                self.input_dims, input.dims
            )));
        }
        if let Some(i) = input.data.iter().position(|v| !(-128..=127).contains(v)) {
            return Err(ModelError::Shape(format!("input entry {i} is not an int8")));
        }
        let mut tensors = vec![input.clone()];
        let mut advice = Vec::with_capacity(self.layers.len());
        for l in &self.layers {
            let ins: Vec<&Tensor> = l.inputs().iter().map(|&t| &tensors[t]).collect();
            let w = l.forward(&ins)?;
            tensors.push(w.output);
            advice.push(w.advice);
        }
        Ok(Witness { tensors, advice })
    }

    /// The mock prover: checks a witness against every relation the proof enforces, over the
    /// integers and in the field, without cryptography. Virtual outputs are recomputed.
    pub fn check(&self, w: &Witness) -> Result<(), CheckError> {
        for (i, l) in self.layers.iter().enumerate() {
            let fail =
                |what: String, index: usize| CheckError { layer: i, kind: l.kind(), what, index };
            let ins: Vec<&Tensor> = l.inputs().iter().map(|&t| &w.tensors[t]).collect();
            if !l.output_committed() {
                let again = l.forward(&ins).map_err(|e| fail(e.to_string(), 0))?;
                if let Some(j) = (0..again.output.data.len())
                    .find(|&j| again.output.data.get(j) != w.tensors[i + 1].data.get(j))
                {
                    return Err(fail(
                        "the virtual output differs from its inputs' product".into(),
                        j,
                    ));
                }
                continue;
            }
            let cols = w.columns(self, i);
            let coefs = l.coefficients();
            let layout = Layout::new(l.output_dims());
            let value = |v: Var, j: usize| -> Fp {
                match v {
                    Var::Col(c) => from_i64(cols[c][j]),
                    Var::In(k) => from_i64(ins[k].data[j]),
                    Var::Coef(k) => from_i64(coefs[k][j]),
                }
            };
            for (r, rel) in l.relations().iter().enumerate() {
                if let Some(j) =
                    (0..layout.len()).find(|&j| rel.eval(&|v| value(v, j)) != Fp::from(0u64))
                {
                    return Err(fail(format!("relation {r}"), j));
                }
            }
            for (r, lin) in l.range_checks().iter().enumerate() {
                if let Some(j) = (0..layout.len())
                    .find(|&j| to_u128(&lin.eval(&|v| value(v, j))) >> self.range_bits != 0)
                {
                    return Err(fail(format!("16-bit range check {r}"), j));
                }
            }
            if let Some(tl) = l.table_lookup() {
                let rows: std::collections::HashSet<Vec<Fp>> =
                    tl.rows.iter().map(|r| r.iter().map(|&v| from_i64(v)).collect()).collect();
                for j in 0..layout.len() {
                    let tuple: Vec<Fp> = tl.columns.iter().map(|&v| value(v, j)).collect();
                    if !rows.contains(&tuple) {
                        return Err(fail("table lookup".into(), j));
                    }
                }
            }
        }
        Ok(())
    }
}

/// The domain of the model digest (the digest of the canonical encoding since version 2).
const DIGEST_DOMAIN: &[u8] = b"gkrnet model digest v2";
