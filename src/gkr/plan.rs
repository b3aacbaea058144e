//! What both sides derive from the model alone, before any message: each tensor's layout, where
//! every range check and table lookup sits in the two batched lookups, and the shared table.

use crate::circuit::{Layout, Lin, Model, Var};
use crate::field::{from_i64, Fp};
use crate::lookup::{LookupStatement, Table};
use crate::poly::eq_eval;
use rayon::prelude::*;
use std::collections::HashMap;

/// One looked-up segment: a layer's vector (2^vars entries) placed at `offset` in the lookup's
/// value vector. Segments are sorted by size (largest first), so each offset is a multiple of its
/// size and the value MLE splits as Σ_s eq(ρ_high, offset/size)·segment(ρ_low).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Segment {
    pub layer: usize,
    /// Index of the range check within the layer (0 for a table lookup).
    pub check: usize,
    pub vars: usize,
    pub offset: usize,
}

fn place(mut segs: Vec<Segment>) -> (Vec<Segment>, usize) {
    segs.sort_by_key(|s| std::cmp::Reverse(s.vars));
    let mut offset = 0;
    for s in &mut segs {
        s.offset = offset;
        offset += 1 << s.vars;
    }
    (segs, offset)
}

/// What both sides derive from the model alone.
#[derive(Clone, Debug)]
pub(crate) struct Plan {
    pub layouts: Vec<Layout>,
    pub range: Vec<Segment>,
    pub range_total: usize,
    pub table: Vec<Segment>,
    pub table_total: usize,
    /// Layers with a table lookup, in layer order.
    pub table_layers: Vec<usize>,
    /// For each of them, the first row of its block in the shared table, and the total.
    pub table_offsets: Vec<usize>,
    pub table_rows: usize,
    /// For each of them, the layer whose block and tag it uses: the first layer with the same
    /// rows (layer norms share one inverse-square-root table), else itself. Identical rows
    /// are the same set, so sharing a block changes no lookup's meaning.
    pub table_owners: Vec<usize>,
    /// The range table is [0, 2^range_bits) (the model's).
    pub range_bits: u32,
}

impl Plan {
    pub fn new(model: &Model) -> Self {
        let layouts: Vec<Layout> =
            model.layers.iter().map(|l| Layout::new(l.output_dims())).collect();
        let mut range = Vec::new();
        let mut table = Vec::new();
        let mut table_layers = Vec::new();
        let mut table_offsets = Vec::new();
        let mut table_rows = 0;
        let mut table_owners = Vec::new();
        // blocks so far by a hash of their rows: (owner layer, offset, rows)
        let mut blocks: HashMap<u64, Vec<(usize, usize, TableRows)>> = HashMap::new();
        // (owner, offset) of each block by the address of its rows (kept alive in `blocks`)
        let mut by_ptr: HashMap<usize, (usize, usize)> = HashMap::new();
        for ((i, l), layout) in model.layers.iter().enumerate().zip(&layouts) {
            let vars = layout.num_vars();
            for check in 0..l.range_checks().len() {
                range.push(Segment { layer: i, check, vars, offset: 0 });
            }
            if let Some(t) = l.table_lookup() {
                table.push(Segment { layer: i, check: 0, vars, offset: 0 });
                table_layers.push(i);
                // the same rows by pointer (a shared table) need no hash
                let ptr = std::sync::Arc::as_ptr(&t.rows) as usize;
                if let Some(&(owner, offset)) = by_ptr.get(&ptr) {
                    table_offsets.push(offset);
                    table_owners.push(owner);
                    continue;
                }
                let same = blocks.entry(rows_hash(&t.rows)).or_default();
                match same.iter().find(|b| b.2 == t.rows) {
                    Some(&(owner, offset, _)) => {
                        table_offsets.push(offset);
                        table_owners.push(owner);
                    }
                    None => {
                        by_ptr.insert(ptr, (i, table_rows));
                        same.push((i, table_rows, t.rows.clone()));
                        table_offsets.push(table_rows);
                        table_owners.push(i);
                        table_rows += t.rows.len();
                    }
                }
            }
        }
        let (range, range_total) = place(range);
        let (table, table_total) = place(table);
        Self {
            range_bits: model.range_bits(),
            layouts,
            range,
            range_total,
            table,
            table_total,
            table_layers,
            table_offsets,
            table_rows,
            table_owners,
        }
    }

    /// The layer whose tag table-lookup layer `layer`'s tuples carry ([`Plan::table_owners`]).
    pub fn table_owner(&self, layer: usize) -> usize {
        (self.table_layers.iter().position(|&l| l == layer))
            .and_then(|k| self.table_owners.get(k).copied())
            .unwrap_or(layer)
    }

    pub fn range_statement(&self) -> LookupStatement {
        LookupStatement {
            num_values: self.range_total,
            table: Table::Range { bits: self.range_bits },
        }
    }

    pub fn table_statement(&self, model: &Model, beta: Fp) -> LookupStatement {
        let mut t = Vec::with_capacity(self.table_rows);
        let owners = self.table_layers.iter().zip(&self.table_owners);
        for (&i, _) in owners.filter(|(i, owner)| i == owner) {
            if let Some(tl) = model.layers.get(i).and_then(|l| l.table_lookup()) {
                // the same fold as `fold_row`, on the integers: no allocation per row
                let tag = Fp::from(tag(i));
                t.par_extend(
                    tl.rows
                        .par_iter()
                        .map(|row| row.iter().rev().fold(tag, |acc, &v| acc * beta + from_i64(v))),
                );
            }
        }
        LookupStatement { num_values: self.table_total, table: Table::Explicit(t) }
    }

    /// The columns and inputs a layer's range checks read, sorted: the values sent at the range
    /// lookup's point.
    pub fn range_vars(&self, model: &Model, layer: usize) -> Vec<Var> {
        let mut vars: Vec<Var> = (model.layers.get(layer).map(|l| l.range_checks()))
            .unwrap_or_default()
            .iter()
            .flat_map(|l| l.vars().collect::<Vec<_>>())
            .filter(|v| matches!(v, Var::Col(_) | Var::In(_)))
            .collect();
        vars.sort();
        vars.dedup();
        vars
    }

    /// Layers with range checks, in layer order.
    pub fn range_layers(&self, model: &Model) -> Vec<usize> {
        (model.layers.iter().enumerate())
            .filter(|(_, l)| !l.range_checks().is_empty())
            .map(|(i, _)| i)
            .collect()
    }
}

type TableRows = std::sync::Arc<Vec<Vec<i64>>>;

/// A hash of a table's rows (FNV-1a over their entries and widths), to find equal tables.
fn rows_hash(rows: &[Vec<i64>]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut mix = |v: u64| {
        h ^= v;
        h = h.wrapping_mul(0x0100_0000_01b3);
    };
    mix(rows.len() as u64);
    for row in rows {
        mix(row.len() as u64);
        row.iter().for_each(|&v| mix(v as u64));
    }
    h
}

/// The layer tag of table lookups.
pub(crate) fn tag(layer: usize) -> u64 {
    layer as u64 + 1
}

/// Σ_s eq(ρ[vars..], offset >> vars)·value_s.
pub(crate) fn combine_segments(segs: &[Segment], rho: &[Fp], values: &[Fp]) -> Fp {
    segs.iter()
        .zip(values)
        .map(|(s, v)| {
            let high = rho.get(s.vars..).unwrap_or_default();
            let index = s.offset >> s.vars;
            let bits: Vec<Fp> =
                (0..high.len()).map(|b| Fp::from(((index >> b) & 1) as u64)).collect();
            eq_eval(high, &bits) * v
        })
        .sum()
}

/// Σᵢ βⁱ·vᵢ + β^w·tag (Horner): a tuple and its layer tag as one field element.
pub(crate) fn fold_row(values: &[Fp], tag: u64, beta: Fp) -> Fp {
    values.iter().rev().fold(Fp::from(tag), |acc, v| acc * beta + v)
}

/// The value of a table-lookup segment from the tuple's MLEs and the mask at its point: padded
/// slots (where every component is 0) look up row 0, with the layer's tag.
pub(crate) fn table_segment_value(
    evals: &[Fp],
    mask: Fp,
    row0: &[i64],
    layer: usize,
    beta: Fp,
) -> Fp {
    let one_minus = Fp::from(1u64) - mask;
    let adjusted: Vec<Fp> =
        evals.iter().zip(row0).map(|(e, &r)| *e + one_minus * from_i64(r)).collect();
    fold_row(&adjusted, tag(layer), beta)
}

/// A range-checked combination on one padded slot: Σ c·v + constant on valid slots, 0 on padded
/// ones (where columns and inputs are 0). `value` gives a column's or an input's entry.
pub(crate) fn range_int(lin: &Lin, value: impl Fn(Var) -> i64, valid: bool) -> i128 {
    if !valid {
        return 0;
    }
    lin.terms.iter().map(|&(v, c)| c * value(v) as i128).sum::<i128>() + lin.constant
}

/// The MLE of a range-checked combination at a point, from its variables' values there and the
/// layout's mask (the constant lives on valid slots only).
pub(crate) fn range_eval(lin: &Lin, value: impl Fn(Var) -> Fp, mask: Fp) -> Fp {
    lin.terms.iter().map(|&(v, c)| crate::field::from_i128(c) * value(v)).sum::<Fp>()
        + crate::field::from_i128(lin.constant) * mask
}
