use gkrnet::circuit::zoo;
use gkrnet::gkr;

#[test]
fn smoke() {
    for (name, model) in [("act", zoo::mlp_act())]
        .into_iter()
        .chain((0..200).map(|s| ("rand", zoo::random_model(s).unwrap())))
    {
        let input = zoo::random_input(&model, 1);
        let w = model.forward(&input).unwrap();
        model.check(&w).unwrap_or_else(|e| panic!("{name} {}: {e}", model.name));
        let p = gkr::prove(&model, &input).unwrap_or_else(|e| panic!("{name} {}: {e}", model.name));
        let out = gkr::verify(&model, &input, &p.proof)
            .unwrap_or_else(|e| panic!("{name} {}: {e}", model.name));
        assert_eq!(out, p.output);
    }
}

#[test]
fn smoke_cheat() {
    use gkrnet::transcript::FiatShamirProver;
    let model = zoo::mlp_act();
    let input = zoo::random_input(&model, 1);
    let mut w = model.forward(&input).unwrap();
    let last = w.tensors.len() - 1;
    w.tensors[last].data[0] += 1;
    let mut t = FiatShamirProver::new(gkr::PROTOCOL);
    let r = gkr::prove_witness(&model, &w, &mut t);
    println!("prover: {r:?}");
    if r.is_ok() {
        let e = gkr::verify(&model, &input, &t.into_proof().encode());
        println!("{e:?}");
        assert!(e.is_err());
    }
    let model = zoo::mlp4m();
    let input = zoo::random_input(&model, 1);
    let t0 = std::time::Instant::now();
    let p = gkr::prove(&model, &input).unwrap();
    let t1 = t0.elapsed();
    let t0 = std::time::Instant::now();
    gkr::verify(&model, &input, &p.proof).unwrap();
    println!("mlp4m prove {t1:?} verify {:?} size {}", t0.elapsed(), p.proof.len());
    for (n, d) in &p.timings {
        println!("  {n}: {d:?}");
    }
    println!("{:?}", p.output);
}
