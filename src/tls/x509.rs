//! X.509 certificates (RFC 5280 §4.1), read for the few fields a probe
//! reports: who the certificate is for (its subject, and the names of its
//! `subjectAltName`), who issued it, and when it is valid.
//!
//! ```text
//! Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signature }
//! TBSCertificate ::= SEQUENCE { [0] version OPTIONAL, serialNumber, signature,
//!     issuer Name, validity SEQUENCE { notBefore, notAfter }, subject Name,
//!     subjectPublicKeyInfo, [1] [2] unique IDs OPTIONAL, [3] extensions OPTIONAL }
//! ```
//!
//! Written here rather than taken from a crate: these fields are a walk
//! down one path of the DER tree, a few hundred lines, where
//! `x509-parser` would bring a parser combinator library and an OID
//! registry to a binary whose size is counted. Whether the certificate is
//! any good is not decided here: rustls's verifier (webpki) does that, and
//! this reader only describes what was presented.
//!
//! The input is the server's, so hostile: every length is checked against
//! what is left before it is believed (no input can make the reader panic,
//! read out of bounds or allocate more than its own size), and the text
//! taken from a certificate has its control characters escaped, so that a
//! name cannot move a terminal's cursor.

use std::fmt;
use std::net::IpAddr;

/// What a certificate says of itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificate {
    /// Its subject's name, as OpenSSL writes it: `C=DE, O=Example, CN=host`.
    pub subject: String,
    /// Its issuer's name, written the same way.
    pub issuer: String,
    /// The issuer's name is the subject's, byte for byte: a certificate
    /// that says it issued itself (a root, or a self-signed leaf).
    pub self_issued: bool,
    /// The DNS names and IP addresses of its `subjectAltName`, in order
    /// (the other kinds of name are left out).
    pub names: Vec<SubjectName>,
    /// Valid from this instant on.
    pub not_before: Time,
    /// Valid until this instant, inclusive.
    pub not_after: Time,
}

/// One name of a `subjectAltName` that TLS checks a host against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubjectName {
    /// `dNSName`, as written (maybe a wildcard, `*.example.com`).
    Dns(String),
    /// `iPAddress`.
    Ip(IpAddr),
}

impl fmt::Display for SubjectName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SubjectName::Dns(name) => f.write_str(name),
            SubjectName::Ip(ip) => write!(f, "{ip}"),
        }
    }
}

/// An instant of a certificate's validity, in UTC, to the second.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Time {
    /// Seconds since 1970-01-01 00:00:00 UTC (negative before).
    pub unix: i64,
}

impl Time {
    /// The date and time of a Unix timestamp.
    fn civil(self) -> (i64, u32, u32, u32, u32, u32) {
        let days = self.unix.div_euclid(86_400);
        let secs = self.unix.rem_euclid(86_400) as u32;
        let (year, month, day) = civil_from_days(days);
        (year, month, day, secs / 3600, secs / 60 % 60, secs % 60)
    }
}

impl Time {
    /// RFC 3339, for JSON: `2026-12-07T21:56:02Z`.
    pub fn rfc3339(self) -> String {
        let (year, month, day, hour, minute, second) = self.civil();
        format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}Z")
    }
}

/// `2026-12-07 21:56:02 UTC`.
impl fmt::Display for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (year, month, day, hour, minute, second) = self.civil();
        write!(f, "{year:04}-{month:02}-{day:02} {hour:02}:{minute:02}:{second:02} UTC")
    }
}

/// Bytes that are no certificate this reader can read, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadCertificate(pub &'static str);

impl fmt::Display for BadCertificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "not a certificate this probe can read: {}", self.0)
    }
}

/// DER's tags, as the one byte they are here.
mod tag {
    pub const BOOLEAN: u8 = 0x01;
    pub const INTEGER: u8 = 0x02;
    pub const OCTET_STRING: u8 = 0x04;
    pub const OID: u8 = 0x06;
    pub const UTC_TIME: u8 = 0x17;
    pub const GENERALIZED_TIME: u8 = 0x18;
    pub const SEQUENCE: u8 = 0x30;
    pub const SET: u8 = 0x31;
    /// `[0] EXPLICIT`: the version.
    pub const VERSION: u8 = 0xa0;
    /// `[1]` and `[2] IMPLICIT`: the unique IDs of X.509 v2.
    pub const ISSUER_UID: u8 = 0x81;
    pub const SUBJECT_UID: u8 = 0x82;
    /// `[3] EXPLICIT`: the extensions.
    pub const EXTENSIONS: u8 = 0xa3;
    /// `GeneralName`'s `[2] dNSName` and `[7] iPAddress`.
    pub const DNS_NAME: u8 = 0x82;
    pub const IP_ADDRESS: u8 = 0x87;
}

/// `subjectAltName`: 2.5.29.17.
const SUBJECT_ALT_NAME: &[u8] = &[0x55, 0x1d, 0x11];

/// Read the certificate `der` (one, whole: nothing may follow it).
pub fn parse(der: &[u8]) -> Result<Certificate, BadCertificate> {
    let mut outer = Der(der);
    let certificate = outer.expect(tag::SEQUENCE, "the certificate is not a SEQUENCE")?;
    if !outer.0.is_empty() {
        return Err(BadCertificate("bytes after the certificate"));
    }
    let mut certificate = Der(certificate);
    let mut tbs = Der(certificate.expect(tag::SEQUENCE, "no tbsCertificate")?);
    tbs.optional(tag::VERSION)?;
    tbs.expect(tag::INTEGER, "no serial number")?;
    tbs.expect(tag::SEQUENCE, "no signature algorithm")?;
    let issuer = tbs.expect(tag::SEQUENCE, "no issuer")?;
    let mut validity = Der(tbs.expect(tag::SEQUENCE, "no validity")?);
    let not_before = time(&mut validity)?;
    let not_after = time(&mut validity)?;
    let subject = tbs.expect(tag::SEQUENCE, "no subject")?;
    tbs.expect(tag::SEQUENCE, "no subject public key")?;
    tbs.optional(tag::ISSUER_UID)?;
    tbs.optional(tag::SUBJECT_UID)?;
    let names = match tbs.optional(tag::EXTENSIONS)? {
        Some(extensions) => alt_names(Der(extensions).expect(tag::SEQUENCE, "extensions are not a SEQUENCE")?)?,
        None => Vec::new(),
    };
    Ok(Certificate {
        subject: name(subject)?,
        issuer: name(issuer)?,
        self_issued: issuer == subject,
        names,
        not_before,
        not_after,
    })
}

/// A DER reader over what is left of some bytes.
struct Der<'a>(&'a [u8]);

impl<'a> Der<'a> {
    /// The next element: its tag and its contents.
    fn next(&mut self) -> Result<(u8, &'a [u8]), BadCertificate> {
        let [tag, first, rest @ ..] = self.0 else {
            return Err(BadCertificate("cut short"));
        };
        if tag & 0x1f == 0x1f {
            return Err(BadCertificate("a tag of the high-number form"));
        }
        let (len, rest) = match *first {
            short @ 0..0x80 => (usize::from(short), rest),
            0x80 => return Err(BadCertificate("an indefinite length, which DER has not")),
            long => {
                let count = usize::from(long & 0x7f);
                if count > 4 || rest.len() < count {
                    return Err(BadCertificate("a length too long to be true"));
                }
                let (digits, rest) = rest.split_at(count);
                let len = digits.iter().fold(0usize, |len, &d| (len << 8) | usize::from(d));
                (len, rest)
            }
        };
        if rest.len() < len {
            return Err(BadCertificate("cut short"));
        }
        let (contents, rest) = rest.split_at(len);
        self.0 = rest;
        Ok((*tag, contents))
    }

    /// The next element, which must be a `want`; its contents.
    fn expect(&mut self, want: u8, missing: &'static str) -> Result<&'a [u8], BadCertificate> {
        match self.next()? {
            (tag, contents) if tag == want => Ok(contents),
            _ => Err(BadCertificate(missing)),
        }
    }

    /// The next element's contents when it is a `want`; nothing read
    /// otherwise.
    fn optional(&mut self, want: u8) -> Result<Option<&'a [u8]>, BadCertificate> {
        if self.0.first() != Some(&want) {
            return Ok(None);
        }
        self.next().map(|(_, contents)| Some(contents))
    }
}

/// A `Name` as OpenSSL writes it: `C=DE, O=Example, CN=host`, its
/// attributes in the certificate's order, those of one RDN joined by `+`.
fn name(der: &[u8]) -> Result<String, BadCertificate> {
    let mut rdns = Der(der);
    let mut out = String::new();
    while !rdns.0.is_empty() {
        let mut attributes = Der(rdns.expect(tag::SET, "a name's part is not a SET")?);
        if !out.is_empty() {
            out.push_str(", ");
        }
        let mut first = true;
        while !attributes.0.is_empty() {
            let mut pair = Der(attributes.expect(tag::SEQUENCE, "a name's attribute is not a SEQUENCE")?);
            let oid = pair.expect(tag::OID, "a name's attribute has no type")?;
            let (kind, value) = pair.next()?;
            if !first {
                out.push('+');
            }
            first = false;
            match attribute_name(oid) {
                Some(short) => out.push_str(short),
                None => out.push_str(&dotted(oid)?),
            }
            out.push('=');
            push_string(&mut out, kind, value);
        }
    }
    Ok(out)
}

/// The short name OpenSSL gives an attribute type.
fn attribute_name(oid: &[u8]) -> Option<&'static str> {
    Some(match oid {
        [0x55, 0x04, 0x03] => "CN",
        [0x55, 0x04, 0x04] => "SN",
        [0x55, 0x04, 0x05] => "serialNumber",
        [0x55, 0x04, 0x06] => "C",
        [0x55, 0x04, 0x07] => "L",
        [0x55, 0x04, 0x08] => "ST",
        [0x55, 0x04, 0x09] => "street",
        [0x55, 0x04, 0x0a] => "O",
        [0x55, 0x04, 0x0b] => "OU",
        [0x55, 0x04, 0x2a] => "GN",
        [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01] => "emailAddress",
        [0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x01] => "UID",
        [0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x19] => "DC",
        _ => return None,
    })
}

/// An OID in dotted form: `1.2.840.113549`.
fn dotted(oid: &[u8]) -> Result<String, BadCertificate> {
    let mut arcs = Vec::new();
    let mut arc: u64 = 0;
    for (i, &byte) in oid.iter().enumerate() {
        if arc > u64::MAX >> 7 {
            return Err(BadCertificate("an OID's number is too large"));
        }
        arc = (arc << 7) | u64::from(byte & 0x7f);
        if byte & 0x80 == 0 {
            arcs.push(arc);
            arc = 0;
        } else if i + 1 == oid.len() {
            return Err(BadCertificate("an OID cut short"));
        }
    }
    let Some((&first, rest)) = arcs.split_first() else {
        return Err(BadCertificate("an empty OID"));
    };
    let (a, b) = match first {
        0..40 => (0, first),
        40..80 => (1, first - 40),
        _ => (2, first - 80),
    };
    let mut out = format!("{a}.{b}");
    for arc in rest {
        out.push_str(&format!(".{arc}"));
    }
    Ok(out)
}

/// A directory string's text, control characters escaped; a kind of
/// string this reader does not decode is written as `#` and hex, as
/// OpenSSL does.
fn push_string(out: &mut String, kind: u8, value: &[u8]) {
    match kind {
        // UTF8String, PrintableString, T61String, IA5String, VisibleString.
        0x0c | 0x13 | 0x14 | 0x16 | 0x1a => push_text(out, String::from_utf8_lossy(value).chars()),
        // BMPString: UTF-16, big-endian.
        0x1e => {
            let units = value.chunks_exact(2).map(|pair| u16::from_be_bytes([pair[0], pair[1]]));
            let text = char::decode_utf16(units).map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER));
            push_text(out, text);
        }
        // UniversalString: UTF-32, big-endian.
        0x1c => {
            let text = value.chunks_exact(4).map(|four| {
                char::from_u32(u32::from_be_bytes([four[0], four[1], four[2], four[3]]))
                    .unwrap_or(char::REPLACEMENT_CHARACTER)
            });
            push_text(out, text);
        }
        _ => {
            out.push('#');
            for byte in value {
                out.push_str(&format!("{byte:02x}"));
            }
        }
    }
}

/// Text from a certificate, with its control characters escaped.
fn push_text(out: &mut String, text: impl Iterator<Item = char>) {
    for c in text {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
}

/// A `Time`: UTCTime `YYMMDDHHMMSSZ` or GeneralizedTime
/// `YYYYMMDDHHMMSSZ`, the only forms RFC 5280 §4.1.2.5 allows.
fn time(der: &mut Der) -> Result<Time, BadCertificate> {
    let (kind, text) = der.next()?;
    let (year, rest) = match (kind, text.len()) {
        (tag::UTC_TIME, 13) => {
            // RFC 5280: 50 to 99 are 1950 to 1999, 00 to 49 are 2000 to 2049.
            let yy = digits(&text[..2])?;
            (if yy >= 50 { 1900 + yy } else { 2000 + yy }, &text[2..])
        }
        (tag::GENERALIZED_TIME, 15) => (digits(&text[..4])?, &text[4..]),
        (tag::UTC_TIME | tag::GENERALIZED_TIME, _) => {
            return Err(BadCertificate("a time not of RFC 5280's form"));
        }
        _ => return Err(BadCertificate("a validity that is not a time")),
    };
    if rest[10] != b'Z' {
        return Err(BadCertificate("a time not in UTC"));
    }
    let month = digits(&rest[0..2])?;
    let day = digits(&rest[2..4])?;
    let hour = digits(&rest[4..6])?;
    let minute = digits(&rest[6..8])?;
    let second = digits(&rest[8..10])?;
    if !(1..=12).contains(&month) || !(1..=days_in_month(year, month)).contains(&day) {
        return Err(BadCertificate("a date that does not exist"));
    }
    if hour > 23 || minute > 59 || second > 59 {
        return Err(BadCertificate("a time of day that does not exist"));
    }
    let days = days_from_civil(i64::from(year), month, day);
    let unix = days * 86_400 + i64::from(hour * 3600 + minute * 60 + second);
    Ok(Time { unix })
}

/// ASCII digits as a number.
fn digits(text: &[u8]) -> Result<u32, BadCertificate> {
    text.iter().try_fold(0u32, |n, &d| match d {
        b'0'..=b'9' => Ok(n * 10 + u32::from(d - b'0')),
        _ => Err(BadCertificate("a time with a character that is not a digit")),
    })
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a date in the proleptic Gregorian calendar
/// (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year.rem_euclid(400);
    let month = i64::from(month);
    let day_of_year = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The date of a day since 1970-01-01 (Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days.rem_euclid(146_097);
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The DNS names and IP addresses of the `subjectAltName` among
/// `extensions`.
fn alt_names(extensions: &[u8]) -> Result<Vec<SubjectName>, BadCertificate> {
    let mut extensions = Der(extensions);
    let mut names = Vec::new();
    while !extensions.0.is_empty() {
        let mut extension = Der(extensions.expect(tag::SEQUENCE, "an extension is not a SEQUENCE")?);
        let oid = extension.expect(tag::OID, "an extension has no type")?;
        extension.optional(tag::BOOLEAN)?;
        let value = extension.expect(tag::OCTET_STRING, "an extension has no value")?;
        if oid != SUBJECT_ALT_NAME {
            continue;
        }
        let mut general = Der(Der(value).expect(tag::SEQUENCE, "subjectAltName is not a SEQUENCE")?);
        while !general.0.is_empty() {
            match general.next()? {
                (tag::DNS_NAME, name) => {
                    let mut text = String::new();
                    push_text(&mut text, String::from_utf8_lossy(name).chars());
                    names.push(SubjectName::Dns(text));
                }
                (tag::IP_ADDRESS, address) => {
                    let ip = match address.len() {
                        4 => IpAddr::from(<[u8; 4]>::try_from(address).unwrap_or_default()),
                        16 => IpAddr::from(<[u8; 16]>::try_from(address).unwrap_or_default()),
                        _ => return Err(BadCertificate("an IP address that is neither 4 nor 16 bytes")),
                    };
                    names.push(SubjectName::Ip(ip));
                }
                // e-mail addresses, URIs and the rest: no host is checked
                // against them.
                _ => {}
            }
        }
    }
    Ok(names)
}

#[cfg(test)]
mod tests;
