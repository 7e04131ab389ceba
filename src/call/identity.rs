//! Who is calling and what number they dialled, read from an INVITE.
//!
//! The caller is taken from P-Asserted-Identity when the network asserted one (RFC 3325: the
//! carrier's word is better than what the phone put in From), else from the From URI. The
//! called number is the Request-URI's user part (the To header is only a display copy).

use crate::sip::message;

/// The numbers of an incoming call, as written in the request (not yet normalised).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallIdentity {
    /// The number dialled: the Request-URI user part, e.g. `12345` or `087212345`.
    pub called: String,
    /// The caller's number, or an empty string for an anonymous caller.
    pub caller: String,
}

/// Reads caller and called numbers from an INVITE.
pub fn call_identity(request: &rsip::Request) -> CallIdentity {
    let called = message::request_uri_user(request).unwrap_or_default();
    let caller = message::asserted_identity_user(request)
        .or_else(|| message::from_user(request))
        .unwrap_or_default();
    let caller = if caller.eq_ignore_ascii_case("anonymous") {
        String::new()
    } else {
        caller
    };
    CallIdentity { called, caller }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invite(extra: &str) -> rsip::Request {
        let text = format!(
            "INVITE sip:087212345@127.0.0.1 SIP/2.0\r\n\
             Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKabc\r\n\
             From: \"Caller\" <sip:13888888888@127.0.0.1>;tag=1\r\n\
             To: <sip:12345@127.0.0.1>\r\n\
             Call-ID: id1\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\n{extra}Content-Length: 0\r\n\r\n"
        );
        rsip::Request::try_from(text.as_str()).unwrap()
    }

    #[test]
    fn called_number_comes_from_the_request_uri() {
        let id = call_identity(&invite(""));
        assert_eq!(id.called, "087212345");
        assert_eq!(id.caller, "13888888888");
    }

    #[test]
    fn asserted_identity_wins_over_from() {
        let id = call_identity(&invite(
            "P-Asserted-Identity: <sip:+8687163601234@carrier.example>\r\n",
        ));
        assert_eq!(id.caller, "+8687163601234");
    }

    #[test]
    fn anonymous_caller_has_no_number() {
        let text = "INVITE sip:12345@127.0.0.1 SIP/2.0\r\n\
             Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKabc\r\n\
             From: \"Anonymous\" <sip:anonymous@anonymous.invalid>;tag=1\r\n\
             To: <sip:12345@127.0.0.1>\r\n\
             Call-ID: id1\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";
        let id = call_identity(&rsip::Request::try_from(text).unwrap());
        assert_eq!(id.caller, "");
    }
}
