//! HTTP digest authentication as SIP uses it (RFC 3261 §22.4, RFC 7616; SHA-256 per RFC 8760).
//!
//! The server challenges with a nonce it can check without storing it: the nonce carries its
//! issue time and a keyed hash of it, so any node that shares the secret accepts it until it
//! expires, and an expired but genuine nonce gets `stale=true` (the phone retries silently).

use std::fmt::Write as _;

use md5::{Digest as _, Md5};
use sha2::Sha256;

/// Hash algorithms offered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    Md5,
    Sha256,
}

impl Algorithm {
    /// The name in headers.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Md5 => "MD5",
            Algorithm::Sha256 => "SHA-256",
        }
    }

    /// Lower-case hex of the hash of `data`.
    pub fn hex(self, data: &str) -> String {
        let bytes: Vec<u8> = match self {
            Algorithm::Md5 => Md5::digest(data.as_bytes()).to_vec(),
            Algorithm::Sha256 => Sha256::digest(data.as_bytes()).to_vec(),
        };
        let mut out = String::with_capacity(bytes.len() * 2);
        for b in bytes {
            let _ = write!(out, "{b:02x}");
        }
        out
    }

    fn parse(name: &str) -> Option<Algorithm> {
        match name.to_ascii_uppercase().as_str() {
            "MD5" => Some(Algorithm::Md5),
            "SHA-256" => Some(Algorithm::Sha256),
            _ => None,
        }
    }
}

/// What a client sent in `Authorization`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Credentials {
    pub username: String,
    pub realm: String,
    pub nonce: String,
    pub uri: String,
    pub response: String,
    pub algorithm: Option<String>,
    pub cnonce: Option<String>,
    pub nc: Option<String>,
    pub qop: Option<String>,
}

/// Why credentials were not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DigestError {
    #[error("not a Digest Authorization header")]
    NotDigest,
    #[error("Authorization lacks {0}")]
    Missing(&'static str),
    #[error("unsupported algorithm {0}")]
    Algorithm(String),
    #[error("unsupported qop {0}")]
    Qop(String),
    #[error("the realm is {expected}, not {got}")]
    Realm { expected: String, got: String },
    #[error("the nonce was not issued here")]
    ForgedNonce,
    #[error("the nonce has expired")]
    StaleNonce,
    #[error("wrong username or password")]
    WrongResponse,
}

impl Credentials {
    /// Parses the value of an `Authorization` header.
    pub fn parse(header: &str) -> Result<Credentials, DigestError> {
        let rest = header
            .trim()
            .strip_prefix("Digest")
            .or_else(|| header.trim().strip_prefix("digest"))
            .ok_or(DigestError::NotDigest)?;
        let mut c = Credentials::default();
        for (key, value) in params(rest) {
            match key.to_ascii_lowercase().as_str() {
                "username" => c.username = value,
                "realm" => c.realm = value,
                "nonce" => c.nonce = value,
                "uri" => c.uri = value,
                "response" => c.response = value,
                "algorithm" => c.algorithm = Some(value),
                "cnonce" => c.cnonce = Some(value),
                "nc" => c.nc = Some(value),
                "qop" => c.qop = Some(value),
                _ => {}
            }
        }
        for (field, name) in [
            (&c.username, "username"),
            (&c.nonce, "nonce"),
            (&c.uri, "uri"),
            (&c.response, "response"),
        ] {
            if field.is_empty() {
                return Err(DigestError::Missing(name));
            }
        }
        Ok(c)
    }

    /// The response a client with `password` would compute for `method` (what the server
    /// compares against; also used by test clients).
    pub fn expected_response(&self, method: &str, password: &str) -> Result<String, DigestError> {
        let alg = match &self.algorithm {
            None => Algorithm::Md5,
            Some(name) => {
                Algorithm::parse(name).ok_or_else(|| DigestError::Algorithm(name.clone()))?
            }
        };
        let ha1 = alg.hex(&format!("{}:{}:{}", self.username, self.realm, password));
        let ha2 = alg.hex(&format!("{}:{}", method, self.uri));
        match self.qop.as_deref() {
            None => Ok(alg.hex(&format!("{ha1}:{}:{ha2}", self.nonce))),
            Some("auth") => {
                let nc = self.nc.as_deref().ok_or(DigestError::Missing("nc"))?;
                let cnonce = self
                    .cnonce
                    .as_deref()
                    .ok_or(DigestError::Missing("cnonce"))?;
                Ok(alg.hex(&format!("{ha1}:{}:{nc}:{cnonce}:auth:{ha2}", self.nonce)))
            }
            Some(other) => Err(DigestError::Qop(other.to_string())),
        }
    }
}

/// Splits `a="b", c=d` into pairs, honouring quotes and backslash escapes.
fn params(s: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace() || *c == ',') {
            chars.next();
        }
        let key: String = chars.by_ref().take_while(|&c| c != '=').collect();
        if key.trim().is_empty() {
            return out;
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => value.extend(chars.next()),
                    '"' => break,
                    c => value.push(c),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == ',' {
                    break;
                }
                value.push(c);
                chars.next();
            }
        }
        out.push((key.trim().to_string(), value.trim().to_string()));
    }
}

/// A challenge to send in `WWW-Authenticate`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    pub realm: String,
    pub nonce: String,
    pub algorithm: Algorithm,
    pub stale: bool,
}

impl Challenge {
    /// The header value.
    pub fn header_value(&self) -> String {
        format!(
            "Digest realm=\"{}\", nonce=\"{}\", algorithm={}, qop=\"auth\"{}",
            self.realm,
            self.nonce,
            self.algorithm.name(),
            if self.stale { ", stale=true" } else { "" }
        )
    }
}

/// Issues and checks nonces without storing them.
#[derive(Debug, Clone)]
pub struct NonceKeeper {
    secret: String,
    realm: String,
    lifetime_secs: i64,
}

impl NonceKeeper {
    /// A keeper for `realm` whose nonces last `lifetime_secs`; `secret` must be random and may
    /// be shared by the nodes of a cluster.
    pub fn new(realm: &str, secret: &str, lifetime_secs: i64) -> NonceKeeper {
        NonceKeeper {
            secret: secret.to_string(),
            realm: realm.to_string(),
            lifetime_secs,
        }
    }

    /// The realm.
    pub fn realm(&self) -> &str {
        &self.realm
    }

    /// A fresh nonce for a challenge at `now` (Unix seconds).
    pub fn nonce(&self, now: i64) -> String {
        let stamp = format!("{now:x}");
        format!("{stamp}.{}", self.seal(&stamp))
    }

    /// Challenges with both algorithms, SHA-256 first (clients take the first they support),
    /// or MD5 only for clients that cannot do better.
    pub fn challenges(&self, now: i64, stale: bool, md5_only: bool) -> Vec<Challenge> {
        let nonce = self.nonce(now);
        let algorithms: &[Algorithm] = if md5_only {
            &[Algorithm::Md5]
        } else {
            &[Algorithm::Sha256, Algorithm::Md5]
        };
        algorithms
            .iter()
            .copied()
            .map(|algorithm| Challenge {
                realm: self.realm.clone(),
                nonce: nonce.clone(),
                algorithm,
                stale,
            })
            .collect()
    }

    /// Checks credentials for `method` against the user's `password` at `now`.
    pub fn verify(
        &self,
        creds: &Credentials,
        method: &str,
        password: &str,
        now: i64,
    ) -> Result<(), DigestError> {
        if creds.realm != self.realm {
            return Err(DigestError::Realm {
                expected: self.realm.clone(),
                got: creds.realm.clone(),
            });
        }
        let (stamp, seal) = creds
            .nonce
            .split_once('.')
            .ok_or(DigestError::ForgedNonce)?;
        if !constant_time_eq(seal, &self.seal(stamp)) {
            return Err(DigestError::ForgedNonce);
        }
        let issued = i64::from_str_radix(stamp, 16).map_err(|_| DigestError::ForgedNonce)?;
        // The response is checked first: a stale nonce with a wrong password is still wrong.
        let expected = creds.expected_response(method, password)?;
        if !constant_time_eq(&expected, &creds.response.to_ascii_lowercase()) {
            return Err(DigestError::WrongResponse);
        }
        if now - issued > self.lifetime_secs || issued > now + 5 {
            return Err(DigestError::StaleNonce);
        }
        Ok(())
    }

    fn seal(&self, stamp: &str) -> String {
        Algorithm::Sha256.hex(&format!("{}:{}:{}", self.secret, self.realm, stamp))[..32]
            .to_string()
    }
}

fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc2617_md5_example() {
        // RFC 2617 §3.5 (HTTP, qop=auth): the published response.
        let c = Credentials {
            username: "Mufasa".into(),
            realm: "testrealm@host.com".into(),
            nonce: "dcd98b7102dd2f0e8b11d0f600bfb0c093".into(),
            uri: "/dir/index.html".into(),
            response: String::new(),
            algorithm: None,
            cnonce: Some("0a4f113b".into()),
            nc: Some("00000001".into()),
            qop: Some("auth".into()),
        };
        assert_eq!(
            c.expected_response("GET", "Circle Of Life").unwrap(),
            "6629fae49393a05397450978507c4ef1"
        );
    }

    #[test]
    fn rfc7616_sha256_example() {
        // RFC 7616 §3.9.1, SHA-256.
        let c = Credentials {
            username: "Mufasa".into(),
            realm: "http-auth@example.org".into(),
            nonce: "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v".into(),
            uri: "/dir/index.html".into(),
            response: String::new(),
            algorithm: Some("SHA-256".into()),
            cnonce: Some("f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ".into()),
            nc: Some("00000001".into()),
            qop: Some("auth".into()),
        };
        assert_eq!(
            c.expected_response("GET", "Circle of Life").unwrap(),
            "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"
        );
    }

    fn signed(keeper: &NonceKeeper, nonce: &str, alg: &str, password: &str) -> Credentials {
        let mut c = Credentials {
            username: "op1001".into(),
            realm: keeper.realm().into(),
            nonce: nonce.into(),
            uri: "sip:127.0.0.1:5060".into(),
            response: String::new(),
            algorithm: Some(alg.into()),
            cnonce: Some("abc123".into()),
            nc: Some("00000001".into()),
            qop: Some("auth".into()),
        };
        c.response = c.expected_response("REGISTER", password).unwrap();
        c
    }

    #[test]
    fn right_password_wrong_password_forged_and_stale_nonces() {
        let keeper = NonceKeeper::new("hotline12345", "s3cret", 300);
        let nonce = keeper.nonce(1_000_000);
        for alg in ["MD5", "SHA-256"] {
            let good = signed(&keeper, &nonce, alg, "pw");
            assert_eq!(keeper.verify(&good, "REGISTER", "pw", 1_000_100), Ok(()));
            let bad = signed(&keeper, &nonce, alg, "nope");
            assert_eq!(
                keeper.verify(&bad, "REGISTER", "pw", 1_000_100),
                Err(DigestError::WrongResponse)
            );
            assert_eq!(
                keeper.verify(&good, "REGISTER", "pw", 1_000_301),
                Err(DigestError::StaleNonce)
            );
        }
        let other = NonceKeeper::new("hotline12345", "other-secret", 300);
        let forged = signed(&keeper, &other.nonce(1_000_000), "MD5", "pw");
        assert_eq!(
            keeper.verify(&forged, "REGISTER", "pw", 1_000_001),
            Err(DigestError::ForgedNonce)
        );
    }

    #[test]
    fn parses_what_phones_send() {
        let h = r#"Digest username="op1001", realm="hotline12345", nonce="5f.abc", uri="sip:10.0.0.1", response="deadbeef", algorithm=MD5, cnonce="x\"y", nc=00000001, qop=auth"#;
        let c = Credentials::parse(h).unwrap();
        assert_eq!(c.username, "op1001");
        assert_eq!(c.cnonce.as_deref(), Some("x\"y"));
        assert_eq!(c.nc.as_deref(), Some("00000001"));
        assert_eq!(c.qop.as_deref(), Some("auth"));
        assert_eq!(Credentials::parse("Basic abc"), Err(DigestError::NotDigest));
        assert_eq!(
            Credentials::parse("Digest username=\"a\""),
            Err(DigestError::Missing("nonce"))
        );
        let ch = &NonceKeeper::new("r", "s", 60).challenges(0, true, false)[0];
        let only = NonceKeeper::new("r", "s", 60).challenges(0, false, true);
        assert_eq!(only.len(), 1);
        assert_eq!(only[0].algorithm, Algorithm::Md5);
        assert!(ch
            .header_value()
            .starts_with("Digest realm=\"r\", nonce=\""));
        assert!(ch
            .header_value()
            .ends_with("algorithm=SHA-256, qop=\"auth\", stale=true"));
    }
}
