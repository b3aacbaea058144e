//! Interactive proofs over TCP: a trusted client (the verifier) checks a prover server with its
//! own randomness, no Fiat–Shamir.
//!
//! The protocol code is the one of the proof files. [`NetProver`] implements
//! `ProverTranscript`: a message is a frame sent, a challenge is a frame received from the
//! client. [`NetVerifier`] implements `VerifierTranscript`: `verify` runs live, receiving each
//! prover message when it asks for it and drawing each challenge from the OS only when it needs
//! one, then sending it. The prover never decides when a challenge is issued. A prover message
//! that is already waiting when the client issues a challenge ends the session: it was sent
//! before the challenge it should follow.
//!
//! ```text
//! frame     = kind u8 ‖ length u32 LE ‖ payload
//! HELLO     client → server: version u16 ‖ task u8 ‖ statement
//!             task 1 (model):  model digest [32] ‖ advice mode [5] ‖ input length u32 ‖
//!                              int8 input (the client picks how the advice is bound)
//!             task 2 (matmul): m, n, k u32 ‖ A int8[m·n] ‖ B int8[n·k]
//! ACCEPT    server → client: version u16 ‖ task u8 ‖ digest [32] (model) or zeros
//! REFUSE    server → client: UTF-8 reason (then the server closes)
//! MESSAGE   server → client: one message of the proof encoding (tag ‖ count ‖ body)
//! CHALLENGE client → server: one canonical field element, 16 bytes
//! END       server → client: the prover is done (no payload)
//! VERDICT   client → server: accepted u8 ‖ UTF-8 reason
//! ```
//! Every length is checked against a bound the reader derives from the statement before a byte
//! of the payload is allocated: a MESSAGE against the length `verify` asks for, a HELLO against
//! the server's model input (or its matrix limit), a CHALLENGE is exactly 16 bytes. A model
//! HELLO whose advice mode a verifier would not accept (`ServerConfig::allow_conjectured`) is
//! refused before the server proves anything.
//! `paper-notes/interactive.md` has the soundness argument and the costs.

pub mod channel;
pub mod client;
pub mod server;

pub use channel::{NetProver, NetVerifier, WireStats};
pub use client::{connect_matmul, connect_model, connect_model_mode, ClientError, Session};
pub use server::{Server, ServerConfig, ServerStats};

use crate::codec::{ByteReader, ByteWriter, CodecError};
use std::io::{Read, Write};
use thiserror::Error;

/// The wire protocol version (the handshake refuses any other).
/// Version 2 added the advice mode to the model HELLO; version 3 shares identical lookup
/// tables (the proof format's version 2).
pub const VERSION: u16 = 3;

/// Frame kinds.
pub mod kind {
    pub const HELLO: u8 = 1;
    pub const ACCEPT: u8 = 2;
    pub const REFUSE: u8 = 3;
    pub const MESSAGE: u8 = 4;
    pub const CHALLENGE: u8 = 5;
    pub const END: u8 = 6;
    pub const VERDICT: u8 = 7;
}

/// Tasks a session can run.
pub mod task {
    pub const MODEL: u8 = 1;
    pub const MATMUL: u8 = 2;
}

/// Bytes of a frame header.
pub const FRAME_HEADER: usize = 5;
/// Longest REFUSE or VERDICT text accepted.
pub const MAX_TEXT: usize = 4096;

/// A transport or protocol failure (the proof itself was not judged).
#[derive(Debug, Error)]
pub enum NetError {
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    #[error("the peer closed the connection")]
    Closed,
    #[error("timed out waiting for the peer")]
    Timeout,
    #[error("unexpected frame kind {found} (expected {expected})")]
    UnexpectedFrame { expected: &'static str, found: u8 },
    #[error("a frame of {len} bytes exceeds the {max} the statement allows")]
    Oversized { len: u64, max: usize },
    #[error("malformed frame: {0}")]
    Malformed(String),
    #[error("protocol version {got} (this build speaks {VERSION})")]
    Version { got: u16 },
    #[error("the server refused: {0}")]
    Refused(String),
    #[error("a prover message arrived before the challenge it must follow")]
    Unsolicited,
}

/// One frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    pub kind: u8,
    pub payload: Vec<u8>,
}

fn io_error(e: std::io::Error) -> NetError {
    match e.kind() {
        std::io::ErrorKind::UnexpectedEof => NetError::Closed,
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => NetError::Timeout,
        _ => NetError::Io(e),
    }
}

/// Writes one frame (not flushed).
pub fn write_frame(w: &mut impl Write, kind: u8, payload: &[u8]) -> Result<usize, NetError> {
    let len = u32::try_from(payload.len())
        .map_err(|_| NetError::Malformed(format!("a payload of {} bytes", payload.len())))?;
    w.write_all(&[kind]).map_err(io_error)?;
    w.write_all(&len.to_le_bytes()).map_err(io_error)?;
    w.write_all(payload).map_err(io_error)?;
    Ok(FRAME_HEADER + payload.len())
}

/// Reads one frame whose payload may not exceed `max` bytes (checked before allocating).
pub fn read_frame(r: &mut impl Read, max: usize) -> Result<Frame, NetError> {
    let mut head = [0u8; FRAME_HEADER];
    r.read_exact(&mut head).map_err(io_error)?;
    let len = u32::from_le_bytes([head[1], head[2], head[3], head[4]]) as usize;
    if len > max {
        return Err(NetError::Oversized { len: len as u64, max });
    }
    let mut payload = vec![0u8; len];
    r.read_exact(&mut payload).map_err(io_error)?;
    Ok(Frame { kind: head[0], payload })
}

/// Checks an ACCEPT payload (version u16 ‖ task u8 ‖ digest [32]) against the statement the
/// client sent.
///
/// # Errors
/// [`NetError::Malformed`] for a payload of the wrong size or another statement,
/// [`NetError::Version`] for another protocol version.
pub fn check_accept(p: &[u8], want_task: u8, digest: &[u8; 32]) -> Result<(), NetError> {
    let [v0, v1, task, accepted @ ..] = p else {
        return Err(NetError::Malformed("an ACCEPT of the wrong size".into()));
    };
    if accepted.len() != 32 {
        return Err(NetError::Malformed("an ACCEPT of the wrong size".into()));
    }
    let version = u16::from_le_bytes([*v0, *v1]);
    if version != VERSION {
        return Err(NetError::Version { got: version });
    }
    if *task != want_task || accepted != digest {
        return Err(NetError::Malformed("the server accepted another statement".into()));
    }
    Ok(())
}

/// A statement the client sends in its HELLO.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Hello {
    Model { digest: [u8; 32], advice: crate::gkr::AdviceMode, input: Vec<i8> },
    Matmul { m: usize, n: usize, k: usize, a: Vec<i8>, b: Vec<i8> },
}

impl Hello {
    pub fn encode(&self) -> Vec<u8> {
        let mut w = ByteWriter(Vec::new());
        w.u16(VERSION);
        match self {
            Hello::Model { digest, advice, input } => {
                w.u8(task::MODEL);
                w.raw(digest);
                w.raw(&advice.to_bytes());
                w.u32(input.len() as u32);
                w.raw(bytemuck::cast_slice(input));
            }
            Hello::Matmul { m, n, k, a, b } => {
                w.u8(task::MATMUL);
                for d in [m, n, k] {
                    w.u32(*d as u32);
                }
                w.raw(bytemuck::cast_slice(a));
                w.raw(bytemuck::cast_slice(b));
            }
        }
        w.0
    }

    /// Decodes a HELLO payload (its size was bounded by the reader).
    pub fn decode(p: &[u8]) -> Result<Self, NetError> {
        let bad = |what: String| NetError::Malformed(format!("hello: {what}"));
        let codec = |e: CodecError| bad(e.to_string());
        let mut r = ByteReader::new(p);
        let version = r.u16().map_err(codec)?;
        if version != VERSION {
            return Err(NetError::Version { got: version });
        }
        let int8 = |b: &[u8]| b.iter().map(|&v| v as i8).collect::<Vec<i8>>();
        let hello = match r.u8().map_err(codec)? {
            task::MODEL => {
                let digest = r.array::<32>("the model digest").map_err(codec)?;
                let mode = r.array::<5>("the advice mode").map_err(codec)?;
                let advice = crate::gkr::AdviceMode::from_bytes(mode)
                    .ok_or_else(|| bad(format!("unknown advice mode {mode:?}")))?;
                let len = r.u32().map_err(codec)? as usize;
                if len != r.remaining() {
                    return Err(bad(format!(
                        "the input length says {len} bytes, {} follow",
                        r.remaining()
                    )));
                }
                let input = int8(r.take(len, "the input").map_err(codec)?);
                Hello::Model { digest, advice, input }
            }
            task::MATMUL => {
                let mut dim = || r.u32().map(|d| d as usize).map_err(codec);
                let (m, n, k) = (dim()?, dim()?, dim()?);
                let (an, bn) = (
                    m.checked_mul(n).ok_or_else(|| bad("A's size".into()))?,
                    n.checked_mul(k).ok_or_else(|| bad("B's size".into()))?,
                );
                if an.checked_add(bn) != Some(r.remaining()) {
                    return Err(bad("A and B do not fill the frame".into()));
                }
                let a = int8(r.take(an, "A").map_err(codec)?);
                let b = int8(r.take(bn, "B").map_err(codec)?);
                Hello::Matmul { m, n, k, a, b }
            }
            t => return Err(bad(format!("unknown task {t}"))),
        };
        r.finish().map_err(codec)?;
        Ok(hello)
    }
}
