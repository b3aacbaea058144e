//! Float ONNX models built in Rust (for tests and benches that must not need Python): a seeded
//! MLP of MatMul + Add + Relu layers, as a protobuf through tract-onnx's `pb` types.

#![allow(dead_code)]

use rand::{Rng, SeedableRng};
use tract_onnx::pb;

pub fn tensor(name: &str, dims: &[usize], data: &[f32]) -> pb::TensorProto {
    pb::TensorProto {
        name: name.into(),
        dims: dims.iter().map(|&d| d as i64).collect(),
        data_type: 1,
        raw_data: data.iter().flat_map(|v| v.to_le_bytes()).collect(),
        ..Default::default()
    }
}

pub fn value_info(name: &str, dims: &[usize]) -> pb::ValueInfoProto {
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

pub fn node(op: &str, name: &str, inputs: &[&str], output: &str) -> pb::NodeProto {
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

pub fn graph_model(
    name: &str,
    nodes: Vec<pb::NodeProto>,
    inits: Vec<pb::TensorProto>,
    input: &[usize],
    output: &[usize],
) -> pb::ModelProto {
    pb::ModelProto {
        ir_version: 8,
        opset_import: vec![pb::OperatorSetIdProto { domain: String::new(), version: 13 }],
        producer_name: "gkrnet tests".into(),
        graph: Some(pb::GraphProto {
            name: name.into(),
            node: nodes,
            initializer: inits,
            input: vec![value_info("input", input)],
            output: vec![value_info("output", output)],
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn int_tensor(name: &str, dims: &[usize], data_type: i32, data: &[i32]) -> pb::TensorProto {
    pb::TensorProto {
        name: name.into(),
        dims: dims.iter().map(|&d| d as i64).collect(),
        data_type,
        int32_data: data.to_vec(),
        ..Default::default()
    }
}

fn uniform(rng: &mut rand_chacha::ChaCha20Rng, len: usize, a: f32) -> Vec<f32> {
    (0..len).map(|_| rng.gen_range(-a..a)).collect()
}

/// A residual block: r = relu(x·W₁ + b₁); s = r·W₂ + b₂; y = relu(s + r)·W₃ + b₃ (an Add of two
/// computed tensors).
pub fn residual(seed: u64) -> pb::ModelProto {
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
    let a = (6.0f32 / 16.0).sqrt();
    let inits = vec![
        tensor("w1", &[16, 16], &uniform(&mut rng, 256, a)),
        tensor("b1", &[16], &uniform(&mut rng, 16, 0.1)),
        tensor("w2", &[16, 16], &uniform(&mut rng, 256, a)),
        tensor("b2", &[16], &uniform(&mut rng, 16, 0.1)),
        tensor("w3", &[16, 10], &uniform(&mut rng, 160, a)),
        tensor("b3", &[10], &uniform(&mut rng, 10, 0.1)),
    ];
    let nodes = vec![
        node("MatMul", "mm1", &["input", "w1"], "mm1_out"),
        node("Add", "add1", &["mm1_out", "b1"], "add1_out"),
        node("Relu", "relu1", &["add1_out"], "r"),
        node("MatMul", "mm2", &["r", "w2"], "mm2_out"),
        node("Add", "add2", &["mm2_out", "b2"], "s"),
        node("Add", "skip", &["s", "r"], "sum"),
        node("Relu", "relu2", &["sum"], "h"),
        node("MatMul", "mm3", &["h", "w3"], "mm3_out"),
        node("Add", "add3", &["mm3_out", "b3"], "output"),
    ];
    graph_model("residual", nodes, inits, &[1, 16], &[1, 10])
}

/// Integer ops: QuantizeLinear → MatMulInteger → Cast → Mul (scale) → Add (bias) → Relu →
/// QuantizeLinear → Reshape to NCHW → ConvInteger (1×1) → Cast → Mul → Flatten.
pub fn integer_ops(seed: u64) -> pb::ModelProto {
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
    let w1: Vec<i32> = (0..16 * 8).map(|_| rng.gen_range(-127..=127)).collect();
    let w2: Vec<i32> = (0..4 * 2).map(|_| rng.gen_range(-127..=127)).collect();
    let (s_x, s_w1, s_h, s_w2) = (1.0f32 / 255.0, 0.02f32, 0.05f32, 0.01f32);
    let mut cast = node("Cast", "cast1", &["mmi_out"], "mmi_f");
    cast.attribute.push(pb::AttributeProto {
        name: "to".into(),
        r#type: 2,
        i: 1,
        ..Default::default()
    });
    let mut cast2 = node("Cast", "cast2", &["ci_out"], "ci_f");
    cast2.attribute.push(pb::AttributeProto {
        name: "to".into(),
        r#type: 2,
        i: 1,
        ..Default::default()
    });
    let mut flatten = node("Flatten", "flatten", &["ci_scaled"], "output");
    flatten.attribute.push(pb::AttributeProto {
        name: "axis".into(),
        r#type: 2,
        i: 1,
        ..Default::default()
    });
    let inits = vec![
        tensor("s_x", &[], &[s_x]),
        int_tensor("z_x", &[], 3, &[-128]),
        int_tensor("w1", &[16, 8], 3, &w1),
        tensor("scale1", &[], &[s_x * s_w1]),
        tensor("b1", &[8], &uniform(&mut rng, 8, 0.2)),
        tensor("s_h", &[], &[s_h]),
        int_tensor("z_h", &[], 3, &[-128]),
        pb::TensorProto {
            name: "shape".into(),
            dims: vec![4],
            data_type: 7,
            int64_data: vec![1, 2, 2, 2],
            ..Default::default()
        },
        int_tensor("w2", &[4, 2, 1, 1], 3, &w2),
        tensor("scale2", &[], &[s_h * s_w2]),
    ];
    let nodes = vec![
        node("QuantizeLinear", "qx", &["input", "s_x", "z_x"], "xq"),
        node("MatMulInteger", "mmi", &["xq", "w1", "z_x"], "mmi_out"),
        cast,
        node("Mul", "scale1", &["mmi_f", "scale1"], "mm_real"),
        node("Add", "bias1", &["mm_real", "b1"], "h_real"),
        node("Relu", "relu1", &["h_real"], "h_relu"),
        node("QuantizeLinear", "qh", &["h_relu", "s_h", "z_h"], "hq"),
        node("Reshape", "reshape", &["hq", "shape"], "hq4"),
        node("ConvInteger", "ci", &["hq4", "w2", "z_h"], "ci_out"),
        cast2,
        node("Mul", "scale2", &["ci_f", "scale2"], "ci_scaled"),
        flatten,
    ];
    graph_model("integer_ops", nodes, inits, &[1, 16], &[1, 16])
}

pub fn attr_ints(name: &str, v: &[i64]) -> pb::AttributeProto {
    pb::AttributeProto { name: name.into(), r#type: 7, ints: v.to_vec(), ..Default::default() }
}

pub fn attr_int(name: &str, v: i64) -> pb::AttributeProto {
    pb::AttributeProto { name: name.into(), r#type: 2, i: v, ..Default::default() }
}

/// Concats on channels and on features: two conv branches (3×3 + ReLU, 1×1) concatenated on
/// axis 1, flattened; two dense branches (tanh, ReLU) concatenated on axis −1; a dense head.
pub fn concat(seed: u64) -> pb::ModelProto {
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
    let mut inits = vec![
        tensor("k1", &[3, 1, 3, 3], &uniform(&mut rng, 27, 0.8)),
        tensor("kb1", &[3], &uniform(&mut rng, 3, 0.1)),
        tensor("k2", &[2, 1, 1, 1], &uniform(&mut rng, 2, 1.0)),
        tensor("kb2", &[2], &uniform(&mut rng, 2, 0.1)),
    ];
    let a = (6.0f32 / 180.0).sqrt();
    inits.push(tensor("w1", &[180, 8], &uniform(&mut rng, 1440, a)));
    inits.push(tensor("b1", &[8], &uniform(&mut rng, 8, 0.1)));
    inits.push(tensor("w2", &[180, 4], &uniform(&mut rng, 720, a)));
    inits.push(tensor("b2", &[4], &uniform(&mut rng, 4, 0.1)));
    inits.push(tensor("w3", &[12, 10], &uniform(&mut rng, 120, (6.0f32 / 12.0).sqrt())));
    inits.push(tensor("b3", &[10], &uniform(&mut rng, 10, 0.1)));
    let mut c1 = node("Conv", "conv1", &["input", "k1", "kb1"], "c1");
    c1.attribute.push(attr_ints("pads", &[1, 1, 1, 1]));
    let c2 = node("Conv", "conv2", &["input", "k2", "kb2"], "c2");
    let mut cat1 = node("Concat", "cat_channels", &["r1", "c2"], "cat1");
    cat1.attribute.push(attr_int("axis", 1));
    let mut flat = node("Flatten", "flatten", &["cat1"], "flat");
    flat.attribute.push(attr_int("axis", 1));
    let mut cat2 = node("Concat", "cat_features", &["t", "r2"], "cat2");
    cat2.attribute.push(attr_int("axis", -1));
    let nodes = vec![
        c1,
        node("Relu", "relu1", &["c1"], "r1"),
        c2,
        cat1,
        flat,
        node("MatMul", "mm1", &["flat", "w1"], "mm1_out"),
        node("Add", "add1", &["mm1_out", "b1"], "h1"),
        node("Tanh", "tanh1", &["h1"], "t"),
        node("MatMul", "mm2", &["flat", "w2"], "mm2_out"),
        node("Add", "add2", &["mm2_out", "b2"], "h2"),
        node("Relu", "relu2", &["h2"], "r2"),
        cat2,
        node("MatMul", "mm3", &["cat2", "w3"], "mm3_out"),
        node("Add", "add3", &["mm3_out", "b3"], "output"),
    ];
    graph_model("concat", nodes, inits, &[1, 1, 6, 6], &[1, 10])
}

fn with_attrs(mut n: pb::NodeProto, attrs: Vec<pb::AttributeProto>) -> pb::NodeProto {
    n.attribute = attrs;
    n
}

/// A dense layer x·W + b of seeded weights: its nodes and initializers.
fn dense(
    rng: &mut rand_chacha::ChaCha20Rng,
    name: &str,
    x: &str,
    (n, k): (usize, usize),
    out: &str,
) -> (Vec<pb::NodeProto>, Vec<pb::TensorProto>) {
    let a = (6.0 / n as f32).sqrt();
    let (w, b, mm) = (format!("{name}_w"), format!("{name}_b"), format!("{name}_mm"));
    let inits =
        vec![tensor(&w, &[n, k], &uniform(rng, n * k, a)), tensor(&b, &[k], &uniform(rng, k, 0.1))];
    let nodes = vec![
        node("MatMul", &format!("{name}_matmul"), &[x, &w], &mm),
        node("Add", &format!("{name}_add"), &[&mm, &b], out),
    ];
    (nodes, inits)
}

/// Products of computed tensors in an MLP [1, 16] → [1, 10]: SiLU h·sigmoid(h), then the
/// activation x·x + x of ezkl's LeNet example.
pub fn products(seed: u64) -> pb::ModelProto {
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
    let (mut nodes, mut inits) = dense(&mut rng, "d1", "input", (16, 12), "h");
    nodes.push(node("Sigmoid", "sig", &["h"], "sg"));
    nodes.push(node("Mul", "silu", &["h", "sg"], "s"));
    let (n2, i2) = dense(&mut rng, "d2", "s", (12, 12), "g");
    nodes.extend(n2);
    inits.extend(i2);
    nodes.push(node("Mul", "square", &["g", "g"], "gg"));
    nodes.push(node("Add", "square_plus", &["gg", "g"], "a"));
    let (n3, i3) = dense(&mut rng, "d3", "a", (12, 10), "output");
    nodes.extend(n3);
    inits.extend(i3);
    graph_model("products", nodes, inits, &[1, 16], &[1, 10])
}

/// Squeeze-excitation on a conv block [1, 3, 8, 8]: x = relu(conv(input)), gate =
/// sigmoid(conv1×1(mean over H, W of x)), y = x·gate (broadcast over H, W), then the mean over
/// H, W (keepdims 0) beside the spatial sum of relu(the channel sum), concatenated, and a dense
/// head to [1, 5].
pub fn squeeze_excite(seed: u64) -> pb::ModelProto {
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
    let inits = vec![
        tensor("k1", &[4, 3, 3, 3], &uniform(&mut rng, 108, 0.5)),
        tensor("kb1", &[4], &uniform(&mut rng, 4, 0.1)),
        tensor("k2", &[4, 4, 1, 1], &uniform(&mut rng, 16, 1.0)),
        tensor("kb2", &[4], &uniform(&mut rng, 4, 0.1)),
        tensor("w", &[5, 5], &uniform(&mut rng, 25, 1.0)),
        pb::TensorProto {
            name: "axes_hw".into(),
            dims: vec![2],
            data_type: 7,
            int64_data: vec![2, 3],
            ..Default::default()
        },
        pb::TensorProto {
            name: "shape_1_1".into(),
            dims: vec![2],
            data_type: 7,
            int64_data: vec![1, 1],
            ..Default::default()
        },
        pb::TensorProto {
            name: "axes_c".into(),
            dims: vec![1],
            data_type: 7,
            int64_data: vec![1],
            ..Default::default()
        },
    ];
    let nodes = vec![
        with_attrs(
            node("Conv", "conv1", &["input", "k1", "kb1"], "c1"),
            vec![attr_ints("pads", &[1, 1, 1, 1]), attr_ints("kernel_shape", &[3, 3])],
        ),
        node("Relu", "relu1", &["c1"], "x"),
        with_attrs(node("ReduceMean", "squeeze", &["x"], "m"), vec![attr_ints("axes", &[2, 3])]),
        node("Conv", "excite", &["m", "k2", "kb2"], "e"),
        node("Sigmoid", "gate", &["e"], "g"),
        node("Mul", "scale", &["x", "g"], "y"),
        with_attrs(
            node("ReduceMean", "pool", &["y"], "p"),
            vec![attr_ints("axes", &[-1, -2]), attr_int("keepdims", 0)],
        ),
        with_attrs(
            node("ReduceSum", "chan_sum", &["y", "axes_c"], "cs"),
            vec![attr_int("keepdims", 1)],
        ),
        node("Relu", "cs_relu", &["cs"], "csr"),
        node("ReduceSum", "spatial_sum", &["csr", "axes_hw"], "total"),
        with_attrs(node("Reshape", "flat_total", &["total", "shape_1_1"], "t2"), vec![]),
        with_attrs(node("Concat", "features", &["p", "t2"], "f"), vec![attr_int("axis", 1)]),
        node("MatMul", "head", &["f", "w"], "output"),
    ];
    graph_model("squeeze_excite", nodes, inits, &[1, 3, 8, 8], &[1, 5])
}

/// An MLP [1, 16] → logits [1, 10] → ArgMax over axis 1 (keepdims 0, int64 output [1]).
pub fn argmax_head(seed: u64) -> pb::ModelProto {
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
    let (mut nodes, inits) = dense(&mut rng, "d1", "input", (16, 10), "logits");
    nodes.push(with_attrs(
        node("ArgMax", "label", &["logits"], "output"),
        vec![attr_int("axis", 1), attr_int("keepdims", 0)],
    ));
    let mut m = graph_model("argmax_head", nodes, inits, &[1, 16], &[1]);
    if let Some(pb::type_proto::Value::TensorType(t)) =
        m.graph.as_mut().and_then(|g| g.output[0].r#type.as_mut()).and_then(|t| t.value.as_mut())
    {
        t.elem_type = 7;
    }
    m
}

/// input → Identity → output.
pub fn identity_only() -> pb::ModelProto {
    graph_model(
        "identity",
        vec![node("Identity", "id", &["input"], "output")],
        Vec::new(),
        &[1, 6],
        &[1, 6],
    )
}

fn i64_tensor(name: &str, dims: &[usize], data: &[i64]) -> pb::TensorProto {
    pb::TensorProto {
        name: name.into(),
        dims: dims.iter().map(|&d| d as i64).collect(),
        data_type: 7,
        int64_data: data.to_vec(),
        ..Default::default()
    }
}

/// PyTorch's `x.view(x.size(0), -1)` before a dense head, as the legacy exporter writes it
/// without constant folding: Conv → Relu → Shape → Gather(0) → Unsqueeze → Concat with [−1] →
/// Reshape, and a ConstantOfShape → Expand of a computed gate broadcast to [1, 2, 3, 3]
/// multiplied in. Input [1, 1, 3, 3] → [1, 4].
pub fn shape_arithmetic(seed: u64) -> pb::ModelProto {
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
    let inits = vec![
        tensor("k", &[2, 1, 2, 2], &uniform(&mut rng, 8, 0.8)),
        tensor("kb", &[2], &uniform(&mut rng, 2, 0.1)),
        tensor("w", &[18, 4], &uniform(&mut rng, 72, 0.5)),
        i64_tensor("zero", &[], &[0]),
        i64_tensor("axes0", &[1], &[0]),
        i64_tensor("minus_one", &[1], &[-1]),
        i64_tensor("two", &[1], &[2]),
    ];
    let nodes = vec![
        with_attrs(
            node("Conv", "conv", &["input", "k", "kb"], "c"),
            vec![attr_ints("pads", &[1, 1, 0, 0])],
        ),
        node("Relu", "relu", &["c"], "r"),
        node("Shape", "shape", &["r"], "s"),
        with_attrs(node("Gather", "batch", &["s", "zero"], "n"), vec![attr_int("axis", 0)]),
        node("Unsqueeze", "n1", &["n", "axes0"], "n_1"),
        with_attrs(
            node("Concat", "target", &["n_1", "minus_one"], "shape2"),
            vec![attr_int("axis", 0)],
        ),
        // a gate of ones [1, 2, 1, 1] expanded to r's shape, times r
        node("Shape", "shape_r", &["r"], "sr"),
        with_attrs(node("ConstantOfShape", "ones_shape", &["two"], "ones_len"), vec![]),
        with_attrs(node("ReduceMean", "gate_mean", &["r"], "gm"), vec![attr_ints("axes", &[2, 3])]),
        node("Sigmoid", "gate", &["gm"], "g"),
        node("Expand", "gate_full", &["g", "sr"], "gf"),
        node("Mul", "gated", &["r", "gf"], "rg"),
        node("Reshape", "flatten", &["rg", "shape2"], "f"),
        node("MatMul", "head", &["f", "w"], "output"),
    ];
    graph_model("shape_arithmetic", nodes, inits, &[1, 1, 3, 3], &[1, 4])
}

/// Slices, Gathers and a Split of computed tensors (ShuffleNet's channel split and shuffle,
/// `x[:, ::-1]`, a row pick): conv [1, 1, 4, 4] → 4 channels → Split into 2 + 2 → relu of one
/// half, Concat back; Slice with a negative step on channels, Gather of rows [3, 0, −1],
/// Gather of a scalar channel; flattened into a dense head [1, 3].
pub fn takes(seed: u64) -> pb::ModelProto {
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
    let inits = vec![
        tensor("k", &[4, 1, 3, 3], &uniform(&mut rng, 36, 0.8)),
        tensor("kb", &[4], &uniform(&mut rng, 4, 0.1)),
        i64_tensor("split", &[2], &[2, 2]),
        i64_tensor("starts", &[1], &[-1]),
        i64_tensor("ends", &[1], &[i64::MIN]),
        i64_tensor("axes1", &[1], &[1]),
        i64_tensor("steps", &[1], &[-1]),
        i64_tensor("rows", &[3], &[3, 0, -1]),
        i64_tensor("chan", &[], &[2]),
        i64_tensor("flat", &[2], &[1, -1]),
        tensor("w", &[60, 3], &uniform(&mut rng, 180, 0.3)),
    ];
    let mut split =
        with_attrs(node("Split", "split", &["c", "split"], "a"), vec![attr_int("axis", 1)]);
    split.output.push("b".into());
    let nodes = vec![
        with_attrs(
            node("Conv", "conv", &["input", "k", "kb"], "c"),
            vec![attr_ints("pads", &[1, 1, 1, 1])],
        ),
        split,
        node("Relu", "relu_b", &["b"], "rb"),
        with_attrs(node("Concat", "join", &["a", "rb"], "j"), vec![attr_int("axis", 1)]),
        node("Slice", "reverse", &["j", "starts", "ends", "axes1", "steps"], "rev"),
        with_attrs(node("Gather", "pick_rows", &["rev", "rows"], "g"), vec![attr_int("axis", 2)]),
        with_attrs(node("Gather", "one_chan", &["g", "chan"], "g2"), vec![attr_int("axis", 1)]),
        node("Reshape", "flat_g", &["g", "flat"], "fg"),
        node("Reshape", "flat_g2", &["g2", "flat"], "fg2"),
        with_attrs(node("Concat", "feat", &["fg", "fg2"], "f"), vec![attr_int("axis", 1)]),
        node("MatMul", "head", &["f", "w"], "output"),
    ];
    graph_model("takes", nodes, inits, &[1, 1, 4, 4], &[1, 3])
}

pub fn attr_str(name: &str, v: &str) -> pb::AttributeProto {
    pb::AttributeProto { name: name.into(), r#type: 3, s: v.into(), ..Default::default() }
}

/// A pooling node after a conv block: input [1, 2, h, w] → Conv 4@3×3 (pads 1) → Relu → `op`
/// with `attrs` → output [1, 4, out[0], out[1]] (the output size the test expects).
pub fn conv_pool(
    seed: u64,
    hw: [usize; 2],
    op: &str,
    attrs: Vec<pb::AttributeProto>,
    out: [usize; 2],
) -> pb::ModelProto {
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
    let inits = vec![
        tensor("k", &[4, 2, 3, 3], &uniform(&mut rng, 72, 0.6)),
        tensor("kb", &[4], &uniform(&mut rng, 4, 0.1)),
    ];
    let nodes = vec![
        with_attrs(
            node("Conv", "conv", &["input", "k", "kb"], "c"),
            vec![attr_ints("pads", &[1, 1, 1, 1]), attr_ints("kernel_shape", &[3, 3])],
        ),
        node("Relu", "relu", &["c"], "r"),
        with_attrs(node(op, "pool", &["r"], "output"), attrs),
    ];
    graph_model("conv_pool", nodes, inits, &[1, 2, hw[0], hw[1]], &[1, 4, out[0], out[1]])
}

/// A convolution with `attrs` (and a `kernel` of taps): input [1, 2, h, w] → Conv 3@kernel →
/// Relu → output [1, 3, out[0], out[1]].
pub fn conv_attrs(
    seed: u64,
    hw: [usize; 2],
    kernel: [usize; 2],
    attrs: Vec<pb::AttributeProto>,
    out: [usize; 2],
) -> pb::ModelProto {
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
    let taps = 2 * kernel[0] * kernel[1];
    let inits = vec![
        tensor("k", &[3, 2, kernel[0], kernel[1]], &uniform(&mut rng, 3 * taps, 0.6)),
        tensor("kb", &[3], &uniform(&mut rng, 3, 0.1)),
    ];
    let nodes = vec![
        with_attrs(node("Conv", "conv", &["input", "k", "kb"], "c"), attrs),
        node("Relu", "relu", &["c"], "output"),
    ];
    graph_model("conv_attrs", nodes, inits, &[1, 2, hw[0], hw[1]], &[1, 3, out[0], out[1]])
}

/// A classifier ending as skl2onnx writes it without ZipMap: dense [1, 16] → [1, 10] → Softmax
/// → the probabilities through `tail` (Identity, Dropout …, in order) to the output.
pub fn softmax_then(seed: u64, tail: &[&str]) -> pb::ModelProto {
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
    let (mut nodes, inits) = dense(&mut rng, "d1", "input", (16, 10), "logits");
    let mut x = if tail.is_empty() { "output" } else { "probs" }.to_string();
    nodes.push(with_attrs(node("Softmax", "softmax", &["logits"], &x), vec![attr_int("axis", 1)]));
    for (i, op) in tail.iter().enumerate() {
        let out = if i + 1 == tail.len() { "output".to_string() } else { format!("t{i}") };
        nodes.push(node(op, &format!("tail{i}"), &[&x], &out));
        x = out;
    }
    graph_model("softmax_then", nodes, inits, &[1, 16], &[1, 10])
}

/// The mean of every entry (no axes, keepdims 0: a rank-0 output) after a dense layer [1, 6] →
/// [1, 5].
pub fn mean_all(seed: u64) -> pb::ModelProto {
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
    let (mut nodes, inits) = dense(&mut rng, "d1", "input", (6, 5), "h");
    nodes.push(with_attrs(
        node("ReduceMean", "mean", &["h"], "output"),
        vec![attr_int("keepdims", 0)],
    ));
    graph_model("mean_all", nodes, inits, &[1, 6], &[])
}

/// GatherND (indices [[1, 0], [0, 2], [1, 2]] into [1, 4] rows … of a [2, 3, 4] view) and
/// GatherElements (axis 1) with constant indices on computed tensors: input [1, 24] → dense
/// [1, 24] → reshape [2, 3, 4] → GatherND → [3, 4] and GatherElements → [2, 2, 4], flattened,
/// concatenated, a dense head to [1, 3].
pub fn gathers(seed: u64) -> pb::ModelProto {
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
    let (mut nodes, mut inits) = dense(&mut rng, "d1", "input", (24, 24), "h");
    inits.extend([
        i64_tensor("shape3", &[3], &[2, 3, 4]),
        i64_tensor("nd", &[3, 2], &[1, 0, 0, 2, 1, 2]),
        i64_tensor("el", &[2, 2, 4], &[0, 1, 2, 0, 2, 2, 1, 0, 2, 0, 1, 1, 2, 0, 0, 1]),
        i64_tensor("flat", &[2], &[1, -1]),
        tensor("w", &[28, 3], &uniform(&mut rng, 84, 0.3)),
    ]);
    nodes.extend([
        node("Reshape", "view", &["h", "shape3"], "v"),
        node("GatherND", "gnd", &["v", "nd"], "a"),
        with_attrs(node("GatherElements", "gel", &["v", "el"], "b"), vec![attr_int("axis", 1)]),
        node("Reshape", "flat_a", &["a", "flat"], "fa"),
        node("Reshape", "flat_b", &["b", "flat"], "fb"),
        with_attrs(node("Concat", "feat", &["fa", "fb"], "f"), vec![attr_int("axis", 1)]),
        node("MatMul", "head", &["f", "w"], "output"),
    ]);
    graph_model("gathers", nodes, inits, &[1, 24], &[1, 3])
}

/// A recurrent layer (`op` LSTM, GRU or RNN) over input [steps, 1, 3], hidden 5, seeded
/// weights and biases, `direction` and GRU's `linear_before_reset`; the output is Y_h reshaped
/// to [1, dirs·5], or with `full_y` the whole Y flattened to [1, steps·dirs·5].
pub fn recurrent(
    op: &str,
    seed: u64,
    steps: usize,
    direction: &str,
    lbr: i64,
    full_y: bool,
) -> pb::ModelProto {
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
    let (inputs, hidden) = (3usize, 5usize);
    let gates = match op {
        "LSTM" => 4,
        "GRU" => 3,
        _ => 1,
    };
    let dirs = if direction == "bidirectional" { 2 } else { 1 };
    let inits = vec![
        tensor(
            "W",
            &[dirs, gates * hidden, inputs],
            &uniform(&mut rng, dirs * gates * hidden * inputs, 0.8),
        ),
        tensor(
            "R",
            &[dirs, gates * hidden, hidden],
            &uniform(&mut rng, dirs * gates * hidden * hidden, 0.6),
        ),
        tensor(
            "B",
            &[dirs, 2 * gates * hidden],
            &uniform(&mut rng, dirs * 2 * gates * hidden, 0.3),
        ),
        i64_tensor("flat", &[2], &[1, -1]),
    ];
    let mut attrs = vec![attr_int("hidden_size", hidden as i64), attr_str("direction", direction)];
    if op == "GRU" {
        attrs.push(attr_int("linear_before_reset", lbr));
    }
    let mut rnn = with_attrs(node(op, "rnn", &["input", "W", "R", "B"], "Y"), attrs);
    rnn.output.push("Y_h".into());
    let read = if full_y { "Y" } else { "Y_h" };
    let width = if full_y { steps * dirs * hidden } else { dirs * hidden };
    let nodes = vec![rnn, node("Reshape", "flatten", &[read, "flat"], "output")];
    graph_model(&format!("{op}_{direction}"), nodes, inits, &[steps, 1, inputs], &[1, width])
}

pub fn int8_tensor(name: &str, dims: &[usize], data_type: i32, data: &[i32]) -> pb::TensorProto {
    int_tensor(name, dims, data_type, data)
}

fn ms(mut n: pb::NodeProto) -> pb::NodeProto {
    n.domain = "com.microsoft".into();
    n
}

/// A QOperator graph with onnxruntime's com.microsoft ops, input [1, 2, 4, 4]: QuantizeLinear
/// (uint8) → QLinearAdd(x, x) → QLinearSigmoid, QLinearLeakyRelu → QLinearConcat (axis 1) →
/// QLinearGlobalAveragePool → Reshape [1, 6] → QGemm (int8 weights [3, 6], int32 bias, transB)
/// → DequantizeLinear → output [1, 3]. With `qdq`, the same computation written by hand as
/// DequantizeLinear → float op → QuantizeLinear (what tract can run).
pub fn qoperator(qdq: bool) -> pb::ModelProto {
    let f = |name: &str, v: f32| tensor(name, &[], &[v]);
    let u8z = |name: &str, v: i32| int_tensor(name, &[], 2, &[v]);
    let weights: Vec<i32> = (0..18).map(|i| ((i * 37) % 23) - 11).collect();
    let mut inits = vec![
        f("s_in", 1.0 / 255.0),
        u8z("z_in", 0),
        f("s_a", 2.0 / 255.0),
        u8z("z_a", 0),
        f("s_s", 1.0 / 255.0),
        u8z("z_s", 0),
        f("s_l", 2.0 / 255.0),
        u8z("z_l", 0),
        f("s_c", 2.0 / 255.0),
        u8z("z_c", 0),
        f("s_g", 1.6 / 255.0),
        u8z("z_g", 0),
        f("s_w", 0.02),
        int_tensor("z_w", &[], 3, &[0]),
        int_tensor("w", &[3, 6], 3, &weights),
        int_tensor("bias", &[3], 6, &[40, -75, 120]),
        f("s_y", 0.01),
        u8z("z_y", 128),
        i64_tensor("flat", &[2], &[1, 6]),
    ];
    let q = |x: &str, s: &str, z: &str, o: &str| node("QuantizeLinear", o, &[x, s, z], o);
    let dq = |x: &str, s: &str, z: &str, o: &str| node("DequantizeLinear", o, &[x, s, z], o);
    let mut nodes = vec![q("input", "s_in", "z_in", "xq")];
    if qdq {
        inits.push(f("s_bias", (1.6 / 255.0) * 0.02));
        nodes.extend([
            dq("xq", "s_in", "z_in", "xf"),
            node("Add", "add", &["xf", "xf"], "af"),
            q("af", "s_a", "z_a", "aq"),
            dq("aq", "s_a", "z_a", "af2"),
            node("Sigmoid", "sig", &["af2"], "sf"),
            q("sf", "s_s", "z_s", "sq"),
            with_attrs(node("LeakyRelu", "leaky", &["af2"], "lf"), vec![attr_float("alpha", 0.2)]),
            q("lf", "s_l", "z_l", "lq"),
            dq("sq", "s_s", "z_s", "sf2"),
            dq("lq", "s_l", "z_l", "lf2"),
            with_attrs(
                node("Concat", "concat", &["af2", "sf2", "lf2"], "cf"),
                vec![attr_int("axis", 1)],
            ),
            q("cf", "s_c", "z_c", "cq"),
            dq("cq", "s_c", "z_c", "cf2"),
            node("GlobalAveragePool", "gap", &["cf2"], "gf"),
            q("gf", "s_g", "z_g", "gq"),
            node("Reshape", "flatten", &["gq", "flat"], "fq"),
            dq("fq", "s_g", "z_g", "ff"),
            dq("w", "s_w", "z_w", "wf"),
            node("DequantizeLinear", "bias_dq", &["bias", "s_bias"], "bf"),
            with_attrs(
                node("Gemm", "gemm", &["ff", "wf", "bf"], "yf"),
                vec![attr_int("transB", 1)],
            ),
            q("yf", "s_y", "z_y", "yq"),
        ]);
    } else {
        nodes.extend([
            ms(node(
                "QLinearAdd",
                "add",
                &["xq", "s_in", "z_in", "xq", "s_in", "z_in", "s_a", "z_a"],
                "aq",
            )),
            ms(node("QLinearSigmoid", "sig", &["aq", "s_a", "z_a", "s_s", "z_s"], "sq")),
            ms(with_attrs(
                node("QLinearLeakyRelu", "leaky", &["aq", "s_a", "z_a", "s_l", "z_l"], "lq"),
                vec![attr_float("alpha", 0.2)],
            )),
            ms(with_attrs(
                node(
                    "QLinearConcat",
                    "concat",
                    &["s_c", "z_c", "aq", "s_a", "z_a", "sq", "s_s", "z_s", "lq", "s_l", "z_l"],
                    "cq",
                ),
                vec![attr_int("axis", 1)],
            )),
            ms(node("QLinearGlobalAveragePool", "gap", &["cq", "s_c", "z_c", "s_g", "z_g"], "gq")),
            node("Reshape", "flatten", &["gq", "flat"], "fq"),
            ms(with_attrs(
                node(
                    "QGemm",
                    "gemm",
                    &["fq", "s_g", "z_g", "w", "s_w", "z_w", "bias", "s_y", "z_y"],
                    "yq",
                ),
                vec![attr_int("transB", 1)],
            )),
        ]);
    }
    nodes.push(dq("yq", "s_y", "z_y", "output"));
    let mut m = graph_model("qoperator", nodes, inits, &[1, 2, 4, 4], &[1, 3]);
    if !qdq {
        m.opset_import.push(pb::OperatorSetIdProto { domain: "com.microsoft".into(), version: 1 });
    }
    m
}

pub fn attr_float(name: &str, v: f32) -> pb::AttributeProto {
    pb::AttributeProto { name: name.into(), r#type: 1, f: v, ..Default::default() }
}

fn attr_floats(name: &str, v: &[f32]) -> pb::AttributeProto {
    pb::AttributeProto { name: name.into(), r#type: 6, floats: v.to_vec(), ..Default::default() }
}

/// skl2onnx's linear models, input [1, 6]: `LinearRegressor` with 2 targets (output [1, 2]),
/// or (`classifier`) `LinearClassifier` over 4 classes with a softmax post-transform →
/// Normalizer L1 → the probabilities [1, 4] (the label output unnamed). Returns the model and
/// its coefficients (rows × 6) and intercepts.
pub fn linear_ml(classifier: bool, seed: u64) -> (pb::ModelProto, Vec<Vec<f32>>, Vec<f32>) {
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
    let rows = if classifier { 4 } else { 2 };
    let coefficients = uniform(&mut rng, rows * 6, 1.0);
    let intercepts = uniform(&mut rng, rows, 0.5);
    let ml = |mut n: pb::NodeProto| {
        n.domain = "ai.onnx.ml".into();
        n
    };
    let mut attrs =
        vec![attr_floats("coefficients", &coefficients), attr_floats("intercepts", &intercepts)];
    let nodes = if classifier {
        attrs.push(attr_ints("classlabels_ints", &[0, 1, 2, 3]));
        attrs.push(attr_str("post_transform", "SOFTMAX"));
        let mut lc = ml(with_attrs(node("LinearClassifier", "lc", &["input"], ""), attrs));
        lc.output = vec![String::new(), "probs".into()];
        vec![
            lc,
            ml(with_attrs(
                node("Normalizer", "norm", &["probs"], "output"),
                vec![attr_str("norm", "L1")],
            )),
        ]
    } else {
        attrs.push(attr_int("targets", 2));
        vec![ml(with_attrs(node("LinearRegressor", "lr", &["input"], "output"), attrs))]
    };
    let mut m = graph_model("linear_ml", nodes, vec![], &[1, 6], &[1, rows]);
    m.opset_import.push(pb::OperatorSetIdProto { domain: "ai.onnx.ml".into(), version: 1 });
    let w = coefficients.chunks(6).map(<[f32]>::to_vec).collect();
    (m, w, intercepts)
}

/// skl2onnx's label path of an MLPClassifier, input [1, 6]: MatMul + Add → ArgMax (axis 1,
/// keepdims 1) → ArrayFeatureExtractor of the classes 0…3 → Reshape [−1] → Cast int64 → the
/// label [1]. Returns the model, the weights (4 × 6) and the biases.
pub fn label_path(seed: u64) -> (pb::ModelProto, Vec<Vec<f32>>, Vec<f32>) {
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
    let w = uniform(&mut rng, 24, 1.0);
    let b = uniform(&mut rng, 4, 0.5);
    let mut wt = vec![0f32; 24];
    for r in 0..4 {
        for c in 0..6 {
            wt[c * 4 + r] = w[r * 6 + c];
        }
    }
    let mut afe = node("ArrayFeatureExtractor", "afe", &["classes", "idx"], "picked");
    afe.domain = "ai.onnx.ml".into();
    let nodes = vec![
        node("MatMul", "mm", &["input", "w"], "xw"),
        node("Add", "add", &["xw", "b"], "scores"),
        with_attrs(node("ArgMax", "argmax", &["scores"], "idx"), vec![attr_int("axis", 1)]),
        afe,
        node("Reshape", "reshape", &["picked", "minus_one"], "flat"),
        with_attrs(node("Cast", "cast", &["flat"], "output"), vec![attr_int("to", 7)]),
    ];
    let inits = vec![
        tensor("w", &[6, 4], &wt),
        tensor("b", &[4], &b),
        i64_tensor("classes", &[4], &[0, 1, 2, 3]),
        i64_tensor("minus_one", &[1], &[-1]),
    ];
    let mut m = graph_model("label_path", nodes, inits, &[1, 6], &[1]);
    m.opset_import.push(pb::OperatorSetIdProto { domain: "ai.onnx.ml".into(), version: 1 });
    (m, w.chunks(6).map(<[f32]>::to_vec).collect(), b)
}

/// A graph of several outputs: `outputs` are (name, dimensions, ONNX element type) in graph
/// order.
pub fn graph_outputs(
    name: &str,
    nodes: Vec<pb::NodeProto>,
    inits: Vec<pb::TensorProto>,
    input: &[usize],
    outputs: &[(&str, &[usize], i32)],
) -> pb::ModelProto {
    let mut m = graph_model(name, nodes, inits, input, &[]);
    if let Some(g) = m.graph.as_mut() {
        g.output =
            outputs.iter().map(|&(name, dims, elem)| typed_value_info(name, dims, elem)).collect();
    }
    m
}

/// Two heads on one hidden layer: h = relu(x·W + b) for x of [1, 16], then the Gemm outputs
/// "small" = h·A + a ([1, 4], weights near 0.1) and "big" = h·B + c ([1, 6], weights near 3):
/// two outputs of very different scales.
pub fn two_heads(seed: u64) -> pb::ModelProto {
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
    let (mut nodes, mut inits) = dense(&mut rng, "hidden", "input", (16, 12), "h0");
    nodes.push(node("Relu", "relu", &["h0"], "h"));
    for (head, k, a) in [("small", 4, 0.1f32), ("big", 6, 3.0)] {
        let (w, b) = (format!("{head}_w"), format!("{head}_b"));
        inits.push(tensor(&w, &[12, k], &uniform(&mut rng, 12 * k, a)));
        inits.push(tensor(&b, &[k], &uniform(&mut rng, k, a)));
        nodes.push(node("Gemm", &format!("{head}_gemm"), &["h", &w, &b], head));
    }
    graph_outputs(
        "two_heads",
        nodes,
        inits,
        &[1, 16],
        &[("small", &[1, 4], 1), ("big", &[1, 6], 1)],
    )
}

/// An MLP classifier as skl2onnx writes MLPClassifier (without ZipMap): MatMul, Add, Relu,
/// MatMul, Add ("logits", [1, 5]), Softmax → output "probabilities", and ArgMax (axis 1,
/// keepdims 0) of the probabilities → output "label" ([1], int64). The label comes first, as
/// skl2onnx orders them.
pub fn mlp_classifier(seed: u64) -> pb::ModelProto {
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
    let (mut nodes, mut inits) = dense(&mut rng, "d1", "input", (16, 12), "h0");
    nodes.push(node("Relu", "relu", &["h0"], "h"));
    let (n2, i2) = dense(&mut rng, "d2", "h", (12, 5), "logits");
    nodes.extend(n2);
    inits.extend(i2);
    nodes.push(with_attrs(
        node("Softmax", "softmax", &["logits"], "probabilities"),
        vec![attr_int("axis", 1)],
    ));
    nodes.push(with_attrs(
        node("ArgMax", "argmax", &["probabilities"], "label"),
        vec![attr_int("axis", 1), attr_int("keepdims", 0)],
    ));
    graph_outputs(
        "mlp_classifier",
        nodes,
        inits,
        &[1, 16],
        &[("label", &[1], 7), ("probabilities", &[1, 5], 1)],
    )
}

/// A scikit-learn pipeline StandardScaler → binary LogisticRegression as skl2onnx writes it,
/// input [1, 5]: `Scaler` (offset, scale) → `LinearClassifier` (two rows, labels 0 and 1,
/// LOGISTIC) → outputs "label" [1] and "probabilities" [1, 2]. Returns the model, the offset,
/// the scale, the two weight rows and intercepts.
#[allow(clippy::type_complexity)]
pub fn scaled_binary(seed: u64) -> (pb::ModelProto, Vec<f32>, Vec<f32>, Vec<Vec<f32>>, Vec<f32>) {
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
    let offset = uniform(&mut rng, 5, 0.3);
    let scale: Vec<f32> = (0..5).map(|_| rng.gen_range(0.5..2.0)).collect();
    let w = uniform(&mut rng, 5, 1.0);
    let b = rng.gen_range(-0.5..0.5f32);
    let coefficients: Vec<f32> = w.iter().map(|v| -v).chain(w.iter().copied()).collect();
    let ml = |mut n: pb::NodeProto| {
        n.domain = "ai.onnx.ml".into();
        n
    };
    let scaler = ml(with_attrs(
        node("Scaler", "scaler", &["input"], "scaled"),
        vec![attr_floats("offset", &offset), attr_floats("scale", &scale)],
    ));
    let mut lc = ml(with_attrs(
        node("LinearClassifier", "lc", &["scaled"], "label"),
        vec![
            attr_floats("coefficients", &coefficients),
            attr_floats("intercepts", &[-b, b]),
            attr_ints("classlabels_ints", &[0, 1]),
            attr_str("post_transform", "LOGISTIC"),
        ],
    ));
    lc.output.push("probabilities".into());
    let mut m = graph_outputs(
        "scaled_binary",
        vec![scaler, lc],
        vec![],
        &[1, 5],
        &[("label", &[1], 7), ("probabilities", &[1, 2], 1)],
    );
    m.opset_import.push(pb::OperatorSetIdProto { domain: "ai.onnx.ml".into(), version: 1 });
    let rows = vec![w.iter().map(|v| -v).collect(), w];
    (m, offset, scale, rows, vec![-b, b])
}

/// Tile of a computed tensor: input [1, 2, 3] → Relu → Tile (repeats [1, 2, 2]) → [1, 4, 6] →
/// Reshape [1, 24] → MatMul → output [1, 3].
pub fn tile(seed: u64) -> pb::ModelProto {
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
    let inits = vec![
        i64_tensor("repeats", &[3], &[1, 2, 2]),
        i64_tensor("flat", &[2], &[1, 24]),
        tensor("w", &[24, 3], &uniform(&mut rng, 72, 0.5)),
    ];
    let nodes = vec![
        node("Relu", "relu", &["input"], "r"),
        node("Tile", "tile", &["r", "repeats"], "t"),
        node("Reshape", "flatten", &["t", "flat"], "f"),
        node("MatMul", "head", &["f", "w"], "output"),
    ];
    graph_model("tile", nodes, inits, &[1, 2, 3], &[1, 3])
}

/// Where with a constant condition (broadcast [2, 1] against [1, 2, 3]): input [1, 2, 3] →
/// Relu → r; Sigmoid → s; m = Where(cond, 0.25, r) (PyTorch's masked_fill); w = Where(cond2,
/// m, s) (two computed branches) → Reshape [1, 6] → MatMul → output [1, 3].
pub fn select(seed: u64) -> pb::ModelProto {
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
    let boolean = |name: &str, dims: &[usize], v: &[i32]| int_tensor(name, dims, 9, v);
    let inits = vec![
        boolean("cond", &[2, 1], &[1, 0]),
        boolean("cond2", &[1, 2, 3], &[1, 0, 1, 1, 0, 0]),
        tensor("fill", &[], &[0.25]),
        i64_tensor("flat", &[2], &[1, 6]),
        tensor("w", &[6, 3], &uniform(&mut rng, 18, 0.8)),
    ];
    let nodes = vec![
        node("Relu", "relu", &["input"], "r"),
        node("Sigmoid", "sigmoid", &["input"], "s"),
        node("Where", "masked_fill", &["cond", "fill", "r"], "m"),
        node("Where", "select", &["cond2", "m", "s"], "wh"),
        node("Reshape", "flatten", &["wh", "flat"], "f"),
        node("MatMul", "head", &["f", "w"], "output"),
    ];
    graph_model("select", nodes, inits, &[1, 2, 3], &[1, 3])
}

/// A division by one positive constant per position (an adaptive average pool's divisors, as
/// PyTorch's dynamo export writes it): input [1, 2, 3] → Relu → Div by a [2, 3] constant →
/// Reshape [1, 6] → MatMul → output [1, 3].
pub fn per_position(seed: u64) -> pb::ModelProto {
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
    let inits = vec![
        tensor("divisors", &[2, 3], &[1.0, 2.0, 4.0, 2.0, 1.0, 3.0]),
        i64_tensor("flat", &[2], &[1, 6]),
        tensor("w", &[6, 3], &uniform(&mut rng, 18, 0.8)),
    ];
    let nodes = vec![
        node("Relu", "relu", &["input"], "r"),
        node("Div", "divide", &["r", "divisors"], "d"),
        node("Reshape", "flatten", &["d", "flat"], "f"),
        node("MatMul", "head", &["f", "w"], "output"),
    ];
    graph_model("per_position", nodes, inits, &[1, 2, 3], &[1, 3])
}

/// A tensor value of `dims` and ONNX element type `elem` (1 is float, 7 int64).
pub fn typed_value_info(name: &str, dims: &[usize], elem: i32) -> pb::ValueInfoProto {
    let mut v = value_info(name, dims);
    if let Some(pb::type_proto::Value::TensorType(t)) =
        v.r#type.as_mut().and_then(|t| t.value.as_mut())
    {
        t.elem_type = elem;
    }
    v
}

/// Replaces a model's graph inputs by `inputs` (name, dims, element type; 1 is float).
pub fn with_inputs(mut m: pb::ModelProto, inputs: &[(&str, &[usize], i32)]) -> pb::ModelProto {
    if let Some(g) = m.graph.as_mut() {
        g.input =
            inputs.iter().map(|&(name, dims, elem)| typed_value_info(name, dims, elem)).collect();
    }
    m
}

/// Two float inputs of very different ranges: "x" ([1, 8], values near 0..1) and "y" ([1, 4],
/// values near 0..100); h = relu(Gemm(x) + Gemm(y)) ([1, 6]), then "output" = Gemm(h) ([1, 3]).
pub fn two_inputs(seed: u64) -> pb::ModelProto {
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
    let mut inits = vec![
        tensor("wx", &[8, 6], &uniform(&mut rng, 48, 0.8)),
        tensor("bx", &[6], &uniform(&mut rng, 6, 0.1)),
        tensor("wy", &[4, 6], &uniform(&mut rng, 24, 0.01)),
        tensor("by", &[6], &uniform(&mut rng, 6, 0.1)),
    ];
    inits.push(tensor("wo", &[6, 3], &uniform(&mut rng, 18, 0.8)));
    inits.push(tensor("bo", &[3], &uniform(&mut rng, 3, 0.1)));
    let nodes = vec![
        node("Gemm", "gemm_x", &["x", "wx", "bx"], "hx"),
        node("Gemm", "gemm_y", &["y", "wy", "by"], "hy"),
        node("Add", "add", &["hx", "hy"], "h0"),
        node("Relu", "relu", &["h0"], "h"),
        node("Gemm", "gemm_out", &["h", "wo", "bo"], "output"),
    ];
    let m = graph_model("two_inputs", nodes, inits, &[1, 8], &[1, 3]);
    with_inputs(m, &[("x", &[1, 8], 1), ("y", &[1, 4], 1)])
}

/// Multi-head attention on tokens [1, 6, 8] (2 heads of width 4), as PyTorch exports it:
/// q, k, v = x·W + b (rank-3 inputs against matrices), each reshaped to [1, 6, 2, 4] and
/// transposed to heads [1, 2, 6, 4]; s = (q·kᵀ)·½ with kᵀ a Transpose of the last two axes;
/// a = softmax(s) along the last axis (or a = s without `softmax`; with `causal`, the softmax of
/// s + M with M [1, 1, 6, 6] the causal mask, 0 on and below the diagonal and the float minimum
/// above, as Hugging Face builds it); o = a·v (both products of two computed rank-4 tensors); o
/// back to [1, 6, 8], then o·W_o + b_o and a residual add of x.
pub fn attention_heads(seed: u64, softmax: bool, causal: bool) -> pb::ModelProto {
    attention_heads_masked(seed, softmax, causal, f32::MIN)
}

/// [`attention_heads`] whose causal mask initializer holds `fill` above the diagonal (the float
/// minimum, or −∞ as PyTorch's mask buffers do).
pub fn attention_heads_masked(seed: u64, softmax: bool, causal: bool, fill: f32) -> pb::ModelProto {
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
    let mut nodes = Vec::new();
    let mut inits = vec![
        pb::TensorProto {
            name: "heads_shape".into(),
            dims: vec![4],
            data_type: 7,
            int64_data: vec![1, 6, 2, 4],
            ..Default::default()
        },
        pb::TensorProto {
            name: "tokens_shape".into(),
            dims: vec![3],
            data_type: 7,
            int64_data: vec![1, 6, 8],
            ..Default::default()
        },
        tensor("half", &[], &[0.5]),
    ];
    for p in ["q", "k", "v"] {
        let (n, i) = dense(&mut rng, p, "input", (8, 8), &format!("{p}_flat"));
        nodes.extend(n);
        inits.extend(i);
        nodes.push(node(
            "Reshape",
            &format!("{p}_split"),
            &[&format!("{p}_flat"), "heads_shape"],
            &format!("{p}_split"),
        ));
        let mut t = node("Transpose", &format!("{p}_heads"), &[&format!("{p}_split")], p);
        t.attribute.push(attr_ints("perm", &[0, 2, 1, 3]));
        nodes.push(t);
    }
    let mut kt = node("Transpose", "k_t", &["k"], "kt");
    kt.attribute.push(attr_ints("perm", &[0, 1, 3, 2]));
    nodes.push(kt);
    nodes.push(node("MatMul", "scores", &["q", "kt"], "s_raw"));
    nodes.push(node("Mul", "scale", &["s_raw", "half"], "s"));
    let scores = if causal {
        let mask: Vec<f32> = (0..36).map(|i| if i % 6 > i / 6 { fill } else { 0.0 }).collect();
        inits.push(tensor("causal", &[1, 1, 6, 6], &mask));
        nodes.push(node("Add", "mask", &["s", "causal"], "sm"));
        "sm"
    } else {
        "s"
    };
    if softmax {
        nodes.push(node("Softmax", "softmax", &[scores], "a"));
    }
    let a = if softmax { "a" } else { "s" };
    nodes.push(node("MatMul", "mix", &[a, "v"], "o_heads"));
    let mut back = node("Transpose", "o_tokens", &["o_heads"], "o_split");
    back.attribute.push(attr_ints("perm", &[0, 2, 1, 3]));
    nodes.push(back);
    nodes.push(node("Reshape", "o_merge", &["o_split", "tokens_shape"], "o"));
    let (n, i) = dense(&mut rng, "proj", "o", (8, 8), "proj_out");
    nodes.extend(n);
    inits.extend(i);
    nodes.push(node("Add", "residual", &["proj_out", "input"], "output"));
    graph_model("attention_heads", nodes, inits, &[1, 6, 8], &[1, 6, 8])
}

/// A position embedding on tokens [1, 5, 8]: h = x·W + b, then h + P with P [1, 5, 8] one
/// constant per position (and a second per-position add of Q [5, 8] after a scale by ½), the
/// input itself plus a position constant beside it, and their sum.
pub fn position_embedding(seed: u64) -> pb::ModelProto {
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
    let (mut nodes, mut inits) = dense(&mut rng, "embed", "input", (8, 8), "h");
    inits.push(tensor("pos", &[1, 5, 8], &uniform(&mut rng, 40, 1.0)));
    inits.push(tensor("pos2", &[5, 8], &uniform(&mut rng, 40, 0.5)));
    inits.push(tensor("pos3", &[1, 5, 8], &uniform(&mut rng, 40, 0.5)));
    inits.push(tensor("half", &[], &[0.5]));
    nodes.push(node("Add", "add_pos", &["h", "pos"], "hp"));
    nodes.push(node("Mul", "scale", &["hp", "half"], "hs"));
    nodes.push(node("Add", "add_pos2", &["pos2", "hs"], "a"));
    nodes.push(node("Sub", "sub_pos3", &["input", "pos3"], "b"));
    nodes.push(node("Add", "sum", &["a", "b"], "output"));
    graph_model("position_embedding", nodes, inits, &[1, 5, 8], &[1, 5, 8])
}

/// An MLP [1, 16] → 12 → 10 with GELU's tanh form written out as GPT-2 exports it:
/// ½x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), with Pow(x, 3), the factor ½ taken first
/// (`half_first`) or last, and the cubic term's operands in either order.
pub fn gelu_tanh_mlp(seed: u64, half_first: bool) -> pb::ModelProto {
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
    let (mut nodes, mut inits) = dense(&mut rng, "d1", "input", (16, 12), "h");
    inits.push(tensor("three", &[], &[3.0]));
    inits.push(tensor("cubic", &[], &[0.044715]));
    inits.push(tensor("root", &[], &[(2.0f32 / std::f32::consts::PI).sqrt()]));
    inits.push(tensor("one", &[], &[1.0]));
    inits.push(tensor("half", &[], &[0.5]));
    nodes.push(node("Pow", "pow", &["h", "three"], "h3"));
    if half_first {
        nodes.push(node("Mul", "cube", &["h3", "cubic"], "c3"));
    } else {
        nodes.push(node("Mul", "cube", &["cubic", "h3"], "c3"));
    }
    nodes.push(node("Add", "inner", &["h", "c3"], "in"));
    nodes.push(node("Mul", "scale", &["in", "root"], "u"));
    nodes.push(node("Tanh", "tanh", &["u"], "t"));
    nodes.push(node("Add", "plus_one", &["t", "one"], "t1"));
    if half_first {
        nodes.push(node("Mul", "halve", &["h", "half"], "hh"));
        nodes.push(node("Mul", "gate", &["hh", "t1"], "g"));
    } else {
        nodes.push(node("Mul", "gate", &["h", "t1"], "hg"));
        nodes.push(node("Mul", "halve", &["hg", "half"], "g"));
    }
    let (n2, i2) = dense(&mut rng, "d2", "g", (12, 10), "output");
    nodes.extend(n2);
    inits.extend(i2);
    graph_model("gelu_tanh_mlp", nodes, inits, &[1, 16], &[1, 10])
}

/// A layer norm written out as exporters before opset 17 write it, after a dense product of
/// tokens [1, 4, 8]: ReduceMean over the last axis, Sub, Pow 2 (or Mul(d, d) with `square_mul`),
/// ReduceMean, Add ε, Sqrt, Div, then Mul γ and Add β (or neither, without `affine`).
pub fn layer_norm_decomposed(seed: u64, square_mul: bool, affine: bool) -> pb::ModelProto {
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
    let (mut nodes, mut inits) = dense(&mut rng, "d1", "input", (8, 8), "h");
    inits.push(tensor("two", &[], &[2.0]));
    inits.push(tensor("eps", &[], &[1e-5]));
    inits.push(tensor("gamma", &[8], &uniform(&mut rng, 8, 1.5)));
    inits.push(tensor("beta", &[8], &uniform(&mut rng, 8, 0.3)));
    let mut mean = node("ReduceMean", "mean", &["h"], "mu");
    mean.attribute.push(attr_ints("axes", &[-1]));
    nodes.push(mean);
    nodes.push(node("Sub", "center", &["h", "mu"], "d"));
    if square_mul {
        nodes.push(node("Mul", "square", &["d", "d"], "d2"));
    } else {
        nodes.push(node("Pow", "square", &["d", "two"], "d2"));
    }
    let mut var = node("ReduceMean", "var", &["d2"], "v");
    var.attribute.push(attr_ints("axes", &[-1]));
    nodes.push(var);
    nodes.push(node("Add", "add_eps", &["v", "eps"], "ve"));
    nodes.push(node("Sqrt", "sqrt", &["ve"], "sd"));
    if affine {
        nodes.push(node("Div", "normalize", &["d", "sd"], "nrm"));
        nodes.push(node("Mul", "scale", &["nrm", "gamma"], "ng"));
        nodes.push(node("Add", "shift", &["ng", "beta"], "output"));
    } else {
        nodes.push(node("Div", "normalize", &["d", "sd"], "output"));
    }
    graph_model("layer_norm_decomposed", nodes, inits, &[1, 4, 8], &[1, 4, 8])
}

/// A one-dimensional CNN on [1, 3, 20]: Conv1d 6@5 (pads 2, stride 2) with a bias → Relu →
/// MaxPool1d 2 → Conv1d 4@3 (dilation 2, groups 2) → AveragePool1d 2 (pads 1) →
/// GlobalAveragePool → output [1, 4, 1].
pub fn conv_1d(seed: u64) -> pb::ModelProto {
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
    let inits = vec![
        tensor("k1", &[6, 3, 5], &uniform(&mut rng, 90, 0.5)),
        tensor("b1", &[6], &uniform(&mut rng, 6, 0.1)),
        tensor("k2", &[4, 3, 3], &uniform(&mut rng, 36, 0.5)),
    ];
    let nodes = vec![
        with_attrs(
            node("Conv", "conv1", &["input", "k1", "b1"], "c1"),
            vec![
                attr_ints("pads", &[2, 2]),
                attr_ints("strides", &[2]),
                attr_ints("kernel_shape", &[5]),
            ],
        ),
        node("Relu", "relu", &["c1"], "r1"),
        with_attrs(node("MaxPool", "pool1", &["r1"], "p1"), vec![attr_ints("kernel_shape", &[2])]),
        with_attrs(
            node("Conv", "conv2", &["p1", "k2"], "c2"),
            vec![attr_ints("dilations", &[2]), attr_int("group", 2)],
        ),
        with_attrs(
            node("AveragePool", "pool2", &["c2"], "p2"),
            vec![
                attr_ints("kernel_shape", &[2]),
                attr_ints("pads", &[1, 1]),
                attr_ints("strides", &[2]),
            ],
        ),
        node("GlobalAveragePool", "gap", &["p2"], "output"),
    ];
    graph_model("conv_1d", nodes, inits, &[1, 3, 20], &[1, 4, 1])
}
