//! Token ids as a model's input (`circuit::io`, flags 4 to 6): the embedding table, the masks
//! and side ids beside the ids, and the circuit's input they make.

use super::super::{ModelError, QParams};

/// The most entries of an embedding table (a bound for decoding hostile files).
pub const MAX_EMBEDDING_ENTRIES: usize = 1 << 28;

/// Token ids and the int8 embedding table that turns them into the circuit's input.
#[derive(Clone, Debug, PartialEq)]
pub struct Embedding {
    /// The ONNX input's name.
    pub name: String,
    /// The ids' dimensions (the input tensor is these with the width appended).
    pub ids_dims: Vec<usize>,
    pub vocab: usize,
    pub width: usize,
    /// The rows' quantization (real = (q − z)·s).
    pub q: QParams,
    /// [vocab, width], row-major.
    pub table: Vec<i8>,
    /// 0/1 inputs beside the ids (attention masks), in graph order; empty: the ids alone.
    pub masks: Vec<MaskInput>,
    /// The ids' place among the model's inputs in graph order (0 to the masks' count).
    pub ids_at: usize,
}

/// An input beside the token ids: a 0/1 attention mask, or (with a table) more ids whose rows
/// of that table enter the circuit's input (token type ids): its name and dimensions.
#[derive(Clone, Debug, PartialEq)]
pub struct MaskInput {
    pub name: String,
    pub dims: Vec<usize>,
    /// The table of a side input of ids; `None`: a 0/1 mask.
    pub table: Option<IdsTable>,
}

/// An int8 embedding table [vocab, width] and its quantization.
#[derive(Clone, Debug, PartialEq)]
pub struct IdsTable {
    pub vocab: usize,
    pub width: usize,
    pub q: QParams,
    pub table: Vec<i8>,
}

impl MaskInput {
    /// Its values' count.
    pub fn len(&self) -> usize {
        self.dims.iter().product()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Its entries in the circuit's input: its values, or its ids' rows.
    pub fn entries(&self) -> usize {
        self.len().saturating_mul(self.table.as_ref().map_or(1, |t| t.width))
    }
}

/// The rows of `table` for `ids`, refusing an id outside it (named after input `name`).
fn table_rows(t: &IdsTable, ids: &[f64], name: &str, out: &mut Vec<i64>) -> Result<(), ModelError> {
    rows_of((t.vocab, t.width, &t.table), ids, name, out)
}

/// Each id's row of the table [vocab, width] (row-major), appended to `out`.
fn rows_of(
    (vocab, width, table): (usize, usize, &[i8]),
    ids: &[f64],
    name: &str,
    out: &mut Vec<i64>,
) -> Result<(), ModelError> {
    for (i, &id) in ids.iter().enumerate() {
        let ok = id.fract() == 0.0 && id >= 0.0 && id < vocab as f64;
        let row = ok
            .then(|| table.get(id as usize * width..(id as usize + 1) * width))
            .flatten()
            .ok_or_else(|| {
            ModelError::Parameter(format!(
                "token id {id} of {name:?} at index {i} is not in the vocabulary [0, {vocab})"
            ))
        })?;
        out.extend(row.iter().map(|&v| i64::from(v)));
    }
    Ok(())
}

impl Embedding {
    /// The circuit's input dimensions: [ids dims…, width], or with masks 1-D [ids·width +
    /// Σ mask entries + 2].
    pub fn input_dims(&self) -> Vec<usize> {
        if self.masks.is_empty() {
            let mut dims = self.ids_dims.clone();
            dims.push(self.width);
            return dims;
        }
        let masks: usize = self.masks.iter().map(MaskInput::entries).sum();
        vec![self.rows_len().saturating_add(masks).saturating_add(2)]
    }

    /// The entries of the rows in the input tensor (its first ones).
    pub fn rows_len(&self) -> usize {
        self.ids_dims.iter().product::<usize>().saturating_mul(self.width)
    }

    /// Where mask `k`'s first value sits in the input tensor (with masks).
    pub fn mask_offset(&self, k: usize) -> usize {
        self.rows_len() + self.masks.iter().take(k).map(MaskInput::entries).sum::<usize>()
    }

    /// The input tensor's entries that hold the constants 0 and 1 (with masks: its last two).
    pub fn constant_slots(&self) -> (usize, usize) {
        let end = self.mask_offset(self.masks.len());
        (end, end + 1)
    }

    /// The ids' and the masks' count of values.
    pub fn source_len(&self) -> usize {
        self.ids_dims.iter().product::<usize>()
            + self.masks.iter().map(MaskInput::len).sum::<usize>()
    }

    /// The input tensor's entries for the model's inputs, `values` holding the ids and the
    /// masks concatenated in graph order (the ids at [`Embedding::ids_at`]): each id's table row
    /// (row-major), then with masks their values (graph order) and 0, 1.
    ///
    /// # Errors
    /// [`ModelError::Parameter`] naming the first id that is not an integer in [0, vocab), or
    /// the first mask value other than 0 and 1; a count other than the ids' and masks'
    /// dimensions give.
    pub fn rows(&self, values: &[f64]) -> Result<Vec<i64>, ModelError> {
        let want: usize = self.ids_dims.iter().product();
        if values.len() != self.source_len() {
            let masks: Vec<String> =
                self.masks.iter().map(|m| format!(" and {:?} of {:?}", m.name, m.dims)).collect();
            return Err(ModelError::Shape(format!(
                "{} values for the token ids {:?} of dimensions {:?}{}",
                values.len(),
                self.name,
                self.ids_dims,
                masks.concat()
            )));
        }
        let before: usize = self.masks.iter().take(self.ids_at).map(MaskInput::len).sum();
        let (head, tail) = values.split_at(before);
        let (ids, tail) = tail.split_at(want);
        let masks = [head, tail].concat();
        let mut rest = &masks[..];
        let mut out = Vec::with_capacity(want * self.width);
        rows_of((self.vocab, self.width, &self.table), ids, &self.name, &mut out)?;
        for m in &self.masks {
            let (values, tail) = rest.split_at(m.len().min(rest.len()));
            rest = tail;
            if let Some(t) = &m.table {
                table_rows(t, values, &m.name, &mut out)?;
                continue;
            }
            if let Some((i, v)) = values.iter().enumerate().find(|(_, &v)| v != 0.0 && v != 1.0) {
                return Err(ModelError::Parameter(format!(
                    "the mask {:?} holds {v} at index {i} (0 or 1 only)",
                    m.name
                )));
            }
            out.extend(values.iter().map(|&v| v as i64));
        }
        if !self.masks.is_empty() {
            out.extend([0, 1]);
        }
        Ok(out)
    }
}
