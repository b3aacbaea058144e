//! Interactive sessions over TCP on 127.0.0.1 (issue 9): honest sessions for every model fixture
//! and for matrix products; cheating servers rejected; hostile clients never hurt the server;
//! 50 concurrent clients.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests and benches fail loudly on broken fixtures"
)]

use gkrnet::circuit::{zoo, Model, Tensor};
use gkrnet::field::Fp;
use gkrnet::gkr;
use gkrnet::matmul::{self, Shape};
use gkrnet::net::{
    self, kind, read_frame, task, write_frame, ClientError, Hello, NetError, NetProver, Server,
    ServerConfig, VERSION,
};
use gkrnet::pcs::basefold::Params;
use gkrnet::transcript::{labels, Label, ProverTranscript, Transcript};
use rand::{Rng, SeedableRng};
use std::io::{BufReader, BufWriter, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(20);

/// A running server on an ephemeral port; stopped (and joined) on drop.
struct Running {
    addr: String,
    stop: Arc<std::sync::atomic::AtomicBool>,
    stats: Arc<net::ServerStats>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            t.join().unwrap();
        }
    }
}

fn start(model: Option<Model>, config: ServerConfig) -> Running {
    let server = Server::bind("127.0.0.1:0", model, config).unwrap();
    let addr = server.local_addr().unwrap().to_string();
    let (stop, stats) = (server.shutdown_handle(), server.stats());
    let thread = std::thread::spawn(move || server.run().unwrap());
    Running { addr, stop, stats, thread: Some(thread) }
}

fn config() -> ServerConfig {
    ServerConfig {
        max_sessions: 4,
        queue: 64,
        idle_timeout: Duration::from_secs(2),
        max_matmul_elements: 1 << 16,
        ..ServerConfig::default()
    }
}

/// A copy of a model (the server owns its own).
fn copy(model: &Model) -> Model {
    Model::decode(&model.encode()).unwrap()
}

#[cfg(feature = "onnx")]
#[test]
fn honest_sessions_verify_every_model_fixture() {
    use gkrnet::onnx::{self, ImportOptions};
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models");
    for (name, inputs, len) in [
        ("digits_mlp", "digits_test_inputs.npy", 64),
        ("digits_mlp_qop", "digits_test_inputs.npy", 64),
        ("digits_mlp_qdq", "digits_test_inputs.npy", 64),
        ("digits_cnn", "digits_test_inputs.npy", 64),
        ("digits_cnn_qop", "digits_test_inputs.npy", 64),
        ("digits_cnn_qdq", "digits_test_inputs.npy", 64),
        ("lenet5_seeded", "lenet5_seeded_inputs.npy", 784),
        ("ops_cnn", "ops_cnn_inputs.npy", 64),
        ("ops_mlp", "ops_mlp_inputs.npy", 64),
    ] {
        let (_, data) = onnx::read_npy(&dir.join(inputs)).unwrap();
        let xs: Vec<Vec<f32>> =
            data.chunks(len).map(|c| c.iter().map(|&v| v as f32).collect()).collect();
        let opts = ImportOptions { calibration: Some(xs.clone()), ..Default::default() };
        let imported = onnx::import(&dir.join(format!("{name}.onnx")), &opts).unwrap();
        let server = start(Some(copy(&imported.model)), config());
        for x in &xs[..2] {
            let input = imported.quantize_input(x).unwrap();
            let session = net::connect_model(&server.addr, &imported.model, &input, TIMEOUT)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(session.result, *imported.model.forward(&input).unwrap().output(), "{name}");
            assert!(session.stats.challenges > 10, "{name}: {:?}", session.stats);
        }
    }
}

#[test]
fn honest_matrix_products_verify() {
    let server = start(None, config());
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(3);
    for (m, n, k) in [(1, 1, 1), (7, 13, 5), (64, 100, 33), (128, 256, 64)] {
        let a: Vec<i8> = (0..m * n).map(|_| rng.gen()).collect();
        let b: Vec<i8> = (0..n * k).map(|_| rng.gen()).collect();
        let shape = Shape { m, n, k };
        let s = net::connect_matmul(&server.addr, shape, &a, &b, TIMEOUT).unwrap();
        assert_eq!(s.result, matmul::gemm::gemm_i8_naive(&a, &b, m, n, k).unwrap());
    }
    // beyond the server's limits: refused with a reason, before the matrices are read (a HELLO
    // larger than two matrices at the limit) or after (a C beyond the limit)
    for ((m, n, k), why) in [((512, 512, 512), "exceeds"), ((4096, 1, 4096), "limits")] {
        let (a, b) = (vec![1i8; m * n], vec![1i8; n * k]);
        match net::connect_matmul(&server.addr, Shape { m, n, k }, &a, &b, TIMEOUT) {
            Err(ClientError::Net(e)) => assert!(e.to_string().contains(why), "{e}"),
            other => panic!("{other:?}"),
        }
    }
}

/// How a cheating server departs from the protocol.
#[derive(Clone, Copy, Debug)]
enum Cheat {
    /// Changes one entry of the claimed output.
    WrongOutput,
    /// Adds 1 to the first element of the i-th sumcheck round message.
    TamperRound(usize),
    /// Sends a made-up round message before reading the challenge it must follow.
    AnswerEarly(usize),
    /// Sends one more message after the proof.
    Extra,
    /// Flips a bit of the i-th raw-bytes message (Merkle roots and paths of committed advice).
    TamperBytes(usize),
}

/// The prover transcript of a cheating server.
struct Cheater<P> {
    inner: P,
    cheat: Cheat,
    rounds: usize,
    challenges: usize,
    byte_messages: usize,
}

impl<P: ProverTranscript> Transcript for Cheater<P> {
    fn append_bytes(&mut self, l: Label, b: &[u8]) {
        self.inner.append_bytes(l, b);
    }
    fn append_fields(&mut self, l: Label, x: &[Fp]) {
        self.inner.append_fields(l, x);
    }
    fn challenge(&mut self, l: Label) -> Fp {
        self.challenges += 1;
        if let Cheat::AnswerEarly(i) = self.cheat {
            if self.challenges == i {
                self.inner.send(labels::SUMCHECK_ROUND, &[Fp::from(7u64), Fp::from(9u64)]);
            }
        }
        self.inner.challenge(l)
    }
}

impl<P: ProverTranscript> ProverTranscript for Cheater<P> {
    fn send(&mut self, label: Label, msg: &[Fp]) {
        let mut msg = msg.to_vec();
        if label == labels::SUMCHECK_ROUND {
            if matches!(self.cheat, Cheat::TamperRound(i) if i == self.rounds) {
                msg[0] += Fp::from(1u64);
            }
            self.rounds += 1;
        }
        self.inner.send(label, &msg);
    }
    fn send_ints(&mut self, label: Label, ints: &[i64]) {
        let mut ints = ints.to_vec();
        if label == labels::GKR_OUTPUT && matches!(self.cheat, Cheat::WrongOutput) {
            ints[0] = if ints[0] == 127 { 126 } else { ints[0] + 1 };
        }
        self.inner.send_ints(label, &ints);
    }
    fn send_bytes(&mut self, label: Label, bytes: &[u8]) {
        let mut bytes = bytes.to_vec();
        if matches!(self.cheat, Cheat::TamperBytes(i) if i == self.byte_messages) {
            bytes[0] ^= 1;
        }
        self.byte_messages += 1;
        self.inner.send_bytes(label, &bytes);
    }
}

/// A one-connection cheating server for `model`.
fn cheating_server(model: Model, cheat: Cheat) -> (String, std::thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let t = std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let writer = BufWriter::new(stream);
        let f = read_frame(&mut reader, 1 << 20).unwrap();
        let Hello::Model { digest, input, advice } = Hello::decode(&f.payload).unwrap() else {
            panic!()
        };
        let input =
            Tensor::new(model.input_dims.clone(), input.iter().map(|&v| v as i64).collect())
                .unwrap();
        let mut p = NetProver::new(reader, writer);
        let mut accept = VERSION.to_le_bytes().to_vec();
        accept.push(task::MODEL);
        accept.extend_from_slice(&digest);
        p.frame(kind::ACCEPT, &accept);
        let w = model.forward(&input).unwrap();
        let mut c = Cheater { inner: p, cheat, rounds: 0, challenges: 0, byte_messages: 0 };
        let _ = gkr::prove(
            &model,
            &w.tensors[0],
            &gkr::ProveOptions::advice(advice).with_witness(&w).unchecked(),
            &mut c,
        );
        if matches!(cheat, Cheat::Extra) {
            c.inner.send(labels::SUMCHECK_ROUND, &[Fp::from(1u64)]);
        }
        let _ = c.inner.finish();
    });
    (addr, t)
}

#[test]
fn cheating_servers_are_rejected() {
    let model = zoo::mlp("net-mlp", &[12, 10, 6], 1, 4).unwrap();
    let input = zoo::random_input(&model, 2);
    for cheat in [
        Cheat::WrongOutput,
        Cheat::TamperRound(0),
        Cheat::TamperRound(5),
        Cheat::TamperRound(40),
        Cheat::AnswerEarly(1),
        Cheat::AnswerEarly(12),
        Cheat::Extra,
    ] {
        let (addr, t) = cheating_server(copy(&model), cheat);
        let r = net::connect_model(&addr, &model, &input, TIMEOUT);
        assert!(matches!(r, Err(ClientError::Rejected(_))), "{cheat:?}: {r:?}");
        t.join().unwrap();
    }
    // the same harness without a cheat is accepted (the cheats are what is rejected)
    let (addr, t) = cheating_server(copy(&model), Cheat::TamperRound(usize::MAX));
    let s = net::connect_model(&addr, &model, &input, TIMEOUT).unwrap();
    assert_eq!(s.result, *model.forward(&input).unwrap().output());
    t.join().unwrap();
}

#[test]
fn committed_advice_sessions_verify_and_cheats_are_rejected() {
    // the client picks the mode; the commitment's queries are its own coins
    let model = zoo::lenet5();
    let input = zoo::random_input(&model, 5);
    let server = start(Some(copy(&model)), config());
    for mode in [gkr::AdviceMode::PROVABLE, gkr::AdviceMode::CONJECTURED] {
        let s = net::connect_model_mode(&server.addr, &model, &input, mode, TIMEOUT)
            .unwrap_or_else(|e| panic!("{}: {e}", mode.name()));
        assert_eq!(s.result, *model.forward(&input).unwrap().output());
    }
    let small = zoo::mlp("net-committed", &[12, 10, 6], 1, 4).unwrap();
    let input = zoo::random_input(&small, 2);
    let mode = gkr::AdviceMode::CONJECTURED;
    for cheat in [
        Cheat::WrongOutput,
        Cheat::TamperRound(3),
        Cheat::TamperRound(30),
        // the small table's only bytes messages: its root, then its codeword's cap and paths
        Cheat::TamperBytes(0),
        Cheat::TamperBytes(1),
        Cheat::AnswerEarly(20),
    ] {
        let (addr, t) = cheating_server(copy(&small), cheat);
        let r = net::connect_model_mode(&addr, &small, &input, mode, TIMEOUT);
        assert!(matches!(r, Err(ClientError::Rejected(_))), "{cheat:?}: {r:?}");
        t.join().unwrap();
    }
    let (addr, t) = cheating_server(copy(&small), Cheat::TamperBytes(usize::MAX));
    let s = net::connect_model_mode(&addr, &small, &input, mode, TIMEOUT).unwrap();
    assert_eq!(s.result, *small.forward(&input).unwrap().output());
    t.join().unwrap();
}

/// Issue 17, finding 4: one HELLO naming PCS parameters no verifier accepts (rate 2^-8, 65 535
/// queries and 32 bits of grinding: minutes of server work; or one query without grinding: no
/// soundness) gets a REFUSE frame at once, which the client reports; so does the conjectured set
/// on a server configured to refuse it.
#[test]
fn hello_naming_weak_pcs_parameters_is_refused_quickly() {
    let model = zoo::mlp("net-weak-params", &[12, 10, 6], 1, 4).unwrap();
    let input = zoo::random_input(&model, 2);
    let server = start(Some(copy(&model)), config());
    let heavy = gkr::AdviceMode::Committed(Params {
        rate_log: 8,
        queries: 65_535,
        fold_log: 4,
        pow_bits: 32,
    });
    let one_query =
        gkr::AdviceMode::Committed(Params { rate_log: 2, queries: 1, fold_log: 4, pow_bits: 0 });
    let cases = [
        (
            heavy,
            "advice mode refused: PCS parameters that are neither the provable nor the conjectured \
             set: committed (rate 2^-8, 65535 queries, arity 2^4, 32 bits of grinding)",
        ),
        (
            one_query,
            "advice mode refused: PCS parameters that are neither the provable nor the conjectured \
             set: committed (rate 2^-2, 1 queries, arity 2^4, 0 bits of grinding)",
        ),
    ];
    for (mode, want) in cases {
        let start = std::time::Instant::now();
        match net::connect_model_mode(&server.addr, &model, &input, mode, TIMEOUT) {
            Err(ClientError::Net(NetError::Refused(why))) => assert_eq!(why, want),
            other => panic!("{}: {other:?}", mode.name()),
        }
        assert!(start.elapsed() < Duration::from_secs(5), "{}: {:?}", mode.name(), start.elapsed());
        // the frame itself, from a raw client
        let mut s = raw(&server.addr);
        let data: Vec<i8> = input.data.iter().map(|&v| v as i8).collect();
        let hello = Hello::Model { digest: model.digest(), advice: mode, input: data }.encode();
        write_frame(&mut s, kind::HELLO, &hello).unwrap();
        let f = read_frame(&mut s, net::MAX_TEXT).unwrap();
        assert_eq!((f.kind, String::from_utf8(f.payload).unwrap()), (kind::REFUSE, want.into()));
    }
    assert_eq!(server.stats.completed.load(Ordering::SeqCst), 0);
    // the accepted sets are still proved
    for mode in [gkr::AdviceMode::Clear, gkr::AdviceMode::CONJECTURED] {
        let s = net::connect_model_mode(&server.addr, &model, &input, mode, TIMEOUT).unwrap();
        assert_eq!(s.result, *model.forward(&input).unwrap().output());
    }
    // a server that refuses the conjectured set
    let strict = start(Some(copy(&model)), ServerConfig { allow_conjectured: false, ..config() });
    let mode = gkr::AdviceMode::CONJECTURED;
    match net::connect_model_mode(&strict.addr, &model, &input, mode, TIMEOUT) {
        Err(ClientError::Net(NetError::Refused(why))) => assert_eq!(
            why,
            "advice mode conjectured: this server does not prove under conjectured-security PCS \
             parameters"
        ),
        other => panic!("{other:?}"),
    }
    let s =
        net::connect_model_mode(&strict.addr, &model, &input, gkr::AdviceMode::PROVABLE, TIMEOUT)
            .unwrap();
    assert_eq!(s.result, *model.forward(&input).unwrap().output());
}

fn raw(addr: &str) -> TcpStream {
    let s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s
}

/// Reads until the server closes (or the timeout), returning the first frame kind seen.
fn drain(mut s: TcpStream) -> Option<u8> {
    let mut first = None;
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => return first,
            Ok(n) => {
                first.get_or_insert(buf[0]);
                let _ = n;
            }
        }
    }
}

#[test]
fn hostile_clients_never_hurt_the_server() {
    let model = zoo::mlp("net-hostile", &[16, 12, 4], 1, 9).unwrap();
    let input = zoo::random_input(&model, 1);
    let server = start(Some(copy(&model)), config());
    let honest = |what: &str| {
        let s = net::connect_model(&server.addr, &model, &input, TIMEOUT)
            .unwrap_or_else(|e| panic!("after {what}: {e}"));
        assert_eq!(s.result, *model.forward(&input).unwrap().output(), "after {what}");
    };
    honest("nothing");
    // random bytes
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
    for _ in 0..5 {
        let mut s = raw(&server.addr);
        let junk: Vec<u8> = (0..rng.gen_range(1..300)).map(|_| rng.gen()).collect();
        let _ = s.write_all(&junk);
        drop(s);
    }
    honest("random bytes");
    // a truncated frame: a HELLO header announcing more than is sent, then silence
    let mut s = raw(&server.addr);
    s.write_all(&[kind::HELLO, 100, 0, 0, 0, 1, 2, 3]).unwrap();
    assert_eq!(drain(s), None, "the server closes without a word");
    honest("a truncated frame");
    // an oversized length prefix: refused before any allocation
    let mut s = raw(&server.addr);
    s.write_all(&[kind::HELLO, 0xff, 0xff, 0xff, 0x7f]).unwrap();
    assert_eq!(drain(s), Some(kind::REFUSE));
    honest("an oversized length");
    // a wrong protocol version
    let mut s = raw(&server.addr);
    let mut hello =
        Hello::Model { digest: model.digest(), advice: gkr::AdviceMode::Clear, input: vec![0; 16] }
            .encode();
    hello[0] = 99;
    write_frame(&mut s, kind::HELLO, &hello).unwrap();
    assert_eq!(drain(s), Some(kind::REFUSE));
    honest("a wrong version");
    // another model's digest
    let mut s = raw(&server.addr);
    write_frame(
        &mut s,
        kind::HELLO,
        &Hello::Model { digest: [7; 32], advice: gkr::AdviceMode::Clear, input: vec![0; 16] }
            .encode(),
    )
    .unwrap();
    assert_eq!(drain(s), Some(kind::REFUSE));
    // a client that connects and stays silent: the idle timeout ends its session
    let silent = raw(&server.addr);
    honest("a silent client");
    assert_eq!(drain(silent), None);
    // a client that disconnects mid-proof: HELLO, then it reads a little and leaves
    let hello = || {
        let mut s = raw(&server.addr);
        let data: Vec<i8> = input.data.iter().map(|&v| v as i8).collect();
        let h =
            Hello::Model { digest: model.digest(), advice: gkr::AdviceMode::Clear, input: data }
                .encode();
        write_frame(&mut s, kind::HELLO, &h).unwrap();
        s
    };
    for _ in 0..3 {
        let mut s = hello();
        let _ = read_frame(&mut s, 64);
        let _ = read_frame(&mut s, 1 << 20);
        drop(s);
    }
    // a client that answers a challenge with garbage
    let mut s = hello();
    write_frame(&mut s, kind::CHALLENGE, &[0xff; 16]).unwrap();
    drop(s);
    honest("clients that left mid-proof");
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(server.stats.active.load(Ordering::SeqCst), 0, "every session was freed");
    assert!(server.stats.aborted.load(Ordering::SeqCst) >= 10);
}

fn threads() -> usize {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("Threads:")).map(str::to_string))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        .unwrap_or(0)
}

#[test]
fn fifty_concurrent_clients_all_verify() {
    let model = zoo::mlp("net-fifty", &[24, 16, 10], 1, 5).unwrap();
    let server = start(Some(copy(&model)), config());
    let model = Arc::new(model);
    let clients: Vec<_> = (0..50u64)
        .map(|i| {
            let (addr, model) = (server.addr.clone(), model.clone());
            std::thread::spawn(move || {
                let input = zoo::random_input(&model, i);
                let s = net::connect_model(&addr, &model, &input, Duration::from_secs(60))
                    .unwrap_or_else(|e| panic!("client {i}: {e}"));
                assert_eq!(s.result, *model.forward(&input).unwrap().output());
                threads()
            })
        })
        .collect();
    let peak = clients.into_iter().map(|c| c.join().unwrap()).max().unwrap();
    let st = &server.stats;
    // the server counts a session after the client's verdict, which may trail its last check
    for _ in 0..100 {
        if st.completed.load(Ordering::SeqCst) == 50 {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(st.completed.load(Ordering::SeqCst), 50);
    assert!(st.max_active.load(Ordering::SeqCst) <= 4, "sessions are bounded");
    assert_eq!(st.busy.load(Ordering::SeqCst), 0);
    // the 50 client threads, the server's 4 workers and its accept loop, rayon, the harness
    assert!(peak <= 50 + 4 + 1 + 2 * rayon::current_num_threads() + 8, "{peak} threads");
}
