//! The two network transcripts. Protocol code (sumcheck, LogUp, the GKR driver, matmul) runs on
//! them unchanged: `send` writes a MESSAGE frame, `challenge` on the prover's side waits for the
//! client's CHALLENGE; `receive` on the client's side reads the MESSAGE that `verify` asks for,
//! and `challenge` draws 64 bytes from the OS, reduces them mod p, and sends the element.
//!
//! Nothing is absorbed: the client's coins are fresh and secret until sent, so there is no
//! transcript to hash (`paper-notes/interactive.md`).

use super::{kind, read_frame, write_frame, NetError, FRAME_HEADER};
use crate::error::VerifyError;
use crate::field::{self, Fp, FIELD_BYTES};
use crate::proof::{Message, Proof, ProofReader, HEADER_BYTES, MAGIC, VERSION as PROOF_VERSION};
use crate::transcript::{Label, ProverTranscript, Transcript, VerifierTranscript};
use rand::RngCore;
use std::io::{BufReader, Read, Write};
use std::net::TcpStream;

/// What crossed the wire in one session.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WireStats {
    pub bytes_sent: u64,
    pub bytes_received: u64,
    /// Prover messages.
    pub messages: u64,
    /// Challenges, i.e. round trips.
    pub challenges: u64,
}

/// The bytes of one message in the proof encoding (tag ‖ count ‖ body).
fn message_bytes(m: Message) -> Vec<u8> {
    let mut bytes = Proof { messages: vec![m] }.encode();
    bytes.drain(..HEADER_BYTES);
    bytes
}

/// The prover's end of a session. After a transport failure it stops writing and answers every
/// challenge with 0, so the protocol code runs to its end and the session reports the failure.
#[derive(Debug)]
pub struct NetProver<R: Read, W: Write> {
    reader: R,
    writer: W,
    failed: Option<NetError>,
    pub stats: WireStats,
}

impl<R: Read, W: Write> NetProver<R, W> {
    pub fn new(reader: R, writer: W) -> Self {
        Self { reader, writer, failed: None, stats: WireStats::default() }
    }

    fn write(&mut self, kind: u8, payload: &[u8]) {
        if self.failed.is_some() {
            return;
        }
        match write_frame(&mut self.writer, kind, payload) {
            Ok(n) => self.stats.bytes_sent += n as u64,
            Err(e) => self.failed = Some(e),
        }
    }

    /// Sends a raw frame outside the protocol (ACCEPT, END).
    pub fn frame(&mut self, kind: u8, payload: &[u8]) {
        self.write(kind, payload);
    }

    /// Sends END and flushes; the first transport failure of the session, if any.
    pub fn finish(mut self) -> Result<(WireStats, R, W), NetError> {
        self.write(kind::END, &[]);
        if self.failed.is_none() {
            if let Err(e) = self.writer.flush() {
                self.failed = Some(e.into());
            }
        }
        match self.failed {
            Some(e) => Err(e),
            None => Ok((self.stats, self.reader, self.writer)),
        }
    }

    pub fn failure(&self) -> Option<&NetError> {
        self.failed.as_ref()
    }
}

impl<R: Read, W: Write> Transcript for NetProver<R, W> {
    fn append_bytes(&mut self, _: Label, _: &[u8]) {}

    fn append_fields(&mut self, _: Label, _: &[Fp]) {}

    fn challenge(&mut self, _: Label) -> Fp {
        if self.failed.is_none() {
            if let Err(e) = self.writer.flush() {
                self.failed = Some(e.into());
            }
        }
        if self.failed.is_some() {
            return Fp::default();
        }
        let read = read_frame(&mut self.reader, FIELD_BYTES).and_then(|f| {
            if f.kind != kind::CHALLENGE {
                return Err(NetError::UnexpectedFrame { expected: "CHALLENGE", found: f.kind });
            }
            let bytes: [u8; FIELD_BYTES] = f
                .payload
                .as_slice()
                .try_into()
                .map_err(|_| NetError::Malformed("a challenge of the wrong size".into()))?;
            field::from_canonical_bytes(&bytes)
                .ok_or_else(|| NetError::Malformed("a challenge that is not canonical".into()))
        });
        match read {
            Ok(x) => {
                self.stats.bytes_received += (FRAME_HEADER + FIELD_BYTES) as u64;
                self.stats.challenges += 1;
                x
            }
            Err(e) => {
                self.failed = Some(e);
                Fp::default()
            }
        }
    }
}

impl<R: Read, W: Write> ProverTranscript for NetProver<R, W> {
    fn send(&mut self, label: Label, msg: &[Fp]) {
        self.stats.messages += 1;
        self.write(kind::MESSAGE, &message_bytes(Message::new(label, msg.to_vec())));
    }

    fn send_ints(&mut self, label: Label, ints: &[i64]) {
        self.stats.messages += 1;
        self.write(kind::MESSAGE, &message_bytes(Message::ints(label, ints.to_vec())));
    }

    fn send_bytes(&mut self, label: Label, bytes: &[u8]) {
        self.stats.messages += 1;
        self.write(kind::MESSAGE, &message_bytes(Message::bytes(label, bytes.to_vec())));
    }
}

/// The client's end: `verify` runs live on it.
#[derive(Debug)]
pub struct NetVerifier {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
    failed: Option<NetError>,
    pub stats: WireStats,
}

fn channel_error(e: &NetError) -> VerifyError {
    VerifyError::Channel { reason: e.to_string() }
}

impl NetVerifier {
    pub fn new(stream: TcpStream) -> std::io::Result<Self> {
        let writer = stream.try_clone()?;
        Ok(Self {
            reader: BufReader::new(stream),
            writer,
            failed: None,
            stats: WireStats::default(),
        })
    }

    /// Whether the server has sent bytes that nobody asked for yet.
    fn pending(&mut self) -> bool {
        if !self.reader.buffer().is_empty() {
            return true;
        }
        let s = self.reader.get_ref();
        if s.set_nonblocking(true).is_err() {
            return false;
        }
        let mut b = [0u8; 1];
        let pending = matches!(s.peek(&mut b), Ok(n) if n > 0);
        let _ = s.set_nonblocking(false);
        pending
    }

    /// Reads the next MESSAGE, whose body may hold at most `max_body` bytes.
    fn message(&mut self, max_body: usize) -> Result<Vec<u8>, VerifyError> {
        if let Some(e) = &self.failed {
            return Err(channel_error(e));
        }
        let frame = read_frame(&mut self.reader, 8 + max_body).map_err(|e| {
            let err = channel_error(&e);
            self.failed = Some(e);
            err
        })?;
        self.stats.bytes_received += (FRAME_HEADER + frame.payload.len()) as u64;
        match frame.kind {
            kind::MESSAGE => {
                self.stats.messages += 1;
                let mut bytes = Vec::with_capacity(HEADER_BYTES + frame.payload.len());
                bytes.extend_from_slice(&MAGIC);
                bytes.extend_from_slice(&PROOF_VERSION.to_le_bytes());
                bytes.extend_from_slice(&frame.payload);
                Ok(bytes)
            }
            kind::REFUSE => {
                let e = NetError::Refused(String::from_utf8_lossy(&frame.payload).into_owned());
                let err = channel_error(&e);
                self.failed = Some(e);
                Err(err)
            }
            other => {
                let e = NetError::UnexpectedFrame { expected: "MESSAGE", found: other };
                let err = channel_error(&e);
                self.failed = Some(e);
                Err(err)
            }
        }
    }

    /// After `verify`: the next frame must be END (no message the verifier did not ask for).
    pub fn expect_end(&mut self) -> Result<(), NetError> {
        if let Some(e) = self.failed.take() {
            return Err(e);
        }
        let f = read_frame(&mut self.reader, 0)?;
        self.stats.bytes_received += FRAME_HEADER as u64;
        match f.kind {
            kind::END => Ok(()),
            other => Err(NetError::UnexpectedFrame { expected: "END", found: other }),
        }
    }

    /// Tells the server the verdict (a courtesy: the server learns nothing it could use).
    pub fn verdict(&mut self, accepted: bool, reason: &str) {
        let mut p = vec![u8::from(accepted)];
        p.extend(reason.as_bytes().iter().take(super::MAX_TEXT - 1));
        if let Ok(n) = write_frame(&mut self.writer, kind::VERDICT, &p) {
            self.stats.bytes_sent += n as u64;
        }
        let _ = self.writer.flush();
    }

    pub fn failure(&self) -> Option<&NetError> {
        self.failed.as_ref()
    }
}

impl Transcript for NetVerifier {
    fn append_bytes(&mut self, _: Label, _: &[u8]) {}

    fn append_fields(&mut self, _: Label, _: &[Fp]) {}

    fn challenge(&mut self, _: Label) -> Fp {
        let mut bytes = [0u8; 64];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let r = field::from_uniform_bytes(&bytes);
        if self.failed.is_some() {
            return r;
        }
        if self.pending() {
            // the prover spoke before the challenge it must follow: end the session
            self.failed = Some(NetError::Unsolicited);
            return r;
        }
        match write_frame(&mut self.writer, kind::CHALLENGE, &field::to_canonical_bytes(&r))
            .and_then(|n| self.writer.flush().map(|()| n).map_err(NetError::from))
        {
            Ok(n) => {
                self.stats.bytes_sent += n as u64;
                self.stats.challenges += 1;
            }
            Err(e) => self.failed = Some(e),
        }
        r
    }
}

impl VerifierTranscript for NetVerifier {
    fn receive(&mut self, label: Label, len: usize) -> Result<Vec<Fp>, VerifyError> {
        let bytes = self.message(len.saturating_mul(FIELD_BYTES))?;
        let mut r = ProofReader::new(&bytes)?;
        let values = r.read(label, len)?;
        r.finish()?;
        Ok(values)
    }

    fn receive_ints(&mut self, label: Label, len: usize) -> Result<Vec<i64>, VerifyError> {
        // a varint of an i64 takes at most 10 bytes
        let bytes = self.message(len.saturating_mul(10))?;
        let mut r = ProofReader::new(&bytes)?;
        let values = r.read_ints(label, len)?;
        r.finish()?;
        Ok(values)
    }

    fn receive_bytes(&mut self, label: Label, len: usize) -> Result<Vec<u8>, VerifyError> {
        let bytes = self.message(len)?;
        let mut r = ProofReader::new(&bytes)?;
        let values = r.read_bytes(label, len)?.to_vec();
        r.finish()?;
        Ok(values)
    }
}
