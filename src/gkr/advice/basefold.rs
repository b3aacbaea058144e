//! Advice committed with the Basefold PCS ([`crate::pcs::basefold`]) and opened once per proof.
//!
//! **Commit.** Every column (each zero-padded to its layout, 2^vᵢ entries) is placed in one table
//! T of 2^n entries, largest first, so that each column's offset oᵢ is a multiple of its size:
//! the column's MLE is then T̃(x, bits(oᵢ / 2^vᵢ)) — its own variables low, the offset's bits
//! high. T is committed with one Merkle root, sent before the first challenge that depends on it
//! (the mode and its parameters are absorbed even earlier, by the driver).
//!
//! **Openings.** The driver records every claim cᵢ(pᵢ) = yᵢ, with pᵢ zero-extended to the
//! claim's length: a claim of the form fᵢ·T̃(qᵢ) = yᵢ with qᵢ = (pᵢ[..vᵢ], bits(oᵢ/2^vᵢ)) and
//! fᵢ = Π_{j ≥ vᵢ} (1 − pᵢⱼ).
//!
//! **Zero padding.** In clear mode the verifier pads the columns itself; here the prover could
//! write anything in a column's padded slots, and the layers' relations rely on zeros there. So
//! the same reduction also proves Σ_x eq(τ, x)·(1 − M(x))·T(x) = 0 over the columns' slots, with
//! M the concatenated layout masks and τ random: that sum is the MLE of (1 − M)·T at τ, zero for
//! every τ only if T vanishes on every padded slot (error ≤ n/p).
//!
//! **Finish.** After the last layer both sides absorb the claims, draw τ and γ, and prove
//! Σ_x w(x)·T(x) = Σᵢ γⁱ·yᵢ with
//! w(x) = Σᵢ γⁱ·fᵢ·eq(qᵢ, x) + γᶜ·Σ_s eq(τ, x)·(1 − M(x))·[x in column s]
//! by one weighted Basefold opening ([`basefold::open_weighted`]): Basefold's own sumcheck runs
//! with w in place of eq(z, ·), so there is no separate merge sumcheck. At the end the verifier
//! needs w's MLE at (r, b) for the b of the final polynomial's cube (`weight_tail`: O(c·2^k),
//! plus each padded column's block, its mask factoring axis by axis). If any yᵢ is false, the
//! combined sum is false except with probability c/p over γ, and the opening then fails; its
//! error (sumcheck and folds) is in `paper-notes/pcs.md`.

use super::{AdviceProver, AdviceVerifier};
use crate::circuit::Layout;
use crate::error::{ProveError, VerifyError};
use crate::field::{from_i64, Fp};
use crate::pcs::basefold::{self, Commitment, Committed, Params};
use crate::poly::{eq_eval, eq_evals_scaled};
use crate::transcript::{labels, Label, ProverTranscript, Transcript, VerifierTranscript};
use ark_ff::{One, Zero};
use rayon::prelude::*;

/// Where each column sits in the committed table.
#[derive(Clone, Debug, Default)]
struct Placement {
    layouts: Vec<Layout>,
    offsets: Vec<usize>,
    /// Variables of the whole table (at least 1).
    num_vars: usize,
}

impl Placement {
    fn new(layouts: Vec<Layout>) -> Self {
        // largest first; a stable sort keeps equal sizes in column order
        let mut order: Vec<(usize, &Layout)> = layouts.iter().enumerate().collect();
        order.sort_by_key(|(_, l)| std::cmp::Reverse(l.num_vars()));
        let mut placed: Vec<(usize, usize)> = Vec::with_capacity(layouts.len());
        let mut at = 0usize;
        for (i, l) in order {
            placed.push((i, at));
            at += l.padded_len();
        }
        placed.sort_unstable_by_key(|&(i, _)| i);
        let offsets = placed.into_iter().map(|(_, offset)| offset).collect();
        let num_vars = at.next_power_of_two().max(2).trailing_zeros() as usize;
        Self { layouts, offsets, num_vars }
    }

    /// The column's variables and its index among the blocks of its size; `None` for no column.
    fn block(&self, id: usize) -> Option<(usize, usize)> {
        let v = self.layouts.get(id)?.num_vars();
        Some((v, self.offsets.get(id)? >> v))
    }
}

/// eq(r, bits(index)) for the boolean point of `index`'s low r.len() bits.
fn select(r: &[Fp], index: usize) -> Fp {
    r.iter()
        .enumerate()
        .map(|(b, x)| if (index >> b) & 1 == 1 { *x } else { Fp::one() - x })
        .product()
}

/// One recorded claim: factor·col̃(point) = value.
#[derive(Clone, Debug)]
struct Opening {
    id: usize,
    point: Vec<Fp>,
    factor: Fp,
    value: Fp,
}

impl Opening {
    /// A claim on column `id` at a point of at least the column's variables.
    fn new(pl: &Placement, id: usize, point: &[Fp], value: Fp) -> Option<Self> {
        let v = pl.layouts.get(id)?.num_vars();
        let (low, high) = (point.get(..v)?, point.get(v..)?);
        let factor = high.iter().map(|r| Fp::one() - r).product();
        Some(Self { id, point: low.to_vec(), factor, value })
    }
}

/// What both sides do at the start of the finish: absorb the claims, draw τ and γ; returns
/// (τ, each claim's coefficient γⁱ·fᵢ, the padding coefficient γᶜ, the claimed sum Σ γⁱ·yᵢ).
fn challenges(
    domain: &[u8],
    pl: &Placement,
    openings: &[Opening],
    t: &mut impl Transcript,
) -> (Vec<Fp>, Vec<Fp>, Fp, Fp) {
    t.append_bytes(labels::ADVICE_CLAIMS, domain);
    t.append_u64(labels::ADVICE_CLAIMS, openings.len() as u64);
    for o in openings {
        t.append_u64(labels::ADVICE_CLAIMS, o.id as u64);
        t.append_fields(labels::ADVICE_CLAIMS, &o.point);
        t.append_field(labels::ADVICE_CLAIMS, &o.value);
    }
    let tau = t.challenges(labels::ADVICE_TAU, pl.num_vars);
    let gamma = t.challenge(labels::ADVICE_GAMMA);
    let mut g = Fp::one();
    let mut coeffs = Vec::with_capacity(openings.len());
    let mut sum = Fp::zero();
    for o in openings {
        coeffs.push(g * o.factor);
        sum += g * o.value;
        g *= gamma;
    }
    (tau, coeffs, g, sum)
}

/// w(ρ) at one point, in O(c·n) plus the padded columns' masks: the reference that
/// [`weight_tail`] is tested against.
#[cfg(test)]
fn weight_eval(
    pl: &Placement,
    openings: &[Opening],
    coeffs: &[Fp],
    pad: Fp,
    tau: &[Fp],
    rho: &[Fp],
) -> Fp {
    let claims: Fp = openings
        .iter()
        .zip(coeffs)
        .map(|(o, c)| {
            let (v, index) = pl.block(o.id).unwrap();
            *c * eq_eval(&o.point, &rho[..v]) * select(&rho[v..], index)
        })
        .sum();
    let padding: Fp = (0..pl.layouts.len())
        .filter(|&s| pl.layouts[s].len() < pl.layouts[s].padded_len())
        .map(|s| {
            let (v, index) = pl.block(s).unwrap();
            let (tl, rl) = (&tau[..v], &rho[..v]);
            select(&tau[v..], index)
                * select(&rho[v..], index)
                * (eq_eval(tl, rl) - pl.layouts[s].masked_eq_eval(tl, rl))
        })
        .sum();
    claims + pad * padding
}

/// w(r, b) for every b of the final polynomial's cube (the table's last k = n − r.len()
/// variables, b's bit j the variable r.len() + j): what the weighted Basefold opening's verifier
/// needs, [`weight_eval`] at each (r, b) in O(c·2^k) plus, per padded column, the slots of its
/// block that reach into the cube. `None` if an opening names no column of `pl` or `tau` is
/// shorter than the table's variables (neither happens for openings recorded against `pl`).
fn weight_tail(
    pl: &Placement,
    openings: &[Opening],
    coeffs: &[Fp],
    pad: Fp,
    tau: &[Fp],
    r: &[Fp],
) -> Option<Vec<Fp>> {
    let (n, h) = (pl.num_vars, r.len().min(pl.num_vars));
    let k = n - h;
    let mut out = vec![Fp::zero(); 1 << k];
    let bit = |index: usize, b: usize| Fp::from(((index >> b) & 1) as u64);
    // claims: c·eq(q, (r, b)) with q = (point, bits of the block index)
    for (o, c) in openings.iter().zip(coeffs) {
        let (v, index) = pl.block(o.id)?;
        let q: Vec<Fp> = o.point.iter().copied().chain((0..n - v).map(|b| bit(index, b))).collect();
        let (q_head, q_tail) = q.split_at_checked(h)?;
        let scale = *c * eq_eval(q_head, r);
        let e = eq_evals_scaled(q_tail, scale);
        out.iter_mut().zip(e).for_each(|(x, y)| *x += y);
    }
    // padding: column s's term of weight_eval at (r, b), on the b of its block only (its block
    // index fixes b's bits from variable max(v, h) on; below, its own variables run free)
    let padded = pl.layouts.iter().zip(&pl.offsets).filter(|(l, _)| l.len() < l.padded_len());
    for (layout, &offset) in padded {
        let v = layout.num_vars();
        let index = offset >> v;
        let (tl, tau_high) = tau.split_at_checked(v)?;
        let (r_low, r_high) = r.split_at_checked(h.min(v))?;
        let select_tau = select(tau_high, index);
        let select_r = select(r_high, index);
        let free = v.saturating_sub(h);
        let fixed = index >> h.saturating_sub(v);
        for low in 0..1usize << free {
            let rl: Vec<Fp> = r_low.iter().copied().chain((0..free).map(|j| bit(low, j))).collect();
            let own = eq_eval(tl, &rl) - layout.masked_eq_eval(tl, &rl);
            // low < 2^free and fixed < 2^(n − max(v, h)): the slot is below 2^k
            *out.get_mut(low | (fixed << free))? += pad * select_tau * select_r * own;
        }
    }
    Some(out)
}

/// A committed table and where each column sits in it: the advice of one proof, or a model
/// commitment's weights (committed once, opened by any number of proofs).
#[derive(Debug)]
pub struct CommittedTable {
    placement: Placement,
    committed: Committed,
}

impl CommittedTable {
    /// Commits `columns`, each zero-padded to its layout, placed largest first.
    ///
    /// # Errors
    /// A column whose length is not its layout's, or a table beyond the FFT domains.
    pub fn new(params: Params, columns: &[(&Layout, &[i64])]) -> Result<Self, ProveError> {
        let (placement, table) = fill(columns)?;
        Self::from_table(params, placement, table)
    }

    /// Commits a placed table as it is (a cheating prover in the tests writes its padding).
    fn from_table(
        params: Params,
        placement: Placement,
        table: Vec<Fp>,
    ) -> Result<Self, ProveError> {
        Ok(Self { committed: basefold::commit(table, params)?, placement })
    }

    pub fn commitment(&self) -> Commitment {
        self.committed.commitment
    }

    /// Records an opening; one the verifier could not phrase either is dropped (the verifier
    /// rejects it).
    fn record(&self, openings: &mut Vec<Opening>, id: usize, point: &[Fp], value: Fp) {
        if let Some(o) = Opening::new(&self.placement, id, point, value) {
            openings.push(o);
        }
    }

    /// Proves every recorded opening by one weighted Basefold opening (see the module docs);
    /// `strict` refuses to prove a false claim, `domain` names what the table holds.
    #[expect(
        clippy::indexing_slicing,
        reason = "prover only: openings name columns of the placement (Opening::new checks), each block [offset, offset + 2^v) lies in the table, and tau has num_vars >= v entries"
    )]
    fn prove_openings(
        &self,
        openings: &[Opening],
        domain: &[u8],
        strict: bool,
        mut t: &mut dyn ProverTranscript,
    ) -> Result<(), ProveError> {
        if openings.is_empty() {
            return Ok(());
        }
        let pl = &self.placement;
        let (tau, coeffs, pad, sum) = challenges(domain, pl, openings, &mut t);
        let table = self.committed.table();
        let mut w = vec![Fp::zero(); table.len()];
        for (o, c) in openings.iter().zip(&coeffs) {
            let offset = pl.offsets[o.id];
            let e = eq_evals_scaled(&o.point, *c);
            w[offset..offset + e.len()].iter_mut().zip(e).for_each(|(x, y)| *x += y);
        }
        for (layout, &offset) in pl.layouts.iter().zip(&pl.offsets) {
            if layout.len() == layout.padded_len() {
                continue;
            }
            let (v, index) = (layout.num_vars(), offset >> layout.num_vars());
            let e = eq_evals_scaled(&tau[..v], pad * select(&tau[v..], index));
            for ((x, y), valid) in w[offset..offset + e.len()].iter_mut().zip(e).zip(layout.mask())
            {
                if !valid {
                    *x += y;
                }
            }
        }
        let holds = || w.par_iter().zip(table).map(|(a, b)| *a * b).sum::<Fp>() == sum;
        if strict && !holds() {
            return Err(ProveError::ClaimedSumMismatch);
        }
        basefold::open_weighted(&[&self.committed], w, &[sum], &mut t)
    }

    /// One proof's openings of this (precommitted) table.
    pub fn openings(&self, strict: bool) -> TableOpenings<'_> {
        TableOpenings { table: self, openings: Vec::new(), strict }
    }
}

/// The openings one proof makes of a precommitted table (a model commitment's weights): the
/// table's root is part of the statement, absorbed by the caller, not sent.
#[derive(Debug)]
pub struct TableOpenings<'a> {
    table: &'a CommittedTable,
    openings: Vec<Opening>,
    strict: bool,
}

impl TableOpenings<'_> {
    /// Records that column `id` evaluates to `value` at `point`.
    pub fn open(&mut self, id: usize, point: &[Fp], value: Fp) {
        self.table.record(&mut self.openings, id, point, value);
    }

    /// Proves every recorded opening; called once, after the advice's.
    ///
    /// # Errors
    /// A false opening (when strict), or a table beyond the FFT domains.
    pub fn finish(&mut self, t: &mut dyn ProverTranscript) -> Result<(), ProveError> {
        let openings = std::mem::take(&mut self.openings);
        self.table.prove_openings(&openings, b"weights", self.strict, t)
    }
}

/// The prover of [`super::AdviceMode::Committed`].
#[derive(Debug)]
pub struct CommittedProver {
    params: Params,
    table: Option<CommittedTable>,
    openings: Vec<Opening>,
    /// Refuse to prove false openings (a cheater in the tests sends them anyway).
    strict: bool,
}

impl CommittedProver {
    pub fn new(params: Params) -> Self {
        Self { params, table: None, openings: Vec::new(), strict: true }
    }

    /// Commits the placed table as it is (a cheating prover in the tests writes its padding).
    #[cfg(test)]
    fn commit_table(&mut self, pl: Placement, table: Vec<Fp>) -> Result<(), ProveError> {
        self.table = Some(CommittedTable::from_table(self.params, pl, table)?);
        Ok(())
    }

    /// The commitment (root and variables) once committed.
    pub fn commitment(&self) -> Option<Commitment> {
        self.table.as_ref().map(CommittedTable::commitment)
    }
}

/// The table of `columns`, each zero-padded to its layout, at its placement.
#[expect(
    clippy::indexing_slicing,
    reason = "prover only: a column's padded block [offset, offset + 2^v) lies in the table of 2^num_vars >= Σ 2^v entries"
)]
fn fill(columns: &[(&Layout, &[i64])]) -> Result<(Placement, Vec<Fp>), ProveError> {
    let pl = Placement::new(columns.iter().map(|(l, _)| (*l).clone()).collect());
    let mut table = vec![Fp::zero(); 1 << pl.num_vars];
    for ((layout, data), &offset) in columns.iter().zip(&pl.offsets) {
        if data.len() != layout.len() {
            return Err(ProveError::ShapeMismatch {
                what: "entries of a committed column",
                expected: layout.len(),
                got: data.len(),
            });
        }
        let padded = layout.pad(data);
        for (slot, v) in table[offset..offset + padded.len()].iter_mut().zip(padded) {
            *slot = from_i64(v);
        }
    }
    Ok((pl, table))
}

impl AdviceProver for CommittedProver {
    fn commit(
        &mut self,
        columns: &[(Label, &Layout, &[i64])],
        mut t: &mut dyn ProverTranscript,
    ) -> Result<(), ProveError> {
        let columns: Vec<(&Layout, &[i64])> = columns.iter().map(|(_, l, d)| (*l, *d)).collect();
        let table = CommittedTable::new(self.params, &columns)?;
        basefold::send_commitment(&mut t, &table.commitment());
        self.table = Some(table);
        Ok(())
    }

    fn open(&mut self, id: usize, point: &[Fp], value: Fp, _: &mut dyn ProverTranscript) {
        if let Some(table) = &self.table {
            table.record(&mut self.openings, id, point, value);
        }
    }

    fn finish(&mut self, t: &mut dyn ProverTranscript) -> Result<(), ProveError> {
        let Some(table) = &self.table else {
            return Err(ProveError::InvalidShape {
                reason: "advice finished before commit".into(),
            });
        };
        let openings = std::mem::take(&mut self.openings);
        table.prove_openings(&openings, b"advice", self.strict, t)
    }
}

/// The verifier of [`super::AdviceMode::Committed`].
#[derive(Debug)]
pub struct CommittedVerifier {
    params: Params,
    placement: Placement,
    commitment: Option<Commitment>,
    openings: Vec<Opening>,
    domain: &'static [u8],
}

impl CommittedVerifier {
    pub fn new(params: Params) -> Self {
        Self {
            params,
            placement: Placement::default(),
            commitment: None,
            openings: Vec::new(),
            domain: b"advice",
        }
    }

    /// The verifier of a precommitted [`CommittedTable`] (a model commitment): columns of these layouts under `root`.
    ///
    /// # Errors
    /// A table of more than 2^30 entries.
    pub fn precommitted(
        params: Params,
        layouts: Vec<Layout>,
        root: crate::pcs::Hash,
    ) -> Result<Self, VerifyError> {
        let placement = Placement::new(layouts);
        if placement.num_vars > 30 {
            return Err(VerifyError::InvalidStatement {
                reason: "more than 2^30 committed weights",
            });
        }
        let commitment = Some(Commitment { root, num_vars: placement.num_vars });
        Ok(Self { placement, commitment, domain: b"weights", ..Self::new(params) })
    }
}

impl AdviceVerifier for CommittedVerifier {
    fn receive(
        &mut self,
        columns: &[(Label, Layout)],
        mut t: &mut dyn VerifierTranscript,
    ) -> Result<(), VerifyError> {
        let pl = Placement::new(columns.iter().map(|(_, l)| l.clone()).collect());
        if pl.num_vars > 30 {
            return Err(VerifyError::InvalidStatement { reason: "more advice than 2^30 entries" });
        }
        self.commitment = Some(basefold::receive_commitment(&mut t, pl.num_vars)?);
        self.placement = pl;
        Ok(())
    }

    fn check(
        &mut self,
        id: usize,
        layout: &Layout,
        point: &[Fp],
        value: Fp,
        _what: &'static str,
        _: &mut dyn VerifierTranscript,
    ) -> Result<(), VerifyError> {
        if self.placement.layouts.get(id).is_some_and(|l| l != layout) {
            return Err(VerifyError::AdviceLayout { id });
        }
        let opening = Opening::new(&self.placement, id, point, value)
            .ok_or(VerifyError::InvalidStatement { reason: "opening of an unknown column" })?;
        self.openings.push(opening);
        Ok(())
    }

    fn finish(&mut self, mut t: &mut dyn VerifierTranscript) -> Result<(), VerifyError> {
        let commitment = self
            .commitment
            .ok_or(VerifyError::InvalidStatement { reason: "advice finished before commit" })?;
        if self.openings.is_empty() {
            return Ok(());
        }
        let pl = &self.placement;
        let (tau, coeffs, pad, claimed_sum) = challenges(self.domain, pl, &self.openings, &mut t);
        let openings = &self.openings;
        // weights that cannot be built (an opening of no column) are empty: the opening's
        // verifier rejects weights of the wrong length
        let tail = |r: &[Fp]| weight_tail(pl, openings, &coeffs, pad, &tau, r).unwrap_or_default();
        basefold::verify_weighted(&[commitment], &[claimed_sum], self.params, &mut t, tail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::poly::evaluate_padded;
    use crate::transcript::{FiatShamirProver, FiatShamirVerifier};
    use rand::{rngs::StdRng, Rng, SeedableRng};

    const P: Params = Params { rate_log: 2, queries: 20, fold_log: 4, pow_bits: 0 };

    #[test]
    fn weights_of_an_opening_of_no_column_are_refused_not_indexed() {
        let pl = Placement::new(vec![Layout::new(&[3]), Layout::new(&[10, 5])]);
        let stray =
            Opening { id: 2, point: vec![Fp::one(); 2], factor: Fp::one(), value: Fp::one() };
        let tau = vec![Fp::one(); pl.num_vars];
        assert_eq!(weight_tail(&pl, &[stray], &[Fp::one()], Fp::one(), &tau, &[]), None);
        // tau shorter than a padded column's variables
        assert_eq!(weight_tail(&pl, &[], &[], Fp::one(), &[], &[]), None);
    }

    #[test]
    fn columns_sit_at_multiples_of_their_size() {
        let pl = Placement::new(vec![
            Layout::new(&[3]),
            Layout::new(&[10, 5]),
            Layout::new(&[1]),
            Layout::new(&[100]),
        ]);
        for (l, &o) in pl.layouts.iter().zip(&pl.offsets) {
            assert_eq!(o % l.padded_len(), 0, "offset {o} of a column of {}", l.padded_len());
        }
        let total: usize = pl.layouts.iter().map(Layout::padded_len).sum();
        assert!(1 << pl.num_vars >= total && total > 1 << (pl.num_vars - 1));
    }

    /// Random columns, and openings of each at a random point (some longer than the column).
    struct Case {
        layouts: Vec<Layout>,
        data: Vec<Vec<i64>>,
        openings: Vec<(usize, Vec<Fp>, Fp)>,
    }

    fn case(seed: u64) -> Case {
        let mut rng = StdRng::seed_from_u64(seed);
        let layouts: Vec<Layout> = (0..rng.gen_range(1..6))
            .map(|_| Layout::new(&[rng.gen_range(1..9), rng.gen_range(1..40)]))
            .collect();
        let data: Vec<Vec<i64>> = layouts
            .iter()
            .map(|l| (0..l.len()).map(|_| rng.gen_range(-300..70000)).collect())
            .collect();
        let mut openings = Vec::new();
        for _ in 0..rng.gen_range(1..8) {
            let id = rng.gen_range(0..layouts.len());
            let extra = rng.gen_range(0..3);
            let point: Vec<Fp> =
                (0..layouts[id].num_vars() + extra).map(|_| Fp::from(rng.gen::<u64>())).collect();
            let value = evaluate_padded(&layouts[id].pad_fp(&data[id]), &point);
            openings.push((id, point, value));
        }
        Case { layouts, data, openings }
    }

    #[test]
    fn the_weights_on_the_final_cube_are_the_weights_at_each_point() {
        // weight_tail(r)[b] = weight_eval((r, b)) for every split of the variables
        for seed in 0..40 {
            let c = case(seed);
            let mut rng = StdRng::seed_from_u64(seed + 1000);
            let pl = Placement::new(c.layouts.clone());
            let openings: Vec<Opening> =
                c.openings.iter().filter_map(|(id, p, v)| Opening::new(&pl, *id, p, *v)).collect();
            let coeffs: Vec<Fp> = openings.iter().map(|_| Fp::from(rng.gen::<u64>())).collect();
            let pad = Fp::from(rng.gen::<u64>());
            let tau: Vec<Fp> = (0..pl.num_vars).map(|_| Fp::from(rng.gen::<u64>())).collect();
            for h in 0..=pl.num_vars {
                let r: Vec<Fp> = (0..h).map(|_| Fp::from(rng.gen::<u64>())).collect();
                let tail = weight_tail(&pl, &openings, &coeffs, pad, &tau, &r).unwrap();
                assert_eq!(tail.len(), 1 << (pl.num_vars - h));
                for (b, got) in tail.iter().enumerate() {
                    let x: Vec<Fp> = r
                        .iter()
                        .copied()
                        .chain((0..pl.num_vars - h).map(|j| Fp::from(((b >> j) & 1) as u64)))
                        .collect();
                    let want = weight_eval(&pl, &openings, &coeffs, pad, &tau, &x);
                    assert_eq!(*got, want, "seed {seed}, h {h}, b {b}");
                }
            }
        }
    }

    /// Proves the case's openings, with `table` (if given) committed in place of the columns.
    fn prove(c: &Case, table: Option<Vec<Fp>>) -> Vec<u8> {
        let mut t = FiatShamirProver::new("committed advice test");
        let mut p = CommittedProver { strict: false, ..CommittedProver::new(P) };
        let cols: Vec<(Label, &Layout, &[i64])> = c
            .layouts
            .iter()
            .zip(&c.data)
            .map(|(l, d)| (labels::GKR_ADVICE, l, d.as_slice()))
            .collect();
        match table {
            None => p.commit(&cols, &mut t).unwrap(),
            Some(table) => {
                p.commit_table(Placement::new(c.layouts.clone()), table).unwrap();
                basefold::send_commitment(&mut t, &p.commitment().unwrap());
            }
        }
        for (id, point, value) in &c.openings {
            p.open(*id, point, *value, &mut t);
        }
        p.finish(&mut t).unwrap();
        t.into_proof().encode()
    }

    fn verify(c: &Case, proof: &[u8]) -> Result<(), VerifyError> {
        let mut t = FiatShamirVerifier::new("committed advice test", proof)?;
        let mut v = CommittedVerifier::new(P);
        let cols: Vec<(Label, Layout)> =
            c.layouts.iter().map(|l| (labels::GKR_ADVICE, l.clone())).collect();
        v.receive(&cols, &mut t)?;
        for (id, point, value) in &c.openings {
            v.check(*id, &c.layouts[*id], point, *value, "test", &mut t)?;
        }
        v.finish(&mut t)?;
        t.finish()
    }

    #[test]
    fn honest_openings_verify() {
        for seed in 0..60 {
            let c = case(seed);
            assert_eq!(verify(&c, &prove(&c, None)), Ok(()), "seed {seed}");
        }
    }

    #[test]
    fn a_false_opening_is_rejected() {
        for seed in 0..20 {
            let mut c = case(seed);
            let k = seed as usize % c.openings.len();
            c.openings[k].2 += Fp::from(1u64);
            // the prover proves the false claim as best it can: the merged sum no longer holds
            let mut t = FiatShamirProver::new("committed advice test");
            let mut p = CommittedProver::new(P);
            let cols: Vec<(Label, &Layout, &[i64])> = c
                .layouts
                .iter()
                .zip(&c.data)
                .map(|(l, d)| (labels::GKR_ADVICE, l, d.as_slice()))
                .collect();
            p.commit(&cols, &mut t).unwrap();
            for (id, point, value) in &c.openings {
                p.open(*id, point, *value, &mut t);
            }
            assert_eq!(p.finish(&mut t), Err(ProveError::ClaimedSumMismatch));
            // and an honest proof checked against the false claim fails
            let honest = case(seed);
            assert!(verify(&c, &prove(&honest, None)).is_err(), "seed {seed}");
        }
    }

    #[test]
    fn nonzero_padding_is_rejected() {
        // a cheater writes a value into a padded slot of a column and opens the column honestly
        // with respect to what it committed: every opening is true of the committed table, but
        // the layers would read a non-zero padding
        let mut checked = 0;
        for seed in 0..40 {
            let c = case(seed);
            let pl = Placement::new(c.layouts.clone());
            let Some(id) =
                (0..c.layouts.len()).find(|&i| c.layouts[i].len() < c.layouts[i].padded_len())
            else {
                continue;
            };
            let mut table = vec![Fp::zero(); 1 << pl.num_vars];
            for ((l, d), &o) in c.layouts.iter().zip(&c.data).zip(&pl.offsets) {
                for (slot, v) in table[o..].iter_mut().zip(l.pad_fp(d)) {
                    *slot = v;
                }
            }
            let pad = c.layouts[id].mask().iter().position(|&valid| !valid).unwrap();
            table[pl.offsets[id] + pad] = Fp::from(5u64);
            let mut cheat = case(seed);
            for (oid, point, value) in &mut cheat.openings {
                let o = pl.offsets[*oid];
                let column = &table[o..o + c.layouts[*oid].padded_len()];
                *value = evaluate_padded(column, point);
            }
            let proof = prove(&cheat, Some(table));
            assert!(verify(&cheat, &proof).is_err(), "seed {seed}");
            checked += 1;
        }
        assert!(checked > 10);
    }

    #[test]
    fn tampered_proofs_are_rejected() {
        let c = case(7);
        let proof = prove(&c, None);
        let mut rng = StdRng::seed_from_u64(1);
        for _ in 0..200 {
            let mut bad = proof.clone();
            let i = rng.gen_range(0..bad.len());
            bad[i] ^= 1 << rng.gen_range(0..8);
            assert!(verify(&c, &bad).is_err(), "flip at byte {i}");
        }
        // other parameters on the verifier's side
        let mut t = FiatShamirVerifier::new("committed advice test", &proof).unwrap();
        let mut v = CommittedVerifier::new(Params { queries: 21, ..P });
        let cols: Vec<(Label, Layout)> =
            c.layouts.iter().map(|l| (labels::GKR_ADVICE, l.clone())).collect();
        v.receive(&cols, &mut t).unwrap();
        for (id, point, value) in &c.openings {
            v.check(*id, &c.layouts[*id], point, *value, "test", &mut t).unwrap();
        }
        assert!(v.finish(&mut t).is_err());
    }
}
