"""The character-level model, clipping, Adagrad, the training driver and sampling."""
import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from rnngrad import DTypeError, RnngradInputError, ShapeError
from rnngrad.char_lm import char_lm_grad, char_lm_loss, one_hot, sample, train_char_lm
from rnngrad.gradcheck import numerical_gradient
from rnngrad.optim import adagrad_update, clip_elementwise, clip_global_norm
from rnngrad.rnn import init_rnn_params
from rnngrad.softmax import softmax
from rnngrad.torch_ref.rnn import t_char_lm_grad, t_char_lm_loss
from strategies import assert_close, dims, seeds

KEYS = ("W_x", "W_h", "b", "W_y", "b_y")


def make_lm(seed, T, N, V, H):
    """Random parameters (with nonzero biases), a batch of index sequences and an initial state."""
    rng = np.random.default_rng(seed)
    params = init_rnn_params(V, H, C=V, rng=seed)
    params["b"] = rng.standard_normal(H) * 0.3
    params["b_y"] = rng.standard_normal(V) * 0.3
    return {"params": params, "inputs": rng.integers(0, V, (T, N)), "targets": rng.integers(0, V, (T, N)),
            "h0": rng.standard_normal((N, H)) * 0.5}


problems = st.builds(make_lm, seeds, dims(1, 5), dims(1, 3), dims(1, 4), dims(1, 4))


@given(p=problems)
def test_grad_matches_torch_and_finite_differences(p):
    params, inputs, targets, h0 = p["params"], p["inputs"], p["targets"], p["h0"]
    loss, g, h_last = char_lm_grad(params, inputs, targets, h0)
    t_loss, t_g, t_h_last = t_char_lm_grad(params, inputs, targets, h0)
    assert sorted(g) == sorted(KEYS + ("h0",))
    assert abs(loss - t_loss) <= 1e-11 * max(1.0, abs(loss))
    assert abs(loss - t_char_lm_loss(params, inputs, targets, h0)) <= 1e-11 * max(1.0, abs(loss))
    assert_close(h_last, t_h_last, rtol=1e-12, atol=1e-14, name="h_last")
    for k in KEYS + ("h0",):
        assert_close(g[k], t_g[k], rtol=1e-10, atol=1e-12, name=f"{k} vs torch")

    def at(key):
        if key == "h0":
            return lambda v: char_lm_loss(params, inputs, targets, v)[0]
        return lambda v: char_lm_loss(dict(params, **{key: v}), inputs, targets, h0)[0]

    for k in KEYS:
        assert_close(g[k], numerical_gradient(at(k), params[k]), rtol=1e-6, atol=1e-8, name=f"{k} vs fd")
    assert_close(g["h0"], numerical_gradient(at("h0"), h0), rtol=1e-6, atol=1e-8, name="h0 vs fd")


@given(p=problems, data=st.data())
def test_loss_sums_over_time_and_averages_over_the_batch(p, data):
    params, inputs, targets, h0 = p["params"], p["inputs"], p["targets"], p["h0"]
    loss, cache = char_lm_loss(params, inputs, targets, h0)
    # carrying the state across a split of the sequence adds the two losses (sum over time) ...
    T = inputs.shape[0]
    a = data.draw(st.integers(0, T))
    first, c1 = char_lm_loss(params, inputs[:a], targets[:a], h0) if a else (0.0, {"hs": h0[None]})
    second = char_lm_loss(params, inputs[a:], targets[a:], c1["hs"][-1])[0] if a < T else 0.0
    assert abs(first + second - loss) <= 1e-10 * max(1.0, abs(loss))
    # ... and repeating every sequence of the batch leaves it unchanged (mean over the batch)
    twice = char_lm_loss(params, np.repeat(inputs, 2, axis=1), np.repeat(targets, 2, axis=1),
                         np.repeat(h0, 2, axis=0))[0]
    assert abs(twice - loss) <= 1e-10 * max(1.0, abs(loss))
    assert cache["logits"].shape == inputs.shape + (params["W_y"].shape[1],)


def test_grad_with_no_h0_starts_from_zeros_and_keeps_inputs():
    p = make_lm(3, 4, 2, 5, 3)
    copies = {k: v.copy() for k, v in p["params"].items()}
    loss, g, _ = char_lm_grad(p["params"], p["inputs"], p["targets"])
    loss0, g0, _ = char_lm_grad(p["params"], p["inputs"], p["targets"], np.zeros((2, 3)))
    assert loss == loss0 and all(np.array_equal(g[k], g0[k]) for k in g)
    assert all(np.array_equal(p["params"][k], copies[k]) for k in copies)


def test_bad_inputs_name_the_argument():
    p = make_lm(0, 4, 2, 5, 3)
    params, inputs, targets = p["params"], p["inputs"], p["targets"]
    with pytest.raises(RnngradInputError, match=r"^inputs: expected entries < 5"):
        char_lm_grad(params, inputs + 5, targets)
    with pytest.raises(ShapeError, match=r"^targets: "):
        char_lm_grad(params, inputs, targets[:2])
    with pytest.raises(DTypeError, match=r"^inputs: expected an integer array"):
        char_lm_loss(params, inputs.astype(float), targets)
    with pytest.raises(RnngradInputError, match=r"^params: expected keys .* missing b_y"):
        char_lm_grad({k: v for k, v in params.items() if k != "b_y"}, inputs, targets)
    with pytest.raises(ShapeError, match=r"^params\['W_y'\]: "):
        char_lm_grad(dict(params, W_y=np.ones((3, 4))), inputs, targets)
    with pytest.raises(ShapeError, match=r"^h0: "):
        char_lm_grad(params, inputs, targets, np.zeros((3, 3)))
    with pytest.raises(RnngradInputError, match=r"^V: "):
        one_hot(np.array([0]), 0)
    with pytest.raises(RnngradInputError, match=r"^indices: expected entries < 3"):
        one_hot(np.array([3]), 3)


@given(idx=st.lists(st.integers(0, 6), min_size=0, max_size=8), V=st.integers(7, 9))
def test_one_hot_matches_torch(idx, V):
    idx = np.array(idx, dtype=np.int64).reshape(-1, 1) if idx else np.zeros((0, 1), np.int64)
    ref = torch.nn.functional.one_hot(torch.as_tensor(idx), V).numpy().astype(np.float64)
    assert np.array_equal(one_hot(idx, V), ref)


# --- clipping and Adagrad -------------------------------------------------------------------

grad_dicts = st.builds(
    lambda seed, shapes, scale: {f"g{i}": np.random.default_rng(seed + i).standard_normal(s) * scale
                                 for i, s in enumerate(shapes)},
    seeds, st.lists(st.tuples(dims(1, 3), dims(1, 3)), min_size=1, max_size=3),
    st.sampled_from([0.01, 1.0, 100.0]))


@given(g=grad_dicts, c=st.sampled_from([0.1, 1.0, 5.0]))
def test_clip_elementwise_matches_torch(g, c):
    copies = {k: v.copy() for k, v in g.items()}
    out = clip_elementwise(g, c)
    for k in g:
        assert np.array_equal(g[k], copies[k])
        assert np.array_equal(out[k], torch.clamp(torch.as_tensor(g[k]), -c, c).numpy())


@given(g=grad_dicts, m=st.sampled_from([0.1, 1.0, 5.0, np.inf]))
def test_clip_global_norm_matches_torch(g, m):
    copies = {k: v.copy() for k, v in g.items()}
    out, norm = clip_global_norm(g, m)
    tensors = [torch.as_tensor(g[k]).clone().requires_grad_(True) for k in g]
    for t in tensors:
        t.grad = t.detach().clone()
    t_norm = float(torch.nn.utils.clip_grad_norm_(tensors, m))
    assert abs(norm - t_norm) <= 1e-12 * t_norm
    for k, t in zip(g, tensors):
        assert np.array_equal(g[k], copies[k])
        # torch divides by (norm + 1e-6); the exact rescaling differs from it by that much at most
        assert_close(out[k], t.grad.numpy(), rtol=1e-5, atol=1e-12, name=k)
    total = np.sqrt(sum((v ** 2).sum() for v in out.values()))
    assert total <= min(m, norm) * (1 + 1e-12)


def test_clip_global_norm_keeps_small_gradients_and_rejects_bad_norms():
    g = {"a": np.array([0.3, -0.4])}
    out, norm = clip_global_norm(g, 1.0)
    assert np.array_equal(out["a"], g["a"]) and abs(norm - 0.5) < 1e-15
    with pytest.raises(RnngradInputError, match=r"^max_norm: "):
        clip_global_norm(g, 0.0)
    with pytest.raises(RnngradInputError, match=r"^threshold: "):
        clip_elementwise(g, -1.0)
    with pytest.raises(DTypeError, match=r"^grads: expected a dict"):
        clip_elementwise([g["a"]], 1.0)


@given(seed=seeds, steps=st.integers(1, 4), lr=st.sampled_from([0.01, 0.1, 1.0]))
def test_adagrad_matches_torch(seed, steps, lr):
    rng = np.random.default_rng(seed)
    params = {"w": rng.standard_normal((3, 2)), "b": rng.standard_normal(2)}
    memory = {k: np.zeros_like(v) for k, v in params.items()}
    tensors = {k: torch.as_tensor(v).clone().requires_grad_(True) for k, v in params.items()}
    # torch adds eps outside the square root; with both eps tiny the updates coincide
    opt = torch.optim.Adagrad(list(tensors.values()), lr=lr, eps=1e-300)
    for _ in range(steps):
        grads = {k: rng.standard_normal(v.shape) for k, v in params.items()}
        before = ({k: v.copy() for k, v in params.items()}, {k: v.copy() for k, v in memory.items()})
        new_params, new_memory = adagrad_update(params, grads, memory, lr, eps=1e-300)
        assert all(np.array_equal(params[k], before[0][k]) and np.array_equal(memory[k], before[1][k])
                   for k in params)
        params, memory = new_params, new_memory
        for k, t in tensors.items():
            t.grad = torch.as_tensor(grads[k]).clone()
        opt.step()
    for k, t in tensors.items():
        assert_close(params[k], t.detach().numpy(), rtol=1e-12, atol=1e-12, name=k)
        assert_close(memory[k], opt.state[t]["sum"].numpy(), rtol=1e-12, atol=1e-14, name=f"memory {k}")


def test_adagrad_rejects_mismatched_dicts():
    p = {"w": np.ones(2)}
    with pytest.raises(RnngradInputError, match=r"^grads: expected the keys"):
        adagrad_update(p, {"v": np.ones(2)}, {"w": np.zeros(2)}, 0.1)
    with pytest.raises(ShapeError, match=r"^memory\['w'\]: "):
        adagrad_update(p, {"w": np.ones(2)}, {"w": np.zeros(3)}, 0.1)
    with pytest.raises(RnngradInputError, match=r"^lr: "):
        adagrad_update(p, p, p, 0.0)


def test_adagrad_refuses_a_negative_memory_rather_than_returning_nan():
    p = {"w": np.ones(2)}
    with pytest.raises(RnngradInputError, match=r"^memory\['w'\]: expected .*>= 0.*got -3"):
        adagrad_update(p, {"w": np.zeros(2)}, {"w": np.array([1.0, -3.0])}, 0.1)


# --- training and sampling -------------------------------------------------------------------

TEXT = "the cat sat on the mat. the rat sat on the hat. " * 4


def test_training_is_deterministic_and_learns():
    a = train_char_lm(TEXT, hidden_size=24, seq_len=16, steps=150, lr=0.1, rng=3)
    b = train_char_lm(TEXT, hidden_size=24, seq_len=16, steps=150, lr=0.1, rng=3)
    assert np.array_equal(a.losses, b.losses) and all(np.array_equal(a.params[k], b.params[k]) for k in KEYS)
    assert a.vocab == "".join(sorted(set(TEXT)))
    assert a.losses.shape == a.grad_norms.shape == (150,)
    assert abs(a.losses[0] - np.log(len(a.vocab))) < 0.3   # starts near uniform guessing
    assert a.losses[-20:].mean() < 0.5 * a.losses[0]
    c = train_char_lm(TEXT, hidden_size=24, seq_len=16, steps=150, lr=0.1, rng=4)
    assert not np.array_equal(a.losses, c.losses)


def test_training_losses_are_the_model_losses_and_clipping_modes_work():
    res = train_char_lm(TEXT, hidden_size=8, seq_len=10, steps=1, lr=0.1, rng=0, clip=None)
    p0 = init_rnn_params(len(res.vocab), 8, C=len(res.vocab), rng=0)
    data = res.encode(TEXT)
    loss, g, _ = char_lm_grad(p0, data[:10, None], data[1:11, None])
    assert abs(res.losses[0] - loss / 10) < 1e-12
    assert abs(res.grad_norms[0] - clip_global_norm({k: g[k] for k in KEYS}, np.inf)[1]) < 1e-12
    # the first update is Adagrad on the clipped gradient of the first chunk, for every mode
    grads = {k: g[k] for k in KEYS}
    clipped = {None: grads, "elementwise": clip_elementwise(grads, 0.5), "global_norm": clip_global_norm(grads, 0.5)[0]}
    for clip, want in clipped.items():
        r = train_char_lm(TEXT, hidden_size=8, seq_len=10, steps=1, lr=0.1, rng=0, clip=clip, clip_value=0.5)
        expected = adagrad_update(p0, want, {k: np.zeros_like(v) for k, v in p0.items()}, 0.1)[0]
        for k in KEYS:
            assert_close(r.params[k], expected[k], rtol=1e-12, atol=1e-14, name=f"{k} after one step (clip={clip})")
    assert not np.allclose(clipped["elementwise"]["W_y"], grads["W_y"])      # 0.5 does cut this gradient
    assert not np.allclose(clipped["global_norm"]["W_y"], grads["W_y"])
    for clip in ("elementwise", "global_norm"):
        r = train_char_lm(TEXT, hidden_size=8, seq_len=10, steps=30, lr=0.1, rng=0, clip=clip, clip_value=0.5)
        assert np.isfinite(r.losses).all()
    with pytest.raises(RnngradInputError, match=r"^clip: "):
        train_char_lm(TEXT, hidden_size=8, seq_len=10, steps=1, clip="sometimes")
    with pytest.raises(RnngradInputError, match=r"^text: expected at least seq_len \+ 1 = 11"):
        train_char_lm("short", hidden_size=8, seq_len=10, steps=1)
    with pytest.raises(RnngradInputError, match=r"^hidden_size: "):
        train_char_lm(TEXT, hidden_size=0, seq_len=10, steps=1)


def test_sample_follows_the_model_distribution():
    p = make_lm(5, 1, 1, 4, 3)["params"]
    h = np.random.default_rng(1).standard_normal(3) * 0.5
    M = 4000
    rng = np.random.default_rng(0)
    first = np.array([sample(p, h, 2, 1, rng)[0] for _ in range(M)])
    h1 = np.tanh(p["W_x"][2] + h @ p["W_h"] + p["b"])
    probs = softmax(h1 @ p["W_y"] + p["b_y"])
    freq = np.bincount(first, minlength=4) / M
    assert (np.abs(freq - probs) < 5 * np.sqrt(probs * (1 - probs) / M) + 1e-12).all()
    # a later character depends on the earlier draws, and everything is reproducible from the rng
    s1 = sample(p, h[None], 2, 30, np.random.default_rng(7))
    s2 = sample(p, h, 2, 30, np.random.default_rng(7))
    assert s1.shape == (30,) and np.array_equal(s1, s2) and ((0 <= s1) & (s1 < 4)).all()


def test_sample_from_a_trained_model_reproduces_the_text():
    res = train_char_lm("abcdabcdabcdabcd", hidden_size=12, seq_len=8, steps=120, lr=0.3, rng=0)
    out = res.decode(sample(res.params, np.zeros(12), res.encode("a")[0], 12, np.random.default_rng(0),
                            temperature=0.05))
    assert out == "bcdabcdabcda"
    with pytest.raises(RnngradInputError, match=r"^first_idx: "):
        sample(res.params, np.zeros(12), 4, 3, np.random.default_rng(0))
    with pytest.raises(RnngradInputError, match=r"^rng: .*got None"):
        sample(res.params, np.zeros(12), 0, 3, None)
    # an int seed is the Generator it seeds
    assert np.array_equal(sample(res.params, np.zeros(12), 0, 9, 4), sample(res.params, np.zeros(12), 0, 9,
                                                                             np.random.default_rng(4)))
    with pytest.raises(RnngradInputError, match=r"^temperature: "):
        sample(res.params, np.zeros(12), 0, 3, np.random.default_rng(0), temperature=0.0)
