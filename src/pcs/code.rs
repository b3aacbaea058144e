//! Reed–Solomon encoding over gkrnet's field: a message of k = 2^m coefficients is evaluated on
//! the radix-2 domain of size k·2^b (rate ρ = 2^-b, relative distance 1 − ρ). One FFT per
//! message; many messages (the rows of a matrix) are encoded in parallel.

use crate::field::Fp;
use ark_ff::Field;
use ark_poly::{EvaluationDomain, Radix2EvaluationDomain};
use rayon::prelude::*;

/// Messages of at least this many symbols are encoded coset by coset ([`ReedSolomon::encode`]).
const COSET_ENCODE: usize = 1 << 12;

#[derive(Clone, Copy, Debug)]
pub struct ReedSolomon {
    message: usize,
    blowup_log: u32,
    domain: Radix2EvaluationDomain<Fp>,
}

impl ReedSolomon {
    /// A code for messages of `message` (a power of two) symbols at rate 2^-`blowup_log`; `None`
    /// when the domain would exceed the field's 2-adicity.
    pub fn new(message: usize, blowup_log: u32) -> Option<Self> {
        if !message.is_power_of_two() || blowup_log > 8 {
            return None;
        }
        let n = message.checked_shl(blowup_log)?;
        let domain = Radix2EvaluationDomain::new(n).filter(|d| d.size() == n)?;
        Some(Self { message, blowup_log, domain })
    }

    pub fn message_len(&self) -> usize {
        self.message
    }

    pub fn codeword_len(&self) -> usize {
        self.message << self.blowup_log
    }

    pub fn rate_log(&self) -> u32 {
        self.blowup_log
    }

    /// The evaluation point of codeword symbol i.
    pub fn point(&self, i: usize) -> Fp {
        self.domain.element(i)
    }

    /// The codeword of `message` (its coefficients, low degree first).
    ///
    /// Large messages are encoded coset by coset: symbol s + 2^b·k is P(ωˢ·ηᵏ) with η = ω^(2^b)
    /// the generator of the message-sized subgroup, so each of the 2^b cosets is one FFT of the
    /// message's size on the coefficients scaled by ωˢⁱ. That skips the FFT's first b layers (whose
    /// inputs are mostly the zero padding), runs smaller (more cache-friendly) FFTs, and runs the
    /// cosets in parallel.
    pub fn encode(&self, message: &[Fp]) -> Vec<Fp> {
        debug_assert_eq!(message.len(), self.message);
        let small = (self.message >= COSET_ENCODE)
            .then(|| Radix2EvaluationDomain::<Fp>::new(self.message))
            .flatten()
            .filter(|d| d.size() == self.message);
        let Some(small) = small else {
            return self.encode_owned(message.to_vec());
        };
        let cosets = 1usize << self.blowup_log;
        let blocks: Vec<Vec<Fp>> = (0..cosets)
            .into_par_iter()
            .map(|s| {
                let shift = self.domain.element(s);
                let mut v = message.to_vec();
                if s > 0 {
                    const CHUNK: usize = 1 << 12;
                    v.par_chunks_mut(CHUNK).enumerate().for_each(|(c, chunk)| {
                        let mut w = shift.pow([(c * CHUNK) as u64]);
                        for x in chunk {
                            *x *= w;
                            w *= shift;
                        }
                    });
                }
                small.fft_in_place(&mut v);
                v
            })
            .collect();
        // interleave: symbol s + cosets·k is block s's k-th value
        let mut out = vec![Fp::default(); self.codeword_len()];
        const ROWS: usize = 1 << 10;
        out.par_chunks_mut(cosets * ROWS).enumerate().for_each(|(c, o)| {
            for (k, row) in o.chunks_exact_mut(cosets).enumerate() {
                for (x, b) in row.iter_mut().zip(&blocks) {
                    *x = b.get(c * ROWS + k).copied().unwrap_or_default();
                }
            }
        });
        out
    }

    /// The codeword of `message` (its coefficients), computed in the message's own buffer: one
    /// FFT of the codeword's size, whose first b layers ark-poly skips for a message at rate
    /// 1/4 or less (they only copy it).
    pub fn encode_owned(&self, mut message: Vec<Fp>) -> Vec<Fp> {
        debug_assert_eq!(message.len(), self.message);
        message.reserve_exact(self.codeword_len() - message.len());
        self.domain.fft_in_place(&mut message);
        message
    }

    /// Row-major rows of `message_len` symbols each → row-major codewords, in parallel.
    pub fn encode_rows(&self, rows: &[Fp]) -> Vec<Fp> {
        let mut out = vec![Fp::default(); rows.len() / self.message * self.codeword_len()];
        out.par_chunks_mut(self.codeword_len())
            .zip(rows.par_chunks(self.message))
            .for_each(|(o, r)| o.copy_from_slice(&self.encode(r)));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::field::from_i64;

    fn naive(message: &[Fp], x: Fp) -> Fp {
        message.iter().rev().fold(Fp::default(), |acc, c| acc * x + c)
    }

    #[test]
    fn codewords_are_evaluations_of_the_message() {
        for (k, b) in [(1, 1), (4, 1), (16, 2), (64, 3)] {
            let code = ReedSolomon::new(k, b).unwrap();
            let msg: Vec<Fp> = (0..k as i64).map(|i| from_i64(i * i - 5)).collect();
            let cw = code.encode(&msg);
            assert_eq!(cw.len(), k << b);
            for (i, c) in cw.iter().enumerate() {
                assert_eq!(*c, naive(&msg, code.point(i)), "k {k} b {b} symbol {i}");
            }
            // linear, and rows encode alone
            let rows: Vec<Fp> = msg.iter().chain(&msg).map(|v| *v + Fp::from(3u64)).collect();
            let enc = code.encode_rows(&rows);
            let one: Vec<Fp> = msg.iter().map(|v| *v + Fp::from(3u64)).collect();
            assert_eq!(&enc[..k << b], code.encode(&one).as_slice());
            assert_eq!(&enc[k << b..], code.encode(&one).as_slice());
        }
        // coset by coset (large messages) as one long FFT
        for b in [1, 2, 3] {
            let k = COSET_ENCODE << 1;
            let code = ReedSolomon::new(k, b).unwrap();
            let msg: Vec<Fp> = (0..k as i64).map(|i| from_i64((i * 7919) % 255 - 127)).collect();
            let mut long = msg.clone();
            long.resize(k << b, Fp::default());
            code.domain.fft_in_place(&mut long);
            assert_eq!(code.encode(&msg), long, "b {b}");
            assert_eq!(code.encode_owned(msg.clone()), long, "b {b}");
            for i in [0, 1, 5, (k << b) - 1] {
                assert_eq!(long[i], naive(&msg, code.point(i)));
            }
        }
        assert!(ReedSolomon::new(3, 1).is_none());
        assert!(ReedSolomon::new(1 << 60, 8).is_none());
    }
}
