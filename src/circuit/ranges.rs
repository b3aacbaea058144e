//! The model's range table: the narrowest range-check width its layers fit
//! ([`narrowest_ranges`]).

use super::{Layer, LIMB_BITS, MAX_TABLE_ROWS};

/// The smallest range tables a model's range checks are tried with.
const MIN_RANGE_BITS: u32 = 8;

/// The model's range table: the bits b (from [`MIN_RANGE_BITS`] to 16) for which every layer with
/// range checks fits b bits, as it is or rebuilt ([`Layer::with_range_bits`]: threshold pieces
/// of 2^b), and the 2^b range multiplicities plus the shared table's rows are fewest (the shared
/// table within [`MAX_TABLE_ROWS`]). Returns the layers for that b. A function of the layers
/// alone, so a decoded model finds the same b.
pub(super) fn narrowest_ranges(layers: Vec<Box<dyn Layer>>) -> (Vec<Box<dyn Layer>>, u32) {
    let rows = |ls: &[&dyn Layer]| -> usize {
        ls.iter().filter_map(|l| l.table_lookup()).map(|t| t.rows.len()).sum()
    };
    let checked = |l: &dyn Layer| !l.range_checks().is_empty();
    if !layers.iter().any(|l| checked(l.as_ref())) {
        return (layers, LIMB_BITS);
    }
    let refs: Vec<&dyn Layer> = layers.iter().map(|l| l.as_ref()).collect();
    let mut best: (usize, u32, Vec<Option<Box<dyn Layer>>>) =
        ((1 << LIMB_BITS) + rows(&refs), LIMB_BITS, Vec::new());
    for bits in MIN_RANGE_BITS..LIMB_BITS {
        let mut rebuilt: Vec<Option<Box<dyn Layer>>> = Vec::with_capacity(layers.len());
        let mut fits = true;
        for l in &layers {
            let l = l.as_ref();
            if !checked(l) || l.range_bits() <= bits {
                rebuilt.push(None);
            } else if let Some(r) = l.with_range_bits(bits) {
                rebuilt.push(Some(r));
            } else {
                fits = false;
                break;
            }
        }
        if !fits {
            continue;
        }
        let view: Vec<&dyn Layer> =
            layers.iter().zip(&rebuilt).map(|(l, r)| r.as_deref().unwrap_or(l.as_ref())).collect();
        let total = rows(&view);
        let cost = (1usize << bits) + total;
        if total <= MAX_TABLE_ROWS && cost < best.0 {
            best = (cost, bits, rebuilt);
        }
    }
    let (_, bits, rebuilt) = best;
    if rebuilt.is_empty() {
        return (layers, bits);
    }
    let layers = layers.into_iter().zip(rebuilt).map(|(l, r)| r.unwrap_or(l)).collect();
    (layers, bits)
}
