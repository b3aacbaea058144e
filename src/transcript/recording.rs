//! A transcript wrapper that logs every event, for tests of absorb order.

use super::{Label, ProverTranscript, Transcript, VerifierTranscript};
use crate::error::VerifyError;
use crate::field::Fp;

/// One transcript event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// Public data absorbed (statement, digests).
    Append(Label),
    /// A prover message sent (prover side) with its length.
    Send(Label, usize),
    /// A prover message received (verifier side) with its length.
    Receive(Label, usize),
    /// A challenge drawn.
    Challenge(Label),
}

/// Forwards to the wrapped transcript and logs what happened.
#[derive(Debug)]
pub struct Recording<T> {
    pub inner: T,
    pub events: Vec<Event>,
}

impl<T> Recording<T> {
    pub fn new(inner: T) -> Self {
        Self { inner, events: Vec::new() }
    }
}

impl<T: Transcript> Transcript for Recording<T> {
    fn append_bytes(&mut self, label: Label, bytes: &[u8]) {
        self.events.push(Event::Append(label));
        self.inner.append_bytes(label, bytes);
    }

    fn append_fields(&mut self, label: Label, xs: &[Fp]) {
        self.events.push(Event::Append(label));
        self.inner.append_fields(label, xs);
    }

    fn challenge(&mut self, label: Label) -> Fp {
        self.events.push(Event::Challenge(label));
        self.inner.challenge(label)
    }
}

impl<T: ProverTranscript> ProverTranscript for Recording<T> {
    fn send(&mut self, label: Label, msg: &[Fp]) {
        self.events.push(Event::Send(label, msg.len()));
        self.inner.send(label, msg);
    }

    fn send_ints(&mut self, label: Label, ints: &[i64]) {
        self.events.push(Event::Send(label, ints.len()));
        self.inner.send_ints(label, ints);
    }

    fn send_bytes(&mut self, label: Label, bytes: &[u8]) {
        self.events.push(Event::Send(label, bytes.len()));
        self.inner.send_bytes(label, bytes);
    }
}

impl<T: VerifierTranscript> VerifierTranscript for Recording<T> {
    fn receive(&mut self, label: Label, len: usize) -> Result<Vec<Fp>, VerifyError> {
        let msg = self.inner.receive(label, len)?;
        self.events.push(Event::Receive(label, msg.len()));
        Ok(msg)
    }

    fn receive_ints(&mut self, label: Label, len: usize) -> Result<Vec<i64>, VerifyError> {
        let ints = self.inner.receive_ints(label, len)?;
        self.events.push(Event::Receive(label, ints.len()));
        Ok(ints)
    }

    fn receive_bytes(&mut self, label: Label, len: usize) -> Result<Vec<u8>, VerifyError> {
        let bytes = self.inner.receive_bytes(label, len)?;
        self.events.push(Event::Receive(label, bytes.len()));
        Ok(bytes)
    }
}
