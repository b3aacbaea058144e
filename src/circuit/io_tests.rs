//! Unit tests of `circuit::io`: the token-id fields (flags 4 to 6).
use super::*;

fn embedding() -> Embedding {
    Embedding {
        name: "input_ids".into(),
        ids_dims: vec![1, 3],
        vocab: 4,
        width: 2,
        q: QParams { scale: 0.01, zero: -3 },
        table: vec![1, 2, 3, 4, 5, 6, 7, 8],
        masks: Vec::new(),
        ids_at: 0,
    }
}

fn io() -> IoQuant {
    IoQuant {
        input: InputQuant::Embedding(embedding()),
        output: OutputQuant::Single { q: QParams { scale: 0.5, zero: 1 }, softmax: false },
    }
}

fn encode(io: &IoQuant) -> Vec<u8> {
    let mut w = ByteWriter(Vec::new());
    encode_io(&mut w, Some(io));
    w.0
}

#[test]
fn an_embedding_round_trips_and_selects_rows() {
    let bytes = encode(&io());
    let mut r = ByteReader::new(&bytes);
    assert_eq!(decode_io(&mut r).unwrap(), Some(io()));
    r.finish().unwrap();
    io().check(&[1, 3, 2], &[5]).unwrap();
    assert!(io().check(&[1, 3, 3], &[5]).is_err(), "the width");
    assert!(io().check(&[3, 2], &[5]).is_err(), "the ids' dimensions");
    let e = embedding();
    assert_eq!(e.rows(&[3.0, 0.0, 1.0]).unwrap(), vec![7, 8, 1, 2, 3, 4]);
    for (bad, what) in [(4.0, "4"), (-1.0, "-1"), (1.5, "1.5"), (f64::NAN, "NaN")] {
        let err = e.rows(&[0.0, bad, 1.0]).unwrap_err().to_string();
        assert!(err.contains(what) && err.contains("index 1"), "{err}");
    }
    assert!(e.rows(&[0.0, 1.0]).is_err(), "a count other than the ids' dimensions");
    let mut short = io();
    if let InputQuant::Embedding(e) = &mut short.input {
        e.table.pop();
    }
    assert!(short.check(&[1, 3, 2], &[5]).is_err(), "a table of another size");
}

/// Ids with two masks (flag 5): a 1-D input of rows ‖ masks ‖ 0, 1, the masks' values
/// checked to be 0 or 1; the field round trips, and truncations and a zero or huge mask
/// count are errors.
#[test]
fn masks_beside_the_ids_round_trip_and_are_checked() {
    let mut e = embedding();
    e.masks = vec![
        MaskInput { name: "attention_mask".into(), dims: vec![1, 3], table: None },
        MaskInput { name: "other".into(), dims: vec![2], table: None },
    ];
    let io = IoQuant { input: InputQuant::Embedding(e.clone()), ..io() };
    let bytes = encode(&io);
    assert_eq!(bytes[0], 5);
    let mut r = ByteReader::new(&bytes);
    assert_eq!(decode_io(&mut r).unwrap(), Some(io.clone()));
    r.finish().unwrap();
    assert_eq!(e.input_dims(), vec![6 + 3 + 2 + 2]);
    assert_eq!((e.mask_offset(0), e.mask_offset(1), e.constant_slots()), (6, 9, (11, 12)));
    io.check(&[13], &[5]).unwrap();
    assert!(io.check(&[1, 3, 2], &[5]).is_err(), "the input is 1-D with masks");
    let values = [3.0, 0.0, 1.0, 1.0, 1.0, 0.0, 0.0, 1.0];
    assert_eq!(e.rows(&values).unwrap(), vec![7, 8, 1, 2, 3, 4, 1, 1, 0, 0, 1, 0, 1]);
    let mut bad = values;
    bad[6] = 2.0;
    let err = e.rows(&bad).unwrap_err().to_string();
    assert!(err.contains("\"other\" holds 2 at index 0"), "{err}");
    let err = e.rows(&values[..7]).unwrap_err().to_string();
    assert!(err.contains("attention_mask"), "{err}");
    // the ids after the first mask: the same entries from the values in that order
    let mut later = e.clone();
    later.ids_at = 1;
    let order = [1.0, 1.0, 0.0, 3.0, 0.0, 1.0, 0.0, 1.0];
    assert_eq!(later.rows(&order).unwrap(), e.rows(&values).unwrap());
    later.ids_at = 3;
    let io3 = IoQuant { input: InputQuant::Embedding(later), ..io.clone() };
    assert!(io3.check(&[13], &[5]).is_err(), "the ids beyond the inputs");
    let mut twice = e.clone();
    twice.masks[1].name = "attention_mask".into();
    let io2 = IoQuant { input: InputQuant::Embedding(twice), ..io.clone() };
    assert!(io2.check(&[13], &[5]).is_err(), "a repeated name");
    for cut in 0..bytes.len() {
        let mut r = ByteReader::new(&bytes[..cut]);
        assert!(decode_io(&mut r).is_err(), "cut {cut}");
    }
    // the mask count sits after the flag, the name, the ids' dimensions, vocab, width, q
    // and the table
    let at = 1 + (8 + 9) + (8 + 2 * 8) + 8 + 8 + 16 + (8 + 8);
    assert_eq!(bytes[at..at + 8], 2u64.to_le_bytes());
    for count in [0u64, u64::MAX] {
        let mut bad = bytes.clone();
        bad[at..at + 8].copy_from_slice(&count.to_le_bytes());
        assert!(decode_io(&mut ByteReader::new(&bad)).is_err(), "count {count}");
    }
}

/// A side input of ids with a table of its own (token type ids, flag 6): its rows enter the
/// input after the main rows, an id outside its table is refused naming it, the field
/// round trips and truncations are errors.
#[test]
fn side_ids_with_their_own_table_round_trip_and_select_rows() {
    let mut e = embedding();
    let tt = IdsTable {
        vocab: 2,
        width: 2,
        q: QParams { scale: 0.02, zero: 1 },
        table: vec![-1, -2, 9, 8],
    };
    e.masks = vec![
        MaskInput { name: "attention_mask".into(), dims: vec![1, 3], table: None },
        MaskInput { name: "token_type_ids".into(), dims: vec![1, 3], table: Some(tt) },
    ];
    let io = IoQuant { input: InputQuant::Embedding(e.clone()), ..io() };
    let bytes = encode(&io);
    assert_eq!(bytes[0], 6);
    let mut r = ByteReader::new(&bytes);
    assert_eq!(decode_io(&mut r).unwrap(), Some(io.clone()));
    r.finish().unwrap();
    assert_eq!(e.input_dims(), vec![6 + 3 + 6 + 2]);
    assert_eq!((e.mask_offset(1), e.constant_slots()), (9, (15, 16)));
    io.check(&[17], &[5]).unwrap();
    let values = [3.0, 0.0, 1.0, 1.0, 1.0, 0.0, 0.0, 1.0, 1.0];
    let want = vec![7, 8, 1, 2, 3, 4, 1, 1, 0, -1, -2, 9, 8, 9, 8, 0, 1];
    assert_eq!(e.rows(&values).unwrap(), want);
    let mut bad = values;
    bad[7] = 2.0;
    let err = e.rows(&bad).unwrap_err().to_string();
    assert!(err.contains("token_type_ids") && err.contains("index 1"), "{err}");
    for cut in 0..bytes.len() {
        assert!(decode_io(&mut ByteReader::new(&bytes[..cut])).is_err(), "cut {cut}");
    }
}

#[test]
fn hostile_embedding_fields_are_errors() {
    let bytes = encode(&io());
    // every truncation is an error, never a panic
    for cut in 0..bytes.len() {
        let mut r = ByteReader::new(&bytes[..cut]);
        assert!(decode_io(&mut r).is_err(), "cut {cut}");
    }
    let mut bad = bytes.clone();
    // the vocabulary field sits after the flag, the name and the ids' dimensions
    let vocab_at = 1 + (8 + "input_ids".len()) + (8 + 2 * 8);
    bad[vocab_at..vocab_at + 8].copy_from_slice(&5u64.to_le_bytes());
    let mut r = ByteReader::new(&bad);
    assert!(decode_io(&mut r).is_err(), "vocab × width ≠ the table's entries");
    bad[vocab_at..vocab_at + 8].copy_from_slice(&u64::MAX.to_le_bytes());
    let mut r = ByteReader::new(&bad);
    assert!(decode_io(&mut r).is_err(), "an overflowing vocabulary");
}
