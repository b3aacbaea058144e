//! The canonical, versioned encoding of an integer model (`.gkrm`): every layer's construction
//! parameters ([`LayerSpec`]) — shapes, int8 weights, int32 biases, every a, k, zero point, clamp
//! bound, and activation tables as computed once (a verifier never recomputes float-derived
//! tables; it takes them from the encoding). Decoding rebuilds the layers through their
//! validating constructors, so a decoded model is a model the builder could have made.
//!
//! Every layer kind, built-in or added later, has its record ([`OpRecord`]) in its own file and
//! its tag in the registry [`super::OPS`]; this file only frames the records (tag, then the
//! record's fields) and never names a kind.
//!
//! ```text
//! model = "GKRM" ‖ version u16 ‖ name ‖ input dims ‖ count u64 ‖ layer*
//! layer = tag u8 ‖ fields (u64/i64/i128 little-endian; vectors and strings length-prefixed)
//! ```

use super::{checked_entries, Layer, Model, ModelError, TensorId, MAX_ENTRIES, MAX_TABLE_ROWS};
use crate::codec::{ByteReader as Reader, ByteWriter as Writer, Sink};

pub const MAGIC: [u8; 4] = *b"GKRM";
/// The tag of a custom layer's record ([`LayerSpec::Custom`]), which never decodes.
const CUSTOM_TAG: u8 = 255;
/// Version 2 added the input/output quantization ([`super::IoQuant`]).
pub const VERSION: u16 = 2;

/// The canonical record of a layer kind registered in [`super::OPS`]. A new operator implements
/// it next to its layer, in its own file, and adds one line to [`super::OPS`]: nothing else in
/// the encoding changes.
pub trait OpRecord: OpRecordAny + std::fmt::Debug + Send + Sync {
    /// Its registry line: the tag in the encoding (unique in [`super::OPS`]) and the kind's
    /// short name.
    fn entry(&self) -> &'static OpEntry;

    /// The record's kind, for errors: its entry's unless one tag stands for several kinds (a
    /// reshape or a transpose).
    fn kind(&self) -> &'static str {
        self.entry().kind
    }

    /// The record's fields, after the tag.
    fn encode_fields(&self, w: &mut Writer<&mut dyn Sink>);

    /// The input tensors and the dimensions the layer was built for.
    fn declared_inputs(&self) -> Vec<(TensorId, Vec<usize>)>;

    /// One line of its parameters, as `gkrnet inspect` prints them.
    fn summary(&self) -> String;

    /// Builds the layer through its validating constructor.
    ///
    /// # Errors
    /// Parameters the constructor refuses.
    fn build(&self) -> Result<Box<dyn Layer>, ModelError>;
}

/// What every record gets for free from `Clone`: a boxed copy, and `Any` for tests and tools
/// that read a record's fields ([`LayerSpec::op`]).
pub trait OpRecordAny {
    fn clone_box(&self) -> Box<dyn OpRecord>;
    fn as_any(&self) -> &dyn std::any::Any;
    fn as_any_mut(&mut self) -> &mut dyn std::any::Any;
}

impl<T: OpRecord + Clone + 'static> OpRecordAny for T {
    fn clone_box(&self) -> Box<dyn OpRecord> {
        Box::new(self.clone())
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn as_any_mut(&mut self) -> &mut dyn std::any::Any {
        self
    }
}

impl Clone for Box<dyn OpRecord> {
    fn clone(&self) -> Self {
        self.clone_box()
    }
}

/// Two records are equal when they encode to the same bytes.
impl PartialEq for Box<dyn OpRecord> {
    fn eq(&self, other: &Self) -> bool {
        let bytes = |op: &dyn OpRecord| {
            let mut v = Vec::new();
            v.push(op.entry().tag);
            op.encode_fields(&mut Writer(&mut v as &mut dyn Sink));
            v
        };
        bytes(self.as_ref()) == bytes(other.as_ref())
    }
}

/// One registered operator: its tag, its kind and how its record's fields decode.
#[derive(Debug)]
pub struct OpEntry {
    pub tag: u8,
    pub kind: &'static str,
    pub decode: fn(&mut Reader<'_>) -> Result<Box<dyn OpRecord>, ModelError>,
}

/// What a layer is built from: its canonical record.
#[derive(Clone, Debug, PartialEq)]
pub enum LayerSpec {
    /// A layer kind registered in [`super::OPS`] (every built-in layer): its record lives in
    /// the layer's own file. Read its fields with [`LayerSpec::op`].
    Op(Box<dyn OpRecord>),
    /// A layer kind outside this crate (a library user's own [`Layer`]): its own canonical
    /// bytes, which the digest covers. Such a model can be proved and verified in memory; its
    /// file does not decode (no constructor is registered for it).
    Custom { kind: &'static str, bytes: Vec<u8> },
}

impl LayerSpec {
    /// The registered record of type `T` (`DenseSpec`, `ConvSpec`, `WiringSpec`, …), if this
    /// is one.
    pub fn op<T: 'static>(&self) -> Option<&T> {
        match self {
            LayerSpec::Op(op) => op.as_any().downcast_ref::<T>(),
            LayerSpec::Custom { .. } => None,
        }
    }

    /// The registered record of type `T`, to change its fields (a test's tampered model).
    pub fn op_mut<T: 'static>(&mut self) -> Option<&mut T> {
        match self {
            LayerSpec::Op(op) => op.as_any_mut().downcast_mut::<T>(),
            LayerSpec::Custom { .. } => None,
        }
    }

    /// The input tensors and the dimensions the layer was built for.
    pub fn declared_inputs(&self) -> Vec<(TensorId, Vec<usize>)> {
        match self {
            LayerSpec::Op(op) => op.declared_inputs(),
            LayerSpec::Custom { .. } => Vec::new(),
        }
    }

    /// A short name of the record's kind, for errors.
    pub fn kind(&self) -> &'static str {
        match self {
            LayerSpec::Op(op) => op.kind(),
            LayerSpec::Custom { kind, .. } => kind,
        }
    }

    /// One line of the layer's parameters, as `gkrnet inspect` prints them (empty for a custom
    /// layer).
    pub fn summary(&self) -> String {
        match self {
            LayerSpec::Op(op) => op.summary(),
            LayerSpec::Custom { .. } => String::new(),
        }
    }

    /// Builds the layer through its constructor (which validates everything).
    pub fn build(&self) -> Result<Box<dyn Layer>, ModelError> {
        match self {
            LayerSpec::Op(op) => op.build(),
            LayerSpec::Custom { kind, .. } => Err(ModelError::Parameter(format!(
                "the layer kind \"{kind}\" is not built into gkrnet: it has no constructor"
            ))),
        }
    }

    fn encode<S: Sink>(&self, w: &mut Writer<S>) {
        match self {
            LayerSpec::Op(op) => {
                w.u8(op.entry().tag);
                op.encode_fields(&mut Writer(&mut w.0 as &mut dyn Sink));
            }
            LayerSpec::Custom { kind, bytes } => {
                w.u8(CUSTOM_TAG);
                w.bytes(kind.as_bytes());
                w.bytes(bytes);
            }
        }
    }

    fn decode(r: &mut Reader<'_>) -> Result<Self, ModelError> {
        let tag = r.u8()?;
        match super::OPS.iter().find(|op| op.tag == tag) {
            Some(op) => Ok(LayerSpec::Op((op.decode)(r)?)),
            None if tag == CUSTOM_TAG => Err(r
                .error("a layer kind built into gkrnet (this record is a custom layer's)")
                .into()),
            None => Err(r.error("a layer tag").into()),
        }
    }
}

impl Model {
    /// The canonical encoding (`.gkrm`).
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer(Vec::new());
        w.raw(&MAGIC);
        w.u16(VERSION);
        w.bytes(self.name.as_bytes());
        self.encode_body(&mut w);
        w.0
    }

    /// Everything of the encoding after the name: what the model computes. The model digest is
    /// the hash of these bytes ([`Model::digest`]).
    pub(crate) fn encode_body<S: Sink>(&self, w: &mut Writer<S>) {
        w.usizes(&self.input_dims);
        w.usize(self.layers.len());
        for l in &self.layers {
            l.spec().encode(w);
        }
        super::io::encode_io(w, self.io.as_ref());
    }

    /// Decodes and rebuilds a model; errors name the byte offset or the layer.
    pub fn decode(bytes: &[u8]) -> Result<Model, ModelError> {
        let mut r = Reader::new(bytes);
        if r.array::<4>("the magic").ok() != Some(MAGIC) {
            return Err(ModelError::Parameter("not a gkrnet model (magic GKRM)".into()));
        }
        let version = r.u16()?;
        if version != VERSION {
            return Err(ModelError::Parameter(format!(
                "model format version {version}, this build reads {VERSION}"
            )));
        }
        let name = String::from_utf8(r.bytes()?.to_vec()).map_err(|_| r.error("a UTF-8 name"))?;
        let input_dims = r.dims()?;
        let count = r.count(1)?;
        let mut layers = Vec::with_capacity(count);
        // the dimensions of the tensors decoded so far, their entries and the shared table's rows:
        // every layer is checked against them before it is built, so that nothing proportional
        // to a declared size is allocated or computed before the size is justified
        let mut budget = Budget::new(&input_dims).map_err(|e| r.error(&e.to_string()))?;
        for i in 0..count {
            let start = r.offset();
            let spec = LayerSpec::decode(&mut r)?;
            let err = |reason: String| ModelError::Layer {
                layer: i,
                kind: spec.kind(),
                reason: format!("{reason} (record at byte {start})"),
            };
            budget.check_inputs(&spec).map_err(err)?;
            let layer = spec.build().map_err(|e| err(e.to_string()))?;
            budget.add(layer.as_ref()).map_err(err)?;
            layers.push(layer);
        }
        let io = super::io::decode_io(&mut r)?;
        r.finish()?;
        let model = Model::new(name, input_dims, layers)?;
        let model = match io {
            Some(io) => model.with_io(io)?,
            None => model,
        };
        // one model, one encoding: bytes that decode but re-encode otherwise (a flag byte other
        // than 0 or 1, an unused parameter not zero, …) are refused, so the digest (the hash of
        // the encoding) names the file's bytes
        let again = model.encode();
        let differs = again.iter().zip(bytes).position(|(a, b)| a != b);
        match differs.or((again.len() != bytes.len()).then_some(again.len().min(bytes.len()))) {
            Some(offset) => Err(ModelError::Parameter(format!(
                "malformed model at byte {offset}: not the canonical encoding of the model it \
                 decodes to"
            ))),
            None => Ok(model),
        }
    }
}

/// What the layers decoded so far justify: their tensors' dimensions, the entries of all
/// tensors (at most [`MAX_ENTRIES`]) and the shared table's rows (at most [`MAX_TABLE_ROWS`]).
struct Budget {
    dims: Vec<Vec<usize>>,
    entries: usize,
    rows: usize,
}

impl Budget {
    fn new(input_dims: &[usize]) -> Result<Self, ModelError> {
        let entries = checked_entries(input_dims)?;
        Ok(Self { dims: vec![input_dims.to_vec()], entries, rows: 0 })
    }

    /// Every input the layer declares is a tensor decoded before it, of the declared dimensions
    /// (checked before the layer is built: its constructor trusts them).
    fn check_inputs(&self, spec: &LayerSpec) -> Result<(), String> {
        for (t, want) in spec.declared_inputs() {
            match self.dims.get(t) {
                Some(have) if *have == want => {}
                Some(have) => {
                    return Err(format!(
                        "built for an input tensor {t} of dimensions {want:?}, which has {have:?}"
                    ))
                }
                None => return Err(format!("input tensor {t} is not computed before this layer")),
            }
        }
        Ok(())
    }

    /// Adds a built layer's output and table rows.
    fn add(&mut self, layer: &dyn Layer) -> Result<(), String> {
        let len = checked_entries(layer.output_dims()).map_err(|e| e.to_string())?;
        self.entries = self.entries.saturating_add(len);
        if self.entries > MAX_ENTRIES {
            return Err(format!("the model's tensors exceed {MAX_ENTRIES} entries in all"));
        }
        self.rows = self.rows.saturating_add(layer.table_lookup().map_or(0, |t| t.rows.len()));
        if self.rows > MAX_TABLE_ROWS {
            return Err(format!("the shared lookup table exceeds {MAX_TABLE_ROWS} rows"));
        }
        self.dims.push(layer.output_dims().to_vec());
        Ok(())
    }
}

/// What only the model format reads.
pub(crate) trait ModelReads {
    /// Tensor dimensions within [`checked_entries`] (a model file cannot ask for more memory
    /// than a real network needs).
    fn dims(&mut self) -> Result<Vec<usize>, ModelError>;
}

impl ModelReads for Reader<'_> {
    fn dims(&mut self) -> Result<Vec<usize>, ModelError> {
        let d = self.usizes()?;
        match checked_entries(&d) {
            Ok(_) => Ok(d),
            Err(_) => Err(self.error("dimensions of at most 2^28 entries and 16 axes").into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::circuit::zoo;

    #[test]
    fn models_round_trip_with_the_same_digest_and_outputs() {
        let mut models = vec![zoo::mlp_act(), zoo::lenet5(), zoo::cnn_cifar()];
        models.extend((0..40).map(|s| zoo::random_model(s).unwrap()));
        for m in models {
            let bytes = m.encode();
            let back = Model::decode(&bytes).unwrap_or_else(|e| panic!("{}: {e}", m.name));
            assert_eq!(back.digest(), m.digest(), "{}", m.name);
            assert_eq!(back.encode(), bytes, "{}", m.name);
            let input = zoo::random_input(&m, 3);
            assert_eq!(back.forward(&input).unwrap(), m.forward(&input).unwrap(), "{}", m.name);
        }
    }

    #[test]
    fn built_in_records_keep_their_tags() {
        let kinds = [
            "dense",
            "conv",
            "requant",
            "threshold",
            "activation",
            "wiring",
            "maxpool",
            "concat",
            "dense (stored column sums)",
            "dense (weights committed)",
        ];
        for (tag, kind) in (0u8..).zip(kinds) {
            let op = crate::circuit::OPS.iter().find(|op| op.tag == tag);
            assert_eq!(op.map(|op| op.kind), Some(kind), "tag {tag}");
        }
        // tag 8 stays refused
        let stored = crate::circuit::OPS.iter().find(|op| op.tag == 8).expect("tag 8 registered");
        let err = (stored.decode)(&mut Reader::new(&[0; 64]));
        assert!(err.unwrap_err().to_string().contains("tag 8"));
    }

    #[test]
    fn registered_operators_have_their_own_tags() {
        // every tag once (8, refused, stays taken), 255 a custom layer's
        let mut seen = std::collections::HashSet::new();
        for op in crate::circuit::OPS {
            assert!(op.tag != CUSTOM_TAG, "{}: tag {} is a custom layer's", op.kind, op.tag);
            assert!(seen.insert(op.tag), "{}: tag {} twice", op.kind, op.tag);
        }
    }

    #[test]
    fn malformed_models_give_errors_never_panics() {
        let bytes = zoo::lenet5().encode();
        assert!(Model::decode(b"GKRN\x01\x00").is_err());
        for cut in [0, 3, 6, 20, bytes.len() / 2, bytes.len() - 1] {
            assert!(Model::decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(Model::decode(&longer).is_err());
        // flipped bytes: an error or another valid model, never a panic
        let small = zoo::random_model(3).unwrap().encode();
        for i in 0..small.len() {
            for bit in [1u8, 0x80] {
                let mut b = small.clone();
                b[i] ^= bit;
                let _ = Model::decode(&b);
            }
        }
    }
}
