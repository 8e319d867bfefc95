//! AWS Signature Version 4 for request headers, as S3 wants it: the canonical request, the
//! string to sign, the signing key and the `Authorization` value. Pure: the caller passes the
//! time, the encoded path and the payload's hash, so every step is checked against AWS's
//! published test vectors (`tests` below).

pub use crate::digest::hex;
use crate::digest::hmac_sha256;
use sha2::{Digest, Sha256};

/// The one algorithm this module implements.
const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// The SHA-256 of an empty payload, as bodiless requests send it in `x-amz-content-sha256`.
pub const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// An access key: its id, the secret it signs with, and the session token of temporary
/// credentials (sent, and signed, as `x-amz-security-token`).
#[derive(Clone)]
pub struct Credentials {
    /// `AWS_ACCESS_KEY_ID`.
    pub access_key_id: String,
    /// `AWS_SECRET_ACCESS_KEY`.
    pub secret_access_key: String,
    /// `AWS_SESSION_TOKEN`, for temporary credentials.
    pub session_token: Option<String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the secret or the token.
        f.debug_struct("Credentials").field("access_key_id", &self.access_key_id).finish_non_exhaustive()
    }
}

/// One request as signing sees it.
#[derive(Clone, Debug)]
pub struct Request<'a> {
    /// `GET`, `PUT`, …
    pub method: &'a str,
    /// The path exactly as sent, already URI-encoded (see [`uri_encode`]).
    pub path: &'a str,
    /// Query parameters, not encoded; any order.
    pub query: &'a [(&'a str, &'a str)],
    /// The headers to sign, `host` included; any case and order.
    pub headers: &'a [(&'a str, &'a str)],
    /// Lowercase hex SHA-256 of the body (S3 also wants it sent as `x-amz-content-sha256`).
    pub payload_sha256: &'a str,
}

/// Where and when a signature is valid: `20150830T123600Z`, a region and a service (`s3`).
#[derive(Clone, Copy, Debug)]
pub struct Scope<'a> {
    /// The request time, `YYYYMMDDTHHMMSSZ`, as sent in `x-amz-date`.
    pub amz_date: &'a str,
    /// `us-east-1`, …
    pub region: &'a str,
    /// `s3`, …
    pub service: &'a str,
}

impl Scope<'_> {
    /// `YYYYMMDD`: the date part of `amz_date`.
    fn date(&self) -> &str {
        self.amz_date.get(..8).unwrap_or(self.amz_date)
    }

    /// `20150830/us-east-1/service/aws4_request`.
    pub fn credential_scope(&self) -> String {
        format!("{}/{}/{}/aws4_request", self.date(), self.region, self.service)
    }
}

/// URI-encodes `text` as SigV4 wants it: every byte but `A–Z a–z 0–9 - _ . ~` becomes `%XX`
/// (uppercase hex); `/` is kept when `keep_slash` (object key paths), encoded otherwise
/// (query parameters).
pub fn uri_encode(text: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for &byte in text.as_bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(byte as char),
            b'/' if keep_slash => out.push('/'),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

/// The query string as both sent and signed: encoded pairs sorted by key, then value.
pub fn canonical_query(query: &[(&str, &str)]) -> String {
    let mut pairs: Vec<(String, String)> =
        query.iter().map(|(k, v)| (uri_encode(k, false), uri_encode(v, false))).collect();
    pairs.sort();
    pairs.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&")
}

/// The canonical request and its signed-headers list (`host;x-amz-date`).
pub fn canonical_request(request: &Request) -> (String, String) {
    let mut headers: Vec<(String, String)> = request
        .headers
        .iter()
        .map(|(name, value)| (name.to_ascii_lowercase(), value.split_whitespace().collect::<Vec<_>>().join(" ")))
        .collect();
    headers.sort_by(|a, b| a.0.cmp(&b.0));
    // Repeated names become one line, values joined by commas in the order given.
    let mut merged: Vec<(String, String)> = Vec::with_capacity(headers.len());
    for (name, value) in headers {
        match merged.last_mut() {
            Some((last, values)) if *last == name => {
                values.push(',');
                values.push_str(&value);
            }
            _ => merged.push((name, value)),
        }
    }
    let canonical_headers: String = merged.iter().map(|(n, v)| format!("{n}:{v}\n")).collect();
    let signed_headers = merged.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(";");
    let canonical = format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        request.method,
        request.path,
        canonical_query(request.query),
        canonical_headers,
        signed_headers,
        request.payload_sha256
    );
    (canonical, signed_headers)
}

/// The string to sign: algorithm, time, credential scope and the canonical request's hash.
pub fn string_to_sign(scope: &Scope, canonical_request: &str) -> String {
    format!(
        "{ALGORITHM}\n{}\n{}\n{}",
        scope.amz_date,
        scope.credential_scope(),
        sha256_hex(canonical_request.as_bytes())
    )
}

/// The signing key: the secret HMAC-chained through date, region, service and `aws4_request`.
pub fn signing_key(secret_access_key: &str, scope: &Scope) -> [u8; 32] {
    let key = hmac_sha256(format!("AWS4{secret_access_key}").as_bytes(), scope.date().as_bytes());
    let key = hmac_sha256(&key, scope.region.as_bytes());
    let key = hmac_sha256(&key, scope.service.as_bytes());
    hmac_sha256(&key, b"aws4_request")
}

/// The `Authorization` header value for `request`.
pub fn authorization(credentials: &Credentials, scope: &Scope, request: &Request) -> String {
    let (canonical, signed_headers) = canonical_request(request);
    let signature = hex(&hmac_sha256(
        &signing_key(&credentials.secret_access_key, scope),
        string_to_sign(scope, &canonical).as_bytes(),
    ));
    format!(
        "{ALGORITHM} Credential={}/{}, SignedHeaders={signed_headers}, Signature={signature}",
        credentials.access_key_id,
        scope.credential_scope()
    )
}

/// Lowercase hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The credentials of AWS's SigV4 test suite (`aws-sig-v4-test-suite`).
    fn suite_credentials() -> Credentials {
        Credentials {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
            session_token: None,
        }
    }

    /// The credentials of the S3 API reference's SigV4 examples (`sig-v4-header-based-auth`).
    fn s3_credentials() -> Credentials {
        Credentials {
            access_key_id: "AKIAIOSFODNN7EXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into(),
            session_token: None,
        }
    }

    const SUITE: Scope = Scope { amz_date: "20150830T123600Z", region: "us-east-1", service: "service" };
    const S3: Scope = Scope { amz_date: "20130524T000000Z", region: "us-east-1", service: "s3" };

    /// Checks the canonical request (when given), the string to sign's last line (the
    /// canonical request's hash) and the whole `Authorization` value against a vector.
    fn check(
        credentials: &Credentials,
        scope: &Scope,
        request: &Request,
        creq: Option<&str>,
        creq_hash: &str,
        expected_authorization: &str,
    ) {
        let (canonical, _) = canonical_request(request);
        if let Some(creq) = creq {
            assert_eq!(canonical, creq, "canonical request");
        }
        let sts = string_to_sign(scope, &canonical);
        assert_eq!(sts.rsplit('\n').next(), Some(creq_hash), "string to sign:\n{sts}");
        assert_eq!(authorization(credentials, scope, request), expected_authorization);
    }

    fn suite_authorization(signed: &str, signature: &str) -> String {
        format!(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders={signed}, Signature={signature}"
        )
    }

    fn s3_authorization(signed: &str, signature: &str) -> String {
        format!(
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders={signed}, Signature={signature}"
        )
    }

    const VANILLA_HEADERS: &[(&str, &str)] = &[("Host", "example.amazonaws.com"), ("X-Amz-Date", "20150830T123600Z")];

    #[test]
    fn get_vanilla() {
        let request =
            Request { method: "GET", path: "/", query: &[], headers: VANILLA_HEADERS, payload_sha256: EMPTY_SHA256 };
        check(
            &suite_credentials(),
            &SUITE,
            &request,
            Some(
                "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            ),
            "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63",
            &suite_authorization("host;x-amz-date", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
        );
    }

    #[test]
    fn post_vanilla() {
        let request =
            Request { method: "POST", path: "/", query: &[], headers: VANILLA_HEADERS, payload_sha256: EMPTY_SHA256 };
        check(
            &suite_credentials(),
            &SUITE,
            &request,
            None,
            "553f88c9e4d10fc9e109e2aeb65f030801b70c2f6468faca261d401ae622fc87",
            &suite_authorization("host;x-amz-date", "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"),
        );
    }

    #[test]
    fn get_vanilla_query_order_key_case() {
        let query = [("Param2", "value2"), ("Param1", "value1")];
        let request =
            Request { method: "GET", path: "/", query: &query, headers: VANILLA_HEADERS, payload_sha256: EMPTY_SHA256 };
        check(
            &suite_credentials(),
            &SUITE,
            &request,
            Some(
                "GET\n/\nParam1=value1&Param2=value2\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            ),
            "816cd5b414d056048ba4f7c5386d6e0533120fb1fcfa93762cf0fc39e2cf19e0",
            &suite_authorization("host;x-amz-date", "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"),
        );
    }

    #[test]
    fn get_utf8_path_and_query() {
        let path = uri_encode("/\u{1234}", true);
        assert_eq!(path, "/%E1%88%B4");
        let request =
            Request { method: "GET", path: &path, query: &[], headers: VANILLA_HEADERS, payload_sha256: EMPTY_SHA256 };
        check(
            &suite_credentials(),
            &SUITE,
            &request,
            None,
            "2a0a97d02205e45ce2e994789806b19270cfbbb0921b278ccf58f5249ac42102",
            &suite_authorization("host;x-amz-date", "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85"),
        );
        let query = [("\u{1234}", "bar")];
        let request =
            Request { method: "GET", path: "/", query: &query, headers: VANILLA_HEADERS, payload_sha256: EMPTY_SHA256 };
        check(
            &suite_credentials(),
            &SUITE,
            &request,
            None,
            "eb30c5bed55734080471a834cc727ae56beb50e5f39d1bff6d0d38cb192a7073",
            &suite_authorization("host;x-amz-date", "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04"),
        );
    }

    #[test]
    fn post_x_www_form_urlencoded_signs_the_body_hash() {
        let headers = [
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Host", "example.amazonaws.com"),
            ("X-Amz-Date", "20150830T123600Z"),
        ];
        let body_hash = sha256_hex(b"Param1=value1");
        assert_eq!(body_hash, "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e");
        let request = Request { method: "POST", path: "/", query: &[], headers: &headers, payload_sha256: &body_hash };
        check(
            &suite_credentials(),
            &SUITE,
            &request,
            None,
            "42a5e5bb34198acb3e84da4f085bb7927f2bc277ca766e6d19c73c2154021281",
            &suite_authorization(
                "content-type;host;x-amz-date",
                "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a",
            ),
        );
    }

    #[test]
    fn post_sts_header_before_signs_the_session_token() {
        let token = "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==";
        let headers =
            [("Host", "example.amazonaws.com"), ("X-Amz-Date", "20150830T123600Z"), ("X-Amz-Security-Token", token)];
        let request =
            Request { method: "POST", path: "/", query: &[], headers: &headers, payload_sha256: EMPTY_SHA256 };
        check(
            &suite_credentials(),
            &SUITE,
            &request,
            None,
            "c237e1b440d4c63c32ca95b5b99481081cb7b13c7e40434868e71567c1a882f6",
            &suite_authorization(
                "host;x-amz-date;x-amz-security-token",
                "85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead",
            ),
        );
    }

    #[test]
    fn s3_get_object_with_range() {
        let headers = [
            ("Host", "examplebucket.s3.amazonaws.com"),
            ("Range", "bytes=0-9"),
            ("x-amz-content-sha256", EMPTY_SHA256),
            ("x-amz-date", "20130524T000000Z"),
        ];
        let request =
            Request { method: "GET", path: "/test.txt", query: &[], headers: &headers, payload_sha256: EMPTY_SHA256 };
        check(
            &s3_credentials(),
            &S3,
            &request,
            None,
            "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972",
            &s3_authorization(
                "host;range;x-amz-content-sha256;x-amz-date",
                "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
            ),
        );
    }

    #[test]
    fn s3_put_object_encodes_the_key_once() {
        let body_hash = sha256_hex(b"Welcome to Amazon S3.");
        assert_eq!(body_hash, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
        let path = format!("/{}", uri_encode("test$file.text", true));
        assert_eq!(path, "/test%24file.text");
        let headers = [
            ("Date", "Fri, 24 May 2013 00:00:00 GMT"),
            ("Host", "examplebucket.s3.amazonaws.com"),
            ("x-amz-content-sha256", &body_hash),
            ("x-amz-date", "20130524T000000Z"),
            ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
        ];
        let request = Request { method: "PUT", path: &path, query: &[], headers: &headers, payload_sha256: &body_hash };
        check(
            &s3_credentials(),
            &S3,
            &request,
            None,
            "9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d",
            &s3_authorization(
                "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class",
                "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd",
            ),
        );
    }

    #[test]
    fn s3_list_objects_sorts_the_query_and_signs_empty_values() {
        let headers = [
            ("Host", "examplebucket.s3.amazonaws.com"),
            ("x-amz-content-sha256", EMPTY_SHA256),
            ("x-amz-date", "20130524T000000Z"),
        ];
        let signed = "host;x-amz-content-sha256;x-amz-date";
        let list = [("prefix", "J"), ("max-keys", "2")];
        let request =
            Request { method: "GET", path: "/", query: &list, headers: &headers, payload_sha256: EMPTY_SHA256 };
        assert_eq!(canonical_query(&list), "max-keys=2&prefix=J");
        let expected = s3_authorization(signed, "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
        assert_eq!(authorization(&s3_credentials(), &S3, &request), expected);
        let lifecycle = [("lifecycle", "")];
        let request =
            Request { method: "GET", path: "/", query: &lifecycle, headers: &headers, payload_sha256: EMPTY_SHA256 };
        let expected = s3_authorization(signed, "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
        assert_eq!(authorization(&s3_credentials(), &S3, &request), expected);
    }

    #[test]
    fn header_values_are_trimmed_and_inner_spaces_collapsed() {
        let headers = [("My-Header1", "  value1  a   b "), ("Host", "h"), ("my-header1", "value2")];
        let request = Request { method: "GET", path: "/", query: &[], headers: &headers, payload_sha256: EMPTY_SHA256 };
        let (canonical, signed) = canonical_request(&request);
        assert_eq!(signed, "host;my-header1");
        assert!(canonical.contains("\nhost:h\nmy-header1:value1 a b,value2\n"), "{canonical}");
    }

    #[test]
    fn encoding_keeps_only_unreserved_characters() {
        assert_eq!(uri_encode("a b+c/ä~_.-*", true), "a%20b%2Bc/%C3%A4~_.-%2A");
        assert_eq!(uri_encode("a/b=c&d", false), "a%2Fb%3Dc%26d");
    }

    #[test]
    fn the_secret_is_not_in_debug_output() {
        let printed = format!("{:?}", s3_credentials());
        assert!(printed.contains("AKIAIOSFODNN7EXAMPLE") && !printed.contains("EXAMPLEKEY"), "{printed}");
    }
}
