//! HPACK's header tables (RFC 7541 §2.3): the static table of Appendix A
//! and the dynamic table a decoder keeps for one connection.
//!
//! One index space covers both: 1 to 61 are static, 62 and up the dynamic
//! table, newest first. An entry's size is its name and value plus 32
//! bytes (§4.1), and adding an entry evicts the oldest until the total
//! fits; an entry larger than the whole table empties it and is not kept.

use std::collections::VecDeque;

/// RFC 7541 Appendix A, index 1 first.
pub const STATIC: [(&str, &str); 61] = [
    (":authority", ""),
    (":method", "GET"),
    (":method", "POST"),
    (":path", "/"),
    (":path", "/index.html"),
    (":scheme", "http"),
    (":scheme", "https"),
    (":status", "200"),
    (":status", "204"),
    (":status", "206"),
    (":status", "304"),
    (":status", "400"),
    (":status", "404"),
    (":status", "500"),
    ("accept-charset", ""),
    ("accept-encoding", "gzip, deflate"),
    ("accept-language", ""),
    ("accept-ranges", ""),
    ("accept", ""),
    ("access-control-allow-origin", ""),
    ("age", ""),
    ("allow", ""),
    ("authorization", ""),
    ("cache-control", ""),
    ("content-disposition", ""),
    ("content-encoding", ""),
    ("content-language", ""),
    ("content-length", ""),
    ("content-location", ""),
    ("content-range", ""),
    ("content-type", ""),
    ("cookie", ""),
    ("date", ""),
    ("etag", ""),
    ("expect", ""),
    ("expires", ""),
    ("from", ""),
    ("host", ""),
    ("if-match", ""),
    ("if-modified-since", ""),
    ("if-none-match", ""),
    ("if-range", ""),
    ("if-unmodified-since", ""),
    ("last-modified", ""),
    ("link", ""),
    ("location", ""),
    ("max-forwards", ""),
    ("proxy-authenticate", ""),
    ("proxy-authorization", ""),
    ("range", ""),
    ("referer", ""),
    ("refresh", ""),
    ("retry-after", ""),
    ("server", ""),
    ("set-cookie", ""),
    ("strict-transport-security", ""),
    ("transfer-encoding", ""),
    ("user-agent", ""),
    ("vary", ""),
    ("via", ""),
    ("www-authenticate", ""),
];

/// The bytes an entry counts for, in the table and in a header list.
pub fn entry_size(name: &[u8], value: &[u8]) -> usize {
    name.len() + value.len() + 32
}

/// The dynamic table of one decoder.
#[derive(Debug, Clone)]
pub struct DynamicTable {
    entries: VecDeque<(Vec<u8>, Vec<u8>)>,
    size: usize,
    max_size: usize,
}

impl DynamicTable {
    /// An empty table that may hold `max_size` bytes.
    pub fn new(max_size: usize) -> DynamicTable {
        DynamicTable {
            entries: VecDeque::new(),
            size: 0,
            max_size,
        }
    }

    /// The entry at `index` in the shared index space (1-based, static
    /// first); `None` for 0 or past the end.
    pub fn get(&self, index: usize) -> Option<(&[u8], &[u8])> {
        match index {
            0 => None,
            1..=61 => STATIC.get(index - 1).map(|(n, v)| (n.as_bytes(), v.as_bytes())),
            _ => self.entries.get(index - 62).map(|(n, v)| (n.as_slice(), v.as_slice())),
        }
    }

    /// The highest valid index: 61 static plus the dynamic entries.
    pub fn last_index(&self) -> usize {
        STATIC.len() + self.entries.len()
    }

    /// The table's size by the RFC's count.
    pub fn size(&self) -> usize {
        self.size
    }

    /// The size it may grow to.
    pub fn max_size(&self) -> usize {
        self.max_size
    }

    /// Adds an entry as the newest, evicting the oldest to make room.
    pub fn insert(&mut self, name: Vec<u8>, value: Vec<u8>) {
        let size = entry_size(&name, &value);
        if size > self.max_size {
            self.entries.clear();
            self.size = 0;
            return;
        }
        self.shrink_to(self.max_size - size);
        self.entries.push_front((name, value));
        self.size += size;
    }

    /// A new maximum size (a dynamic table size update), evicting what no
    /// longer fits.
    pub fn set_max_size(&mut self, max_size: usize) {
        self.max_size = max_size;
        self.shrink_to(max_size);
    }

    fn shrink_to(&mut self, room: usize) {
        while self.size > room {
            let Some((name, value)) = self.entries.pop_back() else {
                break;
            };
            self.size -= entry_size(&name, &value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_static_table_is_the_rfcs_at_its_ends_and_landmarks() {
        let t = DynamicTable::new(4096);
        assert_eq!(t.get(1), Some((&b":authority"[..], &b""[..])));
        assert_eq!(t.get(2), Some((&b":method"[..], &b"GET"[..])));
        assert_eq!(t.get(8), Some((&b":status"[..], &b"200"[..])));
        assert_eq!(t.get(16), Some((&b"accept-encoding"[..], &b"gzip, deflate"[..])));
        assert_eq!(t.get(33).map(|e| e.0), Some(&b"date"[..]));
        assert_eq!(t.get(58).map(|e| e.0), Some(&b"user-agent"[..]));
        assert_eq!(t.get(61).map(|e| e.0), Some(&b"www-authenticate"[..]));
        assert_eq!(t.get(0), None);
        assert_eq!(t.get(62), None);
    }

    #[test]
    fn entries_are_evicted_oldest_first_and_an_oversized_one_empties_the_table() {
        let mut t = DynamicTable::new(100);
        t.insert(b"a".to_vec(), b"1".to_vec()); // 34
        t.insert(b"b".to_vec(), b"2".to_vec()); // 68
        assert_eq!((t.last_index(), t.size()), (63, 68));
        assert_eq!(t.get(62).map(|e| e.0), Some(&b"b"[..]));
        t.insert(b"c".to_vec(), b"3".to_vec()); // a goes
        assert_eq!(t.get(63).map(|e| e.0), Some(&b"b"[..]));
        assert_eq!((t.last_index(), t.size()), (63, 68));
        t.set_max_size(40);
        assert_eq!((t.last_index(), t.size()), (62, 34));
        t.insert(vec![b'x'; 10], Vec::new());
        assert_eq!((t.last_index(), t.size()), (61, 0));
    }
}
