//! Float ONNX models built in Rust (for tests and benches that must not need Python): a seeded
//! MLP of MatMul + Add + Relu layers, as a protobuf through tract-onnx's `pb` types.

#![allow(dead_code)]

use rand::{Rng, SeedableRng};
use tract_onnx::pb;

fn tensor(name: &str, dims: &[usize], data: &[f32]) -> pb::TensorProto {
    pb::TensorProto {
        name: name.into(),
        dims: dims.iter().map(|&d| d as i64).collect(),
        data_type: 1,
        raw_data: data.iter().flat_map(|v| v.to_le_bytes()).collect(),
        ..Default::default()
    }
}

fn value_info(name: &str, dims: &[usize]) -> pb::ValueInfoProto {
    let dim = dims
        .iter()
        .map(|&d| pb::tensor_shape_proto::Dimension {
            value: Some(pb::tensor_shape_proto::dimension::Value::DimValue(d as i64)),
            ..Default::default()
        })
        .collect();
    pb::ValueInfoProto {
        name: name.into(),
        r#type: Some(pb::TypeProto {
            value: Some(pb::type_proto::Value::TensorType(pb::type_proto::Tensor {
                elem_type: 1,
                shape: Some(pb::TensorShapeProto { dim }),
            })),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn node(op: &str, name: &str, inputs: &[&str], output: &str) -> pb::NodeProto {
    pb::NodeProto {
        op_type: op.into(),
        name: name.into(),
        input: inputs.iter().map(|s| s.to_string()).collect(),
        output: vec![output.into()],
        ..Default::default()
    }
}

/// A float MLP [1, widths[0]] → … → [1, widths.last()], ReLU between layers, He-normal-ish
/// uniform weights (seeded).
pub fn mlp(widths: &[usize], seed: u64) -> pb::ModelProto {
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
    let mut nodes = Vec::new();
    let mut inits = Vec::new();
    let mut x = "input".to_string();
    let layers = widths.len() - 1;
    for (i, w) in widths.windows(2).enumerate() {
        let (n, k) = (w[0], w[1]);
        let a = (6.0 / n as f32).sqrt();
        let weights: Vec<f32> = (0..n * k).map(|_| rng.gen_range(-a..a)).collect();
        let bias: Vec<f32> = (0..k).map(|_| rng.gen_range(-0.1..0.1)).collect();
        inits.push(tensor(&format!("w{i}"), &[n, k], &weights));
        inits.push(tensor(&format!("b{i}"), &[k], &bias));
        let mm = format!("mm{i}_out");
        nodes.push(node("MatMul", &format!("mm{i}"), &[&x, &format!("w{i}")], &mm));
        let last = i + 1 == layers;
        let add = if last { "output".to_string() } else { format!("add{i}_out") };
        nodes.push(node("Add", &format!("add{i}"), &[&mm, &format!("b{i}")], &add));
        x = add;
        if !last {
            let relu = format!("relu{i}_out");
            nodes.push(node("Relu", &format!("relu{i}"), &[&x], &relu));
            x = relu;
        }
    }
    pb::ModelProto {
        ir_version: 8,
        opset_import: vec![pb::OperatorSetIdProto { domain: String::new(), version: 13 }],
        producer_name: "gkrnet tests".into(),
        graph: Some(pb::GraphProto {
            name: "mlp".into(),
            node: nodes,
            initializer: inits,
            input: vec![value_info("input", &[1, widths[0]])],
            output: vec![value_info("output", &[1, widths[layers]])],
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// The protobuf bytes of a model.
pub fn encode(model: &pb::ModelProto) -> Vec<u8> {
    prost::Message::encode_to_vec(model)
}
