//! Certificates and signing requests (`certificate.*`): importing a certificate, creating a
//! CSR, importing a CSR, having ACME sign a CSR through DNS authenticators, renaming, and
//! deleting (never the web UI's certificate). The query entry is built in
//! `certificate_entry.rs`; the DNS authenticators live in `acme.rs`.

use std::collections::BTreeMap;

use regex::Regex;
use serde_json::{Map, Value, json};

use crate::failure::{Failure, Invalid};
use crate::network::interface::invalid;
use crate::system::acme::Authenticators;
use crate::system::certificate_entry::{extension_texts, now_secs, pem};

const DAY: u64 = 86_400;

/// A certificate (imported or ACME-issued) or a signing request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CertKind {
    Existing,
    Csr,
}

/// The subject's distinguished name parts.
#[derive(Debug, Clone, Default)]
pub(crate) struct Subject {
    pub(crate) country: Option<String>,
    pub(crate) state: Option<String>,
    pub(crate) city: Option<String>,
    pub(crate) organization: Option<String>,
    pub(crate) organizational_unit: Option<String>,
    pub(crate) common: Option<String>,
    pub(crate) email: Option<String>,
}

/// One certificate or CSR.
#[derive(Debug, Clone)]
pub(crate) struct Certificate {
    pub(crate) id: i64,
    pub(crate) name: String,
    pub(crate) kind: CertKind,
    pub(crate) certificate: Option<String>,
    pub(crate) privatekey: Option<String>,
    pub(crate) csr: Option<String>,
    pub(crate) acme_uri: Option<String>,
    pub(crate) domains_authenticators: Option<Map<String, Value>>,
    pub(crate) renew_days: Option<i64>,
    pub(crate) add_to_trusted_store: bool,
    pub(crate) subject: Subject,
    pub(crate) san: Vec<String>,
    pub(crate) key_type: String,
    pub(crate) key_length: Option<i64>,
    pub(crate) digest_algorithm: String,
    /// Not before / not after, in seconds since the epoch (certificates only).
    pub(crate) validity: Option<(u64, u64)>,
    pub(crate) serial: i64,
    pub(crate) extensions: Map<String, Value>,
}

/// Every certificate of the simulated NAS.
#[derive(Debug)]
pub(crate) struct Certificates {
    pub(crate) certs: BTreeMap<i64, Certificate>,
    next_id: i64,
    /// The certificate the web UI serves; it cannot be deleted.
    pub(crate) ui_certificate: i64,
}

pub(crate) fn certificate_not_found(id: i64) -> Failure {
    Failure::not_found(format!("Certificate {id} does not exist"))
}

fn text(data: &Map<String, Value>, key: &str) -> Option<String> {
    data.get(key).and_then(Value::as_str).map(str::to_string)
}

impl Certificates {
    pub(crate) fn get(&self, id: i64) -> Result<&Certificate, Failure> {
        self.certs.get(&id).ok_or_else(|| certificate_not_found(id))
    }

    pub(crate) fn entries(&self) -> Vec<Value> {
        self.certs.values().map(Certificate::entry).collect()
    }

    /// Checks a create call (with defaults filled in) against the store and the DNS
    /// authenticators; returns the certificate to add once the job has "worked".
    pub(crate) fn plan_create(&self, data: &Map<String, Value>, acme: &Authenticators) -> Result<Certificate, Failure> {
        let schema = "certificate_create";
        let mut problems: Vec<Invalid> = Vec::new();
        let name = text(data, "name").unwrap_or_default();
        if !Regex::new("^[A-Za-z0-9_-]+$").is_ok_and(|re| re.is_match(&name)) {
            problems.push(invalid(schema, "name", "Name can only contain alphanumeric characters, '_' and '-'."));
        } else if self.certs.values().any(|c| c.name == name) {
            problems.push(invalid(schema, "name", "A certificate with this name already exists"));
        }
        let create_type = text(data, "create_type").unwrap_or_default();
        let pem_field = |key: &str, label: &str, problems: &mut Vec<Invalid>| match text(data, key) {
            None => problems.push(invalid(schema, key, "This field is required")),
            Some(v) if !v.trim_start().starts_with("-----BEGIN") || !v.contains(label) => {
                problems.push(invalid(schema, key, &format!("Not a valid {}", label.to_lowercase())))
            }
            Some(_) => {}
        };
        let mut cert = self.blank(&name, data);
        match create_type.as_str() {
            "CERTIFICATE_CREATE_IMPORTED" => {
                pem_field("certificate", "CERTIFICATE", &mut problems);
                pem_field("privatekey", "PRIVATE KEY", &mut problems);
                cert.certificate = text(data, "certificate");
                cert.privatekey = text(data, "privatekey");
                cert.subject.common = cert.subject.common.or_else(|| Some(name.clone()));
                let now = now_secs();
                cert.validity = Some((now - DAY, now + 364 * DAY));
            }
            "CERTIFICATE_CREATE_CSR" => {
                cert.kind = CertKind::Csr;
                cert.privatekey = Some(pem("PRIVATE KEY", &format!("{name}-key")));
                cert.csr = Some(pem("CERTIFICATE REQUEST", &format!("{name}-csr")));
            }
            "CERTIFICATE_CREATE_IMPORTED_CSR" => {
                pem_field("CSR", "CERTIFICATE REQUEST", &mut problems);
                pem_field("privatekey", "PRIVATE KEY", &mut problems);
                cert.kind = CertKind::Csr;
                cert.csr = text(data, "CSR");
                cert.privatekey = text(data, "privatekey");
            }
            "CERTIFICATE_CREATE_ACME" => return self.plan_acme(cert, data, acme, problems),
            other => problems.push(invalid(schema, "create_type", &format!("Unknown create type {other}"))),
        }
        if !problems.is_empty() {
            return Err(Failure::Validation(problems));
        }
        Ok(cert)
    }

    /// A certificate of `name` with the subject, key and extension fields of the call.
    fn blank(&self, name: &str, data: &Map<String, Value>) -> Certificate {
        let key_type = text(data, "key_type").unwrap_or_else(|| "RSA".into());
        let key_length = match key_type.as_str() {
            "RSA" => Some(data.get("key_length").and_then(Value::as_i64).unwrap_or(2048)),
            _ => None,
        };
        Certificate {
            id: 0,
            name: name.to_string(),
            kind: CertKind::Existing,
            certificate: None,
            privatekey: None,
            csr: None,
            acme_uri: None,
            domains_authenticators: None,
            renew_days: None,
            add_to_trusted_store: data.get("add_to_trusted_store").and_then(Value::as_bool).unwrap_or(false),
            subject: Subject {
                country: text(data, "country"),
                state: text(data, "state"),
                city: text(data, "city"),
                organization: text(data, "organization"),
                organizational_unit: text(data, "organizational_unit"),
                common: text(data, "common"),
                email: text(data, "email"),
            },
            san: data
                .get("san")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect(),
            key_type,
            key_length,
            digest_algorithm: text(data, "digest_algorithm").unwrap_or_else(|| "SHA256".into()),
            validity: None,
            serial: 0,
            extensions: extension_texts(data.get("cert_extensions")),
        }
    }

    /// ACME: an existing CSR, accepted terms of service, and an existing authenticator for
    /// every domain of the CSR.
    fn plan_acme(
        &self,
        mut cert: Certificate,
        data: &Map<String, Value>,
        acme: &Authenticators,
        mut problems: Vec<Invalid>,
    ) -> Result<Certificate, Failure> {
        let schema = "certificate_create";
        if data.get("tos").and_then(Value::as_bool) != Some(true) {
            problems.push(invalid(schema, "tos", "Please accept the terms of service"));
        }
        let Some(uri) = text(data, "acme_directory_uri") else {
            problems.push(invalid(schema, "acme_directory_uri", "This field is required"));
            return Err(Failure::Validation(problems));
        };
        let csr = data
            .get("csr_id")
            .and_then(Value::as_i64)
            .and_then(|id| self.certs.get(&id))
            .filter(|c| c.kind == CertKind::Csr);
        let Some(csr) = csr else {
            problems.push(invalid(schema, "csr_id", "Please provide a valid csr_id"));
            return Err(Failure::Validation(problems));
        };
        let mapping = data.get("dns_mapping").and_then(Value::as_object).cloned().unwrap_or_default();
        let mut domains: Vec<String> = Vec::new();
        for domain in csr.subject.common.iter().chain(&csr.san) {
            if domain.parse::<std::net::IpAddr>().is_err() && !domains.contains(domain) {
                domains.push(domain.clone());
            }
        }
        let missing: Vec<&String> = domains.iter().filter(|d| !mapping.contains_key(d.as_str())).collect();
        if !missing.is_empty() {
            let list = missing.iter().map(|d| d.as_str()).collect::<Vec<_>>().join(", ");
            problems.push(invalid(
                schema,
                "dns_mapping",
                &format!("Please provide DNS authenticators for {list} domain(s)"),
            ));
        }
        for (domain, id) in &mapping {
            if id.as_i64().is_none_or(|id| acme.get(id).is_err()) {
                problems.push(invalid(
                    schema,
                    &format!("dns_mapping.{domain}"),
                    "Provided authenticator does not exist",
                ));
            }
        }
        if !problems.is_empty() {
            return Err(Failure::Validation(problems));
        }
        let now = now_secs();
        cert.kind = CertKind::Existing;
        cert.subject = csr.subject.clone();
        cert.san = csr.san.clone();
        cert.key_type = csr.key_type.clone();
        cert.key_length = csr.key_length;
        cert.privatekey = csr.privatekey.clone();
        cert.acme_uri = Some(uri);
        cert.domains_authenticators = Some(mapping);
        cert.renew_days = Some(data.get("renew_days").and_then(Value::as_i64).unwrap_or(10));
        cert.validity = Some((now, now + 90 * DAY));
        cert.extensions
            .insert("ExtendedKeyUsage".into(), json!("TLS Web Server Authentication, TLS Web Client Authentication"));
        Ok(cert)
    }

    /// Stores a planned certificate, giving it an id, a serial and (for certificates) its PEM.
    pub(crate) fn insert(&mut self, mut cert: Certificate) -> Result<i64, Failure> {
        if self.certs.values().any(|c| c.name == cert.name) {
            return Err(Failure::Validation(vec![invalid(
                "certificate_create",
                "name",
                "A certificate with this name already exists",
            )]));
        }
        let id = self.next_id;
        self.next_id += 1;
        cert.id = id;
        cert.serial = 0x1000 + id;
        if cert.kind == CertKind::Existing && cert.certificate.is_none() {
            cert.certificate = Some(pem("CERTIFICATE", &format!("{}-{id}", cert.name)));
        }
        self.certs.insert(id, cert);
        Ok(id)
    }

    /// `certificate.update`: name, renew_days and add_to_trusted_store.
    pub(crate) fn update(&mut self, id: i64, data: &Map<String, Value>) -> Result<(), Failure> {
        self.get(id)?;
        if let Some(name) = text(data, "name")
            && self.certs.values().any(|c| c.name == name && c.id != id)
        {
            return Err(Failure::Validation(vec![invalid(
                "certificate_update",
                "name",
                "A certificate with this name already exists",
            )]));
        }
        let cert = self.certs.get_mut(&id).ok_or_else(|| certificate_not_found(id))?;
        if let Some(name) = text(data, "name") {
            cert.name = name;
        }
        if let Some(days) = data.get("renew_days").and_then(Value::as_i64) {
            cert.renew_days = Some(days);
        }
        if let Some(trusted) = data.get("add_to_trusted_store").and_then(Value::as_bool) {
            cert.add_to_trusted_store = trusted;
        }
        Ok(())
    }

    /// What `certificate.delete` checks before its job removes the certificate.
    pub(crate) fn check_delete(&self, id: i64) -> Result<(), Failure> {
        self.get(id)?;
        if id == self.ui_certificate {
            return Err(Failure::fault("Certificate is being used by following service(s): Web UI"));
        }
        Ok(())
    }

    pub(crate) fn delete(&mut self, id: i64) -> Result<(), Failure> {
        self.check_delete(id)?;
        self.certs.remove(&id);
        Ok(())
    }

    /// Names of the certificates renewed through DNS authenticator `id`.
    pub(crate) fn using_authenticator(&self, id: i64) -> Vec<String> {
        self.certs
            .values()
            .filter(|c| c.domains_authenticators.as_ref().is_some_and(|m| m.values().any(|v| v.as_i64() == Some(id))))
            .map(|c| c.name.clone())
            .collect()
    }
}

/// The certificates of a fresh simulated NAS: the self-signed `truenas_default` the web UI
/// serves, a Let's Encrypt certificate for `nas.example.com` issued through the Cloudflare
/// authenticator, and the signing request it was issued from.
pub(crate) fn demo() -> Certificates {
    let now = now_secs();
    let data = |v: Value| v.as_object().cloned().unwrap_or_default();
    let mut store = Certificates { certs: BTreeMap::new(), next_id: 1, ui_certificate: 1 };
    let mut default = store.blank(
        "truenas_default",
        &data(json!({"country": "US", "state": "Tennessee", "city": "Maryville", "organization": "iXsystems",
            "common": "localhost", "email": "info@ixsystems.com", "san": ["localhost"]})),
    );
    default.privatekey = Some(pem("PRIVATE KEY", "truenas_default-key"));
    default.validity = Some((now - 200 * DAY, now + 197 * DAY));
    let mut letsencrypt = store.blank(
        "letsencrypt_nas",
        &data(json!({"key_type": "EC", "common": "nas.example.com", "san": ["nas.example.com"], "digest_algorithm": "SHA384"})),
    );
    letsencrypt.privatekey = Some(pem("PRIVATE KEY", "nas_csr-key"));
    letsencrypt.acme_uri = Some("https://acme-v02.api.letsencrypt.org/directory".into());
    letsencrypt.domains_authenticators = Some(data(json!({"nas.example.com": 1})));
    letsencrypt.renew_days = Some(10);
    letsencrypt.validity = Some((now - 30 * DAY, now + 60 * DAY));
    letsencrypt
        .extensions
        .insert("ExtendedKeyUsage".into(), json!("TLS Web Server Authentication, TLS Web Client Authentication"));
    let mut csr = store.blank(
        "nas_csr",
        &data(json!({"key_type": "EC", "common": "nas.example.com", "san": ["nas.example.com"], "country": "US",
            "organization": "Home Lab", "email": "admin@example.com"})),
    );
    csr.kind = CertKind::Csr;
    csr.privatekey = Some(pem("PRIVATE KEY", "nas_csr-key"));
    csr.csr = Some(pem("CERTIFICATE REQUEST", "nas_csr-csr"));
    for cert in [default, letsencrypt, csr] {
        if store.insert(cert).is_err() {
            tracing::error!("a seed certificate of the simulated NAS was refused");
        }
    }
    store
}

#[cfg(test)]
#[path = "certificate_tests.rs"]
mod tests;
