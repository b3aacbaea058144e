//! A binary Merkle tree over blake3 with domain-separated leaves and nodes: a leaf is blake3
//! keyed with [`LEAF_KEY`] over its data, a node blake3 keyed with [`NODE_KEY`] over
//! left ‖ right, so no leaf can pose as a node. Keys (rather than a prefix byte) keep a node at
//! one 64-byte compression and a leaf of 16 values at four.
//! Leaves are hashed and layers built in parallel (rayon) above a size where that pays.
//!
//! Openings of many leaves at once ([`MerkleTree::multi_path`]) send each needed sibling once:
//! the nodes the verifier can compute from the opened leaves themselves are left out, and the
//! top levels are sent once as a cap.

use crate::field::{to_u128, Fp};
use rayon::prelude::*;

pub type Hash = [u8; 32];

/// Below this many hashes a layer is built on one thread.
const PARALLEL: usize = 1 << 10;

/// The blake3 key of leaf hashes.
pub const LEAF_KEY: [u8; 32] = *b"gkrnet/pcs/merkle/leaf/v1.......";
/// The blake3 key of node hashes.
pub const NODE_KEY: [u8; 32] = *b"gkrnet/pcs/merkle/node/v1.......";

fn node(l: &Hash, r: &Hash) -> Hash {
    let mut buf = [0u8; 64];
    buf[..32].copy_from_slice(l);
    buf[32..].copy_from_slice(r);
    *blake3::keyed_hash(&NODE_KEY, &buf).as_bytes()
}

/// Leaves of up to this many values are hashed from one stack buffer (one blake3 call).
const STACK_LEAF: usize = 32;

/// The hash of a leaf holding `values` (canonical 16-byte encodings).
pub fn leaf(values: &[Fp]) -> Hash {
    let put = |buf: &mut [u8]| {
        for (c, v) in buf.chunks_exact_mut(16).zip(values) {
            c.copy_from_slice(&to_u128(v).to_le_bytes());
        }
    };
    let len = 16 * values.len();
    let mut stack = [0u8; 16 * STACK_LEAF];
    // a leaf of at most STACK_LEAF values fits the stack buffer
    if let Some(buf) = stack.get_mut(..len) {
        put(buf);
        *blake3::keyed_hash(&LEAF_KEY, buf).as_bytes()
    } else {
        let mut buf = vec![0u8; len];
        put(&mut buf);
        *blake3::keyed_hash(&LEAF_KEY, &buf).as_bytes()
    }
}

/// All layers, leaves first; the last layer is the root.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MerkleTree {
    layers: Vec<Vec<Hash>>,
}

impl MerkleTree {
    /// A tree over leaf hashes; their number must be a power of two (≥ 1).
    pub fn new(leaves: Vec<Hash>) -> Option<Self> {
        if !leaves.len().is_power_of_two() {
            return None;
        }
        let mut layers = vec![leaves];
        while let Some(last) = layers.last().filter(|l| l.len() > 1) {
            let next: Vec<Hash> = if last.len() >= PARALLEL {
                last.as_chunks::<2>().0.par_iter().map(|[l, r]| node(l, r)).collect()
            } else {
                last.as_chunks::<2>().0.iter().map(|[l, r]| node(l, r)).collect()
            };
            layers.push(next);
        }
        Some(Self { layers })
    }

    /// A tree whose leaf i holds `data[i·width .. (i+1)·width]`.
    pub fn from_rows(data: &[Fp], width: usize) -> Option<Self> {
        if width == 0 || !data.len().is_multiple_of(width) {
            return None;
        }
        let leaves: Vec<Hash> = if data.len() / width >= PARALLEL {
            data.par_chunks_exact(width).map(leaf).collect()
        } else {
            data.chunks_exact(width).map(leaf).collect()
        };
        Self::new(leaves)
    }

    pub fn root(&self) -> Hash {
        self.layers.last().and_then(|l| l.first()).copied().unwrap_or([0; 32])
    }

    pub fn leaves(&self) -> usize {
        self.layers.first().map_or(0, Vec::len)
    }

    /// The sibling hashes from leaf `index` up to the root, or `None` out of range.
    pub fn path(&self, index: usize) -> Option<Vec<Hash>> {
        if index >= self.leaves() {
            return None;
        }
        let mut i = index;
        let (_root, below) = self.layers.split_last()?;
        let mut out = Vec::with_capacity(below.len());
        for layer in below {
            out.push(*layer.get(i ^ 1)?);
            i >>= 1;
        }
        Some(out)
    }
}

impl MerkleTree {
    /// The 2^c nodes c levels below the root (the "cap"; c ≤ depth).
    pub fn cap(&self, c: usize) -> Option<&[Hash]> {
        let depth = self.layers.len().checked_sub(1)?;
        self.layers.get(depth.checked_sub(c)?).map(Vec::as_slice)
    }

    /// The siblings from leaf `index` up to (not including) the cap of height c.
    pub fn path_to_cap(&self, index: usize, c: usize) -> Option<Vec<Hash>> {
        let depth = self.layers.len() - 1;
        let mut p = self.path(index)?;
        p.truncate(depth.checked_sub(c)?);
        Some(p)
    }
}

impl MerkleTree {
    /// The siblings a verifier needs, besides the leaves `indices` (sorted, distinct) and the cap
    /// of height c, to recompute the cap: level by level from the leaves up, in increasing index
    /// order, each sibling that is not itself computed from the opened leaves. `None` if the
    /// indices are not sorted and distinct, out of range, or c exceeds the depth.
    pub fn multi_path(&self, indices: &[usize], c: usize) -> Option<Vec<Hash>> {
        let depth = self.layers.len() - 1;
        let below = depth.checked_sub(c)?;
        if !indices.is_sorted_by(|a, b| a < b) || indices.last() >= Some(&self.leaves()) {
            return None;
        }
        let mut level = indices.to_vec();
        let mut out = Vec::new();
        let mut in_range = true;
        for layer in self.layers.get(..below)? {
            level = up(&level, |sibling| match layer.get(sibling) {
                Some(h) => out.push(*h),
                None => in_range = false,
            });
        }
        in_range.then_some(out)
    }
}

/// One level of a multi-path walk: the parents of the sorted, distinct `level`, calling
/// `missing(sibling)` for each sibling that is not in `level`.
fn up(level: &[usize], mut missing: impl FnMut(usize)) -> Vec<usize> {
    let mut next = Vec::with_capacity(level.len());
    let mut i = 0;
    while let Some(&idx) = level.get(i) {
        if idx & 1 == 0 && level.get(i + 1) == Some(&(idx + 1)) {
            i += 2;
        } else {
            missing(idx ^ 1);
            i += 1;
        }
        next.push(idx >> 1);
    }
    next
}

/// How many siblings [`MerkleTree::multi_path`] sends for these leaves (sorted, distinct) of a
/// tree with `leaves` leaves and a cap of height c: what a verifier reads before it checks them.
pub fn multi_path_len(leaves: usize, indices: &[usize], c: usize) -> usize {
    let below = (leaves.trailing_zeros() as usize).saturating_sub(c);
    let mut level = indices.to_vec();
    let mut count = 0;
    for _ in 0..below {
        level = up(&level, |_| count += 1);
    }
    count
}

/// Why a multi-path does not verify.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MultiPathError {
    /// Indices not sorted and distinct or out of range, a cap that is not 2^c nodes, or a number
    /// of siblings or leaf hashes other than the shape requires.
    Shape,
    /// The leaves under this cap node do not hash up to it.
    Node(usize),
}

/// Checks that the leaves `indices` (sorted, distinct) with hashes `leaf_hashes` sit in a tree of
/// `leaves` leaves under `cap` (2^c nodes), given the siblings [`MerkleTree::multi_path`] sent.
///
/// # Errors
/// [`MultiPathError::Node`] with the first cap node (in index order) that is not recomputed.
pub fn verify_multi_path(
    cap: &[Hash],
    leaves: usize,
    indices: &[usize],
    leaf_hashes: &[Hash],
    siblings: &[Hash],
) -> Result<(), MultiPathError> {
    let depth = leaves.trailing_zeros() as usize;
    let c = cap.len().trailing_zeros() as usize;
    if !leaves.is_power_of_two()
        || !cap.len().is_power_of_two()
        || c > depth
        || indices.len() != leaf_hashes.len()
        || !indices.is_sorted_by(|a, b| a < b)
        || indices.last().is_some_and(|&i| i >= leaves)
        || siblings.len() != multi_path_len(leaves, indices, c)
    {
        return Err(MultiPathError::Shape);
    }
    let mut level: Vec<(usize, Hash)> =
        indices.iter().copied().zip(leaf_hashes.iter().copied()).collect();
    let mut sibling = siblings.iter();
    for _ in 0..depth - c {
        let mut next = Vec::with_capacity(level.len());
        let mut i = 0;
        while let Some(&(idx, h)) = level.get(i) {
            let parent = match level.get(i + 1) {
                Some((right, r)) if idx & 1 == 0 && *right == idx + 1 => {
                    i += 2;
                    node(&h, r)
                }
                _ => {
                    i += 1;
                    let s = sibling.next().ok_or(MultiPathError::Shape)?;
                    if idx & 1 == 0 {
                        node(&h, s)
                    } else {
                        node(s, &h)
                    }
                }
            };
            next.push((idx >> 1, parent));
        }
        level = next;
    }
    match level.iter().find(|(idx, h)| cap.get(*idx) != Some(h)) {
        Some(&(idx, _)) => Err(MultiPathError::Node(idx)),
        None => Ok(()),
    }
}

/// Whether `cap` (2^c nodes) hashes up to `root`.
pub fn verify_cap(root: &Hash, cap: &[Hash]) -> bool {
    if !cap.len().is_power_of_two() {
        return false;
    }
    let mut layer = cap.to_vec();
    while layer.len() > 1 {
        layer = layer.as_chunks::<2>().0.iter().map(|[l, r]| node(l, r)).collect();
    }
    layer.first() == Some(root)
}

/// Whether `leaf_hash` sits at `index` (of `leaves`) under the cap `cap` with these siblings.
pub fn verify_path_to_cap(
    cap: &[Hash],
    leaves: usize,
    index: usize,
    leaf_hash: &Hash,
    path: &[Hash],
) -> bool {
    let depth = leaves.trailing_zeros() as usize;
    if !leaves.is_power_of_two()
        || !cap.len().is_power_of_two()
        || index >= leaves
        || path.len() + cap.len().trailing_zeros() as usize != depth
    {
        return false;
    }
    let mut h = *leaf_hash;
    let mut i = index;
    for sibling in path {
        h = if i & 1 == 0 { node(&h, sibling) } else { node(sibling, &h) };
        i >>= 1;
    }
    cap.get(i) == Some(&h)
}

/// Whether `leaf_hash` sits at `index` under `root` with these siblings (a path of the wrong
/// length for `leaves` is rejected).
pub fn verify_path(
    root: &Hash,
    leaves: usize,
    index: usize,
    leaf_hash: &Hash,
    path: &[Hash],
) -> bool {
    // the root is the cap of height 0
    verify_path_to_cap(std::slice::from_ref(root), leaves, index, leaf_hash, path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::field::from_i64;

    fn data(n: usize) -> Vec<Fp> {
        (0..n as i64).map(|i| from_i64(i * 7919 - 3)).collect()
    }

    #[test]
    fn every_path_verifies_and_every_tamper_fails() {
        for (n, width) in [(1, 1), (2, 3), (8, 1), (64, 4), (4096, 2)] {
            let d = data(n * width);
            let t = MerkleTree::from_rows(&d, width).unwrap();
            let root = t.root();
            for i in [0, n / 2, n - 1] {
                let l = leaf(&d[i * width..(i + 1) * width]);
                let p = t.path(i).unwrap();
                assert!(verify_path(&root, n, i, &l, &p));
                // another leaf, another index, a flipped sibling, another root, a short path
                let mut other = d[i * width..(i + 1) * width].to_vec();
                other[0] += Fp::from(1u64);
                assert!(!verify_path(&root, n, i, &leaf(&other), &p));
                if n > 1 {
                    assert!(!verify_path(&root, n, i ^ 1, &l, &p));
                    let mut q = p.clone();
                    q[0][0] ^= 1;
                    assert!(!verify_path(&root, n, i, &l, &q));
                    assert!(!verify_path(&root, n, i, &l, &p[1..]));
                }
                let mut r = root;
                r[31] ^= 0x80;
                assert!(!verify_path(&r, n, i, &l, &p));
            }
            assert!(t.path(n).is_none());
        }
        assert!(MerkleTree::new(vec![[0; 32]; 3]).is_none());
    }

    #[test]
    fn capped_paths_verify_and_tampers_fail() {
        let d = data(256);
        let t = MerkleTree::from_rows(&d, 2).unwrap();
        for c in 0..=7 {
            let cap = t.cap(c).unwrap();
            assert!(verify_cap(&t.root(), cap));
            for i in [0, 5, 127] {
                let l = leaf(&d[2 * i..2 * i + 2]);
                let p = t.path_to_cap(i, c).unwrap();
                assert_eq!(p.len(), 7 - c);
                assert!(verify_path_to_cap(cap, 128, i, &l, &p));
                assert!(!verify_path_to_cap(cap, 128, i ^ 1, &l, &p));
                let mut bad = cap.to_vec();
                bad[i >> (7 - c)][0] ^= 1;
                assert!(!verify_path_to_cap(&bad, 128, i, &l, &p));
                assert!(!verify_cap(&t.root(), &bad));
            }
        }
        assert!(t.cap(8).is_none());
    }

    #[test]
    fn multi_paths_verify_send_each_sibling_once_and_name_the_tampered_cap_node() {
        let d = data(512);
        let t = MerkleTree::from_rows(&d, 2).unwrap();
        let leaves = 256;
        let hashes = |idx: &[usize]| -> Vec<Hash> {
            idx.iter().map(|&i| leaf(&d[2 * i..2 * i + 2])).collect()
        };
        for idx in
            [vec![], vec![0], vec![3], vec![0, 1], vec![4, 5, 6, 7], vec![1, 2, 77, 200, 255]]
        {
            for c in [0, 2, 8] {
                let cap = t.cap(c).unwrap();
                let sib = t.multi_path(&idx, c).unwrap();
                assert_eq!(sib.len(), multi_path_len(leaves, &idx, c));
                assert_eq!(verify_multi_path(cap, leaves, &idx, &hashes(&idx), &sib), Ok(()));
                // each single path is its own multi-path
                if let [i] = idx[..] {
                    assert_eq!(sib, t.path_to_cap(i, c).unwrap());
                }
                // a tampered sibling or leaf: the cap node above it
                if let Some(&last) = idx.last() {
                    let mut h = hashes(&idx);
                    h[idx.len() - 1][0] ^= 1;
                    assert_eq!(
                        verify_multi_path(cap, leaves, &idx, &h, &sib),
                        Err(MultiPathError::Node(last >> (8 - c)))
                    );
                }
                if !sib.is_empty() {
                    let mut bad = sib.clone();
                    bad[0][5] ^= 1;
                    assert!(matches!(
                        verify_multi_path(cap, leaves, &idx, &hashes(&idx), &bad),
                        Err(MultiPathError::Node(_))
                    ));
                    assert_eq!(
                        verify_multi_path(cap, leaves, &idx, &hashes(&idx), &sib[1..]),
                        Err(MultiPathError::Shape)
                    );
                }
            }
        }
        // four neighbours below one node need no sibling under it
        assert_eq!(t.multi_path(&[4, 5, 6, 7], 0).unwrap().len(), 8 - 2);
        assert!(t.multi_path(&[5, 4], 0).is_none());
        assert!(t.multi_path(&[256], 0).is_none());
        let cap = t.cap(0).unwrap();
        assert_eq!(
            verify_multi_path(cap, leaves, &[5, 4], &hashes(&[5, 4]), &[]),
            Err(MultiPathError::Shape)
        );
    }

    #[test]
    fn leaves_and_nodes_hash_in_separate_domains() {
        // the same 32 bytes as a leaf's data and as a node's children give different hashes, so
        // an internal node can never be opened as a leaf (the verifier hashes leaf data itself)
        let x = [from_i64(1), from_i64(2)];
        let bytes: Vec<u8> = x.iter().flat_map(crate::field::to_canonical_bytes).collect();
        let (l, r): (Hash, Hash) = (bytes[..32].try_into().unwrap(), [0; 32]);
        assert_ne!(leaf(&x), *blake3::hash(&bytes).as_bytes());
        assert_ne!(node(&l, &r), *blake3::hash(&[&l[..], &r[..]].concat()).as_bytes());
        assert_ne!(leaf(&x), node(&l, &r));
        assert_eq!(leaf(&x), *blake3::keyed_hash(&LEAF_KEY, &bytes).as_bytes());
        assert_ne!(LEAF_KEY, NODE_KEY);
    }
}
