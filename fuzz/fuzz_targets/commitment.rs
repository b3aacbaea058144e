//! `.gkrc` model commitments: decode; a decoded file is canonical (it encodes to the very bytes).
#![no_main]

use gkrnet::gkr::file::CommitmentFile;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let Ok(file) = CommitmentFile::decode(bytes) else { return };
    let encoded = file.encode();
    assert!(encoded == bytes, "a decoded commitment encodes to other bytes");
    let again = CommitmentFile::decode(&encoded).expect("an encoding decodes");
    assert_eq!(again.model.digest(), file.model.digest());
    assert_eq!(again.commitment, file.commitment);
});
