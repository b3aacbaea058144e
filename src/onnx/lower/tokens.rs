//! The graph inputs: one tensor, several concatenated, or token ids (with masks and side ids)
//! whose embedding rows the circuit's input holds (`circuit::io::Embedding`).

use super::*;

impl Lower<'_> {
    /// The values of the graph inputs: one input is tensor 0; several are each a [`Take`] of
    /// their slice of tensor 0 (1-D, their concatenation in graph order) at their own
    /// dimensions. Each at the parameters of the QuantizeLinear that reads it, else calibrated.
    pub(super) fn inputs(&mut self, shapes: &[Vec<usize>]) -> Result<InputQuant, ImportError> {
        let g = self.g;
        if let Some(e) = self.embedding.clone() {
            let k = g.inputs.iter().position(|i| i.name == e.input).unwrap_or_default();
            let dims = shapes.get(k).cloned().unwrap_or_default();
            return self.embedding_input(&e, k, &dims);
        }
        if let ([input], [dims]) = (&g.inputs[..], shapes) {
            let q = self.target_params(&input.name)?;
            self.values.insert(input.name.clone(), Value::Int { id: 0, dims: dims.clone(), q });
            return Ok(InputQuant::Single(q));
        }
        let total = crate::onnx::graph::circuit_input_dims(shapes);
        let mut parts = Vec::with_capacity(shapes.len());
        let mut offset = 0usize;
        for (input, dims) in g.inputs.iter().zip(shapes) {
            let q = self.target_params(&input.name)?;
            let len = crate::circuit::checked_entries(dims)?;
            // an input nothing reads needs no layer: the proof binds its slice all the same
            if !g.consumers(&input.name).is_empty() || g.is_output(&input.name) {
                let sources = (offset..offset + len).collect();
                let id = self.b.push(Take::flat(0, &total, dims, sources)?);
                self.values.insert(input.name.clone(), Value::Int { id, dims: dims.clone(), q });
            }
            parts.push(InputPart { name: input.name.clone(), dims: dims.clone(), q, offset });
            offset += len;
        }
        let names: Vec<&str> = g.inputs.iter().map(|i| i.name.as_str()).collect();
        self.notes.push(format!(
            "the graph's {} inputs ({}) are proved as one int8 tensor: each flattened, each at its \
             own quantization, concatenated in graph order",
            g.inputs.len(),
            names.join(", ")
        ));
        Ok(InputQuant::Parts(parts))
    }

    /// Token ids: the circuit's input is their rows of the embedding table, quantized to int8
    /// at the table's own range (the Gather's output takes them as its value).
    fn embedding_input(
        &mut self,
        e: &patterns::EmbeddingPattern,
        ids_at: usize,
        ids_dims: &[usize],
    ) -> Result<InputQuant, ImportError> {
        let name = &e.input;
        let c = self
            .g
            .consts
            .get(&e.table)
            .ok_or_else(|| ImportError::Graph(format!("no embedding table {:?}", e.table)))?;
        let (vocab, width) = match c.dims[..] {
            [v, w] => (v, w),
            _ => return Err(ImportError::Graph(format!("an embedding table {:?}", c.dims))),
        };
        let (lo, hi) = c.data.iter().fold((f64::MAX, f64::MIN), |(a, b), &v| (a.min(v), b.max(v)));
        let q = minmax_params(lo, hi);
        let table: Vec<i8> = c.data.iter().map(|&v| q.quantize(v) as i8).collect();
        let rows = match self.shapes.get(&e.rows) {
            Some(dims) if !self.mask_inputs.is_empty() => {
                let len: usize = dims.iter().product();
                let input = self.b.dims(0);
                self.b.push(Take::flat(0, &input, dims, (0..len).collect())?)
            }
            _ => 0,
        };
        let dims = self.b.dims(rows);
        self.values.insert(e.rows.clone(), Value::Int { id: rows, dims, q });
        // side ids' rows: their slices of the input
        let input = self.b.dims(0);
        let mut next = self.shapes.get(&e.rows).map_or(0, |d| d.iter().product());
        for m in self.mask_inputs.clone() {
            let Some(t) = &m.table else {
                next += m.entries();
                continue;
            };
            let side = self.side_tables.iter().find(|s| s.input == m.name).cloned();
            let side =
                side.ok_or_else(|| ImportError::Graph(format!("no table for {:?}", m.name)))?;
            let dims = self.shapes.get(&side.rows).cloned().ok_or_else(|| {
                ImportError::Graph(format!("tract gives no shape for tensor {:?}", side.rows))
            })?;
            let id =
                self.b.push(Take::flat(0, &input, &dims, (next..next + m.entries()).collect())?);
            self.values.insert(side.rows.clone(), Value::Int { id, dims, q: t.q });
            self.parameters += t.table.len();
            next += m.entries();
        }
        for (name, d) in &self.derived {
            self.values.insert(name.clone(), Value::Const(d.values.clone()));
        }
        if !self.mask_inputs.is_empty() {
            let names: Vec<&str> = self.mask_inputs.iter().map(|m| m.name.as_str()).collect();
            self.notes.push(format!(
                "the mask inputs ({}) are public like the ids: the proof's input holds their \
                 0/1 values, and every Softmax under an attention mask computed from them gates \
                 its scores with them (masked probabilities exactly 0)",
                names.join(", ")
            ));
        }
        self.parameters += c.len();
        self.notes.push(format!(
            "the token ids {name:?} are the input: the proof covers their rows of the {vocab} × \
             {width} embedding table {:?} (int8, scale {:.3e}), which the verifier computes \
             itself from the ids",
            e.table, q.scale
        ));
        let embedding = crate::circuit::io::Embedding {
            name: name.to_string(),
            ids_dims: ids_dims.to_vec(),
            vocab,
            width,
            q,
            table,
            masks: self.mask_inputs.clone(),
            ids_at: if self.mask_inputs.is_empty() { 0 } else { ids_at },
        };
        Ok(InputQuant::Embedding(embedding))
    }
}

/// The int8 table of a side input of ids (token type ids), at its own range.
pub(super) fn side_table(
    g: &Graph,
    e: &patterns::EmbeddingPattern,
) -> Result<crate::circuit::io::IdsTable, ImportError> {
    let c = (g.consts.get(&e.table))
        .ok_or_else(|| ImportError::Graph(format!("no embedding table {:?}", e.table)))?;
    let (vocab, width) = match c.dims[..] {
        [v, w] => (v, w),
        _ => return Err(ImportError::Graph(format!("an embedding table {:?}", c.dims))),
    };
    let (lo, hi) = c.data.iter().fold((f64::MAX, f64::MIN), |(a, b), &v| (a.min(v), b.max(v)));
    let q = minmax_params(lo, hi);
    let table = c.data.iter().map(|&v| q.quantize(v) as i8).collect();
    Ok(crate::circuit::io::IdsTable { vocab, width, q, table })
}
