//! HPACK's prefixed integers (RFC 7541 §5.1): a value that fits the
//! prefix's N bits sits there; a larger one fills the prefix with ones and
//! continues in 7-bit groups, least significant first.
//!
//! The encoding allows any number of continuation bytes (zeros included),
//! so a decoder must stop somewhere. Five continuation bytes carry 35 bits,
//! more than any length, index or table size a header block can need;
//! a sixth is refused, and the value must fit 32 bits, so nothing can
//! overflow whatever a peer sends.

/// Continuation bytes accepted after the prefix.
const MAX_CONTINUATION: usize = 5;

/// Why an integer could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntegerError {
    /// The block ended in the middle of it.
    Truncated,
    /// More continuation bytes than `MAX_CONTINUATION`, or a value
    /// over 2^32-1.
    TooLarge,
}

/// Reads an integer with an `prefix`-bit prefix (1 to 8) from the start of
/// `bytes`: the value and the bytes it took.
pub fn decode(bytes: &[u8], prefix: u8) -> Result<(usize, usize), IntegerError> {
    let max_prefix = (1u32 << prefix) - 1;
    let first = bytes.first().ok_or(IntegerError::Truncated)?;
    let mut value = u32::from(*first) & max_prefix;
    if value < max_prefix {
        return Ok((value as usize, 1));
    }
    for (i, byte) in bytes[1..].iter().enumerate() {
        if i == MAX_CONTINUATION {
            return Err(IntegerError::TooLarge);
        }
        let group = u64::from(byte & 0x7f) << (7 * i);
        value = u32::try_from(u64::from(value) + group).map_err(|_| IntegerError::TooLarge)?;
        if byte & 0x80 == 0 {
            return Ok((value as usize, i + 2));
        }
    }
    Err(IntegerError::Truncated)
}

/// Appends `value` with a `prefix`-bit prefix; `high` holds the bits
/// above the prefix in the first byte (the representation's pattern).
pub fn encode(value: usize, prefix: u8, high: u8, out: &mut Vec<u8>) {
    let max_prefix = (1usize << prefix) - 1;
    if value < max_prefix {
        out.push(high | value as u8);
        return;
    }
    out.push(high | max_prefix as u8);
    let mut rest = value - max_prefix;
    while rest >= 0x80 {
        out.push(0x80 | (rest & 0x7f) as u8);
        rest >>= 7;
    }
    out.push(rest as u8);
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_rfcs_examples() {
        // C.1.1: 10 with a 5-bit prefix; C.1.2: 1337; C.1.3: 42 on 8 bits.
        assert_eq!(decode(&[0b111_01010], 5), Ok((10, 1)));
        assert_eq!(decode(&[0b000_11111, 0b1001_1010, 0b0000_1010], 5), Ok((1337, 3)));
        assert_eq!(decode(&[42], 8), Ok((42, 1)));
        let mut out = Vec::new();
        encode(1337, 5, 0b111_00000, &mut out);
        assert_eq!(out, [0xff, 0x9a, 0x0a]);
    }

    #[test]
    fn long_or_truncated_integers_are_refused_without_overflow() {
        assert_eq!(decode(&[], 5), Err(IntegerError::Truncated));
        assert_eq!(decode(&[0x1f], 5), Err(IntegerError::Truncated));
        assert_eq!(decode(&[0x1f, 0x80, 0x80], 5), Err(IntegerError::Truncated));
        // Ten continuation bytes: refused at the sixth.
        let mut ten = vec![0xff];
        ten.extend([0xff; 9]);
        ten.push(0x7f);
        assert_eq!(decode(&ten, 8), Err(IntegerError::TooLarge));
        // Five all-ones groups are 35 bits: over 32.
        assert_eq!(
            decode(&[0xff, 0xff, 0xff, 0xff, 0xff, 0x7f], 8),
            Err(IntegerError::TooLarge)
        );
        // Leading zero groups are legal and read.
        assert_eq!(decode(&[0x7f, 0x80, 0x80, 0x80, 0x80, 0x00], 7), Ok((127, 6)));
        assert_eq!(
            decode(&[0x7f, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00], 7),
            Err(IntegerError::TooLarge)
        );
    }

    proptest! {
        #[test]
        fn values_round_trip(value in 0usize..=u32::MAX as usize, prefix in 1u8..=8) {
            let mut out = Vec::new();
            encode(value, prefix, 0, &mut out);
            prop_assert_eq!(decode(&out, prefix), Ok((value, out.len())));
        }

        #[test]
        fn any_bytes_decode_or_fail_cleanly(bytes in proptest::collection::vec(any::<u8>(), 0..12), prefix in 1u8..=8) {
            if let Ok((_, used)) = decode(&bytes, prefix) {
                prop_assert!(used <= bytes.len() && used <= 1 + MAX_CONTINUATION);
            }
        }
    }
}
