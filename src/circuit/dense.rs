//! Dense (fully connected) layer: acc = (x − z_x)·W + bias, a virtual int32 tensor proved through
//! the matmul protocol. A requantization layer usually follows.
//!
//! Accumulator bound (checked when the layer is built): with x, z_x ∈ [−128, 127], |x − z_x| ≤ 255,
//! so |acc_j| ≤ 255·Σ_t |W[t][j]| + |bias_j| < 2^31 for every input — int8 weights with a zero
//! input point fit 2^31 / (255·128) ≈ 65 800 terms, and the builder rejects weights or biases that
//! could overflow.
//!
//! The proof reduces a claim on acc to the matmul claim on (x − z_x)·W: the input's zero point
//! centers the input, never the bias, so a verifier needs nothing derived from W (a model
//! commitment's verifier holds only the bias, the zero point and the shapes). The integer
//! reference computes the same numbers as x·W + (bias − z_x·Σ_t W[t][·]).
#![allow(
    clippy::indexing_slicing,
    reason = "verifier-reachable, not yet audited (issue 17): indices follow layouts that Model::new and the decoders bound; to be replaced by checked access"
)]

use super::encode::{ModelReads, OpEntry, OpRecord};
use super::{
    ClaimTarget, Layer, LayerSpec, LayerWitness, Layout, ModelError, Reduction, Tensor, TensorId,
    WeightCommitment,
};
use crate::codec::{ByteReader, ByteWriter, Sink};
use crate::error::{ProveError, VerifyError};
use crate::field::from_i64;
use crate::lookup::prefix_indicator;
use crate::matmul::{self, ProductClaim, Shape};
use crate::poly::{evaluate_matrix_i8, evaluate_padded};
use crate::sumcheck::EvalClaim;
use crate::transcript::{ProverTranscript, VerifierTranscript};

/// The parameters of a dense layer: acc = (x − input_zero)·W + bias for the [m, n] int8 tensor
/// `input` (x), weights W [n, features] (input-major) and bias [features]. [`Dense::new`] takes
/// it, and the model encoding stores it (its [`OpRecord`], tag 0).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DenseSpec {
    pub input: TensorId,
    /// [m, n]
    pub in_dims: Vec<usize>,
    pub input_zero: i32,
    pub weights: Vec<i8>,
    pub features: usize,
    pub bias: Vec<i32>,
}

/// The record of a dense layer whose weights are committed (a model commitment's copy,
/// [`Dense::stripped`]): nothing of W but its shape; the commitment's root stands for it (tag 9).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DenseStrippedSpec {
    pub input: TensorId,
    /// [m, n]
    pub in_dims: Vec<usize>,
    pub input_zero: i32,
    pub features: usize,
    pub bias: Vec<i32>,
}

/// The dense layer's line in the registry ([`super::OPS`]).
pub(crate) const OP: OpEntry = OpEntry { tag: 0, kind: "dense", decode: decode_dense };
/// A dense layer with committed weights ([`DenseStrippedSpec`]).
pub(crate) const STRIPPED: OpEntry =
    OpEntry { tag: 9, kind: "dense (weights committed)", decode: decode_stripped };
/// Tag 8 was a stripped dense layer with stored column sums, hash and bound, which nothing tied
/// to the commitment (the digest did not cover them): registered so that it stays taken, and
/// refused.
pub(crate) const STORED_SUMS: OpEntry =
    OpEntry { tag: 8, kind: "dense (stored column sums)", decode: refuse_stored_sums };

fn decode_dense(r: &mut ByteReader<'_>) -> Result<Box<dyn OpRecord>, ModelError> {
    Ok(Box::new(DenseSpec {
        input: r.usize()?,
        in_dims: r.dims()?,
        input_zero: r.i32()?,
        weights: r.i8s()?,
        features: r.usize()?,
        bias: r.i32s()?,
    }))
}

fn decode_stripped(r: &mut ByteReader<'_>) -> Result<Box<dyn OpRecord>, ModelError> {
    Ok(Box::new(DenseStrippedSpec {
        input: r.usize()?,
        in_dims: r.dims()?,
        input_zero: r.i32()?,
        features: r.usize()?,
        bias: r.i32s()?,
    }))
}

fn refuse_stored_sums(r: &mut ByteReader<'_>) -> Result<Box<dyn OpRecord>, ModelError> {
    Err(r
        .error(
            "a current layer tag (tag 8 is a model commitment of an older gkrnet with stored \
             column sums: commit the model again)",
        )
        .into())
}

impl OpRecord for DenseSpec {
    fn entry(&self) -> &'static OpEntry {
        &OP
    }

    fn encode_fields(&self, w: &mut ByteWriter<&mut dyn Sink>) {
        w.usize(self.input);
        w.usizes(&self.in_dims);
        w.i64(self.input_zero as i64);
        w.i8s(&self.weights);
        w.usize(self.features);
        w.i32s(&self.bias);
    }

    fn declared_inputs(&self) -> Vec<(TensorId, Vec<usize>)> {
        vec![(self.input, self.in_dims.clone())]
    }

    fn summary(&self) -> String {
        format!(
            "{:?} → {} features, input zero point {}",
            self.in_dims, self.features, self.input_zero
        )
    }

    fn build(&self) -> Result<Box<dyn Layer>, ModelError> {
        Ok(Box::new(Dense::new(self.clone())?))
    }
}

impl OpRecord for DenseStrippedSpec {
    fn entry(&self) -> &'static OpEntry {
        &STRIPPED
    }

    fn encode_fields(&self, w: &mut ByteWriter<&mut dyn Sink>) {
        w.usize(self.input);
        w.usizes(&self.in_dims);
        w.i64(self.input_zero as i64);
        w.usize(self.features);
        w.i32s(&self.bias);
    }

    fn declared_inputs(&self) -> Vec<(TensorId, Vec<usize>)> {
        vec![(self.input, self.in_dims.clone())]
    }

    fn summary(&self) -> String {
        format!(
            "{:?} → {} features, input zero point {}, weights committed",
            self.in_dims, self.features, self.input_zero
        )
    }

    fn build(&self) -> Result<Box<dyn Layer>, ModelError> {
        let s = self.clone();
        Ok(Box::new(Dense::stripped(s.input, &s.in_dims, s.input_zero, s.features, s.bias)?))
    }
}

/// A dense layer on a [m, n] int8 input with weights [n, k] (input-major), bias [k].
#[derive(Debug, Clone)]
pub struct Dense {
    inputs: [TensorId; 1],
    shape: Shape,
    out: [usize; 2],
    /// Empty in a verifier's copy whose weights are committed ([`Dense::stripped`]).
    weights: Vec<i8>,
    input_zero: i32,
    /// bias − z_x·column sums of W, the constant the integer reference starts from (empty
    /// without the weights).
    bias_eff: Vec<i64>,
    bias: Vec<i32>,
    /// The worst-case |acc| ([`Dense::acc_bound`]); `None` without the weights.
    acc_bound: Option<i128>,
    /// Claims on W go to the model commitment (returned as [`super::ClaimTarget::Weights`] claims) instead
    /// of being checked against the weights.
    weights_committed: bool,
}

impl Dense {
    /// # Errors
    /// A shape mismatch, an inner dimension above the matmul bound, or weights and bias whose
    /// accumulator could leave the i32 range.
    pub fn new(spec: DenseSpec) -> Result<Self, ModelError> {
        let DenseSpec { input, in_dims: input_dims, input_zero, weights, features: k, bias } = spec;
        let &[m, n] = input_dims.as_slice() else {
            return Err(ModelError::Shape(format!(
                "a dense layer takes a [batch, features] input, got {input_dims:?}"
            )));
        };
        if n.checked_mul(k) != Some(weights.len()) || bias.len() != k || k == 0 {
            return Err(ModelError::Shape(format!(
                "dense {n}→{k}: {} weights (expected {n}·{k}), {} biases (expected {k})",
                weights.len(),
                bias.len()
            )));
        }
        if n > matmul::MAX_INNER {
            return Err(ModelError::Shape(format!("dense inner dimension {n} > 2^17 − 1")));
        }
        if !(-128..=127).contains(&input_zero) {
            return Err(ModelError::Parameter(format!("input zero point {input_zero}")));
        }
        let mut col_sum = vec![0i64; k];
        let mut col_abs = vec![0i64; k];
        for row in weights.chunks(k) {
            for (j, &w) in row.iter().enumerate() {
                col_sum[j] += w as i64;
                col_abs[j] += (w as i64).abs();
            }
        }
        for j in 0..k {
            if 255 * col_abs[j] + (bias[j] as i64).abs() >= 1 << 31 {
                return Err(ModelError::Parameter(format!(
                    "output channel {j}: 255·Σ|w| + |bias| = {} can overflow the i32 accumulator",
                    255 * col_abs[j] + (bias[j] as i64).abs()
                )));
            }
        }
        let bias_eff = (0..k).map(|j| bias[j] as i64 - input_zero as i64 * col_sum[j]).collect();
        let spread = (127 - input_zero).max(128 + input_zero) as i128;
        let acc_bound = (0..k)
            .map(|j| spread * col_abs[j] as i128 + (bias[j] as i128).abs())
            .max()
            .unwrap_or(0);
        Ok(Self {
            inputs: [input],
            shape: Shape { m, n, k },
            out: [m, k],
            weights,
            input_zero,
            bias_eff,
            bias,
            acc_bound: Some(acc_bound),
            weights_committed: false,
        })
    }

    /// A verifier's copy without the weights, whose claims on W go to a model commitment: it
    /// holds the shapes, the input zero point and the bias, nothing derived from W.
    ///
    /// # Errors
    /// A shape mismatch or parameters out of range.
    pub fn stripped(
        input: TensorId,
        input_dims: &[usize],
        input_zero: i32,
        features: usize,
        bias: Vec<i32>,
    ) -> Result<Self, ModelError> {
        let &[m, n] = input_dims else {
            return Err(ModelError::Shape(format!(
                "a dense layer takes a [batch, features] input, got {input_dims:?}"
            )));
        };
        let k = features;
        if bias.len() != k || k == 0 || n == 0 || n > matmul::MAX_INNER {
            return Err(ModelError::Shape(format!(
                "dense {n}→{k} without weights: {} biases",
                bias.len()
            )));
        }
        if !(-128..=127).contains(&input_zero) {
            return Err(ModelError::Parameter(format!(
                "dense {n}→{k} without weights: input zero point {input_zero}"
            )));
        }
        Ok(Self {
            inputs: [input],
            shape: Shape { m, n, k },
            out: [m, k],
            weights: Vec::new(),
            input_zero,
            bias_eff: Vec::new(),
            bias,
            acc_bound: None,
            weights_committed: true,
        })
    }

    /// This layer with its claims on W handed to a model commitment (the prover's copy keeps
    /// the weights).
    pub fn with_committed_weights(&self) -> Self {
        Self { weights_committed: true, ..self.clone() }
    }

    /// max over output channels of |acc|'s worst case over all int8 inputs:
    /// max(127 − z_x, 128 + z_x)·Σ_t |W[t][j]| + |bias_j| (< 2^31, checked when built). A
    /// verifier's copy without the weights cannot know it and says `i128::MAX` (unbounded), which
    /// no requantization accepts.
    pub fn acc_bound(&self) -> i128 {
        self.acc_bound.unwrap_or(i128::MAX)
    }

    /// Whether claims on W go to a model commitment.
    pub fn weights_committed(&self) -> bool {
        self.weights_committed
    }

    pub fn shape(&self) -> Shape {
        self.shape
    }

    pub fn weights(&self) -> &[i8] {
        &self.weights
    }

    /// The bias term's MLE at the claim's point: bias(r_col)·[row < m](r_row).
    fn bias_eval(
        &self,
        r_col: &[crate::field::Fp],
        r_row: &[crate::field::Fp],
    ) -> crate::field::Fp {
        let b: Vec<_> = self.bias.iter().map(|&v| from_i64(v as i64)).collect();
        evaluate_padded(&b, r_col) * prefix_indicator(self.shape.m, r_row)
    }

    /// The claim on x from the matmul's claim on x − z_x (on x's m×n entries): the centered
    /// matrix's MLE plus z_x·[row < m]·[col < n] at the claim's point (ρ ‖ r_row).
    fn input_claim(&self, centered: EvalClaim) -> EvalClaim {
        let n_vars = self.shape.inner_vars();
        let (rho, r_row) = centered.point.split_at(n_vars.min(centered.point.len()));
        let mask = prefix_indicator(self.shape.n, rho) * prefix_indicator(self.shape.m, r_row);
        let value = centered.value + from_i64(self.input_zero as i64) * mask;
        EvalClaim { point: centered.point, value }
    }

    fn product_claim(&self, claim: &EvalClaim) -> Option<ProductClaim> {
        let cv = self.shape.col_vars();
        if claim.point.len() != cv + self.shape.row_vars() {
            return None;
        }
        let (r_col, r_row) = claim.point.split_at(cv);
        Some(ProductClaim {
            r_row: r_row.to_vec(),
            r_col: r_col.to_vec(),
            value: claim.value - self.bias_eval(r_col, r_row),
        })
    }
}

impl Layer for Dense {
    fn spec(&self) -> LayerSpec {
        let Shape { m, n, k } = self.shape;
        // a layer whose weight claims go to a model commitment is encoded (and digested) as the
        // verifier's copy, whether or not this copy still holds the weights
        if self.weights_committed {
            return LayerSpec::Op(Box::new(DenseStrippedSpec {
                input: self.inputs[0],
                in_dims: vec![m, n],
                input_zero: self.input_zero,
                features: k,
                bias: self.bias.clone(),
            }));
        }
        LayerSpec::Op(Box::new(DenseSpec {
            input: self.inputs[0],
            in_dims: vec![m, n],
            input_zero: self.input_zero,
            weights: self.weights.clone(),
            features: k,
            bias: self.bias.clone(),
        }))
    }

    fn kind(&self) -> &'static str {
        "dense"
    }

    fn inputs(&self) -> &[TensorId] {
        &self.inputs
    }

    fn output_dims(&self) -> &[usize] {
        &self.out
    }

    fn forward(&self, inputs: &[&Tensor]) -> Result<LayerWitness, ModelError> {
        let Shape { m, n, k } = self.shape;
        if self.weights.len() != n * k || self.bias_eff.len() != k {
            return Err(ModelError::Parameter(
                "this dense layer holds a commitment to its weights, not the weights: it can be \
                 verified, not run"
                    .into(),
            ));
        }
        let x = inputs[0]
            .to_i8()
            .ok_or_else(|| ModelError::Shape("a dense layer's input must be int8".into()))?;
        let acc = matmul::gemm::gemm_i8(&x, &self.weights, m, n, k)
            .map_err(|e| ModelError::Shape(e.to_string()))?;
        let data = acc.iter().enumerate().map(|(i, &c)| c as i64 + self.bias_eff[i % k]).collect();
        Ok(LayerWitness { output: Tensor::new(self.out.to_vec(), data)?, advice: Vec::new() })
    }

    fn reduction(&self) -> Option<&dyn Reduction> {
        Some(self)
    }

    fn weights(&self) -> Option<&dyn WeightCommitment> {
        Some(self)
    }
}

impl Reduction for Dense {
    fn prove_output(
        &self,
        claim: &EvalClaim,
        inputs: &[&Tensor],
        mut t: &mut dyn ProverTranscript,
    ) -> Result<Vec<(ClaimTarget, EvalClaim)>, ProveError> {
        let pc = self.product_claim(claim).ok_or(ProveError::ShapeMismatch {
            what: "variables of a claim on a dense output",
            expected: self.shape.col_vars() + self.shape.row_vars(),
            got: claim.point.len(),
        })?;
        let x = inputs[0]
            .to_i8()
            .ok_or(ProveError::InvalidShape { reason: "dense input is not int8".into() })?;
        let claims =
            matmul::prove_centered(&self.shape, &x, self.input_zero, &self.weights, &pc, &mut t)?;
        let a = self.input_claim(claims.a);
        if self.weights_committed {
            return Ok(vec![(ClaimTarget::Input(0), a), (ClaimTarget::Weights, claims.b)]);
        }
        Ok(vec![(ClaimTarget::Input(0), a)])
    }

    fn verify_output(
        &self,
        claim: &EvalClaim,
        mut t: &mut dyn VerifierTranscript,
    ) -> Result<Vec<(ClaimTarget, EvalClaim)>, VerifyError> {
        let pc = self.product_claim(claim).ok_or(VerifyError::InvalidStatement {
            reason: "a claim on a dense output has the wrong number of variables",
        })?;
        let claims = matmul::verify(&self.shape, &pc, &mut t)?;
        let a = self.input_claim(claims.a);
        if self.weights_committed {
            return Ok(vec![(ClaimTarget::Input(0), a), (ClaimTarget::Weights, claims.b)]);
        }
        let Shape { n, k, .. } = self.shape;
        let rho = claims.b.point.get(pc.r_col.len()..).unwrap_or_default();
        claims.b.check(
            evaluate_matrix_i8(&self.weights, n, k, &pc.r_col, rho),
            "W̃ at the claim, from the model's weights",
        )?;
        Ok(vec![(ClaimTarget::Input(0), a)])
    }
}

impl WeightCommitment for Dense {
    fn weight_layout(&self) -> Layout {
        Layout::new(&[self.shape.n, self.shape.k])
    }

    fn weight_entries(&self) -> Option<&[i8]> {
        let Shape { n, k, .. } = self.shape;
        (self.weights.len() == n * k).then_some(self.weights.as_slice())
    }

    fn commit_weights(&self) -> Box<dyn Layer> {
        Box::new(self.with_committed_weights())
    }

    fn strip_weights(&self) -> Result<Box<dyn Layer>, ModelError> {
        let Shape { m, n, k } = self.shape;
        let stripped =
            Dense::stripped(self.inputs[0], &[m, n], self.input_zero, k, self.bias.clone())?;
        Ok(Box::new(stripped))
    }

    fn committed(&self) -> bool {
        self.weights_committed
    }
}
