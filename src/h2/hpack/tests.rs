//! HPACK against RFC 7541 Appendix C, and against hostile blocks: the
//! bomb, truncations, bad indices, misplaced size updates, arbitrary
//! bytes and mutations of valid blocks, none of which may panic.

use proptest::prelude::*;

use super::*;
use crate::h2::hpack::table::entry_size;

fn hex(text: &str) -> Vec<u8> {
    let digits: Vec<u8> = text.bytes().filter(u8::is_ascii_hexdigit).collect();
    digits
        .chunks(2)
        .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).unwrap_or("zz"), 16).unwrap_or(0))
        .collect()
}

fn fields(list: &[(&str, &str)]) -> Vec<(Vec<u8>, Vec<u8>)> {
    list.iter()
        .map(|(n, v)| (n.as_bytes().to_vec(), v.as_bytes().to_vec()))
        .collect()
}

type Step<'a> = (&'a str, &'a [(&'a str, &'a str)], usize);

/// Decodes each block in turn with one decoder, checking the list and the
/// table's size after it, as Appendix C does.
fn story(table_size: usize, steps: &[Step]) {
    let mut decoder = Decoder::new(table_size);
    for (i, (block, expected, size)) in steps.iter().enumerate() {
        let got = decoder.decode(&hex(block), 64 * 1024);
        assert_eq!(got, Ok(fields(expected)), "block {}", i + 1);
        assert_eq!(decoder.table().size(), *size, "table after block {}", i + 1);
    }
}

const REQUEST_1: &[(&str, &str)] = &[
    (":method", "GET"),
    (":scheme", "http"),
    (":path", "/"),
    (":authority", "www.example.com"),
];
const REQUEST_2: &[(&str, &str)] = &[
    (":method", "GET"),
    (":scheme", "http"),
    (":path", "/"),
    (":authority", "www.example.com"),
    ("cache-control", "no-cache"),
];
const REQUEST_3: &[(&str, &str)] = &[
    (":method", "GET"),
    (":scheme", "https"),
    (":path", "/index.html"),
    (":authority", "www.example.com"),
    ("custom-key", "custom-value"),
];
const RESPONSE_1: &[(&str, &str)] = &[
    (":status", "302"),
    ("cache-control", "private"),
    ("date", "Mon, 21 Oct 2013 20:13:21 GMT"),
    ("location", "https://www.example.com"),
];
const RESPONSE_2: &[(&str, &str)] = &[
    (":status", "307"),
    ("cache-control", "private"),
    ("date", "Mon, 21 Oct 2013 20:13:21 GMT"),
    ("location", "https://www.example.com"),
];
const RESPONSE_3: &[(&str, &str)] = &[
    (":status", "200"),
    ("cache-control", "private"),
    ("date", "Mon, 21 Oct 2013 20:13:22 GMT"),
    ("location", "https://www.example.com"),
    ("content-encoding", "gzip"),
    ("set-cookie", "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1"),
];

const C3: [&str; 3] = [
    "8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
    "8286 84be 5808 6e6f 2d63 6163 6865",
    "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65",
];
const C4: [&str; 3] = [
    "8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff",
    "8286 84be 5886 a8eb 1064 9cbf",
    "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf",
];
const C5: [&str; 3] = [
    "4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133
     2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70
     6c65 2e63 6f6d",
    "4803 3330 37c1 c0bf",
    "88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d
     54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049
     5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e
     3d31",
];
const C6: [&str; 3] = [
    "4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6
     2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3",
    "4883 640e ffc1 c0bf",
    "88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab
     77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f
     9587 3160 65c0 03ed 4ee5 b106 3d50 07",
];

#[test]
fn c2_single_representations() {
    let mut d = Decoder::new(DEFAULT_TABLE_SIZE);
    let c21 = "400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572";
    assert_eq!(
        d.decode(&hex(c21), 1024),
        Ok(fields(&[("custom-key", "custom-header")]))
    );
    assert_eq!(d.table().size(), 55);
    let mut d = Decoder::new(DEFAULT_TABLE_SIZE);
    let c22 = "040c 2f73 616d 706c 652f 7061 7468";
    assert_eq!(d.decode(&hex(c22), 1024), Ok(fields(&[(":path", "/sample/path")])));
    let c23 = "1008 7061 7373 776f 7264 0673 6563 7265 74";
    assert_eq!(d.decode(&hex(c23), 1024), Ok(fields(&[("password", "secret")])));
    assert_eq!(d.decode(&hex("82"), 1024), Ok(fields(&[(":method", "GET")])));
    assert_eq!(d.table().size(), 0);
}

#[test]
fn c3_requests_without_huffman() {
    story(
        4096,
        &[(C3[0], REQUEST_1, 57), (C3[1], REQUEST_2, 110), (C3[2], REQUEST_3, 164)],
    );
}

#[test]
fn c4_requests_with_huffman() {
    story(
        4096,
        &[(C4[0], REQUEST_1, 57), (C4[1], REQUEST_2, 110), (C4[2], REQUEST_3, 164)],
    );
}

#[test]
fn c5_responses_with_evictions() {
    story(
        256,
        &[
            (C5[0], RESPONSE_1, 222),
            (C5[1], RESPONSE_2, 222),
            (C5[2], RESPONSE_3, 215),
        ],
    );
}

#[test]
fn c6_responses_with_huffman_and_evictions() {
    story(
        256,
        &[
            (C6[0], RESPONSE_1, 222),
            (C6[1], RESPONSE_2, 222),
            (C6[2], RESPONSE_3, 215),
        ],
    );
}

#[test]
fn our_blocks_decode_and_leave_no_table_state() {
    let list = fields(&[
        (":status", "200"),
        ("content-type", "text/plain"),
        ("X-Odd", ""),
        ("", "\0\r\n"),
    ]);
    let mut block = Vec::new();
    encode(list.iter().map(|(n, v)| (n.as_slice(), v.as_slice())), &mut block);
    assert_eq!(&block[..5], &[0x00, 7, b':', b's', b't']);
    let mut d = Decoder::new(DEFAULT_TABLE_SIZE);
    assert_eq!(d.decode(&block, 1024), Ok(list));
    assert_eq!(d.table().size(), 0);
    // A value longer than a 7-bit prefix takes a continuation byte.
    let long = vec![b'a'; 300];
    let mut block = Vec::new();
    encode([(&b"x"[..], &long[..])], &mut block);
    assert_eq!(&block[3..6], &[0x7f, 0xad, 0x01]);
    assert_eq!(d.decode(&block, 1024), Ok(vec![(b"x".to_vec(), long)]));
}

#[test]
fn size_updates_come_first_and_within_our_setting() {
    let mut d = Decoder::new(DEFAULT_TABLE_SIZE);
    // 0x3f 0xe1 0x1f = 4096: allowed, first, alone (a block may be only that).
    assert_eq!(d.decode(&[0x3f, 0xe1, 0x1f], 1024), Ok(vec![]));
    // Two in a row, then a field.
    assert_eq!(
        d.decode(&[0x20, 0x3f, 0x01, 0x82], 1024),
        Ok(fields(&[(":method", "GET")]))
    );
    assert_eq!(d.table().max_size(), 32);
    let after = d.decode(&[0x82, 0x20], 1024).map_err(|e| e.kind);
    assert_eq!(after, Err(DecodeErrorKind::TableSizeUpdateNotFirst));
    let over = d.decode(&[0x3f, 0xe2, 0x1f], 1024).map_err(|e| e.kind);
    assert_eq!(over, Err(DecodeErrorKind::TableSizeTooLarge { size: 4097, max: 4096 }));
    d.set_max_table_size(100);
    assert_eq!(d.table().max_size(), 32);
}

#[test]
fn hostile_blocks_are_refused_with_where_and_why() {
    let cases: [(&[u8], DecodeErrorKind, usize); 8] = [
        (&[0x80], DecodeErrorKind::BadIndex { index: 0, last: 61 }, 0),
        (&[0x82, 0xbe], DecodeErrorKind::BadIndex { index: 62, last: 61 }, 1),
        (&[0x3f], DecodeErrorKind::Truncated, 0),
        (&[0x00, 0x05, b'a'], DecodeErrorKind::Truncated, 0),
        (&[0x00, 0x01, b'a'], DecodeErrorKind::Truncated, 0),
        (
            &[0x40, 0x7f, 0xff, 0xff, 0xff, 0xff, 0x0f],
            DecodeErrorKind::IntegerTooLarge,
            0,
        ),
        (
            &[0x00, 0x81, 0xff, 0x00],
            DecodeErrorKind::Huffman(huffman::HuffmanError::PaddingTooLong(8)),
            0,
        ),
        (
            &[0x82, 0x0f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f],
            DecodeErrorKind::IntegerTooLarge,
            1,
        ),
    ];
    for (block, kind, at) in cases {
        let mut d = Decoder::new(DEFAULT_TABLE_SIZE);
        let err = d.decode(block, 1024).expect_err("refused");
        assert_eq!((err.kind.clone(), err.at), (kind, at), "{block:02x?}: {err}");
        assert!(err.is_compression_error());
        assert!(!err.to_string().is_empty());
    }
}

/// The HPACK bomb: one 4 KiB entry in the dynamic table, then a block that
/// names it 16,000 times (16 KB on the wire, 65 MB decoded). The list
/// stops growing at the limit; the block is still read to its end so the
/// table stays in step, and the error says how big the list would be.
#[test]
fn the_hpack_bomb_is_refused_without_building_the_list() {
    let mut d = Decoder::new(DEFAULT_TABLE_SIZE);
    let mut first = vec![0x40, 0x01, b'b'];
    integer::encode(4000, 7, 0, &mut first);
    first.extend(vec![b'x'; 4000]);
    assert_eq!(d.decode(&first, 64 * 1024).map(|f| f.len()), Ok(1));
    let bomb = vec![0xbe; 16_000];
    let err = d.decode(&bomb, 64 * 1024).expect_err("too large");
    let entry = entry_size(b"b", &[b'x'; 4000]);
    assert_eq!(
        err.kind,
        DecodeErrorKind::ListTooLarge {
            limit: 64 * 1024,
            size: entry * 16_000
        }
    );
    assert!(!err.is_compression_error());
    // No 65 MB list was built: copying stopped at the limit.
    assert!(d.copied() <= 64 * 1024, "{} bytes copied", d.copied());
    // The table is still in step: the next block can use it.
    assert_eq!(d.decode(&[0xbe], 64 * 1024).map(|f| f.len()), Ok(1));
}

fn valid_blocks() -> Vec<Vec<u8>> {
    C3.iter().chain(&C4).chain(&C5).chain(&C6).map(|b| hex(b)).collect()
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(block in proptest::collection::vec(any::<u8>(), 0..200)) {
        let mut d = Decoder::new(DEFAULT_TABLE_SIZE);
        if let Ok(list) = d.decode(&block, 4096) {
            let size: usize = list.iter().map(|(n, v)| entry_size(n, v)).sum();
            prop_assert!(size <= 4096);
        }
        prop_assert!(d.table().size() <= d.table().max_size());
    }

    #[test]
    fn mutated_blocks_never_panic(
        which in 0usize..12,
        edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..6),
        cut in any::<usize>(),
    ) {
        let mut block = valid_blocks()[which].clone();
        for (at, byte) in edits {
            let at = at % block.len();
            block[at] = byte;
        }
        block.truncate(cut % (block.len() + 1));
        // Decode after the blocks before it, so the dynamic table is full.
        let mut d = Decoder::new(256);
        for earlier in &valid_blocks()[which - which % 3..which] {
            let _ = d.decode(earlier, 64 * 1024);
        }
        let _ = d.decode(&block, 64 * 1024);
        prop_assert!(d.table().size() <= 256);
    }

    #[test]
    fn what_we_encode_decodes_to_itself(
        list in proptest::collection::vec(
            (proptest::collection::vec(any::<u8>(), 0..40), proptest::collection::vec(any::<u8>(), 0..300)),
            0..8,
        ),
    ) {
        let mut block = Vec::new();
        encode(list.iter().map(|(n, v)| (n.as_slice(), v.as_slice())), &mut block);
        prop_assert_eq!(Decoder::new(DEFAULT_TABLE_SIZE).decode(&block, usize::MAX), Ok(list));
    }
}
