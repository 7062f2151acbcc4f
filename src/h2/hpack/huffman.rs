//! The Huffman code of RFC 7541 Appendix B, and decoding with it.
//!
//! The RFC's code is canonical: within one length, codes go up with the
//! symbol, and each length starts where the shorter ones left off. So the
//! whole table follows from the 257 code lengths, and that is all this
//! file transcribes; the codes are computed from them at compile time.
//! The tests hold the computed codes against values read from the RFC's
//! table, check that the code is complete (Kraft's sum is exactly 1) and
//! decode the RFC's Appendix C examples.
//!
//! Decoding goes bit by bit, as canonical decoders do (zlib's `puff`):
//! after each bit, the code so far is a symbol exactly when it lies
//! within the range of codes of its length. Header blocks are small and
//! bounded, so simplicity wins over a table-driven decoder here.

use std::fmt;

/// The end-of-string symbol: never valid inside a string.
const EOS: u16 = 256;
/// The longest code (EOS's).
const MAX_LEN: usize = 30;

/// Code length in bits of each symbol, 0 to 255 and EOS, from RFC 7541
/// Appendix B.
#[rustfmt::skip]
const LENGTHS: [u8; 257] = [
    // 0-31: control characters.
    13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28,
    28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,
    //   !   "   #   $   %   &   '   (   )   *   +   ,   -   .   /
     6, 10, 10, 12, 13,  6,  8, 11, 10, 10,  8, 11,  8,  6,  6,  6,
    // 0 1  2   3   4   5   6   7   8   9   :   ;   <   =   >   ?
     5,  5,  5,  6,  6,  6,  6,  6,  6,  6,  7,  8, 15,  6, 12, 10,
    // @ A  B   C   D   E   F   G   H   I   J   K   L   M   N   O
    13,  6,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,
    // P Q  R   S   T   U   V   W   X   Y   Z   [   \   ]   ^   _
     7,  7,  7,  7,  7,  7,  7,  7,  8,  7,  8, 13, 19, 13, 14,  6,
    // ` a  b   c   d   e   f   g   h   i   j   k   l   m   n   o
    15,  5,  6,  5,  6,  5,  6,  6,  6,  5,  7,  7,  6,  6,  6,  5,
    // p q  r   s   t   u   v   w   x   y   z   {   |   }   ~  DEL
     6,  7,  6,  5,  5,  6,  7,  7,  7,  7,  7, 15, 11, 14, 13, 28,
    // 128-255.
    20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23,
    24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24,
    22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23,
    21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,
    26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25,
    19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27,
    20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23,
    26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,
    // EOS.
    30,
];

/// The canonical code, computed from [`LENGTHS`].
struct Canonical {
    /// Each symbol's code, right-aligned.
    codes: [u32; 257],
    /// Per length: the first code, how many codes, and where they start
    /// in `sorted`.
    first: [u32; MAX_LEN + 1],
    count: [u32; MAX_LEN + 1],
    offset: [u32; MAX_LEN + 1],
    /// Symbols by (length, symbol): the order codes are handed out in.
    sorted: [u16; 257],
}

const CODE: Canonical = canonical();

const fn canonical() -> Canonical {
    let mut c = Canonical {
        codes: [0; 257],
        first: [0; MAX_LEN + 1],
        count: [0; MAX_LEN + 1],
        offset: [0; MAX_LEN + 1],
        sorted: [0; 257],
    };
    let mut sym = 0;
    while sym < 257 {
        c.count[LENGTHS[sym] as usize] += 1;
        sym += 1;
    }
    let mut len = 1;
    let mut next = 0;
    let mut at = 0;
    while len <= MAX_LEN {
        next = (next + c.count[len - 1]) << 1;
        c.first[len] = next;
        c.offset[len] = at;
        let mut sym = 0;
        while sym < 257 {
            if LENGTHS[sym] as usize == len {
                c.codes[sym] = next + (at - c.offset[len]);
                c.sorted[at as usize] = sym as u16;
                at += 1;
            }
            sym += 1;
        }
        len += 1;
    }
    c
}

/// Why a Huffman-coded string is refused (RFC 7541 §5.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HuffmanError {
    /// The string contains the EOS symbol.
    Eos,
    /// More than 7 bits of padding.
    PaddingTooLong(u32),
    /// Padding that is not the most significant bits of EOS (all ones).
    PaddingNotOnes,
}

impl fmt::Display for HuffmanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HuffmanError::Eos => write!(f, "the Huffman-coded string contains EOS"),
            HuffmanError::PaddingTooLong(bits) => {
                write!(
                    f,
                    "the Huffman-coded string ends with {bits} bits of padding (at most 7)"
                )
            }
            HuffmanError::PaddingNotOnes => write!(f, "the Huffman-coded string's padding is not all ones"),
        }
    }
}

/// Decodes `bytes`, appending the symbols to `out`.
pub fn decode(bytes: &[u8], out: &mut Vec<u8>) -> Result<(), HuffmanError> {
    let (mut code, mut len) = (0u32, 0usize);
    for byte in bytes {
        for shift in (0..8).rev() {
            code = (code << 1) | u32::from((byte >> shift) & 1);
            len += 1;
            let rank = code.wrapping_sub(CODE.first[len]);
            if code >= CODE.first[len] && rank < CODE.count[len] {
                match CODE.sorted[(CODE.offset[len] + rank) as usize] {
                    EOS => return Err(HuffmanError::Eos),
                    // Every symbol but EOS is below 256.
                    sym => out.push(sym as u8),
                }
                (code, len) = (0, 0);
            } else if len == MAX_LEN {
                // The code is complete (tested): 30 bits always end a
                // symbol, so this is never reached.
                return Err(HuffmanError::PaddingNotOnes);
            }
        }
    }
    if len > 7 {
        Err(HuffmanError::PaddingTooLong(len as u32))
    } else if code != (1 << len) - 1 {
        Err(HuffmanError::PaddingNotOnes)
    } else {
        Ok(())
    }
}

/// Encodes `bytes` with the code, padded with ones: for tests, since
/// hangup's encoder writes strings as they are.
#[cfg(test)]
pub fn encode(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u64, 0u32);
    for &b in bytes {
        acc = (acc << LENGTHS[usize::from(b)]) | u64::from(CODE.codes[usize::from(b)]);
        bits += u32::from(LENGTHS[usize::from(b)]);
        while bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    if bits > 0 {
        out.push(((acc << (8 - bits)) as u8) | (0xff >> bits));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// (symbol, code, length) read from RFC 7541 Appendix B, one or more
    /// from every length the code uses.
    const FROM_THE_RFC: [(usize, u32, u8); 30] = [
        (0, 0x1ff8, 13),
        (1, 0x7f_ffd8, 23),
        (9, 0xff_ffea, 24),
        (10, 0x3fff_fffc, 30),
        (22, 0x3fff_fffe, 30),
        (31, 0xfff_fffb, 28),
        (b' ' as usize, 0x14, 6),
        (b'!' as usize, 0x3f8, 10),
        (b'#' as usize, 0xffa, 12),
        (b'&' as usize, 0xf8, 8),
        (b'\'' as usize, 0x7fa, 11),
        (b'/' as usize, 0x18, 6),
        (b'0' as usize, 0x0, 5),
        (b':' as usize, 0x5c, 7),
        (b'<' as usize, 0x7ffc, 15),
        (b'\\' as usize, 0x7fff0, 19),
        (b'^' as usize, 0x3ffc, 14),
        (b'a' as usize, 0x3, 5),
        (b'u' as usize, 0x2d, 6),
        (b'z' as usize, 0x7b, 7),
        (b'~' as usize, 0x1ffd, 13),
        (127, 0xfff_fffc, 28),
        (128, 0xf_ffe6, 20),
        (153, 0x1f_ffdc, 21),
        (199, 0x1ff_ffec, 25),
        (192, 0x3ff_ffe0, 26),
        (203, 0x7ff_ffde, 27),
        (249, 0xfff_fffe, 28),
        (255, 0x3ff_ffee, 26),
        (256, 0x3fff_ffff, 30),
    ];

    #[test]
    fn the_computed_codes_are_the_rfcs() {
        for (sym, code, len) in FROM_THE_RFC {
            assert_eq!((CODE.codes[sym], LENGTHS[sym]), (code, len), "symbol {sym}");
        }
    }

    #[test]
    fn the_code_is_complete_and_prefix_free() {
        // Kraft: the sum of 2^-len over all symbols is exactly 1.
        let sum: u64 = LENGTHS.iter().map(|&len| 1u64 << (MAX_LEN - usize::from(len))).sum();
        assert_eq!(sum, 1 << MAX_LEN);
        let codes = LENGTHS.iter().zip(CODE.codes).enumerate();
        for (a, (&la, ca)) in codes.clone() {
            for (b, (&lb, cb)) in codes.clone() {
                if a != b && la <= lb {
                    assert_ne!(cb >> (lb - la), ca, "{a} is a prefix of {b}");
                }
            }
        }
    }

    #[test]
    fn every_symbol_round_trips() {
        for sym in 0..=255u8 {
            let mut out = Vec::new();
            assert_eq!(decode(&encode(&[sym]), &mut out), Ok(()), "symbol {sym}");
            assert_eq!(out, [sym]);
        }
        let all: Vec<u8> = (0..=255).collect();
        let mut out = Vec::new();
        assert_eq!(decode(&encode(&all), &mut out), Ok(()));
        assert_eq!(out, all);
    }

    #[test]
    fn the_rfcs_examples_decode() {
        let cases: [(&[u8], &str); 4] = [
            (
                &[0xf1, 0xe3, 0xc2, 0xe5, 0xf2, 0x3a, 0x6b, 0xa0, 0xab, 0x90, 0xf4, 0xff],
                "www.example.com",
            ),
            (&[0xa8, 0xeb, 0x10, 0x64, 0x9c, 0xbf], "no-cache"),
            (&[0x25, 0xa8, 0x49, 0xe9, 0x5b, 0xa9, 0x7d, 0x7f], "custom-key"),
            (&[0x64, 0x0e, 0xff], "307"),
        ];
        for (bytes, text) in cases {
            let mut out = Vec::new();
            assert_eq!(decode(bytes, &mut out), Ok(()));
            assert_eq!(out, text.as_bytes());
            assert_eq!(encode(text.as_bytes()), bytes);
        }
    }

    #[test]
    fn eos_and_bad_padding_are_refused() {
        let mut out = Vec::new();
        // EOS (30 ones) then two more ones of padding.
        assert_eq!(decode(&[0xff, 0xff, 0xff, 0xff], &mut out), Err(HuffmanError::Eos));
        // '0' (00000) then 3 bits of padding that are not ones.
        assert_eq!(decode(&[0b0000_0101], &mut out), Err(HuffmanError::PaddingNotOnes));
        // A byte of ones after a complete symbol is 8 bits of padding.
        assert_eq!(
            decode(&[0b0000_0111, 0xff], &mut out),
            Err(HuffmanError::PaddingTooLong(11))
        );
        assert_eq!(decode(&[0xff], &mut out), Err(HuffmanError::PaddingTooLong(8)));
        // Up to 7 bits of ones is fine, and so is an empty string.
        assert_eq!(decode(&[0b0000_0111], &mut out), Ok(()));
        assert_eq!(decode(&[], &mut out), Ok(()));
    }

    proptest! {
        #[test]
        fn any_bytes_round_trip(bytes in proptest::collection::vec(any::<u8>(), 0..100)) {
            let mut out = Vec::new();
            prop_assert_eq!(decode(&encode(&bytes), &mut out), Ok(()));
            prop_assert_eq!(out, bytes);
        }

        #[test]
        fn any_code_decodes_or_is_refused_without_panic(bytes in proptest::collection::vec(any::<u8>(), 0..100)) {
            let mut out = Vec::new();
            let _ = decode(&bytes, &mut out);
            prop_assert!(out.len() <= bytes.len() * 8 / 5);
        }
    }
}
