//! The matrix product of two computed int8 tensors, batched over leading axes (attention's QKᵀ
//! and A·V): out[b, m, n] = Σ_k (x[b, m, k] − z_x)·(y[b, k, n] − z_y), x of dimensions
//! [B…, M, K] and y of [B…, K, N] (or [B…, N, K] when `y_transposed`: out = x·yᵀ, the QKᵀ of an
//! export that keeps K row-major), b ranging over the batch axes B… (heads, batch), which x and y
//! share. The output [B…, M, N] is a virtual int32 tensor; its requantization is an ordinary
//! requantization layer on it, as after a [`super::Mul`].
//!
//! Bound: |x − z_x|, |y − z_y| ≤ 255 over int8 (`mul.rs`), so |out| ≤ K·2^16
//! ([`MatProd::acc_bound`]); [`MatProd::new`] refuses K beyond [`MAX_INNER`].
//!
//! **Proof** of a claim õut(ρ) = v, ρ = (ρ_n, ρ_m, ρ_b) on out's variables (each axis owns a
//! contiguous range of variables, the last axis the lowest, [`Layout`]): with X' the table of
//! x − z_x on x's valid slots and 0 on padded ones, Y' likewise, and out zero on padded slots,
//!
//! ```text
//!   v = Σ_{b, k} eq(ρ_b, b)·X_ρ(b, k)·Y_ρ(b, k),
//!   X_ρ(b, k) = Σ_m eq(ρ_m, m)·X'(b, m, k) = X̃'(k, ρ_m, b),   Y_ρ(b, k) = Ỹ'(ρ_n, k, b)
//! ```
//! over the batch and inner variables (n_b + n_k of them): the prover folds x over m and y over
//! n (linear in their sizes) and runs one degree-3 sumcheck over the three tables. At its end
//! point r = (r_k, r_b) it sends x̃ at p_x = (r_k, ρ_m, r_b) and ỹ at p_y = (ρ_n, r_k, r_b) (the
//! inner and row variables swapped for a transposed y). X̃' = x̃ − z_x·mask̃_x, where mask̃_x is
//! the MLE of x's valid slots, which the verifier computes per axis ([`Layout::mask_eval`]); it
//! computes eq(ρ_b, r_b) too and checks
//!
//! ```text
//!   final = eq(ρ_b, r_b)·(x̃(p_x) − z_x·mask̃_x(p_x))·(ỹ(p_y) − z_y·mask̃_y(p_y))
//! ```
//! then returns the claims x̃(p_x) and ỹ(p_y) on its inputs.
//!
//! # Soundness
//! A false v survives the sumcheck with probability at most 3(n_b + n_k)/p; values other than
//! x̃(p_x), ỹ(p_y) that pass the final check are false claims on x or y, which their producers
//! check. When x and y are one tensor both claims are routed (never deduplicated).
#![deny(
    clippy::indexing_slicing,
    reason = "audited: the verifier side is index-free; the prover helpers that index say why"
)]

use super::encode::{ModelReads, OpEntry, OpRecord};
use super::mul::spread;
use super::zoo::Builder;
use super::{
    checked_entries, ClaimTarget, Layer, LayerSpec, LayerWitness, Layout, ModelError, Reduction,
    Tensor, TensorId,
};
use crate::codec::{ByteReader, ByteWriter, Sink};
use crate::error::{ProveError, VerifyError};
use crate::field::{from_i64, Fp};
use crate::poly::{eq_eval, eq_evals};
use crate::sumcheck::{self, prover::ProductSum, EvalClaim, SumcheckClaim, Term};
use crate::transcript::{ProverTranscript, VerifierTranscript};

/// The longest inner dimension: K·2^16 stays below 2^31, the accumulators' bound.
pub const MAX_INNER: usize = 1 << 14;

/// out = (x − z_x)·(y − z_y) over the last two axes, batched over the others; see the module
/// docs.
#[derive(Clone, Debug)]
pub struct MatProd {
    inputs: [TensorId; 2],
    x_layout: Layout,
    y_layout: Layout,
    out_layout: Layout,
    /// [z_x, z_y]
    zeros: [i32; 2],
    y_transposed: bool,
    /// Variables of the inner, row (m), column (n) and batch axes.
    nk: usize,
    nm: usize,
    nn: usize,
    nb: usize,
}

/// A [`MatProd`]'s canonical record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MatProdSpec {
    pub x: TensorId,
    pub x_dims: Vec<usize>,
    pub x_zero: i32,
    pub y: TensorId,
    pub y_dims: Vec<usize>,
    pub y_zero: i32,
    pub y_transposed: bool,
}

/// The operator's line in the encoding's registry ([`super::OPS`]).
pub(crate) const OP: OpEntry = OpEntry { tag: 20, kind: "matprod", decode: decode_spec };

fn decode_spec(r: &mut ByteReader<'_>) -> Result<Box<dyn OpRecord>, ModelError> {
    Ok(Box::new(MatProdSpec {
        x: r.usize()?,
        x_dims: r.dims()?,
        x_zero: r.i32()?,
        y: r.usize()?,
        y_dims: r.dims()?,
        y_zero: r.i32()?,
        y_transposed: match r.u8()? {
            0 => false,
            1 => true,
            _ => return Err(r.error("a transposition flag of 0 or 1").into()),
        },
    }))
}

impl OpRecord for MatProdSpec {
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
        w.u8(u8::from(self.y_transposed));
    }

    fn declared_inputs(&self) -> Vec<(TensorId, Vec<usize>)> {
        vec![(self.x, self.x_dims.clone()), (self.y, self.y_dims.clone())]
    }

    fn summary(&self) -> String {
        format!(
            "(x − {}) · (y − {}){}, x {:?}, y {:?}",
            self.x_zero,
            self.y_zero,
            if self.y_transposed { "ᵀ" } else { "" },
            self.x_dims,
            self.y_dims
        )
    }

    fn build(&self) -> Result<Box<dyn Layer>, ModelError> {
        let s = self;
        Ok(Box::new(MatProd::new(
            (s.x, &s.x_dims, s.x_zero),
            (s.y, &s.y_dims, s.y_zero),
            s.y_transposed,
        )?))
    }
}

impl MatProd {
    /// x (tensor, dimensions [B…, M, K], zero point) times y ([B…, K, N], or [B…, N, K] when
    /// `y_transposed`).
    ///
    /// # Errors
    /// [`ModelError::Shape`] naming both shapes when the ranks differ or are below 2, the batch
    /// axes differ, the inner lengths differ, a tensor is empty or beyond [`checked_entries`], or
    /// K exceeds [`MAX_INNER`]; [`ModelError::Parameter`] for a zero point outside int8.
    pub fn new(
        (x, x_dims, x_zero): (TensorId, &[usize], i32),
        (y, y_dims, y_zero): (TensorId, &[usize], i32),
        y_transposed: bool,
    ) -> Result<Self, ModelError> {
        let shapes = |why: &str| {
            ModelError::Shape(format!(
                "matprod: x of dimensions {x_dims:?} and y of dimensions {y_dims:?}{} ({why})",
                if y_transposed { " transposed" } else { "" }
            ))
        };
        let (x_len, y_len) = (checked_entries(x_dims)?, checked_entries(y_dims)?);
        if x_len == 0 || y_len == 0 {
            return Err(shapes("an empty tensor"));
        }
        let rank = x_dims.len();
        if rank < 2 || y_dims.len() != rank {
            return Err(shapes("both of one rank, at least 2"));
        }
        let (Some((batch, &[m, k])), Some((y_batch, &[y0, y1]))) =
            (x_dims.split_last_chunk::<2>(), y_dims.split_last_chunk::<2>())
        else {
            return Err(shapes("both of one rank, at least 2"));
        };
        if batch != y_batch {
            return Err(shapes("the leading (batch) axes must be equal"));
        }
        let (yk, n) = if y_transposed { (y1, y0) } else { (y0, y1) };
        if yk != k {
            return Err(shapes("the inner lengths differ"));
        }
        if k > MAX_INNER {
            return Err(shapes(&format!("an inner length beyond {MAX_INNER}")));
        }
        for z in [x_zero, y_zero] {
            if !(-128..=127).contains(&z) {
                return Err(ModelError::Parameter(format!("matprod: zero point {z} outside int8")));
            }
        }
        let mut out_dims = batch.to_vec();
        out_dims.extend([m, n]);
        checked_entries(&out_dims)?;
        let x_layout = Layout::new(x_dims);
        let out_layout = Layout::new(&out_dims);
        let (nk, nm) = (x_layout.axis_vars(rank - 1).len(), x_layout.axis_vars(rank - 2).len());
        let nn = out_layout.axis_vars(rank - 1).len();
        let nb = x_layout.num_vars() - nk - nm;
        Ok(Self {
            inputs: [x, y],
            x_layout,
            y_layout: Layout::new(y_dims),
            out_layout,
            zeros: [x_zero, y_zero],
            y_transposed,
            nk,
            nm,
            nn,
            nb,
        })
    }

    /// max |out| over all int8 inputs: K·max|x − z_x|·max|y − z_y| ≤ K·2^16.
    pub fn acc_bound(&self) -> i128 {
        let [zx, zy] = self.zeros;
        let k = self.x_layout.dims().last().copied().unwrap_or(0) as i128;
        k * spread(zx) * spread(zy)
    }

    /// (batch entries, M, K, N) of the unpadded tensors.
    pub fn sizes(&self) -> (usize, usize, usize, usize) {
        let d = self.x_layout.dims();
        let (m, k) = match d {
            [.., m, k] => (*m, *k),
            _ => (1, 1),
        };
        let n = self.out_layout.dims().last().copied().unwrap_or(1);
        (self.x_layout.len() / (m * k).max(1), m, k, n)
    }

    /// The prover's three tables over (b, k) for a claim at ρ (out's variables, checked by the
    /// caller): eq(ρ_b, b), X_ρ and Y_ρ.
    pub fn tables(&self, rho: &[Fp], x: &[i64], y: &[i64]) -> Vec<Vec<Fp>> {
        let (nk, nm, nn) = (self.nk, self.nm, self.nn);
        let split = |lo: usize, len: usize| rho.get(lo..lo + len).unwrap_or_default();
        let (rho_n, rho_m, rho_b) = (split(0, nn), split(nn, nm), split(nn + nm, self.nb));
        // X_ρ(b, k): x's variables are (k, m, b), fold m (at nk)
        let xs = Self::fold(&self.x_layout, x, self.zeros[0], nk, &eq_evals(rho_m));
        // Y_ρ(b, k): y's are (n, k, b), fold n at 0; transposed (k, n, b), fold n at nk
        let y_lo = if self.y_transposed { nk } else { 0 };
        let ys = Self::fold(&self.y_layout, y, self.zeros[1], y_lo, &eq_evals(rho_n));
        let e = eq_evals(rho_b).into_iter().flat_map(|v| std::iter::repeat_n(v, 1 << nk)).collect();
        vec![e, xs, ys]
    }

    /// [z_x, z_y]
    pub fn zeros(&self) -> [i32; 2] {
        self.zeros
    }

    /// x's point (r_k, ρ_m, r_b) and y's point (ρ_n, r_k, r_b) (or (r_k, ρ_n, r_b) transposed)
    /// from out's point ρ and the sumcheck's point r = (r_k, r_b); `None` on wrong lengths.
    pub fn points(&self, rho: &[Fp], r: &[Fp]) -> Option<(Vec<Fp>, Vec<Fp>)> {
        let (nk, nm, nn) = (self.nk, self.nm, self.nn);
        if rho.len() != nn + nm + self.nb || r.len() != nk + self.nb {
            return None;
        }
        let (r_k, r_b) = r.split_at_checked(nk)?;
        let (rho_n, rest) = rho.split_at_checked(nn)?;
        let rho_m = rest.get(..nm)?;
        let px = [r_k, rho_m, r_b].concat();
        let py = match self.y_transposed {
            false => [rho_n, r_k, r_b].concat(),
            true => [r_k, rho_n, r_b].concat(),
        };
        Some((px, py))
    }

    /// x and y from the layer's inputs, of the dimensions the layer was built for.
    fn operands<'a>(&self, inputs: &[&'a Tensor]) -> Result<(&'a Tensor, &'a Tensor), String> {
        let (Some(&x), Some(&y), 2) = (inputs.first(), inputs.get(1), inputs.len()) else {
            return Err(format!("matprod takes 2 inputs, got {}", inputs.len()));
        };
        if x.dims != self.x_layout.dims() || y.dims != self.y_layout.dims() {
            return Err(format!(
                "matprod built for x {:?} and y {:?}, got {:?} and {:?}",
                self.x_layout.dims(),
                self.y_layout.dims(),
                x.dims,
                y.dims
            ));
        }
        Ok((x, y))
    }

    /// Σ_j eq[j]·T'[… j …] over the variables `fold` (a range of `layout`'s variables) of the
    /// table T' = masked (t − z), indexed by the remaining variables (lowest first).
    #[expect(
        clippy::indexing_slicing,
        reason = "prover side: every index is below the padded length 2^num_vars by construction"
    )]
    fn fold(layout: &Layout, data: &[i64], zero: i32, fold_lo: usize, eq: &[Fp]) -> Vec<Fp> {
        let z = from_i64(zero as i64);
        let table: Vec<Fp> = layout
            .pad_fp(data)
            .into_iter()
            .zip(layout.mask())
            .map(|(v, valid)| if valid { v - z } else { Fp::default() })
            .collect();
        let nf = eq.len().trailing_zeros() as usize;
        let low = 1usize << fold_lo;
        let out_len = layout.padded_len() >> nf;
        let mut out = vec![Fp::default(); out_len];
        for (o, slot) in out.iter_mut().enumerate() {
            let (lo, hi) = (o & (low - 1), o >> fold_lo);
            let base = (hi << (fold_lo + nf)) | lo;
            *slot = eq.iter().enumerate().map(|(j, e)| *e * table[base | (j << fold_lo)]).sum();
        }
        out
    }
}

impl Layer for MatProd {
    fn spec(&self) -> LayerSpec {
        let [x, y] = self.inputs;
        let [x_zero, y_zero] = self.zeros;
        LayerSpec::Op(Box::new(MatProdSpec {
            x,
            x_dims: self.x_layout.dims().to_vec(),
            x_zero,
            y,
            y_dims: self.y_layout.dims().to_vec(),
            y_zero,
            y_transposed: self.y_transposed,
        }))
    }

    fn kind(&self) -> &'static str {
        "matprod"
    }

    fn inputs(&self) -> &[TensorId] {
        &self.inputs
    }

    fn output_dims(&self) -> &[usize] {
        self.out_layout.dims()
    }

    fn forward(&self, inputs: &[&Tensor]) -> Result<LayerWitness, ModelError> {
        let (x, y) = self.operands(inputs).map_err(ModelError::Shape)?;
        if x.to_i8().is_none() || y.to_i8().is_none() {
            return Err(ModelError::Shape("the inputs of a matprod must be int8".into()));
        }
        let [zx, zy] = self.zeros.map(i64::from);
        let (batch, m, k, n) = self.sizes();
        // y − z_y as [batch, N, K] rows, so each output is a dot of two contiguous rows
        let mut yt = vec![0i64; batch * n * k];
        for b in 0..batch {
            for kk in 0..k {
                for nn in 0..n {
                    let src = match self.y_transposed {
                        false => (b * k + kk) * n + nn,
                        true => (b * n + nn) * k + kk,
                    };
                    let v = y.data.get(src).copied().unwrap_or(zy) - zy;
                    if let Some(slot) = yt.get_mut((b * n + nn) * k + kk) {
                        *slot = v;
                    }
                }
            }
        }
        let mut data = Vec::with_capacity(batch * m * n);
        for b in 0..batch {
            for row in x.data.chunks_exact(k).skip(b * m).take(m) {
                for col in yt.chunks_exact(k).skip(b * n).take(n) {
                    data.push(row.iter().zip(col).map(|(&a, &c)| (a - zx) * c).sum::<i64>());
                }
            }
        }
        Ok(LayerWitness {
            output: Tensor::new(self.out_layout.dims().to_vec(), data)?,
            advice: Vec::new(),
        })
    }

    fn reduction(&self) -> Option<&dyn Reduction> {
        Some(self)
    }
}

impl Reduction for MatProd {
    fn prove_output(
        &self,
        claim: &EvalClaim,
        inputs: &[&Tensor],
        mut t: &mut dyn ProverTranscript,
    ) -> Result<Vec<(ClaimTarget, EvalClaim)>, ProveError> {
        let nk = self.nk;
        let rho = &claim.point;
        if rho.len() != self.out_layout.num_vars() {
            return Err(ProveError::ShapeMismatch {
                what: "variables of a claim on a matprod output",
                expected: self.out_layout.num_vars(),
                got: rho.len(),
            });
        }
        let (x, y) = self.operands(inputs).map_err(|reason| ProveError::InvalidShape { reason })?;
        let tables = self.tables(rho, &x.data, &y.data);
        let out = sumcheck::prove(ProductSum::product(tables)?, claim.value, &mut t)?;
        let (px, py) = self.points(rho, &out.point).ok_or(ProveError::ShapeMismatch {
            what: "variables of the matprod sumcheck's point",
            expected: nk + self.nb,
            got: out.point.len(),
        })?;
        let &[_, x_r, y_r] = out.final_evals.as_slice() else {
            return Err(ProveError::InvalidShape { reason: "three final evaluations".into() });
        };
        let [zx, zy] = self.zeros.map(|z| from_i64(z as i64));
        let x_r = x_r + zx * self.x_layout.mask_eval(&px);
        let y_r = y_r + zy * self.y_layout.mask_eval(&py);
        sumcheck::send_final_evals(&mut t, &[x_r, y_r]);
        Ok(vec![
            (ClaimTarget::Input(0), EvalClaim { point: px, value: x_r }),
            (ClaimTarget::Input(1), EvalClaim { point: py, value: y_r }),
        ])
    }

    fn verify_output(
        &self,
        claim: &EvalClaim,
        mut t: &mut dyn VerifierTranscript,
    ) -> Result<Vec<(ClaimTarget, EvalClaim)>, VerifyError> {
        if claim.point.len() != self.out_layout.num_vars() {
            return Err(VerifyError::InvalidStatement {
                reason: "a claim on a matprod output has the wrong number of variables",
            });
        }
        let num_vars = self.nk + self.nb;
        let sc = SumcheckClaim { num_vars, degree: 3, claimed_sum: claim.value };
        let eval = sumcheck::verify(&sc, &mut t)?;
        let (px, py) =
            self.points(&claim.point, &eval.point).ok_or(VerifyError::InvalidStatement {
                reason: "the matprod sumcheck's point has the wrong length",
            })?;
        let rho_b = claim.point.get(self.nn + self.nm..).unwrap_or_default();
        let r_b = eval.point.get(self.nk..).unwrap_or_default();
        let e = eq_eval(rho_b, r_b);
        let [zx, zy] = self.zeros.map(|z| from_i64(z as i64));
        let (ax, ay) = (zx * self.x_layout.mask_eval(&px), zy * self.y_layout.mask_eval(&py));
        // e·(X − a_x)·(Y − a_y) over the factors [X, Y] sent
        let terms = [
            Term::new(e, vec![0, 1]),
            Term::new(-(e * ay), vec![0]),
            Term::new(-(e * ax), vec![1]),
            Term::new(e * ax * ay, Vec::new()),
        ];
        let evals = sumcheck::verify_final_evals(&terms, 2, &eval, &mut t)?;
        let Ok([x, y]) = <[EvalClaim; 2]>::try_from(evals) else {
            return Err(VerifyError::InvalidStatement {
                reason: "two factor evaluations expected",
            });
        };
        Ok(vec![
            (ClaimTarget::Input(0), EvalClaim { point: px, value: x.value }),
            (ClaimTarget::Input(1), EvalClaim { point: py, value: y.value }),
        ])
    }
}

impl Builder {
    /// The batched matrix product of int8 tensors x and y (each with its zero point; y
    /// transposed when `y_transposed`) requantized to int8 with the float rescale `m` =
    /// s_x·s_y / s_out and output zero point `zero_out`: a [`MatProd`] and a requantization of its
    /// output. Returns the int8 tensor.
    ///
    /// # Errors
    /// Shapes that do not multiply (naming both), zero points outside int8, or an `m` without a
    /// fixed-point numerator.
    pub fn matprod(
        &mut self,
        (x, x_zero): (TensorId, i32),
        (y, y_zero): (TensorId, i32),
        y_transposed: bool,
        m: f64,
        zero_out: i32,
    ) -> Result<TensorId, ModelError> {
        let (xd, yd) = (self.dims(x), self.dims(y));
        let mp = MatProd::new((x, &xd, x_zero), (y, &yd, y_zero), y_transposed)?;
        let bound = mp.acc_bound();
        let p = self.push(mp);
        self.requant_product(p, bound, m, zero_out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_ff::UniformRand;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha20Rng;

    /// (x dims, y dims, y transposed): one matrix, heads, odd lengths everywhere (padded slots of
    /// every axis), K = 1, M = N = 1, a batch of one.
    const SHAPES: [(&[usize], &[usize], bool); 8] = [
        (&[3, 5], &[5, 6], false),
        (&[2, 3, 5], &[2, 5, 7], false),
        (&[1, 4, 6, 8], &[1, 4, 6, 8], true),
        (&[1, 3, 5, 3], &[1, 3, 3, 5], false),
        (&[2, 3, 1], &[2, 1, 4], false),
        (&[2, 1, 5], &[2, 1, 5], true),
        (&[1, 1], &[1, 1], false),
        (&[3, 2, 3, 7], &[3, 2, 5, 7], true),
    ];

    fn random_tensor(rng: &mut ChaCha20Rng, dims: &[usize]) -> Tensor {
        let len = dims.iter().product();
        Tensor::new(dims.to_vec(), (0..len).map(|_| rng.gen_range(-128..=127)).collect()).unwrap()
    }

    #[test]
    fn forward_is_the_batched_product_and_the_folds_give_the_claim() {
        let mut rng = ChaCha20Rng::seed_from_u64(20);
        for (xd, yd, tr) in SHAPES {
            let (zx, zy) = (rng.gen_range(-128..=127), rng.gen_range(-128..=127));
            let mp = MatProd::new((1, xd, zx), (2, yd, zy), tr).unwrap();
            let (x, y) = (random_tensor(&mut rng, xd), random_tensor(&mut rng, yd));
            let out = mp.forward(&[&x, &y]).unwrap().output;
            let (batch, m, k, n) = mp.sizes();
            assert_eq!(out.data.len(), batch * m * n);
            for b in 0..batch {
                for i in 0..m {
                    for j in 0..n {
                        let want: i64 = (0..k)
                            .map(|l| {
                                let yi = if tr { (b * n + j) * k + l } else { (b * k + l) * n + j };
                                (x.data[(b * m + i) * k + l] - zx as i64) * (y.data[yi] - zy as i64)
                            })
                            .sum();
                        assert_eq!(out.data[(b * m + i) * n + j], want, "{xd:?} {b} {i} {j}");
                        assert!(want.abs() as i128 <= mp.acc_bound());
                    }
                }
            }
            // the sum over (b, k) of the folded tables is õut(ρ), and the folds' MLEs at the
            // sumcheck's point are x̃ − z_x·mask̃ and ỹ − z_y·mask̃ at p_x, p_y
            let rho: Vec<Fp> = (0..mp.out_layout.num_vars()).map(|_| Fp::rand(&mut rng)).collect();
            let (nk, nm, nn) = (mp.nk, mp.nm, mp.nn);
            let xs = MatProd::fold(&mp.x_layout, &x.data, zx, nk, &eq_evals(&rho[nn..nn + nm]));
            let lo = if tr { nk } else { 0 };
            let ys = MatProd::fold(&mp.y_layout, &y.data, zy, lo, &eq_evals(&rho[..nn]));
            let eq_b = eq_evals(&rho[nn + nm..]);
            let sum: Fp = (0..xs.len()).map(|i| eq_b[i >> nk] * xs[i] * ys[i]).sum();
            assert_eq!(sum, out.evaluate(&rho), "{xd:?}");
            let r: Vec<Fp> = (0..nk + mp.nb).map(|_| Fp::rand(&mut rng)).collect();
            let (px, py) = mp.points(&rho, &r).unwrap();
            let (zxf, zyf) = (from_i64(zx as i64), from_i64(zy as i64));
            let xm = x.evaluate(&px) - zxf * mp.x_layout.mask_eval(&px);
            let ym = y.evaluate(&py) - zyf * mp.y_layout.mask_eval(&py);
            assert_eq!(crate::poly::evaluate_padded(&xs, &r), xm, "{xd:?}");
            assert_eq!(crate::poly::evaluate_padded(&ys, &r), ym, "{xd:?}");
        }
    }

    #[test]
    fn shapes_that_do_not_multiply_name_both() {
        for (xd, yd, tr) in [
            (&[3, 5][..], &[4, 6][..], false),
            (&[3, 5], &[6, 4], true),
            (&[2, 3, 5], &[3, 5, 6], false),
            (&[5], &[5], false),
            (&[3, 5], &[1, 5, 6], false),
            (&[3, 0], &[0, 6], false),
        ] {
            let e = MatProd::new((1, xd, 0), (2, yd, 0), tr).unwrap_err().to_string();
            assert!(e.contains(&format!("{xd:?}")) && e.contains(&format!("{yd:?}")), "{e}");
        }
        let big = [2, MAX_INNER + 1];
        assert!(MatProd::new((1, &big, 0), (2, &[MAX_INNER + 1, 2], 0), false).is_err());
        assert!(MatProd::new((1, &[2, 2], 128), (2, &[2, 2], 0), false).is_err());
    }
}
