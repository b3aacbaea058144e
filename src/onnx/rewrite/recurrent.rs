//! LSTM, GRU and RNN unrolled over the sequence length into standard ops (see the parent
//! module and `paper-notes/rewrite.md`).

use super::{int_attr, view, Emit, Env, ProtoEnv, NOTE_KEY, REWRITTEN};
use crate::onnx::graph::{Attr, Const, Node};
use crate::onnx::ImportError;
use std::collections::HashMap;
use tract_onnx::pb;

/// The recurrent ops [`unroll`] expands.
fn is_recurrent(n: &pb::NodeProto) -> bool {
    (n.domain.is_empty() || n.domain == "ai.onnx")
        && matches!(n.op_type.as_str(), "LSTM" | "GRU" | "RNN")
}

/// Whether the graph holds an LSTM, GRU or RNN node.
pub fn recurrent(proto: &pb::ModelProto) -> bool {
    proto.graph.as_ref().is_some_and(|g| g.node.iter().any(is_recurrent))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cell {
    /// Gates i, o, f, c (ONNX order).
    Lstm,
    /// Gates z, r, h.
    Gru {
        linear_before_reset: bool,
    },
    Rnn,
}

impl Cell {
    fn gates(self) -> usize {
        match self {
            Cell::Lstm => 4,
            Cell::Gru { .. } => 3,
            Cell::Rnn => 1,
        }
    }

    /// Activations per direction, and their defaults.
    fn activations(self) -> &'static [&'static str] {
        match self {
            Cell::Lstm => &["Sigmoid", "Tanh", "Tanh"],
            Cell::Gru { .. } => &["Sigmoid", "Tanh"],
            Cell::Rnn => &["Tanh"],
        }
    }
}

/// A recurrent node as the unrolling reads it (everything but the sequence length).
struct Recurrent {
    cell: Cell,
    hidden: usize,
    /// Per direction: whether it runs backwards in time.
    reverse: Vec<bool>,
    /// Batch-major layout (X is [batch, seq, input]).
    batch_major: bool,
    w: Const,
    r: Const,
    b: Option<Const>,
    peepholes: Option<Const>,
    /// Initial hidden and cell states, when given and not zero.
    h0: Option<String>,
    c0: Option<String>,
    /// ONNX op names of the activations, per direction.
    acts: Vec<Vec<String>>,
}

/// Whether tensor `name` is all zeros: a constant, or a zero constant through Expand, Tile,
/// Identity, Cast and reshapes (how exporters write a zero initial state), or ConstantOfShape 0.
fn is_zero(env: &dyn Env, name: &str, depth: usize) -> bool {
    if let Some(c) = env.constant(name) {
        return c.data.iter().all(|&v| v == 0.0);
    }
    let Some(p) = env.producer(name).filter(|_| depth < 16) else { return false };
    match p.op.as_str() {
        "Expand" | "Tile" | "Identity" | "Cast" | "Reshape" | "Unsqueeze" | "Squeeze"
        | "Transpose" | "Flatten" => p.input(0).is_some_and(|x| is_zero(env, x, depth + 1)),
        "ConstantOfShape" => match p.attrs.get("value") {
            None => true,
            Some(Attr::Tensor(c)) => c.data.iter().all(|&v| v == 0.0),
            Some(_) => false,
        },
        _ => false,
    }
}

fn dims_are(c: &Const, want: &[usize], what: &str) -> Result<(), String> {
    if c.dims != want {
        return Err(format!("{what} has dimensions {:?}, expected {want:?}", c.dims));
    }
    Ok(())
}

impl Recurrent {
    fn read(n: &Node, env: &dyn Env) -> Result<Self, String> {
        let text = |e: ImportError| e.to_string();
        let cell = match n.op.as_str() {
            "LSTM" => Cell::Lstm,
            "GRU" => Cell::Gru {
                linear_before_reset: n.int("linear_before_reset").map_err(text)?.unwrap_or(0) != 0,
            },
            "RNN" => Cell::Rnn,
            op => return Err(format!("{op} is not a recurrent op")),
        };
        let hidden = n.int("hidden_size").map_err(text)?.ok_or("no hidden_size")?;
        let hidden = usize::try_from(hidden)
            .ok()
            .filter(|&h| (1..=4096).contains(&h))
            .ok_or(format!("hidden_size {hidden} (1 to 4096)"))?;
        let direction = n.string("direction").map_err(text)?.unwrap_or_else(|| "forward".into());
        let reverse = match direction.as_str() {
            "forward" => vec![false],
            "reverse" => vec![true],
            "bidirectional" => vec![false, true],
            d => return Err(format!("direction {d:?}")),
        };
        let batch_major = match n.int("layout").map_err(text)?.unwrap_or(0) {
            0 => false,
            1 => true,
            l => return Err(format!("layout {l}")),
        };
        if n.attrs.contains_key("clip") {
            return Err("clip (cell clipping) is not supported".into());
        }
        if n.int("input_forget").map_err(text)?.unwrap_or(0) != 0 {
            return Err("input_forget = 1 (coupled input and forget gates)".into());
        }
        if n.attrs.contains_key("activation_alpha") || n.attrs.contains_key("activation_beta") {
            return Err("activation_alpha/activation_beta (parametrized activations)".into());
        }
        let per = cell.activations().len();
        let names: Vec<String> = match n.attrs.get("activations") {
            None => reverse
                .iter()
                .flat_map(|_| cell.activations().iter().map(|s| s.to_string()))
                .collect(),
            Some(Attr::Strs(a)) => a.clone(),
            Some(_) => return Err("activations is not a list of strings".into()),
        };
        if names.len() != per * reverse.len() {
            return Err(format!("{} activations for {} directions", names.len(), reverse.len()));
        }
        let mut acts = Vec::new();
        for chunk in names.chunks(per) {
            let mut dir = Vec::new();
            for a in chunk {
                dir.push(match a.to_ascii_lowercase().as_str() {
                    "sigmoid" => "Sigmoid".to_string(),
                    "tanh" => "Tanh".to_string(),
                    "relu" => "Relu".to_string(),
                    _ => return Err(format!("activation {a:?} (Sigmoid, Tanh or Relu)")),
                });
            }
            acts.push(dir);
        }
        let constant = |i: usize, what: &str| -> Result<Option<Const>, String> {
            match n.input(i) {
                None => Ok(None),
                Some(x) => env.constant(x).map(Some).ok_or(format!("{what} is not a constant")),
            }
        };
        let (dirs, rows) = (reverse.len(), cell.gates() * hidden);
        let w = constant(1, "W")?.ok_or("no W")?;
        let inputs = w.dims.get(2).copied().ok_or("W is not of rank 3")?;
        dims_are(&w, &[dirs, rows, inputs], "W")?;
        let r = constant(2, "R")?.ok_or("no R")?;
        dims_are(&r, &[dirs, rows, hidden], "R")?;
        let b = constant(3, "B")?;
        if let Some(b) = &b {
            dims_are(b, &[dirs, 2 * rows], "B")?;
        }
        if n.input(4).is_some() {
            return Err("sequence_lens (sequences of different lengths)".into());
        }
        let state = |i: usize| n.input(i).filter(|x| !is_zero(env, x, 0)).map(str::to_string);
        let (h0, c0) = (state(5), if cell == Cell::Lstm { state(6) } else { None });
        let peepholes = if cell == Cell::Lstm { constant(7, "P")? } else { None };
        if let Some(p) = &peepholes {
            dims_are(p, &[dirs, 3 * hidden], "P")?;
        }
        Ok(Self { cell, hidden, reverse, batch_major, w, r, b, peepholes, h0, c0, acts })
    }

    /// Rows `gate·H … (gate+1)·H` of direction `d` of a [dirs, G·H, K] weight, transposed to [K, H].
    fn gate_weight(&self, e: &mut Emit, m: &Const, d: usize, gate: usize) -> String {
        let (h, k) = (self.hidden, m.dims.get(2).copied().unwrap_or(0));
        let base = (d * self.cell.gates() * h + gate * h) * k;
        let mut t = Vec::with_capacity(k * h);
        for col in 0..k {
            for row in 0..h {
                t.push(m.data.get(base + row * k + col).copied().unwrap_or(0.0) as f32);
            }
        }
        e.floats(&[k, h], t)
    }

    /// Bias of a gate: Wb (+ Rb unless `split`), and Rb alone.
    fn gate_bias(&self, d: usize, gate: usize) -> (Vec<f32>, Vec<f32>) {
        let (h, g) = (self.hidden, self.cell.gates());
        let at =
            |i: usize| self.b.as_ref().and_then(|b| b.data.get(i)).copied().unwrap_or(0.0) as f32;
        let wb = (0..h).map(|j| at(d * 2 * g * h + gate * h + j)).collect();
        let rb = (0..h).map(|j| at(d * 2 * g * h + g * h + gate * h + j)).collect();
        (wb, rb)
    }

    /// Row `d` of a [dirs, B, H] state as [B, H].
    fn state(&self, e: &mut Emit, name: &Option<String>, d: usize) -> Option<String> {
        let name = name.as_ref()?;
        let index = e.ints(&[], vec![d as i64]);
        Some(e.op("Gather", &[name, &index], vec![int_attr("axis", 0)]))
    }
}

/// Unrolls every LSTM, GRU and RNN node over the sequence length of its input at model input
/// dimensions `input_dims` (each graph input's, in graph order; read from tract's run of the
/// graph as given).
pub fn unroll(proto: &mut pb::ModelProto, input_dims: &[Vec<usize>]) -> Result<(), ImportError> {
    if !recurrent(proto) {
        return Ok(());
    }
    let g = proto.graph.as_ref().ok_or_else(|| ImportError::Graph("no graph".into()))?;
    let xs: Vec<String> = g
        .node
        .iter()
        .filter(|n| is_recurrent(n))
        .filter_map(|n| n.input.first().cloned())
        .collect();
    let outputs: Vec<String> = g.output.iter().map(|o| o.name.clone()).collect();
    let mut shapes: HashMap<String, Vec<usize>> = {
        let reference = crate::onnx::FloatReference::with_inputs(proto, input_dims, &outputs, &xs)?;
        let zeros = vec![0f32; input_dims.iter().map(|d| d.iter().product::<usize>()).sum()];
        reference.run(&zeros)?.into_iter().map(|(k, (dims, _))| (k, dims)).collect()
    };
    // a recurrent layer may read the graph input itself
    let initializers: std::collections::HashSet<&str> =
        g.initializer.iter().map(|t| t.name.as_str()).collect();
    let inputs = g.input.iter().filter(|i| !initializers.contains(i.name.as_str()));
    for (i, dims) in inputs.zip(input_dims) {
        shapes.insert(i.name.clone(), dims.clone());
    }
    let mut env = ProtoEnv::new(g);
    for (i, n) in g.node.iter().enumerate() {
        let v = view(i, n);
        for o in &n.output {
            env.producers.insert(o.clone(), v.clone());
        }
    }
    let (mut nodes, mut inits, mut notes) = (Vec::new(), Vec::new(), Vec::new());
    for (i, n) in g.node.iter().enumerate() {
        if !is_recurrent(n) {
            nodes.push(n.clone());
            continue;
        }
        let v = view(i, n);
        let refuse = |reason: String| ImportError::Unsupported {
            op: v.op.clone(),
            node: v.name.clone(),
            reason,
        };
        let spec = Recurrent::read(&v, &env).map_err(refuse)?;
        let x = v.input(0).ok_or_else(|| refuse("no input X".into()))?;
        let dims = shapes.get(x).ok_or_else(|| refuse(format!("no shape for X {x:?}")))?;
        let e = unroll_node(&v, &spec, x, dims).map_err(refuse)?;
        let steps = if spec.batch_major { dims.get(1) } else { dims.first() };
        notes.push(format!(
            "{} {:?} unrolled over {} steps and {REWRITTEN} ({} nodes); the float reference \
             runs the unrolled graph",
            v.op,
            v.name,
            steps.copied().unwrap_or(0),
            e.nodes.len()
        ));
        nodes.extend(e.nodes);
        inits.extend(e.inits);
    }
    drop(env);
    let g = proto.graph.as_mut().ok_or_else(|| ImportError::Graph("no graph".into()))?;
    g.node = nodes;
    g.initializer.extend(inits);
    for value in notes {
        proto.metadata_props.push(pb::StringStringEntryProto { key: NOTE_KEY.into(), value });
    }
    Ok(())
}

/// Why a recurrent node cannot be unrolled (its registry check).
pub fn check_recurrent(n: &Node, env: &dyn Env) -> Result<(), String> {
    Recurrent::read(n, env).map(|_| ())
}

/// One direction's hidden (and cell) state after each time step, in time order.
struct Run {
    h: Vec<String>,
    c: Vec<String>,
}

fn unroll_node(n: &Node, s: &Recurrent, x: &str, dims: &[usize]) -> Result<Emit, String> {
    let [a, b, inputs] = dims[..] else {
        return Err(format!("X has dimensions {dims:?} (rank 3)"));
    };
    let (steps, _batch) = if s.batch_major { (b, a) } else { (a, b) };
    if Some(&inputs) != s.w.dims.get(2) {
        return Err(format!("X has {inputs} features, W {:?}", s.w.dims));
    }
    if steps == 0 || steps > 4096 {
        return Err(format!("sequence length {steps} (1 to 4096)"));
    }
    let mut e = Emit::new(&n.name);
    let seq_axis = i64::from(s.batch_major);
    let xt: Vec<String> = (0..steps)
        .map(|t| {
            let index = e.ints(&[], vec![t as i64]);
            e.op("Gather", &[x, &index], vec![int_attr("axis", seq_axis)])
        })
        .collect();
    let runs: Vec<Run> = (0..s.reverse.len()).map(|d| direction(&mut e, s, &xt, d)).collect();
    let h = s.hidden as i64;
    // Y: [seq, dirs, batch, H] (layout 0) or [batch, seq, dirs, H]
    if let Some(y) = n.outputs.first().filter(|o| !o.is_empty()) {
        let shape = if s.batch_major { vec![-1, 1, 1, h] } else { vec![1, 1, -1, h] };
        let (time_axis, dir_axis) = if s.batch_major { (1, 2) } else { (0, 1) };
        let per_dir: Vec<String> = runs
            .iter()
            .map(|r| {
                let parts: Vec<String> = r.h.iter().map(|ht| reshape(&mut e, ht, &shape)).collect();
                concat(&mut e, &parts, time_axis)
            })
            .collect();
        let all = concat(&mut e, &per_dir, dir_axis);
        e.to("Identity", &[&all], vec![], y);
    }
    // Y_h, Y_c: [dirs, batch, H] (layout 0) or [batch, dirs, H]
    let shape = if s.batch_major { vec![-1, 1, h] } else { vec![1, -1, h] };
    let axis = i64::from(s.batch_major);
    for (k, cell_state) in [(1usize, false), (2, true)] {
        let Some(out) = n.outputs.get(k).filter(|o| !o.is_empty()) else { continue };
        let mut parts = Vec::new();
        for (r, reverse) in runs.iter().zip(&s.reverse) {
            // the state after the direction's last step
            let seq = if cell_state { &r.c } else { &r.h };
            let state = if *reverse { seq.first() } else { seq.last() };
            let state =
                state.filter(|x| !x.is_empty()).ok_or("Y_c of a cell without a cell state")?;
            parts.push(reshape(&mut e, state, &shape));
        }
        let all = concat(&mut e, &parts, axis);
        e.to("Identity", &[&all], vec![], out);
    }
    Ok(e)
}

/// x ⊙ c for a constant row c of mixed signs, as x·diag(c) (a dense layer: the importer's
/// per-channel multipliers are positive).
fn times_row(e: &mut Emit, x: &str, row: &[f32]) -> String {
    let h = row.len();
    let mut diag = vec![0f32; h * h];
    for (j, &v) in row.iter().enumerate() {
        if let Some(d) = diag.get_mut(j * h + j) {
            *d = v;
        }
    }
    let diag = e.floats(&[h, h], diag);
    e.op("MatMul", &[x, &diag], vec![])
}

fn reshape(e: &mut Emit, x: &str, shape: &[i64]) -> String {
    let s = e.ints(&[shape.len()], shape.to_vec());
    e.op("Reshape", &[x, &s], vec![])
}

fn concat(e: &mut Emit, parts: &[String], axis: i64) -> String {
    match parts {
        [one] => one.clone(),
        _ => {
            let refs: Vec<&str> = parts.iter().map(String::as_str).collect();
            e.op("Concat", &refs, vec![int_attr("axis", axis)])
        }
    }
}

/// −(x·W_zᵀ + h·R_zᵀ + b_z): the GRU's update gate pre-activation negated (weights negated
/// as constants).
fn negated(
    e: &mut Emit,
    s: &Recurrent,
    x: &str,
    h: Option<&String>,
    w: &str,
    r: &str,
    d: usize,
) -> String {
    let neg = |e: &mut Emit, m: &str| -> String {
        let minus = e.floats(&[], vec![-1.0]);
        e.op("Mul", &[m, &minus], vec![])
    };
    let wn = neg(e, w);
    let mut sum = e.op("MatMul", &[x, &wn], vec![]);
    if let Some(hp) = h {
        let rn = neg(e, r);
        let hr = e.op("MatMul", &[hp, &rn], vec![]);
        sum = e.op("Add", &[&sum, &hr], vec![]);
    }
    let (wb, rb) = s.gate_bias(d, 0);
    let bias: Vec<f32> = wb.iter().zip(&rb).map(|(a, b)| -(a + b)).collect();
    let bias = e.floats(&[s.hidden], bias);
    e.op("Add", &[&sum, &bias], vec![])
}

/// The steps of direction `d`: the state after each time step, in time order.
fn direction(e: &mut Emit, s: &Recurrent, xt: &[String], d: usize) -> Run {
    let gates = s.cell.gates();
    let ws: Vec<String> = (0..gates).map(|k| s.gate_weight(e, &s.w, d, k)).collect();
    let rs: Vec<String> = (0..gates).map(|k| s.gate_weight(e, &s.r, d, k)).collect();
    let acts = s.acts.get(d).cloned().unwrap_or_default();
    let act = |i: usize| acts.get(i).cloned().unwrap_or_else(|| "Tanh".into());
    let mut h = s.state(e, &s.h0, d);
    let mut c = s.state(e, &s.c0, d);
    let order: Vec<usize> = if s.reverse.get(d) == Some(&true) {
        (0..xt.len()).rev().collect()
    } else {
        (0..xt.len()).collect()
    };
    let (mut hs, mut cs) = (vec![String::new(); xt.len()], vec![String::new(); xt.len()]);
    for t in order {
        let x = &xt[t];
        // x·Wₖᵀ (+ h·Rₖᵀ) + bias for gate k; `recurrent_bias`: whether Rb joins the sum
        let pre = |e: &mut Emit, k: usize, with_h: bool, recurrent_bias: bool| -> String {
            let (wb, rb) = s.gate_bias(d, k);
            let bias: Vec<f32> =
                wb.iter().zip(&rb).map(|(a, b)| if recurrent_bias { a + b } else { *a }).collect();
            let mut sum = e.op("MatMul", &[x, &ws[k]], vec![]);
            if let Some(hp) = h.as_ref().filter(|_| with_h) {
                let hr = e.op("MatMul", &[hp, &rs[k]], vec![]);
                sum = e.op("Add", &[&sum, &hr], vec![]);
            }
            let bias = e.floats(&[s.hidden], bias);
            e.op("Add", &[&sum, &bias], vec![])
        };
        match s.cell {
            Cell::Rnn => {
                let a = pre(e, 0, true, true);
                let next = e.op(&act(0), &[&a], vec![]);
                h = Some(next.clone());
                hs[t] = next;
            }
            Cell::Lstm => {
                let peep = |e: &mut Emit, k: usize, a: String, state: &Option<String>| -> String {
                    match (&s.peepholes, state) {
                        (Some(p), Some(cs)) => {
                            let row: Vec<f32> = (0..s.hidden)
                                .map(|j| {
                                    p.data
                                        .get(d * 3 * s.hidden + k * s.hidden + j)
                                        .copied()
                                        .unwrap_or(0.0) as f32
                                })
                                .collect();
                            let m = times_row(e, cs, &row);
                            e.op("Add", &[&a, &m], vec![])
                        }
                        _ => a,
                    }
                };
                // ONNX gate order i, o, f, c; peepholes i, o, f
                let ai = pre(e, 0, true, true);
                let ai = peep(e, 0, ai, &c);
                let af = pre(e, 2, true, true);
                let af = peep(e, 2, af, &c);
                let ac = pre(e, 3, true, true);
                let i = e.op(&act(0), &[&ai], vec![]);
                let f = e.op(&act(0), &[&af], vec![]);
                let g = e.op(&act(1), &[&ac], vec![]);
                let ig = e.op("Mul", &[&i, &g], vec![]);
                let next_c = match &c {
                    Some(cp) => {
                        let fc = e.op("Mul", &[&f, cp], vec![]);
                        e.op("Add", &[&fc, &ig], vec![])
                    }
                    None => ig,
                };
                let ao = pre(e, 1, true, true);
                let ao = peep(e, 1, ao, &Some(next_c.clone()));
                let o = e.op(&act(0), &[&ao], vec![]);
                let hc = e.op(&act(2), &[&next_c], vec![]);
                let next_h = e.op("Mul", &[&o, &hc], vec![]);
                c = Some(next_c.clone());
                h = Some(next_h.clone());
                hs[t] = next_h;
                cs[t] = next_c;
            }
            Cell::Gru { linear_before_reset } => {
                let az = pre(e, 0, true, true);
                let ar = pre(e, 1, true, true);
                let z = e.op(&act(0), &[&az], vec![]);
                let r = e.op(&act(0), &[&ar], vec![]);
                let (_, rbh) = s.gate_bias(d, 2);
                let ah = match (&h, linear_before_reset) {
                    (None, false) => pre(e, 2, false, true),
                    (None, true) => {
                        // r ⊙ (0·Rₕᵀ + Rbₕ)
                        let xa = pre(e, 2, false, false);
                        let m = times_row(e, &r, &rbh);
                        e.op("Add", &[&xa, &m], vec![])
                    }
                    (Some(hp), false) => {
                        let xa = pre(e, 2, false, true);
                        let rh = e.op("Mul", &[&r, hp], vec![]);
                        let m = e.op("MatMul", &[&rh, &rs[2]], vec![]);
                        e.op("Add", &[&xa, &m], vec![])
                    }
                    (Some(hp), true) => {
                        let xa = pre(e, 2, false, false);
                        let hr = e.op("MatMul", &[hp, &rs[2]], vec![]);
                        let rbh = e.floats(&[s.hidden], rbh);
                        let hr = e.op("Add", &[&hr, &rbh], vec![]);
                        let m = e.op("Mul", &[&r, &hr], vec![]);
                        e.op("Add", &[&xa, &m], vec![])
                    }
                };
                let hh = e.op(&act(1), &[&ah], vec![]);
                // (1 − z) ⊙ h̃ + z ⊙ h, with 1 − z = σ(−a_z) when the gate is a sigmoid: the
                // importer adds tensors with positive weights only
                let one_minus_z = if act(0) == "Sigmoid" {
                    let neg = negated(e, s, x, h.as_ref(), &ws[0], &rs[0], d);
                    e.op("Sigmoid", &[&neg], vec![])
                } else {
                    let one = e.floats(&[], vec![1.0]);
                    e.op("Sub", &[&one, &z], vec![])
                };
                let keep = e.op("Mul", &[&one_minus_z, &hh], vec![]);
                let next = match &h {
                    Some(hp) => {
                        let m = e.op("Mul", &[&z, hp], vec![]);
                        e.op("Add", &[&keep, &m], vec![])
                    }
                    None => keep,
                };
                h = Some(next.clone());
                hs[t] = next;
            }
        }
    }
    Run { h: hs, c: cs }
}
