//! The one byte codec of gkrnet's file and wire formats (`.gkrm`, `.gkr`, `.gkrc`, the network
//! HELLO): little-endian integers, length-prefixed vectors, fixed arrays.
//!
//! [`ByteReader`] never reads past its input, never allocates more than the bytes that are left
//! justify (a length is checked against them before anything is allocated), and reports every
//! error with the byte offset where the failing read starts. [`ByteWriter`] writes the same
//! primitives into any [`Sink`]: a buffer (the file) or a hasher (a digest, without a copy).
//! Formats are written as sequences of these calls, never with hand-computed absolute offsets.

use thiserror::Error;

/// A malformed input: what was expected at which byte.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("malformed input at byte {offset}: expected {what}")]
pub struct CodecError {
    pub offset: usize,
    pub what: String,
}

/// Reads primitives from a byte slice.
#[derive(Debug, Clone)]
pub struct ByteReader<'a> {
    bytes: &'a [u8],
    offset: usize,
}

impl<'a> ByteReader<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, offset: 0 }
    }

    /// Where the next read starts.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// The bytes not read yet.
    pub fn remaining(&self) -> usize {
        self.bytes.len().saturating_sub(self.offset)
    }

    /// An error at the current offset.
    pub fn error(&self, what: &str) -> CodecError {
        CodecError { offset: self.offset, what: what.into() }
    }

    /// The next `n` bytes.
    ///
    /// # Errors
    /// Fewer than `n` bytes left.
    pub fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], CodecError> {
        let end = self.offset.checked_add(n).filter(|&e| e <= self.bytes.len());
        let Some(end) = end else {
            return Err(self.error(&format!("{what} ({n} bytes, {} left)", self.remaining())));
        };
        let out = self.bytes.get(self.offset..end).unwrap_or_default();
        self.offset = end;
        Ok(out)
    }

    /// The next `N` bytes as an array.
    ///
    /// # Errors
    /// Fewer than `N` bytes left.
    pub fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N], CodecError> {
        let b = self.take(N, what)?;
        let mut out = [0u8; N];
        out.copy_from_slice(b);
        Ok(out)
    }

    pub fn u8(&mut self) -> Result<u8, CodecError> {
        Ok(self.array::<1>("a byte")?[0])
    }

    pub fn u16(&mut self) -> Result<u16, CodecError> {
        Ok(u16::from_le_bytes(self.array("a 16-bit integer")?))
    }

    pub fn u32(&mut self) -> Result<u32, CodecError> {
        Ok(u32::from_le_bytes(self.array("a 32-bit integer")?))
    }

    pub fn u64(&mut self) -> Result<u64, CodecError> {
        Ok(u64::from_le_bytes(self.array("a 64-bit integer")?))
    }

    /// A u64 that fits a usize.
    pub fn usize(&mut self) -> Result<usize, CodecError> {
        let at = self.offset;
        let v = self.u64()?;
        usize::try_from(v).map_err(|_| CodecError { offset: at, what: "a size".into() })
    }

    pub fn i64(&mut self) -> Result<i64, CodecError> {
        Ok(i64::from_le_bytes(self.array("a 64-bit integer")?))
    }

    /// An i64 that fits an i32.
    pub fn i32(&mut self) -> Result<i32, CodecError> {
        let at = self.offset;
        let v = self.i64()?;
        i32::try_from(v).map_err(|_| CodecError { offset: at, what: "a 32-bit integer".into() })
    }

    pub fn i128(&mut self) -> Result<i128, CodecError> {
        Ok(i128::from_le_bytes(self.array("a 128-bit integer")?))
    }

    /// A u64 length whose items take at least `item` bytes each: never more than the bytes
    /// left allow, so a caller may allocate it.
    ///
    /// # Errors
    /// A length the remaining bytes cannot hold.
    pub fn count(&mut self, item: usize) -> Result<usize, CodecError> {
        let at = self.offset;
        let n = self.usize()?;
        if n.saturating_mul(item.max(1)) > self.remaining() {
            return Err(CodecError {
                offset: at,
                what: format!("a length that fits the remaining bytes (got {n})"),
            });
        }
        Ok(n)
    }

    /// A length-prefixed byte string.
    pub fn bytes(&mut self) -> Result<&'a [u8], CodecError> {
        let n = self.count(1)?;
        self.take(n, "bytes")
    }

    /// A length-prefixed vector of u64 sizes.
    pub fn usizes(&mut self) -> Result<Vec<usize>, CodecError> {
        let n = self.count(8)?;
        (0..n).map(|_| self.usize()).collect()
    }

    /// A length-prefixed vector of exactly `N` u64 sizes.
    pub fn sizes<const N: usize>(&mut self) -> Result<[usize; N], CodecError> {
        let at = self.offset;
        let v = self.usizes()?;
        v.try_into().map_err(|_| CodecError { offset: at, what: format!("a vector of {N} sizes") })
    }

    /// A length-prefixed vector of int8.
    pub fn i8s(&mut self) -> Result<Vec<i8>, CodecError> {
        Ok(self.bytes()?.iter().map(|&b| b as i8).collect())
    }

    /// A length-prefixed vector of i32 (4 bytes each).
    pub fn i32s(&mut self) -> Result<Vec<i32>, CodecError> {
        let n = self.count(4)?;
        let b = self.take(4 * n, "int32 values")?;
        Ok(b.chunks_exact(4).map(|c| i32::from_le_bytes(c.try_into().unwrap_or([0; 4]))).collect())
    }

    /// Checks that nothing follows.
    ///
    /// # Errors
    /// Trailing bytes.
    pub fn finish(&self) -> Result<(), CodecError> {
        match self.remaining() {
            0 => Ok(()),
            n => Err(self.error(&format!("the end ({n} bytes follow)"))),
        }
    }
}

/// Where encoded bytes go: a buffer (a file) or a hasher (a digest, without a copy).
pub trait Sink {
    fn put(&mut self, bytes: &[u8]);
}

impl Sink for Vec<u8> {
    fn put(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
}

impl<S: Sink + ?Sized> Sink for &mut S {
    fn put(&mut self, bytes: &[u8]) {
        (**self).put(bytes);
    }
}

impl Sink for blake3::Hasher {
    fn put(&mut self, bytes: &[u8]) {
        self.update(bytes);
    }
}

/// Writes the primitives [`ByteReader`] reads.
#[derive(Debug)]
pub struct ByteWriter<S>(pub S);

impl<S: Sink> ByteWriter<S> {
    pub fn raw(&mut self, b: &[u8]) {
        self.0.put(b);
    }
    pub fn u8(&mut self, v: u8) {
        self.0.put(&[v]);
    }
    pub fn u16(&mut self, v: u16) {
        self.0.put(&v.to_le_bytes());
    }
    pub fn u32(&mut self, v: u32) {
        self.0.put(&v.to_le_bytes());
    }
    pub fn u64(&mut self, v: u64) {
        self.0.put(&v.to_le_bytes());
    }
    pub fn usize(&mut self, v: usize) {
        self.u64(v as u64);
    }
    pub fn i64(&mut self, v: i64) {
        self.0.put(&v.to_le_bytes());
    }
    pub fn i128(&mut self, v: i128) {
        self.0.put(&v.to_le_bytes());
    }
    pub fn bytes(&mut self, b: &[u8]) {
        self.usize(b.len());
        self.0.put(b);
    }
    pub fn usizes(&mut self, v: &[usize]) {
        self.usize(v.len());
        v.iter().for_each(|&x| self.usize(x));
    }
    pub fn i8s(&mut self, v: &[i8]) {
        self.usize(v.len());
        self.0.put(bytemuck::cast_slice(v));
    }
    pub fn i32s(&mut self, v: &[i32]) {
        self.usize(v.len());
        v.iter().for_each(|&x| self.0.put(&x.to_le_bytes()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn primitives_round_trip_and_errors_name_the_offset() {
        let mut w = ByteWriter(Vec::new());
        w.u8(7);
        w.u16(513);
        w.u32(70_000);
        w.i64(-5);
        w.i128(-(1 << 100));
        w.bytes(b"abc");
        w.usizes(&[1, 2, 3]);
        w.i8s(&[-1, 2]);
        w.i32s(&[-7, 1 << 30]);
        let bytes = w.0;
        let mut r = ByteReader::new(&bytes);
        assert_eq!(r.u8(), Ok(7));
        assert_eq!(r.u16(), Ok(513));
        assert_eq!(r.u32(), Ok(70_000));
        assert_eq!(r.i64(), Ok(-5));
        assert_eq!(r.i128(), Ok(-(1 << 100)));
        assert_eq!(r.bytes(), Ok(&b"abc"[..]));
        assert_eq!(r.sizes::<3>(), Ok([1, 2, 3]));
        assert_eq!(r.i8s(), Ok(vec![-1, 2]));
        assert_eq!(r.i32s(), Ok(vec![-7, 1 << 30]));
        assert_eq!(r.finish(), Ok(()));
        // every truncation is an error at or before the cut, never a panic
        for cut in 0..bytes.len() {
            let mut r = ByteReader::new(&bytes[..cut]);
            let all = (|| -> Result<(), CodecError> {
                r.u8()?;
                r.u16()?;
                r.u32()?;
                r.i64()?;
                r.i128()?;
                r.bytes()?;
                r.usizes()?;
                r.i8s()?;
                r.i32s()?;
                Ok(())
            })();
            assert!(all.is_err_and(|e| e.offset <= cut), "cut {cut}");
        }
        // a length above what is left is refused before anything is allocated
        let mut huge = ByteWriter(Vec::new());
        huge.u64(u64::MAX / 2);
        assert_eq!(ByteReader::new(&huge.0).usizes().map_err(|e| e.offset), Err(0));
        assert_eq!(ByteReader::new(&[1, 2]).finish().map_err(|e| e.offset), Err(0));
    }
}
