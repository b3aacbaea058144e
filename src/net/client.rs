//! The trusted client: it sends the statement, then runs the verifier live against the server.

use super::channel::{NetVerifier, WireStats};
use super::{kind, read_frame, task, write_frame, Hello, NetError};
use crate::circuit::{Model, Tensor};
use crate::error::VerifyError;
use crate::gkr;
use crate::gkr::AdviceMode;
use crate::matmul::{self, Shape};
use crate::transcript::{labels, VerifierTranscript};
use std::io::Write;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};
use thiserror::Error;

/// Why a session gave no verified result.
#[derive(Debug, Error)]
pub enum ClientError {
    /// Before the proof: no connection, a refusal, a handshake that does not fit.
    #[error("{0}")]
    Net(#[from] NetError),
    /// The proof was rejected (a transport failure during the proof counts as a rejection).
    #[error("{0}")]
    Rejected(VerifyError),
}

/// A verified session.
#[derive(Clone, Debug)]
pub struct Session<T> {
    pub result: T,
    pub stats: WireStats,
    pub elapsed: Duration,
}

fn open(addr: &str, timeout: Duration) -> Result<TcpStream, NetError> {
    let addrs: Vec<SocketAddr> = addr
        .to_socket_addrs()
        .map_err(|e| NetError::Malformed(format!("address {addr:?}: {e}")))?
        .collect();
    let mut last = NetError::Malformed(format!("address {addr:?} resolves to nothing"));
    for a in addrs {
        match TcpStream::connect_timeout(&a, timeout) {
            Ok(s) => {
                s.set_read_timeout(Some(timeout))?;
                s.set_write_timeout(Some(timeout))?;
                s.set_nodelay(true)?;
                return Ok(s);
            }
            Err(e) => last = NetError::Io(e),
        }
    }
    Err(last)
}

/// Sends HELLO and waits for ACCEPT (or the server's reason for refusing).
fn handshake(
    stream: &mut TcpStream,
    hello: &Hello,
    want_task: u8,
    digest: [u8; 32],
) -> Result<u64, NetError> {
    let payload = hello.encode();
    let sent = write_frame(stream, kind::HELLO, &payload)?;
    stream.flush()?;
    let f = read_frame(stream, super::MAX_TEXT)?;
    match f.kind {
        kind::ACCEPT => {
            super::check_accept(&f.payload, want_task, &digest)?;
            Ok(sent as u64)
        }
        kind::REFUSE => Err(NetError::Refused(String::from_utf8_lossy(&f.payload).into_owned())),
        other => Err(NetError::UnexpectedFrame { expected: "ACCEPT", found: other }),
    }
}

/// Runs `verify` live and checks that the server ends right after the last message.
fn finish<T>(
    mut v: NetVerifier,
    verdict: Result<T, VerifyError>,
    start: Instant,
    handshake_bytes: u64,
) -> Result<Session<T>, ClientError> {
    let result = match verdict {
        Ok(r) => r,
        Err(e) => {
            let reason = e.to_string();
            v.verdict(false, &reason);
            return Err(ClientError::Rejected(e));
        }
    };
    if let Err(e) = v.expect_end() {
        v.verdict(false, &e.to_string());
        return Err(ClientError::Rejected(VerifyError::Channel { reason: e.to_string() }));
    }
    v.verdict(true, "");
    let mut stats = v.stats;
    stats.bytes_sent += handshake_bytes;
    Ok(Session { result, stats, elapsed: start.elapsed() })
}

/// Proves `model` on `input` with the server at `addr`; the client's coins are its own. The
/// advice travels in the clear.
pub fn connect_model(
    addr: &str,
    model: &Model,
    input: &Tensor,
    timeout: Duration,
) -> Result<Session<Tensor>, ClientError> {
    connect_model_mode(addr, model, input, AdviceMode::Clear, timeout)
}

/// [`connect_model`] with the advice bound as the client asks (committed advice: the PCS
/// queries are the client's own coins too).
pub fn connect_model_mode(
    addr: &str,
    model: &Model,
    input: &Tensor,
    advice: AdviceMode,
    timeout: Duration,
) -> Result<Session<Tensor>, ClientError> {
    let start = Instant::now();
    if input.dims != model.input_dims {
        return Err(ClientError::Rejected(VerifyError::InvalidStatement {
            reason: "the input does not fit the model",
        }));
    }
    let data: Vec<i8> = input
        .data
        .iter()
        .map(|&v| i8::try_from(v))
        .collect::<Result<_, _>>()
        .map_err(|_| NetError::Malformed("the input is not int8".into()))?;
    let mut stream = open(addr, timeout)?;
    let digest = model.digest();
    let hello = Hello::Model { digest, advice, input: data };
    let sent = handshake(&mut stream, &hello, task::MODEL, digest)?;
    let mut v = NetVerifier::new(stream).map_err(NetError::from)?;
    v.stats.bytes_received += 40;
    let verdict = gkr::verify(model, input, &gkr::VerifyOptions::advice(advice), &mut v);
    finish(v, verdict, start, sent)
}

/// Asks the server at `addr` for C = A·B with an interactive proof.
pub fn connect_matmul(
    addr: &str,
    shape: Shape,
    a: &[i8],
    b: &[i8],
    timeout: Duration,
) -> Result<Session<Vec<i32>>, ClientError> {
    let start = Instant::now();
    let Shape { m, n, k } = shape;
    if a.len() != m * n || b.len() != n * k {
        return Err(ClientError::Rejected(VerifyError::InvalidStatement {
            reason: "A and B do not have the shapes given",
        }));
    }
    let mut stream = open(addr, timeout)?;
    let hello = Hello::Matmul { m, n, k, a: a.to_vec(), b: b.to_vec() };
    let sent = handshake(&mut stream, &hello, task::MATMUL, [0; 32])?;
    let mut v = NetVerifier::new(stream).map_err(NetError::from)?;
    v.stats.bytes_received += 40;
    let verdict = (|| -> Result<Vec<i32>, VerifyError> {
        let c: Vec<i32> = v
            .receive_ints(labels::MATMUL_RESULT, m * k)?
            .into_iter()
            .map(i32::try_from)
            .collect::<Result<_, _>>()
            .map_err(|_| VerifyError::InvalidStatement { reason: "C holds a value beyond i32" })?;
        matmul::verify_product(&shape, a, b, &c, &mut v)?;
        Ok(c)
    })();
    finish(v, verdict, start, sent)
}
