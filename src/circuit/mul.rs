//! The elementwise product of two computed int8 tensors: p = (x − z_x)·(y − z_y), with y of x's
//! dimensions or broadcast along whole axes (same rank, each axis of y equal to x's or 1: the
//! gating x [N, C, H, W] · y [N, C, 1, 1] of squeeze-excitation). x and y may be one tensor
//! (x·x). The output is a virtual int32 tensor on x's dimensions; its requantization is an
//! ordinary [`super::Requant`] (or threshold) layer on p ([`Builder::mul`] chains the two).
//!
//! Bound: x, z_x ∈ [−128, 127], so |x − z_x| ≤ max(127 − z_x, 128 + z_x) ≤ 256, likewise for y,
//! and |p| ≤ [`Mul::acc_bound`] ≤ 2^16, far inside the int32 range.
//!
//! **Proof** of a claim p̃(ρ) = v on p's padded layout (x's; p is 0 on padded slots): one
//! degree-3 sumcheck over x's n variables
//!
//! ```text
//!   v = Σ_b E(b)·X'(b)·Y'(b),   E = eq(ρ, ·)·mask_x,   X' = X − z_x,   Y' = Y − z_y
//! ```
//! where X is x's padded table and Y is y broadcast to x's padded hypercube:
//! Y(b) = y_pad(restrict(b)), restrict keeping the variables of the axes y keeps. The mask in E
//! (`Layout::masked_eq_table`) makes the shifted tables' values on padded slots (−z_x·(… − z_y)
//! and the like) count for nothing, so the zero points need no terms of their own and the prover
//! runs the three-table product kernel.
//!
//! At the end point r the prover sends X(r) and Y(r) (the sumcheck's final evaluations, with the
//! zero points added back). The verifier computes E(r) = `Layout::masked_eq_eval(ρ, r)` itself and
//! checks E(r)·(X(r) − z_x)·(Y(r) − z_y) against the sumcheck's final value (the terms
//! E·XY − E·z_y·X − E·z_x·Y + E·z_x·z_y of [`sumcheck::verify_final_evals`]), then returns the
//! claims x̃(r) = X(r) (input 0) and ỹ(restrict(r)) = Y(r) (input 1).
//!
//! **The restriction rule.** Every axis is padded on its own and owns a contiguous range of
//! variables, the last axis the lowest ([`Layout`]). An axis that y broadcasts has length 1 in y,
//! hence no variables there, so y's variables are exactly those of the axes it keeps, in the same
//! order. Y's table depends on x's variables only through those, so Ỹ(r) = ỹ(r restricted to the
//! ranges of the kept axes, lowest first); axes of length 1 in both own no variables in either.
//! This holds on the whole hypercube, padded slots included (the prover's table Y repeats y_pad
//! along padded positions of a broadcast axis, not zeros), which is what makes Ỹ(r) a claim on y.
//!
//! # Soundness
//! A false v survives the sumcheck with probability at most 3n/p; a prover that sends final
//! evaluations other than X̃(r), Ỹ(r) passes the product check only with a false claim on x or
//! y, which their producers check. When x and y are one tensor both claims are routed (never
//! deduplicated), so a pair (a, b) with (a − z)(b − z) right but a ≠ x̃(r) is caught on x.
#![deny(
    clippy::indexing_slicing,
    reason = "audited: the verifier side is index-free; the prover helpers that index say why (overrides circuit/mod.rs's not-yet-audited allow)"
)]

use super::encode::{ModelReads, OpEntry, OpRecord};
use super::zoo::{common_shift, Builder};
use super::{
    checked_entries, ClaimTarget, Layer, LayerWitness, Layout, ModelError, Multiplier, Reduction,
    RequantKind, RequantSpec, Scaled, Tensor, TensorId,
};
use crate::codec::{ByteReader, ByteWriter, Sink};
use crate::error::{ProveError, VerifyError};
use crate::field::{from_i64, Fp};
use crate::sumcheck::{self, prover::ProductSum, EvalClaim, SumcheckClaim, Term};
use crate::transcript::{ProverTranscript, VerifierTranscript};
use std::ops::Range;

/// p = (x − z_x)·(y − z_y) elementwise, y broadcast along whole axes; see the module docs.
#[derive(Clone, Debug)]
pub struct Mul {
    inputs: [TensorId; 2],
    x_layout: Layout,
    y_layout: Layout,
    /// [z_x, z_y]
    zeros: [i32; 2],
    /// y's row-major stride for each axis of x (first axis first), 0 on a broadcast axis.
    y_strides: Vec<usize>,
    /// The variable ranges (in x's layout) of the axes y keeps, lowest variables first: y's
    /// variables in order.
    kept: Vec<Range<usize>>,
}

/// A [`Mul`]'s canonical record: operands, their dimensions and zero points.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MulSpec {
    pub x: TensorId,
    pub x_dims: Vec<usize>,
    pub x_zero: i32,
    pub y: TensorId,
    pub y_dims: Vec<usize>,
    pub y_zero: i32,
}

/// The operator's line in the encoding's registry ([`super::OPS`]).
pub(crate) const OP: OpEntry = OpEntry { tag: 10, kind: "mul", decode: decode_spec };

fn decode_spec(r: &mut ByteReader<'_>) -> Result<Box<dyn OpRecord>, ModelError> {
    Ok(Box::new(MulSpec {
        x: r.usize()?,
        x_dims: r.dims()?,
        x_zero: r.i32()?,
        y: r.usize()?,
        y_dims: r.dims()?,
        y_zero: r.i32()?,
    }))
}

impl OpRecord for MulSpec {
    fn entry(&self) -> &'static OpEntry {
        &OP
    }

    fn encode_fields(&self, w: &mut ByteWriter<&mut dyn Sink>) {
        w.usize(self.x);
        w.usizes(&self.x_dims);
        w.i64(self.x_zero as i64);
        w.usize(self.y);
        w.usizes(&self.y_dims);
        w.i64(self.y_zero as i64);
    }

    fn declared_inputs(&self) -> Vec<(TensorId, Vec<usize>)> {
        vec![(self.x, self.x_dims.clone()), (self.y, self.y_dims.clone())]
    }

    fn summary(&self) -> String {
        format!(
            "(x − {}) · (y − {}), x {:?}, y {:?}",
            self.x_zero, self.y_zero, self.x_dims, self.y_dims
        )
    }

    fn build(&self) -> Result<Box<dyn Layer>, ModelError> {
        let s = self;
        Ok(Box::new(Mul::new(s.x, &s.x_dims, s.x_zero, s.y, &s.y_dims, s.y_zero)?))
    }
}

/// max |q − z| over int8 q (also the bound of [`super::matprod::MatProd`]'s factors).
pub(super) fn spread(zero: i32) -> i128 {
    (127 - zero as i128).max(128 + zero as i128)
}

impl Mul {
    /// x (tensor `x`, dimensions `x_dims`, zero point `x_zero`) times y.
    ///
    /// # Errors
    /// [`ModelError::Shape`] naming both shapes when y does not broadcast to x (another rank, an
    /// axis neither x's length nor 1), dimensions beyond [`checked_entries`] or an empty tensor;
    /// [`ModelError::Parameter`] for a zero point outside int8.
    pub fn new(
        x: TensorId,
        x_dims: &[usize],
        x_zero: i32,
        y: TensorId,
        y_dims: &[usize],
        y_zero: i32,
    ) -> Result<Self, ModelError> {
        let shapes = |why: &str| {
            ModelError::Shape(format!(
                "mul: y of dimensions {y_dims:?} does not broadcast to x of dimensions \
                 {x_dims:?} ({why})"
            ))
        };
        let (x_len, y_len) = (checked_entries(x_dims)?, checked_entries(y_dims)?);
        if x_len == 0 || y_len == 0 {
            return Err(shapes("an empty tensor"));
        }
        if x_dims.len() != y_dims.len() {
            return Err(shapes("ranks differ"));
        }
        if x_dims.iter().zip(y_dims).any(|(&dx, &dy)| dy != dx && dy != 1) {
            return Err(shapes("each axis of y must equal x's or be 1"));
        }
        for z in [x_zero, y_zero] {
            if !(-128..=127).contains(&z) {
                return Err(ModelError::Parameter(format!("mul: zero point {z} outside int8")));
            }
        }
        let x_layout = Layout::new(x_dims);
        // strides from the last axis: a product of y's dimensions, within checked_entries
        let mut y_strides = vec![0usize; y_dims.len()];
        let mut stride = 1usize;
        for ((s, &dy), &dx) in y_strides.iter_mut().zip(y_dims).zip(x_dims).rev() {
            *s = if dy == dx { stride } else { 0 };
            stride = stride.saturating_mul(dy);
        }
        let kept = (0..x_dims.len())
            .rev()
            .zip(y_dims.iter().zip(x_dims).rev())
            .filter(|(_, (dy, dx))| dy == dx)
            .map(|(a, _)| x_layout.axis_vars(a))
            .collect();
        Ok(Self {
            inputs: [x, y],
            x_layout,
            y_layout: Layout::new(y_dims),
            zeros: [x_zero, y_zero],
            y_strides,
            kept,
        })
    }

    /// max |p| over all int8 inputs: max(127 − z_x, 128 + z_x)·max(127 − z_y, 128 + z_y) ≤ 2^16,
    /// the bound the requantization of p is built with.
    pub fn acc_bound(&self) -> i128 {
        let [zx, zy] = self.zeros;
        spread(zx) * spread(zy)
    }

    pub fn x_dims(&self) -> &[usize] {
        self.x_layout.dims()
    }

    pub fn y_dims(&self) -> &[usize] {
        self.y_layout.dims()
    }

    /// [z_x, z_y]
    pub fn zeros(&self) -> [i32; 2] {
        self.zeros
    }

    /// The point of y's MLE that x's point `point` restricts to (the variables of the axes y
    /// keeps); `None` if `point` is shorter than x's variables.
    pub fn restrict(&self, point: &[Fp]) -> Option<Vec<Fp>> {
        self.kept.iter().try_fold(Vec::with_capacity(self.y_layout.num_vars()), |mut out, r| {
            out.extend_from_slice(point.get(r.clone())?);
            Some(out)
        })
    }

    /// The row-major index of y that each row-major index of x reads, in order.
    fn sources(&self) -> impl Iterator<Item = usize> + '_ {
        let dims = self.x_layout.dims();
        (0..self.x_layout.len()).map(move |mut i| {
            let mut src = 0;
            // every dimension is at least 1 (checked by `new`)
            for (&d, &s) in dims.iter().zip(&self.y_strides).rev() {
                src += (i % d) * s;
                i /= d;
            }
            src
        })
    }

    /// Y − z_y on x's whole padded hypercube: Y(b) = y_pad(restrict(b)), padded slots included.
    #[expect(
        clippy::indexing_slicing,
        reason = "prover side: restrict(b) < 2^(y's variables) = y_pad's length, for every b < 2^(x's variables)"
    )]
    fn y_table(&self, y: &[i64]) -> Vec<Fp> {
        let y_pad = self.y_layout.pad_fp(y);
        let [_, zy] = self.zeros.map(|z| from_i64(z as i64));
        (0..self.x_layout.padded_len())
            .map(|b| {
                let (mut src, mut shift) = (0usize, 0usize);
                for r in &self.kept {
                    let bits = r.len();
                    src |= ((b >> r.start) & ((1 << bits) - 1)) << shift;
                    shift += bits;
                }
                y_pad[src] - zy
            })
            .collect()
    }

    /// x and y from the layer's inputs, of the dimensions the layer was built for.
    fn operands<'a>(&self, inputs: &[&'a Tensor]) -> Result<(&'a Tensor, &'a Tensor), String> {
        let (Some(&x), Some(&y), 2) = (inputs.first(), inputs.get(1), inputs.len()) else {
            return Err(format!("mul takes 2 inputs, got {}", inputs.len()));
        };
        if x.dims != self.x_layout.dims() || y.dims != self.y_layout.dims() {
            return Err(format!(
                "mul built for x {:?} and y {:?}, got {:?} and {:?}",
                self.x_layout.dims(),
                self.y_layout.dims(),
                x.dims,
                y.dims
            ));
        }
        Ok((x, y))
    }
}

impl Layer for Mul {
    fn spec(&self) -> super::LayerSpec {
        let [x, y] = self.inputs;
        let [x_zero, y_zero] = self.zeros;
        super::LayerSpec::Op(Box::new(MulSpec {
            x,
            x_dims: self.x_layout.dims().to_vec(),
            x_zero,
            y,
            y_dims: self.y_layout.dims().to_vec(),
            y_zero,
        }))
    }

    fn kind(&self) -> &'static str {
        "mul"
    }

    fn inputs(&self) -> &[TensorId] {
        &self.inputs
    }

    fn output_dims(&self) -> &[usize] {
        self.x_layout.dims()
    }

    fn forward(&self, inputs: &[&Tensor]) -> Result<LayerWitness, ModelError> {
        let (x, y) = self.operands(inputs).map_err(ModelError::Shape)?;
        if x.to_i8().is_none() || y.to_i8().is_none() {
            return Err(ModelError::Shape("the inputs of a mul must be int8".into()));
        }
        let [zx, zy] = self.zeros.map(i64::from);
        let data = self
            .sources()
            .zip(&x.data)
            .map(|(j, &xv)| {
                let yv = y.data.get(j).copied().unwrap_or(zy);
                (xv - zx) * (yv - zy)
            })
            .collect();
        Ok(LayerWitness {
            output: Tensor::new(self.x_layout.dims().to_vec(), data)?,
            advice: Vec::new(),
        })
    }

    fn reduction(&self) -> Option<&dyn Reduction> {
        Some(self)
    }
}

impl Reduction for Mul {
    fn prove_output(
        &self,
        claim: &EvalClaim,
        inputs: &[&Tensor],
        mut t: &mut dyn ProverTranscript,
    ) -> Result<Vec<(ClaimTarget, EvalClaim)>, ProveError> {
        if claim.point.len() != self.x_layout.num_vars() {
            return Err(ProveError::ShapeMismatch {
                what: "variables of a claim on a mul output",
                expected: self.x_layout.num_vars(),
                got: claim.point.len(),
            });
        }
        let (x, y) = self.operands(inputs).map_err(|reason| ProveError::InvalidShape { reason })?;
        let [zx, zy] = self.zeros.map(|z| from_i64(z as i64));
        let e = self.x_layout.masked_eq_table(&claim.point);
        let xs: Vec<Fp> = self.x_layout.pad_fp(&x.data).into_iter().map(|v| v - zx).collect();
        let ys = self.y_table(&y.data);
        let out = sumcheck::prove(ProductSum::product(vec![e, xs, ys])?, claim.value, &mut t)?;
        let &[_, x_r, y_r] = out.final_evals.as_slice() else {
            return Err(ProveError::InvalidShape { reason: "three final evaluations".into() });
        };
        let (x_r, y_r) = (x_r + zx, y_r + zy);
        sumcheck::send_final_evals(&mut t, &[x_r, y_r]);
        let y_point = self.restrict(&out.point).ok_or(ProveError::ShapeMismatch {
            what: "variables of the mul sumcheck's point",
            expected: self.x_layout.num_vars(),
            got: out.point.len(),
        })?;
        Ok(vec![
            (ClaimTarget::Input(0), EvalClaim { point: out.point, value: x_r }),
            (ClaimTarget::Input(1), EvalClaim { point: y_point, value: y_r }),
        ])
    }

    fn verify_output(
        &self,
        claim: &EvalClaim,
        mut t: &mut dyn VerifierTranscript,
    ) -> Result<Vec<(ClaimTarget, EvalClaim)>, VerifyError> {
        let num_vars = self.x_layout.num_vars();
        if claim.point.len() != num_vars {
            return Err(VerifyError::InvalidStatement {
                reason: "a claim on a mul output has the wrong number of variables",
            });
        }
        let sc = SumcheckClaim { num_vars, degree: 3, claimed_sum: claim.value };
        let eval = sumcheck::verify(&sc, &mut t)?;
        // E(r)·(X − z_x)·(Y − z_y) over the factors [X, Y], E(r) computed here
        let e = self.x_layout.masked_eq_eval(&claim.point, &eval.point);
        let [zx, zy] = self.zeros.map(|z| from_i64(z as i64));
        let terms = [
            Term::new(e, vec![0, 1]),
            Term::new(-(e * zy), vec![0]),
            Term::new(-(e * zx), vec![1]),
            Term::new(e * zx * zy, Vec::new()),
        ];
        let evals = sumcheck::verify_final_evals(&terms, 2, &eval, &mut t)?;
        let Ok([x, y]) = <[EvalClaim; 2]>::try_from(evals) else {
            return Err(VerifyError::InvalidStatement {
                reason: "two factor evaluations expected",
            });
        };
        let y_point = self.restrict(&x.point).ok_or(VerifyError::InvalidStatement {
            reason: "the mul sumcheck's point is shorter than x's variables",
        })?;
        Ok(vec![
            (ClaimTarget::Input(0), x),
            (ClaimTarget::Input(1), EvalClaim { point: y_point, value: y.value }),
        ])
    }
}

impl Builder {
    /// The product of int8 tensors x and y (each with its zero point; y of x's dimensions or
    /// broadcast along whole axes) requantized to int8 with the float rescale
    /// `m` = s_x·s_y / s_out and output zero point `zero_out`: a [`Mul`] and a requantization of
    /// its output (a threshold layer, or the arithmetic gadget under `arithmetic`). Returns the
    /// int8 tensor.
    ///
    /// # Errors
    /// Shapes that do not broadcast (naming both), zero points outside int8, or an `m` without a
    /// fixed-point numerator.
    pub fn mul(
        &mut self,
        (x, x_zero): (TensorId, i32),
        (y, y_zero): (TensorId, i32),
        m: f64,
        zero_out: i32,
    ) -> Result<TensorId, ModelError> {
        let mul = Mul::new(x, &self.dims(x), x_zero, y, &self.dims(y), y_zero)?;
        let bound = mul.acc_bound();
        let p = self.push(mul);
        self.requant_product(p, bound, m, zero_out)
    }

    /// The int8 requantization of a product `p` (a virtual tensor with |p| ≤ `bound`) with the
    /// float rescale `m` and output zero point `zero_out`: one multiplier for the whole tensor.
    ///
    /// # Errors
    /// An `m` without a fixed-point numerator.
    pub fn requant_product(
        &mut self,
        p: TensorId,
        bound: i128,
        m: f64,
        zero_out: i32,
    ) -> Result<TensorId, ModelError> {
        let dims = self.dims(p);
        let (a, k) = common_shift(&[m])?;
        let a =
            a.first().copied().ok_or_else(|| ModelError::Parameter(format!("product: m = {m}")))?;
        let scaled = Scaled { tensor: p, multiplier: Multiplier::Tensor(a), bound };
        self.requant_layer(RequantSpec {
            kind: RequantKind::Requant,
            scaled: vec![scaled],
            offset: 0,
            offsets: Vec::new(),
            k,
            zero: zero_out,
            lo: -128,
            hi: 127,
            dims,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::poly::evaluate_padded;
    use ark_ff::UniformRand;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha20Rng;

    /// (x dims, y dims): same shape, one and several broadcast axes, axes of length 1 in both,
    /// odd lengths on broadcast axes (padded slots of x that Y must still fill with y).
    const SHAPES: [(&[usize], &[usize]); 9] = [
        (&[3, 5], &[3, 5]),
        (&[2, 3, 5, 6], &[2, 3, 1, 1]),
        (&[1, 3, 5, 6], &[1, 3, 1, 1]),
        (&[3, 5], &[3, 1]),
        (&[3, 5], &[1, 5]),
        (&[5, 1, 3, 7], &[1, 1, 3, 1]),
        (&[5, 3, 7], &[1, 1, 1]),
        (&[1, 1], &[1, 1]),
        (&[6, 1, 5], &[6, 1, 5]),
    ];

    fn random_tensor(rng: &mut ChaCha20Rng, dims: &[usize]) -> Tensor {
        let len = dims.iter().product();
        Tensor::new(dims.to_vec(), (0..len).map(|_| rng.gen_range(-128..=127)).collect()).unwrap()
    }

    #[test]
    fn forward_is_the_broadcast_product_and_y_table_restricts_to_y() {
        let mut rng = ChaCha20Rng::seed_from_u64(18);
        for (xd, yd) in SHAPES {
            let (zx, zy) = (rng.gen_range(-128..=127), rng.gen_range(-128..=127));
            let mul = Mul::new(1, xd, zx, 2, yd, zy).unwrap();
            let (x, y) = (random_tensor(&mut rng, xd), random_tensor(&mut rng, yd));
            let p = mul.forward(&[&x, &y]).unwrap().output;
            // naive broadcast: unravel each index of x, clamp y's coordinates to 0 where y is 1
            for (i, &v) in p.data.iter().enumerate() {
                let (mut rest, mut j, mut stride) = (i, 0, 1);
                for (&dx, &dy) in xd.iter().zip(yd).rev() {
                    let c = rest % dx;
                    rest /= dx;
                    j += if dy == 1 { 0 } else { c } * stride;
                    stride *= dy;
                }
                assert_eq!(v, (x.data[i] - zx as i64) * (y.data[j] - zy as i64), "{xd:?} {i}");
                assert!(v.abs() as i128 <= mul.acc_bound());
            }
            // Ỹ(r) = ỹ(restrict(r)) on the whole hypercube, and the sum is p̃(ρ)
            let n = mul.x_layout.num_vars();
            let r: Vec<Fp> = (0..n).map(|_| Fp::rand(&mut rng)).collect();
            let zyf = from_i64(zy as i64);
            let table = mul.y_table(&y.data);
            let restricted = mul.restrict(&r).unwrap();
            assert_eq!(restricted.len(), mul.y_layout.num_vars());
            assert_eq!(evaluate_padded(&table, &r), y.evaluate(&restricted) - zyf, "{xd:?}");
            let e = mul.x_layout.masked_eq_table(&r);
            let zxf = from_i64(zx as i64);
            let xs = mul.x_layout.pad_fp(&x.data);
            let sum: Fp =
                e.iter().zip(&xs).zip(&table).map(|((e, x), y)| *e * (*x - zxf) * y).sum();
            assert_eq!(sum, p.evaluate(&r), "{xd:?}");
        }
    }

    #[test]
    fn shapes_that_do_not_broadcast_name_both() {
        for (xd, yd) in
            [(&[3, 5][..], &[3, 4][..]), (&[3, 5], &[5]), (&[3, 1], &[3, 5]), (&[2, 3], &[2, 0])]
        {
            let e = Mul::new(1, xd, 0, 2, yd, 0).unwrap_err().to_string();
            assert!(e.contains(&format!("{xd:?}")) && e.contains(&format!("{yd:?}")), "{e}");
        }
        assert!(Mul::new(1, &[2], 128, 2, &[2], 0).is_err());
        assert!(Mul::new(1, &[2], 0, 2, &[2], -129).is_err());
    }
}
