//! `.gkr` proof files: decode, then verify against the fixed keys (the model held whole, or the
//! model commitment when the file names a root). Never a panic; a decoded file re-encodes to
//! bytes that decode to it.
#![no_main]

use gkrnet::gkr::{verify_file, Policy, ProofFile};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let Ok(file) = ProofFile::decode(bytes) else { return };
    assert_eq!(ProofFile::decode(&file.encode()).as_ref(), Ok(&file), "re-encoding changes it");
    let keys = gkrnet_fuzz::keys();
    let (key, input) = match file.weights_root {
        None => (&keys.clear, &keys.clear_input),
        Some(_) => (&keys.committed, &keys.committed_input),
    };
    let policy = Policy { allow_conjectured: true, expect_digest: None };
    let _ = verify_file(&file, key, input, &policy);
});
