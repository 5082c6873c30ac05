//! The save format of the file store's counters: two slot files, [`SLOTS`], each holding one
//! whole save written in place over the older of the two, so that a save costs one write and one
//! `fdatasync` (no temporary file, no rename, no directory sync but the one after a slot file is
//! created). A save torn by a crash fails its checksum and is ignored: the other slot still holds
//! the save before it. Loading takes the valid slot with the highest save number.
//!
//! A slot: [`MAGIC`] (8 bytes), the save number and the document's length (little-endian
//! `u64` each), the SHA-256 of those and of the document (32 bytes), the document (the JSON the
//! store wrote as `counters.json` before), then zeros up to a multiple of [`PAGE`] bytes, so
//! that the file's size seldom changes and `fdatasync` seldom has metadata to write. Bytes past
//! the document are not read: a slot file keeps the tail of a longer save it once held.

use sha2::{Digest, Sha256};

/// The slot files, in the state directory.
pub const SLOTS: [&str; 2] = ["counters-a.slot", "counters-b.slot"];
/// What a slot starts with (its last byte is the slot format).
pub const MAGIC: [u8; 8] = *b"tnmcpct\x01";
/// The header's length: magic, save number, length, checksum.
pub const HEADER: usize = 8 + 8 + 8 + 32;
/// A slot is written padded to a multiple of this.
pub const PAGE: usize = 4096;

/// What one slot file holds.
#[derive(Debug, PartialEq, Eq)]
pub enum Slot<'a> {
    /// Nothing yet: an empty (or zero-filled) file, created but never written.
    Blank,
    /// A whole save.
    Saved {
        /// The save number: higher is newer.
        number: u64,
        /// The document saved.
        doc: &'a [u8],
    },
}

/// Makes `buffer` a slot holding save `number`: `buffer` holds [`HEADER`] bytes (any) followed
/// by the document; the header is filled in and zeros are added up to a multiple of [`PAGE`].
pub fn seal(number: u64, buffer: &mut Vec<u8>) {
    let Some(doc_len) = buffer.len().checked_sub(HEADER) else {
        // INVARIANT: the caller reserved the header; a short buffer is sealed as a torn slot.
        buffer.clear();
        return;
    };
    let len = u64::try_from(doc_len).unwrap_or(u64::MAX);
    let sum = checksum(number, len, buffer.get(HEADER..).unwrap_or_default());
    let header = [&MAGIC[..], &number.to_le_bytes(), &len.to_le_bytes(), &sum[..]].concat();
    buffer.splice(..HEADER, header);
    buffer.resize(buffer.len().div_ceil(PAGE) * PAGE, 0);
}

/// Reads one slot file's bytes. `Err` says why a file that was written holds no whole save
/// (torn by a crash, damaged, or not a slot).
pub fn decode(bytes: &[u8]) -> Result<Slot<'_>, String> {
    if bytes.iter().all(|b| *b == 0) {
        return Ok(Slot::Blank);
    }
    let Some((header, rest)) = bytes.split_first_chunk::<HEADER>() else {
        return Err(format!("{} bytes, too short for a header", bytes.len()));
    };
    let (magic, header) = split::<8>(header);
    if magic != MAGIC {
        return Err("not a counters slot".into());
    }
    let (number, header) = split::<8>(header);
    let (len, sum) = split::<8>(header);
    let (number, len) = (u64::from_le_bytes(number), u64::from_le_bytes(len));
    let doc = usize::try_from(len).ok().and_then(|len| rest.get(..len));
    let Some(doc) = doc else {
        return Err(format!("a document of {len} bytes does not fit in {} bytes (torn save)", rest.len()));
    };
    if checksum(number, len, doc)[..] != *sum {
        return Err(format!("save {number} fails its checksum (torn save)"));
    }
    Ok(Slot::Saved { number, doc })
}

/// The first `N` bytes of `bytes`, and the rest (zeros where `bytes` is shorter: never, for the
/// fixed header split above).
fn split<const N: usize>(bytes: &[u8]) -> ([u8; N], &[u8]) {
    let mut head = [0; N];
    let n = N.min(bytes.len());
    head[..n].copy_from_slice(&bytes[..n]);
    (head, &bytes[n..])
}

fn checksum(number: u64, len: u64, doc: &[u8]) -> [u8; 32] {
    let mut hash = Sha256::new();
    hash.update(MAGIC);
    hash.update(number.to_le_bytes());
    hash.update(len.to_le_bytes());
    hash.update(doc);
    hash.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sealed(number: u64, doc: &[u8]) -> Vec<u8> {
        let mut buffer = vec![0xff; HEADER];
        buffer.extend_from_slice(doc);
        seal(number, &mut buffer);
        buffer
    }

    #[test]
    fn a_sealed_slot_reads_back_padded_to_a_page() {
        let slot = sealed(7, br#"{"format":1}"#);
        assert_eq!(slot.len(), PAGE);
        assert_eq!(decode(&slot), Ok(Slot::Saved { number: 7, doc: br#"{"format":1}"# }));
        let big = sealed(8, &vec![b'x'; PAGE]);
        assert_eq!(big.len(), 2 * PAGE);
        assert_eq!(decode(&big), Ok(Slot::Saved { number: 8, doc: &vec![b'x'; PAGE][..] }));
    }

    #[test]
    fn a_shorter_save_over_a_longer_one_ignores_the_old_tail() {
        let mut file = sealed(1, &vec![b'y'; 3 * PAGE]);
        let short = sealed(2, b"{}");
        file[..short.len()].copy_from_slice(&short);
        assert_eq!(decode(&file), Ok(Slot::Saved { number: 2, doc: b"{}" }));
    }

    #[test]
    fn blank_files_are_not_saves_and_torn_or_foreign_ones_are_errors() {
        assert_eq!(decode(b""), Ok(Slot::Blank));
        assert_eq!(decode(&[0; PAGE]), Ok(Slot::Blank));
        let slot = sealed(3, br#"{"format":1,"counters":{}}"#);
        // Torn: the header written, the document not (zeros), or half of it.
        let mut torn = slot.clone();
        torn[HEADER + 5..].fill(0);
        assert!(decode(&torn).unwrap_err().contains("checksum"));
        assert!(decode(&slot[..HEADER + 3]).unwrap_err().contains("does not fit"));
        assert!(decode(&slot[..20]).unwrap_err().contains("too short"));
        // A flipped bit anywhere in the header or the document.
        for at in [9, 17, 30, HEADER + 1] {
            let mut bad = slot.clone();
            bad[at] ^= 1;
            assert!(decode(&bad).is_err(), "a flip at {at} went unseen");
        }
        let foreign = br#"{"format":1,"seq":12,"counters":{"vm_start":{"fixed":{"start_ms":0,"used":1}}}}"#;
        assert_eq!(decode(foreign), Err("not a counters slot".into()));
    }
}
