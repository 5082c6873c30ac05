//! The `certificate.query` entry of a certificate or signing request, and the stand-ins for
//! what the middleware reads out of real X.509 data: PEM blocks, validity dates in OpenSSL's
//! text form, fingerprints, the subject's DN.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use time::macros::format_description;

use crate::system::certificate::{CertKind, Certificate};

/// `certificate.query`'s `type` for an imported or ACME-issued certificate, and for a CSR.
const CERT_TYPE_EXISTING: i64 = 0x08;
const CERT_TYPE_CSR: i64 = 0x20;

pub(crate) fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// A date as OpenSSL prints it, `Mon Mar  3 10:00:00 2025`.
fn openssl_date(secs: u64) -> Option<String> {
    let at = OffsetDateTime::from_unix_timestamp(i64::try_from(secs).ok()?).ok()?;
    at.format(format_description!(
        "[weekday repr:short] [month repr:short] [day padding:space] [hour]:[minute]:[second] [year]"
    ))
    .ok()
}

/// A PEM block whose body is derived from `seed` (the simulator has no real keys).
pub(crate) fn pem(label: &str, seed: &str) -> String {
    let mut bytes = Vec::new();
    let mut block = Sha256::digest(seed.as_bytes()).to_vec();
    while bytes.len() < 192 {
        bytes.extend_from_slice(&block);
        block = Sha256::digest(&block).to_vec();
    }
    let body = base64(&bytes);
    let lines: Vec<&str> = body.as_bytes().chunks(64).filter_map(|c| std::str::from_utf8(c).ok()).collect();
    format!("-----BEGIN {label}-----\n{}\n-----END {label}-----\n", lines.join("\n"))
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for (i, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> shift & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// `AB:CD:...`, the SHA-256 fingerprint TrueNAS shows (over the PEM text here).
fn fingerprint(pem: &str) -> String {
    Sha256::digest(pem.as_bytes()).iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(":")
}

impl Certificate {
    /// `/C=US/ST=.../CN=.../emailAddress=...`.
    fn dn(&self) -> String {
        let s = &self.subject;
        [
            ("C", &s.country),
            ("ST", &s.state),
            ("L", &s.city),
            ("O", &s.organization),
            ("OU", &s.organizational_unit),
            ("CN", &s.common),
            ("emailAddress", &s.email),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("/{k}={v}")))
        .collect()
    }

    /// The SAN list as the middleware shows it: `DNS:x` or `IP Address:y`.
    fn san_entries(&self) -> Vec<String> {
        self.san
            .iter()
            .map(|s| if s.parse::<std::net::IpAddr>().is_ok() { format!("IP Address:{s}") } else { format!("DNS:{s}") })
            .collect()
    }

    pub(crate) fn entry(&self) -> Value {
        let root = "/etc/certificates";
        let csr = self.kind == CertKind::Csr;
        let s = &self.subject;
        let mut extensions = self.extensions.clone();
        if !self.san.is_empty() {
            extensions.insert("SubjectAltName".into(), json!(self.san_entries().join(", ")));
        }
        let validity = self.validity.filter(|_| !csr);
        let from = validity.and_then(|(from, _)| openssl_date(from));
        let until = validity.and_then(|(_, until)| openssl_date(until));
        let subject_hash =
            Sha256::digest(self.dn().as_bytes()).iter().take(4).fold(0i64, |acc, b| acc << 8 | i64::from(*b));
        let mut entry = json!({
            "id": self.id,
            "type": if csr { CERT_TYPE_CSR } else { CERT_TYPE_EXISTING },
            "name": self.name,
            "certificate": self.certificate,
            "privatekey": self.privatekey,
            "CSR": self.csr,
            "acme_uri": self.acme_uri,
            "domains_authenticators": self.domains_authenticators.clone().map(Value::Object),
            "renew_days": self.renew_days,
            "acme": null,
            "add_to_trusted_store": self.add_to_trusted_store,
            "root_path": root,
            "certificate_path": if csr { Value::Null } else { json!(format!("{root}/{}.crt", self.name)) },
            "privatekey_path": format!("{root}/{}.key", self.name),
            "csr_path": if csr { json!(format!("{root}/{}.csr", self.name)) } else { Value::Null },
            "cert_type": "CERTIFICATE",
            "cert_type_existing": !csr,
            "cert_type_CSR": csr,
            "cert_type_CA": false,
        });
        let details = json!({
            "chain_list": self.certificate.iter().collect::<Vec<_>>(),
            "key_length": self.key_length,
            "key_type": self.key_type,
            "country": s.country,
            "state": s.state,
            "city": s.city,
            "organization": s.organization,
            "organizational_unit": s.organizational_unit,
            "common": s.common,
            "san": self.san_entries(),
            "email": s.email,
            "DN": self.dn(),
            "subject_name_hash": subject_hash,
            "extensions": Value::Object(extensions),
            "digest_algorithm": self.digest_algorithm,
            "lifetime": validity.map(|(from, until)| (until.saturating_sub(from)) / 86_400),
            "from": from,
            "until": until,
            "serial": if csr { Value::Null } else { json!(self.serial) },
            "chain": if csr { Value::Null } else { json!(self.acme_uri.is_some()) },
            "fingerprint": self.certificate.as_deref().map(fingerprint),
            "expired": validity.map(|(_, until)| until < now_secs()),
            "parsed": true,
        });
        if let (Some(entry), Value::Object(details)) = (entry.as_object_mut(), details) {
            entry.extend(details);
        }
        entry
    }
}

/// Extensions a CSR asks for, in the middleware's text form, from `cert_extensions`.
pub(crate) fn extension_texts(requested: Option<&Value>) -> Map<String, Value> {
    let mut out = Map::new();
    let Some(requested) = requested else { return out };
    if let Some(usage) = requested.get("ExtendedKeyUsage").filter(|u| u["enabled"] == true) {
        let names: Vec<&str> = usage["usages"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(|u| match u {
                "SERVER_AUTH" => "TLS Web Server Authentication",
                "CLIENT_AUTH" => "TLS Web Client Authentication",
                "CODE_SIGNING" => "Code Signing",
                "EMAIL_PROTECTION" => "E-mail Protection",
                other => other,
            })
            .collect();
        out.insert("ExtendedKeyUsage".into(), json!(names.join(", ")));
    }
    if requested.get("BasicConstraints").is_some_and(|b| b["enabled"] == true) {
        let ca = requested["BasicConstraints"]["ca"] == true;
        out.insert("BasicConstraints".into(), json!(format!("CA:{}", if ca { "TRUE" } else { "FALSE" })));
    }
    if requested.get("KeyUsage").is_some_and(|k| k["enabled"] == true) {
        out.insert("KeyUsage".into(), json!("Digital Signature, Key Encipherment"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_pads_like_the_standard() {
        assert_eq!(base64(b"Man"), "TWFu");
        assert_eq!(base64(b"Ma"), "TWE=");
        assert_eq!(base64(b"M"), "TQ==");
    }

    #[test]
    fn pem_blocks_have_64_column_bodies_and_labels() {
        let block = pem("CERTIFICATE", "x");
        assert!(block.starts_with("-----BEGIN CERTIFICATE-----\n"));
        assert!(block.ends_with("-----END CERTIFICATE-----\n"));
        assert!(block.lines().all(|l| l.len() <= 64 || l.starts_with("-----")));
        assert_eq!(block, pem("CERTIFICATE", "x"), "stable for a seed");
    }

    #[test]
    fn dates_print_like_openssl() {
        assert_eq!(openssl_date(1_741_000_000).as_deref(), Some("Mon Mar  3 11:06:40 2025"));
    }
}
