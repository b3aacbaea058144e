//! ONNX external data: tensors whose bytes sit in a file beside the model (`M.onnx.data`, what
//! PyTorch's current exporter writes by default, and every model above protobuf's 2 GiB). They
//! are read into the tensors' `raw_data` before anything else sees the graph, so the importer and
//! tract's float reference read one self-contained model.
//!
//! The files are hostile like the model: a location must be a plain relative path inside the
//! model's directory (no `..`, no absolute path, no drive), each range must lie inside its file,
//! and the bytes read in all stay below [`MAX_EXTERNAL_BYTES`].

use super::ImportError;
use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};
use tract_onnx::pb;

/// The most external bytes one model may read.
pub const MAX_EXTERNAL_BYTES: u64 = 8 << 30;

/// ONNX's `DataLocation::External`.
const EXTERNAL: i32 = 1;

/// One tensor's external range, from its `external_data` entries.
struct Range {
    location: String,
    offset: u64,
    length: Option<u64>,
}

fn parse(t: &pb::TensorProto) -> Result<Range, String> {
    let (mut location, mut offset, mut length) = (None, 0u64, None);
    for e in &t.external_data {
        let number = || {
            e.value.parse::<u64>().map_err(|_| {
                format!(
                    "tensor {:?}: external data {} {:?} is not a number",
                    t.name, e.key, e.value
                )
            })
        };
        match e.key.as_str() {
            "location" => location = Some(e.value.clone()),
            "offset" => offset = number()?,
            "length" => length = Some(number()?),
            // "checksum" and keys of later versions do not change where the bytes are
            _ => {}
        }
    }
    let location =
        location.ok_or_else(|| format!("tensor {:?}: external data without a location", t.name))?;
    Ok(Range { location, offset, length })
}

/// The file a location names, inside `dir`.
fn resolve(dir: &Path, location: &str, tensor: &str) -> Result<PathBuf, String> {
    let rel = Path::new(location);
    let plain = !location.is_empty() && rel.components().all(|c| matches!(c, Component::Normal(_)));
    if !plain {
        return Err(format!(
            "tensor {tensor:?}: external data location {location:?} is not a relative path inside the model's directory"
        ));
    }
    Ok(dir.join(rel))
}

/// Whether any tensor of `proto` (an initializer or a Constant node's value) keeps its bytes in
/// an external file.
pub fn has_external(proto: &pb::ModelProto) -> bool {
    proto.graph.as_ref().is_some_and(|g| {
        let constants = g.node.iter().flat_map(|n| n.attribute.iter()).filter_map(|a| a.t.as_ref());
        g.initializer
            .iter()
            .chain(constants)
            .any(|t| t.data_location == Some(EXTERNAL) || !t.external_data.is_empty())
    })
}

/// Reads every external tensor of `proto` (initializers and Constant nodes' values) from the
/// files beside it in `dir`; a model without external data is unchanged.
///
/// # Errors
/// [`ImportError::Graph`] naming the tensor and the file: a location outside `dir`, a missing
/// or short file, a range past its end, or more than [`MAX_EXTERNAL_BYTES`] in all.
pub fn inline(proto: &mut pb::ModelProto, dir: &Path) -> Result<(), ImportError> {
    let Some(graph) = proto.graph.as_mut() else { return Ok(()) };
    let constants =
        graph.node.iter_mut().flat_map(|n| n.attribute.iter_mut()).filter_map(|a| a.t.as_mut());
    let tensors: Vec<&mut pb::TensorProto> =
        graph.initializer.iter_mut().chain(constants).collect();
    let mut files: HashMap<PathBuf, Vec<u8>> = HashMap::new();
    let mut total = 0u64;
    for t in tensors {
        if t.data_location != Some(EXTERNAL) && t.external_data.is_empty() {
            continue;
        }
        let range = parse(t).map_err(ImportError::Graph)?;
        let path = resolve(dir, &range.location, &t.name).map_err(ImportError::Graph)?;
        if !files.contains_key(&path) {
            let shown = path.display().to_string();
            let len = std::fs::metadata(&path)
                .map_err(|source| ImportError::Io { path: shown.clone(), source })?
                .len();
            total = total.saturating_add(len);
            if total > MAX_EXTERNAL_BYTES {
                return Err(ImportError::Graph(format!(
                    "external data files of more than {MAX_EXTERNAL_BYTES} bytes in all (at {shown})"
                )));
            }
            let bytes =
                std::fs::read(&path).map_err(|source| ImportError::Io { path: shown, source })?;
            files.insert(path.clone(), bytes);
        }
        let bytes = files.get(&path).map(Vec::as_slice).unwrap_or_default();
        let end = match range.length {
            Some(l) => range.offset.checked_add(l),
            None => Some(bytes.len() as u64),
        };
        let slice = end
            .filter(|&e| e <= bytes.len() as u64 && range.offset <= e)
            .and_then(|e| bytes.get(range.offset as usize..e as usize))
            .ok_or_else(|| {
                ImportError::Graph(format!(
                    "tensor {:?}: external bytes {}..{} lie past the end of {} ({} bytes)",
                    t.name,
                    range.offset,
                    end.map_or("overflow".into(), |e| e.to_string()),
                    path.display(),
                    bytes.len()
                ))
            })?;
        t.raw_data = slice.to_vec();
        t.external_data.clear();
        t.data_location = Some(0);
    }
    Ok(())
}
