//! `gkrnet serve` / `gkrnet connect` (and `gkrnet matmul serve` / `connect`): interactive proofs
//! over TCP, the client drawing every challenge from the OS.

#[cfg(feature = "onnx")]
use super::compile::hex;
#[cfg(feature = "onnx")]
use super::load::{load_model, output_json, read_input, CompileOptions};
use super::npy::{self, Matrix};
use super::{Global, Outcome};
use anyhow::{bail, Context, Result};
use gkrnet::matmul::Shape;
use gkrnet::net::{self, ClientError, Server, ServerConfig};
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::Duration;

#[derive(clap::Args, Debug, Clone)]
pub struct Limits {
    /// Sessions proved at once (worker threads).
    #[arg(long, default_value_t = 8)]
    max_sessions: usize,
    /// Connections that may wait for a worker; beyond that, clients are refused as busy.
    #[arg(long, default_value_t = 64)]
    queue: usize,
    /// Seconds to wait for a client's frame before ending its session.
    #[arg(long, default_value_t = 30)]
    idle_timeout: u64,
}

#[cfg(feature = "onnx")]
#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    /// The model to prove: an ONNX file (compiled here) or a .gkrm.
    #[arg(long)]
    model: PathBuf,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:7878")]
    listen: String,
    #[command(flatten)]
    limits: Limits,
    /// Refuse clients that ask for advice committed under the conjectured parameters (by default
    /// the server proves under the modes a verifier accepts with --allow-conjectured: clear,
    /// provable and conjectured; any other parameters are always refused).
    #[arg(long)]
    refuse_conjectured: bool,
    #[command(flatten)]
    compile: CompileOptions,
}

#[cfg(feature = "onnx")]
#[derive(clap::Args, Debug)]
pub struct ConnectArgs {
    /// The model the client holds (an ONNX file compiled here, or the .gkrm).
    #[arg(long)]
    model: PathBuf,
    /// The input (.npy or ezkl JSON).
    #[arg(long)]
    input: PathBuf,
    /// The server's address.
    #[arg(long, default_value = "127.0.0.1:7878")]
    server: String,
    /// Where to write the verified output (JSON).
    #[arg(long)]
    output: Option<PathBuf>,
    /// Seconds to wait for the server at any step.
    #[arg(long, default_value_t = 60)]
    timeout: u64,
    /// How the server binds its advice: clear, provable or conjectured (committed; the
    /// commitment's queries are this client's own coins).
    #[arg(long, default_value = "clear", value_parser = super::parse_advice)]
    advice: gkrnet::gkr::AdviceMode,
    /// The digest the client's model must have, as its owner published it (64 hex digits):
    /// anything else is refused (exit 1) before connecting.
    #[arg(long, value_parser = super::prove::parse_digest)]
    expect_digest: Option<[u8; 32]>,
    #[command(flatten)]
    compile: CompileOptions,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args, Debug)]
pub struct MatmulServeArgs {
    #[arg(long, default_value = "127.0.0.1:7879")]
    listen: String,
    /// Largest m·n, n·k and m·k served.
    #[arg(long, default_value_t = 1 << 22)]
    max_elements: usize,
    #[command(flatten)]
    limits: Limits,
}

#[derive(clap::Args, Debug)]
pub struct MatmulConnectArgs {
    /// A, an m×n int8 matrix (.npy).
    #[arg(long)]
    a: PathBuf,
    /// B, an n×k int8 matrix (.npy).
    #[arg(long)]
    b: PathBuf,
    /// Where to write the verified C (int32 .npy).
    #[arg(long = "c-out")]
    c_out: Option<PathBuf>,
    #[arg(long, default_value = "127.0.0.1:7879")]
    server: String,
    #[arg(long, default_value_t = 60)]
    timeout: u64,
    #[arg(long)]
    json: bool,
}

fn config(l: &Limits, max_matmul_elements: usize) -> ServerConfig {
    ServerConfig {
        max_sessions: l.max_sessions.max(1),
        queue: l.queue.max(1),
        idle_timeout: Duration::from_secs(l.idle_timeout.max(1)),
        max_matmul_elements,
        ..ServerConfig::default()
    }
}

fn run_server(server: Server, what: &str, quiet: bool) -> Result<Outcome> {
    let addr = server.local_addr()?;
    let stop = server.shutdown_handle();
    ctrlc::set_handler(move || stop.store(true, Ordering::SeqCst))
        .context("cannot install the Ctrl-C handler")?;
    let stats = server.stats();
    if !quiet {
        eprintln!("serving {what} on {addr} (Ctrl-C stops)");
    }
    server.run()?;
    if !quiet {
        eprintln!(
            "stopped: {} sessions proved, {} ended early, {} refused as busy",
            stats.completed.load(Ordering::Relaxed),
            stats.aborted.load(Ordering::Relaxed),
            stats.busy.load(Ordering::Relaxed)
        );
    }
    Ok(Outcome::Accepted)
}

#[cfg(feature = "onnx")]
pub fn serve(args: ServeArgs, g: &Global) -> Result<Outcome> {
    let loaded = load_model(&args.model, &args.compile, None, g.quiet)?;
    let model = loaded.into_model();
    let what = format!("{} (digest {})", model.name, hex(&model.digest()));
    let config =
        ServerConfig { allow_conjectured: !args.refuse_conjectured, ..config(&args.limits, 0) };
    let server = Server::bind(&args.listen, Some(model), config)
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    run_server(server, &what, g.quiet)
}

fn rejected(e: ClientError) -> Result<Outcome> {
    match e {
        ClientError::Rejected(e) => Ok(Outcome::Rejected(e.to_string())),
        ClientError::Net(e) => bail!("{e}"),
    }
}

#[cfg(feature = "onnx")]
pub fn connect(args: ConnectArgs, g: &Global) -> Result<Outcome> {
    let loaded = load_model(&args.model, &args.compile, Some(&args.input), g.quiet || args.json)?;
    let model = loaded.model();
    let input = read_input(&args.input, model)?;
    // the library's acceptance policy: the expected digest, and the advice mode this client
    // asks for within the sets a verifier accepts (conjectured is the client's own choice)
    let policy = gkrnet::gkr::Policy { allow_conjectured: true, expect_digest: args.expect_digest };
    if let Err(e) = policy.admit_parts(model.digest(), None, args.advice) {
        return Ok(Outcome::Rejected(e.to_string()));
    }
    let timeout = Duration::from_secs(args.timeout.max(1));
    let session = match net::connect_model_mode(&args.server, model, &input, args.advice, timeout) {
        Ok(s) => s,
        Err(e) => return rejected(e),
    };
    if let Some(path) = &args.output {
        super::load::write_output(path, model, &session.result)?;
    }
    let o = output_json(model, &session.result);
    let st = session.stats;
    if args.json {
        let mut obj = serde_json::json!({
            "model": model.name,
            "digest": hex(&model.digest()),
            "verified": true,
            "session_ms": session.elapsed.as_secs_f64() * 1e3,
            "round_trips": st.challenges,
            "messages": st.messages,
            "bytes_sent": st.bytes_sent,
            "bytes_received": st.bytes_received,
            "output": o["output"],
            "output_int": o["output_int"],
            "predicted": o["predicted"],
        });
        super::load::add_outputs(&mut obj, &o);
        println!("{obj}");
    } else if !g.quiet {
        println!("verified {} interactively with {}", model.name, args.server);
        println!(
            "session  {:.1} ms, {} round trips, {} messages, {} bytes received, {} sent",
            session.elapsed.as_secs_f64() * 1e3,
            st.challenges,
            st.messages,
            st.bytes_received,
            st.bytes_sent
        );
        for line in super::load::output_text("output  ", &o) {
            println!("{line}");
        }
    }
    Ok(Outcome::Accepted)
}

pub fn matmul_serve(args: MatmulServeArgs, g: &Global) -> Result<Outcome> {
    let server = Server::bind(&args.listen, None, config(&args.limits, args.max_elements.max(1)))
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    run_server(server, "int8 matrix products", g.quiet)
}

pub fn matmul_connect(args: MatmulConnectArgs, g: &Global) -> Result<Outcome> {
    let a = npy::read_i8(&args.a)?;
    let b = npy::read_i8(&args.b)?;
    if a.cols != b.rows {
        bail!(
            "A is {}×{} and B is {}×{}: the inner dimensions differ",
            a.rows,
            a.cols,
            b.rows,
            b.cols
        );
    }
    let shape = Shape { m: a.rows, n: a.cols, k: b.cols };
    let timeout = Duration::from_secs(args.timeout.max(1));
    let session = match net::connect_matmul(&args.server, shape, &a.data, &b.data, timeout) {
        Ok(s) => s,
        Err(e) => return rejected(e),
    };
    if let Some(path) = &args.c_out {
        npy::write(path, &Matrix { data: session.result.clone(), rows: shape.m, cols: shape.k })?;
    }
    let st = session.stats;
    if args.json {
        println!(
            "{}",
            serde_json::json!({
                "verified": true, "m": shape.m, "n": shape.n, "k": shape.k,
                "session_ms": session.elapsed.as_secs_f64() * 1e3,
                "round_trips": st.challenges, "bytes_sent": st.bytes_sent,
                "bytes_received": st.bytes_received,
            })
        );
    } else if !g.quiet {
        println!(
            "verified C = A·B ({}×{}·{}×{}) in {:.1} ms: {} round trips, {} bytes received, {} sent",
            shape.m,
            shape.n,
            shape.n,
            shape.k,
            session.elapsed.as_secs_f64() * 1e3,
            st.challenges,
            st.bytes_received,
            st.bytes_sent
        );
    }
    Ok(Outcome::Accepted)
}
