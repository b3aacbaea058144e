use gkrnet::circuit::zoo::{self, Builder};
use gkrnet::circuit::{ConvGeometry, Model};
use gkrnet::gkr;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;

fn naive(
    x: &[i64],
    dims: [usize; 4],
    z: i64,
    f: usize,
    g: ConvGeometry,
    w: &[i8],
    bias: &[i32],
) -> (Vec<i64>, [usize; 4]) {
    let [n, c, h, wd] = dims;
    let oh = (h + g.pads[0] + g.pads[2] - g.dilation[0] * (g.kernel[0] - 1) - 1) / g.stride[0] + 1;
    let ow = (wd + g.pads[1] + g.pads[3] - g.dilation[1] * (g.kernel[1] - 1) - 1) / g.stride[1] + 1;
    let (cg, fg) = (c / g.groups, f / g.groups);
    let mut out = vec![0i64; n * f * oh * ow];
    for b in 0..n {
        for ff in 0..f {
            for i in 0..oh {
                for j in 0..ow {
                    let grp = ff / fg;
                    let mut acc = bias[ff] as i64;
                    for cc in 0..cg {
                        for a in 0..g.kernel[0] {
                            for d in 0..g.kernel[1] {
                                let hh =
                                    (i * g.stride[0] + a * g.dilation[0]) as i64 - g.pads[0] as i64;
                                let ww =
                                    (j * g.stride[1] + d * g.dilation[1]) as i64 - g.pads[1] as i64;
                                let v = if hh >= 0
                                    && (hh as usize) < h
                                    && ww >= 0
                                    && (ww as usize) < wd
                                {
                                    x[((b * c + grp * cg + cc) * h + hh as usize) * wd
                                        + ww as usize]
                                } else {
                                    z
                                };
                                acc += (v - z)
                                    * w[((ff * cg + cc) * g.kernel[0] + a) * g.kernel[1] + d]
                                        as i64;
                            }
                        }
                    }
                    out[((b * f + ff) * oh + i) * ow + j] = acc;
                }
            }
        }
    }
    (out, [n, f, oh, ow])
}

#[test]
fn random_convs() {
    for seed in 0..60u64 {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let groups = [1, 1, 2, 3][rng.gen_range(0..4)];
        let c = groups * rng.gen_range(1..=3);
        let f = groups * rng.gen_range(1..=3);
        let dims = [rng.gen_range(1..=2), c, rng.gen_range(3..=9), rng.gen_range(3..=9)];
        let k = [rng.gen_range(1..=3), rng.gen_range(1..=3)];
        let g = ConvGeometry {
            kernel: k,
            stride: [rng.gen_range(1..=3), rng.gen_range(1..=3)],
            dilation: [rng.gen_range(1..=2), rng.gen_range(1..=2)],
            pads: [
                rng.gen_range(0..=2),
                rng.gen_range(0..=2),
                rng.gen_range(0..=2),
                rng.gen_range(0..=2),
            ],
            groups,
        };
        let taps = c / groups * k[0] * k[1];
        let w: Vec<i8> = (0..f * taps).map(|_| rng.gen_range(-127..=127)).collect();
        let bias: Vec<i32> = (0..f).map(|_| rng.gen_range(-1000..=1000)).collect();
        let z = rng.gen_range(-128..=127);
        let mut b = Builder::new(dims.to_vec());
        let Ok(y) = b.conv(0, z, f, g, w.clone(), bias.clone(), &[0.01], 0, false) else {
            continue;
        };
        let model: Model = b.finish("conv").unwrap();
        let input = zoo::random_input(&model, seed);
        let wit = model.forward(&input).unwrap();
        let (expect, odims) = naive(&input.data, dims, z as i64, f, g, &w, &bias);
        assert_eq!(wit.tensors[y - 1].dims, odims.to_vec(), "seed {seed}");
        assert_eq!(wit.tensors[y - 1].data, expect, "seed {seed} {g:?}");
        model.check(&wit).unwrap();
        let p = gkr::prove(&model, &input).unwrap();
        gkr::verify(&model, &input, &p.proof)
            .unwrap_or_else(|e| panic!("seed {seed} {g:?} {dims:?}: {e}"));
    }
}
