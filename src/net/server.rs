//! The prover server: a bounded pool of session threads behind a bounded queue of connections.
//! A session that misbehaves (random bytes, an oversized length, a wrong version, silence, a
//! disconnect mid-proof) ends that session only; a panic inside one is caught. Shutdown stops
//! accepting, closes every open connection and joins the workers.

use super::channel::{NetProver, WireStats};
use super::{kind, read_frame, task, write_frame, Hello, NetError, VERSION};
use crate::circuit::{Model, Tensor};
use crate::gkr::{self, AdviceMode};
use crate::matmul::{self, Shape};
use crate::transcript::{labels, ProverTranscript};
use std::collections::HashMap;
use std::io::{BufReader, BufWriter, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Limits of a server.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// Sessions proved at once (worker threads).
    pub max_sessions: usize,
    /// Connections waiting for a worker; beyond it a client is refused ("busy").
    pub queue: usize,
    /// Longest wait for a client's frame (HELLO, each challenge) and for a write.
    pub idle_timeout: Duration,
    /// Matrix products: the largest m·n, n·k and m·k served (0: none).
    pub max_matmul_elements: usize,
    /// Whether a client may ask for advice committed under the conjectured parameter set. The
    /// server proves only under the sets a verifier accepts ([`AdviceMode::accepted`]): clear,
    /// the provable set, the conjectured one when this is set, and the pre-grinding sets; any
    /// other parameters in a HELLO are refused before a byte is proved, so a client cannot buy
    /// minutes of work (rate 2^-8, 65 535 queries, 32 bits of grinding) with one frame. The
    /// conjectured set costs less than the provable one (the same rate, arity and grinding,
    /// a third of the queries), and its soundness is the client's own risk, so it is allowed
    /// by default.
    pub allow_conjectured: bool,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            max_sessions: 8,
            queue: 64,
            idle_timeout: Duration::from_secs(30),
            max_matmul_elements: 1 << 22,
            allow_conjectured: true,
        }
    }
}

/// Counters a running server keeps.
#[derive(Debug, Default)]
pub struct ServerStats {
    /// Sessions whose proof was sent to the end.
    pub completed: AtomicU64,
    /// Sessions that ended early (a refusal, a hostile or vanished client).
    pub aborted: AtomicU64,
    /// Clients refused because the queue was full.
    pub busy: AtomicU64,
    pub active: AtomicUsize,
    pub max_active: AtomicUsize,
    /// Bytes written to clients.
    pub bytes_sent: AtomicU64,
}

/// A bound server, not yet running.
#[derive(Debug)]
pub struct Server {
    listener: TcpListener,
    model: Option<Arc<Model>>,
    config: ServerConfig,
    stats: Arc<ServerStats>,
    shutdown: Arc<AtomicBool>,
}

type Open = Arc<Mutex<HashMap<u64, TcpStream>>>;

impl Server {
    /// Binds `addr` to serve `model` (and matrix products when the config allows them).
    pub fn bind(addr: &str, model: Option<Model>, config: ServerConfig) -> std::io::Result<Self> {
        let listener = TcpListener::bind(addr)?;
        listener.set_nonblocking(true)?;
        Ok(Self {
            listener,
            model: model.map(Arc::new),
            config,
            stats: Arc::default(),
            shutdown: Arc::default(),
        })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Set it to true to stop the server (Ctrl-C does, in the CLI).
    pub fn shutdown_handle(&self) -> Arc<AtomicBool> {
        self.shutdown.clone()
    }

    pub fn stats(&self) -> Arc<ServerStats> {
        self.stats.clone()
    }

    /// Serves until the shutdown flag is set, then closes every connection and joins the workers.
    pub fn run(self) -> std::io::Result<()> {
        let (tx, rx) = sync_channel::<(u64, TcpStream)>(self.config.queue.max(1));
        let rx = Arc::new(Mutex::new(rx));
        let open: Open = Arc::default();
        let workers: Vec<_> = (0..self.config.max_sessions.max(1))
            .map(|i| {
                let (rx, open, stats) = (rx.clone(), open.clone(), self.stats.clone());
                let (model, config) = (self.model.clone(), self.config.clone());
                std::thread::Builder::new()
                    .name(format!("gkrnet-session-{i}"))
                    .spawn(move || worker(&rx, &open, &stats, model.as_deref(), &config))
            })
            .collect::<std::io::Result<_>>()?;
        let mut next_id = 0u64;
        while !self.shutdown.load(Ordering::SeqCst) {
            match self.listener.accept() {
                Ok((stream, peer)) => {
                    if stream.set_nonblocking(false).is_err() {
                        continue;
                    }
                    next_id += 1;
                    if let Ok(clone) = stream.try_clone() {
                        lock(&open).insert(next_id, clone);
                    }
                    match tx.try_send((next_id, stream)) {
                        Ok(()) => tracing::debug!(%peer, "queued"),
                        Err(
                            TrySendError::Full((id, mut s))
                            | TrySendError::Disconnected((id, mut s)),
                        ) => {
                            self.stats.busy.fetch_add(1, Ordering::Relaxed);
                            lock(&open).remove(&id);
                            let _ = s.set_write_timeout(Some(Duration::from_secs(1)));
                            let _ = write_frame(&mut s, kind::REFUSE, b"busy: too many sessions");
                            let _ = s.flush();
                        }
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    std::thread::sleep(Duration::from_millis(10));
                }
                Err(e) => tracing::warn!("accept: {e}"),
            }
        }
        drop(tx);
        for (_, s) in lock(&open).drain() {
            let _ = s.shutdown(std::net::Shutdown::Both);
        }
        for w in workers {
            let _ = w.join();
        }
        Ok(())
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn worker(
    rx: &Mutex<Receiver<(u64, TcpStream)>>,
    open: &Open,
    stats: &ServerStats,
    model: Option<&Model>,
    config: &ServerConfig,
) {
    loop {
        let next = lock(rx).recv();
        let Ok((id, stream)) = next else { return };
        let active = stats.active.fetch_add(1, Ordering::SeqCst) + 1;
        stats.max_active.fetch_max(active, Ordering::SeqCst);
        let peer = stream.peer_addr().ok();
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            session(stream, model, config)
        }));
        match outcome {
            Ok(Ok(wire)) => {
                stats.completed.fetch_add(1, Ordering::Relaxed);
                stats.bytes_sent.fetch_add(wire.bytes_sent, Ordering::Relaxed);
                tracing::info!(
                    ?peer,
                    messages = wire.messages,
                    rounds = wire.challenges,
                    "session proved"
                );
            }
            Ok(Err(e)) => {
                stats.aborted.fetch_add(1, Ordering::Relaxed);
                tracing::info!(?peer, "session ended: {e}");
            }
            Err(_) => {
                stats.aborted.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(?peer, "session panicked; the server goes on");
            }
        }
        if let Some(s) = lock(open).remove(&id) {
            let _ = s.shutdown(std::net::Shutdown::Both);
        }
        stats.active.fetch_sub(1, Ordering::SeqCst);
    }
}

fn refuse(w: &mut impl Write, reason: &str) -> NetError {
    let _ = write_frame(w, kind::REFUSE, reason.as_bytes());
    let _ = w.flush();
    NetError::Refused(reason.into())
}

/// One session: handshake, then the prover over the network transcript.
fn session(
    stream: TcpStream,
    model: Option<&Model>,
    config: &ServerConfig,
) -> Result<WireStats, NetError> {
    stream.set_read_timeout(Some(config.idle_timeout))?;
    stream.set_write_timeout(Some(config.idle_timeout))?;
    stream.set_nodelay(true)?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut writer = BufWriter::new(stream);
    // the largest HELLO this server accepts: its model's input, or two matrices at the limit
    let model_hello = model.map_or(0, |m| 44 + m.input_dims.iter().product::<usize>());
    let matmul_hello = 15usize.saturating_add(config.max_matmul_elements.saturating_mul(2));
    let frame = match read_frame(&mut reader, model_hello.max(matmul_hello)) {
        Ok(f) => f,
        Err(e @ NetError::Oversized { .. }) => return Err(refuse(&mut writer, &e.to_string())),
        Err(e) => return Err(e),
    };
    if frame.kind != kind::HELLO {
        return Err(refuse(&mut writer, &format!("expected HELLO, got frame kind {}", frame.kind)));
    }
    let hello = match Hello::decode(&frame.payload) {
        Ok(h) => h,
        Err(e) => return Err(refuse(&mut writer, &e.to_string())),
    };
    let accept = |t: u8, digest: [u8; 32]| {
        let mut p = VERSION.to_le_bytes().to_vec();
        p.push(t);
        p.extend_from_slice(&digest);
        p
    };
    match hello {
        Hello::Model { digest, advice, input } => {
            let Some(model) = model else {
                return Err(refuse(&mut writer, "this server proves no model"));
            };
            if digest != model.digest() {
                return Err(refuse(
                    &mut writer,
                    "unknown model digest: this server holds another model",
                ));
            }
            if let Err(why) = advice_allowed(advice, config) {
                return Err(refuse(&mut writer, &why));
            }
            let input =
                Tensor::new(model.input_dims.clone(), input.iter().map(|&v| v as i64).collect())
                    .map_err(|e| refuse(&mut writer, &e.to_string()))?;
            let witness = model.forward(&input).map_err(|e| refuse(&mut writer, &e.to_string()))?;
            let mut p = NetProver::new(reader, writer);
            p.frame(kind::ACCEPT, &accept(task::MODEL, digest));
            let opts = gkr::ProveOptions::advice(advice).with_witness(&witness);
            if let Err(e) = gkr::prove(model, &input, &opts, &mut p) {
                return Err(NetError::Malformed(format!("the prover failed: {e}")));
            }
            end(p, config)
        }
        Hello::Matmul { m, n, k, a, b } => {
            let max = config.max_matmul_elements;
            let too_big = [m * n, n * k, m * k].iter().any(|&x| x > max || x == 0);
            if too_big || n > matmul::MAX_INNER {
                return Err(refuse(
                    &mut writer,
                    &format!("a {m}×{n}·{n}×{k} product is beyond this server's limits"),
                ));
            }
            let shape = Shape { m, n, k };
            let c = matmul::gemm::gemm_i8(&a, &b, m, n, k)
                .map_err(|e| refuse(&mut writer, &e.to_string()))?;
            let mut p = NetProver::new(reader, writer);
            p.frame(kind::ACCEPT, &accept(task::MATMUL, [0; 32]));
            let ints: Vec<i64> = c.iter().map(|&v| v as i64).collect();
            p.send_ints(labels::MATMUL_RESULT, &ints);
            if let Err(e) = matmul::prove_product(&shape, &a, &b, &c, &mut p) {
                return Err(NetError::Malformed(format!("the prover failed: {e}")));
            }
            end(p, config)
        }
    }
}

/// Whether the server proves under `advice`: the modes a verifier accepts, the conjectured set
/// only when the config allows it.
///
/// # Errors
/// The refusal's text, naming the mode.
fn advice_allowed(advice: AdviceMode, config: &ServerConfig) -> Result<(), String> {
    match advice.accepted(config.allow_conjectured) {
        Ok(()) => Ok(()),
        Err(_) if advice.is_conjectured() => Err(format!(
            "advice mode {}: this server does not prove under conjectured-security PCS parameters",
            advice.name()
        )),
        Err(why) => Err(format!("advice mode refused: {why}")),
    }
}

/// Sends END, then waits (briefly) for the client's verdict.
fn end<R: std::io::Read, W: Write>(
    p: NetProver<R, W>,
    _: &ServerConfig,
) -> Result<WireStats, NetError> {
    let (stats, mut reader, _writer) = p.finish()?;
    if let Ok(f) = read_frame(&mut reader, super::MAX_TEXT) {
        if f.kind == kind::VERDICT {
            let accepted = f.payload.first() == Some(&1);
            tracing::info!(accepted, "client verdict");
        }
    }
    Ok(stats)
}
