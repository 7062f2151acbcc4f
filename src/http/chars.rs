//! Byte classes of HTTP/1.1 as llhttp (Node's parser) defines them, as
//! 256-entry tables so that the scanners test a byte with one load.

const fn table(class: Class) -> [bool; 256] {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = class.holds(i as u8);
        i += 1;
    }
    t
}

#[derive(Clone, Copy)]
enum Class {
    Token,
    UrlChar,
    Userinfo,
    HeaderValue,
    Qdtext,
    ConnectionToken,
}

impl Class {
    const fn holds(self, b: u8) -> bool {
        match self {
            // RFC 9110 tchar.
            Class::Token => {
                b.is_ascii_alphanumeric()
                    || matches!(
                        b,
                        b'!' | b'#'
                            | b'$'
                            | b'%'
                            | b'&'
                            | b'\''
                            | b'*'
                            | b'+'
                            | b'-'
                            | b'.'
                            | b'^'
                            | b'_'
                            | b'`'
                            | b'|'
                            | b'~'
                    )
            }
            // llhttp's URL_CHAR: printable ASCII but space, `#` and `?`
            // (which start a fragment or query); no byte over 0x7f.
            Class::UrlChar => b.is_ascii_graphic() && b != b'#' && b != b'?',
            // The host part of an absolute URL (llhttp's USERINFO_CHARS).
            Class::Userinfo => {
                b.is_ascii_alphanumeric()
                    || matches!(
                        b,
                        b'-' | b'_'
                            | b'.'
                            | b'!'
                            | b'~'
                            | b'*'
                            | b'\''
                            | b'('
                            | b')'
                            | b'%'
                            | b';'
                            | b':'
                            | b'&'
                            | b'='
                            | b'+'
                            | b'$'
                            | b','
                    )
            }
            // HTAB, SP, VCHAR and obs-text: anything but other controls and DEL.
            Class::HeaderValue => b == b'\t' || (b >= 0x20 && b != 0x7f),
            // Inside a quoted string: HEADER_VALUE without `"` and `\`.
            Class::Qdtext => Class::HeaderValue.holds(b) && b != b'"' && b != b'\\',
            // A Transfer-Encoding list item: HEADER_VALUE without `,`.
            Class::ConnectionToken => Class::HeaderValue.holds(b) && b != b',',
        }
    }
}

pub(super) static TOKEN: [bool; 256] = table(Class::Token);
pub(super) static URL_CHAR: [bool; 256] = table(Class::UrlChar);
pub(super) static USERINFO: [bool; 256] = table(Class::Userinfo);
pub(super) static HEADER_VALUE: [bool; 256] = table(Class::HeaderValue);
pub(super) static QDTEXT: [bool; 256] = table(Class::Qdtext);
pub(super) static CONNECTION_TOKEN: [bool; 256] = table(Class::ConnectionToken);

/// The value of a hexadecimal digit.
pub(super) fn hex_value(b: u8) -> Option<u64> {
    (b as char).to_digit(16).map(u64::from)
}
