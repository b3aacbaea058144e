//! The raw proof stream ("GKRN"): the first byte picks the advice mode, the rest is checked by
//! `gkr::verify_bytes` against the fixed model held whole.
#![no_main]

use gkrnet::gkr::{verify_bytes, VerifyOptions};
use gkrnet_fuzz::fixtures::MODES;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let Some((&mode, proof)) = bytes.split_first() else { return };
    let mode = MODES[mode as usize % MODES.len()];
    let keys = gkrnet_fuzz::keys();
    let _ =
        verify_bytes(keys.clear_model(), &keys.clear_input, &VerifyOptions::advice(mode), proof);
});
