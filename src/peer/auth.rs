//! Authentication of validator-to-validator requests and responses with the validator keys
//! named in the genesis.
//!
//! A request carries the sender's key, the time, a fresh 16-byte nonce and an Ed25519
//! signature over a domain tag, the chain id, the method, the path, those two and the
//! SHA-256 of the body. The receiver refuses a key that is not a genesis validator before it
//! reads the body, a time more than [`MAX_SKEW_MS`] away from its clock, a nonce it has seen
//! from that key (replay), and a signature that does not verify. The response is signed by
//! the receiver over the request's nonce, the status and the SHA-256 of its body, so a
//! sender knows the answer came from the validator it asked and answers this request.
//! Peer traffic is not encrypted: everything it carries ends up on the public ledger.

use std::collections::HashMap;
use std::sync::Mutex;

use consentry_circuits::field::sha256_tagged;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use rand::RngCore;

/// The sender's validator key (hex).
pub const KEY_HEADER: &str = "x-consentry-validator";
/// Milliseconds since the epoch at the sender.
pub const TIME_HEADER: &str = "x-consentry-time";
/// 16 random bytes (hex), never reused.
pub const NONCE_HEADER: &str = "x-consentry-nonce";
/// Ed25519 signature (hex) over the request or the response.
pub const SIGNATURE_HEADER: &str = "x-consentry-signature";

/// Largest accepted difference between a request's time and the receiver's clock.
pub const MAX_SKEW_MS: u64 = 30_000;

/// Why a peer request or response is refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// A header is missing or malformed.
    #[error("peer header {0} is missing or malformed")]
    Header(&'static str),
    /// The key is not one of the genesis validators.
    #[error("the key is not a validator of this chain")]
    UnknownKey,
    /// The time is too far from the receiver's clock.
    #[error("the request time is {0} ms away from this validator's clock")]
    Skew(u64),
    /// The nonce was used before by this key.
    #[error("replayed request (nonce seen before)")]
    Replay,
    /// The signature does not verify.
    #[error("the signature does not verify")]
    BadSignature,
}

/// What a request's signature covers.
fn request_message(
    chain_id: &str,
    method: &str,
    path: &str,
    time_ms: u64,
    nonce: &[u8; 16],
    body: &[u8],
) -> [u8; 32] {
    let mut data = Vec::with_capacity(128);
    for part in [chain_id.as_bytes(), method.as_bytes(), path.as_bytes()] {
        data.extend_from_slice(part);
        data.push(0);
    }
    data.extend_from_slice(&time_ms.to_be_bytes());
    data.extend_from_slice(nonce);
    data.extend_from_slice(&sha256_tagged(b"consentry/v1/peer-body", body));
    sha256_tagged(b"consentry/v1/peer-request", &data)
}

/// What a response's signature covers.
fn response_message(chain_id: &str, nonce: &[u8; 16], status: u16, body: &[u8]) -> [u8; 32] {
    let mut data = chain_id.as_bytes().to_vec();
    data.push(0);
    data.extend_from_slice(nonce);
    data.extend_from_slice(&status.to_be_bytes());
    data.extend_from_slice(&sha256_tagged(b"consentry/v1/peer-body", body));
    sha256_tagged(b"consentry/v1/peer-response", &data)
}

/// The headers that authenticate a request: `(name, value)` pairs, and the nonce to check
/// the response against.
pub fn sign_request(
    key: &SigningKey,
    chain_id: &str,
    method: &str,
    path: &str,
    body: &[u8],
    now_ms: u64,
) -> (Vec<(&'static str, String)>, [u8; 16]) {
    let mut nonce = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    let msg = request_message(chain_id, method, path, now_ms, &nonce, body);
    (
        vec![
            (KEY_HEADER, hex::encode(key.verifying_key().to_bytes())),
            (TIME_HEADER, now_ms.to_string()),
            (NONCE_HEADER, hex::encode(nonce)),
            (SIGNATURE_HEADER, hex::encode(key.sign(&msg).to_bytes())),
        ],
        nonce,
    )
}

/// The signature header of a response to the request with `nonce`.
pub fn sign_response(
    key: &SigningKey,
    chain_id: &str,
    nonce: &[u8; 16],
    status: u16,
    body: &[u8],
) -> String {
    hex::encode(
        key.sign(&response_message(chain_id, nonce, status, body))
            .to_bytes(),
    )
}

/// Checks a response's signature header against the key of the validator that was asked.
pub fn check_response(
    peer: &[u8; 32],
    chain_id: &str,
    nonce: &[u8; 16],
    status: u16,
    body: &[u8],
    signature: Option<&str>,
) -> Result<(), AuthError> {
    let sig = parse_sig(signature)?;
    let key = VerifyingKey::from_bytes(peer).map_err(|_| AuthError::UnknownKey)?;
    key.verify_strict(&response_message(chain_id, nonce, status, body), &sig)
        .map_err(|_| AuthError::BadSignature)
}

fn parse_sig(value: Option<&str>) -> Result<Signature, AuthError> {
    let bytes: [u8; 64] = value
        .and_then(|v| hex::decode(v).ok())
        .and_then(|b| b.try_into().ok())
        .ok_or(AuthError::Header(SIGNATURE_HEADER))?;
    Ok(Signature::from_bytes(&bytes))
}

/// A request's authentication headers, parsed (before the body is read).
#[derive(Clone, Debug)]
pub struct RequestAuth {
    /// Position of the sender in the genesis validators (0-based).
    pub validator: usize,
    time_ms: u64,
    /// The request's nonce (the response is signed over it).
    pub nonce: [u8; 16],
    signature: Signature,
}

/// The receiving side: the genesis validators and the nonces seen lately.
pub struct PeerAuth {
    chain_id: String,
    validators: Vec<[u8; 32]>,
    /// `(validator, nonce)` → when it may be forgotten (ms): after that its time is out of
    /// the skew window anyway.
    seen: Mutex<HashMap<(usize, [u8; 16]), u64>>,
}

impl PeerAuth {
    /// Authenticates requests from the `validators` of chain `chain_id`.
    pub fn new(chain_id: &str, validators: Vec<[u8; 32]>) -> Self {
        PeerAuth {
            chain_id: chain_id.to_string(),
            validators,
            seen: Mutex::default(),
        }
    }

    /// The chain id responses are signed for.
    pub fn chain_id(&self) -> &str {
        &self.chain_id
    }

    /// Checks the headers alone: a known validator, a time within the skew, a well-formed
    /// nonce and signature. Cheap; run before the body is read.
    pub fn check_headers(
        &self,
        header: impl Fn(&str) -> Option<String>,
        now_ms: u64,
    ) -> Result<RequestAuth, AuthError> {
        let key: [u8; 32] = header(KEY_HEADER)
            .and_then(|v| hex::decode(v).ok())
            .and_then(|b| b.try_into().ok())
            .ok_or(AuthError::Header(KEY_HEADER))?;
        let validator = self
            .validators
            .iter()
            .position(|v| *v == key)
            .ok_or(AuthError::UnknownKey)?;
        let time_ms: u64 = header(TIME_HEADER)
            .and_then(|v| v.parse().ok())
            .ok_or(AuthError::Header(TIME_HEADER))?;
        let skew = time_ms.abs_diff(now_ms);
        if skew > MAX_SKEW_MS {
            return Err(AuthError::Skew(skew));
        }
        let nonce: [u8; 16] = header(NONCE_HEADER)
            .and_then(|v| hex::decode(v).ok())
            .and_then(|b| b.try_into().ok())
            .ok_or(AuthError::Header(NONCE_HEADER))?;
        let signature = parse_sig(header(SIGNATURE_HEADER).as_deref())?;
        Ok(RequestAuth {
            validator,
            time_ms,
            nonce,
            signature,
        })
    }

    /// Checks the signature over the whole request, then remembers the nonce (a replay of a
    /// valid request is refused).
    pub fn check_body(
        &self,
        auth: &RequestAuth,
        method: &str,
        path: &str,
        body: &[u8],
        now_ms: u64,
    ) -> Result<(), AuthError> {
        let key = VerifyingKey::from_bytes(&self.validators[auth.validator])
            .map_err(|_| AuthError::UnknownKey)?;
        let msg = request_message(
            &self.chain_id,
            method,
            path,
            auth.time_ms,
            &auth.nonce,
            body,
        );
        key.verify_strict(&msg, &auth.signature)
            .map_err(|_| AuthError::BadSignature)?;
        let mut seen = self.seen.lock().expect("nonce cache");
        if seen.len() > 100_000 {
            seen.retain(|_, until| *until > now_ms);
        }
        if seen
            .insert((auth.validator, auth.nonce), auth.time_ms + MAX_SKEW_MS)
            .is_some()
        {
            return Err(AuthError::Replay);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup() -> (SigningKey, SigningKey, PeerAuth) {
        let a = SigningKey::from_bytes(&[1; 32]);
        let b = SigningKey::from_bytes(&[2; 32]);
        let auth = PeerAuth::new("c", vec![a.verifying_key().to_bytes()]);
        (a, b, auth)
    }

    fn check(
        auth: &PeerAuth,
        headers: &[(&'static str, String)],
        path: &str,
        body: &[u8],
        now: u64,
    ) -> Result<(), AuthError> {
        let get = |n: &str| {
            headers
                .iter()
                .find(|(k, _)| *k == n)
                .map(|(_, v)| v.clone())
        };
        let r = auth.check_headers(get, now)?;
        auth.check_body(&r, "POST", path, body, now)
    }

    #[test]
    fn a_validator_request_passes_once() {
        let (a, _, auth) = setup();
        let (h, _) = sign_request(&a, "c", "POST", "/raft/vote", b"{}", 1_000_000);
        assert_eq!(check(&auth, &h, "/raft/vote", b"{}", 1_000_000), Ok(()));
        assert_eq!(
            check(&auth, &h, "/raft/vote", b"{}", 1_000_001),
            Err(AuthError::Replay)
        );
    }

    #[test]
    fn strangers_tampering_and_stale_requests_are_refused() {
        let (a, b, auth) = setup();
        let now = 5_000_000;
        let (h, _) = sign_request(&b, "c", "POST", "/raft/vote", b"{}", now);
        assert_eq!(
            check(&auth, &h, "/raft/vote", b"{}", now),
            Err(AuthError::UnknownKey)
        );
        let (h, _) = sign_request(&a, "c", "POST", "/raft/vote", b"{}", now);
        assert_eq!(
            check(&auth, &h, "/raft/vote", b"{1}", now),
            Err(AuthError::BadSignature)
        );
        assert_eq!(
            check(&auth, &h, "/raft/append", b"{}", now),
            Err(AuthError::BadSignature)
        );
        let (h, _) = sign_request(&a, "other-chain", "POST", "/raft/vote", b"{}", now);
        assert_eq!(
            check(&auth, &h, "/raft/vote", b"{}", now),
            Err(AuthError::BadSignature)
        );
        let (h, _) = sign_request(&a, "c", "POST", "/raft/vote", b"{}", now - MAX_SKEW_MS - 1);
        assert!(matches!(
            check(&auth, &h, "/raft/vote", b"{}", now),
            Err(AuthError::Skew(_))
        ));
        assert_eq!(
            check(&auth, &[], "/raft/vote", b"{}", now),
            Err(AuthError::Header(KEY_HEADER))
        );
    }

    #[test]
    fn responses_are_bound_to_the_peer_the_nonce_and_the_body() {
        let (a, b, _) = setup();
        let nonce = [7u8; 16];
        let sig = sign_response(&a, "c", &nonce, 200, b"ok");
        let ka = a.verifying_key().to_bytes();
        assert_eq!(
            check_response(&ka, "c", &nonce, 200, b"ok", Some(&sig)),
            Ok(())
        );
        assert!(check_response(&ka, "c", &nonce, 200, b"ko", Some(&sig)).is_err());
        assert!(check_response(&ka, "c", &[8; 16], 200, b"ok", Some(&sig)).is_err());
        assert!(check_response(&ka, "c", &nonce, 500, b"ok", Some(&sig)).is_err());
        let kb = b.verifying_key().to_bytes();
        assert!(check_response(&kb, "c", &nonce, 200, b"ok", Some(&sig)).is_err());
        assert!(check_response(&ka, "c", &nonce, 200, b"ok", None).is_err());
    }
}
