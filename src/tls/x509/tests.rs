//! The certificate reader against a certificate made by `openssl req
//! -x509` (below), certificates rcgen makes, hand-made DER that lies about
//! its lengths, and random bytes and edits (proptest): the fields come out
//! as written, and nothing panics.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use proptest::prelude::*;

use super::*;

/// `openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -days
/// 10000 -subj "/C=DE/O=Example Org/OU=Test/CN=www.example.test" -addext
/// "subjectAltName=DNS:www.example.test,DNS:*.example.test,IP:127.0.0.1,IP:::1,email:a@b.test"`
/// (OpenSSL 3.0), as DER: its notBefore is a UTCTime, its notAfter (2054)
/// a GeneralizedTime.
const OPENSSL: &[&str] = &[
    "30820242308201e8a003020102021439e952b0b364cd6838820c8b8f2ae1",
    "e8d24bdfe6300a06082a8648ce3d040302304d310b300906035504061302",
    "444531143012060355040a0c0b4578616d706c65204f7267310d300b0603",
    "55040b0c04546573743119301706035504030c107777772e6578616d706c",
    "652e746573743020170d3236313230373231353630325a180f3230353430",
    "3432343231353630325a304d310b30090603550406130244453114301206",
    "0355040a0c0b4578616d706c65204f7267310d300b060355040b0c045465",
    "73743119301706035504030c107777772e6578616d706c652e7465737430",
    "59301306072a8648ce3d020106082a8648ce3d0301070342000429522ff0",
    "c2b7ef868880e00680efd2cb773aeb16cbd264b635e57f4e1d46ded5befe",
    "ca87229ca1e6fedef1134ee738a8768cae9f2411ea613d1ba0ccd288eeb2",
    "a381a33081a0301d0603551d0e041604146a9e36c9a3f8589eb221aee674",
    "a6a457dc7dcfe9301f0603551d230418301680146a9e36c9a3f8589eb221",
    "aee674a6a457dc7dcfe9300f0603551d130101ff040530030101ff304d06",
    "03551d110446304482107777772e6578616d706c652e74657374820e2a2e",
    "6578616d706c652e7465737487047f000001871000000000000000000000",
    "00000000000181086140622e74657374300a06082a8648ce3d0403020348",
    "003045022022cbd30093d9d27ab18f8159ce7648ca0a9af159efebb08c62",
    "b3e0492fbd69b0022100b4d8af3dd9651044b245ba5db0f7d60bdc4ab560",
    "7771f879c2f34dfd7aea1bd5",
];

fn openssl() -> Vec<u8> {
    let hex: String = OPENSSL.concat();
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
        .collect()
}

#[test]
fn openssls_certificate_reads_as_openssl_prints_it() {
    let cert = parse(&openssl()).expect("a certificate");
    assert_eq!(cert.subject, "C=DE, O=Example Org, OU=Test, CN=www.example.test");
    assert_eq!(cert.issuer, cert.subject);
    assert!(cert.self_issued);
    assert_eq!(
        cert.names,
        [
            SubjectName::Dns("www.example.test".into()),
            SubjectName::Dns("*.example.test".into()),
            SubjectName::Ip(IpAddr::V4(Ipv4Addr::LOCALHOST)),
            SubjectName::Ip(IpAddr::V6(Ipv6Addr::LOCALHOST)),
        ]
    );
    assert_eq!(cert.not_before, Time { unix: 1_796_680_562 });
    assert_eq!(cert.not_after, Time { unix: 2_660_680_562 });
    assert_eq!(cert.not_before.to_string(), "2026-12-07 21:56:02 UTC");
    assert_eq!(cert.not_after.to_string(), "2054-04-24 21:56:02 UTC");
    assert_eq!(cert.not_after.rfc3339(), "2054-04-24T21:56:02Z");
    let names: Vec<String> = cert.names.iter().map(ToString::to_string).collect();
    assert_eq!(names, ["www.example.test", "*.example.test", "127.0.0.1", "::1"]);
}

#[test]
fn every_prefix_and_anything_after_is_refused() {
    let der = openssl();
    for len in 0..der.len() {
        assert!(parse(&der[..len]).is_err(), "a prefix of {len} bytes was read");
    }
    let mut longer = der.clone();
    longer.push(0);
    assert_eq!(parse(&longer), Err(BadCertificate("bytes after the certificate")));
}

#[test]
fn times_are_rfc_5280s_and_nothing_else() {
    let read = |kind: u8, text: &str| {
        let mut der = vec![kind, text.len() as u8];
        der.extend_from_slice(text.as_bytes());
        time(&mut Der(&der)).map(|t| t.unix)
    };
    assert_eq!(read(tag::UTC_TIME, "500101000000Z"), Ok(-631_152_000));
    assert_eq!(read(tag::UTC_TIME, "491231235959Z"), Ok(2_524_607_999));
    assert_eq!(read(tag::GENERALIZED_TIME, "20000229120000Z"), Ok(951_825_600));
    assert_eq!(read(tag::GENERALIZED_TIME, "19700101000000Z"), Ok(0));
    for (kind, text) in [
        (tag::GENERALIZED_TIME, "20010229120000Z"),
        (tag::UTC_TIME, "501301000000Z"),
        (tag::UTC_TIME, "500100000000Z"),
        (tag::UTC_TIME, "500101240000Z"),
        (tag::UTC_TIME, "500101006000Z"),
        (tag::UTC_TIME, "5001010000+0Z"),
        (tag::UTC_TIME, "500101000000+"),
        (tag::UTC_TIME, "5001010000Z"),
        (tag::GENERALIZED_TIME, "20000101000000.5Z"),
        (tag::INTEGER, "500101000000Z"),
    ] {
        assert!(read(kind, text).is_err(), "{text} was read");
    }
    for unix in [-631_152_000, 0, 951_825_600, 2_660_680_562, 253_402_300_799] {
        let (y, mo, d, h, mi, s) = Time { unix }.civil();
        assert_eq!(
            days_from_civil(y, mo, d) * 86_400 + i64::from(h * 3600 + mi * 60 + s),
            unix
        );
    }
    assert_eq!(Time { unix: 253_402_300_799 }.to_string(), "9999-12-31 23:59:59 UTC");
}

#[test]
fn lengths_that_lie_are_refused() {
    for (der, why) in [
        (&[0x30, 0x80, 0, 0][..], "an indefinite length, which DER has not"),
        (&[0x30, 0x85, 1, 0, 0, 0, 0], "a length too long to be true"),
        (&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff], "cut short"),
        (&[0x30, 0x82, 0x01], "a length too long to be true"),
        (&[0x30, 0x03, 0x30], "cut short"),
        (&[0x3f, 0x01, 0x00], "a tag of the high-number form"),
        (&[0x31, 0x00], "the certificate is not a SEQUENCE"),
        (&[0x30, 0x00], "cut short"),
    ] {
        assert_eq!(parse(der), Err(BadCertificate(why)), "{der:02x?}");
    }
}

#[test]
fn names_escape_control_characters_and_say_unknown_types_as_numbers() {
    // SET { SEQUENCE { OID 1.2.3.4, UTF8String "a\x1b[2Jb" } }, then
    // SET { SEQUENCE { OID CN, BMPString "é" }, SEQUENCE { OID O, OCTET STRING 01 } }.
    let der = [
        0x31, 0x0f, 0x30, 0x0d, 0x06, 0x03, 0x2a, 0x03, 0x04, 0x0c, 0x06, b'a', 0x1b, b'[', b'2', b'J', b'b', 0x31,
        0x14, 0x30, 0x09, 0x06, 0x03, 0x55, 0x04, 0x03, 0x1e, 0x02, 0x00, 0xe9, 0x30, 0x07, 0x06, 0x03, 0x55, 0x04,
        0x0a, 0x04, 0x01,
    ];
    // The OCTET STRING of the last attribute says 1 byte and has none.
    assert!(name(&der).is_err());
    let der = [
        0x31, 0x0f, 0x30, 0x0d, 0x06, 0x03, 0x2a, 0x03, 0x04, 0x0c, 0x06, b'a', 0x1b, b'[', b'2', b'J', b'b', 0x31,
        0x15, 0x30, 0x09, 0x06, 0x03, 0x55, 0x04, 0x03, 0x1e, 0x02, 0x00, 0xe9, 0x30, 0x08, 0x06, 0x03, 0x55, 0x04,
        0x0a, 0x04, 0x01, 0x01,
    ];
    assert_eq!(name(&der), Ok("1.2.3.4=a\\u{1b}[2Jb, CN=é+O=#01".to_string()));
    assert_eq!(
        dotted(&[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d]),
        Ok("1.2.840.113549".into())
    );
    assert!(dotted(&[0x2a, 0x86]).is_err());
    assert!(dotted(&[]).is_err());
    assert!(dotted(&[0xff; 12]).is_err());
}

#[cfg(feature = "tls")]
#[test]
fn certificates_rcgen_makes_read_as_made() {
    use rcgen::{CertificateParams, DnType, KeyPair};
    let mut params =
        CertificateParams::new(vec!["localhost".into(), "10.0.0.1".into(), "*.localhost".into()]).expect("params");
    params.distinguished_name = rcgen::DistinguishedName::new();
    params.distinguished_name.push(DnType::CommonName, "localhost");
    params.distinguished_name.push(DnType::OrganizationName, "hangup");
    params.not_before = rcgen::date_time_ymd(2020, 1, 2);
    params.not_after = rcgen::date_time_ymd(2060, 3, 4);
    let key = KeyPair::generate().expect("key");
    let cert = params.self_signed(&key).expect("certificate");
    let read = parse(cert.der()).expect("read");
    assert_eq!(read.subject, "CN=localhost, O=hangup");
    assert!(read.self_issued);
    let names: Vec<String> = read.names.iter().map(ToString::to_string).collect();
    assert_eq!(names, ["localhost", "10.0.0.1", "*.localhost"]);
    assert_eq!(read.not_before.to_string(), "2020-01-02 00:00:00 UTC");
    assert_eq!(read.not_after.to_string(), "2060-03-04 00:00:00 UTC");
}

proptest! {
    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = parse(&bytes);
        let _ = name(&bytes);
        let _ = alt_names(&bytes);
    }

    #[test]
    fn a_real_certificate_edited_anywhere_never_panics(
        edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..6),
        cut in any::<usize>(),
    ) {
        let mut der = openssl();
        for (at, byte) in edits {
            let at = at % der.len();
            der[at] = byte;
        }
        der.truncate(cut % (der.len() + 1));
        if let Ok(cert) = parse(&der) {
            // Whatever was read is bounded by what came.
            prop_assert!(cert.subject.len() + cert.issuer.len() <= 8 * der.len());
            prop_assert!(cert.names.len() <= der.len());
            prop_assert!(!cert.subject.chars().any(char::is_control));
        }
    }
}
