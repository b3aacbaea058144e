//! int8 activation functions as 256-entry tables built from the float function.
//!
//! For an int8 input q (scale s_in, zero point z_in) and an int8 output (s_out, z_out), the table
//! entry is what a float model quantized at the output would produce:
//!
//! ```text
//!   table[q + 128] = clamp( round_half_even( f((q − z_in)·s_in) / s_out ) + z_out, −128, 127 )
//! ```
//! The circuit proves y = table[x] by a lookup of the pair (x, y) into these 256 pairs (tagged
//! with the layer, since the table depends on the layer's scales and zero points).

/// An activation function with an int8 table.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Activation {
    Sigmoid,
    Tanh,
    /// GELU with the exact erf form, x·Φ(x).
    Gelu,
    /// GELU's tanh approximation ½x·(1 + tanh(√(2/π)·(x + 0.044715·x³))) (GPT-2's gelu_new,
    /// ONNX Gelu with approximate = "tanh").
    GeluTanh,
    /// ELU with its α.
    Elu {
        alpha: f64,
    },
    /// LeakyReLU with its slope for negative inputs.
    LeakyRelu {
        alpha: f64,
    },
    /// SiLU (swish), x·σ(x).
    Silu,
    /// ONNX HardSwish: x·max(0, min(1, x/6 + 1/2)).
    HardSwish,
    /// ONNX HardSigmoid: max(0, min(1, α·x + β)) (PyTorch exports α = 1/6, β = 1/2).
    HardSigmoid {
        alpha: f64,
        beta: f64,
    },
}

impl Activation {
    /// The ONNX-style name, used in errors and logs.
    pub fn name(self) -> &'static str {
        match self {
            Activation::Sigmoid => "sigmoid",
            Activation::Tanh => "tanh",
            Activation::Gelu => "gelu",
            Activation::GeluTanh => "gelu-tanh",
            Activation::Elu { .. } => "elu",
            Activation::LeakyRelu { .. } => "leaky-relu",
            Activation::Silu => "silu",
            Activation::HardSwish => "hard-swish",
            Activation::HardSigmoid { .. } => "hard-sigmoid",
        }
    }

    /// The float function.
    pub fn apply(self, x: f64) -> f64 {
        match self {
            Activation::Sigmoid => 1.0 / (1.0 + (-x).exp()),
            Activation::Tanh => x.tanh(),
            Activation::Gelu => 0.5 * x * (1.0 + libm::erf(x / std::f64::consts::SQRT_2)),
            Activation::GeluTanh => {
                let c = (2.0 / std::f64::consts::PI).sqrt();
                0.5 * x * (1.0 + (c * (x + 0.044715 * x * x * x)).tanh())
            }
            Activation::Elu { alpha } => {
                if x > 0.0 {
                    x
                } else {
                    alpha * x.exp_m1()
                }
            }
            Activation::LeakyRelu { alpha } => {
                if x >= 0.0 {
                    x
                } else {
                    alpha * x
                }
            }
            Activation::Silu => x / (1.0 + (-x).exp()),
            Activation::HardSwish => x * (x / 6.0 + 0.5).clamp(0.0, 1.0),
            Activation::HardSigmoid { alpha, beta } => (alpha * x + beta).clamp(0.0, 1.0),
        }
    }

    /// The 256-entry table: entry `q + 128` is the output for the int8 input q.
    ///
    /// # Panics
    /// If a scale is not positive and finite.
    pub fn table(self, s_in: f64, z_in: i32, s_out: f64, z_out: i32) -> [i8; 256] {
        assert!(
            s_in.is_finite() && s_in > 0.0 && s_out.is_finite() && s_out > 0.0,
            "scales must be positive"
        );
        std::array::from_fn(|i| {
            let q = i as i32 - 128;
            let y = self.apply(f64::from(q - z_in) * s_in) / s_out;
            // a NaN cannot arise from finite inputs; saturate like ONNX's QuantizeLinear
            (y.round_ties_even() + f64::from(z_out)).clamp(-128.0, 127.0) as i8
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Activation; 9] = [
        Activation::Sigmoid,
        Activation::Tanh,
        Activation::Gelu,
        Activation::GeluTanh,
        Activation::Elu { alpha: 1.0 },
        Activation::LeakyRelu { alpha: 0.01 },
        Activation::Silu,
        Activation::HardSwish,
        Activation::HardSigmoid { alpha: 1.0 / 6.0, beta: 0.5 },
    ];

    #[test]
    fn float_functions_match_known_values() {
        let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
        assert!(close(Activation::Sigmoid.apply(0.0), 0.5));
        assert!(close(Activation::Tanh.apply(0.5), 0.462_117_157_260_009_8));
        assert!(close(Activation::Gelu.apply(1.0), 0.841_344_746_068_542_9));
        // ½·(1 + tanh(√(2/π)·1.044715))
        assert!(close(Activation::GeluTanh.apply(1.0), 0.841_191_990_607_477_2));
        assert!(close(Activation::Elu { alpha: 1.0 }.apply(-1.0), -0.632_120_558_828_557_7));
        assert!(close(Activation::LeakyRelu { alpha: 0.1 }.apply(-2.0), -0.2));
        assert!(close(Activation::Silu.apply(1.0), 0.731_058_578_630_004_9));
        assert!(close(Activation::HardSwish.apply(1.0), 1.0 * (1.0 / 6.0 + 0.5)));
        let hs = Activation::HardSigmoid { alpha: 0.2, beta: 0.5 };
        assert!(
            close(hs.apply(1.0), 0.7) && close(hs.apply(-3.0), 0.0) && close(hs.apply(3.0), 1.0)
        );
        assert!(
            close(Activation::HardSwish.apply(-4.0), 0.0)
                && close(Activation::HardSwish.apply(4.0), 4.0)
        );
    }

    #[test]
    fn tables_are_the_quantized_float_function() {
        for act in ALL {
            let (s_in, z_in, s_out, z_out) = (0.05, 3, 0.02, -10);
            let table = act.table(s_in, z_in, s_out, z_out);
            for q in -128i32..=127 {
                let real = act.apply(f64::from(q - z_in) * s_in);
                let y = table[(q + 128) as usize] as i32;
                let dequantized = f64::from(y - z_out) * s_out;
                // within half an output step unless saturated
                if y > -128 && y < 127 {
                    assert!((dequantized - real).abs() <= s_out / 2.0 + 1e-12, "{act:?} q {q}");
                }
            }
        }
        // monotone functions give monotone tables
        for act in [
            Activation::Sigmoid,
            Activation::Tanh,
            Activation::LeakyRelu { alpha: 0.1 },
            Activation::Elu { alpha: 1.0 },
        ] {
            let t = act.table(0.1, 0, 0.01, 0);
            assert!(t.windows(2).all(|w| w[0] <= w[1]), "{act:?}");
        }
        // saturation at both ends
        let t = Activation::Tanh.table(0.1, 0, 0.001, 0);
        assert_eq!((t[0], t[255]), (-128, 127));
    }
}
