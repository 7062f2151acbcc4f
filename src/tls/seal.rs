//! An alert sealed with the connection's own keys: `tls alert NAME` after
//! the handshake, which rustls has no API for (it sends only the alerts
//! its own state machine decides on).
//!
//! After the handshake every record is encrypted, so an alert the client
//! can read must be too. rustls hands the keys out (`enable_secret_extraction`,
//! then `dangerous_extract_secrets`, which ends the rustls connection), and
//! ring's AEAD seals one record with them, as rustls itself would have
//! sealed the next one (`crypto/ring/tls12.rs`, `tls13.rs`):
//!
//! - the nonce is the write IV with the record's sequence number XORed
//!   into its last 8 bytes (RFC 8446 §5.3; rustls uses the same for TLS
//!   1.2's AES-GCM, sending the nonce's last 8 bytes as the explicit part);
//! - TLS 1.3 hides the type: the plaintext is the alert and then its real
//!   type (21), the record says application data (23), and the additional
//!   data is the record's header (RFC 8446 §5.2);
//! - TLS 1.2 says the type (21) and its additional data is the sequence
//!   number, type, version and plaintext length (RFC 5246 §6.2.3.3).

use ring::aead::{AES_128_GCM, AES_256_GCM, Aad, CHACHA20_POLY1305, LessSafeKey, Nonce, UnboundKey};
use rustls::{ConnectionTrafficSecrets, ProtocolVersion};

/// Content types (RFC 8446 §5.1).
const ALERT: u8 = 21;
const APPLICATION_DATA: u8 = 23;
/// Every record says TLS 1.2 (RFC 8446 §5.1's legacy_record_version).
const RECORD_VERSION: [u8; 2] = [3, 3];

/// The record that carries `alert` (its two bytes, level and
/// description), the `seq`th the connection writes with `secrets`.
pub fn alert_record(
    version: ProtocolVersion,
    seq: u64,
    secrets: &ConnectionTrafficSecrets,
    alert: [u8; 2],
) -> Result<Vec<u8>, String> {
    let (algorithm, key, iv) = match secrets {
        ConnectionTrafficSecrets::Aes128Gcm { key, iv } => (&AES_128_GCM, key.as_ref(), iv.as_ref()),
        ConnectionTrafficSecrets::Aes256Gcm { key, iv } => (&AES_256_GCM, key.as_ref(), iv.as_ref()),
        ConnectionTrafficSecrets::Chacha20Poly1305 { key, iv } => (&CHACHA20_POLY1305, key.as_ref(), iv.as_ref()),
        _ => return Err("the connection's cipher is not one hangup can seal an alert with".into()),
    };
    let key = LessSafeKey::new(UnboundKey::new(algorithm, key).map_err(|_| "the connection's key is unusable")?);
    let mut nonce = [0u8; 12];
    nonce.copy_from_slice(iv);
    for (byte, seq_byte) in nonce[4..].iter_mut().zip(seq.to_be_bytes()) {
        *byte ^= seq_byte;
    }
    let tag_len = algorithm.tag_len();
    let mut record = Vec::with_capacity(5 + 8 + 3 + tag_len);
    if version == ProtocolVersion::TLSv1_3 {
        let mut payload = vec![alert[0], alert[1], ALERT];
        let len = (payload.len() + tag_len) as u16;
        let header = [
            APPLICATION_DATA,
            RECORD_VERSION[0],
            RECORD_VERSION[1],
            (len >> 8) as u8,
            len as u8,
        ];
        key.seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(header), &mut payload)
            .map_err(|_| "the alert could not be sealed")?;
        record.extend_from_slice(&header);
        record.extend_from_slice(&payload);
        return Ok(record);
    }
    // TLS 1.2: AES-GCM sends the nonce's explicit part before the sealed
    // bytes; ChaCha20-Poly1305 sends none (RFC 7905).
    let explicit: &[u8] = if algorithm == &CHACHA20_POLY1305 {
        &[]
    } else {
        &nonce[4..]
    };
    let mut aad = [0u8; 13];
    aad[..8].copy_from_slice(&seq.to_be_bytes());
    aad[8] = ALERT;
    aad[9..11].copy_from_slice(&RECORD_VERSION);
    aad[11..].copy_from_slice(&2u16.to_be_bytes());
    let mut payload = alert.to_vec();
    key.seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(aad), &mut payload)
        .map_err(|_| "the alert could not be sealed")?;
    let len = (explicit.len() + payload.len()) as u16;
    record.extend_from_slice(&[ALERT, RECORD_VERSION[0], RECORD_VERSION[1], (len >> 8) as u8, len as u8]);
    record.extend_from_slice(explicit);
    record.extend_from_slice(&payload);
    Ok(record)
}
