//! The parameter sets, the fold schedule computed from them, and the parameters message.

/// Code rate, number of queries, fold arity and grinding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Params {
    /// ρ = 2^-rate_log.
    pub rate_log: u32,
    pub queries: usize,
    /// Variables folded per committed codeword: a Merkle leaf holds the 2^fold_log values of
    /// one coset, so one path serves fold_log folds.
    pub fold_log: u32,
    /// Proof-of-work bits before the queries (grinding, [`grind`](super::grind)): every new draw of the query
    /// positions costs a prover 2^pow_bits hashes, which stands in for pow_bits bits of the
    /// query error against a Fiat–Shamir prover (0: no proof of work, no message).
    pub pow_bits: u32,
}

impl Params {
    /// Provable, unique decoding: ρ = 1/4, δ → 3/8, 124 queries (2^-84.1) and 16 bits of
    /// grinding for 100 bits.
    pub const PROVABLE: Params = Params { rate_log: 2, queries: 124, fold_log: 4, pow_bits: 16 };
    /// Conjectured up to capacity: ρ = 1/4, 42 queries (2^-84) and 16 bits of grinding.
    pub const CONJECTURED: Params = Params { rate_log: 2, queries: 42, fold_log: 4, pow_bits: 16 };
    /// The provable set of proofs made before grinding (until 2026-12-05): 148 queries,
    /// 2^-100.4 without grinding. Still accepted by verifiers that read the mode from a file.
    pub const PROVABLE_V1: Params = Params { rate_log: 2, queries: 148, fold_log: 4, pow_bits: 0 };
    /// The conjectured set before grinding: 50 queries.
    pub const CONJECTURED_V1: Params =
        Params { rate_log: 2, queries: 50, fold_log: 4, pow_bits: 0 };
    /// The most grinding a verifier accepts (a prover's expected work is 2^pow_bits hashes).
    pub const MAX_POW_BITS: u32 = 32;

    /// The height of the Merkle cap sent once per tree (its 2^c nodes are shared by the paths of
    /// all queries): ⌊log₂ queries⌋, at most the tree's depth.
    pub(super) fn cap(&self, depth: usize) -> usize {
        (usize::BITS - 1 - self.queries.max(1).leading_zeros()).min(depth as u32) as usize
    }

    /// The groups of folds and the final polynomial's size for a table of n variables: of the
    /// candidates "fold g groups of fold_log (the last one what remains), send the rest in the
    /// clear", the one whose estimated proof is smallest (the fewest groups on a tie). Both sides
    /// compute it from the parameters alone.
    pub fn schedule(&self, n: usize) -> Schedule {
        let a = self.fold_log.max(1) as usize;
        let t = self.queries.max(1);
        let (mut best, mut best_cost) = (Schedule { groups: vec![0], final_vars: n }, u128::MAX);
        for g in 0..=n.div_ceil(a) {
            let mut groups: Vec<usize> = (0..g).map(|i| a.min(n - i * a)).collect();
            let folded: usize = groups.iter().sum();
            if groups.is_empty() {
                groups.push(0);
            }
            // bytes: the final table, then every committed codeword's leaves and paths (an upper
            // bound: every query in its own leaf, no shared siblings), roots and round messages
            let mut cost: u128 = 16 << (n - folded);
            let mut m = n + self.rate_log as usize;
            for &ar in &groups {
                let depth = m - ar;
                let c = self.cap(depth);
                let opened = t.min(1 << depth) as u128;
                cost += opened * (16 << ar) + 32 * ((1 << c) + t as u128 * (depth - c) as u128);
                cost += 40 + 56 * ar as u128;
                m -= ar;
            }
            if cost < best_cost {
                (best, best_cost) = (Schedule { groups, final_vars: n - folded }, cost);
            }
        }
        best
    }
}

/// How an opening of n variables folds: `groups[i]` variables are folded out of committed
/// codeword i (whose leaves hold 2^groups[i] values), and the table of the last `final_vars`
/// variables is sent in the clear. `groups` is `[0]` when nothing is folded: the commitment's
/// leaves then hold single values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schedule {
    pub groups: Vec<usize>,
    pub final_vars: usize,
}

/// What the parameters message holds, with the names [`PcsError::ParamsMismatch`] gives them.
pub(super) const PARAM_NAMES: [&str; 6] =
    ["rate_log", "queries", "fold_log", "pow_bits", "num_vars", "tables"];

pub(super) fn param_words(params: &Params, num_vars: usize, tables: usize) -> [u64; 6] {
    [
        params.rate_log.into(),
        params.queries as u64,
        params.fold_log.into(),
        params.pow_bits.into(),
        num_vars as u64,
        tables as u64,
    ]
}
