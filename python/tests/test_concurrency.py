"""Threads and processes: the interpreter lock is released while proving, concurrent proofs are
independent, and a child made by fork (multiprocessing's "fork" context) can prove: the thread
pool of the parent does not exist there and must be rebuilt, not waited on forever."""

import multiprocessing
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import gkrnet


def progress_during(call, min_inner_seconds=0.2, max_calls=40):
    """Runs `call()` repeatedly while a Python thread counts; returns how many 1024-iteration
    steps the counter made strictly inside the calls, the calls' results and the inner time.

    A call that holds the interpreter lock lets the counter run only around it: between the
    caller's timestamp and the call, and after the call returns, for at most a switch interval
    or two (the forced hand-over). Steps more than 4 switch intervals inside a call are only
    possible if the call released the lock. (Checked by hand: a C call that keeps the lock,
    `sum(range(4_000_000))`, ~90 ms, shows none; a proof shows thousands.)"""
    started, stop = threading.Event(), threading.Event()
    stamps = []

    def count():
        n = 0
        started.set()
        while not stop.is_set():
            n += 1
            if n & 1023 == 0:
                stamps.append(time.perf_counter())

    counter = threading.Thread(target=count, daemon=True)
    counter.start()
    assert started.wait(timeout=10)
    margin = 4 * sys.getswitchinterval()
    windows, results = [], []
    inner = lambda: sum(max(0.0, t1 - t0 - 2 * margin) for t0, t1 in windows)  # noqa: E731
    try:
        while (inner() < min_inner_seconds or len(windows) < 2) and len(windows) < max_calls:
            t0 = time.perf_counter()
            results.append(call(len(windows)))
            t1 = time.perf_counter()
            windows.append((t0, t1))
    finally:
        stop.set()
        counter.join(timeout=10)
    assert not counter.is_alive()
    s = np.array(stamps)
    inside = sum(int(((s > t0 + margin) & (s < t1 - margin)).sum()) for t0, t1 in windows)
    return inside, results, inner()


def test_interpreter_lock_is_released_while_proving(lenet, lenet_x):
    """A Python thread counts while the main thread proves lenet5 (one prover thread, so a core
    is left for the counter; "provable" advice, so that a proof lasts many switch intervals)."""
    inside, proofs, seconds = progress_during(
        lambda i: (lenet_x[i % len(lenet_x)], lenet.prove(lenet_x[i % len(lenet_x)], advice="provable", threads=1))
    )
    assert seconds > 0, "the proofs are too fast to observe"
    # ≥ 10 240 iterations inside the proofs; with the lock held there would be none
    assert inside >= 10, (
        f"the counter advanced {inside * 1024} iterations in {seconds:.3f} s inside "
        f"{len(proofs)} proofs: the interpreter lock was not released"
    )
    for x, proof in proofs[:2]:
        gkrnet.verify(lenet, x, proof)


def test_interpreter_lock_is_released_while_compiling(models_dir, lenet_x):
    data = (models_dir / "lenet5_seeded.onnx").read_bytes()
    calibration = np.concatenate([lenet_x] * 8)  # 128 rows: the report's forward passes take a while
    inside, models, seconds = progress_during(lambda i: gkrnet.compile(data, calibration=calibration))
    if seconds == 0:
        pytest.skip("compiling is too fast on this machine to observe")
    assert inside >= 10, f"the counter advanced {inside * 1024} iterations in {seconds:.3f} s inside compiles"
    assert len({m.digest for m in models}) == 1


def test_two_threads_prove_concurrently(lenet, lenet_x, digits_cnn, digits_x):
    """Two threads prove at once (different models, different thread counts, so the bindings'
    pool cache is swapped under them); every proof verifies with the expected output."""
    barrier = threading.Barrier(2)

    def work(model, inputs, threads):
        barrier.wait(timeout=30)
        return [(x, model.prove(x, threads=threads)) for x in inputs[:4]]

    with ThreadPoolExecutor(2) as ex:
        a = ex.submit(work, lenet, lenet_x, 1)
        b = ex.submit(work, digits_cnn, digits_x, 2)
        results = [(lenet, a.result(timeout=120)), (digits_cnn, b.result(timeout=120))]
    for model, proofs in results:
        assert len(proofs) == 4
        for x, proof in proofs:
            v = gkrnet.verify(model, x, proof)
            np.testing.assert_array_equal(v.output, model.forward(x))


def test_threads_verify_concurrently(digits_cnn, digits_x):
    proofs = [(x, digits_cnn.prove(x)) for x in digits_x[:6]]
    with ThreadPoolExecutor(3) as ex:
        verified = list(ex.map(lambda xp: gkrnet.verify(digits_cnn, xp[0], xp[1]), proofs))
    for (x, _), v in zip(proofs, verified):
        assert v.predicted == int(np.argmax(digits_cnn.forward(x)))


# --- fork ----------------------------------------------------------------------------------

# what the forked children use: objects of the parent process, inherited by fork
_PARENT = {}


def _child_prove_and_verify(i):
    model, xs = _PARENT["model"], _PARENT["inputs"]
    proof = model.prove(xs[i])
    return gkrnet.verify(model, xs[i], proof).predicted


def _child_everything():
    """Every entry point that runs on a pool or releases the lock, in the child."""
    model, x, data = _PARENT["model"], _PARENT["inputs"][0], _PARENT["onnx"]
    compiled = gkrnet.compile(data, calibration=_PARENT["calibration"])
    proof = compiled.prove(x, threads=1)
    predicted = gkrnet.verify(model, x, proof, threads=2).predicted
    lenet = _PARENT["lenet"]
    c = gkrnet.commit(lenet)
    committed = lenet.prove(_PARENT["lenet_x"], commitment=c)
    gkrnet.verify(c, _PARENT["lenet_x"], committed)
    a = np.arange(-32, 32, dtype=np.int8).reshape(8, 8)
    product, mproof = gkrnet.matmul.prove(a, a)
    gkrnet.matmul.verify(a, a, product, mproof)
    return compiled.digest, predicted, c.root, int(product[0, 0])


FORK_WARNING = "ignore:This process .* is multi-threaded, use of fork:DeprecationWarning"


def fork_pool():
    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("no fork on this platform")
    return multiprocessing.get_context("fork").Pool(1)


@pytest.mark.filterwarnings(FORK_WARNING)
def test_forked_child_proves_after_the_parent_did(digits_cnn, digits_x):
    _PARENT.update(model=digits_cnn, inputs=digits_x)
    # the parent proves first, so its pool (and its threads) exist when it forks
    expected = [gkrnet.verify(digits_cnn, digits_x[i], digits_cnn.prove(digits_x[i])).predicted for i in (0, 1)]
    with fork_pool() as pool:
        got = [pool.apply_async(_child_prove_and_verify, (i,)).get(timeout=60) for i in (0, 1)]
    assert got == expected


@pytest.mark.filterwarnings(FORK_WARNING)
def test_forked_child_compiles_commits_proves_and_multiplies(models_dir, calibration, digits_cnn, digits_x, lenet, lenet_x):
    _PARENT.update(
        model=digits_cnn,
        inputs=digits_x,
        onnx=(models_dir / "digits_cnn.onnx").read_bytes(),
        calibration=calibration,
        lenet=lenet,
        lenet_x=lenet_x[0],
    )
    # the parent uses pools of one and of two threads and a commitment before forking
    digits_cnn.prove(digits_x[0], threads=1)
    digits_cnn.prove(digits_x[0], threads=2)
    parent_root = gkrnet.commit(lenet).root
    with fork_pool() as pool:
        digest, predicted, root, corner = pool.apply_async(_child_everything).get(timeout=60)
    assert digest == digits_cnn.digest
    assert predicted == gkrnet.verify(digits_cnn, digits_x[0], digits_cnn.prove(digits_x[0])).predicted
    assert root == parent_root
    a = np.arange(-32, 32, dtype=np.int64).reshape(8, 8)
    assert corner == int((a @ a)[0, 0])
    # and the parent still proves after its child did
    gkrnet.verify(lenet, lenet_x[0], lenet.prove(lenet_x[0]))


# Calls the bindings make outside their own pool (`pool.install`) run on rayon's global pool,
# which a forked child inherits without its threads: once the parent has used it, the child's
# call waits forever. These children do milliseconds of work; a short timeout keeps the suite
# fast while the bug stands.
HANG_TIMEOUT = 5


def _child_matmul_verify():
    a, c, proof = _PARENT["matmul"]
    gkrnet.matmul.verify(a, a, c, proof)
    return "verified"


@pytest.mark.filterwarnings(FORK_WARNING)
def test_forked_child_verifies_a_matmul_after_the_parent_did():
    rng = np.random.default_rng(11)
    a = rng.integers(-128, 128, size=(256, 256), dtype=np.int8)
    c, proof = gkrnet.matmul.prove(a, a)
    gkrnet.matmul.verify(a, a, c, proof)  # the parent verifies first: its threads are not the child's
    _PARENT.update(matmul=(a, c, proof))
    with fork_pool() as pool:
        assert pool.apply_async(_child_matmul_verify).get(timeout=HANG_TIMEOUT) == "verified"


def _child_forward():
    model, x = _PARENT["big"]
    return model.forward(x).tolist()


@pytest.mark.filterwarnings(FORK_WARNING)
def test_forked_child_runs_a_large_forward_after_the_parent_did():
    # forward only (no proof, ~50 ms): mlp4m is the bundled model whose 1024×2048 product is
    # large enough (≥ 2^20 multiply-adds) for the integer forward to go parallel
    model = gkrnet.Model.builtin("mlp4m")
    x = np.random.default_rng(12).integers(-128, 128, size=model.input_shape, dtype=np.int8)
    expected = model.forward(x).tolist()
    _PARENT.update(big=(model, x))
    with fork_pool() as pool:
        assert pool.apply_async(_child_forward).get(timeout=HANG_TIMEOUT) == expected
