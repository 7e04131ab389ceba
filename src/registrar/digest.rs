//! HTTP digest authentication as SIP uses it (RFC 3261 §22.4, RFC 7616; SHA-256 per RFC 8760).
//!
//! The server challenges with a nonce it can check without storing it: the nonce carries its
//! issue time and a keyed hash of it and of the address it was issued to, so any node that
//! shares the secret accepts it until it expires, only from that address, and an expired but
//! genuine nonce gets `stale=true` (the phone retries silently).
//!
//! Replays: a captured `Authorization` is worthless elsewhere (the nonce is bound to its
//! address) and worthless again from the same address, because [`NonceCounts`] remembers the
//! highest `nc` used with each nonce (RFC 7616 §3.4: it must increase), and a nonce without
//! `qop` may be used once.

use std::fmt::Write as _;
use std::net::IpAddr;

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

    /// HA1 of RFC 7616 §3.4.2: the hash of `username:realm:password`, all a server needs to
    /// keep to check a digest.
    pub fn ha1(self, username: &str, realm: &str, password: &str) -> String {
        self.hex(&format!("{username}:{realm}:{password}"))
    }

    fn parse(name: &str) -> Option<Algorithm> {
        match name.to_ascii_uppercase().as_str() {
            "MD5" => Some(Algorithm::Md5),
            "SHA-256" => Some(Algorithm::Sha256),
            _ => None,
        }
    }
}

/// What the server keeps to check a user's digest: the password itself, or only its HA1 for
/// each algorithm (so that a file of seats need not hold passwords; a seat with only one HA1
/// is challenged with that algorithm alone).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Secret {
    /// The password in clear.
    Password(String),
    /// Lower-case hex HA1 values for the server's realm.
    Ha1 {
        md5: Option<String>,
        sha256: Option<String>,
    },
}

impl Secret {
    /// HA1 for `algorithm`, when this secret can give one.
    pub fn ha1(&self, algorithm: Algorithm, username: &str, realm: &str) -> Option<String> {
        match (self, algorithm) {
            (Secret::Password(p), alg) => Some(alg.ha1(username, realm, p)),
            (Secret::Ha1 { md5, .. }, Algorithm::Md5) => md5.clone(),
            (Secret::Ha1 { sha256, .. }, Algorithm::Sha256) => sha256.clone(),
        }
    }

    /// Does `password` match (a sign-in form's check, for a seat that keeps only HA1)?
    /// Compared in constant time, on the best algorithm this secret holds.
    pub fn matches_password(&self, username: &str, realm: &str, password: &str) -> bool {
        self.algorithms(false).first().is_some_and(|&alg| {
            self.ha1(alg, username, realm)
                .is_some_and(|kept| constant_time_eq(&kept, &alg.ha1(username, realm, password)))
        })
    }

    /// The algorithms to challenge with, best first: both, or those this secret can check
    /// (MD5 only when `md5_only`, for clients that read only the first challenge).
    pub fn algorithms(&self, md5_only: bool) -> Vec<Algorithm> {
        [Algorithm::Sha256, Algorithm::Md5]
            .into_iter()
            .filter(|&a| !(md5_only && a == Algorithm::Sha256))
            .filter(|&a| self.ha1(a, "", "").is_some())
            .collect()
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
    #[error("nonce count {nc} was used already with this nonce (a replay)")]
    Replayed { nc: u32 },
    #[error("nonce count {0:?} is not 8 hex digits")]
    BadNonceCount(String),
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

    /// The algorithm the client used (MD5 when it names none).
    pub fn algorithm(&self) -> Result<Algorithm, DigestError> {
        match &self.algorithm {
            None => Ok(Algorithm::Md5),
            Some(name) => {
                Algorithm::parse(name).ok_or_else(|| DigestError::Algorithm(name.clone()))
            }
        }
    }

    /// The response a client with `password` would compute for `method` (also used by test
    /// clients).
    pub fn expected_response(&self, method: &str, password: &str) -> Result<String, DigestError> {
        let alg = self.algorithm()?;
        self.response_from_ha1(method, &alg.ha1(&self.username, &self.realm, password))
    }

    /// The response for `method` from the user's HA1 (what the server compares against).
    pub fn response_from_ha1(&self, method: &str, ha1: &str) -> Result<String, DigestError> {
        let alg = self.algorithm()?;
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

    /// A fresh nonce for a challenge at `now` (Unix seconds) to a client at `client`.
    /// Each nonce is unique (a random part), so that two phones challenged in the same second
    /// never share one and its counts.
    pub fn nonce(&self, now: i64, client: IpAddr) -> String {
        let stamp = format!("{now:x}-{:016x}", rand::random::<u64>());
        format!("{stamp}.{}", self.seal(&stamp, client))
    }

    /// Challenges with `algorithms`, in their order (clients take the first they support:
    /// SHA-256 first, see [`Secret::algorithms`]).
    pub fn challenges(
        &self,
        now: i64,
        client: IpAddr,
        stale: bool,
        algorithms: &[Algorithm],
    ) -> Vec<Challenge> {
        let nonce = self.nonce(now, client);
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

    /// Checks credentials for `method` from `client` against the user's `secret` at `now`.
    /// (Whether the nonce count is fresh is [`NonceCounts`]' part.)
    pub fn verify(
        &self,
        creds: &Credentials,
        method: &str,
        secret: &Secret,
        client: IpAddr,
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
        if !constant_time_eq(seal, &self.seal(stamp, client)) {
            return Err(DigestError::ForgedNonce);
        }
        let issued = stamp
            .split_once('-')
            .and_then(|(time, _)| i64::from_str_radix(time, 16).ok())
            .ok_or(DigestError::ForgedNonce)?;
        // The response is checked first: a stale nonce with a wrong password is still wrong.
        let ha1 = secret
            .ha1(creds.algorithm()?, &creds.username, &self.realm)
            .ok_or(DigestError::WrongResponse)?;
        let expected = creds.response_from_ha1(method, &ha1)?;
        if !constant_time_eq(&expected, &creds.response.to_ascii_lowercase()) {
            return Err(DigestError::WrongResponse);
        }
        if now - issued > self.lifetime_secs || issued > now + 5 {
            return Err(DigestError::StaleNonce);
        }
        Ok(())
    }

    /// How long a nonce lasts.
    pub fn lifetime_secs(&self) -> i64 {
        self.lifetime_secs
    }

    fn seal(&self, stamp: &str, client: IpAddr) -> String {
        Algorithm::Sha256.hex(&format!(
            "{}:{}:{}:{}",
            self.secret, self.realm, stamp, client
        ))[..32]
            .to_string()
    }
}

/// Nonces remembered at most; past it the oldest half is forgotten (their clients are then
/// challenged afresh with `stale=true`, which phones answer silently).
const MAX_NONCES: usize = 200_000;

/// The highest nonce count used with each live nonce: a request that does not count up is a
/// replay. Entries go when their nonce expires.
#[derive(Debug, Clone, Default)]
pub struct NonceCounts {
    used: std::collections::HashMap<String, (i64, u32)>,
}

impl NonceCounts {
    /// An empty ledger.
    pub fn new() -> NonceCounts {
        NonceCounts::default()
    }

    /// Records the use of verified `creds` at `now`; refuses a count that does not increase
    /// (and a second use of a nonce without `qop`, which has no count). Nonces older than
    /// `lifetime_secs` are forgotten (the keeper refuses them as stale anyway).
    pub fn record(
        &mut self,
        creds: &Credentials,
        now: i64,
        lifetime_secs: i64,
    ) -> Result<(), DigestError> {
        let nc = match (&creds.qop, &creds.nc) {
            (None, _) => 1,
            (Some(_), Some(nc)) => match u32::from_str_radix(nc, 16) {
                Ok(n) if nc.len() == 8 && n > 0 => n,
                _ => return Err(DigestError::BadNonceCount(nc.clone())),
            },
            (Some(_), None) => return Err(DigestError::Missing("nc")),
        };
        if self.used.len() >= MAX_NONCES {
            self.used
                .retain(|_, (first, _)| now - *first <= lifetime_secs);
            if self.used.len() >= MAX_NONCES {
                let mut firsts: Vec<i64> = self.used.values().map(|(f, _)| *f).collect();
                firsts.sort_unstable();
                let cut = firsts[firsts.len() / 2];
                self.used.retain(|_, (first, _)| *first > cut);
            }
        }
        match self.used.get_mut(&creds.nonce) {
            Some((_, last)) if nc <= *last => Err(DigestError::Replayed { nc }),
            Some((_, last)) => {
                *last = nc;
                Ok(())
            }
            None => {
                self.used.insert(creds.nonce.clone(), (now, nc));
                Ok(())
            }
        }
    }

    /// Nonces remembered now.
    pub fn len(&self) -> usize {
        self.used.len()
    }

    /// True when no nonce is remembered.
    pub fn is_empty(&self) -> bool {
        self.used.is_empty()
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

    /// The test user's password, kept in clear.
    fn pw() -> Secret {
        Secret::Password("pw".into())
    }

    #[test]
    fn an_ha1_checks_as_the_password_does_and_limits_the_challenges() {
        let keeper = NonceKeeper::new("hotline12345", "s3cret", 300);
        let client = ip("127.0.0.1");
        let nonce = keeper.nonce(1_000_000, client);
        let both = Secret::Ha1 {
            md5: Some(Algorithm::Md5.ha1("u", "hotline12345", "pw")),
            sha256: Some(Algorithm::Sha256.ha1("u", "hotline12345", "pw")),
        };
        let sha_only = Secret::Ha1 {
            md5: None,
            sha256: Some(Algorithm::Sha256.ha1("u", "hotline12345", "pw")),
        };
        for alg in ["MD5", "SHA-256"] {
            let mut good = signed(&keeper, &nonce, alg, "pw");
            good.username = "u".into();
            good.response = good.expected_response("REGISTER", "pw").unwrap();
            assert_eq!(
                keeper.verify(&good, "REGISTER", &both, client, 1_000_001),
                Ok(())
            );
            let mut bad = good.clone();
            bad.response = bad.expected_response("REGISTER", "nope").unwrap();
            assert_eq!(
                keeper.verify(&bad, "REGISTER", &both, client, 1_000_001),
                Err(DigestError::WrongResponse)
            );
        }
        // Without an MD5 HA1, an MD5 answer cannot be right, and MD5 is never offered.
        let mut md5 = signed(&keeper, &nonce, "MD5", "pw");
        md5.username = "u".into();
        md5.response = md5.expected_response("REGISTER", "pw").unwrap();
        assert_eq!(
            keeper.verify(&md5, "REGISTER", &sha_only, client, 1_000_001),
            Err(DigestError::WrongResponse)
        );
        assert_eq!(sha_only.algorithms(false), [Algorithm::Sha256]);
        assert!(sha_only.algorithms(true).is_empty());
        assert_eq!(both.algorithms(false), [Algorithm::Sha256, Algorithm::Md5]);
        assert_eq!(pw().algorithms(true), [Algorithm::Md5]);
        assert!(sha_only.matches_password("u", "hotline12345", "pw"));
        assert!(!sha_only.matches_password("u", "hotline12345", "pW"));
        assert!(!sha_only.matches_password("v", "hotline12345", "pw"));
        assert!(pw().matches_password("anyone", "hotline12345", "pw"));
        // HA1 is H(username:realm:password) (here as Python's hashlib computes it).
        assert_eq!(
            Algorithm::Md5.ha1("Mufasa", "http-auth@example.org", "Circle of Life"),
            "3d78807defe7de2157e2b0b6573a855f"
        );
    }

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

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn nonce_counts_must_increase_and_a_nonce_without_qop_is_used_once() {
        let keeper = NonceKeeper::new("hotline12345", "s3cret", 300);
        let nonce = keeper.nonce(1_000_000, ip("192.0.2.1"));
        let mut counts = NonceCounts::new();
        let mut c = signed(&keeper, &nonce, "SHA-256", "pw");
        assert_eq!(counts.record(&c, 1_000_001, 300), Ok(()));
        assert_eq!(
            counts.record(&c, 1_000_002, 300),
            Err(DigestError::Replayed { nc: 1 }),
            "the same request again is a replay"
        );
        c.nc = Some("00000003".into());
        assert_eq!(
            counts.record(&c, 1_000_003, 300),
            Ok(()),
            "counting up is fine"
        );
        c.nc = Some("00000002".into());
        assert_eq!(
            counts.record(&c, 1_000_004, 300),
            Err(DigestError::Replayed { nc: 2 })
        );
        c.nc = Some("zz".into());
        assert_eq!(
            counts.record(&c, 1_000_004, 300),
            Err(DigestError::BadNonceCount("zz".into()))
        );
        let mut old = signed(&keeper, &nonce, "MD5", "pw");
        old.nonce = keeper.nonce(1_000_010, ip("192.0.2.1"));
        old.qop = None;
        old.nc = None;
        assert_eq!(counts.record(&old, 1_000_010, 300), Ok(()));
        assert!(counts.record(&old, 1_000_011, 300).is_err());
        assert_eq!(counts.len(), 2);
    }

    #[test]
    fn a_nonce_is_good_only_from_the_address_it_was_issued_to() {
        let keeper = NonceKeeper::new("hotline12345", "s3cret", 300);
        let nonce = keeper.nonce(1_000_000, ip("192.0.2.1"));
        let good = signed(&keeper, &nonce, "SHA-256", "pw");
        assert_eq!(
            keeper.verify(&good, "REGISTER", &pw(), ip("192.0.2.1"), 1_000_001),
            Ok(())
        );
        assert_eq!(
            keeper.verify(&good, "REGISTER", &pw(), ip("192.0.2.2"), 1_000_001),
            Err(DigestError::ForgedNonce)
        );
    }

    #[test]
    fn right_password_wrong_password_forged_and_stale_nonces() {
        let keeper = NonceKeeper::new("hotline12345", "s3cret", 300);
        let client = ip("127.0.0.1");
        let nonce = keeper.nonce(1_000_000, client);
        for alg in ["MD5", "SHA-256"] {
            let good = signed(&keeper, &nonce, alg, "pw");
            assert_eq!(
                keeper.verify(&good, "REGISTER", &pw(), client, 1_000_100),
                Ok(())
            );
            let bad = signed(&keeper, &nonce, alg, "nope");
            assert_eq!(
                keeper.verify(&bad, "REGISTER", &pw(), client, 1_000_100),
                Err(DigestError::WrongResponse)
            );
            assert_eq!(
                keeper.verify(&good, "REGISTER", &pw(), client, 1_000_301),
                Err(DigestError::StaleNonce)
            );
        }
        let other = NonceKeeper::new("hotline12345", "other-secret", 300);
        let forged = signed(&keeper, &other.nonce(1_000_000, client), "MD5", "pw");
        assert_eq!(
            keeper.verify(&forged, "REGISTER", &pw(), client, 1_000_001),
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
        let any = ip("127.0.0.1");
        let ch =
            &NonceKeeper::new("r", "s", 60).challenges(0, any, true, &pw().algorithms(false))[0];
        let only = NonceKeeper::new("r", "s", 60).challenges(0, any, false, &pw().algorithms(true));
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
