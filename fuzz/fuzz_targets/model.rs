//! `.gkrm` models: decode (and so `Model::new`); a decoded model is canonical (it encodes to the
//! very bytes) and its re-decoding has the same digest. A decoded model with the fixed model's
//! input shape then checks an honest proof of the fixed model: a hostile key must not panic the
//! verifier either.
#![no_main]

use gkrnet::circuit::Model;
use gkrnet::gkr;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn honest_proof() -> &'static [u8] {
    static PROOF: OnceLock<Vec<u8>> = OnceLock::new();
    PROOF.get_or_init(|| {
        let keys = gkrnet_fuzz::keys();
        gkr::prove_bytes(keys.clear_model(), &keys.clear_input, &gkr::ProveOptions::default())
            .expect("honest proof")
            .proof
    })
}

fuzz_target!(|bytes: &[u8]| {
    let Ok(model) = Model::decode(bytes) else { return };
    let encoded = model.encode();
    assert!(encoded == bytes, "a decoded model encodes to other bytes");
    let again = Model::decode(&encoded).expect("a model's encoding decodes");
    assert_eq!(again.digest(), model.digest());
    let keys = gkrnet_fuzz::keys();
    if model.input_dims == keys.clear_input.dims {
        let _ = gkr::verify_bytes(
            &model,
            &keys.clear_input,
            &gkr::VerifyOptions::default(),
            honest_proof(),
        );
    }
});
