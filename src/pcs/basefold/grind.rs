//! Grinding: the proof of work between the final polynomial and the query positions.

use crate::transcript::{labels, Transcript};
use rayon::prelude::*;

/// The key of the grinding hash (its own domain: never a Merkle leaf or node).
const POW_KEY: [u8; 32] = *b"gkrnet basefold grinding, v1....";

/// Whether blake3_key(seed ‖ nonce) ends in at least `bits` zero bits (read little-endian).
pub fn pow_holds(seed: &[u8; 16], nonce: u64, bits: u32) -> bool {
    let mut msg = [0u8; 24];
    msg[..16].copy_from_slice(seed);
    msg[16..].copy_from_slice(&nonce.to_le_bytes());
    let h = blake3::keyed_hash(&POW_KEY, &msg);
    let mut low = [0u8; 8];
    low.copy_from_slice(&h.as_bytes()[..8]);
    u64::from_le_bytes(low).trailing_zeros() >= bits
}

/// The least nonce with [`pow_holds`], searched in parallel batches (so the proof does not
/// depend on the thread count). Expected work 2^bits hashes.
pub fn grind(seed: &[u8; 16], bits: u32) -> u64 {
    const BATCH: u64 = 1 << 13;
    (0u64..)
        .find_map(|b| {
            (b * BATCH..(b + 1) * BATCH).into_par_iter().find_first(|&n| pow_holds(seed, n, bits))
        })
        .unwrap_or_default()
}

/// The grinding seed: a challenge drawn after the final polynomial, as 16 bytes.
pub(super) fn pow_seed(t: &mut impl Transcript) -> [u8; 16] {
    crate::field::to_u128(&t.challenge(labels::PCS_POW_SEED)).to_le_bytes()
}
